"""Hostile params files: data, never code; each fails its own branch only, fast, without
personal data or tracebacks in anything the batch writes or prints."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from funnelkit.batch.runner import plan, run_batch
from funnelkit.cli import main

GOOD_CSV = "分公司,期间,客户类型,阶段,数量\n{b},2006,商企,目标客户,100\n{b},2006,商企,潜在客户,40\n"
PHONE, ID_NUMBER = "13812345678", "330102199001011234"
GOOD = "branch: 甲分公司\nfiles:\n  stage_counts: good.csv\n"


def code_execution(marker: Path) -> str:
    """A branch file with a ``!!binary`` value inside the ``stages`` list. Built as bytes (as
    ``yaml.safe_load`` does), papermill writes it into the injected cell as Python source
    that creates ``marker`` (it did, before params were read as data only)."""
    payload = base64.b64encode(f",'x':__import__('os').system('touch {marker}'),'y':".encode()).decode()
    return f"branch: 乙分公司\nstages:\n  - {{key: a, zh: 甲, en: !!binary {payload}}}\n  - {{key: b, zh: 乙}}\n"


def alias_bomb(levels: int = 9) -> str:
    """'Billion laughs': each level nine aliases of the one before; 9**levels strings in all."""
    lines = ["branch: 丙分公司", 'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


PERSONAL = f'branch: 丁分公司\n"{PHONE}": x\nas_of: "{ID_NUMBER}"\nsmoke:\n  greeting: {PHONE}\nsource: ID{ID_NUMBER}\n'


def _project_with(project: Path, **branches: str) -> Path:
    (project / "good.csv").write_text(GOOD_CSV.format(b="甲分公司"), encoding="utf-8")
    (project / "params" / "alpha.yaml").write_text(GOOD, encoding="utf-8")
    for slug, text in branches.items():
        (project / "params" / f"{slug}.yaml").write_text(text, encoding="utf-8")
    return project


def _problem_lines(detail: str) -> list[str]:
    return [line for line in detail.splitlines() if line.startswith("  - ")]


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("123: x\n", 2, "a key must be text"),
        ("true: x\n", 2, "a key must be text"),
        ("? [a, b]\n: 1\n", 2, "not a list or mapping"),
        ("files: 5\n", 2, "files must be a mapping"),
        ("files: leads.csv\n", 2, "files must be a mapping"),
        ("files:\n  leads: 5\n", 3, "must be a path as text"),
        ("stages: 5\n", 2, "stages must be a list"),
        ("stages:\n  - {key: a, zh: 甲}\n  - {key: b, zh: 5}\n", 4, "stage 2: zh must be text"),
        ("as_of: 2024-13-45\n", 2, "as_of must be a date"),
        ("as_of: 20240101\n", 2, "as_of must be a date"),
        ("as_of: June\n", 2, "as_of must be a date"),
        ("smoke:\n  greeting: !!set {a, b}\n", 3, "explicit tags"),
        ("as_of: !!timestamp 2024-01-01\n", 2, "explicit tags"),
        ("stages: !!omap [a: 1, b: 2]\n", 2, "explicit tags"),
        ("x: !!python/object:os.system {}\n", 2, "explicit tags"),
        ("smoke:\n  greeting: 3\n", 3, "smoke.greeting must be text"),
        ("smoke: [1, 2]\n", 2, "notebook section and must be a mapping"),
        ("lang: [zh]\n", 2, "lang must be one of"),
        ("source: [a\n", 3, "not valid YAML"),
        ("<<: {lang: en}\n", 2, "merge keys"),
    ],
)
def test_each_bad_key_or_type_fails_only_its_branch_with_one_line(project, text, line, words):
    _project_with(project, bad="branch: 乙分公司\n" + text)
    good, _, failed = plan(project / "params", project / "notebooks")
    assert [b.slug for b in good] == ["alpha"]
    (result,) = failed  # one notebook, one failed branch
    assert result.slug == "bad" and result.error == "1 problem(s) in params (params/bad.yaml):"
    (problem,) = _problem_lines(result.detail)
    assert problem.startswith(f"  - params/bad.yaml, line {line}") and words in problem, problem
    assert "Traceback" not in result.detail


def test_unreadable_and_misnamed_files_fail_alone(project):
    _project_with(project, **{"bad name": "branch: 乙\n"})
    (project / "params" / "folder.yaml").mkdir()
    (project / "params" / "gbk.yaml").write_bytes("branch: 丁分公司\n".encode("gbk"))
    good, _, failed = plan(project / "params", project / "notebooks")
    assert [b.slug for b in good] == ["alpha"]
    errors = {r.slug: r.detail for r in failed}
    assert "not a safe branch folder name" in errors["bad name"]
    assert "not a regular file" in errors["folder"]
    assert "params/gbk.yaml, line 1: the file is not UTF-8 text" in errors["gbk"]


def test_yml_and_upper_case_extensions_are_branches_and_twins_are_an_error(project, monkeypatch):
    monkeypatch.setenv("FUNNELKIT_DEMO_DB", str(project / "absent.duckdb"))  # branch names are not checked here
    _project_with(project)
    (project / "params" / "beta.yml").write_text("branch: 乙分公司\n", encoding="utf-8")
    (project / "params" / "gamma.YAML").write_text("branch: 丙分公司\n", encoding="utf-8")
    (project / "params" / "delta.yaml").write_text("branch: 丁分公司\n", encoding="utf-8")
    (project / "params" / "delta.yml").write_text("branch: 丁分公司\n", encoding="utf-8")
    good, _, failed = plan(project / "params", project / "notebooks")
    assert [b.slug for b in good] == ["alpha", "beta", "gamma"]
    (twin,) = failed
    assert twin.slug == "delta" and "params/delta.yaml and params/delta.yml would share" in twin.detail


def test_a_stray_defaults_file_fails_every_branch(project):
    _project_with(project)
    (project / "params" / "Defaults.yml").write_text("lang: en\n", encoding="utf-8")
    good, _, failed = plan(project / "params", project / "notebooks")
    assert good == [] and [r.slug for r in failed] == ["alpha"]
    assert "params/Defaults.yml: the shared defaults must be named defaults.yaml" in failed[0].detail


def test_a_mistake_in_the_defaults_fails_every_branch_and_names_the_defaults(project):
    _project_with(project, beta="branch: 乙分公司\n")
    with (project / "params" / "defaults.yaml").open("a", encoding="utf-8") as defaults:
        defaults.write("  typo: 1\n")  # inside the smoke section, line 8
    good, _, failed = plan(project / "params", project / "notebooks")
    assert good == [] and sorted(r.slug for r in failed) == ["alpha", "beta"]
    for result in failed:
        (problem,) = _problem_lines(result.detail)
        assert problem.startswith("  - params/defaults.yaml, line 8, key 'smoke.typo'"), problem


def test_alias_bomb_is_refused_at_once(project):
    _project_with(project, bomb=alias_bomb(levels=9))
    started = time.perf_counter()
    good, _, failed = plan(project / "params", project / "notebooks")
    assert time.perf_counter() - started < 5
    assert [b.slug for b in good] == ["alpha"] and [r.slug for r in failed] == ["bomb"]
    assert (
        "params/bomb.yaml, line 2, key 'l0': value '&l0' — anchors (&name) and aliases (*name) are not allowed"
        in failed[0].detail
    )
    assert len(failed[0].detail) < 10_000


def test_twenty_thousand_unknown_keys_are_checked_in_about_a_second(project):
    keys = "".join(f"unknown_parameter_{i:06d}: value {i}\n" for i in range(20_000))
    _project_with(project, big="branch: 乙分公司\n" + keys)
    plan(project / "params", project / "notebooks")  # the notebook's parameters, inspected once
    started = time.perf_counter()
    _, _, failed = plan(project / "params", project / "notebooks")
    assert time.perf_counter() - started < 3
    assert failed[0].error == "20,000 problem(s) in params (params/big.yaml); the first 50 shown:"
    assert "params/big.yaml, line 20001, key 'unknown_parameter_019999'" not in failed[0].detail  # 50 shown
    assert "params/big.yaml, line 2, key 'unknown_parameter_000000'" in failed[0].detail


def test_a_ten_megabyte_params_file_is_checked_in_seconds(project):
    line = "  - {key: stage_%07d, zh: 阶段, en: A stage with a longer English label}\n"
    text = "branch: 乙分公司\nstages:\n" + "".join(line % i for i in range(150_000)) + "as_of: 2024-02-30\n"
    assert len(text.encode()) > 10_000_000
    _project_with(project, big=text)
    plan(project / "params", project / "notebooks")
    started = time.perf_counter()
    _, _, failed = plan(project / "params", project / "notebooks")
    assert time.perf_counter() - started < 8
    (problem,) = _problem_lines(failed[0].detail)
    assert problem.startswith("  - params/big.yaml, line 150003, key 'as_of'")


def test_personal_data_in_params_is_masked_in_problems(project):
    _project_with(project, personal=PERSONAL)
    _, _, failed = plan(project / "params", project / "notebooks")
    detail = failed[0].detail
    assert len(_problem_lines(detail)) == 3
    assert PHONE not in detail and ID_NUMBER not in detail and "138****5678" in detail
    assert "330102********1234" in detail


def test_long_values_are_cut_in_problems(project):
    _project_with(project, long="branch: 乙分公司\nsmoke:\n  greeting: [" + ", ".join(["word"] * 500) + "]\n")
    _, _, failed = plan(project / "params", project / "notebooks")
    (problem,) = _problem_lines(failed[0].detail)
    assert "value ['word', 'word'" in problem and len(problem) < 300


def test_timeout_below_one_second_is_refused():
    for command in (["batch", "--timeout", "0"], ["run", "--branch", "x", "--timeout", "-5"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2 and "Invalid value for '--timeout'" in result.output
        assert "x>=1" in result.output


@pytest.mark.e2e
def test_code_in_a_params_file_never_runs_and_the_good_branch_is_published(project, tmp_path):
    marker = tmp_path / "code-ran"
    _project_with(project, evil=code_execution(marker))
    batch = run_batch(project_root=project, workers=1)
    status = {r.slug: r for r in batch.results}
    assert status["alpha"].ok, status["alpha"].detail
    assert not status["evil"].ok and "explicit tags" in status["evil"].detail
    assert not marker.exists()
    assert (batch.run_dir / "alpha" / "smoke.html").exists() and not (batch.run_dir / "evil").exists()


@pytest.mark.e2e
def test_hostile_batch_through_the_cli(project, tmp_path):
    """Code, an alias bomb, a number as a key and personal data next to a good branch: the
    bad ones never reach a kernel, the run is quick, the good one is published, nothing
    written or printed holds a raw phone or ID number or a traceback."""
    marker = tmp_path / "code-ran"
    _project_with(
        project,
        evil=code_execution(marker),
        bomb=alias_bomb(levels=9),
        numbers="branch: 戊分公司\n123: x\n",
        personal=PERSONAL,
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "funnelkit.cli", "batch"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "FUNNELKIT_HOME": str(project)},
    )
    assert time.perf_counter() - started < 120
    console = done.stdout + done.stderr
    assert done.returncode == 1 and "4 of 5 notebook runs failed" in console, console
    assert "Traceback" not in console and PHONE not in console and ID_NUMBER not in console
    assert not marker.exists()
    run = Path(done.stdout.strip()).parent
    assert (run / "alpha" / "smoke.html").exists()
    assert not any((run / slug).exists() for slug in ("evil", "bomb", "numbers", "personal"))
    for path in (p for p in run.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        assert PHONE not in text and ID_NUMBER not in text and "Traceback" not in text, path
    assert (run / "run.json").stat().st_size < 100_000


def test_a_params_file_named_like_a_phone_number_fails_masked(project):
    (project / "params" / "13812345678.yaml").write_text("branch: 甲分公司\n", encoding="utf-8")
    _, _, failed = plan(project / "params", project / "notebooks")
    (result,) = failed
    assert "13812345678" not in f"{result.slug} {result.detail}" and "safe branch folder name" in result.detail
