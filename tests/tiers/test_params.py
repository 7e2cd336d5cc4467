"""The tier notebook's parameter declaration: every rule names the key and what is wrong."""

import pytest

from funnelkit.exceptions import ParamsError
from funnelkit.tiers import Params
from funnelkit.tiers.referrals import SOURCE_ACTIONS, source_actions
from funnelkit.tiers.tiering import DEFAULT_GRID


def test_defaults_are_the_declared_ones():
    params = Params()
    assert (params.current_year, params.top_k, params.value_bands[0]) == (0, 3, 0)
    assert params.region_rule == {"tiers": ["premium", "potential"], "key_ratio": 1.2, "weak_ratio": 0.8}
    assert params.visit_policy["measure"] == "calendar" and params.referral_counts == {}
    assert params.filters() == {"region": "", "segment": ""}


def _grid(**change) -> dict:
    return {**DEFAULT_GRID, **change}


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("top_k", 0, "must be at least 1"),
        ("top_k", 2.5, "must be int like the default 3, not float"),
        ("current_year", -1, "must be at least 0"),
        ("current_year", "2006", "must be int like the default 0, not str"),
        ("tier_grid", _grid(loyalty_cuts=[8, 6]), "loyalty_cuts: must be a list of increasing scores"),
        ("tier_grid", _grid(capacity_cuts=[3, 30]), "capacity_cuts: must be a list of increasing scores"),
        ("tier_grid", _grid(tiers=[["premium"] * 3] * 2), "tiers: must have 3 rows (loyalty bands) of 3 tiers"),
        ("tier_grid", _grid(tiers=[["vip"] * 3] * 3), "tiers: unknown tier code(s); valid: premium, potential"),
        ("tier_grid", {"loyalty_cuts": [6, 8]}, "capacity_cuts: key is missing"),
        ("region_rule", {"key_ratio": 0.7}, "key_ratio: weak_ratio and key_ratio must be numbers with key_ratio >"),
        ("region_rule", {"weak_ratio": 0}, "key_ratio: weak_ratio and key_ratio must be numbers with key_ratio >"),
        ("region_rule", {"tiers": ["vip"]}, "tiers: must list tier codes from premium, potential, general"),
        ("region_rule", {"key": 1.5}, "key: unknown key"),
        ("value_bands", [0, 50000, 10000], "must be at least two increasing amounts in yuan"),
        ("value_bands", [0, "1万"], "must be at least two increasing amounts in yuan"),
        ("value_bands", {"low": 0}, "must be list like the default"),
        ("value_tiers", {"vip": 65}, "vip ≤ major ≤ ordinary must be fractions between 0 and 1"),
        ("value_tiers", {"vip": 0.3, "major": 0.2}, "vip ≤ major ≤ ordinary must be fractions between 0 and 1"),
        ("visit_policy", {"measure": "weekly"}, "measure: must be one of calendar, gap"),
        ("visit_policy", {"phone_days": 0}, "phone_days: must be a whole number of days > 0"),
        ("visit_policy", {"onsite_days": 1.5}, "onsite_days: must be a whole number of days > 0"),
        ("referral_counts", {"老客户": -1}, "老客户: must be a whole number ≥ 0"),
        ("referral_counts", {"亲友": 2.5}, "亲友: must be a whole number ≥ 0"),
        ("referral_counts", [6, 3], "must be dict like the default"),
        ("tier_grid", _grid(tier=[["premium"] * 3] * 3), "tier: unknown key"),
        ("value_tiers", {"vip": 0.1, "top": 0.01}, "top: unknown key"),
        ("source_actions", {"existing_customer": "call"}, "existing_customer: must be the action as text in zh and en"),
        (
            "source_actions",
            {"existing_customer": {"zh": "回访"}},
            "existing_customer: must be the action as text in zh",
        ),
        (
            "source_actions",
            {"老客户": {"zh": "回访", "en": "Call"}},
            "老客户: not a source code; codes: existing_customer",
        ),
        ("region", 3, "must be str like the default"),
    ],
)
def test_each_rule_raises_naming_the_key(name, value, rule):
    with pytest.raises(ParamsError) as caught:
        Params.from_values({name: value})
    [problem] = caught.value.problems
    assert problem.column == name and problem.value == value and problem.rule.startswith(rule), problem.rule


def test_good_structured_values_pass():
    good = {
        "tier_grid": {
            "loyalty_cuts": [5],
            "capacity_cuts": [4],
            "tiers": [["general", "potential"], ["potential", "premium"]],
        },
        "region_rule": {"tiers": ["premium"], "key_ratio": 2, "weak_ratio": 0.5},
        "value_bands": [0, 20000],
        "value_tiers": {"vip": 0.1, "major": 0.3, "ordinary": 0.6},
        "visit_policy": {"phone_days": 14, "onsite_days": 60, "measure": "gap"},
        "referral_counts": {"老客户": 6, "亲友": 0},
    }
    assert Params.problems(good) == []
    assert Params.from_values(good).tier_grid["loyalty_cuts"] == [5]


def test_every_problem_is_listed_at_once():
    with pytest.raises(ParamsError) as caught:
        Params.from_values({"top_k": 0, "visit_policy": {"measure": "count"}, "value_tiers": {"vip": 65}})
    assert [p.column for p in caught.value.problems] == ["top_k", "visit_policy", "value_tiers"]


def test_source_actions_given_replace_only_their_own():
    mine = {"zh": "核实来源", "en": "Check the source"}
    merged = source_actions({"other": mine, "same_region": mine})
    assert merged["other"] == merged["same_region"] == mine
    assert merged["existing_customer"] == SOURCE_ACTIONS["existing_customer"]
    assert len(merged) == len(SOURCE_ACTIONS) + 1
