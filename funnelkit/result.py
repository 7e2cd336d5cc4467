"""What every analysis's ``analyse()`` returns: a frozen result whose tables are saved by name.

Each analysis declares ``@dataclass(frozen=True) class Result(AnalysisResult)`` with its
tidy tables as fields and ``SAVED`` mapping each CSV name to the field holding it. Tables
speak in codes (``potential>contacted``, ``quasi_lost``, ``all``), never in a language, so
``result.tables()`` and the CSVs are the same whatever the report language.

Examples
--------
>>> import pandas as pd
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Toy(AnalysisResult):
...     SAVED = {"rates": "rates"}
...     rates: pd.DataFrame
>>> list(Toy(rates=pd.DataFrame({"x": [1]})).tables())
['rates']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd


@dataclass(frozen=True)
class AnalysisResult:
    """Base of each analysis's result; ``SAVED`` maps CSV name → field name."""

    SAVED: ClassVar[dict[str, str]] = {}

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table that is saved, by its CSV name (absent tables left out)."""
        found = {name: getattr(self, attribute) for name, attribute in self.SAVED.items()}
        return {name: table for name, table in found.items() if isinstance(table, pd.DataFrame)}
