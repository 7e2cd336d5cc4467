"""Where a table's data comes from, and reading one branch's raw rows of it.

A table is read from ``files[table]`` if given, else from ``source``: ``""`` (the demo
DuckDB database), a ``.duckdb``/``.db`` file, or a folder with one CSV/XLSX/Parquet file per
table. DuckDB and Parquet sources filter the branch inside DuckDB with a bound parameter; CSV
and XLSX files are read whole and filtered before validation. Every reader also returns each
row's number as the user sees it.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from funnelkit import paths
from funnelkit.exceptions import DataSourceError, DataValidationError, Problem
from .schema import TABLES, Stage
from .parsing import by_unique
from .validation import map_headers

FILE_KINDS = {".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet"}
DB_SUFFIXES = (".duckdb", ".db")
_ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Location:
    """One table in one place: ``kind`` is csv, xlsx, parquet or duckdb."""

    kind: str
    path: Path
    table: str  # the contract table
    name: str = ""  # for duckdb: its name in the database (the contract name or a file stem)

    @property
    def label(self) -> str:
        return f"{self.path} (table {self.name})" if self.kind == "duckdb" else str(self.path)


def _resolve(path: str | Path) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() else paths.project_root() / path


def _duckdb_table(path: Path, table: str) -> str | None:
    """The contract name (or file stem) under which ``table`` exists in the database."""
    names = (table, *TABLES[table].file_stems)
    with connect(path) as con:
        found = {r[0].casefold() for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
    return next((n for n in names if n.casefold() in found), None)


def locate(table: str, *, source: str = "", files: dict | None = None,
           required: bool = True) -> Location | None:
    """Where ``table`` is read from; ``None`` when absent and not ``required``."""
    files = files or {}
    unknown = set(files) - set(TABLES)
    if unknown:
        raise DataSourceError(f"params `files` names unknown table(s) {', '.join(map(str, sorted(unknown)))}; "
                              f"tables are {', '.join(TABLES)}")
    if files.get(table):
        path = _resolve(files[table])
        kind = FILE_KINDS.get(path.suffix.lower())
        if kind is None:
            raise DataSourceError(f"files[{table!r}] = {path}: unknown file type {path.suffix!r}; "
                                  f"use .csv, .xlsx or .parquet (save old .xls files as .xlsx)")
        if not path.is_file():
            raise DataSourceError(f"files[{table!r}]: no file {path}")
        return Location(kind, path, table)
    path = paths.demo_db() if not source else _resolve(source)
    if path.suffix.lower() in DB_SUFFIXES or not source:
        if not path.is_file():
            hint = "; run `funnelkit demo` to create it" if not source else ""
            raise DataSourceError(f"no DuckDB database at {path}{hint}")
        name = _duckdb_table(path, table)
        found = None if name is None else Location("duckdb", path, table, name)
    elif path.is_dir():
        found = _find_in_folder(path, table)
    else:
        raise DataSourceError(f"params `source` = {source!r}: expected a .duckdb/.db file or a folder "
                              f"of CSV/XLSX/Parquet files, found {'nothing' if not path.exists() else 'a file'} "
                              f"at {path}")
    if found is None and required:
        stems = "/".join(TABLES[table].file_stems)
        raise DataSourceError(f"table {table!r} not found in {path} (looked for a table or a file "
                              f"named {stems} with extension .csv, .xlsx or .parquet)")
    return found


def _find_in_folder(folder: Path, table: str) -> Location | None:
    stems = {s.casefold() for s in TABLES[table].file_stems}
    hits = sorted(p for p in folder.iterdir() if p.is_file() and p.stem.casefold() in stems
                  and p.suffix.lower() in FILE_KINDS and not p.name.startswith("~$"))
    if len(hits) > 1:
        raise DataSourceError(f"{len(hits)} files for table {table!r} in {folder}: "
                              f"{', '.join(p.name for p in hits)}; keep one")
    return Location(FILE_KINDS[hits[0].suffix.lower()], hits[0], table) if hits else None


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the DuckDB file ``path``."""
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise DataSourceError(f"cannot open DuckDB database {path}: {error}") from None


def quote(name: str) -> str:
    """``name`` as a DuckDB identifier (column names come from files, so always quote)."""
    return '"' + str(name).replace('"', '""') + '"'


def normalise_branch(value: str) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


# ---------------------------------------------------------------- text files
def decode(data: bytes, file: str) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), else GB18030; strict, never guessed."""
    errors = []
    for encoding in _ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            errors.append(error)
    furthest = max(errors, key=lambda e: e.start)  # the encoding the file most likely uses
    line = data.count(b"\n", 0, furthest.start) + 1
    raise DataValidationError([Problem(
        file, line, None, data[furthest.start:furthest.start + 4].hex(" "),
        f"cannot decode the file: bad byte at byte offset {furthest.start} (read as UTF-8 and as GB18030)",
        "save the file as UTF-8 or GB18030 (Excel: CSV UTF-8)")])


def _line_numbers(text: str, n_records: int) -> np.ndarray:
    """The line each CSV record starts on (header = line 1), allowing for quoted newlines."""
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if n_lines == n_records:
        return np.arange(1, n_records + 1)
    starts, previous = [], 0
    reader = csv.reader(io.StringIO(text))
    for record in reader:
        if record:
            starts.append(previous + 1)
        previous = reader.line_num
    return np.asarray(starts) if len(starts) == n_records else np.arange(1, n_records + 1)


def read_csv(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Every cell of a CSV file as text, with each row's line number."""
    text = decode(path.read_bytes(), str(path))
    try:
        grid = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataValidationError([Problem(str(path), None, None, "", "the file is empty",
                                           "export the table with its header row")]) from None
    except pd.errors.ParserError as error:
        raise DataValidationError([Problem(str(path), None, None, "", f"not a readable CSV file: {error}",
                                           "check quotes and the number of commas on that line")]) from None
    lines = _line_numbers(text, len(grid))
    frame = grid.iloc[1:].set_axis(list(grid.iloc[0].fillna("")), axis=1).reset_index(drop=True)
    return frame, lines[1:]


def read_xlsx(path: Path, table: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The cells of the table's sheet (named like the table, else the first), with sheet rows."""
    import openpyxl  # only XLSX sources need it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise DataSourceError(f"cannot read Excel file {path}: {error}") from None
    try:
        names = {n.casefold() for n in (table, *TABLES[table].file_stems)}
        sheet = next((book[n] for n in book.sheetnames if n.casefold() in names), book.worksheets[0])
        records = [(number, row) for number, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1)
                   if any(v is not None and v != "" for v in row)]
    finally:
        book.close()
    if not records:
        raise DataValidationError([Problem(str(path), None, None, "", "the sheet is empty",
                                           "put the header in the first row")])
    (_, header), body = records[0], records[1:]
    width = len(header)
    frame = pd.DataFrame([list(row[:width]) + [None] * (width - len(row)) for _, row in body],
                         columns=["" if h is None else str(h) for h in header], dtype=object)
    return frame, np.asarray([number for number, _ in body], dtype=np.int64)


def read_file(location: Location) -> tuple[pd.DataFrame, np.ndarray]:
    """All raw rows of a CSV or XLSX file."""
    if location.kind == "csv":
        return read_csv(location.path)
    return read_xlsx(location.path, location.table)


# ---------------------------------------------------------------- DuckDB
def relation(location: Location) -> tuple[str, list]:
    """SQL for the table's rows with ``__row`` (1-based position) and its parameters."""
    if location.kind == "parquet":
        return ("SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS __row "
                "FROM read_parquet(?, file_row_number = true)", [str(location.path)])
    return f"SELECT *, rowid + 1 AS __row FROM {quote(location.name)}", []


def open_connection(location: Location) -> duckdb.DuckDBPyConnection:
    return connect(location.path) if location.kind == "duckdb" else duckdb.connect()


def source_columns(con: duckdb.DuckDBPyConnection, location: Location) -> dict[str, str]:
    """Column name → DuckDB type of the table."""
    sql, params = relation(location)
    try:
        described = con.execute(f"DESCRIBE {sql}", params).fetchall()
    except duckdb.Error as error:
        raise DataSourceError(f"cannot read {location.label}: {error}") from None
    return {name: kind for name, kind, *_ in described if name != "__row"}


def read_branch_sql(location: Location, *, branch: str, stages: tuple[Stage, ...]):
    """One branch's rows from DuckDB or Parquet, filtered inside DuckDB.

    The rows come through Arrow, so text stays in DuckDB's Arrow buffers (pandas ``string``)
    and typed columns keep their type: no Python object per cell.
    """
    with open_connection(location) as con:
        columns = source_columns(con, location)
        mapped, _ = map_headers(list(columns), table=location.table, file=location.label, stages=stages)
        sql, params = relation(location)
        if "branch" in mapped:
            column = quote(list(columns)[mapped.index("branch")])
            sql = f"SELECT * FROM ({sql}) WHERE trim(CAST({column} AS VARCHAR), ' \t\r\n\u3000') = ?"
            params = [*params, normalise_branch(branch)]
        else:
            sql += " LIMIT 0"  # validation then reports the missing column
        try:
            con.execute("SET arrow_large_buffer_size = true")  # pandas keeps large_string as is
            table = con.sql(sql, params=params).to_arrow_table()
        except duckdb.Error as error:
            raise DataSourceError(f"cannot read {location.label}: {error}") from None
    return arrow_frame(table)


def arrow_frame(table: pa.Table) -> tuple[pd.DataFrame, np.ndarray]:
    """An Arrow table with ``__row`` as a frame in source order, and its row numbers.

    Text keeps its Arrow buffers. (DuckDB frees a result's buffers only all together, so
    copying text out of them would only add memory.) Without ORDER BY (a full sort of the
    branch) DuckDB keeps insertion order; the table is sorted only when it is not ascending.
    """
    rows = np.asarray(table.column("__row").to_numpy(), dtype=np.int64)
    if len(rows) > 1 and not (np.diff(rows) > 0).all():
        order = np.argsort(rows, kind="stable")
        table, rows = table.take(order), rows[order]
    table = table.drop_columns("__row")
    columns = {i: _pandas_column(table.column(i)) for i in range(table.num_columns)}
    frame = pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows), copy=False)
    return frame.set_axis(table.column_names, axis=1), rows


def _pandas_column(values: pa.ChunkedArray):
    """One Arrow column for pandas: text without a copy (``string``), dates as
    ``datetime64[ns]`` filled chunk by chunk, nullable bool and int, the rest as pandas does."""
    kind = values.type
    if pa.types.is_dictionary(kind):  # ENUM columns: plain text
        values, kind = values.cast(kind.value_type), kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pd.arrays.ArrowStringArray(values if pa.types.is_large_string(kind)
                                          else values.cast(pa.large_string()))
    if pa.types.is_date(kind):
        dates = np.full(len(values), np.datetime64("NaT", "ns"))
        start = 0
        for chunk in values.chunks if values.null_count < len(values) else ():
            dates[start:start + len(chunk)] = chunk.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
            start += len(chunk)
        return dates
    if pa.types.is_boolean(kind):
        return values.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get).array
    if pa.types.is_integer(kind) and kind != pa.uint64():
        return values.to_pandas(types_mapper=lambda _: pd.Int64Dtype()).array
    return values.to_pandas().array


def read_branch(location: Location, *, table: str, branch: str,
                stages: tuple[Stage, ...]) -> tuple[pd.DataFrame, np.ndarray]:
    """The raw rows of ``branch`` and their row numbers as the user sees them."""
    if location.kind in ("duckdb", "parquet"):
        return read_branch_sql(location, branch=branch, stages=stages)
    frame, rows = read_file(location)
    mapped, _ = map_headers(list(frame.columns), table=table, file=location.label, stages=stages)
    if "branch" not in mapped:
        return frame.iloc[:0], rows[:0]
    cells = frame.iloc[:, mapped.index("branch")]
    names = by_unique(cells.astype("string"), lambda u: u.str.normalize("NFKC").str.strip())
    mine = (names == normalise_branch(branch)).to_numpy(dtype=bool, na_value=False)
    return frame[mine].reset_index(drop=True), rows[mine]
