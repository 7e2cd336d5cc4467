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
The step most worth fixing is “Potential→Contacted”: it converted 45.8% in 2006; at its own
best level of 2004 (48.7%) it would bring about 3 more Effective customers.
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
    """At most five findings in plain words: the step whose fixing is worth most (or that no
    step gains anything), the step losing the most customers when it is another one, with the
    slowest stage before a deal is won beside it, the largest year-over-year change beyond
    chance, what drove the change in last-stage customers with the change of pipeline
    velocity, and the forecast with its range (or, for a counts-only branch, the priority's
    position among the branches). Statistics stay in the sections' tables; sections the
    branch cannot show are left out of their finding."""
    priority, biggest, slowest = _priority(result, lang), _biggest_loss(result, lang), _slowest(result, lang)
    lines = (
        priority if biggest else _joined(lang, priority, slowest),
        _joined(lang, biggest, slowest) if biggest else None,
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


def customers(value: float, lang: str) -> str:
    """A sized number of customers as a reader takes it: whole, "about", never 3.3 people."""
    if not value >= 0.5:
        return t("funnel.under_one", lang)
    return t("funnel.about_n", lang, n=num(value))


def _has_peers(result) -> bool:
    return len(result.peer_median) > 0


def _priority(result, lang: str) -> str | None:
    if result.top is None:
        return None
    top = result.priority
    if top is None:
        return t("funnel.f_no_priority" if _has_peers(result) else "funnel.f_no_priority_alone", lang)
    target = {"peer_median": "peer_median", "peer_top": "peer_top", "own_best": "best_rate"}[top["benchmark"]]
    revenue = "" if pd.isna(top["gain_revenue"]) else t("funnel.f_revenue", lang, amount=num(top["gain_revenue"]))
    return t(
        "funnel.f_priority",
        lang,
        transition=_step(result, top["transition"], lang),
        period=result.current,
        rate=pct(top["rate"]),
        benchmark=t(f"funnel.bench_{top['benchmark']}", lang, period=top["best_period"]),
        target=pct(top[target]),
        gain=customers(top["gain_customers"], lang),
        last=_last_stage(result, lang),
        revenue=revenue,
    )


def _biggest_loss(result, lang: str) -> str | None:
    """The controllable step losing the most customers, when it is not the priority: a reader
    looks there first, so the summary says why it is not where the gain is."""
    ranked = result.bottlenecks
    if ranked.empty or not (ranked["score"] > 0).any():
        return None
    loss = ranked.loc[ranked["score"].idxmax()]
    priority = result.priority
    if priority is not None and loss["transition"] == priority["transition"]:
        return None
    key = "funnel.f_biggest_loss" if _has_peers(result) else "funnel.f_biggest_loss_alone"
    if loss["priority_gain"] > 0:
        key = "funnel.f_biggest_loss_smaller"
    return t(
        key,
        lang,
        transition=_step(result, loss["transition"], lang),
        period=result.current,
        lost=num(loss["lost"]),
        gain=customers(loss["gain_customers"], lang),
    )


def _yoy(result, lang: str) -> str | None:
    if result.yoy is None or result.yoy.empty:
        return None
    real = result.yoy[result.yoy["significant"].fillna(False).astype(bool)]
    if real.empty:
        return t("funnel.f_no_yoy", lang, previous=result.previous)
    row = real.loc[real["diff"].abs().idxmax()]
    segment = "" if row["is_total"] else (f"{row['segment']} " if lang == "en" else row["segment"])
    return t(
        "funnel.f_yoy_up" if row["diff"] > 0 else "funnel.f_yoy_down",
        lang,
        previous=result.previous,
        segment=segment,
        transition=_step(result, row["transition"], lang),
        before=pct(row["rate_previous"]),
        after=pct(row["rate_current"]),
        points=f"{abs(row['diff']) * 100:.1f}",
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
    leads, amount = num(result.forecast["leads"].sum()), num(result.forecast["expected_amount"].sum())
    if not result.has("backtest"):
        return t("funnel.f_forecast_untested", lang, leads=leads, amount=amount)
    return t(
        "funnel.f_forecast",
        lang,
        leads=leads,
        amount=amount,
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
    values = {
        "months": num(len(result.forecast_range) - 1),
        "won": num(total["won_p50"]),
        "won_low": num(total["won_p10"]),
        "won_high": num(total["won_p90"]),
        "amount": num(total["amount_p50"]),
        "amount_low": num(total["amount_p10"]),
        "amount_high": num(total["amount_p90"]),
    }
    if not result.has("backtest"):
        return t("funnel.f_forecast_range_untested", lang, **values)
    cover = result.backtest_coverage
    return t(
        "funnel.f_forecast_range",
        lang,
        **values,
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


def conversion_benchmark(result) -> tuple[float | None, str | None]:
    """What the overall conversion is judged against, and on what basis: the target from the
    params (``target``), else the company's pooled rate over every branch in the data
    (``company``); (None, None) without either."""
    if result.conversion_target > 0:
        return float(result.conversion_target), "target"
    if pd.notna(result.company_conversion):
        return float(result.company_conversion), "company"
    return None, None


def key_figures(result, lang: str) -> dict:
    """The key figures for ``summary.json`` (the leadership index reads these keys).
    ``top_bottleneck`` is the priority step's name in the report language (the index
    translates it by ``top_bottleneck_key`` when its language differs), None with
    ``priority_found`` False when no step has a gain; ``overall_conversion_benchmark`` and
    ``overall_conversion_basis`` what the conversion's light compares it with
    (:func:`conversion_benchmark`)."""
    first, last, overall = overall_conversion(result)
    benchmark, basis = conversion_benchmark(result)
    top = result.priority
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
        "top_bottleneck_benchmark": get("benchmark"),
        "priority_found": top is not None,
        "overall_conversion_benchmark": benchmark,
        "overall_conversion_basis": basis,
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
