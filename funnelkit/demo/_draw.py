"""Small vectorised drawing helpers shared by the demo generators."""

from __future__ import annotations

import numpy as np
import pandas as pd

EPOCH = np.datetime64("1970-01-01", "D")
TABLE_IDS = {"leads": 1, "customers": 2, "events": 3, "visits": 4, "transactions": 5, "rates": 6, "weak_owner": 7}
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = tuple("10X98765432")


def rng_for(seed: int, table: str, *key: int) -> np.random.Generator:
    """The generator of one (table, branch, year, block) piece: independent of every other
    piece, so how the work is chunked never changes the data."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(TABLE_IDS[table], *key)))


def day(text: str) -> int:
    """Days since 1970-01-01 of an ISO date."""
    return int((np.datetime64(text, "D") - EPOCH).astype(int))


def pick(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    """``n`` codes drawn with probabilities ``shares`` (normalised)."""
    cdf = np.cumsum(shares) / np.sum(shares)
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


def pick_rows(rng: np.random.Generator, shares: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One code per element of ``rows``, drawn from the matching row of ``shares``."""
    cdf = np.cumsum(shares, axis=1)
    cdf = cdf / cdf[:, -1:]
    u = rng.random(len(rows))
    return np.minimum((u[:, None] >= cdf[rows]).sum(axis=1), shares.shape[1] - 1)


def log_uniform(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high)))


def mobile_numbers(rng: np.random.Generator, n: int, *, missing: float = 0.0) -> np.ndarray:
    """Mainland mobile numbers as int64 (13x, 15x, 18x), -1 where missing."""
    second = np.array([3, 5, 8])[rng.integers(0, 3, n)]
    numbers = 10_000_000_000 + second.astype(np.int64) * 1_000_000_000 + rng.integers(0, 1_000_000_000, n)
    return np.where(rng.random(n) < missing, -1, numbers)


def id_numbers(rng: np.random.Generator, areas: tuple[int, ...], n: int) -> tuple[np.ndarray, np.ndarray]:
    """18-digit ID numbers: the first 17 digits as int64 and the check character's code
    (index into ``ID_CHECK``), with valid birth dates 1950–1985 and the GB 11643 check digit."""
    area = np.asarray(areas, dtype=np.int64)[rng.integers(0, len(areas), n)]
    birth = EPOCH + rng.integers(day("1950-01-01"), day("1985-12-31"), n)
    ymd = pd.DatetimeIndex(birth.astype("datetime64[s]"))
    yyyymmdd = (ymd.year * 10_000 + ymd.month * 100 + ymd.day).to_numpy().astype(np.int64)
    first17 = area * 10**11 + yyyymmdd * 1_000 + rng.integers(0, 1_000, n)
    digits = (first17[:, None] // 10 ** np.arange(16, -1, -1, dtype=np.int64)) % 10
    return first17, (digits @ _ID_WEIGHTS) % 11


def categorical(codes: np.ndarray, categories: tuple[str, ...] | list[str]) -> pd.Categorical:
    """Codes (-1 = missing) as a categorical column for DuckDB."""
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(categories))
