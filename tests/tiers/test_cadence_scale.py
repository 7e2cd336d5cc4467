"""The vectorised follow-up cadence gives exactly what the per-customer loop it replaced gave:
on the demo branches under both measures, and on hand-made windows at period edges."""

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from funnelkit.data import load_tables
from funnelkit.data.schema import VISITS
from funnelkit.tiers import Params, analysis, cadence, tiering


# The per-customer loop funnelkit used before the cadence was vectorised, kept as the reference.
def _gaps(dates, start, end):
    points = np.sort(dates[(dates >= start) & (dates <= end)].to_numpy(dtype="datetime64[D]"))
    edges = np.concatenate([[np.datetime64(start.date())], points, [np.datetime64(end.date())]])
    steps = np.diff(edges).astype(int)
    return len(points), float(steps.max()), float(steps[-1])


def _covers_every_period(dates, start, end, freq):
    inside = dates[(dates >= start) & (dates <= end)]
    return cadence.complete_periods(start, end, freq).isin(inside.dt.to_period(freq)).all()


def reference_cadence(visits, customers, *, year, policy, as_of):
    policy = cadence.visit_policy(policy)
    end = cadence.window_end(visits, year=year, as_of=as_of)
    rows = customers[(customers["snapshot_year"] == year) & customers["tier"].notna()]
    rows = rows.drop_duplicates("customer_id", keep="last")
    year_start = pd.Timestamp(year=year, month=1, day=1)
    first = pd.to_datetime(rows["first_purchase_date"]).dt.normalize() if "first_purchase_date" in rows else None
    starts = (
        first.where(first > year_start, year_start).fillna(year_start)
        if first is not None
        else pd.Series(year_start, index=rows.index)
    ).clip(upper=end)
    contacts = visits.assign(date=pd.to_datetime(visits["date"]).dt.normalize())
    by_customer = {key: group for key, group in contacts.groupby(["customer_id", "kind"])}
    records = []
    for row, start in zip(rows.itertuples(index=False), starts):
        record = {"customer_id": row.customer_id}
        for kind in cadence.KINDS:
            dates = by_customer.get((row.customer_id, kind), contacts.iloc[0:0])["date"]
            contacts_n, longest, since = _gaps(dates, start, end)
            limit = policy[f"{kind}_days"]
            overdue = since > limit
            meets = (
                longest <= limit
                if policy["measure"] == "gap"
                else _covers_every_period(dates, start, end, cadence.PERIODS[kind]) and not overdue
            )
            record |= {
                f"contacts_{kind}": contacts_n,
                f"max_gap_{kind}": longest,
                f"days_since_{kind}": since,
                f"meets_{kind}": bool(meets),
                f"overdue_{kind}": overdue,
            }
        records.append(record)
    last_owner = (
        contacts.sort_values("date").drop_duplicates("customer_id", keep="last").set_index("customer_id")["owner"]
    )
    own = rows["owner"] if "owner" in rows else pd.Series(None, index=rows.index, dtype=object)
    base = rows.assign(owner=own.fillna(rows["customer_id"].map(last_owner)), contact_phone=rows.get("contact_phone"))
    out = base[["customer_id", "owner", "tier", "contact_phone"]].merge(
        pd.DataFrame(records, columns=cadence._RECORD_COLUMNS), on="customer_id"
    )
    out = out.assign(contact_phone=out["contact_phone"].map(cadence.mask_contact, na_action="ignore"))
    return out.assign(
        meets_policy=out["meets_phone"] & out["meets_onsite"], overdue=out["overdue_phone"] | out["overdue_onsite"]
    )


def _same(visits, people, **options):
    new = cadence.customer_cadence(visits, people, **options)
    old = reference_cadence(visits, people, **options)
    assert_frame_equal(new, old, check_dtype=False)
    # the loop's merge turned customer_id (and, with no customers, every column) into object;
    # the vectorised one keeps the typed columns
    assert old.empty or new.drop(columns="customer_id").dtypes.equals(old.drop(columns="customer_id").dtypes)
    return new


@pytest.mark.parametrize(
    ("branch", "measure", "as_of"),
    [("杭州分公司", "calendar", ""), ("宁波分公司", "gap", "2006-06-30"), ("温州分公司", "calendar", "2006-03-31")],
)
def test_demo_branches_match_the_loop(branch, measure, as_of):
    params = Params(branch=branch)
    tables = load_tables(params, analysis.TABLES, required=["customers"])
    people = tiering.assign_tiers(tables["customers"], grid=tiering.tier_grid(params.tier_grid))
    year, _ = tiering.snapshot_years(people, current_year=params.current_year)
    visits = tables["visits"]
    out = _same(visits, people, year=year, policy={"measure": measure}, as_of=as_of)
    assert len(out) > 100 and out["contacts_phone"].sum() > 0 and 0 < out["meets_policy"].sum() < len(out)


def _people(starts):
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(starts))],
            "snapshot_year": 2006,
            "tier": "premium",
            "owner": None,
            "first_purchase_date": pd.to_datetime(starts),
            "contact_phone": None,
        }
    )


def test_period_edges_by_hand():
    # c0 from 1 Jan, c1 bought 1 Feb (starts on a month boundary), c2 bought 2 Feb, c3 bought 1 Apr
    # (a quarter boundary), c4 bought after the end (window clipped to one day), c5 never contacted.
    people = _people(["2005-01-01", "2006-02-01", "2006-02-02", "2006-04-01", "2006-07-15", "2005-06-01"])
    calls = {
        "c0": ["2006-01-31", "2006-02-01", "2006-03-31", "2006-04-30", "2006-05-01", "2006-06-30"],
        "c1": ["2006-02-28", "2006-03-01", "2006-04-15", "2006-05-20", "2006-06-10"],
        "c2": ["2006-01-15", "2006-03-01", "2006-04-02", "2006-05-03", "2006-06-04", "2006-06-04"],
        "c3": ["2006-04-01", "2006-05-31", "2006-06-30"],
        "c4": ["2006-06-01"],
    }
    visits = pd.DataFrame(
        [(c, "phone", "王", d) for c, days in calls.items() for d in days]
        + [
            ("c0", "onsite", "王", "2006-03-31"),
            ("c0", "onsite", "王", "2006-06-01"),
            ("c3", "onsite", "李", "2006-04-01"),
        ],
        columns=["customer_id", "kind", "owner", "date"],
    ).assign(date=lambda d: pd.to_datetime(d["date"]))
    out = _same(visits, people, year=2006, policy={}, as_of="2006-06-30").set_index("customer_id")
    # window end 30 June, the last day of June and of Q2: both count as complete periods.
    # c0: a call in each of Jan–Jun; quarters Q1 and Q2 each hold an on-site visit.
    assert out.loc["c0", ["meets_phone", "meets_onsite"]].tolist() == [True, True]
    # c1 from 1 Feb: February holds a call; gaps 27, 1, 45, 35, 21, 20 → longest 45
    assert out.loc["c1", "meets_phone"] and out.loc["c1", "max_gap_phone"] == 45
    # c2 from 2 Feb: February is not complete; the January call is before the window
    assert out.loc["c2", "contacts_phone"] == 5 and out.loc["c2", "meets_phone"]
    assert out.loc["c3", ["contacts_phone", "days_since_phone", "meets_phone"]].tolist() == [3, 0, True]
    assert out.loc["c4", ["contacts_phone", "max_gap_phone", "days_since_phone"]].tolist() == [0, 0, 0]
    assert out.loc["c5", ["contacts_phone", "max_gap_phone", "days_since_phone", "overdue"]].tolist() == [
        0,
        180,
        180,
        True,
    ]
    gap = _same(visits, people, year=2006, policy={"measure": "gap"}, as_of="2006-06-30").set_index("customer_id")
    assert gap.loc["c0", "max_gap_phone"] == 60 and not gap.loc["c0", "meets_phone"]  # 1 May → 30 June


def test_no_visits_and_no_customers():
    people = _people(["2005-01-01"])
    empty = pd.DataFrame({c: pd.Series(dtype="datetime64[us]" if c == "date" else object) for c in VISITS.names})
    out = _same(empty, people, year=2006, policy={}, as_of="2006-03-01")
    assert out[["contacts_phone", "days_since_onsite", "overdue"]].iloc[0].tolist() == [0, 59, True]
    none = _same(empty, people.iloc[:0], year=2006, policy={}, as_of="")
    assert none.empty
