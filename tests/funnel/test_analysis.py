"""The whole diagnosis on a small seeded frame: findings, key figures, saved tables, charts."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from funnelkit.funnel import Params, analyse, data_warnings, findings, key_figures, plots, views
from funnelkit.funnel import counts as funnel
from funnelkit.funnel.labels import transition_label
from funnelkit.report.display import Report

STAGES = [{"key": "a", "zh": "甲", "en": "A"}, {"key": "b", "zh": "乙", "en": "B"}, {"key": "c", "zh": "丙", "en": "C"}]
KEYS = [
    "overall_conversion",
    "top_bottleneck",
    "top_bottleneck_key",
    "top_bottleneck_loss_rate",
    "top_bottleneck_lost",
    "top_bottleneck_gain_customers",
    "top_bottleneck_gain_revenue",
    "forecast_total",
    "current_period",
]
VIEWS = (
    "stages",
    "segments",
    "transitions",
    "bottlenecks",
    "yoy",
    "drivers",
    "elasticities",
    "time_to_convert",
    "forecast",
    "calibration",
    "backtest",
)


def _leads(branch: str, seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2005-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    furthest = (rng.random(n) < 0.6).astype(int) + (rng.random(n) < 0.5)
    date_b = created + pd.to_timedelta(rng.integers(3, 20, n), unit="D")
    date_c = date_b + pd.to_timedelta(rng.integers(5, 40, n), unit="D")
    outcome = np.where(furthest == 2, "won", np.where(created > pd.Timestamp("2006-11-15"), "open", "lost"))
    return pd.DataFrame(
        {
            "lead_id": [f"{branch}{i}" for i in range(n)],
            "branch": branch,
            "created_date": created,
            "segment": rng.choice(["商企", "住宅"], n),
            "stage": np.array(["a", "b", "c"])[furthest],
            "outcome": outcome,
            "amount": rng.integers(1, 10, n) * 100.0,
            "date_a": created,
            "date_b": date_b.where(furthest >= 1),
            "date_c": date_c.where(furthest >= 2),
            "lost_date": (created + pd.Timedelta(days=30)).where(outcome == "lost"),
        }
    )


def diagnose(*, leads=None, stage_counts=None, peers=None, **values):
    """``analyse`` of 杭州分公司 over the three-stage funnel, with ``values`` checked as params."""
    params = Params.from_values({"branch": "杭州分公司", "stages": STAGES, **values})
    return analyse({"leads": leads, "stage_counts": stage_counts}, params, peers=peers)


@pytest.fixture(scope="module")
def data():
    leads = {b: _leads(b, i) for i, b in enumerate(["杭州分公司", "宁波分公司", "温州分公司"])}
    peers = pd.concat([funnel.counts_from_leads(v, stages=STAGES).assign(branch=b) for b, v in leads.items()])
    return leads["杭州分公司"], peers


def test_diagnosis_from_leads(data, tmp_path):
    leads, peers = data
    d = diagnose(leads=leads, peers=peers, controllability={"a>b": 0.2})
    assert d.source == "leads" and d.current == "2006" and d.previous == "2005"
    items = findings(d, "zh")
    assert 3 <= len(items) <= 5
    figures = key_figures(d, "zh")
    assert set(KEYS) <= set(figures)
    # the summary's numbers are the tables' numbers
    top = d.bottlenecks.iloc[0]
    assert figures["top_bottleneck_key"] == top["transition"]
    # b→c (0.367 settled) is above both peers in 2006 and its own 2005: no gain, however many
    # it loses; a→b (173 / 211 settled) is below 宁波's 0.840, so the better quarter of the
    # two others, 0.8191 + 0.75 × (0.8402 − 0.8191), gains 61 × (0.8349 / 0.8199 − 1) ≈ 1.1
    assert figures["top_bottleneck"] == transition_label(top["transition"], d.stages, "zh") == "甲→乙"
    assert key_figures(d, "en")["top_bottleneck"] == "A→B"
    top_quarter = 0.819095 + 0.75 * (0.840206 - 0.819095)
    assert top["benchmark"] == "peer_top" and top["peer_top"] == pytest.approx(top_quarter, abs=1e-6)
    assert top["gain_customers"] == pytest.approx(61 * (top["peer_top"] / top["rate"] - 1))
    assert top["gain_customers"] == pytest.approx(1.1177, abs=1e-4)
    assert top["priority_gain"] == pytest.approx(0.2 * top["gain_customers"])
    whole = d.stage_rates[d.stage_rates["is_total"] & (d.stage_rates["period"] == "2006")]
    assert figures["overall_conversion"] == pytest.approx(whole["count"].iloc[-1] / whole["count"].iloc[0])
    assert figures["forecast_total"] == pytest.approx(d.forecast["expected_amount"].sum())
    assert "“甲→乙”" in items[0] and "约1位" in items[0]
    report = Report("funnel", branch="杭州分公司", output_dir=str(tmp_path))
    saved = report.publish(d, figures)
    assert saved == sorted(f"{name}.csv" for name in d.SAVED)
    for name in ("stages", "transitions", "forecast"):
        assert (tmp_path / f"{name}.csv").exists()
    assert (tmp_path / "summary.json").exists()
    for name in VIEWS:
        assert not getattr(views, name)(d, "zh").empty, name


def test_counts_only_branch_has_the_same_funnel(data):
    leads, peers = data
    by_leads = diagnose(leads=leads, peers=peers)
    counts = funnel.counts_from_leads(leads, stages=STAGES).assign(branch="杭州分公司")
    by_counts = diagnose(stage_counts=counts, peers=peers, deal_amount=500.0)
    assert by_counts.source == "counts" and not by_counts.forecasted
    assert views.time_to_convert(by_counts, "en") is None and views.forecast(by_counts, "en") is None
    # the forecast CSV is still written, with its headers only; no time or back-test tables
    assert by_counts.forecast.empty and list(by_counts.forecast.columns) == list(by_leads.forecast.columns)
    dated = {"backtest_calibration", "time_to_convert", "forecast_range", "backtest_range", "velocity"}
    dated |= {"velocity_change", "stage_time", "stage_time_trend"}
    assert set(by_counts.tables()) == set(by_counts.SAVED) - dated
    # the sections that need dated leads say why they are not shown
    needs_dates = {"time_to_convert", "forecast", "forecast_range", "velocity", "velocity_change", "stage_time"}
    assert set(by_counts.gaps) == needs_dates
    assert {gap.key for gap in by_counts.gaps.values()} == {"funnel.gap_no_leads"}  # the real reason
    # the same funnel; the leads form also knows which customers are still open
    pd.testing.assert_frame_equal(by_leads.stage_rates, by_counts.stage_rates)
    assert by_counts.transitions["still_open"].isna().all() and by_leads.transitions["still_open"].sum() > 0
    counted, settled = by_counts.transitions, by_leads.transitions
    pd.testing.assert_series_equal(counted["lost"] - settled["still_open"], settled["lost"], check_names=False)
    same = settled["still_open"] == 0
    pd.testing.assert_frame_equal(settled[same].drop(columns="still_open"), counted[same].drop(columns="still_open"))
    assert any("仍在跟进" in w for w in data_warnings(by_leads, "zh"))
    assert any("still open" in w for w in data_warnings(by_leads, "en"))
    top = by_counts.bottlenecks.iloc[0]
    assert top["gain_revenue"] == pytest.approx(500 * top["gain_customers"])
    assert key_figures(by_counts, "en")["forecast_total"] is None
    # funnel_source="counts" ignores the leads even when they exist
    assert not diagnose(leads=leads, stage_counts=counts, funnel_source="counts", peers=peers).forecasted


def test_charts_draw(data):
    from funnelkit.report.style import use_report_style

    use_report_style()  # the CJK font
    leads, peers = data
    d = diagnose(leads=leads, peers=peers)
    fig = plots.segment_funnels(d)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 3  # 全部, 住宅, 商企
    assert fig.axes[0].get_title() == "全部漏斗（2006年）"
    assert plots.loss_heatmap(d).axes[0].get_title()
    assert len(plots.conversion_trend(d).axes[0].get_lines()) >= 2
    assert len(plots.change_waterfall(d).axes[0].patches) == 5
    peer = plots.peer_funnel(d, lang="en").axes[0]
    assert len(peer.collections) == 2  # peers and this branch
    assert peer.get_title() == "“A→B” conversion: this branch and its peers"  # the priority
    # drawn on a given Axes, the chart returns that Axes' Figure
    _, ax = plt.subplots()
    assert plots.loss_heatmap(d, ax=ax) is ax.figure
    plt.close("all")


def test_backtest_prior_uses_only_earlier_peer_periods(data):
    leads, peers = data
    # the other branches' current-period counts tripled: the forecast made today may change,
    # the back-test made at the start of 2006 must not (it could not have known them)
    changed = peers.assign(
        count=peers["count"].where((peers["period"] != "2006") | (peers["branch"] == "杭州分公司"), peers["count"] * 3)
    )
    changed.loc[(changed["period"] == "2006") & (changed["stage"] == "a"), "count"] *= 2
    before = diagnose(leads=leads, peers=peers)
    after = diagnose(leads=leads, peers=changed)
    pd.testing.assert_frame_equal(before.backtest, after.backtest)
    assert not np.allclose(before.pipeline["win_prob"], after.pipeline["win_prob"])


def test_no_backtest_when_no_lead_predates_the_current_period(data):
    leads, peers = data
    # a branch whose leads all start in the current period: the forecast stands, but nothing
    # was known at the start of 2006 to forecast from, so the back-test is a gap, not a zero
    young = leads[leads["created_date"] >= "2006-01-01"].reset_index(drop=True)
    d = diagnose(leads=young, peers=peers)
    assert d.current == "2006" and d.forecasted and len(d.forecast) and len(d.forecast_range)
    assert d.gaps["backtest"].key == "funnel.gap_no_history"
    first = young["created_date"].min().date().isoformat()
    assert "2006-01-01" in d.gaps["backtest"].text("en") and first in d.gaps["backtest"].text("zh")
    assert d.backtest is None and d.backtest_range is None and not d.backtest_coverage and not d.backtest_error
    assert all(getattr(views, name)(d, "en") is None for name in ("backtest", "backtest_range", "calibration"))
    assert not {"backtest_calibration", "backtest_range"} & set(d.tables())
    said = " ".join(findings(d, "en"))
    assert "could not be back-tested" in said and "), not back-tested." in said
    assert "回测" in " ".join(findings(d, "zh"))
    figures = key_figures(d, "en")
    assert figures["backtest_error_pct"] is None and figures["backtest_coverage"] is None
    # one lead from before the period is enough to test from
    older = pd.concat([leads[leads["created_date"] < "2006-01-01"].head(1), young], ignore_index=True)
    assert diagnose(leads=older, peers=peers).has("backtest")


def test_too_few_is_shown_in_views_and_heatmap(data):
    leads, peers = data
    d = diagnose(leads=leads, peers=peers, min_group=80)
    assert d.stage_rates.loc[d.stage_rates["period"] == d.current, "too_few"].any()
    assert "样本少" in views.segments(d, "zh").to_string()
    assert d.decomposition["too_few"].any()
    assert "样本过少" in views.drivers(d, "zh").to_string()
    ax = plots.loss_heatmap(d).axes[0]
    assert any("样本少" in text.get_text() for text in ax.texts)
    plt.close("all")


def test_yoy_view_shows_counts_and_untested_rows():
    from types import SimpleNamespace

    from funnelkit.data.schema import resolve_stages

    yoy = pd.DataFrame(
        {
            "segment": ["all", "x", "y"],
            "is_total": [True, False, False],
            "transition": ["a>b"] * 3,
            "rate_previous": [0.5, 0.4, 1.2],
            "rate_current": [0.6, 0.5, 0.5],
            "n_previous": [200, 20, 10],
            "n_current": [210, 25, 12],
            "diff": [0.1, 0.1, -0.7],
            "diff_low": [0.0, np.nan, np.nan],
            "diff_high": [0.2, np.nan, np.nan],
            "p_value": [0.2, np.nan, np.nan],
            "p_adjusted": [0.2, np.nan, np.nan],
            "significant": [False, False, False],
            "too_few": [False, True, False],
        }
    )
    result = SimpleNamespace(previous="2005", current="2006", yoy=yoy, stages=resolve_stages(STAGES))
    view = views.yoy(result, "zh")
    assert view["2005结果已定人数"].tolist() == ["200", "20", "10"]
    assert view["2006结果已定人数"].tolist() == ["210", "25", "12"]
    assert view["判断"].tolist() == ["不显著", "样本过少，不作判断", "未检验（人数缺失或逐级上升）"]
    assert view["客户群"].tolist() == ["全部", "x", "y"] and view["环节"].tolist() == ["甲→乙"] * 3
    assert views.yoy(result, "en")["Segment"].tolist() == ["All", "x", "y"]
