"""RFM summary per customer in the form buy-till-you-die models (BG/NBD, Pareto/NBD,
Gamma-Gamma) expect.

The definitions match ``summary_data_from_transaction_data`` of the ``lifetimes`` package
(``lifetimes/utils.py``, CamDavidsonPilon/lifetimes, read for this module): transactions
after the observation end are dropped; purchases in the same period (day by default) are
one purchase whose value is their sum; ``frequency`` = number of such periods − 1 (the
first purchase is not a repeat); ``recency`` = time from the first to the last purchase
(0 for a single purchase); ``T`` = time from the first purchase to the observation end;
``monetary_value`` = mean value of the repeat periods (0 when ``frequency`` is 0). The
observation end is truncated to the start of its period, as there. ``lifetimes`` itself is
unmaintained and breaks on pandas 3, so this is plain pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FREQS = {"D": "days", "W": "weeks", "M": "months"}
#: Length of each time unit in days, as ``np.timedelta64(1, freq)`` counts it.
UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 30.436875}


def rfm_summary(data: pd.DataFrame, *, as_of, freq: str, value: str = "amount") -> pd.DataFrame:
    """Frequency, recency, T and monetary value of every customer.

    Parameters
    ----------
    data : transactions with ``customer_id``, ``date`` and the ``value`` column.
    as_of : observation end; ``""``/``None`` = the last transaction date.
    freq : time unit of ``recency`` and ``T`` and the grain at which purchases merge:
        ``"D"`` (days), ``"W"`` (weeks) or ``"M"`` (months) — :data:`FREQS`, checked with
        the notebook's parameters.
    value : the money column for ``monetary_value`` (revenue ``amount`` by default).

    Returns
    -------
    One row per customer: ``customer_id, frequency, recency, T, monetary_value``.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "amount": [10.0, 5.0, 30.0, 7.0],
    ...     "date": pd.to_datetime(["2006-01-01", "2006-01-01", "2006-01-11", "2006-01-05"])})
    >>> rfm_summary(tx, as_of="2006-01-21", freq="D").to_dict("records")[0]
    {'customer_id': 'a', 'frequency': 1.0, 'recency': 10.0, 'T': 20.0, 'monetary_value': 30.0}
    """
    end_date = data["date"].max() if as_of is None or as_of == "" else pd.Timestamp(as_of)
    end = pd.Period(end_date, freq=freq)
    when = pd.PeriodIndex(data["date"], freq=freq)
    periods = (
        data[["customer_id", value]]
        .assign(when=when.asi8)
        .loc[when.asi8 <= end.ordinal]
        .groupby(["customer_id", "when"], as_index=False)[value]
        .sum()
        .sort_values(["customer_id", "when"])
    )
    first = periods.groupby("customer_id")["when"].transform("min")
    repeat = periods.assign(repeat_value=periods[value].where(periods["when"] > first))
    out = repeat.groupby("customer_id").agg(
        first=("when", "min"), last=("when", "max"), count=("when", "size"), monetary_value=("repeat_value", "mean")
    )
    unit = UNIT_DAYS[freq]
    start = _start_days(out["first"], freq)
    return pd.DataFrame(
        {
            "customer_id": out.index,
            "frequency": (out["count"] - 1).astype(float).to_numpy(),
            "recency": ((_start_days(out["last"], freq) - start) / unit).to_numpy(),
            "T": ((_start_days(pd.Series(end.ordinal, index=out.index), freq) - start) / unit).to_numpy(),
            "monetary_value": out["monetary_value"].fillna(0.0).astype(float).to_numpy(),
        }
    )


def _start_days(ordinals: pd.Series, freq: str) -> pd.Series:
    """Days since the epoch of the start of each period ordinal."""
    starts = pd.PeriodIndex.from_ordinals(ordinals.to_numpy(dtype="int64"), freq=freq).start_time
    return pd.Series((starts - pd.Timestamp(0)).days.astype(float), index=ordinals.index)


def rfm_overview(rfm: pd.DataFrame) -> pd.DataFrame:
    """Distribution of the RFM columns: customers, mean, quartiles and maximum, plus the
    share of one-time buyers (``frequency == 0``) — a compact view of the full table."""
    columns = ["frequency", "recency", "T", "monetary_value"]
    stats = rfm[columns].describe(percentiles=[0.25, 0.5, 0.75]).T
    stats = stats.rename(columns={"count": "customers", "25%": "q1", "50%": "median", "75%": "q3"})
    one_time = float(np.mean(rfm["frequency"] == 0)) if len(rfm) else float("nan")
    return (
        stats[["customers", "mean", "q1", "median", "q3", "max"]]
        .rename_axis("measure")
        .reset_index()
        .assign(one_time_share=one_time)
    )


#: Bands of repeat purchases (``frequency``): code → (lowest, highest), the highest open.
REPEAT_BANDS = {"once": (0, 0), "repeat_1_2": (1, 2), "repeat_3_5": (3, 5), "repeat_6_plus": (6, np.inf)}


def repeat_segments(rfm: pd.DataFrame) -> pd.DataFrame:
    """Customers by how often they came back (:data:`REPEAT_BANDS` of ``frequency``): how
    many, their share, the mean value of their repeat purchases and the median time since
    their last purchase (``T − recency``, in the RFM table's unit).

    Returns
    -------
    DataFrame
        ``band, customers, share, monetary_value, idle`` in band order; a band without
        customers has 0 customers and blank figures.
    """
    idle = rfm["T"] - rfm["recency"]
    rows = []
    for band, (low, high) in REPEAT_BANDS.items():
        inside = rfm["frequency"].between(low, high)
        rows.append(
            {
                "band": band,
                "customers": int(inside.sum()),
                "share": float(inside.mean()) if len(rfm) else np.nan,
                "monetary_value": rfm.loc[inside, "monetary_value"].mean() if low > 0 else np.nan,
                "idle": idle[inside].median(),
            }
        )
    return pd.DataFrame(rows)
