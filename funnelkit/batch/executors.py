"""Where notebook jobs run: behind a small interface so another engine can take them.

The runner only needs ``submit(fn, *args)`` returning a future and ``as_completed`` over
those futures — the shape of :mod:`concurrent.futures`, which Dask distributed's
``Client`` also offers. Local worker processes are the default; to spread a batch over
machines, pass an executor built on ``distributed.Client`` (``client.submit`` /
``distributed.as_completed``) with the same two methods. Notebooks do not change.

Local workers and the kernels they start never outlive the batch: a worker dies with the
batch process (even one killed with ``kill -9``), a kernel dies with its worker, and an
interrupted batch kills its workers instead of waiting for their notebooks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import as_completed as _as_completed
from contextlib import contextmanager
from typing import Protocol

from jupyter_client.manager import AsyncKernelManager

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class Executor(Protocol):
    def submit(self, fn: Callable, /, *args) -> Future: ...
    def as_completed(self, futures: Iterable[Future]) -> Iterator[Future]: ...
    def __enter__(self) -> Executor: ...
    def __exit__(self, *exc) -> None: ...


@functools.cache
def _prctl() -> Callable | None:
    """libc's ``prctl`` on Linux, else None. Looked up once, before any fork: loading a
    library in a child between fork and exec is not safe."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):  # no libc or no prctl (sandboxes, unusual libcs)
        return None


def die_with_parent(parent_pid: int) -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; True if that is arranged.

    A process killed with SIGKILL cannot tell its children, so each child must hear of the
    death from the operating system. If the parent is already gone (it died before this
    call), exit at once: the signal would never come.
    """
    prctl = _prctl()
    arranged = prctl is not None and prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    if os.getppid() != parent_pid:
        os._exit(1)
    return arranged


def _watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Where there is no death signal: a daemon thread that ends this process once its
    parent is gone (the process is then adopted and its parent pid changes)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="funnelkit-parent-watch", daemon=True).start()


@contextmanager
def uninterrupted():
    """Ignore Ctrl-C for the duration (clean-up after an interrupt must not itself be cut
    short); the previous handler comes back afterwards. Only the main thread can do this."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        if previous is not None:  # None: a handler not installed from Python, nothing to restore
            signal.signal(signal.SIGINT, previous)


def _start_worker(parent_pid: int) -> None:
    """Initializer of every local worker process."""
    # Ctrl-C in a terminal reaches the whole foreground process group; the batch process
    # alone decides what an interrupt means (it kills the workers), so workers ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not die_with_parent(parent_pid):
        _watch_parent(parent_pid)


class KernelDiesWithWorker(AsyncKernelManager):
    """A kernel manager whose kernels are killed by Linux when the process that started
    them dies, however it dies. (ipykernel also polls its parent about once a second; this
    makes it immediate and does not depend on the kernel's implementation.)"""

    async def start_kernel(self, **kw) -> None:
        if _prctl() is not None:
            parent = os.getpid()
            # Popen keyword arguments are passed through to the kernel's launch.
            kw.setdefault("preexec_fn", lambda: die_with_parent(parent))
        await super().start_kernel(**kw)


class LocalProcesses:
    """Jobs in local worker processes (processes, not threads: a kernel's ``cwd`` is a
    process-wide chdir). ``spawn`` keeps workers free of the parent's threads and sockets."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalProcesses:
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        assert self._pool is not None
        if exc_type is None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        else:  # interrupted or failed: stop now rather than let running notebooks finish
            with uninterrupted():
                self.kill()

    def kill(self) -> None:
        """Cancel queued jobs and kill the workers (their kernels die with them)."""
        assert self._pool is not None
        # ProcessPoolExecutor has no public way to stop running jobs before Python 3.14
        # (``kill_workers``); its ``_processes`` maps pid → Process.
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        for process in processes:
            process.kill()
        for process in processes:
            process.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, fn: Callable, /, *args) -> Future:
        assert self._pool is not None, "use LocalProcesses as a context manager"
        return self._pool.submit(fn, *args)

    def as_completed(self, futures: Iterable[Future]) -> Iterator[Future]:
        return _as_completed(list(futures))
