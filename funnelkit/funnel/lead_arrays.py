"""Leads as numpy arrays: stage codes, close days and pipeline-snapshot counts.

The forecast, its range and back-test, velocity and time in stage all ask the same few
questions of every lead (which stage, won or lost, closed on which day, open on which
cut-off). Asked of a frame, each answer copies the frame's rows or builds a Python object per
cell; a branch of millions of leads then spends its time and memory there. Here each answer
is one numpy array over the leads, computed from views of the frame's columns, and the
snapshot counts are taken a block of leads at a time, so memory is bounded by the leads, not
by leads × cut-off days. The conventions are those of :mod:`funnelkit.funnel.forecast`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NAT = np.datetime64("NaT", "ns")
#: Leads, and lead-snapshots (a lead open on one cut-off day), counted at once; bounds the
#: memory of :func:`snapshot_counts` (about 100 bytes each).
SNAPSHOT_BLOCK = 1 << 18


def outcome_is(leads: pd.DataFrame, outcome: str) -> np.ndarray:
    """True where ``leads["outcome"]`` is ``outcome`` (False where it is missing)."""
    return leads["outcome"].eq(outcome).to_numpy(dtype=bool, na_value=False)


def stage_codes(leads: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Each lead's ``stage`` as its position in ``keys`` (-1 where missing or unknown)."""
    values = leads["stage"].array
    if isinstance(values, pd.arrays.ArrowStringArray):
        # looked up in Arrow: no Python string per lead
        text = values._pa_array
        found = pc.index_in(text, value_set=pa.array(keys).cast(text.type))
        return found.fill_null(-1).to_numpy().astype(np.int64)
    return pd.Categorical(values, categories=keys).codes.astype(np.int64)


def stage_text(codes: np.ndarray, keys: list[str]) -> pd.arrays.ArrowStringArray:
    """The stage keys at positions ``codes`` as text (pandas ``str``), taken in Arrow: no
    Python string per lead, nor the object array ``Categorical.astype(str)`` builds first."""
    text = pa.array(keys, type=pa.large_string()).take(pa.array(codes))
    return pd.array(text, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def won_stage_index(codes: np.ndarray, won: np.ndarray, keys: list[str]) -> int:
    """:func:`~funnelkit.funnel.forecast.won_stage` as a position: the lowest furthest stage
    of the won leads, the last stage when there are none."""
    reached = codes[won]
    reached = reached[reached >= 0]
    return int(reached.min()) if len(reached) else len(keys) - 1


def date_columns(leads: pd.DataFrame, keys: list[str]) -> list[np.ndarray]:
    """The ``date_<stage>`` columns in stage order as datetime64[ns] arrays (views where the
    column already has that type); a column the frame lacks is all NaT."""
    return [
        leads[f"date_{k}"].to_numpy(dtype="datetime64[ns]")
        if f"date_{k}" in leads.columns
        else np.full(len(leads), NAT)
        for k in keys
    ]


def furthest_dates(dated: list[np.ndarray], created: np.ndarray) -> np.ndarray:
    """The date of each lead's furthest dated stage, its creation date when none is dated."""
    furthest = created.copy()
    for column in dated:  # in place: a later dated stage overrides
        np.copyto(furthest, column, where=~np.isnat(column))
    return furthest


def close_days(leads: pd.DataFrame, keys: list[str], *, win: int | None = None) -> np.ndarray:
    """:func:`~funnelkit.funnel.forecast.close_dates` as a datetime64[ns] array; ``win`` is the
    won stage's position (default: found from ``leads``)."""
    won, lost = outcome_is(leads, "won"), outcome_is(leads, "lost")
    if win is None:
        win = won_stage_index(stage_codes(leads, keys), won, keys)
    dated = date_columns(leads, keys)
    closed = np.full(len(leads), NAT)  # filled in place: a large branch's leads, two arrays
    np.copyto(closed, dated[win], where=won)
    if "lost_date" in leads.columns:
        np.copyto(closed, leads["lost_date"].to_numpy(dtype="datetime64[ns]"), where=lost)
    furthest = furthest_dates(dated, leads["created_date"].to_numpy(dtype="datetime64[ns]"))
    np.copyto(closed, furthest, where=(won | lost) & np.isnat(closed))  # no won or lost date: the last dated stage
    return closed


def stage_index_on(dated: np.ndarray, day) -> np.ndarray:
    """Index of the last stage dated before ``day`` in each row of ``dated`` (0 when none);
    ``day`` is one day or one per row."""
    reached = dated < np.asarray(day).reshape(-1, 1)  # NaT compares False
    return np.where(reached.any(axis=1), reached.shape[1] - 1 - np.argmax(reached[:, ::-1], axis=1), 0)


def stage_reached_on(dated: list[np.ndarray], rows: np.ndarray, day) -> np.ndarray:
    """:func:`stage_index_on` of the leads at positions ``rows``, a stage column at a time
    (no rows × stages matrix)."""
    index = np.zeros(len(rows), dtype=np.int64)
    for stage, column in enumerate(dated):
        index[column[rows] < day] = stage  # NaT compares False; a later stage overrides
    return index


def open_runs(created: np.ndarray, closed: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per lead, the first cut-off of ``days`` (sorted) after its creation and how many
    consecutive cut-offs it is open on: those ``d`` with ``created < d <= closed``."""
    first = np.searchsorted(days, created, side="right")
    runs = np.searchsorted(days, closed, side="right")
    runs[np.isnat(closed)] = len(days)  # never closed: open through the last day
    runs -= first  # in place: a large branch's leads, one array less at the forecast's peak
    return first, np.clip(runs, 0, None, out=runs)


def snapshot_counts(
    dated: list[np.ndarray], *, created: np.ndarray, closed: np.ndarray, won: np.ndarray, among: np.ndarray, days
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per stage, over the pipeline snapshots on ``days`` of the leads at positions ``among``:
    lead-snapshots, won ones, and distinct leads (:func:`~funnelkit.funnel.forecast.open_snapshots`
    grouped by stage).

    All arrays are one per lead (``dated``: one per stage). The leads are taken
    :data:`SNAPSHOT_BLOCK` at a time, and their snapshots in blocks of at most as many (or
    one lead), so the memory is bounded however many leads and cut-offs there are. The counts
    are whole numbers: any blocks give the same sums.
    """
    stages = len(dated)
    days = np.sort(np.asarray(days, dtype="datetime64[ns]"))
    counts = np.zeros((3, stages))  # lead-snapshots, won ones, distinct leads
    for lead in range(0, len(among), SNAPSHOT_BLOCK):
        chosen = among[lead : lead + SNAPSHOT_BLOCK]
        first, runs = open_runs(created[chosen], closed[chosen], days)
        counts += _counted(dated, chosen, first, runs, won=won[chosen], days=days)
    return counts[0], counts[1], counts[2]


def _counted(dated, among, first, runs, *, won, days) -> np.ndarray:
    """:func:`snapshot_counts` of the leads at positions ``among``, each open on ``runs``
    consecutive cut-offs from ``first``: three rows of per-stage counts."""
    stages = len(dated)
    counts = np.zeros((3, stages))
    ends = np.cumsum(runs)
    start = 0
    while start < len(runs):
        stop = max(
            int(np.searchsorted(ends, (ends[start - 1] if start else 0) + SNAPSHOT_BLOCK, side="right")), start + 1
        )
        part = runs[start:stop]
        rows = np.repeat(np.arange(start, stop), part)
        day_index = np.arange(part.sum()) - np.repeat(np.cumsum(part) - part, part) + np.repeat(first[start:stop], part)
        index = stage_reached_on(dated, among[rows], days[day_index])
        counts[0] += np.bincount(index, minlength=stages)
        counts[1] += np.bincount(index, weights=won[rows], minlength=stages)
        seen = np.zeros((stop - start) * stages, dtype=bool)  # a lead at one stage on several days is one lead
        seen[(rows - start) * stages + index] = True
        counts[2] += seen.reshape(-1, stages).sum(axis=0)
        start = stop
    return counts
