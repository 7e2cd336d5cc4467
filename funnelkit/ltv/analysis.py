"""The lifetime-value notebook's one computing call: :func:`analyse` runs every step for one
branch and returns a :class:`Result` — tidy tables in codes (stages ``decline``, value tiers
``high_value``, groupings ``segment``), the same whatever the report language. Views,
findings and plots turn it into words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from funnelkit.exceptions import FunnelkitError
from funnelkit.result import AnalysisResult, Gap

from . import cohorts, lifecycle, models, projection, rfm
from .params import Params

#: The tables the notebook cannot run without: one of each group (transactions). A branch
#: without them has its notebook skipped, not failed.
NEEDS = (("transactions",),)

#: The customer attribute the lifecycle stage mix is shown by.
MIX_BY = "segment"
#: The transaction columns the analysis reads (``segment`` and ``region`` where present).
COLUMNS = ("customer_id", "date", "amount", "margin", "segment", "region")


@dataclass(frozen=True)
class Result(AnalysisResult):
    """Every table of one branch's lifetime-value report (tidy frames in codes; see the
    functions that make them), and the parameters they were computed with.

    ``period`` is the span of the transactions read (``2003-01 – 2006-12``), ``as_of`` the
    observation end as ISO date; ``margin_basis`` counts the transactions per margin basis
    (:func:`~funnelkit.ltv.cohorts.margin_basis`), ``margin_rate`` is margin over revenue;
    ``assumptions`` holds the projection's inputs and their ``sources``
    (:func:`~funnelkit.ltv.projection.projection_assumptions`);
    ``customers`` one row per customer with its lifecycle stage. The sections a branch's data
    may not allow — ``projection``, ``customer_base``, ``holdout``, ``retention_model``
    (:mod:`funnelkit.ltv.models`) — leave their fields ``None`` and name the reason in ``gaps``.
    """

    SAVED = {
        "retention": "retention",
        "cohort_revenue": "cohort_revenue",
        "realised_ltv": "realised_ltv",
        "break_even": "break_even",
        "tenure_rates": "tenure_rates",
        "ltv_projection": "projection",
        "ltv_projection_scenario": "scenario",
        "ltv_scenario_comparison": "comparison",
        "ltv_calculator": "calculator",
        "lifecycle": "lifecycle",
        "stage_mix": "stage_mix",
        "churn_by_group": "churn",
        "rfm": "rfm",
        "customer_value": "customer_value",
        "alive_bands": "alive_bands",
        "at_risk_customers": "at_risk",
        "base_models": "base_models",
        "holdout_check": "holdout",
        "retention_model": "survival_fit",
        "residual_lifetime": "residual_lifetime",
    }

    params: Params
    period: str
    as_of: str
    margin_basis: dict
    margin_rate: float
    activity: pd.DataFrame
    retention: pd.DataFrame
    cohort_revenue: pd.DataFrame
    realised_ltv: pd.DataFrame
    break_even: pd.DataFrame
    tenure_rates: pd.DataFrame
    assumptions: dict | None
    projection: pd.DataFrame | None
    scenario: pd.DataFrame | None
    comparison: pd.DataFrame | None
    calculator: pd.DataFrame
    customers: pd.DataFrame
    lifecycle: pd.DataFrame
    stage_mix: pd.DataFrame
    churn: pd.DataFrame
    rfm: pd.DataFrame
    rfm_overview: pd.DataFrame
    customer_value: pd.DataFrame | None
    alive_bands: pd.DataFrame | None
    at_risk: pd.DataFrame | None
    base_models: pd.DataFrame | None
    holdout: pd.DataFrame | None
    holdout_error: dict | None
    survival_fit: pd.DataFrame | None
    residual_lifetime: pd.DataFrame | None
    survival_model: dict | None


def analyse(tables: Mapping[str, pd.DataFrame | None], params: Params) -> Result:
    """Run the whole lifetime-value analysis of ``params.branch``.

    Parameters
    ----------
    tables : mapping
        ``transactions`` of the branch (``load_tables``), already cut to the notebook's filters.
    params : Params
        The notebook's parameters.

    Raises
    ------
    FunnelkitError
        When the branch has no transactions (after the filters). A section the data do not
        allow is a gap of the result, not an error.

    Examples
    --------
    >>> from funnelkit.data.loading import load_tables
    >>> params = Params(branch="杭州分公司")
    >>> result = analyse(load_tables(params, ["transactions"]), params)
    >>> result.period, result.as_of, len(result.customers)
    ('2003-01 – 2006-12', '2006-12-31', 7800)
    >>> result.lifecycle["stage"].tolist()
    ['exploration', 'formation', 'stability', 'decline']
    """
    data = tables.get("transactions")
    if data is None or data.empty:
        raise FunnelkitError(
            f"{params.branch} has no transactions{' matching the filters' if any(params.filters().values()) else ''}:"
            " the lifetime-value report is computed from them (table transactions)"
        )
    # every step groups by customer: integer codes in the ids' sort order group and sort alike,
    # several times faster than text; the ids come back in the tables that list customers
    tx = cohorts.with_margin(data, cost_rate=params.cost_rate)
    basis = cohorts.margin_basis(tx)
    # only the columns the steps read: every filter and sort below carries each one along
    tx, ids = _coded_customers(tx[[c for c in COLUMNS if c in tx.columns]])
    as_of = cohorts.resolve_as_of(tx, params.as_of)
    activity = cohorts.cohort_activity(tx, period=params.cohort_period, as_of=as_of)
    realised = cohorts.realised_ltv(
        activity,
        period=params.cohort_period,
        acquisition_cost=params.acquisition_cost,
        marketing_cost=params.marketing_cost_per_customer,
        discount_rate=params.discount_rate,
    )
    survival_fields, survival_gaps = models.retention_model(tx, as_of=as_of, params=params)
    inputs = params.projection_inputs()
    assumptions = projection.projection_assumptions(
        tx,
        projection=inputs,
        as_of=as_of,
        acquisition_cost=params.acquisition_cost,
        marketing_cost=params.marketing_cost_per_customer,
        discount_rate=params.discount_rate,
        model_retention=models.model_retention(survival_fields, years=int(inputs["years"])),
    )
    projected, projection_gaps = _projection(assumptions, params)
    customers = _decoded(lifecycle.lifecycle_stages(tx, as_of=as_of, rules=params.rules()), ids)
    rfm_table = _decoded(rfm.rfm_summary(tx, as_of=as_of, freq=params.rfm_freq), ids)
    revenue = float(tx["amount"].sum())
    margin_rate = float(tx["margin"].sum()) / revenue if revenue else 0.0
    base_fields, base_gaps = models.customer_base(rfm_table, params, margin_rate=margin_rate)
    holdout_fields, holdout_gaps = models.holdout(tx, as_of=as_of, params=params)
    return Result(
        params=params,
        period=f"{tx['date'].min():%Y-%m} – {as_of:%Y-%m}",
        as_of=as_of.date().isoformat(),
        margin_basis=basis,
        margin_rate=margin_rate,
        activity=activity,
        retention=cohorts.cohort_matrix(activity, value="retention"),
        cohort_revenue=cohorts.cohort_matrix(activity, value="revenue"),
        realised_ltv=realised,
        break_even=cohorts.break_even(realised),
        tenure_rates=projection.tenure_rates(tx, as_of=as_of),
        **projected,
        calculator=projection.individual_ltv(
            profit_per_purchase=params.profit_per_purchase,
            purchases_per_period=params.purchases_per_period,
            periods_per_year=params.periods_per_year,
            expected_years=params.expected_years,
            discount_rate=params.calculator_discount_rate,
        ),
        customers=customers,
        lifecycle=lifecycle.stage_summary(customers),
        stage_mix=lifecycle.stage_mix(customers, by=MIX_BY),
        churn=lifecycle.churn_by_group(customers, churn_months=params.churn_months, as_of=as_of),
        rfm=rfm_table,
        rfm_overview=rfm.rfm_overview(rfm_table),
        **base_fields,
        **holdout_fields,
        **survival_fields,
        gaps={**projection_gaps, **base_gaps, **holdout_gaps, **survival_gaps},
    )


def _coded_customers(tx: pd.DataFrame) -> tuple[pd.DataFrame, pd.Index | None]:
    """``tx`` with ``customer_id`` replaced by its rank among the distinct ids (0, 1, … in
    sorted order), and those ids; ``tx`` as it is and None when an id is missing."""
    codes, ids = pd.factorize(tx["customer_id"], sort=True)
    if (codes < 0).any():
        return tx, None
    return tx.assign(customer_id=codes), ids.astype(tx["customer_id"].dtype)


def _decoded(table: pd.DataFrame | None, ids: pd.Index | None) -> pd.DataFrame | None:
    """``table`` with the customer codes of :func:`_coded_customers` back as their ids."""
    if table is None or ids is None:
        return table
    back = ids.take(table["customer_id"].to_numpy())
    return table.assign(customer_id=pd.Series(back.array, index=table.index, dtype=ids.dtype))


def _projection(assumptions: dict, params: Params) -> tuple[dict, dict]:
    """The projection, its scenario and their comparison; a gap when an input could be
    neither given nor estimated (then retention, or everything a complete year would give)."""
    missing = projection.missing_inputs(assumptions)
    if missing:
        key = "ltv.gap_projection_retention" if missing == ["retention_rates"] else "ltv.gap_projection_year"
        return dict.fromkeys(("assumptions", "projection", "scenario", "comparison")), {"projection": Gap(key)}
    base = projection.ltv_projection(assumptions)
    scenario = projection.ltv_projection(assumptions, retention_gain=params.scenario_retention_gain)
    return {
        "assumptions": assumptions,
        "projection": base,
        "scenario": scenario,
        "comparison": projection.compare_projections(base, scenario),
    }, {}
