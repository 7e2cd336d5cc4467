"""The funnel report's written summary (小结) and its ``summary.json`` figures, generated from a
:class:`funnelkit.funnel.analysis.FunnelDiagnosis` — never written by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.report.formatting import num, pct
from funnelkit.i18n import t


def overall_conversion(d) -> tuple[float, float, float]:
    """First-stage count, last-stage count and their ratio, whole branch, current period."""
    rows = d.stage_rates[d.stage_rates["is_total"] & (d.stage_rates["period"] == d.current)].sort_values("stage_index")
    first, last = rows["count"].iloc[0], rows["count"].iloc[-1]
    return first, last, (last / first if first else np.nan)


def findings(d) -> list[str]:
    """3–5 findings with their numbers: the controllable bottleneck, its sized gain, the
    biggest real year-over-year change, what drove the change in last-stage customers, and
    the forecast (or, for a counts-only branch, the peer position of the bottleneck)."""
    items = [line for line in (_bottleneck(d), _gain(d), _yoy(d), _driver(d), _forecast(d) or _position(d)) if line]
    return items[:5]


def _bottleneck(d) -> str | None:
    top = d.top
    if top is None:
        return None
    return t("funnel.f_bottleneck", d.lang, transition=top["transition_label"], period=d.current,
             lost=num(top["lost"]), loss_rate=pct(top["loss_rate"]), loss_low=pct(top["loss_low"]),
             loss_high=pct(top["loss_high"]))


def _gain(d) -> str | None:
    top = d.top
    if top is None:
        return None
    gain = top["gain_customers"]
    values = dict(transition=top["transition_label"], rate=pct(top["rate"]), gain=f"{gain:,.1f}" if gain < 10 else num(gain),
                  last=d.stages[-1].label(d.lang),
                  revenue="" if pd.isna(top["gain_revenue"]) else t("funnel.f_revenue", d.lang, amount=num(top["gain_revenue"])))
    if not top["gain_customers"] > 0:
        return t("funnel.f_no_gain", d.lang, transition=top["transition_label"])
    if top["benchmark"] == "peer_median":
        return t("funnel.f_gain_peer", d.lang, target=pct(top["peer_median"]), **values)
    return t("funnel.f_gain_best", d.lang, target=pct(top["best_rate"]), best_period=top["best_period"], **values)


def _yoy(d) -> str | None:
    if d.previous is None or d.yoy.empty:
        return None
    real = d.yoy[d.yoy["significant"].fillna(False).astype(bool)]
    if real.empty:
        return t("funnel.f_no_yoy", d.lang, previous=d.previous)
    row = real.loc[real["diff"].abs().idxmax()]
    segment = "" if row["is_total"] else (f"{row['segment']} " if d.lang == "en" else row["segment"])
    return t("funnel.f_yoy", d.lang, previous=d.previous, segment=segment, transition=row["transition_label"],
             before=pct(row["rate_previous"]), after=pct(row["rate_current"]), diff=f"{row['diff'] * 100:+.1f}pp",
             diff_low=f"{row['diff_low'] * 100:+.1f}pp", diff_high=f"{row['diff_high'] * 100:+.1f}pp",
             p=f"{row['p_adjusted']:.3g}")


def _driver(d) -> str | None:
    whole = d.decomposition[d.decomposition["is_total"].astype(bool)] if len(d.decomposition) else d.decomposition
    if whole.empty:
        return None
    top = whole.loc[whole["customers"].abs().idxmax()]
    before, after = top["last_previous"], top["last_current"]
    return t("funnel.f_driver", d.lang, last=d.stages[-1].label(d.lang), before=num(before), after=num(after),
             change=num(after - before, sign=True), driver=top["component_label"], part=num(top["customers"], sign=True))


def _forecast(d) -> str | None:
    if d.forecast is None:
        return None
    error = d.backtest_error
    return t("funnel.f_forecast", d.lang, leads=num(d.forecast["leads"].sum()),
             amount=num(d.forecast["expected_amount"].sum()), start=d.backtest_start,
             bt_forecast=num(error.get("forecast_amount")), bt_actual=num(error.get("actual_amount")),
             bt_error=pct(error.get("error_pct")))


def _position(d) -> str | None:
    own = d.funnel_plot[d.funnel_plot["is_self"]] if len(d.funnel_plot) else d.funnel_plot
    if own.empty:
        return None
    return t("funnel.f_peer_position", d.lang, transition=d.top["transition_label"],
             position=t(f"funnel.pos_{own['position'].iloc[0]}", d.lang))


def summary_figures(d) -> dict:
    """The key figures for ``summary.json`` (the leadership index reads these keys)."""
    first, last, overall = overall_conversion(d)
    top = d.top
    get = (lambda k: top[k]) if top is not None else (lambda k: None)
    return {
        "current_period": d.current,
        "funnel_source": d.source,
        "first_stage_count": first,
        "last_stage_count": last,
        "overall_conversion": overall,
        "top_bottleneck": get("transition_label"),
        "top_bottleneck_key": get("transition"),
        "top_bottleneck_loss_rate": get("loss_rate"),
        "top_bottleneck_lost": get("lost"),
        "top_bottleneck_gain_customers": get("gain_customers"),
        "top_bottleneck_gain_revenue": get("gain_revenue"),
        "forecast_total": d.forecast["expected_amount"].sum() if d.forecast is not None else None,
        "backtest_error_pct": d.backtest_error.get("error_pct"),
        "warnings": len(d.warnings),
    }
