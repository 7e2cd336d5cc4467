"""The LTV report's written summary, key figures and display labels, all computed from the
results of :mod:`funnelkit.ltv.cohorts`, :mod:`funnelkit.ltv.projection`, :mod:`funnelkit.ltv.lifecycle` and
:mod:`funnelkit.ltv.rfm`. Texts come from ``ltv/messages.yaml``."""

from __future__ import annotations


import pandas as pd

from .cohorts import typical_break_even
from funnelkit.report.formatting import num, pct
from funnelkit.i18n import catalogue, t
from .lifecycle import decline_share, follows_inverted_u
from .projection import ltv_at




def labels(lang: str = "zh") -> dict[str, str]:
    """Display names of every column the LTV tables use (raw names stay in the CSVs' data)."""
    return {key[4:]: texts.get(lang) or texts["zh"] for key, texts in catalogue().items() if key.startswith("ltv.")}


def localise(table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """``table`` with stage, value-tier and source codes shown as words in ``lang``."""
    codes = {"stage", "group", "source"} & set(table.columns)
    out = table.copy()
    for column in codes:
        prefix = "src_" if column == "source" else ""
        out[column] = out[column].astype(str).map(
            lambda v: t(f"ltv.{prefix}{v}", lang) if f"ltv.{prefix}{v}" in catalogue() else v)
    return out


def period_columns(matrix: pd.DataFrame) -> list[str]:
    """The period columns (``"0"``, ``"1"``, …) of a :func:`funnelkit.ltv.cohorts.cohort_matrix`."""
    return [c for c in matrix.columns if c.isdigit()]


def rules_note(rules: dict | None, lang: str = "zh") -> str:
    """The lifecycle stage rules in words, with this run's thresholds."""
    from .lifecycle import check_rules

    rules = check_rules(rules)
    return t("ltv.note_rules", lang, **{**rules, "decline_drop": f"{rules['decline_drop']:.0%}"})


def margin_note(basis: dict[str, int], *, cost_rate: float, lang: str = "zh") -> str:
    """Which margin basis the transactions used (see :func:`funnelkit.ltv.cohorts.with_margin`)."""
    parts = [t(f"ltv.basis_{k}", lang, n=f"{n:,}", rate=f"{cost_rate:.0%}") for k, n in basis.items() if n]
    return t("ltv.note_margin", lang, basis="；".join(parts) if lang == "zh" else "; ".join(parts))


def _retention_findings(rates: pd.DataFrame, lang: str) -> list[str]:
    known = rates.dropna(subset=["retention_rate"])
    if known.empty:
        return [t("ltv.dq_no_retention", lang)]
    out = [t("ltv.f_retention", lang, rate=pct(known["retention_rate"].iloc[0]), cohorts=int(known["cohorts"].iloc[0]))]
    if len(known) >= 2:
        first, last = known["retention_rate"].iloc[0], known["retention_rate"].iloc[-1]
        key = "ltv.f_retention_trend" if last > first else "ltv.f_retention_falls"
        out.append(t(key, lang, first=pct(first), last=pct(last), last_year=int(known["year"].iloc[-1])))
    return out


def ltv_findings(*, rates: pd.DataFrame, breakeven: pd.DataFrame,
                 projection: pd.DataFrame, scenario: pd.DataFrame, gain: float, calculator: pd.DataFrame,
                 stages: pd.DataFrame, summary: pd.DataFrame, churn: pd.DataFrame, rfm: pd.DataFrame,
                 acquisition_cost: float, marketing_cost: float, discount_rate: float, lang: str = "zh") -> list[str]:
    """The written summary at the top of the report, one sentence per section."""
    out = _retention_findings(rates, lang)
    paid = breakeven["break_even_period"].notna().sum()
    costs = {"acq": num(acquisition_cost), "mkt": num(marketing_cost)}
    if paid:
        out.append(t("ltv.f_break_even", lang, **costs, rate=pct(discount_rate), paid=int(paid),
                     period=f"{typical_break_even(breakeven):g}", unpaid=int(len(breakeven) - paid)))
    else:
        out.append(t("ltv.f_no_break_even", lang, **costs))
    years = int(projection["year"].max())
    out.append(t("ltv.f_projection", lang, customers=num(projection["customers"].iloc[0]),
                 ltv3=num(ltv_at(projection, 3)), years=years, ltvn=num(ltv_at(projection, years))))
    base, better = ltv_at(projection, years), ltv_at(scenario, years)
    out.append(t("ltv.f_scenario", lang, gain=f"{gain * 100:g}", years=years, diff=num(better - base),
                 pct=pct((better - base) / abs(base)) if base else "—"))
    out.append(t("ltv.f_calculator", lang, years=len(calculator), total=num(calculator["cumulative_value"].iloc[-1]),
                 undiscounted=num(calculator["profit"].sum())))
    share = summary.set_index("stage")["share"]
    out.append(t("ltv.f_lifecycle", lang, decline=pct(share.get("decline")), stability=pct(share.get("stability"))))
    shape = follows_inverted_u(summary)
    if shape is not None:
        profit = {s: num(v) for s, v in summary.set_index("stage")["profit_per_customer"].items()}
        out.append(t("ltv.f_inverted_u" if shape else "ltv.f_not_inverted_u", lang, **profit))
    judged = churn.loc[~churn["too_few"]] if (~churn["too_few"]).any() else churn
    if len(judged):
        hi, lo = judged.loc[judged["churn_rate"].idxmax()], judged.loc[judged["churn_rate"].idxmin()]
        name = lambda row: t(f"ltv.{row['group']}", lang) if row["grouping"] == "value_tier" else str(row["group"])  # noqa: E731
        out.append(t("ltv.f_churn", lang, grouping=t(f"ltv.{hi['grouping']}", lang), group=name(hi),
                     rate=pct(hi["churn_rate"]), customers=int(hi["customers"]),
                     grouping_low=t(f"ltv.{lo['grouping']}", lang), group_low=name(lo), rate_low=pct(lo["churn_rate"])))
    if len(rfm):
        repeaters = rfm.loc[rfm["frequency"] > 0, "frequency"]
        out.append(t("ltv.f_rfm", lang, one_time=pct(float((rfm["frequency"] == 0).mean())),
                     frequency=f"{repeaters.median():g}" if len(repeaters) else "0"))
    return out


def summary_figures(*, rates: pd.DataFrame, breakeven: pd.DataFrame, projection: pd.DataFrame,
                    scenario: pd.DataFrame, stages: pd.DataFrame, cohort_period: str, as_of) -> dict:
    """The key figures for ``summary.json`` (the leadership index reads them)."""
    known = rates["retention_rate"].dropna()
    years = int(projection["year"].max())
    return {
        "first_year_retention": float(known.iloc[0]) if len(known) else None,
        "ltv_3y": ltv_at(projection, 3),
        "ltv_final": ltv_at(projection, years),
        "ltv_final_scenario": ltv_at(scenario, years),
        "projection_years": years,
        "break_even_period": typical_break_even(breakeven),
        "break_even_unit": cohort_period,  # break_even_period counts cohort periods: year / quarter / month
        "cohorts_broken_even": int(breakeven["break_even_period"].notna().sum()),
        "cohorts": int(len(breakeven)),
        "decline_share": decline_share(stages),
        "customers": int(len(stages)),
        "cohort_period": cohort_period,
        "as_of": pd.Timestamp(as_of).date().isoformat(),
    }
