"""What a customer spends per purchase: the Gamma-Gamma model (Fader, Hardie & Lee 2005,
"RFM and CLV: using iso-value curves for customer base analysis", *Journal of Marketing
Research* 42(4); Fader & Hardie 2013, "The Gamma-Gamma model of monetary value").

A customer's purchase values are gamma with shape ``p`` and a scale ν of their own; ν is
gamma across customers with shape ``q`` and scale ``gamma``. Fitted by maximum likelihood
(``scipy.optimize.minimize``) on the customers with at least one repeat purchase, from their
number of repeat purchases x (``frequency``) and the mean value of those purchases
(``monetary_value``). The model assumes spend per purchase does not depend on how often a
customer buys.

Examples
--------
>>> import pandas as pd
>>> summary = pd.DataFrame({"frequency": [1.0, 10.0], "monetary_value": [60.0, 60.0]})
>>> expected_spend(summary, {"p": 6.25, "q": 3.74, "gamma": 15.44}).round(2).tolist()
[52.45, 58.96]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import optimize, special

PARAMETERS = ("p", "q", "gamma")


def log_likelihood(params: Mapping[str, float], x, mean_value) -> np.ndarray:
    """Log-likelihood of each repeat buyer's mean purchase value given their ``x`` purchases
    (Fader & Hardie 2013, equation 3)."""
    p, q, gamma = (params[k] for k in PARAMETERS)
    x, z = np.asarray(x, dtype=float), np.asarray(mean_value, dtype=float)
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(z)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + x * z)
    )


def _gradient(params: Mapping[str, float], x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Derivatives of each repeat buyer's log-likelihood by ``p, q, gamma`` (rows: customers)."""
    p, q, gamma = (params[k] for k in PARAMETERS)
    psi = special.digamma
    spent = np.log(gamma + x * z)
    return np.column_stack(
        [
            x * (psi(p * x + q) - psi(p * x) + np.log(z) + np.log(x) - spent),
            psi(p * x + q) - psi(q) + np.log(gamma) - spent,
            q / gamma - (p * x + q) / (gamma + x * z),
        ]
    )


def repeaters(summary: pd.DataFrame) -> pd.DataFrame:
    """The customers the model is fitted on: a repeat purchase, and a mean value above 0."""
    return summary.loc[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]


def fit(summary: pd.DataFrame) -> dict[str, float]:
    """Maximum-likelihood ``p, q, gamma`` from the repeat buyers of ``summary`` (columns
    ``frequency``, ``monetary_value``), plus ``log_likelihood``, ``converged`` and
    ``customers`` (how many repeat buyers). Values are rescaled for the optimiser and
    ``gamma`` scaled back, so the fit does not depend on the currency unit."""
    buyers = repeaters(summary)
    x, z = buyers["frequency"].to_numpy(dtype=float), buyers["monetary_value"].to_numpy(dtype=float)
    scale = float(np.mean(z))

    z_scaled = z / scale

    negative = _pooled_objective(x, z_scaled)

    found = optimize.minimize(negative, np.zeros(3), jac=True, method="L-BFGS-B", bounds=[(-12, 12)] * 3)
    if not found.success:
        found = optimize.minimize(
            lambda v: negative(v)[0], found.x, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-8}
        )
    p, q, gamma = np.exp(found.x)
    return {
        "p": float(p),
        "q": float(q),
        "gamma": float(gamma * scale),
        # each mean value's density is 1/scale of the rescaled one
        "log_likelihood": -float(found.fun) - len(z) * float(np.log(scale)),
        "converged": bool(found.success) and not bool(np.any(np.abs(found.x) > 11.9)),
        "customers": int(len(z)),
    }


def _pooled_objective(x: np.ndarray, z: np.ndarray):
    """The negative log-likelihood of ``fit`` and its gradient by the log of each parameter,
    as ``log_likelihood`` and ``_gradient`` compute them term by term, to the last bit; the
    terms of ``x`` alone are evaluated once per distinct purchase count and those without a
    parameter once for all."""
    psi = special.digamma
    xs, xi = np.unique(x, return_inverse=True)
    log_x, log_z, xz = np.log(x), np.log(z), x * z

    def negative(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        values = np.exp(log_params)
        p, q, gamma = values
        px = p * x
        spent = np.log(gamma + xz)
        value = -float(
            np.sum(
                (special.gammaln(p * xs + q) - special.gammaln(p * xs))[xi]
                - special.gammaln(q)
                + q * np.log(gamma)
                + (px - 1) * log_z
                + (p * xs * np.log(xs))[xi]
                - (px + q) * spent
            )
        )
        if not np.isfinite(value):
            return 1e300, np.zeros(3)
        psi_pxq = psi(p * xs + q)
        gradient = np.column_stack(
            [
                x * ((psi_pxq - psi(p * xs))[xi] + log_z + log_x - spent),
                psi_pxq[xi] - psi(q) + np.log(gamma) - spent,
                q / gamma - (px + q) / (gamma + xz),
            ]
        )
        # by the chain rule, d/d(log θ) = θ · d/dθ
        return value, -gradient.sum(axis=0) * values

    return negative


def expected_spend(summary: pd.DataFrame, params: Mapping[str, float]) -> pd.Series:
    """Expected value of each customer's future purchases (Fader & Hardie 2013, equation 5):
    their own mean weighted by their repeat purchases against the population mean
    ``p * gamma / (q - 1)``, which a customer without a repeat purchase gets. Needs ``q > 1``."""
    p, q, gamma = (params[k] for k in PARAMETERS)
    x = summary["frequency"].to_numpy(dtype=float)
    z = np.where(x > 0, summary["monetary_value"].to_numpy(dtype=float), 0.0)
    return pd.Series(p * (gamma + x * z) / (p * x + q - 1), index=summary.index, name="expected_spend")


def population_mean(params: Mapping[str, float]) -> float:
    """Mean purchase value across customers, ``p * gamma / (q - 1)`` (``q > 1``)."""
    return params["p"] * params["gamma"] / (params["q"] - 1)
