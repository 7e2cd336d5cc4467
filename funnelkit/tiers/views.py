"""Display tables of the tier report: ``view(result, lang) -> DataFrame``, one per table shown.

Each turns a table of :class:`~funnelkit.tiers.Result` into words for reading: codes become
labels in ``lang``, fractions percentages, counts and yuan whole numbers with separators, and
headers the report's own. The tidy tables themselves (codes) are what is saved as CSV.

Examples
--------
>>> from funnelkit import tiers
>>> from funnelkit.data import load_tables
>>> params = tiers.Params(branch="杭州分公司")
>>> result = tiers.analyse(load_tables(params, tiers.TABLES), params)
>>> shares(result, "en").columns.tolist()[:3]
['Year', 'Tier', 'Customers']
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from funnelkit.i18n import catalogue, label, t

from .value import band_labels

#: Columns that hold codes; shown through :func:`code_label`.
CODE_COLUMNS = (
    "tier",
    "from_tier",
    "to_tier",
    "kind",
    "source_type",
    "movement",
    "tier_basis",
    "region_class",
    "value_tier",
    "dimension",
)
_OWN_CODES = {
    "new",
    "gone",
    "unknown",
    "up",
    "same",
    "down",
    "scorecard",
    "source",
    "none",
    "key",
    "weak",
    "vip",
    "major",
    "small",
    "region",
    "industry",
    "other",
}
_CALENDAR = ("snapshot_year", "month", "year")


def code_label(code, lang: str = "zh", *, column: str = "") -> str:
    """Display label of a code used in the tier tables (tier, source, movement, value tier …)."""
    if column == "value_tier" and code == "ordinary":
        return t("tiers.code_ordinary_value", lang)
    if column == "region_class" and code == "ordinary":
        return t("tiers.code_ordinary", lang)
    if code in _OWN_CODES:
        return t(f"tiers.code_{code}", lang)
    return label(code, lang)


def column_labels(lang: str = "zh") -> dict[str, str]:
    """Column name → display heading for every tier table."""
    return {key.removeprefix("tiers.col_"): t(key, lang) for key in catalogue() if key.startswith("tiers.col_")}


def labelled(data: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A copy of ``data`` with code columns turned into display labels."""
    return data.assign(
        **{
            column: data[column].map(lambda c, col=column: code_label(c, lang, column=col), na_action="ignore")
            for column in CODE_COLUMNS
            if column in data.columns
        }
    )


def _show(
    data: pd.DataFrame,
    lang: str,
    *,
    percent: Iterable[str] = (),
    decimals: dict[str, int] | None = None,
    drop: Iterable[str] = (),
) -> pd.DataFrame:
    """Labels for codes, numbers as text (percentages, separators, decimals), headers in ``lang``."""
    out = labelled(data.drop(columns=[c for c in drop if c in data.columns]), lang)
    digits = {**{c: None for c in percent}, **(decimals or {})}
    for column in out.columns:
        values = out[column]
        if column in digits:
            places = digits[column]
            out[column] = values.map(
                lambda v, d=places: "" if pd.isna(v) else (f"{v:.1%}" if d is None else f"{v:,.{d}f}")
            )
        elif column in _CALENDAR:
            continue
        elif pd.api.types.is_bool_dtype(values):
            out[column] = values.map(lambda v: t("common.flag_yes", lang) if v is True else "")
        elif pd.api.types.is_numeric_dtype(values):
            out[column] = values.map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
    names = column_labels(lang)
    return out.rename(columns={c: names.get(c, c) for c in out.columns})


def basis(result, lang: str) -> pd.DataFrame:
    """How each customer was tiered: by scorecards, by the source's own tier, or not at all."""
    return _show(result.basis, lang)


def grid(result, lang: str) -> pd.DataFrame:
    """The loyalty × capacity grid: customers and share in each cell, with its tier."""
    return _show(result.grid_cells, lang, percent=["share"])


def shares(result, lang: str) -> pd.DataFrame:
    """Customers and share per tier, this year and the year before."""
    return _show(result.shares, lang, percent=["share"])


def by_region(result, lang: str) -> pd.DataFrame:
    """Customers per tier and region, both years, with shares and growth (this year only
    when there is no previous snapshot)."""
    return _by_group(result, result.by_region, lang)


def by_industry(result, lang: str) -> pd.DataFrame:
    """Customers per tier and industry, both years, with shares and growth (this year only
    when there is no previous snapshot)."""
    return _by_group(result, result.by_industry, lang)


def _by_group(result, data: pd.DataFrame, lang: str) -> pd.DataFrame:
    previous = ["previous", "share_previous", "growth"] if result.previous_year is None else []
    return _show(data, lang, percent=["share_previous", "share_current", "growth"], drop=previous)


def regions(result, lang: str) -> pd.DataFrame:
    """Key, ordinary and weak regions by the region rule."""
    return _show(result.regions, lang, percent=["focus_share"], decimals={"ratio": 2})


def concentration(result, lang: str) -> pd.DataFrame:
    """Top-k share, top group share, Herfindahl index and effective number of groups."""
    return _show(
        result.spread, lang, percent=["top_k_share", "top_group_share"], decimals={"hhi": 3, "effective_groups": 1}
    )


def migration(result, lang: str) -> pd.DataFrame | None:
    """Customers moving between tiers from the previous year to this one."""
    if result.moves is None:
        return None
    return _show(result.moves, lang)


def migration_summary(result, lang: str) -> pd.DataFrame | None:
    """Up, same, down, new and gone customers."""
    if result.movement is None:
        return None
    return _show(result.movement, lang)


def value_bands(result, lang: str) -> pd.DataFrame:
    """Customers and revenue per sales-amount band, the band named in ``lang``."""
    bands = result.bands.assign(band=band_labels(result.bands["lower"].tolist(), lang=lang))
    return _show(bands[["band", *result.bands.columns]], lang, percent=["share", "revenue_share"])


def top_revenue_share(result, lang: str) -> pd.DataFrame:
    """Share of revenue from the top fifth of customers."""
    return _show(result.top_share, lang, percent=["top_fraction", "top_revenue_share"])


def value_tiers(result, lang: str) -> pd.DataFrame:
    """VIP, major, ordinary and small customers by sales-amount rank."""
    return _show(result.value_table, lang, percent=["share", "revenue_share"])


def events_by_month(result, lang: str) -> pd.DataFrame | None:
    """Referrals and repurchases per month, one column per kind and tier."""
    if result.by_month is None:
        return None
    by_month = result.by_month
    if by_month.empty:
        return pd.DataFrame({column_labels(lang).get("month", "month"): []})
    table = by_month.pivot_table(index="month", columns=["kind", "tier"], values="events", aggfunc="sum", sort=False)
    table.columns = [f"{code_label(kind, lang)}·{code_label(tier, lang)}" for kind, tier in table.columns]
    return _show(table.reset_index(), lang)


def events_by_tier(result, lang: str) -> pd.DataFrame | None:
    """Referrals and repurchases per tier, and per 100 customers."""
    if result.per_tier is None:
        return None
    return _show(result.per_tier, lang, decimals={"referral_per_100": 1, "repurchase_per_100": 1})


def referral_sources(result, lang: str) -> pd.DataFrame | None:
    """Referrals and share per source, with the action params recommend for it in ``lang``."""
    if result.sources is None:
        return None
    actions = result.sources["source_type"].map(lambda code: result.actions.get(code, {}).get(lang, ""))
    return _show(result.sources.assign(action=actions), lang, percent=["share"])


def cadence(result, lang: str) -> pd.DataFrame | None:
    """Share of customers per tier meeting the phone, on-site and whole follow-up policy."""
    if result.cadence_table is None:
        return None
    return _show(result.cadence_table, lang, percent=["meets_phone", "meets_onsite", "meets_policy"])


def overdue_owners(result, lang: str) -> pd.DataFrame | None:
    """Overdue customers per sales owner."""
    if result.owners is None:
        return None
    return _show(result.owners, lang, percent=["overdue_share"])


#: Overdue customers shown per sales owner (the longest waits); the CSV lists every one.
OVERDUE_PER_OWNER = 3


def overdue(result, lang: str) -> pd.DataFrame | None:
    """Each sales owner's longest-waiting overdue customers (:data:`OVERDUE_PER_OWNER`), with
    days since the last call and visit, owners with the most overdue customers first: a list
    every owner finds a start in, not the first owner's whole list."""
    if result.overdue is None or result.owners is None:
        return None
    order = {owner: i for i, owner in enumerate(result.owners["owner"])}
    rows = result.overdue.groupby("owner", sort=False).head(OVERDUE_PER_OWNER)
    rows = rows.sort_values("owner", key=lambda o: o.map(order), kind="stable")
    return _show(rows.reset_index(drop=True), lang)
