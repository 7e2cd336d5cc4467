"""Filters a notebook declares (segment, region, product line, period), and the rows an
analysis selects, applied when loading.

A filter keeps the rows whose column holds the value; ``period`` keeps the rows whose date
(or period) falls in a year or a span of years (``"2006"``, ``"2004-2006"``). An analysis may
also select rows by the codes of a column (the lost-deal report reads only the leads that
reached the deal stage: ``{"stage": {"contacted", …}}``).

DuckDB and Parquet sources get the equality filters and selections inside the query, like
the branch: the column's distinct cells are read, each is relabelled and parsed as
validation would (:func:`keeps`), and the cells whose value passes — or that are empty or
broken, so that validation still names them — are bound as a list. Every source then gets
the exact filter on its typed rows, so a filter means the same whatever the source. A table
without the filter's column is read whole, with a data warning saying the filter did not
apply to it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import numpy as np
import pandas as pd

from .aliases import for_table, relabel
from .branches import DataWarning
from .parsing import parse_cells
from .schema import Stage, table_columns

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


def selections(filters: dict | None, rows: Mapping[str, Collection[str]] | None = None) -> dict[str, frozenset]:
    """Column → the values a row may hold there: each equality filter (all but period) and
    each selection of ``rows``; a column both name keeps the values both accept."""
    chosen: dict[str, frozenset] = {}
    wanted = [(n, {v}) for n, v in active(filters).items() if n != "period"] + list((rows or {}).items())
    for column, values in wanted:
        values = frozenset(str(v) for v in values)
        chosen[column] = chosen[column] & values if column in chosen else values
    return chosen


def keeps(
    table: str,
    chosen: Mapping[str, frozenset],
    *,
    stages: tuple[Stage, ...],
    aliases: Mapping | None = None,
) -> dict[str, Callable[[pd.Series], np.ndarray]]:
    """For each chosen column, a test of its distinct raw cells (as a source gives them):
    True for a cell to read — its value after the branch's ``aliases`` and parsing is one of
    the chosen, or it is empty or broken (validation then decides, as for any read row).

    Examples
    --------
    >>> from funnelkit.data.schema import DEFAULT_STAGES
    >>> own = {"stage": {"意向A": "intent"}}
    >>> test = keeps("leads", {"stage": frozenset({"intent"})}, stages=DEFAULT_STAGES, aliases=own)
    >>> test["stage"](pd.Series(["意向客户", "意向A", "目标客户", "??", None], dtype="string")).tolist()
    [True, True, False, True, True]
    """
    columns = {c.name: c for c in table_columns(table, stages)}
    own = for_table(aliases, table)

    def test(name: str) -> Callable[[pd.Series], np.ndarray]:
        def passes(cells: pd.Series) -> np.ndarray:
            cells = cells.reset_index(drop=True)
            cells = relabel(cells, own[name]) if name in own else cells
            values, _ = parse_cells(cells, columns[name], stages=stages)
            chosen_values = values.astype("string").str.strip().isin(chosen[name])
            return (values.isna() | chosen_values).to_numpy(dtype=bool, na_value=True)

        return passes

    return {name: test(name) for name in chosen if name in columns}


def apply(
    frame: pd.DataFrame,
    *,
    table: str,
    filters: dict | None,
    file: str,
    rows: Mapping[str, Collection[str]] | None = None,
) -> tuple[pd.DataFrame, list[DataWarning]]:
    """``frame`` cut to the filters and to the selected ``rows`` (column → values), and a
    warning for each filter the table has no column for (a selected column the table lacks
    selects no row).

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
    for column, values in (rows or {}).items():
        if column not in frame.columns:
            keep &= False
            continue
        keep &= frame[column].astype("string").str.strip().isin([str(v) for v in values]).to_numpy(bool)
    if keep.all():  # nothing to cut: no copy of a large branch's rows
        return frame, warnings
    return frame.loc[keep.to_numpy()].reset_index(drop=True), warnings
