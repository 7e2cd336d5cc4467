"""Where to act in the funnel: the controllable bottleneck and its sized gain, what drove the
year-over-year change, and what one more point of conversion at each step is worth.

All three rest on one identity: effective customers = first-stage customers × the product of
the transition conversions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _whole_branch(transitions: pd.DataFrame, period: str) -> pd.DataFrame:
    return transitions[transitions["is_total"] & (transitions["period"] == period)].sort_values("step")


def bottlenecks(
    transitions: pd.DataFrame,
    *,
    period: str,
    controllability: dict[str, float],
    peer_median: pd.DataFrame | None,
    amount: float,
    top: int,
) -> pd.DataFrame:
    """Transitions of the whole branch in ``period`` ranked by customers lost × controllability.

    Losses and rates are over settled customers (open leads left out when the funnel comes
    from leads; see :func:`funnelkit.funnel.transition_table`), so customers still being
    worked on neither rank a transition higher nor inflate its gain.

    Each transition is sized twice: the extra last-stage customers if its conversion reached
    the median of the other branches, and if it reached this branch's best period. With every
    other conversion held, last-stage customers scale with the conversion, so the gain is
    ``last × (target / rate − 1)`` (0 when already at or above the target). ``gain_customers``
    is the larger of the two (``benchmark`` says which: ``peer_median`` or ``own_best``) — a
    level someone has reached; ``gain_revenue`` multiplies it by ``amount``, the average deal.

    Parameters
    ----------
    controllability : dict
        Weight per transition key (``"target>potential"``); a transition not listed weighs 1.
    peer_median : DataFrame or None
        ``transition, peer_median`` (:func:`funnelkit.funnel.compare.peer_medians`); None
        or empty without peers.
    amount : float
        The average deal in yuan (NaN: no revenue sizing).
    top : int
        How many of the ranked transitions are flagged ``top``.

    Returns
    -------
    DataFrame
        Sorted by ``score``: ``rank, top, transition, from_count, still_open,
        lost, loss_rate, loss_low, loss_high, rate, weight, score, peer_median, best_rate,
        best_period, gain_peer, gain_best, benchmark, gain_customers, gain_revenue, too_few``.
    """
    current = _whole_branch(transitions, period)
    last = current["to_count"].iloc[-1] if len(current) else np.nan
    history = transitions[transitions["is_total"]].dropna(subset=["rate"])
    history = history[history["rate"] <= 1]
    best = history.loc[history.groupby("transition")["rate"].idxmax(), ["transition", "rate", "period"]]
    best = best.rename(columns={"rate": "best_rate", "period": "best_period"})
    peers = (
        peer_median[["transition", "peer_median"]]
        if peer_median is not None and len(peer_median)
        else pd.DataFrame({"transition": current["transition"], "peer_median": np.nan})
    )
    table = current.merge(peers, on="transition", how="left").merge(best, on="transition", how="left")
    weight = table["transition"].map(controllability).fillna(1.0).astype(float)

    def gain(target: pd.Series) -> pd.Series:
        return (last * (target / table["rate"] - 1)).clip(lower=0).where(table["rate"] > 0)

    gain_peer, gain_best = gain(table["peer_median"]), gain(table["best_rate"])
    use_peer = gain_peer.fillna(-1) >= gain_best.fillna(-1)
    gain_customers = gain_peer.where(use_peer, gain_best)
    table = table.assign(
        weight=weight,
        score=table["lost"] * weight,
        gain_peer=gain_peer,
        gain_best=gain_best,
        gain_customers=gain_customers,
        gain_revenue=gain_customers * amount,
        benchmark=np.where(use_peer, "peer_median", "own_best"),
    )
    table = table.sort_values(["score", "lost"], ascending=False, kind="stable").reset_index(drop=True)
    table = table.assign(rank=np.arange(1, len(table) + 1), top=lambda d: d.index < top)
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
            "best_rate",
            "best_period",
            "gain_peer",
            "gain_best",
            "benchmark",
            "gain_customers",
            "gain_revenue",
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
