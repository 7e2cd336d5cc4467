"""Where a table's data comes from, and reading one branch's raw rows of it.

A table is read from ``files[table]`` if given, else from ``source``: ``""`` (the demo
DuckDB database), a ``.duckdb``/``.db`` file, or a folder with one CSV/XLSX/Parquet file per
table. DuckDB and Parquet sources filter the branch inside DuckDB with bound parameters; CSV
and XLSX files are read whole (:mod:`funnelkit.data.files`) and cut to the branch before
validation. Which rows are the branch's is decided once per distinct branch cell
(:mod:`funnelkit.data.branches`). Every reader also returns each row's number as the user
sees it, and warnings for rows no branch reads.

Every DuckDB connection the kit opens has extension autoloading and autoinstalling off: a
file that looks like another format must never make DuckDB download code from the internet.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from funnelkit import paths
from funnelkit.exceptions import (
    DataSourceError,
    DataValidationError,
    FunnelkitError,
    Problem,
)

from . import branches
from . import files as readers
from .arrow import arrow_frame
from .schema import TABLES, Stage
from .validation import column_label, map_headers

FILE_KINDS = {".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet"}
DB_SUFFIXES = (".duckdb", ".db")
#: Spreadsheet formats the kit cannot read, found where a table's file was looked for.
UNSUPPORTED = {
    ".xls": "Excel 97-2003",
    ".xlsb": "Excel binary",
    ".et": "WPS",
    ".ods": "OpenDocument",
    ".numbers": "Numbers",
}
#: DuckDB settings of every connection: never fetch or load extensions on its own.
#: Columns other than text read in one result: each result is held twice (DuckDB's and
#: Arrow's copy) while it is turned into numpy, so a few columns at a time bound that.
COLUMNS_AT_ONCE = 2
OFFLINE = {"autoload_known_extensions": False, "autoinstall_known_extensions": False}


@dataclass(frozen=True)
class Location:
    """One table in one place: ``kind`` is csv, xlsx, parquet or duckdb."""

    kind: str
    path: Path
    table: str  # the contract table
    name: str = ""  # for duckdb: its name in the database (the contract name or a file stem)

    @property
    def label(self) -> str:
        shown = paths.shown(self.path)
        return f"{shown} (table {self.name})" if self.kind == "duckdb" else shown


def _resolve(path: str | Path, root: Path | None = None) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else (root or paths.project_root()) / path


def _duckdb_table(path: Path, table: str) -> str | None:
    """The contract name (or file stem) under which ``table`` exists in the database."""
    names = (table, *TABLES[table].file_stems)
    found = _table_names(path, _file_state(path), _file_state(path.with_name(path.name + ".wal")))
    return next((n for n in names if n.casefold() in found), None)


def _file_state(path: Path) -> tuple | None:
    """What tells one version of a file from another: inode, size, modification time."""
    try:
        state = path.stat()
    except OSError:
        return None
    return state.st_ino, state.st_size, state.st_mtime_ns


@functools.lru_cache(maxsize=16)
def _table_names(path: Path, state: tuple | None, wal: tuple | None) -> frozenset[str]:
    """The table names of a DuckDB file, case-folded; remembered for as long as neither the
    file nor its write-ahead log changes (``state``, ``wal``): a batch locates six tables
    for every branch, each otherwise a connection of its own."""
    with connect(path) as con:
        rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return frozenset(r[0].casefold() for r in rows)


def locate(
    table: str, *, source: str = "", files: dict | None = None, required: bool = True, root: Path | None = None
) -> Location | None:
    """Where ``table`` is read from; ``None`` when absent and not ``required``. Relative
    paths are taken from the project ``root`` (default :func:`funnelkit.paths.project_root`).
    The demo database is read only by a branch that names no data at all (no ``source``,
    no ``files``)."""
    files = files or {}
    unknown = set(files) - set(TABLES)
    if unknown:
        raise DataSourceError(
            f"params `files` names unknown table(s) {', '.join(map(str, sorted(unknown)))}; "
            f"tables are {', '.join(TABLES)}"
        )
    if files.get(table):
        path = _resolve(files[table], root)
        kind = FILE_KINDS.get(path.suffix.lower())
        if kind is None:
            raise DataSourceError(
                f"files[{table!r}] = {paths.shown(path)}: unknown file type {path.suffix!r}"
                f"{_format_name(path)}; use .csv, .xlsx or .parquet (open it in Excel or "
                f"WPS and save it as .xlsx)"
            )
        if not path.is_file():
            raise DataSourceError(f"files[{table!r}]: no file {paths.shown(path)}")
        return Location(kind, path, table)
    if not source and any(files.values()):
        # A branch that names its own files never reads the demo database: a table it did
        # not name is a table it does not have.
        if required:
            raise DataSourceError(
                f"table {table!r} is not among the branch's files ({', '.join(t for t in files if files[t])}) "
                f"and the branch names no source; add files: {{{table}: <path>}} or a source folder"
            )
        return None
    path = paths.demo_db(root) if not source else _resolve(source, root)
    if path.suffix.lower() in DB_SUFFIXES or not source:
        if not path.is_file():
            hint = "; run `funnelkit demo` to create it" if not source else ""
            raise DataSourceError(f"no DuckDB database at {paths.shown(path)}{hint}")
        name = _duckdb_table(path, table)
        found = None if name is None else Location("duckdb", path, table, name)
    elif path.is_dir():
        found = _find_in_folder(path, table)
    else:
        raise DataSourceError(
            f"params `source` = {source!r}: expected a .duckdb/.db file or a folder "
            f"of CSV/XLSX/Parquet files, found {'nothing' if not path.exists() else 'a file'} "
            f"at {paths.shown(path)}"
        )
    if found is None and required:
        stems = "/".join(TABLES[table].file_stems)
        raise DataSourceError(
            f"table {table!r} not found in {paths.shown(path)} (looked for a table or a file "
            f"named {stems} with extension .csv, .xlsx or .parquet)"
        )
    return found


def _format_name(path: Path) -> str:
    kind = UNSUPPORTED.get(path.suffix.lower())
    return f" ({kind})" if kind else ""


def _find_in_folder(folder: Path, table: str) -> Location | None:
    stems = {s.casefold() for s in TABLES[table].file_stems}
    named = sorted(
        p for p in folder.iterdir() if p.is_file() and p.stem.casefold() in stems and not p.name.startswith("~$")
    )
    hits = [p for p in named if p.suffix.lower() in FILE_KINDS]
    if len(hits) > 1:
        raise DataSourceError(
            f"{len(hits)} files for table {table!r} in {folder}: {', '.join(p.name for p in hits)}; keep one"
        )
    unreadable = [p for p in named if p.suffix.lower() in UNSUPPORTED]
    if unreadable and not hits:  # never skip a table the user did give, only in a format the kit cannot read
        listed = ", ".join(f"{p.name}{_format_name(p)}" for p in unreadable)
        raise DataSourceError(
            f"table {table!r}: found {listed} in {folder}, a format funnelkit cannot read; "
            f"open it in Excel or WPS and save it as {unreadable[0].stem}.xlsx "
            f"(or export it as CSV UTF-8)"
        )
    return Location(FILE_KINDS[hits[0].suffix.lower()], hits[0], table) if hits else None


def input_paths(*, source: str = "", files: dict | None = None, root: Path | None = None) -> set[Path]:
    """The files a branch's tables are read from, as :func:`locate` finds them: the ones a
    run's fingerprint covers (not every file of a ``source`` folder). A table that cannot
    be located is left out: its notebook reports why."""
    found = set()
    for table in TABLES:
        try:
            location = locate(table, source=source, files=files, required=False, root=root)
        except (FunnelkitError, OSError):
            continue
        if location is not None:
            found.add(location.path)
    return found


def open_duckdb(database: str | Path = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with :data:`OFFLINE` settings (every connection the kit opens)."""
    return duckdb.connect(str(database), read_only=read_only, config=dict(OFFLINE))


def _check_duckdb_file(path: Path) -> None:
    """A clear error for a file that is not a DuckDB database (DuckDB's own message would
    ask for an extension, or talk about its file format)."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(b"SQLite format 3\0"):
        raise DataSourceError(
            f"{paths.shown(path)} is a SQLite database, not DuckDB: export its tables as CSV into a "
            f"folder and point `source` at the folder (or copy them into a DuckDB file)"
        )
    if head[8:12] != b"DUCK":
        raise DataSourceError(
            f"{paths.shown(path)} is not a DuckDB database: a .duckdb/.db source must be a DuckDB file; "
            f"for other data put CSV/XLSX/Parquet files in a folder and point `source` at it"
        )


def _check_parquet_file(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(size - 4, 0))
        tail = handle.read(4)
    if size < 12 or head != b"PAR1" or tail != b"PAR1":
        raise DataSourceError(
            f"{paths.shown(path)} is not a Parquet file (it lacks Parquet's PAR1 markers): export the "
            f"table as Parquet again, or save it as .csv or .xlsx"
        )


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only, offline connection to the DuckDB file ``path``."""
    _check_duckdb_file(path)
    try:
        return open_duckdb(path, read_only=True)
    except duckdb.Error as error:
        raise DataSourceError(f"cannot open DuckDB database {paths.shown(path)}: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    """DuckDB's message without the SQL it quotes (the user did not write that SQL)."""
    return str(error).strip().splitlines()[0]


def quote(name: str) -> str:
    """``name`` as a DuckDB identifier (column names come from files, so always quote)."""
    return '"' + str(name).replace('"', '""') + '"'


# ---------------------------------------------------------------- DuckDB
def relation(location: Location) -> tuple[str, list]:
    """SQL for the table's rows with ``__row`` (1-based position) and its parameters."""
    if location.kind == "parquet":
        return (
            "SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS __row "
            "FROM read_parquet(?, file_row_number = true)",
            [str(location.path)],
        )
    return f"SELECT *, rowid + 1 AS __row FROM {quote(location.name)}", []


def open_connection(location: Location) -> duckdb.DuckDBPyConnection:
    """A connection to read ``location``: its database, or an in-memory one for Parquet."""
    if location.kind == "duckdb":
        return connect(location.path)
    _check_parquet_file(location.path)
    return open_duckdb()


def source_columns(con: duckdb.DuckDBPyConnection, location: Location) -> dict[str, str]:
    """Column name → DuckDB type of the table."""
    sql, params = relation(location)
    try:
        described = con.execute(f"DESCRIBE {sql}", params).fetchall()
    except duckdb.Error as error:
        raise DataSourceError(f"cannot read {location.label}: {_first_line(error)}") from None
    return {name: kind for name, kind, *_ in described if name != "__row"}


def branch_spellings(con, location: Location, sql: str, params: list, *, header: str, branch: str):
    """How ``branch`` is written in the ``header`` column of ``location`` (the relation ``sql``
    with ``params``), read as the loader reads branch cells: the SQL cell expression, the
    spellings that are this branch and the data warnings about the others
    (:func:`funnelkit.data.branches.sort_out`)."""
    cell = f"CAST({quote(header)} AS VARCHAR)"
    groups = con.execute(
        f"SELECT {cell} AS value, count(*) AS count, min(__row) AS first FROM ({sql}) GROUP BY ALL", params
    ).df()
    mine, warnings = branches.sort_out(
        groups, branch=branch, file=location.label, column=column_label(header, "branch")
    )
    return cell, groups["value"][mine].tolist(), warnings


def read_branch_sql(
    location: Location,
    *,
    branch: str,
    stages: tuple[Stage, ...],
    keep: dict | None = None,
    columns: tuple[str, ...] | None = None,
):
    """One branch's rows from DuckDB or Parquet, filtered inside DuckDB, and the warnings.

    The distinct branch cells (few) are sorted out in Python, then the branch's spellings
    are bound as a list. ``keep`` (contract column → test of its distinct cells,
    :func:`funnelkit.data.filters.keeps`) selects rows the same way: the cells that pass are
    bound as a list. The rows come through Arrow (:mod:`funnelkit.data.arrow`). With
    ``columns`` (contract names) only their source columns are read, and the frame's
    ``attrs["columns_read"]`` says so; every column is read when the source lacks a required
    one, so that validation names it as it always does.
    """
    with open_connection(location) as con:
        source = source_columns(con, location)
        mapped, _ = map_headers(list(source), table=location.table, file=location.label, stages=stages)
        sql, params = relation(location)
        selected = _selected(location.table, source, mapped, columns, stages)
        warnings: list[branches.DataWarning] = []
        try:
            if "branch" in mapped:
                header = list(source)[mapped.index("branch")]
                cell, spellings, warnings = branch_spellings(con, location, sql, params, header=header, branch=branch)
                sql = f"SELECT * FROM ({sql}) WHERE list_contains(?::VARCHAR[], {cell})"
                params = [*params, spellings]
                for name, passes in (keep or {}).items():  # filters and selections, exact again after validation
                    if name in mapped:
                        header = list(source)[mapped.index(name)]
                        sql, params = _kept_cells(con, sql, params, header=header, passes=passes)
            else:
                sql += " LIMIT 0"  # validation then reports the missing column
            con.execute("SET arrow_large_buffer_size = true")  # pandas keeps large_string as is
            frame, rows = _text_apart(con, sql, params, source, selected or list(source))
        except duckdb.Error as error:
            raise DataSourceError(f"cannot read {location.label}: {_first_line(error)}") from None
    if selected is not None:
        frame.attrs["columns_read"] = tuple(columns)
    return frame, rows, warnings


def date_extremes(location: Location, *, branch: str, stages: tuple[Stage, ...], columns) -> pd.DataFrame | None:
    """The earliest and latest day and the empty cells of each of the date ``columns``
    (contract names) among the branch's rows, counted inside DuckDB in one query: a frame
    indexed by column with ``first``, ``last`` and ``empty`` (a column the source lacks: no
    day, every cell empty). None when the table has no branch column or types one of the
    columns as other than DATE or TIMESTAMP (text or zoned times are read as validation
    reads them)."""
    with open_connection(location) as con:
        source = source_columns(con, location)
        mapped, _ = map_headers(list(source), table=location.table, file=location.label, stages=stages)
        branch_header, *headers = [list(source)[mapped.index(c)] if c in mapped else None for c in ("branch", *columns)]
        if branch_header is None or any(h is not None and source[h] not in ("DATE", "TIMESTAMP") for h in headers):
            return None
        sql, params = relation(location)
        days = [f"CAST({quote(h)} AS DATE)" if h is not None else "NULL::DATE" for h in headers]
        parts = [f"min({d}), max({d}), count(*) - count({d})" for d in days]
        try:
            cell, spellings, _ = branch_spellings(con, location, sql, params, header=branch_header, branch=branch)
            query = f"SELECT {', '.join(parts)} FROM ({sql}) WHERE list_contains(?::VARCHAR[], {cell})"
            found = con.execute(query, [*params, spellings]).fetchone()
        except duckdb.Error as error:
            raise DataSourceError(f"cannot read {location.label}: {_first_line(error)}") from None
    triples = [found[i : i + 3] for i in range(0, len(found), 3)]
    return pd.DataFrame(triples, index=list(columns), columns=["first", "last", "empty"])


def _kept_cells(con, sql: str, params: list, *, header: str, passes) -> tuple[str, list]:
    """``sql`` cut to the rows whose ``header`` cell ``passes`` (a test of the distinct cells,
    given as the loaded frame would hold them); the passing cells are bound as text, as
    DuckDB casts them."""
    cell = f"CAST({quote(header)} AS VARCHAR)"
    query = f"SELECT {quote(header)} AS value, {cell} AS text, min(__row) AS __row FROM ({sql}) GROUP BY ALL"
    distinct, _ = arrow_frame(con.sql(query, params=params).to_arrow_table())
    kept = distinct["text"][passes(distinct["value"])]
    empty = f" OR {quote(header)} IS NULL" if kept.isna().any() else ""
    return f"SELECT * FROM ({sql}) WHERE list_contains(?::VARCHAR[], {cell}){empty}", [*params, kept.dropna().tolist()]


def _text_apart(con, sql: str, params: list, source: dict, headers: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The ``headers`` of the rows ``sql`` selects, as a frame in source order, and the rows'
    numbers.

    Text is read in one result and every other column in another: pandas keeps text in the
    result's Arrow buffers, which DuckDB frees only all together, so dates and numbers (copied
    out into numpy) would otherwise stay in memory twice as long as the text lives. The
    other columns come :data:`COLUMNS_AT_ONCE` at a time, for the same reason."""
    text = [h for h in headers if source[h] == "VARCHAR"]
    rest = [h for h in headers if h not in text]
    groups = [
        group
        for group in (text, *(rest[i : i + COLUMNS_AT_ONCE] for i in range(0, len(rest), COLUMNS_AT_ONCE)))
        if group
    ] or [headers]
    parts, rows = [], None
    for group in groups:
        query = f"SELECT {', '.join(map(quote, [*group, '__row']))} FROM ({sql})"
        part, rows = arrow_frame(con.sql(query, params=params).to_arrow_table())
        if group is not text:  # numbers Arrow lends without a copy keep the whole result alive
            part = part.assign(**{c: part[c].copy() for c in part.columns if part[c].dtype.kind == "f"})
        parts.append(part)
    frame = pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]
    return frame[headers], rows


def _selected(table: str, source: dict, mapped: list, columns, stages) -> list[str] | None:
    """The source headers of the contract ``columns``, or None to read every column (no
    choice made, or a required column is missing: validation then names it)."""
    if columns is None:
        return None
    from .schema import table_columns

    if any(c.required and c.name not in mapped for c in table_columns(table, stages)):
        return None
    return [header for header, name in zip(source, mapped) if name in columns]


def read_file(location: Location) -> readers.Sheet:
    """All raw rows of a CSV or XLSX file."""
    if location.kind == "csv":
        return readers.read_csv(location.path)
    return readers.read_xlsx(location.path, location.table)


def _formula_problems(sheet: readers.Sheet, cells: list, labels: list[str]) -> list[Problem]:
    return [
        Problem(
            sheet.label,
            row or None,
            labels[column] if 0 <= column < len(labels) else None,
            formula,
            "formula without a cached value",
            f"cell {cell} of sheet {sheet.sheet!r}: open and save the file in Excel, which stores "
            f"each formula's result (or paste the cells as values)",
        )
        for (row, column), (cell, formula) in sorted(cells)
    ]


def read_branch_file(location: Location, *, table: str, branch: str, stages: tuple[Stage, ...]):
    """One branch's rows of a CSV or XLSX file, and the warnings.

    A formula without a cached value is a problem in the branch's rows and in the branch
    column (whose row it is cannot be known), never in another branch's other cells.
    """
    sheet = read_file(location)
    frame, rows = sheet.frame, sheet.rows
    mapped, _ = map_headers(list(frame.columns), table=table, file=location.label, stages=stages)
    labels = [column_label(h, m) if m else str(h) for h, m in zip(frame.columns, mapped)]
    if "branch" not in mapped:
        return frame.iloc[:0], rows[:0], []
    position = mapped.index("branch")
    groups, codes = branches.groups_of(frame.iloc[:, position], rows)
    mine, warnings = branches.sort_out(
        groups,
        branch=branch,
        file=location.label,
        column=labels[position],
        decode=sheet.readings if sheet.encoded else None,
    )
    keep = mine[codes] if len(codes) else np.zeros(0, dtype=bool)
    frame, rows = frame[keep].reset_index(drop=True), rows[keep]
    if sheet.formulas:
        own, read = set(rows.tolist()), set(sheet.rows.tolist())
        cells = [
            (key, value)
            for key, value in sheet.formulas.items()  # the header, or rows of no known branch
            if key[0] in own or key[1] in (position, -1) or key[0] not in read
        ]
        if cells:
            raise DataValidationError(_formula_problems(sheet, cells, labels))
    if sheet.encoded:
        frame = readers.decode_rows(sheet, frame, rows)
    return frame, rows, warnings


def read_branch(
    location: Location,
    *,
    table: str,
    branch: str,
    stages: tuple[Stage, ...],
    keep: dict | None = None,
    columns: tuple[str, ...] | None = None,
) -> tuple[pd.DataFrame, np.ndarray, list]:
    """The raw rows of ``branch``, their row numbers as the user sees them, and
    :class:`~funnelkit.data.branches.DataWarning` for rows no branch reads. ``keep``
    (contract column → test of its distinct cells, :func:`funnelkit.data.filters.keeps`) is
    pushed into DuckDB and Parquet queries, the passing cells bound as parameters; file
    sources are cut by :func:`funnelkit.data.filters.apply` after validation. ``columns``
    (contract names) limits what DuckDB and Parquet sources read (:func:`read_branch_sql`);
    files are read whole."""
    if location.kind in ("duckdb", "parquet"):
        return read_branch_sql(location, branch=branch, stages=stages, keep=keep, columns=columns)
    return read_branch_file(location, table=table, branch=branch, stages=stages)


def branch_names(location: Location, *, stages: tuple[Stage, ...]) -> list[str]:
    """The distinct branch names of a table, as the loader compares them (empty if the table
    has no branch column)."""
    if location.kind in ("duckdb", "parquet"):
        with open_connection(location) as con:
            columns = source_columns(con, location)
            mapped, _ = map_headers(list(columns), table=location.table, file=location.label, stages=stages)
            if "branch" not in mapped:
                return []
            sql, params = relation(location)
            header = quote(list(columns)[mapped.index("branch")])
            try:
                query = f"SELECT DISTINCT CAST({header} AS VARCHAR) FROM ({sql})"
                values = [value for (value,) in con.execute(query, params).fetchall()]
            except duckdb.Error as error:
                raise DataSourceError(f"cannot read {location.label}: {_first_line(error)}") from None
    else:
        sheet = read_file(location)
        mapped, _ = map_headers(list(sheet.frame.columns), table=location.table, file=location.label, stages=stages)
        if "branch" not in mapped:
            return []
        groups, _ = branches.groups_of(sheet.frame.iloc[:, mapped.index("branch")], sheet.rows)
        values = [next(iter(sheet.readings(v)), None) if sheet.encoded else v for v in groups["value"]]
    return sorted({name for name in map(branches.normalise_branch, values) if name})


def missing_branch(
    branch: str,
    *,
    source: str = "",
    files: dict | None = None,
    stages=None,
    root: Path | None = None,
    langs: tuple[str, ...] = ("en",),
) -> str | dict[str, str] | None:
    """Why ``branch`` is not in its data, or None when some table has rows of it.

    The tables are searched in turn and the search stops at the first that has the branch, so
    a right name costs one distinct-name query. A wrong one is named with every table searched,
    the branches found and the closest of them: in English, or with several ``langs`` as a
    mapping language → message.

    Examples
    --------
    >>> missing_branch("杭州") # doctest: +SKIP
    "no rows for branch '杭州' in leads (data/demo.duckdb) …; did you mean '杭州分公司'?"
    """
    import difflib

    from .schema import resolve_stages

    stage_list, target = resolve_stages(stages), branches.normalise_branch(branch)
    searched: dict[str, list[str]] = {}
    found: set[str] = set()
    for table in TABLES:
        location = locate(table, source=source, files=files, required=False, root=root)
        if location is None:
            continue
        names = branch_names(location, stages=stage_list)
        if target in names:
            return None
        searched.setdefault(paths.shown(location.path, root), []).append(table)
        found.update(names)
    if not searched:
        return None  # no table at all: each notebook says which it needs
    near = [n for n in sorted(found) if target and (target in n or n in target)]
    near += difflib.get_close_matches(target, sorted(found), n=1, cutoff=0.5)
    from funnelkit.i18n import t

    texts = {}
    for lang in langs:
        comma = "、" if lang == "zh" else ", "
        listed = comma.join(sorted(found)[:12]) + (" …" if len(found) > 12 else "")
        where = "; ".join(f"{path} ({comma.join(tables)})" for path, tables in searched.items())
        text = t("data.no_branch_rows", lang, branch=branch, where=where, found=listed or t("data.none_found", lang))
        texts[lang] = text + (t("data.did_you_mean", lang, name=near[0]) if near else "")
    return texts if len(langs) > 1 else texts[langs[0]]
