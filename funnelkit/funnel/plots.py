"""Charts of the funnel diagnosis. Each takes the :class:`~funnelkit.funnel.Result` (or, for
one funnel, a tidy stage table), draws on ``ax`` (a new figure when None) and returns the
Figure; titles, axis labels and the words for codes come from the message catalogue."""

from __future__ import annotations

import math

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

from funnelkit.i18n import t
from funnelkit.report.charts import axes_for
from funnelkit.stats import Z95, Z998, control_limits

from .labels import component_label, segment_label, segment_order, stage_label, transition_label, transition_labels
from .stage_time import weighted_median, weighted_quantile


def funnel(stage_rates: pd.DataFrame, *, period: str, segment: str, stages, lang: str = "zh", ax=None):
    """One funnel of ``segment`` in ``period`` (a :func:`~funnelkit.funnel.counts.stage_table`):
    centred horizontal bars, first stage on top, labelled with the count and the share of the
    first stage."""
    ax = axes_for(ax, (6, 3.6))
    rows = stage_rates[(stage_rates["period"] == period) & (stage_rates["segment"] == segment)]
    rows = rows.sort_values("stage_index")
    counts = rows["count"].fillna(0).to_numpy(dtype=float)
    widest = counts.max() if len(counts) and counts.max() > 0 else 1.0
    y = np.arange(len(rows))[::-1]
    ax.barh(y, counts, left=(widest - counts) / 2, color="#9ecae1", height=0.8)
    for yi, count, share in zip(y, rows["count"], rows["conv_first"]):
        text = "—" if pd.isna(count) else f"{count:,.0f} ({share:.0%})"
        ax.text(widest / 2, yi, text, ha="center", va="center", fontsize=7)
    ax.set_yticks(y, [stage_label(key, stages, lang) for key in rows["stage"]], fontsize=7)
    ax.set_xticks([])
    ax.grid(False)
    sns.despine(ax=ax, left=True, bottom=True)
    ax.set_title(t("funnel.chart_funnel", lang, segment=segment_label(segment, lang), period=period), fontsize=9)
    return ax.figure


def segment_funnels(result, *, lang: str = "zh", columns: int = 2):
    """A funnel per segment (the whole branch first) in the current period, two to a row.

    A grid of panels, so it always draws a figure of its own (no ``ax``)."""
    rows = result.stage_rates[result.stage_rates["period"] == result.current]
    segments = segment_order(rows)
    lines = math.ceil(len(segments) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(4.0 * columns + 0.6, 2.6 * lines), squeeze=False)
    for i, (ax, segment) in enumerate(zip(axes.flat, segments)):
        funnel(rows, period=result.current, segment=segment, stages=result.stages, lang=lang, ax=ax)
        if i % columns:  # stage names once per row of panels
            ax.set_yticklabels([])
    for ax in axes.flat[len(segments) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def loss_heatmap(result, *, lang: str = "zh", ax=None):
    """Loss rate of every transition (rows) in every segment (columns) in the current period,
    annotated. Cells with too few customers to judge are not coloured: grey, hatched and
    marked ``样本少`` / ``few``."""
    ax = axes_for(ax, (7, 3.8))
    rows = result.transitions[result.transitions["period"] == result.current]
    order = rows.sort_values("step")["transition"].unique()
    segments = segment_order(rows)

    def grid(values: str) -> pd.DataFrame:
        return (
            rows.pivot_table(index="transition", columns="segment", values=values, aggfunc="first")
            .reindex(index=order, columns=segments)
            .rename(index=lambda k: transition_label(k, result.stages, lang), columns=lambda s: segment_label(s, lang))
        )

    loss, few = grid("loss_rate"), grid("too_few").fillna(False).astype(bool)
    sns.heatmap(
        loss,
        mask=few.to_numpy(),
        annot=True,
        fmt=".0%",
        cmap="Reds",
        vmin=0,
        vmax=1,
        cbar=False,
        ax=ax,
        annot_kws={"fontsize": 8},
    )
    mark = t("funnel.few_mark", lang)
    for i, j in zip(*np.nonzero(few.to_numpy())):
        ax.add_patch(Rectangle((j, i), 1, 1, facecolor="#e0e0e0", edgecolor="white", hatch="//", lw=0))
        value = loss.iat[i, j]
        ax.text(
            j + 0.5,
            i + 0.5,
            mark if pd.isna(value) else f"{value:.0%}\n{mark}",
            ha="center",
            va="center",
            fontsize=7,
            color="#555555",
        )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(labelsize=8)
    ax.set_title(t("funnel.chart_heatmap", lang, period=result.current), fontsize=10)
    return ax.figure


def conversion_trend(result, *, lang: str = "zh", ax=None):
    """Conversion of every transition of the whole branch, period by period."""
    ax = axes_for(ax, (6.4, 3.2))
    rows = result.transitions[result.transitions["is_total"]].sort_values(["step", "period"])
    rows = rows.assign(transition_label=transition_labels(rows["transition"], result.stages, lang))
    sns.lineplot(
        data=rows,
        x="period",
        y="rate",
        hue="transition_label",
        marker="o",
        markersize=4,
        ax=ax,
        hue_order=list(rows["transition_label"].unique()),
    )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(t("funnel.axis_period", lang))
    ax.set_ylabel(t("funnel.axis_rate", lang))
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_title(t("funnel.chart_trend", lang), fontsize=10)
    return ax.figure


def change_waterfall(result, *, lang: str = "zh", ax=None):
    """The change in last-stage customers of the whole branch, from the previous period's
    count through each part (volume, each transition) to the current count."""
    parts = result.decomposition
    rows = None if parts is None else parts[parts["is_total"].astype(bool)]
    if rows is None or rows.empty:
        return None
    ax = axes_for(ax, (7.5, 3.6))
    previous, current = result.previous, result.current
    start, end = rows["last_previous"].iloc[0], rows["last_current"].iloc[0]
    changes = rows["customers"].to_numpy(dtype=float)
    bottoms = start + np.concatenate([[0], np.cumsum(changes)[:-1]])
    labels = [previous, *(component_label(c, result.stages, lang) for c in rows["component"]), current]
    x = np.arange(len(labels))
    ax.bar(x[0], start, color="#8c8c8c")
    ax.bar(x[1:-1], changes, bottom=bottoms, color=np.where(changes >= 0, "#55a868", "#c44e52"))
    ax.bar(x[-1], end, color="#4c72b0")
    for xi, value, top in zip(x[1:-1], changes, bottoms + np.maximum(changes, 0)):
        ax.text(xi, top, f"{value:+,.0f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=7)
    low = min(start, end, *(bottoms + np.minimum(changes, 0)))
    high = max(start, end, *(bottoms + np.maximum(changes, 0)))
    ax.set_ylim(max(0, low - 0.15 * (high - low)), high + 0.12 * (high - low))
    ax.set_ylabel(t("funnel.axis_customers", lang))
    last = result.stages[-1].label(lang)
    ax.set_title(t("funnel.chart_waterfall", lang, last=last, previous=previous, current=current), fontsize=10)
    return ax.figure


def peer_funnel(result, *, lang: str = "zh", ax=None):
    """Funnel plot of the top bottleneck: each branch's conversion against its volume, with
    the company rate and 95% / 99.8% control limits; this branch highlighted, others unnamed."""
    data = result.funnel_plot
    if data is None or data.empty:
        return None
    ax = axes_for(ax, (6, 3.6))
    p0 = data["p0"].iloc[0]
    n = np.linspace(max(1, data["n"].min() * 0.5), data["n"].max() * 1.3, 200)
    for z, style, key in ((Z95, "--", "funnel.limit95"), (Z998, ":", "funnel.limit998")):
        low, high = control_limits(p0, n, z=z)
        ax.plot(n, low, style, color="grey", lw=1, label=t(key, lang))
        ax.plot(n, high, style, color="grey", lw=1)
    ax.axhline(p0, color="black", lw=0.8, label=t("funnel.peer_average", lang))
    others, own = data[~data["is_self"]], data[data["is_self"]]
    ax.scatter(others["n"], others["rate"], color="#8c8c8c", s=30, label=t("funnel.other_branches", lang))
    ax.scatter(own["n"], own["rate"], color="#c44e52", s=60, zorder=3, label=t("funnel.this_branch", lang))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(t("funnel.axis_volume", lang))
    ax.set_ylabel(t("funnel.axis_rate", lang))
    ax.legend(fontsize=7, frameon=False)
    step = transition_label(result.top["transition"], result.stages, lang)
    ax.set_title(t("funnel.chart_peers", lang, transition=step), fontsize=10)
    return ax.figure


def stage_time_histogram(result, *, lang: str = "zh", ax=None):
    """Histogram of days spent at each stage with finished stays, one row a stage (first stage
    on top, each row scaled to its own tallest bar), the median marked; the longest 1% of
    stays of each stage are left out of the axis so the bulk stays readable. None where the
    section is a gap.

    The rows share one axes: a grid of panels would spend seconds per report measuring every
    panel's tick labels."""
    if result.stage_time is None:
        return None
    stays = result.stage_time_stays  # counted: days and how many stays took them
    shown = [s for s in result.stages if (stays["stage"] == s.key).any()]
    ax = axes_for(ax, (7, 0.45 * len(shown) + 1.2))
    of_stage = {s.key: stays[stays["stage"] == s.key] for s in shown}
    longest = max(
        weighted_quantile(rows["days"].to_numpy(dtype=float), rows["stays"].to_numpy(), 0.99)
        for rows in of_stage.values()
    )  # every stage's bulk in view
    edges = np.linspace(0, max(longest, 1), 41)
    for row, stage in enumerate(reversed(shown)):
        days, weights = of_stage[stage.key]["days"].to_numpy(dtype=float), of_stage[stage.key]["stays"].to_numpy()
        counts, _ = np.histogram(days, bins=edges, weights=weights)
        height = counts / max(counts.max(), 1) * 0.85
        ax.stairs(height + row, edges, baseline=row, fill=True, color="#9ecae1")
        middle = weighted_median(days, weights)
        ax.plot([middle, middle], [row, row + 0.85], color="#08519c", linewidth=1.5)
    ax.set_yticks(np.arange(len(shown)) + 0.4, [s.label(lang) for s in reversed(shown)], fontsize=8)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(t("funnel.axis_days", lang))
    ax.grid(axis="y", visible=False)
    ax.set_title(t("funnel.chart_stage_time", lang), fontsize=9)
    return ax.figure


def stage_time_trend(result, *, lang: str = "zh", ax=None):
    """Median days at each stage by the month its stays ended, one line a stage; months
    with fewer than 5 ended stays are left out (a median of a handful swings); None where
    the section is a gap."""
    if result.stage_time_trend is None:
        return None
    ax = axes_for(ax, (7, 3.4))
    trend = result.stage_time_trend[result.stage_time_trend["stays"] >= 5]
    for stage in result.stages:
        rows = trend[trend["stage"] == stage.key]
        if len(rows):
            ax.plot(
                pd.PeriodIndex(rows["month"], freq="M").to_timestamp(), rows["median_days"], label=stage.label(lang)
            )
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_xlabel(t("funnel.axis_month", lang))
    ax.set_ylabel(t("funnel.axis_days", lang))
    ax.set_title(t("funnel.chart_stage_trend", lang), fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.figure.tight_layout()
    return ax.figure
