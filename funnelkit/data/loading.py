"""Loading branch data: the one edge where user data enters funnelkit.

:func:`load_table` reads one branch's rows of a contract table and returns them validated
and typed (see ``docs/data-contract.md``); :func:`peer_stage_counts` gives the small
per-branch stage aggregate used for peer comparisons, computed inside DuckDB.

Rows that no branch reads (an empty or undecodable branch cell, or this branch written with
other spaces or letter case) are not errors of this branch: the loaded frame carries them as
warnings in ``frame.attrs["data_warnings"]``, and :func:`data_warnings` gives their text for a
report.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager

import duckdb
import pandas as pd

from funnelkit import paths
from funnelkit.exceptions import DataSourceError, DataValidationError

from . import files as readers
from . import filters as row_filters
from . import sources
from .arrow import give_back_memory
from .branches import DataWarning
from .dates import EARLIEST, DateWindow
from .parsing import INVISIBLE, parse_cells
from .schema import TABLES, Stage, date_columns, resolve_stages, table_columns
from .validation import map_headers, validate, window_for

__all__ = ["DataWarning", "data_warnings", "load_table", "peer_stage_counts", "validate"]

_PEER_COLUMNS = {
    "stage_counts": ("branch", "period", "segment", "stage", "count"),
    "leads": ("branch", "created_date", "segment", "stage"),
}


def load_table(
    table: str,
    *,
    branch: str,
    source: str = "",
    files: dict | None = None,
    stages: list | None = None,
    required: bool = True,
    as_of: str = "",
    filters: dict | None = None,
    aliases: dict | None = None,
    columns: Iterable[str] | None = None,
    rows: dict | None = None,
) -> pd.DataFrame | None:
    """One branch's rows of a contract table, validated and typed.

    Parameters
    ----------
    table : str
        A contract table: leads, stage_counts, customers, events, visits, transactions.
    branch : str
        The branch as written in the data's ``branch`` column; only its rows are read.
    source : str
        ``""`` = the demo database; a ``.duckdb``/``.db`` file; or a folder with one
        ``.csv``/``.xlsx``/``.parquet`` file per table (named by ``Table.file_stems``).
    files : dict, optional
        Per-table files overriding ``source``, e.g. ``{"transactions": "my/tx.csv"}``.
    stages : list, optional
        Funnel stages from params (``[]``/``None``: the default telecom funnel).
    required : bool
        When the table is absent: raise (True) or return ``None`` (False).
    as_of : str
        The data's as-of date (params ``as_of``); ``""``: today. A date after it, or before
        1990, is a problem of its cell.
    filters : dict, optional
        Column → value of the notebook's filters (:mod:`funnelkit.data.filters`).
    aliases : dict, optional
        The branch's own labels per coded column (params ``aliases``,
        :mod:`funnelkit.data.aliases`), mapped onto the contract's codes before checking.
    columns : iterable of str, optional
        Only these contract columns (and those the ``filters`` need), for an analysis that
        reads a few columns of a large table: DuckDB and Parquet sources read and check only
        them (a missing required column is still an error); files are read and checked whole.
    rows : dict, optional
        Column → the codes a row must hold there, for an analysis that reads a few rows of
        a large table (``{"stage": {"contacted", "intent", …}}``): DuckDB and Parquet sources
        read and check only those rows (and the rows whose cell there is empty or broken,
        which validation names as ever); files are read and checked whole, then cut.

    Returns
    -------
    DataFrame or None
        Every contract column with its dtype, then any extra columns of the source (with
        ``columns``: those columns only, in contract order); an empty table gives an empty
        frame with the same columns and dtypes.
        ``attrs["data_warnings"]`` lists the :class:`DataWarning` of the read.

    Raises
    ------
    DataSourceError
        The source is missing, of an unknown kind, or lacks a required table.
    DataValidationError
        The branch's rows break the contract; every problem is counted, the first listed.
    ParamsError
        ``as_of`` is not a date.

    Examples
    --------
    >>> leads = load_table("leads", branch="杭州分公司")  # doctest: +SKIP
    >>> leads[["lead_id", "stage", "outcome"]].head(2)  # doctest: +SKIP
    """
    if table not in TABLES:
        raise ValueError(f"table must be one of {', '.join(TABLES)}, not {table!r}")
    stage_list = resolve_stages(stages)
    window_for(as_of)  # a bad as_of fails before any file is read
    wanted = _wanted_columns(table, columns, filters, stage_list, rows)
    chosen = row_filters.selections(filters, rows)
    with _unreadable_files():
        location = sources.locate(table, source=source, files=files, required=required)
        if location is None:
            return None
        raw, numbers, warnings = sources.read_branch(
            location,
            table=table,
            branch=branch,
            stages=stage_list,
            keep=row_filters.keeps(table, chosen, stages=stage_list, aliases=aliases),
            columns=wanted,
        )
    frame = validate(
        raw,
        table=table,
        file=location.label,
        stages=stage_list,
        rows=numbers,
        as_of=as_of,
        aliases=aliases,
        columns=raw.attrs.get("columns_read"),
    )
    frame, unfiltered = row_filters.apply(frame, table=table, filters=filters, file=location.label, rows=rows)
    if wanted is not None:
        frame = frame[[c for c in frame.columns if c in wanted]]
    del raw
    give_back_memory()
    frame.attrs["data_warnings"] = [*warnings, *unfiltered]
    return frame


def _wanted_columns(table: str, columns, filters, stages, rows=None) -> tuple[str, ...] | None:
    """The contract columns to read: ``columns`` and those the active filters and the row
    selection need (None: all)."""
    if columns is None:
        return None
    known = [c.name for c in table_columns(table, stages)]
    unknown = sorted(set(columns) - set(known))
    if unknown:
        raise ValueError(f"{table} has no column(s) {', '.join(unknown)}; its columns are {', '.join(known)}")
    # a filter on a column the table lacks is left to filters.apply, which warns about it
    filtered = {row_filters.column_of(table, name) for name in row_filters.active(filters)}
    wanted = set(columns) | filtered | set(rows or {})
    return tuple(c for c in known if c in wanted)


@contextmanager
def _unreadable_files():
    """A file the system will not let us read (permissions, a folder where a file was
    expected …) as a DataSourceError naming it."""
    try:
        yield
    except OSError as error:
        raise DataSourceError(f"cannot read {error.filename or 'the data source'}: {error.strerror or error}") from None


def data_warnings(*frames: pd.DataFrame | None, lang: str = "zh") -> list[str]:
    """The loading warnings of ``frames`` (as :func:`load_table` returned them), as report text.

    Examples
    --------
    >>> data_warnings(load_table("leads", branch="杭州分公司"), lang="en")  # doctest: +SKIP
    []
    """
    texts = [w.text(lang) for frame in frames if frame is not None for w in frame.attrs.get("data_warnings", [])]
    return list(dict.fromkeys(texts))  # two reads of one table notice the same rows


def peer_stage_counts(
    *,
    source: str = "",
    files: dict | None = None,
    stages: list | None = None,
    as_of: str = "",
    filters: dict | None = None,
) -> pd.DataFrame:
    """Customers per stage for every branch: columns branch, period, segment, stage, count.

    Read from ``stage_counts`` when the source has it; otherwise from ``leads``, where the
    period is the year of ``created_date`` and a stage counts the leads whose furthest stage
    is at or beyond it. Rows with an unknown stage, a missing date, a date outside the
    plausible window (before 1990, after ``as_of`` or today) or a negative count are left
    out (they belong to other branches' validation, not to this comparison). Branch names
    are compared as the loader compares them (invisible characters removed). Of a notebook's
    ``filters``, segment and period apply to peers too, so branches are compared like for like.

    Examples
    --------
    >>> peers = peer_stage_counts()  # doctest: +SKIP
    >>> peers.query("period == '2006' and stage == 'signed'")  # doctest: +SKIP
    """
    stage_list = resolve_stages(stages)
    window = window_for(as_of)
    with _unreadable_files():
        for table in ("stage_counts", "leads"):
            location = sources.locate(table, source=source, files=files, required=False)
            if location is not None:
                peers = _peer_counts(location, stage_list, window)
                # Peers are compared like for like: the same segment and years as the branch.
                shared = {
                    name: value for name, value in row_filters.active(filters).items() if name in ("segment", "period")
                }
                return row_filters.apply(peers, table="stage_counts", filters=shared, file=location.label)[0]
    raise DataSourceError(
        f"peer comparison needs a stage_counts or leads table; found neither in {source or paths.demo_db()}"
    )


def _peer_counts(location: sources.Location, stages: tuple[Stage, ...], window: DateWindow) -> pd.DataFrame:
    needed = _PEER_COLUMNS[location.table]
    if location.kind in ("duckdb", "parquet"):
        con = sources.open_connection(location)
        types = sources.source_columns(con, location)
        relation, params = sources.relation(location)
    else:
        con, frame = sources.open_duckdb(), _parsed_file(location, stages, needed, window)
        con.register("peer_source", frame)
        types, relation, params = dict.fromkeys(needed, ""), "SELECT * FROM peer_source", []
        types["created_date"] = "DATE"
    mapped, problems = map_headers(list(types), table=location.table, file=location.label, stages=stages)
    missing = [p for p in problems if p.value in needed and p.row is None]
    if missing:
        raise DataValidationError(missing)
    column = {name: sources.quote(list(types)[mapped.index(name)]) for name in needed}
    date_type = types[list(types)[mapped.index("created_date")]] if location.table == "leads" else ""
    stage_sql, stage_params = _stage_values(stages)
    column["branch"] = _branch_sql(column["branch"])
    sql = _PEER_SQL[location.table].format(
        stages=stage_sql, relation=relation, date=_date_sql(column.get("created_date"), date_type), **column
    )
    window_params = [EARLIEST.date(), window.latest.date()] if location.table == "leads" else []
    with con:
        try:
            result = con.execute(sql, [*stage_params, *params, *window_params]).df()
        except duckdb.Error as error:
            raise DataSourceError(f"cannot aggregate {location.label}: {sources._first_line(error)}") from None
    return result.astype(
        {"branch": "string", "period": "string", "segment": "string", "stage": "string", "count": "Int64"}
    ).reset_index(drop=True)


def _parsed_file(
    location: sources.Location, stages: tuple[Stage, ...], needed: tuple, window: DateWindow
) -> pd.DataFrame:
    """The needed columns of a CSV/XLSX file, parsed; broken cells become empty."""
    sheet = sources.read_file(location)
    raw = readers.decode_all(sheet) if sheet.encoded else sheet.frame
    mapped, problems = map_headers(list(raw.columns), table=location.table, file=location.label, stages=stages)
    missing = [p for p in problems if p.value in needed and p.row is None]
    if missing:
        raise DataValidationError(missing)
    columns = {c.name: c for c in table_columns(location.table, stages)}
    return pd.DataFrame(
        {
            name: parse_cells(
                raw.iloc[:, mapped.index(name)],
                columns[name],
                stages=stages,
                excel=location.kind == "xlsx",
                window=window,
            )[0]
            for name in needed
        }
    )


def _branch_sql(column: str) -> str:
    """A branch cell as compared: invisible characters removed, spaces trimmed (as
    :func:`funnelkit.data.branches.normalise_branch`, less NFKC, which DuckDB lacks)."""
    invisible = "".join(f"\\x{{{ord(c):x}}}" for c in INVISIBLE)
    spaces = " \t\r\n\u00a0\u3000"
    return f"trim(regexp_replace(CAST({column} AS VARCHAR), '[{invisible}]', '', 'g'), '{spaces}')"


def _stage_values(stages: tuple[Stage, ...]) -> tuple[str, list]:
    """A VALUES list (label, key, ord) of every spelling of every stage, as bound parameters."""
    labels: dict[str, tuple[str, int]] = {}
    for order, stage in enumerate(stages):
        for label in (stage.key, stage.zh, stage.en):
            labels.setdefault(label.lower(), (stage.key, order))
    params = [value for label, (key, order) in labels.items() for value in (label, key, order)]
    return ", ".join(["(?, ?, ?)"] * len(labels)), params


def _date_sql(column: str | None, kind: str) -> str:
    if column is None or kind.startswith(("DATE", "TIMESTAMP")):
        return f"CAST({column} AS DATE)"
    text = f"trim(CAST({column} AS VARCHAR))"
    formats = ("%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d")
    return (
        f"coalesce(TRY_CAST({text} AS DATE), "
        + ", ".join(f"CAST(try_strptime({text}, '{f}') AS DATE)" for f in formats)
        + ")"
    )


_PEER_SQL = {
    "stage_counts": """
        WITH m(label, key, ord) AS (VALUES {stages}),
        src AS (SELECT trim(CAST({branch} AS VARCHAR)) AS branch, trim(CAST({period} AS VARCHAR)) AS period,
                       trim(CAST({segment} AS VARCHAR)) AS segment, lower(trim(CAST({stage} AS VARCHAR))) AS label,
                       TRY_CAST({count} AS BIGINT) AS n
                FROM ({relation}))
        SELECT branch, period, segment, key AS stage, SUM(n) AS count
        FROM src JOIN m USING (label)
        WHERE n >= 0 AND branch <> ''
        GROUP BY branch, period, segment, key, ord
        ORDER BY branch, period, segment, ord""",
    "leads": """
        WITH m(label, key, ord) AS (VALUES {stages}),
        stage_list AS (SELECT DISTINCT key, ord FROM m),
        src AS (SELECT trim(CAST({branch} AS VARCHAR)) AS branch, CAST(year({date}) AS VARCHAR) AS period,
                       trim(CAST({segment} AS VARCHAR)) AS segment, lower(trim(CAST({stage} AS VARCHAR))) AS label
                FROM ({relation}) WHERE {date} BETWEEN ? AND ?),
        furthest AS (SELECT branch, period, segment, ord AS reached, count(*) AS n
                     FROM src JOIN m USING (label)
                     WHERE period IS NOT NULL AND branch <> ''
                     GROUP BY branch, period, segment, ord)
        SELECT f.branch, f.period, f.segment, s.key AS stage,
               SUM(CASE WHEN f.reached >= s.ord THEN f.n ELSE 0 END) AS count
        FROM furthest f CROSS JOIN stage_list s
        GROUP BY f.branch, f.period, f.segment, s.key, s.ord
        ORDER BY f.branch, f.period, f.segment, s.ord""",
}


def load_tables(
    params,
    names: Iterable[str],
    *,
    required: Iterable[str] = (),
    columns: dict | None = None,
    rows: dict | None = None,
) -> dict[str, pd.DataFrame | None]:
    """The branch's tables ``names`` as the notebook's ``params`` say where to find them.

    A table in ``required`` that the branch lacks is an error; any other missing table is
    ``None``. ``columns`` maps a table to the only contract columns to read of it, ``rows``
    to the only rows (:func:`load_table`); a table not in them is read whole. ``params`` is a
    :class:`funnelkit.parameters.Params` (branch, source, files, stages, as-of date and the
    notebook's filters, see :mod:`funnelkit.data.filters`).

    Examples
    --------
    >>> from funnelkit.parameters import Params
    >>> tables = load_tables(Params(branch="杭州分公司"), ["leads", "visits"])  # doctest: +SKIP
    """
    required = set(required)
    tables = {
        name: load_table(
            name,
            branch=params.branch,
            source=params.source,
            files=params.files,
            stages=params.stages,
            required=name in required,
            as_of=params.as_of,
            filters=params.filters(),
            aliases=params.aliases,
            columns=(columns or {}).get(name),
            rows=(rows or {}).get(name),
        )
        for name in names
    }
    found = [table for table in tables.values() if table is not None]
    if found and all(table.empty for table in found) and not any(params.filters().values()) and not rows:
        # Not one row of the branch: a misspelt branch name is the usual cause; say so first.
        why = sources.missing_branch(
            params.branch, source=params.source, files=params.files, stages=params.stages, langs=("en", "zh")
        )
        if why:
            raise DataSourceError(why["en"], texts=why)
    return tables


def latest_dates(params, table: str) -> pd.DataFrame | None:
    """Each date column's latest date in the branch's ``table`` (one row, a column per date
    column of :func:`~funnelkit.data.schema.date_columns`), for the latest date in its data
    when an analysis read fewer columns; None when ``params.as_of`` already fixes the date
    (nothing is read then). A database that types the columns as dates counts them itself
    (:func:`_latest_counted`); otherwise, or when a date there would fail validation, the
    columns are read, checked and reduced a few at a time, so a large branch's dates are
    never all in memory at once.

    Examples
    --------
    >>> from funnelkit.parameters import Params
    >>> latest_dates(Params(branch="杭州分公司", as_of="2007-01-31"), "leads") is None
    True
    """
    if params.as_of:
        return None
    wanted = date_columns(table, params.stages)
    counted = _latest_counted(params, table, wanted)
    if counted is not None:
        return counted
    latest = {}
    for start in range(0, len(wanted), sources.COLUMNS_AT_ONCE):
        some = {table: wanted[start : start + sources.COLUMNS_AT_ONCE]}
        frame = load_tables(params, [table], columns=some)[table]
        if frame is None:
            return None
        latest.update({column: frame[column].max() for column in frame.columns if column in some[table]})
    return pd.DataFrame({column: pd.Series([day], dtype="datetime64[ns]") for column, day in latest.items()})


def _latest_counted(params, table: str, wanted: tuple[str, ...]) -> pd.DataFrame | None:
    """:func:`latest_dates` counted inside DuckDB, when the source types every date column
    as a date and nothing in them would fail validation (no date before 1990 or after today,
    no empty required cell); None otherwise, and the columns are then read and checked,
    which names each such cell as ever."""
    if row_filters.active(params.filters()):
        return None
    with _unreadable_files():
        location = sources.locate(table, source=params.source, files=params.files, required=False)
        if location is None or location.kind not in ("duckdb", "parquet"):
            return None
        extremes = sources.date_extremes(
            location, branch=params.branch, stages=resolve_stages(params.stages), columns=wanted
        )
    if extremes is None or extremes["last"].isna().all():
        return None
    window = window_for(params.as_of)
    required = {c.name for c in table_columns(table, resolve_stages(params.stages)) if c.required}
    first, last = pd.to_datetime(extremes["first"]), pd.to_datetime(extremes["last"])
    if (
        (first < EARLIEST).any()
        or (last > window.latest).any()
        or extremes.loc[list(required & set(wanted)), "empty"].any()
    ):
        return None
    return pd.DataFrame({column: pd.Series([last[column]], dtype="datetime64[ns]") for column in wanted})


def load_peers(params) -> pd.DataFrame:
    """Every branch's stage counts (:func:`peer_stage_counts`) as the notebook's ``params``
    say where to find them: source, files, stages, as-of date and filters."""
    return peer_stage_counts(
        source=params.source, files=params.files, stages=params.stages, as_of=params.as_of, filters=params.filters()
    )
