"""What every analysis's ``analyse()`` returns: a frozen result whose tables are saved by name.

Each analysis declares ``@dataclass(frozen=True) class Result(AnalysisResult)`` with its
tidy tables as fields and ``SAVED`` mapping each CSV name to the field holding it. Tables
speak in codes (``potential>contacted``, ``quasi_lost``, ``all``), never in a language, so
``result.tables()`` and the CSVs are the same whatever the report language.

A section that cannot be computed for a branch (an optional table it lacks, one period
where it needs two, too little data for an estimate) leaves its fields ``None`` and says
why in ``gaps``: section name → :class:`Gap`. Views and plots of such a section return
``None``, the notebook shows the gap's one line (``report.gap(result, "section")``), the
findings leave the section out and ``summary.json`` lists it, so the report never shows a
chart drawn from nothing or a zero standing for "no data".

Examples
--------
>>> import pandas as pd
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Toy(AnalysisResult):
...     SAVED = {"rates": "rates", "visits": "visits"}
...     rates: pd.DataFrame
...     visits: pd.DataFrame | None = None
>>> toy = Toy(rates=pd.DataFrame({"x": [1]}), gaps={"cadence": Gap("data.gap_table", {"table": "visits"})})
>>> list(toy.tables()), toy.has("cadence"), toy.has("rates")
(['rates'], False, True)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import ClassVar

import pandas as pd


@dataclass(frozen=True)
class Gap:
    """Why a section of a report shows nothing: a catalogue message ``key`` and its ``values``."""

    key: str
    values: dict = field(default_factory=dict)

    def text(self, lang: str = "zh") -> str:
        """The one line the report shows in place of the section."""
        from funnelkit.i18n import t

        return t(self.key, lang, **{k: _spoken(v, lang) for k, v in self.values.items()})


def missing_table(table: str, what: str) -> Gap:
    """The gap of a section whose optional ``table`` the branch lacks; ``what`` is the
    catalogue key of what the section would show."""
    return Gap("data.gap_table", {"table": table, "what": what})


def _spoken(value, lang: str):
    """Values of a gap in ``lang``: a catalogue key reads as its message, a table name as
    the table's label, anything else as it is."""
    from funnelkit.i18n import catalogue, t

    if isinstance(value, str) and value in catalogue():
        return t(value, lang)
    if isinstance(value, str) and f"data.table_{value}" in catalogue():
        return t(f"data.table_{value}", lang)
    return value


def unless_gap(gaps: dict, section: str, make):
    """``make()``, or None when ``section`` is one of ``gaps`` (an analysis builds each field of
    a section it cannot show as None: ``when = functools.partial(unless_gap, gaps)``)."""
    return None if section in gaps else make()


def shown_if(*fields: str):
    """Decorate a view or plot of a section: it returns None (nothing shown) when any of the
    result's ``fields`` is None, the section being a gap."""

    def decorate(func):
        @functools.wraps(func)
        def view(result, *args, **kwargs):
            if any(getattr(result, name) is None for name in fields):
                return None
            return func(result, *args, **kwargs)

        return view

    return decorate


@dataclass(frozen=True)
class AnalysisResult:
    """Base of each analysis's result; ``SAVED`` maps CSV name → field name, ``gaps`` maps
    each section that could not be computed to its :class:`Gap`."""

    SAVED: ClassVar[dict[str, str]] = {}

    gaps: dict[str, Gap] = field(default_factory=dict, kw_only=True)

    def has(self, section: str) -> bool:
        """True unless ``section`` is one of the gaps."""
        return section not in self.gaps

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table that is saved, by its CSV name (absent tables left out)."""
        found = {name: getattr(self, attribute) for name, attribute in self.SAVED.items()}
        return {name: table for name, table in found.items() if isinstance(table, pd.DataFrame)}
