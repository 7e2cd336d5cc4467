"""Charts of the funnel diagnosis. Each takes a tidy table from :mod:`funnelkit.funnel.counts`,
:mod:`funnelkit.funnel.compare` or :mod:`funnelkit.funnel.drivers`, draws on ``ax`` (a new one
when None) and returns it; titles and axis labels come from the message catalogue."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import PercentFormatter

from matplotlib.patches import Rectangle

from .counts import segment_order
from funnelkit.i18n import t
from funnelkit.report.charts import axes_for
from funnelkit.stats import Z95, Z998, control_limits


def plot_funnel(stage_rates: pd.DataFrame, *, period: str, segment: str, lang: str = "zh", ax=None):
    """One funnel: centred horizontal bars, first stage on top, labelled with the count and
    the share of the first stage."""
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
    ax.set_yticks(y, rows["stage_label"], fontsize=7)
    ax.set_xticks([])
    ax.grid(False)
    sns.despine(ax=ax, left=True, bottom=True)
    ax.set_title(t("funnel.chart_funnel", lang, segment=segment, period=period), fontsize=9)
    return ax


def plot_segment_funnels(stage_rates: pd.DataFrame, *, period: str, lang: str = "zh", columns: int = 2):
    """A funnel per segment (the whole branch first) in ``period``; returns the Figure."""
    rows = stage_rates[stage_rates["period"] == period]
    segments = segment_order(rows)
    lines = math.ceil(len(segments) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(4.0 * columns + 0.6, 2.6 * lines), squeeze=False)
    for i, (ax, segment) in enumerate(zip(axes.flat, segments)):
        plot_funnel(rows, period=period, segment=segment, lang=lang, ax=ax)
        if i % columns:  # stage names once per row of panels
            ax.set_yticklabels([])
    for ax in axes.flat[len(segments):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_loss_heatmap(transitions: pd.DataFrame, *, period: str, lang: str = "zh", ax=None):
    """Loss rate of every transition (rows) in every segment (columns), annotated. Cells with
    too few customers to judge are not coloured: grey, hatched and marked ``样本少`` / ``few``."""
    ax = axes_for(ax, (7, 3.8))
    rows = transitions[transitions["period"] == period]
    order = rows.sort_values("step")["transition_label"].unique()
    segments = segment_order(rows)

    def grid(values: str) -> pd.DataFrame:
        return rows.pivot_table(index="transition_label", columns="segment", values=values,
                                aggfunc="first").reindex(index=order, columns=segments)

    loss, few = grid("loss_rate"), grid("too_few").fillna(False).astype(bool)
    sns.heatmap(loss, mask=few.to_numpy(), annot=True, fmt=".0%", cmap="Reds", vmin=0, vmax=1, cbar=False, ax=ax,
                annot_kws={"fontsize": 8})
    mark = t("funnel.few_mark", lang)
    for (i, j) in zip(*np.nonzero(few.to_numpy())):
        ax.add_patch(Rectangle((j, i), 1, 1, facecolor="#e0e0e0", edgecolor="white", hatch="//", lw=0))
        value = loss.iat[i, j]
        ax.text(j + 0.5, i + 0.5, mark if pd.isna(value) else f"{value:.0%}\n{mark}", ha="center", va="center",
                fontsize=7, color="#555555")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(labelsize=8)
    ax.set_title(t("funnel.chart_heatmap", lang, period=period), fontsize=10)
    return ax


def plot_conversion_trend(transitions: pd.DataFrame, *, lang: str = "zh", ax=None):
    """Conversion of every transition of the whole branch, period by period."""
    ax = axes_for(ax, (6.4, 3.2))
    rows = transitions[transitions["is_total"]].sort_values(["step", "period"])
    sns.lineplot(data=rows, x="period", y="rate", hue="transition_label", marker="o", markersize=4, ax=ax,
                 hue_order=list(rows["transition_label"].unique()))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(t("funnel.axis_period", lang))
    ax.set_ylabel(t("funnel.axis_rate", lang))
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_title(t("funnel.chart_trend", lang), fontsize=10)
    return ax


def plot_waterfall(decomposition: pd.DataFrame, *, previous: str, current: str, last: str, lang: str = "zh", ax=None):
    """The change in last-stage customers of the whole branch, from the previous period's
    count through each part (volume, each transition) to the current count."""
    ax = axes_for(ax, (7.5, 3.6))
    rows = decomposition[decomposition["is_total"].astype(bool)]
    if rows.empty:
        return ax
    start, end = rows["last_previous"].iloc[0], rows["last_current"].iloc[0]
    parts = rows["customers"].to_numpy(dtype=float)
    bottoms = start + np.concatenate([[0], np.cumsum(parts)[:-1]])
    labels = [previous, *rows["component_label"], current]
    x = np.arange(len(labels))
    ax.bar(x[0], start, color="#8c8c8c")
    ax.bar(x[1:-1], parts, bottom=bottoms, color=np.where(parts >= 0, "#55a868", "#c44e52"))
    ax.bar(x[-1], end, color="#4c72b0")
    for xi, value, top in zip(x[1:-1], parts, bottoms + np.maximum(parts, 0)):
        ax.text(xi, top, f"{value:+,.0f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=7)
    low = min(start, end, *(bottoms + np.minimum(parts, 0)))
    high = max(start, end, *(bottoms + np.maximum(parts, 0)))
    ax.set_ylim(max(0, low - 0.15 * (high - low)), high + 0.12 * (high - low))
    ax.set_ylabel(t("funnel.axis_customers", lang))
    ax.set_title(t("funnel.chart_waterfall", lang, last=last, previous=previous, current=current), fontsize=10)
    return ax


def plot_peer_funnel(funnel_plot: pd.DataFrame, *, transition: str, lang: str = "zh", ax=None):
    """Funnel plot: each branch's conversion against its volume, with the company rate and
    95% / 99.8% control limits; this branch highlighted, others unnamed."""
    ax = axes_for(ax, (6, 3.6))
    if funnel_plot.empty:
        return ax
    p0 = funnel_plot["p0"].iloc[0]
    n = np.linspace(max(1, funnel_plot["n"].min() * 0.5), funnel_plot["n"].max() * 1.3, 200)
    for z, style, key in ((Z95, "--", "funnel.limit95"), (Z998, ":", "funnel.limit998")):
        low, high = control_limits(p0, n, z=z)
        ax.plot(n, low, style, color="grey", lw=1, label=t(key, lang))
        ax.plot(n, high, style, color="grey", lw=1)
    ax.axhline(p0, color="black", lw=0.8, label=t("funnel.peer_average", lang))
    others, own = funnel_plot[~funnel_plot["is_self"]], funnel_plot[funnel_plot["is_self"]]
    ax.scatter(others["n"], others["rate"], color="#8c8c8c", s=30, label=t("funnel.other_branches", lang))
    ax.scatter(own["n"], own["rate"], color="#c44e52", s=60, zorder=3, label=t("funnel.this_branch", lang))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(t("funnel.axis_volume", lang))
    ax.set_ylabel(t("funnel.axis_rate", lang))
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(t("funnel.chart_peers", lang, transition=transition), fontsize=10)
    return ax
