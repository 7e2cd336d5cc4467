"""Lost-deal analysis (战败客户分析): which deals are in scope, win and lost rates, the target.

A *deal* is a lead that reached the deal stage (param ``deal_from_stage``, by default
``contacted`` — the first stage where sales engages). Leads lost before it (network not
available, never reached) are context, not lost deals. Among deals, the lost rate is
``lost / (won + lost)`` over closed deals; open deals are counted apart. A deal belongs to the
year (and month) its lead was created: rates are cohort rates.

The other parts live next to this module: reasons and timing in :mod:`funnelkit.lost_reasons`,
quasi-lost leads and recovery in :mod:`funnelkit.lost_recovery`, free-text notes in
:mod:`funnelkit.lost_notes`, the written summary in :mod:`funnelkit.lost_summary`.

Examples
--------
>>> from funnelkit.demo import load_demo
>>> deal_leads = deals(load_demo("leads", branch="温州分公司"))
>>> rates = lost_rates(in_year(deal_leads, latest_year(deal_leads)))
>>> bool(rates["lost_rate"].between(0, 1).all())
True
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .exceptions import ParamsError, Problem
from .i18n import t
from .schema import QUASI_LOST_KINDS, TRULY_LOST_KINDS, resolve_stages
from .stats import two_proportion_test, with_wilson

#: Optional leads columns this analysis reads; absent ones count as empty.
OPTIONAL = ("lost_reason", "lost_kind", "competitor", "lost_date", "followed_up", "reengaged", "recovered", "note")
#: Category codes the taxonomy does not define: reasons it does not list, and empty reasons.
UNMAPPED, MISSING = "unmapped", "missing"
#: The category the branch controls itself.
CONTROLLABLE = "sales_process"
DIMENSIONS = ("product_line", "segment", "owner")
STATUSES = ("on_track", "at_risk", "off_track")


def _stage_position(data: pd.DataFrame, stages, deal_from_stage: str) -> tuple[pd.Series, int]:
    keys = [s.key for s in resolve_stages(stages)]
    if deal_from_stage not in keys:
        raise ParamsError([Problem("params: lost", None, "deal_from_stage", deal_from_stage,
                                   "not a stage of this branch's funnel", f"use one of {', '.join(keys)}")])
    return data["stage"].astype(str).map({k: i for i, k in enumerate(keys)}), keys.index(deal_from_stage)


def check_taxonomy(taxonomy: dict) -> dict[str, str]:
    """Reason → category from ``{category: [reasons]}``; a reason under two categories is an error."""
    pairs = [(str(reason).strip(), str(category)) for category, reasons in taxonomy.items() for reason in reasons]
    seen: dict[str, str] = {}
    problems = [Problem("params: lost", None, "reason_taxonomy", reason,
                        f"listed under both {seen[reason]!r} and {category!r}", "keep it in one category")
                for reason, category in pairs if seen.setdefault(reason, category) != category]
    if problems:
        raise ParamsError(problems)
    return seen


def deals(leads: pd.DataFrame, *, stages=None, deal_from_stage: str = "contacted", taxonomy: dict | None = None,
          lang: str = "zh") -> pd.DataFrame:
    """The leads that reached the deal stage, with the columns every lost-deal table uses.

    Parameters
    ----------
    leads : DataFrame
        Validated leads (data contract); ``stage`` holds stage keys.
    stages : list, optional
        The branch's funnel (``[]`` = the default telecom funnel).
    deal_from_stage : str
        First stage of a deal.
    taxonomy : dict, optional
        ``{category: [reason, ...]}`` from params.
    lang : str
        Language of the label given to lost deals without a reason.

    Returns
    -------
    DataFrame
        The deal rows (a copy) plus ``year``, ``month`` (``"2006-03"``), ``reason`` (lost
        deals; empty reasons labelled), ``category`` (taxonomy code, ``unmapped`` or ``missing``)
        and ``lost_group`` (``quasi_lost``, ``truly_lost`` or ``unknown`` for lost deals).
    """
    data = leads.reindex(columns=[*leads.columns, *[c for c in OPTIONAL if c not in leads.columns]])
    position, first = _stage_position(data, stages, deal_from_stage)
    data = data.loc[position >= first]
    lost = data["outcome"].astype(str).eq("lost")
    reason = data["lost_reason"].astype("string").str.strip().replace("", pd.NA)
    category = (reason.map(check_taxonomy(taxonomy or {})).astype("string").fillna(UNMAPPED)
                .where(reason.notna(), MISSING))
    kind = data["lost_kind"].astype("string")
    group = np.select([kind.isin(QUASI_LOST_KINDS).fillna(False), kind.isin(TRULY_LOST_KINDS).fillna(False)],
                      ["quasi_lost", "truly_lost"], "unknown")
    return data.assign(
        year=data["created_date"].dt.year.astype("Int64"),
        month=data["created_date"].dt.strftime("%Y-%m"),
        reason=reason.fillna(t("lost.reason_missing", lang)).where(lost),
        category=category.where(lost),
        lost_group=pd.Series(group, index=data.index, dtype="string").where(lost),
    )


def flag(data: pd.DataFrame, column: str) -> pd.Series:
    """A yes/no column as plain booleans, empty cells as False."""
    return data[column].astype("boolean").fillna(False).astype(bool)


def scope_counts(leads: pd.DataFrame, *, stages=None, deal_from_stage: str = "contacted",
                 lang: str = "zh") -> pd.DataFrame:
    """Leads before the deal stage and deals, by outcome: the context shown once.

    Returns ``scope`` (label), ``won``, ``lost``, ``open``, ``leads``, ``top_reasons`` (the most
    frequent lost reasons of that scope).
    """
    position, first = _stage_position(leads, stages, deal_from_stage)
    labels = {s.key: s.label(lang) for s in resolve_stages(stages)}
    scope = np.where(position >= first, t("lost.scope_deals", lang, stage=labels[deal_from_stage]),
                     t("lost.scope_before", lang, stage=labels[deal_from_stage]))
    outcome = leads["outcome"].astype(str)
    reasons = leads["lost_reason"] if "lost_reason" in leads else pd.Series(pd.NA, index=leads.index)
    frame = pd.DataFrame({"scope": scope, "outcome": outcome, "reason": reasons.astype("string")})
    counts = pd.crosstab(frame["scope"], frame["outcome"]).reindex(columns=["won", "lost", "open"], fill_value=0)
    top = (frame[frame["outcome"].eq("lost")].dropna(subset=["reason"]).groupby("scope")["reason"]
           .agg(lambda s: "、".join(s.value_counts().head(3).index)))
    return (counts.assign(leads=counts.sum(axis=1), top_reasons=top.reindex(counts.index).fillna(""))
            .sort_index(ascending=False).reset_index().rename_axis(columns=None))


def latest_year(deal_leads: pd.DataFrame, current_year: int = 0) -> int:
    """The year analysed: ``current_year`` when it is set and in the data, else the latest year."""
    years = sorted(int(y) for y in deal_leads["year"].dropna().unique())
    if not years:
        return int(current_year)
    if current_year and current_year not in years:
        raise ParamsError([Problem("params: lost", None, "current_year", current_year, "no deals created that year",
                                   f"use 0 (latest) or one of {', '.join(map(str, years))}")])
    return int(current_year) or years[-1]


def in_year(deal_leads: pd.DataFrame, year: int) -> pd.DataFrame:
    """The deals created in ``year``."""
    return deal_leads[deal_leads["year"].eq(year).fillna(False)]


def rate_table(deal_leads: pd.DataFrame, *, by: str | list[str] | None = None) -> pd.DataFrame:
    """Won, lost and open deals, lost rate and win rate with Wilson 95% intervals, per group.

    ``closed = won + lost``; ``lost_rate = lost / closed``; ``win_rate = 1 - lost_rate`` (its
    interval is the lost-rate interval mirrored). ``too_few`` marks groups under
    :data:`funnelkit.stats.MIN_GROUP` closed deals.
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    outcome = deal_leads["outcome"].astype(str)
    flags = pd.DataFrame({"won": outcome.eq("won"), "lost": outcome.eq("lost"), "open": outcome.eq("open")})
    if keys:
        counts = flags.groupby([deal_leads[k].astype(str) for k in keys]).sum().reset_index()
    else:
        counts = flags.sum().to_frame().T
    counts = counts.astype({"won": int, "lost": int, "open": int})
    rated = with_wilson(counts.assign(closed=counts["won"] + counts["lost"]), successes="lost", trials="closed",
                        prefix="lost_rate")
    return rated.assign(win_rate=1 - rated["lost_rate"], win_rate_low=1 - rated["lost_rate_high"],
                        win_rate_high=1 - rated["lost_rate_low"])


def lost_rates(deal_leads: pd.DataFrame, *, by=DIMENSIONS, lang: str = "zh") -> pd.DataFrame:
    """:func:`rate_table` overall and for each dimension in ``by``, stacked: ``dimension``,
    ``group`` then the rate columns; within a dimension, highest lost rate first."""
    overall = rate_table(deal_leads).assign(dimension=t("lost.overall", lang), group=t("lost.all", lang))
    parts = [rate_table(deal_leads, by=d).rename(columns={d: "group"})
             .assign(dimension=t(f"lost.dim_{d}", lang)).sort_values("lost_rate", ascending=False) for d in by]
    table = pd.concat([overall, *parts], ignore_index=True)
    return table[["dimension", "group", *[c for c in table.columns if c not in ("dimension", "group")]]]


def monthly_rates(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """:func:`rate_table` by month of lead creation, oldest first."""
    return rate_table(deal_leads, by="month").sort_values("month", ignore_index=True)


def target_status(lost_rate: float, *, target: float, margin: float) -> str:
    """``on_track`` at or below the target, ``at_risk`` up to ``margin`` above it, else ``off_track``.

    Rates are compared after rounding to 10 decimals so that 0.68 against 0.65 + 0.03 is
    "at risk", not lost to floating-point noise.
    """
    if lost_rate is None or math.isnan(lost_rate):
        return "off_track"
    gap = round(lost_rate - target, 10)
    return "on_track" if gap <= 0 else "at_risk" if gap <= round(margin, 10) else "off_track"


def target_check(deal_leads: pd.DataFrame, *, target: float, margin: float, lang: str = "zh") -> pd.DataFrame:
    """One row: the lost rate of ``deal_leads`` against the target, its gap and status."""
    row = rate_table(deal_leads)
    status = target_status(float(row["lost_rate"].iloc[0]), target=target, margin=margin)
    return row[["closed", "won", "lost", "open", "lost_rate", "lost_rate_low", "lost_rate_high"]].assign(
        target=target, gap_to_target=row["lost_rate"] - target, status=status,
        status_label=t(f"lost.status_{status}", lang))


def year_over_year(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """Lost rate per creation year, with the change from the year before: ``change`` (rate
    difference), its Newcombe interval and the two-proportion score test p-value."""
    years = rate_table(deal_leads, by="year").sort_values("year", ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # a year with no losses: ratios inside are inf
        tests = [two_proportion_test(p["lost"], p["closed"], c["lost"], c["closed"]) if i else
                 {"diff": np.nan, "diff_low": np.nan, "diff_high": np.nan, "p_value": np.nan}
                 for i, (p, c) in enumerate(zip(years.shift(1).to_dict("records"), years.to_dict("records")))]
    change = pd.DataFrame(tests, index=years.index)[["diff", "diff_low", "diff_high", "p_value"]]
    return pd.concat([years, change.rename(columns={"diff": "change", "diff_low": "change_low",
                                                    "diff_high": "change_high"})], axis=1)


def lead_flow(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """Where deals go: ``source`` → ``target`` node codes with the ``count`` of deals.

    pool → won → base customers; pool → open; pool → lost → lost-lead management (quasi-lost)
    → recovered / not recovered; lost → competitor-prospect pool (truly lost); lost → kind
    unknown. Recovered deals also flow back into base-customer management.
    """
    outcome = deal_leads["outcome"].astype(str)
    group = deal_leads["lost_group"]
    quasi = group.eq("quasi_lost").fillna(False)
    recovered = int((quasi & flag(deal_leads, "recovered")).sum())
    n_quasi = int(quasi.sum())
    edges = [("pool", "won", int(outcome.eq("won").sum())), ("pool", "open", int(outcome.eq("open").sum())),
             ("pool", "lost", int(outcome.eq("lost").sum())), ("won", "base", int(outcome.eq("won").sum())),
             ("lost", "management", n_quasi), ("lost", "competitor_pool", int(group.eq("truly_lost").sum())),
             ("lost", "kind_unknown", int(group.eq("unknown").sum())), ("management", "recovered", recovered),
             ("management", "not_recovered", n_quasi - recovered), ("recovered", "base", recovered)]
    return pd.DataFrame(edges, columns=["source", "target", "count"])


def flow_table(flow: pd.DataFrame, *, lang: str = "zh") -> pd.DataFrame:
    """:func:`lead_flow` with node labels, for display."""
    return pd.DataFrame({"from": flow["source"].map(lambda c: t(f"lost.node_{c}", lang)),
                         "to": flow["target"].map(lambda c: t(f"lost.node_{c}", lang)), "count": flow["count"]})


def column_labels(lang: str = "zh") -> dict[str, str]:
    """Display names of every column the lost-deal tables use (``lost.col_<column>`` messages)."""
    from .i18n import catalogue

    return {key.removeprefix("lost.col_"): t(key, lang) for key in catalogue() if key.startswith("lost.col_")}


def stage_label(key: str, *, stages=None, lang: str = "zh") -> str:
    """Display label of a stage key in the branch's funnel (the key itself when unknown)."""
    return next((s.label(lang) for s in resolve_stages(stages) if s.key == key), key)
