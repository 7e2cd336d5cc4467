"""Demo transactions: yearly cohorts of customers acquired 2003–2006 and their repeat purchases.

A customer is active in the year of the first purchase; each later year it stays active
with the cohort's retention for that year of tenure (``catalog.RETENTION``, ~60 % rising to
~80 %) and, once it lapses, never comes back. An active year holds at least one purchase.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from funnelkit.demo import catalog as cat

from ._draw import categorical, day, pick, rng_for

LAST_DAY = day("2006-12-31")


def _active_years(rng: np.random.Generator, n: int, cohort: int) -> np.ndarray:
    """Active flags, shape (customers, years from ``cohort`` to the last year)."""
    later = cat.YEARS[-1] - cohort
    retention = np.array([cat.RETENTION[min(k, len(cat.RETENTION) - 1)] for k in range(later)])
    stays = rng.random((n, later)) < retention
    return np.column_stack([np.ones(n, dtype=bool), np.cumprod(stays, axis=1).astype(bool)])


def _purchases(rng: np.random.Generator, first: np.ndarray, active: np.ndarray, cohort: int):
    """(customer row, day) of every purchase, the first purchases included."""
    n, years = active.shape
    rate = cat.PURCHASES_PER_ACTIVE_YEAR
    year_start = np.array([day(f"{cohort + k}-01-01") for k in range(years + 1)])
    rest_of_year = (year_start[1] - first) / 365
    counts = np.column_stack(
        [
            rng.poisson((rate - 1) * rest_of_year),  # after the first purchase
            active[:, 1:] * (1 + rng.poisson(rate - 1, (n, years - 1))),
        ]
    )
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    row, year = cell // years, cell % years
    begin = np.where(year == 0, first[row] + 1, year_start[year])
    span = np.maximum(year_start[year + 1] - begin, 1)
    days = np.minimum(begin + (rng.random(len(row)) * span).astype(np.int64), LAST_DAY)
    same_day = np.flatnonzero(rng.random(n) < cat.SAME_DAY_SHARE)  # a second purchase on day one
    rows = np.concatenate([np.arange(n), same_day, row])
    return rows, np.concatenate([first, first[same_day], days])


def draw(seed: int, b: int, scale: float) -> Iterator[pd.DataFrame]:
    """One chunk of transactions per acquisition cohort of branch ``b``."""
    branch = cat.BRANCHES[b]
    size = cat.ACQUIRED_AT_SCALE_1 * branch.share * len(cat.BRANCHES) * scale
    for y, cohort in enumerate(cat.YEARS):
        rng = rng_for(seed, "transactions", b, y)
        n = max(int(round(size * (0.85 + 0.1 * y))), 10)
        first = day(f"{cohort}-01-01") + rng.integers(0, 365, n)
        segment = pick(rng, cat.LEAD_SEGMENT_SHARE, n)
        region = pick(rng, np.linspace(1.5, 0.6, len(branch.regions)), n)
        rows, days = _purchases(rng, first, _active_years(rng, n, cohort), cohort)
        order = np.lexsort((rows, days))
        rows, days = rows[order], days[order]
        amount = np.round(np.exp(rng.normal(np.log(np.array(cat.TX_AMOUNT_MEDIAN))[segment[rows]], 0.8)), 2)
        cost = np.round(amount * (1 - rng.uniform(0.25, 0.45, len(rows))), 2)
        yield pd.DataFrame(
            {
                "code": categorical(np.zeros(len(rows)), [f"{branch.code}-{cohort}-"]),
                "seq": np.arange(1, len(rows) + 1),
                "customer": rows + 1,
                "branch": categorical(np.zeros(len(rows)), [branch.name]),
                "date": days,
                "amount": amount,
                "cost": cost,
                "segment": categorical(segment[rows], cat.SEGMENTS),
                "region": categorical(region[rows], branch.regions),
            }
        )


INSERT_SQL = """
INSERT INTO transactions SELECT
    code::VARCHAR || 'T' || lpad(seq::VARCHAR, 7, '0'), branch::VARCHAR,
    code::VARCHAR || 'A' || lpad(customer::VARCHAR, 6, '0'), DATE '1970-01-01' + CAST(date AS INTEGER),
    amount, cost, round(amount - cost, 2), segment::VARCHAR, region::VARCHAR
FROM chunk
"""
