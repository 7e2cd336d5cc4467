"""Customer lifetime value (客户生命周期价值): the projection table of database-marketing
textbooks, its inputs estimated from a branch's own cohorts, and the individual calculator.

Cohort retention and realised LTV live in :mod:`funnelkit.ltv.cohorts`, lifecycle stages and
churn in :mod:`funnelkit.ltv.lifecycle`, the RFM summary in :mod:`funnelkit.ltv.rfm`. The
projection's inputs are checked with the notebook's parameters (:mod:`funnelkit.ltv.params`);
here they are trusted.

The projection (Hughes, *Strategic Database Marketing*; Jackson & Wang) follows one group of
new customers for ``years`` years. For year n = 1..N::

    customers_1     = initial_customers;  customers_{n+1} = customers_n * retention_rate_n
    revenue         = customers * orders_per_year * avg_order_value
    cost_of_sales   = revenue * cost_rate
    marketing_cost  = customers * (acquisition_cost if n == 1 else marketing_cost)
    total_cost      = cost_of_sales + marketing_cost
    gross_profit    = revenue - total_cost
    discount_factor = given per year, or (1 + interest_rate * risk_factor) ** (n - 1)
    npv             = gross_profit / discount_factor
    ltv             = cumulative npv / initial_customers
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .cohorts import cohort_activity
from .params import is_empty

PROJECTION_COLUMNS = [
    "year",
    "customers",
    "retention_rate",
    "orders_per_year",
    "avg_order_value",
    "revenue",
    "cost_rate",
    "cost_of_sales",
    "marketing_cost",
    "total_cost",
    "gross_profit",
    "discount_factor",
    "npv",
    "cumulative_npv",
    "ltv",
]
#: per-year inputs (a number, or a list for years 1, 2, …; the last value repeats)
YEARLY_INPUTS = ("retention_rates", "orders_per_year", "avg_order_value", "cost_rate")
#: the column of :func:`tenure_rates` each yearly input is estimated from
ESTIMATED_FROM = dict(zip(YEARLY_INPUTS, ("retention_rate", "orders_per_year", "avg_order_value", "cost_rate")))


def per_year(value, years: int) -> np.ndarray:
    """``value`` (a number or a list for years 1, 2, …) as one float per year; a short list
    (an estimate from few cohorts) repeats its last value, an empty one gives NaN."""
    values = list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
    if not values or values == [None]:
        return np.full(years, np.nan)
    values = values[:years]
    return np.array(values + [values[-1]] * (years - len(values)), dtype=float)


def discount_factors(assumptions: Mapping, years: int) -> np.ndarray:
    """Discount factor per year: ``discount_factors`` when given, else
    ``(1 + interest_rate * risk_factor) ** (n - 1)``; rounded to ``discount_decimals`` when
    set (textbook tables divide by factors printed to 2 decimals)."""
    given = assumptions.get("discount_factors") or []
    if len(given):
        factors = per_year(given, years)
    else:
        rate = float(assumptions.get("interest_rate") or 0.0) * float(assumptions.get("risk_factor") or 1.0)
        factors = (1 + rate) ** np.arange(years, dtype=float)
    decimals = assumptions.get("discount_decimals")
    return np.round(factors, int(decimals)) if decimals not in (None, "") else factors


def ltv_projection(assumptions: Mapping, *, retention_gain: float = 0.0) -> pd.DataFrame:
    """The lifetime-value projection table (columns :data:`PROJECTION_COLUMNS`).

    ``assumptions`` keys: ``years``, ``initial_customers``, ``retention_rates``,
    ``orders_per_year``, ``avg_order_value``, ``cost_rate`` (each a number or a per-year
    list), ``acquisition_cost`` (per new customer, year 1), ``marketing_cost`` (per retained
    customer, years 2…; a list gives years 2, 3, … in turn), and either
    ``discount_factors`` (per-year list) or ``interest_rate`` and ``risk_factor``;
    optionally ``discount_decimals``. ``retention_gain`` adds that many points to every
    retention rate (capped at 1): the scenario that shows what retention is worth.

    Examples
    --------
    >>> table = ltv_projection({"years": 2, "initial_customers": 100, "retention_rates": 0.5,
    ...     "orders_per_year": 2, "avg_order_value": 10, "cost_rate": 0.5, "acquisition_cost": 5,
    ...     "marketing_cost": 1, "interest_rate": 0.1, "risk_factor": 1})
    >>> table["ltv"].round(4).tolist()
    [5.0, 9.0909]
    """
    years = int(assumptions["years"])
    inputs = {k: per_year(assumptions.get(k), years) for k in YEARLY_INPUTS}
    retention = np.minimum(inputs["retention_rates"] + retention_gain, 1.0)
    customers = float(assumptions["initial_customers"]) * np.concatenate([[1.0], np.cumprod(retention[:-1])])
    later = per_year(assumptions.get("marketing_cost"), max(years - 1, 1))
    cost_each = np.concatenate([[float(assumptions.get("acquisition_cost") or 0.0)], later])[:years]
    table = pd.DataFrame(
        {
            "year": np.arange(1, years + 1),
            "customers": customers,
            "retention_rate": retention,
            "orders_per_year": inputs["orders_per_year"],
            "avg_order_value": inputs["avg_order_value"],
        }
    )
    table["revenue"] = table["customers"] * table["orders_per_year"] * table["avg_order_value"]
    table["cost_rate"] = inputs["cost_rate"]
    table["cost_of_sales"] = table["revenue"] * table["cost_rate"]
    table["marketing_cost"] = table["customers"] * cost_each
    table["total_cost"] = table["cost_of_sales"] + table["marketing_cost"]
    table["gross_profit"] = table["revenue"] - table["total_cost"]
    table["discount_factor"] = discount_factors(assumptions, years)
    table["npv"] = table["gross_profit"] / table["discount_factor"]
    table["cumulative_npv"] = table["npv"].cumsum()
    table["ltv"] = table["cumulative_npv"] / float(assumptions["initial_customers"])
    return table[PROJECTION_COLUMNS]


def compare_projections(base: pd.DataFrame, scenario: pd.DataFrame) -> pd.DataFrame:
    """Base and scenario side by side per year: customers, LTV and the LTV gained."""
    return pd.DataFrame(
        {
            "year": base["year"],
            "customers_base": base["customers"],
            "customers_scenario": scenario["customers"],
            "ltv_base": base["ltv"],
            "ltv_scenario": scenario["ltv"],
            "ltv_gain": scenario["ltv"] - base["ltv"],
        }
    )


def ltv_at(projection: pd.DataFrame, year: int) -> float:
    """LTV per initial customer after ``year`` years (NA beyond the horizon)."""
    row = projection.loc[projection["year"] == year, "ltv"]
    return float(row.iloc[0]) if len(row) else float("nan")


def tenure_rates(data: pd.DataFrame, *, as_of) -> pd.DataFrame:
    """Yearly behaviour by year of tenure, pooled over the yearly cohorts' observed cells.

    One row per projection year n (tenure year n − 1): ``active`` customers, ``cohorts``
    (cohorts observed in both year n and n+1), ``retention_rate`` (active in year n+1 /
    active in year n, over those cohorts), ``orders_per_year``, ``avg_order_value`` and
    ``cost_rate`` (1 − margin/revenue).
    Needs a ``margin`` column.
    """
    cells = cohort_activity(data, period="year", as_of=as_of)
    cells = cells.loc[cells["observed"]]
    nxt = cells.assign(period=cells["period"] - 1)[["cohort", "period", "active"]]
    pairs = cells.merge(nxt, on=["cohort", "period"], suffixes=("", "_next"))
    by = cells.groupby("period")[["customers", "active", "orders", "revenue", "margin"]].sum()
    kept = pairs.groupby("period").agg(
        active_paired=("active", "sum"), active_next=("active_next", "sum"), cohorts=("cohort", "nunique")
    )
    out = by.join(kept)
    return pd.DataFrame(
        {
            "year": out.index + 1,
            "active": out["active"],
            "cohorts": out["cohorts"].fillna(0).astype(int),
            "retention_rate": out["active_next"] / out["active_paired"],
            "orders_per_year": out["orders"] / out["active"],
            "avg_order_value": out["revenue"] / out["orders"],
            "cost_rate": 1 - out["margin"] / out["revenue"],
        }
    ).reset_index(drop=True)


def _estimable(value) -> bool:
    """True when an estimate came out as numbers (a list from :func:`tenure_rates` may be empty,
    a mean over no cohort NaN)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    return bool(values) and all(v is not None and np.isfinite(v) for v in values)


def projection_assumptions(
    data: pd.DataFrame,
    *,
    projection: Mapping,
    as_of,
    acquisition_cost: float,
    marketing_cost: float,
    discount_rate: float,
    model_retention: Sequence[float] | None = None,
) -> dict:
    """The projection inputs: those given in ``projection`` (params), the rest estimated.

    ``projection`` holds every key of :data:`funnelkit.ltv.params.PROJECTION`
    (:meth:`funnelkit.ltv.Params.projection_inputs`). With ``projection["estimate"]`` true,
    every input left empty (``None`` or ``[]``) is estimated from the branch's yearly cohorts
    (:func:`tenure_rates`): ``initial_customers`` = mean yearly cohort size; the per-year rates
    by year of tenure, the last observed value held for later years. Where no yearly cohort
    shows retention, ``model_retention`` (year-on-year rates of the fitted retention model,
    :func:`funnelkit.ltv.models.model_retention`) stands in for it. Costs not given fall back
    to the notebook's ``acquisition_cost`` / ``marketing_cost``, the interest rate to
    ``discount_rate`` and the risk factor to 1. The result has a ``sources`` entry: input →
    ``params`` / ``estimated`` / ``model`` / ``default``, or ``missing`` for an input that
    could be neither given nor estimated (:func:`missing_inputs`).
    """
    given = {k: v for k, v in projection.items() if k not in ("estimate", "years") and not is_empty(v)}
    out: dict = {"years": int(projection["years"])}
    sources = {"years": "params", **{k: "params" for k in given}}
    if projection["estimate"]:
        rates = tenure_rates(data, as_of=as_of)
        sizes = cohort_activity(data, period="year", as_of=as_of).query("period == 0 and observed")
        estimates = {
            "initial_customers": round(float(sizes["customers"].mean())) if len(sizes) else float("nan"),
            **{k: rates[column].dropna().tolist() for k, column in ESTIMATED_FROM.items()},
        }
        out |= {k: v for k, v in estimates.items() if k not in given}
        sources |= {k: "estimated" for k in estimates if k not in given}
        if sources.get("retention_rates") == "estimated" and not _estimable(out["retention_rates"]) and model_retention:
            out["retention_rates"], sources["retention_rates"] = list(model_retention), "model"
    fallbacks = {"acquisition_cost": acquisition_cost, "marketing_cost": marketing_cost}
    if not given.get("discount_factors"):
        fallbacks |= {"interest_rate": discount_rate, "risk_factor": 1.0}
    out |= {k: v for k, v in fallbacks.items() if k not in given}
    sources |= {k: "default" for k in fallbacks if k not in given}
    sources |= {k: "missing" for k, source in sources.items() if source == "estimated" and not _estimable(out[k])}
    return {**out, **given, "sources": sources}


def missing_inputs(assumptions: Mapping) -> list[str]:
    """The inputs of :func:`projection_assumptions` left to the estimate that the branch's
    data could not give (no complete year of purchases; retention needs a cohort observed in
    two consecutive years, or the retention model): the projection cannot be made without them."""
    return [k for k, source in assumptions["sources"].items() if source == "missing"]


def individual_ltv(
    *,
    profit_per_purchase: float,
    purchases_per_period: float,
    periods_per_year: int,
    expected_years: int,
    discount_rate: float,
) -> pd.DataFrame:
    """The individual LTV calculator: profit per purchase × purchases per period × periods
    per year, for ``expected_years`` years, optionally discounted.

    Year n is discounted by ``(1 + discount_rate) ** (n - 1)`` — the first year is not
    discounted, as in the projection table. Returns ``year, profit, discount_factor,
    present_value, cumulative_value``; the last ``cumulative_value`` is the LTV.

    Examples
    --------
    >>> individual_ltv(profit_per_purchase=100, purchases_per_period=2, periods_per_year=12,
    ...                expected_years=20, discount_rate=0.0)["cumulative_value"].iloc[-1]
    np.float64(48000.0)
    """
    years = np.arange(1, int(expected_years) + 1)
    profit = float(profit_per_purchase) * float(purchases_per_period) * float(periods_per_year)
    factor = (1 + float(discount_rate)) ** (years - 1.0)
    present = profit / factor
    return pd.DataFrame(
        {
            "year": years,
            "profit": profit,
            "discount_factor": factor,
            "present_value": present,
            "cumulative_value": np.cumsum(present),
        }
    )
