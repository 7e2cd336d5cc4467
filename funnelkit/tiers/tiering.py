"""Base-customer tiering (基盘客户分级): scorecards to tiers, concentration and migration.

Each base customer is scored on two scorecards of 10 points each, loyalty (忠诚度) and
economic capacity (经济实力), whose items are listed in :data:`funnelkit.data.schema.LOYALTY_ITEMS`
and :data:`funnelkit.data.schema.CAPACITY_ITEMS`. A 2-D grid of thresholds from params maps the
two scores to a tier (premium 优质 / potential 潜力 / general 一般); where the items are
absent, the tier the source already assigned is used. Value segmentation lives in
:mod:`funnelkit.tiers.value`, referrals in :mod:`funnelkit.tiers.referrals`, cadence in
:mod:`funnelkit.tiers.cadence`.

Every function takes the customers frame of the data contract (``customers`` table, one row
per customer and snapshot year) after :func:`assign_tiers`, and returns a tidy frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd

from funnelkit.data import schema
from funnelkit.exceptions import ParamsError, Problem

TIER_ORDER: tuple[str, ...] = tuple(schema.TIERS)  # premium, potential, general: best first
LOYALTY_MAX = sum(top for _, top in schema.LOYALTY_ITEMS.values())
CAPACITY_MAX = sum(top for _, top in schema.CAPACITY_ITEMS.values())

#: The default grid: premium if loyalty ≥ 8 and capacity ≥ 8; else potential if both ≥ 6.
#: Rows are loyalty bands (low to high), columns capacity bands (low to high).
DEFAULT_GRID = {
    "loyalty_cuts": [6, 8],
    "capacity_cuts": [6, 8],
    "tiers": [
        ["general", "general", "general"],
        ["general", "potential", "potential"],
        ["general", "potential", "premium"],
    ],
}
_WHERE = "params: tiers.tier_grid"


@dataclass(frozen=True)
class TierGrid:
    """A validated tier grid; build it with :func:`tier_grid`."""

    loyalty_cuts: tuple[float, ...]
    capacity_cuts: tuple[float, ...]
    tiers: tuple[tuple[str, ...], ...]

    def band_labels(self, axis: str) -> list[str]:
        """Score ranges of the bands of ``axis`` ("loyalty" or "capacity"): ``0–5``, ``6–7``, ``8–10``."""
        cuts = self.loyalty_cuts if axis == "loyalty" else self.capacity_cuts
        top = LOYALTY_MAX if axis == "loyalty" else CAPACITY_MAX
        lows = [0, *[math.ceil(c) for c in cuts]]
        highs = [math.ceil(c) - 1 for c in cuts] + [top]
        return [f"{lo}–{hi}" if hi > lo else f"{lo}" for lo, hi in zip(lows, highs)]


def _cut_problems(name: str, cuts, top: int) -> list[Problem]:
    ok = isinstance(cuts, (list, tuple)) and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cuts)
    if ok and list(cuts) == sorted(set(cuts)) and all(0 < c <= top for c in cuts):
        return []
    return [
        Problem(
            _WHERE,
            None,
            name,
            cuts,
            f"must be a list of increasing scores between 1 and {top}",
            "e.g. [6, 8] makes three bands 0–5, 6–7, 8–10",
        )
    ]


def tier_grid(grid: dict | TierGrid | None = None) -> TierGrid:
    """Validate a tier grid from params (``None`` → :data:`DEFAULT_GRID`).

    Raises
    ------
    ParamsError
        When a key is missing, the cuts are not increasing scores within the scorecard, or
        ``tiers`` is not a (loyalty bands) × (capacity bands) table of tier codes.

    Examples
    --------
    >>> tier_grid().band_labels("loyalty")
    ['0–5', '6–7', '8–10']
    """
    if isinstance(grid, TierGrid):
        return grid
    grid = DEFAULT_GRID if grid is None else grid
    missing = [k for k in ("loyalty_cuts", "capacity_cuts", "tiers") if not isinstance(grid, dict) or k not in grid]
    if missing:
        raise ParamsError(
            [
                Problem(_WHERE, None, k, None, "key is missing", "give loyalty_cuts, capacity_cuts and tiers")
                for k in missing
            ]
        )
    problems = _cut_problems("loyalty_cuts", grid["loyalty_cuts"], LOYALTY_MAX) + _cut_problems(
        "capacity_cuts", grid["capacity_cuts"], CAPACITY_MAX
    )
    if problems:
        raise ParamsError(problems)
    rows, cols = len(grid["loyalty_cuts"]) + 1, len(grid["capacity_cuts"]) + 1
    table = grid["tiers"]
    if not (
        isinstance(table, (list, tuple))
        and len(table) == rows
        and all(isinstance(r, (list, tuple)) and len(r) == cols for r in table)
    ):
        raise ParamsError(
            [
                Problem(
                    _WHERE,
                    None,
                    "tiers",
                    table,
                    f"must have {rows} rows (loyalty bands) of {cols} tiers (capacity bands)",
                    "one row per loyalty band, low to high; one column per capacity band",
                )
            ]
        )
    bad = sorted({str(code) for row in table for code in row if code not in TIER_ORDER})
    if bad:
        raise ParamsError(
            [Problem(_WHERE, None, "tiers", bad, f"unknown tier code(s); valid: {', '.join(TIER_ORDER)}")]
        )
    return TierGrid(tuple(grid["loyalty_cuts"]), tuple(grid["capacity_cuts"]), tuple(tuple(r) for r in table))


def _score(data: pd.DataFrame, items: dict) -> pd.Series:
    """Sum of the scorecard items; NA unless every item is present."""
    if not set(items) <= set(data.columns):
        return pd.Series(pd.NA, index=data.index, dtype="Int64")
    parts = data[list(items)].astype("Int64")
    return parts.sum(axis=1, min_count=len(items)).where(parts.notna().all(axis=1)).astype("Int64")


def _band(score: pd.Series, cuts: tuple[float, ...]) -> pd.Series:
    bands = np.searchsorted(np.asarray(cuts, dtype=float), score.fillna(0).to_numpy(float), side="right")
    return pd.Series(bands, index=score.index, dtype="Int64").where(score.notna())


def assign_tiers(data: pd.DataFrame, *, grid: dict | TierGrid) -> pd.DataFrame:
    """Score each customer and give the tier.

    Adds ``loyalty`` and ``capacity`` (0–10, NA unless every item of the scorecard is
    present), ``loyalty_band`` / ``capacity_band`` (0 = lowest band of the grid),
    ``source_tier`` (the tier the source gave), ``tier`` (from the grid where both scores
    exist, else the source's) and ``tier_basis``: ``scorecard``, ``source`` or ``none``.

    Examples
    --------
    >>> from funnelkit.demo import load_demo
    >>> tiered = assign_tiers(load_demo("customers", branch="宁波分公司"), grid=DEFAULT_GRID)
    >>> tiered["tier_basis"].unique().tolist(), sorted(tiered["tier"].unique())
    (['scorecard'], ['general', 'potential', 'premium'])
    """
    grid = tier_grid(grid)
    loyalty, capacity = _score(data, schema.LOYALTY_ITEMS), _score(data, schema.CAPACITY_ITEMS)
    scored = (loyalty.notna() & capacity.notna()).to_numpy()
    l_band, c_band = _band(loyalty, grid.loyalty_cuts), _band(capacity, grid.capacity_cuts)
    from_grid = [
        grid.tiers[int(lb)][int(cb)] if ok else None for lb, cb, ok in zip(l_band.fillna(0), c_band.fillna(0), scored)
    ]
    source = data["tier"].astype("object") if "tier" in data else pd.Series(None, index=data.index, dtype=object)
    source = source.where(source.isin(TIER_ORDER), None)
    tier = pd.Series(np.where(scored, from_grid, source), index=data.index, dtype=object)
    basis = np.where(scored, "scorecard", np.where(source.notna(), "source", "none"))
    return data.assign(
        loyalty=loyalty,
        capacity=capacity,
        loyalty_band=l_band,
        capacity_band=c_band,
        source_tier=source,
        tier=tier.where(tier.notna(), None),
        tier_basis=basis,
    )


def snapshot_years(data: pd.DataFrame, *, current_year: int) -> tuple[int, int | None]:
    """The current snapshot year (``0`` = the latest in the data) and the one before it (or None)."""
    years = sorted(int(y) for y in data["snapshot_year"].dropna().unique())
    if not years:
        raise ParamsError([Problem("customers", None, "snapshot_year", None, "no snapshot year in the data")])
    current = years[-1] if not current_year else int(current_year)
    if current not in years:
        raise ParamsError(
            [
                Problem(
                    "params: tiers.current_year",
                    None,
                    None,
                    current_year,
                    f"no customers in that snapshot year; years in the data: {years}",
                    "use 0 for the latest year",
                )
            ]
        )
    earlier = [y for y in years if y < current]
    return current, (earlier[-1] if earlier else None)


def _tiered(data: pd.DataFrame, year: int | None) -> pd.DataFrame:
    rows = data[data["tier"].notna()]
    return rows if year is None else rows[rows["snapshot_year"] == year]


def tier_basis(data: pd.DataFrame) -> pd.DataFrame:
    """Customers per snapshot year tiered by the scorecard, by the source, or not at all."""
    return (
        data.groupby(["snapshot_year", "tier_basis"])
        .size()
        .rename("customers")
        .reset_index()
        .sort_values(["snapshot_year", "tier_basis"], ignore_index=True)
    )


def grid_counts(data: pd.DataFrame, *, year: int, grid: dict | TierGrid) -> pd.DataFrame:
    """Scorecard-tiered customers of ``year`` in each cell of the loyalty × capacity grid.

    Every cell is listed (zero counts too) with its score ranges and tier.
    """
    grid = tier_grid(grid)
    rows = data[(data["snapshot_year"] == year) & (data["tier_basis"] == "scorecard")]
    counts = rows.groupby(["loyalty_band", "capacity_band"]).size()
    l_labels, c_labels = grid.band_labels("loyalty"), grid.band_labels("capacity")
    cells = [
        {
            "loyalty_band": lb,
            "capacity_band": cb,
            "loyalty": l_labels[lb],
            "capacity": c_labels[cb],
            "tier": grid.tiers[lb][cb],
            "customers": int(counts.get((lb, cb), 0)),
        }
        for lb in range(len(l_labels))
        for cb in range(len(c_labels))
    ]
    total = sum(c["customers"] for c in cells)
    return pd.DataFrame(cells).assign(share=lambda d: d["customers"] / total if total else np.nan)


def tier_shares(data: pd.DataFrame, *, years: list[int] | tuple[int | None, ...]) -> pd.DataFrame:
    """Customers and share of each tier per snapshot year (shares sum to 1 within a year)."""
    rows = _tiered(data, None)
    rows = rows[rows["snapshot_year"].isin([y for y in years if y is not None])]
    counts = (
        rows.groupby(["snapshot_year", "tier"])
        .size()
        .reindex(
            pd.MultiIndex.from_product(
                [sorted(rows["snapshot_year"].unique()), TIER_ORDER], names=["snapshot_year", "tier"]
            ),
            fill_value=0,
        )
    )
    return (
        counts.rename("customers")
        .reset_index()
        .assign(share=lambda d: d["customers"] / d.groupby("snapshot_year")["customers"].transform("sum"))
    )


def tier_by(data: pd.DataFrame, *, by: str, current: int, previous: int | None) -> pd.DataFrame:
    """Each tier's customers by ``by`` (region or industry), current year beside the previous.

    ``share_*`` is the group's share of the tier's customers in that year (it sums to 1 over
    the groups of a tier); ``growth`` is the relative change in the count.
    """
    rows = _tiered(data, None)
    groups = sorted(rows[by].dropna().unique())
    index = pd.MultiIndex.from_product([groups, TIER_ORDER], names=[by, "tier"])

    def count(year):
        return rows[rows["snapshot_year"] == year].groupby([by, "tier"]).size().reindex(index, fill_value=0)

    out = pd.DataFrame({"previous": count(previous), "current": count(current)}).reset_index()
    per_tier = out.groupby("tier")
    return out.assign(
        share_previous=out["previous"] / per_tier["previous"].transform("sum").replace(0, np.nan),
        share_current=out["current"] / per_tier["current"].transform("sum").replace(0, np.nan),
        growth=out["current"] / out["previous"].where(out["previous"] > 0) - 1,
    )


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
    rows = _tiered(data, year).assign(focus=lambda d: d["tier"].isin(rule["tiers"]))
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
    rows = _tiered(data, year)
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
    rows = _tiered(data, year)
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


def migration(data: pd.DataFrame, *, previous: int | None, current: int) -> pd.DataFrame:
    """Tier transitions from ``previous`` to ``current`` snapshot.

    Customers tiered in both years fill the 3 × 3 premium / potential / general matrix
    (``movement`` up, same or down). Customers only in the current year come ``from_tier``
    ``new``; those only in the previous year go ``to_tier`` ``gone``. Empty without a
    previous year.
    """
    columns = ["from_tier", "to_tier", "customers", "movement"]
    if previous is None:
        return pd.DataFrame(columns=columns)
    before = _tiered(data, previous).drop_duplicates("customer_id", keep="last").set_index("customer_id")["tier"]
    after = _tiered(data, current).drop_duplicates("customer_id", keep="last").set_index("customer_id")["tier"]
    pairs = pd.concat([before.rename("from_tier"), after.rename("to_tier")], axis=1)
    pairs = pairs.fillna({"from_tier": "new", "to_tier": "gone"})
    rank = {t: i for i, t in enumerate(TIER_ORDER)}
    cells = (
        [(f, t) for f in TIER_ORDER for t in TIER_ORDER]
        + [("new", t) for t in TIER_ORDER]
        + [(f, "gone") for f in TIER_ORDER]
    )
    counts = pairs.groupby(["from_tier", "to_tier"]).size()
    out = pd.DataFrame([{"from_tier": f, "to_tier": t, "customers": int(counts.get((f, t), 0))} for f, t in cells])

    def movement(row):
        if row.from_tier == "new" or row.to_tier == "gone":
            return row.from_tier if row.from_tier == "new" else "gone"
        step = rank[row.from_tier] - rank[row.to_tier]
        return "up" if step > 0 else "down" if step < 0 else "same"

    return out.assign(movement=[movement(r) for r in out.itertuples()])


def migration_summary(moves: pd.DataFrame) -> pd.DataFrame:
    """Customers who moved up, stayed, slipped down, are new or are gone."""
    order = ["up", "same", "down", "new", "gone"]
    return (
        moves.groupby("movement")["customers"]
        .sum()
        .reindex(order, fill_value=0)
        .astype(int)
        .rename("customers")
        .rename_axis("movement")
        .reset_index()
    )
