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
from .stage_time import slowest_stage


def overall_conversion(result) -> tuple[float, float, float]:
    """First-stage count, last-stage count and their ratio, whole branch, current period."""
    rates = result.stage_rates
    rows = rates[rates["is_total"] & (rates["period"] == result.current)].sort_values("stage_index")
    first, last = rows["count"].iloc[0], rows["count"].iloc[-1]
    return first, last, (last / first if first else np.nan)


def findings(result, lang: str) -> list[str]:
    """3–5 findings with their numbers: the controllable bottleneck with the slowest stage
    before a deal is won, the bottleneck's sized gain, the biggest real year-over-year change,
    what drove the change in last-stage customers with the change of pipeline velocity, and
    the forecast with its range (or, for a counts-only branch, the peer position of the
    bottleneck). Sections the branch cannot show are left out of their finding."""
    lines = (
        _joined(lang, _bottleneck(result, lang), _slowest(result, lang)),
        _gain(result, lang),
        _yoy(result, lang),
        _joined(lang, _driver(result, lang), _velocity(result, lang)),
        _joined(lang, _forecast(result, lang), _forecast_range(result, lang)) or _position(result, lang),
    )
    return [line for line in lines if line][:5]


def _joined(lang: str, *sentences: str | None) -> str | None:
    """Sentences of one finding, in the language's spacing (None when all are missing)."""
    found = [s for s in sentences if s]
    return ("" if lang == "zh" else " ").join(found) or None


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


def _slowest(result, lang: str) -> str | None:
    """The stage before the won stage where finished stays are longest (after it the lead is a
    customer: installation and billing wait on other things than selling)."""
    if not result.has("stage_time"):
        return None
    won = [s.key for s in result.stages].index(result.won_stage)
    top = slowest_stage(result.stage_time.iloc[:won])
    if top is None:
        return None
    return t(
        "funnel.f_slowest",
        lang,
        stage=stage_label(top["stage"], result.stages, lang),
        median=num(top["median_days"]),
        p90=num(top["p90_days"]),
    )


def _velocity(result, lang: str) -> str | None:
    change = result.velocity_change
    if not result.has("velocity_change") or change is None or change.empty:
        return None
    speed = result.velocity.set_index("period")["velocity"]
    before, after = speed[result.previous], speed[result.current]
    top = change.loc[change["contribution"].abs().idxmax()]
    return t(
        "funnel.f_velocity",
        lang,
        previous=result.previous,
        current=result.current,
        before=num(before),
        after=num(after),
        change=num(after - before, sign=True),
        factor=_in_sentence(t(f"funnel.factor_{top['factor']}", lang), lang),
        part=num(top["contribution"], sign=True),
    )


def _in_sentence(label: str, lang: str) -> str:
    """A column label inside an English sentence is not capitalised (“the win rate”)."""
    return label if lang == "zh" else label[:1].lower() + label[1:]


def _forecast_range(result, lang: str) -> str | None:
    if not result.has("forecast_range") or result.forecast_range is None:
        return None
    total = result.forecast_range.iloc[-1]
    cover = result.backtest_coverage
    return t(
        "funnel.f_forecast_range",
        lang,
        months=num(len(result.forecast_range) - 1),
        won=num(total["won_p50"]),
        won_low=num(total["won_p10"]),
        won_high=num(total["won_p90"]),
        amount=num(total["amount_p50"]),
        amount_low=num(total["amount_p10"]),
        amount_high=num(total["amount_p90"]),
        period=result.current,
        covered=num(cover["months"]),
        inside=num(round(cover["won_coverage"] * cover["months"])),
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
        **_timing_figures(result),
    }


def _timing_figures(result) -> dict:
    """Velocity, the slowest stage (its code) and the forecast range for ``summary.json``
    (None where the branch cannot have them)."""
    speed = result.velocity.set_index("period")["velocity"] if result.velocity is not None else {}
    change = result.velocity_change
    split = change is not None and len(change) > 0
    slow = None
    if result.stage_time is not None:
        slow = slowest_stage(result.stage_time.iloc[: [s.key for s in result.stages].index(result.won_stage)])
    total = result.forecast_range.iloc[-1] if result.forecast_range is not None else {}
    return {
        "pipeline_velocity": speed.get(result.current),
        "pipeline_velocity_previous": speed.get(result.previous) if split else None,
        "pipeline_velocity_change": change["contribution"].sum() if split else None,
        "velocity_change_parts": dict(zip(change["factor"], change["contribution"])) if split else None,
        "slowest_stage_key": slow["stage"] if slow is not None else None,
        "slowest_stage_median_days": slow["median_days"] if slow is not None else None,
        **{
            f"forecast_{k}": total.get(k)
            for k in ("won_p10", "won_p50", "won_p90", "amount_p10", "amount_p50", "amount_p90")
        },
        "backtest_coverage": result.backtest_coverage.get("won_coverage"),
        "backtest_amount_coverage": result.backtest_coverage.get("amount_coverage"),
    }
