"""The written summary and the key figures of the lost-deal report, built from its tables."""

from __future__ import annotations

import math

import pandas as pd

from .i18n import t
from .lost_reasons import controllable_share
from .lost_reasons import top_reasons as _top_reasons


def _pct(value: float) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1%}"


def _yoy_finding(yoy: pd.DataFrame, year: int, lang: str) -> list[str]:
    row = yoy[yoy["year"].astype(str).eq(str(year))]
    if row.empty or pd.isna(row["change"].iloc[0]):
        return [t("lost.find_yoy_none", lang)]
    r = row.iloc[0]
    key = "lost.find_yoy_significant" if r["p_value"] < 0.05 else "lost.find_yoy_not_significant"
    return [t(key, lang, previous=year - 1, direction=t("lost.up" if r["change"] > 0 else "lost.down", lang),
              points=f"{abs(r['change']) * 100:.1f}", p=f"{r['p_value']:.3f}")]


def _top_reason_finding(shares: pd.DataFrame, lang: str) -> list[str]:
    top = shares[shares["rank"].eq(1)]
    parts = [t("lost.find_top_reason_part", lang, line=line, reason=reason, share=_pct(share))
             for line, reason, share in zip(top["product_line"], top["reason"], top["share"])]
    if not parts:
        return []
    return [t("lost.find_top_reasons", lang, parts=("；" if lang == "zh" else "; ").join(parts))]


def _recovery_findings(split: pd.DataFrame, funnel: pd.DataFrame, effect: pd.Series, holders: pd.DataFrame,
                       lang: str) -> list[str]:
    quasi_share = float(split.loc[split["lost_group"].eq("quasi_lost"), "share"].sum())
    counts = dict(zip(funnel["step"], funnel["count"]))
    texts = [t("lost.find_recovery", lang, quasi_share=_pct(quasi_share), quasi=counts["quasi_lost"],
               followed=counts["followed_up"], reengaged=counts["reengaged"], recovered=counts["recovered"],
               rate_if=_pct(effect["lost_rate_if_recovered"]))]
    if effect["more_needed"] == 0:
        return texts + [t("lost.find_needed_none", lang)]
    first = holders.groupby("dimension", sort=False).head(1)
    where = "、".join(f"{g}（{p}）" if lang == "zh" else f"{g} ({p})" for g, p in zip(first["group"], first["pool"]))
    key = "lost.find_needed" if effect["reachable"] else "lost.find_needed_unreachable"
    return texts + [t(key, lang, needed=int(effect["more_needed"]), pool=int(effect["pool"]), where=where)]


def findings(*, year: int, target_row: pd.DataFrame, yoy: pd.DataFrame, shares: pd.DataFrame,
             categories: pd.DataFrame, split: pd.DataFrame, funnel: pd.DataFrame, effect: pd.DataFrame,
             holders: pd.DataFrame, competitors: pd.DataFrame, warnings: list[str], lang: str = "zh") -> list[str]:
    """The report's findings, in order: the lost rate against the target, the change from last
    year, top reasons, the controllable share, quasi-lost recovery and what the target still
    needs, the leading competitor, and data-quality warnings if any."""
    if target_row.empty or not target_row["closed"].iloc[0]:
        return [t("lost.find_no_deals", lang, year=year)]
    r = target_row.iloc[0]
    texts = [t("lost.find_rate", lang, year=year, rate=_pct(r["lost_rate"]), low=_pct(r["lost_rate_low"]),
               high=_pct(r["lost_rate_high"]), closed=int(r["closed"]), target=_pct(r["target"]),
               gap=f"{r['gap_to_target'] * 100:+.1f}", status=r["status_label"])]
    if r["open"]:  # open deals are mostly recent: their losses are still to come
        texts.append(t("lost.find_open", lang, open=int(r["open"]), share=_pct(r["open"] / (r["closed"] + r["open"]))))
    texts += _yoy_finding(yoy, year, lang) + _top_reason_finding(shares, lang)
    texts.append(t("lost.find_controllable", lang, share=_pct(controllable_share(categories))))
    texts += _recovery_findings(split, funnel, effect.iloc[0], holders, lang)
    if not competitors.empty:
        texts.append(t("lost.find_competitor", lang, brand=competitors["competitor"].iloc[0],
                       share=_pct(competitors["share"].iloc[0])))
    if warnings:
        texts.append(t("lost.find_warnings", lang, count=len(warnings)))
    return texts


def summary_figures(*, year: int, target_row: pd.DataFrame, shares: pd.DataFrame, categories: pd.DataFrame,
                    effect: pd.DataFrame, margin: float) -> dict:
    """The figures ``summary.json`` carries for the leadership index."""
    r = target_row.iloc[0]
    e = effect.iloc[0]
    return {"current_year": int(year), "closed_deals": int(r["closed"]), "lost_rate": float(r["lost_rate"]),
            "lost_rate_low": float(r["lost_rate_low"]), "lost_rate_high": float(r["lost_rate_high"]),
            "lost_rate_target": float(r["target"]), "at_risk_margin": float(margin),
            "gap_to_target": float(r["gap_to_target"]), "status": str(r["status"]),
            "top_reason_by_product_line": _top_reasons(shares),
            "controllable_share": controllable_share(categories),
            "recovered_count": int(e["recovered"]), "lost_rate_if_recovered": float(e["lost_rate_if_recovered"]),
            "more_needed_to_target": int(e["more_needed"])}
