"""End to end through the batch on a tiny notebook: publishing, offline HTML, failure isolation."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from funnelkit.batch.runner import run_batch

pytestmark = pytest.mark.e2e

GOOD_CSV = (
    "分公司,期间,客户类型,阶段,数量\n{b},2006,商企,目标客户,100\n{b},2006,商企,潜在客户,40\n{b},2006,商企,接触客户,17\n"
)
BROKEN_CSV = (
    "分公司,期间,客户类型,阶段,数量\n"
    "{b},2006,商企,目标客户,100\n{b},2006,商企,潜在客户,140\n{b},2006,商企,外星客户,-3\n"
)
EXTERNAL = re.compile(r"^\s*(https?:)?//", re.I)


def external_references(html: str) -> list[str]:
    """Every URL in a script/link/img/style/iframe tag or CSS url() that leaves the machine."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for tag in soup.find_all(["script", "link", "img", "iframe", "source", "video", "audio"]):
        for attribute in ("src", "href"):
            value = tag.get(attribute)
            if value and EXTERNAL.match(value):
                found.append(value)
    for style in soup.find_all("style"):
        found += [u for u in re.findall(r"url\(\s*['\"]?([^)'\"]+)", style.text) if EXTERNAL.match(u)]
    found += [u for u in re.findall(r"@import\s+['\"]([^'\"]+)", html) if EXTERNAL.match(u)]
    return found


@pytest.fixture
def two_branches(project: Path) -> Path:
    (project / "good.csv").write_text(GOOD_CSV.format(b="甲分公司"), encoding="gb18030")
    (project / "broken.csv").write_text(BROKEN_CSV.format(b="乙分公司"), encoding="utf-8-sig")
    (project / "params" / "alpha.yaml").write_text(
        "branch: 甲分公司\nfiles:\n  stage_counts: good.csv\n", encoding="utf-8"
    )
    (project / "params" / "beta.yaml").write_text(
        "branch: 乙分公司\nfiles:\n  stage_counts: broken.csv\n", encoding="utf-8"
    )
    (project / "params" / "gamma.yaml").write_text(
        "branch: 丙分公司\nfiles:\n  stage_counts: good.csv\nsmoke:\n  greeting: NO\n", encoding="utf-8"
    )
    return project


def test_batch_publishes_good_branch_and_isolates_failures(two_branches: Path):
    batch = run_batch(project_root=two_branches, workers=2)
    by_slug = {r.slug: r for r in batch.results}
    assert by_slug["alpha"].ok, by_slug["alpha"].detail
    assert not by_slug["beta"].ok and "DataValidationError" in by_slug["beta"].error
    assert "broken.csv" in by_slug["beta"].detail and "外星客户" in by_slug["beta"].detail
    assert "rise" in by_slug["beta"].detail.lower() or "rises" in by_slug["beta"].detail.lower()
    assert not by_slug["gamma"].ok and "boolean" in by_slug["gamma"].detail  # params, no kernel

    run = batch.run_dir
    html = (run / "alpha" / "smoke.html").read_text(encoding="utf-8")
    assert "冒烟测试报告" in html
    assert "load_table(" not in html and "report.summary(" not in html  # no code
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.select(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt, .highlight")
    assert "this warning text must never reach the HTML" not in html
    assert "Traceback" not in html and "'figures'" not in html  # no stray return values
    assert soup.html["lang"] == "zh"
    assert external_references(html) == []
    assert "<img" in html and "data:image/png;base64" in html

    csv = (run / "alpha" / "smoke" / "stage_totals.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf") and "目标客户".encode() in csv or b"target" in csv
    summary = json.loads((run / "alpha" / "smoke" / "summary.json").read_text(encoding="utf-8"))
    assert summary["figures"] == {"greeting": "你好", "total": 157}
    assert summary["run_id"] == batch.run_id

    assert not (run / "beta" / "smoke.html").exists()
    assert (run / "beta" / "_failed" / "smoke.ipynb").exists()  # kept for debugging
    assert not (run / ".staging").exists()
    latest = two_branches / "outputs" / "latest"
    assert (latest / "alpha" / "smoke.html").read_bytes() == (run / "alpha" / "smoke.html").read_bytes()
    assert not (latest / "beta").exists()  # a failed report is never shown
    back = BeautifulSoup(html, "html.parser").select_one("nav.fk-nav a[rel=up]")
    assert back["href"] == "../index.html"
    index = (run / "index.html").read_text(encoding="utf-8")
    assert 'href="alpha/smoke.html"' in index and "乙分公司" in index and external_references(index) == []


def test_cli_exits_non_zero_and_prints_summary(two_branches: Path):
    done = subprocess.run(
        [sys.executable, "-m", "funnelkit.cli", "batch", "--branch", "beta", "--branch", "alpha"],
        cwd=two_branches,
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "FUNNELKIT_HOME": str(two_branches)},
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "failed" in done.stderr
    assert done.stdout.strip().endswith("index.html")


def test_timeout_and_dead_kernel_fail_alone(project: Path):
    """Deterministic on a loaded machine: the notebooks that must finish get a generous limit
    in one batch; the one that must time out sleeps far longer than its own short limit."""
    (project / "good.csv").write_text(GOOD_CSV.format(b="甲分公司"), encoding="utf-8")
    for slug, greeting in (("alpha", "你好"), ("sleepy", "sleep"), ("dying", "die")):
        (project / "params" / f"{slug}.yaml").write_text(
            f"branch: 甲分公司\nfiles:\n  stage_counts: good.csv\nsmoke:\n  greeting: {greeting}\n", encoding="utf-8"
        )
    batch = run_batch(project_root=project, branches=["alpha", "dying"], workers=2, notebook_timeout=600)
    by_slug = {r.slug: r for r in batch.results}
    assert by_slug["alpha"].ok, by_slug["alpha"].detail
    assert not by_slug["dying"].ok and "DeadKernel" in by_slug["dying"].detail + by_slug["dying"].error
    assert (batch.run_dir / "alpha" / "smoke.html").exists()
    timed = run_batch(project_root=project, branches=["sleepy"], workers=1, notebook_timeout=5)
    (sleepy,) = timed.results
    assert not sleepy.ok and "5 s" in sleepy.detail and sleepy.seconds < 120  # the notebook sleeps 120 s
    for run, slug in ((batch, "dying"), (timed, "sleepy")):
        assert not (run.run_dir / slug / "smoke.html").exists()
        assert not (run.run_dir / slug / "smoke").exists()  # no half-published tables
        assert not (run.run_dir / ".staging").exists()


def die_on_beta(job):
    """Runs in a worker: the 'beta' job kills its worker process, the others succeed."""
    import os

    from funnelkit.batch.runner import Result

    if job.slug == "beta":
        os._exit(3)
    return Result(job.slug, job.branch, job.notebook, "ok", seconds=0.1)


def test_a_dying_worker_fails_only_its_own_job(two_branches: Path):
    (two_branches / "params" / "gamma.yaml").unlink()
    (two_branches / "delta.csv").write_text(GOOD_CSV.format(b="丁分公司"), encoding="utf-8")
    (two_branches / "params" / "delta.yaml").write_text(
        "branch: 丁分公司\nfiles:\n  stage_counts: delta.csv\n", encoding="utf-8"
    )
    batch = run_batch(project_root=two_branches, workers=2, run_job=die_on_beta)
    status = {r.slug: (r.status, r.error) for r in batch.results}
    assert status["alpha"][0] == "ok" and status["delta"][0] == "ok"
    assert status["beta"] == ("failed", "the worker process running this notebook died")
    assert len(batch.results) == 3
