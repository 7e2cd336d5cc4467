"""Comparing two analysis results field by field (a new path against the former one)."""

from __future__ import annotations

import dataclasses

import pandas as pd

#: The demo database's branches.
DEMO_BRANCHES = ["杭州分公司", "宁波分公司", "温州分公司", "绍兴分公司", "嘉兴分公司"]


def same(a, b) -> bool:
    """Equal frames (values, dtypes, index), series or values; NaN equals NaN."""
    if isinstance(a, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b)
        except AssertionError:
            return False
        return True
    if isinstance(a, pd.Series):
        return a.equals(b)
    return a == b or (a != a and b != b)


def differing_fields(expected, got) -> list[str]:
    """The fields of two results (dataclasses) that are not :func:`same`."""
    return [f.name for f in dataclasses.fields(expected) if not same(getattr(expected, f.name), getattr(got, f.name))]
