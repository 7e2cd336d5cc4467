"""Tier sections a branch's data cannot show are gaps: one line, no table or chart from nothing."""

from __future__ import annotations

import pytest

from funnelkit import tiers
from funnelkit.data import load_tables
from funnelkit.exceptions import FunnelkitError


@pytest.fixture(scope="module")
def demo():
    params = tiers.Params(branch="杭州分公司")
    return params, load_tables(params, tiers.TABLES)


def test_one_snapshot_year_makes_the_migration_a_gap_and_drops_last_year_columns(demo):
    params, tables = demo
    customers = tables["customers"]
    one_year = {**tables, "customers": customers[customers["snapshot_year"] == 2006].reset_index(drop=True)}
    result = tiers.analyse(one_year, params)
    assert list(result.gaps) == ["migration"] and result.previous_year is None
    assert (
        result.gaps["migration"].text("zh")
        == "本节需要至少两个快照年份的数据才能比较，本分公司的数据只有2006，因此未显示。"
    )
    assert tiers.views.migration(result, "zh") is None and tiers.plots.migration_heatmap(result) is None
    assert "migration" not in result.tables() and "migration_summary" not in result.tables()
    shown = tiers.views.by_region(result, "en").columns.tolist()
    assert shown == ["Region", "Tier", "Current year", "Share of tier, current"]


def test_without_events_and_visits_their_sections_are_gaps_and_the_rest_stands(demo):
    params, tables = demo
    result = tiers.analyse({**tables, "events": None, "visits": None}, params)
    assert set(result.gaps) == {"referrals", "sources", "cadence"}
    assert all(getattr(tiers.views, v)(result, "zh") is None for v in ("events_by_month", "cadence", "overdue"))
    assert tiers.plots.events_chart(result) is None and tiers.plots.cadence_bars(result) is None
    figures = tiers.key_figures(result)
    assert figures["referral_share_existing"] is None and figures["premium_share"] == pytest.approx(42 / 1049)
    text = " ".join(tiers.findings(result, "zh"))
    assert "回访" not in text and "推荐" not in text  # nothing said about what is not there


def test_an_events_table_without_an_event_is_a_gap_not_zeros(demo):
    params, tables = demo
    result = tiers.analyse({**tables, "events": tables["events"].iloc[0:0]}, params)
    assert result.gaps["referrals"].key == "tiers.gap_no_events" and "sources" in result.gaps


def test_customers_nobody_can_tier_stop_the_report_with_a_clear_message(demo):
    params, tables = demo
    bare = tables["customers"][["customer_id", "branch", "region", "industry", "first_purchase_date", "snapshot_year"]]
    with pytest.raises(FunnelkitError) as caught:
        tiers.analyse({**tables, "customers": bare.copy()}, params)
    assert "tier column" in str(caught.value) and "等级列（tier）" in caught.value.text("zh")
