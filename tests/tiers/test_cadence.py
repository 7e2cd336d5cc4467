"""Value segments, referrals, cadence and the tier report texts, on hand-computed frames."""

import importlib
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from funnelkit.exceptions import ParamsError
from funnelkit.tiers import cadence, referrals
from funnelkit.tiers import value as value_segments
from funnelkit.tiers import views as tiers_views

tiers_report = importlib.import_module("funnelkit.tiers.findings")  # the module; tiers.findings is the function


def customers(amounts, *, year=2006, tier="general"):
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(amounts))],
            "snapshot_year": year,
            "tier": tier,
            "tier_basis": "source",
            "sales_amount": amounts,
        }
    )


# -- value segments --------------------------------------------------------------------------------
def test_value_bands_by_hand():
    data = customers([5000, 10000, 20000, 60000, 150000, 250000, 9999, 50000])
    out = value_segments.value_bands(data, year=2006, bands=value_segments.DEFAULT_BANDS)
    assert value_segments.band_labels(out["lower"].tolist()) == ["<1万", "1–5万", "5–10万", "10–20万", "≥20万"]
    # [0, 1万): 5000, 9999; [1万, 5万): 10000, 20000; [5万, 10万): 60000, 50000; 150000; 250000
    assert out["customers"].tolist() == [2, 2, 2, 1, 1]
    assert out["customers_at_least"].tolist() == [8, 6, 4, 2, 1]
    assert out.loc[0, "revenue"] == 14999
    assert out["share"].sum() == pytest.approx(1) and out["revenue_share"].sum() == pytest.approx(1)
    assert value_segments.band_labels([0, 10000, 200000], lang="en") == ["<10k", "10–200k", "≥200k"]
    with pytest.raises(ParamsError, match="increasing"):
        value_segments.value_bands(data, year=2006, bands=[0, 50000, 10000])


def test_top_20_percent_revenue_share_by_hand():
    data = customers([1000 * k for k in range(1, 11)])  # total 55000; top 2 = 10000 + 9000
    row = value_segments.top_revenue_share(data, year=2006).iloc[0]
    assert row["top_customers"] == 2 and row["top_revenue_share"] == pytest.approx(19 / 55)
    seven = value_segments.top_revenue_share(customers([1, 2, 3, 4, 5, 6, 7]), year=2006).iloc[0]
    assert seven["top_customers"] == math.ceil(0.2 * 7) == 2  # 7 + 6 of 28
    assert seven["top_revenue_share"] == pytest.approx(13 / 28)


def test_value_tiers_by_percentile():
    out = value_segments.value_tiers(
        customers(list(range(1, 21))), year=2006, rule=value_segments.DEFAULT_VALUE_TIERS
    ).set_index("value_tier")
    # 20 customers: rank fraction ≤ 5% → 1 VIP; ≤ 20% → 3 major; ≤ 50% → 6 ordinary; 10 small
    assert out["customers"].tolist() == [1, 3, 6, 10]
    assert out.loc["vip", "revenue"] == 20 and out.loc["major", "revenue"] == 19 + 18 + 17
    assert out["revenue_share"].sum() == pytest.approx(1)


def test_customers_without_amount_are_left_out():
    data = customers([100.0, np.nan, 300.0])
    assert value_segments.value_bands(data, year=2006, bands=value_segments.DEFAULT_BANDS)["customers"].sum() == 2


# -- referrals ---------------------------------------------------------------------------------------
def test_referral_shares_from_a_table_of_counts():
    table = pd.DataFrame(
        {"source_type": ["existing_customer", "friends_family", "new_customer", "same_region"], "count": [6, 3, 1, 2]}
    )
    actions = {"existing_customer": {"zh": "奖励老客户", "en": "Reward them"}}
    out = referrals.referral_sources(table, count="count").set_index("source_type")
    # 12 referrals: 6/12, 3/12, 1/12, 0, 0, 2/12
    assert out["share"].tolist() == pytest.approx([0.5, 0.25, 1 / 12, 0, 0, 2 / 12])
    shown = tiers_views.referral_sources(SimpleNamespace(sources=out.reset_index(), actions=actions), "en")
    action = dict(zip(shown["Referral source"], shown["Recommended action"]))
    assert action["Existing customer"] == "Reward them" and action["Same region"] == ""


def test_referral_sources_count_events_and_unknown_sources():
    events = pd.DataFrame(
        {
            "kind": ["referral", "referral", "referral", "repurchase"],
            "source_type": ["same_industry", "same_industry", None, None],
        }
    )
    out = referrals.referral_sources(events).set_index("source_type")
    assert out.index[-1] == "unknown" and out.loc["unknown", "referrals"] == 1
    assert out.loc["same_industry", "share"] == pytest.approx(2 / 3)


def tiered_two_years():
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "snapshot_year": [2005, 2006, 2006],
            "tier": ["general", "premium", "potential"],
        }
    )


def test_events_take_the_tier_of_their_year():
    events = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "z"],
            "kind": ["referral", "referral", "repurchase", "referral"],
            "date": pd.to_datetime(["2005-03-02", "2006-03-05", "2005-04-01", "2006-03-09"]),
            "amount": [100.0, np.nan, 50.0, np.nan],
        }
    )
    assert referrals.with_tier(events, tiered_two_years())["tier"].tolist() == [
        "general",
        "premium",
        "potential",
        "unknown",
    ]
    by_month = referrals.events_by_month(events, tiered_two_years())
    assert by_month["month"].nunique() == 13  # 2005-03 … 2006-03, empty months included
    cell = by_month.set_index(["month", "kind", "tier"])
    assert cell.loc[("2006-03", "referral", "premium"), "events"] == 1
    assert cell.loc[("2006-03", "referral", "unknown"), "events"] == 1
    assert by_month["events"].sum() == 4
    per_tier = referrals.events_by_tier(events, tiered_two_years(), year=2006).set_index("tier")
    assert per_tier.loc["premium", "referral"] == 1 and per_tier.loc["premium", "referral_per_100"] == 100


# -- cadence -----------------------------------------------------------------------------------------
def cadence_case():
    """Window 1 January – 1 March 2006 (59 days); phone limit 31 days."""
    people = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "snapshot_year": 2006,
            "tier": ["premium", "premium", "general", "general"],
            "owner": ["王", "王", "李", None],
            "first_purchase_date": pd.to_datetime(["2004-01-01", "2004-01-01", "2004-01-01", "2006-02-15"]),
            "contact_phone": ["13812345678", "13912345678", "5551234", None],
        }
    )
    visits = pd.DataFrame(
        {
            "customer_id": ["A", "B", "D"],
            "kind": ["phone", "phone", "onsite"],
            "owner": "王",
            "date": pd.to_datetime(["2006-01-29", "2006-01-28", "2006-02-10"]),
        }
    )
    return visits, people


def test_cadence_on_crafted_dates():
    visits, people = cadence_case()
    out = cadence.customer_cadence(
        visits, people, year=2006, as_of="2006-03-01", policy=cadence.DEFAULT_POLICY
    ).set_index("customer_id")
    # A: last call 29 Jan → 31 days on 1 March (exactly at the limit); B: 28 Jan → 32 days (a day over);
    # C: no call since 1 January → 59 days; D bought on 15 February → 14 days.
    assert out["days_since_phone"].to_dict() == {"A": 31, "B": 32, "C": 59, "D": 14}
    assert out["overdue_phone"].to_dict() == {"A": False, "B": True, "C": True, "D": False}
    # calendar measure: January and February lie fully inside the window and need a call each;
    # nobody was called in February. D's window (15 February – 1 March) holds no full month.
    assert out["meets_phone"].to_dict() == {"A": False, "B": False, "C": False, "D": True}
    # on-site: 59 days < 92 → nobody overdue; D's visit before its purchase does not count
    assert not out["overdue_onsite"].any() and out.loc["D", "contacts_onsite"] == 0
    strict = cadence.customer_cadence(
        visits, people, year=2006, as_of="2006-03-01", policy={"measure": "gap"}
    ).set_index("customer_id")
    assert strict["max_gap_phone"].to_dict() == {"A": 31, "B": 32, "C": 59, "D": 14}
    assert strict["meets_phone"].to_dict() == {"A": True, "B": False, "C": False, "D": True}


def test_cadence_by_tier_and_overdue_list_masks_contacts():
    visits, people = cadence_case()
    out = cadence.customer_cadence(visits, people, year=2006, as_of="2006-03-01", policy=cadence.DEFAULT_POLICY)
    per_tier = cadence.cadence_by_tier(out).set_index("tier")
    # premium A, B: no February call; general C: none, D: no full month yet and not overdue
    assert per_tier.loc["premium", "meets_policy"] == 0.0 and per_tier.loc["premium", "overdue"] == 1
    assert per_tier.loc["general", "meets_policy"] == 0.5 and per_tier.loc["potential", "customers"] == 0
    overdue = cadence.overdue_by_owner(out)
    assert overdue["customer_id"].tolist() == ["C", "B"]  # owners 李 then 王
    assert overdue["contact_phone"].tolist() == ["***1234", "139****5678"]
    assert not overdue["contact_phone"].str.contains("12345678").any()
    counts = cadence.overdue_owner_counts(out).set_index("owner")
    assert counts.loc["王", "overdue"] == 1 and counts.loc["王", "customers"] == 3  # A, B and D (by its visit)
    assert out.set_index("customer_id").loc["D", "owner"] == "王"  # no owner: the last contact's


def test_policy_validation():
    assert cadence.visit_policy(None)["measure"] == "calendar"
    with pytest.raises(ParamsError, match="calendar"):
        cadence.visit_policy({"measure": "count"})
    with pytest.raises(ParamsError, match="phone_days"):
        cadence.visit_policy({"phone_days": 0})
    with pytest.raises(ParamsError, match="measure"):
        cadence.visit_policy({"measure": "weekly"})


# -- report texts --------------------------------------------------------------------------------
def test_key_figures_and_findings_in_both_languages():
    from funnelkit import tiers as analysis
    from funnelkit.demo import load_demo

    tables = {name: load_demo(name, branch="嘉兴分公司") for name in ("customers", "events", "visits")}
    result = analysis.analyse(tables, analysis.Params(branch="嘉兴分公司"))
    events, year, previous = tables["events"], result.year, result.previous_year
    shares, by_region = result.shares, result.by_region
    figures = tiers_report.key_figures(result)
    assert sum(figures["tier_shares"].values()) == pytest.approx(1)
    n = shares.set_index(["snapshot_year", "tier"])["customers"]
    assert figures["premium_growth"] == pytest.approx(n[(year, "premium")] / n[(previous, "premium")] - 1)
    premium_now = by_region[by_region["tier"] == "premium"]
    assert figures["top_region"] == premium_now.sort_values("current", ascending=False)["region"].iloc[0]
    assert figures["referral_share_existing"] == pytest.approx(
        ((events["kind"] == "referral") & (events["source_type"] == "existing_customer")).sum()
        / (events["kind"] == "referral").sum()
    )
    for lang in ("zh", "en"):
        texts = tiers_report.findings(result, lang)
        assert len(texts) == 5 and all(isinstance(x, str) and x for x in texts)
        assert all(isinstance(x, str) and x for x in tiers_report.more_findings(result, lang))
        assert f"{figures['premium_share']:.1%}" in texts[0]
    assert "优质客户" in tiers_views.labelled(shares, "zh")["tier"].tolist()
