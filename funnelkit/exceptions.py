"""Every error funnelkit raises on purpose.

User mistakes (bad data, bad params) raise a subclass of :class:`FunnelkitError`; the CLI
and the notebooks show its message without a traceback. Anything else is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    """Several problems found at once; ``problems`` holds each of them."""

    what = "input"

    def __init__(self, problems: list[Problem], *, limit: int = 50):
        self.problems = list(problems)
        shown = [f"  - {p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            shown.append(f"  … and {len(self.problems) - limit} more problems of the same kinds")
        files = sorted({p.file for p in self.problems})
        head = f"{len(self.problems)} problem(s) in {self.what} ({', '.join(files)}):"
        super().__init__("\n".join([head, *shown]))


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


class OutputError(FunnelkitError):
    """The outputs folder cannot be written (read-only, full disk). ``batch`` holds the
    results of the notebooks that ran, when there were any, so they can still be shown."""

    def __init__(self, message: str, *, batch=None):
        super().__init__(message)
        self.batch = batch


class BatchInterrupted(KeyboardInterrupt):
    """The batch was interrupted (Ctrl-C) and stopped: its workers and kernels were killed,
    its staging removed, nothing more was published.

    A :class:`KeyboardInterrupt`, so code that does not know it still stops as for Ctrl-C.
    """

    def __init__(self, *, finished: int, published: int, total: int, run_dir):
        self.finished, self.published, self.total, self.run_dir = finished, published, total, run_dir
        super().__init__(f"interrupted: {finished} of {total} notebooks finished ({published} published); "
                         f"nothing more was written. Run folder: {run_dir}")
