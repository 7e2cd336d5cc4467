"""Follow-up cadence of base customers: is each tier called and visited often enough?

The visit policy (params ``tiers.visit_policy``) asks for a phone call at least monthly and an
on-site visit at least quarterly; ``phone_days`` / ``onsite_days`` (default 31 and 92, the
longest calendar month and quarter) are the longest allowed wait. Over the reported year, a
customer's window runs from 1 January (or the first purchase, if later) to the end date
(``as_of``, else the latest visit in the data, at most 31 December; 31 December when neither
falls inside the year).

Two ways to judge "meets the policy", chosen by ``measure`` in the policy:

- ``calendar`` (default): at least one call in each calendar month and one on-site visit in
  each calendar quarter lying fully inside the window; the current, partial month / quarter
  counts only once it is already due, i.e. when the customer is overdue (below).
- ``gap``: no gap between the window start, each contact and the window end is longer than
  the limit (strict: calls on 1 January and 28 February leave a 58-day gap).

Whatever the measure, a customer is *overdue* for a kind when the days since the last
contact (or since the window start, with none) exceed the limit at the end date. Under both
measures an overdue customer does not meet the policy for that kind, so no customer is both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.exceptions import ParamsError, Problem
from funnelkit.privacy import mask_text

DEFAULT_POLICY = {"phone_days": 31, "onsite_days": 92, "measure": "calendar"}
MEASURES = ("calendar", "gap")
#: The calendar period of each kind under the ``calendar`` measure (pandas period codes).
PERIODS = {"phone": "M", "onsite": "Q"}
KINDS = ("phone", "onsite")
_RECORD_COLUMNS = ["customer_id"] + [
    f"{what}_{kind}" for kind in KINDS for what in ("contacts", "max_gap", "days_since", "meets", "overdue")
]


def visit_policy(policy: dict | None = None) -> dict:
    """Validate the visit policy from params (``None`` → :data:`DEFAULT_POLICY`)."""
    policy = {**DEFAULT_POLICY, **(policy or {})}
    where = "params: tiers.visit_policy"
    problems = [
        Problem(where, None, k, v, "must be a whole number of days > 0")
        for k, v in policy.items()
        if k.endswith("_days") and (not isinstance(v, int) or isinstance(v, bool) or v <= 0)
    ]
    problems += [
        Problem(where, None, k, policy[k], "unknown key", f"keys: {', '.join(DEFAULT_POLICY)}")
        for k in policy
        if k not in DEFAULT_POLICY
    ]
    if policy.get("measure") not in MEASURES:
        hint = "'count' was replaced by 'calendar' (a contact in every month / quarter)"
        problems.append(
            Problem(
                where,
                None,
                "measure",
                policy.get("measure"),
                f"must be one of {', '.join(MEASURES)}",
                hint if policy.get("measure") == "count" else "",
            )
        )
    if problems:
        raise ParamsError(problems)
    return policy


def window_end(visits: pd.DataFrame, *, year: int, as_of: str = "") -> pd.Timestamp:
    """The end date of the cadence window in ``year``: ``as_of`` or the latest visit, capped at 31 December.

    When that date falls before 1 January of ``year`` (no visit in the reported year, or an
    earlier ``as_of``), the window runs to 31 December rather than collapsing onto that date.
    """
    year_start, year_end = pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year, month=12, day=31)
    if as_of:
        end = pd.Timestamp(as_of).normalize()
    else:
        latest = pd.to_datetime(visits["date"]).max() if len(visits) else pd.NaT
        end = year_end if pd.isna(latest) else latest.normalize()
    return year_end if end < year_start else min(end, year_end)


def contacts_in_window(visits: pd.DataFrame, *, year: int, as_of: str = "") -> int:
    """The number of visit records from 1 January of ``year`` to :func:`window_end` (the cadence's evidence)."""
    dates = pd.to_datetime(visits["date"]).dt.normalize()
    start = pd.Timestamp(year=year, month=1, day=1)
    return int(dates.between(start, window_end(visits, year=year, as_of=as_of)).sum())


def mask_contact(value):
    """Mask a contact field: known phone / ID patterns by :func:`~funnelkit.privacy.mask_text`,
    any other value longer than four characters down to its last four."""
    if not isinstance(value, str) or not value:
        return value
    masked = mask_text(value)
    if masked != value or len(value) <= 4:
        return masked
    return "*" * (len(value) - 4) + value[-4:]


def complete_periods(start: pd.Timestamp, end: pd.Timestamp, freq: str) -> pd.PeriodIndex:
    """The calendar periods (``M`` months, ``Q`` quarters) lying fully inside ``start`` … ``end``.

    Examples
    --------
    >>> complete_periods(pd.Timestamp("2006-01-15"), pd.Timestamp("2006-04-30"), "M").astype(str).tolist()
    ['2006-02', '2006-03', '2006-04']
    """
    periods = pd.period_range(start, end, freq=freq)
    return periods[(periods.start_time >= start) & (periods.end_time.normalize() <= end)]


def _period_number(days: np.ndarray, freq: str) -> np.ndarray:
    """The running number of the calendar month (``M``) or quarter (``Q``) of each day."""
    months = days.astype("datetime64[M]").astype(np.int64)
    return months if freq == "M" else months // 3


def _complete_span(start: np.ndarray, end: np.datetime64, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """First and last number of the calendar periods lying fully inside each ``start`` … ``end``
    window (as :func:`complete_periods`; empty when first > last)."""
    first = _period_number(start, freq)
    starts_on_boundary = _period_start(first, freq) == start
    first = np.where(starts_on_boundary, first, first + 1)
    last = _period_number(np.array([end]), freq)[0]
    ends_on_boundary = _period_start(np.array([last + 1]), freq)[0] - np.timedelta64(1, "D") == end
    return first, np.full(len(start), last if ends_on_boundary else last - 1)


def _period_start(number: np.ndarray, freq: str) -> np.ndarray:
    months = number if freq == "M" else number * 3
    return np.asarray(months, dtype="datetime64[M]").astype("datetime64[D]")


def _kind_cadence(
    contacts: pd.DataFrame, start: pd.Series, end: np.datetime64, *, freq: str, limit: int, measure: str
) -> pd.DataFrame:
    """One kind's cadence for every customer of ``start`` (index customer_id, values the window
    start), from that kind's ``contacts`` (customer_id, day): all customers at once.

    The gaps are the steps between the window start, each contact inside the window and the
    end; the longest is the largest of the first step, the steps between contacts and the last.
    """
    window = pd.DataFrame({"customer_id": start.index, "start": start.to_numpy(dtype="datetime64[D]")})
    inside = contacts.merge(window, on="customer_id")
    inside = inside[(inside["day"] >= inside["start"]) & (inside["day"] <= end)]
    inside = inside.sort_values(["customer_id", "day"], kind="stable")
    day = inside["day"].to_numpy(dtype="datetime64[D]")
    same = inside["customer_id"].to_numpy()
    new = np.r_[True, same[1:] != same[:-1]] if len(same) else np.zeros(0, dtype=bool)
    previous = np.where(new, inside["start"].to_numpy(dtype="datetime64[D]"), np.r_[day[:1], day[:-1]])
    step = (day - previous).astype(np.int64)
    inside = inside.assign(step=step, period=_period_number(day, freq))
    per = inside.groupby("customer_id", sort=False).agg(
        contacts=("day", "size"), longest=("step", "max"), last=("day", "max")
    )
    per = per.reindex(window["customer_id"])
    begin = window["start"].to_numpy(dtype="datetime64[D]")
    last = per["last"].to_numpy(dtype="datetime64[D]")
    since = (end - np.where(np.isnat(last), begin, last)).astype(np.int64).astype(float)
    longest = np.fmax(per["longest"].to_numpy(dtype=float), since)
    overdue = since > limit
    if measure == "gap":
        meets = longest <= limit
    else:
        first, final = _complete_span(begin, end, freq)
        span = pd.DataFrame({"customer_id": window["customer_id"], "first": first, "final": final})
        held = inside[["customer_id", "period"]].drop_duplicates().merge(span, on="customer_id")
        covered = (
            held[(held["period"] >= held["first"]) & (held["period"] <= held["final"])]
            .groupby("customer_id", sort=False)
            .size()
            .reindex(window["customer_id"], fill_value=0)
            .to_numpy()
        )
        meets = (covered >= np.maximum(final - first + 1, 0)) & ~overdue
    return pd.DataFrame(
        {
            "contacts": per["contacts"].fillna(0).to_numpy(dtype=np.int64),
            "max_gap": longest,
            "days_since": since,
            "meets": meets.astype(bool),
            "overdue": overdue.astype(bool),
        },
        index=window["customer_id"],
    )


def customer_cadence(
    visits: pd.DataFrame, customers: pd.DataFrame, *, year: int, policy: dict, as_of: str
) -> pd.DataFrame:
    """One row per tiered customer of ``year``: contacts, gaps, days since the last contact, policy met.

    ``customers`` comes from :func:`funnelkit.tiers.tiering.assign_tiers`. Columns per kind:
    ``contacts_<kind>``, ``max_gap_<kind>``, ``days_since_<kind>``, ``meets_<kind>``, ``overdue_<kind>``; then
    ``meets_policy`` (both kinds met) and ``overdue`` (either kind overdue). ``owner`` is the
    customer's sales owner, else the owner of the last contact; ``contact_phone`` is masked.
    """
    policy = visit_policy(policy)
    end = window_end(visits, year=year, as_of=as_of)
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
    days = contacts.assign(day=contacts["date"].to_numpy(dtype="datetime64[D]"))[["customer_id", "kind", "day"]]
    window = pd.Series(starts.to_numpy(dtype="datetime64[D]"), index=pd.Index(rows["customer_id"]))
    day_end = np.datetime64(end.date())
    per_kind = [
        _kind_cadence(
            days[days["kind"].eq(kind).fillna(False).astype(bool)],  # a hand-made table may lack a kind
            window,
            day_end,
            freq=PERIODS[kind],
            limit=policy[f"{kind}_days"],
            measure=policy["measure"],
        ).add_suffix(f"_{kind}")
        for kind in KINDS
    ]
    records = pd.concat(per_kind, axis=1).rename_axis("customer_id").reset_index()[_RECORD_COLUMNS]
    last_owner = (
        contacts.sort_values("date").drop_duplicates("customer_id", keep="last").set_index("customer_id")["owner"]
    )
    own = rows["owner"] if "owner" in rows else pd.Series(None, index=rows.index, dtype=object)
    base = rows.assign(
        owner=own.fillna(rows["customer_id"].map(last_owner)),
        contact_phone=rows.get("contact_phone"),
    )
    out = base[["customer_id", "owner", "tier", "contact_phone"]].merge(records, on="customer_id")
    out = out.assign(contact_phone=out["contact_phone"].map(mask_contact, na_action="ignore"))
    return out.assign(
        meets_policy=out["meets_phone"] & out["meets_onsite"], overdue=out["overdue_phone"] | out["overdue_onsite"]
    )


def cadence_by_tier(cadence: pd.DataFrame) -> pd.DataFrame:
    """Per tier: customers and the shares meeting the phone, on-site and whole policy; overdue count."""
    from .tiering import TIER_ORDER

    out = (
        cadence.groupby("tier")
        .agg(
            customers=("customer_id", "size"),
            meets_phone=("meets_phone", "mean"),
            meets_onsite=("meets_onsite", "mean"),
            meets_policy=("meets_policy", "mean"),
            overdue=("overdue", "sum"),
        )
        .reindex(list(TIER_ORDER))
    )
    return (
        out.assign(customers=out["customers"].fillna(0).astype(int), overdue=out["overdue"].fillna(0).astype(int))
        .rename_axis("tier")
        .reset_index()
    )


def overdue_by_owner(cadence: pd.DataFrame) -> pd.DataFrame:
    """Overdue customers grouped by sales owner, the longest wait first, contact masked."""
    columns = [
        "owner",
        "customer_id",
        "tier",
        "days_since_phone",
        "days_since_onsite",
        "overdue_phone",
        "overdue_onsite",
        "contact_phone",
    ]
    rows = cadence[cadence["overdue"]]
    wait = rows["days_since_phone"].clip(lower=0) + rows["days_since_onsite"].clip(lower=0)
    return (
        rows.assign(wait=wait, owner=rows["owner"].fillna("—"))
        .sort_values(["owner", "wait"], ascending=[True, False])[columns]
        .reset_index(drop=True)
    )


def overdue_owner_counts(cadence: pd.DataFrame) -> pd.DataFrame:
    """Customers and overdue customers per sales owner, the most overdue first."""
    return (
        cadence.assign(owner=cadence["owner"].fillna("—"))
        .groupby("owner")
        .agg(customers=("customer_id", "size"), overdue=("overdue", "sum"))
        .assign(overdue_share=lambda d: d["overdue"] / d["customers"])
        .sort_values(["overdue", "owner"], ascending=[False, True])
        .reset_index()
    )
