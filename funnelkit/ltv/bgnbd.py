"""Purchase frequency and drop-out of non-contractual customers: the BG/NBD model (Fader,
Hardie & Lee 2005, "Counting your customers the easy way", *Marketing Science* 24(2)).

While alive, a customer buys at a Poisson rate λ (gamma across customers, shape ``r`` and
scale ``alpha``); after each purchase they drop out with probability p (beta across
customers, ``a`` and ``b``). Everything is read from the RFM summary
(:func:`funnelkit.ltv.rfm.rfm_summary`): ``frequency`` (x, repeat purchases), ``recency``
(t_x) and ``T``, all in one time unit; ``alpha`` is in that unit.

The parameters are fitted by maximum likelihood (``scipy.optimize.minimize`` on the log of
each parameter); the closed forms are those of the paper (equations 6, 10 and 11) with
``scipy.special`` ``gammaln``, ``betaln`` and ``hyp2f1``.

Examples
--------
>>> import pandas as pd
>>> summary = pd.DataFrame({"frequency": [2.0, 0.0], "recency": [30.43, 0.0], "T": [38.86, 38.86]})
>>> fit = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
>>> probability_alive(summary, fit).round(3).tolist()
[0.727, 1.0]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import optimize, special

PARAMETERS = ("r", "alpha", "a", "b")


def log_likelihood(params: Mapping[str, float], x, t_x, T) -> np.ndarray:
    """Log-likelihood of each customer's ``(x, t_x, T)`` (paper, equation 6)."""
    r, alpha, a, b = (params[k] for k in PARAMETERS)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    survived = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    # the customer dropped out right after the last purchase (only possible after a repeat)
    dropped = np.where(
        x > 0,
        special.betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return head + np.logaddexp(survived, dropped)


def _gradient(params: Mapping[str, float], x, t_x, T) -> np.ndarray:
    """Derivatives of each customer's log-likelihood by ``r, alpha, a, b`` (rows: customers)."""
    r, alpha, a, b = (params[k] for k in PARAMETERS)
    psi = special.digamma
    survived = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
    safe_b = np.maximum(b + x - 1, 1e-12)
    dropped = np.where(
        x > 0, special.betaln(a + 1, safe_b) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x), -np.inf
    )
    w = np.exp(survived - np.logaddexp(survived, dropped))  # weight of the "still alive" branch
    v = 1 - w
    base_a, base_b = psi(a) - psi(a + b), psi(b) - psi(a + b)
    return np.column_stack(
        [
            psi(r + x) - psi(r) + np.log(alpha) - w * np.log(alpha + T) - v * np.log(alpha + t_x),
            r / alpha - w * (r + x) / (alpha + T) - v * (r + x) / (alpha + t_x),
            w * (psi(a) - psi(a + b + x) - base_a) + v * (psi(a + 1) - psi(a + b + x) - base_a),
            w * (psi(b + x) - psi(a + b + x) - base_b) + v * (psi(safe_b) - psi(a + b + x) - base_b),
        ]
    )


def fit(summary: pd.DataFrame) -> dict[str, float]:
    """Maximum-likelihood ``r, alpha, a, b`` for the customers of ``summary`` (columns
    ``frequency``, ``recency``, ``T``), plus ``log_likelihood`` and ``converged``.

    Identical ``(x, t_x, T)`` rows are pooled with a weight; times are rescaled for the
    optimiser and ``alpha`` scaled back, so the fit does not depend on the time unit.
    """
    grouped = summary.groupby(["frequency", "recency", "T"]).size().reset_index(name="weight")
    x, t_x, T, weight = (grouped[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "weight"))
    scale = float(T.max()) / 10 if T.max() > 0 else 1.0
    t_x, T = t_x / scale, T / scale

    negative = _pooled_objective(x, t_x, T, weight)

    found = optimize.minimize(negative, np.zeros(4), jac=True, method="L-BFGS-B", bounds=[(-12, 12)] * 4)
    if not found.success:  # a flat or ragged surface: Nelder–Mead from where L-BFGS stopped
        found = optimize.minimize(
            lambda v: negative(v)[0], found.x, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-8}
        )
    values = dict(zip(PARAMETERS, np.exp(found.x)))
    values["alpha"] *= scale
    at_bound = bool(np.any(np.abs(found.x) > 11.9))
    return {
        **{k: float(v) for k, v in values.items()},
        # in the data's own time unit each purchase's density is 1/scale of the rescaled one
        "log_likelihood": -float(found.fun) - float(np.sum(weight * x)) * np.log(scale),
        "converged": bool(found.success) and not at_bound,
    }


def _pooled_objective(x, t_x, T, weight):
    """The negative weighted log-likelihood of ``fit`` and its gradient by the log of each
    parameter, as ``log_likelihood`` and ``_gradient`` compute them term by term, to the last
    bit; the transcendental terms are evaluated once per distinct ``x``, ``t_x`` or ``T``
    (a few dozen purchase counts and a few thousand times, against up to millions of rows)."""
    psi = special.digamma
    xs, xi = np.unique(x, return_inverse=True)
    ts, ti = np.unique(t_x, return_inverse=True)
    Ts, Ti = np.unique(T, return_inverse=True)
    repeated = x > 0

    def negative(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        values = np.exp(log_params)
        r, alpha, a, b = values
        rx = r + x
        log_T, log_t = np.log(alpha + Ts)[Ti], np.log(alpha + ts)[ti]
        beta_ab = special.betaln(a, b)
        survived = (special.betaln(a, b + xs) - beta_ab)[xi] - rx * log_T
        safe_b = np.maximum(b + xs - 1, 1e-12)
        dropped = np.where(repeated, (special.betaln(a + 1, safe_b) - beta_ab)[xi] - rx * log_t, -np.inf)
        both = np.logaddexp(survived, dropped)
        head = (special.gammaln(r + xs) - special.gammaln(r) + r * np.log(alpha))[xi]
        value = -float(np.sum(weight * (head + both)))
        if not np.isfinite(value):
            return 1e300, np.zeros(4)
        w = np.exp(survived - both)
        v = 1 - w
        base_a, base_b = psi(a) - psi(a + b), psi(b) - psi(a + b)
        psi_abx = psi(a + b + xs)
        gradient = np.column_stack(
            [
                (psi(r + xs) - psi(r) + np.log(alpha))[xi] - w * log_T - v * log_t,
                r / alpha - w * rx / (alpha + Ts)[Ti] - v * rx / (alpha + ts)[ti],
                w * (psi(a) - psi_abx - base_a)[xi] + v * (psi(a + 1) - psi_abx - base_a)[xi],
                w * (psi(b + xs) - psi_abx - base_b)[xi] + v * (psi(safe_b) - psi_abx - base_b)[xi],
            ]
        )
        # by the chain rule, d/d(log θ) = θ · d/dθ
        return value, -(weight @ gradient) * values

    return negative


def probability_alive(summary: pd.DataFrame, params: Mapping[str, float]) -> pd.Series:
    """P(still a customer at ``T``) of each customer (paper, equation 11): 1 for a customer
    without a repeat purchase."""
    r, alpha, a, b = (params[k] for k in PARAMETERS)
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    return pd.Series(1 / (1 + odds), index=summary.index, name="probability_alive")


def expected_purchases_if_alive(summary: pd.DataFrame, params: Mapping[str, float], *, t: float) -> pd.Series:
    """Expected purchases of each customer in the next ``t`` time units, were they known to be
    still a customer (equation 10 without its probability-alive factor; the Gaussian
    hypergeometric form holds for any ``a`` but 1)."""
    r, alpha, a, b = (params[k] for k in PARAMETERS)
    a = _away_from_one(a)
    x, T = summary["frequency"].to_numpy(dtype=float), summary["T"].to_numpy(dtype=float)
    z = t / (alpha + T + t)
    hyper = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    body = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyper)
    return pd.Series(body, index=summary.index, name="expected_if_alive")


def expected_purchases(summary: pd.DataFrame, params: Mapping[str, float], *, t: float) -> pd.Series:
    """Expected purchases of each customer in the next ``t`` time units (paper, equation 10):
    the probability of still being a customer times the purchases expected if so."""
    alive = probability_alive(summary, params).to_numpy()
    return (expected_purchases_if_alive(summary, params, t=t) * alive).rename("expected")


def unconditional_purchases(params: Mapping[str, float], *, t) -> np.ndarray:
    """Expected purchases of a new customer in their first ``t`` time units (paper, equation 9)."""
    r, alpha, a, b = (params[k] for k in PARAMETERS)
    a = _away_from_one(a)
    t = np.asarray(t, dtype=float)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def _away_from_one(a: float) -> float:
    """``a`` moved off 1 by a millionth at most: the closed forms divide by ``a - 1`` where
    their limit is finite, and the expectations change smoothly with ``a``."""
    return a if abs(a - 1) >= 1e-6 else 1 + float(np.copysign(1e-6, a - 1))
