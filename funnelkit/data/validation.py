"""Checking one raw table against the data contract (:mod:`funnelkit.data.schema`).

:func:`validate` maps the headers, parses every cell by its column kind, checks the rules
(empty cells, ranges, uniqueness; the funnel order of ``stage_counts``) and raises one
:class:`~funnelkit.exceptions.DataValidationError` listing every problem of the file. Work is
vectorised; Python loops run only over the failing cells. Typed columns (DuckDB, Parquet)
are not parsed again, and Arrow-backed text is checked in Arrow and kept as it is when
already clean, so a large branch is not copied cell by cell.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pyarrow
import pyarrow.compute as pc

from funnelkit.exceptions import DataValidationError, ParamsError, Problem
from funnelkit.privacy import mask_text

from .aliases import for_table, relabel
from .dates import DateWindow
from .parsing import DTYPES, arrow_strings, as_text, parse_cells
from .schema import Column, Stage, resolve_stages, table_columns

#: At most this many problems per column and rule are listed; all of them are counted.
PER_RULE_LIMIT = 100


def normalise_header(header: object) -> str:
    """A header as compared: NFKC (full-width → ASCII), BOM and surrounding spaces removed."""
    return unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "").strip()


def map_headers(
    headers: list, *, table: str, file: str, stages: tuple[Stage, ...]
) -> tuple[list[str | None], list[Problem]]:
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
            problems.append(
                Problem(
                    file,
                    1,
                    name,
                    " / ".join(found),
                    "two columns give the same field",
                    "keep one of them or rename the other",
                )
            )
    unmatched = [str(h) for h, m in zip(headers, mapped) if m is None]
    for column in columns:
        if column.required and column.name not in mapped:
            guess = _closest_header(column, unmatched)
            problems.append(
                Problem(
                    file,
                    None,
                    None,
                    column.name,
                    "required column is missing",
                    (f"is the column {guess!r} meant to be {column.name}? " if guess else "")
                    + f"name a column {' or '.join((column.name, *column.aliases))}; "
                    f"headers found: {', '.join(map(str, headers)) or 'none'}",
                )
            )
    return mapped, problems


def _closest_header(column: Column, headers: list[str]) -> str | None:
    """The header found that reads most like one of the column's names (a misspelt 产品线别
    for 产品线, ``Product Lines`` for product_line), or None when none is close."""
    import difflib

    names = [n.casefold() for n in (column.name, *column.aliases)]
    scored = [
        (max(difflib.SequenceMatcher(None, normalise_header(h).casefold(), n).ratio() for n in names), h)
        for h in headers
    ]
    best = max(scored, default=(0.0, None))
    return best[1] if best[0] >= 0.6 else None


def _shown(value: object, column: Column) -> object:
    """A cell value as a problem may show it: masked, shortened."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = value if isinstance(value, str) else as_text(value)
    masked = mask_text(text)
    if column.personal and masked == text:
        masked = text[:3] + "****" if len(text) > 3 else "****"
    return masked if len(masked) <= 60 else masked[:57] + "…"


def column_label(header: object, name: str) -> str:
    """How problems name a column: its header, with the contract name when they differ."""
    header = normalise_header(header)
    return name if header.casefold() == name else f"{header} ({name})"


def window_for(as_of) -> DateWindow:
    """The plausible-date window for params ``as_of``; a ParamsError if it is not a date."""
    try:
        return DateWindow.for_as_of(as_of)
    except (TypeError, ValueError):
        raise ParamsError(
            [
                Problem(
                    "params",
                    None,
                    "as_of",
                    as_of,
                    "not a date",
                    'write it as 2006-12-31, or leave it empty ("") for today',
                )
            ]
        ) from None


def _cell_problems(
    raw: pd.Series,
    positions: np.ndarray,
    *,
    file: str,
    rows: np.ndarray,
    label: str,
    column: Column,
    rule: str,
    hint: str,
    counts: Counter,
) -> list[Problem]:
    """Problems for the failing ``positions`` of one column (at most PER_RULE_LIMIT listed,
    every one counted in ``counts``)."""
    if len(positions):
        counts[f"{label}: {rule}"] += len(positions)
    return [
        Problem(file, int(rows[p]), label, _shown(raw.iat[p], column), rule, hint) for p in positions[:PER_RULE_LIMIT]
    ]


def _rule_of(check: str, column: Column) -> tuple[str, str]:
    if check == "not_nullable":
        return "empty cell in a column that must be filled", "fill in every row"
    if check == "field_uniqueness":
        return f"duplicate {column.name}", "each value may appear only once in the file"
    if check == "multiple_fields_uniqueness":
        return "the same branch, period, segment and stage appear twice", "keep one row per stage"
    bounds = " and ".join(f"{op} {v:g}" for op, v in (("≥", column.min), ("≤", column.max)) if v is not None)
    return f"out of range: must be {bounds}", "check the value"


def _rule_masks(values: pd.Series, column: Column) -> list[tuple[str, np.ndarray]]:
    """Rows breaking a column's empty-cell and range rules (empty cells never break a range)."""
    masks = []
    if not column.nullable:
        masks.append(("not_nullable", values.isna().to_numpy()))
    if column.min is not None or column.max is not None:
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        for limit, breaks in ((column.min, np.less), (column.max, np.greater)):
            if limit is not None:
                masks.append(("range", breaks(numbers, limit)))
    return masks


def _sorted_distinct(values: pd.Series) -> bool:
    """True when the non-empty values strictly increase: then no two are equal (IDs often do)."""
    strings = arrow_strings(values)
    if strings is None or len(strings) - strings.null_count < 2:
        return strings is not None
    present = pc.drop_null(strings) if strings.null_count else strings
    return pc.all(pc.less(present[:-1], present[1:])).as_py()


def _duplicates(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the repeats of a value (not its first row), and each one's first position."""
    if _sorted_distinct(values):
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    codes, _ = pd.factorize(values)  # NA → -1: empty cells are never duplicates
    counts = np.bincount(codes[codes >= 0])
    repeated = np.flatnonzero((codes >= 0) & (counts[np.maximum(codes, 0)] > 1))
    repeated_codes = codes[repeated]
    seen, first_index = np.unique(repeated_codes, return_index=True)
    first = repeated[first_index][np.searchsorted(seen, repeated_codes)]
    later = repeated != first
    return repeated[later], first[later]


def _rule_problems(
    parsed: pd.DataFrame,
    raw_of: dict,
    bad: dict,
    *,
    table: str,
    file: str,
    rows: np.ndarray,
    present: list[Column],
    counts: Counter,
) -> list[Problem]:
    """Empty cells, ranges and uniqueness, checked on the parsed columns.

    Cells that failed to parse (``bad``: column → positions) are reported already and skipped.
    """
    problems: list[Problem] = []
    for column in present:
        label, cells_in = raw_of[column.name]
        values = parsed[column.name]
        if column.unique:
            later, first = _duplicates(values)
            rule, hint = _rule_of("field_uniqueness", column)
            if len(later):
                counts[f"{label}: {rule}"] += len(later)
            problems += [
                Problem(
                    file,
                    int(rows[p]),
                    label,
                    _shown(cells_in.iat[p], column),
                    rule,
                    f"{hint}; first seen in row {int(rows[f])}",
                )
                for p, f in zip(later[:PER_RULE_LIMIT], first[:PER_RULE_LIMIT])
            ]
        for check, mask in _rule_masks(values, column):
            positions = np.setdiff1d(np.flatnonzero(mask), bad[column.name])
            rule, hint = _rule_of(check, column)
            problems += _cell_problems(
                cells_in,
                positions,
                file=file,
                rows=rows,
                label=label,
                column=column,
                rule=rule,
                hint=hint,
                counts=counts,
            )
    keys = ["branch", "period", "segment", "stage"]
    if table == "stage_counts" and "stage" in raw_of:
        twice = (parsed.duplicated(keys, keep=False) & parsed[keys].notna().any(axis=1)).to_numpy()
        positions = np.setdiff1d(np.flatnonzero(twice), bad["stage"])
        label, cells_in = raw_of["stage"]
        rule, hint = _rule_of("multiple_fields_uniqueness", None)
        stage = next(c for c in present if c.name == "stage")
        problems += _cell_problems(
            cells_in, positions, file=file, rows=rows, label=label, column=stage, rule=rule, hint=hint, counts=counts
        )
    return problems


def _funnel_problems(
    parsed: pd.DataFrame, *, file: str, rows: np.ndarray, label: str, stages: tuple[Stage, ...], counts: Counter
) -> list[Problem]:
    """Counts in ``stage_counts`` must not rise down the funnel within branch, period, segment."""
    keys = ["branch", "period", "segment"]
    order = {s.key: i for i, s in enumerate(stages)}
    names = {s.key: s.zh for s in stages}
    ordered = (
        parsed[[*keys, "stage", "count"]]
        .assign(position=np.arange(len(parsed)), rank=parsed["stage"].map(order))
        .dropna()
        .sort_values([*keys, "rank"])
    )
    previous = ordered.groupby(keys, sort=False)[["stage", "count", "position"]].shift()
    rising = ordered[ordered["count"] > previous["count"]]
    if len(rising):
        counts[f"{label}: count rises down the funnel"] += len(rising)
    return [
        Problem(
            file,
            int(rows[r.position]),
            label,
            int(r["count"]),
            f"count rises down the funnel: {names[previous.at[i, 'stage']]} has "
            f"{int(previous.at[i, 'count'])} but the later stage {names[r.stage]} has {int(r['count'])}",
            f"a later stage cannot hold more customers; check this row and row "
            f"{int(rows[int(previous.at[i, 'position'])])}",
        )
        for i, r in rising.head(PER_RULE_LIMIT).iterrows()
    ]


def validate(
    raw: pd.DataFrame, *, table: str, file: str, stages=None, rows=None, as_of=None, aliases=None, columns=None
) -> pd.DataFrame:
    """Parse and check ``raw`` (one branch's rows of one table) against the data contract.

    Parameters
    ----------
    raw : DataFrame
        Cells as read: text (CSV), mixed Python values (XLSX) or typed columns (DuckDB,
        Parquet). Headers may be the English names or the Chinese aliases. Not modified.
    table : str
        A contract table name (``funnelkit.data.schema.TABLES``).
    file : str
        Named in every problem. Numbers in date columns are read as Excel serial dates only
        when it ends in ``.xlsx``/``.xlsm``.
    stages : list, optional
        The funnel stages from params (default: the telecom funnel).
    rows : sequence of int, optional
        Each row's number as the user sees it; default ``2, 3, …`` (a header on row 1).
    as_of : str, optional
        The data's as-of date (params ``as_of``); dates after it, or before 1990, are
        problems. Default: today.
    aliases : mapping, optional
        The branch's own labels (params ``aliases``, :mod:`funnelkit.data.aliases`),
        replaced by the contract's codes before the cells are checked.
    columns : sequence of str, optional
        Only these contract columns were read (``attrs["columns_read"]`` of a source read
        with ``columns``): only they are checked and returned; the source had the others.

    Returns
    -------
    DataFrame
        Every contract column (text → ``string``, date → ``datetime64[ns]``, int → ``Int64``,
        number → ``float64``, bool → ``boolean``, choice/stage → ``string`` codes), then the
        extra columns of ``raw`` unchanged.

    Raises
    ------
    DataValidationError
        Listing every problem found (file, row, column, value, rule, hint): at most
        PER_RULE_LIMIT per column and rule one by one, all of them in the counts.

    Examples
    --------
    >>> raw = pd.DataFrame({"分公司": ["杭州"], "期间": ["2006"], "客户类型": ["商企"],
    ...                     "阶段": ["目标客户"], "数量": ["1，234"]})
    >>> validate(raw, table="stage_counts", file="counts.csv")["count"].tolist()
    [1234]
    """
    stages = resolve_stages(stages)
    window = window_for(as_of)
    rows = np.arange(2, len(raw) + 2) if rows is None else np.asarray(rows, dtype=np.int64)
    mapped, problems = map_headers(list(raw.columns), table=table, file=file, stages=stages)
    if columns is not None:  # the columns not read were there: the source was checked for them
        problems = [p for p in problems if p.row is not None or p.value in columns]
    own_labels = for_table(aliases, table)
    counts = Counter(p.rule for p in problems)
    excel = bool(re.search(r"\.xls[xm]$", file, re.IGNORECASE))
    parsed: dict[str, pd.Series] = {}
    raw_of, bad, present = {}, {}, []
    for column in table_columns(table, stages):
        if columns is not None and column.name not in columns:
            continue
        if column.name not in mapped:
            parsed[column.name] = _empty_column(len(raw), column)
            continue
        position = mapped.index(column.name)
        cells_in = raw.iloc[:, position].reset_index(drop=True)
        if column.name in own_labels:
            cells_in = relabel(cells_in, own_labels[column.name])
        label = column_label(raw.columns[position], column.name)
        values, issues = parse_cells(cells_in, column, stages=stages, excel=excel, window=window)
        parsed[column.name], raw_of[column.name], present = values, (label, cells_in), [*present, column]
        bad[column.name] = np.array([], dtype=np.int64)  # positions that failed to parse
        for mask, rule, hint in issues:
            positions = np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False))
            bad[column.name] = np.union1d(bad[column.name], positions)
            problems += _cell_problems(
                cells_in,
                positions,
                file=file,
                rows=rows,
                label=label,
                column=column,
                rule=rule,
                hint=hint,
                counts=counts,
            )
    frame = pd.DataFrame(parsed, copy=False)  # no consolidation: the columns are not copied
    problems += _rule_problems(frame, raw_of, bad, table=table, file=file, rows=rows, present=present, counts=counts)
    if table == "stage_counts" and {"stage", "count"} <= set(raw_of):
        problems += _funnel_problems(
            frame, file=file, rows=rows, label=raw_of["count"][0], stages=stages, counts=counts
        )
    if problems:
        raise DataValidationError(sorted(problems, key=lambda p: (p.row is not None, p.row or 0)), counts=counts)
    extras = [i for i, m in enumerate(mapped) if m is None]
    if not extras:
        return frame
    return pd.concat([frame, raw.iloc[:, extras].reset_index(drop=True)], axis=1)


def _empty_column(length: int, column: Column) -> pd.Series:
    """An absent optional column: all empty, of its kind's dtype."""
    if DTYPES[column.kind] == "string":
        nulls = pyarrow.chunked_array([pyarrow.nulls(length, pyarrow.large_string())])
        return pd.Series(pd.arrays.ArrowStringArray(nulls))
    return pd.Series(index=pd.RangeIndex(length), dtype=DTYPES[column.kind])
