"""The model sections of the lifetime-value report, each computed where the branch's data
allow it and otherwise a :class:`~funnelkit.result.Gap` saying why in one line:

- ``customer_base`` — BG/NBD and Gamma-Gamma per customer (:mod:`funnelkit.ltv.customer_value`);
- ``holdout`` — the purchase model fitted on earlier months and checked on the last ones;
- ``retention_model`` — the shifted-beta-geometric curve of cohort survival
  (:mod:`funnelkit.ltv.survival`), at the cohort period of the report or, where that has too
  few observed periods, a finer one.

Each function returns ``(fields, gaps)``: the :class:`~funnelkit.ltv.Result` fields it fills
(``None`` where it cannot) and the gaps it records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.result import Gap

from . import bgnbd, spend, survival
from .cohorts import PERIODS
from .customer_value import alive_bands, at_risk, customer_value, holdout_check, holdout_error, holdout_split
from .rfm import UNIT_DAYS

#: Fewest customers, and customers with a repeat purchase, a customer-base model is fitted to.
MIN_CUSTOMERS = 50
MIN_REPEATERS = 20
#: Fewest customers, over the cohorts observed beyond their first period, for the retention model.
MIN_SURVIVAL_CUSTOMERS = 20
#: Cohort periods tried for the retention model, coarsest first.
GRAINS = ("year", "quarter", "month")

CUSTOMER_BASE = ("customer_value", "alive_bands", "at_risk", "base_models")
HOLDOUT = ("holdout", "holdout_error")
RETENTION_MODEL = ("survival_fit", "residual_lifetime", "survival_model")


def _too_few(rfm: pd.DataFrame) -> Gap | None:
    customers, repeaters = len(rfm), int((rfm["frequency"] > 0).sum())
    if customers >= MIN_CUSTOMERS and repeaters >= MIN_REPEATERS:
        return None
    values = {"customers": customers, "repeaters": repeaters, "min_customers": MIN_CUSTOMERS}
    return Gap("ltv.gap_few_repeaters", {**values, "min_repeaters": MIN_REPEATERS})


def customer_base(rfm: pd.DataFrame, params, *, margin_rate: float) -> tuple[dict, dict]:
    """Per-customer probability alive, expected purchases and spend, customer value (margin
    at ``margin_rate`` of spend); the probability bands, the valuable customers at risk and
    the fitted parameters (``base_models``: ``model, parameter, value``)."""
    empty = dict.fromkeys(CUSTOMER_BASE)
    problem = _too_few(rfm)
    if problem:
        return empty, {"customer_base": problem}
    frequency_model = bgnbd.fit(rfm)
    if not frequency_model["converged"]:
        return empty, {"customer_base": Gap("ltv.gap_model_failed")}
    spend_model = spend.fit(rfm)
    if spend_model["customers"] < MIN_REPEATERS or not spend_model["converged"] or spend_model["q"] <= 1:
        # q <= 1: spend per purchase varies so much across customers that its mean is not finite
        return empty, {"customer_base": Gap("ltv.gap_spend_failed")}
    customers = customer_value(
        rfm,
        frequency_model,
        spend_model,
        unit_days=UNIT_DAYS[params.rfm_freq],
        forecast_months=params.forecast_months,
        value_months=params.value_months,
        discount_rate=params.discount_rate,
        margin_rate=margin_rate,
    )
    figures = customers[["probability_alive", "expected_purchases", "customer_value", "value_if_active"]]
    if not np.isfinite(figures.to_numpy()).all():  # the closed forms fail far out on a parameter
        return empty, {"customer_base": Gap("ltv.gap_model_failed")}
    fitted = [("bgnbd", k, frequency_model[k]) for k in bgnbd.PARAMETERS]
    fitted += [("gamma_gamma", k, spend_model[k]) for k in spend.PARAMETERS]
    return {
        "customer_value": customers,
        "alive_bands": alive_bands(customers),
        "at_risk": at_risk(customers, alive_below=params.at_risk_alive, top_share=params.at_risk_top_share),
        "base_models": pd.DataFrame(fitted, columns=["model", "parameter", "value"]),
    }, {}


def holdout(data: pd.DataFrame, *, as_of: pd.Timestamp, params) -> tuple[dict, dict]:
    """The purchase model fitted on all but the last ``holdout_months`` and its predictions
    compared with what the customers bought in them (``holdout``, ``holdout_error``)."""
    empty = dict.fromkeys(HOLDOUT)
    calibration, length = holdout_split(data, as_of=as_of, freq=params.rfm_freq, holdout_months=params.holdout_months)
    problem = _too_few(calibration)
    if problem or length <= 0:
        values = {"months": params.holdout_months, "customers": len(calibration)}
        return empty, {
            "holdout": Gap("ltv.gap_holdout", {**values, "repeaters": int((calibration["frequency"] > 0).sum())})
        }
    model = bgnbd.fit(calibration)
    if not model["converged"]:
        return empty, {"holdout": Gap("ltv.gap_model_failed")}
    check = holdout_check(calibration, model, length=length)
    if not np.isfinite(check["predicted"]).all():
        return empty, {"holdout": Gap("ltv.gap_model_failed")}
    return {"holdout": check, "holdout_error": holdout_error(check)}, {}


def retention_model(data: pd.DataFrame, *, as_of: pd.Timestamp, params) -> tuple[dict, dict]:
    """The sBG retention curve, observed and projected to ``survival_periods`` periods
    (``survival_fit``), the discounted expected remaining periods of customers by tenure
    (``residual_lifetime``) and the fit itself (``survival_model``: ``period`` the grain it
    was fitted at, ``alpha``, ``beta``)."""
    grains = GRAINS[GRAINS.index(params.cohort_period) :]
    for grain in grains:
        survivors = survival.cohort_survivors(data, period=grain, as_of=as_of)
        pooled = survival.pooled_survival(survivors) if len(survivors) else pd.DataFrame()
        beyond = pooled.loc[pooled["period"] >= 1, "customers"] if len(pooled) else pd.Series(dtype=float)
        if len(beyond) and beyond.iloc[0] >= MIN_SURVIVAL_CUSTOMERS:
            break
    else:
        return dict.fromkeys(RETENTION_MODEL), {"retention_model": Gap("ltv.gap_survival")}
    model = survival.fit(survivors)
    if not model["converged"]:
        return dict.fromkeys(RETENTION_MODEL), {"retention_model": Gap("ltv.gap_model_failed")}
    periods = np.arange(max(params.survival_periods, int(pooled["period"].max())) + 1)
    curve = pd.DataFrame({"period": periods}).merge(pooled, on="period", how="left")
    rate = (1 + params.discount_rate) ** PERIODS[grain][1] - 1  # the yearly rate per period of this grain
    tenure = np.arange(min(5, len(periods)))
    return {
        "survival_fit": curve.assign(
            fitted=survival.survival(model, periods),
            retention_rate=np.r_[np.nan, survival.retention_rates(model, periods[1:])],
        ),
        "residual_lifetime": pd.DataFrame(
            {
                "period": tenure,
                "retention_rate": survival.retention_rates(model, tenure + 1),
                "remaining_periods": [
                    survival.discounted_residual_lifetime(model, renewals=int(n), discount_rate=rate) for n in tenure
                ],
            }
        ),
        "survival_model": {"period": grain, "alpha": model["alpha"], "beta": model["beta"]},
    }, {}


def model_retention(fields: dict, *, years: int) -> list[float] | None:
    """Year-on-year retention for the projection from the retention model, or None without one."""
    model = fields.get("survival_model")
    if model is None:
        return None
    per_year = round(1 / PERIODS[model["period"]][1])
    return survival.yearly_retention(model, periods_per_year=per_year, years=years)
