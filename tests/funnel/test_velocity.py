"""Pipeline velocity and its exact split into four factors."""

import numpy as np
import pandas as pd
import pytest

from funnelkit.funnel import velocity as v
from funnelkit.stats import log_mean_split

STAGES = [{"key": "a", "zh": "甲", "en": "A"}, {"key": "b", "zh": "乙", "en": "B"}]
D = pd.Timestamp


def _lead(i, created, outcome, closed=None, amount=np.nan):
    return {
        "lead_id": str(i),
        "created_date": D(created),
        "segment": "x",
        "stage": "b" if outcome == "won" else "a",
        "outcome": outcome,
        "amount": amount,
        "date_a": D(created),
        "date_b": D(closed) if outcome == "won" else pd.NaT,
        "lost_date": D(closed) if outcome == "lost" else pd.NaT,
    }


@pytest.fixture
def leads():
    # 2005: 4 leads, 1 won (1000 yuan, 10 days), 3 lost → 4 × 1/4 × 1000 / 10 = 100 a day
    # 2006: 5 leads, 2 won (1000 in 10 days, 2000 in 30 days), 2 lost, 1 open
    #       → win rate 2/4, average 1500, cycle 20 → 5 × 0.5 × 1500 / 20 = 187.5 a day
    return pd.DataFrame(
        [
            _lead(1, "2005-01-01", "won", "2005-01-11", 1000.0),
            *[_lead(i, "2005-02-01", "lost", "2005-03-01") for i in (2, 3, 4)],
            _lead(5, "2006-01-01", "won", "2006-01-11", 1000.0),
            _lead(6, "2006-02-01", "won", "2006-03-03", 2000.0),
            *[_lead(i, "2006-02-01", "lost", "2006-03-01") for i in (7, 8)],
            _lead(9, "2006-03-01", "open"),
        ]
    )


def test_velocity_by_hand(leads):
    table = v.velocity(leads, stages=STAGES).set_index("period")
    assert table.loc["2005", ["deals", "win_rate", "average_deal", "cycle_days"]].tolist() == [4, 0.25, 1000, 10]
    assert table.loc["2006", ["deals", "win_rate", "average_deal", "cycle_days"]].tolist() == [5, 0.5, 1500, 20]
    assert table["velocity"].tolist() == pytest.approx([100, 187.5])


def test_the_change_splits_exactly_into_the_factors(leads):
    change = v.velocity_change(v.velocity(leads, stages=STAGES), current="2006", previous="2005").set_index("factor")
    assert change["contribution"].sum() == pytest.approx(87.5, abs=1e-9)
    # logarithmic mean L = 87.5 / ln(1.875); each part is L × ln(ratio), the cycle's with a minus
    mean = 87.5 / np.log(1.875)
    expected = {"deals": np.log(5 / 4), "win_rate": np.log(2), "average_deal": np.log(1.5), "cycle_days": -np.log(2)}
    assert change["contribution"].to_dict() == pytest.approx({k: mean * x for k, x in expected.items()})
    # a doubled win rate and a doubled cycle cancel
    assert change.at["win_rate", "contribution"] == pytest.approx(-change.at["cycle_days", "contribution"])


def test_no_split_when_a_period_is_missing_or_a_factor_is_zero(leads):
    table = v.velocity(leads, stages=STAGES)
    assert v.velocity_change(table, current="2006", previous="2004").empty
    no_win = table.assign(win_rate=[0.0, 0.5])
    assert v.velocity_change(no_win, current="2006", previous="2005").empty


def test_log_mean_split_with_equal_ends():
    # the product stays 12: the parts cancel and sum to zero exactly
    parts = log_mean_split([3, 4], [6, 2])
    assert parts.sum() == pytest.approx(0, abs=1e-12) and parts[0] == pytest.approx(12 * np.log(2))


def test_demo_branch_reports_velocity_range_and_slowest_stage():
    from funnelkit.data.loading import load_tables, peer_stage_counts
    from funnelkit.funnel import Params, analyse, findings, key_figures

    params = Params(branch="杭州分公司")
    result = analyse(load_tables(params, ["leads", "stage_counts"]), params, peers=peer_stage_counts())
    figures = key_figures(result, "en")
    speed = result.velocity.set_index("period")["velocity"]
    assert figures["pipeline_velocity_change"] == pytest.approx(speed["2006"] - speed["2005"])
    assert sum(figures["velocity_change_parts"].values()) == pytest.approx(figures["pipeline_velocity_change"])
    # the slowest stage is judged before the won stage (signed): post-sale waits are not selling time
    assert result.won_stage == "signed" and figures["slowest_stage_key"] in {
        "target",
        "potential",
        "contacted",
        "intent",
    }
    assert figures["forecast_won_p10"] <= figures["forecast_won_p50"] <= figures["forecast_won_p90"]
    assert 0 <= figures["backtest_coverage"] <= 1
    text = " ".join(findings(result, "en"))
    assert "Pipeline velocity" in text and "wait longest" in text and "80% likely" in text
    assert "p=" not in text.split("Pipeline velocity")[1]  # the new sentences speak plainly


def test_sections_without_dated_leads_draw_nothing_and_say_why():
    from funnelkit.data.loading import load_tables
    from funnelkit.funnel import Params, analyse, plots, views

    params = Params(branch="嘉兴分公司", funnel_source="counts")
    result = analyse(load_tables(params, ["stage_counts"]), params)
    assert plots.stage_time_histogram(result) is None and plots.stage_time_trend(result) is None
    for view in (views.forecast_range, views.backtest_range, views.velocity, views.velocity_change, views.stage_time):
        assert view(result, "zh") is None
    assert "没有线索明细" in result.gaps["stage_time"].text("zh")  # the real reason: only stage counts were read
    assert views.backtest(result, "en") is None


def test_backtest_view_shows_the_coverage_beside_the_error():
    from funnelkit.data.loading import load_tables
    from funnelkit.funnel import Params, analyse, views

    params = Params(branch="杭州分公司")
    result = analyse(load_tables(params, ["leads", "stage_counts"]), params)
    cover = result.backtest_coverage
    shown = views.backtest(result, "en")
    assert shown["Months with actual deals inside the range"].iloc[0] == f"{round(cover['won_coverage'] * 12)} / 12"
    # the coverage counts the months of the back-test table whose actual deals fell in P10–P90
    months = result.backtest_range[result.backtest_range["close_month"] != "all"]
    inside = (months["actual_won"] >= months["won_p10"]) & (months["actual_won"] <= months["won_p90"])
    assert cover["months"] == 12 and cover["won_coverage"] == inside.mean()


def test_periods_are_the_years_as_text_in_order(leads):
    # grouped by the year as a number, the periods are text as the report writes them
    table = v.velocity(leads.iloc[::-1], stages=STAGES)
    assert table["period"].tolist() == ["2005", "2006"]
    assert table["period"].dtype == pd.Series([2005], dtype="Int64").astype(str).dtype
    pd.testing.assert_frame_equal(table, v.velocity(leads, stages=STAGES))
