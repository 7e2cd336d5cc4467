"""Referrals and repurchases (推荐 / 续购) by base customers, and where referrals come from.

Events come from the ``events`` table of the data contract; the tier of the customer behind
an event is the tier of the customer's snapshot in the event's year, else of the customer's
latest snapshot.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from funnelkit.data import schema
from funnelkit.exceptions import ParamsError, Problem
from funnelkit.i18n import LANGS

from .tiering import TIER_ORDER

SOURCES: tuple[str, ...] = tuple(schema.REFERRAL_SOURCES)
KINDS: tuple[str, ...] = tuple(schema.EVENT_KINDS)
UNKNOWN = "unknown"  # no source given
OTHER = "other"  # a source label outside the contract's six types (shown as 其他 / Other)
_SPELLINGS = {
    unicodedata.normalize("NFKC", s).strip().casefold(): code
    for code, spellings in schema.REFERRAL_SOURCES.items()
    for s in spellings
}


#: What to do about each referral source (the default of the tier notebook's ``source_actions``).
SOURCE_ACTIONS = {
    "existing_customer": {
        "zh": "设立老客户推荐奖励，定期回访时主动请求推荐",
        "en": "Reward referrals by existing customers and ask for them at every follow-up",
    },
    "friends_family": {
        "zh": "借助客户亲友关系开展口碑活动与亲友购车优惠",
        "en": "Run word-of-mouth events and family-and-friends offers",
    },
    "new_customer": {
        "zh": "在交车环节请新客户推荐，及时兑现推荐礼",
        "en": "Ask new customers for referrals at handover and honour referral gifts promptly",
    },
    "same_industry": {
        "zh": "深耕重点行业，举办行业客户交流会",
        "en": "Work key industries and host industry customer meetings",
    },
    "repeat_referral": {
        "zh": "把重复推荐人纳入VIP维护，给予专属权益",
        "en": "Treat repeat referrers as VIPs with dedicated benefits",
    },
    "same_region": {"zh": "在客户集中区域开展社区/商圈推广", "en": "Promote locally where customers cluster"},
}


def source_actions(actions: dict | None = None) -> dict[str, dict[str, str]]:
    """The recommended action per source code: params' ``source_actions`` over :data:`SOURCE_ACTIONS`.

    A source given replaces its default action; the others keep theirs. Raises
    :class:`~funnelkit.exceptions.ParamsError` naming each key that is not a source code and
    each action that is not text for every report language.

    Examples
    --------
    >>> source_actions({"other": {"zh": "核实来源", "en": "Check the source"}})["other"]["en"]
    'Check the source'
    >>> len(source_actions())
    6
    """
    where = "params: tiers.source_actions"
    codes = (*SOURCES, OTHER, UNKNOWN)
    example = "e.g. {existing_customer: {zh: 设立推荐奖励, en: Reward referrals}}"
    problems = []
    for code, action in (actions or {}).items():
        if code not in codes:
            problems.append(Problem(where, None, str(code), action, f"not a source code; codes: {', '.join(codes)}"))
        elif not (
            isinstance(action, dict) and set(action) == set(LANGS) and all(isinstance(v, str) for v in action.values())
        ):
            problems.append(
                Problem(where, None, code, action, f"must be the action as text in {' and '.join(LANGS)}", example)
            )
    if problems:
        raise ParamsError(problems)
    return {**SOURCE_ACTIONS, **(actions or {})}


def source_code(value) -> str:
    """The source type a label stands for: a contract code, the label itself when it is none
    of the six (kept under its own name, never lumped together) or ``unknown`` (blank).

    Labels are read as the data contract reads them (``老客户`` → ``existing_customer``;
    full-width characters, case and surrounding spaces ignored). A branch maps its own
    labels with params ``aliases`` (:func:`relabelled_counts`; the loader for events).

    Examples
    --------
    >>> [source_code(x) for x in ["老客户", " Same_Region ", "老用户推荐", None]]
    ['existing_customer', 'same_region', '老用户推荐', 'unknown']
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return UNKNOWN
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return _SPELLINGS.get(text.casefold(), text) if text else UNKNOWN


def unrecognised_sources(data: pd.DataFrame, *, count: str | None = None) -> dict[str, int]:
    """The source labels in ``data`` (events, or a counts table with its ``count`` column)
    that are none of the six types, with their referrals, most first."""
    table = referral_sources(data, count=count)
    own = table[~table["source_type"].isin([*SOURCES, UNKNOWN])]
    return dict(zip(own["source_type"], own["referrals"].astype(int)))


def relabelled_counts(referral_counts: dict, aliases: dict | None = None) -> dict:
    """Params ``referral_counts`` with the branch's own labels mapped by params ``aliases``
    (``source_type``); labels mapped onto the same code are added up.

    Examples
    --------
    >>> relabelled_counts({"老用户推荐": 5, "老客户": 1, "同行": 2}, {"source_type": {"老用户推荐": "老客户"}})
    {'existing_customer': 6, '同行': 2}
    """
    from funnelkit.data.aliases import for_table, label_key

    mapping = {label_key(k): v for k, v in for_table(aliases, "events").get("source_type", {}).items()}
    out: dict = {}
    for label, n in (referral_counts or {}).items():
        code = source_code(mapping.get(label_key(label), label))
        out[code] = out.get(code, 0) + n
    return out


def counts_table(referral_counts: dict) -> pd.DataFrame:
    """The params ``tiers.referral_counts`` (source label → count) as a table for :func:`referral_sources`.

    Raises :class:`~funnelkit.exceptions.ParamsError` unless every count is a whole number ≥ 0.

    Examples
    --------
    >>> counts_table({"老客户": 6, "亲友": 3})["referrals"].tolist()
    [6, 3]
    """
    where = "params (tiers.referral_counts)"
    problems = [
        Problem(where, None, str(k), v, "must be a whole number ≥ 0", "e.g. {老客户: 6, 亲友: 3}")
        for k, v in (referral_counts or {}).items()
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v != int(v)
    ]
    if problems:
        raise ParamsError(problems)
    items = (referral_counts or {}).items()
    return pd.DataFrame(
        {"source_type": [k for k, _ in items], "referrals": [int(v) for _, v in items]},
        columns=["source_type", "referrals"],
    )


def events_or_empty(events: pd.DataFrame | None) -> pd.DataFrame:
    """``events``, or an empty events table when the branch has none (``load_table(..., required=False)``)."""
    if events is not None:
        return events
    return pd.DataFrame({c: pd.Series(dtype="datetime64[us]" if c == "date" else object) for c in schema.EVENTS.names})


def with_tier(events: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """``events`` with the ``tier`` of the customer behind each (``unknown`` when untiered).

    ``customers`` is the output of :func:`funnelkit.tiers.tiering.assign_tiers`.
    """
    tiered = customers[customers["tier"].notna()][["customer_id", "snapshot_year", "tier"]]
    by_year = tiered.drop_duplicates(["customer_id", "snapshot_year"], keep="last")
    latest = (
        tiered.sort_values("snapshot_year").drop_duplicates("customer_id", keep="last").set_index("customer_id")["tier"]
    )
    out = events.assign(snapshot_year=pd.to_datetime(events["date"]).dt.year.astype("Int64"))
    out = out.merge(by_year.astype({"snapshot_year": "Int64"}), on=["customer_id", "snapshot_year"], how="left")
    fallback = out["customer_id"].map(latest)
    return out.assign(tier=out["tier"].fillna(fallback).fillna(UNKNOWN)).drop(columns="snapshot_year")


def events_by_month(events: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Referrals and repurchases per month and tier, every month from first to last event.

    Columns: ``month`` (``YYYY-MM``), ``kind``, ``tier``, ``events``, ``amount``.
    """
    columns = ["month", "kind", "tier", "events", "amount"]
    if events.empty:
        return pd.DataFrame(columns=columns)
    rows = with_tier(events, customers)
    month = pd.to_datetime(rows["date"]).dt.to_period("M")
    amount = rows["amount"] if "amount" in rows else pd.Series(np.nan, index=rows.index)
    tiers = [*TIER_ORDER, *([UNKNOWN] if (rows["tier"] == UNKNOWN).any() else [])]
    index = pd.MultiIndex.from_product(
        [pd.period_range(month.min(), month.max(), freq="M"), KINDS, tiers], names=["month", "kind", "tier"]
    )
    out = (
        rows.assign(month=month, amount=amount.astype(float))
        .groupby(["month", "kind", "tier"])
        .agg(events=("kind", "size"), amount=("amount", "sum"))
        .reindex(index, fill_value=0)
        .reset_index()
    )
    return out.assign(month=out["month"].astype(str), events=out["events"].astype(int))[columns]


def events_by_tier(events: pd.DataFrame, customers: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Referrals and repurchases in ``year`` per tier, and per 100 customers of the tier that year.

    Events of untiered customers come last as tier ``unknown`` (no customers), so the rows sum
    to the year's events.
    """
    rows = with_tier(events[pd.to_datetime(events["date"]).dt.year == year], customers)
    counts = rows.groupby(["tier", "kind"]).size().unstack("kind").reindex(columns=list(KINDS), fill_value=0)
    base = customers[(customers["snapshot_year"] == year) & customers["tier"].notna()].groupby("tier").size()
    order = [*TIER_ORDER, *([UNKNOWN] if (rows["tier"] == UNKNOWN).any() else [])]
    out = (
        pd.DataFrame({"customers": base})
        .join(counts, how="outer")
        .reindex(order)
        .fillna(0)
        .astype(int)
        .rename_axis("tier")
        .reset_index()
    )
    per100 = {f"{kind}_per_100": 100 * out[kind] / out["customers"].where(out["customers"] > 0) for kind in KINDS}
    return out.assign(**per100)


def referral_sources(data: pd.DataFrame, *, count: str | None = None) -> pd.DataFrame:
    """Referral-source structure: referrals and share per source type (codes; a report adds
    the recommended action of each from params, in its language).

    ``data`` is either the events table (rows of kind ``referral`` are counted) or a table of
    whole-number counts by ``source_type``, with the count column named by ``count``. Labels
    are read through the contract's spellings (``老客户`` → ``existing_customer``, see
    :func:`source_code`). Every source type is listed (zeros too); then each label outside
    the six types under its own name, most referrals first (:func:`unrecognised_sources`
    for a warning), and ``unknown`` (no source). All count in the total.

    Examples
    --------
    >>> table = pd.DataFrame({"source_type": ["老客户", "亲友", "同学"], "n": [6, 3, 1]})
    >>> out = referral_sources(table, count="n")
    >>> out.loc[out["referrals"] > 0, ["source_type", "referrals", "share"]].values.tolist()
    [['existing_customer', 6, 0.6], ['friends_family', 3, 0.3], ['同学', 1, 0.1]]
    """
    rows = data[data["kind"] == "referral"] if "kind" in data.columns else data
    source = rows["source_type"].map(source_code) if len(rows) else pd.Series(dtype=object)
    weight = (
        pd.to_numeric(rows[count]).round().astype("int64") if count else pd.Series(1, index=rows.index, dtype="int64")
    )
    totals = weight.groupby(source).sum()
    own = totals.drop([*SOURCES, UNKNOWN], errors="ignore").sort_values(ascending=False, kind="stable")
    order = [*SOURCES, *own[own > 0].index, *([UNKNOWN] if totals.get(UNKNOWN, 0) > 0 else [])]
    referrals = totals.reindex(order, fill_value=0).astype(int)
    total = int(referrals.sum())
    return pd.DataFrame(
        {
            "source_type": order,
            "referrals": referrals.to_numpy(),
            "share": (referrals / total).to_numpy() if total else np.nan,
        }
    )


def source_structure(events: pd.DataFrame, *, referral_counts: dict | None = None) -> pd.DataFrame:
    """:func:`referral_sources` from ``referral_counts`` (params, label → count) when given, else from ``events``."""
    if referral_counts:
        return referral_sources(counts_table(referral_counts), count="referrals")
    return referral_sources(events)
