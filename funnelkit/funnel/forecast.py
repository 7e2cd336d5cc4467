"""Time to convert, stage win probabilities, the pipeline forecast and its back-test.

All of it needs leads with stage dates (``date_<stage>``); a counts-only branch has none.

Conventions (the data contract does not define a close date):

- the **won stage** is the lowest furthest stage among won leads (in the telecom funnel
  ``signed``: signing is winning); a won lead closes on that stage's date;
- a lost lead closes on ``lost_date``, else on the date of its furthest stage;
- the stage a lead had reached *on a given day* is the last stage dated on or before it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.data.schema import resolve_stages

from . import lead_arrays as arrays
from .counts import transition_key

PROBABILITY_BANDS = (0, 0.1, 0.25, 0.5, 0.75, 1.0)


def _date_columns(leads: pd.DataFrame, stages) -> list[str]:
    return [f"date_{s.key}" for s in resolve_stages(stages) if f"date_{s.key}" in leads.columns]


def has_stage_dates(leads: pd.DataFrame | None, stages=None) -> bool:
    """True when ``leads`` exist and carry at least two stage date columns with values."""
    if leads is None or leads.empty:
        return False
    return sum(leads[c].notna().any() for c in _date_columns(leads, stages)) >= 2


def time_to_convert(leads: pd.DataFrame, *, stages=None) -> pd.DataFrame:
    """Days from each stage to the next, and from the first stage to the last, over leads
    that have both dates: ``transition, n, median_days, p90_days``.

    Examples
    --------
    >>> from funnelkit.demo import load_demo
    >>> table = time_to_convert(load_demo("leads", branch="杭州分公司"))
    >>> table.loc[0, "transition"], float(table.loc[0, "median_days"])
    ('target>potential', 4.0)
    """
    stages = resolve_stages(stages)
    pairs = list(zip(stages[:-1], stages[1:])) + [(stages[0], stages[-1])]
    rows = []
    for source, target in pairs:
        a, b = f"date_{source.key}", f"date_{target.key}"
        days = (leads[b] - leads[a]).dt.days.dropna() if {a, b} <= set(leads.columns) else pd.Series(dtype=float)
        key = transition_key(source.key, target.key)
        rows.append(
            {
                "transition": key,
                "n": len(days),
                "median_days": days.median() if len(days) else np.nan,
                "p90_days": days.quantile(0.9) if len(days) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def won_stage(leads: pd.DataFrame, *, stages=None) -> str:
    """The stage at which a lead counts as won: the lowest furthest stage of won leads
    (the last stage when there are none)."""
    keys = [s.key for s in resolve_stages(stages)]
    # from stage positions: no copy of the won leads' rows, no Python call per lead
    return keys[arrays.won_stage_index(arrays.stage_codes(leads, keys), arrays.outcome_is(leads, "won"), keys)]


def close_dates(leads: pd.DataFrame, *, stages=None) -> pd.Series:
    """The day each closed lead was won or lost (NaT while open); see the module conventions."""
    keys = [s.key for s in resolve_stages(stages)]
    return pd.Series(arrays.close_days(leads, keys), index=leads.index, name="close_date")


_stage_index_on = arrays.stage_index_on


def _dated(leads: pd.DataFrame, keys: list[str]) -> np.ndarray:
    return leads.reindex(columns=[f"date_{k}" for k in keys]).to_numpy(dtype="datetime64[ns]")


def as_of_day(leads: pd.DataFrame, day, *, stages=None) -> pd.DataFrame:
    """The leads as they stood at the start of ``day``: created before it, ``stage`` the last
    stage dated before it, ``outcome`` open unless closed before it."""
    day = np.datetime64(pd.Timestamp(day), "ns")
    keys = [s.key for s in resolve_stages(stages)]
    closed = arrays.close_days(leads, keys)
    known = (leads["created_date"] < day).to_numpy(dtype=bool, na_value=False)
    dated = arrays.date_columns(leads, keys)
    index = arrays.stage_reached_on(dated, np.flatnonzero(known), day)
    still_open = ~(closed[known] < day)
    then = leads[known]
    stage = pd.Series(arrays.stage_text(index, keys), index=then.index)
    return then.assign(stage=stage, outcome=then["outcome"].where(~still_open, "open"))


def rolled_back(leads: pd.DataFrame, day, *, stages=None, closed: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`as_of_day` without leaving any lead out: every lead is kept, those created on or
    after ``day`` with no ``outcome`` (neither open, won nor lost), which the pipeline, its
    win probabilities and its range then pass over as they would an absent lead.

    The other columns are the leads' own, not copies: a large branch is rolled back for a
    back-test at the cost of two columns. ``closed`` is :func:`close_dates` of ``leads`` as a
    datetime64[ns] array when the caller has it (found otherwise)."""
    day = np.datetime64(pd.Timestamp(day), "ns")
    keys = [s.key for s in resolve_stages(stages)]
    known = (leads["created_date"] < day).to_numpy(dtype=bool, na_value=False)
    index = arrays.stage_reached_on(arrays.date_columns(leads, keys), np.arange(len(leads)), day)
    closed = arrays.close_days(leads, keys) if closed is None else closed
    still_open = ~(closed < day)
    stage = pd.Series(arrays.stage_text(index, keys), index=leads.index)
    outcome = leads["outcome"].where(~still_open, "open").where(known)
    return leads.assign(stage=stage, outcome=outcome)


def snapshot_days(leads: pd.DataFrame, *, as_of, freq: str = "MS") -> pd.DatetimeIndex:
    """Cut-off days for pipeline snapshots: every ``freq`` (month start) from the first lead
    up to, and excluding, ``as_of``."""
    return pd.date_range(leads["created_date"].min(), pd.Timestamp(as_of), freq=freq, inclusive="left")


def open_snapshots(leads: pd.DataFrame, *, days, stages=None) -> pd.DataFrame:
    """The pipeline as it stood at the start of each of ``days``: one row per lead open then
    (created before the day, not closed before it) with the furthest stage it had reached by
    then, ``days_at_stage`` since reaching it, and its final ``outcome`` / ``won``.

    A lead open on several days appears once per day; rows are ordered by day, then by the
    leads' order. A lead is open on the days ``d`` with ``created < d <= closed``, a run of
    consecutive cut-offs found by binary search, so the work and memory grow with the rows
    returned, not with leads × days.
    """
    keys = [s.key for s in resolve_stages(stages)]
    days = pd.DatetimeIndex(days).sort_values().to_numpy(dtype="datetime64[ns]")
    closed = close_dates(leads, stages=stages).to_numpy(dtype="datetime64[ns]")
    created = leads["created_date"].to_numpy(dtype="datetime64[ns]")
    first = np.searchsorted(days, created, side="right")  # first day after creation
    # NaT (never closed) sorts last, so an open lead is open through the last day
    last = np.where(np.isnat(closed), len(days), np.searchsorted(days, closed, side="right"))
    runs = np.clip(last - first, 0, None)
    rows = np.repeat(np.arange(len(leads)), runs)
    day_index = np.arange(runs.sum()) - np.repeat(np.cumsum(runs) - runs, runs) + np.repeat(first, runs)
    order = np.lexsort((rows, day_index))
    rows, day64 = rows[order], days[day_index[order]]
    dated = _dated(leads, keys)[rows]
    index = _stage_index_on(dated, day64)
    reached_on = dated[np.arange(len(rows)), index]
    reached_on = np.where(np.isnat(reached_on), created[rows], reached_on)
    outcome = leads["outcome"].to_numpy()[rows]
    return pd.DataFrame(
        {
            "snapshot": pd.DatetimeIndex(day64),
            "lead_id": leads["lead_id"].to_numpy()[rows],
            "stage": np.array(keys, dtype=object)[index],
            "days_at_stage": (day64 - reached_on) / np.timedelta64(1, "D"),
            "outcome": outcome,
            "won": pd.Series(outcome).eq("won").to_numpy(dtype=bool, na_value=False),
        }
    )


def _pass_through_codes(reached: np.ndarray, won: np.ndarray, stages: int) -> np.ndarray:
    """won / closed among closed leads that ever reached each stage (the pass-through rate);
    ``reached`` holds the closed leads' stage positions, ``won`` whether each was won."""
    n = np.array([(reached >= i).sum() for i in range(stages)], dtype=float)
    w = np.array([((reached >= i) & won).sum() for i in range(stages)], dtype=float)
    return np.divide(w, n, out=np.full(stages, np.nan), where=n > 0)


def win_probabilities(
    leads: pd.DataFrame,
    *,
    stages=None,
    prior: pd.Series | None = None,
    shrinkage: float,
    as_of=None,
    freq: str = "MS",
    closed: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per stage, the chance that a lead *open* at that stage is eventually won, learned from
    snapshots of the pipeline.

    At every ``freq`` cut-off before ``as_of`` (default: the day after the last lead) the leads
    open then are taken at the furthest stage reached by then; ``raw = won / snapshots`` pools
    these lead-snapshots, counting only leads whose outcome is known by ``as_of`` (closed
    before it), so nothing after ``as_of`` is used. A stalled lead weighs on the stage it sits
    at, unlike the pass-through rate ``won / closed`` of all leads that ever reached it, which
    overstates an open lead's chance.

    ``win_prob = (leads × raw + shrinkage × prior) / (leads + shrinkage)``, ``leads`` the
    distinct leads behind the stage (a lead open at five cut-offs is one lead of evidence).
    ``prior`` is the company-wide pass-through rate (:func:`company_prior`); it is put on the
    snapshot scale by the branch's ``stall_factor``: its snapshot wins over the wins its own
    pass-through rates would predict for the same lead-snapshots. Stages at and after the won
    stage are 1. ``closed``: the leads' close days when the caller has them (:func:`pipeline`).
    """
    keys = [s.key for s in resolve_stages(stages)]
    as_of = pd.Timestamp(as_of) if as_of is not None else leads["created_date"].max() + pd.Timedelta(days=1)
    won, lost = arrays.outcome_is(leads, "won"), arrays.outcome_is(leads, "lost")
    codes = arrays.stage_codes(leads, keys)
    win = arrays.won_stage_index(codes, won, keys)
    closed = arrays.close_days(leads, keys, win=win) if closed is None else closed
    # a row is a lead: positions stand for leads (ids need not be read)
    known = np.flatnonzero((won | lost) & (closed < np.datetime64(as_of, "ns")))
    passing = _pass_through_codes(codes[known], won[known], len(keys))
    del codes  # a large branch's leads: not held while the snapshots are counted
    n, w, distinct = arrays.snapshot_counts(
        arrays.date_columns(leads, keys),
        created=leads["created_date"].to_numpy(dtype="datetime64[ns]"),
        closed=closed,
        won=won,
        among=known,
        days=snapshot_days(leads, as_of=as_of, freq=freq),
    )
    raw = np.divide(w, n, out=np.full(len(keys), np.nan), where=n > 0)
    predicted = np.nansum(n * passing)
    stall = w.sum() / predicted if predicted > 0 else 1.0
    p0 = prior.reindex(keys).to_numpy(dtype=float) * stall if prior is not None else np.full(len(keys), np.nan)
    p0 = np.clip(np.where(np.isnan(p0), np.nan_to_num(raw), p0), 0, 1)
    after_win = np.arange(len(keys)) >= win
    p0 = np.where(after_win, 1.0, p0)
    weight = distinct + shrinkage
    pooled = np.divide(distinct * np.nan_to_num(raw) + shrinkage * p0, weight, out=p0.copy(), where=weight > 0)
    win_prob = np.where(after_win, 1.0, pooled)
    return pd.DataFrame(
        {
            "stage": keys,
            "snapshots": n,
            "leads": distinct,
            "won": w,
            "raw_win_prob": raw,
            "pass_through": passing,
            "stall_factor": stall,
            "prior": p0,
            "win_prob": win_prob,
        }
    )


def company_prior(peers: pd.DataFrame, *, stages=None, won: str) -> pd.Series:
    """Company-wide chance of reaching the won stage from each stage, pooled over all
    branches' stage counts (1 at and beyond the won stage): the prior of :func:`win_probabilities`."""
    keys = [s.key for s in resolve_stages(stages)]
    totals = peers.groupby("stage")["count"].sum().reindex(keys).astype(float)
    ratio = (totals[won] / totals).where(totals > 0).clip(upper=1)
    return ratio.where(pd.Series(range(len(keys)), index=keys) < keys.index(won), 1.0)


def days_to_close(leads: pd.DataFrame, *, stages=None) -> pd.Series:
    """Median days from reaching each stage to closing, over won leads (by stage key)."""
    return _days_to_close(leads, resolve_stages(stages), among=arrays.outcome_is(leads, "won"))


def _days_to_close(leads: pd.DataFrame, stages, *, among: np.ndarray) -> pd.Series:
    """:func:`days_to_close` of the won leads at the True places of ``among``, without
    copying the frame's rows."""
    keys = [s.key for s in stages]
    needed = ["created_date", "stage", "outcome", "lost_date", *(f"date_{k}" for k in keys)]
    won = leads[[c for c in needed if c in leads.columns]][among]
    closed = close_dates(won, stages=stages)  # the won stage of these leads, not of all
    return pd.Series(
        {
            s.key: (closed - won[f"date_{s.key}"]).dt.days.median() if f"date_{s.key}" in won.columns else np.nan
            for s in stages
        }
    )


def expected_amounts(leads: pd.DataFrame) -> pd.Series:
    """Each lead's deal amount; a missing one is the mean won amount of its segment (of the
    branch when the segment has no won deal)."""
    return _fill_amounts(leads, won=leads[["amount", "segment"]][arrays.outcome_is(leads, "won")])


def _fill_amounts(leads: pd.DataFrame, *, won: pd.DataFrame) -> pd.Series:
    """:func:`expected_amounts` of ``leads`` with the means taken from the ``won`` leads of
    the branch (``leads`` may be a part of it: the means stay the branch's)."""
    overall = won["amount"].mean()
    by_segment = won.groupby("segment")["amount"].mean()
    return leads["amount"].fillna(leads["segment"].map(by_segment)).fillna(overall)


def pipeline(
    leads: pd.DataFrame,
    *,
    as_of,
    stages=None,
    prior: pd.Series | None = None,
    shrinkage: float,
    freq: str = "MS",
    closed: np.ndarray | None = None,
) -> pd.DataFrame:
    """Open leads with their win probability, expected amount and expected close month.

    Win probabilities come from pipeline snapshots before ``as_of`` (:func:`win_probabilities`,
    one every ``freq``), days to close from the leads closed before ``as_of``. The
    expected close day is the date the lead reached its stage plus the median days to close
    from that stage; a lead already past it is expected in the month of ``as_of``.
    ``closed`` is :func:`close_dates` of ``leads`` as a datetime64[ns] array when the caller
    has it (found otherwise): a large branch's close days are then worked out once.

    Returns
    -------
    DataFrame
        One row per open lead: ``lead_id`` (when ``leads`` have it), ``segment, stage,
        win_prob, amount, expected, close_month`` (text ``YYYY-MM``).
    """
    as_of = pd.Timestamp(as_of)
    stages = resolve_stages(stages)
    keys = [s.key for s in stages]
    closed = arrays.close_days(leads, keys) if closed is None else closed
    history = closed < np.datetime64(as_of, "ns")
    probs = win_probabilities(
        leads, stages=stages, prior=prior, shrinkage=shrinkage, as_of=as_of, freq=freq, closed=closed
    ).set_index("stage")
    wait = _days_to_close(leads, stages, among=history & arrays.outcome_is(leads, "won"))
    is_open = arrays.outcome_is(leads, "open")
    ids = ["lead_id"] if "lead_id" in leads.columns else []  # a report reads no lead ids
    open_leads = leads[[*ids, "segment", "stage", "amount", "created_date"]][is_open]
    at_stage = arrays.stage_codes(open_leads, keys)
    dated = np.column_stack([column[is_open] for column in arrays.date_columns(leads, keys)])
    reached_on = pd.Series(dated[np.arange(len(open_leads)), at_stage], index=open_leads.index).fillna(
        open_leads["created_date"]
    )
    expected_day = (reached_on + pd.to_timedelta(open_leads["stage"].map(wait).fillna(0), unit="D")).clip(lower=as_of)
    amount = _fill_amounts(open_leads, won=leads[["amount", "segment"]][arrays.outcome_is(leads, "won")])
    win_prob = open_leads["stage"].map(probs["win_prob"])
    win_prob = win_prob if len(win_prob) else win_prob.astype(float)  # no open lead: not text
    return pd.DataFrame(
        {
            **{column: open_leads[column] for column in ids},
            "segment": open_leads["segment"],
            "stage": open_leads["stage"],
            "win_prob": win_prob,
            "amount": amount,
            "expected": win_prob * amount,
            "close_month": _month_text(expected_day),
        }
    )


def _month_text(days: pd.Series) -> pd.Series:
    """``YYYY-MM`` of each of ``days`` (none missing), written once per distinct month."""
    distinct, at = np.unique(days.to_numpy(dtype="datetime64[M]"), return_inverse=True)
    return pd.Series(pd.DatetimeIndex(distinct).strftime("%Y-%m").take(at), index=days.index)


def forecast_by_month(open_pipeline: pd.DataFrame) -> pd.DataFrame:
    """The pipeline summed by expected close month: ``close_month, leads, pipeline_amount,
    expected_amount`` (the forecast), plus ``expected_won`` (expected deals)."""
    return (
        open_pipeline.groupby("close_month")
        .agg(
            leads=("win_prob", "size"),
            pipeline_amount=("amount", "sum"),
            expected_won=("win_prob", "sum"),
            expected_amount=("expected", "sum"),
        )
        .reset_index()
    )


def backtest(
    leads: pd.DataFrame,
    *,
    start,
    end,
    stages=None,
    prior: pd.Series | None = None,
    shrinkage: float,
    freq: str = "MS",
    then: pd.DataFrame | None = None,
    closed: np.ndarray | None = None,
    then_closed: np.ndarray | None = None,
) -> pd.DataFrame:
    """The forecast the method would have made on ``start`` against what closed by ``end``.

    Leads are rolled back to ``start`` (:func:`as_of_day`), forecast with what was known then,
    and each lead open at ``start`` is marked ``won`` if it was won before ``end``. ``then``
    is ``as_of_day(leads, start)`` when the caller has it already (a large branch's copy is
    then made once); ``closed`` is :func:`close_dates` of ``leads`` as an array, likewise,
    and ``then_closed`` that of ``then``.

    Returns
    -------
    DataFrame
        One row per lead open at ``start``: the :func:`pipeline` columns, ``won`` (bool),
        ``actual`` (amount won, 0 if not).
    """
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    then = as_of_day(leads, start, stages=stages) if then is None else then
    forecast = pipeline(
        then, as_of=start, stages=stages, prior=prior, shrinkage=shrinkage, freq=freq, closed=then_closed
    )
    closed = (
        close_dates(leads, stages=stages) if closed is None else pd.Series(closed, index=leads.index, name="close_date")
    ).loc[forecast.index]
    won = ((leads["outcome"].loc[forecast.index] == "won") & (closed < end)).fillna(False).astype(bool)
    return forecast.assign(won=won, actual=forecast["amount"].where(won, 0.0))


def calibration(backtested: pd.DataFrame, *, bands=PROBABILITY_BANDS) -> pd.DataFrame:
    """Back-test by forecast probability band: leads, mean forecast probability, share actually
    won, forecast and actual amounts."""
    band = pd.cut(backtested["win_prob"], bins=list(bands), include_lowest=True)
    table = (
        backtested.assign(band=band)
        .groupby("band", observed=True)
        .agg(
            leads=("win_prob", "size"),
            forecast_prob=("win_prob", "mean"),
            actual_rate=("won", "mean"),
            forecast_amount=("expected", "sum"),
            actual_amount=("actual", "sum"),
        )
        .reset_index()
    )
    return table.assign(band=table["band"].map(lambda b: f"{max(b.left, 0):.0%}–{b.right:.0%}"))


def forecast_error(backtested: pd.DataFrame) -> dict[str, float]:
    """Totals of the back-test: forecast and actual amounts and deals, the error (forecast −
    actual) and the error as a share of actual, and the Brier score of the probabilities."""
    forecast, actual = backtested["expected"].sum(), backtested["actual"].sum()
    return {
        "leads": len(backtested),
        "forecast_amount": forecast,
        "actual_amount": actual,
        "error": forecast - actual,
        "error_pct": (forecast - actual) / actual if actual else np.nan,
        "forecast_won": backtested["win_prob"].sum(),
        "actual_won": float(backtested["won"].sum()),
        "brier": float(((backtested["win_prob"] - backtested["won"]) ** 2).mean()) if len(backtested) else np.nan,
    }
