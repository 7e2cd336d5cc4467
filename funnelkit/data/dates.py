"""Date cells: parsing every form the contract accepts, and the plausible window.

A date must fall between :data:`EARLIEST` and the data's as-of date (params ``as_of``, else
today). Dates outside are placeholders (``0001-01-01``, ``9999-12-31``) or typos
(``2099``): they are reported as problems of their cell, never read as dates, so a lead
dated 2099 cannot become a report's current period. Dates beyond what ``datetime64[ns]``
holds (years before 1678 or after 2261) are replaced by a stand-in inside that range before
conversion, only to be flagged by the window; the problem shows the cell as written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc

#: The earliest plausible date in any date column.
EARLIEST = pd.Timestamp("1990-01-01")

_YMD = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
SERIAL = r"\d{1,6}(?:\.\d+)?"  # an Excel serial written as text
_DAY_NS = 86_400 * 10**9
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Years datetime64[ns] holds in full, and leap years inside them that stand in for the rest.
_FIRST_YEAR, _LAST_YEAR = 1678, 2261
_EARLY_STAND_IN, _LATE_STAND_IN = 1680, 2260
DATE_HINT = "write dates as 2006-01-31, 2006/1/31, 2006年1月31日 or 20060131"
SERIAL_HINT = (
    "this looks like an Excel date serial: format the column as a date (yyyy-mm-dd) in Excel before saving as CSV"
)
_PLACEHOLDER_HINT = (
    "a placeholder date ({example}) stands for 'no date': leave the cell empty where the "
    "column allows it, else enter the real date"
)


@dataclass(frozen=True)
class DateWindow:
    """The plausible dates: from :data:`EARLIEST` to ``latest`` (the as-of date, or today)."""

    latest: pd.Timestamp
    from_as_of: bool = False  # latest is params as_of (else today)

    @classmethod
    def for_as_of(cls, as_of=None) -> DateWindow:
        """The window for params ``as_of`` (``""``/``None``: up to today).

        Raises ``ValueError`` for an ``as_of`` that is not a date."""
        if as_of is None or str(as_of).strip() == "":
            return cls(pd.Timestamp(dt.date.today()))
        return cls(pd.Timestamp(as_of).normalize(), from_as_of=True)

    def rules(self) -> tuple[tuple[str, str], tuple[str, str]]:
        """(rule, hint) for a date too early and for one too late."""
        early = (f"date before {EARLIEST.date()}", _PLACEHOLDER_HINT.format(example="0001-01-01, 1900-01-01"))
        late_hint = _PLACEHOLDER_HINT.format(example="9999-12-31") + ", or correct a mistyped year (2099)"
        if self.from_as_of:
            return early, (
                f"date after the data's as-of date {self.latest.date()} (params as_of)",
                late_hint + "; if the data runs past as_of, set as_of to its last date",
            )
        return early, (f"date after today ({self.latest.date()})", late_hint)


def _stand_in(year: float) -> float:
    return _EARLY_STAND_IN if year < _FIRST_YEAR else _LATE_STAND_IN


def _stamp(value) -> pd.Timestamp:
    """A date/datetime object as a day; years beyond datetime64[ns] get a stand-in year."""
    year = getattr(value, "year", None)
    if year is not None and not _FIRST_YEAR <= year <= _LAST_YEAR:
        value = value.replace(year=_stand_in(year))
    return pd.Timestamp(value).tz_localize(None).normalize()


def other_date(value: object, excel: bool) -> object:
    """A non-text date cell: a date/datetime, or (from XLSX) an Excel serial number;
    ``"number"`` for a number that cannot be a date here, NaT for anything else."""
    if isinstance(value, (bool, np.bool_)):
        return pd.NaT
    if isinstance(value, (int, float, np.number)):
        if not excel or not 0 < value < 2958466:  # Excel's last day is serial 2958465 (9999-12-31)
            return "number"
        return _stamp(_EXCEL_EPOCH + dt.timedelta(days=int(value)))
    try:
        return _stamp(value)
    except (TypeError, ValueError):
        return pd.NaT


def text_dates(text: pd.Series) -> pd.Series:
    """Text cells in the accepted forms as dates; NaT where not a date."""
    parts = (
        text.str.extract(_YMD)
        .fillna(text.str.extract(_COMPACT))
        .astype("float64")
        .set_axis(["year", "month", "day"], axis=1)
    )
    year = parts["year"]
    far = year.notna() & ~year.between(_FIRST_YEAR, _LAST_YEAR)
    if far.any():
        parts = parts.assign(year=year.mask(far, year[far].map(_stand_in)))
    return pd.to_datetime(parts, errors="coerce").astype("datetime64[ns]")


def arrow_dates(raw: pd.Series) -> pd.Series:
    """An Arrow date/timestamp column as ``datetime64[ns]`` days (local time for zoned ones)."""
    values = raw.array.__arrow_array__()
    if values.null_count == len(values):  # optional columns are often entirely empty
        return pd.Series(np.full(len(values), np.datetime64("NaT", "ns")), index=raw.index)
    if pyarrow.types.is_timestamp(values.type):
        values = pc.floor_temporal(pc.local_timestamp(values) if values.type.tz else values, unit="day")
    days = pc.cast(values, pyarrow.date32())
    for test, bound, year in ((pc.less, _FIRST_YEAR, _EARLY_STAND_IN), (pc.greater, _LAST_YEAR, _LATE_STAND_IN)):
        edge = dt.date(bound, 1, 1) if test is pc.less else dt.date(bound, 12, 31)
        far = test(days, pyarrow.scalar(edge, pyarrow.date32()))
        if pc.any(far).as_py():
            days = pc.if_else(far, pyarrow.scalar(dt.date(year, 1, 1), pyarrow.date32()), days)
    stamps = pc.cast(days, pyarrow.timestamp("ns"))
    return pd.Series(
        stamps.to_numpy(zero_copy_only=False) if isinstance(stamps, pyarrow.Array) else stamps.to_numpy(),
        index=raw.index,
    )


def typed_dates(raw: pd.Series) -> pd.Series:
    """A datetime64 column (any unit, maybe zoned) as ``datetime64[ns]`` days."""
    plain = raw.dt.tz_localize(None) if getattr(raw.dt, "tz", None) else raw
    early, late = plain < pd.Timestamp(_FIRST_YEAR, 1, 1), plain > pd.Timestamp(_LAST_YEAR, 12, 31)
    if early.any() or late.any():  # only coarser units than ns hold these
        plain = plain.mask(early, pd.Timestamp(_EARLY_STAND_IN, 1, 1)).mask(late, pd.Timestamp(_LATE_STAND_IN, 1, 1))
    plain = plain.astype("datetime64[ns]")
    ticks = plain.to_numpy().view(np.int64)
    if (np.isnat(plain.to_numpy()) | (ticks % _DAY_NS == 0)).all():
        return plain  # days already: no copy
    return plain.dt.normalize()


def within(values: pd.Series, window: DateWindow) -> tuple[pd.Series, list]:
    """``values`` with the dates outside ``window`` emptied, and (mask, rule, hint) for each side."""
    early = (values < EARLIEST).to_numpy(dtype=bool, na_value=False)
    late = (values > window.latest).to_numpy(dtype=bool, na_value=False)
    if not (early.any() or late.any()):
        return values, []
    (early_rule, early_hint), (late_rule, late_hint) = window.rules()
    return (
        values.mask(early | late),
        [
            (pd.Series(early, index=values.index), early_rule, early_hint),
            (pd.Series(late, index=values.index), late_rule, late_hint),
        ],
    )
