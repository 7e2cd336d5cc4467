"""Quasi-lost (准战败) and truly lost (战败) deals, the second follow-up, and the target.

Quasi-lost deals (abandoned purchase, long unclosed, misjudged) have not bought elsewhere
yet: a second follow-up can win them back. Truly lost deals bought a competitor or lost
contact. Every function takes the deals of :func:`funnelkit.lost.deals.deals` and returns
codes (``quasi_lost``, ``abandoned``, ``followed_up``), never words of a language.

Examples
--------
>>> from funnelkit.demo import load_demo
>>> from funnelkit.lost.deals import deals
>>> deal_leads = deals(load_demo("leads", branch="温州分公司"), deal_from_stage="contacted")
>>> effect = recovery_effect(deal_leads, target=0.65)
>>> bool((effect["lost_rate_if_recovered"] <= effect["lost_rate"]).all())
True
"""

from __future__ import annotations

import math

import pandas as pd

from funnelkit.data.schema import QUASI_LOST_KINDS, TRULY_LOST_KINDS

from .deals import MISSING, flag, rate_table
from .reasons import lost_only

FUNNEL_STEPS = ("quasi_lost", "followed_up", "reengaged", "recovered")


def _quasi(deal_leads: pd.DataFrame) -> pd.DataFrame:
    return deal_leads[deal_leads["lost_group"].eq("quasi_lost").fillna(False)]


def lost_split(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """Lost deals by group (``quasi_lost``, ``truly_lost``, ``unknown``) and kind (``unknown``
    when not recorded): ``lost``, ``share`` of all lost deals and ``group_share`` (the whole
    group's share, repeated on its rows)."""
    lost = lost_only(deal_leads)
    kinds = lost["lost_kind"].astype("string").fillna("unknown")
    order = [*QUASI_LOST_KINDS, *TRULY_LOST_KINDS, "unknown"]
    counts = (
        pd.DataFrame({"lost_group": lost["lost_group"].astype(str), "lost_kind": kinds})
        .value_counts()
        .rename("lost")
        .reset_index()
    )
    counts = counts.assign(order=counts["lost_kind"].map(order.index)).sort_values("order", ignore_index=True)
    total = counts["lost"].sum()
    return counts.drop(columns="order").assign(
        share=counts["lost"] / total, group_share=counts.groupby("lost_group")["lost"].transform("sum") / total
    )


def recovery_funnel(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """Quasi-lost deals → followed up a second time → re-engaged → won back: ``step`` (a code
    of :data:`FUNNEL_STEPS`), ``count``, ``share`` of the quasi-lost and ``step_rate`` (of the
    step before)."""
    quasi = _quasi(deal_leads)
    followed = flag(quasi, "followed_up")
    reengaged = followed & flag(quasi, "reengaged")
    recovered = reengaged & flag(quasi, "recovered")
    counts = pd.Series(
        [len(quasi), int(followed.sum()), int(reengaged.sum()), int(recovered.sum())],
        index=list(FUNNEL_STEPS),
        dtype=float,
    )
    return pd.DataFrame(
        {
            "step": list(FUNNEL_STEPS),
            "count": counts.astype(int).to_numpy(),
            "share": (counts / counts.iloc[0] if counts.iloc[0] else counts * float("nan")).to_numpy(),
            "step_rate": (counts / counts.shift(1).where(lambda s: s > 0)).to_numpy(),
        }
    )


def recovered_count(deal_leads: pd.DataFrame) -> int:
    """Quasi-lost deals won back after a second follow-up."""
    return int(recovery_funnel(deal_leads)["count"].iloc[-1])


def more_needed(*, lost: int, recovered: int, closed: int, target: float) -> int:
    """How many more lost deals must be won back for ``(lost - recovered - k) / closed <= target``:
    the smallest such k, 0 when the target is met."""
    excess = round(lost - recovered - target * closed, 9)  # 9 decimals: no float noise in ceil
    return max(0, math.ceil(excess))


def recovery_effect(deal_leads: pd.DataFrame, *, target: float) -> pd.DataFrame:
    """One row: the lost rate, the lost rate if recovered deals count as won
    (``(lost - recovered) / closed``), the target, how many more quasi-lost deals must be won
    back to reach it (``more_needed``) and how many are still open to follow up (``pool``)."""
    rates = rate_table(deal_leads)
    closed, lost = int(rates["closed"].iloc[0]), int(rates["lost"].iloc[0])
    recovered = recovered_count(deal_leads)
    pool = len(_quasi(deal_leads)) - recovered
    needed = more_needed(lost=lost, recovered=recovered, closed=closed, target=target)
    return pd.DataFrame(
        {
            "closed": [closed],
            "lost": [lost],
            "lost_rate": rates["lost_rate"].to_numpy(),
            "recovered": [recovered],
            "lost_rate_if_recovered": [(lost - recovered) / closed if closed else float("nan")],
            "target": [target],
            "more_needed": [needed],
            "pool": [pool],
            "reachable": [needed <= pool],
        }
    )


def recovery_holders(deal_leads: pd.DataFrame, *, by=("product_line", "owner")) -> pd.DataFrame:
    """Where the quasi-lost deals not yet won back are, per dimension in ``by`` (``dimension``
    holds the column name as a code): ``pool``,
    ``share`` of the pool, ``reengaged`` (re-engaged, not yet won back — the closest),
    ``not_followed_up`` (no second follow-up yet). Largest pool first."""
    quasi = _quasi(deal_leads)
    open_quasi = quasi[~flag(quasi, "recovered")]
    frame = pd.DataFrame(
        {
            "pool": 1,
            "reengaged": flag(open_quasi, "reengaged").astype(int),
            "not_followed_up": (~flag(open_quasi, "followed_up")).astype(int),
        },
        index=open_quasi.index,
    )
    parts = [
        frame.groupby(open_quasi[d].astype(str).rename("group"))
        .sum()
        .reset_index()
        .assign(dimension=d)
        .sort_values(["pool", "group"], ascending=[False, True])
        for d in by
    ]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["group", *frame.columns])
    return table.assign(share=table["pool"] / max(len(open_quasi), 1))[
        ["dimension", "group", "pool", "share", "reengaged", "not_followed_up"]
    ]


def competitors(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """Competitor brands bought by truly lost deals: ``lost`` and ``share``; deals that bought
    a competitor without naming it are counted under ``missing``."""
    bought = lost_only(deal_leads)
    bought = bought[bought["lost_kind"].astype("string").eq("competitor").fillna(False)]
    names = bought["competitor"].astype("string").str.strip().replace("", pd.NA).fillna(MISSING)
    counts = (
        names.value_counts()
        .rename("lost")
        .rename_axis("competitor")
        .reset_index()
        .sort_values(["lost", "competitor"], ascending=[False, True], ignore_index=True)
    )
    return counts.assign(share=counts["lost"] / counts["lost"].sum())
