"""The batch: every notebook for every branch, executed with papermill, published as HTML.

``plan`` reads and checks every branch's params before any kernel starts; ``execute_job``
runs one notebook for one branch inside a worker process and publishes its files
atomically; ``run_batch`` fans the jobs out over an executor and writes the index.

A fault leaves nothing behind: Ctrl-C kills the workers and their kernels, removes staging
and publishes nothing more (:class:`~funnelkit.exceptions.BatchInterrupted`); an
``outputs/`` that cannot be written is an :class:`~funnelkit.exceptions.OutputError`
without temporary files; ``outputs/latest`` moves only to a run that published something.
"""

from __future__ import annotations

import errno
import functools
import os
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from funnelkit import __version__
from funnelkit.data import sources
from funnelkit.exceptions import BatchInterrupted, FunnelkitError, OutputError, ParamsError, ParamsProblem, shorten
from funnelkit.paths import inside
from funnelkit.privacy import mask_notebook_file, mask_text, mask_text_file

from .params import BranchParams, ParamsFile, branch_files, load_branch, load_defaults, read_params

KERNEL_NAME = "funnelkit"
#: The kit's kernel's environment. Arrow allocates from the C allocator, as numpy and pandas
#: do, so memory freed by one is reused by the others: with Arrow's own pool a large branch's
#: kernel kept the blocks a read had freed while numpy allocated afresh (the funnel report at
#: 10 million leads peaked about 60 MB higher, no faster). BLAS runs in the kernel's own
#: thread: the batch runs a kernel per core, and OpenBLAS's waiting threads took the other
#: kernels' cores (the funnel report at 10 million leads: 13 processor seconds for 10 s of
#: wall time; 10.6 for 10.3 with one thread). numpy asks for no 2 MB pages: with them each
#: array of 4 MB or more is backed by whole huge pages the system must find and clear at
#: once, and the kernel's resident set grows by 2 MB steps (the funnel report at 10 million
#: leads: loading and analysis 7.7–8.2 s and 943–976 MB with them, 6.7–6.9 s and 936–956 MB
#: without). The C allocator keeps one pool for all the kernel's threads: with a pool per
#: thread, the memory one thread freed stayed out of the other's reach (the funnel report,
#: whose timing sections run beside its forecast, at 10 million leads: 980–1,006 MB with a
#: pool per thread, 934–955 MB with one; the same time).
KERNEL_ENV = {
    "ARROW_DEFAULT_MEMORY_POOL": "system",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMPY_MADVISE_HUGEPAGE": "0",
    "MALLOC_ARENA_MAX": "1",
}
CELL_TIMEOUT = 300  # seconds per cell
NOTEBOOK_TIMEOUT = 900  # seconds per notebook
STAGING = ".staging"


@dataclass(frozen=True)
class Job:
    """One notebook for one branch; plain data so it can travel to any worker."""

    slug: str
    branch: str
    notebook: str
    notebook_path: str
    parameters: dict
    run_dir: str
    project_root: str
    kernel_name: str = KERNEL_NAME
    cell_timeout: int = CELL_TIMEOUT
    notebook_timeout: int = NOTEBOOK_TIMEOUT
    key: str = ""  # the job's cache key (:mod:`funnelkit.batch.cache`); "" when none
    warm_next: bool = False  # start and warm a kernel for the worker's next notebook
    warm_modules: tuple[str, ...] = ()  # what a warm kernel imports before its notebook


@dataclass
class Result:
    slug: str
    branch: str
    notebook: str
    # "ok", "reused" (unchanged since run ``reused_from``: its files were brought over),
    # "failed" or "skipped" (the branch lacks the notebook's data, or does not run it)
    status: str
    seconds: float = 0.0
    error: str = ""  # first line, for the summary table
    detail: str = ""  # the whole user-facing message
    peak_mb: float | None = None  # the kernel's peak resident memory, where measured
    cpu_seconds: float | None = None  # the kernel's processor seconds (user + system), where measured
    reused_from: str = ""
    warm_kernel: bool = False  # the notebook ran in a kernel started and warmed ahead
    forked_kernel: bool = False  # its kernel was forked from a zygote that had imported the kit

    @property
    def ok(self) -> bool:
        """Published in this run: executed, or reused unchanged."""
        return self.status in ("ok", "reused")


@dataclass
class Batch:
    run_id: str
    run_dir: Path
    results: list[Result] = field(default_factory=list)
    index: Path | None = None
    fingerprint: str = ""
    warnings: list[str] = field(default_factory=list)  # for the user, e.g. a stale ``latest``

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def skipped(self) -> list[Result]:
        return [r for r in self.results if r.status == "skipped"]

    @property
    def reused(self) -> list[Result]:
        return [r for r in self.results if r.status == "reused"]


def discover_notebooks(notebooks_dir: Path) -> dict[str, Path]:
    """Name → path of every notebook in ``notebooks_dir`` (checkpoints and drafts starting
    with ``_`` left out)."""
    return {p.stem: p for p in sorted(notebooks_dir.glob("*.ipynb")) if not p.stem.startswith("_")}


def plan(
    params_dir: Path, notebooks_dir: Path, *, branches: list[str] | None = None, notebooks: list[str] | None = None
) -> tuple[list[BranchParams], list[str], list[Result]]:
    """Check every branch file against every notebook; return the good branches, the
    selected notebook names and a failed Result for each (branch, notebook) with bad params.

    Each branch stands alone: whatever is wrong with one branch file fails that branch only
    (a problem in ``params/defaults.yaml`` fails every branch, as every branch reads it)."""
    available = discover_notebooks(notebooks_dir)
    if not available:
        raise FunnelkitError(f"no notebooks found in {notebooks_dir}")
    selected = notebooks or list(available)
    unknown = [n for n in selected if n not in available]
    if unknown:
        raise FunnelkitError(f"unknown notebook(s) {', '.join(unknown)}; available: {', '.join(available)}")
    root = params_dir.parent
    files = branch_files(params_dir)
    read = {file: read_params(file, root=root) for file in files}
    if branches:
        files = [f for f in files if f.stem in branches or _branch_name(read[f]) in branches]
        if not files:
            raise FunnelkitError(
                f"no branch {', '.join(branches)} in {params_dir}; available: {', '.join(f.stem for f in read)}"
            )
    if not files:
        raise FunnelkitError(f"no branch params in {params_dir} (expected files like params/hangzhou.yaml)")
    defaults = load_defaults(params_dir, root=root)
    folders: dict[str, list[Path]] = {}
    for file in read:  # every file, selected or not: they would share one output folder
        folders.setdefault(file.stem.casefold(), []).append(file)
    good, failed, reported = [], [], set()
    for file in files:
        if file.stem in reported:
            continue
        reported.add(file.stem)
        try:
            twins = folders[file.stem.casefold()]
            if len(twins) > 1:
                raise ParamsError(
                    [
                        ParamsProblem(
                            read[file].shown,
                            None,
                            None,
                            None,
                            f"{' and '.join(read[t].shown for t in twins)} would share the output folder '{file.stem}'",
                            "keep one file per branch (folder names ignore case on Windows and macOS)",
                        )
                    ]
                )
            branch = load_branch(file, available, root=root, defaults=defaults, own=read[file])
            _check_branch_in_data(branch, read[file], root)
            good.append(branch)
        except ParamsError as error:
            text = str(error)
        except Exception as error:
            text = f"could not check the params of {read[file].shown}: {type(error).__name__}: {shorten(error)}"
        else:
            continue
        text = mask_text(text)
        label = shorten(_branch_name(read[file]) or file.stem)
        failed += [
            Result(mask_text(file.stem), label, n, "failed", error=text.splitlines()[0], detail=text) for n in selected
        ]
    return good, selected, failed


def _skip_reason(branch: BranchParams, notebook: str, root: Path) -> str | None:
    """Why ``branch`` does not run ``notebook`` (it lists other notebooks, or lacks a table
    the notebook cannot run without: the analysis's ``NEEDS``), or None. A source that cannot
    be read is not a reason to skip: the notebook then says what is wrong with it."""
    if not branch.runs(notebook):
        return f"not among the branch's notebooks ({', '.join(branch.values['notebooks'])})"
    needs = _needs(notebook)
    values = branch.values
    for group in needs:
        try:
            found = [
                t
                for t in group
                if sources.locate(
                    t, source=values.get("source") or "", files=values.get("files") or {}, required=False, root=root
                )
            ]
        except FunnelkitError:
            return None
        if not found:
            return f"the branch has no {' or '.join(group)} table, which the {notebook} report needs"
    return None


def _needs(notebook: str) -> tuple:
    """The table groups a notebook's analysis cannot run without (``funnelkit.<notebook>.NEEDS``).

    Read from the analysis module's source when it assigns ``NEEDS`` a literal, as
    :func:`_warm_modules` reads a notebook's imports: importing the analysis (SciPy,
    statsmodels, its charts with matplotlib and seaborn) took 1.6 s, longer than the rest of
    planning, and held back every notebook of the batch.
    """
    import ast
    import importlib
    import importlib.util

    # The package's folder, found without importing the package (which imports its analysis).
    try:
        package = importlib.util.find_spec(f"funnelkit.{notebook}")
    except ModuleNotFoundError:  # a dotted name whose first part is no package
        return ()
    if package is None or not package.submodule_search_locations:  # a notebook of the user's own
        return ()
    for folder in package.submodule_search_locations:
        source = Path(folder) / "analysis.py"
        if not source.is_file():
            continue
        for node in ast.parse(source.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "NEEDS" for t in node.targets):
                with suppress(ValueError):  # not a literal: imported below
                    return ast.literal_eval(node.value)
    return getattr(importlib.import_module(f"funnelkit.{notebook}"), "NEEDS", ())


def _label(good: list[BranchParams], slug: str) -> str:
    return next(b.branch for b in good if b.slug == slug)


def _check_branch_in_data(branch: BranchParams, own: ParamsFile, root: Path) -> None:
    """A branch name its data does not know fails the branch at planning time, naming the
    closest name found; a data source that cannot be read is left to the notebooks, which
    say what is wrong with it."""
    from funnelkit.data.sources import missing_branch

    values = branch.values
    try:
        why = missing_branch(
            branch.branch,
            source=values.get("source") or "",
            files=values.get("files") or {},
            stages=values.get("stages") or None,
            root=root,
        )
    except FunnelkitError:
        return
    if why:
        raise ParamsError(
            [
                ParamsProblem(
                    own.shown,
                    own.lines.get(("branch",)),
                    "branch",
                    None,
                    why,
                    "write the branch exactly as the data's branch column does",
                )
            ]
        )


def _branch_name(params: ParamsFile) -> str | None:
    """The branch a params file names, as far as it could be read (a label for messages)."""
    value = params.values.get("branch")
    return value if isinstance(value, str) else None


def input_files(project_root: Path, branches: list[BranchParams]) -> list[Path]:
    """Every file a run reads: params, notebooks and the files each branch's tables are read
    from, found as the loader finds them (not every file of a source folder)."""
    from funnelkit.data.sources import input_paths

    files = set((project_root / "params").glob("*.yaml")) | set((project_root / "notebooks").glob("*.ipynb"))
    for branch in branches:
        files |= input_paths(
            source=branch.values.get("source") or "", files=branch.values.get("files") or {}, root=project_root
        )
    return sorted(p for p in files if p.is_file())


def fingerprint(files: list[Path]) -> str:
    """SHA-256 over the names and bytes of ``files``: the same inputs give the same print."""
    import hashlib

    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def new_run_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


# -- in the worker ------------------------------------------------------------------------


@contextmanager
def _deadline(seconds: int):
    """A whole-notebook time limit (papermill's timeout is per cell). Unix only: elsewhere
    the per-cell limit still applies."""
    if not hasattr(signal, "SIGALRM") or seconds <= 0:
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"notebook did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _kernel_log(path: Path):
    """Send this process's stdout/stderr, and so the kernel's (it inherits them), to a log
    file: kernel chatter belongs in ``outputs/<run>/logs/``, not in the batch's summary."""
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = [os.dup(1), os.dup(2)]
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def _execute(job: Job, executed: Path, parameters: dict, log: Path, result: Result):
    """Execute the notebook in a kernel of its own: the worker's warmed spare when there is
    one; meanwhile the next notebook's kernel starts and warms (``job.warm_next``)."""
    import papermill as pm
    import zmq

    from . import kernels

    # Kernels' connection files go to the run's staging folder rather than /tmp: when a
    # kernel is killed with its worker, removing staging removes the file too.
    folder = inside(Path(job.run_dir), STAGING, "kernels")
    spec = (job.kernel_name, job.project_root, folder)
    for attempt in range(3):
        km, result.warm_kernel = kernels.take(*spec, log, job.warm_modules)
        result.forked_kernel = km.zygote is not None
        try:
            # Only from a process's main thread (local workers): Linux ties a kernel's death
            # signal to the thread that started it, and executor threads come and go.
            if job.warm_next and attempt == 0 and threading.current_thread() is threading.main_thread():
                spare_log = inside(Path(job.run_dir), "logs", f".spare-kernel-{os.getpid()}.log")
                kernels.prepare(*spec, spare_log, job.warm_modules)
            return pm.execute_notebook(
                job.notebook_path,
                str(executed),
                parameters=parameters,
                kernel_name=job.kernel_name,
                cwd=job.project_root,
                execution_timeout=job.cell_timeout,
                progress_bar=False,
                log_output=False,
                report_mode=False,
                # Papermill otherwise writes the whole notebook, images and all, before and
                # after every cell: seconds of the worker's processor per notebook. It still
                # writes it at the end, also after a failing cell or a deadline.
                request_save_on_cell_execute=False,
                km=km,
            )
        except (zmq.ZMQError, RuntimeError) as error:
            # Two kernels starting at once can race for a port: the kernel dies before it
            # replies, and no cell has run yet.
            text = str(error)
            if ("Address already in use" not in text and "died before replying" not in text) or attempt == 2:
                raise
            time.sleep(0.5 + attempt)
        finally:
            result.peak_mb = kernels.peak_memory_mb(km)
            result.cpu_seconds = kernels.cpu_seconds(km)
            kernels.release(km)


def _failed_cell_text(executed: Path) -> str:
    """What the failing cell showed: its error (name and message) or, for a funnelkit error
    shown without traceback, its printed message."""
    import nbformat

    try:
        notebook = nbformat.read(executed, as_version=4)
    except Exception:  # no notebook written yet (the kernel never started)
        return ""
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("papermill", {}).get("exception"):
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    return f"{output.ename}: {output.evalue}"
            return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream").strip()
    return ""


def _describe(error: BaseException, executed: Path) -> tuple[str, str]:
    """(first line, whole message) of an error, without a traceback."""
    from papermill.exceptions import PapermillExecutionError

    text = _failed_cell_text(executed) if executed.exists() else ""
    if not text and isinstance(error, PapermillExecutionError):
        text = f"{error.ename}: {error.evalue}"
    text = mask_text(text or f"{type(error).__name__}: {error}")
    return text.splitlines()[0], text


def execute_job(job: Job) -> Result:
    """Run one notebook for one branch and publish its files; never raises."""
    os.environ["FUNNELKIT_HOME"] = job.project_root
    started = time.perf_counter()
    run_dir = Path(job.run_dir)
    staging = inside(run_dir, STAGING, job.slug, job.notebook)
    final = inside(run_dir, job.slug)
    tables = staging / "tables"
    shutil.rmtree(staging, ignore_errors=True)
    tables.mkdir(parents=True)
    final.mkdir(parents=True, exist_ok=True)
    executed = staging / f"{job.notebook}.ipynb"
    parameters = {**job.parameters, "output_dir": str(tables), "run_id": run_dir.name}
    result = Result(job.slug, job.branch, job.notebook, "ok")
    try:
        log = inside(run_dir, "logs", f"{job.slug}-{job.notebook}.log")
        with _deadline(job.notebook_timeout), _kernel_log(log):
            notebook = _execute(job, executed, parameters, log, result)
        mask_notebook_file(executed)  # the published .ipynb: parameters cell and outputs masked
        from .htmlexport import report_title, to_html

        lang = job.parameters.get("lang", "zh")
        (staging / f"{job.notebook}.html").write_text(
            to_html(
                notebook,
                title=report_title(job.branch, job.notebook, lang),
                lang=lang,
                name=job.notebook,
                downloads=[p.name for p in tables.iterdir() if p.suffix in (".csv", ".xlsx")],
            ),
            encoding="utf-8",
        )
        if job.key:  # what a later run with the same inputs reuses
            from .cache import JOB_FILE, job_record

            (tables / JOB_FILE).write_text(job_record(job.key, run_dir.name), encoding="utf-8")
        # Publish: each rename is atomic; the HTML goes last, so a report never links to
        # tables that are not there yet.
        os.replace(tables, inside(final, job.notebook))
        os.replace(executed, inside(final, f"{job.notebook}.ipynb"))
        os.replace(staging / f"{job.notebook}.html", inside(final, f"{job.notebook}.html"))
    except BaseException as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        result.status = "failed"
        result.error, result.detail = _describe(error, executed)
        if executed.exists():  # kept for debugging, never published as HTML
            failed_dir = inside(final, "_failed")
            failed_dir.mkdir(exist_ok=True)
            mask_notebook_file(executed, inside(failed_dir, f"{job.notebook}.ipynb"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result.seconds = time.perf_counter() - started
    return result


# -- in the parent ------------------------------------------------------------------------


def ensure_kernel(name: str = KERNEL_NAME) -> None:
    """Install the kit's kernelspec into this environment if it is missing (or lacks the
    kit's :data:`KERNEL_ENV`), so the batch never runs notebooks in some other Python an
    analyst's machine happens to have. Another kernel name is left as its owner set it up."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        spec = None
    if spec is None or (name == KERNEL_NAME and any(spec.env.get(k) != v for k, v in KERNEL_ENV.items())):
        from ipykernel.kernelspec import install

        env = KERNEL_ENV if name == KERNEL_NAME else None
        install(kernel_name=name, display_name="Python (funnelkit)", prefix=sys.prefix, env=env)


def run_batch(
    *,
    project_root: Path,
    branches: list[str] | None = None,
    notebooks: list[str] | None = None,
    workers: int | None = None,
    executor=None,
    scheduler: str | None = None,
    run_id: str | None = None,
    notebook_timeout: int = NOTEBOOK_TIMEOUT,
    on_result: Callable[[Result], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
    run_job: Callable[[Job], Result] | None = None,
    force: bool = False,
    on_progress: Callable[[dict[str, int]], None] | None = None,
    keep: int | None = None,
    lang: str | None = None,
) -> Batch:
    """Execute the selected notebooks for the selected branches and publish the run.

    A job whose key (:mod:`funnelkit.batch.cache`) matches a job published by an earlier
    run under ``outputs/`` is not executed: that job's files are brought into this run and
    its result is ``reused``. ``force`` executes every job.

    ``run_job`` replaces :func:`execute_job` (a picklable function; tests use it to make a
    worker die). ``on_progress`` receives the counts of reused, running, done, failed and
    skipped jobs whenever they change. ``keep``: after the run, remove all but the newest ``keep`` run folders
    (never one ``outputs/latest`` still shows); None keeps every run. ``lang``: the index
    page's language (default: ``lang`` in ``params/defaults.yaml``).

    Raises
    ------
    OutputError
        ``outputs/`` cannot be written (read-only, disk full); ``error.batch`` holds the
        results when the notebooks had already run.
    BatchInterrupted
        Ctrl-C: workers and kernels were killed and staging removed; nothing more was
        published, ``outputs/latest`` was not moved.

    Notes
    -----
    ``scheduler`` (else ``scheduler:`` in ``params/defaults.yaml``; ``"local"`` for neither)
    is the address of a Dask scheduler: the notebooks then run on its workers
    (:mod:`funnelkit.batch.dask_executor`) and ``workers`` is not used.
    """
    from funnelkit.report.files import json_text

    from .executors import LocalProcesses

    project_root = project_root.resolve()
    good, selected, failed = plan(
        project_root / "params", project_root / "notebooks", branches=branches, notebooks=notebooks
    )
    if executor is None:  # a Dask cluster when asked for; reached before anything is written
        from .dask_executor import executor_for

        executor = executor_for(scheduler, project_root / "params")
    run_id = run_id or new_run_id()
    outputs = project_root / "outputs"
    run_dir = inside(outputs, run_id)
    with _writing(run_dir, outputs):
        run_dir.mkdir(parents=True)
    skipped = {(b.slug, n): why for b in good for n in selected if (why := _skip_reason(b, n, project_root))}
    failed += [
        Result(slug, _label(good, slug), n, "skipped", error=why, detail=why) for (slug, n), why in skipped.items()
    ]
    batch = Batch(run_id, run_dir)
    available = discover_notebooks(project_root / "notebooks")
    warm = _warm_modules([available[n] for n in selected])
    jobs = [
        Job(
            slug=b.slug,
            branch=b.branch,
            notebook=n,
            notebook_path=str(available[n]),
            parameters=b.for_notebook(n),
            run_dir=str(run_dir),
            project_root=str(project_root),
            notebook_timeout=notebook_timeout,
            warm_modules=warm,
        )
        for b in good
        for n in selected
        if (b.slug, n) not in skipped
    ]
    planned = len(jobs)
    counts = dict.fromkeys(("reused", "running", "done", "failed", "skipped"), 0)
    try:
        batch.fingerprint = fingerprint(input_files(project_root, good))
        if on_plan:
            on_plan(len(jobs))

        def record(result: Result, running: int = 0) -> None:
            batch.results.append(result)
            counts[{"ok": "done"}.get(result.status, result.status)] += 1
            counts["running"] = running
            if on_result:
                on_result(result)
            if on_progress:
                on_progress(dict(counts))

        for result in failed:
            record(result)
        jobs = _keyed(jobs, {b.slug: b for b in good}, project_root, run_dir, record, force=force)
        if jobs:
            ensure_kernel()
            pool = executor or LocalProcesses(workers)
            slots = getattr(pool, "workers", None) or len(jobs)
            # The last jobs a worker may take have no next notebook to warm a kernel for.
            jobs = [replace(job, warm_next=i < len(jobs) - slots) for i, job in enumerate(jobs)]
            counts["running"] = min(slots, len(jobs))
            if on_progress:
                on_progress(dict(counts))
            orphans = _run_jobs(pool, jobs, record, run_job, slots=slots)
            # A worker process that died (out of memory, a crash in a library) breaks the whole
            # local pool and fails every job still queued on it: run those again, each in a pool
            # of its own, so only the job that kills its worker fails.
            for job in orphans:
                left = _run_jobs(LocalProcesses(1), [replace(job, warm_next=False)], record, run_job)
                for lost in left:
                    record(
                        Result(
                            lost.slug,
                            lost.branch,
                            lost.notebook,
                            "failed",
                            error="the worker process running this notebook died",
                        )
                    )
        shutil.rmtree(run_dir / STAGING, ignore_errors=True)
        batch.results.sort(key=lambda r: (r.slug, r.notebook))
        for log in (run_dir / "logs").glob("*.log"):  # kernel output may quote the data
            mask_text_file(log)
        with _writing(run_dir / "run.json", outputs, batch):
            _write_atomic(
                run_dir / "run.json",
                json_text(
                    {  # branch names and errors masked, not the fingerprint
                        "run_id": run_id,
                        "kit_version": __version__,
                        "fingerprint": batch.fingerprint,
                        "finished": datetime.now().isoformat(timespec="seconds"),
                        "results": [r.__dict__ for r in batch.results],
                    },
                    verbatim=("fingerprint",),
                ),
            )
        from .index import write_index

        with _writing(run_dir / "index.html", outputs, batch):
            batch.index = write_index(
                run_dir, batch.results, fingerprint=batch.fingerprint, lang=lang or _index_lang(project_root / "params")
            )
    except KeyboardInterrupt:
        from .executors import uninterrupted

        with uninterrupted():
            shutil.rmtree(run_dir / STAGING, ignore_errors=True)
            for slug in {job.slug for job in jobs}:  # folders made for jobs that never finished
                with suppress(OSError):
                    (run_dir / slug).rmdir()
        raise BatchInterrupted(
            finished=len(batch.results),
            published=sum(r.ok for r in batch.results),
            total=len(failed) + planned,
            run_dir=run_dir,
        ) from None
    if any(r.ok for r in batch.results):
        batch.warnings += _publish_latest(outputs, batch, project_root / "params", keep, lang)
    else:
        batch.warnings.append(f"{outputs / 'latest'} was not moved: no notebook of this run was published")
    return batch


def _publish_latest(outputs: Path, batch: Batch, params_dir: Path, keep: int | None, lang: str | None) -> list[str]:
    """Bring ``outputs/latest`` up to date with this run (:mod:`.latest`), then prune old
    run folders down to ``keep`` (None: keep them all); returns warnings for the user."""
    from .latest import prune_runs, update_latest

    try:
        warnings = update_latest(
            outputs,
            batch.run_dir,
            batch.results,
            branches={f.stem for f in branch_files(params_dir)},
            lang=lang or _index_lang(params_dir),
        )
    except (OSError, ValueError) as error:  # the run itself is published: say so, do not fail it
        reason = getattr(error, "strerror", None) or error
        return [f"{outputs / 'latest'} could not be updated ({reason}); it may show older reports"]
    if keep:
        with suppress(OSError):
            prune_runs(outputs, keep=keep, protect={batch.run_id})
    return warnings


@contextmanager
def _writing(path: Path, outputs: Path, batch: Batch | None = None):
    """Turn a failed write under ``outputs/`` into an :class:`OutputError` naming the file."""
    try:
        yield
    except OSError as error:
        if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            fix = f"Free space on the disk of {outputs}"
        elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            fix = f"Make {outputs} writable (or run from a project whose outputs/ is)"
        else:
            fix = f"Check {outputs}"
        raise OutputError(
            f"cannot write {path}: {error.strerror or error}. {fix}, then run the batch again.", batch=batch
        ) from None


def _write_atomic(path: Path, text: str) -> None:
    """Write ``path`` through a temporary file and a rename; a failed write leaves neither."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise


def _index_lang(params_dir: Path) -> str:
    """The index page's language: the shared default ``lang`` (branches may differ)."""
    from funnelkit.i18n import LANGS

    from .params import DEFAULTS_FILE, read_yaml

    try:
        lang = read_yaml(params_dir / DEFAULTS_FILE).get("lang", "zh")
    except (ParamsError, OSError):
        return "zh"
    return lang if lang in LANGS else "zh"


def _run_jobs(executor, jobs: list[Job], record: Callable, run=None, *, slots: int = 1) -> list[Job]:
    """Run ``jobs`` on ``executor``, recording each result with the number of jobs still
    running (at most ``slots`` at a time); return the jobs whose worker pool broke under
    them (they never ran to a result)."""
    from concurrent.futures.process import BrokenProcessPool

    orphans = []
    with executor as pool:
        futures = {pool.submit(run or execute_job, job): job for job in jobs}
        left = len(futures)
        for future in pool.as_completed(futures):
            job = futures[future]
            left -= 1
            if left < slots:  # a worker is idle from now on: import what writes the index meanwhile
                _import_soon("funnelkit.batch.index")
            try:
                record(future.result(), min(slots, left))
            except BrokenProcessPool:
                orphans.append(job)
            except Exception as error:  # the executor could not run the job at all
                record(
                    Result(
                        job.slug,
                        job.branch,
                        job.notebook,
                        "failed",
                        error=mask_text(f"worker failed: {type(error).__name__}: {error}").splitlines()[0],
                    ),
                    min(slots, left),
                )
    return orphans


@functools.cache
def _import_soon(module: str) -> None:
    """Import ``module`` in a background thread (once): the batch process waits for its
    workers then, and the import (the index imports plotting, about a second) is done by the
    time the index is written, rather than on the way there."""
    import importlib

    threading.Thread(target=importlib.import_module, args=(module,), name="funnelkit-import", daemon=True).start()


def _warm_modules(notebooks: list[Path]) -> tuple[str, ...]:
    """The modules the notebooks import (their ``import`` statements, read without running
    them): what a kernel started ahead imports while it waits for its notebook."""
    import ast

    import nbformat

    modules: set[str] = set()
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:  # IPython magics: the cell is left out
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module)
                    modules |= {f"{node.module}.{alias.name}" for alias in node.names if node.module == "funnelkit"}
    return tuple(sorted(modules))


def _keyed(jobs: list[Job], branches: dict, root: Path, run_dir: Path, record: Callable, *, force: bool) -> list[Job]:
    """Give each job its cache key; publish the jobs an earlier run already published with
    that key (recorded as ``reused``) and return the others, to execute. A job whose key
    cannot be computed (its data cannot be read) has none: it runs and is not kept for reuse."""
    from . import cache

    found = {} if force else cache.published(run_dir.parent, exclude=run_dir.name)
    prints: dict[str, str | None] = {}
    peer_prints: dict[str, str] = {}
    left = []
    for job in jobs:
        started = time.perf_counter()
        values = branches[job.slug].values
        try:
            if job.slug not in prints:
                prints[job.slug] = cache.data_print(values, root)
            peers = None
            if cache.reads_peers(Path(job.notebook_path)):
                where = repr([values.get(k) for k in ("source", "files", "stages", "as_of")])
                if where not in peer_prints:
                    peer_prints[where] = cache.peers_print(values, root)
                peers = peer_prints[where]
        except Exception:
            prints.setdefault(job.slug, None)
            peers = ""
        if prints[job.slug] is None or peers == "":
            left.append(job)
            continue
        key = cache.job_key(
            notebook=Path(job.notebook_path),
            parameters=job.parameters,
            data=prints[job.slug],
            peers=peers,
            kernel_name=job.kernel_name,
        )
        origin = cache.reuse(found[key], run_dir, job.slug, job.notebook) if key in found else None
        if origin is None:
            left.append(replace(job, key=key))
            continue
        record(
            Result(
                job.slug,
                job.branch,
                job.notebook,
                "reused",
                seconds=time.perf_counter() - started,
                reused_from=origin,
                detail=f"unchanged since run {origin}",
            )
        )
    return left
