"""Each customer's expected future from the customer-base models: probability of still being
a customer, expected purchases and spend, discounted customer value; the customers worth
winning back; and a check of the purchase model on months it did not see.

The frequency model is BG/NBD (:mod:`funnelkit.ltv.bgnbd`), spend per purchase Gamma-Gamma
(:mod:`funnelkit.ltv.spend`); both read the RFM summary (:mod:`funnelkit.ltv.rfm`) in its
time unit, whose length in days is ``unit_days``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import bgnbd, spend
from .rfm import UNIT_DAYS, rfm_summary

#: Probability-alive bands of :func:`alive_bands`: upper edges in percent (the last includes 100).
ALIVE_BANDS = (25, 50, 75, 100)
#: Repeat purchases in the calibration months from which the holdout check pools customers.
HOLDOUT_TOP = 7


def customer_value(
    rfm: pd.DataFrame,
    frequency_model: Mapping[str, float],
    spend_model: Mapping[str, float],
    *,
    unit_days: float,
    forecast_months: int,
    value_months: int,
    discount_rate: float,
    margin_rate: float,
) -> pd.DataFrame:
    """One row per customer of ``rfm``: its RFM columns, ``probability_alive``,
    ``expected_purchases`` in the next ``forecast_months``, ``expected_spend`` per purchase,
    ``customer_value`` and ``value_if_active``.

    ``customer_value`` is the customer's expected margin over the next ``value_months``, month by
    month — expected purchases in the month × expected spend × ``margin_rate`` (the branch's
    margin share of revenue) — discounted at the yearly ``discount_rate``. ``value_if_active``
    is the same for a customer known to be still buying (``customer_value / probability_alive``): what
    is at stake when a customer goes quiet.
    """
    months_unit = UNIT_DAYS["M"] / unit_days
    alive = bgnbd.probability_alive(rfm, frequency_model).to_numpy()
    ahead = bgnbd.expected_purchases(rfm, frequency_model, t=forecast_months * months_unit)
    each = spend.expected_spend(rfm, spend_model).to_numpy()
    # value if still a customer first: dividing by a probability alive near 0 would not do
    # a function of (frequency, T) alone: computed once per distinct pair, as many as there
    # are customers only in the worst case
    pairs, inverse = np.unique(rfm[["frequency", "T"]].to_numpy(dtype=float), axis=0, return_inverse=True)
    distinct = pd.DataFrame(pairs, columns=["frequency", "T"])
    cumulative = np.column_stack(
        [np.zeros(len(distinct))]
        + [
            bgnbd.expected_purchases_if_alive(distinct, frequency_model, t=m * months_unit).to_numpy()
            for m in range(1, value_months + 1)
        ]
    )[inverse.reshape(-1)]
    discount = (1 + discount_rate) ** (-np.arange(1, value_months + 1) / 12)
    if_active = np.diff(cumulative, axis=1) @ discount * each * margin_rate
    return rfm.assign(
        probability_alive=alive,
        expected_purchases=ahead.to_numpy(),
        expected_spend=each,
        customer_value=if_active * alive,
        value_if_active=if_active,
    )


def alive_bands(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers by probability of still being a customer (bands of :data:`ALIVE_BANDS`, code
    the band's upper edge in percent): ``customers``, ``share``, ``expected_purchases`` (total),
    ``customer_value`` (total) and ``value_per_customer``."""
    edges = [-np.inf, *(edge / 100 for edge in ALIVE_BANDS[:-1]), np.inf]
    band = pd.cut(customers["probability_alive"], edges, labels=list(ALIVE_BANDS), right=False)
    out = (
        customers.assign(band=band)
        .groupby("band", observed=False)
        .agg(
            customers=("customer_id", "size"),
            expected_purchases=("expected_purchases", "sum"),
            customer_value=("customer_value", "sum"),
        )
        .reset_index()
    )
    out["band"] = out["band"].astype(int)
    return out.assign(
        share=out["customers"] / out["customers"].sum(),
        value_per_customer=out["customer_value"] / out["customers"].where(out["customers"] > 0),
    )[["band", "customers", "share", "expected_purchases", "customer_value", "value_per_customer"]]


def at_risk(customers: pd.DataFrame, *, alive_below: float, top_share: float) -> pd.DataFrame:
    """Valuable customers at risk: probability alive below ``alive_below`` and a value if
    still buying in the top ``top_share`` of all customers; the most valuable first.
    ``since_last`` is the time since their last purchase (``T - recency``, the RFM unit)."""
    threshold = customers["value_if_active"].quantile(1 - top_share)
    chosen = customers.loc[(customers["probability_alive"] < alive_below) & (customers["value_if_active"] >= threshold)]
    chosen = chosen.assign(since_last=chosen["T"] - chosen["recency"])
    return chosen.sort_values(["value_if_active", "customer_id"], ascending=[False, True]).reset_index(drop=True)


def holdout_split(data: pd.DataFrame, *, as_of: pd.Timestamp, freq: str, holdout_months: int):
    """The calibration RFM summary (purchases up to ``holdout_months`` before ``as_of``, its
    customers only), each of those customers' ``actual`` repeat purchases after it (counted
    at the grain of ``freq``, as the summary counts them), and the holdout length in the
    summary's time unit. Returns ``(calibration, holdout_length)``."""
    end = as_of - pd.DateOffset(months=holdout_months)
    before = data.loc[data["date"] <= end]
    calibration = rfm_summary(before, as_of=end, freq=freq)
    full = rfm_summary(data.loc[data["customer_id"].isin(calibration["customer_id"])], as_of=as_of, freq=freq)
    both = calibration.merge(full[["customer_id", "frequency", "T"]], on="customer_id", suffixes=("", "_full"))
    length = float((both["T_full"] - both["T"]).iloc[0]) if len(both) else 0.0
    calibration = both.assign(actual=both["frequency_full"] - both["frequency"]).drop(
        columns=["frequency_full", "T_full"]
    )
    return calibration, length


def holdout_check(calibration: pd.DataFrame, frequency_model: Mapping[str, float], *, length: float) -> pd.DataFrame:
    """Actual against predicted repeat purchases in the holdout, by repeat purchases in the
    calibration months (0, 1, …, :data:`HOLDOUT_TOP` and more pooled as ``HOLDOUT_TOP``):
    ``repeat_purchases, customers, actual, predicted`` (means per customer), and a last row
    ``repeat_purchases = -1`` for all customers together."""
    predicted = bgnbd.expected_purchases(calibration, frequency_model, t=length)
    rows = calibration.assign(
        predicted=predicted.to_numpy(), repeat_purchases=calibration["frequency"].clip(upper=HOLDOUT_TOP).astype(int)
    )
    grouped = rows.groupby("repeat_purchases").agg(
        customers=("customer_id", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    total = pd.DataFrame(
        {"customers": [len(rows)], "actual": [rows["actual"].mean()], "predicted": [rows["predicted"].mean()]},
        index=pd.Index([-1], name="repeat_purchases"),
    )
    return pd.concat([grouped, total]).reset_index()


def holdout_error(check: pd.DataFrame) -> dict[str, float]:
    """The holdout check in two numbers: ``total_error`` (predicted − actual purchases of all
    customers, as a share of actual) and ``group_error`` (mean absolute difference of the
    group means, weighted by customers, as a share of the mean actual purchases)."""
    total = check.loc[check["repeat_purchases"] == -1].iloc[0]
    groups = check.loc[check["repeat_purchases"] >= 0]
    gap = float(np.average((groups["predicted"] - groups["actual"]).abs(), weights=groups["customers"]))
    actual = float(total["actual"])
    return {
        "total_error": float((total["predicted"] - actual) / actual) if actual else float("nan"),
        "group_error": gap / actual if actual else float("nan"),
    }
