"""Notebook parameters, each declared once: its default, its help text and its rule.

A notebook runs with the common parameters (:class:`Params`: the branch, where its data is,
the language, the filters) plus its analysis's own, declared in
``funnelkit/<analysis>/params.py`` as a subclass. That declaration is the one source:

- the notebook's ``parameters`` cell is generated from it (``funnelkit notebooks --sync``;
  a test keeps them equal), so papermill's ``--help-notebook`` lists each with its help;
- the batch checks every branch's params file against it before any kernel starts, and
  reports a bad value with the branch file's own line;
- the notebook builds its ``params`` object with ``Params.from_namespace(globals())``, which
  applies the same checks to whatever an analyst typed in JupyterLab.

Examples
--------
>>> from funnelkit.parameters import Params
>>> Params.from_values({"branch": "杭州分公司", "lang": "en"}).lang
'en'
>>> Params.problems({"lang": "fr"})
[('lang', 'fr', 'must be one of zh, en')]
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .exceptions import ParamsError, Problem
from .i18n import LANGS

#: Set by the batch for each job; never by a params file.
RUNNER_PARAMETERS = ("output_dir", "run_id")
_UNSAFE_HELP = re.compile(r'=|""|#')  # papermill's parser drops a line with these in its comment


def param(
    default: Any,
    help: str,
    *,
    choices: tuple | None = None,
    low: float | None = None,
    high: float | None = None,
    rule: Callable[[Any], str | None] | None = None,
) -> Any:
    """Declare one parameter: its ``default``, one line of ``help`` and its rule.

    ``choices`` lists the allowed values; ``low``/``high`` bound a number (inclusive);
    ``rule`` is a function returning what is wrong with a value (or None). The type is the
    default's type (an int is accepted for a float).
    """
    if _UNSAFE_HELP.search(help):
        raise ValueError(f"help text {help!r} must not contain '=', '#' or '\"\"' (papermill drops the line)")
    metadata = {"help": help, "choices": choices, "low": low, "high": high, "rule": rule}
    if isinstance(default, (dict, list)):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def filter_param(column: str, help: str) -> Any:
    """Declare a filter: only rows whose ``column`` holds this value are read (``""`` = all).

    Filters are applied when loading, pushed down into DuckDB/Parquet like the branch, and
    named in the report's title block when set. ``column`` ``period`` is special: a year
    (``"2006"``) or a span of years (``"2004-2006"``) of each table's date column.
    """
    spec = param("", help, rule=_period_rule if column == "period" else None)
    spec.metadata = {**spec.metadata, "filter": column}
    return spec


def _period_rule(value: str) -> str | None:
    if value == "" or re.fullmatch(r"(19|20)\d\d(-(19|20)\d\d)?", value) and value[:4] <= value[-4:]:
        return None
    return "must be a year like 2006 or a span of years like 2004-2006 (or empty)"


def _type_rule(value, default) -> str | None:
    expected = type(default)
    if default is None or isinstance(value, bool) != isinstance(default, bool):
        return None if default is None else f"must be {expected.__name__} like the default {default!r}"
    if expected is float and isinstance(value, int):
        return None
    if isinstance(value, expected):
        return None
    return f"must be {expected.__name__} like the default {default!r}, not {type(value).__name__}"


def _iso_date(value: str) -> str | None:
    if value == "":
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        return "must be a date written YYYY-MM-DD (or empty)"
    return None


def _files_rule(value: dict) -> str | None:
    from .data.schema import TABLES

    unknown = [t for t in value if t not in TABLES]
    if unknown:
        return f"names unknown table(s) {', '.join(map(str, unknown))}; tables: {', '.join(TABLES)}"
    if not all(isinstance(v, str) and v for v in value.values()):
        return "each table must map to a file path (text)"
    return None


def _stages_rule(value: list) -> str | None:
    if not all(isinstance(s, dict) and isinstance(s.get("key"), str) and isinstance(s.get("zh"), str) for s in value):
        return "each stage needs key and zh as text (and en), e.g. {key: signed, zh: 签约客户, en: Signed}"
    keys = [s["key"] for s in value]
    if len(keys) != len(set(keys)):
        return "stage keys must be unique"
    if len(value) == 1:
        return "a funnel needs at least two stages"
    return None


def _aliases_rule(value: dict) -> str | None:
    from .data.aliases import alias_problems

    found = alias_problems(value, stages=None)  # the stages are another parameter: checked when loading
    return "; ".join(f"{'.'.join(map(str, at))}: {rule} ({hint})" for at, _, rule, hint in found) or None


def _text_required(value: str) -> str | None:
    return None if value.strip() else "must name the branch as written in the data, e.g. 杭州分公司"


@dataclass(frozen=True)
class Params:
    """The parameters every notebook declares. Subclasses add an analysis's own."""

    branch: str = param("杭州分公司", "the branch, as written in the data's branch column", rule=_text_required)
    source: str = param("", "empty: demo database; else a .duckdb file or a folder of CSV/XLSX/Parquet files")
    files: dict = param({}, "per-table files overriding source, e.g. {'transactions': 'my/tx.csv'}", rule=_files_rule)
    lang: str = param("zh", "report language: zh (default) or en", choices=LANGS)
    stages: list = param(
        [], "empty: the default telecom funnel; else a list of {key, zh, en} mappings", rule=_stages_rule
    )
    aliases: dict = param(
        {},
        "the branch's own labels per coded column, e.g. {'source_type': {'老用户推荐': 'existing_customer'}}",
        rule=_aliases_rule,
    )
    as_of: str = param(
        "", "data-as-of date YYYY-MM-DD for the title block; empty: latest date in the data", rule=_iso_date
    )
    output_dir: str = param("", "set by the batch: where CSV tables and summary.json go; empty: show only")
    run_id: str = param("", "set by the batch")

    # -- the declaration ------------------------------------------------------------------
    @classmethod
    def declared(cls) -> dict[str, dataclasses.Field]:
        """Name → field of every parameter, common ones first."""
        return {f.name: f for f in dataclasses.fields(cls)}

    @classmethod
    def own(cls) -> tuple[str, ...]:
        """The names this class adds to the common parameters."""
        common = {f.name for f in dataclasses.fields(Params)}
        return tuple(name for name in cls.declared() if name not in common)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return dataclasses.asdict(cls())

    def filters(self) -> dict[str, str]:
        """Filter column → value of every filter this notebook declares (empty ones included)."""
        return {f.metadata["filter"]: getattr(self, f.name) for f in dataclasses.fields(self) if "filter" in f.metadata}

    # -- checking values ------------------------------------------------------------------
    @classmethod
    def problems(cls, values: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
        """``(name, value, rule)`` for every value that breaks its declaration; unknown names
        are the caller's concern (the batch names the notebook section they belong to)."""
        found = []
        for name, value in values.items():
            spec = cls.declared().get(name)
            if spec is None:
                continue
            default = spec.default if spec.default is not dataclasses.MISSING else spec.default_factory()
            meta = spec.metadata
            rule = _type_rule(value, default)
            if rule is None and meta["choices"] is not None and value not in meta["choices"]:
                rule = f"must be one of {', '.join(map(str, meta['choices']))}"
            if rule is None and meta["low"] is not None and value < meta["low"]:
                rule = f"must be at least {meta['low']}" + (
                    f" and at most {meta['high']}" if meta["high"] is not None else ""
                )
            if rule is None and meta["high"] is not None and value > meta["high"]:
                rule = f"must be at most {meta['high']}" + (
                    f" and at least {meta['low']}" if meta["low"] is not None else ""
                )
            if rule is None and meta["rule"] is not None:
                rule = meta["rule"](value)
            if rule is not None:
                found.append((name, value, rule))
        return found

    @classmethod
    def from_values(cls, values: Mapping[str, Any], *, where: str = "notebook parameters"):
        """The parameters with ``values`` over the defaults, checked; raises ParamsError
        listing every bad value."""
        known = {k: v for k, v in values.items() if k in cls.declared()}
        bad = cls.problems(known)
        if bad:
            raise ParamsError([Problem(where, None, name, value, rule) for name, value, rule in bad])
        return cls(**known)

    @classmethod
    def from_namespace(cls, namespace: Mapping[str, Any]):
        """The parameters as a notebook holds them: ``Params.from_namespace(globals())``. In a
        notebook, a bad value then shows as its message, without a traceback."""
        from .report.display import show_errors_without_traceback

        show_errors_without_traceback(namespace.get("lang"))
        return cls.from_values({name: namespace[name] for name in cls.declared() if name in namespace})


def params_class(notebook: str) -> type[Params] | None:
    """The Params class of the analysis a notebook runs (``funnelkit.<notebook>.params``),
    or None for a notebook without one (its parameters are then checked by type only)."""
    if not re.fullmatch(r"[a-z_]+", notebook):
        return None
    try:
        module = importlib.import_module(f"funnelkit.{notebook}.params")
    except ModuleNotFoundError:
        return None
    found = getattr(module, "Params", None)
    return found if isinstance(found, type) and issubclass(found, Params) else None


# -- the notebook's parameters cell ----------------------------------------------------------


def parameters_cell(cls: type[Params], section: str) -> str:
    """The source of a notebook's ``parameters`` cell, generated from ``cls``: one line per
    parameter, ``name: type = default  # help``, the form papermill's inspector reads (it
    shows the type and the help in ``papermill --help-notebook``)."""
    lines = []
    for name, spec in cls.declared().items():
        if name == next(iter(cls.own()), None):
            lines += ["", f"# -- this notebook's own parameters (params files: section `{section}:`) --"]
        default = spec.default if spec.default is not dataclasses.MISSING else spec.default_factory()
        lines.append(f"{name}: {type(default).__name__} = {default!r}  # {spec.metadata['help']}")
    return "\n".join(lines)


def sync_notebook(path, *, write: bool = True) -> bool:
    """Regenerate the ``parameters`` cell of the notebook at ``path`` from its analysis's
    Params; returns True when the cell was out of date (and, with ``write``, rewrites it)."""
    from pathlib import Path

    import nbformat

    path = Path(path)
    cls = params_class(path.stem)
    if cls is None:
        return False
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    wanted = parameters_cell(cls, path.stem)
    if cell.source == wanted:
        return False
    if write:
        cell.source = wanted
        nbformat.write(notebook, path)
    return True
