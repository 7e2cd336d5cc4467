"""Which rows of a shared table are a branch's, and the rows that no branch reads.

A branch cell matches params ``branch`` when the two are equal after NFKC (full-width →
ordinary), removing invisible characters (zero-width space, BOM, NUL …) anywhere and
trimming spaces. A row whose branch cell is empty, cannot be decoded, or differs from this
branch only in inner spaces or letter case is read by no branch report: it is not read as
this branch's either (that would be a guess), but counted in a :class:`DataWarning`, so no
row disappears without a word.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from funnelkit import paths
from funnelkit.i18n import t

from .parsing import INVISIBLE, as_text

_REMOVE = dict.fromkeys(map(ord, INVISIBLE))


@dataclass(frozen=True)
class DataWarning:
    """Rows of one input file that were not read, counted: a warning, not an error.

    ``row`` is the first of the ``count`` rows concerned; ``key`` names the report text in
    ``funnelkit/data/messages.yaml``.
    """

    file: str
    row: int | None
    column: str | None
    value: object
    rule: str
    count: int = 1
    key: str = ""
    branch: str = ""

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row is not None else "")
        where += f", column '{self.column}'" if self.column else ""
        return f"{where}: value {self.value!r} — {self.rule}"

    def text(self, lang: str = "zh") -> str:
        """The warning as a report shows it, in ``lang``; the file relative to the project
        (a report does not show where the server keeps its files)."""
        file = Path(self.file)
        try:
            shown = str(file.relative_to(paths.project_root()))
        except ValueError:
            shown = file.name
        return t(
            f"data.warning_{self.key}",
            lang,
            file=shown,
            count=f"{self.count:,}",
            row=self.row,
            value=self.value,
            branch=self.branch,
            column=self.column,
        )


def normalise_branch(value: object) -> str:
    """A branch name as compared: NFKC, invisible characters removed, spaces trimmed."""
    return unicodedata.normalize("NFKC", as_text(value)).translate(_REMOVE).strip()


def _loose(name: str) -> str:
    return "".join(name.split()).casefold()


def classify(value: object, branch: str, decode: Callable | None = None) -> str:
    """``mine``, ``empty``, ``unreadable``, ``near`` (this branch but for spaces or case) or
    ``other`` for one distinct branch cell. ``decode`` gives the cell's readings when the
    cells still hold undecoded bytes (a CSV file in no single encoding)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "empty"
    readings = decode(value) if decode else [value]
    if not readings:
        return "unreadable"
    names = [normalise_branch(v) for v in readings]
    target = normalise_branch(branch)
    if target in names:
        return "mine"
    if not any(names):
        return "empty"
    return "near" if any(_loose(n) == _loose(target) for n in names) else "other"


def groups_of(cells: pd.Series, rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Each distinct branch cell with its row count and first row, and each row's group."""
    codes, uniques = pd.factorize(cells, use_na_sentinel=False)
    first = np.full(len(uniques), len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    groups = pd.DataFrame(
        {
            "value": list(uniques),
            "count": np.bincount(codes, minlength=len(uniques)),
            "first": rows[first] if len(codes) else np.array([], dtype=np.int64),
        }
    )
    return groups, codes


def sort_out(
    groups: pd.DataFrame, *, branch: str, file: str, column: str, decode: Callable | None = None
) -> tuple[np.ndarray, list[DataWarning]]:
    """Which groups (``value``, ``count``, ``first`` row) are this branch's, and a warning
    for each kind of row no branch reads."""
    kinds = np.array([classify(v, branch, decode) for v in groups["value"]], dtype=object)
    warnings = []
    for kind, rule in (
        ("empty", "empty branch cell: no branch reads these rows"),
        ("unreadable", "branch cell cannot be decoded: no branch reads these rows"),
        (
            "near",
            (
                f"branch differs from {normalise_branch(branch)!r} only in spaces or "
                "letter case: these rows are not read"
            ),
        ),
    ):
        hit = groups[kinds == kind]
        if hit.empty:
            continue
        first = hit.sort_values("first").iloc[0]
        value = first["value"] if kind != "empty" else ""
        if kind == "unreadable":
            value = as_text(value).encode("latin-1")[:8].hex(" ")
        elif kind == "near":
            value = as_text(value)
        warnings.append(
            DataWarning(
                file,
                int(first["first"]),
                column,
                value,
                rule,
                int(hit["count"].sum()),
                key=f"{kind}_branch",
                branch=normalise_branch(branch),
            )
        )
    return kinds == "mine", warnings
