"""Views, findings, notes, key figures and charts of the lifetime-value report: words only
there, from one language-free result."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure

from funnelkit import ltv
from funnelkit.data.loading import load_tables
from funnelkit.ltv.rfm import repeat_segments
from funnelkit.report.style import use_report_style

VIEWS = (
    "retention",
    "cohort_revenue",
    "realised_ltv",
    "break_even",
    "tenure_rates",
    "assumptions",
    "projection",
    "scenario",
    "comparison",
    "calculator",
    "lifecycle",
    "stage_mix",
    "churn",
    "rfm_overview",
    "rfm_segments",
    "alive_bands",
    "base_models",
    "at_risk",
    "holdout",
    "survival_fit",
    "residual_lifetime",
)
PLOTS = (
    "ltv_curves",
    "projection_chart",
    "stage_profit",
    "stage_mix",
    "churn_by_group",
    "holdout_chart",
    "survival_chart",
)
NOTES = (
    "margin_note",
    "blank_cells_note",
    "calculator_note",
    "rules_note",
    "churn_note",
    "rfm_note",
    "base_note",
    "at_risk_note",
    "holdout_note",
    "survival_note",
)
KEY_FIGURES = {
    "first_year_retention",
    "ltv_3y",
    "ltv_3y_target",
    "ltv_final",
    "ltv_final_scenario",
    "projection_years",
    "break_even_period",
    "break_even_unit",
    "cohorts_broken_even",
    "cohorts",
    "decline_share",
    "customers",
    "cohort_period",
    "as_of",
    "projection_retention_source",
    "mean_probability_alive",
    "expected_purchases",
    "customer_value",
    "at_risk_customers",
    "at_risk_value",
    "holdout_error",
    "retention_model_period",
}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _report_style():
    use_report_style()  # the CJK font, as in a report: segment and region names stay Chinese in English
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def result():
    params = ltv.Params(branch="杭州分公司")
    return ltv.analyse(load_tables(params, ["transactions"]), params)


def test_computation_is_language_free(result):
    """The same tables whatever the report language: analyse never reads ``lang``."""
    params = ltv.Params(branch="杭州分公司", lang="en")
    english = ltv.analyse(load_tables(params, ["transactions"]), params)
    for name, table in result.tables().items():
        pd.testing.assert_frame_equal(table, english.tables()[name], obj=name)
    assert ltv.key_figures(result) == ltv.key_figures(english)


@pytest.mark.parametrize("name", VIEWS)
def test_every_view_in_both_languages_from_one_result(result, name):
    zh, en = getattr(ltv.views, name)(result, "zh"), getattr(ltv.views, name)(result, "en")
    assert len(zh) == len(en) > 0 and zh.shape == en.shape
    assert not any(CHINESE.search(str(c)) for c in en.columns), list(en.columns)
    assert any(CHINESE.search(str(c)) for c in zh.columns) or name in ("rfm_segments",)


def test_views_show_words_for_codes(result):
    assert ltv.views.lifecycle(result, "zh")["生命周期阶段"].tolist() == ["考察期", "形成期", "稳定期", "退化期"]
    churn = ltv.views.churn(result, "en")
    assert churn["Grouping"].unique().tolist() == ["Segment", "Region", "Value tier"]
    tiers = churn.loc[churn["Grouping"] == "Value tier", "Group"].tolist()
    assert tiers == ["High value (top 20%)", "Low value (bottom 50%)", "Mid value (20–50%)"]
    sources = ltv.views.assumptions(result, "zh").set_index("假设项")["来源"]
    assert sources["预测年数"] == "参数" and sources["逐年保持率"] == "由本分公司客户群估计"
    assert sources["获客成本（元/人）"] == "通用参数"
    assert not [w for w in ltv.views.assumptions(result, "zh")["假设项"] if re.search(r"[A-Za-z_]", w)]
    # a period not yet complete is blank, not 0; counts keep no decimals, rates are percentages
    assert ltv.views.retention(result, "en").iloc[-1].tolist() == ["2006", "2,242", "100.0%", "", "", ""]
    assert ltv.views.break_even(result, "en")["Break-even period"].tolist() == ["1", "1", "1", ""]
    segments = ltv.views.rfm_segments(result, "zh")
    assert segments.iloc[:, 0].tolist() == ["只购买一次", "复购1–2次", "复购3–5次", "复购6次及以上"]
    counts = repeat_segments(result.rfm)["customers"]
    assert counts.sum() == len(result.rfm) and counts.iloc[0] == (result.rfm["frequency"] == 0).sum()


def test_findings_in_both_languages_from_one_result(result):
    zh, en = ltv.findings(result, "zh"), ltv.findings(result, "en")
    assert len(zh) == len(en) == 5
    # the rest: past the summary's length, the retention trend, calculator, lifecycle, RFM, the models' check
    assert len(ltv.more_findings(result, "zh")) == len(ltv.more_findings(result, "en")) == 9
    assert zh[0] == "首年保持率为59.5%（获客次年仍有购买的客户占比，按3个获客年合计）。"
    assert en[0] == (
        "First-year retention is 59.5% (share of customers still buying the year after acquisition, "
        "over 3 acquisition years)."
    )
    assert en[4].startswith("338 valuable customers may have stopped buying")
    assert ltv.more_findings(result, "en")[1] == (
        "The highest churn is in Value tier “Low value (bottom 50%)” (72.4%, 2779 customers), "
        "the lowest in Value tier “High value (top 20%)” (29.2%)."
    )
    assert not any(CHINESE.search(line) for line in en)


def test_notes_carry_this_runs_numbers(result):
    assert ltv.margin_note(result, "zh") == "利润口径：36,646笔交易用数据中的毛利。"
    assert ltv.blank_cells_note(result, "en") == "Blank cells are periods not yet complete by 2006-12-31, not zeros."
    assert "100 yuan profit per purchase × 2 purchases per period × 12 periods" in ltv.calculator_note(result, "en")
    assert "下降30%及以上为退化期" in ltv.rules_note(result, "zh")
    assert ltv.churn_note(result, "en").startswith("Churned: no purchase in the last 12 months")
    assert "repeat purchase days" in ltv.rfm_note(result, "en")
    for note in NOTES:
        assert not CHINESE.search(getattr(ltv, note)(result, "en"))


def test_key_figures_are_the_released_ones(result):
    figures = ltv.key_figures(result)
    assert set(figures) == KEY_FIGURES
    assert figures["first_year_retention"] == pytest.approx(0.5946383591219864)
    assert figures["ltv_final"] == pytest.approx(1113.6817517795464)
    assert (figures["customers"], figures["cohorts"], figures["as_of"]) == (7800, 4, "2006-12-31")


def test_a_margin_from_the_cost_rate_is_named_with_its_rate():
    tx = pd.DataFrame(
        {"customer_id": ["a", "b"], "date": pd.to_datetime(["2005-01-01", "2006-01-01"]), "amount": [100.0, 50.0]}
    )
    params = ltv.Params.from_values({"branch": "测试分公司", "cost_rate": 0.6, "projection": {"retention_rates": 0.5}})
    result = ltv.analyse({"transactions": tx}, params)
    assert ltv.margin_note(result, "en") == "Margin basis: 2 transactions use amount × (1 − cost rate 60%)."
    assert result.realised_ltv["margin_per_customer"].iloc[0] == pytest.approx(40.0)


@pytest.mark.parametrize("name", PLOTS)
def test_every_chart_returns_its_figure_in_the_language(result, name):
    figure = getattr(ltv.plots, name)(result, lang="en")
    assert isinstance(figure, Figure)
    texts = [text.get_text() for ax in figure.axes for text in (ax.title, ax.xaxis.label, ax.yaxis.label)]
    texts.append(figure._suptitle.get_text() if figure._suptitle else "")
    assert any(texts) and not any(CHINESE.search(text) for text in texts), texts


@pytest.mark.parametrize("value", ["retention", "revenue"])
def test_cohort_heatmaps(result, value):
    figure = ltv.plots.cohort_heatmap(result, value=value, lang="en")
    assert isinstance(figure, Figure)
    title = figure.axes[0].get_title()
    assert title == {"retention": "Retention by acquisition cohort", "revenue": "Revenue by acquisition cohort"}[
        value
    ] + ("" if value == "retention" else " (thousand yuan)")
    with pytest.raises(ValueError, match="retention' or 'revenue'"):
        ltv.plots.cohort_heatmap(result, value="margin")


def test_a_chart_draws_on_the_axes_it_is_given(result):
    fig, ax = plt.subplots()
    assert ltv.plots.stage_profit(result, lang="zh", ax=ax) is fig
    assert [label.get_text() for label in ax.get_xticklabels()] == ["考察期", "形成期", "稳定期", "退化期"]
