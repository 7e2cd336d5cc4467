"""Statistics on funnel transitions: year-over-year tests and the branch against its peers.

Peers come from :func:`funnelkit.data.loading.peer_stage_counts` — stage counts of every branch,
never another branch's lead rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.stats import Z95, Z998, adjust_pvalues, control_limits, two_proportion_test

from .counts import TOTAL_SEGMENTS, stage_table, tidy_counts, transition_table


def yoy_tests(
    transitions: pd.DataFrame, *, current: str, previous: str | None, adjust: str, min_group: int
) -> pd.DataFrame:
    """Change of every transition's conversion from ``previous`` to ``current``, per segment.

    Each change gets a two-proportion score test and a Newcombe 95% interval for the
    difference; p-values are adjusted (``holm`` or ``fdr_bh``) within two families: the
    whole-branch transitions, and all segment × transition tests. Conversion is over settled
    customers (``n_*`` = ``settled``: open leads left out, see :func:`funnelkit.funnel.counts.transition_table`).
    Pairs where either period has fewer than ``min_group`` settled customers are not tested
    (``too_few``); nor are counts rising down the funnel or a missing count (``p_value`` NaN,
    ``too_few`` False).

    Returns
    -------
    DataFrame
        ``segment, is_total, transition, rate_previous, rate_current,
        n_previous, n_current, diff, diff_low, diff_high, p_value, p_adjusted, significant,
        too_few``.
    """
    keys = ["segment", "is_total", "transition"]
    columns = keys + [
        "rate_previous",
        "rate_current",
        "n_previous",
        "n_current",
        "diff",
        "diff_low",
        "diff_high",
        "p_value",
        "p_adjusted",
        "significant",
        "too_few",
    ]
    if previous is None:
        return pd.DataFrame(columns=columns)
    cur = transitions[transitions["period"] == current]
    pre = transitions[transitions["period"] == previous]
    both = cur.merge(pre, on=keys, how="inner", suffixes=("_current", "_previous"))
    rows = []
    for _, r in both.iterrows():
        n1, x1, n2, x2 = r["settled_previous"], r["to_count_previous"], r["settled_current"], r["to_count_current"]
        usable = all(pd.notna(v) for v in (n1, x1, n2, x2)) and x1 <= n1 and x2 <= n2
        too_few = usable and min(n1, n2) < min_group
        test = two_proportion_test(x1, n1, x2, n2) if usable and not too_few else {}
        rows.append(
            {
                **{k: r[k] for k in keys},
                "rate_previous": r["rate_previous"],
                "rate_current": r["rate_current"],
                "n_previous": n1,
                "n_current": n2,
                "diff": r["rate_current"] - r["rate_previous"],
                "diff_low": test.get("diff_low", np.nan),
                "diff_high": test.get("diff_high", np.nan),
                "p_value": test.get("p_value", np.nan),
                "too_few": bool(too_few),
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in columns if c not in ("p_adjusted", "significant")])
    # two families: the whole branch (the headline tests) and the segments (exploratory)
    p_adjusted = pd.Series(np.nan, index=out.index)
    for _, family in out.groupby("is_total"):
        p_adjusted[family.index] = adjust_pvalues(family["p_value"], method=adjust)
    return out.assign(p_adjusted=p_adjusted, significant=lambda d: d["p_adjusted"] < 0.05)[columns]


def branch_transitions(peers: pd.DataFrame, *, stages=None, min_group: int) -> pd.DataFrame:
    """Whole-branch transition table of every branch in ``peers`` (``branch`` column added)."""
    parts = []
    for branch, counts in peers.groupby("branch", sort=True):
        counts = tidy_counts(counts[~counts["segment"].isin(TOTAL_SEGMENTS)], stages=stages)
        rates = stage_table(counts, stages=stages, min_group=min_group)
        table = transition_table(rates, stages=stages, min_group=min_group)
        parts.append(table[table["is_total"]].assign(branch=branch))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


#: The "better branches" benchmark: this quantile of the other branches' rates (the top quartile's
#: threshold), steadier than the single best branch, which may rest on a small volume.
TOP_QUANTILE = 0.75


def peer_medians(peer_rates: pd.DataFrame, *, branch: str, period: str) -> pd.DataFrame:
    """Per transition, the conversion of the *other* branches in ``period``: their median
    (``peer_median``), the threshold of their top quartile (``peer_top``, linear
    interpolation, the best branch when there is one other) and how many there are."""
    others = peer_rates[(peer_rates["branch"] != branch) & (peer_rates["period"] == period)].dropna(subset=["rate"])
    return (
        others.groupby("transition")
        .agg(
            peer_median=("rate", "median"),
            peer_top=("rate", lambda r: r.quantile(TOP_QUANTILE)),
            peers=("branch", "nunique"),
        )
        .reset_index()
    )


def company_conversion(peers: pd.DataFrame, *, stages, period: str) -> float:
    """The company's pooled overall conversion in ``period``: last-stage customers over
    first-stage customers, summed over every branch in ``peers`` (the data's branches, not a
    run's), so a branch's benchmark does not move when another branch is run or not. NaN
    without first-stage customers."""
    rows = peers[(peers["period"].astype(str) == period) & ~peers["segment"].isin(TOTAL_SEGMENTS)]
    first = rows.loc[rows["stage"] == stages[0].key, "count"].sum()
    last = rows.loc[rows["stage"] == stages[-1].key, "count"].sum()
    return float(last / first) if first > 0 else np.nan


def funnel_plot_data(peer_rates: pd.DataFrame, *, branch: str, period: str, transition: str) -> pd.DataFrame:
    """One row per branch for the funnel plot of ``transition``: volume ``n``, ``rate``, the
    pooled rate ``p0`` of all branches and where the branch falls against the 95% and 99.8%
    control limits (``position``: ``above``/``below`` 99.8%, ``high``/``low`` outside 95%, ``within``).
    """
    rows = peer_rates[
        (peer_rates["period"] == period) & (peer_rates["transition"] == transition) & (peer_rates["from_count"] > 0)
    ]
    data = pd.DataFrame(
        {
            "branch": rows["branch"],
            "n": rows["from_count"],
            "converted": rows["to_count"],
            "rate": rows["rate"],
            "is_self": rows["branch"] == branch,
        }
    ).reset_index(drop=True)
    p0 = data["converted"].sum() / data["n"].sum() if len(data) else np.nan
    lo95, hi95 = control_limits(p0, data["n"], z=Z95)
    lo998, hi998 = control_limits(p0, data["n"], z=Z998)
    position = np.select(
        [data["rate"] > hi998, data["rate"] < lo998, data["rate"] > hi95, data["rate"] < lo95],
        ["above", "below", "high", "low"],
        "within",
    )
    return data.assign(p0=p0, low95=lo95, high95=hi95, low998=lo998, high998=hi998, position=position)
