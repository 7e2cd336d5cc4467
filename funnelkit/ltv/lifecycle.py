"""Customer lifecycle stages (考察期 / 形成期 / 稳定期 / 退化期) and churn by customer group.

Rules (all thresholds in ``lifecycle_rules`` of the params, :meth:`funnelkit.ltv.Params.rules`;
tenure is measured from the first purchase to ``as_of`` in whole calendar months; *recent*
spend is the spend in the last ``window_months`` before ``as_of``, *previous* spend the spend
in the ``window_months`` before that):

1. ``decline`` (退化期): tenure ≥ ``exploration_months`` and either no purchase in the recent
   window, or recent spend fell by at least ``decline_drop`` (a share) from previous spend.
2. ``exploration`` (考察期): tenure < ``exploration_months``.
3. ``formation`` (形成期): tenure < ``stability_months``.
4. ``stability`` (稳定期): everyone else (long tenure, spending not falling).

The first matching rule wins. Profit per customer by stage is the recent-window margin, so
stages are compared on the same length of time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.stats import with_wilson

from .cohorts import resolve_as_of

STAGES = ("exploration", "formation", "stability", "decline")
#: The value tiers of :func:`value_tiers`, highest first.
VALUE_TIERS = ("high_value", "mid_value", "low_value")
#: A customer group the data does not name (no segment or region on their transactions).
UNKNOWN = "unknown"


def customer_profiles(data: pd.DataFrame, *, as_of, window_months: int) -> pd.DataFrame:
    """One row per customer: first/last purchase, tenure in months, recent and previous
    spend and margin, lifetime revenue and margin, and the customer's latest ``segment`` and
    ``region`` (:data:`UNKNOWN` where absent). Needs a ``margin`` column; ``as_of`` ``""`` or
    None is the last transaction date."""
    as_of = resolve_as_of(data, as_of)
    tx = data.loc[data["date"] < as_of + pd.Timedelta(days=1)]
    recent_from = as_of - pd.DateOffset(months=window_months)
    previous_from = recent_from - pd.DateOffset(months=window_months)
    in_recent = tx["date"] > recent_from
    in_previous = (tx["date"] > previous_from) & ~in_recent
    tx = tx.assign(
        recent_spend=tx["amount"].where(in_recent, 0.0),
        previous_spend=tx["amount"].where(in_previous, 0.0),
        recent_margin=tx["margin"].where(in_recent, 0.0),
    )
    for column in ("segment", "region"):
        tx = tx.assign(**{column: tx.get(column, pd.NA)})
    out = (
        tx.sort_values("date")
        .groupby("customer_id")
        .agg(
            first_purchase=("date", "min"),
            last_purchase=("date", "max"),
            revenue=("amount", "sum"),
            margin=("margin", "sum"),
            recent_spend=("recent_spend", "sum"),
            previous_spend=("previous_spend", "sum"),
            recent_margin=("recent_margin", "sum"),
            segment=("segment", "last"),
            region=("region", "last"),
        )
        .reset_index()
    )
    first = out["first_purchase"]
    # whole calendar months: 2005-12-31 → 2006-12-31 is 12 months, 2006-01-15 → 2006-02-14 is 0
    tenure = (as_of.year - first.dt.year) * 12 + (as_of.month - first.dt.month) - (as_of.day < first.dt.day).astype(int)
    return out.assign(
        tenure_months=tenure,
        segment=out["segment"].fillna(UNKNOWN).astype(str),
        region=out["region"].fillna(UNKNOWN).astype(str),
    )


def lifecycle_stages(data: pd.DataFrame, *, as_of, rules: dict) -> pd.DataFrame:
    """The customer profiles of :func:`customer_profiles` with a ``stage`` column (a code of
    :data:`STAGES`), by ``rules``: every key of :data:`funnelkit.ltv.params.LIFECYCLE_RULES`.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["new", "old", "old"], "amount": [5.0, 9.0, 9.0],
    ...     "margin": [1.0, 2.0, 2.0],
    ...     "date": pd.to_datetime(["2006-11-01", "2002-01-01", "2006-06-01"])})
    >>> rules = {"exploration_months": 12, "stability_months": 36, "window_months": 12, "decline_drop": 0.3}
    >>> lifecycle_stages(tx, as_of="2006-12-31", rules=rules)["stage"].tolist()
    ['exploration', 'stability']
    """
    profiles = customer_profiles(data, as_of=as_of, window_months=rules["window_months"])
    established = profiles["tenure_months"] >= rules["exploration_months"]
    fell = (profiles["previous_spend"] > 0) & (
        profiles["recent_spend"] <= (1 - rules["decline_drop"]) * profiles["previous_spend"]
    )
    decline = established & ((profiles["recent_spend"] <= 0) | fell)
    stage = np.select(
        [decline, ~established, profiles["tenure_months"] < rules["stability_months"]],
        ["decline", "exploration", "formation"],
        default="stability",
    )
    return profiles.assign(stage=pd.Categorical(stage, categories=STAGES))


def stage_summary(stages: pd.DataFrame) -> pd.DataFrame:
    """Customers, share and recent-window profit (margin) per customer in each stage."""
    out = (
        stages.groupby("stage", observed=False)
        .agg(
            customers=("customer_id", "size"), recent_profit=("recent_margin", "sum"), lifetime_profit=("margin", "sum")
        )
        .reset_index()
    )
    customers = out["customers"].where(out["customers"] > 0)
    return out.assign(
        share=out["customers"] / out["customers"].sum(),
        profit_per_customer=out["recent_profit"] / customers,
        lifetime_profit_per_customer=out["lifetime_profit"] / customers,
    )[["stage", "customers", "share", "profit_per_customer", "lifetime_profit_per_customer"]]


def follows_inverted_u(summary: pd.DataFrame) -> bool | None:
    """True when profit per customer rises from exploration to formation, peaks in
    stability and falls in decline; None when a stage has no customers."""
    profit = summary.set_index("stage")["profit_per_customer"].reindex(list(STAGES))
    if profit.isna().any():
        return None
    return bool(
        profit["exploration"] < profit["formation"] <= profit["stability"]
        and profit["stability"] == profit.max()
        and profit["decline"] < profit["stability"]
    )


def stage_mix(stages: pd.DataFrame, *, by: str = "segment") -> pd.DataFrame:
    """Share of each stage within each ``by`` group (tidy: ``by, stage, customers, share``)."""
    counts = stages.groupby([by, "stage"], observed=False).size().rename("customers").reset_index()
    totals = counts.groupby(by)["customers"].transform("sum")
    return counts.assign(share=counts["customers"] / totals.where(totals > 0))


def decline_share(stages: pd.DataFrame) -> float:
    """Share of customers in the ``decline`` stage (NaN without customers)."""
    return float((stages["stage"] == "decline").mean()) if len(stages) else float("nan")


def value_tiers(profiles: pd.DataFrame) -> pd.Series:
    """Value tier of each customer by lifetime revenue (:data:`VALUE_TIERS`): ``high_value``
    (top 20%), ``mid_value`` (next 30%), ``low_value`` (bottom 50%)."""
    rank = profiles["revenue"].rank(pct=True, method="average")
    return pd.Series(
        np.select([rank > 0.8, rank > 0.5], ["high_value", "mid_value"], "low_value"), index=profiles.index
    )


def churn_by_group(
    stages: pd.DataFrame, *, churn_months: int, as_of, groupings=("segment", "region", "value_tier")
) -> pd.DataFrame:
    """Churn rate of each customer group under each grouping.

    A customer has churned when their last purchase is more than ``churn_months`` before
    ``as_of`` (``""``/None: the latest last purchase). Only customers acquired at least
    ``churn_months`` before ``as_of`` count: younger ones cannot have churned yet.
    Returns ``grouping, group, customers, churned, churn_rate`` with Wilson intervals
    (``churn_rate_low/high``) and ``too_few``; ``group`` is the data's segment or region, or a
    value tier code (:data:`VALUE_TIERS`).
    """
    as_of = pd.Timestamp(as_of) if as_of not in (None, "") else stages["last_purchase"].max().normalize()
    cutoff = as_of - pd.DateOffset(months=churn_months)
    eligible = stages.loc[stages["first_purchase"] <= cutoff]
    eligible = eligible.assign(value_tier=value_tiers(eligible), churned=eligible["last_purchase"] <= cutoff)
    frames = [
        eligible.groupby(g)
        .agg(customers=("customer_id", "size"), churned=("churned", "sum"))
        .rename_axis("group")
        .reset_index()
        .assign(grouping=g)
        for g in groupings
    ]
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["group", "customers", "churned", "grouping"])
    )
    out = with_wilson(out, successes="churned", trials="customers", prefix="churn_rate")
    return out[
        ["grouping", "group", "customers", "churned", "churn_rate", "churn_rate_low", "churn_rate_high", "too_few"]
    ]
