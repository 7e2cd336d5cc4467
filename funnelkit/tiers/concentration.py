"""Where the tiers concentrate: key / ordinary / weak regions, the spread of each tier over
regions and industries, and the region × industry mix of the focus tiers.

Every function takes the customers frame after :func:`funnelkit.tiers.tiering.assign_tiers`
and returns a tidy frame in codes.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

from funnelkit.exceptions import ParamsError, Problem

from .tiering import TIER_ORDER, tiered

#: Default region rule: a region's share of premium + potential customers against the branch's.
DEFAULT_REGION_RULE = {"tiers": ["premium", "potential"], "key_ratio": 1.2, "weak_ratio": 0.8}


def region_rule(rule: dict | None = None) -> dict:
    """Validate the key / ordinary / weak region rule from params (``None`` → the default).

    A region is key when its share of the rule's tiers is at least ``key_ratio`` times the
    branch's, weak below ``weak_ratio`` times; so ``key_ratio > weak_ratio > 0``.

    Examples
    --------
    >>> region_rule({"weak_ratio": 0.5})["key_ratio"]
    1.2
    """
    rule = {**DEFAULT_REGION_RULE, **(rule or {})}
    where = "params: tiers.region_rule"
    problems = [
        Problem(where, None, str(k), rule[k], "unknown key", f"keys: {', '.join(DEFAULT_REGION_RULE)}")
        for k in rule
        if k not in DEFAULT_REGION_RULE
    ]
    tiers = rule["tiers"]
    if not isinstance(tiers, list) or not tiers or any(t not in TIER_ORDER for t in tiers):
        problems.append(Problem(where, None, "tiers", tiers, f"must list tier codes from {', '.join(TIER_ORDER)}"))
    ratios = (rule["key_ratio"], rule["weak_ratio"])
    if not (all(isinstance(r, Real) and not isinstance(r, bool) for r in ratios) and ratios[0] > ratios[1] > 0):
        problems.append(
            Problem(
                where,
                None,
                "key_ratio",
                ratios,
                "weak_ratio and key_ratio must be numbers with key_ratio > weak_ratio > 0",
                "e.g. key_ratio: 1.2, weak_ratio: 0.8",
            )
        )
    if problems:
        raise ParamsError(problems)
    return rule


def region_classes(data: pd.DataFrame, *, year: int, rule: dict) -> pd.DataFrame:
    """Name key / ordinary / weak regions (重要 / 一般 / 薄弱区域) in ``year``.

    A region's ``focus_share`` is the share of its customers in the rule's tiers (by default
    premium + potential); ``ratio`` divides it by the branch's share. ``ratio ≥ key_ratio``
    makes a key region, ``ratio ≤ weak_ratio`` a weak one, anything between ordinary.
    """
    rule = region_rule(rule)
    rows = tiered(data, year).assign(focus=lambda d: d["tier"].isin(rule["tiers"]))
    average = rows["focus"].mean()
    out = (
        rows.groupby("region")
        .agg(customers=("focus", "size"), focus_customers=("focus", "sum"))
        .reset_index()
        .assign(
            focus_share=lambda d: d["focus_customers"] / d["customers"],
            ratio=lambda d: d["focus_share"] / average if average else np.nan,
        )
    )
    region_class = np.select(
        [out["ratio"] >= rule["key_ratio"], out["ratio"] <= rule["weak_ratio"]], ["key", "weak"], "ordinary"
    )
    return out.assign(region_class=region_class).sort_values(
        ["ratio", "region"], ascending=[False, True], ignore_index=True
    )


def concentration(
    data: pd.DataFrame, *, year: int, top_k: int, by: tuple[str, ...] = ("region", "industry")
) -> pd.DataFrame:
    """How concentrated each tier is across regions and industries in ``year``.

    ``top_k_share`` is the share of the tier's customers in its ``top_k`` largest groups;
    ``hhi`` the Herfindahl index (sum of squared group shares, 1/groups for an even spread up
    to 1 for a single group); ``effective_groups`` = 1 / hhi; ``top_group`` the largest group and
    ``top_group_share`` its share.
    """
    rows = tiered(data, year)
    records = []
    for dimension in by:
        for tier in TIER_ORDER:
            counts = rows.loc[rows["tier"] == tier, dimension].value_counts()
            counts = counts.sort_index().sort_values(ascending=False, kind="stable")
            total = counts.sum()
            shares = counts / total if total else counts.astype(float)
            hhi = float((shares**2).sum()) if total else np.nan
            records.append(
                {
                    "dimension": dimension,
                    "tier": tier,
                    "customers": int(total),
                    "groups": int((counts > 0).sum()),
                    "top_k_share": float(shares.head(top_k).sum()) if total else np.nan,
                    "hhi": hhi,
                    "effective_groups": 1 / hhi if total else np.nan,
                    "top_group": counts.index[0] if total else None,
                    "top_group_share": float(shares.iloc[0]) if total else np.nan,
                }
            )
    return pd.DataFrame(records)


def region_industry(data: pd.DataFrame, *, year: int, tiers: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Customers of ``tiers`` in ``year`` per region × industry (every pair, zeros included)."""
    rows = tiered(data, year)
    index = pd.MultiIndex.from_product(
        [sorted(rows["region"].dropna().unique()), sorted(rows["industry"].dropna().unique())],
        names=["region", "industry"],
    )
    return (
        rows[rows["tier"].isin(list(tiers))]
        .groupby(["region", "industry"])
        .size()
        .reindex(index, fill_value=0)
        .rename("customers")
        .reset_index()
    )
