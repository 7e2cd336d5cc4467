"""Time in stage: how many days leads stay at each stage before moving on or being lost.

A lead's stay at a stage runs from that stage's date to the date of the next stage it reached
(a skipped stage is passed over), or — at the last stage it reached — to its ``lost_date`` (its
close date) when it was lost. Stays still running (an open lead's current stage) and a won
lead's last stage (a customer stays a customer) have no end and are left out, as are stays
whose end is dated before their start (a data error). Needs leads with stage dates.

The report reads stays counted by stage, month ended and length (:func:`stay_counts`), never
one row per stay: a branch of millions of leads has several million stays, a few thousand
distinct counts. The summary, trend and chart take either form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.data.schema import resolve_stages

from . import lead_arrays as arrays
from .forecast import close_dates

COUNT_COLUMNS = ["stage_index", "stage", "month", "days", "stays"]
#: The most (month, days) cells :func:`stay_counts` counts in one array (128 MB of counts).
COUNT_CELLS = 1 << 24
#: Leads whose stays :func:`stay_counts` finds at once (each array of them: 4 MB).
STAY_BLOCK = 1 << 19
QUANTILES = {"median_days": 0.5, "p75_days": 0.75, "p90_days": 0.9}


def stays(leads: pd.DataFrame, *, stages=None) -> pd.DataFrame:
    """One row per finished stay: ``lead_id, stage, stage_index, entered, left, days, ended``
    (``next``: moved on, ``lost``: lost there).

    Examples
    --------
    >>> from funnelkit.data.loading import load_tables
    >>> from funnelkit.funnel import Params
    >>> table = stays(load_tables(Params(branch="杭州分公司"), ["leads"])["leads"])
    >>> sorted(table["ended"].unique())
    ['lost', 'next']
    """
    keys = [s.key for s in resolve_stages(stages)]
    dated = leads.reindex(columns=[f"date_{k}" for k in keys]).astype("datetime64[ns]")
    # the next dated stage after each stage: back-fill from the right, then look one column on
    following = dated.bfill(axis=1).shift(-1, axis=1).to_numpy(dtype="datetime64[ns]")
    lost_on = close_dates(leads, stages=stages).where(leads["outcome"] == "lost").to_numpy(dtype="datetime64[ns]")
    entered = dated.to_numpy(dtype="datetime64[ns]")
    moved = ~np.isnat(following)
    left = np.where(moved, following, lost_on[:, None])
    finished = ~np.isnat(entered) & ~np.isnat(left)
    row, column = np.nonzero(finished)
    days = (left[row, column] - entered[row, column]) / np.timedelta64(1, "D")
    table = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy()[row],
            "stage": np.array(keys, dtype=object)[column],
            "stage_index": column,
            "entered": entered[row, column],
            "left": left[row, column],
            "days": days,
            "ended": np.where(moved[row, column], "next", "lost"),
        }
    )
    return table[table["days"] >= 0].reset_index(drop=True)


def stay_counts(leads: pd.DataFrame, *, stages=None, closed: np.ndarray | None = None) -> pd.DataFrame:
    """The finished stays of :func:`stays` counted: ``stage_index, stage, month`` (the stay
    ended, ``YYYY-MM``), ``days``, ``stays`` (how many), sorted by the first four.

    Computed :data:`STAY_BLOCK` leads and a stage at a time from the leads' date columns, so
    memory is bounded however many leads and stages there are. ``closed`` is the leads' close days
    (:func:`~funnelkit.funnel.forecast.close_dates` as a datetime64[ns] array) when known.

    Examples
    --------
    >>> from funnelkit.data.loading import load_tables
    >>> from funnelkit.funnel import Params
    >>> leads = load_tables(Params(branch="杭州分公司"), ["leads"])["leads"]
    >>> int(stay_counts(leads)["stays"].sum()) == len(stays(leads))
    True
    """
    keys = [s.key for s in resolve_stages(stages)]
    dated = arrays.date_columns(leads, keys)
    closed = arrays.close_days(leads, keys) if closed is None else closed
    lost = arrays.outcome_is(leads, "lost")
    parts = []
    for start in range(0, len(leads), STAY_BLOCK):  # a lead's stays are its own: leads in blocks
        rows = slice(start, start + STAY_BLOCK)
        parts += _block_counts([column[rows] for column in dated], np.where(lost[rows], closed[rows], arrays.NAT), keys)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COUNT_COLUMNS)
    if len(leads) > STAY_BLOCK:  # a (stage, month, days) counted in several blocks: summed
        table = table.groupby(["stage_index", "stage", "month", "days"], as_index=False, sort=False)["stays"].sum()
    table = table.assign(month=pd.DatetimeIndex(table["month"]).strftime("%Y-%m"))
    return table.sort_values(["stage_index", "month", "days"], ignore_index=True)[COUNT_COLUMNS]


def _block_counts(dated: list[np.ndarray], lost_on: np.ndarray, keys: list[str]) -> list[pd.DataFrame]:
    """The finished stays of some leads counted, a frame per stage: ``dated`` holds their
    stage dates, ``lost_on`` the close day of the lost ones."""
    # Arrays of the leads' length are filled in place and the stays' ones dropped as soon as
    # they are used: the block's arrays are tens of MB.
    following = np.full(len(lost_on), arrays.NAT)  # the next dated stage after the one at hand
    left = np.empty(len(lost_on), dtype="datetime64[ns]")
    parts = []
    for index in range(len(keys) - 1, -1, -1):
        entered = dated[index]
        np.copyto(left, following)
        np.copyto(left, lost_on, where=np.isnat(following))
        finished = ~np.isnat(entered) & ~np.isnat(left)
        ended = left[finished]
        days = (ended - entered[finished]) / np.timedelta64(1, "D")
        kept = days >= 0
        month = ended[kept].astype("datetime64[M]")
        del ended
        parts.append(_counted(month, days[kept]).assign(stage_index=index, stage=keys[index]))
        del month, days
        np.copyto(following, entered, where=~np.isnat(entered))
    return parts


def _counted(month: np.ndarray, days: np.ndarray) -> pd.DataFrame:
    """``month, days, stays``: how many times each (month, days) pair occurs, in no set order.

    Whole days in a span of months and days that fits :data:`COUNT_CELLS` are counted with one
    integer key per stay and ``np.bincount`` (a pass over millions of stays); other days
    (fractions of a day, or a vast span) by pandas."""
    whole = len(days) and bool(np.all(days == np.floor(days)))
    months = month.view(np.int64)  # months since 1970, no copy
    if whole:
        first, lengths = int(months.min()), int(days.max()) + 1
        whole = (int(months.max()) - first + 1) * lengths <= COUNT_CELLS
    if not whole:
        counted = pd.DataFrame({"month": month, "days": days}).value_counts(sort=False)
        return counted.rename("stays").reset_index()
    key = months - first
    key *= lengths
    key += days.astype(np.int64)
    stays = np.bincount(key)
    del key
    cells = np.flatnonzero(stays)
    return pd.DataFrame(
        {
            "month": (cells // lengths + first).astype("datetime64[M]"),
            "days": (cells % lengths).astype(float),
            "stays": stays[cells].astype(np.int64),
        }
    )


def _weights(table: pd.DataFrame) -> np.ndarray:
    """How many stays each row stands for: its ``stays`` when counted, else one."""
    return table["stays"].to_numpy(dtype=np.int64) if "stays" in table.columns else np.ones(len(table), np.int64)


def weighted_quantile(days: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``days`` each repeated ``weights`` times, interpolated linearly as
    pandas does (``x[i] + (x[i+1] − x[i]) × frac`` at position ``q × (n − 1)``); NaN when empty."""
    order = np.argsort(days, kind="stable")
    days, ends = days[order], np.cumsum(weights[order])
    n = int(ends[-1]) if len(ends) else 0
    if n == 0:
        return np.nan
    position = q * (n - 1)
    low = int(np.floor(position))
    frac = position - low
    value = days[np.searchsorted(ends, low, side="right")]
    if frac == 0 or low + 1 >= n:
        return float(value)
    following = days[np.searchsorted(ends, low + 1, side="right")]
    return float(value + (following - value) * frac)


def weighted_median(days: np.ndarray, weights: np.ndarray) -> float:
    """The median of ``days`` each repeated ``weights`` times (the mean of the middle two when
    their number is even), as pandas' median; NaN when empty."""
    order = np.argsort(days, kind="stable")
    days, ends = days[order], np.cumsum(weights[order])
    n = int(ends[-1]) if len(ends) else 0
    if n == 0:
        return np.nan
    upper = days[np.searchsorted(ends, n // 2, side="right")]
    if n % 2:
        return float(upper)
    return float((days[np.searchsorted(ends, n // 2 - 1, side="right")] + upper) / 2)


def stage_time_summary(table: pd.DataFrame, *, stages=None, min_group: int) -> pd.DataFrame:
    """Per stage: ``stage, stays, median_days, p75_days, p90_days, too_few`` (fewer than
    ``min_group`` stays: too few to judge); every stage listed, in funnel order. ``table`` is
    :func:`stay_counts` or :func:`stays`."""
    keys = [s.key for s in resolve_stages(stages)]
    weights = _weights(table)
    rows = []
    for key in keys:
        here = (table["stage"] == key).to_numpy(dtype=bool)
        days, counts = table["days"].to_numpy(dtype=float)[here], weights[here]
        rows.append(
            {"stage": key, "stays": int(counts.sum())}
            | {name: weighted_quantile(days, counts, q) for name, q in QUANTILES.items()}
        )
    summary = pd.DataFrame(rows, columns=["stage", "stays", *QUANTILES])
    return summary.assign(too_few=summary["stays"] < min_group)


def stage_time_trend(table: pd.DataFrame) -> pd.DataFrame:
    """Per stage and month the stay ended (``YYYY-MM``): ``stage, month, stays, median_days``.
    By the month a stay ended, because stays that began lately and are long have not ended yet.
    ``table`` is :func:`stay_counts` or :func:`stays`."""
    if "month" not in table.columns:
        table = table.assign(month=pd.DatetimeIndex(table["left"]).strftime("%Y-%m"))
    weights = _weights(table)
    rows = [
        {
            "stage": stage,
            "month": month,
            "stays": int(weights[positions].sum()),
            "median_days": weighted_median(table["days"].to_numpy(dtype=float)[positions], weights[positions]),
        }
        for (_, stage, month), positions in sorted(table.groupby(["stage_index", "stage", "month"]).indices.items())
    ]
    return pd.DataFrame(rows, columns=["stage", "month", "stays", "median_days"])


def slowest_stage(summary: pd.DataFrame) -> pd.Series | None:
    """The stage with the longest median stay among those with enough stays, or None."""
    judged = summary[~summary["too_few"] & summary["median_days"].notna()]
    return judged.loc[judged["median_days"].idxmax()] if len(judged) else None
