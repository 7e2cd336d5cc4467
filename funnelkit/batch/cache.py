"""Skip what has not changed: a key per job, and reuse of a published result with that key.

A job's key is a SHA-256 over the notebook's bytes, the branch's resolved parameters, the
fingerprint of the branch's *own* input data, and the kit (its version and the bytes of its
source files, so an edited kit never reuses a report made by the old code). The data
fingerprint covers every table the branch's params point at:

- a CSV or XLSX file: its bytes (a file shared by branches changes them all);
- a DuckDB table or a Parquet file: an aggregate computed inside DuckDB over the rows the
  loader gives this branch (count, XOR and sum of each row's hash, row positions included),
  with the branch's spellings bound as a parameter — another branch's rows do not count;
- a notebook that compares the branch with its peers (it calls ``load_peers``) also keys on
  every branch's stage counts, as the peer comparison reads them.

When any part cannot be computed (a source that cannot be read), the job has no key and
runs: the notebook then says what is wrong.

A published job leaves ``job.json`` (its key and run) in its table folder; a later run
whose job has the same key hard-links (or copies) the published files into its own folder
instead of starting a kernel.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from funnelkit import __version__
from funnelkit.exceptions import FunnelkitError
from funnelkit.paths import inside

JOB_FILE = "job.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file's bytes; cached on (path, size, mtime) for files branches share."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    stat = path.stat()
    return _file_digest(str(path), stat.st_size, stat.st_mtime_ns)


@functools.cache
def kit_print() -> str:
    """The kit's version and a hash of its source files (code, catalogues, templates)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".yaml", ".j2", ".css", ".json", ".tpl"):
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _rows_print(location, branch: str, stages) -> str:
    """Count, XOR and sum of the row hashes of ``branch``'s rows of a DuckDB table or a
    Parquet file, computed in DuckDB; the rows chosen as the loader chooses them."""
    import duckdb

    from funnelkit.data import sources
    from funnelkit.data.validation import map_headers

    with sources.open_connection(location) as con:
        columns = sources.source_columns(con, location)
        mapped, _ = map_headers(list(columns), table=location.table, file=location.label, stages=stages)
        sql, params = sources.relation(location)
        try:
            if "branch" not in mapped:
                return "no branch column"
            header = list(columns)[mapped.index("branch")]
            cell, spellings, warnings = sources.branch_spellings(
                con, location, sql, params, header=header, branch=branch
            )
            spellings = sorted(spellings)
            count, xor, total = con.execute(
                "SELECT count(*), bit_xor(hash(s)), sum(hash(s)::HUGEINT) "
                f"FROM (SELECT * FROM ({sql}) WHERE list_contains(?::VARCHAR[], {cell})) s",
                [*params, spellings],
            ).fetchone()
        except duckdb.Error as error:
            raise FunnelkitError(f"cannot fingerprint {location.label}: {error}") from None
    return json.dumps([list(columns.items()), spellings, count, str(xor), str(total), sorted(map(str, warnings))])


def data_print(values: dict, root: Path) -> str:
    """The fingerprint of one branch's own input data (every table its params point at)."""
    from funnelkit.data import sources
    from funnelkit.data.schema import TABLES, resolve_stages

    stages = resolve_stages(values.get("stages") or None)
    parts = {}
    for table in TABLES:
        location = sources.locate(
            table, source=values.get("source") or "", files=values.get("files") or {}, required=False, root=root
        )
        if location is None:
            parts[table] = None
        elif location.kind in ("csv", "xlsx"):
            parts[table] = [location.kind, location.path.name, file_digest(location.path)]
        else:
            parts[table] = [location.kind, location.name, _rows_print(location, values["branch"], stages)]
    return _sha(json.dumps(parts, sort_keys=True).encode())


@contextmanager
def _project(root: Path):
    """Peers are read relative to the project, as in a kernel of this run."""
    previous = os.environ.get("FUNNELKIT_HOME")
    os.environ["FUNNELKIT_HOME"] = str(root)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("FUNNELKIT_HOME", None)
        else:
            os.environ["FUNNELKIT_HOME"] = previous


def peers_print(values: dict, root: Path) -> str:
    """A hash of every branch's stage counts, as the peer comparison reads them."""
    import pandas as pd

    from funnelkit.data.loading import peer_stage_counts

    with _project(root):
        peers = peer_stage_counts(
            source=values.get("source") or "",
            files=values.get("files") or {},
            stages=values.get("stages") or None,
            as_of=values.get("as_of") or "",
        )
    return str(int(pd.util.hash_pandas_object(peers, index=False).sum()))


def reads_peers(notebook: Path) -> bool:
    """Whether a notebook compares its branch with the others (calls ``load_peers``)."""
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    return any(c.cell_type == "code" and "load_peers(" in c.source for c in cells)


def job_key(*, notebook: Path, parameters: dict, data: str, peers: str | None, kernel_name: str) -> str:
    """The key of one job: the same inputs, code and kit give the same key."""
    return _sha(
        json.dumps(
            {
                "notebook": file_digest(notebook),
                "parameters": parameters,
                "data": data,
                "peers": peers,
                "kit": kit_print(),
                "kernel": kernel_name,
            },
            sort_keys=True,
            default=str,
        ).encode()
    )


def published(outputs: Path, *, exclude: str) -> dict[str, Path]:
    """Key → the ``job.json`` of each published job in the runs under ``outputs`` (the
    newest run's when several have the same key)."""
    found: dict[str, tuple[str, Path]] = {}
    for path in outputs.glob(f"*/*/*/{JOB_FILE}"):
        run = path.parents[2].name
        if run == exclude or run.startswith(".") or path.parents[2].is_symlink():
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        key = record.get("key") if isinstance(record, dict) else None
        if isinstance(key, str) and (key not in found or run > found[key][0]):
            found[key] = (run, path)
    return {key: path for key, (run, path) in found.items()}


def job_record(key: str, run_id: str) -> str:
    return json.dumps({"key": key, "run_id": run_id}, indent=1)


def reuse(job_file: Path, run_dir: Path, slug: str, notebook: str) -> str | None:
    """Bring a published job (its HTML, notebook and table folder) into ``run_dir``; return
    the run it came from, or None when its files are no longer all there. The HTML comes
    last, as when publishing, so a report never links to tables that are not there."""
    tables = job_file.parent
    source = tables.parent
    files = [source / f"{notebook}.ipynb", source / f"{notebook}.html"]
    if not all(p.is_file() for p in files) or not tables.is_dir():
        return None
    try:
        origin = json.loads(job_file.read_text(encoding="utf-8"))["run_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    final = inside(run_dir, slug)
    final.mkdir(parents=True, exist_ok=True)
    staging = inside(run_dir, ".staging", slug, f"{notebook}-reused")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(tables, staging, copy_function=_link_or_copy)
    os.replace(staging, inside(final, notebook))
    for path in files:
        _link_or_copy(path, inside(final, path.name))
    return str(origin)


def _link_or_copy(source, target) -> None:
    """A hard link where the file system allows one (published files are never rewritten),
    else a copy."""
    target = Path(target)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:
        shutil.copy2(source, temporary)
    os.replace(temporary, target)
