"""Jobs on a Dask distributed cluster: ``funnelkit batch --scheduler tcp://host:8786``.

The batch process (the coordinator) plans, publishes and indexes exactly as it does with
local workers; only the execution of each notebook moves to a Dask worker. A worker runs
the notebook into a staging folder of its own inside the run
(``outputs/<run>/.staging/dask/<worker>/<run>/``, laid out like a run folder), and the
coordinator then moves the files into place with the same atomic renames as a local run,
the HTML last. This needs a shared filesystem: the project (params, notebooks, data) and
``outputs/`` must be reachable at the same paths on every machine.

On the worker each notebook runs in a child process of its own: the
kernel's working directory, the whole-notebook alarm and the redirected kernel output are
process-wide, and a Dask task runs in a thread. Failures:

- the child process dies (a crash in a library, the out-of-memory killer): that job fails
  at once with the reason, the Dask worker and the other jobs carry on;
- the Dask worker process itself dies (a machine lost, the worker killed): Dask runs the
  job again elsewhere, up to the scheduler's ``distributed.scheduler.allowed-failures``
  (3 unless configured), since the loss need not be the job's fault; after that the job
  fails with the reason;
- nothing hangs: a notebook is stopped on the worker after its time limit (plus
  :data:`GRACE` for the HTML); the coordinator fails the jobs left when no worker is
  connected for :data:`NO_WORKER_WAIT` seconds, when no job finishes within a time limit
  plus :data:`GRACE`, or when the connection to the scheduler is lost.

Ctrl-C in the coordinator tells the running jobs to stop (their notebooks and kernels are
killed on the workers), cancels the queued ones and publishes nothing more.
"""

from __future__ import annotations

import os
import pickle
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

from funnelkit.exceptions import FunnelkitError
from funnelkit.paths import inside
from funnelkit.privacy import mask_text

from .executors import _start_worker, uninterrupted
from .runner import STAGING, Job, Result, ensure_kernel

GRACE = 120  # seconds beyond a notebook's time limit: exporting the HTML, a busy machine
NO_WORKER_WAIT = 60  # seconds the batch waits for a worker to (re)connect before failing jobs
POLL = 1.0  # seconds between checks for finished, stopped or stuck jobs
CONNECT_TIMEOUT = 30  # seconds to reach the scheduler
STOP_WAIT = 15  # seconds Ctrl-C waits for the running jobs to stop on their workers


def executor_for(scheduler: str | None, params_dir: Path) -> DaskExecutor | None:
    """A connected :class:`DaskExecutor` for ``scheduler`` (else the ``scheduler:`` setting
    of ``params/defaults.yaml``), or None for local workers (no setting, or ``"local"``)."""
    if not scheduler:
        from .params import _SCHEDULER, DEFAULTS_FILE, read_yaml

        try:
            scheduler = read_yaml(params_dir / DEFAULTS_FILE).get("scheduler")
        except (FunnelkitError, OSError):  # the plan has failed every branch, naming the problem
            return None
        if not isinstance(scheduler, str) or not (scheduler == "" or _SCHEDULER.match(scheduler)):  # likewise
            return None
    if not scheduler.strip() or scheduler.strip() == "local":
        return None
    return DaskExecutor(scheduler.strip()).connect()


def run_on_worker(fn: Callable[[Job], Result], job: Job, stop: str) -> tuple[Result, str]:
    """Run ``fn(job)`` on a Dask worker into a staging folder of its own; return the result
    and that folder, from which the coordinator publishes. ``stop`` names the
    ``distributed.Event`` the coordinator sets on Ctrl-C. Never raises for a notebook's
    failure: only the worker's own death ends a task without a result."""
    from distributed import Event, get_worker

    where = f"Dask worker {get_worker().address}"
    run_dir = Path(job.run_dir)
    folder = inside(run_dir, STAGING, "dask", f"{job.slug}-{job.notebook}-{secrets.token_hex(4)}", run_dir.name)
    failed = lambda why: (Result(job.slug, job.branch, job.notebook, "failed", error=why, detail=why), str(folder))
    for shared in (Path(job.project_root), run_dir):
        if not shared.is_dir():
            return failed(
                f"{shared} is not reachable from {where}: every machine needs the project and its"
                " outputs folder on a shared mount at the same path"
            )
    stopping = Event(stop)
    if stopping.is_set():
        return failed("the batch was interrupted before this notebook started")
    ensure_kernel(job.kernel_name)
    limit = job.notebook_timeout + GRACE
    with tempfile.TemporaryDirectory(prefix="funnelkit-job-") as scratch:
        given, taken = Path(scratch, "job.pickle"), Path(scratch, "result.pickle")
        given.write_bytes(pickle.dumps((sys.path, pickle.dumps((fn, replace(job, run_dir=str(folder)))))))
        # A process of its own, not a Dask thread: a kernel's working directory, the
        # notebook's alarm and the redirected kernel output are process-wide. (Not
        # multiprocessing: a Dask worker is a daemonic process, which may not have children.)
        child = subprocess.Popen(
            [sys.executable, "-c", f"from {__name__} import child_main; child_main({os.getpid()})", given, taken],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        started = time.monotonic()
        while True:
            try:
                code = child.wait(timeout=POLL)
            except subprocess.TimeoutExpired:
                pass
            else:
                if taken.exists():
                    return pickle.loads(taken.read_bytes()), str(folder)
                how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
                return failed(f"the process running this notebook on {where} died ({how}: out of memory, or a crash)")
            if stopping.is_set():
                child.kill()  # its kernel dies with it
                child.wait()
                return failed("stopped: the batch was interrupted")
            if time.monotonic() - started > limit:
                child.kill()
                child.wait()
                return failed(f"notebook did not finish within {limit} s on {where}; it was stopped")


def child_main(parent: int) -> None:
    """The process one notebook runs in on a Dask worker (``python -c``; arguments: the
    pickled job's file and the result's). It dies with the worker, and ignores Ctrl-C as a
    local worker does: the coordinator decides what an interrupt means."""
    _start_worker(parent)
    # One notebook per process here: a zygote would import the kit once for one kernel,
    # which costs what launching that kernel costs.
    from . import kernels

    kernels.FORK = False
    given, taken = Path(sys.argv[1]), Path(sys.argv[2])
    path, job = pickle.loads(given.read_bytes())
    sys.path[:] = path  # where the worker finds the job's function
    fn, job = pickle.loads(job)
    result = fn(job)
    partial = taken.with_suffix(".partial")
    partial.write_bytes(pickle.dumps(result))
    os.replace(partial, taken)


def publish(job: Job, result: Result, folder: Path) -> Result:
    """Move what a worker left in ``folder`` into the run, as a local worker would have
    published it: each rename atomic, tables and notebook first, the HTML last."""
    run_dir = Path(job.run_dir)
    final = inside(run_dir, job.slug)
    final.mkdir(exist_ok=True)
    staged = inside(folder, job.slug)
    moves = [
        (
            inside(folder, "logs", f"{job.slug}-{job.notebook}.log"),
            inside(run_dir, "logs", f"{job.slug}-{job.notebook}.log"),
        ),
        (inside(staged, "_failed", f"{job.notebook}.ipynb"), inside(final, "_failed", f"{job.notebook}.ipynb")),
    ]
    if result.ok:
        html = inside(staged, f"{job.notebook}.html")
        if not html.exists():
            why = (
                f"the report this notebook produced is not visible here at {html}: the outputs folder"
                " must be on a shared mount at the same path on every machine"
            )
            result = replace(result, status="failed", error=why, detail=why)
        else:
            moves += [
                (inside(staged, job.notebook), inside(final, job.notebook)),
                (inside(staged, f"{job.notebook}.ipynb"), inside(final, f"{job.notebook}.ipynb")),
                (html, inside(final, f"{job.notebook}.html")),
            ]
    for source, target in moves:
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    return result


def _lost(job: Job, why: str) -> Result:
    why = mask_text(why)
    return Result(job.slug, job.branch, job.notebook, "failed", error=why.splitlines()[0], detail=why)


class DaskExecutor:
    """Jobs on the Dask cluster whose scheduler is at ``address`` (``tcp://host:8786``).

    ``submit(fn, job)`` takes a :class:`~funnelkit.batch.runner.Job`; ``as_completed``
    yields each job's future once its files are published (or it failed). Connecting
    checks the scheduler and waits up to ``no_worker_wait`` seconds for a worker.
    """

    def __init__(
        self, address: str, *, no_worker_wait: float = NO_WORKER_WAIT, connect_timeout: float = CONNECT_TIMEOUT
    ):
        self.address = address
        self.connect_timeout = connect_timeout
        self.no_worker_wait = no_worker_wait
        self.workers: int | None = None  # threads on the cluster when connected
        self._client = None
        self._stop = f"funnelkit-stop-{secrets.token_hex(8)}"
        self._remote: dict[Future, tuple] = {}  # our future → (Dask future, job)
        self._given_up: dict = {}  # Dask future → why the coordinator stopped waiting for it

    def connect(self) -> DaskExecutor:
        """Reach the scheduler and wait for a worker; a clear error when either fails."""
        if self._client is not None:
            return self
        try:
            from distributed import Client
        except ImportError:
            raise FunnelkitError(
                "running on a Dask cluster needs the dask extra: pip install -c constraints.txt -e '.[dask]'"
            ) from None
        try:
            self._client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise FunnelkitError(
                f"cannot reach the Dask scheduler at {self.address}: {error}. Start it with `dask scheduler`"
                " on that machine, or correct --scheduler / scheduler: in params/defaults.yaml"
            ) from None
        try:
            self._client.wait_for_workers(1, timeout=self.no_worker_wait)
        except TimeoutError:
            self.close()
            raise FunnelkitError(
                f"no Dask worker is connected to the scheduler at {self.address} (waited {self.no_worker_wait:.0f} s):"
                f" start one on each machine with `dask worker {self.address}`"
            ) from None
        self.workers = sum(self._client.nthreads().values())
        return self

    def close(self) -> None:
        if self._client is not None:
            with suppress(Exception):  # closing a client whose scheduler is gone may complain
                self._client.close()
            self._client = None

    def __enter__(self) -> DaskExecutor:
        return self.connect()

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None and self._remote:  # interrupted: stop the jobs on the workers
            with uninterrupted():
                self._halt()
        self.close()

    def _halt(self) -> None:
        from distributed import Event, wait

        remote = [f for f, _ in self._remote.values()]
        try:
            Event(self._stop, client=self._client).set()
            # Running jobs kill their notebooks within a poll; waiting for them means no
            # worker writes into the run after the batch has cleaned up.
            with self._client.as_current():
                wait(remote, timeout=STOP_WAIT)
        except Exception:  # stopping is best effort; the cancel below still runs
            pass
        finally:
            with suppress(Exception):  # a scheduler already gone has nothing left to cancel
                self._client.cancel(remote, force=True)

    def submit(self, fn: Callable, /, job: Job) -> Future:
        assert self._client is not None, "use DaskExecutor as a context manager"
        if getattr(job, "warm_next", False):  # a kernel warmed ahead would die with this job's process
            job = replace(job, warm_next=False)
        remote = self._client.submit(
            run_on_worker, fn, job, self._stop, pure=False, key=f"{job.slug}-{job.notebook}-{secrets.token_hex(4)}"
        )
        future: Future = Future()
        self._remote[future] = (remote, job)
        return future

    def as_completed(self, futures: Iterable[Future]) -> Iterator[Future]:
        from distributed import wait

        pending = {self._remote[f][0]: f for f in futures}
        progress = alone = time.monotonic()
        while pending:
            try:
                with self._client.as_current():  # not the process's default client
                    done = wait(list(pending), timeout=POLL, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            now = time.monotonic()
            if done:
                progress = now
            elif self._has_workers():
                alone = now
            elif now - alone > self.no_worker_wait:
                done = self._give_up(
                    pending, f"no Dask worker was connected to {self.address} for {self.no_worker_wait:.0f} s"
                )
            limit = max(self._remote[f][1].notebook_timeout for f in pending.values()) + GRACE
            if not done and now - progress > limit:
                done = self._give_up(pending, f"no notebook finished on the Dask cluster within {limit} s")
            for remote in done:
                future = pending.pop(remote)
                future.set_result(self._outcome(remote, self._remote[future][1]))
                yield future

    def _has_workers(self) -> bool:
        try:
            return bool(self._client.nthreads())
        except Exception:  # the scheduler is gone: no worker either, as far as the batch can tell
            return False

    def _give_up(self, pending: dict, why: str) -> set:
        with suppress(Exception):
            self._client.cancel(list(pending), force=True)
        self._given_up.update(dict.fromkeys(pending, why))
        return set(pending)

    def _outcome(self, remote, job: Job) -> Result:
        """The published result of a finished Dask future, or a failed one saying why."""
        from distributed.scheduler import KilledWorker

        if remote in self._given_up:
            return _lost(job, self._given_up[remote])
        if remote.status == "finished":
            result, folder = remote.result()
            return publish(job, result, Path(folder))
        if remote.status == "cancelled":
            return _lost(job, f"the Dask scheduler at {self.address} cancelled this notebook (connection lost?)")
        error = remote.exception()
        if isinstance(error, KilledWorker):
            return _lost(
                job,
                f"the Dask worker running this notebook died ({error.allowed_failures + 1} attempts, the last on"
                f" {error.last_worker.address}); see that worker's log",
            )
        return _lost(job, f"worker failed: {type(error).__name__}: {error}")
