"""Funnel diagnosis: customers per stage, conversion and loss per transition, data quality.

Everything here works on **stage counts** — a tidy frame ``period, segment, stage, count``
(the ``stage_counts`` table of the data contract). A branch that keeps leads is turned into
that form by :func:`counts_from_leads`, so both forms give the same tables.

A *transition* is a step from one stage to the next; its key is ``"<from>><to>"``
(``"contacted>intent"``), the key the ``controllability`` parameter uses. The whole branch is
the segment :data:`ALL` (``"all"``). Tables hold codes only; :mod:`funnelkit.funnel.labels`
turns them into words.

Stage counts cannot tell a customer still being worked on from one who was lost. With leads,
:func:`open_from_leads` counts the open leads sitting at each stage, and
:func:`transition_table` takes them out of the loss: its rates are over *settled* customers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.data.frame_sql import query
from funnelkit.data.schema import resolve_stages
from funnelkit.stats import with_wilson

#: Segment names a source may use for a row that already holds the whole-branch total.
TOTAL_SEGMENTS = ("合计", "全部", "总计", "小计", "total", "all", "All", "Total")
COUNT_COLUMNS = ["period", "segment", "stage", "count"]
#: The code of the whole-branch segment (a source's own total rows are in TOTAL_SEGMENTS and
#: left out, so a real segment never carries it).
ALL = "all"


def transition_key(source: str, target: str) -> str:
    """The key of the step ``source`` → ``target`` (``"contacted>intent"``)."""
    return f"{source}>{target}"


_FURTHEST_SQL = """
    SELECT year(created_date) AS year, segment, stage, count(*) AS leads, count(*) FILTER (outcome = ?) AS open
    FROM leads GROUP BY ALL"""


def _furthest_stage_counts(leads: pd.DataFrame) -> pd.DataFrame:
    """Leads and open leads per year of ``created_date``, segment and furthest stage, counted
    by DuckDB over the frame (a few hundred rows however many leads)."""
    columns = leads[["created_date", "segment", "stage", "outcome"]]
    return query(_FURTHEST_SQL, ["open"], leads=columns).astype({"year": "Int64"})


def _by_furthest_stage(grouped: pd.DataFrame, keys: list[str], weight: str) -> pd.DataFrame:
    """(period, segment) × stage index: the sum of the ``weight`` column of
    :func:`_furthest_stage_counts` over leads whose furthest stage is that stage; every
    period × segment with leads present, zeros included."""
    return (
        grouped.assign(
            period=grouped["year"].astype(str),
            index=grouped["stage"].map({k: i for i, k in enumerate(keys)}),
        )
        .pivot_table(index=["period", "segment"], columns="index", values=weight, aggfunc="sum")
        .reindex(columns=range(len(keys)))
        .fillna(0)
    )


def _tidy(wide: pd.DataFrame, keys: list[str], name: str) -> pd.DataFrame:
    wide = wide.set_axis(keys, axis=1).rename_axis(columns="stage")
    return (wide.stack().rename(name).reset_index().astype({name: "Int64", "period": str, "segment": str}))[
        ["period", "segment", "stage", name]
    ]


def counts_from_leads(leads: pd.DataFrame, *, stages=None) -> pd.DataFrame:
    """Stage counts from leads: per year of ``created_date`` and segment, the number of leads
    whose furthest stage is at or beyond each stage.

    Parameters
    ----------
    leads : DataFrame
        Validated leads (``created_date`` datetime, ``segment``, ``stage`` as a stage key).
    stages : list, optional
        Funnel stages from params (``[]`` = the default telecom funnel).

    Returns
    -------
    DataFrame
        ``period`` (text year), ``segment``, ``stage`` (key), ``count`` (Int64); every stage
        of every period × segment present, zeros included.
    """
    keys = [s.key for s in resolve_stages(stages)]
    reached = _by_furthest_stage(_furthest_stage_counts(leads), keys, "leads")
    # at-or-beyond: cumulative sum from the last stage backwards
    return _tidy(reached.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1], keys, "count")


def open_from_leads(leads: pd.DataFrame, *, stages=None) -> pd.DataFrame:
    """Open leads (``outcome`` ``open``) per year of ``created_date``, segment and the stage
    they sit at (their furthest stage): the customers of that stage's next transition who are
    neither converted nor lost yet.

    Returns
    -------
    DataFrame
        ``period, segment, stage, still_open`` (Int64), on the same grid as
        :func:`counts_from_leads`.
    """
    keys = [s.key for s in resolve_stages(stages)]
    return _tidy(_by_furthest_stage(_furthest_stage_counts(leads), keys, "open"), keys, "still_open")


def tidy_counts(stage_counts: pd.DataFrame, *, stages=None) -> pd.DataFrame:
    """The contract's ``stage_counts`` reduced to ``period, segment, stage, count``:
    duplicate rows summed, stages outside ``stages`` dropped, first-to-last order."""
    keys = [s.key for s in resolve_stages(stages)]
    data = stage_counts[stage_counts["stage"].isin(keys)].astype({"period": str, "segment": str})
    return (
        data.groupby(["period", "segment", "stage"], sort=False)["count"]
        .sum(min_count=1)
        .reset_index()
        .assign(order=lambda d: d["stage"].map(keys.index))
        .sort_values(["period", "segment", "order"])
        .drop(columns="order")
        .reset_index(drop=True)[COUNT_COLUMNS]
    )


def _wide(counts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """(period, segment) × stage counts; a missing stage is NaN, never 0."""
    return (
        counts.pivot_table(index=["period", "segment"], columns="stage", values="count", aggfunc="sum", dropna=False)
        .reindex(columns=keys)
        .astype(float)
    )


def stage_table(counts: pd.DataFrame, *, stages=None, min_group: int) -> pd.DataFrame:
    """Per period, segment and stage: the count, conversion from the previous stage and from
    the first stage, each with a Wilson 95% interval.

    The whole branch is added as one more segment, :data:`ALL` (``is_total``), summed over the segments;
    a total row at a stage some segment lacks stays empty rather than undercounted. Rows in
    a source total segment (``合计`` …) are left out: :func:`data_quality` checks them.

    Returns
    -------
    DataFrame
        ``period, segment, is_total, stage, stage_index, count, prev_count,
        conv_prev, conv_prev_low, conv_prev_high, conv_first, conv_first_low,
        conv_first_high, too_few`` (``too_few``: fewer than ``min_group`` at the previous stage).
    """
    stages = resolve_stages(stages)
    keys = [s.key for s in stages]
    wide = _wide(counts[~counts["segment"].isin(TOTAL_SEGMENTS)], keys)
    total = wide.groupby(level="period").sum(min_count=1)
    total = total.mask(wide.isna().groupby(level="period").any())
    total.index = pd.MultiIndex.from_product([total.index, [ALL]], names=["period", "segment"])
    both = pd.concat([wide.assign(is_total=False), total.assign(is_total=True)]).set_index("is_total", append=True)
    count = both.stack()  # pandas 3 keeps the NaN of a missing stage
    long = count.rename("count").reset_index()
    groups = long.groupby(["period", "segment", "is_total"])["count"]  # rows in stage order
    out = long.assign(
        stage_index=long["stage"].map(keys.index),
        prev_count=groups.shift(1),
        # the first stage's own count, NaN when it is missing ("first" would skip it)
        first_count=groups.transform(lambda s: s.iloc[0]),
    )
    out = _rate(out, "conv_prev", successes="count", trials="prev_count")
    out = _rate(out, "conv_first", successes="count", trials="first_count")
    return out.assign(too_few=out["prev_count"] < min_group)[
        [
            "period",
            "segment",
            "is_total",
            "stage",
            "stage_index",
            "count",
            "prev_count",
            "conv_prev",
            "conv_prev_low",
            "conv_prev_high",
            "conv_first",
            "conv_first_low",
            "conv_first_high",
            "too_few",
        ]
    ]


def _rate(data: pd.DataFrame, name: str, *, successes: str, trials: str) -> pd.DataFrame:
    """``successes / trials`` with its Wilson interval (:func:`funnelkit.stats.with_wilson`);
    no interval where successes fall outside ``[0, trials]`` (counts rising: a data error)."""
    valid = (data[trials] > 0) & (data[successes] >= 0) & (data[successes] <= data[trials])
    safe = data.assign(_x=data[successes].where(valid, 0), _n=data[trials].where(valid, 0))
    rated = with_wilson(safe, successes="_x", trials="_n", prefix=name)
    return rated.drop(columns=["_x", "_n", "too_few"]).assign(
        **{name: data[successes] / data[trials].where(data[trials] > 0)}
    )


def _open_at_source(steps: pd.DataFrame, source: pd.Series, still_open: pd.DataFrame | None) -> pd.Series:
    """Open leads sitting at each step's ``from`` stage (whole branch: summed); NA without leads."""
    if still_open is None:
        return pd.Series(np.nan, index=steps.index)
    by_segment = still_open.set_index(["period", "segment", "stage"])["still_open"].astype(float)
    by_period = by_segment.groupby(level=["period", "stage"]).sum()
    rows = pd.MultiIndex.from_arrays([steps["period"], steps["segment"], source])
    found = by_segment.reindex(rows).to_numpy()
    total = by_period.reindex(pd.MultiIndex.from_arrays([steps["period"], source])).to_numpy()
    return pd.Series(np.where(steps["is_total"], total, found), index=steps.index).fillna(0.0)


def transition_table(
    stage_rates: pd.DataFrame, *, stages=None, still_open: pd.DataFrame | None = None, min_group: int
) -> pd.DataFrame:
    """Per period, segment and transition: customers in and out, still open, lost, and the
    conversion and loss rate (流失率) of the settled customers with their Wilson intervals.

    ``settled = from_count − still_open`` and ``lost = settled − to_count``; ``rate =
    to_count / settled`` and ``loss_rate = lost / settled``. Without leads ``still_open`` is
    NA and counts as 0: the stage counts cannot tell an open customer from a lost one.

    Parameters
    ----------
    stage_rates : DataFrame
        The output of :func:`stage_table`.
    still_open : DataFrame, optional
        :func:`open_from_leads` of the leads the counts came from.
    min_group : int
        Fewer settled customers than this: ``too_few``.
    """
    steps = stage_rates[stage_rates["stage_index"] > 0]
    keys = [s.key for s in resolve_stages(stages)]
    source = steps["stage_index"].map(lambda i: keys[i - 1])
    key = source + ">" + steps["stage"]
    open_here = _open_at_source(steps, source, still_open)
    settled = steps["prev_count"] - open_here.fillna(0)
    table = pd.DataFrame(
        {
            "period": steps["period"],
            "segment": steps["segment"],
            "is_total": steps["is_total"],
            "transition": key,
            "step": steps["stage_index"],
            "from_count": steps["prev_count"],
            "to_count": steps["count"],
            "still_open": open_here,
            "settled": settled,
            "lost": settled - steps["count"],
        }
    )
    table = _rate(table, "rate", successes="to_count", trials="settled")
    table = _rate(table, "loss", successes="lost", trials="settled").rename(columns={"loss": "loss_rate"})
    return table.assign(too_few=table["settled"] < min_group)[
        [
            "period",
            "segment",
            "is_total",
            "transition",
            "step",
            "from_count",
            "to_count",
            "still_open",
            "settled",
            "rate",
            "rate_low",
            "rate_high",
            "loss_rate",
            "loss_low",
            "loss_high",
            "lost",
            "too_few",
        ]
    ].reset_index(drop=True)


def current_period(counts: pd.DataFrame, period: str) -> str:
    """``period`` if given (checked against the data), else the latest period in ``counts``."""
    periods = sorted(counts["period"].astype(str).unique())
    if not period:
        return periods[-1]
    if period not in periods:
        from funnelkit.exceptions import FunnelkitError

        raise FunnelkitError(f"current_period {period!r} is not in the data; periods: {', '.join(periods)}")
    return period


def previous_period(counts: pd.DataFrame, period: str) -> str | None:
    """The period just before ``period`` in the data, or None."""
    earlier = [p for p in sorted(counts["period"].astype(str).unique()) if p < period]
    return earlier[-1] if earlier else None


def data_quality(counts: pd.DataFrame, *, stages=None) -> pd.DataFrame:
    """Problems in stage counts that would distort the funnel, one row each.

    ``kind`` is ``rising`` (more customers at a stage than at the one before), ``total_mismatch``
    (the segments do not add up to a total row the source gave, e.g. segment ``合计``) or
    ``missing_stage`` (a stage absent in one period × segment although other periods have it).

    Returns
    -------
    DataFrame
        ``kind, period, segment, stage, expected, found``: for ``rising`` the previous stage's
        count and this one; for ``total_mismatch`` the segments' sum and the given total.
    """
    keys = [s.key for s in resolve_stages(stages)]
    wide = _wide(counts, keys)
    problems = []
    parts = wide[~wide.index.get_level_values("segment").isin(TOTAL_SEGMENTS)]
    for (period, segment), row in parts.iterrows():
        for before, here in zip(keys[:-1], keys[1:]):
            if row[here] > row[before]:
                problems.append(("rising", period, segment, here, row[before], row[here]))
    seen = counts.groupby("stage")["period"].nunique()
    for (period, segment), row in wide.iterrows():
        for key in keys:
            if pd.isna(row[key]) and seen.get(key, 0) > 0:
                problems.append(("missing_stage", period, segment, key, np.nan, np.nan))
    totals = wide[wide.index.get_level_values("segment").isin(TOTAL_SEGMENTS)]
    sums = parts.groupby(level="period").sum(min_count=1)
    for (period, segment), row in totals.iterrows():
        for key in keys:
            expected = sums.loc[period, key] if period in sums.index else np.nan
            if pd.notna(row[key]) and pd.notna(expected) and expected != row[key]:
                problems.append(("total_mismatch", period, segment, key, expected, row[key]))
    return pd.DataFrame(problems, columns=["kind", "period", "segment", "stage", "expected", "found"])
