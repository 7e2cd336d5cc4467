"""Every error funnelkit raises on purpose.

User mistakes (bad data, bad params) raise a subclass of :class:`FunnelkitError`; the CLI
and the notebooks show its message without a traceback. Anything else is a bug.
"""

from __future__ import annotations

import reprlib
from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

SHOWN_CHARS = 80  # a value longer than this is cut, with an ellipsis
_REPR = reprlib.Repr()  # bounded repr: a huge value costs no more than a small one
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 6, 6, 6, 6
_REPR.maxstring = _REPR.maxother = SHOWN_CHARS * 3


def _mask(text: str) -> str:
    """:func:`funnelkit.privacy.mask_text`, imported on first use (it needs pandas, which
    every importer of this module would otherwise pay for)."""
    from .privacy import mask_text as mask

    return mask(text)


def shorten(text: object, limit: int = SHOWN_CHARS) -> str:
    """``text`` with phone and ID numbers masked, cut to ``limit`` characters.

    Masking runs before the cut, on a little more than is kept, so a number at the cut
    is masked whole rather than half shown.

    Examples
    --------
    >>> shorten("call 13812341234 " + "x" * 100, limit=24)
    'call 138****1234 xxxxxx…'
    """
    text = _mask(str(text)[: limit + 40])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def show_value(value: object, limit: int = SHOWN_CHARS) -> str:
    """A value as a message may show it: its Python form, bounded in size, masked, cut."""
    return shorten(_REPR.repr(value), limit)


_RULES_SHOWN = 20  # per-rule counts in the head of a cut list


class FunnelkitError(Exception):
    """Base class: a problem the user can fix; the message says how.

    ``texts`` may hold the message in other languages (language → text)."""

    def __init__(self, *args, texts: dict[str, str] | None = None):
        super().__init__(*args)
        self.texts = dict(texts or {})

    def text(self, lang: str = "en") -> str:
        """The message in ``lang`` where it has a translation (see :class:`ProblemsError`)."""
        return self.texts.get(lang) or str(self)


def _fixed(text: str, lang: str) -> str:
    """A rule or hint the checks write as fixed English text, in ``lang`` (from the
    ``problems`` catalogue); other texts as they are."""
    if lang == "en" or not text:
        return text
    from .i18n import catalogue

    translated = {
        v["en"]: v[lang] for k, v in catalogue().items() if k.startswith(("problems.rule_", "problems.hint_"))
    }
    return translated.get(text, text)


@dataclass(frozen=True)
class Problem:
    """One broken rule at one place in one input file."""

    file: str
    row: int | None  # as the user sees it: line in a CSV, row in Excel, line in YAML
    column: str | None
    value: object
    rule: str
    hint: str = ""

    row_word: ClassVar[str] = "row"
    column_word: ClassVar[str] = "column"

    def __str__(self) -> str:
        # Values, rules and hints may quote the input, and the input may hold personal data.
        where = _mask(self.file)
        if self.row is not None:
            where += f", {self.row_word} {self.row}"
        if self.column:
            where += f", {self.column_word} '{shorten(self.column)}'"
        text = f"{where}: {self._shown_value()}{_mask(self.rule)}"
        return f"{text} (hint: {_mask(self.hint)})" if self.hint else text

    def _shown_value(self) -> str:
        return f"value {show_value(self.value)} — "

    def text(self, lang: str = "en") -> str:
        """The problem in ``lang``: place, value, rule and hint (fixed rule texts translated)."""
        if lang == "en":
            return str(self)
        from .i18n import t

        where = _mask(self.file)
        if self.row is not None:
            where += "，" + t(f"problems.where_{self.row_word}", lang, **{self.row_word: self.row})
        if self.column:
            where += "，" + t(f"problems.where_{self.column_word}", lang, **{self.column_word: shorten(self.column)})
        value = t("problems.value", lang, value=show_value(self.value)) if self._shown_value() else ""
        text = f"{where}：{value}{_mask(_fixed(self.rule, lang))}"
        return text + t("problems.hint", lang, hint=_mask(_fixed(self.hint, lang))) if self.hint else text


@dataclass(frozen=True)
class ParamsProblem(Problem):
    """A broken rule in a params file: a line and a key rather than a row and a column."""

    row_word: ClassVar[str] = "line"
    column_word: ClassVar[str] = "key"

    def _shown_value(self) -> str:
        empty = self.value is None or (isinstance(self.value, str) and not self.value)
        return "" if empty else super()._shown_value()


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
        self.limit = limit
        super().__init__(self.text("en"))

    def text(self, lang: str = "en") -> str:
        """Every problem in ``lang``: a head with the true total (and the count of each rule
        when the list is cut), then one line per problem shown."""
        from .i18n import t

        shown = [f"  - {p.text(lang)}" for p in self.problems[: self.limit]]
        files = ", ".join(sorted({_mask(file) for file in {p.file for p in self.problems}}))
        what = t(f"problems.what_{self.what}", lang)
        if self.total > len(shown):
            lines = [t("problems.head_cut", lang, n=f"{self.total:,}", what=what, files=files, shown=len(shown))]
            by_rule = sorted((self.counts or Counter(p.rule for p in self.problems)).items(), key=lambda kv: -kv[1])
            lines += [f"  {n:,} × {_fixed(rule, lang)}" for rule, n in by_rule[:_RULES_SHOWN]]
            if len(by_rule) > _RULES_SHOWN:
                lines.append(t("problems.more_rules", lang, n=len(by_rule) - _RULES_SHOWN))
        else:
            lines = [t("problems.head", lang, n=self.total, what=what, files=files)]
        return "\n".join([*lines, *shown])


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
        super().__init__(
            f"interrupted: {finished} of {total} notebooks finished ({published} published); "
            f"nothing more was written. Run folder: {run_dir}"
        )
