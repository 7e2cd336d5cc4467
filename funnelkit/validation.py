"""Checking one raw table against the data contract (:mod:`funnelkit.schema`).

:func:`validate` maps the headers, parses every cell by its column kind, checks the rules
(empty cells, ranges, uniqueness with pandera; the funnel order of ``stage_counts`` by hand)
and raises one :class:`~funnelkit.exceptions.DataValidationError` listing every problem of
the file. Work is vectorised; Python loops run only over the failing cells.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow
import pyarrow.compute as pc

from funnelkit.exceptions import DataValidationError, Problem
from funnelkit.privacy import mask_text
from funnelkit.schema import Column, Stage, resolve_stages, table_columns

DTYPES = {"text": "string", "date": "datetime64[ns]", "int": "Int64", "number": "float64",
          "bool": "boolean", "choice": "string", "stage": "string"}

_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?(?:[eE][+-]?\d+)?"
_SCIENTIFIC = r"[+-]?\d(?:\.\d+)?[eE]\+?\d+"
_YMD = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_SERIAL = r"\d{1,6}(?:\.\d+)?"
_BOOLS = {**dict.fromkeys(("yes", "true", "1", "是", "y"), True),
          **dict.fromkeys(("no", "false", "0", "否", "n"), False)}
_DATE_HINT = "write dates as 2006-01-31, 2006/1/31, 2006年1月31日 or 20060131"
_SERIAL_HINT = ("this looks like an Excel date serial: format the column as a date (yyyy-mm-dd) "
                "in Excel before saving as CSV")


def split_cells(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text cells (NFKC-normalised, stripped, '' → NA) and the other non-empty cells."""
    if raw.dtype == object:
        is_text = raw.map(lambda v: isinstance(v, str)).astype(bool)
    elif pd.api.types.is_string_dtype(raw.dtype):
        is_text = raw.notna()
    else:
        is_text = pd.Series(False, index=raw.index)
    text = raw.where(is_text).astype("string[pyarrow]")
    cleaned = pc.utf8_trim_whitespace(pc.utf8_normalize(pyarrow.array(text.array), "NFKC"))
    text = pd.Series(pd.arrays.ArrowStringArray(cleaned), index=raw.index)
    text = text.mask((text == "").fillna(False))
    return text, raw.where(~is_text & raw.notna())


def by_unique(values: pd.Series, func) -> pd.Series:
    """``func`` applied to the distinct values only: most columns repeat a few values."""
    codes, uniques = pd.factorize(values)
    result = func(pd.Series(uniques, dtype=values.dtype))
    return pd.Series(result.array.take(codes, allow_fill=True), index=values.index)


def _which(other: pd.Series, predicate) -> pd.Series:
    """``predicate`` of each non-text cell; False where the cell is text or empty."""
    found = pd.Series(False, index=other.index)
    present = other.notna()
    if present.any():
        found[present] = other[present].map(predicate).astype(bool)
    return found


def _as_text(value: object) -> str:
    """A non-text cell (number, date, bool) written as text."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "isoformat"):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    return str(value)


def _with_other_as_text(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    text, other = split_cells(raw)
    has_other = other.notna()
    if has_other.any():
        text = text.copy()
        text[has_other] = other[has_other].map(_as_text).map(lambda v: unicodedata.normalize("NFKC", v))
    return text, has_other


def _parse_text(raw: pd.Series, column: Column, **_) -> tuple[pd.Series, list]:
    text, has_other = _with_other_as_text(raw)
    if not (column.personal or column.name.endswith("_id")):
        return text, []
    _, other = split_cells(raw)
    lost = _which(other, lambda v: isinstance(v, (float, np.floating))
                  and (abs(v) >= 1e15 or not float(v).is_integer()))
    lost = lost | text.str.fullmatch(_SCIENTIFIC).fillna(False).astype(bool)
    return text.mask(lost), [(lost, "Excel turned this identifier into a number and dropped digits",
                              "format the column as text in Excel, re-enter the values and export again")]


def _parse_number(raw: pd.Series, column: Column, **_) -> tuple[pd.Series, list]:
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("float64"), []
    text, other = split_cells(raw)
    shaped = text.str.fullmatch(_NUMBER).fillna(False) & text.str.contains(r"\d").fillna(False)
    cleaned = text.str.replace(",", "", regex=False).where(shaped).astype(object).where(shaped, "")
    values = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    numeric_other = _which(other, lambda v: isinstance(v, (int, float, np.number))
                           and not isinstance(v, (bool, np.bool_)))
    values[numeric_other] = other[numeric_other].astype("float64")
    bad = (text.notna() & values.isna()).fillna(False).astype(bool)
    percent = bad & text.str.endswith("%").fillna(False)
    return values, [(percent, "a percentage is not accepted here", "give the plain number (35, not 35%)"),
                    (bad & ~percent, "not a number", "write digits only, e.g. 1234 or 1,234 (no units or text)"),
                    (other.notna() & ~numeric_other, "not a number", "write digits only")]


def _parse_int(raw: pd.Series, column: Column, **_) -> tuple[pd.Series, list]:
    values, issues = _parse_number(raw, column)
    fraction = values.notna() & ((values != values.round()) | (values.abs() > 2**53))
    whole = values.mask(fraction).round().astype("Int64")
    return whole, [*issues, (fraction, "not a whole number", "counts, points and years are whole numbers")]


def _other_date(value: object, excel: bool) -> object:
    """A non-text date cell: a date/datetime, or (from XLSX) an Excel serial number."""
    if isinstance(value, (bool, np.bool_)):
        return pd.NaT
    if isinstance(value, (int, float, np.number)):
        if not excel or not 0 < value < 2958466:
            return "number"
        return pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(value))
    try:
        return pd.Timestamp(value).tz_localize(None).normalize()
    except (TypeError, ValueError):
        return pd.NaT


def _text_dates(text: pd.Series) -> pd.Series:
    parts = text.str.extract(_YMD).fillna(text.str.extract(_COMPACT)).astype("float64")
    values = pd.to_datetime(parts.set_axis(["year", "month", "day"], axis=1), errors="coerce")
    return values.astype("datetime64[ns]")


def _parse_date(raw: pd.Series, column: Column, *, excel: bool = False, **_) -> tuple[pd.Series, list]:
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        plain = raw.dt.tz_localize(None) if getattr(raw.dt, "tz", None) else raw
        return plain.dt.normalize().astype("datetime64[ns]"), []
    text, other = split_cells(raw)
    values = by_unique(text, _text_dates)
    has_other = other.notna()
    converted = other[has_other].map(lambda v: _other_date(v, excel))
    number = pd.Series(False, index=raw.index)
    number[has_other] = converted.map(lambda v: isinstance(v, str)).astype(bool)
    values[has_other & ~number] = pd.to_datetime(converted[~number[has_other]]).astype("datetime64[ns]")
    bad = (text.notna() & values.isna()).fillna(False).astype(bool)
    serial = bad & text.str.fullmatch(_SERIAL).fillna(False)
    return values, [(serial | number, "a number is not a date", _SERIAL_HINT),
                    (bad & ~serial, "not a date", _DATE_HINT),
                    (has_other & ~number & values.isna(), "not a date", _DATE_HINT)]


def _parse_bool(raw: pd.Series, column: Column, **_) -> tuple[pd.Series, list]:
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("boolean"), []
    text, _ = _with_other_as_text(raw)
    values = by_unique(text, lambda u: u.str.casefold().map(_BOOLS).astype("boolean"))
    return values, [(text.notna() & values.isna(), "not yes or no",
                     "write 是/否, yes/no, true/false, Y/N or 1/0")]


def _parse_codes(raw: pd.Series, lookup: dict[str, str], rule: str, hint: str) -> tuple[pd.Series, list]:
    text, _ = _with_other_as_text(raw)
    codes = by_unique(text, lambda u: u.str.casefold().map(lookup).astype("string"))
    return codes, [(text.notna() & codes.isna(), rule, hint)]


def _parse_choice(raw: pd.Series, column: Column, **_) -> tuple[pd.Series, list]:
    lookup = {s.casefold(): code for code, spellings in column.choices.items() for s in spellings}
    allowed = ", ".join(" / ".join(spellings) for spellings in column.choices.values())
    return _parse_codes(raw, lookup, "unknown value", f"allowed values: {allowed}")


def _parse_stage(raw: pd.Series, column: Column, *, stages: tuple[Stage, ...], **_) -> tuple[pd.Series, list]:
    lookup = {label.casefold(): s.key for s in stages for label in (s.key, s.zh, s.en)}
    listed = ", ".join(f"{s.zh} ({s.key})" for s in stages)
    return _parse_codes(raw, lookup, "unknown stage label",
                        f"the stages are {listed}; set `stages` in params if this branch's funnel differs")


_PARSERS = {"text": _parse_text, "number": _parse_number, "int": _parse_int, "date": _parse_date,
            "bool": _parse_bool, "choice": _parse_choice, "stage": _parse_stage}


def parse_cells(raw: pd.Series, column: Column, *, stages: tuple[Stage, ...],
                excel: bool = False) -> tuple[pd.Series, list]:
    """Parse one column's cells by its kind: the values (NA where empty or broken) and a
    list of ``(mask, rule, hint)`` for the broken cells."""
    values, issues = _PARSERS[column.kind](raw, column, stages=stages, excel=excel)
    return values.astype(DTYPES[column.kind]), [(m, r, h) for m, r, h in issues if m.any()]


#: At most this many problems per column and rule; the rest are summed up in one line.
PER_RULE_LIMIT = 100


def normalise_header(header: object) -> str:
    """A header as compared: NFKC (full-width → ASCII), BOM and surrounding spaces removed."""
    return unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "").strip()


def map_headers(headers: list, *, table: str, file: str,
                stages: tuple[Stage, ...]) -> tuple[list[str | None], list[Problem]]:
    """The contract column of each header (``None`` for extra columns) and the header problems.

    English names match case-insensitively, Chinese aliases exactly (after normalising).
    """
    columns = table_columns(table, stages)
    lookup = {name.casefold(): c.name for c in columns for name in (c.name, *c.aliases)}
    mapped = [lookup.get(normalise_header(h).casefold()) for h in headers]
    problems: list[Problem] = []
    for name in {m for m in mapped if m is not None}:
        found = [str(h) for h, m in zip(headers, mapped) if m == name]
        if len(found) > 1:
            problems.append(Problem(file, 1, name, " / ".join(found), "two columns give the same field",
                                    "keep one of them or rename the other"))
    for column in columns:
        if column.required and column.name not in mapped:
            problems.append(Problem(file, None, None, column.name, "required column is missing",
                                    f"name a column {' or '.join((column.name, *column.aliases))}; "
                                    f"headers found: {', '.join(map(str, headers)) or 'none'}"))
    return mapped, problems


def _shown(value: object, column: Column) -> object:
    """A cell value as a problem may show it: masked, shortened."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = str(value)
    masked = mask_text(text)
    if column.personal and masked == text:
        masked = text[:3] + "****" if len(text) > 3 else "****"
    return masked if len(masked) <= 60 else masked[:57] + "…"


def _column_label(header: object, column: Column) -> str:
    header = normalise_header(header)
    return column.name if header.casefold() == column.name else f"{header} ({column.name})"


def _cell_problems(raw: pd.Series, positions: np.ndarray, *, file: str, rows: np.ndarray,
                   label: str, column: Column, rule: str, hint: str) -> list[Problem]:
    """Problems for the failing ``positions`` of one column (at most PER_RULE_LIMIT)."""
    problems = [Problem(file, int(rows[p]), label, _shown(raw.iat[p], column), rule, hint)
                for p in positions[:PER_RULE_LIMIT]]
    if len(positions) > PER_RULE_LIMIT:
        problems.append(Problem(file, None, label, f"{len(positions) - PER_RULE_LIMIT} more rows", rule, hint))
    return problems


def _pandera_schema(present: list[Column], table: str) -> pa.DataFrameSchema:
    checks = {}
    for c in present:
        limits = []
        if c.min is not None:
            limits.append(pa.Check.ge(c.min))
        if c.max is not None:
            limits.append(pa.Check.le(c.max))
        checks[c.name] = pa.Column(None, nullable=c.nullable, unique=c.unique, checks=limits, required=False)
    unique = ["branch", "period", "segment", "stage"] if table == "stage_counts" else None
    return pa.DataFrameSchema(checks, unique=unique)


def _rule_of(check: str, column: Column) -> tuple[str, str]:
    if check == "not_nullable":
        return "empty cell in a column that must be filled", "fill in every row"
    if check == "field_uniqueness":
        return f"duplicate {column.name}", "each value may appear only once in the file"
    if check == "multiple_fields_uniqueness":
        return "the same branch, period, segment and stage appear twice", "keep one row per stage"
    bounds = " and ".join(f"{op} {v:g}" for op, v in (("≥", column.min), ("≤", column.max)) if v is not None)
    return f"out of range: must be {bounds}", "check the value"


def _rule_problems(parsed: pd.DataFrame, raw_of: dict, bad: dict, *, table: str, file: str,
                   rows: np.ndarray, present: list[Column]) -> list[Problem]:
    """Empty cells, ranges and uniqueness, checked by pandera on the parsed frame."""
    try:
        _pandera_schema(present, table).validate(parsed, lazy=True)
        return []
    except pa.errors.SchemaErrors as error:
        cases = error.failure_cases
    cases = cases[cases["index"].notna()]
    if "multiple_fields_uniqueness" in set(cases["check"]):
        multi = cases["check"] == "multiple_fields_uniqueness"
        cases = pd.concat([cases[~multi], cases[multi].drop_duplicates("index").assign(column="stage")])
    by_name = {c.name: c for c in present}
    problems: list[Problem] = []
    for (name, check), group in cases.groupby(["column", "check"], sort=False):
        column = by_name[name]
        positions = group["index"].astype(int).to_numpy()
        positions = np.sort(positions[~bad[name][positions]])  # parse failures are reported already
        rule, hint = _rule_of(check, column)
        label, cells_in = raw_of[name]
        if check == "field_uniqueness":  # name the first row of each duplicated value
            first = (pd.Series(rows[positions]).groupby(parsed[name].to_numpy()[positions])
                     .transform("min").to_numpy())
            later = rows[positions] != first
            problems += [Problem(file, int(rows[p]), label, _shown(cells_in.iat[p], column), rule,
                                 f"{hint}; first seen in row {f}")
                         for p, f in zip(positions[later][:PER_RULE_LIMIT], first[later])]
            continue
        problems += _cell_problems(cells_in, positions, file=file, rows=rows, label=label,
                                   column=column, rule=rule, hint=hint)
    return problems


def _funnel_problems(parsed: pd.DataFrame, *, file: str, rows: np.ndarray, label: str,
                     stages: tuple[Stage, ...]) -> list[Problem]:
    """Counts in ``stage_counts`` must not rise down the funnel within branch, period, segment."""
    keys = ["branch", "period", "segment"]
    order = {s.key: i for i, s in enumerate(stages)}
    names = {s.key: s.zh for s in stages}
    ordered = (parsed[[*keys, "stage", "count"]]
               .assign(position=np.arange(len(parsed)), rank=parsed["stage"].map(order))
               .dropna()
               .sort_values([*keys, "rank"]))
    previous = ordered.groupby(keys, sort=False)[["stage", "count", "position"]].shift()
    rising = ordered[ordered["count"] > previous["count"]]
    return [Problem(file, int(rows[r.position]), label, int(r['count']),
                    f"count rises down the funnel: {names[previous.at[i, 'stage']]} has "
                    f"{int(previous.at[i, 'count'])} but the later stage {names[r.stage]} has {int(r['count'])}",
                    f"a later stage cannot hold more customers; check this row and row "
                    f"{int(rows[int(previous.at[i, 'position'])])}")
            for i, r in rising.head(PER_RULE_LIMIT).iterrows()]


def validate(raw: pd.DataFrame, *, table: str, file: str, stages=None, rows=None) -> pd.DataFrame:
    """Parse and check ``raw`` (one branch's rows of one table) against the data contract.

    Parameters
    ----------
    raw : DataFrame
        Cells as read: text (CSV), mixed Python values (XLSX) or typed columns (DuckDB,
        Parquet). Headers may be the English names or the Chinese aliases. Not modified.
    table : str
        A contract table name (``funnelkit.schema.TABLES``).
    file : str
        Named in every problem. Numbers in date columns are read as Excel serial dates only
        when it ends in ``.xlsx``/``.xlsm``.
    stages : list, optional
        The funnel stages from params (default: the telecom funnel).
    rows : sequence of int, optional
        Each row's number as the user sees it; default ``2, 3, …`` (a header on row 1).

    Returns
    -------
    DataFrame
        Every contract column (text → ``string``, date → ``datetime64[ns]``, int → ``Int64``,
        number → ``float64``, bool → ``boolean``, choice/stage → ``string`` codes), then the
        extra columns of ``raw`` unchanged.

    Raises
    ------
    DataValidationError
        Listing every problem found (file, row, column, value, rule, hint).

    Examples
    --------
    >>> raw = pd.DataFrame({"分公司": ["杭州"], "期间": ["2006"], "客户类型": ["商企"],
    ...                     "阶段": ["目标客户"], "数量": ["1，234"]})
    >>> validate(raw, table="stage_counts", file="counts.csv")["count"].tolist()
    [1234]
    """
    stages = resolve_stages(stages)
    rows = np.arange(2, len(raw) + 2) if rows is None else np.asarray(rows, dtype=np.int64)
    mapped, problems = map_headers(list(raw.columns), table=table, file=file, stages=stages)
    excel = bool(re.search(r"\.xls[xm]$", file, re.IGNORECASE))
    parsed: dict[str, pd.Series] = {}
    raw_of, bad, present = {}, {}, []
    for column in table_columns(table, stages):
        if column.name not in mapped:
            parsed[column.name] = pd.Series(index=pd.RangeIndex(len(raw)), dtype=DTYPES[column.kind])
            continue
        position = mapped.index(column.name)
        cells_in = raw.iloc[:, position].reset_index(drop=True)
        label = _column_label(raw.columns[position], column)
        values, issues = parse_cells(cells_in, column, stages=stages, excel=excel)
        parsed[column.name], raw_of[column.name], present = values, (label, cells_in), [*present, column]
        bad[column.name] = np.zeros(len(raw), dtype=bool)
        for mask, rule, hint in issues:
            positions = np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False))
            bad[column.name][positions] = True
            problems += _cell_problems(cells_in, positions, file=file, rows=rows, label=label,
                                       column=column, rule=rule, hint=hint)
    frame = pd.DataFrame(parsed)
    problems += _rule_problems(frame, raw_of, bad, table=table, file=file, rows=rows, present=present)
    if table == "stage_counts" and {"stage", "count"} <= set(raw_of):
        problems += _funnel_problems(frame, file=file, rows=rows, label=raw_of["count"][0], stages=stages)
    if problems:
        raise DataValidationError(sorted(problems, key=lambda p: (p.row is not None, p.row or 0)))
    extras = raw.iloc[:, [i for i, m in enumerate(mapped) if m is None]].reset_index(drop=True)
    return pd.concat([frame, extras], axis=1)
