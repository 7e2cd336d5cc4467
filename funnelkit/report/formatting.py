"""How numbers read inside generated findings: one decimal for percentages, thousands
separators for counts and yuan, an em dash where there is no value."""

from __future__ import annotations

import pandas as pd


def pct(value) -> str:
    """``0.1234`` → ``12.3%``; None or NaN → ``—``."""
    return "—" if value is None or pd.isna(value) else f"{value:.1%}"


def num(value, sign: bool = False) -> str:
    """``12345.6`` → ``12,346`` (``+12,346`` with ``sign``); None or NaN → ``—``."""
    if value is None or pd.isna(value):
        return "—"
    return f"{value:+,.0f}" if sign else f"{value:,.0f}"
