"""Every error funnelkit raises on purpose.

User mistakes (bad data, bad params) raise a subclass of :class:`FunnelkitError`; the CLI
and the notebooks show its message without a traceback. Anything else is a bug.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

_RULES_SHOWN = 20  # per-rule counts in the head of a cut list


class FunnelkitError(Exception):
    """Base class: a problem the user can fix; the message says how."""


@dataclass(frozen=True)
class Problem:
    """One broken rule at one place in one input file."""

    file: str
    row: int | None  # as the user sees it: line in a CSV, row in Excel, line in YAML
    column: str | None
    value: object
    rule: str
    hint: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: value {self.value!r} — {self.rule}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class ProblemsError(FunnelkitError):
    """Several problems found at once; ``problems`` holds each of them.

    A large file can break one rule on thousands of rows: the checker then lists a sample in
    ``problems`` and passes the true number per rule in ``counts`` (rule text → count), so
    the head of the message gives the true total and the count of each rule.
    """

    what = "input"

    def __init__(self, problems: list[Problem], *, limit: int = 50, counts: dict[str, int] | None = None):
        self.problems = list(problems)
        self.counts = dict(counts) if counts else {}
        self.total = sum(self.counts.values()) if self.counts else len(self.problems)
        shown = [f"  - {p}" for p in self.problems[:limit]]
        files = sorted({p.file for p in self.problems})
        where = f"{self.what} ({', '.join(files)})"
        if self.total > len(shown):
            lines = [f"{self.total:,} problem(s) in {where}; the first {len(shown)} shown:"]
            by_rule = sorted((self.counts or Counter(p.rule for p in self.problems)).items(), key=lambda kv: -kv[1])
            lines += [f"  {n:,} × {rule}" for rule, n in by_rule[:_RULES_SHOWN]]
            if len(by_rule) > _RULES_SHOWN:
                lines.append(f"  … and {len(by_rule) - _RULES_SHOWN} more rules")
        else:
            lines = [f"{self.total} problem(s) in {where}:"]
        super().__init__("\n".join([*lines, *shown]))


class DataValidationError(ProblemsError):
    """Input data breaks the data contract (see docs/data-contract.md)."""

    what = "data"


class ParamsError(ProblemsError):
    """A params YAML file breaks its rules."""

    what = "params"


class DataSourceError(FunnelkitError):
    """A data source is missing, unreadable or of an unknown kind."""


class NotebookFailed(FunnelkitError):
    """A notebook failed while the batch executed it."""
