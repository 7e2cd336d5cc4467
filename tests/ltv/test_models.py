"""The model sections of the lifetime-value report and their gaps: a branch whose data allow
a section gets it, one whose data do not gets one line saying why, and every other section
still shows."""

import json
import shutil
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from funnelkit import ltv
from funnelkit.data.loading import load_tables

ROOT = Path(__file__).resolve().parent.parent.parent
MODEL_VIEWS = ("alive_bands", "base_models", "at_risk", "holdout", "survival_fit", "residual_lifetime")
PROJECTION_VIEWS = ("assumptions", "projection", "scenario", "comparison")


@pytest.fixture(scope="module")
def one_cohort() -> pd.DataFrame:
    """The demo branch's customers acquired in 2006 and all their purchases: one yearly cohort,
    real-shaped (segments, regions, margins), observed for one complete year."""
    params = ltv.Params(branch="杭州分公司")
    tx = load_tables(params, ["transactions"])["transactions"]
    return tx.loc[tx.groupby("customer_id")["date"].transform("min") >= "2006-01-01"]


def analyse(data: pd.DataFrame, **values) -> ltv.Result:
    return ltv.analyse({"transactions": data}, ltv.Params.from_values({"branch": "杭州分公司", **values}))


def test_one_yearly_cohort_projects_with_the_retention_model(one_cohort):
    assert one_cohort["customer_id"].nunique() == 2242 and one_cohort["date"].dt.year.unique().tolist() == [2006]
    result = analyse(one_cohort)
    # no cohort is seen in two years: the retention model, fitted on quarterly cohorts, stands in
    assert result.tenure_rates["retention_rate"].isna().all()
    assert result.survival_model["period"] == "quarter"
    assert result.assumptions["sources"]["retention_rates"] == "model"
    kept = ltv.survival.survival(result.survival_model, [0, 4, 8])
    assert result.assumptions["retention_rates"][:2] == pytest.approx([kept[1] / kept[0], kept[2] / kept[1]])
    assert result.projection["customers"].iloc[0] == 2242
    # the holdout check needs purchases before the last 12 months: a gap, the rest is there
    assert list(result.gaps) == ["holdout"]
    assert result.gaps["holdout"].text("en") == (
        "The model cannot be checked: too few purchases before the last 12 months (0 customers, 0 buying again)."
    )
    assert result.customer_value is not None and len(result.customer_value) == 2242
    zh, en = ltv.findings(result, "zh"), ltv.findings(result, "en")
    assert "the projection takes it from the retention model" in " ".join(en)
    assert "预测表的保持率取自客户保持模型" in "".join(zh)
    assert not any("cannot be computed" in line for line in en)
    assert ltv.key_figures(result)["projection_retention_source"] == "model"


def test_one_yearly_cohort_with_retention_given_by_hand(one_cohort):
    result = analyse(one_cohort, projection={"retention_rates": [0.6, 0.7, 0.75, 0.8, 0.8]})
    assert result.assumptions["sources"]["retention_rates"] == "params"
    assert result.projection["retention_rate"].tolist() == pytest.approx([0.6, 0.7, 0.75, 0.8, 0.8])
    text = " ".join(ltv.findings(result, "en"))
    assert "cannot" not in text and "retention model;" not in text


def test_a_model_that_cannot_give_numbers_is_a_gap_not_nan():
    # the demo's 2005 customers in 2005 alone: the purchase model runs off to every customer buying
    # at one rate, where its closed forms give no number
    params = ltv.Params(branch="杭州分公司")
    tx = load_tables(params, ["transactions"])["transactions"]
    first = tx.groupby("customer_id")["date"].transform("min")
    year = tx.loc[(first >= "2005-01-01") & (tx["date"] < "2006-01-01")]
    result = analyse(year, as_of="2005-12-31")
    assert result.gaps["customer_base"].key == "ltv.gap_model_failed"
    assert result.customer_value is None and ltv.key_figures(result)["customer_value"] is None
    assert result.assumptions["sources"]["retention_rates"] == "model" and result.rfm is not None


def _tiny() -> pd.DataFrame:
    # five customers in one half-year: too few for any model, no complete year for the projection
    rows = [("a", "2006-01-05", 100), ("a", "2006-03-01", 80), ("b", "2006-02-01", 50), ("c", "2006-04-01", 70)]
    rows += [("d", "2006-05-01", 30), ("e", "2006-06-10", 60), ("e", "2006-06-20", 20)]
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).assign(
        date=lambda d: pd.to_datetime(d["date"])
    )


def test_too_little_data_leaves_every_model_section_a_gap_and_the_rest_shows():
    result = analyse(_tiny(), as_of="2006-06-30")
    assert {k: g.key for k, g in result.gaps.items()} == {
        "projection": "ltv.gap_projection_year",
        "customer_base": "ltv.gap_few_repeaters",
        "holdout": "ltv.gap_holdout",
        "retention_model": "ltv.gap_survival",
    }
    assert result.gaps["customer_base"].text("en") == (
        "Too few customers to fit the customer-base model: 2 of 5 customers bought again; "
        "it needs at least 50 customers, 20 of them buying again."
    )
    assert "不足一个完整年度" in result.gaps["projection"].text("zh")
    for name in (*MODEL_VIEWS, *PROJECTION_VIEWS):
        assert getattr(ltv.views, name)(result, "zh") is None, name
    for name in ("projection_chart", "holdout_chart", "survival_chart"):
        assert getattr(ltv.plots, name)(result, lang="zh") is None, name
    for note in ("base_note", "at_risk_note", "holdout_note", "survival_note"):
        assert getattr(ltv, note)(result, "en") == ""
    # the sections the data allow: cohorts, lifecycle, churn, RFM, the calculator
    assert len(result.retention) == 1 and len(result.rfm) == 5 and len(result.lifecycle) == 4
    assert set(ltv.Result.SAVED) - set(result.tables()) == {
        "ltv_projection",
        "ltv_projection_scenario",
        "ltv_scenario_comparison",
        "customer_value",
        "alive_bands",
        "at_risk_customers",
        "base_models",
        "holdout_check",
        "retention_model",
        "residual_lifetime",
    }
    figures = ltv.key_figures(result)
    assert figures["ltv_3y"] is None and figures["customer_value"] is None and figures["customers"] == 5
    en = ltv.more_findings(result, "en")  # the model sections are gaps: nothing after the RFM summary
    assert en[-1] == "60.0% of customers bought only once; customers who came back made a median of 1 repeat purchases."


@pytest.mark.e2e
def test_the_notebook_of_a_one_cohort_branch_shows_every_section(one_cohort, tmp_path):
    """The real notebook through the real batch on a branch whose transactions hold one yearly
    cohort and too few months for the check: the report is published, the check's section is
    one line, and the projection says its retention comes from the retention model."""
    from funnelkit.batch.runner import run_batch

    project = tmp_path / "project"
    (project / "params").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "defaults.yaml", project / "params" / "defaults.yaml")
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    (project / "outputs").mkdir()
    one_cohort.assign(date=one_cohort["date"].dt.strftime("%Y-%m-%d")).to_csv(tmp_path / "tx.csv", index=False)
    (project / "params" / "one.yaml").write_text(
        f"branch: 杭州分公司\nlang: en\nfiles:\n  transactions: {tmp_path / 'tx.csv'}\n", encoding="utf-8"
    )
    batch = run_batch(project_root=project, branches=["one"], notebooks=["ltv"], workers=1)
    assert [(r.notebook, r.ok) for r in batch.results] == [("ltv", True)], [r.detail for r in batch.results]
    summary = json.loads((batch.run_dir / "one" / "ltv" / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["sections_not_shown"]) == ["holdout"]
    assert summary["figures"]["projection_retention_source"] == "model" and summary["figures"]["ltv_3y"] is not None
    html = (batch.run_dir / "one" / "ltv.html").read_text(encoding="utf-8")
    assert "The model cannot be checked: too few purchases before the last 12 months" in html
    assert "the projection takes it from the retention model" in html
    for heading in ("Customer-base models", "Valuable customers at risk", "Retention model", "RFM summary"):
        assert heading in html
