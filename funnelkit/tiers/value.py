"""Value segmentation of base customers by sales amount (累计购买金额).

Sales-amount bands (a funnel of customers at or above each band), the share of revenue from
the top 20% of customers, and value tiers VIP / major / ordinary / small by percentile.
Functions take the ``customers`` table (one row per customer and snapshot year) and keep the
rows of one ``year`` with a known ``sales_amount``.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import pandas as pd

from funnelkit.exceptions import ParamsError, Problem

DEFAULT_BANDS = (0, 10_000, 50_000, 100_000, 200_000)
#: Cumulative top fractions by sales amount: the top 5% are VIP, the rest of the top 20%
#: major, the rest of the top 50% ordinary, everyone else small.
DEFAULT_VALUE_TIERS = {"vip": 0.05, "major": 0.20, "ordinary": 0.50}
VALUE_TIERS = ("vip", "major", "ordinary", "small")


def _amount_text(yuan: float, lang: str) -> str:
    if lang == "zh":
        return f"{yuan / 10_000:g}万"
    return f"{yuan / 1000:g}k"


def band_labels(bands, *, lang: str = "zh") -> list[str]:
    """Labels of the bands that start at each bound: ``<1万``, ``1–5万``, …, ``≥20万``.

    Examples
    --------
    >>> band_labels([0, 10000, 50000, 100000, 200000])
    ['<1万', '1–5万', '5–10万', '10–20万', '≥20万']
    """
    bounds = list(bands)
    unit = "万" if lang == "zh" else "k"
    labels = []
    for i, low in enumerate(bounds):
        if i == len(bounds) - 1:
            labels.append(f"≥{_amount_text(low, lang)}")
        elif i == 0 and low == 0:
            labels.append(f"<{_amount_text(bounds[1], lang)}")
        else:
            labels.append(f"{_amount_text(low, lang).removesuffix(unit)}–{_amount_text(bounds[i + 1], lang)}")
    return labels


def check_bands(bands) -> list[float]:
    """The sales-amount bands of params ``tiers.value_bands``: at least two increasing amounts from 0 or more.

    Raises
    ------
    ParamsError
        When they are not; the params declaration uses this as the parameter's rule.

    Examples
    --------
    >>> check_bands([0, 10000, 50000])
    [0.0, 10000.0, 50000.0]
    """
    bounds = list(bands)
    numbers = all(isinstance(b, Real) and not isinstance(b, bool) for b in bounds)
    if not numbers or len(bounds) < 2 or bounds != sorted(set(bounds)) or bounds[0] < 0:
        raise ParamsError(
            [
                Problem(
                    "params: tiers.value_bands",
                    None,
                    None,
                    bands,
                    "must be at least two increasing amounts in yuan, the first ≥ 0",
                    "e.g. [0, 10000, 50000, 100000, 200000]",
                )
            ]
        )
    return [float(b) for b in bounds]


def _with_amount(data: pd.DataFrame, year: int) -> pd.DataFrame:
    rows = data[data["snapshot_year"] == year]
    return rows[rows["sales_amount"].notna()] if "sales_amount" in rows else rows.iloc[0:0].assign(sales_amount=0.0)


def value_bands(data: pd.DataFrame, *, year: int, bands: list) -> pd.DataFrame:
    """Customers and revenue per sales-amount band in ``year``, lowest band first.

    A band is named by its bounds (``lower``; :func:`band_labels` words them for a report);
    ``upper`` is the band's exclusive upper bound (empty for the last, open band);
    ``customers_at_least`` counts customers in this band or above (the funnel's widths);
    amounts below the first bound are left out.
    """
    bounds = check_bands(bands)
    rows = _with_amount(data, year)
    band = pd.cut(rows["sales_amount"].astype(float), [*bounds, np.inf], right=False, labels=False)
    grouped = rows.assign(band=band).groupby("band")["sales_amount"].agg(["size", "sum"])
    grouped = grouped.reindex(range(len(bounds)), fill_value=0)
    total_n, total_amount = grouped["size"].sum(), grouped["sum"].sum()
    return pd.DataFrame(
        {
            "lower": bounds,
            "upper": bounds[1:] + [np.nan],  # the last band is open
            "customers": grouped["size"].astype(int).to_numpy(),
            "share": (grouped["size"] / total_n).to_numpy() if total_n else np.nan,
            "customers_at_least": grouped["size"][::-1].cumsum()[::-1].astype(int).to_numpy(),
            "revenue": grouped["sum"].astype(float).to_numpy(),
            "revenue_share": (grouped["sum"] / total_amount).to_numpy() if total_amount else np.nan,
        }
    )


def top_revenue_share(data: pd.DataFrame, *, year: int, top: float = 0.2) -> pd.DataFrame:
    """Share of ``year``'s revenue from the top ``top`` fraction of customers by sales amount.

    The top group is ``ceil(top × customers)`` customers (at least one), the largest first.
    """
    amounts = _with_amount(data, year)["sales_amount"].astype(float).sort_values(ascending=False)
    n_top = math.ceil(top * len(amounts)) if len(amounts) else 0
    total = amounts.sum()
    return pd.DataFrame(
        [
            {
                "customers": len(amounts),
                "top_fraction": top,
                "top_customers": n_top,
                "revenue": total,
                "top_revenue": amounts.head(n_top).sum(),
                "top_revenue_share": amounts.head(n_top).sum() / total if total else np.nan,
            }
        ]
    )


def check_value_tiers(rule: dict | None) -> list[float]:
    """The cumulative top fractions (vip, major, ordinary) of a value-tier rule from params.

    Keys not given keep their default. Raises :class:`~funnelkit.exceptions.ParamsError`
    naming each unknown key, and when the fractions are not 0 < vip ≤ major ≤ ordinary ≤ 1.

    Examples
    --------
    >>> check_value_tiers({"vip": 0.1})
    [0.1, 0.2, 0.5]
    """
    where = "params: tiers.value_tiers"
    rule = {**DEFAULT_VALUE_TIERS, **(rule or {})}
    problems = [
        Problem(where, None, str(k), rule[k], "unknown key", f"keys: {', '.join(DEFAULT_VALUE_TIERS)}")
        for k in rule
        if k not in DEFAULT_VALUE_TIERS
    ]
    cuts = [rule[k] for k in DEFAULT_VALUE_TIERS]
    if not (
        all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cuts)
        and 0 < cuts[0] <= cuts[1] <= cuts[2] <= 1
    ):
        problems.append(
            Problem(
                where,
                None,
                None,
                {k: rule[k] for k in DEFAULT_VALUE_TIERS},
                "vip ≤ major ≤ ordinary must be fractions between 0 and 1",
                "e.g. {vip: 0.05, major: 0.2, ordinary: 0.5}",
            )
        )
    if problems:
        raise ParamsError(problems)
    return cuts


def value_tiers(data: pd.DataFrame, *, year: int, rule: dict) -> pd.DataFrame:
    """Customers and revenue per value tier (VIP / major / ordinary / small) in ``year``.

    ``rule`` gives cumulative top fractions by sales amount (``{vip: 0.05, major: 0.2,
    ordinary: 0.5}``); a customer's rank fraction is its rank from the top (ties share the
    better rank) divided by the number of customers.
    """
    cuts = check_value_tiers(rule)
    rows = _with_amount(data, year)
    rank = rows["sales_amount"].astype(float).rank(ascending=False, method="min", pct=True)
    tier = np.select([rank <= cuts[0], rank <= cuts[1], rank <= cuts[2]], VALUE_TIERS[:3], VALUE_TIERS[3])
    stats = (
        rows.assign(value_tier=tier)
        .groupby("value_tier")["sales_amount"]
        .agg(customers="size", revenue="sum", min_amount="min", max_amount="max")
        .reindex(list(VALUE_TIERS))
    )
    stats["customers"] = stats["customers"].fillna(0).astype(int)
    stats["revenue"] = stats["revenue"].fillna(0.0).astype(float)
    return stats.reset_index().assign(
        share=lambda d: d["customers"] / d["customers"].sum() if d["customers"].sum() else np.nan,
        revenue_share=lambda d: d["revenue"] / d["revenue"].sum() if d["revenue"].sum() else np.nan,
    )[["value_tier", "customers", "share", "revenue", "revenue_share", "min_amount", "max_amount"]]
