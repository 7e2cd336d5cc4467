"""Lost-deal analysis (战败客户分析): which deals are in scope, win and lost rates, the target.

A *deal* is a lead that reached the deal stage (param ``deal_from_stage``, by default
``contacted`` — the first stage where sales engages). Leads lost before it (network not
available, never reached) are context, not lost deals. Among deals, the lost rate is
``lost / (won + lost)`` over closed deals; open deals are counted apart. A deal belongs to the
year (and month) its lead was created: rates are cohort rates.

Maturity: a loss is recorded weeks after a lead is created (a win sooner), so the newest deals
are still open and would mostly end lost; their cohort's lost rate is biased low. A deal is
*mature* when it was created at least ``maturity_days`` before the data's end date
(:func:`with_maturity`; by default the 90th percentile of days from creation to loss in the
branch's own closed history, :func:`maturity_days`). The current year's lost rate, the target
status and the year-over-year tests use mature deals only; the left-out deals are counted and
bounded (:func:`target_check`).

The other parts live next to this module: reasons and timing in :mod:`funnelkit.lost.reasons`,
quasi-lost leads and recovery in :mod:`funnelkit.lost.recovery`, free-text notes in
:mod:`funnelkit.lost.notes`; :func:`funnelkit.lost.analyse` runs them all. Every table holds
codes (``overall``, ``all``, ``on_track``, ``missing``), never words of a language.

Examples
--------
>>> from funnelkit.demo import load_demo
>>> deal_leads = deals(load_demo("leads", branch="温州分公司"), deal_from_stage="contacted")
>>> rates = lost_rates(in_year(deal_leads, latest_year(deal_leads, 0)))
>>> bool(rates["lost_rate"].between(0, 1).all())
True
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from funnelkit.data.schema import QUASI_LOST_KINDS, TRULY_LOST_KINDS, resolve_stages
from funnelkit.exceptions import ParamsError, Problem
from funnelkit.stats import adjust_pvalues, two_proportion_test, with_wilson

#: Optional leads columns this analysis reads; absent ones count as empty.
OPTIONAL = ("lost_reason", "lost_kind", "competitor", "lost_date", "followed_up", "reengaged", "recovered", "note")
#: Category codes the taxonomy does not define: reasons it does not list, and empty reasons.
#: ``missing`` is also the ``reason`` (and ``competitor``) of a deal lost without one.
UNMAPPED, MISSING = "unmapped", "missing"
#: The ``group`` of a table's row over every deal (``dimension`` ``overall``).
ALL = "all"
#: ``scope`` codes of :func:`scope_counts`.
SCOPES = ("deals", "before_deals")
#: The category the branch controls itself.
CONTROLLABLE = "sales_process"
DIMENSIONS = ("product_line", "segment", "owner")
STATUSES = ("on_track", "at_risk", "off_track")
#: Maturity when the branch has no dated losses to take the 90th percentile from.
FALLBACK_MATURITY_DAYS = 120


def _stage_position(data: pd.DataFrame, stages, deal_from_stage: str) -> tuple[pd.Series, int]:
    keys = [s.key for s in resolve_stages(stages)]  # deal_from_stage is one of them (checked by analyse)
    # Looked up once per distinct stage, not per lead (millions of leads, a handful of stages).
    codes, distinct = pd.factorize(data["stage"].astype("string"))
    found = pd.Series(np.asarray(distinct, dtype=object)).map({k: i for i, k in enumerate(keys)}).to_numpy(float)
    position = np.where(codes >= 0, found[codes] if len(found) else np.nan, np.nan)
    position = pd.Series(position, index=data.index)
    return (position.astype("int64") if position.notna().all() else position), keys.index(deal_from_stage)


def reason_categories(taxonomy: dict) -> dict[str, str]:
    """Reason → category from ``{category: [reasons]}`` (the declaration of ``reason_taxonomy``
    keeps each reason in one category)."""
    return {str(reason).strip(): str(category) for category, reasons in taxonomy.items() for reason in reasons}


def deals(leads: pd.DataFrame, *, deal_from_stage: str, stages=None, taxonomy: dict | None = None) -> pd.DataFrame:
    """The leads that reached the deal stage, with the columns every lost-deal table uses.

    Parameters
    ----------
    leads : DataFrame
        Validated leads (data contract); ``stage`` holds stage keys.
    deal_from_stage : str
        First stage of a deal, a key of ``stages``.
    stages : list, optional
        The branch's funnel (``[]`` = the default telecom funnel).
    taxonomy : dict, optional
        ``{category: [reason, ...]}`` from params.

    Returns
    -------
    DataFrame
        The deal rows (a copy) plus ``year``, ``month`` (``"2006-03"``), ``reason`` (lost
        deals; :data:`MISSING` for an empty reason), ``category`` (taxonomy code, ``unmapped`` or ``missing``)
        and ``lost_group`` (``quasi_lost``, ``truly_lost`` or ``unknown`` for lost deals).
    """
    data = leads.reindex(columns=[*leads.columns, *[c for c in OPTIONAL if c not in leads.columns]])
    position, first = _stage_position(data, stages, deal_from_stage)
    reached = (position >= first).to_numpy()
    data = data if reached.all() else data.loc[reached]  # leads read as deals only: no copy
    lost = data["outcome"].astype(str).eq("lost")
    reason = data["lost_reason"].astype("string").str.strip().replace("", pd.NA)
    category = (
        reason.map(reason_categories(taxonomy or {})).astype("string").fillna(UNMAPPED).where(reason.notna(), MISSING)
    )
    kind = data["lost_kind"].astype("string")
    group = np.select(
        [kind.isin(QUASI_LOST_KINDS).fillna(False), kind.isin(TRULY_LOST_KINDS).fillna(False)],
        ["quasi_lost", "truly_lost"],
        "unknown",
    )
    return data.assign(
        year=data["created_date"].dt.year.astype("Int64"),
        month=data["created_date"].dt.strftime("%Y-%m"),
        reason=reason.fillna(MISSING).where(lost),
        category=category.where(lost),
        lost_group=pd.Series(group, index=data.index, dtype="string").where(lost),
    )


def flag(data: pd.DataFrame, column: str) -> pd.Series:
    """A yes/no column as plain booleans, empty cells as False."""
    return data[column].astype("boolean").fillna(False).astype(bool)


def scope_counts(leads: pd.DataFrame, *, deal_from_stage: str, stages=None) -> pd.DataFrame:
    """Leads before the deal stage and deals, by outcome: the context shown once.

    Returns ``scope`` (``deals``, then ``before_deals`` when there are such leads), ``won``,
    ``lost``, ``open``, ``leads``, ``top_reasons`` (the most frequent lost reasons of that scope).
    """
    position, first = _stage_position(leads, stages, deal_from_stage)
    deal = (position >= first).to_numpy()
    outcome = {o: leads["outcome"].eq(o).to_numpy(dtype=bool, na_value=False) for o in ("won", "lost", "open")}
    reasons = leads["lost_reason"] if "lost_reason" in leads else pd.Series(pd.NA, index=leads.index, dtype="string")
    rows = []
    for scope, mine in zip(SCOPES, (deal, ~deal)):
        if not mine.any():
            continue
        counts = {o: int((is_o & mine).sum()) for o, is_o in outcome.items()}
        lost_reasons = reasons[mine & outcome["lost"]].dropna()
        top = "、".join(lost_reasons.value_counts().head(3).index)  # count order, first seen first on ties
        rows.append({"scope": scope, **counts, "leads": sum(counts.values()), "top_reasons": top})
    return pd.DataFrame(rows, columns=["scope", "won", "lost", "open", "leads", "top_reasons"])


def latest_year(deal_leads: pd.DataFrame, current_year: int) -> int:
    """The year analysed: ``current_year`` when it is set and in the data, else the latest year."""
    years = sorted(int(y) for y in deal_leads["year"].dropna().unique())
    if not years:
        return int(current_year)
    if current_year and current_year not in years:
        raise ParamsError(
            [
                Problem(
                    "params: lost",
                    None,
                    "current_year",
                    current_year,
                    "no deals created that year",
                    f"use 0 (latest) or one of {', '.join(map(str, years))}",
                )
            ]
        )
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
    rated = with_wilson(
        counts.assign(closed=counts["won"] + counts["lost"]), successes="lost", trials="closed", prefix="lost_rate"
    )
    return rated.assign(
        win_rate=1 - rated["lost_rate"],
        win_rate_low=1 - rated["lost_rate_high"],
        win_rate_high=1 - rated["lost_rate_low"],
    )


def lost_rates(deal_leads: pd.DataFrame, *, by=DIMENSIONS) -> pd.DataFrame:
    """:func:`rate_table` overall and for each dimension in ``by``, stacked: ``dimension``
    (a code: ``overall`` or the column name), ``group`` (:data:`ALL` overall, else the data value)
    then the rate columns; within a dimension, highest lost rate first."""
    overall = rate_table(deal_leads).assign(dimension="overall", group=ALL)
    parts = [
        rate_table(deal_leads, by=d)
        .rename(columns={d: "group"})
        .assign(dimension=d)
        .sort_values("lost_rate", ascending=False)
        for d in by
    ]
    table = pd.concat([overall, *parts], ignore_index=True)
    return table[["dimension", "group", *[c for c in table.columns if c not in ("dimension", "group")]]]


def monthly_rates(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """:func:`rate_table` by month of lead creation, oldest first; ``mature`` is False for a
    month holding deals not yet mature (:func:`with_maturity`)."""
    table = rate_table(deal_leads, by="month").sort_values("month", ignore_index=True)
    mature = _mature(deal_leads).groupby(deal_leads["month"].astype(str)).all()
    return table.assign(mature=table["month"].map(mature).astype(bool))


def maturity_days(deal_leads: pd.DataFrame, *, days: int, year: int | None = None) -> int:
    """Days a deal needs before its outcome counts: ``days`` when positive, else the 90th
    percentile (rounded up) of days from creation to loss over the dated losses of deals
    created before ``year`` (the branch's own closed history; every year when there is none,
    or ``year`` is None — the newest losses are only the quick ones), else
    :data:`FALLBACK_MATURITY_DAYS`."""
    if days > 0:
        return int(days)
    lost = deal_leads[deal_leads["outcome"].astype(str).eq("lost")]
    earlier = lost[lost["year"].lt(year).fillna(False)] if year is not None else lost.iloc[:0]
    lost = earlier if len(earlier) else lost
    waited = (pd.to_datetime(lost["lost_date"]) - lost["created_date"]).dt.days
    waited = waited[waited >= 0]
    return int(math.ceil(waited.quantile(0.9))) if len(waited) else FALLBACK_MATURITY_DAYS


def with_maturity(deal_leads: pd.DataFrame, *, end, days: int) -> pd.DataFrame:
    """``deal_leads`` plus ``mature``: created at least ``days`` days before ``end`` (the
    data's end date), so its outcome has had the time most losses take to be recorded."""
    cutoff = pd.Timestamp(end) - pd.Timedelta(days=days)
    return deal_leads.assign(mature=deal_leads["created_date"].le(cutoff).fillna(False).astype(bool))


def _mature(deal_leads: pd.DataFrame) -> pd.Series:
    """The ``mature`` flags (every deal mature when :func:`with_maturity` was not applied)."""
    return deal_leads["mature"] if "mature" in deal_leads else pd.Series(True, index=deal_leads.index)


def mature_only(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """The mature deals of ``deal_leads``."""
    return deal_leads[_mature(deal_leads)]


def target_status(lost_rate: float, *, target: float, margin: float) -> str:
    """``on_track`` at or below the target, ``at_risk`` up to ``margin`` above it, else ``off_track``.

    Rates are compared after rounding to 10 decimals so that 0.68 against 0.65 + 0.03 is
    "at risk", not lost to floating-point noise.
    """
    if lost_rate is None or math.isnan(lost_rate):
        return "off_track"
    gap = round(lost_rate - target, 10)
    return "on_track" if gap <= 0 else "at_risk" if gap <= round(margin, 10) else "off_track"


def target_check(deal_leads: pd.DataFrame, *, target: float, margin: float) -> pd.DataFrame:
    """One row: the lost rate of the mature deals of ``deal_leads`` against the target, its gap
    and ``status`` (a code of :data:`STATUSES`); ``immature`` deals left out (``immature_open`` of them still open);
    ``lost_rate_all`` over every closed deal (mature or not, the biased figure) and the bound
    ``lost_rate_if_open_lost``: every open deal of ``deal_leads`` counted as lost."""
    row = rate_table(mature_only(deal_leads))
    status = target_status(float(row["lost_rate"].iloc[0]), target=target, margin=margin)
    every = rate_table(deal_leads).iloc[0]
    young = ~_mature(deal_leads)
    deals_n = every["closed"] + every["open"]
    return row[["closed", "won", "lost", "open", "lost_rate", "lost_rate_low", "lost_rate_high"]].assign(
        target=target,
        gap_to_target=row["lost_rate"] - target,
        status=status,
        immature=int(young.sum()),
        immature_open=int((young & deal_leads["outcome"].astype(str).eq("open")).sum()),
        lost_rate_all=every["lost_rate"],
        lost_rate_if_open_lost=(every["lost"] + every["open"]) / deals_n if deals_n else np.nan,
    )


def _change(previous: dict, current: dict) -> dict:
    with np.errstate(divide="ignore", invalid="ignore"):  # a year with no losses: ratios inside are inf
        return two_proportion_test(previous["lost"], previous["closed"], current["lost"], current["closed"])


def year_over_year(deal_leads: pd.DataFrame) -> pd.DataFrame:
    """Lost rate of the mature deals per creation year, with the change from the year before:
    ``change`` (rate difference), its Newcombe interval and the two-proportion score test
    p-value. Each row answers its own question (this year against the last), so p-values are
    not adjusted; ``immature`` counts the deals of the year left out."""
    years = rate_table(mature_only(deal_leads), by="year").sort_values("year", ignore_index=True)
    young = (~_mature(deal_leads)).groupby(deal_leads["year"].astype(str)).sum()
    years = years.assign(immature=years["year"].map(young).fillna(0).astype(int))
    tests = [
        _change(p, c) if i else {"diff": np.nan, "diff_low": np.nan, "diff_high": np.nan, "p_value": np.nan}
        for i, (p, c) in enumerate(zip(years.shift(1).to_dict("records"), years.to_dict("records")))
    ]
    change = pd.DataFrame(tests, index=years.index, columns=["diff", "diff_low", "diff_high", "p_value"])
    return pd.concat(
        [years, change.rename(columns={"diff": "change", "diff_low": "change_low", "diff_high": "change_high"})], axis=1
    )


def year_over_year_by(deal_leads: pd.DataFrame, *, year: int, by=("product_line", "segment")) -> pd.DataFrame:
    """Lost rate of the mature deals of each group of each dimension in ``by``, ``year``
    against the year before: ``closed_previous``, ``lost_rate_previous``, ``closed``,
    ``lost_rate``, ``change`` with its Newcombe interval, the score-test ``p_value`` and
    ``p_adjusted`` (Holm within each dimension: its groups are tested together). A group
    without closed deals in one of the two years gets no test (NaN)."""
    parts = [_group_changes(mature_only(deal_leads), year=year, by=d) for d in by]
    columns = [
        "dimension",
        "group",
        "closed_previous",
        "lost_rate_previous",
        "closed",
        "lost_rate",
        "change",
        "change_low",
        "change_high",
        "p_value",
        "p_adjusted",
    ]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _group_changes(deal_leads: pd.DataFrame, *, year: int, by: str) -> pd.DataFrame:
    rates = rate_table(deal_leads, by=["year", by]).rename(columns={by: "group"})
    previous = rates[rates["year"].eq(str(year - 1))].drop(columns="year")
    both = (
        rates[rates["year"].eq(str(year))]
        .drop(columns="year")
        .merge(previous, on="group", how="outer", suffixes=("", "_previous"))
        .fillna({c: 0 for c in ("lost", "closed", "lost_previous", "closed_previous")})
    )
    tests = pd.DataFrame(
        [_change({"lost": r["lost_previous"], "closed": r["closed_previous"]}, r) for r in both.to_dict("records")],
        index=both.index,
        columns=["diff", "diff_low", "diff_high", "p_value"],
    )
    return (
        pd.concat([both, tests], axis=1)
        .rename(columns={"diff": "change", "diff_low": "change_low", "diff_high": "change_high"})
        .assign(dimension=by, p_adjusted=lambda d: adjust_pvalues(d["p_value"], method="holm"))
        .astype({"closed": int, "closed_previous": int})
        .sort_values("group", ignore_index=True)
    )


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
    edges = [
        ("pool", "won", int(outcome.eq("won").sum())),
        ("pool", "open", int(outcome.eq("open").sum())),
        ("pool", "lost", int(outcome.eq("lost").sum())),
        ("won", "base", int(outcome.eq("won").sum())),
        ("lost", "management", n_quasi),
        ("lost", "competitor_pool", int(group.eq("truly_lost").sum())),
        ("lost", "kind_unknown", int(group.eq("unknown").sum())),
        ("management", "recovered", recovered),
        ("management", "not_recovered", n_quasi - recovered),
        ("recovered", "base", recovered),
    ]
    return pd.DataFrame(edges, columns=["source", "target", "count"])
