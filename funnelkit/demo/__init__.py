"""Demo data: a seeded, made-up telecom company with five branches, for trying the kit.

:func:`write_demo_db` writes every table of the data contract (:mod:`funnelkit.data.schema`) to
a DuckDB file; :func:`load_demo` returns small in-memory versions of the same tables for
docstring examples and tests. The data tell a story the notebooks should find:

- the funnel loses most at target→potential (network coverage, ~60 % lost), then
  potential→contacted (~57 %); signed→effective loses ~66 %;
- 宁波分公司 is weak at making contact, 温州分公司 at installing signed deals;
- contacted→intent improved in 2006 (a real year-over-year change);
- 价格太高 is the top lost reason in every product line; 跟进不及时 is the sales-process one;
- one sales owner, 徐明 of 宁波分公司, loses about nine in ten of his decided deals against two
  in three for everyone else (the driver of losing the lost-deal report should find); the
  plant draws from a stream of its own, so no other lead differs from the data without it;
- base-customer tiers come out ~4 % premium, 12 % potential, 84 % general, unevenly spread
  over regions and industries; premium customers refer, repurchase and are visited more;
- yearly cohort retention rises from ~60 % to ~80 %.

Lead stage dates of late-2006 leads run into 2007: leads are cohorts by year created.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from funnelkit.data.schema import DEFAULT_STAGES, TABLES, table_columns
from funnelkit.data.sources import open_duckdb
from funnelkit.demo import catalog as cat
from funnelkit.demo import customers, leads, transactions

__all__ = ["DEMO_BRANCHES", "DEMO_SEED", "load_demo", "write_demo_db"]

#: The branches of the demo company, largest first.
DEMO_BRANCHES: list[str] = [b.name for b in cat.BRANCHES]
DEMO_SEED = 20061231
_SQL_TYPES = {
    "text": "VARCHAR",
    "choice": "VARCHAR",
    "stage": "VARCHAR",
    "date": "DATE",
    "int": "INTEGER",
    "number": "DOUBLE",
    "bool": "BOOLEAN",
}
_LOAD_SCALE = 0.1


def write_demo_db(path: str | os.PathLike, *, scale: float = 1.0, seed: int = DEMO_SEED) -> dict[str, int]:
    """Write the demo database to ``path`` and return the row count of every table.

    The file is built next to ``path`` (``<path>.tmp``) and moved into place when complete,
    so readers never see half a database.

    Parameters
    ----------
    path : str or path-like
        The DuckDB file to write (replaced if it exists; its folder is created).
    scale : float
        Multiplies the lead volume (1 ≈ 50 thousand leads, 200 ≈ 10 million); customers and
        transactions grow with ``sqrt(scale)``.
    seed : int
        The same seed and scale give identical tables.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> counts = write_demo_db(pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb", scale=0.01)
    >>> sorted(counts)
    ['customers', 'events', 'leads', 'stage_counts', 'transactions', 'visits']
    """
    if not scale > 0:
        raise ValueError(f"scale must be a positive number, not {scale!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(target.name + ".tmp")
    staging.unlink(missing_ok=True)
    with open_duckdb(staging) as con:
        counts = _build(con, scale=scale, seed=seed)
        con.execute("CHECKPOINT")
    os.replace(staging, target)
    return counts


def load_demo(table: str, *, branch: str | None = None) -> pd.DataFrame:
    """A small demo version of ``table`` (about 5 thousand leads in all), optionally one branch.

    Built in memory once per process; every call returns a fresh copy.

    Examples
    --------
    >>> leads = load_demo("leads", branch="杭州分公司")
    >>> leads["branch"].unique().tolist()
    ['杭州分公司']
    >>> sorted(load_demo("customers")["snapshot_year"].unique().tolist())
    [2005, 2006]
    """
    if table not in TABLES:
        raise ValueError(f"table must be one of {', '.join(TABLES)}, not {table!r}")
    if branch is not None and branch not in DEMO_BRANCHES:
        raise ValueError(f"branch must be one of {', '.join(DEMO_BRANCHES)}, not {branch!r}")
    data = _small_tables()[table]
    if branch is not None:
        data = data[data["branch"] == branch].reset_index(drop=True)
    return data.copy()


@cache
def _small_tables() -> dict[str, pd.DataFrame]:
    with open_duckdb() as con:
        _build(con, scale=_LOAD_SCALE, seed=DEMO_SEED)
        return {name: con.sql(f'SELECT * FROM "{name}"').df() for name in TABLES}


def _build(con: duckdb.DuckDBPyConnection, *, scale: float, seed: int) -> dict[str, int]:
    """Create every contract table in ``con`` and fill it."""
    for name in TABLES:
        columns = ", ".join(f'"{c.name}" {_SQL_TYPES[c.kind]}' for c in table_columns(name))
        con.execute(f'CREATE OR REPLACE TABLE "{name}" ({columns})')
    for piece in leads.pieces(scale):
        _insert(con, leads.draw(seed, *piece), leads.INSERT_SQL)
    order = pd.DataFrame({"stage": [s.key for s in DEFAULT_STAGES], "position": np.arange(len(DEFAULT_STAGES))})
    con.register("stage_order", order)
    con.execute(leads.STAGE_COUNTS_SQL)
    con.unregister("stage_order")
    customer_scale = float(np.sqrt(scale))
    for b in range(len(cat.BRANCHES)):
        frames = customers.draw(seed, b, customer_scale)
        _insert(con, frames["customers"], customers.INSERT_CUSTOMERS_SQL)
        _insert(con, frames["events"], customers.INSERT_EVENTS_SQL)
        _insert(con, frames["visits"], customers.INSERT_VISITS_SQL)
        for chunk in transactions.draw(seed, b, customer_scale):
            _insert(con, chunk, transactions.INSERT_SQL)
    return {name: con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0] for name in TABLES}


def _insert(con: duckdb.DuckDBPyConnection, chunk: pd.DataFrame, sql: str) -> None:
    con.register("chunk", chunk)
    try:
        con.execute(sql)
    finally:
        con.unregister("chunk")
