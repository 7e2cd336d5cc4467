"""Display tables of the funnel report: a :class:`~funnelkit.funnel.analysis.FunnelDiagnosis`
pivoted and formatted for reading (counts beside percentages, intervals as ``[low, high]``),
with headers in the report language. The raw tidy tables are what is saved as CSV."""

from __future__ import annotations

import pandas as pd

from .counts import segment_order
from funnelkit.report.formatting import num, pct
from funnelkit.i18n import t


def show_table(report, view: pd.DataFrame | None, **options) -> None:
    """Show a view, or say the section has no data (a counts-only branch has no leads)."""
    if view is None or view.empty:
        report.markdown(t("common.no_data", report.lang, table=t("funnel.dated_leads", report.lang)))
        return
    report.table(view, **options)


def _c(key: str, lang: str, **values) -> str:
    return t(f"funnel.col_{key}", lang, **values)


def _ci(low, high) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"[{low:.1%}, {high:.1%}]"


def _too_few(flag, lang: str) -> str:
    return t("common.too_few", lang) if bool(flag) else ""


def stages_view(d) -> pd.DataFrame:
    """Whole branch: count and conversion from the previous stage, every period side by side,
    then the current period's conversion from the first stage with its interval."""
    lang, rows = d.lang, d.stage_rates[d.stage_rates["is_total"]]
    out = pd.DataFrame({_c("stage", lang): [s.label(lang) for s in d.stages]})
    for period, group in rows.groupby("period", sort=True):
        group = group.sort_values("stage_index")
        out[_c("count", lang, period=period)] = [num(v) for v in group["count"]]
        out[_c("conv", lang, period=period)] = [pct(v) for v in group["conv_prev"]]
    current = rows[rows["period"] == d.current].sort_values("stage_index")
    out[_c("conv_first", lang)] = [pct(v) for v in current["conv_first"]]
    out[_c("ci", lang)] = [_ci(lo, hi) for lo, hi in zip(current["conv_first_low"], current["conv_first_high"])]
    return out


def segments_view(d) -> pd.DataFrame:
    """Current period: per stage and segment, ``count (conversion from the previous stage)``;
    a conversion on too few customers is marked (``样本少`` / ``few``)."""
    lang, rows = d.lang, d.stage_rates[d.stage_rates["period"] == d.current]
    out = pd.DataFrame({_c("stage", lang): [s.label(lang) for s in d.stages]})
    few = t("funnel.few_mark", lang)
    for segment in segment_order(rows):
        group = rows[rows["segment"] == segment].sort_values("stage_index")
        out[segment] = [num(c) if pd.isna(r) else f"{num(c)} ({pct(r)}{', ' + few if f else ''})"
                        for c, r, f in zip(group["count"], group["conv_prev"], group["too_few"])]
    return out


def transitions_view(d, *, segment: str | None = None) -> pd.DataFrame:
    """Current period, whole branch (or ``segment``): every transition with its counts, the
    customers still open, and the settled customers' conversion and loss rate with Wilson intervals."""
    lang = d.lang
    keep = d.transitions["is_total"] if segment is None else d.transitions["segment"] == segment
    rows = d.transitions[keep & (d.transitions["period"] == d.current)].sort_values("step")
    return pd.DataFrame({
        _c("transition", lang): rows["transition_label"], _c("from", lang): rows["from_count"].map(num),
        _c("to", lang): rows["to_count"].map(num), _c("still_open", lang): rows["still_open"].map(num),
        _c("rate", lang): rows["rate"].map(pct),
        _c("ci", lang): [_ci(a, b) for a, b in zip(rows["rate_low"], rows["rate_high"])],
        _c("loss_rate", lang): rows["loss_rate"].map(pct),
        _c("ci", lang) + " ": [_ci(a, b) for a, b in zip(rows["loss_low"], rows["loss_high"])],
        _c("lost", lang): rows["lost"].map(num), _c("note", lang): [_too_few(f, lang) for f in rows["too_few"]]})


def bottleneck_view(d) -> pd.DataFrame:
    """The ranked transitions with their controllability and sized gains."""
    lang, b = d.lang, d.bottlenecks
    return pd.DataFrame({
        _c("rank", lang): b["rank"], _c("transition", lang): b["transition_label"],
        _c("still_open", lang): b["still_open"].map(num), _c("lost", lang): b["lost"].map(num),
        _c("loss_rate", lang): b["loss_rate"].map(pct),
        _c("ci", lang): [_ci(a, c) for a, c in zip(b["loss_low"], b["loss_high"])],
        _c("weight", lang): b["weight"].map(lambda w: f"{w:.1f}"), _c("score", lang): b["score"].map(num),
        _c("rate", lang): b["rate"].map(pct), _c("peer_median", lang): b["peer_median"].map(pct),
        _c("best", lang): [f"{pct(r)} ({p})" if pd.notna(r) else "" for r, p in zip(b["best_rate"], b["best_period"])],
        _c("gain_peer", lang): b["gain_peer"].map(num), _c("gain_best", lang): b["gain_best"].map(num),
        _c("gain_revenue", lang): b["gain_revenue"].map(num)})


def yoy_view(d, *, rows: int = 20) -> pd.DataFrame:
    """Year-over-year tests, significant ones and the whole branch first, with the settled
    customers behind each rate; too few to judge and never tested (counts missing or rising)
    are said so, not called noise."""
    lang = d.lang
    y = d.yoy.sort_values(["significant", "is_total", "p_adjusted"], ascending=[False, False, True]).head(rows)
    verdict = [t("common.too_few", lang) if few else t("funnel.verdict_not_tested", lang) if pd.isna(p)
               else t("funnel.verdict_real" if sig else "funnel.verdict_noise", lang)
               for few, p, sig in zip(y["too_few"], y["p_value"], y["significant"].fillna(False))]
    return pd.DataFrame({
        _c("segment", lang): y["segment"], _c("transition", lang): y["transition_label"],
        _c("n_period", lang, period=d.previous): y["n_previous"].map(num),
        _c("previous", lang, period=d.previous): y["rate_previous"].map(pct),
        _c("n_period", lang, period=d.current): y["n_current"].map(num),
        _c("previous", lang, period=d.current): y["rate_current"].map(pct),
        _c("diff", lang): y["diff"].map(lambda v: "" if pd.isna(v) else f"{v * 100:+.1f}"),
        _c("ci", lang): [_diff_ci(a, b) for a, b in zip(y["diff_low"], y["diff_high"])],
        _c("p", lang): y["p_value"].map(_p), _c("p_adjusted", lang): y["p_adjusted"].map(_p),
        _c("verdict", lang): verdict})


def _diff_ci(low, high) -> str:
    return "" if pd.isna(low) else f"[{low * 100:+.1f}, {high * 100:+.1f}]"


def _p(value) -> str:
    return "" if pd.isna(value) else ("<0.001" if value < 0.001 else f"{value:.3f}")


def decomposition_view(d) -> pd.DataFrame:
    """Per segment, the change in last-stage customers split into volume and each transition;
    segments with a transition on too few customers are noted."""
    lang, parts = d.lang, d.decomposition
    if parts.empty:
        return pd.DataFrame()
    wide = parts.pivot_table(index="segment", columns="component_label", values="customers", aggfunc="first", sort=False)
    order = list(dict.fromkeys(parts["component_label"]))
    wide = wide.reindex(columns=order).reindex(index=segment_order(parts.drop_duplicates("segment")))
    out = wide.map(lambda v: num(v, sign=True))
    out[_c("total_change", lang)] = wide.sum(axis=1).map(lambda v: num(v, sign=True))
    few = parts.groupby("segment")["too_few"].any().reindex(wide.index)
    out[_c("note", lang)] = [_too_few(f, lang) for f in few]
    return out.rename_axis(index=_c("segment", lang), columns=None).reset_index()


def elasticity_view(d) -> pd.DataFrame:
    lang, e = d.lang, d.elasticities
    return pd.DataFrame({_c("transition", lang): e["transition_label"], _c("rate", lang): e["rate"].map(pct),
                         _c("per_point", lang): e["customers_per_point"].map(lambda v: "" if pd.isna(v) else f"{v:,.1f}"),
                         _c("revenue_point", lang): e["revenue_per_point"].map(num)})


def time_view(d) -> pd.DataFrame | None:
    if d.time_to_convert is None:
        return None
    lang, tt = d.lang, d.time_to_convert
    return pd.DataFrame({_c("transition", lang): tt["transition_label"], _c("n", lang): tt["n"].map(num),
                         _c("median_days", lang): tt["median_days"].map(num), _c("p90_days", lang): tt["p90_days"].map(num)})


def forecast_view(d) -> pd.DataFrame | None:
    if d.forecast is None:
        return None
    lang, f = d.lang, d.forecast
    return pd.DataFrame({_c("month", lang): f["close_month"], _c("n", lang): f["leads"].map(num),
                         _c("pipeline", lang): f["pipeline_amount"].map(num),
                         _c("expected_won", lang): f["expected_won"].map(lambda v: f"{v:,.1f}"),
                         _c("expected_amount", lang): f["expected_amount"].map(num)})


def calibration_view(d) -> pd.DataFrame | None:
    if d.calibration is None:
        return None
    lang, c = d.lang, d.calibration
    return pd.DataFrame({_c("band", lang): c["band"], _c("n", lang): c["leads"].map(num),
                         _c("forecast_prob", lang): c["forecast_prob"].map(pct),
                         _c("actual_rate", lang): c["actual_rate"].map(pct),
                         _c("expected_amount", lang): c["forecast_amount"].map(num),
                         _c("actual_amount", lang): c["actual_amount"].map(num)})


def backtest_view(d) -> pd.DataFrame | None:
    if not d.backtest_error:
        return None
    lang, e = d.lang, d.backtest_error
    return pd.DataFrame({_c("n", lang): [num(e["leads"])], _c("expected_won", lang): [f"{e['forecast_won']:,.1f}"],
                         _c("actual_won", lang): [num(e["actual_won"])],
                         _c("expected_amount", lang): [num(e["forecast_amount"])],
                         _c("actual_amount", lang): [num(e["actual_amount"])], _c("error", lang): [num(e["error"], sign=True)],
                         _c("error_pct", lang): [pct(e["error_pct"])], _c("brier", lang): [f"{e['brier']:.3f}"]})
