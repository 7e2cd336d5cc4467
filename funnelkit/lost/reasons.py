"""Why and when deals are lost: reason shares, the reason taxonomy, Pareto, stage and timing.

Every function takes the deals of :func:`funnelkit.lost.deals.deals` (their ``reason`` and
``category`` columns) and looks at the lost ones only. Tables hold codes: a deal lost without
a reason has the reason ``missing``, stages are stage keys, the overall group is ``all``.

Examples
--------
>>> from funnelkit.demo import load_demo
>>> from funnelkit.lost.deals import deals
>>> deal_leads = deals(load_demo("leads", branch="温州分公司"), deal_from_stage="contacted",
...                    taxonomy={"brand": ["品牌不认可"]})
>>> shares = reason_shares(deal_leads)
>>> bool(shares.groupby("product_line")["share"].sum().round(9).eq(1).all())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.data.schema import resolve_stages
from funnelkit.stats import adjust_pvalues, two_proportion_test

from .deals import ALL, CONTROLLABLE, MISSING, UNMAPPED


def lost_only(deal_leads: pd.DataFrame) -> pd.DataFrame:
    return deal_leads[deal_leads["outcome"].astype(str).eq("lost")]


def reason_shares(deal_leads: pd.DataFrame, *, by: str = "product_line") -> pd.DataFrame:
    """Lost deals per reason within each ``by`` group: ``lost``, ``share`` (of the group's lost
    deals, so each group sums to 1) and ``rank`` (1 = most frequent; ties by name)."""
    lost = lost_only(deal_leads)
    counts = (
        lost.groupby([lost[by].astype(str), lost["reason"].astype(str)])
        .size()
        .rename("lost")
        .reset_index()
        .sort_values([by, "lost", "reason"], ascending=[True, False, True])
    )
    return counts.assign(
        share=counts["lost"] / counts.groupby(by)["lost"].transform("sum"), rank=counts.groupby(by).cumcount() + 1
    ).reset_index(drop=True)


def top_reasons(shares: pd.DataFrame, *, by: str = "product_line") -> dict[str, str]:
    """The most frequent reason of each group of :func:`reason_shares`."""
    top = shares[shares["rank"].eq(1)]
    return dict(zip(top[by].astype(str), top["reason"].astype(str)))


def category_shares(deal_leads: pd.DataFrame, *, taxonomy: dict) -> pd.DataFrame:
    """Lost deals per reason category: every taxonomy category (zeros included), then the
    ``unmapped`` and ``missing`` ones when they occur. ``controllable`` marks the category the
    branch controls (sales process); ``reasons`` lists the reasons seen in the category."""
    lost = lost_only(deal_leads)
    seen = lost.groupby("category")["reason"].agg(lambda s: "、".join(s.value_counts().index.astype(str)))
    counts = lost["category"].value_counts()
    order = [*taxonomy, *[c for c in (UNMAPPED, MISSING) if c in counts.index]]
    table = pd.DataFrame({"category": order})
    table = table.assign(
        # looked up one by one: with no lost deal, ``map`` would give floats to fill with text
        reasons=[seen.get(category, "") for category in order],
        lost=table["category"].map(counts).fillna(0).astype(int),
    )
    total = table["lost"].sum()
    return table.assign(share=table["lost"] / total if total else 0.0, controllable=table["category"].eq(CONTROLLABLE))


def controllable_share(categories: pd.DataFrame) -> float:
    """Share of lost deals in the category the branch controls (0 when it has none)."""
    return float(categories.loc[categories["controllable"], "share"].sum())


def unlisted_reasons(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """The lost deals the taxonomy cannot place, for the report's data-quality warnings:
    ``category`` (``unmapped``: one row per reason it does not list, most frequent first;
    ``missing``: one row for the deals without a reason), ``reason`` and ``lost``."""
    lost = lost_only(deal_leads)
    unmapped = lost.loc[lost["category"].eq(UNMAPPED), "reason"].value_counts()
    missing = int(lost["category"].eq(MISSING).sum())
    rows = [(UNMAPPED, str(reason), int(n)) for reason, n in unmapped.items()]
    rows += [(MISSING, MISSING, missing)] if missing else []
    return pd.DataFrame(rows, columns=["category", "reason", "lost"])


def pareto(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """Reasons by lost deals, most frequent first, with ``share`` and ``cum_share``."""
    counts = (
        lost_only(deal_leads)["reason"]
        .astype(str)
        .value_counts()
        .rename("lost")
        .rename_axis("reason")
        .reset_index()
        .sort_values(["lost", "reason"], ascending=[False, True])
    )
    share = counts["lost"] / counts["lost"].sum()
    return counts.assign(share=share, cum_share=share.cumsum()).reset_index(drop=True)


def reason_change(deal_leads: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Each reason's share of lost deals in ``year`` against the year before: ``change`` (share
    difference), the p-value of a two-proportion score test and ``p_adjusted`` (Holm over
    the reasons: every reason is tested, so unadjusted p-values would flag chance changes).
    Empty when there is no previous year."""
    lost = lost_only(deal_leads)
    counts = pd.crosstab(lost["reason"].astype(str), lost["year"]).reindex(columns=[year - 1, year], fill_value=0)
    if counts[year - 1].sum() == 0 or counts[year].sum() == 0:
        return pd.DataFrame(
            columns=[
                "reason",
                "lost_previous",
                "share_previous",
                "lost_current",
                "share_current",
                "change",
                "p_value",
                "p_adjusted",
            ]
        )
    n_prev, n_now = int(counts[year - 1].sum()), int(counts[year].sum())
    with np.errstate(divide="ignore", invalid="ignore"):  # a reason absent one year: ratios inside are inf
        tests = [two_proportion_test(int(p), n_prev, int(c), n_now) for p, c in zip(counts[year - 1], counts[year])]
    table = pd.DataFrame(
        {
            "reason": counts.index,
            "lost_previous": counts[year - 1].to_numpy(),
            "share_previous": counts[year - 1].to_numpy() / n_prev,
            "lost_current": counts[year].to_numpy(),
            "share_current": counts[year].to_numpy() / n_now,
            "change": [r["diff"] for r in tests],
            "p_value": [r["p_value"] for r in tests],
        }
    )
    return table.assign(p_adjusted=adjust_pvalues(table["p_value"], method="holm")).sort_values(
        ["lost_current", "reason"], ascending=[False, True], ignore_index=True
    )


def stage_reason(deal_leads: pd.DataFrame, *, stages=None) -> pd.DataFrame:
    """Lost deals by stage at loss (rows: stage keys in funnel order) × reason (columns, most
    frequent first), with a ``total`` column."""
    lost = lost_only(deal_leads)
    stage = lost["stage"].astype(str).rename("stage")
    found = set(stage.unique())
    order = [s.key for s in resolve_stages(stages) if s.key in found]
    table = pd.crosstab(stage, lost["reason"].astype(str)).reindex(order)
    table = table[table.sum().sort_values(ascending=False).index]
    return table.assign(total=table.sum(axis=1)).reset_index().rename_axis(columns=None)


def loss_timing(deal_leads: pd.DataFrame, *, by: str = "product_line") -> pd.DataFrame:
    """Days from lead creation to loss per ``by`` group and overall (group ``all``): ``lost``, ``dated``
    (lost deals with a usable loss date, not before creation), ``median_days``, ``p90_days``."""
    lost = lost_only(deal_leads)
    days = (pd.to_datetime(lost["lost_date"]) - lost["created_date"]).dt.days
    frame = pd.DataFrame({"group": lost[by].astype(str), "days": days.where(days >= 0)})
    every = frame.assign(group=ALL)
    return (
        pd.concat([frame, every])
        .groupby("group", sort=False)["days"]
        .agg(lost="size", dated="count", median_days="median", p90_days=lambda d: d.quantile(0.9))
        .reset_index()
    )


def share_matrix(shares: pd.DataFrame, *, by: str = "product_line") -> pd.DataFrame:
    """:func:`reason_shares` as reason rows × group columns of shares (0 where a reason does
    not occur), reasons by overall frequency; each group column sums to 1."""
    order = shares.groupby("reason")["lost"].sum().sort_values(ascending=False, kind="stable").index
    wide = shares.pivot_table(index="reason", columns=by, values="share", fill_value=0.0, observed=True)
    return wide.reindex(order).reset_index().rename_axis(columns=None)
