"""Params files are checked before any kernel starts: every problem, with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnelkit.batch.params import load_branch, read_yaml
from funnelkit.batch.runner import discover_notebooks
from funnelkit.exceptions import ParamsError


def _branch(project: Path, name: str, text: str) -> Path:
    path = project / "params" / name
    path.write_text(text, encoding="utf-8")
    return path


def _load(project: Path, path: Path):
    return load_branch(path, discover_notebooks(project / "notebooks"))


def test_good_branch_merges_defaults_and_splits_sections(project):
    path = _branch(project, "alpha.yaml", "branch: 甲分公司\nlang: en\nsmoke:\n  greeting: hello\n")
    params = _load(project, path)
    assert params.slug == "alpha" and params.branch == "甲分公司"
    injected = params.for_notebook("smoke")
    assert injected["lang"] == "en" and injected["greeting"] == "hello" and injected["source"] == ""
    assert "smoke" not in injected


@pytest.mark.parametrize(
    "text, rule",
    [
        ("flag: NO\n", "boolean"),
        ("code: 0123\n", "another base"),
        ("a: 1\na: 2\n", "twice"),
        ("duration: 1:20\n", "another base"),
    ],
)
def test_yaml_surprises_are_errors_with_line(tmp_path, text, rule):
    path = tmp_path / "x.yaml"
    path.write_text("ok: true\n" + text, encoding="utf-8")
    with pytest.raises(ParamsError) as caught:
        read_yaml(path)
    problem = caught.value.problems[0]
    assert rule in problem.rule and problem.row >= 2 and problem.file == str(path)


def test_quoted_values_are_fine(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text('flag: "NO"\ncode: "0123"\nyes_really: true\n', encoding="utf-8")
    assert read_yaml(path) == {"flag": "NO", "code": "0123", "yes_really": True}


def test_every_problem_reported_at_once(project):
    path = _branch(
        project,
        "beta.yaml",
        "branch: 乙分公司\nlang: fr\ncolour: red\nsmoke:\n  greeting: 3\n  typo: 1\noutput_dir: /tmp\n",
    )
    with pytest.raises(ParamsError) as caught:
        _load(project, path)
    rules = [p.rule for p in caught.value.problems]
    assert any("lang must be one of" in r for r in rules)
    assert any("unknown parameter 'colour'" in r for r in rules)
    assert any("greeting must be text" in r for r in rules)
    assert any("'typo' is not a parameter of notebook 'smoke'" in r for r in rules)
    assert any("set by the batch runner" in r for r in rules)
    colour = next(p for p in caught.value.problems if p.column == "colour")
    assert colour.row == 3 and colour.file.endswith("beta.yaml")


def test_missing_branch_and_unsafe_slug(project):
    path = _branch(project, "bad name.yaml", "lang: zh\n")
    with pytest.raises(ParamsError) as caught:
        _load(project, path)
    rules = " | ".join(p.rule for p in caught.value.problems)
    assert "safe branch folder name" in rules and "must name its branch" in rules


def test_notebook_without_runner_parameters_is_an_error(project):
    import nbformat

    nb = nbformat.read(project / "notebooks" / "smoke.ipynb", as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace('output_dir = ""\n', "")
    nbformat.write(nb, project / "notebooks" / "smoke.ipynb")
    path = _branch(project, "gamma.yaml", "branch: 丙分公司\n")
    with pytest.raises(ParamsError, match="does not declare the parameter 'output_dir'"):
        _load(project, path)


def test_a_params_file_saved_as_gbk_is_a_clear_error(project):
    path = project / "params" / "delta.yaml"
    path.write_bytes("# 丁分公司\nbranch: 丁分公司\n".encode("gbk"))
    with pytest.raises(ParamsError) as caught:
        _load(project, path)
    problem = caught.value.problems[0]
    assert "not UTF-8" in problem.rule and problem.row == 1 and "UTF-8" in problem.hint


def test_markdown_narrative_cannot_load_or_link(monkeypatch):
    from IPython.display import Markdown

    from funnelkit.report.display import Report

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    Report("smoke", branch="甲").markdown("说明 ![x](http://example.com/a.png) <img src=x> 13812341234")
    text = shown[0].data if isinstance(shown[0], Markdown) else str(shown[0])
    assert "![" not in text and "<img" not in text and "13812341234" not in text


def test_params_are_plain_data_and_dates_stay_text(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes("\ufeffa: 2024-06-30\nb: [1, 2.5, null, true, '01']\nc: {d: =, e: 1_000}\n".encode())
    assert read_yaml(path) == {"a": "2024-06-30", "b": [1, 2.5, None, True, "01"], "c": {"d": "=", "e": 1000}}


def test_unquoted_as_of_date_is_injected_as_text(project):
    params = _load(project, _branch(project, "alpha.yaml", "branch: 甲分公司\nas_of: 2024-06-30\n"))
    assert params.for_notebook("smoke")["as_of"] == "2024-06-30"


@pytest.mark.parametrize(
    "text, line, rule",
    [
        ("a: 1\nb: \x00\n", 2, "control characters are not allowed"),
        ("a:\n\tb: 1\n", 2, "cannot start any token"),
        ("a: 1\n---\nb: 2\n", 2, "more than one YAML document"),
        ("a: " + "[" * 40 + "]" * 40 + "\n", 1, "nested more than 32 levels"),
        ("a: " + "9" * 5000 + "\n", 1, "too long or malformed"),
        ("a: 0x_\n", 1, "too long or malformed"),
        ("- a\n", 1, "must be a mapping of names to values, not a list"),
    ],
)
def test_malformed_files_are_one_clear_problem(tmp_path, text, line, rule):
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError) as caught:
        read_yaml(path)
    (problem,) = caught.value.problems
    assert problem.row == line and rule in problem.rule and "\n" not in str(problem)


def test_problem_values_are_masked_and_cut():
    from funnelkit.exceptions import ParamsProblem, Problem

    shown = str(ParamsProblem("params/x.yaml", 3, "smoke.greeting", "tel 13812345678 " + "x" * 200, "bad"))
    assert "13812345678" not in shown and "138****5678" in shown and "x" * 100 not in shown and "…" in shown
    assert str(Problem("a.csv", 2, "身份证号", "330102199001011234", "bad")).count("330102********1234") == 1
    assert str(ParamsProblem("params/x.yaml", None, None, None, "bad")) == "params/x.yaml: bad"


def test_the_pure_python_parser_refuses_the_same(monkeypatch):
    import yaml

    from funnelkit.batch import params_yaml

    # Rules compared on their start: the two parsers word a syntax error differently.
    texts = ["a: 1\nb: \x00\n", "a: &x 1\nb: *x\n", "? [a]\n: 1\n", "a: !!binary YQ==\n", "a: [1\n"]
    with_libyaml = [[(p.row, p.rule[:16]) for p in params_yaml.parse_data(t, "x").problems] for t in texts]
    monkeypatch.setattr(params_yaml, "_PARSER", yaml.SafeLoader)
    pure = [[(p.row, p.rule[:16]) for p in params_yaml.parse_data(t, "x").problems] for t in texts]
    assert pure == with_libyaml and all(pure)


def test_a_declared_rule_is_checked_before_any_kernel_with_the_branch_files_line(project, monkeypatch):
    """The analysis's own declaration (funnelkit/<notebook>/params.py) is the one source of
    its rules: the batch applies it to the branch file and names that file's line."""
    from dataclasses import dataclass

    from funnelkit.batch import params as branch_params
    from funnelkit.parameters import Params, param

    @dataclass(frozen=True)
    class Smoke(Params):
        greeting: str = param("你好", "how the report greets", choices=("你好", "hello"))

    monkeypatch.setattr(branch_params, "params_class", lambda name: Smoke if name == "smoke" else None)
    path = _branch(project, "alpha.yaml", "branch: 甲分公司\nsmoke:\n  greeting: bonjour\n")
    with pytest.raises(ParamsError) as caught:
        _load(project, path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.column) == ("params/alpha.yaml", 3, "smoke.greeting")
    assert "must be one of 你好, hello" in problem.rule
