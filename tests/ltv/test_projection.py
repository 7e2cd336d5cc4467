"""Tests of the LTV projection table and the individual calculator (funnelkit.ltv.projection)."""

import numpy as np
import pandas as pd
import pytest

from funnelkit.exceptions import ParamsError
from funnelkit.ltv import Params
from funnelkit.ltv.projection import (
    PROJECTION_COLUMNS,
    compare_projections,
    individual_ltv,
    ltv_at,
    ltv_projection,
    missing_inputs,
    projection_assumptions,
    tenure_rates,
)

# The published worked example: Arthur M. Hughes, *Strategic Database Marketing*, the lifetime-value
# table (20,000 new customers; retention 40 / 50 / 55%; orders 1.8 / 2.6 / 3.6 a year; average order
# 90 / 95 / 100; costs 70 / 65 / 60%; acquisition 55, marketing 20 per customer; interest 8% × risk 2,
# printed discount factors 1, 1.16, 1.35; LTV −6.40 / 16.51 / 34.88). The book divides by the factors
# printed to 2 decimals: test_projection_with_given_discount_factors reproduces its LTV row exactly;
# the interest × risk mode below keeps 1.16² = 1.3456 unrounded (year 3 LTV 34.94, by hand).
TEXTBOOK = {
    "years": 3,
    "initial_customers": 20000,
    "retention_rates": [0.40, 0.50, 0.55],
    "orders_per_year": [1.8, 2.6, 3.6],
    "avg_order_value": [90, 95, 100],
    "cost_rate": [0.70, 0.65, 0.60],
    "acquisition_cost": 55,
    "marketing_cost": 20,
    "interest_rate": 0.08,
    "risk_factor": 2.0,
}


def test_projection_columns_are_exactly_the_contract():
    assert (
        list(ltv_projection(TEXTBOOK).columns)
        == PROJECTION_COLUMNS
        == [
            "year",
            "customers",
            "retention_rate",
            "orders_per_year",
            "avg_order_value",
            "revenue",
            "cost_rate",
            "cost_of_sales",
            "marketing_cost",
            "total_cost",
            "gross_profit",
            "discount_factor",
            "npv",
            "cumulative_npv",
            "ltv",
        ]
    )


def test_projection_by_hand_with_interest_and_risk():
    # year 1: 20,000 customers; revenue 20,000*1.8*90 = 3,240,000; cost 70% = 2,268,000;
    #   acquisition 20,000*55 = 1,100,000; total 3,368,000; profit -128,000; factor 1; LTV -6.40
    # year 2: 20,000*0.40 = 8,000; revenue 8,000*2.6*95 = 1,976,000; cost 65% = 1,284,400;
    #   marketing 8,000*20 = 160,000; total 1,444,400; profit 531,600; factor 1.16; npv 458,275.862;
    #   cumulative 330,275.862; LTV 16.5138
    # year 3: 8,000*0.50 = 4,000; revenue 4,000*3.6*100 = 1,440,000; cost 60% = 864,000;
    #   marketing 80,000; total 944,000; profit 496,000; factor 1.16^2 = 1.3456; npv 368,608.799;
    #   cumulative 698,884.661; LTV 34.9442
    table = ltv_projection(TEXTBOOK)
    assert table["customers"].tolist() == pytest.approx([20000, 8000, 4000])
    assert table["revenue"].tolist() == pytest.approx([3_240_000, 1_976_000, 1_440_000])
    assert table["cost_of_sales"].tolist() == pytest.approx([2_268_000, 1_284_400, 864_000])
    assert table["marketing_cost"].tolist() == pytest.approx([1_100_000, 160_000, 80_000])
    assert table["total_cost"].tolist() == pytest.approx([3_368_000, 1_444_400, 944_000])
    assert table["gross_profit"].tolist() == pytest.approx([-128_000, 531_600, 496_000])
    assert table["discount_factor"].tolist() == pytest.approx([1.0, 1.16, 1.3456])
    assert table["npv"].tolist() == pytest.approx([-128_000, 458_275.862, 368_608.799], abs=1e-3)
    assert table["cumulative_npv"].tolist() == pytest.approx([-128_000, 330_275.862, 698_884.661], abs=1e-3)
    assert table["ltv"].tolist() == pytest.approx([-6.4, 16.5138, 34.9442], abs=1e-4)


def test_projection_with_given_discount_factors():
    # textbook tables print the factors to 2 decimals and divide by those: 1, 1.16, 1.35
    # year 3 npv = 496,000 / 1.35 = 367,407.407; cumulative = -128,000 + 458,275.862 + 367,407.407
    #   = 697,683.269; LTV = 34.8842
    given = {**TEXTBOOK, "discount_factors": [1.0, 1.16, 1.35]}
    table = ltv_projection(given)
    assert table["discount_factor"].tolist() == [1.0, 1.16, 1.35]
    assert table["npv"].iloc[2] == pytest.approx(367_407.407, abs=1e-3)
    assert table["ltv"].iloc[2] == pytest.approx(34.8842, abs=1e-4)
    assert table["ltv"].round(2).tolist() == [-6.40, 16.51, 34.88]  # Hughes's published LTV row
    rounded = ltv_projection({**TEXTBOOK, "discount_decimals": 2})  # the same from interest × risk
    assert table["ltv"].tolist() == pytest.approx(rounded["ltv"].tolist())


def test_scenario_adds_retention_points_and_is_worth_more():
    # +5 points: 20,000 → 9,000 (45%) → 4,950 (55%)
    base, better = ltv_projection(TEXTBOOK), ltv_projection(TEXTBOOK, retention_gain=0.05)
    assert better["customers"].tolist() == pytest.approx([20000, 9000, 4950])
    assert better["retention_rate"].tolist() == pytest.approx([0.45, 0.55, 0.60])
    # year 2 revenue 9,000*2.6*95 = 2,223,000; profit = 2,223,000*0.35 - 180,000 = 598,050
    assert better["gross_profit"].iloc[1] == pytest.approx(598_050)
    side = compare_projections(base, better)
    assert (side["ltv_gain"].iloc[1:] > 0).all() and side["ltv_gain"].iloc[0] == 0
    assert ltv_at(base, 3) == pytest.approx(34.9442, abs=1e-4) and np.isnan(ltv_at(base, 4))


def test_short_lists_repeat_their_last_value_and_rates_cap_at_one():
    table = ltv_projection({**TEXTBOOK, "years": 5, "retention_rates": [0.98]}, retention_gain=0.05)
    assert table["retention_rate"].tolist() == [1.0] * 5
    assert table["orders_per_year"].tolist() == [1.8, 2.6, 3.6, 3.6, 3.6]


def test_individual_calculator_undiscounted_and_discounted():
    # 100 yuan × 2 a month × 12 months = 2,400 a year; × 20 years = 48,000
    plain = individual_ltv(
        profit_per_purchase=100, purchases_per_period=2, periods_per_year=12, expected_years=20, discount_rate=0.0
    )
    assert plain["cumulative_value"].iloc[-1] == pytest.approx(48_000)
    # at 10%, first year undiscounted (annuity due): 2,400 × (1 − 1.1^−20)/0.1 × 1.1
    #   = 2,400 × 8.513564 × 1.1 = 2,400 × 9.364920 = 22,475.81
    discounted = individual_ltv(
        profit_per_purchase=100, purchases_per_period=2, periods_per_year=12, expected_years=20, discount_rate=0.1
    )
    assert discounted["cumulative_value"].iloc[-1] == pytest.approx(22_475.81, abs=0.01)
    assert discounted["present_value"].iloc[1] == pytest.approx(2400 / 1.1)


def _log():
    # two yearly cohorts; 2004: a, b, c (b buys again in 2005, a in 2005 and 2006); 2005: d, e (d in 2006)
    rows = [
        ("a", "2004-02-01", 100),
        ("b", "2004-06-01", 100),
        ("c", "2004-09-01", 100),
        ("a", "2005-03-01", 200),
        ("b", "2005-04-01", 200),
        ("d", "2005-05-01", 100),
        ("e", "2005-07-01", 100),
        ("a", "2006-03-01", 300),
        ("d", "2006-02-01", 200),
    ]
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).assign(
        date=lambda d: pd.to_datetime(d["date"]), margin=lambda d: d["amount"] * 0.5
    )


def assume(projection: dict, *, as_of: str, acquisition_cost=0.0, marketing_cost=0.0, discount_rate=0.1) -> dict:
    """``projection_assumptions`` of ``_log()`` with ``projection`` given as in a params file
    (checked, completed with the declared defaults)."""
    inputs = Params.from_values({"projection": projection}).projection_inputs()
    return projection_assumptions(
        _log(),
        projection=inputs,
        as_of=as_of,
        acquisition_cost=acquisition_cost,
        marketing_cost=marketing_cost,
        discount_rate=discount_rate,
    )


def test_tenure_rates_pool_the_cohorts():
    # tenure year 1 → 2: 2004 keeps 2 of 3, 2005 keeps 1 of 2 → 3/5 = 0.6
    # tenure year 2 → 3: only 2004 observed in both: active 2 → 1 → 0.5
    rates = tenure_rates(_log(), as_of="2006-12-31")
    assert rates["retention_rate"].tolist()[:2] == pytest.approx([0.6, 0.5])
    assert rates["cohorts"].tolist()[:2] == [2, 1]
    # year 1: 5 active customers, 5 orders, revenue 500 → 1 order each, 100 per order
    assert rates["orders_per_year"].iloc[0] == 1 and rates["avg_order_value"].iloc[0] == 100
    assert rates["cost_rate"].iloc[0] == pytest.approx(0.5)


def test_assumptions_estimate_only_what_params_leave_empty():
    given = {
        "estimate": True,
        "years": 3,
        "initial_customers": 1000,
        "retention_rates": [],
        "acquisition_cost": None,
        "discount_factors": [],
    }
    found = assume(given, as_of="2006-12-31", acquisition_cost=30, marketing_cost=5, discount_rate=0.1)
    assert found["initial_customers"] == 1000 and found["sources"]["initial_customers"] == "params"
    assert found["retention_rates"] == pytest.approx([0.6, 0.5])
    assert found["sources"]["retention_rates"] == "estimated"
    assert found["acquisition_cost"] == 30 and found["interest_rate"] == 0.1 and found["risk_factor"] == 1.0
    table = ltv_projection(found)
    assert table["customers"].tolist() == pytest.approx([1000, 600, 300])


def test_projection_params_are_checked():
    # a typo is refused, naming the key and the allowed keys (the declaration in funnelkit/ltv/params.py)
    with pytest.raises(ParamsError, match=r"'projection'.*'retention_rate'.*unknown.*allowed keys: estimate"):
        assume({"estimate": True, "retention_rate": [0.5]}, as_of="2006-12-31")
    with pytest.raises(ParamsError, match="years"):
        assume({"years": 0}, as_of="2006-12-31")
    with pytest.raises(ParamsError, match="orders_per_year"):
        assume({"orders_per_year": ["two"]}, as_of="2006-12-31")
    with pytest.raises(ParamsError, match="missing projection input"):
        assume({"estimate": False, "initial_customers": 10}, as_of="2006-12-31")


def test_an_estimate_that_cannot_be_made_is_named_missing_not_nan():
    # on 30 June 2005 only the 2004 cohort's first year is complete: no cohort seen in two years,
    # so no retention rate can be estimated
    found = assume({"estimate": True}, as_of="2005-06-30")
    assert missing_inputs(found) == ["retention_rates"] and found["sources"]["retention_rates"] == "missing"
    # on 30 June 2004 no year is complete at all: nothing of the cohorts can be estimated
    assert missing_inputs(assume({"estimate": True}, as_of="2004-06-30")) == [
        "initial_customers",
        "retention_rates",
        "orders_per_year",
        "avg_order_value",
        "cost_rate",
    ]
    # the retention model stands in for the retention no cohort shows, and says so
    inputs = Params.from_values({}).projection_inputs()
    modelled = projection_assumptions(
        _log(),
        projection=inputs,
        as_of="2005-06-30",
        acquisition_cost=0,
        marketing_cost=0,
        discount_rate=0.1,
        model_retention=[0.5, 0.6, 0.7, 0.8, 0.9],
    )
    assert (
        modelled["retention_rates"] == [0.5, 0.6, 0.7, 0.8, 0.9] and modelled["sources"]["retention_rates"] == "model"
    )
    assert missing_inputs(modelled) == []
    # given in params, the rest is estimated: 2004 cohort of 3 customers, 3 orders of 100
    found = assume({"estimate": True, "retention_rates": 0.5}, as_of="2005-06-30")
    assert found["initial_customers"] == 3 and found["avg_order_value"] == pytest.approx([100])
    assert found["retention_rates"] == 0.5 and found["sources"]["retention_rates"] == "params"
