"""The pipeline forecast as a range: P10 / P50 / P90 of won deals and revenue by close month.

The point forecast (:func:`funnelkit.funnel.forecast.pipeline`) gives each open lead a win
probability, an amount and a close month. Here the pipeline is drawn many times: each open
lead is won with its probability (its amount when won), and deals from leads not yet created
arrive as a Poisson count per month — the recent daily inflow of new leads × the share of
closed leads that were won, spread over the months by how long won leads took to close —
each worth an amount drawn from past won deals. The spread of the draws is the range.

One stream of numbers, seeded from the parameters, makes every draw: the same data and
seed give the same range, however many threads draw it (:func:`simulate`). Draws are
matrix products over blocks of leads, so memory stays bounded (``ROWS`` × ``BLOCK`` per
thread) however long the pipeline.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from funnelkit.data.schema import resolve_stages

from . import lead_arrays as arrays
from .forecast import _fill_amounts, close_dates

QUANTILES = (0.1, 0.5, 0.9)
RANGE_COLUMNS = [
    "close_month",
    "won_p10",
    "won_p50",
    "won_p90",
    "amount_p10",
    "amount_p50",
    "amount_p90",
    "pipeline_won",
    "new_won",
]
TOTAL = "all"  # the close_month of the row summing every month
BLOCK = 2048  # leads drawn at once
DEAL_BLOCK = 1 << 20  # new deals given an amount at once
ROWS = 500  # draws made at once for a block of leads: ROWS × BLOCK numbers, 8 MB
THREADS = 2  # threads drawing the open leads, each with its own ROWS × BLOCK buffers


def new_deal_rates(
    leads: pd.DataFrame, *, as_of, months, inflow_months: int, stages=None, closed: np.ndarray | None = None
) -> pd.DataFrame:
    """Expected deals won per close month from leads created on or after ``as_of``.

    ``inflow`` is the leads created per day over the ``inflow_months`` months before
    ``as_of``; ``conversion`` the share won among leads closed before ``as_of``. A lead created
    on day ``d`` and won closes on ``d + lag``, ``lag`` drawn from the days won leads took from
    creation to close (percentiles 1–99 of those closed before ``as_of``), so month ``m``
    expects ``inflow × conversion × E[days d ≥ as_of with d + lag in m]``. ``closed``: the
    leads' close days (:func:`~funnelkit.funnel.forecast.close_dates`) when known.

    Returns
    -------
    DataFrame
        ``close_month`` (``YYYY-MM``), ``new_won`` (the Poisson mean); zeros when nothing was
        won before ``as_of``.
    """
    as_of = pd.Timestamp(as_of)
    window = pd.Timestamp(as_of) - pd.DateOffset(months=inflow_months)
    created = leads["created_date"]
    inflow = created[(created >= window) & (created < as_of)].size / max((as_of - window).days, 1)
    keys = [s.key for s in resolve_stages(stages)]
    closed = arrays.close_days(leads, keys) if closed is None else closed
    history = closed < np.datetime64(as_of, "ns")
    won = arrays.outcome_is(leads, "won")[history]
    conversion = won.mean() if history.any() else 0.0
    waited = closed[history][won] - leads["created_date"].to_numpy(dtype="datetime64[ns]")[history][won]
    lags = pd.Series(waited).dt.days.to_numpy(dtype=float)
    periods = pd.PeriodIndex(list(months), freq="M")
    if not len(lags) or not inflow:
        return pd.DataFrame({"close_month": periods.strftime("%Y-%m"), "new_won": 0.0})
    lags = np.percentile(lags, np.arange(1, 100)) if len(lags) > 99 else lags
    day = np.datetime64(as_of, "D")
    start = (periods.start_time.to_numpy(dtype="datetime64[D]") - day).astype(float)  # days after as_of
    end = (periods.end_time.to_numpy(dtype="datetime64[D]") - day).astype(float)
    # creation day offsets x >= 0 with start <= x + lag <= end
    days = np.clip(end[None, :] - lags[:, None] - np.maximum(start[None, :] - lags[:, None], 0) + 1, 0, None)
    return pd.DataFrame({"close_month": periods.strftime("%Y-%m"), "new_won": inflow * conversion * days.mean(axis=0)})


def won_amounts(leads: pd.DataFrame, *, before, stages=None, closed: np.ndarray | None = None) -> np.ndarray:
    """Amounts of the deals won before ``before`` (what a new deal may be worth); ``closed``:
    the leads' close days when known."""
    keys = [s.key for s in resolve_stages(stages)]
    won = arrays.outcome_is(leads, "won")
    closed = arrays.close_days(leads, keys) if closed is None else closed
    before = won & (closed < np.datetime64(pd.Timestamp(before), "ns"))
    deals = leads[["amount", "segment"]]
    return _fill_amounts(deals[before], won=deals[won]).dropna().to_numpy(dtype=float)


def simulate(
    pipeline: pd.DataFrame,
    *,
    new_deals: pd.DataFrame,
    amounts: np.ndarray,
    draws: int,
    seed: int,
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draws of won deals and revenue per month: two arrays ``draws × months`` in the order
    of ``new_deals["close_month"]``.

    ``pipeline`` holds one row per open lead (``win_prob``, ``amount``, ``close_month``);
    leads expected outside those months are left out. ``new_deals`` gives each month's
    Poisson mean of deals from new leads, each worth an amount drawn from ``amounts``.

    The open leads are drawn block by block on ``threads`` threads (default :data:`THREADS`),
    each block from its own place in the seed's one stream of numbers: the draws, and their
    sums added in block order, are those of one thread, bit for bit.
    """
    rng = np.random.default_rng(seed)
    months = new_deals["close_month"].tolist()
    column = pipeline["close_month"].map({m: i for i, m in enumerate(months)})
    inside = pipeline[column.notna()]
    leads = _Leads(
        column=column[column.notna()].to_numpy(dtype=int),
        probability=inside["win_prob"].fillna(0).to_numpy(dtype=float),
        amount=inside["amount"].fillna(0).to_numpy(dtype=float),
        months=len(months),
        draws=draws,
    )
    blocks = list(range(0, len(inside), BLOCK))
    runs = np.array_split(np.array(blocks, dtype=int), max(min(threads or THREADS, len(blocks)), 1))
    won, revenue = np.zeros((draws, len(months))), np.zeros((draws, len(months)))
    # The new deals' numbers follow every lead's in the stream: drawn from there on another
    # thread. The first run of blocks adds into the totals; the other runs keep each block's
    # sums, added after it in block order, so the totals are those of one thread adding block
    # after block, then the new deals.
    with ThreadPoolExecutor(len(runs)) as pool:
        arriving = pool.submit(_new_deals, _stream_at(rng, draws * len(inside)), new_deals, amounts, draws=draws)
        later = [pool.submit(leads.draw, run, _stream_at(rng, draws * run[0])) for run in runs[1:]]
        leads.draw(runs[0], rng, won, revenue)
        for sums in later:
            for block_won, block_revenue in sums.result():
                won += block_won
                revenue += block_revenue
        new, new_revenue = arriving.result()
    won += new
    if new_revenue is not None:
        revenue += new_revenue
    return won, revenue


def _new_deals(
    rng: np.random.Generator, new_deals: pd.DataFrame, amounts: np.ndarray, *, draws: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Deals from leads not yet created, per draw and month (Poisson), and their revenue
    (None when there are none, or no amounts to draw from)."""
    new = rng.poisson(new_deals["new_won"].to_numpy(dtype=float), size=(draws, len(new_deals)))
    return new, _new_deal_revenue(rng, new, amounts) if new.sum() and len(amounts) else None


@dataclass(frozen=True)
class _Leads:
    """The open leads as arrays: close-month column, win probability, amount."""

    column: np.ndarray
    probability: np.ndarray
    amount: np.ndarray
    months: int
    draws: int

    def draw(self, starts, rng: np.random.Generator, won=None, revenue=None):
        """Draw the blocks of leads starting at ``starts`` (consecutive) with ``rng``; add their
        deals and revenue into ``won`` and ``revenue``, or, without them, return each block's.

        A block's draws are made :data:`ROWS` at a time: its numbers run draw after draw, so
        the rows of one draw are the same numbers however many are made at once."""
        sums = []
        # One buffer pair reused throughout: fresh arrays of this size cost more in page
        # faults than the draws themselves. The numbers are those fresh arrays would hold.
        numbers, wins = _buffers(min(ROWS, self.draws), BLOCK)
        for block in starts:
            part = slice(block, block + BLOCK)
            probability, amount = self.probability[part], self.amount[part]
            one_hot = np.eye(self.months)[self.column[part]]
            if won is None:
                sums.append((np.empty((self.draws, self.months)), np.empty((self.draws, self.months))))
            for first in range(0, self.draws, ROWS):
                rows = slice(first, min(first + ROWS, self.draws))
                shape = (rows.stop - rows.start, len(probability))
                uniform = numbers.ravel()[: shape[0] * shape[1]].reshape(shape)
                deals = wins.ravel()[: uniform.size].reshape(shape)
                rng.random(out=uniform)
                np.less(uniform, probability, out=deals)
                worth = uniform  # the draws are spent: their buffer holds the deals from here on
                np.copyto(worth, deals)  # 0/1: deals per month are whole numbers, exact in any order
                rows_won = worth @ one_hot
                np.multiply(worth, amount, out=worth)  # each deal's amount, 0.0 where not won
                rows_revenue = worth @ one_hot
                if won is None:
                    sums[-1][0][rows], sums[-1][1][rows] = rows_won, rows_revenue
                else:
                    won[rows] += rows_won
                    revenue[rows] += rows_revenue
        return sums


def _stream_at(rng: np.random.Generator, skip: int) -> np.random.Generator:
    """A generator giving ``rng``'s numbers from ``skip`` numbers on (a uniform draw takes
    one 64-bit number of the PCG64 stream, which jumps ahead without drawing)."""
    bits = np.random.PCG64()
    bits.state = rng.bit_generator.state
    return np.random.Generator(bits.advance(int(skip)))


def _buffers(draws: int, leads: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform draws, and won or not: ``draws`` × ``leads`` each."""
    return np.empty((draws, leads)), np.empty((draws, leads), dtype=bool)


def _new_deal_revenue(rng: np.random.Generator, new: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Each cell's ``new`` deals, each worth an amount drawn from ``amounts``, summed.

    Amounts are drawn a block of draws at a time (at most about :data:`DEAL_BLOCK` deals), in
    the order one draw for every deal would take them: the generator gives the same amounts,
    and memory stays bounded however many new deals a large branch expects."""
    revenue = np.zeros(new.shape)
    per_draw = new.sum(axis=1)
    ends = np.cumsum(per_draw)
    start = 0
    while start < len(new):
        reached = (ends[start - 1] if start else 0) + DEAL_BLOCK
        stop = max(int(np.searchsorted(ends, reached, side="right")), start + 1)
        counts = new[start:stop].ravel()
        cell = np.repeat(np.arange(counts.size), counts)
        revenue[start:stop] = np.bincount(
            cell, weights=rng.choice(amounts, size=cell.size), minlength=counts.size
        ).reshape(stop - start, new.shape[1])
        start = stop
    return revenue


def summarise(won: np.ndarray, revenue: np.ndarray, *, months, pipeline_won, new_won) -> pd.DataFrame:
    """P10 / P50 / P90 per month and of the months' total (``close_month`` ``all``), with the
    expected deals from the pipeline and from new leads (``RANGE_COLUMNS``)."""
    won = np.column_stack([won, won.sum(axis=1)])
    revenue = np.column_stack([revenue, revenue.sum(axis=1)])
    # deals as whole numbers that some draw reached; revenue interpolated
    w = np.quantile(won, QUANTILES, axis=0, method="inverted_cdf")
    r = np.quantile(revenue, QUANTILES, axis=0)
    pipeline_won, new_won = np.asarray(pipeline_won, dtype=float), np.asarray(new_won, dtype=float)
    return pd.DataFrame(
        {
            "close_month": [*months, TOTAL],
            "won_p10": w[0],
            "won_p50": w[1],
            "won_p90": w[2],
            "amount_p10": r[0],
            "amount_p50": r[1],
            "amount_p90": r[2],
            "pipeline_won": [*pipeline_won, pipeline_won.sum()],
            "new_won": [*new_won, new_won.sum()],
        }
    )[RANGE_COLUMNS]


def forecast_range(
    leads: pd.DataFrame,
    pipeline: pd.DataFrame,
    *,
    as_of,
    months,
    inflow_months: int,
    draws: int,
    seed: int,
    stages=None,
    closed: np.ndarray | None = None,
) -> pd.DataFrame:
    """The range of won deals and revenue in each of ``months`` (``YYYY-MM``) from the open
    ``pipeline`` (:func:`~funnelkit.funnel.forecast.pipeline` made on ``as_of``) and from new
    leads, learning inflow, conversion, timing and amounts only from ``leads`` before ``as_of``.
    ``closed`` is the leads' close days (:func:`~funnelkit.funnel.forecast.close_dates` as a
    datetime64[ns] array) when the caller has them; they are found once otherwise.

    Examples
    --------
    >>> from funnelkit.data.loading import load_tables
    >>> from funnelkit.funnel import Params, forecast
    >>> leads = load_tables(Params(branch="杭州分公司"), ["leads"])["leads"]
    >>> pipe = forecast.pipeline(leads, as_of="2007-01-01", shrinkage=50)
    >>> table = forecast_range(leads, pipe, as_of="2007-01-01", months=["2007-01", "2007-02"],
    ...                        inflow_months=6, draws=1000, seed=0)
    >>> table["close_month"].tolist(), bool((table["won_p10"] <= table["won_p90"]).all())
    (['2007-01', '2007-02', 'all'], True)
    """
    as_of = pd.Timestamp(as_of)
    if closed is None:
        closed = arrays.close_days(leads, [s.key for s in resolve_stages(stages)])
    new_deals = new_deal_rates(
        leads, as_of=as_of, months=months, inflow_months=inflow_months, stages=stages, closed=closed
    )
    amounts = won_amounts(leads, before=as_of, stages=stages, closed=closed)
    won, revenue = simulate(pipeline, new_deals=new_deals, amounts=amounts, draws=draws, seed=seed)
    expected = pipeline.groupby("close_month")["win_prob"].sum().reindex(new_deals["close_month"], fill_value=0)
    return summarise(
        won, revenue, months=new_deals["close_month"].tolist(), pipeline_won=expected, new_won=new_deals["new_won"]
    )


def actual_by_month(leads: pd.DataFrame, *, months, stages=None, closed: np.ndarray | None = None) -> pd.DataFrame:
    """Deals won and their amounts per close month of ``months``, and in total (``all``);
    ``closed``: the leads' close days when known."""
    won = arrays.outcome_is(leads, "won")
    deals = leads[["amount", "segment"]][won]
    closed = close_dates(leads, stages=stages) if closed is None else pd.Series(closed, index=leads.index)
    month = closed[won].dt.strftime("%Y-%m")
    table = (
        pd.DataFrame({"close_month": month, "amount": _fill_amounts(deals, won=deals).fillna(0)})
        .groupby("close_month")
        .agg(actual_won=("amount", "size"), actual_amount=("amount", "sum"))
        .reindex(list(months), fill_value=0)
    )
    total = pd.DataFrame(table.sum()).T.set_axis([TOTAL])
    return pd.concat([table, total]).rename_axis("close_month").reset_index().astype({"actual_won": float})


def coverage(ranged: pd.DataFrame, actual: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The back-test's range against what happened, month by month.

    Returns
    -------
    (DataFrame, dict)
        ``ranged`` with ``actual_won, actual_amount`` and ``won_inside`` / ``amount_inside``
        (the actual within P10–P90); and ``months``, ``won_coverage``, ``amount_coverage`` (the
        share of months inside, an 80% range should hold about 0.8), ``total_won_inside``,
        ``total_amount_inside``.
    """
    table = ranged.merge(actual, on="close_month", how="left")
    table = table.assign(
        won_inside=table["actual_won"].between(table["won_p10"], table["won_p90"]),
        amount_inside=table["actual_amount"].between(table["amount_p10"], table["amount_p90"]),
    )
    months, total = table[table["close_month"] != TOTAL], table[table["close_month"] == TOTAL]
    return table, {
        "months": len(months),
        "won_coverage": float(months["won_inside"].mean()) if len(months) else np.nan,
        "amount_coverage": float(months["amount_inside"].mean()) if len(months) else np.nan,
        "total_won_inside": bool(total["won_inside"].iloc[0]) if len(total) else False,
        "total_amount_inside": bool(total["amount_inside"].iloc[0]) if len(total) else False,
    }
