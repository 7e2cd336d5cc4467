"""``outputs/latest``: the newest successful report of every branch, whichever run made it,
and the pruning of old run folders.

A manager bookmarks ``outputs/latest/index.html``. A run of one branch (``funnelkit run``)
or one notebook must not hide the others, so ``latest`` is not simply the newest run: it is
a view composed of, for every branch and notebook, the newest published report (with its
folder of tables), carried over from the previous view unless this run published a newer
one. A failure never replaces a report that exists; a notebook the branch no longer runs
(skipped) does; a branch whose params file is gone leaves the view.

The view is a folder ``outputs/.latest/<run id>/`` laid out like a run (reports hard-linked,
or copied where links are impossible, so deleting a run never breaks it) with its own
``index.html`` and ``latest.json`` (which run each report comes from). ``outputs/latest`` is a
symlink swapped atomically to the new view; where symlinks are not allowed, the view is
renamed into place.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from contextlib import suppress
from dataclasses import asdict
from pathlib import Path

from funnelkit.paths import inside, is_safe_name

LATEST = "latest"
VIEWS = ".latest"
STATE = "latest.json"
RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")  # :func:`funnelkit.batch.runner.new_run_id`
KEEP_RUNS = 10
#: Statuses of a report a run published (executed, or reused unchanged from an earlier run).
PUBLISHED = ("ok", "reused")


def _entries_of_run(run_dir: Path) -> list[dict]:
    """The results of a run folder made before ``latest`` was composed (its ``run.json``)."""
    try:
        results = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []
    return [{**r, "run_id": run_dir.name} for r in results if isinstance(r, dict)]


def current_view(outputs: Path) -> tuple[Path | None, list[dict]]:
    """The folder ``latest`` shows now and its entries (one per branch and notebook)."""
    latest = outputs / LATEST
    if not latest.exists():
        return None, []
    folder = latest.resolve()
    state = folder / STATE
    if state.is_file():
        try:
            return folder, json.loads(state.read_text(encoding="utf-8"))["entries"]
        except (OSError, ValueError, KeyError):
            return folder, []
    return folder, _entries_of_run(folder)  # ``latest`` of an older kit: a link to one run


def compose(previous: list[dict], results, run_id: str, *, branches: set[str] | None = None) -> list[dict]:
    """The entries of the new view: ``previous`` updated with this run's ``results``.

    Examples
    --------
    >>> old = [{"slug": "a", "notebook": "f", "status": "ok", "run_id": "r1"},
    ...        {"slug": "b", "notebook": "f", "status": "ok", "run_id": "r1"}]
    >>> new = [{"slug": "a", "notebook": "f", "status": "failed"}]
    >>> [(e["slug"], e["status"], e["run_id"]) for e in compose(old, new, "r2")]
    [('a', 'ok', 'r1'), ('b', 'ok', 'r1')]
    >>> new = [{"slug": "b", "notebook": "f", "status": "ok"}]
    >>> [(e["slug"], e["run_id"]) for e in compose(old, new, "r2", branches={"b"})]
    [('b', 'r2')]
    >>> reused = [{"slug": "a", "notebook": "f", "status": "reused"}]
    >>> [e["status"] for e in compose(compose(old, reused, "r2"), [{**reused[0], "status": "failed"}], "r3")]
    ['reused', 'ok']
    """
    entries = {(e["slug"], e["notebook"]): e for e in previous}
    for result in results:
        entry = {**(result if isinstance(result, dict) else asdict(result)), "run_id": run_id}
        key = (entry["slug"], entry["notebook"])
        if entry["status"] != "failed" or entries.get(key, {}).get("status") not in PUBLISHED:
            entries[key] = entry
    kept = [e for key, e in sorted(entries.items()) if branches is None or key[0] in branches]
    return kept


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(source, target)


def _fill(view: Path, entries: list[dict], sources: dict[str, Path]) -> list[dict]:
    """Link every published report of ``entries`` into ``view``; entries whose files are gone
    (a run folder deleted by hand) are dropped."""
    kept = []
    for entry in entries:
        slug, notebook = entry["slug"], entry["notebook"]
        if not (is_safe_name(slug) and is_safe_name(notebook)):
            continue
        if entry["status"] not in PUBLISHED:
            kept.append(entry)
            continue
        source = sources.get(entry["run_id"])
        report = source and source / slug / f"{notebook}.html"
        if not (report and report.is_file()):
            continue
        for path in [report, source / slug / f"{notebook}.ipynb", *sorted((source / slug / notebook).glob("*"))]:
            if path.is_file():
                _link_or_copy(path, inside(view, *path.relative_to(source).parts))
        kept.append(entry)
    return kept


def update_latest(outputs: Path, run_dir: Path, results, *, branches: set[str], lang: str = "zh") -> list[str]:
    """Compose the new ``latest`` view from the current one and this run; return warnings.

    ``branches`` are the slugs that still have a params file. ``latest`` is left alone, with
    a warning, when it is a real folder that the kit did not make (someone copied a run there).
    """
    from .index import write_index
    from .runner import Result, _write_atomic

    latest = outputs / LATEST
    if latest.exists() and not latest.is_symlink() and not (latest / STATE).is_file():
        kind = "folder" if latest.is_dir() else "file"
        return [
            f"{latest} still shows an older run: it is a real {kind}, not a link, so it was left as it is; "
            f"remove or rename it and the next run will point it at the newest reports"
        ]
    folder, previous = current_view(outputs)
    entries = compose(previous, results, run_dir.name, branches=branches)
    sources = {e["run_id"]: (outputs / e["run_id"]) for e in entries if is_safe_name(e["run_id"])}
    if folder is not None:  # reports carried over come from the view itself: their run may be pruned
        sources.update({e["run_id"]: folder for e in previous if is_safe_name(e.get("run_id", ""))})
    sources[run_dir.name] = run_dir
    view = inside(outputs, VIEWS, run_dir.name)
    shutil.rmtree(view, ignore_errors=True)
    view.mkdir(parents=True)
    entries = _fill(view, entries, sources)
    _write_atomic(view / STATE, json.dumps({"entries": entries}, ensure_ascii=False, indent=1))
    fields = Result.__dataclass_fields__
    shown = [Result(**{k: v for k, v in e.items() if k in fields}) for e in entries]
    write_index(view, shown, lang=lang, runs={(e["slug"], e["notebook"]): e["run_id"] for e in entries})
    warnings = _swap(outputs, view)
    for old in (outputs / VIEWS).iterdir():
        if old != view and old.resolve() != latest.resolve():
            shutil.rmtree(old, ignore_errors=True)
    return warnings


def _swap(outputs: Path, view: Path) -> list[str]:
    """Point ``outputs/latest`` at ``view``: a symlink replaced by rename, else (no symlinks)
    the folder itself renamed into place."""
    latest = outputs / LATEST
    temporary = outputs / f".latest-{view.name}"
    with suppress(OSError):
        temporary.unlink()  # left by an interrupted run
    try:
        temporary.symlink_to(Path(VIEWS) / view.name, target_is_directory=True)
    except OSError:
        old = outputs / f".latest-old-{view.name}"
        with suppress(OSError):
            latest.rename(old)
        try:
            shutil.copytree(view, latest, copy_function=_link_copy)
        except OSError as error:
            return [f"{latest} could not be replaced ({error.strerror or error}); it may show older reports"]
        shutil.rmtree(old, ignore_errors=True)
        return []
    try:
        if latest.is_dir() and not latest.is_symlink():  # a view renamed into place earlier
            shutil.rmtree(latest)
        os.replace(temporary, latest)
    except OSError as error:
        with suppress(OSError):
            temporary.unlink()
        return [f"{latest} still shows older reports: it could not be replaced ({error.strerror or error})"]
    return []


def _link_copy(source: str, target: str) -> None:
    _link_or_copy(Path(source), Path(target))


def _run_order(folder: Path) -> tuple[str, int]:
    """Oldest first: by the second in the run id, then (two runs in one second, whose random
    suffixes say nothing of their order) by when the run wrote its ``run.json``."""
    record = folder / "run.json"
    try:
        stamp = (record if record.exists() else folder).stat().st_mtime_ns
    except OSError:
        stamp = 0
    return folder.name[:15], stamp


def prune_runs(outputs: Path, *, keep: int = KEEP_RUNS, protect: set[str] = frozenset()) -> list[str]:
    """Remove all but the newest ``keep`` run folders (named like a run id); never one in
    ``protect`` or one a ``latest`` report still comes from. Returns the names removed."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    _, entries = current_view(outputs)
    used = {e.get("run_id") for e in entries} | set(protect)
    folders = [p for p in outputs.iterdir() if p.is_dir() and not p.is_symlink() and RUN_ID.match(p.name)]
    runs = [p.name for p in sorted(folders, key=_run_order)]
    removed = [name for name in runs[:-keep] if name not in used]
    for name in removed:
        shutil.rmtree(outputs / name, ignore_errors=True)
    return removed
