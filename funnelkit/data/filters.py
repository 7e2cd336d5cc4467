"""Filters a notebook declares (segment, region, product line, period), applied when loading.

A filter keeps the rows whose column holds the value; ``period`` keeps the rows whose date
(or period) falls in a year or a span of years (``"2006"``, ``"2004-2006"``). DuckDB and
Parquet sources get the equality filters as bound parameters inside the query, like the
branch; every source then gets the exact filter on its typed rows, so a filter means the
same whatever the source. A table without the filter's column is read whole, with a data
warning saying the filter did not apply to it.
"""

from __future__ import annotations

import pandas as pd

from .branches import DataWarning

#: The column a ``period`` filter reads in each table.
PERIOD_COLUMNS = {
    "leads": "created_date",
    "stage_counts": "period",
    "customers": "snapshot_year",
    "events": "date",
    "visits": "date",
    "transactions": "date",
}


def active(filters: dict | None) -> dict[str, str]:
    """The filters that are set (an empty value means every row)."""
    return {column: str(value) for column, value in (filters or {}).items() if value not in ("", None)}


def column_of(table: str, name: str) -> str:
    """The table column a filter reads."""
    return PERIOD_COLUMNS.get(table, "") if name == "period" else name


def years(span: str) -> tuple[int, int]:
    """``"2006"`` → (2006, 2006); ``"2004-2006"`` → (2004, 2006)."""
    first, _, last = span.partition("-")
    return int(first), int(last or first)


def equality_pushdown(table: str, filters: dict | None) -> dict[str, str]:
    """The filters a query can apply as ``column = value`` (all but period)."""
    return {name: value for name, value in active(filters).items() if name != "period"}


def apply(
    frame: pd.DataFrame, *, table: str, filters: dict | None, file: str
) -> tuple[pd.DataFrame, list[DataWarning]]:
    """``frame`` cut to the filters, and a warning for each filter the table has no column for.

    Examples
    --------
    >>> rows = pd.DataFrame({"segment": ["政企", "家庭"], "created_date": pd.to_datetime(["2005-03-01", "2006-07-01"])})
    >>> kept, _ = apply(rows, table="leads", filters={"segment": "", "period": "2006"}, file="leads.csv")
    >>> kept["segment"].tolist()
    ['家庭']
    """
    keep = pd.Series(True, index=frame.index)
    warnings = []
    for name, value in active(filters).items():
        column = column_of(table, name)
        if column not in frame.columns:
            warnings.append(
                DataWarning(
                    file, None, column or name, value, f"no column for the {name} filter", key="filter_not_applied"
                )
            )
            continue
        values = frame[column]
        if name != "period":
            keep &= (values.astype("string").str.strip() == value).fillna(False).to_numpy()
            continue
        first, last = years(value)
        if pd.api.types.is_datetime64_any_dtype(values):
            year = values.dt.year
        else:
            year = pd.to_numeric(values.astype("string").str.slice(0, 4), errors="coerce")
        keep &= year.between(first, last).fillna(False).to_numpy()
    if keep.all():  # nothing to cut: no copy of a large branch's rows
        return frame, warnings
    return frame.loc[keep.to_numpy()].reset_index(drop=True), warnings
