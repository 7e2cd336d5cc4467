"""Acquisition cohorts from transactions: retention, revenue and realised lifetime value.

A customer's cohort is the period (year, quarter or month) of their first purchase. Period
``k`` of a cohort is the ``k``-th calendar period after it (``k = 0`` is the acquisition
period). A cell is *observed* only when its calendar period is complete by ``as_of``; every
figure of an unobserved cell is NA, never 0, so young cohorts are not read as churned.

Every function takes validated transactions (``funnelkit.data.schema.TRANSACTIONS``: at least
``customer_id``, ``date``, ``amount``; ``cost`` / ``margin`` optional) and does not modify them;
``period`` is one of :data:`PERIODS` (checked with the notebook's parameters).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: cohort period → (pandas period frequency, length in years)
PERIODS = {"year": ("Y", 1.0), "quarter": ("Q", 0.25), "month": ("M", 1 / 12)}


def resolve_as_of(data: pd.DataFrame, as_of) -> pd.Timestamp:
    """``as_of`` as a date; ``""``/``None`` means the last transaction date."""
    if as_of is None or as_of == "":
        return pd.Timestamp(data["date"].max()).normalize()
    return pd.Timestamp(as_of).normalize()


def with_margin(data: pd.DataFrame, *, cost_rate: float) -> pd.DataFrame:
    """Add ``margin`` and ``margin_basis`` to each transaction.

    The margin is the ``margin`` column where given; else ``amount - cost`` where a cost is
    given; else ``amount * (1 - cost_rate)``. ``margin_basis`` says which: ``margin``,
    ``cost`` or ``cost_rate``.

    Examples
    --------
    >>> tx = pd.DataFrame({"amount": [100.0, 100.0], "cost": [60.0, None]})
    >>> with_margin(tx, cost_rate=0.75)["margin"].tolist()
    [40.0, 25.0]
    """
    given = data["margin"] if "margin" in data else pd.Series(np.nan, index=data.index)
    cost = data["cost"] if "cost" in data else pd.Series(np.nan, index=data.index)
    given, cost = given.astype("Float64"), cost.astype("Float64")
    from_cost = data["amount"] - cost
    from_rate = data["amount"] * (1 - cost_rate)
    margin = given.fillna(from_cost).fillna(from_rate).astype(float)
    basis = np.where(given.notna(), "margin", np.where(cost.notna(), "cost", "cost_rate"))
    return data.assign(margin=margin, margin_basis=basis)


def margin_basis(data: pd.DataFrame) -> dict[str, int]:
    """How many transactions got their margin from each basis (see :func:`with_margin`)."""
    return {k: int(v) for k, v in data["margin_basis"].value_counts().items()}


def _ordinal(dates: pd.Series, freq: str) -> pd.Series:
    """Integer period number of each date (consecutive periods differ by 1)."""
    return pd.Series(pd.PeriodIndex(dates, freq=freq).asi8, index=dates.index)


def last_complete_ordinal(as_of: pd.Timestamp, freq: str) -> int:
    """The last period that is complete on ``as_of`` (ends on or before it)."""
    current = pd.Period(as_of, freq=freq)
    complete = as_of.normalize() >= current.end_time.normalize()
    return int(current.ordinal) if complete else int(current.ordinal) - 1


def _label(ordinals: pd.Series, freq: str) -> pd.Series:
    return ordinals.map(lambda o: str(pd.Period(ordinal=int(o), freq=freq)))


def cohort_activity(data: pd.DataFrame, *, period: str, as_of) -> pd.DataFrame:
    """Customers, orders, revenue and margin of every cohort in every later period.

    Returns one row per cohort and period since acquisition ``period`` (0, 1, …) up to the
    last calendar period that has started by ``as_of``: ``cohort`` (label such as ``2004``,
    ``2004Q1``, ``2004-01``), ``period``, ``customers`` (cohort size), ``active``,
    ``orders``, ``revenue``, ``margin``, ``retention`` (active / customers) and ``observed``.
    Transactions after ``as_of`` (``""``/``None``: the last transaction date) are ignored.
    Unobserved cells hold NA in every figure.
    Needs a ``margin`` column (see :func:`with_margin`).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [1.0, 2.0, 3.0],
    ...     "margin": [1.0, 1.0, 1.0],
    ...     "date": pd.to_datetime(["2004-03-01", "2004-05-01", "2005-02-01"])})
    >>> cohort_activity(tx, period="year", as_of="2005-12-31")["retention"].tolist()
    [1.0, 0.5]
    """
    freq = PERIODS[period][0]
    as_of = resolve_as_of(data, as_of)
    tx = data.loc[data["date"] <= as_of + pd.Timedelta(days=1) - pd.Timedelta(1)]
    tx = tx.assign(when=_ordinal(tx["date"], freq))
    tx = tx.assign(cohort_ord=tx.groupby("customer_id")["when"].transform("min"))
    tx = tx.assign(period=tx["when"] - tx["cohort_ord"])
    sizes = tx.groupby("cohort_ord")["customer_id"].nunique().rename("customers")
    cells = tx.groupby(["cohort_ord", "period"]).agg(
        active=("customer_id", "nunique"),
        orders=("customer_id", "size"),
        revenue=("amount", "sum"),
        margin=("margin", "sum"),
    )
    current = pd.Period(as_of, freq=freq).ordinal
    grid = pd.MultiIndex.from_tuples(
        [(c, k) for c in sizes.index for k in range(int(current - c) + 1)], names=["cohort_ord", "period"]
    )
    out = cells.reindex(grid).fillna(0).join(sizes).reset_index()
    out["observed"] = (out["cohort_ord"] + out["period"]) <= last_complete_ordinal(as_of, freq)
    figures = ["active", "orders", "revenue", "margin"]
    out[figures] = out[figures].astype(float).where(out["observed"])
    out["retention"] = out["active"] / out["customers"]
    out.insert(0, "cohort", _label(out["cohort_ord"], freq))
    return out.drop(columns="cohort_ord")[
        ["cohort", "period", "customers", "active", "orders", "revenue", "margin", "retention", "observed"]
    ]


def cohort_matrix(activity: pd.DataFrame, *, value: str = "retention") -> pd.DataFrame:
    """Wide cohort × period table of ``value`` for display and CSV (NA = not yet observed).

    Columns: ``cohort``, ``customers`` and one column per period since acquisition
    (``"0"``, ``"1"``, …).
    """
    wide = activity.pivot(index="cohort", columns="period", values=value)
    wide.columns = [str(c) for c in wide.columns]
    sizes = activity.groupby("cohort")["customers"].first()
    return (
        wide.reset_index()
        .merge(sizes.reset_index(), on="cohort")
        .pipe(lambda d: d[["cohort", "customers", *wide.columns]])
    )


def pooled_retention(activity: pd.DataFrame, *, period: int = 1) -> float:
    """Share of acquired customers active ``period`` periods later, over all cohorts for
    which that period is observed (customer-weighted). NA when none is."""
    cells = activity.loc[(activity["period"] == period) & activity["observed"]]
    if cells.empty:
        return float("nan")
    return float(cells["active"].sum() / cells["customers"].sum())


def realised_ltv(
    activity: pd.DataFrame, *, period: str, acquisition_cost: float, marketing_cost: float, discount_rate: float
) -> pd.DataFrame:
    """Realised lifetime value per acquired customer of each cohort, period by period.

    For cohort ``c`` and observed period ``k``::

        net_k  = margin_k / customers - marketing_cost * years_per_period * active_k / customers  (k >= 1)
        net_0  = margin_0 / customers                                      (no marketing cost in k = 0)
        ltv_k  = sum_{j <= k} net_j / (1 + discount_rate) ** (j * years_per_period) - acquisition_cost

    ``marketing_cost`` is the yearly cost per retained (active) customer and
    ``acquisition_cost`` the cost per new customer, paid at acquisition (undiscounted) — the
    same convention as the projection table. Unobserved periods are dropped.

    Returns ``cohort, period, customers, active, margin_per_customer, marketing_per_customer,
    discount_factor, net_present_value, ltv``.
    """
    years = PERIODS[period][1]
    cells = activity.loc[activity["observed"]].sort_values(["cohort", "period"])
    marketing = np.where(cells["period"] >= 1, marketing_cost * years * cells["active"] / cells["customers"], 0.0)
    factor = (1 + discount_rate) ** (cells["period"] * years)
    out = cells[["cohort", "period", "customers", "active"]].assign(
        margin_per_customer=cells["margin"] / cells["customers"],
        marketing_per_customer=marketing,
        discount_factor=factor,
    )
    out = out.assign(net_present_value=(out["margin_per_customer"] - out["marketing_per_customer"]) / factor)
    out = out.assign(ltv=out.groupby("cohort")["net_present_value"].cumsum() - acquisition_cost)
    return out.reset_index(drop=True)


def break_even(ltv: pd.DataFrame) -> pd.DataFrame:
    """Per cohort: size, periods observed, latest realised LTV and the break-even period
    (first period whose cumulative LTV is >= 0; NA while the cohort has not paid back)."""
    paid = ltv.loc[ltv["ltv"] >= 0].groupby("cohort")["period"].min().rename("break_even_period")
    latest = (
        ltv.sort_values("period")
        .groupby("cohort")
        .agg(customers=("customers", "first"), periods_observed=("period", "size"), latest_ltv=("ltv", "last"))
    )
    return latest.join(paid).reset_index().astype({"break_even_period": "Float64"})


def typical_break_even(table: pd.DataFrame) -> float:
    """Median break-even period over the cohorts that have broken even (NA if none has)."""
    periods = table["break_even_period"].dropna()
    return float(periods.median()) if len(periods) else float("nan")
