"""Where to act in the funnel: the step whose fixing is worth most, what drove the
year-over-year change, and what one more point of conversion at each step is worth.

All three rest on one identity: effective customers = first-stage customers × the product of
the transition conversions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _whole_branch(transitions: pd.DataFrame, period: str) -> pd.DataFrame:
    return transitions[transitions["is_total"] & (transitions["period"] == period)].sort_values("step")


#: The benchmarks a step is sized against, in the order a tie between their gains is settled
#: (the most modest level first: a tie then names the level most branches reach).
BENCHMARKS = ("peer_median", "peer_top", "own_best")


def bottlenecks(
    transitions: pd.DataFrame,
    *,
    period: str,
    controllability: dict[str, float],
    peer_median: pd.DataFrame | None,
    amount: float,
    top: int,
) -> pd.DataFrame:
    """Transitions of the whole branch in ``period``, each sized against three benchmarks and
    ranked by what fixing it is worth.

    A transition's gain is the extra last-stage customers if its conversion reached a
    benchmark: the other branches' median (``gain_peer``), their top quartile (``gain_top``)
    and this branch's best period (``gain_best``). With every other conversion held,
    last-stage customers scale with the conversion, so a gain is ``last × (target / rate −
    1)``, 0 when the step is already at or above the target. ``gain_customers`` is the
    largest of the three (``benchmark`` names it), ``gain_revenue`` that times ``amount``, the
    average deal. The ranking is by ``priority_gain`` = controllability weight ×
    ``gain_customers`` (the *controllable* gain), then by ``score`` = customers lost × weight;
    a transition with no gain comes after every one with a gain, and none is flagged ``top``.

    Losses and rates are over settled customers (open leads left out when the funnel comes
    from leads; see :func:`funnelkit.funnel.transition_table`), so customers still being
    worked on neither rank a transition higher nor inflate its gain.

    Parameters
    ----------
    controllability : dict
        Weight per transition key (``"target>potential"``); a transition not listed weighs 1.
    peer_median : DataFrame or None
        ``transition, peer_median, peer_top`` (:func:`funnelkit.funnel.compare.peer_medians`);
        None or empty without peers.
    amount : float
        The average deal in yuan (NaN: no revenue sizing).
    top : int
        How many of the ranked transitions with a gain are flagged ``top``.

    Returns
    -------
    DataFrame
        Sorted by ``rank``: ``rank, top, transition, from_count, still_open, lost, loss_rate,
        loss_low, loss_high, rate, weight, score, peer_median, peer_top, best_rate,
        best_period, gain_peer, gain_top, gain_best, benchmark, gain_customers, gain_revenue,
        priority_gain, too_few``.
    """
    current = _whole_branch(transitions, period)
    last = current["to_count"].iloc[-1] if len(current) else np.nan
    history = transitions[transitions["is_total"]].dropna(subset=["rate"])
    history = history[history["rate"] <= 1]
    best = history.loc[history.groupby("transition")["rate"].idxmax(), ["transition", "rate", "period"]]
    best = best.rename(columns={"rate": "best_rate", "period": "best_period"})
    peers = pd.DataFrame({"transition": current["transition"], "peer_median": np.nan, "peer_top": np.nan})
    if peer_median is not None and len(peer_median):
        peers = peer_median.reindex(columns=["transition", "peer_median", "peer_top"])
    table = current.merge(peers, on="transition", how="left").merge(best, on="transition", how="left")
    weight = table["transition"].map(controllability).fillna(1.0).astype(float)

    def gain(target: pd.Series) -> pd.Series:
        return (last * (target.astype(float) / table["rate"] - 1)).clip(lower=0).where(table["rate"] > 0)

    gains = pd.DataFrame(
        {
            "peer_median": gain(table["peer_median"]),
            "peer_top": gain(table["peer_top"]),
            "own_best": gain(table["best_rate"]),
        }
    )
    gain_customers = gains.max(axis=1)  # NaN only when no benchmark sizes the step
    benchmark = gains.fillna(-1).idxmax(axis=1).where(gain_customers.notna())
    table = table.assign(
        weight=weight,
        score=table["lost"] * weight,
        gain_peer=gains["peer_median"],
        gain_top=gains["peer_top"],
        gain_best=gains["own_best"],
        gain_customers=gain_customers,
        gain_revenue=gain_customers * amount,
        benchmark=benchmark,
        priority_gain=(gain_customers * weight).fillna(0.0),
    )
    table = table.sort_values(["priority_gain", "score", "lost"], ascending=False, kind="stable").reset_index(drop=True)
    table = table.assign(rank=np.arange(1, len(table) + 1), top=lambda d: (d.index < top) & (d["priority_gain"] > 0))
    return table[
        [
            "rank",
            "top",
            "transition",
            "from_count",
            "still_open",
            "lost",
            "loss_rate",
            "loss_low",
            "loss_high",
            "rate",
            "weight",
            "score",
            "peer_median",
            "peer_top",
            "best_rate",
            "best_period",
            "gain_peer",
            "gain_top",
            "gain_best",
            "benchmark",
            "gain_customers",
            "gain_revenue",
            "priority_gain",
            "too_few",
        ]
    ]


def decompose_change(transitions: pd.DataFrame, *, current: str, previous: str | None) -> pd.DataFrame:
    """Split the change in last-stage customers from ``previous`` to ``current``, per segment,
    into first-stage volume and each transition's conversion.

    ``ln(last) = ln(first) + Σ ln(conversion)``, so the log change splits exactly; each part
    is turned into customers with the logarithmic mean ``L = (last₂ − last₁) / (ln last₂ −
    ln last₁)`` (LMDI), so the parts add up exactly to ``last₂ − last₁``. The conversions here
    are ``to_count / from_count`` (open leads included), the ones the identity holds for.
    Segments with a zero count in either period are left out (the log is undefined);
    ``too_few`` marks a segment where a transition of either period has too few customers.

    Returns
    -------
    DataFrame
        ``segment, is_total, component, log_change, customers, last_previous,
        last_current, too_few`` — ``component`` is ``volume`` or a transition key.
    """
    columns = [
        "segment",
        "is_total",
        "component",
        "log_change",
        "customers",
        "last_previous",
        "last_current",
        "too_few",
    ]
    if previous is None:
        return pd.DataFrame(columns=columns)
    parts = []
    for (segment, is_total), rows in transitions[transitions["period"].isin([current, previous])].groupby(
        ["segment", "is_total"], sort=False
    ):
        cur = rows[rows["period"] == current].sort_values("step")
        pre = rows[rows["period"] == previous].sort_values("step")
        if len(cur) != len(pre) or not len(cur):
            continue
        values = [(pre["from_count"].iloc[0], cur["from_count"].iloc[0])] + list(
            zip(pre["to_count"] / pre["from_count"], cur["to_count"] / cur["from_count"])
        )
        values = np.array(values, dtype=float)
        last1, last2 = pre["to_count"].iloc[-1], cur["to_count"].iloc[-1]
        if not (np.all(values > 0) and last1 > 0 and last2 > 0):
            continue
        log_change = np.log(values[:, 1]) - np.log(values[:, 0])
        mean = last1 if last1 == last2 else (last2 - last1) / (np.log(last2) - np.log(last1))
        keys = ["volume", *cur["transition"]]
        parts.append(
            pd.DataFrame(
                {
                    "segment": segment,
                    "is_total": is_total,
                    "component": keys,
                    "log_change": log_change,
                    "customers": mean * log_change,
                    "last_previous": last1,
                    "last_current": last2,
                    "too_few": bool(rows["too_few"].any()),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def elasticities(transitions: pd.DataFrame, *, period: str, amount: float) -> pd.DataFrame:
    """What one percentage point more conversion at each transition is worth in ``period``.

    With the others held, ``last = first × Π rate``, so ``∂last/∂rate = last / rate`` and one
    point (0.01) adds ``0.01 × last / rate`` last-stage customers — most where the rate is lowest.

    Returns
    -------
    DataFrame
        ``transition, rate, last_count, customers_per_point, revenue_per_point``.
    """
    current = _whole_branch(transitions, period)
    last = current["to_count"].iloc[-1] if len(current) else np.nan
    per_point = (0.01 * last / current["rate"]).where(current["rate"] > 0)
    return pd.DataFrame(
        {
            "transition": current["transition"],
            "rate": current["rate"],
            "last_count": last,
            "customers_per_point": per_point,
            "revenue_per_point": per_point * amount,
        }
    ).reset_index(drop=True)
