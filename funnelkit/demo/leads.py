"""Demo leads: one row per lead with its furthest stage, stage dates and, if lost, why.

A lead passes each stage-to-stage step with a rate set by its branch, segment and year
(:mod:`funnelkit.demo.catalog`); its furthest stage is the first step it fails. Leads are
drawn in blocks of at most ``BLOCK`` rows per (branch, year), each with its own generator.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from funnelkit.data.schema import DEFAULT_STAGES
from funnelkit.demo import catalog as cat

from ._draw import ID_CHECK, categorical, day, id_numbers, log_uniform, mobile_numbers, pick, pick_rows, rng_for

BLOCK = 200_000
SIGNED = 4  # index of the signed stage: signed or beyond is won
STAGE_KEYS = tuple(s.key for s in DEFAULT_STAGES)
OPEN_FROM = day("2006-11-01")  # leads created since then and not yet signed are still open
_NOTE_TEXTS = tuple(text for _, text, _, _ in cat.NOTES) + (cat.NOTE_PHONE, cat.NOTE_ID, cat.NOTE_SCRIPT)
_NOTE_REASON = np.array([reason for reason, *_ in cat.NOTES])
_NOTE_LOW = np.array([low for *_, low, _ in cat.NOTES] + [0, 0, 0])
_NOTE_HIGH = np.array([high for *_, high in cat.NOTES] + [0, 0, 0])


def pass_rates(seed: int, branch: int) -> np.ndarray:
    """Pass rate of every step, shape (year, segment, step), for one branch."""
    noise = rng_for(seed, "rates", branch).normal(0, 0.012, (len(cat.YEARS), len(cat.BASE_PASS)))
    rates = cat.BASE_PASS + np.asarray(cat.BRANCHES[branch].pass_delta) + noise
    rates[cat.YEARS.index(cat.IMPROVEMENT["year"]), cat.IMPROVEMENT["step"]] += cat.IMPROVEMENT["delta"]
    return np.clip(rates[:, None, :] + cat.SEGMENT_PASS_DELTA[None, :, :], 0.02, 0.98)


def pieces(scale: float) -> Iterator[tuple[int, int, int, int, int]]:
    """(branch, year index, block, rows, first sequence number) of every lead block."""
    for b, branch in enumerate(cat.BRANCHES):
        for y, share in enumerate(cat.YEAR_SHARE):
            total = int(round(cat.LEADS_AT_SCALE_1 * scale * branch.share * share))
            for block, start in enumerate(range(0, total, BLOCK)):
                yield b, y, block, min(BLOCK, total - start), start


def _stage_days(rng: np.random.Generator, created: np.ndarray, furthest: np.ndarray) -> np.ndarray:
    """Day of every stage (columns), -1 beyond the furthest stage reached."""
    gaps = [
        np.maximum(np.rint(rng.gamma(shape, mean / shape, len(created))), low) for shape, mean, low in cat.STAGE_GAPS
    ]
    days = created[:, None] + np.column_stack([np.zeros(len(created)), *gaps]).cumsum(axis=1).astype(np.int64)
    return np.where(np.arange(len(STAGE_KEYS))[None, :] <= furthest[:, None], days, -1)


def _lost_details(rng: np.random.Generator, lost: np.ndarray, furthest: np.ndarray, product: np.ndarray) -> dict:
    n = len(lost)
    contacted_lost = lost & (furthest >= 2)
    reason = np.where(furthest == 0, 7, 8)
    reason = np.where(contacted_lost, pick_rows(rng, cat.REASON_SHARE, product), reason)
    kind = np.where(contacted_lost, pick(rng, cat.LOST_KIND_SHARE, n), -1)
    quasi = contacted_lost & (kind < 3)
    followed = quasi & (rng.random(n) < cat.FOLLOW_UP)
    reengaged = followed & (rng.random(n) < cat.REENGAGE)
    recovered = reengaged & (rng.random(n) < cat.RECOVER)
    return {
        "lost_reason": categorical(np.where(lost, reason, -1), cat.LOST_REASONS),
        "lost_kind": categorical(kind, cat.LOST_KINDS),
        "competitor": categorical(np.where(kind == 3, pick(rng, cat.COMPETITOR_SHARE, n), -1), cat.COMPETITORS),
        "followed_up": np.where(quasi, followed, -1).astype(np.int8),
        "reengaged": np.where(followed, reengaged, -1).astype(np.int8),
        "recovered": np.where(reengaged, recovered, -1).astype(np.int8),
        "_reason": np.where(lost, reason, -1),
    }


def _notes(rng: np.random.Generator, reason: np.ndarray, plant_script: bool, areas: tuple[int, ...]) -> dict:
    """Note template per row (-1 = no note) and the values its placeholders take."""
    n = len(reason)
    choice = rng.random(n)
    first = np.searchsorted(_NOTE_REASON, np.maximum(reason, 0))
    count = np.searchsorted(_NOTE_REASON, np.maximum(reason, 0), side="right") - first
    template = first + np.minimum((rng.random(n) * count).astype(np.int64), count - 1)
    template = np.where(choice < cat.NOTE_PHONE_SHARE, len(cat.NOTES), template)
    template = np.where(choice > 1 - cat.NOTE_ID_SHARE, len(cat.NOTES) + 1, template)
    share = np.asarray(cat.NOTE_SHARE)[(reason < 7).astype(np.int64)]
    template = np.where((reason >= 0) & (rng.random(n) < share), template, -1)
    if plant_script:  # the reports must show this escaped, never run it
        template[np.flatnonzero(template >= 0)[:2]] = len(cat.NOTES) + 2
    id17, check = id_numbers(rng, areas, n)
    return {
        "note_template": categorical(template, _NOTE_TEXTS),
        "note_n": rng.integers(_NOTE_LOW[template], _NOTE_HIGH[template] + 1),
        "note_phone": mobile_numbers(rng, n),
        "note_id17": id17,
        "note_id_check": categorical(check, ID_CHECK),
    }


def draw(seed: int, b: int, y: int, block: int, n: int, start: int) -> pd.DataFrame:
    """One block of leads as codes and numbers (:data:`INSERT_SQL` turns it into rows)."""
    rng = rng_for(seed, "leads", b, y, block)
    branch, year = cat.BRANCHES[b], cat.YEARS[y]
    created = day(f"{year}-01-01") + rng.integers(0, day(f"{year + 1}-01-01") - day(f"{year}-01-01"), n)
    segment = pick(rng, cat.LEAD_SEGMENT_SHARE, n)
    product = pick_rows(rng, cat.PRODUCT_SHARE, segment)
    passes = rng.random((n, len(cat.BASE_PASS))) < pass_rates(seed, b)[y, segment]
    furthest = np.cumprod(passes, axis=1).sum(axis=1)
    stage_days = _stage_days(rng, created, furthest)
    is_open = (furthest < SIGNED) & (created >= OPEN_FROM)
    lost = (furthest < SIGNED) & ~is_open
    outcome = np.where(furthest >= SIGNED, 1, np.where(is_open, 0, 2))
    low, high = np.array(cat.SEGMENT_AMOUNT).T
    amount = np.round(log_uniform(rng, low[segment], high[segment]), -1)
    no_amount = (furthest < 2) | (is_open & (furthest < 3))
    details = _lost_details(rng, lost, furthest, product)
    last_day = stage_days[np.arange(n), furthest]
    region_weights = np.linspace(1.5, 0.6, len(branch.regions))
    # Drawn in this order, before the frame, so every value comes from the same draw as ever.
    region = pick(rng, region_weights, n)
    industry = pick(rng, cat.INDUSTRY_SHARE, n)
    owner = categorical(pick(rng, np.linspace(1.3, 0.7, len(branch.owners)), n), branch.owners)
    frame = pd.DataFrame(
        {
            "code": categorical(np.zeros(n), [f"{branch.code}-{year}-"]),
            "seq": np.arange(start + 1, start + n + 1),
            "branch": categorical(np.zeros(n), [branch.name]),
            "created": created,
            "segment": categorical(segment, cat.SEGMENTS),
            "region": categorical(region, branch.regions),
            "industry": categorical(industry, cat.INDUSTRIES),
            "product_line": categorical(product, cat.PRODUCT_LINES),
            "owner": owner,
            "stage": categorical(furthest, STAGE_KEYS),
            "outcome": categorical(outcome, ("open", "won", "lost")),
            "amount": np.where(no_amount, -1.0, amount),
            **{k: v for k, v in details.items() if not k.startswith("_")},
            "lost_day": np.where(lost, last_day + rng.integers(7, 61, n), -1),
            **_notes(rng, details["_reason"], (b, y, block) == (0, len(cat.YEARS) - 1, 0), branch.id_areas),
            "phone": mobile_numbers(rng, n, missing=0.05),
            **{f"d_{key}": stage_days[:, i] for i, key in enumerate(STAGE_KEYS)},
        }
    )
    if branch.name != cat.WEAK_OWNER[0]:
        return frame
    plant = rng_for(seed, "weak_owner", b, y, block)
    return _weak_owner_slips(
        frame, plant, furthest=furthest, created=created, days=stage_days, product=product, areas=branch.id_areas
    )


def _weak_owner_slips(
    frame: pd.DataFrame, rng: np.random.Generator, *, furthest, created, days, product, areas
) -> pd.DataFrame:
    """The planted driver of losing (:data:`~funnelkit.demo.catalog.WEAK_OWNER`): a share of
    the weak owner's deals that reached signing stop at intent instead; their stage, outcome,
    loss details, note and stage dates are drawn anew from ``rng``, a stream of their own, so
    every other lead keeps exactly the values it had."""
    n = len(frame)
    own = frame["owner"].to_numpy() == cat.WEAK_OWNER[1]
    slip = own & (furthest >= SIGNED) & (rng.random(n) < cat.WEAK_OWNER_SLIP)
    furthest = np.where(slip, SIGNED - 1, furthest)
    days = np.where(np.arange(len(STAGE_KEYS))[None, :] <= furthest[:, None], days, -1)
    is_open = (furthest < SIGNED) & (created >= OPEN_FROM)
    lost = (furthest < SIGNED) & ~is_open
    details = _lost_details(rng, lost, furthest, product)
    redrawn = pd.DataFrame(
        {
            "stage": categorical(furthest, STAGE_KEYS),
            "outcome": categorical(np.where(furthest >= SIGNED, 1, np.where(is_open, 0, 2)), ("open", "won", "lost")),
            **{k: v for k, v in details.items() if not k.startswith("_")},
            "lost_day": np.where(lost, days[np.arange(n), furthest] + rng.integers(7, 61, n), -1),
            **_notes(rng, details["_reason"], False, areas),
            **{f"d_{key}": days[:, i] for i, key in enumerate(STAGE_KEYS)},
        },
        index=frame.index,
    )
    return pd.concat([frame[~slip], frame[slip].assign(**redrawn[slip])]).sort_index()


_DATE = "DATE '1970-01-01' + CAST(nullif({}, -1) AS INTEGER)"
_BOOL = "CASE WHEN {0} < 0 THEN NULL ELSE {0} = 1 END"
#: Turns a block from :func:`draw` (registered as ``chunk``) into leads rows, in contract order.
INSERT_SQL = f"""
INSERT INTO leads SELECT
    code::VARCHAR || lpad(seq::VARCHAR, 7, '0'), branch::VARCHAR, {_DATE.format("created")},
    segment::VARCHAR, region::VARCHAR, industry::VARCHAR, product_line::VARCHAR, owner::VARCHAR,
    stage::VARCHAR, outcome::VARCHAR, CASE WHEN amount < 0 THEN NULL ELSE amount END,
    lost_reason::VARCHAR, lost_kind::VARCHAR, competitor::VARCHAR, {_DATE.format("lost_day")},
    {_BOOL.format("followed_up")}, {_BOOL.format("reengaged")}, {_BOOL.format("recovered")},
    replace(replace(replace(note_template::VARCHAR, '{{n}}', note_n::VARCHAR), '{{phone}}', note_phone::VARCHAR),
            '{{id}}', note_id17::VARCHAR || note_id_check::VARCHAR),
    CAST(nullif(phone, -1) AS VARCHAR),
    {", ".join(_DATE.format(f"d_{key}") for key in STAGE_KEYS)}
FROM chunk
"""

#: stage_counts derived from leads: per branch, year, segment and stage, the leads whose
#: furthest stage is at or beyond it (zeros included). ``stage_order`` maps key → position.
STAGE_COUNTS_SQL = """
INSERT INTO stage_counts
WITH per_lead AS (
    SELECT branch, CAST(year(created_date) AS VARCHAR) AS period, segment, o.position
    FROM leads JOIN stage_order o ON leads.stage = o.stage
), furthest AS (
    SELECT branch, period, segment, position, count(*) AS leads FROM per_lead GROUP BY ALL
), grid AS (
    SELECT g.branch, g.period, g.segment, o.stage, o.position
    FROM (SELECT DISTINCT branch, period, segment FROM furthest) g CROSS JOIN stage_order o
)
SELECT grid.branch, grid.period, grid.segment, grid.stage, CAST(coalesce(sum(f.leads), 0) AS INTEGER)
FROM grid LEFT JOIN furthest f
  ON f.branch = grid.branch AND f.period = grid.period AND f.segment = grid.segment
 AND f.position >= grid.position
GROUP BY grid.branch, grid.period, grid.segment, grid.stage, grid.position
ORDER BY grid.branch, grid.period, grid.segment, grid.position
"""
