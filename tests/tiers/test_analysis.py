"""analyse() on the demo branch: every saved table, the previous release's figures, one result
for both languages, and parameters that reach the computation."""

import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure

from funnelkit import tiers
from funnelkit.data import load_tables
from funnelkit.report.style import use_report_style
from funnelkit.tiers import Params, Result, analyse

_HAN = re.compile(r"[\u4e00-\u9fff]")


def _run(**values) -> Result:
    params = Params.from_values({"branch": "杭州分公司", **values})
    return analyse(load_tables(params, tiers.TABLES, required=["customers"]), params)


@pytest.fixture(scope="module")
def hangzhou() -> Result:
    return _run()


def test_demo_branch_every_saved_table_is_there(hangzhou):
    tables = hangzhou.tables()
    assert list(tables) == list(Result.SAVED)
    assert all(len(table) for table in tables.values()), [n for n, t in tables.items() if t.empty]


def test_demo_branch_figures(hangzhou):
    # summary.json of 杭州分公司 in the release before the tables moved into a Result
    figures = tiers.key_figures(hangzhou)
    assert (figures["current_year"], figures["previous_year"]) == (2006, 2005)
    assert figures["tier_shares"]["premium"] == pytest.approx(0.04003813155386082)
    assert figures["premium_share_previous"] == pytest.approx(0.03956478733926805)
    assert figures["premium_growth"] == pytest.approx(0.05)
    assert (figures["top_region"], figures["top_industry"]) == ("西湖区", "商贸批发")
    assert figures["referral_share_existing"] == pytest.approx(0.43486590038314177)
    vip = hangzhou.value_table.set_index("value_tier").loc["vip"]
    assert (vip["customers"], vip["revenue"]) == (52, 13113220.0)
    premium = hangzhou.cadence_table.set_index("tier").loc["premium"]
    assert (premium["customers"], premium["overdue"]) == (42, 11)
    assert premium["meets_policy"] == pytest.approx(0.7142857142857143)


def test_code_columns_hold_codes_only(hangzhou):
    for name, table in hangzhou.tables().items():
        for column in tiers.views.CODE_COLUMNS:
            if column in table.columns:
                words = [v for v in table[column].dropna().astype(str) if _HAN.search(v)]
                assert not words, (name, column, words[:3])


def test_zh_and_en_come_from_the_same_result(hangzhou):
    before = {name: table.copy() for name, table in hangzhou.tables().items()}
    zh, en = tiers.findings(hangzhou, "zh"), tiers.findings(hangzhou, "en")
    assert len(zh) == len(en) == 5  # the summary: read in a minute
    assert len(tiers.more_findings(hangzhou, "zh")) == len(tiers.more_findings(hangzhou, "en")) >= 5
    assert all(_HAN.search(text) for text in zh) and not any(_HAN.search(text) for text in en[:1])
    for view in ("shares", "value_tiers", "cadence", "migration_summary", "referral_sources"):
        shown_zh, shown_en = getattr(tiers.views, view)(hangzhou, "zh"), getattr(tiers.views, view)(hangzhou, "en")
        assert shown_zh.shape == shown_en.shape and list(shown_zh.columns) != list(shown_en.columns), view
    assert tiers.views.shares(hangzhou, "en")["Tier"].iloc[0] == "Premium"
    assert tiers.views.shares(hangzhou, "zh")["客户等级"].iloc[0] == "优质客户"
    for name, table in hangzhou.tables().items():
        pd.testing.assert_frame_equal(table, before[name], obj=name)  # views and findings leave it alone


def test_parameters_reach_the_computation(hangzhou):
    result = _run(
        top_k=1,
        value_tiers={"vip": 0.1, "major": 0.3, "ordinary": 0.6},
        value_bands=[0, 50000],
        source_actions={"same_region": {"zh": "社区活动", "en": "Community events"}},
    )
    assert (result.spread["top_k_share"] == result.spread["top_group_share"]).all()
    shown = tiers.views.referral_sources(result, "en").set_index("Referral source")["Recommended action"]
    assert shown["Same region"] == "Community events"
    assert shown["Existing customer"] == Params().source_actions["existing_customer"]["en"]  # the others keep theirs
    assert result.value_table.set_index("value_tier").loc["vip", "customers"] > 52
    assert result.bands["lower"].tolist() == [0, 50000]
    later = _run(visit_policy={"phone_days": 400, "onsite_days": 400, "measure": "gap"})
    assert later.cadence_table["overdue"].sum() < hangzhou.cadence_table["overdue"].sum()


def test_region_filter_cuts_the_customers(hangzhou):
    result = _run(region="西湖区")
    assert result.by_region["region"].unique().tolist() == ["西湖区"]
    assert len(result.customers) < len(hangzhou.customers)


def test_every_chart_is_a_figure(hangzhou):
    use_report_style()  # the CJK font: region and industry names stay Chinese in an English report
    plots = tiers.plots
    charts = [
        plots.grid_heatmap(hangzhou, lang="en"),
        plots.tier_bars(hangzhou, by="region", lang="zh"),
        plots.region_industry_heatmap(hangzhou, lang="en"),
        plots.migration_heatmap(hangzhou, lang="zh"),
        plots.value_funnel(hangzhou, lang="en"),
        plots.events_chart(hangzhou, lang="zh"),
        plots.referral_sources_chart(hangzhou, lang="en"),
        plots.cadence_bars(hangzhou, lang="zh"),
    ]
    assert all(isinstance(chart, Figure) for chart in charts)
    plt.close("all")
