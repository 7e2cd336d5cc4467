"""``outputs/latest``: the newest successful report of every branch, whichever run made it;
old run folders pruned, never one ``latest`` still shows."""

from __future__ import annotations

import json
from pathlib import Path

from funnelkit.batch.latest import prune_runs
from funnelkit.batch.runner import Result, run_batch
from tests.batch.test_faults import add_branch, quick_failure


def quick_report(job):
    """Runs in a worker instead of a notebook: publishes a one-line report and a table."""
    folder = Path(job.run_dir) / job.slug
    (folder / job.notebook).mkdir(parents=True, exist_ok=True)
    (folder / job.notebook / "t.csv").write_text("a\n1\n", encoding="utf-8")
    (folder / f"{job.notebook}.html").write_text(f"<p>{job.slug} {Path(job.run_dir).name}</p>", encoding="utf-8")
    return Result(job.slug, job.branch, job.notebook, "ok", seconds=0.1)


def shown(outputs: Path) -> dict[str, str]:
    """slug → run id of the report ``latest`` shows for it, checked against the file itself."""
    latest = outputs / "latest"
    entries = json.loads((latest / "latest.json").read_text(encoding="utf-8"))["entries"]
    runs = {e["slug"]: e["run_id"] for e in entries if e["status"] == "ok"}
    for slug, run in runs.items():
        assert (latest / slug / "smoke.html").read_text(encoding="utf-8") == f"<p>{slug} {run}</p>"
        assert (latest / slug / "smoke" / "t.csv").is_file()
    return runs


def test_a_one_branch_run_updates_that_branch_and_keeps_the_others(project: Path):
    outputs = project / "outputs"
    add_branch(project, "alpha")
    add_branch(project, "beta")
    first = run_batch(project_root=project, workers=1, run_job=quick_report)
    assert shown(outputs) == {"alpha": first.run_id, "beta": first.run_id}
    second = run_batch(project_root=project, branches=["beta"], workers=1, run_job=quick_report)
    assert shown(outputs) == {"alpha": first.run_id, "beta": second.run_id}
    index = (outputs / "latest" / "index.html").read_text(encoding="utf-8")
    assert 'href="alpha/smoke.html"' in index and 'href="beta/smoke.html"' in index
    assert first.run_id in index  # a report older than the newest run says which run made it
    assert not list(outputs.glob(".latest-*")) and len(list((outputs / ".latest").iterdir())) == 1


def test_a_failure_never_hides_the_report_before_it(project: Path):
    outputs = project / "outputs"
    add_branch(project, "alpha")
    add_branch(project, "beta")
    first = run_batch(project_root=project, workers=1, run_job=quick_report)
    run_batch(project_root=project, branches=["alpha"], workers=1, run_job=quick_failure)  # latest not moved
    assert shown(outputs) == {"alpha": first.run_id, "beta": first.run_id}


def test_a_branch_whose_params_are_gone_leaves_latest(project: Path):
    outputs = project / "outputs"
    add_branch(project, "alpha")
    add_branch(project, "beta")
    run_batch(project_root=project, workers=1, run_job=quick_report)
    (project / "params" / "beta.yaml").unlink()
    second = run_batch(project_root=project, workers=1, run_job=quick_report)
    assert shown(outputs) == {"alpha": second.run_id}


def test_latest_survives_its_runs_being_pruned_and_an_older_kits_link_is_read(project: Path):
    outputs = project / "outputs"
    add_branch(project, "alpha")
    add_branch(project, "beta")
    first = run_batch(project_root=project, workers=1, run_job=quick_report)
    (outputs / "latest").unlink()
    (outputs / "latest").symlink_to(first.run_id, target_is_directory=True)  # as older kits left it
    runs = [run_batch(project_root=project, branches=["beta"], workers=1, run_job=quick_report) for _ in range(3)]
    assert shown(outputs) == {"alpha": first.run_id, "beta": runs[-1].run_id}
    removed = prune_runs(outputs, keep=1)
    assert removed == [r.run_id for r in runs[:2]]  # the first run stays: latest shows its alpha
    assert {p.name for p in outputs.iterdir() if p.name[0].isdigit()} == {first.run_id, runs[-1].run_id}
    assert shown(outputs) == {"alpha": first.run_id, "beta": runs[-1].run_id}


def test_the_batch_prunes_to_keep(project: Path):
    outputs = project / "outputs"
    add_branch(project, "alpha")
    batches = [run_batch(project_root=project, workers=1, run_job=quick_report, keep=2) for _ in range(3)]
    assert {p.name for p in outputs.iterdir() if p.name[0].isdigit()} == {b.run_id for b in batches[1:]}
    assert shown(outputs) == {"alpha": batches[-1].run_id}
