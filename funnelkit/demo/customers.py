"""Demo base customers (基盘客户) with their scorecards, and their referrals, repurchases
and follow-up visits.

Scorecards are drawn tier first: each customer gets tier chances tilted by region and
industry (averaging 4 / 12 / 84 %), a (loyalty, capacity) pair of totals from a correlated
grid restricted to that tier's cells under the default rule, then item points that add up
to those totals. In 2006 a customer moves at most one tier up or down (``catalog.TIER_UP``),
with balanced flows that leave the shares steady while some customers move up and some slip.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from funnelkit.data.schema import CAPACITY_ITEMS, LOYALTY_ITEMS, REFERRAL_SOURCES
from funnelkit.demo import catalog as cat

from ._draw import EPOCH, ID_CHECK, categorical, day, id_numbers, mobile_numbers, pick, pick_rows, rng_for

KEEP_TOTALS = 0.50  # chance that a customer staying in its tier keeps its score totals
YEAR_STARTS = {2005: day("2005-01-01"), 2006: day("2006-01-01"), 2007: day("2007-01-01")}


def tier_of(loyalty: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """The default grid: 0 premium (both ≥ 8), 1 potential (both ≥ 6), 2 general."""
    return np.where((loyalty >= 8) & (capacity >= 8), 0, np.where((loyalty >= 6) & (capacity >= 6), 1, 2))


def _cells_by_tier() -> list[tuple[np.ndarray, np.ndarray]]:
    """For each tier, its (loyalty, capacity) cells and their chances (a correlated grid)."""
    loyalty, capacity = np.meshgrid(np.arange(11), np.arange(11), indexing="ij")
    z1, z2 = (loyalty - 4.5) / 2.2, (capacity - 4.5) / 2.2
    weight = np.exp(-(z1**2 + z2**2 - z1 * z2) / 1.5).ravel()  # correlation ≈ 0.5
    tiers = tier_of(loyalty, capacity).ravel()
    return [(np.flatnonzero(tiers == t), weight[tiers == t]) for t in range(3)]


def _item_combos(maxima: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Every item combination sorted by total, and where each total starts."""
    combos = np.array(list(itertools.product(*(range(m + 1) for m in maxima))))
    combos = combos[np.argsort(combos.sum(axis=1), kind="stable")]
    return combos, np.searchsorted(combos.sum(axis=1), np.arange(sum(maxima) + 2))


_CELLS = _cells_by_tier()
_LOYALTY = _item_combos([top for _, top in LOYALTY_ITEMS.values()])
_CAPACITY = _item_combos([top for _, top in CAPACITY_ITEMS.values()])


def _items(rng: np.random.Generator, totals: np.ndarray, combos: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    table, starts = combos
    count = starts[totals + 1] - starts[totals]
    return table[starts[totals] + (rng.random(len(totals)) * count).astype(np.int64)]


def _cells(rng: np.random.Generator, tier: np.ndarray) -> np.ndarray:
    cell = np.zeros(len(tier), dtype=np.int64)
    for t, (cells, weight) in enumerate(_CELLS):
        rows = np.flatnonzero(tier == t)
        cell[rows] = cells[pick(rng, weight, len(rows))]
    return cell


def _scorecards(rng: np.random.Generator, shares: np.ndarray, in_2005: np.ndarray, in_2006: np.ndarray) -> dict:
    """Tier and cell (loyalty * 11 + capacity) of every customer in 2005 and 2006."""
    n = len(shares)
    tier05 = pick_rows(rng, shares, np.arange(n))
    cell05 = _cells(rng, tier05)
    tier06 = np.where(in_2005, _moved(rng, tier05, shares), pick_rows(rng, shares, np.arange(n)))
    same = (tier06 == tier05) & in_2005 & (rng.random(n) < KEEP_TOTALS)
    cell06 = np.where(same, cell05, _cells(rng, tier06))
    return {2005: (tier05, cell05), 2006: (tier06, cell06)}


def _moved(rng: np.random.Generator, tier: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Next year's tier: one step up or down at most, each flow balanced by its reverse
    (up chance × share below = down chance × share above), so shares stay put."""
    to_premium, to_potential = cat.TIER_UP
    from_premium = to_premium * shares[:, 1] / shares[:, 0]
    from_potential = to_potential * shares[:, 2] / shares[:, 1]
    u = rng.random(len(tier))
    up = np.where(tier == 2, u < to_potential, (tier == 1) & (u > 1 - to_premium))
    down = np.where(tier == 0, u < from_premium, (tier == 1) & (u < from_potential))
    return tier - up + down


def _tier_shares(region: np.ndarray, industry: np.ndarray) -> np.ndarray:
    tilt = cat.REGION_TILT[region] * cat.INDUSTRY_TILT[industry]
    tilt = tilt / tilt.mean()
    upper = cat.TIER_SHARE[:2] * tilt[:, None]
    return np.column_stack([upper, 1 - upper.sum(axis=1)])


def _base(rng: np.random.Generator, branch: cat.Branch, n: int) -> pd.DataFrame:
    """One row per customer: who they are and in which snapshot years they appear."""
    new = rng.random(n) < cat.CUSTOMER_NEW_2006
    gone = ~new & (rng.random(n) < cat.CUSTOMER_GONE_2006)
    first = np.where(
        new,
        rng.integers(YEAR_STARTS[2006], YEAR_STARTS[2007] - 30, n),
        day("2006-01-01") - np.rint(rng.exponential(800, n)).astype(np.int64) % 2500 - 1,
    )
    region = pick(rng, np.linspace(1.5, 0.6, len(branch.regions)), n)
    industry = pick(rng, cat.INDUSTRY_SHARE, n)
    owner = pick(rng, np.ones(len(branch.owners)), n)
    id17, check = id_numbers(rng, branch.id_areas, n)
    return pd.DataFrame(
        {
            "seq": np.arange(1, n + 1),
            "in_2005": ~new,
            "in_2006": ~gone,
            "first_day": first,
            "region": region,
            "industry": industry,
            "owner": owner,
            "segment": pick(rng, cat.CUSTOMER_SEGMENT_SHARE, n),
            "phone": mobile_numbers(rng, n, missing=0.03),
            "id17": id17,
            "id_check": check,
        }
    )


def draw(seed: int, b: int, scale: float) -> dict[str, pd.DataFrame]:
    """The customers, events and visits chunks of branch ``b``."""
    branch = cat.BRANCHES[b]
    rng = rng_for(seed, "customers", b)
    people = _base(rng, branch, max(int(round(cat.CUSTOMERS_AT_SCALE_1[b] * scale)), 20))
    cards = _scorecards(
        rng,
        _tier_shares(people["region"].to_numpy(), people["industry"].to_numpy()),
        people["in_2005"].to_numpy(),
        people["in_2006"].to_numpy(),
    )
    capacity05 = cards[2005][1] % 11
    sales05 = np.round(np.exp(rng.normal(np.log(12_000) + 0.25 * (capacity05 - 4), 1.2)), -1)
    sales06 = np.round(
        np.where(people["in_2005"], sales05, 0)
        + np.exp(rng.normal(np.log(3_000) + 0.25 * (cards[2006][1] % 11 - 4), 1.0)),
        -1,
    )
    rows = []
    for year, sales in ((2005, sales05), (2006, sales06)):
        present = people[f"in_{year}"].to_numpy()
        tier, cell = (part[present] for part in cards[year])
        loyalty = _items(rng, cell // 11, _LOYALTY)
        capacity = _items(rng, cell % 11, _CAPACITY)
        rows.append(
            people[present].assign(
                snapshot_year=year,
                tier=tier,
                sales=sales[present],
                **{name: loyalty[:, i] for i, name in enumerate(LOYALTY_ITEMS)},
                **{name: capacity[:, i] for i, name in enumerate(CAPACITY_ITEMS)},
            )
        )
    table = pd.concat(rows, ignore_index=True)
    return {
        "customers": _customer_chunk(table, branch),
        "events": _events(rng_for(seed, "events", b), table, branch),
        "visits": _visits(rng_for(seed, "visits", b), table[table["snapshot_year"] == 2006], branch),
    }


def _customer_chunk(table: pd.DataFrame, branch: cat.Branch) -> pd.DataFrame:
    return table.drop(columns=["in_2005", "in_2006", "tier"]).assign(
        code=categorical(np.zeros(len(table)), [f"{branch.code}-C"]),
        branch=categorical(np.zeros(len(table)), [branch.name]),
        region=categorical(table["region"], branch.regions),
        industry=categorical(table["industry"], cat.INDUSTRIES),
        segment=categorical(table["segment"], cat.SEGMENTS),
        owner=categorical(table["owner"], branch.owners),
        id_check=categorical(table["id_check"], ID_CHECK),
    )


def _uniform_days(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    return start + (rng.random(len(start)) * np.maximum(end - start, 1)).astype(np.int64)


def _events(rng: np.random.Generator, table: pd.DataFrame, branch: cat.Branch) -> pd.DataFrame:
    year = table["snapshot_year"].to_numpy()
    start = np.maximum(table["first_day"].to_numpy() + 1, np.where(year == 2005, YEAR_STARTS[2005], YEAR_STARTS[2006]))
    end = np.where(year == 2005, YEAR_STARTS[2006], YEAR_STARTS[2007])
    active = np.clip((end - start) / 365, 0, 1)
    tier = table["tier"].to_numpy()
    kinds = []
    for kind, per_year in ((0, cat.REFERRALS_PER_YEAR), (1, cat.REPURCHASES_PER_YEAR)):
        count = rng.poisson(per_year[tier] * active)
        kinds.append(np.column_stack([np.repeat(np.arange(len(table)), count), np.full(count.sum(), kind)]))
    row, kind = np.concatenate(kinds).T
    date = _uniform_days(rng, start[row], end[row])
    order = np.lexsort((kind, row, date))
    row, kind, date = row[order], kind[order], date[order]
    n = len(row)
    source = np.where(kind == 0, pick(rng, cat.REFERRAL_SOURCE_SHARE, n), -1)
    amount = np.round(np.exp(rng.normal(np.where(kind == 0, np.log(3_000), np.log(2_000)), 0.8)), -1)
    return pd.DataFrame(
        {
            "code": categorical(np.zeros(n), [f"{branch.code}-"]),
            "seq": np.arange(1, n + 1),
            "branch": categorical(np.zeros(n), [branch.name]),
            "customer": table["seq"].to_numpy()[row],
            "date": date,
            "kind": categorical(kind, ("referral", "repurchase")),
            "source_type": categorical(source, tuple(REFERRAL_SOURCES)),
            "amount": np.where(rng.random(n) < 0.3, -1.0, amount),
        }
    )


def _visits(rng: np.random.Generator, table: pd.DataFrame, branch: cat.Branch) -> pd.DataFrame:
    months = np.arange("2006-01", "2007-02", dtype="datetime64[M]").astype("datetime64[D]")
    month_start = (months - EPOCH).astype(np.int64)
    tier, first = table["tier"].to_numpy(), table["first_day"].to_numpy()
    n = len(table)
    diligent = (rng.random(n) < cat.FOLLOWS_POLICY[tier])[:, None]
    phone = (diligent | (rng.random((n, 12)) < cat.PHONE_MONTHLY)) * (1 + rng.poisson(0.3, (n, 12)))
    onsite = (diligent | (rng.random((n, 4)) < cat.ONSITE_QUARTERLY)) * (1 + rng.poisson(0.1, (n, 4)))
    parts = []
    for kind, counts, months_each in ((0, phone, 1), (1, onsite, 3)):
        cell = np.repeat(np.arange(counts.size), counts.ravel())
        row, period = cell // counts.shape[1], cell % counts.shape[1]
        begin = month_start[period * months_each]
        date = _uniform_days(rng, begin, month_start[(period + 1) * months_each])
        keep = date > first[row]  # no visits before the customer bought anything
        parts.append(np.column_stack([row[keep], date[keep], np.full(keep.sum(), kind)]))
    row, date, kind = np.concatenate(parts).T
    order = np.lexsort((kind, row, date))
    row, date, kind = row[order], date[order], kind[order]
    own = table["owner"].to_numpy()[row]
    owner = np.where(rng.random(len(row)) < 0.9, own, rng.integers(0, len(branch.owners), len(row)))
    return pd.DataFrame(
        {
            "code": categorical(np.zeros(len(row)), [f"{branch.code}-C"]),
            "branch": categorical(np.zeros(len(row)), [branch.name]),
            "customer": table["seq"].to_numpy()[row],
            "date": date,
            "kind": categorical(kind, ("phone", "onsite")),
            "owner": categorical(owner, branch.owners),
        }
    )


_DATE = "DATE '1970-01-01' + CAST({} AS INTEGER)"
_SCORES = ", ".join([*LOYALTY_ITEMS, *CAPACITY_ITEMS])
INSERT_CUSTOMERS_SQL = f"""
INSERT INTO customers SELECT
    code::VARCHAR || lpad(seq::VARCHAR, 6, '0'), branch::VARCHAR, region::VARCHAR, industry::VARCHAR,
    segment::VARCHAR, owner::VARCHAR, {_DATE.format("first_day")}, snapshot_year, {_SCORES},
    NULL, sales, CAST(nullif(phone, -1) AS VARCHAR), id17::VARCHAR || id_check::VARCHAR
FROM chunk
"""
INSERT_EVENTS_SQL = f"""
INSERT INTO events SELECT
    code::VARCHAR || 'E' || lpad(seq::VARCHAR, 7, '0'), branch::VARCHAR,
    code::VARCHAR || 'C' || lpad(customer::VARCHAR, 6, '0'), {_DATE.format("date")}, kind::VARCHAR,
    source_type::VARCHAR, CASE WHEN amount < 0 THEN NULL ELSE amount END
FROM chunk
"""
INSERT_VISITS_SQL = f"""
INSERT INTO visits SELECT
    branch::VARCHAR, code::VARCHAR || lpad(customer::VARCHAR, 6, '0'), {_DATE.format("date")}, kind::VARCHAR,
    owner::VARCHAR
FROM chunk
"""
