"""The whole lifetime-value analysis: on a small hand-made log, and on the demo data."""

import pandas as pd
import pytest

from funnelkit.data.loading import load_tables
from funnelkit.exceptions import FunnelkitError
from funnelkit.ltv import Params, Result, analyse
from funnelkit.ltv.lifecycle import STAGES


def _log() -> pd.DataFrame:
    # two yearly cohorts; 2004: a, b, c (b buys again in 2005, a in 2005 and 2006); 2005: d, e (d in 2006);
    # margin 50% of the amount; segments 商企 (a, b, d) and 住宅 (c, e), no region
    rows = [
        ("a", "2004-02-01", 100, "商企"),
        ("b", "2004-06-01", 100, "商企"),
        ("c", "2004-09-01", 100, "住宅"),
        ("a", "2005-03-01", 200, "商企"),
        ("b", "2005-04-01", 200, "商企"),
        ("d", "2005-05-01", 100, "商企"),
        ("e", "2005-07-01", 100, "住宅"),
        ("a", "2006-03-01", 300, "商企"),
        ("d", "2006-02-01", 200, "商企"),
    ]
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount", "segment"]).assign(
        date=lambda d: pd.to_datetime(d["date"]), margin=lambda d: d["amount"] * 0.5
    )


def small(**values) -> Result:
    params = Params.from_values({"branch": "测试分公司", "as_of": "2006-12-31", **values})
    return analyse({"transactions": _log()}, params)


def test_a_small_log_by_hand():
    result = small(projection={"years": 3, "initial_customers": 100})
    assert (result.period, result.as_of) == ("2004-02 – 2006-12", "2006-12-31")
    assert result.margin_basis == {"margin": 9}
    # retention by cohort: 2004 keeps 2 of 3 in 2005 and 1 in 2006; 2005 keeps 1 of 2 in 2006
    retention = result.retention.set_index("cohort")
    assert retention.loc["2004", ["0", "1", "2"]].tolist() == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert retention.loc["2005", ["0", "1"]].tolist() == pytest.approx([1.0, 0.5])
    # the projection: 100 given customers, pooled retention 3/5 then 1/2 (tenure_rates) → 100, 60, 30
    assert result.projection["customers"].tolist() == pytest.approx([100, 60, 30])
    assert result.assumptions["sources"]["initial_customers"] == "params"
    assert result.assumptions["sources"]["retention_rates"] == "estimated"
    # the scenario adds 5 points: 100, 65, 35.75
    assert result.scenario["customers"].tolist() == pytest.approx([100, 65, 35.75])
    # profit per customer and year (orders × value × (1 − cost rate) − 100 yuan marketing): year 2 one order
    # of 200 at cost rate 0.5 → 0; year 3 one order of 300 → 50, discounted by 1.1² → the gain per initial
    # customer is (35.75 − 30) × 50 / 1.21 / 100 = 2.376033
    assert result.comparison["ltv_gain"].tolist() == pytest.approx([0, 0, 2.376033], abs=1e-6)
    # 100 yuan × 2 × 12 × 20 years
    assert result.calculator["cumulative_value"].iloc[-1] == pytest.approx(48_000)


def test_tables_speak_in_codes():
    result = small()
    assert result.lifecycle["stage"].astype(str).tolist() == list(STAGES)
    assert set(result.stage_mix["stage"].astype(str)) == set(STAGES)
    churn = result.churn
    assert set(churn["grouping"]) == {"segment", "region", "value_tier"}
    # the log has no region: its customers are one group, the code unknown
    assert churn.loc[churn["grouping"] == "region", "group"].tolist() == ["unknown"]
    assert set(churn.loc[churn["grouping"] == "value_tier", "group"]) <= {"high_value", "mid_value", "low_value"}


def test_parameters_reach_the_computation():
    quarterly = small(cohort_period="quarter", rfm_freq="W", churn_months=24)
    assert quarterly.retention["cohort"].tolist()[:2] == ["2004Q1", "2004Q2"]
    # a: first purchase 2004-02-01 (week of 2004-01-26), last 2006-03-01 (week of 2006-02-27): 109 weeks
    assert quarterly.rfm.set_index("customer_id").loc["a", "recency"] == 109
    # 24 months before 2006-12-31: only the 2004 cohort (a, b, c) is old enough to count
    assert quarterly.churn.loc[quarterly.churn["grouping"] == "segment", "customers"].sum() == 3
    assert small(cost_rate=0.9).margin_basis == {"margin": 9}  # the data's margin wins over the rate


def test_no_transactions_is_a_clear_error():
    params = Params(branch="测试分公司", segment="校园")
    with pytest.raises(FunnelkitError, match="测试分公司 has no transactions matching the filters"):
        analyse({"transactions": _log().iloc[:0]}, params)
    with pytest.raises(FunnelkitError, match="has no transactions: the lifetime-value report"):
        analyse({"transactions": None}, Params(branch="测试分公司"))


def test_a_projection_that_cannot_be_made_is_a_gap_and_the_rest_still_shows():
    # on 30 June 2005 only the 2004 cohort's first year is complete: no retention to measure,
    # and three customers are too few for the retention model
    result = small(as_of="2005-06-30")
    assert result.gaps["projection"].key == "ltv.gap_projection_retention"
    assert (result.projection, result.scenario, result.comparison, result.assumptions) == (None,) * 4
    assert "no cohort is observed over two complete years" in result.gaps["projection"].text("en")
    assert result.retention["cohort"].tolist() == ["2004", "2005"] and len(result.lifecycle) == 4
    assert len(result.rfm) == 4 and len(result.churn) and len(result.calculator) == 20  # e comes after


def test_retention_given_by_hand_makes_the_projection():
    result = small(as_of="2005-06-30", projection={"retention_rates": 0.5})
    assert "projection" not in result.gaps
    assert result.assumptions["sources"]["retention_rates"] == "params"
    assert result.projection["customers"].tolist() == pytest.approx([3, 1.5, 0.75, 0.375, 0.1875])


@pytest.fixture(scope="module")
def hangzhou() -> Result:
    params = Params(branch="杭州分公司")
    return analyse(load_tables(params, ["transactions"], required=["transactions"]), params)


def test_demo_branch_every_saved_table_is_there(hangzhou):
    tables = hangzhou.tables()
    assert list(tables) == list(Result.SAVED)
    assert all(len(table) for table in tables.values()), [n for n, t in tables.items() if t.empty]
    assert len(tables["rfm"]) == len(hangzhou.customers) == 7800


def test_demo_branch_figures(hangzhou):
    # the figures of the report before its tables moved into a Result (outputs of the previous release)
    assert hangzhou.tenure_rates["retention_rate"].iloc[0] == pytest.approx(0.5946383591219864)
    assert hangzhou.projection["ltv"].iloc[2] == pytest.approx(666.4000706045528)
    assert hangzhou.scenario["ltv"].iloc[-1] == pytest.approx(1339.3406295314248)
    assert hangzhou.break_even["break_even_period"].notna().sum() == 3


def test_filters_cut_the_branch(hangzhou):
    params = Params(branch="杭州分公司", segment="商企")
    result = analyse(load_tables(params, ["transactions"]), params)
    assert result.churn.loc[result.churn["grouping"] == "segment", "group"].tolist() == ["商企"]
    assert len(result.customers) < len(hangzhou.customers)
