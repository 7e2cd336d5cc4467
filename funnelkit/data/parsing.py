"""Parsing cells into the contract's types: text normalised, numbers, dates, booleans,
codes and stages, each distinct value parsed once. ``parse_cells`` returns the parsed column
and the positions of cells that did not parse; :mod:`funnelkit.data.validation` turns those into
problems and checks the rules.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pyarrow
import pyarrow.compute as pc

from .schema import Column, Stage

DTYPES = {"text": "string", "date": "datetime64[ns]", "int": "Int64", "number": "float64",
          "bool": "boolean", "choice": "string", "stage": "string"}

_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?(?:[eE][+-]?\d+)?"
_SCIENTIFIC = r"[+-]?\d(?:\.\d+)?[eE]\+?\d+"
_YMD = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_SERIAL = r"\d{1,6}(?:\.\d+)?"
_BOOLS = {**dict.fromkeys(("yes", "true", "1", "是", "y"), True),
          **dict.fromkeys(("no", "false", "0", "否", "n"), False)}
_DAY_NS = 86_400 * 10**9
_DATE_HINT = "write dates as 2006-01-31, 2006/1/31, 2006年1月31日 or 20060131"
_SERIAL_HINT = ("this looks like an Excel date serial: format the column as a date (yyyy-mm-dd) "
                "in Excel before saving as CSV")


def arrow_strings(values: pd.Series) -> pyarrow.Array | pyarrow.ChunkedArray | None:
    """The Arrow strings behind an Arrow-backed text column (no copy); None for other columns."""
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        return values.array.__arrow_array__()
    if isinstance(dtype, pd.ArrowDtype) and (pyarrow.types.is_string(dtype.pyarrow_dtype)
                                              or pyarrow.types.is_large_string(dtype.pyarrow_dtype)):
        return values.array.__arrow_array__()
    return None


def _clean_strings(strings) -> pd.arrays.ArrowStringArray:
    """NFKC-normalised, stripped, '' → NA, chunk by chunk: a clean chunk keeps its buffers, so
    clean data is neither copied nor doubled in memory."""
    chunks = strings.chunks if isinstance(strings, pyarrow.ChunkedArray) else [strings]
    cleaned = [_clean_chunk(chunk) for chunk in chunks]
    return pd.arrays.ArrowStringArray(pyarrow.chunked_array(cleaned, type=strings.type))


def _clean_chunk(chunk: pyarrow.Array) -> pyarrow.Array:
    cleaned = pc.utf8_trim_whitespace(pc.utf8_normalize(chunk, "NFKC"))
    if cleaned.equals(chunk):
        cleaned = chunk
    empty = pc.equal(cleaned, "")
    if pc.any(empty).as_py():
        cleaned = pc.if_else(empty, pyarrow.scalar(None, cleaned.type), cleaned)
    return cleaned


def split_cells(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text cells (NFKC-normalised, stripped, '' → NA) and the other non-empty cells."""
    strings = arrow_strings(raw)
    if strings is not None:  # text only: no mixed cells to separate
        return (pd.Series(_clean_strings(strings), index=raw.index),
                pd.Series(np.nan, index=raw.index, dtype="float64"))
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
    distinct = pd.Series(uniques, dtype=values.dtype)
    result = func(distinct)
    if result.dtype == values.dtype and result.equals(distinct):
        return values  # every value is already its result (codes written as codes): no copy
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
    """Every non-empty cell as text, and the cells that were not text to begin with."""
    text, other = split_cells(raw)
    has_other = other.notna()
    if has_other.any():
        text = text.copy()
        text[has_other] = other[has_other].map(_as_text).map(lambda v: unicodedata.normalize("NFKC", v))
    return text, other


def _parse_text(raw: pd.Series, column: Column, **_) -> tuple[pd.Series, list]:
    text, other = _with_other_as_text(raw)
    if not (column.personal or column.name.endswith("_id")):
        return text, []
    lost = _which(other, lambda v: isinstance(v, (float, np.floating))
                  and (abs(v) >= 1e15 or not float(v).is_integer()))
    lost = lost | text.str.fullmatch(_SCIENTIFIC).fillna(False).astype(bool)
    return (text.mask(lost) if lost.any() else text), [
        (lost, "Excel turned this identifier into a number and dropped digits",
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


def _arrow_dates(raw: pd.Series) -> pd.Series:
    """An Arrow date/timestamp column as ``datetime64[ns]`` dates (local time for zoned ones)."""
    values = raw.array.__arrow_array__()
    if values.null_count == len(values):  # optional columns are often entirely empty
        return pd.Series(np.full(len(values), np.datetime64("NaT", "ns")), index=raw.index)
    if pyarrow.types.is_timestamp(values.type):
        values = pc.floor_temporal(pc.local_timestamp(values) if values.type.tz else values, unit="day")
    stamps = pc.cast(values, pyarrow.timestamp("ns"))
    return pd.Series(stamps.to_numpy(zero_copy_only=False) if isinstance(stamps, pyarrow.Array)
                     else stamps.to_numpy(), index=raw.index)


def _parse_date(raw: pd.Series, column: Column, *, excel: bool = False, **_) -> tuple[pd.Series, list]:
    if isinstance(raw.dtype, pd.ArrowDtype) and (pyarrow.types.is_date(raw.dtype.pyarrow_dtype)
                                                 or pyarrow.types.is_timestamp(raw.dtype.pyarrow_dtype)):
        return _arrow_dates(raw), []
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        plain = (raw.dt.tz_localize(None) if getattr(raw.dt, "tz", None) else raw).astype("datetime64[ns]")
        ticks = plain.to_numpy().view(np.int64)
        if (np.isnat(plain.to_numpy()) | (ticks % _DAY_NS == 0)).all():
            return plain, []  # dates already: no copy
        return plain.dt.normalize(), []
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
