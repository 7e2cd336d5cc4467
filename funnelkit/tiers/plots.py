"""Charts of the tier report. Each takes the :class:`~funnelkit.tiers.Result` first, labels in
``lang`` from the message catalogue, an optional ``ax`` where it draws one panel, and returns
the Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from funnelkit.i18n import label, t
from funnelkit.report.charts import axes_for, text_colour

from .value import _amount_text
from .views import code_label

TIER_COLORS = {"premium": "#c44e52", "potential": "#dd8452", "general": "#8c8c8c", "unknown": "#d0d0d0"}
TIERS = ("premium", "potential", "general")


def grid_heatmap(result, *, lang: str = "zh", ax=None):
    """Loyalty × capacity grid (:func:`funnelkit.tiers.tiering.grid_counts`): customers and tier per cell."""
    data, ax = result.grid_cells, axes_for(ax, (6.5, 4.2))
    counts = data.pivot(index="loyalty", columns="capacity", values="customers")
    tiers = data.pivot(index="loyalty", columns="capacity", values="tier")
    order_rows = data.drop_duplicates("loyalty").sort_values("loyalty_band", ascending=False)["loyalty"]
    order_cols = data.drop_duplicates("capacity").sort_values("capacity_band")["capacity"]
    counts, tiers = counts.loc[order_rows, order_cols], tiers.loc[order_rows, order_cols]
    notes = counts.astype(int).astype(str) + "\n" + tiers.map(lambda c: label(c, lang))
    sns.heatmap(counts, annot=notes, fmt="", cmap="Blues", cbar=False, linewidths=1, ax=ax)
    ax.set(xlabel=t("tiers.col_capacity", lang), ylabel=t("tiers.col_loyalty", lang))
    ax.tick_params(axis="y", rotation=0)
    return ax.figure


def tier_bars(result, *, by: str, lang: str = "zh"):
    """Grouped bars per tier (:func:`funnelkit.tiers.tiering.tier_by`) by ``region`` or
    ``industry``: each group, the previous year beside the current one."""
    data = result.by_region if by == "region" else result.by_industry
    years = (result.previous_year, result.year)
    fig, axes = plt.subplots(1, len(TIERS), figsize=(10, 3.8), sharey=False)
    long = data.melt(id_vars=[by, "tier"], value_vars=["previous", "current"], var_name="year", value_name="customers")
    long = long.assign(year=long["year"].map(dict(zip(("previous", "current"), map(str, years)))))
    for ax, tier in zip(axes, TIERS):
        part = long[long["tier"] == tier]
        sns.barplot(data=part, x=by, y="customers", hue="year", ax=ax, palette=["#b0b0b0", TIER_COLORS[tier]])
        for bars in ax.containers:
            ax.bar_label(bars, fontsize=7)
        ax.set(title=label(tier, lang), xlabel="", ylabel=t("tiers.col_customers", lang) if ax is axes[0] else "")
        ax.tick_params(axis="x", rotation=45, labelsize=8)
        ax.legend(fontsize=7, title=None)
    fig.tight_layout()
    return fig


def region_industry_heatmap(result, *, lang: str = "zh", ax=None):
    """Customers per region × industry (:func:`funnelkit.tiers.concentration.region_industry`), counts shown."""
    data, ax = result.focus_mix, axes_for(ax, (7.5, 4.2))
    table = data.pivot(index="region", columns="industry", values="customers")
    sns.heatmap(table, annot=True, fmt="d", cmap="Oranges", cbar=False, linewidths=0.5, ax=ax)
    ax.set(xlabel=t("tiers.col_industry", lang), ylabel=t("tiers.col_region", lang))
    ax.tick_params(axis="x", rotation=30)
    ax.tick_params(axis="y", rotation=0)
    return ax.figure


def migration_heatmap(result, *, lang: str = "zh", ax=None):
    """Tier transitions (:func:`funnelkit.tiers.migration.migration`), new and gone in the margins."""
    data = result.moves
    if data is None or data.empty:  # a single snapshot year: nothing to compare
        return None
    ax = axes_for(ax, (6, 4.4))
    rows, cols = [*TIERS, "new"], [*TIERS, "gone"]
    table = data.pivot(index="from_tier", columns="to_tier", values="customers").reindex(index=rows, columns=cols)
    table.index = [code_label(c, lang) for c in rows]
    table.columns = [code_label(c, lang) for c in cols]
    sns.heatmap(
        table.astype(float),
        annot=True,
        fmt=".0f",
        cmap="Purples",
        cbar=False,
        linewidths=1,
        mask=table.isna().to_numpy(),
        ax=ax,
    )
    ax.set(xlabel=t("tiers.col_to_tier", lang), ylabel=t("tiers.col_from_tier", lang))
    ax.tick_params(axis="y", rotation=0)
    return ax.figure


def value_funnel(result, *, lang: str = "zh", ax=None):
    """Funnel of customers at or above each sales-amount bound (:func:`funnelkit.tiers.value.value_bands`)."""
    data, ax = result.bands, axes_for(ax, (6.5, 4.2))
    widths = data["customers_at_least"].to_numpy(float)
    names = [("≥" + _amount_text(low, lang)) if low > 0 else t("tiers.col_customers", lang) for low in data["lower"]]
    y = np.arange(len(widths))[::-1]
    colours = sns.color_palette("Blues_r", len(widths))
    ax.barh(y, widths, left=(widths.max(initial=0) - widths) / 2, color=colours)
    for yi, w, colour in zip(y, widths, colours):
        ax.text(
            widths.max(initial=0) / 2, yi, f"{w:,.0f}", ha="center", va="center", fontsize=9, color=text_colour(colour)
        )
    ax.set_yticks(y, names)
    ax.set_xticks([])
    ax.grid(False)
    ax.set(xlabel=t("tiers.col_customers_at_least", lang))
    return ax.figure


def events_chart(result, *, lang: str = "zh"):
    """Referrals and repurchases per month, stacked by tier (:func:`funnelkit.tiers.referrals.events_by_month`)."""
    if result.by_month is None:
        return None
    data = result.by_month
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    for ax, kind in zip(axes, ("referral", "repurchase")):
        table = (
            data[data["kind"] == kind]
            .pivot(index="month", columns="tier", values="events")
            .reindex(columns=[c for c in (*TIERS, "unknown") if c in set(data["tier"])])
        )
        table.columns = [code_label(c, lang) for c in table.columns]
        table.plot.bar(
            stacked=True,
            ax=ax,
            width=0.8,
            legend=ax is axes[0],
            color=[TIER_COLORS[c] for c in (*TIERS, "unknown") if c in set(data["tier"])],
        )
        ax.set(title=label(kind, lang), xlabel="", ylabel=t("tiers.col_events", lang))
    axes[-1].tick_params(axis="x", rotation=90, labelsize=7)
    if axes[0].get_legend():
        axes[0].legend(fontsize=7, ncols=4)
    fig.tight_layout()
    return fig


def referral_sources_chart(result, *, lang: str = "zh"):
    """Referral sources (:func:`funnelkit.tiers.referrals.referral_sources`): counts (bars) and shares (pie)."""
    if result.sources is None:
        return None
    data = result.sources
    fig, (bars, pie) = plt.subplots(1, 2, figsize=(10, 3.8))
    names = [code_label(c, lang) for c in data["source_type"]]
    colors = sns.color_palette("deep", len(names))
    bars.barh(names[::-1], data["referrals"].to_numpy()[::-1], color=colors[::-1])
    bars.bar_label(bars.containers[0], fmt="%.0f", fontsize=8)
    bars.set(xlabel=t("tiers.col_referrals", lang))
    shown = data["referrals"] > 0
    if shown.any():
        pie.pie(
            data.loc[shown, "referrals"],
            labels=[n for n, s in zip(names, shown) if s],
            autopct="%1.1f%%",
            colors=[c for c, s in zip(colors, shown) if s],
            textprops={"fontsize": 8},
            startangle=90,
            counterclock=False,
        )
    pie.set_aspect("equal")
    fig.tight_layout()
    return fig


def cadence_bars(result, *, lang: str = "zh", ax=None):
    """Share of each tier meeting the visit policy (:func:`funnelkit.tiers.cadence.cadence_by_tier`)."""
    if result.cadence_table is None:
        return None
    data, ax = result.cadence_table, axes_for(ax, (6.5, 4.2))
    measures = ["meets_phone", "meets_onsite", "meets_policy"]
    long = data.melt(id_vars="tier", value_vars=measures, var_name="measure", value_name="share")
    long = long.assign(
        tier=long["tier"].map(lambda c: label(c, lang)),
        measure=long["measure"].map(lambda m: t(f"tiers.col_{m}", lang)),
    )
    sns.barplot(data=long, x="tier", y="share", hue="measure", ax=ax, palette="crest")
    for bars in ax.containers:
        ax.bar_label(bars, labels=[f"{v:.0%}" if not np.isnan(v) else "" for v in bars.datavalues], fontsize=7)
    ax.set(xlabel="", ylabel="", ylim=(0, 1.1))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.legend(fontsize=7, title=None)
    return ax.figure
