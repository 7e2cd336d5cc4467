"""What goes with losing: for each value of each deal attribute (segment, region, industry,
product line, sales owner …), the odds that a decided deal with it is lost against the odds
without it.

Only decided deals count (won or lost); open deals have no outcome yet. For one value the
deals split into a 2×2 table::

                 lost   won
    with it        a     b
    without it     c     d

The odds ratio ``((a + k)(d + k)) / ((b + k)(c + k))`` adds ``k`` = :data:`SMOOTHING` to every
cell (a Haldane–Anscombe style correction: a value whose deals were all lost, or all won,
still gets a finite ratio, and small cells are pulled towards 1). Its 95% interval is Woolf's
(normal on the log scale) over the same smoothed cells. The p-value is Fisher's exact test on
the raw counts (two-sided, :func:`scipy.stats.fisher_exact`), and the p-values of every value
tested in the branch are adjusted together (Holm, :func:`funnelkit.stats.adjust_pvalues`):
one question — which attributes go with losing — asked of many values at once.

A value is tested only when it and the rest each hold at least ``min_deals`` decided deals;
an attribute with fewer than two values in the data is not an attribute of this branch.

Examples
--------
>>> import pandas as pd
>>> deals = pd.DataFrame({"owner": ["A"] * 4 + ["B"] * 4, "outcome": ["lost"] * 4 + ["won", "won", "lost", "open"]})
>>> table = loss_drivers(deals, by=("owner",), min_deals=1)
>>> table[["value", "deals", "lost", "odds_ratio"]].round(2).to_dict("records")[0]
{'value': 'A', 'deals': 4, 'lost': 4, 'odds_ratio': 7.5}
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact

from funnelkit.stats import Z95, adjust_pvalues

#: The deal attributes examined, in the order the table lists them; those absent from a
#: branch's leads are left out.
ATTRIBUTES = ("segment", "region", "industry", "product_line", "owner")
#: Added to every cell of the 2×2 table before the odds ratio is taken.
SMOOTHING = 1.0
#: Adjusted p-value under which a value clearly goes with more (or fewer) losses.
ALPHA = 0.05
#: ``direction`` codes: clearly more losses, clearly fewer, or no clear difference.
DIRECTIONS = ("more_lost", "less_lost", "unclear")
COLUMNS = [
    "attribute",
    "value",
    "deals",
    "lost",
    "lost_rate",
    "lost_rate_without",
    "odds_ratio",
    "odds_ratio_low",
    "odds_ratio_high",
    "p_value",
    "p_adjusted",
    "direction",
]


def decided(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """The won and lost deals of ``deal_leads`` (open ones have no outcome yet)."""
    return deal_leads[deal_leads["outcome"].astype(str).isin(("won", "lost"))]


def attributes(deal_leads: pd.DataFrame, *, by=ATTRIBUTES) -> list[str]:
    """The columns of ``by`` present in ``deal_leads`` with at least two distinct values."""
    return [a for a in by if a in deal_leads and deal_leads[a].dropna().astype(str).str.strip().nunique() >= 2]


def odds_ratio(lost_with, won_with, lost_without, won_without, *, smoothing: float = SMOOTHING):
    """Smoothed odds ratio of losing with a value against without it, and its Woolf 95%
    interval, elementwise: ``(ratio, low, high)``.

    Examples
    --------
    >>> ratio, low, high = odds_ratio(9, 1, 5, 5)
    >>> round(float(ratio), 3)
    5.0
    """
    cells = [np.asarray(c, dtype=float) + smoothing for c in (lost_with, won_with, lost_without, won_without)]
    a, b, c, d = cells
    log_ratio = np.log(a * d / (b * c))
    spread = Z95 * np.sqrt(sum(1 / cell for cell in cells))
    return np.exp(log_ratio), np.exp(log_ratio - spread), np.exp(log_ratio + spread)


def _counts(data: pd.DataFrame, attribute: str) -> pd.DataFrame:
    """Decided and lost deals per value of ``attribute`` (empty cells are no value)."""
    value = data[attribute].astype("string").str.strip().replace("", pd.NA)
    lost = data["outcome"].astype(str).eq("lost")
    counts = (
        pd.DataFrame({"value": value, "lost": lost})
        .dropna(subset=["value"])
        .groupby("value", sort=True)["lost"]
        .agg(deals="size", lost="sum")
        .reset_index()
    )
    return counts.astype({"value": object, "deals": int, "lost": int}).assign(attribute=attribute)


def loss_drivers(deal_leads: pd.DataFrame, *, by=ATTRIBUTES, min_deals: int) -> pd.DataFrame:
    """One row per tested value of each attribute: how losing goes with it.

    Parameters
    ----------
    deal_leads : DataFrame
        Deals (:func:`funnelkit.lost.deals.deals`); rows other than won and lost are left out.
    by : sequence of str
        Attribute columns; absent ones, and those with one value, are skipped.
    min_deals : int
        A value is tested when it has at least this many decided deals and so does the rest
        of the attribute's deals (with a value; a deal without one is in neither group).

    Returns
    -------
    DataFrame
        ``attribute`` (column code), ``value`` (as in the data), ``deals`` and ``lost``
        (decided deals with the value), ``lost_rate`` and ``lost_rate_without``,
        ``odds_ratio`` with ``odds_ratio_low`` / ``odds_ratio_high`` (smoothed, Woolf 95%),
        Fisher's ``p_value``, Holm's ``p_adjusted`` over every row, and ``direction``
        (:data:`DIRECTIONS`: ``more_lost`` / ``less_lost`` when ``p_adjusted`` < :data:`ALPHA`,
        else ``unclear``). Clear directions first, then by ``p_adjusted``; empty (with these
        columns) when no value is tested.
    """
    data = decided(deal_leads)
    counts = [_counts(data, a) for a in attributes(data, by=by)]
    table = (
        pd.concat(counts, ignore_index=True)
        if counts
        else pd.DataFrame(columns=["attribute", "value", "deals", "lost"])
    )
    totals = table.groupby("attribute")[["deals", "lost"]].transform("sum")
    table = table.assign(deals_without=totals["deals"] - table["deals"], lost_without=totals["lost"] - table["lost"])
    table = table[table["deals"].ge(min_deals) & table["deals_without"].ge(min_deals)]
    if table.empty:
        return pd.DataFrame(columns=COLUMNS)
    a, c = table["lost"].to_numpy(), table["lost_without"].to_numpy()
    b, d = table["deals"].to_numpy() - a, table["deals_without"].to_numpy() - c
    ratio, low, high = odds_ratio(a, b, c, d)
    p_value = [fisher_exact([[ai, bi], [ci, di]]).pvalue for ai, bi, ci, di in zip(a, b, c, d)]
    adjusted = adjust_pvalues(p_value, method="holm")
    clear = adjusted < ALPHA
    direction = np.where(clear & (ratio > 1), "more_lost", np.where(clear & (ratio < 1), "less_lost", "unclear"))
    out = table.assign(
        lost_rate=a / table["deals"],
        lost_rate_without=c / table["deals_without"],
        odds_ratio=ratio,
        odds_ratio_low=low,
        odds_ratio_high=high,
        p_value=np.asarray(p_value, dtype=float),
        p_adjusted=adjusted,
        direction=direction,
    )
    order = out["direction"].map({d: i for i, d in enumerate(DIRECTIONS)})
    return (
        out.assign(_order=order, _strength=-np.abs(np.log(out["odds_ratio"])))
        .sort_values(["_order", "p_adjusted", "_strength"], kind="stable")[COLUMNS]
        .reset_index(drop=True)
    )


def strongest(drivers: pd.DataFrame, *, direction: str, top: int = 3) -> pd.DataFrame:
    """The ``top`` rows of ``direction``, the furthest odds ratio from 1 first, at most one
    value per attribute (the attribute's strongest: "which attributes go with losing")."""
    rows = drivers[drivers["direction"].eq(direction)]
    strength = np.abs(np.log(rows["odds_ratio"].astype(float)))
    return (
        rows.assign(_strength=strength)
        .sort_values("_strength", ascending=False, kind="stable")
        .drop_duplicates("attribute")
        .head(top)
        .drop(columns="_strength")
        .reset_index(drop=True)
    )
