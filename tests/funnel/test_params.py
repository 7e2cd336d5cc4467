"""The funnel's parameter declaration: every rule names the key and what is wrong."""

import pytest

from funnelkit.exceptions import ParamsError
from funnelkit.funnel import Params

STAGES = [{"key": "a", "zh": "甲", "en": "A"}, {"key": "b", "zh": "乙", "en": "B"}, {"key": "c", "zh": "丙", "en": "C"}]


def test_defaults_are_the_declared_ones():
    params = Params()
    assert (params.funnel_source, params.pvalue_adjust, params.min_group, params.top_bottlenecks) == (
        "auto",
        "holm",
        30,
        3,
    )
    assert params.controllability["target>potential"] == 0.2 and len(params.controllability) == 7
    assert params.filters() == {"segment": "", "region": "", "period": ""}


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("funnel_source", "both", "must be one of auto, leads, counts"),
        ("pvalue_adjust", "bonferroni", "must be one of holm, fdr_bh"),
        ("min_group", 30.5, "must be int like the default 30, not float"),
        ("min_group", -1, "must be at least 0"),
        ("top_bottlenecks", 0, "must be at least 1"),
        ("deal_amount", "500", "must be float like the default 0.0, not str"),
        ("forecast_shrinkage", -5, "must be at least 0"),
        ("controllability", {"potential>contacted": 65}, "potential>contacted: 65 is not a weight from 0 to 1"),
        ("controllability", {"potential>contacted": True}, "potential>contacted: True is not a weight from 0 to 1"),
        ("controllability", {"contacted": 0.5}, "'contacted' is not a transition written from>to"),
        ("controllability", [0.5], "must be dict like the default"),
        ("period", "06", "must be a year like 2006 or a span of years like 2004-2006 (or empty)"),
    ],
)
def test_each_rule_raises_naming_the_key(name, value, rule):
    with pytest.raises(ParamsError) as caught:
        Params.from_values({name: value})
    [problem] = caught.value.problems
    assert problem.column == name and problem.value == value and problem.rule.startswith(rule)


def test_controllability_must_name_transitions_of_the_funnel():
    # the default telecom funnel (stages []) has no step a>b; a custom funnel a → b → c has
    assert Params.problems({"controllability": {"a>b": 0.5, "potential>contacted": 0.9}, "stages": []}) == [
        (
            "controllability",
            {"a>b": 0.5, "potential>contacted": 0.9},
            "names no transition of the funnel: a>b; transitions: target>potential, potential>contacted, "
            "contacted>intent, intent>signed, signed>installed, installed>paying, paying>effective",
        )
    ]
    assert Params.problems({"controllability": {"a>b": 0.5, "b>c": 1}, "stages": STAGES}) == []
    assert "a>c" in Params.problems({"controllability": {"a>c": 0.5}, "stages": STAGES})[0][2]
    # checked alone (as a params file's value is), a weight is not refused for a funnel it may not belong to
    assert Params.problems({"controllability": {"a>b": 0.5}}) == []
    # the notebook's namespace holds every parameter: there the rule applies
    with pytest.raises(ParamsError, match="names no transition of the funnel: a>b"):
        Params.from_namespace({"controllability": {"a>b": 0.5}, "stages": []})


def test_every_problem_is_listed_at_once():
    with pytest.raises(ParamsError) as caught:
        Params.from_values({"funnel_source": "x", "pvalue_adjust": "y", "controllability": {"a>b": 2, "c": 0}})
    assert [p.column for p in caught.value.problems] == ["funnel_source", "pvalue_adjust", "controllability"]
    assert "a>b: 2 is not a weight" in str(caught.value) and "'c' is not a transition" in str(caught.value)
