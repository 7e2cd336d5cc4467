"""Charts of the lost-deal report. Each takes the :class:`~funnelkit.lost.Result` first, puts
words in ``lang`` on its codes (:mod:`funnelkit.lost.labels`), draws on ``ax`` (a new figure
when None) and returns the Figure. Charts never compute: every number comes from the result.

Examples
--------
>>> from funnelkit.data.loading import load_tables
>>> from funnelkit.lost import Params, analyse
>>> params = Params(branch="嘉兴分公司")
>>> result = analyse(load_tables(params, ["leads"]), params)
>>> figure = pareto(result, lang="en")
>>> figure.axes[0].get_title()
'Pareto chart of lost reasons'
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, PercentFormatter

from funnelkit.i18n import t
from funnelkit.report.charts import axes_for
from funnelkit.result import shown_if

from .labels import dimension_label, direction_label, mapped, node_label, reason_label, stage_label, step_label


def rate_intervals(result, *, dimension: str, lang: str = "zh", ax=None):
    """Lost rate per group of one ``dimension`` of the rates (its code, e.g. ``product_line``),
    mature deals, with Wilson intervals, the target line and the at-risk band."""
    rates, target, margin = result.rates, result.target, result.margin
    rows = rates[rates["dimension"].eq(dimension)].sort_values("lost_rate")
    ax = axes_for(ax, (8, max(2.2, 0.38 * len(rows) + 1.2)))
    ax.axvspan(target, target + margin, color="#f2c14e", alpha=0.25, label=t("lost.ax_at_risk", lang))
    ax.axvline(
        target, color="#c0392b", linestyle="--", linewidth=1, label=t("lost.ax_target", lang, target=f"{target:.0%}")
    )
    labels = [f"{g} (n={n})" for g, n in zip(rows["group"], rows["closed"])]
    ax.errorbar(
        rows["lost_rate"],
        labels,
        fmt="o",
        color="#34495e",
        capsize=3,
        xerr=[rows["lost_rate"] - rows["lost_rate_low"], rows["lost_rate_high"] - rows["lost_rate"]],
    )
    ax.set(
        xlim=(0, 1),
        xlabel=t("lost.ax_lost_rate", lang),
        ylabel="",
        title=t("lost.chart_rates", lang, dimension=dimension_label(dimension, lang)),
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    return ax.figure


_DIRECTION_COLOURS = {"more_lost": "#c0392b", "less_lost": "#2e86c1", "unclear": "#95a5a6"}


def drivers(result, *, lang: str = "zh", top: int = 12, ax=None):
    """Odds ratio of loss with its 95% interval for the ``top`` attribute values of
    :func:`funnelkit.lost.drivers.loss_drivers` (clear readings first, then the smallest
    adjusted p-values), on a log axis around 1, coloured by reading; None when the section
    is a gap."""
    if result.drivers is None:
        return None
    rows = result.drivers.head(top).iloc[::-1]
    ax = axes_for(ax, (8, max(2.4, 0.32 * len(rows) + 1.3)))
    ax.axvline(1, color="#34495e", linewidth=1)
    labels = [
        f"{dimension_label(a, lang)}：{v} (n={n})" if lang == "zh" else f"{dimension_label(a, lang)}: {v} (n={n})"
        for a, v, n in zip(rows["attribute"], rows["value"], rows["deals"])
    ]
    position = np.arange(len(rows))
    for direction, colour in _DIRECTION_COLOURS.items():
        part = rows["direction"].eq(direction).to_numpy()
        if part.any():
            ratio = rows["odds_ratio"].to_numpy(dtype=float)[part]
            spread = [
                ratio - rows["odds_ratio_low"].to_numpy(dtype=float)[part],
                rows["odds_ratio_high"].to_numpy(dtype=float)[part] - ratio,
            ]
            ax.errorbar(
                ratio,
                position[part],
                xerr=spread,
                fmt="o",
                color=colour,
                capsize=3,
                label=direction_label(direction, lang),
            )
    ax.set_yticks(position, labels)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=2))  # 0.5, 1, 2, 4: "twice the odds" reads off the axis
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel=t("lost.ax_odds_ratio", lang), ylabel="", title=t("lost.chart_drivers", lang))
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return ax.figure


def monthly_rates(result, *, lang: str = "zh", ax=None):
    """Monthly lost rate (:func:`funnelkit.lost.deals.monthly_rates`) with its interval band and the
    target; months not yet mature (``mature`` False) are hollow points off the line."""
    monthly, target = result.monthly, result.target
    ax = axes_for(ax, (7.5, 3.2))
    shown = monthly[monthly["closed"] > 0]
    ripe = shown[shown["mature"]] if "mature" in shown else shown
    young = shown[~shown["mature"]] if "mature" in shown else shown.iloc[:0]
    x = pd.to_datetime(ripe["month"])
    ax.fill_between(x, ripe["lost_rate_low"], ripe["lost_rate_high"], color="#d5dbdb", linewidth=0, step="mid")
    ax.plot(x, ripe["lost_rate"], color="#34495e", linewidth=1.2, marker="o", markersize=3)
    if len(young):
        ax.plot(
            pd.to_datetime(young["month"]),
            young["lost_rate"],
            linestyle="none",
            marker="o",
            markerfacecolor="white",
            markeredgecolor="#7f8c8d",
            label=t("lost.ax_immature", lang),
        )
    ax.axhline(
        target, color="#c0392b", linestyle="--", linewidth=1, label=t("lost.ax_target", lang, target=f"{target:.0%}")
    )
    ax.set(
        ylim=(0, 1),
        xlabel=t("lost.ax_month", lang),
        ylabel=t("lost.ax_lost_rate", lang),
        title=t("lost.chart_monthly", lang),
    )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    return ax.figure


@shown_if("matrix")
def reason_shares(result, *, lang: str = "zh", ax=None):
    """Heat map of :func:`funnelkit.lost.reasons.share_matrix`: reason × product line shares."""
    matrix = result.matrix
    grid = matrix.assign(reason=mapped(matrix["reason"], reason_label, lang)).set_index("reason")
    ax = axes_for(ax, (1.3 * grid.shape[1] + 3, 0.42 * len(grid) + 1.4))
    sns.heatmap(grid, annot=True, fmt=".0%", cmap="Reds", vmin=0, cbar=False, linewidths=0.5, ax=ax)
    ax.set(xlabel="", ylabel="", title=t("lost.chart_reason_shares", lang))
    ax.tick_params(axis="y", rotation=0)
    return ax.figure


@shown_if("pareto")
def pareto(result, *, lang: str = "zh", ax=None):
    """Pareto chart of :func:`funnelkit.lost.reasons.pareto`: bars of lost deals, cumulative share line."""
    table = result.pareto
    reasons = mapped(table["reason"], reason_label, lang)
    ax = axes_for(ax, (8, 4))
    ax.bar(reasons, table["lost"], color="#5b7db1")
    ax.set(ylabel=t("lost.ax_lost", lang), xlabel="", title=t("lost.chart_pareto", lang))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", rotation=30)
    line = ax.twinx()
    line.plot(reasons, table["cum_share"], color="#c0392b", marker="o")
    line.axhline(0.8, color="#c0392b", linestyle=":", linewidth=1)
    line.set(ylim=(0, 1.05), ylabel=t("lost.ax_cum_share", lang))
    line.yaxis.set_major_formatter(PercentFormatter(1.0))
    line.grid(False)
    return ax.figure


@shown_if("funnel")
def recovery_funnel(result, *, lang: str = "zh", ax=None):
    """Horizontal bars of :func:`funnelkit.lost.recovery.recovery_funnel`, with counts and shares."""
    funnel = result.funnel
    ax = axes_for(ax, (8, 2.8))
    ax.barh(mapped(funnel["step"], step_label, lang), funnel["count"], color=sns.color_palette("Blues_r", len(funnel)))
    ax.invert_yaxis()
    share = funnel["share"].fillna(0)
    for y, (count, s) in enumerate(zip(funnel["count"], share)):
        ax.text(count, y, f" {count:,} ({s:.0%})", va="center", fontsize=9)
    ax.set(xlabel=t("lost.ax_count", lang), ylabel="", title=t("lost.chart_funnel", lang))
    ax.set_xlim(0, max(1, funnel["count"].max()) * 1.25)
    return ax.figure


@shown_if("stage_by_reason")
def stage_reason(result, *, lang: str = "zh", ax=None):
    """Heat map of :func:`funnelkit.lost.reasons.stage_reason` counts (the total column left out)."""
    table = result.stage_by_reason
    grid = (
        table.assign(stage=mapped(table["stage"], stage_label, lang, result.stages))
        .set_index("stage")
        .drop(columns="total")
        .rename(columns=lambda reason: reason_label(reason, lang))
    )
    ax = axes_for(ax, (1.0 * grid.shape[1] + 2.5, 0.5 * len(grid) + 1.6))
    sns.heatmap(grid, annot=True, fmt="d", cmap="Blues", cbar=False, linewidths=0.5, ax=ax)
    ax.set(xlabel=t("lost.ax_reason", lang), ylabel=t("lost.ax_stage", lang), title=t("lost.chart_stage_reason", lang))
    ax.tick_params(axis="y", rotation=0)
    return ax.figure


#: Box centres of the lead flow (axes coordinates 0–10 × 0–6).
_FLOW_LAYOUT = {
    "pool": (1.0, 3.2),
    "won": (3.6, 5.2),
    "open": (3.6, 3.2),
    "lost": (3.6, 1.4),
    "base": (6.8, 5.2),
    "management": (6.3, 2.5),
    "competitor_pool": (6.3, 0.5),
    "kind_unknown": (6.3, 1.5),
    "recovered": (8.9, 3.7),
    "not_recovered": (8.9, 1.6),
}
_BOX_W, _BOX_H = 0.95, 0.38  # half width and half height of a box
_FLOW_COLOURS = {
    "won": "#d5ecd4",
    "base": "#d5ecd4",
    "recovered": "#d5ecd4",
    "lost": "#f6d5d1",
    "competitor_pool": "#f6d5d1",
    "management": "#fdebc8",
    "not_recovered": "#fdebc8",
}


def lead_flow(result, *, lang: str = "zh", ax=None):
    """The lead flow of :func:`funnelkit.lost.deals.lead_flow` as boxes with counts and arrows whose
    width follows the number of deals. Nodes without deals (kind unknown) are left out."""
    flow = result.flow
    ax = axes_for(ax, (9, 5))
    into = flow.groupby("target")["count"].sum()
    counts = {
        "pool": int(flow.loc[flow["source"].eq("pool"), "count"].sum()),
        **{node: int(n) for node, n in into.items() if node != "base"},
        "base": int(into.get("base", 0)),
    }
    shown = {node for node, n in counts.items() if n > 0 or node in ("pool", "lost", "won")}
    widest = max(1, counts["pool"])
    for source, target, n in flow[["source", "target", "count"]].itertuples(index=False):
        if n == 0 or source not in shown or target not in shown:
            continue
        (xs, ys), (xt, yt) = _FLOW_LAYOUT[source], _FLOW_LAYOUT[target]
        back = (source, target) == ("recovered", "base")  # won back: up into base-customer management
        start, end = ((xs, ys + _BOX_H), (xt + _BOX_W, yt)) if back else ((xs + _BOX_W, ys), (xt - _BOX_W, yt))
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                connectionstyle=f"arc3,rad={0.3 if back else 0}",
                arrowstyle="-|>",
                mutation_scale=12,
                shrinkA=2,
                shrinkB=2,
                color="#7f8c8d",
                linewidth=1 + 7 * n / widest,
                alpha=0.7,
                zorder=1,
            )
        )
    for node in shown:
        x, y = _FLOW_LAYOUT[node]
        ax.add_patch(
            FancyBboxPatch(
                (x - _BOX_W, y - _BOX_H),
                2 * _BOX_W,
                2 * _BOX_H,
                boxstyle="round,pad=0.04",
                facecolor=_FLOW_COLOURS.get(node, "#e8eef6"),
                edgecolor="#7f8c8d",
                zorder=2,
            )
        )
        ax.text(
            x, y, f"{node_label(node, lang)}\n{counts.get(node, 0):,}", ha="center", va="center", fontsize=8.5, zorder=3
        )
    ax.set(xlim=(0, 10), ylim=(-0.2, 6), title=t("lost.chart_flow", lang))
    ax.axis("off")
    return ax.figure


@shown_if("competitors")
def competitors(result, *, lang: str = "zh", ax=None):
    """Bars of :func:`funnelkit.lost.recovery.competitors`."""
    table = result.competitors
    ax = axes_for(ax, (7, 0.45 * len(table) + 1.4))
    ax.barh(mapped(table["competitor"], reason_label, lang), table["lost"], color="#c0392b")
    ax.invert_yaxis()
    ax.set(xlabel=t("lost.ax_lost", lang), ylabel="", title=t("lost.chart_competitors", lang))
    return ax.figure
