"""The lifetime-value report's parameter declaration: every rule names the key and what is wrong."""

import pytest

from funnelkit.exceptions import ParamsError
from funnelkit.ltv.params import LIFECYCLE_RULES, PROJECTION, Params
from tests.ltv.test_projection import TEXTBOOK


def test_defaults_are_the_declared_ones():
    params = Params()
    assert (params.cohort_period, params.cost_rate, params.discount_rate, params.rfm_freq) == ("year", 0.7, 0.1, "D")
    assert params.projection == PROJECTION and params.projection["years"] == 5
    assert (
        params.rules()
        == LIFECYCLE_RULES
        == {
            "exploration_months": 12,
            "stability_months": 36,
            "window_months": 12,
            "decline_drop": 0.3,
        }
    )
    assert params.filters() == {"segment": "", "region": ""}
    # a declared default is a copy: changing one instance's mapping leaves the declaration alone
    assert Params().projection is not Params().projection


def test_structured_values_given_in_part_are_completed_from_the_declaration():
    params = Params.from_values({"projection": {"years": 3}, "lifecycle_rules": {"decline_drop": 0.25}})
    assert params.projection_inputs() == {**PROJECTION, "years": 3}
    assert params.rules() == {**LIFECYCLE_RULES, "decline_drop": 0.25}


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("cohort_period", "week", "must be one of year, quarter, month"),
        ("rfm_freq", "Y", "must be one of D, W, M"),
        ("cost_rate", 65, "must be at most 1 and at least 0"),
        ("cost_rate", "0.7", "must be float like the default 0.7, not str"),
        ("discount_rate", -0.1, "must be at least 0 and at most 1"),
        ("calculator_discount_rate", 1.5, "must be at most 1"),
        ("scenario_retention_gain", 5, "must be at most 1"),
        ("acquisition_cost", -1, "must be at least 0"),
        ("periods_per_year", 0, "must be at least 1"),
        ("expected_years", 20.5, "must be int like the default 20, not float"),
        ("churn_months", True, "must be int like the default 12"),
        ("projection", [5], "must be dict like the default"),
        ("projection", {"retention_rate": [0.5]}, "unknown input retention_rate; allowed keys: estimate, years"),
        ("projection", {"years": 0}, "years: 0 must be a whole number of years ≥ 1"),
        ("projection", {"years": 2.5}, "years: 2.5 must be a whole number of years ≥ 1"),
        ("projection", {"estimate": "yes"}, "estimate: 'yes' must be true or false"),
        ("projection", {"orders_per_year": ["two"]}, "orders_per_year: ['two'] must be a number or a list of numbers"),
        (
            "projection",
            {"retention_rates": 65},
            "retention_rates: 65 must be a number or a list of numbers, each a rate",
        ),
        ("projection", {"cost_rate": [0.7, 0.7, 0.7, 0.7, -0.1]}, "cost_rate: [0.7, 0.7, 0.7, 0.7, -0.1] must be"),
        ("projection", {"interest_rate": 8}, "interest_rate: 8 must be one number, a rate from 0 to 1"),
        (
            "projection",
            {"initial_customers": 0},
            "initial_customers: 0 must be one number, a number of customers above",
        ),
        ("projection", {"acquisition_cost": [55, 20]}, "acquisition_cost: [55, 20] must be one number"),
        ("projection", {"discount_decimals": -1}, "discount_decimals: -1 is not a whole number of decimals"),
        (
            "projection",
            {"years": 3, "retention_rates": [0.4, 0.5]},
            "retention_rates has 2 values for 3 years: give one per year of the projection (3)",
        ),
        (
            "projection",
            {"orders_per_year": [1.8, 2.6, 3.6]},  # the default horizon is 5 years
            "orders_per_year has 3 values for 5 years",
        ),
        (
            "projection",
            {"years": 3, "marketing_cost": [20, 20, 20]},
            "marketing_cost has 3 values for 3 years: give one per year after the first (2)",
        ),
        (
            "projection",
            {"estimate": False, "initial_customers": 10},
            "missing projection input retention_rates, orders_per_year, avg_order_value, cost_rate: give it",
        ),
        ("lifecycle_rules", {"exploraton_months": 6}, "unknown lifecycle rule exploraton_months; allowed keys: "),
        ("lifecycle_rules", {"decline_drop": "30%"}, "decline_drop: '30%' must be a share above 0 and at most 1"),
        ("lifecycle_rules", {"decline_drop": 30}, "decline_drop: 30 must be a share above 0 and at most 1"),
        ("lifecycle_rules", {"window_months": 0}, "window_months: 0 must be a whole number of months ≥ 1"),
        ("lifecycle_rules", {"stability_months": 36.5}, "stability_months: 36.5 must be a whole number of months"),
        ("segment", 3, "must be str like the default ''"),
    ],
)
def test_each_rule_raises_naming_the_key(name, value, rule):
    with pytest.raises(ParamsError) as caught:
        Params.from_values({name: value})
    [problem] = caught.value.problems
    assert problem.column == name and problem.value == value and problem.rule.startswith(rule), problem.rule


def test_good_structured_values_pass():
    given = {k: v for k, v in TEXTBOOK.items() if k not in ("interest_rate", "risk_factor")}
    textbook = {**given, "estimate": False, "discount_factors": [1.0, 1.16, 1.35]}
    assert Params.problems({"projection": textbook}) == []
    assert Params.problems({"projection": {**textbook, "marketing_cost": [20, 25]}}) == []  # years 2 and 3
    assert Params.problems({"projection": {"retention_rates": 0.6}}) == []  # one number holds for every year
    assert Params.problems({"projection": PROJECTION, "lifecycle_rules": {"decline_drop": 1}}) == []


def test_every_problem_is_listed_at_once():
    with pytest.raises(ParamsError) as caught:
        Params.from_values(
            {
                "cohort_period": "week",
                "cost_rate": 65,
                "projection": {"years": 0, "cost_rate": [2]},
                "lifecycle_rules": {"window_months": -1, "decline_drop": 0},
            }
        )
    assert [p.column for p in caught.value.problems] == ["cohort_period", "cost_rate", "projection", "lifecycle_rules"]
    text = str(caught.value)
    assert "years: 0 must be" in text and "cost_rate: [2] must be" in text
    assert "window_months: -1 must be" in text and "decline_drop: 0 must be" in text
