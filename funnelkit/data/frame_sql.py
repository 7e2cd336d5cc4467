"""SQL over frames already loaded: DuckDB reads pandas columns in place.

An analysis that needs only aggregates of a large table (counts by year, segment and stage)
asks DuckDB for them instead of grouping millions of rows in pandas. The frames are those
:func:`funnelkit.data.loading.load_table` returned, whatever the source they came from
(DuckDB, Parquet, CSV, XLSX), so one query serves every kind of source. Values reach the SQL
only as bound parameters.
"""

from __future__ import annotations

import pandas as pd

from .sources import open_duckdb


def query(sql: str, params: list | tuple = (), **frames: pd.DataFrame) -> pd.DataFrame:
    """The result of ``sql`` over ``frames``, each a table named by its keyword, in an offline
    in-memory DuckDB (no extension is ever fetched).

    Examples
    --------
    >>> leads = pd.DataFrame({"segment": ["政企", "家庭", "政企"], "amount": [1.0, 2.0, 4.0]})
    >>> query("SELECT segment, sum(amount) AS amount FROM leads WHERE amount > ? GROUP BY ALL ORDER BY 1",
    ...       [1.5], leads=leads)
      segment  amount
    0      家庭     2.0
    1      政企     4.0
    """
    with open_duckdb() as con:
        for name, frame in frames.items():
            con.register(name, frame)
        return con.execute(sql, list(params)).df()
