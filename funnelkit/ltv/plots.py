"""Charts of the lifetime-value report. Each takes the :class:`~funnelkit.ltv.Result`, draws on
``ax`` (a new figure when None) and returns the Figure; titles, axis labels and the words for
codes come from the message catalogue.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from funnelkit.ltv import Params, analyse
>>> from funnelkit.data.loading import load_tables
>>> params = Params(branch="杭州分公司")
>>> result = analyse(load_tables(params, ["transactions"]), params)
>>> figure = stage_profit(result, lang="en")
>>> [label.get_text() for label in figure.axes[0].get_xticklabels()]
['Exploration', 'Formation', 'Stability', 'Decline']
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from funnelkit.i18n import t
from funnelkit.report.charts import axes_for

from .analysis import MIX_BY
from .lifecycle import STAGES
from .views import group_label, grouping_label, stage_label

#: Cohort heatmaps are annotated up to this many periods (more would not be legible).
ANNOTATE_PERIODS = 12
#: Cohorts named in the realised-LTV legend at most.
LEGEND_COHORTS = 12


def _percent_axis(axis) -> None:
    axis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))


def cohort_heatmap(result, *, value: str = "retention", lang: str = "zh", ax=None):
    """Cohort × period heatmap of ``retention`` or ``revenue`` (in 万元 in Chinese, thousand
    yuan in English); cells of periods not yet complete stay blank."""
    if value not in ("retention", "revenue"):
        raise ValueError(f"value must be 'retention' or 'revenue', not {value!r}")
    wide = result.activity.pivot(index="cohort", columns="period", values=value).astype(float)
    ax = axes_for(ax, (8, max(2.5, 0.35 * len(wide) + 1.5)))
    if value == "revenue":
        wide = wide / (1e4 if lang == "zh" else 1e3)
    sns.heatmap(
        wide,
        mask=wide.isna(),
        annot=wide.shape[1] <= ANNOTATE_PERIODS,
        fmt=".0%" if value == "retention" else ".0f",
        cmap="Blues" if value == "retention" else "Greens",
        cbar=False,
        linewidths=0.5,
        annot_kws={"fontsize": 8},
        ax=ax,
    )
    ax.set(title=t(f"ltv.chart_{value}", lang), xlabel=t("ltv.col_period", lang), ylabel=t("ltv.col_cohort", lang))
    ax.tick_params(axis="y", rotation=0)
    return ax.figure


def ltv_curves(result, *, lang: str = "zh", ax=None):
    """Realised cumulative LTV per customer of each cohort by period, with the break-even line."""
    ltv = result.realised_ltv
    ax = axes_for(ax, (8, 4.2))
    sns.lineplot(
        data=ltv, x="period", y="ltv", hue="cohort", marker="o", ax=ax, legend=ltv["cohort"].nunique() <= LEGEND_COHORTS
    )
    ax.axhline(0, color="grey", lw=1, ls="--", label=t("ltv.break_even_line", lang))
    ax.set(title=t("ltv.chart_ltv", lang), xlabel=t("ltv.col_period", lang), ylabel=t("ltv.col_ltv", lang))
    if ax.get_legend() is not None:
        ax.get_legend().set_title(t("ltv.col_cohort", lang))
    ax.xaxis.get_major_locator().set_params(integer=True)
    return ax.figure


def projection_chart(result, *, lang: str = "zh", ax=None):
    """Projected LTV per customer by year: base and the higher-retention scenario (None
    when the projection is one of the result's gaps)."""
    if result.comparison is None:
        return None
    comparison, gain = result.comparison, result.params.scenario_retention_gain
    ax = axes_for(ax, (8, 4.2))
    ax.plot(comparison["year"], comparison["ltv_base"], marker="o", label=t("ltv.base", lang))
    ax.plot(
        comparison["year"], comparison["ltv_scenario"], marker="s", label=t("ltv.scenario", lang, gain=f"{gain:.0%}")
    )
    ax.axhline(0, color="grey", lw=1, ls="--")
    ax.set(
        title=t("ltv.chart_projection", lang),
        xlabel=t("ltv.col_year", lang),
        ylabel=t("ltv.axis_ltv_per_customer", lang),
    )
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    return ax.figure


def stage_profit(result, *, lang: str = "zh", ax=None):
    """Recent profit per customer by lifecycle stage, in lifecycle order (the inverted U)."""
    summary = result.lifecycle
    ax = axes_for(ax, (7, 3.6))
    labels = [stage_label(s, lang) for s in summary["stage"].astype(str)]
    ax.bar(labels, summary["profit_per_customer"].fillna(0), color=sns.color_palette()[: len(labels)])
    ax.set(
        title=t("ltv.chart_stage_profit", lang),
        xlabel=t("ltv.col_stage", lang),
        ylabel=t("ltv.col_profit_per_customer", lang),
    )
    return ax.figure


def stage_mix(result, *, lang: str = "zh", ax=None):
    """Stacked shares of the lifecycle stages within each segment."""
    wide = result.stage_mix.pivot(index=MIX_BY, columns="stage", values="share").reindex(columns=list(STAGES)).fillna(0)
    ax = axes_for(ax, (8, max(2.5, 0.45 * len(wide) + 1.5)))
    groups = [group_label(g, MIX_BY, lang) for g in wide.index]
    left = np.zeros(len(wide))
    for stage, color in zip(STAGES, sns.color_palette()):
        ax.barh(groups, wide[stage], left=left, color=color, label=stage_label(stage, lang))
        left += wide[stage].to_numpy()
    ax.set(
        title=t("ltv.chart_stage_mix", lang),
        xlabel=t("ltv.col_share", lang),
        ylabel=grouping_label(MIX_BY, lang),
        xlim=(0, 1),
    )
    _percent_axis(ax.xaxis)
    ax.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
    return ax.figure


def churn_by_group(result, *, lang: str = "zh"):
    """One figure: the churn rate of every customer group with its 95% interval, one panel
    per grouping (segment, region, value tier), sharing the rate axis. A grid of panels, so it
    always draws a figure of its own (no ``ax``)."""
    churn = result.churn
    groupings = list(dict.fromkeys(churn["grouping"]))
    heights = [max(churn["grouping"].eq(g).sum(), 1) for g in groupings]
    fig, axes = plt.subplots(
        max(len(groupings), 1),
        1,
        sharex=True,
        squeeze=False,
        figsize=(8, 1.2 + 0.32 * sum(heights) + 0.4 * len(groupings)),
        gridspec_kw={"height_ratios": heights or [1]},
    )
    for ax, grouping in zip(axes[:, 0], groupings):
        rows = churn.loc[churn["grouping"] == grouping]
        y = np.arange(len(rows))
        low, high = rows["churn_rate"] - rows["churn_rate_low"], rows["churn_rate_high"] - rows["churn_rate"]
        ax.errorbar(rows["churn_rate"], y, xerr=[low, high], fmt="o", capsize=3)
        ax.set_yticks(y, [group_label(g, grouping, lang) for g in rows["group"]])
        ax.set_ylabel(grouping_label(grouping, lang))
        ax.invert_yaxis()
    axes[-1, 0].set_xlabel(t("ltv.col_churn_rate", lang))
    _percent_axis(axes[-1, 0].xaxis)
    fig.suptitle(t("ltv.chart_churn", lang))
    fig.tight_layout()
    return fig


def holdout_chart(result, *, lang: str = "zh", ax=None):
    """Actual and predicted purchases per customer in the held-out months, by repeat
    purchases before them (None without the check)."""
    if result.holdout is None:
        return None
    groups = result.holdout.loc[result.holdout["repeat_purchases"] >= 0]
    top = int(groups["repeat_purchases"].max())
    labels = [t("ltv.repeat_top", lang, n=n) if n == top else str(n) for n in groups["repeat_purchases"]]
    ax = axes_for(ax, (8, 4.2))
    ax.plot(labels, groups["actual"], marker="o", label=t("ltv.line_actual", lang))
    ax.plot(labels, groups["predicted"], marker="s", ls="--", label=t("ltv.line_predicted", lang))
    ax.set(
        title=t("ltv.chart_holdout", lang, months=result.params.holdout_months),
        xlabel=t("ltv.col_repeat_purchases", lang),
        ylabel=t("ltv.axis_purchases", lang),
    )
    ax.legend()
    return ax.figure


def survival_chart(result, *, lang: str = "zh", ax=None):
    """Share of customers still buying by period since acquisition: actual (pooled over the
    cohorts observed that long) and the fitted curve, projected beyond (None without the model)."""
    if result.survival_fit is None:
        return None
    curve = result.survival_fit
    period = result.survival_model["period"]
    grain = t(f"ltv.grain_{period}", lang)
    ax = axes_for(ax, (8, 4.2))
    ax.plot(curve["period"], curve["survival"], marker="o", ls="", label=t("ltv.line_actual", lang))
    ax.plot(curve["period"], curve["fitted"], ls="--", label=t("ltv.line_predicted", lang))
    ax.set(
        title=t("ltv.chart_survival", lang, by=t(f"ltv.by_{period}", lang)),
        xlabel=t("ltv.axis_periods", lang, grain=grain),
        ylabel=t("ltv.axis_survival", lang),
        ylim=(0, 1.05),
    )
    _percent_axis(ax.yaxis)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    return ax.figure
