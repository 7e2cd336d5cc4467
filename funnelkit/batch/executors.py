"""Where notebook jobs run: behind a small interface so another engine can take them.

The runner only needs ``submit(fn, *args)`` returning a future and ``as_completed`` over
those futures — the shape of :mod:`concurrent.futures`, which Dask distributed's
``Client`` also offers. Local worker processes are the default; to spread a batch over
machines, pass an executor built on ``distributed.Client`` (``client.submit`` /
``distributed.as_completed``) with the same two methods. Notebooks do not change.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import as_completed as _as_completed
from typing import Callable, Iterable, Iterator, Protocol


class Executor(Protocol):
    def submit(self, fn: Callable, /, *args) -> Future: ...
    def as_completed(self, futures: Iterable[Future]) -> Iterator[Future]: ...
    def __enter__(self) -> "Executor": ...
    def __exit__(self, *exc) -> None: ...


class LocalProcesses:
    """Jobs in local worker processes (processes, not threads: a kernel's ``cwd`` is a
    process-wide chdir). ``spawn`` keeps workers free of the parent's threads and sockets."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "LocalProcesses":
        self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self

    def __exit__(self, *exc) -> None:
        assert self._pool is not None
        self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, fn: Callable, /, *args) -> Future:
        assert self._pool is not None, "use LocalProcesses as a context manager"
        return self._pool.submit(fn, *args)

    def as_completed(self, futures: Iterable[Future]) -> Iterator[Future]:
        return _as_completed(list(futures))
