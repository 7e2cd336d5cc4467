"""Words for the codes of the lost-deal tables, in the report language: the one place views,
findings and plots translate a code (``overall``, ``all``, ``missing``, ``quasi_lost``,
``on_track``, a stage key …).

Values from the data (a product line, a reason as written) pass through unchanged.

Examples
--------
>>> group_label("all", "en"), reason_label("missing", "zh"), reason_label("价格太高", "en")
('All', '未填写', '价格太高')
"""

from __future__ import annotations

import pandas as pd

from funnelkit.i18n import catalogue, label, t

from .deals import ALL, MISSING


def dimension_label(code: str, lang: str) -> str:
    """A ``dimension`` code (``overall``) or a deal attribute (``product_line``, ``segment``,
    ``owner``, ``region``, ``industry``)."""
    return t("lost.overall" if code == "overall" else f"lost.dim_{code}", lang)


def direction_label(code: str, lang: str) -> str:
    """A ``direction`` code of the drivers of losing (``more_lost``, ``less_lost``, ``unclear``)."""
    return t(f"lost.direction_{code}", lang)


def group_label(group: str, lang: str) -> str:
    """A ``group`` value: the overall ``all`` translated, a data value as it is."""
    return t("lost.all", lang) if group == ALL else str(group)


def reason_label(reason: str, lang: str) -> str:
    """A lost reason (or competitor): ``missing`` (none recorded) translated, others as written."""
    return t("lost.reason_missing", lang) if reason == MISSING else str(reason)


def category_label(code: str, lang: str) -> str:
    """A reason category code (the taxonomy's, ``unmapped`` or ``missing``)."""
    return t(f"lost.category_{code}", lang) if f"lost.category_{code}" in catalogue() else str(code)


def status_label(code: str, lang: str) -> str:
    """A target status code (``on_track``, ``at_risk``, ``off_track``)."""
    return t(f"lost.status_{code}", lang)


def scope_label(code: str, stage: str, lang: str) -> str:
    """A ``scope`` code of the scope table, naming the deal stage (its label)."""
    return t(f"lost.scope_{code}", lang, stage=stage)


def stage_label(key: str, stages, lang: str) -> str:
    """A stage key of the branch's funnel (``stages``: resolved Stage objects); the key when unknown."""
    return next((s.label(lang) for s in stages if s.key == key), key)


def lost_group_label(code: str, lang: str) -> str:
    """A ``lost_group`` code (``quasi_lost``, ``truly_lost``, ``unknown``)."""
    return t(f"lost.group_{code}", lang)


def lost_kind_label(code: str, lang: str) -> str:
    """A ``lost_kind`` code (``abandoned`` … from the data contract; ``unknown`` when not recorded)."""
    return t("lost.kind_unknown", lang) if code == "unknown" else label(code, lang)


def step_label(code: str, lang: str) -> str:
    """A step of the recovery funnel (``quasi_lost``, ``followed_up``, ``reengaged``, ``recovered``)."""
    return t(f"lost.step_{code}", lang)


def node_label(code: str, lang: str) -> str:
    """A node of the lead flow (``pool``, ``won``, ``management`` …)."""
    return t(f"lost.node_{code}", lang)


def column_label(column: str, lang: str) -> str:
    """The header of a table column: ``lost.col_<column>``; a column named by the data (a
    product line, a reason) as it is."""
    key = f"lost.col_{column}"
    return t(key, lang) if key in catalogue() else reason_label(column, lang)


def mapped(values: pd.Series, to_label, lang: str, *args) -> pd.Series:
    """``values`` translated one by one with ``to_label(value, *args, lang)``."""
    return values.map(lambda v: to_label(v, *args, lang), na_action="ignore")
