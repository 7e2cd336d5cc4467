"""Arrow results of DuckDB as pandas frames, without a Python object per cell.

Text stays in DuckDB's Arrow buffers (pandas ``string``); dates become ``datetime64[ns]``
filled chunk by chunk; typed columns keep their type. (DuckDB frees a result's buffers only
all together, so copying text out of them would only add memory.)
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# The days datetime64[ns] holds: 1677-09-22 … 2262-04-11, as days since 1970.
_NS_DAYS = (-106_751, 106_750)


def arrow_frame(table: pa.Table) -> tuple[pd.DataFrame, np.ndarray]:
    """An Arrow table with ``__row`` as a frame in source order, and its row numbers.

    Without ORDER BY (a full sort of the branch) DuckDB keeps insertion order; the table is
    sorted only when it is not ascending.
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
    ``datetime64[ns]`` (kept as Arrow dates when some lie beyond its range, for the date
    parser to flag), nullable bool and int, the rest as pandas does."""
    kind = values.type
    if pa.types.is_dictionary(kind):  # ENUM columns: plain text
        values, kind = values.cast(kind.value_type), kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pd.arrays.ArrowStringArray(values if pa.types.is_large_string(kind) else values.cast(pa.large_string()))
    if pa.types.is_date(kind):
        if values.null_count < len(values):
            days = pc.min_max(values.cast(pa.date32()).cast(pa.int32()))
            if days["min"].as_py() < _NS_DAYS[0] or days["max"].as_py() > _NS_DAYS[1]:
                return pd.arrays.ArrowExtensionArray(values)  # 0001-01-01, 9999-12-31 …
        if values.null_count == len(values):
            return np.full(len(values), np.datetime64("NaT", "ns"))
        dates = np.empty(len(values), dtype="datetime64[ns]")  # the chunks fill every row
        start = 0
        for chunk in values.chunks:
            dates[start : start + len(chunk)] = chunk.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
            start += len(chunk)
        return dates
    if pa.types.is_boolean(kind):
        return values.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get).array
    if pa.types.is_integer(kind) and kind != pa.uint64():
        return values.to_pandas(types_mapper=lambda _: pd.Int64Dtype()).array
    return values.to_pandas().array


def give_back_memory() -> None:
    """Return the memory a large read has freed to the system.

    Arrow's pool and the C allocator each keep freed blocks for their own reuse, and neither
    reuses the other's: the blocks a read briefly needed in Arrow would stay in the kernel's
    resident memory while numpy and pandas allocate afresh for the analysis."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim`` (None where the C library has none)."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        return ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    return None
