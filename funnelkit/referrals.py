"""Referrals and repurchases (推荐 / 续购) by base customers, and where referrals come from.

Events come from the ``events`` table of the data contract; the tier of the customer behind
an event is the tier of the customer's snapshot in the event's year, else of the customer's
latest snapshot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema
from .tiers import TIER_ORDER

SOURCES: tuple[str, ...] = tuple(schema.REFERRAL_SOURCES)
KINDS: tuple[str, ...] = tuple(schema.EVENT_KINDS)
UNKNOWN = "unknown"


def events_or_empty(events: pd.DataFrame | None) -> pd.DataFrame:
    """``events``, or an empty events table when the branch has none (``load_table(..., required=False)``)."""
    if events is not None:
        return events
    return pd.DataFrame({c: pd.Series(dtype="datetime64[us]" if c == "date" else object)
                         for c in schema.EVENTS.names})


def with_tier(events: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """``events`` with the ``tier`` of the customer behind each (``unknown`` when untiered).

    ``customers`` is the output of :func:`funnelkit.tiers.assign_tiers`.
    """
    tiered = customers[customers["tier"].notna()][["customer_id", "snapshot_year", "tier"]]
    by_year = tiered.drop_duplicates(["customer_id", "snapshot_year"], keep="last")
    latest = (tiered.sort_values("snapshot_year").drop_duplicates("customer_id", keep="last")
              .set_index("customer_id")["tier"])
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
    index = pd.MultiIndex.from_product([pd.period_range(month.min(), month.max(), freq="M"), KINDS, tiers],
                                       names=["month", "kind", "tier"])
    out = (rows.assign(month=month, amount=amount.astype(float)).groupby(["month", "kind", "tier"])
           .agg(events=("kind", "size"), amount=("amount", "sum")).reindex(index, fill_value=0).reset_index())
    return out.assign(month=out["month"].astype(str), events=out["events"].astype(int))[columns]


def events_by_tier(events: pd.DataFrame, customers: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Referrals and repurchases in ``year`` per tier, and per 100 customers of the tier that year."""
    rows = with_tier(events[pd.to_datetime(events["date"]).dt.year == year], customers)
    counts = rows.groupby(["tier", "kind"]).size().unstack("kind").reindex(columns=list(KINDS), fill_value=0)
    base = customers[(customers["snapshot_year"] == year) & customers["tier"].notna()].groupby("tier").size()
    out = (pd.DataFrame({"customers": base}).join(counts, how="outer").reindex(list(TIER_ORDER))
           .fillna(0).astype(int).rename_axis("tier").reset_index())
    per100 = {f"{kind}_per_100": 100 * out[kind] / out["customers"].where(out["customers"] > 0) for kind in KINDS}
    return out.assign(**per100)


def referral_sources(data: pd.DataFrame, *, count: str | None = None, actions: dict | None = None,
                     lang: str = "zh") -> pd.DataFrame:
    """Referral-source structure: referrals and share per source type, with the recommended action.

    ``data`` is either the events table (rows of kind ``referral`` are counted) or a table of
    counts by ``source_type``, with the count column named by ``count``. Every source type is
    listed (zeros too); referrals without a source come last as ``unknown`` and count in the
    total. ``actions`` maps a source type to ``{zh: ..., en: ...}`` (from params).

    Examples
    --------
    >>> table = pd.DataFrame({"source_type": ["existing_customer", "same_region"], "n": [3, 1]})
    >>> referral_sources(table, count="n")["share"].tolist()[:2]
    [0.75, 0.0]
    """
    rows = data[data["kind"] == "referral"] if "kind" in data.columns else data
    source = rows["source_type"].astype(object).where(rows["source_type"].notna(), UNKNOWN)
    weight = rows[count].astype(float) if count else pd.Series(1.0, index=rows.index)
    totals = weight.groupby(source).sum()
    order = [*SOURCES, *([UNKNOWN] if totals.get(UNKNOWN, 0) > 0 else [])]
    referrals = totals.reindex(order, fill_value=0)
    total = referrals.sum()
    action = [((actions or {}).get(code) or {}).get(lang, "") if isinstance((actions or {}).get(code), dict)
              else str((actions or {}).get(code) or "") for code in order]
    return pd.DataFrame({"source_type": order,
                         "referrals": referrals.round().astype(int).to_numpy() if not count else referrals.to_numpy(),
                         "share": (referrals / total).to_numpy() if total else np.nan,
                         "action": action})
