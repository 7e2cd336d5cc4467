"""Display tables of the funnel report: ``view(result, lang) -> DataFrame``, one per table shown.

Each pivots and formats a table of :class:`~funnelkit.funnel.Result` for reading (counts
beside percentages, intervals as ``[low, high]``) with headers and labels in ``lang``; the
tidy tables themselves are what is saved as CSV. A view returns None where the branch cannot
have the table (no leads with stage dates); the result's ``gaps`` say why.

Examples
--------
>>> from funnelkit.funnel import Params, analyse
>>> from funnelkit.data.loading import load_tables
>>> params = Params(branch="嘉兴分公司", funnel_source="counts")
>>> result = analyse(load_tables(params, ["stage_counts"]), params)
>>> stages(result, "en").iloc[:2, :3].to_dict("list")
{'Stage': ['Target', 'Potential'], '2003 count': ['1,260', '480'], '2003 conversion': ['—', '38.1%']}
>>> forecast(result, "en") is None
True
"""

from __future__ import annotations

import pandas as pd

from funnelkit.i18n import t
from funnelkit.report.formatting import num, pct

from .labels import component_label, segment_label, segment_order, transition_labels

#: Year-over-year tests shown (significant ones and the whole branch first); the CSV has all.
YOY_ROWS = 20


def _c(key: str, lang: str, **values) -> str:
    return t(f"funnel.col_{key}", lang, **values)


def _ci(low, high) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"[{low:.1%}, {high:.1%}]"


def _too_few(flag, lang: str) -> str:
    return t("common.too_few", lang) if bool(flag) else ""


def stages(result, lang: str) -> pd.DataFrame:
    """Whole branch: count and conversion from the previous stage, every period side by side,
    then the current period's conversion from the first stage with its interval."""
    rows = result.stage_rates[result.stage_rates["is_total"]]
    out = pd.DataFrame({_c("stage", lang): [s.label(lang) for s in result.stages]})
    for period, group in rows.groupby("period", sort=True):
        group = group.sort_values("stage_index")
        out[_c("count", lang, period=period)] = [num(v) for v in group["count"]]
        out[_c("conv", lang, period=period)] = [pct(v) for v in group["conv_prev"]]
    current = rows[rows["period"] == result.current].sort_values("stage_index")
    out[_c("conv_first", lang)] = [pct(v) for v in current["conv_first"]]
    out[_c("ci", lang)] = [_ci(lo, hi) for lo, hi in zip(current["conv_first_low"], current["conv_first_high"])]
    return out


def segments(result, lang: str) -> pd.DataFrame:
    """Current period: per stage and segment, ``count (conversion from the previous stage)``;
    a conversion on too few customers is marked (``样本少`` / ``few``)."""
    rows = result.stage_rates[result.stage_rates["period"] == result.current]
    out = pd.DataFrame({_c("stage", lang): [s.label(lang) for s in result.stages]})
    few = t("funnel.few_mark", lang)
    for segment in segment_order(rows):
        group = rows[rows["segment"] == segment].sort_values("stage_index")
        out[segment_label(segment, lang)] = [
            num(c) if pd.isna(r) else f"{num(c)} ({pct(r)}{', ' + few if f else ''})"
            for c, r, f in zip(group["count"], group["conv_prev"], group["too_few"])
        ]
    return out


def transitions(result, lang: str) -> pd.DataFrame:
    """Current period, whole branch: every transition with its counts, the customers still
    open, and the settled customers' conversion and loss rate with Wilson intervals."""
    steps = result.transitions
    rows = steps[steps["is_total"] & (steps["period"] == result.current)].sort_values("step")
    return pd.DataFrame(
        {
            _c("transition", lang): transition_labels(rows["transition"], result.stages, lang),
            _c("from", lang): rows["from_count"].map(num),
            _c("to", lang): rows["to_count"].map(num),
            _c("still_open", lang): rows["still_open"].map(num),
            _c("rate", lang): rows["rate"].map(pct),
            _c("ci", lang): [_ci(a, b) for a, b in zip(rows["rate_low"], rows["rate_high"])],
            _c("loss_rate", lang): rows["loss_rate"].map(pct),
            _c("ci", lang) + " ": [_ci(a, b) for a, b in zip(rows["loss_low"], rows["loss_high"])],
            _c("lost", lang): rows["lost"].map(num),
            _c("note", lang): [_too_few(f, lang) for f in rows["too_few"]],
        }
    )


def bottlenecks(result, lang: str) -> pd.DataFrame:
    """The transitions ranked by what fixing them is worth: the controllable gain first (in
    whole customers and yuan, and the benchmark it is sized against), then the step's rate
    beside the three benchmarks, the gain at each, and its losses."""
    b = result.bottlenecks
    bench = [
        t(f"funnel.bench_{k}", lang, period=p) if isinstance(k, str) else ""
        for k, p in zip(b["benchmark"], b["best_period"])
    ]
    return pd.DataFrame(
        {
            _c("rank", lang): b["rank"],
            _c("transition", lang): transition_labels(b["transition"], result.stages, lang),
            _c("gain_customers", lang): b["gain_customers"].map(num),
            _c("gain_revenue", lang): b["gain_revenue"].map(num),
            _c("benchmark", lang): [s if g > 0 else "" for s, g in zip(bench, b["gain_customers"].fillna(0))],
            _c("weight", lang): b["weight"].map(lambda w: f"{w:.1f}"),
            _c("rate", lang): b["rate"].map(pct),
            _c("peer_median", lang): b["peer_median"].map(pct),
            _c("peer_top", lang): b["peer_top"].map(pct),
            _c("best", lang): [
                f"{pct(r)} ({p})" if pd.notna(r) else "" for r, p in zip(b["best_rate"], b["best_period"])
            ],
            _c("gain_peer", lang): b["gain_peer"].map(num),
            _c("gain_top", lang): b["gain_top"].map(num),
            _c("gain_best", lang): b["gain_best"].map(num),
            _c("lost", lang): b["lost"].map(num),
            _c("loss_rate", lang): b["loss_rate"].map(pct),
            _c("still_open", lang): b["still_open"].map(num),
        }
    )


def yoy(result, lang: str) -> pd.DataFrame | None:
    """Year-over-year tests, significant ones and the whole branch first, with the settled
    customers behind each rate; too few to judge and never tested (counts missing or rising)
    are said so, not called noise. None with one period only (a gap of the result)."""
    if result.yoy is None:
        return None
    y = result.yoy.sort_values(["significant", "is_total", "p_adjusted"], ascending=[False, False, True])
    y = y.head(YOY_ROWS)
    verdict = [
        t("common.too_few", lang)
        if few
        else t("funnel.verdict_not_tested", lang)
        if pd.isna(p)
        else t("funnel.verdict_real" if sig else "funnel.verdict_noise", lang)
        for few, p, sig in zip(y["too_few"], y["p_value"], y["significant"].fillna(False))
    ]
    previous, current = result.previous, result.current
    return pd.DataFrame(
        {
            _c("segment", lang): y["segment"].map(lambda s: segment_label(s, lang)),
            _c("transition", lang): transition_labels(y["transition"], result.stages, lang),
            _c("n_period", lang, period=previous): y["n_previous"].map(num),
            _c("previous", lang, period=previous): y["rate_previous"].map(pct),
            _c("n_period", lang, period=current): y["n_current"].map(num),
            _c("previous", lang, period=current): y["rate_current"].map(pct),
            _c("diff", lang): y["diff"].map(lambda v: "" if pd.isna(v) else f"{v * 100:+.1f}"),
            _c("ci", lang): [_diff_ci(a, b) for a, b in zip(y["diff_low"], y["diff_high"])],
            _c("p", lang): y["p_value"].map(_p),
            _c("p_adjusted", lang): y["p_adjusted"].map(_p),
            _c("verdict", lang): verdict,
        }
    )


def _diff_ci(low, high) -> str:
    return "" if pd.isna(low) else f"[{low * 100:+.1f}, {high * 100:+.1f}]"


def _p(value) -> str:
    return "" if pd.isna(value) else ("<0.001" if value < 0.001 else f"{value:.3f}")


def drivers(result, lang: str) -> pd.DataFrame | None:
    """Per segment, the change in last-stage customers split into volume and each transition;
    segments with a transition on too few customers are noted."""
    parts = result.decomposition
    if parts is None or parts.empty:
        return None
    wide = parts.pivot_table(index="segment", columns="component", values="customers", aggfunc="first", sort=False)
    order = list(dict.fromkeys(parts["component"]))
    wide = wide.reindex(columns=order).reindex(index=segment_order(parts.drop_duplicates("segment")))
    out = wide.map(lambda v: num(v, sign=True))
    out[_c("total_change", lang)] = wide.sum(axis=1).map(lambda v: num(v, sign=True))
    few = parts.groupby("segment")["too_few"].any().reindex(wide.index)
    out[_c("note", lang)] = [_too_few(f, lang) for f in few]
    out = out.rename(
        columns=lambda c: component_label(c, result.stages, lang) if c in order else c,
        index=lambda s: segment_label(s, lang),
    )
    return out.rename_axis(index=_c("segment", lang), columns=None).reset_index()


def elasticities(result, lang: str) -> pd.DataFrame:
    """What one more point of conversion at each step is worth, in customers and yuan."""
    e = result.elasticities
    return pd.DataFrame(
        {
            _c("transition", lang): transition_labels(e["transition"], result.stages, lang),
            _c("rate", lang): e["rate"].map(pct),
            _c("per_point", lang): e["customers_per_point"].map(lambda v: "" if pd.isna(v) else f"{v:,.1f}"),
            _c("revenue_point", lang): e["revenue_per_point"].map(num),
        }
    )


def time_to_convert(result, lang: str) -> pd.DataFrame | None:
    """Median and 90th-percentile days per step (None without dated leads)."""
    if result.time_to_convert is None:
        return None
    tt = result.time_to_convert
    return pd.DataFrame(
        {
            _c("transition", lang): transition_labels(tt["transition"], result.stages, lang),
            _c("n", lang): tt["n"].map(num),
            _c("median_days", lang): tt["median_days"].map(num),
            _c("p90_days", lang): tt["p90_days"].map(num),
        }
    )


def forecast(result, lang: str) -> pd.DataFrame | None:
    """The pipeline forecast by expected close month (None without dated leads)."""
    if not result.forecasted:
        return None
    f = result.forecast
    return pd.DataFrame(
        {
            _c("month", lang): f["close_month"],
            _c("n", lang): f["leads"].map(num),
            _c("pipeline", lang): f["pipeline_amount"].map(num),
            _c("expected_won", lang): f["expected_won"].map(lambda v: f"{v:,.1f}"),
            _c("expected_amount", lang): f["expected_amount"].map(num),
        }
    )


def calibration(result, lang: str) -> pd.DataFrame | None:
    """The back-test by forecast probability band (None without dated leads)."""
    if result.calibration is None:
        return None
    c = result.calibration
    return pd.DataFrame(
        {
            _c("band", lang): c["band"],
            _c("n", lang): c["leads"].map(num),
            _c("forecast_prob", lang): c["forecast_prob"].map(pct),
            _c("actual_rate", lang): c["actual_rate"].map(pct),
            _c("expected_amount", lang): c["forecast_amount"].map(num),
            _c("actual_amount", lang): c["actual_amount"].map(num),
        }
    )


def backtest(result, lang: str) -> pd.DataFrame | None:
    """The back-test's totals: forecast against actual deals and amounts, error, Brier score,
    and the months whose actual deals fell inside the forecast range (coverage)."""
    if not result.backtest_error:
        return None
    e = result.backtest_error
    return pd.DataFrame(
        {
            _c("n", lang): [num(e["leads"])],
            _c("expected_won", lang): [f"{e['forecast_won']:,.1f}"],
            _c("actual_won", lang): [num(e["actual_won"])],
            _c("expected_amount", lang): [num(e["forecast_amount"])],
            _c("actual_amount", lang): [num(e["actual_amount"])],
            _c("error", lang): [num(e["error"], sign=True)],
            _c("error_pct", lang): [pct(e["error_pct"])],
            _c("brier", lang): [f"{e['brier']:.3f}"],
            _c("coverage", lang): [_coverage(result.backtest_coverage)],
        }
    )


def _coverage(cover: dict) -> str:
    """Months whose actual deals fell inside the back-test's P10–P90, as ``7 / 12``."""
    if not cover.get("months"):
        return ""
    return f"{round(cover['won_coverage'] * cover['months'])} / {cover['months']}"


def _month(code: str, lang: str) -> str:
    return t("funnel.range_total", lang) if code == "all" else code


def _range(low, mid, high, *, count: bool) -> list[str]:
    show = (lambda v: f"{v:,.0f}") if count else num
    return [f"{show(m)} [{show(lo)}, {show(hi)}]" for lo, m, hi in zip(low, mid, high)]


def forecast_range(result, lang: str) -> pd.DataFrame | None:
    """Won deals and revenue by close month as P50 [P10, P90], with the expected deals from
    the open pipeline and from leads not yet created (None where the section is a gap)."""
    if result.forecast_range is None:
        return None
    f = result.forecast_range
    return pd.DataFrame(
        {
            _c("month", lang): [_month(m, lang) for m in f["close_month"]],
            _c("won_range", lang): _range(f["won_p10"], f["won_p50"], f["won_p90"], count=True),
            _c("amount_range", lang): _range(f["amount_p10"], f["amount_p50"], f["amount_p90"], count=False),
            _c("pipeline_won", lang): f["pipeline_won"].map(lambda v: f"{v:,.1f}"),
            _c("new_won", lang): f["new_won"].map(lambda v: f"{v:,.1f}"),
        }
    )


def backtest_range(result, lang: str) -> pd.DataFrame | None:
    """The back-test month by month: the range made at the start of the period against the
    deals and revenue actually won, and whether each fell inside (None where it is a gap)."""
    if result.backtest_range is None:
        return None
    b = result.backtest_range
    inside = {True: t("funnel.inside_yes", lang), False: t("funnel.inside_no", lang)}
    return pd.DataFrame(
        {
            _c("month", lang): [_month(m, lang) for m in b["close_month"]],
            _c("won_range", lang): _range(b["won_p10"], b["won_p50"], b["won_p90"], count=True),
            _c("actual_won", lang): b["actual_won"].map(num),
            _c("won_inside", lang): b["won_inside"].map(inside),
            _c("amount_range", lang): _range(b["amount_p10"], b["amount_p50"], b["amount_p90"], count=False),
            _c("actual_amount", lang): b["actual_amount"].map(num),
            _c("amount_inside", lang): b["amount_inside"].map(inside),
        }
    )


def velocity(result, lang: str) -> pd.DataFrame | None:
    """Pipeline velocity per period with its four factors (None where it is a gap)."""
    if result.velocity is None:
        return None
    v = result.velocity
    return pd.DataFrame(
        {
            _c("period", lang): v["period"],
            _c("deals", lang): v["deals"].map(num),
            _c("win_rate", lang): v["win_rate"].map(pct),
            _c("average_deal", lang): v["average_deal"].map(num),
            _c("cycle_days", lang): v["cycle_days"].map(lambda d: "" if pd.isna(d) else f"{d:,.1f}"),
            _c("velocity", lang): v["velocity"].map(num),
        }
    )


def velocity_change(result, lang: str) -> pd.DataFrame | None:
    """The change of velocity split into its four factors, with the total (None where it is
    a gap)."""
    if result.velocity_change is None:
        return None
    c = result.velocity_change
    factor = [t(f"funnel.factor_{f}", lang) for f in c["factor"]]
    level = {"win_rate": pct, "cycle_days": lambda d: f"{d:,.1f}"}
    return pd.DataFrame(
        {
            _c("factor", lang): [*factor, _c("total_change", lang)],
            _c("previous_value", lang, period=result.previous): [
                *(level.get(f, num)(v) for f, v in zip(c["factor"], c["previous"])),
                "",
            ],
            _c("current_value", lang, period=result.current): [
                *(level.get(f, num)(v) for f, v in zip(c["factor"], c["current"])),
                "",
            ],
            _c("contribution", lang): [num(v, sign=True) for v in [*c["contribution"], c["contribution"].sum()]],
        }
    )


def _days(value) -> str:
    return "" if pd.isna(value) else f"{value:,.0f}"


def stage_time(result, lang: str) -> pd.DataFrame | None:
    """Days spent at each stage: finished stays, median, 75th and 90th percentile (None where
    it is a gap)."""
    if result.stage_time is None:
        return None
    s = result.stage_time
    return pd.DataFrame(
        {
            _c("stage", lang): [st.label(lang) for st in result.stages],
            _c("stays", lang): s["stays"].map(num),
            _c("median_days", lang): s["median_days"].map(_days),
            _c("p75_days", lang): s["p75_days"].map(_days),
            _c("p90_days", lang): s["p90_days"].map(_days),
            _c("note", lang): [_too_few(f, lang) for f in s["too_few"]],
        }
    )
