"""The lifetime-value report's written summary (小结), the notes that carry this run's numbers,
and its ``summary.json`` figures, generated from a :class:`~funnelkit.ltv.Result` — never
written by hand. The sentences come from ``messages.yaml`` in the report language.

Examples
--------
>>> from funnelkit.ltv import Params, analyse
>>> from funnelkit.data.loading import load_tables
>>> params = Params(branch="杭州分公司")
>>> result = analyse(load_tables(params, ["transactions"]), params)
>>> print(findings(result, "en")[2])
Projection: for 1,950 new customers, the 3-year LTV is 666 yuan each and the 5-year LTV 1,114 yuan.
>>> key_figures(result)["ltv_3y"]
666.4000706045528
"""

from __future__ import annotations

from funnelkit.i18n import t
from funnelkit.report.formatting import num, pct

from .cohorts import typical_break_even
from .lifecycle import decline_share, follows_inverted_u
from .projection import ltv_at
from .views import AT_RISK_ROWS, group_label, grouping_label

#: Bullets of the summary at most: what a manager reads in a minute.
SUMMARY_LENGTH = 5


def findings(result, lang: str) -> list[str]:
    """The summary at the top of the report, at most :data:`SUMMARY_LENGTH` bullets:
    first-year retention, break-even, the projection and the value of higher retention, the
    valuable customers at risk, churn by customer group (:func:`more_findings` holds the rest;
    a section the branch's data do not allow is left out, its gap shows in its place)."""
    return _headline(result, lang)[:SUMMARY_LENGTH]


def _headline(result, lang: str) -> list[str]:
    """The summary's findings in order of importance (the summary takes the first)."""
    found = [
        *_retention(result, lang)[:1],
        _break_even(result, lang),
        *_projection(result, lang),
        *_customer_base(result, lang),
        *_churn(result, lang),
    ]
    return [text for text in found if text]


def more_findings(result, lang: str) -> list[str]:
    """The findings the summary leaves out: those past its length, the retention trend, the
    calculator, lifecycle stages and their profit, the RFM summary, the check of the
    customer-base models on held-out months and the retention model."""
    found = [
        *_headline(result, lang)[SUMMARY_LENGTH:],
        *_retention(result, lang)[1:],
        _calculator(result, lang),
        *_lifecycle(result, lang),
        *_rfm(result, lang),
        *_holdout(result, lang),
        *_survival(result, lang),
    ]
    return [text for text in found if text]


def _retention(result, lang: str) -> list[str]:
    known = result.tenure_rates.dropna(subset=["retention_rate"])
    if known.empty:
        # the projection says where its retention came from, or its gap why there is none
        return []
    first = known["retention_rate"].iloc[0]
    out = [t("ltv.f_retention", lang, rate=pct(first), cohorts=int(known["cohorts"].iloc[0]))]
    if len(known) >= 2:
        last = known["retention_rate"].iloc[-1]
        key = "ltv.f_retention_trend" if last > first else "ltv.f_retention_falls"
        out.append(t(key, lang, first=pct(first), last=pct(last), last_year=int(known["year"].iloc[-1])))
    return out


def _break_even(result, lang: str) -> str:
    table, params = result.break_even, result.params
    paid = int(table["break_even_period"].notna().sum())
    costs = {"acq": num(params.acquisition_cost), "mkt": num(params.marketing_cost_per_customer)}
    if not paid:
        return t("ltv.f_no_break_even", lang, **costs)
    return t(
        "ltv.f_break_even",
        lang,
        **costs,
        rate=pct(params.discount_rate),
        paid=paid,
        period=f"{typical_break_even(table):g}",
        unpaid=int(len(table) - paid),
    )


def _projection(result, lang: str) -> list[str]:
    if not result.has("projection"):
        return []
    base, years = result.projection, int(result.projection["year"].max())
    gain = result.params.scenario_retention_gain
    now, better = ltv_at(base, years), ltv_at(result.scenario, years)
    modelled = []
    if result.assumptions["sources"].get("retention_rates") == "model":
        by = t(f"ltv.by_{result.survival_model['period']}", lang)
        modelled.append(t("ltv.f_retention_model", lang, by=by))
    return [
        *modelled,
        t(
            "ltv.f_projection",
            lang,
            customers=num(base["customers"].iloc[0]),
            ltv3=num(ltv_at(base, 3)),
            years=years,
            ltvn=num(now),
        ),
        t(
            "ltv.f_scenario",
            lang,
            gain=f"{gain * 100:g}",
            years=years,
            diff=num(better - now),
            pct=pct((better - now) / abs(now)) if now else "—",
        ),
    ]


def _calculator(result, lang: str) -> str:
    table = result.calculator
    return t(
        "ltv.f_calculator",
        lang,
        years=len(table),
        total=num(table["cumulative_value"].iloc[-1]),
        undiscounted=num(table["profit"].sum()),
    )


def _lifecycle(result, lang: str) -> list[str]:
    summary = result.lifecycle.assign(stage=result.lifecycle["stage"].astype(str)).set_index("stage")
    share = summary["share"]
    out = [t("ltv.f_lifecycle", lang, decline=pct(share.get("decline")), stability=pct(share.get("stability")))]
    shape = follows_inverted_u(result.lifecycle)
    if shape is not None:
        profit = {stage: num(value) for stage, value in summary["profit_per_customer"].items()}
        out.append(t("ltv.f_inverted_u" if shape else "ltv.f_not_inverted_u", lang, **profit))
    return out


def _churn(result, lang: str) -> list[str]:
    churn = result.churn
    # groups too small to judge are left out, unless no group is large enough
    judged = churn.loc[~churn["too_few"]] if (~churn["too_few"]).any() else churn
    if judged.empty:
        return []
    hi, lo = judged.loc[judged["churn_rate"].idxmax()], judged.loc[judged["churn_rate"].idxmin()]
    return [
        t(
            "ltv.f_churn",
            lang,
            grouping=grouping_label(hi["grouping"], lang),
            group=group_label(hi["group"], hi["grouping"], lang),
            rate=pct(hi["churn_rate"]),
            customers=int(hi["customers"]),
            grouping_low=grouping_label(lo["grouping"], lang),
            group_low=group_label(lo["group"], lo["grouping"], lang),
            rate_low=pct(lo["churn_rate"]),
        )
    ]


def _rfm(result, lang: str) -> list[str]:
    rfm = result.rfm
    if rfm.empty:
        return []
    repeaters = rfm.loc[rfm["frequency"] > 0, "frequency"]
    return [
        t(
            "ltv.f_rfm",
            lang,
            one_time=pct(float((rfm["frequency"] == 0).mean())),
            frequency=f"{repeaters.median():g}" if len(repeaters) else "0",
        )
    ]


def _customer_base(result, lang: str) -> list[str]:
    if not result.has("customer_base"):
        return []
    params, customers = result.params, result.customer_value
    months = {"months": params.forecast_months, "value_months": params.value_months}
    out = [
        t(
            "ltv.f_base",
            lang,
            **months,
            alive=pct(float(customers["probability_alive"].mean())),
            purchases=num(customers["expected_purchases"].sum()),
            value=num(customers["customer_value"].sum()),
        )
    ]
    if len(result.at_risk):
        value = num(result.at_risk["value_if_active"].sum())
        # the valuable customers at risk first: the finding a manager can act on
        out.insert(0, t("ltv.f_at_risk", lang, **months, n=len(result.at_risk), value=value))
    return out


def _holdout(result, lang: str) -> list[str]:
    if not result.has("holdout"):
        return []
    total = result.holdout.loc[result.holdout["repeat_purchases"] == -1].iloc[0]
    predicted, actual = total["predicted"] * total["customers"], total["actual"] * total["customers"]
    error = result.holdout_error["total_error"]
    return [
        t(
            "ltv.f_holdout_over" if error > 0 else "ltv.f_holdout_under",
            lang,
            months=result.params.holdout_months,
            predicted=num(predicted),
            actual=num(actual),
            error=pct(abs(error)),
        )
    ]


def _survival(result, lang: str) -> list[str]:
    if not result.has("retention_model"):
        return []
    curve = result.survival_fit.dropna(subset=["retention_rate"])
    later = curve.iloc[min(4, len(curve) - 1)]
    return [
        t(
            "ltv.f_survival",
            lang,
            grain=t(f"ltv.grain_{result.survival_model['period']}", lang),
            by=t(f"ltv.by_{result.survival_model['period']}", lang),
            first=pct(curve["retention_rate"].iloc[0]),
            n=int(later["period"]),
            later=pct(later["retention_rate"]),
        )
    ]


def key_figures(result) -> dict:
    """The key figures for ``summary.json`` (the leadership index reads ``ltv_3y``); a figure
    of a section the branch's data do not allow is None. The index also reads ``ltv_3y_target``
    (None when the params set no target)."""
    known = result.tenure_rates["retention_rate"].dropna()
    period = result.params.cohort_period
    projected = result.has("projection")
    years = int(result.projection["year"].max()) if projected else None
    customers, at_risk = result.customer_value, result.at_risk
    return {
        "first_year_retention": float(known.iloc[0]) if len(known) else None,
        "ltv_3y": ltv_at(result.projection, 3) if projected else None,
        "ltv_3y_target": result.params.ltv_3y_target or None,
        "ltv_final": ltv_at(result.projection, years) if projected else None,
        "ltv_final_scenario": ltv_at(result.scenario, years) if projected else None,
        "projection_years": years,
        "projection_retention_source": result.assumptions["sources"]["retention_rates"] if projected else None,
        "break_even_period": typical_break_even(result.break_even),
        "break_even_unit": period,  # break_even_period counts cohort periods: year / quarter / month
        "cohorts_broken_even": int(result.break_even["break_even_period"].notna().sum()),
        "cohorts": int(len(result.break_even)),
        "decline_share": decline_share(result.customers),
        "customers": int(len(result.customers)),
        "cohort_period": period,
        "as_of": result.as_of,
        "mean_probability_alive": float(customers["probability_alive"].mean()) if customers is not None else None,
        "expected_purchases": float(customers["expected_purchases"].sum()) if customers is not None else None,
        "customer_value": float(customers["customer_value"].sum()) if customers is not None else None,
        "at_risk_customers": int(len(at_risk)) if at_risk is not None else None,
        "at_risk_value": float(at_risk["value_if_active"].sum()) if at_risk is not None else None,
        "holdout_error": result.holdout_error["total_error"] if result.holdout_error else None,
        "retention_model_period": result.survival_model["period"] if result.survival_model else None,
    }


# -- notes: sentences with this run's numbers, shown in their sections ------------------------


def margin_note(result, lang: str) -> str:
    """Which margin basis the transactions used (see :func:`funnelkit.ltv.cohorts.with_margin`)."""
    rate = f"{result.params.cost_rate:.0%}"
    parts = [t(f"ltv.basis_{k}", lang, n=f"{n:,}", rate=rate) for k, n in result.margin_basis.items() if n]
    return t("ltv.note_margin", lang, basis=("；" if lang == "zh" else "; ").join(parts))


def blank_cells_note(result, lang: str) -> str:
    """Why some cohort cells are blank: the period is not complete by the as-of date."""
    return t("ltv.note_blank", lang, as_of=result.as_of)


def calculator_note(result, lang: str) -> str:
    """The individual LTV calculator's formula with this run's inputs."""
    params = result.params
    return t(
        "ltv.note_calculator",
        lang,
        profit=f"{params.profit_per_purchase:,.0f}",
        purchases=f"{params.purchases_per_period:g}",
        periods=params.periods_per_year,
        years=params.expected_years,
        rate=f"{params.calculator_discount_rate:.1%}",
    )


def rules_note(result, lang: str) -> str:
    """The lifecycle stage rules in words, with this run's thresholds."""
    rules = result.params.rules()
    return t("ltv.note_rules", lang, **{**rules, "decline_drop": f"{rules['decline_drop']:.0%}"})


def churn_note(result, lang: str) -> str:
    """What churned means in this run (months without a purchase)."""
    return t("ltv.note_churn", lang, months=result.params.churn_months)


def rfm_note(result, lang: str) -> str:
    """How the RFM columns are defined, in this run's time unit."""
    return t("ltv.note_rfm", lang, unit=t(f"ltv.unit_{result.params.rfm_freq}", lang))


def base_note(result, lang: str) -> str:
    """What customer value and expected purchases cover in this run ("" without the models)."""
    if not result.has("customer_base"):
        return ""
    params = result.params
    return t(
        "ltv.note_base",
        lang,
        value_months=params.value_months,
        months=params.forecast_months,
        margin=pct(result.margin_rate),
        rate=pct(params.discount_rate),
    )


def at_risk_note(result, lang: str) -> str:
    """Who counts as a valuable customer at risk in this run ("" without the models)."""
    if not result.has("customer_base"):
        return ""
    params = result.params
    return t(
        "ltv.note_at_risk",
        lang,
        alive=f"{params.at_risk_alive:.0%}",
        top=f"{params.at_risk_top_share:.0%}",
        rows=min(AT_RISK_ROWS, len(result.at_risk)),
    )


def holdout_note(result, lang: str) -> str:
    """How the purchase model is checked in this run ("" without the check)."""
    return t("ltv.note_holdout", lang, months=result.params.holdout_months) if result.has("holdout") else ""


def survival_note(result, lang: str) -> str:
    """How the retention model counts survivors, at the grain it was fitted ("" without it)."""
    if not result.has("retention_model"):
        return ""
    period = result.survival_model["period"]
    grain, by = t(f"ltv.grain_{period}", lang), t(f"ltv.by_{period}", lang)
    return t("ltv.note_survival", lang, grain=grain, by=by, periods=int(result.survival_fit["period"].max()))
