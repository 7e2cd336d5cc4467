"""Words for the funnel's codes: stages, transitions, the whole branch, decomposition parts."""

from funnelkit.data.schema import DEFAULT_STAGES, resolve_stages
from funnelkit.funnel.labels import component_label, segment_label, stage_label, transition_label

STAGES = resolve_stages([{"key": "a", "zh": "甲", "en": "A"}, {"key": "b", "zh": "乙"}])


def test_stage_and_transition_labels_in_both_languages():
    assert stage_label("a", STAGES, "zh") == "甲" and stage_label("a", STAGES, "en") == "A"
    assert stage_label("b", STAGES, "en") == "b"  # no English name given: the key
    assert stage_label("z", STAGES, "zh") == "z"  # unknown: the code itself, never an error
    assert transition_label("a>b", STAGES, "zh") == "甲→乙"
    assert transition_label("signed>installed", DEFAULT_STAGES, "en") == "Signed→Installed"


def test_whole_branch_and_components():
    assert (segment_label("all", "zh"), segment_label("all", "en")) == ("全部", "All")
    assert segment_label("商企", "en") == "商企"  # segments are the data's own names
    assert (component_label("volume", STAGES, "zh"), component_label("volume", STAGES, "en")) == (
        "首阶段客户量",
        "First-stage volume",
    )
    assert component_label("a>b", STAGES, "en") == "A→b"
