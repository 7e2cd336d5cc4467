"""Statistics shared by the analyses: intervals and tests on proportions, the exact log split of a change.

Thin wrappers over statsmodels so every module reports rates the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint
from statsmodels.stats.proportion import test_proportions_2indep as score_test_2indep

#: Groups with fewer trials than this are flagged "too few to judge" rather than interpreted.
MIN_GROUP = 30

#: z of the two-sided 95% and 99.8% limits (funnel-plot control limits).
Z95, Z998 = 1.959964, 3.090232


def wilson_interval(successes, trials, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``successes / trials``, elementwise.

    Rows with zero trials get NaN bounds.

    Examples
    --------
    >>> lo, hi = wilson_interval(np.array([43]), np.array([100]))
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.3373, 0.5278)
    """
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    safe = np.where(trials > 0, trials, 1.0)
    lo, hi = proportion_confint(successes, safe, alpha=alpha, method="wilson")
    empty = trials <= 0
    return np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)


def with_wilson(
    data: pd.DataFrame, *, successes: str, trials: str, prefix: str = "rate", alpha: float = 0.05
) -> pd.DataFrame:
    """Add ``<prefix>``, ``<prefix>_low``, ``<prefix>_high`` and ``too_few`` columns."""
    lo, hi = wilson_interval(data[successes], data[trials], alpha=alpha)
    n = data[trials].astype(float)
    return data.assign(
        **{
            prefix: np.where(n > 0, data[successes] / n.where(n > 0), np.nan),
            f"{prefix}_low": lo,
            f"{prefix}_high": hi,
            "too_few": n < MIN_GROUP,
        }
    )


def two_proportion_test(x1, n1, x2, n2, *, alpha: float = 0.05) -> dict[str, float]:
    """Compare ``x2/n2`` with ``x1/n1`` (a change from period 1 to period 2).

    Returns the difference ``p2 - p1``, its Newcombe (score) interval and the two-sided
    p-value of the score test. NaN everywhere when either group is empty.
    """
    if n1 <= 0 or n2 <= 0:
        return {"diff": np.nan, "diff_low": np.nan, "diff_high": np.nan, "z": np.nan, "p_value": np.nan}
    res = score_test_2indep(x2, n2, x1, n1, method="score", compare="diff")
    lo, hi = confint_proportions_2indep(x2, n2, x1, n1, method="newcomb", compare="diff", alpha=alpha)
    return {
        "diff": x2 / n2 - x1 / n1,
        "diff_low": float(lo),
        "diff_high": float(hi),
        "z": float(res.statistic),
        "p_value": float(res.pvalue),
    }


def adjust_pvalues(p_values, *, method: str = "holm") -> np.ndarray:
    """Multiple-comparison adjusted p-values (``holm`` or ``fdr_bh``); NaN stays NaN.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, np.nan, 0.03]).round(2).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    if method not in {"holm", "fdr_bh"}:
        raise ValueError(f"method must be 'holm' or 'fdr_bh', not {method!r}")
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = _holm(p[ok]) if method == "holm" else multipletests(p[ok], method=method)[1]
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment, as statsmodels' ``multipletests(method="holm")`` computes
    it; done here because that function runs a full ``gc.collect()`` on every Holm call,
    0.2–0.5 s inside a report kernel, several times per report."""
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    out = np.empty_like(p)
    out[order] = np.minimum(stepped, 1.0)
    return out


def control_limits(p0: float, n, *, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Funnel-plot control limits around a target rate ``p0`` for volumes ``n`` (normal approx.)."""
    n = np.asarray(n, dtype=float)
    se = np.sqrt(p0 * (1 - p0) / np.where(n > 0, n, np.nan))
    return np.clip(p0 - z * se, 0, 1), np.clip(p0 + z * se, 0, 1)


def log_mean_split(before, after, *, signs=None) -> np.ndarray:
    """Split the change of a product of factors exactly into one part per factor (LMDI).

    With ``y = Π xᵢ^sᵢ`` (``sᵢ`` = +1 for a multiplier, −1 for a divisor), ``ln y₂ − ln y₁ =
    Σ sᵢ (ln xᵢ₂ − ln xᵢ₁)``; each term times the logarithmic mean ``L = (y₂ − y₁) / (ln y₂ −
    ln y₁)`` (``y₁`` when they are equal) is factor i's part, and the parts sum to ``y₂ − y₁``
    exactly. Every factor must be positive in both periods (the log is undefined otherwise).

    Examples
    --------
    >>> log_mean_split([10, 2], [20, 2]).round(6).tolist()  # 20 → 40: all of it the first factor
    [20.0, 0.0]
    """
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    signs = np.ones(len(before)) if signs is None else np.asarray(signs, dtype=float)
    y1, y2 = np.prod(before**signs), np.prod(after**signs)
    mean = y1 if np.isclose(y1, y2, rtol=1e-12, atol=0) else (y2 - y1) / (np.log(y2) - np.log(y1))
    return mean * signs * (np.log(after) - np.log(before))
