"""A branch's own labels: params ``aliases`` maps them onto the contract's codes when loading.

A branch writes its referral sources 老用户推荐, its segments 大客户, its stages 已签约. Its
params say what each means, per coded column::

    aliases:
      source_type: {老用户推荐: existing_customer, 亲朋好友推荐: friends_family}
      segment: {大客户: 政企}
      events.kind: {转介绍: referral}     # kind means different things in events and visits

Loading replaces each listed label (compared as the contract compares labels: full-width
characters, case and surrounding spaces ignored) before the cells are checked, so the mapped
labels then read like the contract's own. A label that still matches nothing is a problem of
its cell for a column with a closed list of codes (outcome, tier, stage …), and is kept under
its own name, with a count and a warning, for the open list of referral sources.

Examples
--------
>>> alias_problems({"source_type": {"老用户推荐": "existing_customer"}})
[]
>>> [rule for _, _, rule, _ in alias_problems({"tier": {"A类": "gold"}, "colour": {}})]
['not a tier of the contract', 'not a column that holds codes']
>>> for_table({"segment": {"大客户": "政企"}, "events.kind": {"转介绍": "推荐"}}, "events")
{'kind': {'转介绍': '推荐'}}
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import pandas as pd

from .schema import DEFAULT_STAGES, TABLES, Column

#: Columns whose labels may be mapped: the coded ones (closed lists) and the descriptive ones
#: an analysis groups by. Identifiers, names, dates and numbers are never relabelled.
ALIASABLE = (
    "segment",
    "region",
    "industry",
    "product_line",
    "lost_reason",
    "competitor",
    "stage",
    "outcome",
    "lost_kind",
    "tier",
    "kind",
    "source_type",
)
_WHAT = {"tier": "a tier", "stage": "a stage", "outcome": "an outcome", "lost_kind": "a lost kind"}


def label_key(value) -> str:
    """A label as labels are compared: NFKC-normalised, stripped, case-folded."""
    return unicodedata.normalize("NFKC", str(value)).strip().casefold()


def _columns(name: str) -> list[tuple[str, Column]]:
    """``(table, column)`` of every contract column an aliases key names (``column`` or ``table.column``)."""
    table, _, column = name.rpartition(".")
    return [
        (t.name, c)
        for t in TABLES.values()
        if not table or t.name == table
        for c in t.columns
        if c.name == column and column in ALIASABLE
    ]


def _accepted(column: Column, stages) -> set[str] | None:
    """The labels a target may be for ``column`` (None: any text)."""
    if column.kind == "stage":
        return None if stages is None else {label_key(x) for s in stages for x in (s.key, s.zh, s.en)}
    if column.kind == "choice":
        return {label_key(x) for spellings in column.choices.values() for x in spellings}
    return None


def alias_problems(aliases, *, stages=DEFAULT_STAGES) -> list[tuple[tuple, object, str, str]]:
    """What is wrong with a params ``aliases`` value: ``(key path, value, rule, hint)`` each.

    ``stages`` are the branch's funnel stages (a stage alias must name one of them; None:
    not known here, the loader checks the mapped cells).
    """
    if not isinstance(aliases, Mapping):
        return [((), aliases, "aliases must be a mapping of column → {label: code}", _HINT)]
    problems = []
    for name, mapping in aliases.items():
        columns = _columns(str(name))
        if not columns:
            problems.append(((name,), name, "not a column that holds codes", f"columns: {', '.join(ALIASABLE)}"))
            continue
        if len({tuple(c.choices or ()) for _, c in columns}) > 1:
            tables = " or ".join(f"{t}.{name}" for t, _ in columns)
            problems.append(
                ((name,), name, "this column means different things in different tables", f"write {tables}")
            )
            continue
        if not isinstance(mapping, Mapping):
            problems.append(((name,), mapping, "must be a mapping of the branch's label → the contract's code", _HINT))
            continue
        column = columns[0][1]
        accepted = _accepted(column, stages)
        for label, target in mapping.items():
            if not isinstance(target, str) or not target.strip():
                problems.append(((name, label), target, "the code must be text", _HINT))
            elif accepted is not None and label_key(target) not in accepted:
                what = _WHAT.get(column.name, f"a {column.name.replace('_', ' ')}")
                allowed = sorted(column.choices) if column.choices else [s.key for s in stages]
                problems.append(((name, label), target, f"not {what} of the contract", f"codes: {', '.join(allowed)}"))
    return problems


_HINT = "e.g. aliases: {source_type: {老用户推荐: existing_customer}}"


def for_table(aliases: Mapping | None, table: str) -> dict[str, dict[str, str]]:
    """The aliases that apply to ``table``: column → {label: code}, ``table.column`` keys
    over plain ``column`` ones."""
    found: dict[str, dict[str, str]] = {}
    for name, mapping in sorted((aliases or {}).items(), key=lambda item: "." in str(item[0])):
        for owner, column in _columns(str(name)):
            if owner == table:
                found[column.name] = {**found.get(column.name, {}), **mapping}
    return found


def relabel(values: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    """``values`` with every label of ``mapping`` replaced by its code (text cells only).

    Examples
    --------
    >>> relabel(pd.Series(["老用户推荐 ", "亲友", None], dtype="string"), {"老用户推荐": "existing_customer"}).tolist()
    ['existing_customer', '亲友', <NA>]
    """
    from .parsing import by_unique

    lookup = {label_key(k): v for k, v in mapping.items()}

    def swap(distinct: pd.Series) -> pd.Series:
        swapped = distinct.map(lambda v: lookup.get(label_key(v), v) if isinstance(v, str) else v)
        return swapped.astype(distinct.dtype) if pd.api.types.is_string_dtype(distinct.dtype) else swapped

    return by_unique(values, swap) if lookup else values
