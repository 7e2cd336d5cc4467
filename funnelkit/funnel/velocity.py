"""Pipeline velocity: how many yuan of won business the pipeline turns out per day.

``velocity = deals × win rate × average deal ÷ cycle length`` for the leads created in each
period (the funnel's periods: years of ``created_date``):

- ``deals``: leads created in the period;
- ``win_rate``: won / settled among them (open leads left out, as in the funnel's rates);
- ``average_deal``: mean amount of the won ones (yuan);
- ``cycle_days``: mean days from creation to the close of the won ones.

Its change between two periods splits exactly into the four factors by the logarithmic mean
(:func:`funnelkit.stats.log_mean_split`, the same split as the funnel's change drivers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnelkit.stats import log_mean_split

from . import lead_arrays as arrays
from .forecast import close_dates

FACTORS = ("deals", "win_rate", "average_deal", "cycle_days")
SIGNS = (1, 1, 1, -1)  # the cycle divides


def velocity(leads: pd.DataFrame, *, stages=None, closed: np.ndarray | None = None) -> pd.DataFrame:
    """Per period: ``period, deals, won, settled, win_rate, average_deal, cycle_days,
    velocity`` (yuan per day; NaN where a factor is missing or not positive). ``closed``: the
    leads' close days (:func:`~funnelkit.funnel.forecast.close_dates` as an array) when known.

    Examples
    --------
    >>> from funnelkit.data.loading import load_tables
    >>> from funnelkit.funnel import Params
    >>> table = velocity(load_tables(Params(branch="杭州分公司"), ["leads"])["leads"])
    >>> table["period"].tolist()
    ['2003', '2004', '2005', '2006']
    """
    won, lost = arrays.outcome_is(leads, "won"), arrays.outcome_is(leads, "lost")
    closed = close_dates(leads, stages=stages).to_numpy(dtype="datetime64[ns]") if closed is None else closed
    # grouped by year, written as text after: no string per lead
    period = leads["created_date"].dt.year.astype("Int64")
    counted = (
        pd.DataFrame({"period": period, "won": won, "settled": won | lost})
        .groupby("period", sort=True, dropna=False)
        .agg(deals=("won", "size"), won=("won", "sum"), settled=("settled", "sum"))
    )
    # the means over the won leads alone: the same values in the same order as over every
    # lead with the others' left empty, without a column of every lead for each
    created = leads["created_date"].to_numpy(dtype="datetime64[ns]")[won]
    averaged = (
        pd.DataFrame(
            {
                "period": period[won],
                "amount": leads["amount"][won],
                "cycle": pd.Series(closed[won] - created, index=period.index[won]).dt.days.astype(float),
            }
        )
        .groupby("period", sort=True, dropna=False)
        .agg(average_deal=("amount", "mean"), cycle_days=("cycle", "mean"))
    )
    table = (
        counted.join(averaged)
        .reset_index()
        .pipe(
            lambda t: t.assign(period=t["period"].astype(str)).sort_values("period", kind="stable", ignore_index=True)
        )
        .astype({"deals": float, "won": float, "settled": float, "average_deal": float, "cycle_days": float})
    )
    win_rate = (table["won"] / table["settled"]).where(table["settled"] > 0)
    speed = table["deals"] * win_rate * table["average_deal"] / table["cycle_days"].where(table["cycle_days"] > 0)
    return table.assign(win_rate=win_rate, velocity=speed)[
        ["period", "deals", "won", "settled", "win_rate", "average_deal", "cycle_days", "velocity"]
    ]


def velocity_change(table: pd.DataFrame, *, current: str, previous: str) -> pd.DataFrame:
    """The change of velocity from ``previous`` to ``current`` split into the four factors:
    ``factor, previous, current, contribution`` (yuan per day; the contributions sum exactly
    to the change). Empty when a factor is missing or not positive in either period."""
    rows = table.set_index("period")
    columns = ["factor", "previous", "current", "contribution"]
    if not {current, previous} <= set(rows.index):
        return pd.DataFrame(columns=columns)
    before = rows.loc[previous, list(FACTORS)].to_numpy(dtype=float)
    after = rows.loc[current, list(FACTORS)].to_numpy(dtype=float)
    if not (np.all(before > 0) and np.all(after > 0)):
        return pd.DataFrame(columns=columns)
    parts = log_mean_split(before, after, signs=SIGNS)
    return pd.DataFrame({"factor": FACTORS, "previous": before, "current": after, "contribution": parts})
