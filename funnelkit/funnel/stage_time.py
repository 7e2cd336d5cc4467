"""Time in stage: how many days leads stay at each stage before moving on or being lost.

A lead's stay at a stage runs from that stage's date to the date of the next stage it reached
(a skipped stage is passed over), or — at the last stage it reached — to its ``lost_date`` (its
close date) when it was lost. Stays still running (an open lead's current stage) and a won
lead's last stage (a customer stays a customer) have no end and are left out, as are stays
whose end is dated before their start (a data error). Needs leads with stage dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.data.schema import resolve_stages

from .forecast import close_dates

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


def stage_time_summary(table: pd.DataFrame, *, stages=None, min_group: int) -> pd.DataFrame:
    """Per stage: ``stage, stays, median_days, p75_days, p90_days, too_few`` (fewer than
    ``min_group`` stays: too few to judge); every stage listed, in funnel order."""
    keys = [s.key for s in resolve_stages(stages)]
    grouped = table.groupby("stage")["days"]
    summary = pd.DataFrame({"stays": grouped.size()}).reindex(keys).fillna({"stays": 0})
    for name, q in QUANTILES.items():
        summary[name] = grouped.quantile(q).reindex(keys)
    summary = summary.rename_axis("stage").reset_index()
    return summary.assign(stays=summary["stays"].astype(int), too_few=summary["stays"] < min_group)


def stage_time_trend(table: pd.DataFrame) -> pd.DataFrame:
    """Per stage and month the stay ended (``YYYY-MM``): ``stage, month, stays, median_days``.
    By the month a stay ended, because stays that began lately and are long have not ended yet."""
    month = pd.DatetimeIndex(table["left"]).strftime("%Y-%m")
    return (
        table.assign(month=month)
        .groupby(["stage_index", "stage", "month"], sort=True)["days"]
        .agg(stays="size", median_days="median")
        .reset_index()
        .drop(columns="stage_index")
    )


def slowest_stage(summary: pd.DataFrame) -> pd.Series | None:
    """The stage with the longest median stay among those with enough stays, or None."""
    judged = summary[~summary["too_few"] & summary["median_days"].notna()]
    return judged.loc[judged["median_days"].idxmax()] if len(judged) else None
