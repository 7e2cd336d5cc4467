"""The funnel report's written summary (小结), its data-quality warnings and its
``summary.json`` figures, generated from a :class:`~funnelkit.funnel.Result` — never written
by hand. The sentences come from ``messages.yaml`` in the report language.

Examples
--------
>>> from funnelkit.funnel import Params, analyse
>>> from funnelkit.data.loading import load_tables
>>> params = Params(branch="嘉兴分公司", funnel_source="counts")
>>> result = analyse(load_tables(params, ["stage_counts"]), params)
>>> print(findings(result, "en")[0])  # doctest: +NORMALIZE_WHITESPACE
The controllable step most worth fixing is “Potential→Contacted”: 339 customers lost in 2006,
a loss rate of 54.2% (95% CI 50.3%–58.1%).
>>> key_figures(result, "zh")["top_bottleneck"], key_figures(result, "en")["top_bottleneck"]
('潜在客户→接触客户', 'Potential→Contacted')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.i18n import t
from funnelkit.report.formatting import num, pct

from .labels import component_label, stage_label, transition_label


def overall_conversion(result) -> tuple[float, float, float]:
    """First-stage count, last-stage count and their ratio, whole branch, current period."""
    rates = result.stage_rates
    rows = rates[rates["is_total"] & (rates["period"] == result.current)].sort_values("stage_index")
    first, last = rows["count"].iloc[0], rows["count"].iloc[-1]
    return first, last, (last / first if first else np.nan)


def findings(result, lang: str) -> list[str]:
    """3–5 findings with their numbers: the controllable bottleneck, its sized gain, the
    biggest real year-over-year change, what drove the change in last-stage customers, and
    the forecast (or, for a counts-only branch, the peer position of the bottleneck)."""
    lines = (
        _bottleneck(result, lang),
        _gain(result, lang),
        _yoy(result, lang),
        _driver(result, lang),
        _forecast(result, lang) or _position(result, lang),
    )
    return [line for line in lines if line][:5]


def _step(result, key: str, lang: str) -> str:
    return transition_label(key, result.stages, lang)


def _last_stage(result, lang: str) -> str:
    return result.stages[-1].label(lang)


def _bottleneck(result, lang: str) -> str | None:
    top = result.top
    if top is None:
        return None
    return t(
        "funnel.f_bottleneck",
        lang,
        transition=_step(result, top["transition"], lang),
        period=result.current,
        lost=num(top["lost"]),
        loss_rate=pct(top["loss_rate"]),
        loss_low=pct(top["loss_low"]),
        loss_high=pct(top["loss_high"]),
    )


def _gain(result, lang: str) -> str | None:
    top = result.top
    if top is None:
        return None
    step = _step(result, top["transition"], lang)
    if not top["gain_customers"] > 0:
        return t("funnel.f_no_gain", lang, transition=step)
    gain = top["gain_customers"]
    revenue = "" if pd.isna(top["gain_revenue"]) else t("funnel.f_revenue", lang, amount=num(top["gain_revenue"]))
    values = dict(
        transition=step,
        rate=pct(top["rate"]),
        gain=f"{gain:,.1f}" if gain < 10 else num(gain),
        last=_last_stage(result, lang),
        revenue=revenue,
    )
    if top["benchmark"] == "peer_median":
        return t("funnel.f_gain_peer", lang, target=pct(top["peer_median"]), **values)
    return t("funnel.f_gain_best", lang, target=pct(top["best_rate"]), best_period=top["best_period"], **values)


def _yoy(result, lang: str) -> str | None:
    if result.yoy is None or result.yoy.empty:
        return None
    real = result.yoy[result.yoy["significant"].fillna(False).astype(bool)]
    if real.empty:
        return t("funnel.f_no_yoy", lang, previous=result.previous)
    row = real.loc[real["diff"].abs().idxmax()]
    segment = "" if row["is_total"] else (f"{row['segment']} " if lang == "en" else row["segment"])
    return t(
        "funnel.f_yoy",
        lang,
        previous=result.previous,
        segment=segment,
        transition=_step(result, row["transition"], lang),
        before=pct(row["rate_previous"]),
        after=pct(row["rate_current"]),
        diff=f"{row['diff'] * 100:+.1f}pp",
        diff_low=f"{row['diff_low'] * 100:+.1f}pp",
        diff_high=f"{row['diff_high'] * 100:+.1f}pp",
        p=f"{row['p_adjusted']:.3g}",
    )


def _driver(result, lang: str) -> str | None:
    parts = result.decomposition
    whole = None if parts is None or parts.empty else parts[parts["is_total"].astype(bool)]
    if whole is None or whole.empty:
        return None
    top = whole.loc[whole["customers"].abs().idxmax()]
    before, after = top["last_previous"], top["last_current"]
    return t(
        "funnel.f_driver",
        lang,
        last=_last_stage(result, lang),
        before=num(before),
        after=num(after),
        change=num(after - before, sign=True),
        driver=component_label(top["component"], result.stages, lang),
        part=num(top["customers"], sign=True),
    )


def _forecast(result, lang: str) -> str | None:
    if not result.forecasted:
        return None
    error = result.backtest_error
    return t(
        "funnel.f_forecast",
        lang,
        leads=num(result.forecast["leads"].sum()),
        amount=num(result.forecast["expected_amount"].sum()),
        start=result.backtest_start,
        bt_forecast=num(error.get("forecast_amount")),
        bt_actual=num(error.get("actual_amount")),
        bt_error=pct(error.get("error_pct")),
    )


def _position(result, lang: str) -> str | None:
    plot = result.funnel_plot
    own = None if plot is None or plot.empty else plot[plot["is_self"]]
    if own is None or own.empty:
        return None
    return t(
        "funnel.f_peer_position",
        lang,
        transition=_step(result, result.top["transition"], lang),
        position=t(f"funnel.pos_{own['position'].iloc[0]}", lang),
    )


def data_warnings(result, lang: str) -> list[str]:
    """The data-quality warnings shown at the top of the report, one sentence per notice
    (:func:`funnelkit.funnel.analysis.notices`)."""
    return [
        t(
            f"funnel.dq_{notice.kind}",
            lang,
            period=notice.period,
            segment=notice.segment,
            stage=stage_label(notice.stage, result.stages, lang) if isinstance(notice.stage, str) else "",
            expected=_number(notice.expected),
            found=_number(notice.found),
            n=_number(notice.n),
        )
        for notice in result.notices.itertuples()
    ]


def _number(value) -> str:
    return "" if pd.isna(value) else f"{value:,.0f}"


def key_figures(result, lang: str) -> dict:
    """The key figures for ``summary.json`` (the leadership index reads these keys).
    ``top_bottleneck`` is the step's name in the report language (the index translates it
    by ``top_bottleneck_key`` when its language differs)."""
    first, last, overall = overall_conversion(result)
    top = result.top
    get = (lambda k: top[k]) if top is not None else (lambda k: None)
    return {
        "current_period": result.current,
        "funnel_source": result.source,
        "first_stage_count": first,
        "last_stage_count": last,
        "overall_conversion": overall,
        "top_bottleneck": _step(result, top["transition"], lang) if top is not None else None,
        "top_bottleneck_key": get("transition"),
        "top_bottleneck_loss_rate": get("loss_rate"),
        "top_bottleneck_lost": get("lost"),
        "top_bottleneck_gain_customers": get("gain_customers"),
        "top_bottleneck_gain_revenue": get("gain_revenue"),
        "forecast_total": result.forecast["expected_amount"].sum() if result.forecasted else None,
        "backtest_error_pct": result.backtest_error.get("error_pct"),
        "warnings": len(result.notices),
    }
