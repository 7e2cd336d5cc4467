"""Faults around the batch leave nothing behind: kill -9, Ctrl-C, a full or read-only
``outputs/``, and an ``outputs/latest`` that must not move or cannot be moved.

Batches run for real (a subprocess, or in-process with spawned workers) on the tiny smoke
notebook; its ``greeting: sleep`` makes a kernel sleep for two minutes and ``die`` kills
its kernel. Processes are found through ``/proc``: every process of a batch under test
carries a marker in its environment (workers and kernels inherit it).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from funnelkit import cli
from funnelkit.batch.runner import Result, run_batch
from funnelkit.batch.zygote import KERNEL_NAME
from funnelkit.exceptions import OutputError

pytestmark = pytest.mark.e2e
linux_only = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="walks /proc (Linux)")

GOOD_CSV = "分公司,期间,客户类型,阶段,数量\n甲分公司,2006,商企,目标客户,100\n甲分公司,2006,商企,潜在客户,40\n"


def add_branch(project: Path, slug: str, greeting: str = "你好") -> None:
    if not (project / "good.csv").exists():
        (project / "good.csv").write_text(GOOD_CSV, encoding="utf-8")
    (project / "params" / f"{slug}.yaml").write_text(
        f"branch: 甲分公司\nfiles:\n  stage_counts: good.csv\nsmoke:\n  greeting: {greeting}\n", encoding="utf-8"
    )


def marked_processes(marker: str) -> dict[int, str]:
    """pid → command line of every live process whose environment holds ``marker``.
    Zombies are dead (they only wait for their parent to collect them) and left out."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            if marker.encode() not in (entry / "environ").read_bytes():
                continue
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):  # the process ended while we looked
            continue
    return found


def kernels(processes: dict[int, str]) -> list[int]:
    """The kernels among ``processes``: launched ones (their command line) and ones forked
    from a zygote (the name the fork gives itself)."""
    return [pid for pid, command in processes.items() if "ipykernel" in command or _name(pid) == KERNEL_NAME]


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def wait_for(condition, timeout: float, interval: float = 0.2):
    """Poll ``condition`` until it returns something true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


@pytest.fixture
def batch_process(project: Path):
    """Start ``funnelkit batch --workers 2`` on ``project`` as a real subprocess; yields
    (start, marker). Whatever the test leaves alive is killed afterwards, by pid."""
    marker = f"FUNNELKIT_TEST_MARKER={uuid.uuid4().hex}"
    started = []

    def start(**popen) -> subprocess.Popen:
        env = {**os.environ, "FUNNELKIT_HOME": str(project), marker.split("=")[0]: marker.split("=")[1]}
        process = subprocess.Popen(
            [sys.executable, "-m", "funnelkit.cli", "batch", "--workers", "2"], cwd=project, env=env, text=True, **popen
        )
        started.append(process)
        return process

    yield start, marker
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
    for pid in marked_processes(marker):
        os.kill(pid, signal.SIGKILL)


def wait_until_running(marker: str, process: subprocess.Popen, kernel_count: int = 2) -> dict[int, str]:
    running = wait_for(
        lambda: len(kernels(marked_processes(marker))) >= kernel_count or process.poll() is not None, timeout=90
    )
    assert running and process.poll() is None, "the batch ended before its kernels were running"
    return marked_processes(marker)


@linux_only
def test_kill_9_of_the_batch_takes_workers_and_kernels_with_it(project: Path, batch_process):
    start, marker = batch_process
    for slug in ("s1", "s2", "s3"):
        add_branch(project, slug, "sleep")
    batch = start(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    before = wait_until_running(marker, batch)
    workers = [pid for pid, command in before.items() if "spawn_main" in command]
    # two running notebooks, and maybe a kernel started ahead for the queued one: all must die
    assert len(workers) == 2 and len(kernels(before)) >= 2, before  # the test kills something real

    batch.kill()  # SIGKILL: the batch process gets no chance to clean up
    batch.wait()
    killed = time.monotonic()
    survivors = wait_for(lambda: not marked_processes(marker), timeout=5) or marked_processes(marker)
    assert survivors is True, f"still alive after kill -9 of the batch: {survivors}"
    assert time.monotonic() - killed < 5
    run_dir = next((project / "outputs").iterdir())
    assert not list(run_dir.rglob("*.html"))  # no worker went on to publish a queued notebook
    assert not (project / "outputs" / "latest").exists()


@linux_only
@pytest.mark.parametrize("who", ["terminal", "batch process"])
def test_ctrl_c_stops_within_seconds_and_leaves_no_staging(project: Path, batch_process, who: str):
    start, marker = batch_process
    add_branch(project, "alpha")
    for slug in ("s1", "s2", "s3"):
        add_branch(project, slug, "sleep")
    # A terminal's Ctrl-C reaches the whole foreground process group, `kill -INT` only the batch.
    batch = start(stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    outputs = project / "outputs"
    assert wait_for(lambda: list(outputs.glob("*/alpha/smoke.html")), timeout=90), "alpha never published"
    wait_until_running(marker, batch)  # two sleepers running, one still queued
    published = sorted(outputs.rglob("*.html"))

    interrupted = time.monotonic()
    if who == "terminal":
        os.killpg(batch.pid, signal.SIGINT)
    else:
        batch.send_signal(signal.SIGINT)
    stdout, stderr = batch.communicate(timeout=30)
    seconds = time.monotonic() - interrupted

    assert batch.returncode == 130, stderr
    assert seconds < 5, f"took {seconds:.1f} s to stop"
    lines = [line for line in stderr.splitlines() if "interrupted" in line]
    assert len(lines) == 1 and lines[0].startswith("interrupted: 1 of 4 notebooks finished (1 published)"), stderr
    assert "Traceback" not in stderr and "Task exception" not in stderr and "Aborted" not in stderr
    assert stdout == ""  # no index page printed
    survivors = wait_for(lambda: not marked_processes(marker), timeout=3) or marked_processes(marker)
    assert survivors is True, f"still alive after Ctrl-C: {survivors}"
    (run_dir,) = [p for p in outputs.iterdir() if p.name != "latest"]
    assert str(run_dir) in lines[0]
    assert not (run_dir / ".staging").exists()
    assert sorted(outputs.rglob("*.html")) == published  # no index, no report after the interrupt
    assert not (outputs / "latest").exists()
    assert sorted(p.name for p in run_dir.iterdir()) == ["alpha", "logs"]  # no empty folders of unfinished jobs


# -- a full or read-only outputs/ ----------------------------------------------------------


def quick_ok(job):
    """Runs in a worker instead of a notebook: an instant success (the faults below happen
    in the batch process, after the notebooks)."""
    return Result(job.slug, job.branch, job.notebook, "ok", seconds=0.1)


def quick_failure(job):
    return Result(job.slug, job.branch, job.notebook, "failed", seconds=0.1, error="RuntimeError: no luck")


def disk_full_for(monkeypatch, name: str) -> None:
    """Writing a file called ``name`` behaves as on a full disk: the file is created, no
    byte fits, the write raises ENOSPC."""
    write_text = Path.write_text

    def write(self, data, *args, **kwargs):
        if self.name == name:
            self.touch()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return write_text(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write)


@pytest.mark.parametrize("file", ["index.html", "run.json"])
def test_a_full_disk_is_a_clear_error_without_temporary_files(project: Path, monkeypatch, file: str):
    add_branch(project, "alpha")
    disk_full_for(monkeypatch, f".{file}.tmp")
    with pytest.raises(OutputError) as raised:
        run_batch(project_root=project, workers=1, run_job=quick_ok)
    message = str(raised.value)
    assert f"{file}: No space left on device. Free space on the disk of {project / 'outputs'}" in message
    assert [(r.slug, r.status) for r in raised.value.batch.results] == [("alpha", "ok")]
    (run_dir,) = (project / "outputs").iterdir()
    assert not list(run_dir.rglob("*.tmp")) and not list(run_dir.rglob(".*"))
    assert not (run_dir / "index.html").exists()
    assert not (project / "outputs" / "latest").exists()


def test_cli_prints_the_summary_then_the_output_error(project: Path, monkeypatch, capsys):
    add_branch(project, "alpha")
    monkeypatch.setenv("FUNNELKIT_HOME", str(project))
    disk_full_for(monkeypatch, ".index.html.tmp")
    monkeypatch.setattr(sys, "argv", ["funnelkit", "batch", "--workers", "1"])
    with pytest.raises(SystemExit) as exited:
        cli.entry()
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "alpha" in err and "smoke" in err and " ok " in err  # the results table, from a real run
    assert "error: cannot write" in err and "index.html: No space left on device" in err
    assert "Traceback" not in err
    assert err.index(" ok ") < err.index("error: cannot write")


def read_only_outputs(monkeypatch, outputs: Path) -> None:
    """A read-only file system under ``outputs``: creating anything there raises EROFS.
    (Tests run as root here, and root writes into a chmod-ed folder regardless.)"""
    mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):
        if self.parent == outputs:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)


def test_a_read_only_outputs_folder_is_a_clear_error(project: Path, monkeypatch, capsys):
    outputs = (project / "outputs").resolve()
    add_branch(project, "alpha")
    read_only_outputs(monkeypatch, outputs)
    monkeypatch.setenv("FUNNELKIT_HOME", str(project))
    monkeypatch.setattr(sys, "argv", ["funnelkit", "batch"])
    with pytest.raises(SystemExit) as exited:
        cli.entry()
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert f"error: cannot write {outputs}/" in err and f"Read-only file system. Make {outputs} writable" in err
    assert "Traceback" not in err
    assert list(outputs.iterdir()) == []


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0,
    reason="root writes into a read-only folder anyway (see the patched test above)",
)
def test_a_chmod_read_only_outputs_folder_is_a_clear_error(project: Path):
    add_branch(project, "alpha")
    outputs = project / "outputs"
    outputs.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="Permission denied"):
            run_batch(project_root=project, workers=1, run_job=quick_ok)
        assert list(outputs.iterdir()) == []
    finally:
        outputs.chmod(0o755)


# -- outputs/latest -------------------------------------------------------------------------


def test_a_run_where_everything_failed_leaves_latest_alone(project: Path):
    outputs = project / "outputs"
    (outputs / "20060101-000000-aaaa").mkdir()
    (outputs / "latest").symlink_to("20060101-000000-aaaa", target_is_directory=True)
    add_branch(project, "dying", "die")  # a real kernel that dies
    add_branch(project, "gamma", "NO")  # params refused before any kernel starts
    batch = run_batch(project_root=project, workers=2)
    assert [r.status for r in batch.results] == ["failed", "failed"]
    assert os.readlink(outputs / "latest") == "20060101-000000-aaaa"
    assert batch.index and batch.index.exists()  # the failed run still has its own index
    assert batch.warnings == [f"{outputs.resolve() / 'latest'} was not moved: no notebook of this run was published"]


def test_a_real_folder_at_latest_is_reported_not_replaced(project: Path, monkeypatch, capsys):
    outputs = project / "outputs"
    (outputs / "latest").mkdir()
    (outputs / "latest" / "index.html").write_text("a copy someone made", encoding="utf-8")
    add_branch(project, "alpha")
    monkeypatch.setenv("FUNNELKIT_HOME", str(project))
    monkeypatch.setattr(sys, "argv", ["funnelkit", "batch", "--workers", "1"])
    with pytest.raises(SystemExit) as exited:
        cli.entry()
    captured = capsys.readouterr()
    assert exited.value.code == 0
    assert (outputs / "latest").is_dir() and not (outputs / "latest").is_symlink()
    assert (outputs / "latest" / "index.html").read_text(encoding="utf-8") == "a copy someone made"
    (warning,) = [line for line in captured.err.splitlines() if line.startswith("warning: ")]
    assert f"{outputs.resolve() / 'latest'} still shows an older run: it is a real folder, not a link" in warning
    assert "Traceback" not in captured.err
    assert captured.out.strip().endswith("index.html")


def test_latest_moves_to_a_run_that_published_something(project: Path):
    outputs = project / "outputs"
    add_branch(project, "alpha")
    from tests.batch.test_latest import quick_report, shown

    first = run_batch(project_root=project, workers=1, run_job=quick_report)
    run_batch(project_root=project, workers=1, run_job=quick_failure)
    assert shown(outputs) == {"alpha": first.run_id}  # the failed run did not take it
    third = run_batch(project_root=project, workers=1, run_job=quick_report)
    assert shown(outputs) == {"alpha": third.run_id}
    assert third.warnings == []
    assert not list(outputs.glob(".latest-*"))
