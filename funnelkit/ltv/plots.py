"""Charts of the lifetime-value report. Each takes the tidy result of a
:mod:`funnelkit.ltv.cohorts` / :mod:`funnelkit.ltv.projection` / :mod:`funnelkit.ltv.lifecycle` function, draws on
``ax`` (a new figure when None) and returns the Axes (the churn chart: the Figure)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from funnelkit.i18n import t
from funnelkit.report.charts import axes_for
from .lifecycle import STAGES


def cohort_heatmap(activity: pd.DataFrame, *, value: str = "retention", lang: str = "zh", ax=None):
    """Cohort × period heatmap of ``retention`` or ``revenue``; unobserved cells stay blank."""
    if value not in ("retention", "revenue"):
        raise ValueError(f"value must be 'retention' or 'revenue', not {value!r}")
    wide = activity.pivot(index="cohort", columns="period", values=value).astype(float)
    ax = axes_for(ax, (8, max(2.5, 0.35 * len(wide) + 1.5)))
    small = wide.shape[1] <= 12
    if value == "retention":
        annot, cmap, fmt = small, "Blues", ".0%"
    else:
        scale = 1e4 if lang == "zh" else 1e3
        wide = wide / scale
        annot, cmap, fmt = small, "Greens", ".0f"
    sns.heatmap(wide, mask=wide.isna(), annot=annot, fmt=fmt, cmap=cmap, cbar=False, linewidths=0.5,
                annot_kws={"fontsize": 8}, ax=ax)
    title = t(f"ltv.chart_{value}", lang)
    if value == "revenue":
        title = title.replace("（元）", "（万元）").replace("(yuan)", "(thousand yuan)")
    ax.set(title=title, xlabel=t("ltv.period", lang), ylabel=t("ltv.cohort", lang))
    ax.tick_params(axis="y", rotation=0)
    return ax


def ltv_curves(ltv: pd.DataFrame, *, lang: str = "zh", ax=None):
    """Realised cumulative LTV per customer of each cohort by period, with the break-even line."""
    ax = axes_for(ax, (8, 4.2))
    sns.lineplot(data=ltv, x="period", y="ltv", hue="cohort", marker="o", ax=ax,
                 legend=ltv["cohort"].nunique() <= 12)
    ax.axhline(0, color="grey", lw=1, ls="--", label=t("ltv.break_even_line", lang))
    ax.set(title=t("ltv.chart_ltv", lang), xlabel=t("ltv.period", lang), ylabel=t("ltv.ltv", lang))
    if ax.get_legend() is not None:
        ax.get_legend().set_title(t("ltv.cohort", lang))
    ax.xaxis.get_major_locator().set_params(integer=True)
    return ax


def projection_chart(comparison: pd.DataFrame, *, gain: float, lang: str = "zh", ax=None):
    """Projected LTV per customer by year: base and the higher-retention scenario."""
    ax = axes_for(ax, (8, 4.2))
    ax.plot(comparison["year"], comparison["ltv_base"], marker="o", label=t("ltv.base", lang))
    ax.plot(comparison["year"], comparison["ltv_scenario"], marker="s",
            label=t("ltv.scenario", lang, gain=f"{gain:.0%}"))
    ax.axhline(0, color="grey", lw=1, ls="--")
    ax.set(title=t("ltv.chart_projection", lang), xlabel=t("ltv.year", lang), ylabel=t("ltv.ltv_per_customer", lang))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    return ax


def stage_profit(summary: pd.DataFrame, *, lang: str = "zh", ax=None):
    """Recent profit per customer by lifecycle stage, in lifecycle order (the inverted U)."""
    ax = axes_for(ax, (7, 3.6))
    labels = [t(f"ltv.{s}", lang) for s in summary["stage"].astype(str)]
    ax.bar(labels, summary["profit_per_customer"].fillna(0), color=sns.color_palette()[:len(labels)])
    ax.set(title=t("ltv.chart_stage_profit", lang), xlabel=t("ltv.stage", lang),
           ylabel=t("ltv.profit_per_customer", lang))
    return ax


def stage_mix(mix: pd.DataFrame, *, by: str = "segment", lang: str = "zh", ax=None):
    """Stacked shares of the lifecycle stages within each group of ``by``."""
    wide = mix.pivot(index=by, columns="stage", values="share").reindex(columns=list(STAGES)).fillna(0)
    ax = axes_for(ax, (8, max(2.5, 0.45 * len(wide) + 1.5)))
    left = np.zeros(len(wide))
    for stage, color in zip(STAGES, sns.color_palette()):
        ax.barh(wide.index.astype(str), wide[stage], left=left, color=color, label=t(f"ltv.{stage}", lang))
        left += wide[stage].to_numpy()
    ax.set(title=t("ltv.chart_stage_mix", lang), xlabel=t("ltv.share", lang), ylabel=t(f"ltv.{by}", lang), xlim=(0, 1))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
    return ax


def churn_by_group(churn: pd.DataFrame, *, lang: str = "zh"):
    """One figure: the churn rate of every customer group with its 95% interval, one panel
    per grouping (segment, region, value tier), sharing the rate axis."""
    groupings = list(dict.fromkeys(churn["grouping"]))
    heights = [max(churn["grouping"].eq(g).sum(), 1) for g in groupings]
    fig, axes = plt.subplots(len(groupings), 1, sharex=True, squeeze=False,
                             figsize=(8, 1.2 + 0.32 * sum(heights) + 0.4 * len(groupings)),
                             gridspec_kw={"height_ratios": heights})
    for ax, grouping in zip(axes[:, 0], groupings):
        rows = churn.loc[churn["grouping"] == grouping]
        names = [t(f"ltv.{g}", lang) if grouping == "value_tier" else str(g) for g in rows["group"]]
        y = np.arange(len(rows))
        ax.errorbar(rows["churn_rate"], y, xerr=[rows["churn_rate"] - rows["churn_rate_low"],
                                                 rows["churn_rate_high"] - rows["churn_rate"]],
                    fmt="o", capsize=3)
        ax.set_yticks(y, names)
        ax.set_ylabel(t(f"ltv.{grouping}", lang))
        ax.invert_yaxis()
    axes[-1, 0].set_xlabel(t("ltv.churn_rate", lang))
    axes[-1, 0].xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    fig.suptitle(t("ltv.chart_churn", lang))
    fig.tight_layout()
    return fig
