"""Skipped is not failed: a branch without a notebook's data, or that does not run it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from funnelkit.batch import runner
from funnelkit.batch.runner import plan, run_batch
from funnelkit.cli import main

COUNTS = "branch,period,segment,stage,count\n甲分公司,2006,商企,target,100\n乙分公司,2006,商企,target,80\n"


@pytest.fixture
def counts_only(project, monkeypatch):
    """Two branches with stage counts only; the smoke notebook is made to need customers."""
    (project / "counts.csv").write_text(COUNTS, encoding="utf-8")
    for slug, branch in (("alpha", "甲分公司"), ("beta", "乙分公司")):
        (project / "params" / f"{slug}.yaml").write_text(
            f"branch: {branch}\nfiles: {{stage_counts: counts.csv}}\n", encoding="utf-8"
        )
    monkeypatch.setattr(runner, "_needs", lambda notebook: (("customers",),))
    return project


def test_a_notebook_whose_data_the_branch_lacks_is_skipped_not_failed(counts_only):
    batch = run_batch(project_root=counts_only, workers=1)
    assert [(r.slug, r.status) for r in batch.results] == [("alpha", "skipped"), ("beta", "skipped")]
    assert batch.failed == [] and len(batch.skipped) == 2
    assert batch.results[0].error == "the branch has no customers table, which the smoke report needs"
    recorded = json.loads((batch.run_dir / "run.json").read_text(encoding="utf-8"))
    assert {r["status"] for r in recorded["results"]} == {"skipped"}
    index = batch.index.read_text(encoding="utf-8")
    assert "未运行" in index and "no customers table" in index and "未生成（失败）" not in index


def test_the_command_exits_zero_when_notebooks_are_only_skipped(counts_only, monkeypatch):
    monkeypatch.setenv("FUNNELKIT_HOME", str(counts_only))
    done = CliRunner().invoke(main, ["batch", "--workers", "1"])
    assert done.exit_code == 0, done.output
    assert "skipped" in done.output


def test_a_branch_lists_the_notebooks_it_runs(project):
    (project / "counts.csv").write_text(COUNTS, encoding="utf-8")
    files = "files: {stage_counts: counts.csv}\n"
    (project / "params" / "alpha.yaml").write_text(f"branch: 甲分公司\n{files}notebooks: [smoke]\n", encoding="utf-8")
    (project / "params" / "beta.yaml").write_text(f"branch: 乙分公司\n{files}notebooks: []\n", encoding="utf-8")
    (project / "params" / "gamma.yaml").write_text(f"branch: 乙分公司\n{files}notebooks: [tiers]\n", encoding="utf-8")
    good, _, failed = plan(project / "params", project / "notebooks")
    assert [b.slug for b in good] == ["alpha", "beta"]
    assert good[0].runs("smoke") and not good[1].runs("smoke")
    assert "notebooks" not in good[0].for_notebook("smoke")  # never injected into a notebook
    (problem,) = failed
    assert problem.slug == "gamma" and "notebooks must list notebooks of this kit (smoke)" in problem.detail
    assert runner._skip_reason(good[1], "smoke", project) == "not among the branch's notebooks ()"


@pytest.mark.parametrize("analysis", ["funnel", "lost", "ltv", "tiers"])
def test_the_tables_an_analysis_needs_are_read_without_importing_it(analysis):
    import importlib
    import subprocess
    import sys

    # In a fresh interpreter: planning learns NEEDS from the source, and imports no analysis.
    probe = (
        "import sys; from funnelkit.batch.runner import _needs; "
        f"print(repr(_needs({analysis!r})), any(m.startswith('funnelkit.{analysis}') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out[-1] == "False"
    assert runner._needs(analysis) == importlib.import_module(f"funnelkit.{analysis}").NEEDS != ()


def test_a_notebook_without_an_analysis_package_needs_nothing():
    assert runner._needs("smoke") == runner._needs("my report.v2") == ()
