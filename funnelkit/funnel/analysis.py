"""The funnel notebook's one computing call: :func:`diagnose` runs every step for one branch
and returns a :class:`FunnelDiagnosis`; the summary findings and ``summary.json`` figures
are generated from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import forecast as fc
from . import counts as fn
from . import drivers as fd
from . import compare as fs
from funnelkit.exceptions import FunnelkitError
from funnelkit.i18n import t
from funnelkit.data.schema import resolve_stages

SOURCES = ("auto", "leads", "counts")


def funnel_counts(*, leads: pd.DataFrame | None, stage_counts: pd.DataFrame | None, source: str = "auto",
                  stages=None) -> pd.DataFrame:
    """The branch's stage counts from ``leads`` or ``stage_counts`` (``source``: ``leads``,
    ``counts`` or ``auto`` — leads when the branch has them)."""
    if source not in SOURCES:
        raise FunnelkitError(f"funnel_source must be one of {', '.join(SOURCES)}, not {source!r}")
    use_leads = source == "leads" or (source == "auto" and leads is not None and len(leads))
    if use_leads and (leads is None or leads.empty):
        raise FunnelkitError("funnel_source is 'leads' but the branch has no leads: use 'counts' or 'auto'")
    if use_leads:
        return fn.counts_from_leads(leads, stages=stages)
    if stage_counts is None or stage_counts.empty:
        raise FunnelkitError("the branch has neither leads nor stage_counts data: give one of the two tables")
    return fn.tidy_counts(stage_counts, stages=stages)


@dataclass
class FunnelDiagnosis:
    """Every table of one branch's funnel diagnosis (tidy frames; see the functions that make them)."""

    branch: str
    lang: str
    stages: tuple
    source: str  # "leads" or "counts"
    current: str
    previous: str | None
    stage_rates: pd.DataFrame
    transitions: pd.DataFrame
    quality: pd.DataFrame
    warnings: list[str]
    yoy: pd.DataFrame
    peer_rates: pd.DataFrame
    peer_median: pd.DataFrame
    bottlenecks: pd.DataFrame
    funnel_plot: pd.DataFrame
    decomposition: pd.DataFrame
    elasticities: pd.DataFrame
    amount: float
    time_to_convert: pd.DataFrame | None = None
    pipeline: pd.DataFrame | None = None
    forecast: pd.DataFrame | None = None
    backtest: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    backtest_error: dict = field(default_factory=dict)
    backtest_start: str = ""

    @property
    def top(self) -> pd.Series | None:
        return self.bottlenecks.iloc[0] if len(self.bottlenecks) else None


def diagnose(*, branch: str, leads: pd.DataFrame | None = None, stage_counts: pd.DataFrame | None = None,
             funnel_source: str = "auto", stages=None, lang: str = "zh",
             peers: pd.DataFrame | None = None, controllability: dict | None = None, current_period: str = "",
             min_group: int = 30, pvalue_adjust: str = "holm", forecast_shrinkage: float = 50,
             top_bottlenecks: int = 3, deal_amount: float = 0.0, as_of: str = "") -> FunnelDiagnosis:
    """Run the whole funnel diagnosis of ``branch``.

    Parameters
    ----------
    leads, stage_counts : DataFrame, optional
        The branch's leads and/or stage counts; ``funnel_source`` picks the funnel's source
        (:func:`funnel_counts`). Leads are used only when the funnel comes from them; without
        them (a counts-only branch) time to convert and the forecast are left out.
    peers : DataFrame, optional
        Stage counts of every branch (``loading.peer_stage_counts``) for the peer median,
        the funnel plot and the company-wide win probabilities.

    Examples
    --------
    >>> from funnelkit.demo import load_demo  # doctest: +SKIP
    >>> leads = load_demo("leads", branch="杭州分公司")  # doctest: +SKIP
    >>> d = diagnose(branch="杭州分公司", leads=leads)  # doctest: +SKIP
    """
    stages = resolve_stages(stages)
    counts = funnel_counts(leads=leads, stage_counts=stage_counts, source=funnel_source, stages=stages)
    leads = leads if funnel_source != "counts" else None
    has_leads = leads is not None and len(leads) > 0
    current = fn.current_period(counts, current_period)
    previous = fn.previous_period(counts, current)
    rates = fn.stage_table(counts, stages=stages, lang=lang, min_group=min_group)
    still_open = fn.open_from_leads(leads, stages=stages) if has_leads else None
    transitions = fn.transition_table(rates, stages=stages, lang=lang, still_open=still_open, min_group=min_group)
    quality = fn.data_quality(counts, stages=stages)
    warnings = fn.quality_messages(quality, stages=stages, lang=lang) + _open_warnings(still_open, current, lang)
    peers = peers if peers is not None and len(peers) else None
    peer_rates = fs.branch_transitions(peers, stages=stages, lang=lang) if peers is not None else pd.DataFrame()
    peer_median = (fs.peer_medians(peer_rates, branch=branch, period=current) if len(peer_rates)
                   else pd.DataFrame(columns=["transition", "peer_median", "peers"]))
    if not len(peer_median):
        warnings.append(t("funnel.dq_no_peers", lang))
    amount = deal_amount if deal_amount > 0 else (
        leads.loc[leads["outcome"] == "won", "amount"].mean() if has_leads else np.nan)
    if pd.isna(amount):
        warnings.append(t("funnel.dq_no_amount", lang))
    ranked = fd.bottlenecks(transitions, period=current, controllability=controllability, peer_median=peer_median,
                            amount=amount, top=top_bottlenecks)
    plot = (fs.funnel_plot_data(peer_rates, branch=branch, period=current, transition=ranked["transition"].iloc[0])
            if len(peer_rates) and len(ranked) else pd.DataFrame())
    diagnosis = FunnelDiagnosis(
        branch=branch, lang=lang, stages=stages, source="leads" if has_leads else "counts", current=current,
        previous=previous, stage_rates=rates, transitions=transitions, quality=quality, warnings=warnings,
        yoy=fs.yoy_tests(transitions, current=current, previous=previous, adjust=pvalue_adjust, min_group=min_group),
        peer_rates=peer_rates, peer_median=peer_median, bottlenecks=ranked, funnel_plot=plot,
        decomposition=fd.decompose_change(transitions, current=current, previous=previous, lang=lang),
        elasticities=fd.elasticities(transitions, period=current, amount=amount), amount=amount)
    if has_leads and fc.has_stage_dates(leads, stages):
        _add_forecast(diagnosis, leads, peers=peers, shrinkage=forecast_shrinkage, as_of=as_of)
    return diagnosis


def _open_warnings(still_open: pd.DataFrame | None, current: str, lang: str) -> list[str]:
    """How many open leads were kept out of the losses (leads), or that they could not be (counts)."""
    if still_open is None:
        return [t("funnel.dq_open_unknown", lang)]
    now = still_open.loc[still_open["period"] == current, "still_open"].sum()
    earlier = still_open.loc[still_open["period"] < current, "still_open"].sum()
    lines = [t("funnel.dq_open_leads", lang, n=f"{now:,}", period=current)] if now else []
    return lines + ([t("funnel.dq_open_earlier", lang, n=f"{earlier:,}", period=current)] if earlier else [])


def _prior(peers: pd.DataFrame | None, *, before: str | None = None, stages, won: str) -> pd.Series | None:
    """Company-wide win prior from the peers' stage counts; with ``before``, only periods before it
    (a back-test must not learn from the period it forecasts)."""
    if peers is not None and before is not None:
        peers = peers[peers["period"].astype(str) < before]
    return fc.company_prior(peers, stages=stages, won=won) if peers is not None and len(peers) else None


def _add_forecast(d: FunnelDiagnosis, leads: pd.DataFrame, *, peers, shrinkage: float, as_of: str) -> None:
    """Time to convert, forecast and back-test (leads with stage dates only)."""
    won = fc.won_stage(leads, stages=d.stages)
    prior = _prior(peers, stages=d.stages, won=won)
    day = pd.Timestamp(as_of) if as_of else leads["created_date"].max() + pd.Timedelta(days=1)
    period = pd.Period(d.current)
    d.time_to_convert = fc.time_to_convert(leads, stages=d.stages, lang=d.lang)
    d.pipeline = fc.pipeline(leads, as_of=day, stages=d.stages, prior=prior, shrinkage=shrinkage)
    d.forecast = fc.forecast_by_month(d.pipeline)
    d.backtest = fc.backtest(leads, start=period.start_time, end=period.end_time, stages=d.stages,
                             prior=_prior(peers, before=d.current, stages=d.stages, won=won), shrinkage=shrinkage)
    d.calibration = fc.calibration(d.backtest)
    d.backtest_error = fc.forecast_error(d.backtest)
    d.backtest_start = period.start_time.date().isoformat()


def save_tables(report, d: FunnelDiagnosis) -> list[str]:
    """Write the tables the runner publishes as CSV (raw tidy tables): ``stages``,
    ``transitions``, ``bottlenecks``, ``yoy``, ``drivers``, ``forecast`` (headers only for a
    counts-only branch) and, with leads, ``backtest_calibration`` and ``time_to_convert``."""
    empty_forecast = pd.DataFrame(columns=["close_month", "leads", "pipeline_amount", "expected_won", "expected_amount"])
    tables = {"stages": d.stage_rates, "transitions": d.transitions, "bottlenecks": d.bottlenecks, "yoy": d.yoy,
              "drivers": d.decomposition, "forecast": d.forecast if d.forecast is not None else empty_forecast}
    if d.calibration is not None:
        tables["backtest_calibration"] = d.calibration
        tables["time_to_convert"] = d.time_to_convert
    for name, table in tables.items():
        report.save_table(name, table)
    return list(tables)
