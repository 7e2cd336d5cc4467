"""Review fixes of the tier report: cadence window and measure, referral counts, events per tier."""

import importlib
from types import SimpleNamespace

import pandas as pd
import pytest

from funnelkit.exceptions import ParamsError
from funnelkit.tiers import cadence, referrals
from funnelkit.tiers import views as tiers_views

tiers_report = importlib.import_module("funnelkit.tiers.findings")  # the module; tiers.findings is the function


def one_customer(year=2006):
    return pd.DataFrame(
        {
            "customer_id": ["A"],
            "snapshot_year": [year],
            "tier": ["premium"],
            "owner": ["王"],
            "first_purchase_date": pd.to_datetime(["2004-01-01"]),
            "contact_phone": [None],
        }
    )


def calls(dates, kind="phone"):
    return pd.DataFrame({"customer_id": "A", "kind": kind, "owner": "王", "date": pd.to_datetime(dates)})


def judge(visits, **options):
    options = {"policy": cadence.DEFAULT_POLICY, "as_of": "", **options}  # the notebook's defaults
    return cadence.customer_cadence(visits, one_customer(), year=2006, **options).iloc[0]


def test_no_visit_in_the_reported_year_is_not_full_compliance():
    visits = calls(["2005-06-01"])
    # the latest visit precedes 1 January 2006: the window runs to 31 December 2006, not to 2005-06-01
    assert cadence.window_end(visits, year=2006) == pd.Timestamp("2006-12-31")
    assert cadence.window_end(visits, year=2006, as_of="2005-12-01") == pd.Timestamp("2006-12-31")
    assert cadence.window_end(visits, year=2006, as_of="2006-06-30") == pd.Timestamp("2006-06-30")
    assert cadence.contacts_in_window(visits, year=2006) == 0
    row = judge(visits)
    assert not row["meets_phone"] and not row["meets_policy"]
    assert row["overdue_phone"] and row["days_since_phone"] == 364  # 1 January → 31 December
    # the summary is told there were no contacts in the window
    assert (
        cadence.contacts_in_window(calls(["2005-06-01", "2006-02-01", "2006-03-01"]), year=2006, as_of="2006-02-15")
        == 1
    )


def month_ends(year=2006):
    return pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="ME")


def test_a_call_on_the_last_day_of_each_month_meets_the_calendar_policy():
    visits = pd.concat([calls(month_ends()), calls(pd.date_range("2006-01-01", "2006-12-31", freq="QE"), "onsite")])
    row = judge(visits, as_of="2006-12-31")
    # 12 full months each with a call, 4 full quarters each with a visit; last contacts on the end date
    assert row["contacts_phone"] == 12 and row["meets_phone"] and not row["overdue_phone"]
    assert row["meets_onsite"] and row["meets_policy"] and not row["overdue"]
    # strictly by gaps: 1 January → 31 January is 30 days, then at most 31 days (e.g. 31 July → 31 August)
    assert judge(visits, as_of="2006-12-31", policy={"measure": "gap"})["meets_phone"]
    # on 30 December, December is partial and not yet due: the last call (30 November) is 30 days ago
    early = judge(visits[visits["date"] < "2006-12-01"], as_of="2006-12-30")
    assert early["meets_phone"] and early["days_since_phone"] == 30 and not early["overdue_phone"]


def test_eleven_calls_in_january_neither_meet_nor_avoid_overdue():
    visits = calls(pd.date_range("2006-01-01", "2006-01-11"))
    row = judge(visits, as_of="2006-12-31")
    # February … December hold no call; the last call (11 January) is 354 days before 31 December
    assert row["contacts_phone"] == 11 and not row["meets_phone"]
    assert row["overdue_phone"] and row["days_since_phone"] == 354
    assert not judge(visits, as_of="2006-12-31", policy={"measure": "gap"})["meets_phone"]


def test_partial_month_counts_once_it_is_due():
    # calls on 1 January and 1 February; on 15 March, February is covered but the last call is 42 days old
    row = judge(calls(["2006-01-01", "2006-02-01"]), as_of="2006-03-15")
    assert row["overdue_phone"] and not row["meets_phone"]
    # on 3 March the last call is 30 days old: March not yet due, January and February covered
    assert judge(calls(["2006-01-01", "2006-02-01"]), as_of="2006-03-03")["meets_phone"]


@pytest.mark.parametrize("dates", [[], ["2006-01-05"], list(month_ends()[:6]), list(month_ends())])
@pytest.mark.parametrize("measure", ["calendar", "gap"])
def test_no_customer_both_meets_and_is_overdue(dates, measure):
    for as_of in ("2006-03-15", "2006-07-02", "2006-12-31"):
        row = judge(calls(dates), as_of=as_of, policy={"measure": measure})
        for kind in cadence.KINDS:
            assert not (row[f"meets_{kind}"] and row[f"overdue_{kind}"])


def test_no_calls_at_all():
    row = judge(calls([]), as_of="2006-12-31")
    assert row["contacts_phone"] == 0 and not row["meets_phone"] and row["overdue_phone"]


def test_complete_periods():
    inside = cadence.complete_periods(pd.Timestamp("2006-02-15"), pd.Timestamp("2006-09-30"), "Q")
    assert inside.astype(str).tolist() == ["2006Q2", "2006Q3"]


# -- referral counts ---------------------------------------------------------------------------------
def test_referral_counts_in_chinese_labels_give_hand_shares():
    given = {"老客户": 6, "亲友": 3, "other": 1}
    out = referrals.source_structure(referrals.events_or_empty(None), referral_counts=given).set_index("source_type")
    # 10 referrals by hand: 6/10, 3/10, and the unrecognised label 1/10 as "other"
    assert out.loc["existing_customer", "share"] == pytest.approx(0.6)
    assert out.loc["friends_family", "share"] == pytest.approx(0.3)
    assert out.loc["other", "share"] == pytest.approx(0.1) and out.index[-1] == "other"
    assert out["referrals"].tolist() == [6, 3, 0, 0, 0, 0, 1] and out["referrals"].dtype.kind == "i"
    assert out["share"].sum() == pytest.approx(1)
    assert tiers_views.code_label("other", "zh") == "其他" and tiers_views.code_label("other", "en") == "Other"
    events = referrals.events_or_empty(None)
    notes = tiers_report.source_notes(SimpleNamespace(events=events, referral_counts=given), "zh")
    assert len(notes) == 2 and "referral_counts" in notes[0] and "other" in notes[1]
    assert tiers_report.source_notes(SimpleNamespace(events=events, referral_counts={}), "en") == []


def test_referral_counts_must_be_whole_and_not_negative():
    with pytest.raises(ParamsError, match="referral_counts"):
        referrals.counts_table({"老客户": -1})
    with pytest.raises(ParamsError, match="亲友"):
        referrals.counts_table({"亲友": 2.5})


def test_events_by_tier_keeps_untiered_events():
    customers = pd.DataFrame({"customer_id": ["a"], "snapshot_year": [2006], "tier": ["premium"]})
    events = pd.DataFrame(
        {
            "customer_id": ["a", "z", "z"],
            "kind": ["referral", "referral", "repurchase"],
            "date": pd.to_datetime(["2006-03-02", "2006-03-05", "2006-04-01"]),
        }
    )
    out = referrals.events_by_tier(events, customers, year=2006).set_index("tier")
    # z is untiered: its referral and repurchase stay in an "unknown" row, so the rows sum to 2 + 1
    assert out.loc["unknown", ["customers", "referral", "repurchase"]].tolist() == [0, 1, 1]
    assert out["referral"].sum() == 2 and out["repurchase"].sum() == 1
