"""Parsing cells into the contract's types: text normalised, numbers, dates, booleans,
codes and stages, each distinct value parsed once. ``parse_cells`` returns the parsed column
and the positions of cells that did not parse; :mod:`funnelkit.data.validation` turns those into
problems and checks the rules.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pyarrow
import pyarrow.compute as pc

from . import dates
from .dates import DateWindow
from .schema import Column, Stage

DTYPES = {
    "text": "string",
    "date": "datetime64[ns]",
    "int": "Int64",
    "number": "float64",
    "bool": "boolean",
    "choice": "string",
    "stage": "string",
}

_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?(?:[eE][+-]?\d+)?"
_SCIENTIFIC = r"[+-]?\d(?:\.\d+)?[eE]\+?\d+"
_BOOLS = {
    **dict.fromkeys(("yes", "true", "1", "是", "y"), True),
    **dict.fromkeys(("no", "false", "0", "否", "n"), False),
}
#: Characters no one can see in a cell: NUL, soft hyphen, zero-width space / joiners, word
#: joiner, BOM. Trimmed from the ends of every text cell with the spaces (full-width and
#: no-break included), and removed anywhere in a branch cell.
INVISIBLE = "\x00\u00ad\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE_RE2 = "[\\x00\\x{ad}\\x{200b}-\\x{200d}\\x{2060}\\x{feff}]"
_TRIMMED = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + INVISIBLE  # U+3000 is the last space


def arrow_strings(values: pd.Series) -> pyarrow.Array | pyarrow.ChunkedArray | None:
    """The Arrow strings behind an Arrow-backed text column (no copy); None for other columns."""
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        return values.array.__arrow_array__()
    if isinstance(dtype, pd.ArrowDtype) and (
        pyarrow.types.is_string(dtype.pyarrow_dtype) or pyarrow.types.is_large_string(dtype.pyarrow_dtype)
    ):
        return values.array.__arrow_array__()
    return None


def _clean_strings(strings) -> pd.arrays.ArrowStringArray:
    """NFKC-normalised, stripped, '' → NA, chunk by chunk: a clean chunk keeps its buffers, so
    clean data is neither copied nor doubled in memory. A column that repeats a few values
    (segment, owner, stage …) is normalised once per distinct value, judged by its first chunk."""
    chunks = strings.chunks if isinstance(strings, pyarrow.ChunkedArray) else [strings]
    repetitive = bool(chunks) and _repetitive(chunks[0])
    cleaned = [_clean_chunk(chunk, repetitive=repetitive) for chunk in chunks]
    return pd.arrays.ArrowStringArray(pyarrow.chunked_array(cleaned, type=strings.type))


def _repetitive(chunk: pyarrow.Array) -> bool:
    """Whether at most a tenth of the chunk's cells are distinct values."""
    return len(chunk) >= 1000 and pc.count_distinct(chunk).as_py() * 10 <= len(chunk)


def _clean_chunk(chunk: pyarrow.Array, *, repetitive: bool = False) -> pyarrow.Array:
    if repetitive:
        encoded = pc.dictionary_encode(chunk)
        tidied = _tidy(encoded.dictionary)
        cleaned = chunk if tidied.equals(encoded.dictionary) else pc.take(tidied, encoded.indices)
    else:
        cleaned = _tidy(chunk)
    if cleaned.equals(chunk):
        cleaned = chunk
    empty = pc.equal(cleaned, "")
    if pc.any(empty).as_py():
        cleaned = pc.if_else(empty, pyarrow.scalar(None, cleaned.type), cleaned)
    return cleaned


def _tidy(strings):
    """NFKC (full-width → ordinary), spaces and invisible characters trimmed at both ends."""
    return pc.utf8_trim(pc.utf8_normalize(strings, "NFKC"), characters=_TRIMMED)


def without_invisible(text: pd.Series) -> pd.Series:
    """Text cells with :data:`INVISIBLE` characters removed anywhere, empty → NA."""
    strings = text.astype("string[pyarrow]").array.__arrow_array__()
    cleaned = pc.utf8_trim(pc.replace_substring_regex(strings, _INVISIBLE_RE2, ""), characters=_TRIMMED)
    if cleaned.equals(strings):
        return text
    result = pd.Series(pd.arrays.ArrowStringArray(cleaned), index=text.index)
    return result.mask((result == "").fillna(False))


def split_cells(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text cells (NFKC-normalised, stripped, '' → NA) and the other non-empty cells."""
    strings = arrow_strings(raw)
    if strings is not None:  # text only: no mixed cells to separate
        return (
            pd.Series(_clean_strings(strings), index=raw.index),
            pd.Series(np.nan, index=raw.index, dtype="float64"),
        )
    if raw.dtype == object:
        is_text = raw.map(lambda v: isinstance(v, str)).astype(bool)
    elif pd.api.types.is_string_dtype(raw.dtype):
        is_text = raw.notna()
    else:
        is_text = pd.Series(False, index=raw.index)
    text = raw.where(is_text).astype("string[pyarrow]")
    cleaned = _tidy(pyarrow.array(text.array))
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


def as_text(value: object) -> str:
    """A non-text cell (number, date, bool) written as text."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.15g}"
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").item()
    if isinstance(value, dt.datetime) and value.time() == dt.time():  # pd.Timestamp too; no Timestamp
        value = value.date()  # holds 9999-12-31, a datetime does
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def _with_other_as_text(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Every non-empty cell as text, and the cells that were not text to begin with."""
    text, other = split_cells(raw)
    has_other = other.notna()
    if has_other.any():
        text = text.copy()
        text[has_other] = other[has_other].map(as_text).map(lambda v: unicodedata.normalize("NFKC", v))
    return text, other


def _parse_text(raw: pd.Series, column: Column, **_) -> tuple[pd.Series, list]:
    text, other = _with_other_as_text(raw)
    if column.name == "branch":  # compared with params `branch`: nothing invisible may remain
        text = by_unique(text, without_invisible)
    if not (column.personal or column.name.endswith("_id")):
        return text, []
    lost = _which(
        other, lambda v: isinstance(v, (float, np.floating)) and (abs(v) >= 1e15 or not float(v).is_integer())
    )
    lost = lost | text.str.fullmatch(_SCIENTIFIC).fillna(False).astype(bool)
    return (text.mask(lost) if lost.any() else text), [
        (
            lost,
            "Excel turned this identifier into a number and dropped digits",
            "format the column as text in Excel, re-enter the values and export again",
        )
    ]


def _parse_number(raw: pd.Series, column: Column, **_) -> tuple[pd.Series, list]:
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("float64"), []
    text, other = split_cells(raw)
    shaped = text.str.fullmatch(_NUMBER).fillna(False) & text.str.contains(r"\d").fillna(False)
    cleaned = text.str.replace(",", "", regex=False).where(shaped).astype(object).where(shaped, "")
    values = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    numeric_other = _which(
        other, lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
    )
    values[numeric_other] = other[numeric_other].astype("float64")
    bad = (text.notna() & values.isna()).fillna(False).astype(bool)
    percent = bad & text.str.endswith("%").fillna(False)
    return values, [
        (percent, "a percentage is not accepted here", "give the plain number (35, not 35%)"),
        (bad & ~percent, "not a number", "write digits only, e.g. 1234 or 1,234 (no units or text)"),
        (other.notna() & ~numeric_other, "not a number", "write digits only"),
    ]


def _parse_int(raw: pd.Series, column: Column, **_) -> tuple[pd.Series, list]:
    values, issues = _parse_number(raw, column)
    fraction = values.notna() & ((values != values.round()) | (values.abs() > 2**53))
    whole = values.mask(fraction).round().astype("Int64")
    return whole, [*issues, (fraction, "not a whole number", "counts, points and years are whole numbers")]


def _parse_date(
    raw: pd.Series, column: Column, *, excel: bool = False, window: DateWindow | None = None, **_
) -> tuple[pd.Series, list]:
    window = window or DateWindow.for_as_of()
    if isinstance(raw.dtype, pd.ArrowDtype) and (
        pyarrow.types.is_date(raw.dtype.pyarrow_dtype) or pyarrow.types.is_timestamp(raw.dtype.pyarrow_dtype)
    ):
        return dates.within(dates.arrow_dates(raw), window)
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return dates.within(dates.typed_dates(raw), window)
    text, other = split_cells(raw)
    values = by_unique(text, dates.text_dates)
    has_other = other.notna()
    converted = other[has_other].map(lambda v: dates.other_date(v, excel))
    number = pd.Series(False, index=raw.index)
    number[has_other] = converted.map(lambda v: isinstance(v, str)).astype(bool)
    values[has_other & ~number] = pd.to_datetime(converted[~number[has_other]]).astype("datetime64[ns]")
    bad = (text.notna() & values.isna()).fillna(False).astype(bool)
    serial = bad & text.str.fullmatch(dates.SERIAL).fillna(False)
    values, outside = dates.within(values, window)
    return values, [
        (serial | number, "a number is not a date", dates.SERIAL_HINT),
        (bad & ~serial, "not a date", dates.DATE_HINT),
        (has_other & ~number & values.isna() & ~_any(outside, raw.index), "not a date", dates.DATE_HINT),
        *outside,
    ]


def _any(issues: list, index: pd.Index) -> pd.Series:
    """Cells flagged by any of ``issues``."""
    flagged = pd.Series(False, index=index)
    for mask, _, _ in issues:
        flagged |= mask
    return flagged


def _parse_bool(raw: pd.Series, column: Column, **_) -> tuple[pd.Series, list]:
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("boolean"), []
    text, _ = _with_other_as_text(raw)
    values = by_unique(text, lambda u: u.str.casefold().map(_BOOLS).astype("boolean"))
    return values, [(text.notna() & values.isna(), "not yes or no", "write 是/否, yes/no, true/false, Y/N or 1/0")]


def _parse_codes(raw: pd.Series, lookup: dict[str, str], rule: str, hint: str) -> tuple[pd.Series, list]:
    text, _ = _with_other_as_text(raw)
    codes = by_unique(text, lambda u: u.str.casefold().map(lookup).astype("string"))
    return codes, [(text.notna() & codes.isna(), rule, hint)]


def _parse_choice(raw: pd.Series, column: Column, **_) -> tuple[pd.Series, list]:
    lookup = {s.casefold(): code for code, spellings in column.choices.items() for s in spellings}
    allowed = ", ".join(" / ".join(spellings) for spellings in column.choices.values())
    codes, issues = _parse_codes(
        raw, lookup, "unknown value", f"allowed values: {allowed}; or map the label in params aliases"
    )
    if column.open:  # other labels are kept under their own name (the analysis counts and warns)
        text, _ = _with_other_as_text(raw)
        return codes.fillna(text), []
    return codes, issues


def _parse_stage(raw: pd.Series, column: Column, *, stages: tuple[Stage, ...], **_) -> tuple[pd.Series, list]:
    lookup = {label.casefold(): s.key for s in stages for label in (s.key, s.zh, s.en)}
    listed = ", ".join(f"{s.zh} ({s.key})" for s in stages)
    return _parse_codes(
        raw,
        lookup,
        "unknown stage label",
        f"the stages are {listed}; map the branch's labels in params aliases, or set `stages` if its funnel differs",
    )


_PARSERS = {
    "text": _parse_text,
    "number": _parse_number,
    "int": _parse_int,
    "date": _parse_date,
    "bool": _parse_bool,
    "choice": _parse_choice,
    "stage": _parse_stage,
}


def parse_cells(
    raw: pd.Series, column: Column, *, stages: tuple[Stage, ...], excel: bool = False, window: DateWindow | None = None
) -> tuple[pd.Series, list]:
    """Parse one column's cells by its kind: the values (NA where empty or broken) and a
    list of ``(mask, rule, hint)`` for the broken cells. Dates outside ``window`` (default:
    1990 to today) are broken cells too."""
    values, issues = _PARSERS[column.kind](raw, column, stages=stages, excel=excel, window=window)
    return values.astype(DTYPES[column.kind]), [(m, r, h) for m, r, h in issues if m.any()]
