"""The lost-deal notebook's parameter declaration: defaults, rules, and what the batch sees."""

from __future__ import annotations

import pytest

from funnelkit.exceptions import ParamsError
from funnelkit.lost.params import CATEGORIES, Params

CUSTOM_STAGES = [
    {"key": "lead", "zh": "线索", "en": "Lead"},
    {"key": "offer", "zh": "报价", "en": "Offer"},
    {"key": "deal", "zh": "成交", "en": "Deal"},
]


def _names(error: pytest.ExceptionInfo) -> list[str]:
    return [p.column for p in error.value.problems]


def test_defaults_pass_their_own_rules():
    params = Params()
    assert Params.problems(Params.defaults()) == []
    assert (params.deal_from_stage, params.lost_rate_target, params.at_risk_margin) == ("contacted", 0.65, 0.03)
    assert list(params.reason_taxonomy) == list(CATEGORIES)
    assert params.filters() == {"segment": "", "region": "", "product_line": "", "period": ""}


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("lost_rate_target", 65, "at most 1"),  # a percentage where a share belongs
        ("lost_rate_target", -0.1, "at least 0"),
        ("at_risk_margin", 3, "at most 1"),
        ("lost_rate_target", "0.65", "must be float"),  # a wrong type
        ("maturity_days", -1, "at least 0"),
        ("maturity_days", 30.5, "must be int"),
        ("top_terms", 0, "at least 1"),
        ("current_year", 206, "a year like 2006"),
        ("current_year", True, "must be int"),
        ("deal_from_stage", "接触 客户", "stage key"),
        ("reason_taxonomy", {"price": ["价格太高"]}, "unknown categories price"),
        ("reason_taxonomy", {"brand": "品牌不认可"}, "list of reasons"),
        ("reason_taxonomy", {"brand": ["品牌不认可", 3]}, "list of reasons"),
        ("reason_taxonomy", {"brand": ["价格太高"], "product_price": ["价格太高"]}, "both brand and product_price"),
        ("reason_taxonomy", ["价格太高"], "must be dict"),
        ("period", "06", "a year like 2006"),
    ],
)
def test_a_bad_value_is_a_params_error_naming_the_key(name, value, words):
    with pytest.raises(ParamsError, match=words) as error:
        Params.from_values({name: value})
    assert _names(error) == [name]


def test_every_bad_value_is_listed_at_once():
    with pytest.raises(ParamsError) as error:
        Params.from_values({"lost_rate_target": 65, "top_terms": 0, "lang": "fr"})
    assert sorted(_names(error)) == ["lang", "lost_rate_target", "top_terms"]


def test_the_deal_stage_is_checked_against_the_funnel_when_both_are_given():
    # the default funnel
    with pytest.raises(ParamsError, match="contacted") as error:
        Params.from_values({"deal_from_stage": "contact", "stages": []})
    assert _names(error) == ["deal_from_stage"]
    # a branch's own funnel: its keys, not the default ones
    assert Params.from_values({"deal_from_stage": "offer", "stages": CUSTOM_STAGES}).deal_from_stage == "offer"
    assert Params.problems({"deal_from_stage": "contacted", "stages": CUSTOM_STAGES})[0][2].endswith(
        "use one of lead, offer, deal"
    )
    # one value alone (as the batch checks a branch file's line) is not refused for a funnel it may not belong to
    assert Params.problems({"deal_from_stage": "offer"}) == []


def test_a_notebook_namespace_is_read_like_the_batch_reads_a_file():
    namespace = {**Params.defaults(), "lost_rate_target": 0.6, "lang": "en", "unrelated": object()}
    params = Params.from_namespace(namespace)
    assert (params.lost_rate_target, params.lang) == (0.6, "en")
