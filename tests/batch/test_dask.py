"""The batch on a Dask cluster (``distributed.LocalCluster``, two worker processes): the same
reports as a local run, a worker killed mid-job failing only its job, Ctrl-C stopping the
notebooks on the workers; and the ``scheduler`` setting's checks.

Processes are found as in test_faults: every worker and kernel of the cluster carries a
marker in its environment.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import dask
import pytest
from distributed import LocalCluster

from funnelkit.batch.dask_executor import DaskExecutor
from funnelkit.batch.runner import execute_job, plan, run_batch
from funnelkit.exceptions import FunnelkitError

from ..conftest import ROOT
from .test_faults import add_branch, kernels, marked_processes, wait_for

BRANCHES = ("ningbo", "jiaxing")


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes; a job may be tried on two workers before its
    workers' deaths count against it (``allowed-failures: 1``, to keep the test short)."""
    marker = uuid.uuid4().hex
    saved = {k: os.environ.get(k) for k in ("FUNNELKIT_DASK_TEST", "FUNNELKIT_DEMO_DB")}
    # Workers (and the workers restarted after a death) inherit this process's environment.
    os.environ.update(FUNNELKIT_DASK_TEST=marker, FUNNELKIT_DEMO_DB=str(ROOT / "data" / "demo.duckdb"))
    try:
        with (
            dask.config.set({"distributed.scheduler.allowed-failures": 1}),
            LocalCluster(
                n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=50
            ) as local,
        ):
            local.marker = f"FUNNELKIT_DASK_TEST={marker}"
            yield local
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def summaries(run_dir: Path) -> dict:
    """(branch, notebook) → what summary.json says, less what names the run itself."""
    found = {}
    for path in run_dir.glob("*/*/summary.json"):
        summary = json.loads(path.read_text(encoding="utf-8"))
        summary.pop("run_id", None)
        found[path.parent.parent.name, path.parent.name] = summary
    return found


def statuses(run_dir: Path, slugs) -> dict:
    results = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["results"]
    return {(r["slug"], r["notebook"]): (r["status"], r["error"]) for r in results if r["slug"] in slugs}


@pytest.mark.e2e
def test_a_batch_on_the_cluster_publishes_what_a_local_batch_does(demo_run, cluster, tmp_path: Path):
    project = tmp_path / "project"
    project.mkdir()
    for folder in ("params", "notebooks"):
        (project / folder).symlink_to(demo_run.run_dir.parent.parent / folder)
    (project / "outputs").mkdir()
    started = time.monotonic()
    batch = run_batch(project_root=project, branches=list(BRANCHES), scheduler=cluster.scheduler_address)
    print(f"cluster batch: {time.monotonic() - started:.1f} s for {len(batch.results)} notebooks")

    local, remote = demo_run.run_dir, batch.run_dir
    assert statuses(remote, BRANCHES) == statuses(local, BRANCHES)
    assert all(r.ok for r in batch.results), [(r.slug, r.notebook, r.detail) for r in batch.results]
    expected = {key: value for key, value in summaries(local).items() if key[0] in BRANCHES}
    assert len(expected) == 2 * 4 and summaries(remote) == expected
    tables = sorted(p.relative_to(local) for slug in BRANCHES for p in (local / slug).glob("*/*.csv"))
    assert tables and tables == sorted(p.relative_to(remote) for p in remote.glob("*/*/*.csv"))
    for table in tables:
        assert (remote / table).read_bytes() == (local / table).read_bytes(), table
    for slug in BRANCHES:
        for notebook in ("funnel", "tiers", "lost", "ltv"):
            assert (remote / slug / f"{notebook}.html").stat().st_size > 10_000
            assert (remote / "logs" / f"{slug}-{notebook}.log").exists()
    index = (remote / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{slug}/funnel.html"' in index for slug in BRANCHES)
    assert not (remote / ".staging").exists()
    assert (project / "outputs" / "latest").resolve().name == remote.name  # the composed view of this run


def kill_the_worker_on_beta(job):
    """In the worker's child process: the 'beta' job (a notebook that sleeps) kills the Dask
    worker process three seconds in, while its kernel runs; the others run as usual."""
    if job.slug == "beta":
        threading.Timer(3, os.kill, (os.getppid(), signal.SIGKILL)).start()
    return execute_job(job)


@pytest.mark.e2e
def test_a_worker_killed_mid_job_fails_that_job_alone(project: Path, cluster):
    add_branch(project, "alpha")
    add_branch(project, "beta", "sleep")
    add_branch(project, "delta")
    batch = run_batch(project_root=project, scheduler=cluster.scheduler_address, run_job=kill_the_worker_on_beta)
    by_slug = {r.slug: r for r in batch.results}
    assert by_slug["alpha"].ok and by_slug["delta"].ok, batch.results
    beta = by_slug["beta"]
    assert beta.status == "failed" and beta.error.startswith("the Dask worker running this notebook died (2 attempts")
    for slug in ("alpha", "delta"):
        assert (batch.run_dir / slug / "smoke.html").exists()
        assert json.loads((batch.run_dir / slug / "smoke" / "summary.json").read_text())["figures"]["total"] == 140
    assert not (batch.run_dir / "beta" / "smoke.html").exists() and not (batch.run_dir / ".staging").exists()
    assert wait_for(lambda: not kernels(marked_processes(cluster.marker)), timeout=15), "a kernel outlived its worker"
    assert wait_for(lambda: len(cluster.scheduler_info["workers"]) == 2, timeout=30)  # the nannies restarted them


@pytest.mark.e2e
def test_ctrl_c_stops_the_notebooks_on_the_workers(project: Path, cluster):
    add_branch(project, "alpha")
    for slug in ("s1", "s2", "s3"):
        add_branch(project, slug, "sleep")
    batch = subprocess.Popen(
        [sys.executable, "-m", "funnelkit.cli", "batch", "--scheduler", cluster.scheduler_address],
        cwd=project,
        env={**os.environ, "FUNNELKIT_HOME": str(project)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        outputs = project / "outputs"
        assert wait_for(lambda: list(outputs.glob("*/alpha/smoke.html")), timeout=90), "alpha never published"
        assert wait_for(lambda: len(kernels(marked_processes(cluster.marker))) >= 1, timeout=240)
        batch.send_signal(signal.SIGINT)
        _, stderr = batch.communicate(timeout=60)
    finally:
        batch.kill()
    assert batch.returncode == 130, stderr
    assert "interrupted: 1 of 4 notebooks finished (1 published)" in stderr and "Traceback" not in stderr
    assert wait_for(lambda: not kernels(marked_processes(cluster.marker)), timeout=15), "kernels left running"
    (run_dir,) = [p for p in outputs.iterdir() if p.name != "latest"]
    assert sorted(p.name for p in run_dir.iterdir()) == ["alpha", "logs"]
    assert not (outputs / "latest").exists()


def test_an_unreachable_scheduler_is_a_clear_error():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{free.getsockname()[1]}"
    with pytest.raises(
        FunnelkitError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:\d+.*dask scheduler"
    ):
        DaskExecutor(address, connect_timeout=1).connect()


def test_scheduler_is_a_batch_setting_of_the_defaults_only(project: Path):
    add_branch(project, "alpha")
    add_branch(project, "beta")
    defaults = project / "params" / "defaults.yaml"
    defaults.write_text(defaults.read_text(encoding="utf-8") + 'scheduler: "tcp://10.0.0.5:8786"\n', encoding="utf-8")
    (project / "params" / "beta.yaml").write_text(
        (project / "params" / "beta.yaml").read_text(encoding="utf-8") + "scheduler: local\n", encoding="utf-8"
    )
    good, _, failed = plan(project / "params", project / "notebooks")
    assert [b.slug for b in good] == ["alpha"] and "scheduler" not in good[0].for_notebook("smoke")
    (problem,) = {r.detail for r in failed}
    assert "params/beta.yaml" in problem and "scheduler applies to the whole batch" in problem


@pytest.mark.parametrize("value", ["10.0.0.5", "http://x:8786", "tcp://x:8786; rm -rf /", "[1, 2]"])
def test_a_bad_scheduler_setting_fails_every_branch_naming_it(project: Path, value: str):
    add_branch(project, "alpha")
    defaults = project / "params" / "defaults.yaml"
    defaults.write_text(defaults.read_text(encoding="utf-8") + f"scheduler: {value}\n", encoding="utf-8")
    good, _, failed = plan(project / "params", project / "notebooks")
    assert not good
    assert "params/defaults.yaml" in failed[0].detail and "address of a Dask scheduler" in failed[0].detail


def test_a_scheduler_without_workers_is_a_clear_error():
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as empty:
        executor = DaskExecutor(empty.scheduler_address, no_worker_wait=1)
        with pytest.raises(FunnelkitError, match="no Dask worker is connected") as raised:
            executor.connect()
        assert f"start one on each machine with `dask worker {empty.scheduler_address}`" in str(raised.value)
