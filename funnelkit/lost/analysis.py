"""The lost-deal notebook's one computing call: :func:`analyse` runs every step for one branch
and returns a :class:`Result` — tidy tables in codes, the same whatever the report language.
Views, findings and plots turn it into words; ``report.publish`` writes its tables as CSV.

Which deals each table covers (``year`` = the report year):

- maturity (:func:`funnelkit.lost.deals.with_maturity`): deals created less than ``maturity_days``
  before the data's end date are *not yet mature*; the lost rates, the target, the recovery
  arithmetic and every year-over-year test use the mature deals only, the target row counts
  the deals left out and gives the bound "if the open deals are lost";
- what goes with losing (:mod:`funnelkit.lost.drivers`): the mature deals of the report year
  that are decided (won or lost); open deals have no outcome to compare;
- the scope table, reasons, the quasi-lost split, the recovery funnel, competitors, stage,
  timing, the lead flow and notes: every deal (or lead) of the report year — a recorded
  reason or recovery does not depend on whether the year's other deals are closed yet.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from funnelkit.data.loading import load_tables
from funnelkit.data.schema import resolve_stages
from funnelkit.exceptions import FunnelkitError
from funnelkit.result import AnalysisResult, Gap, unless_gap

from . import deals as lost
from . import drivers as lost_drivers
from . import notes as lost_notes
from . import reasons as lost_reasons
from . import recovery as lost_recovery
from .labels import stage_label
from .params import Params

#: The tables the notebook cannot run without: one of each group (leads). A branch
#: without them has its notebook skipped, not failed.
NEEDS = (("leads",),)

#: The lead columns the analysis reads: where and when a lead was created and with whom, how
#: far it got and how it ended, the loss record (the optional columns of :mod:`.deals`).
#: Not read: lead ids, amounts, contact phones, the stage dates.
LEAD_COLUMNS = (
    "created_date",
    "stage",
    "outcome",
    *lost_drivers.ATTRIBUTES,
    *lost.OPTIONAL,
)

#: What :func:`funnelkit.lost.deals.scope_counts` reads of every lead of the year.
SCOPE_COLUMNS = ["stage", "outcome", "lost_reason"]
#: What the analysis reads of every lead, deal or not (``all_leads`` of :func:`load`): the
#: scope table's columns and the creation date (the year, the data's end date).
ALL_LEAD_COLUMNS = ("created_date", *SCOPE_COLUMNS)


@dataclass(frozen=True)
class Result(AnalysisResult):
    """Every table of one branch's lost-deal report (tidy frames in codes; see the functions
    that make them) and the scalars the sections need. ``unlisted`` holds the lost deals the
    reason taxonomy cannot place (:func:`funnelkit.lost.reasons.unlisted_reasons`)."""

    SAVED = {
        "scope": "scope",
        "lost_target": "target_row",
        "lost_rates": "rates",
        "lost_by_month": "monthly",
        "lost_by_year": "yoy",
        "lost_yoy_by_group": "yoy_groups",
        "loss_drivers": "drivers",
        "reason_shares": "matrix",
        "reason_categories": "categories",
        "reason_pareto": "pareto",
        "reason_change": "reason_change",
        "lost_split": "split",
        "recovery_funnel": "funnel",
        "recovery_effect": "effect",
        "recovery_needed": "holders",
        "competitors": "competitors",
        "stage_reason": "stage_by_reason",
        "loss_timing": "timing",
        "lead_flow": "flow",
        "note_terms": "terms",
        "note_examples": "examples",
    }

    year: int
    maturity_days: int
    end: pd.Timestamp
    target: float
    margin: float
    deal_from_stage: str
    stages: tuple
    lost_deals: int
    noted_deals: int
    scope: pd.DataFrame
    target_row: pd.DataFrame
    rates: pd.DataFrame
    monthly: pd.DataFrame
    yoy: pd.DataFrame
    yoy_groups: pd.DataFrame
    drivers: pd.DataFrame | None
    decided_deals: int
    driver_min_deals: int
    shares: pd.DataFrame | None
    matrix: pd.DataFrame | None
    categories: pd.DataFrame | None
    pareto: pd.DataFrame | None
    reason_change: pd.DataFrame | None
    split: pd.DataFrame | None
    funnel: pd.DataFrame | None
    effect: pd.DataFrame | None
    holders: pd.DataFrame | None
    competitors: pd.DataFrame | None
    stage_by_reason: pd.DataFrame | None
    timing: pd.DataFrame
    flow: pd.DataFrame
    terms: pd.DataFrame | None
    examples: pd.DataFrame | None
    unlisted: pd.DataFrame


#: Sections that rest on an optional column of the leads: section → (column, what it shows).
COLUMN_SECTIONS = {
    "reasons": ("lost_reason", "lost.what_reasons"),
    "recovery": ("lost_kind", "lost.what_recovery"),
    "competitors": ("competitor", "lost.what_competitors"),
    "notes": ("note", "lost.what_notes"),
}


def column_gaps(leads: pd.DataFrame) -> dict[str, Gap]:
    """The sections whose optional column the branch's deals leave empty in every row (the
    column is absent or never filled): a gap saying so, not shares of "missing" or zeros."""
    return {
        section: Gap("data.gap_column", {"table": "leads", "column": f"data.column_{column}", "what": what})
        for section, (column, what) in COLUMN_SECTIONS.items()
        if column not in leads or leads[column].isna().all()
    }


def _flow(flow: pd.DataFrame, *, recovery: bool) -> pd.DataFrame:
    """The lead flow; without lost kinds (the recovery section a gap) the lost deals end as
    lost, with no quasi-lost, competitor or recovery boxes of zeros."""
    if recovery:
        return flow
    return flow[flow["source"].isin(["pool", "won"])].reset_index(drop=True)


def columns(params: Params) -> dict[str, tuple[str, ...]]:
    """The columns of each table :func:`analyse` reads (``load_tables(..., columns=...)``):
    a large branch's leads are read without the columns no lost-deal section uses.

    Examples
    --------
    >>> columns(Params(branch="杭州分公司"))["leads"][:3]
    ('created_date', 'stage', 'outcome')
    """
    return {"leads": LEAD_COLUMNS}


def rows(params: Params) -> dict[str, dict[str, tuple[str, ...]]]:
    """The rows of each table the deal sections read (``load_tables(..., rows=...)``): the
    leads that reached ``deal_from_stage`` — a fifth of a large branch's leads.

    Examples
    --------
    >>> rows(Params(branch="杭州分公司"))["leads"]["stage"][:2]
    ('contacted', 'intent')
    """
    keys = [s.key for s in resolve_stages(params.stages)]
    return {"leads": {"stage": tuple(keys[keys.index(params.deal_from_stage) :])}}


def load(params: Params) -> dict[str, pd.DataFrame]:
    """The tables :func:`analyse` reads, as few rows and columns as it needs: ``leads`` holds
    the deals (:func:`rows`) with the columns the sections read (:func:`columns`);
    ``all_leads`` every lead's creation date, stage, outcome and lost reason (the scope
    table, the data's end date). Both are validated as :func:`~funnelkit.data.load_tables`
    validates; a database or Parquet source reads only those rows and columns."""
    tables = load_tables(params, ["leads"], required=["leads"], columns=columns(params), rows=rows(params))
    every = load_tables(params, ["leads"], required=["leads"], columns={"leads": ALL_LEAD_COLUMNS})["leads"]
    return {**tables, "all_leads": every}


def analyse(tables: Mapping[str, pd.DataFrame], params: Params) -> Result:
    """Run the whole lost-deal analysis of one branch.

    Parameters
    ----------
    tables : mapping
        :func:`load` or ``load_tables(params, ["leads"])``: ``leads``, the branch's validated
        leads (every lead, or at least every deal); ``all_leads`` (optional), every lead with
        at least :data:`ALL_LEAD_COLUMNS`, when ``leads`` holds the deals only.
    params : Params
        The notebook's parameters (:class:`funnelkit.lost.params.Params`). Values are checked
        against their declaration again, so a ``Params(...)`` built by hand gets the same
        ParamsError as the notebook; ``deal_from_stage`` must be a stage of ``stages``.
        ``maturity_days`` 0 takes the 90th percentile of days from creation to loss in the
        branch's closed history (:func:`funnelkit.lost.deals.maturity_days`); the data's end
        date is ``as_of``, else the latest lead creation date (new leads stop at the extract
        date, so this never overstates how long deals have had).

    Raises
    ------
    ParamsError
        A parameter breaks its declaration, or ``deal_from_stage`` is no stage of ``stages``.
    FunnelkitError
        The branch has no deals (no leads, or none reached ``deal_from_stage``).

    Examples
    --------
    >>> from funnelkit.data.loading import load_tables
    >>> params = Params(branch="宁波分公司")
    >>> result = analyse(load_tables(params, ["leads"]), params)
    >>> bool(result.target_row["immature"].iloc[0] > 0), result.rates["group"].iloc[0]
    (True, 'all')
    """
    type(params).from_values(dataclasses.asdict(params))  # raises ParamsError naming each bad key
    leads = tables["leads"]
    every = tables["all_leads"] if tables.get("all_leads") is not None else leads
    stages = resolve_stages(params.stages)
    deal_leads = lost.deals(
        leads, stages=params.stages, deal_from_stage=params.deal_from_stage, taxonomy=params.reason_taxonomy
    )
    if deal_leads.empty:  # every table below needs at least one deal
        stage = stage_label(params.deal_from_stage, stages, "zh")
        raise FunnelkitError(
            f"no deals to analyse: the branch has {len(every)} leads and none reached {stage} "
            f"({params.deal_from_stage}, params lost.deal_from_stage)"
            if len(every)
            else "no deals to analyse: the branch has no leads, so there is no lost-deal report"
        )
    year = lost.latest_year(deal_leads, params.current_year)
    days = lost.maturity_days(deal_leads, days=params.maturity_days, year=year)
    end = pd.Timestamp(params.as_of) if params.as_of else every["created_date"].max()
    deal_leads = lost.with_maturity(deal_leads, end=end, days=days)
    this_year = lost.in_year(deal_leads, year)
    mature = lost.mature_only(this_year)
    lost_deals = lost_reasons.lost_only(this_year)
    shares = lost_reasons.reason_shares(this_year)
    target, margin = params.lost_rate_target, params.at_risk_margin
    decided = lost_drivers.decided(mature)
    drivers = lost_drivers.loss_drivers(decided, min_deals=params.driver_min_deals)
    gaps = column_gaps(deal_leads)
    if drivers.empty:
        key = "lost.gap_drivers_too_few" if len(decided) else "lost.gap_drivers_no_decided"
        gaps["drivers"] = Gap(key, {"year": year, "decided": len(decided), "min": params.driver_min_deals})
    when = functools.partial(unless_gap, gaps)

    return Result(
        gaps=gaps,
        year=year,
        maturity_days=days,
        end=end,
        target=target,
        margin=margin,
        deal_from_stage=params.deal_from_stage,
        stages=stages,
        lost_deals=len(lost_deals),
        noted_deals=int(lost_deals["note"].astype("string").str.strip().fillna("").ne("").sum()),
        scope=lost.scope_counts(  # the year's leads, only the columns the scope table reads
            every.loc[every["created_date"].dt.year.eq(year).fillna(False), every.columns.intersection(SCOPE_COLUMNS)],
            stages=params.stages,
            deal_from_stage=params.deal_from_stage,
        ),
        target_row=lost.target_check(this_year, target=target, margin=margin),
        rates=lost.lost_rates(mature),
        monthly=lost.monthly_rates(deal_leads),
        yoy=lost.year_over_year(deal_leads),
        yoy_groups=lost.year_over_year_by(deal_leads, year=year),
        drivers=None if drivers.empty else drivers,
        decided_deals=len(decided),
        driver_min_deals=params.driver_min_deals,
        shares=when("reasons", lambda: shares),
        matrix=when("reasons", lambda: lost_reasons.share_matrix(shares)),
        categories=when("reasons", lambda: lost_reasons.category_shares(this_year, taxonomy=params.reason_taxonomy)),
        pareto=when("reasons", lambda: lost_reasons.pareto(this_year)),
        reason_change=when("reasons", lambda: lost_reasons.reason_change(deal_leads, year=year)),
        split=when("recovery", lambda: lost_recovery.lost_split(this_year)),
        funnel=when("recovery", lambda: lost_recovery.recovery_funnel(this_year)),
        effect=when("recovery", lambda: lost_recovery.recovery_effect(mature, target=target)),
        holders=when("recovery", lambda: lost_recovery.recovery_holders(this_year)),
        competitors=when("competitors", lambda: lost_recovery.competitors(this_year)),
        stage_by_reason=when("reasons", lambda: lost_reasons.stage_reason(this_year, stages=params.stages)),
        timing=lost_reasons.loss_timing(this_year),
        flow=_flow(lost.lead_flow(this_year), recovery="recovery" not in gaps),
        terms=when("notes", lambda: lost_notes.note_terms(lost_deals, top=params.top_terms)),
        examples=when("notes", lambda: lost_notes.frequent_notes(lost_deals)),
        unlisted=lost_reasons.unlisted_reasons(this_year).iloc[0 : 0 if "reasons" in gaps else None],
    )
