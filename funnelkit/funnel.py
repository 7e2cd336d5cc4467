"""Funnel diagnosis: customers per stage, conversion and loss per transition, data quality.

Everything here works on **stage counts** — a tidy frame ``period, segment, stage, count``
(the ``stage_counts`` table of the data contract). A branch that keeps leads is turned into
that form by :func:`counts_from_leads`, so both forms give the same tables.

A *transition* is a step from one stage to the next; its key is ``"<from>><to>"``
(``"contacted>intent"``), the key the ``controllability`` parameter uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .i18n import t
from .schema import Stage, resolve_stages
from .stats import MIN_GROUP, wilson_interval

#: Segment names a source may use for a row that already holds the whole-branch total.
TOTAL_SEGMENTS = ("合计", "全部", "总计", "小计", "total", "all", "All", "Total")
COUNT_COLUMNS = ["period", "segment", "stage", "count"]


def transition_key(source: str, target: str) -> str:
    """The key of the step ``source`` → ``target`` (``"contacted>intent"``)."""
    return f"{source}>{target}"


def transitions_of(stages=None) -> list[tuple[Stage, Stage]]:
    """Consecutive stage pairs, first to last."""
    stages = resolve_stages(stages)
    return list(zip(stages[:-1], stages[1:]))


def transition_label(key: str, stages=None, lang: str = "zh") -> str:
    """``"contacted>intent"`` → ``"接触客户→意向客户"`` (``"Contacted→Intent"`` in English)."""
    labels = {s.key: s.label(lang) for s in resolve_stages(stages)}
    source, target = key.split(">")
    return f"{labels.get(source, source)}→{labels.get(target, target)}"


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
    stages = resolve_stages(stages)
    keys = [s.key for s in stages]
    reached = (leads.assign(period=leads["created_date"].dt.year.astype("Int64").astype(str),
                            index=leads["stage"].map({k: i for i, k in enumerate(keys)}))
               .groupby(["period", "segment", "index"]).size()
               .unstack("index").reindex(columns=range(len(keys))).fillna(0))
    # at-or-beyond: cumulative sum from the last stage backwards
    at_or_beyond = reached.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1]
    at_or_beyond.columns = keys
    return (at_or_beyond.rename_axis(columns="stage").stack().rename("count").reset_index()
            .astype({"count": "Int64", "period": str, "segment": str}))[COUNT_COLUMNS]


def tidy_counts(stage_counts: pd.DataFrame, *, stages=None) -> pd.DataFrame:
    """The contract's ``stage_counts`` reduced to ``period, segment, stage, count``:
    duplicate rows summed, stages outside ``stages`` dropped, first-to-last order."""
    keys = [s.key for s in resolve_stages(stages)]
    data = stage_counts[stage_counts["stage"].isin(keys)].astype({"period": str, "segment": str})
    return (data.groupby(["period", "segment", "stage"], sort=False)["count"].sum(min_count=1)
            .reset_index()
            .assign(order=lambda d: d["stage"].map(keys.index))
            .sort_values(["period", "segment", "order"]).drop(columns="order")
            .reset_index(drop=True)[COUNT_COLUMNS])


def _wide(counts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """(period, segment) × stage counts; a missing stage is NaN, never 0."""
    return (counts.pivot_table(index=["period", "segment"], columns="stage", values="count",
                               aggfunc="sum", dropna=False)
            .reindex(columns=keys).astype(float))


def stage_table(counts: pd.DataFrame, *, stages=None, lang: str = "zh", min_group: int = MIN_GROUP) -> pd.DataFrame:
    """Per period, segment and stage: the count, conversion from the previous stage and from
    the first stage, each with a Wilson 95% interval.

    The whole branch is added as one more segment (``is_total``), summed over the segments;
    a total row at a stage some segment lacks stays empty rather than undercounted. Rows in
    a source total segment (``合计`` …) are left out: :func:`data_quality` checks them.

    Returns
    -------
    DataFrame
        ``period, segment, is_total, stage, stage_label, stage_index, count, prev_count,
        conv_prev, conv_prev_low, conv_prev_high, conv_first, conv_first_low,
        conv_first_high, too_few`` (``too_few``: fewer than ``min_group`` at the previous stage).
    """
    stages = resolve_stages(stages)
    keys = [s.key for s in stages]
    wide = _wide(counts[~counts["segment"].isin(TOTAL_SEGMENTS)], keys)
    total = wide.groupby(level="period").sum(min_count=1)
    total = total.mask(wide.isna().groupby(level="period").any())
    total.index = pd.MultiIndex.from_product([total.index, [t("funnel.all_segments", lang)]],
                                             names=["period", "segment"])
    both = pd.concat([wide.assign(is_total=False), total.assign(is_total=True)]).set_index("is_total", append=True)
    count = both.stack()  # pandas 3 keeps the NaN of a missing stage
    long = count.rename("count").reset_index()
    first = long.groupby(["period", "segment"])["count"].transform("first")
    prev = long.groupby(["period", "segment"])["count"].shift(1)
    labels = {s.key: s.label(lang) for s in stages}
    out = long.assign(stage_label=long["stage"].map(labels), stage_index=long["stage"].map(keys.index),
                      prev_count=prev)
    out = _rate(out, "conv_prev", out["count"], prev)
    out = _rate(out, "conv_first", out["count"], first)
    return (out.assign(too_few=out["prev_count"] < min_group)
            [["period", "segment", "is_total", "stage", "stage_label", "stage_index", "count", "prev_count",
              "conv_prev", "conv_prev_low", "conv_prev_high", "conv_first", "conv_first_low",
              "conv_first_high", "too_few"]])


def _rate(data: pd.DataFrame, name: str, successes: pd.Series, trials: pd.Series) -> pd.DataFrame:
    """Rate and Wilson interval; no interval where successes exceed trials (a data error)."""
    valid = (trials > 0) & (successes <= trials)
    lo, hi = wilson_interval(successes.where(valid, 0).fillna(0), trials.where(valid, 0).fillna(0))
    return data.assign(**{name: successes / trials.where(trials > 0),
                          f"{name}_low": np.where(valid, lo, np.nan),
                          f"{name}_high": np.where(valid, hi, np.nan)})


def transition_table(stage_rates: pd.DataFrame, *, stages=None, lang: str = "zh") -> pd.DataFrame:
    """Per period, segment and transition: customers in and out, conversion, loss rate (流失率)
    with its Wilson interval, and customers lost.

    Parameters
    ----------
    stage_rates : DataFrame
        The output of :func:`stage_table`.
    """
    steps = stage_rates[stage_rates["stage_index"] > 0]
    keys = [s.key for s in resolve_stages(stages)]
    source = steps["stage_index"].map(lambda i: keys[i - 1])
    key = source + ">" + steps["stage"]
    return pd.DataFrame({
        "period": steps["period"], "segment": steps["segment"], "is_total": steps["is_total"],
        "transition": key, "transition_label": key.map(lambda k: transition_label(k, stages, lang)),
        "step": steps["stage_index"], "from_count": steps["prev_count"], "to_count": steps["count"],
        "rate": steps["conv_prev"], "rate_low": steps["conv_prev_low"], "rate_high": steps["conv_prev_high"],
        "loss_rate": 1 - steps["conv_prev"], "loss_low": 1 - steps["conv_prev_high"],
        "loss_high": 1 - steps["conv_prev_low"], "lost": steps["prev_count"] - steps["count"],
        "too_few": steps["too_few"],
    }).reset_index(drop=True)


def current_period(counts: pd.DataFrame, period: str = "") -> str:
    """``period`` if given (checked), else the latest period in ``counts``."""
    periods = sorted(counts["period"].astype(str).unique())
    if not period:
        return periods[-1]
    if period not in periods:
        from .exceptions import FunnelkitError

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


def quality_messages(problems: pd.DataFrame, *, stages=None, lang: str = "zh", limit: int = 12) -> list[str]:
    """The data-quality warnings to show at the top of the report, in ``lang``.

    Every problem is counted; past ``limit`` lines the rest are summarised in one line.
    """
    labels = {s.key: s.label(lang) for s in resolve_stages(stages)}
    lines = [t(f"funnel.dq_{p.kind}", lang, period=p.period, segment=p.segment,
               stage=labels.get(p.stage, p.stage), expected=_number(p.expected), found=_number(p.found))
             for p in problems.itertuples()]
    if len(lines) > limit:
        lines = lines[:limit] + [t("funnel.dq_more", lang, n=len(lines) - limit)]
    return lines


def _number(value) -> str:
    return "" if pd.isna(value) else f"{value:,.0f}"
