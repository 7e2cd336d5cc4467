"""Parameter declarations: defaults, rules and the generated parameters cell."""

from __future__ import annotations

from dataclasses import dataclass

import nbformat
import papermill as pm
import pytest

from funnelkit.exceptions import ParamsError
from funnelkit.parameters import Params, filter_param, param, parameters_cell, sync_notebook


@dataclass(frozen=True)
class Toy(Params):
    rate_target: float = param(0.65, "lost / closed deals the branch aims for", low=0, high=1)
    method: str = param("holm", "holm or fdr_bh", choices=("holm", "fdr_bh"))
    weights: dict = param({"a>b": 0.5}, "per transition, 0 to 1")
    segment: str = filter_param("segment", "only this segment; empty: every segment")
    period: str = filter_param("period", "a year or a span of years like 2004-2006; empty: all")


def test_defaults_and_own_names():
    assert Toy().rate_target == 0.65 and Toy().weights == {"a>b": 0.5}
    assert Toy.own() == ("rate_target", "method", "weights", "segment", "period")
    assert Toy().weights is not Toy().weights  # mutable defaults are not shared between instances


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("rate_target", 65, "must be at most 1 and at least 0"),
        ("rate_target", -0.1, "must be at least 0 and at most 1"),
        ("rate_target", "0.6", "must be float like the default 0.65, not str"),
        ("rate_target", True, "must be float like the default 0.65"),
        ("method", "bonferroni", "must be one of holm, fdr_bh"),
        ("lang", "fr", "must be one of zh, en"),
        ("as_of", "2006/12/31", "must be a date written YYYY-MM-DD (or empty)"),
        ("files", {"leads": 5}, "each table must map to a file path (text)"),
        (
            "files",
            {"orders": "x.csv"},
            "names unknown table(s) orders; tables: leads, stage_counts, customers, events, visits, transactions",
        ),
        ("stages", [{"key": "a", "zh": "甲"}], "a funnel needs at least two stages"),
        ("period", "2006-2004", "must be a year like 2006 or a span of years like 2004-2006 (or empty)"),
        ("branch", "  ", "must name the branch as written in the data, e.g. 杭州分公司"),
    ],
)
def test_each_rule_names_what_is_wrong(name, value, rule):
    assert Toy.problems({name: value}) == [(name, value, rule)]


def test_good_values_pass_and_ints_are_floats():
    assert Toy.problems({"rate_target": 1, "method": "fdr_bh", "as_of": "2006-12-31", "period": "2004-2006"}) == []


def test_from_values_lists_every_problem_at_once():
    with pytest.raises(ParamsError) as caught:
        Toy.from_values({"rate_target": 65, "method": "x"})
    assert [p.column for p in caught.value.problems] == ["rate_target", "method"]


def test_filters_and_namespace():
    params = Toy.from_namespace({"segment": "政企", "lang": "en", "unrelated": 1})
    assert params.filters() == {"segment": "政企", "period": ""} and params.lang == "en"


def test_help_text_that_papermill_would_drop_is_refused():
    with pytest.raises(ValueError, match="papermill"):
        param(1, "a = b")


def test_generated_cell_is_what_papermill_reads(tmp_path, monkeypatch):
    path = tmp_path / "toy.ipynb"
    notebook = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
    )
    notebook.cells = [nbformat.v4.new_code_cell(parameters_cell(Toy, "toy"), metadata={"tags": ["parameters"]})]
    nbformat.write(notebook, path)
    declared = pm.inspect_notebook(str(path))
    assert list(declared) == list(Toy.declared())
    assert declared["rate_target"]["help"] == "lost / closed deals the branch aims for"
    assert declared["weights"]["default"] == "{'a>b': 0.5}" and declared["weights"]["inferred_type_name"] == "dict"
    assert declared["rate_target"]["inferred_type_name"] == "float"
    monkeypatch.setattr("funnelkit.parameters.params_class", lambda name: Toy)
    assert sync_notebook(path) is False  # already in step
    notebook.cells[0].source = "rate_target = 0.5"
    nbformat.write(notebook, path)
    assert sync_notebook(path) is True
    assert nbformat.read(path, as_version=4).cells[0].source == parameters_cell(Toy, "toy")


def test_the_title_block_names_the_filters_that_are_set(monkeypatch):
    from funnelkit.report import start_report

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    report = start_report("funnel", Toy(branch="杭州分公司", segment="政企", lang="en"))
    report.title_block(period="2006")
    assert "Segment" in shown[0] and "政企" in shown[0] and "Years selected" not in shown[0]
