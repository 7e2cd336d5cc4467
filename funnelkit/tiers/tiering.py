"""Base-customer tiering (基盘客户分级): scorecards to tiers, tier shares per year, region and industry.

Each base customer is scored on two scorecards of 10 points each, loyalty (忠诚度) and
economic capacity (经济实力), whose items are listed in :data:`funnelkit.data.schema.LOYALTY_ITEMS`
and :data:`funnelkit.data.schema.CAPACITY_ITEMS`. A 2-D grid of thresholds from params maps the
two scores to a tier (premium 优质 / potential 潜力 / general 一般); where the items are
absent, the tier the source already assigned is used. Where the tiers concentrate lives in
:mod:`funnelkit.tiers.concentration`, how customers move between tiers in
:mod:`funnelkit.tiers.migration`, value segmentation in :mod:`funnelkit.tiers.value`,
referrals in :mod:`funnelkit.tiers.referrals`, cadence in :mod:`funnelkit.tiers.cadence`.

Every function takes the customers frame of the data contract (``customers`` table, one row
per customer and snapshot year) after :func:`assign_tiers`, and returns a tidy frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from funnelkit.data import schema
from funnelkit.exceptions import FunnelkitError, ParamsError, Problem

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
        When a key is missing or unknown, the cuts are not increasing scores within the scorecard, or
        ``tiers`` is not a (loyalty bands) × (capacity bands) table of tier codes.

    Examples
    --------
    >>> tier_grid().band_labels("loyalty")
    ['0–5', '6–7', '8–10']
    """
    if isinstance(grid, TierGrid):
        return grid
    grid = DEFAULT_GRID if grid is None else grid
    keys = ("loyalty_cuts", "capacity_cuts", "tiers")
    missing = [k for k in keys if not isinstance(grid, dict) or k not in grid]
    # A misspelt extra key would otherwise be ignored while the analyst believes it applies.
    unknown = [k for k in grid if k not in keys] if isinstance(grid, dict) else []
    if missing or unknown:
        raise ParamsError(
            [
                Problem(_WHERE, None, k, None, "key is missing", "give loyalty_cuts, capacity_cuts and tiers")
                for k in missing
            ]
            + [Problem(_WHERE, None, str(k), grid[k], "unknown key", f"keys: {', '.join(keys)}") for k in unknown]
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


def require_tiers(data: pd.DataFrame, *, year: int) -> None:
    """Raise unless some customer of ``year`` has a tier: without the scorecard items and
    without a tier column there is nothing for the tier report to show."""
    if data.loc[data["snapshot_year"] == year, "tier"].notna().any():
        return
    from funnelkit.i18n import t

    items = ", ".join([*schema.LOYALTY_ITEMS, *schema.CAPACITY_ITEMS])
    texts = {lang: t("tiers.error_no_tiers", lang, year=year, items=items) for lang in ("en", "zh")}
    raise FunnelkitError(texts["en"], texts=texts)


def tiered(data: pd.DataFrame, year: int | None) -> pd.DataFrame:
    """The tiered customers of ``year`` (of every year when ``None``)."""
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
    rows = tiered(data, None)
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
    rows = tiered(data, None)
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
