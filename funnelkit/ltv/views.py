"""Display tables of the lifetime-value report: ``view(result, lang) -> DataFrame``, one per
table shown.

Each formats a table of :class:`~funnelkit.ltv.Result` for reading (percentages, thousands
separators, blank where a period is not yet observed) with headers and codes in ``lang``; the
tidy tables themselves are what is saved as CSV.

Examples
--------
>>> from funnelkit.ltv import Params, analyse
>>> from funnelkit.data.loading import load_tables
>>> params = Params(branch="杭州分公司")
>>> result = analyse(load_tables(params, ["transactions"]), params)
>>> lifecycle(result, "en").iloc[:, :3].to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
{'Lifecycle stage': ['Exploration', 'Formation', 'Stability', 'Decline'],
 'Customers': ['2,242', '1,474', '331', '3,753'], 'Share': ['28.7%', '18.9%', '4.2%', '48.1%']}
>>> retention(result, "zh").iloc[-1].tolist()
['2006', '2,242', '100.0%', '', '', '']
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from funnelkit.i18n import t

from .analysis import MIX_BY
from .lifecycle import UNKNOWN
from .rfm import UNIT_DAYS, repeat_segments

#: Columns of whole counts: shown without decimals.
COUNTS = {
    "customers",
    "active",
    "cohorts",
    "churned",
    "periods_observed",
    "break_even_period",
    "customers_base",
    "customers_scenario",
    "since_last_days",
    "customer_value",
    "value_per_customer",
    "value_if_active",
    "expected_purchases",
}
#: Valuable customers at risk shown; the CSV has all of them.
AT_RISK_ROWS = 20
#: Columns of years and periods: shown as written, without a thousands separator.
CALENDAR = {"cohort", "period", "year"}


def _label(column: str, lang: str) -> str:
    return t(f"ltv.col_{column}", lang)


#: Figures that are not yuan or counts and keep decimals (everything else is shown whole).
FRACTIONAL = {"orders_per_year": 2, "discount_factor": 4, "mean": 1, "q1": 1, "median": 1, "q3": 1}


def _cell(value, *, percent: bool = False, digits: int = 0) -> str:
    if pd.isna(value):
        return ""
    return f"{value:.1%}" if percent else f"{value:,.{digits}f}"


def _show(
    table: pd.DataFrame, lang: str, *, percent: Iterable[str] = (), digits: dict[str, int] | None = None
) -> pd.DataFrame:
    """``table`` as text with its headers in ``lang``: ``percent`` columns as 12.3%, counts with
    thousands separators, years and periods as written, yuan whole, the :data:`FRACTIONAL`
    figures with their decimals (or ``digits``); blank for a missing value. Period columns
    (``"0"``, ``"1"`` …) keep their name."""
    percent, digits = set(percent), {**dict.fromkeys(COUNTS, 0), **FRACTIONAL, **(digits or {})}
    out = {}
    for column in table.columns:
        values = table[column]
        if column in CALENDAR or not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            shown = values.map(lambda v: "" if pd.isna(v) else str(v))
        else:
            shown = values.map(lambda v, c=column: _cell(v, percent=c in percent, digits=digits.get(c, 0)))
        out[column if column.isdigit() else _label(column, lang)] = shown
    return pd.DataFrame(out, index=table.index).reset_index(drop=True)


def _periods(matrix: pd.DataFrame) -> list[str]:
    """The period columns (``"0"``, ``"1"``, …) of a cohort matrix."""
    return [c for c in matrix.columns if c.isdigit()]


def group_label(group: str, grouping: str, lang: str) -> str:
    """A customer group in ``lang``: a value tier's name, 未知 / Unknown for a group the data
    does not name, else the data's own segment or region."""
    if grouping == "value_tier":
        return t(f"ltv.tier_{group}", lang)
    return t("ltv.group_unknown", lang) if group == UNKNOWN else str(group)


def stage_label(stage: str, lang: str) -> str:
    """A lifecycle stage code (``decline``) in ``lang`` (退化期 / Decline)."""
    return t(f"ltv.stage_{stage}", lang)


def grouping_label(grouping: str, lang: str) -> str:
    """How customers are grouped (``segment``, ``region``, ``value_tier``) in ``lang``."""
    return t(f"ltv.grouping_{grouping}", lang)


def retention(result, lang: str) -> pd.DataFrame:
    """Cohort × period retention (blank: the period is not complete yet)."""
    return _show(result.retention, lang, percent=_periods(result.retention))


def cohort_revenue(result, lang: str) -> pd.DataFrame:
    """Cohort × period revenue in yuan."""
    return _show(result.cohort_revenue, lang, digits=dict.fromkeys(_periods(result.cohort_revenue), 0))


def realised_ltv(result, lang: str) -> pd.DataFrame:
    """Realised LTV per acquired customer of every cohort, period by period."""
    return _show(result.realised_ltv, lang)


def break_even(result, lang: str) -> pd.DataFrame:
    """Per cohort: size, periods observed, latest LTV and the break-even period."""
    return _show(result.break_even, lang)


def tenure_rates(result, lang: str) -> pd.DataFrame:
    """Retention, orders, order value and cost rate by year of tenure (the projection's estimates)."""
    return _show(result.tenure_rates, lang, percent=["retention_rate", "cost_rate"])


def assumptions(result, lang: str) -> pd.DataFrame | None:
    """The projection's inputs as given or estimated, and where each comes from."""
    if result.assumptions is None:
        return None

    def show(value) -> str:
        values = value if isinstance(value, (list, tuple)) else [value]
        return ", ".join(f"{v:,.4g}" if isinstance(v, (int, float)) else str(v) for v in values)

    inputs = {k: v for k, v in result.assumptions.items() if k != "sources"}
    sources = result.assumptions["sources"]
    return pd.DataFrame(
        {
            _label("input", lang): [t(f"ltv.input_{k}", lang) for k in inputs],
            _label("value", lang): [show(v) for v in inputs.values()],
            _label("source", lang): [t(f"ltv.source_{sources.get(k, 'params')}", lang) for k in inputs],
        }
    )


def _projection(table: pd.DataFrame | None, lang: str) -> pd.DataFrame | None:
    if table is None:
        return None
    return _show(table, lang, percent=["retention_rate", "cost_rate"], digits={"customers": 0, "discount_factor": 4})


def projection(result, lang: str) -> pd.DataFrame | None:
    """The LTV projection table, year by year."""
    return _projection(result.projection, lang)


def scenario(result, lang: str) -> pd.DataFrame | None:
    """The projection with every retention rate raised by the scenario's gain."""
    return _projection(result.scenario, lang)


def comparison(result, lang: str) -> pd.DataFrame | None:
    """Base and scenario side by side: customers, LTV and the LTV gained."""
    return None if result.comparison is None else _show(result.comparison, lang)


#: Years of the individual calculator shown (and its last year); the CSV has every year.
CALCULATOR_YEARS = (1, 2, 3, 5, 10)


def calculator(result, lang: str) -> pd.DataFrame:
    """The individual LTV calculator at its milestone years (:data:`CALCULATOR_YEARS` and the
    last): the cumulative value is what changes; twenty equal yearly rows say nothing more."""
    table = result.calculator
    shown = table[table["year"].isin(CALCULATOR_YEARS) | (table["year"] == table["year"].max())]
    return _show(shown, lang)


def lifecycle(result, lang: str) -> pd.DataFrame:
    """Customers, share and profit per customer of each lifecycle stage, in lifecycle order."""
    table = result.lifecycle.assign(stage=result.lifecycle["stage"].astype(str).map(lambda s: stage_label(s, lang)))
    return _show(table, lang, percent=["share"])


def stage_mix(result, lang: str) -> pd.DataFrame:
    """The lifecycle stage mix within each segment."""
    mix = result.stage_mix
    table = mix.assign(
        **{MIX_BY: mix[MIX_BY].map(lambda g: group_label(g, MIX_BY, lang))},
        stage=mix["stage"].astype(str).map(lambda s: stage_label(s, lang)),
    )
    return _show(table, lang, percent=["share"])


def churn(result, lang: str) -> pd.DataFrame:
    """Churn rate of every customer group with its 95% interval; groups too small to judge marked."""
    rows = result.churn
    table = rows.assign(
        grouping=rows["grouping"].map(lambda g: grouping_label(g, lang)),
        group=[group_label(g, by, lang) for g, by in zip(rows["group"], rows["grouping"])],
        too_few=rows["too_few"].map(lambda f: t("common.flag_yes", lang) if f else ""),
    )
    return _show(table, lang, percent=["churn_rate", "churn_rate_low", "churn_rate_high"])


def rfm_overview(result, lang: str) -> pd.DataFrame:
    """Distribution of frequency, recency, T and monetary value, and the share buying once only."""
    table = result.rfm_overview.assign(measure=result.rfm_overview["measure"].map(lambda m: _label(m, lang)))
    return _show(table, lang, percent=["one_time_share"])


def rfm_segments(result, lang: str) -> pd.DataFrame:
    """Customers by how often they came back (:func:`~funnelkit.ltv.rfm.repeat_segments`);
    every customer's row is in ``rfm.csv``."""
    table = repeat_segments(result.rfm)
    table = table.assign(band=table["band"].map(lambda b: t(f"ltv.band_{b}", lang)))
    return _show(table.rename(columns={"band": "repeat_band"}), lang, percent=["share"])


def alive_bands(result, lang: str) -> pd.DataFrame | None:
    """Customers by their chance of still buying: how many, expected purchases and value."""
    if result.alive_bands is None:
        return None
    bands = result.alive_bands
    table = bands.assign(band=bands["band"].map(lambda b: t(f"ltv.band_{b}", lang)))
    return _show(table, lang, percent=["share"])


def base_models(result, lang: str) -> pd.DataFrame | None:
    """The fitted parameters of the two customer-base models, for analysts."""
    if result.base_models is None:
        return None
    fitted = result.base_models
    table = fitted.assign(model=fitted["model"].map(lambda m: t(f"ltv.model_{m}", lang)))
    return _show(table, lang, digits={"value": 3})


def at_risk(result, lang: str) -> pd.DataFrame | None:
    """The most valuable of the customers who may have stopped buying (every one in the CSV)."""
    if result.at_risk is None:
        return None
    rows = result.at_risk.head(AT_RISK_ROWS)
    table = rows.assign(since_last_days=(rows["since_last"] * UNIT_DAYS[result.params.rfm_freq]).round())[
        ["customer_id", "frequency", "since_last_days", "monetary_value", "probability_alive", "value_if_active"]
    ]
    return _show(table, lang, percent=["probability_alive"], digits={"frequency": 0, "monetary_value": 0})


def holdout(result, lang: str) -> pd.DataFrame | None:
    """Actual and predicted purchases per customer in the held-out months, by repeat purchases before."""
    if result.holdout is None:
        return None
    check = result.holdout
    top = int(check["repeat_purchases"].max())

    def group(n: int) -> str:
        if n < 0:
            return t("ltv.repeat_all", lang)
        return t("ltv.repeat_top", lang, n=n) if n == top else str(n)

    return _show(check.assign(repeat_purchases=check["repeat_purchases"].map(group)), lang)


def survival_fit(result, lang: str) -> pd.DataFrame | None:
    """Share of customers still there by period since acquisition: actual, fitted and projected."""
    if result.survival_fit is None:
        return None
    return _show(result.survival_fit, lang, percent=["survival", "fitted", "retention_rate"])


def residual_lifetime(result, lang: str) -> pd.DataFrame | None:
    """Retention into the next period and further periods expected, by periods since acquisition."""
    if result.residual_lifetime is None:
        return None
    return _show(result.residual_lifetime, lang, percent=["retention_rate"])
