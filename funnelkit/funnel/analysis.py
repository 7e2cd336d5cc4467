"""The funnel notebook's one computing call: :func:`analyse` runs every step for one branch and
returns a :class:`Result` — tidy tables in codes, the same whatever the report language.
Views, findings and plots turn it into words.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnelkit.data.schema import resolve_stages
from funnelkit.exceptions import FunnelkitError
from funnelkit.result import AnalysisResult, Gap

from . import compare, counts, drivers, forecast, forecast_range, lead_arrays, stage_time, velocity
from .params import Params

#: The tables the notebook cannot run without: one of each group (leads or stage counts). A branch
#: without them has its notebook skipped, not failed.
NEEDS = (("leads", "stage_counts"),)

#: The lead columns the analysis reads, besides ``date_<stage>`` of every stage (and those the
#: notebook's filters need, which the loader adds). Not read: lead ids (no section lists
#: leads; :func:`~funnelkit.funnel.forecast.pipeline` keeps them when given), region,
#: industry, product line, owner, contact details.
LEAD_COLUMNS = ("created_date", "segment", "stage", "outcome", "amount", "lost_date")

#: Data-quality problems listed one by one; past this many the rest are summed up in one notice.
NOTICE_LIMIT = 12
NOTICE_COLUMNS = ["kind", "period", "segment", "stage", "expected", "found", "n"]
FORECAST_COLUMNS = ["close_month", "leads", "pipeline_amount", "expected_won", "expected_amount"]


@dataclass(frozen=True)
class Result(AnalysisResult):
    """Every table of one branch's funnel diagnosis (tidy frames in codes; see the functions
    that make them). ``notices`` lists the data-quality warnings as codes (``kind`` is a
    ``funnel.dq_*`` message); ``forecast`` has headers only when there is no forecast."""

    SAVED = {
        "stages": "stage_rates",
        "transitions": "transitions",
        "bottlenecks": "bottlenecks",
        "yoy": "yoy",
        "drivers": "decomposition",
        "forecast": "forecast",
        "backtest_calibration": "calibration",
        "time_to_convert": "time_to_convert",
        "forecast_range": "forecast_range",
        "backtest_range": "backtest_range",
        "velocity": "velocity",
        "velocity_change": "velocity_change",
        "stage_time": "stage_time",
        "stage_time_trend": "stage_time_trend",
    }

    branch: str
    stages: tuple
    source: str  # "leads" or "counts"
    current: str
    previous: str | None
    stage_rates: pd.DataFrame
    transitions: pd.DataFrame
    quality: pd.DataFrame
    notices: pd.DataFrame
    yoy: pd.DataFrame | None
    peer_rates: pd.DataFrame
    peer_median: pd.DataFrame
    bottlenecks: pd.DataFrame
    funnel_plot: pd.DataFrame | None
    decomposition: pd.DataFrame | None
    elasticities: pd.DataFrame
    amount: float
    forecast: pd.DataFrame
    time_to_convert: pd.DataFrame | None = None
    pipeline: pd.DataFrame | None = None
    backtest: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    backtest_error: dict = field(default_factory=dict)
    backtest_start: str = ""
    forecast_range: pd.DataFrame | None = None
    backtest_range: pd.DataFrame | None = None
    backtest_coverage: dict = field(default_factory=dict)
    velocity: pd.DataFrame | None = None
    velocity_change: pd.DataFrame | None = None
    stage_time: pd.DataFrame | None = None
    stage_time_trend: pd.DataFrame | None = None
    stage_time_stays: pd.DataFrame | None = None  # counted (stage_time.stay_counts)
    won_stage: str | None = None
    conversion_target: float = 0.0  # from params; 0: none set
    company_conversion: float = np.nan  # pooled over every branch in the data

    @property
    def top(self) -> pd.Series | None:
        """The first-ranked transition (the priority when any step has a gain), or None."""
        return self.bottlenecks.iloc[0] if len(self.bottlenecks) else None

    @property
    def priority(self) -> pd.Series | None:
        """The step whose fixing is worth most (the largest controllable gain), or None when
        no controllable step gains anything against any benchmark."""
        top = self.top
        return top if top is not None and top["priority_gain"] > 0 else None

    @property
    def forecasted(self) -> bool:
        """True when leads with stage dates gave time to convert, a forecast and a back-test."""
        return self.pipeline is not None


def columns(params: Params) -> dict[str, tuple[str, ...]]:
    """The columns of each table :func:`analyse` reads (``load_tables(..., columns=...)``):
    a large branch's leads are read without the columns no funnel section uses.

    Examples
    --------
    >>> columns(Params(branch="杭州分公司"))["leads"][:3]
    ('created_date', 'segment', 'stage')
    """
    dates = tuple(f"date_{s.key}" for s in resolve_stages(params.stages))
    return {"leads": LEAD_COLUMNS + dates}


def funnel_counts(
    *, leads: pd.DataFrame | None, stage_counts: pd.DataFrame | None, source: str, stages=None
) -> pd.DataFrame:
    """The branch's stage counts from ``leads`` or ``stage_counts`` (``source``: ``leads``,
    ``counts`` or ``auto`` — leads when the branch has them)."""
    use_leads = source == "leads" or (source == "auto" and leads is not None and len(leads))
    if use_leads and (leads is None or leads.empty):
        raise FunnelkitError("funnel_source is 'leads' but the branch has no leads: use 'counts' or 'auto'")
    if use_leads:
        return counts.counts_from_leads(leads, stages=stages)
    if stage_counts is None or stage_counts.empty:
        raise FunnelkitError("the branch has neither leads nor stage_counts data: give one of the two tables")
    return counts.tidy_counts(stage_counts, stages=stages)


def analyse(tables: Mapping[str, pd.DataFrame | None], params: Params, *, peers: pd.DataFrame | None = None) -> Result:
    """Run the whole funnel diagnosis of ``params.branch``.

    Parameters
    ----------
    tables : mapping
        ``leads`` and/or ``stage_counts`` of the branch (``load_tables``; a missing one is
        None); ``params.funnel_source`` picks the funnel's source (:func:`funnel_counts`).
        Leads are used only when the funnel comes from them; without them (a counts-only
        branch) open leads cannot be told from lost ones, and time to convert, the forecast
        and the back-test are left out.
    params : Params
        The notebook's parameters.
    peers : DataFrame, optional
        Stage counts of every branch (``loading.peer_stage_counts``) for the peer median, the
        funnel plot and the company-wide win probabilities.

    Examples
    --------
    >>> from funnelkit.data.loading import load_tables, peer_stage_counts
    >>> params = Params(branch="杭州分公司")
    >>> result = analyse(load_tables(params, ["leads", "stage_counts"]), params, peers=peer_stage_counts())
    >>> result.source, result.current, result.priority["transition"], round(float(result.priority["gain_customers"]), 1)
    ('leads', '2006', 'paying>effective', 17.8)
    """
    stages = resolve_stages(params.stages)
    leads = tables.get("leads")
    no_forecast = forecast_gap(leads, source=params.funnel_source, stages=stages)
    funnel = funnel_counts(
        leads=leads, stage_counts=tables.get("stage_counts"), source=params.funnel_source, stages=stages
    )
    leads = leads if params.funnel_source != "counts" else None
    has_leads = leads is not None and len(leads) > 0
    current = counts.current_period(funnel, params.current_period)
    previous = counts.previous_period(funnel, current)
    rates = counts.stage_table(funnel, stages=stages, min_group=params.min_group)
    still_open = counts.open_from_leads(leads, stages=stages) if has_leads else None
    transitions = counts.transition_table(rates, stages=stages, still_open=still_open, min_group=params.min_group)
    quality = counts.data_quality(funnel, stages=stages)
    peers = peers if peers is not None and len(peers) else None
    peer_rates = (
        compare.branch_transitions(peers, stages=stages, min_group=params.min_group)
        if peers is not None
        else pd.DataFrame()
    )
    peer_median = (
        compare.peer_medians(peer_rates, branch=params.branch, period=current)
        if len(peer_rates)
        else pd.DataFrame(columns=["transition", "peer_median", "peer_top", "peers"])
    )
    amount = (
        params.deal_amount
        if params.deal_amount > 0
        else (leads.loc[leads["outcome"] == "won", "amount"].mean() if has_leads else np.nan)
    )
    ranked = drivers.bottlenecks(
        transitions,
        period=current,
        controllability=params.controllability,
        peer_median=peer_median,
        amount=amount,
        top=params.top_bottlenecks,
    )
    plot = (
        compare.funnel_plot_data(
            peer_rates, branch=params.branch, period=current, transition=ranked["transition"].iloc[0]
        )
        if len(peer_rates) and len(ranked)
        else pd.DataFrame()
    )
    dated = has_leads and forecast.has_stage_dates(leads, stages)
    timing, ahead = (
        _timing_beside_forecast(leads, peers=peers, stages=stages, current=current, previous=previous, params=params)
        if dated
        else ({}, {})
    )
    gaps = ahead.pop("gaps", {})
    if previous is None:  # year-over-year tests and the change decomposition compare two periods
        gaps["change"] = Gap("data.gap_one_period", {"period": "data.word_period", "only": current})
    if len(peer_median) == 0:  # no other branch in the data for this period
        gaps["peers"] = Gap("data.gap_no_peers")
    if not dated:  # velocity, time in stage and the forecast range need each lead's stage dates
        reason = no_forecast or Gap("funnel.gap_no_stage_dates")
        gaps.update(dict.fromkeys(["forecast_range", "velocity", "velocity_change", "stage_time"], reason))
    gaps.update(timing.pop("gaps", {}))
    if no_forecast:  # the real reason: no leads, a funnel read from stage counts, no stage dates
        gaps.update(dict.fromkeys(("time_to_convert", "forecast"), no_forecast))
    return Result(
        gaps=gaps,
        branch=params.branch,
        stages=stages,
        source="leads" if has_leads else "counts",
        current=current,
        previous=previous,
        stage_rates=rates,
        transitions=transitions,
        quality=quality,
        notices=notices(
            quality,
            still_open=still_open,
            current=current,
            has_peers=len(peer_median) > 0,
            has_amount=not pd.isna(amount),
        ),
        yoy=None
        if "change" in gaps
        else compare.yoy_tests(
            transitions, current=current, previous=previous, adjust=params.pvalue_adjust, min_group=params.min_group
        ),
        peer_rates=peer_rates,
        peer_median=peer_median,
        bottlenecks=ranked,
        funnel_plot=None if "peers" in gaps else plot,
        decomposition=None
        if "change" in gaps
        else drivers.decompose_change(transitions, current=current, previous=previous),
        elasticities=drivers.elasticities(transitions, period=current, amount=amount),
        amount=amount,
        forecast=ahead.pop("forecast", pd.DataFrame(columns=FORECAST_COLUMNS)),
        **ahead,
        **timing,
        conversion_target=params.conversion_target,
        company_conversion=compare.company_conversion(peers, stages=stages, period=current)
        if peers is not None
        else np.nan,
    )


def forecast_gap(leads: pd.DataFrame | None, *, source: str, stages) -> Gap | None:
    """Why time to convert, the forecast and its back-test cannot be shown (they need lead
    rows with stage dates), or None when they can: the branch has no leads, its funnel is set
    to be read from stage counts (its leads are then not read), or its leads carry no stage
    dates."""
    if leads is None or leads.empty:
        return Gap("funnel.gap_no_leads")
    if source == "counts":
        return Gap("funnel.gap_counts_source")
    if not forecast.has_stage_dates(leads, stages):
        return Gap("funnel.gap_no_stage_dates")
    return None


def notices(
    quality: pd.DataFrame, *, still_open: pd.DataFrame | None, current: str, has_peers: bool, has_amount: bool
) -> pd.DataFrame:
    """The data-quality warnings of the report, in codes, one row each (``NOTICE_COLUMNS``).

    Every problem of :func:`~funnelkit.funnel.counts.data_quality` up to ``NOTICE_LIMIT``, then
    one ``more`` row counting the rest; the open leads kept out of the losses (``open_leads``
    in ``current``, ``open_earlier`` before it) or, from stage counts, that they could not be
    (``open_unknown``); ``no_peers`` and ``no_amount`` when the benchmark or revenue sizing
    falls back.
    """
    rows = quality.head(NOTICE_LIMIT).to_dict("records")
    if len(quality) > NOTICE_LIMIT:
        rows.append({"kind": "more", "n": len(quality) - NOTICE_LIMIT})
    if still_open is None:
        rows.append({"kind": "open_unknown"})
    else:
        now = still_open.loc[still_open["period"] == current, "still_open"].sum()
        earlier = still_open.loc[still_open["period"] < current, "still_open"].sum()
        rows += [{"kind": "open_leads", "period": current, "n": now}] if now else []
        rows += [{"kind": "open_earlier", "period": current, "n": earlier}] if earlier else []
    rows += [] if has_peers else [{"kind": "no_peers"}]
    rows += [] if has_amount else [{"kind": "no_amount"}]
    return pd.DataFrame(rows, columns=NOTICE_COLUMNS)


def _prior(peers: pd.DataFrame | None, *, before: str | None = None, stages, won: str) -> pd.Series | None:
    """Company-wide win prior from the peers' stage counts; with ``before``, only periods before it
    (a back-test must not learn from the period it forecasts)."""
    if peers is not None and before is not None:
        peers = peers[peers["period"].astype(str) < before]
    return forecast.company_prior(peers, stages=stages, won=won) if peers is not None and len(peers) else None


def _timing_beside_forecast(
    leads: pd.DataFrame, *, peers, stages, current: str, previous: str | None, params: Params
) -> tuple[dict, dict]:
    """:func:`_timing` and :func:`_forecast` of leads with stage dates, the timing on a second
    thread while the forecast runs: both only read the leads and their close days, worked
    out once here, and numpy lets the two run at once."""
    # every lead's close day, shared by the forecast, its range, velocity and time in stage
    closed = lead_arrays.close_days(leads, [s.key for s in stages])
    with ThreadPoolExecutor(1) as pool:
        timing = pool.submit(
            _timing, leads, stages=stages, current=current, previous=previous, params=params, closed=closed
        )
        ahead = _forecast(leads, peers=peers, stages=stages, current=current, params=params, closed=closed)
        return timing.result(), ahead


def _forecast(leads: pd.DataFrame, *, peers, stages, current: str, params: Params, closed: np.ndarray) -> dict:
    """The forecast, its range and its back-test (leads with stage dates only), as
    :class:`Result` fields; ``closed`` holds the leads' close days. The back-test stands at
    the start of the current period: when no lead was created before it, nothing was known
    then, and ``gaps`` says so in place of the back-test and its range."""
    won = forecast.won_stage(leads, stages=stages)
    day = pd.Timestamp(params.as_of) if params.as_of else leads["created_date"].max() + pd.Timedelta(days=1)
    period = pd.Period(current)
    shrinkage = params.forecast_shrinkage
    pipeline = forecast.pipeline(
        leads, as_of=day, stages=stages, prior=_prior(peers, stages=stages, won=won), shrinkage=shrinkage, closed=closed
    )
    # every month from the forecast's own to the last an open lead is expected in
    last = max([day.strftime("%Y-%m"), *([pipeline["close_month"].max()] if len(pipeline) else [])])
    months = pd.period_range(day.strftime("%Y-%m"), last, freq="M").strftime("%Y-%m")
    draws = dict(inflow_months=params.forecast_inflow_months, draws=params.forecast_draws, seed=params.forecast_seed)
    ranged = forecast_range.forecast_range(
        leads, pipeline, as_of=day, months=months, stages=stages, closed=closed, **draws
    )
    fields = {
        "forecast_range": ranged,
        "pipeline": pipeline,
        "forecast": forecast.forecast_by_month(pipeline),
        "backtest_start": period.start_time.date().isoformat(),
    }
    first = leads["created_date"].min()
    if not first < period.start_time:
        gap = Gap("funnel.gap_no_history", {"start": fields["backtest_start"], "first": first.date().isoformat()})
        return {**fields, "gaps": {"backtest": gap}}
    then = forecast.rolled_back(leads, period.start_time, stages=stages, closed=closed)
    then_closed = lead_arrays.close_days(then, [s.key for s in stages])  # for its pipeline and its range
    tested = forecast.backtest(
        leads,
        start=period.start_time,
        end=period.end_time,
        stages=stages,
        prior=_prior(peers, before=current, stages=stages, won=won),
        shrinkage=shrinkage,
        then=then,
        closed=closed,
        then_closed=then_closed,
    )
    period_months = pd.period_range(period.start_time, period.end_time, freq="M").strftime("%Y-%m")
    tested_range = forecast_range.forecast_range(
        then, tested, as_of=period.start_time, months=period_months, stages=stages, closed=then_closed, **draws
    )
    actual = forecast_range.actual_by_month(leads, months=period_months, stages=stages, closed=closed)
    backtest_range, coverage = forecast_range.coverage(tested_range, actual)
    return {
        **fields,
        "backtest_range": backtest_range,
        "backtest_coverage": coverage,
        "backtest": tested,
        "calibration": forecast.calibration(tested),
        "backtest_error": forecast.forecast_error(tested),
    }


def _timing(
    leads: pd.DataFrame, *, stages, current: str, previous: str | None, params: Params, closed: np.ndarray
) -> dict:
    """Time to convert, velocity, its change and time in stage (leads with stage dates only),
    as :class:`Result` fields; ``gaps`` holds the velocity change's when there is one period
    only. ``closed`` holds the leads' close days."""
    # time in stage last: it overlaps the forecast's range, not its win probabilities (the
    # two threads' memory peaks apart)
    waits = forecast.time_to_convert(leads, stages=stages)
    speed = velocity.velocity(leads, stages=stages, closed=closed)
    stays = stage_time.stay_counts(leads, stages=stages, closed=closed)
    fields = {
        "time_to_convert": waits,
        "velocity": speed,
        "stage_time": stage_time.stage_time_summary(stays, stages=stages, min_group=params.min_group),
        "stage_time_trend": stage_time.stage_time_trend(stays),
        "stage_time_stays": stays,
        "won_stage": forecast.won_stage(leads, stages=stages),
        "gaps": {},
    }
    if previous is None:
        fields["gaps"]["velocity_change"] = Gap("funnel.gap_velocity_one_period", {"only": current})
    else:
        fields["velocity_change"] = velocity.velocity_change(speed, current=current, previous=previous)
    return fields
