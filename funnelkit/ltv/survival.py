"""Cohort retention as contractual customer bases show it: the shifted-beta-geometric (sBG)
model of Fader & Hardie (2007), "How to project customer retention", *Journal of
Interactive Marketing* 21(1).

Each customer renews every period with a probability 1 − θ of their own; θ is beta across
customers (``alpha``, ``beta``). Survival to period t is ``B(alpha, beta + t) / B(alpha,
beta)`` and the retention rate from period t − 1 to t is ``(beta + t − 1) / (alpha + beta +
t − 1)``: it rises with tenure because the customers likeliest to leave leave first.

Fitted by maximum likelihood to survivor counts of one or more cohorts observed for
different numbers of periods (the paper's appendix): each customer lost in period t adds
``ln P(T = t)``, each still there at a cohort's last observed period ``ln S(t)``.

Examples
--------
>>> survivors = survivor_counts([1000, 631, 468, 382, 326, 289, 262, 241])
>>> fitted = fit(survivors)
>>> round(fitted["alpha"], 3), round(fitted["beta"], 3)
(0.704, 1.182)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from .cohorts import PERIODS, last_complete_ordinal


def survivor_counts(counts: Sequence[float], *, cohort: str = "cohort") -> pd.DataFrame:
    """A tidy survivor table (``cohort, period, survivors``) from one cohort's counts, period 0 first."""
    return pd.DataFrame({"cohort": cohort, "period": np.arange(len(counts)), "survivors": np.asarray(counts, float)})


def survival(params: Mapping[str, float], periods) -> np.ndarray:
    """Share of a cohort still there after each of ``periods`` (0 → 1)."""
    alpha, beta = params["alpha"], params["beta"]
    t = np.asarray(periods, dtype=float)
    return np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))


def retention_rates(params: Mapping[str, float], periods) -> np.ndarray:
    """Retention rate from period t − 1 to t for each t of ``periods`` (t ≥ 1)."""
    alpha, beta = params["alpha"], params["beta"]
    t = np.asarray(periods, dtype=float)
    return (beta + t - 1) / (alpha + beta + t - 1)


def _counts(survivors: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Customers lost in each period t ≥ 1 (with t), and those still there at each cohort's
    last observed period (with that period): what the likelihood counts."""
    ordered = survivors.sort_values(["cohort", "period"])
    n, t = ordered["survivors"].to_numpy(dtype=float), ordered["period"].to_numpy(dtype=float)
    cohorts = ordered["cohort"].to_numpy()
    same = cohorts[1:] == cohorts[:-1]
    last = np.r_[~same, True]
    return n[:-1][same] - n[1:][same], t[1:][same], n[last], t[last]


def _log_likelihood(params: Mapping[str, float], lost, lost_at, kept, kept_at) -> float:
    alpha, beta = params["alpha"], params["beta"]
    churn = special.betaln(alpha + 1, beta + lost_at - 1) - special.betaln(alpha, beta)
    return float(np.sum(lost * churn) + np.sum(kept * np.log(survival(params, kept_at))))


def log_likelihood(params: Mapping[str, float], survivors: pd.DataFrame) -> float:
    """Log-likelihood of the survivor counts (``cohort, period, survivors``; each cohort's
    period 0 is its size)."""
    return _log_likelihood(params, *_counts(survivors))


def fit(survivors: pd.DataFrame) -> dict[str, float]:
    """Maximum-likelihood ``alpha, beta`` (with ``log_likelihood`` and ``converged``) from the
    survivor counts of :func:`survivor_counts` or :func:`cohort_survivors`; at least one cohort
    must be observed beyond period 0 with counts that never rise."""
    counts = _counts(survivors)

    def negative(log_params: np.ndarray) -> float:
        value = -_log_likelihood(dict(alpha=np.exp(log_params[0]), beta=np.exp(log_params[1])), *counts)
        return value if np.isfinite(value) else 1e300

    found = optimize.minimize(negative, np.zeros(2), method="L-BFGS-B", bounds=[(-10, 10)] * 2)
    if not found.success:
        found = optimize.minimize(negative, found.x, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10})
    alpha, beta = np.exp(found.x)
    return {
        "alpha": float(alpha),
        "beta": float(beta),
        "log_likelihood": -float(found.fun),
        # alpha and beta both at their bound is the limit of customers alike (a constant
        # retention rate beta / (alpha + beta)): still the curve that fits best
        "converged": bool(found.success),
    }


def discounted_residual_lifetime(params: Mapping[str, float], *, renewals: int, discount_rate: float) -> float:
    """Discounted expected residual lifetime (DERL, in periods) of a customer who has made
    ``renewals`` renewals, i.e. has been there for ``renewals + 1`` periods (Fader & Hardie
    2010, "Customer-base valuation in a contractual setting", *Marketing Science* 29(1)):
    the discounted number of further periods they will pay for, the next one undiscounted —
    ``sum over t >= n of S(t) / S(n - 1) / (1 + discount_rate) ** (t - n)`` with
    ``n = renewals + 1``. Finite even where the undiscounted expected lifetime is not
    (``alpha`` ≤ 1)."""
    alpha, beta, n = params["alpha"], params["beta"], float(renewals) + 1
    d = 1 / (1 + discount_rate)
    return float((beta + n - 1) / (alpha + beta + n - 1) * special.hyp2f1(1, beta + n, alpha + beta + n, d))


def cohort_survivors(data: pd.DataFrame, *, period: str, as_of) -> pd.DataFrame:
    """Survivor counts of every acquisition cohort from a branch's purchases.

    A customer counts as still there in period k after acquisition if they bought in period k
    or later (a quiet period is not a departure, so the counts never rise; in the last
    observed periods a quiet customer and a lost one look alike). Only complete periods are
    observed (:func:`funnelkit.ltv.cohorts.last_complete_ordinal`); ``period`` is ``year``,
    ``quarter`` or ``month``. Returns ``cohort, period, survivors`` (period 0: the cohort's
    size).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "date": pd.to_datetime(["2004-03-01", "2004-05-01", "2006-02-01"])})
    >>> cohort_survivors(tx, period="year", as_of="2006-12-31")["survivors"].tolist()
    [2.0, 1.0, 1.0]
    """
    freq = PERIODS[period][0]
    end = pd.Timestamp(as_of).normalize()
    tx = data.loc[data["date"] < end + pd.Timedelta(days=1)]
    when = pd.Series(pd.PeriodIndex(tx["date"], freq=freq).asi8, index=tx.index)
    spans = when.groupby(tx["customer_id"]).agg(["min", "max"])
    last_observed = last_complete_ordinal(end, freq)
    spans = spans.loc[spans["min"] <= last_observed]
    rows = []
    for first, members in spans.groupby("min"):
        lasts = (members["max"] - first).to_numpy()
        periods = np.arange(int(last_observed - first) + 1)
        rows.append(
            pd.DataFrame(
                {
                    "cohort": str(pd.Period(ordinal=int(first), freq=freq)),
                    "period": periods,
                    "survivors": [float(np.sum(lasts >= k)) for k in periods],
                }
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["cohort", "period", "survivors"])


def pooled_survival(survivors: pd.DataFrame) -> pd.DataFrame:
    """Share of customers still there in each period, over the cohorts observed that long
    (customer-weighted): ``period, cohorts, customers, survival``."""
    sizes = survivors.loc[survivors["period"] == 0].set_index("cohort")["survivors"]
    cells = survivors.assign(size=survivors["cohort"].map(sizes))
    out = cells.groupby("period").agg(
        cohorts=("cohort", "nunique"), customers=("size", "sum"), survivors=("survivors", "sum")
    )
    return out.assign(survival=out["survivors"] / out["customers"]).reset_index()[
        ["period", "cohorts", "customers", "survival"]
    ]


def yearly_retention(params: Mapping[str, float], *, periods_per_year: int, years: int) -> list[float]:
    """Year-on-year retention rates for years 1…``years`` from a curve fitted in periods of
    1/``periods_per_year`` year: ``S(p·n) / S(p·(n − 1))``."""
    edges = survival(params, np.arange(years + 1) * periods_per_year)
    return (edges[1:] / edges[:-1]).tolist()
