"""The lost-deal notebook's one computing call: :func:`analyse` runs every step for one branch
and returns a :class:`LostAnalysis`; the sections show its tables, :func:`save_tables` writes
them as CSV, and :mod:`funnelkit.lost.findings` turns it into findings and ``summary.json``.

Which deals each table covers (``year`` = the report year):

- maturity (:func:`funnelkit.lost.deals.with_maturity`): deals created less than ``maturity_days``
  before the data's end date are *not yet mature*; the lost rates, the target, the recovery
  arithmetic and every year-over-year test use the mature deals only, the target row counts
  the deals left out and gives the bound "if the open deals are lost";
- the scope table, reasons, the quasi-lost split, the recovery funnel, competitors, stage,
  timing, the lead flow and notes: every deal (or lead) of the report year — a recorded
  reason or recovery does not depend on whether the year's other deals are closed yet.

Tables hold codes (``dimension`` = ``overall`` / ``product_line`` / ``segment`` / ``owner``),
never labels of the report language: the CSV files are the same in zh and en; the ``*_view``
functions translate for display.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import deals as lost
from . import notes as lost_notes
from . import reasons as lost_reasons
from . import recovery as lost_recovery
from funnelkit.data.loading import data_warnings
from funnelkit.exceptions import FunnelkitError
from funnelkit.i18n import t

#: CSV tables written by :func:`save_tables`: file name → attribute of :class:`LostAnalysis`.
TABLES = {"scope": "scope", "lost_target": "target_row", "lost_rates": "rates", "lost_by_month": "monthly",
          "lost_by_year": "yoy", "lost_yoy_by_group": "yoy_groups", "reason_shares": "matrix",
          "reason_categories": "categories", "reason_pareto": "pareto", "reason_change": "reason_change",
          "lost_split": "split", "recovery_funnel": "funnel", "recovery_effect": "effect",
          "recovery_needed": "holders", "competitors": "competitors", "stage_reason": "stage_by_reason",
          "loss_timing": "timing", "lead_flow": "flow", "note_terms": "terms", "note_examples": "examples"}


@dataclass
class LostAnalysis:
    """Every table of one branch's lost-deal report (tidy frames; see the functions that make them)."""

    lang: str
    year: int
    maturity_days: int
    end: pd.Timestamp
    target: float
    margin: float
    deal_from_stage: str
    stage_label: str
    scope: pd.DataFrame
    target_row: pd.DataFrame
    rates: pd.DataFrame
    monthly: pd.DataFrame
    yoy: pd.DataFrame
    yoy_groups: pd.DataFrame
    shares: pd.DataFrame
    matrix: pd.DataFrame
    categories: pd.DataFrame
    pareto: pd.DataFrame
    reason_change: pd.DataFrame
    split: pd.DataFrame
    funnel: pd.DataFrame
    effect: pd.DataFrame
    holders: pd.DataFrame
    competitors: pd.DataFrame
    stage_by_reason: pd.DataFrame
    timing: pd.DataFrame
    flow: pd.DataFrame
    terms: pd.DataFrame
    examples: pd.DataFrame
    warnings: list[str]


def analyse(leads: pd.DataFrame, *, stages=None, deal_from_stage: str = "contacted", lost_rate_target: float = 0.65,
            at_risk_margin: float = 0.03, reason_taxonomy: dict | None = None, current_year: int = 0,
            maturity_days: int = 0, top_terms: int = 8, as_of: str = "", lang: str = "zh") -> LostAnalysis:
    """Run the whole lost-deal analysis of one branch's ``leads``.

    Parameters
    ----------
    leads : DataFrame
        The branch's validated leads (``load_table("leads", ...)``).
    maturity_days : int
        Days a deal needs before it counts in the rates; 0: the 90th percentile of days from
        creation to loss in the branch's closed history (:func:`funnelkit.lost.deals.maturity_days`).
    as_of : str
        The data's end date; empty: the latest lead creation date (new leads stop at the
        extract date, so this never overstates how long deals have had).

    Other parameters are those of the notebook (``params/defaults.yaml``, ``lost:``).

    Raises
    ------
    FunnelkitError
        The branch has no deals (no leads, or none reached ``deal_from_stage``).

    Examples
    --------
    >>> from funnelkit.demo import load_demo
    >>> a = analyse(load_demo("leads", branch="宁波分公司"))
    >>> bool(a.target_row["immature"].iloc[0] > 0)
    True
    """
    deal_leads = lost.deals(leads, stages=stages, deal_from_stage=deal_from_stage, taxonomy=reason_taxonomy,
                            lang=lang)
    if deal_leads.empty:  # every table below needs at least one deal
        stage = lost.stage_label(deal_from_stage, stages=stages)
        raise FunnelkitError(f"no deals to analyse: the branch has {len(leads)} leads and none reached {stage} "
                             f"({deal_from_stage}, params lost.deal_from_stage)" if len(leads)
                             else "no deals to analyse: the branch has no leads, so there is no lost-deal report")
    year = lost.latest_year(deal_leads, current_year)
    days = lost.maturity_days(deal_leads, days=maturity_days, year=year)
    end = pd.Timestamp(as_of) if as_of else leads["created_date"].max()
    deal_leads = lost.with_maturity(deal_leads, end=end, days=days)
    this_year = lost.in_year(deal_leads, year)
    mature = lost.mature_only(this_year)
    lost_deals = lost_reasons.lost_only(this_year)
    shares = lost_reasons.reason_shares(this_year)
    return LostAnalysis(
        lang=lang, year=year, maturity_days=days, end=end, target=lost_rate_target, margin=at_risk_margin,
        deal_from_stage=deal_from_stage, stage_label=lost.stage_label(deal_from_stage, stages=stages, lang=lang),
        scope=lost.scope_counts(leads[leads["created_date"].dt.year.eq(year).fillna(False)], stages=stages,
                                deal_from_stage=deal_from_stage, lang=lang),
        target_row=lost.target_check(this_year, target=lost_rate_target, margin=at_risk_margin, lang=lang),
        rates=lost.lost_rates(mature), monthly=lost.monthly_rates(deal_leads),
        yoy=lost.year_over_year(deal_leads), yoy_groups=lost.year_over_year_by(deal_leads, year=year),
        shares=shares, matrix=lost_reasons.share_matrix(shares),
        categories=lost_reasons.category_shares(this_year, taxonomy=reason_taxonomy or {}, lang=lang),
        pareto=lost_reasons.pareto(this_year), reason_change=lost_reasons.reason_change(deal_leads, year=year),
        split=lost_recovery.lost_split(this_year, lang=lang), funnel=lost_recovery.recovery_funnel(this_year, lang=lang),
        effect=lost_recovery.recovery_effect(mature, target=lost_rate_target),
        holders=lost_recovery.recovery_holders(this_year), competitors=lost_recovery.competitors(this_year, lang=lang),
        stage_by_reason=lost_reasons.stage_reason(this_year, stages=stages, lang=lang),
        timing=lost_reasons.loss_timing(this_year, lang=lang), flow=lost.lead_flow(this_year),
        terms=lost_notes.note_terms(lost_deals, top=top_terms), examples=lost_notes.frequent_notes(lost_deals),
        warnings=[*data_warnings(leads, lang=lang), *lost_reasons.taxonomy_warnings(this_year, lang=lang)])


def save_tables(report, a: LostAnalysis) -> list[str]:
    """Write every table of :data:`TABLES` as CSV (raw tidy tables, codes not labels)."""
    for name, attribute in TABLES.items():
        report.save_table(name, getattr(a, attribute))
    return list(TABLES)


def _with_labels(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``dimension`` codes (and the overall ``all`` group) as labels of ``lang``."""
    overall = table["dimension"].eq("overall")
    return table.assign(dimension=table["dimension"].map(lambda c: lost.dimension_label(c, lang)),
                        group=table["group"].where(~overall, t("lost.all", lang)))


def rates_view(a: LostAnalysis) -> pd.DataFrame:
    """:attr:`LostAnalysis.rates` with dimension labels, for display."""
    return _with_labels(a.rates, a.lang)


def yoy_groups_view(a: LostAnalysis) -> pd.DataFrame:
    """:attr:`LostAnalysis.yoy_groups` with dimension labels, for display."""
    return _with_labels(a.yoy_groups, a.lang)


def holders_view(a: LostAnalysis) -> pd.DataFrame:
    """:attr:`LostAnalysis.holders` with dimension labels, for display."""
    return _with_labels(a.holders, a.lang)


def flow_view(a: LostAnalysis) -> pd.DataFrame:
    """:attr:`LostAnalysis.flow` with node labels, for display."""
    return lost.flow_table(a.flow, lang=a.lang)


def maturity_note(a: LostAnalysis) -> str:
    """The scope and maturity rule of the report, with this run's numbers."""
    row = a.target_row.iloc[0]
    cutoff = (a.end - pd.Timedelta(days=a.maturity_days)).date().isoformat()
    return t("lost.maturity_note", a.lang, days=a.maturity_days, end=a.end.date().isoformat(), cutoff=cutoff,
             immature=int(row["immature"]), open=int(row["immature_open"]))


def notes_note(a: LostAnalysis) -> str:
    """What the notes section shows, or that the lost deals have no notes."""
    return t("lost.notes_note" if len(a.terms) else "lost.no_notes", a.lang)


def controllable_callout(a: LostAnalysis) -> list[str]:
    """The sales-process share, called out because it is the one the branch controls."""
    return [t("lost.controllable_callout", a.lang, share=f"{lost_reasons.controllable_share(a.categories):.1%}")]


def scope_note(a: LostAnalysis) -> str:
    """What a deal is and which year the report covers."""
    return t("lost.scope_note", a.lang, stage=a.stage_label, year=a.year)


def status_note(a: LostAnalysis) -> str:
    """The on-track / at-risk / off-track rule with the branch's target and margin."""
    return t("lost.status_note", a.lang, target=f"{a.target:.0%}", margin=f"{a.margin * 100:g}")
