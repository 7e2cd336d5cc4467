"""Branch params: read ``params/*.yaml``, merge with the defaults, check them against the notebooks.

Every check runs before any kernel starts. A branch file ``params/<slug>.yaml`` (or
``.yml``) names the branch (``branch: 杭州分公司``) and overrides ``params/defaults.yaml``.
Top-level keys are the common parameters every notebook declares; a key named after a
notebook holds that notebook's own parameters. Each key must be a parameter of its notebook
(papermill would only warn, and a key is injected as code), with the type of that
parameter's default. Files are read as data only (:mod:`funnelkit.batch.params_yaml`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from funnelkit.batch.params_yaml import read_data
from funnelkit.data.aliases import alias_problems
from funnelkit.data.schema import TABLES
from funnelkit.exceptions import ParamsError, ParamsProblem, show_value
from funnelkit.i18n import LANGS
from funnelkit.parameters import params_class
from funnelkit.paths import is_safe_name
from funnelkit.privacy import mask_text

DEFAULTS_FILE = "defaults.yaml"
SUFFIXES = (".yaml", ".yml")  # in any case: Windows users write .YAML too
RUNNER_PARAMETERS = ("output_dir", "run_id")  # set by the batch, never by params files
# For the batch itself, never injected: which notebooks a branch runs; the Dask scheduler
# the whole batch runs on (in defaults.yaml only).
BATCH_KEYS = ("notebooks", "scheduler")
_SCHEDULER = re.compile(r"^local$|^((tcp|tls)://)?[A-Za-z0-9.\-]+:[0-9]{1,5}$")
SPECIAL = ("branch", "lang", "files", "stages", "as_of", "aliases")  # shared keys with rules beyond their type
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_KINDS = {
    str: "text",
    bool: "true/false",
    int: "a whole number",
    float: "a number",
    list: "a list",
    dict: "a mapping",
    type(None): "empty (null)",
}


@dataclass(frozen=True)
class ParamsFile:
    """One params file as read: its values, the line of every key path and its problems.

    ``shown`` is how messages name the file: relative to the project root when known."""

    path: Path
    shown: str
    values: dict
    lines: dict
    problems: tuple[ParamsProblem, ...] = ()


def read_params(path: Path, *, root: Path | None = None) -> ParamsFile:
    """Read one params file as data; never raises (problems are in ``problems``)."""
    shown = _shown(path, root)
    data = read_data(path, shown)
    values, problems = data.values, list(data.problems)
    if values is None and not problems:
        values = {}  # an empty file overrides nothing
    if not isinstance(values, dict):
        if values is not None:
            problems.append(
                ParamsProblem(
                    shown,
                    1,
                    None,
                    None,
                    f"a params file must be a mapping of names to values, not {_kind(values)}",
                    "e.g. branch: 杭州分公司",
                )
            )
        values = {}
    return ParamsFile(path, shown, values, data.lines, tuple(problems))


def read_yaml(path: Path, *, root: Path | None = None) -> dict:
    """Read one params file, raising ParamsError listing every problem in it."""
    params = read_params(path, root=root)
    if params.problems:
        raise ParamsError(list(params.problems))
    return params.values


def load_defaults(params_dir: Path, *, root: Path | None = None) -> ParamsFile:
    """``params/defaults.yaml`` (empty when there is none); a defaults file under another
    name (``defaults.yml``) is a problem, since every branch would silently miss it."""
    root = root or params_dir.parent
    path = params_dir / DEFAULTS_FILE
    present = path.exists() or path.is_symlink()  # a broken link is a problem, not "no defaults"
    defaults = read_params(path, root=root) if present else ParamsFile(path, _shown(path, root), {}, {})
    strays = [
        ParamsProblem(
            _shown(p, root),
            None,
            None,
            None,
            f"the shared defaults must be named {DEFAULTS_FILE}",
            f"rename it to params/{DEFAULTS_FILE}, or merge it into that file",
        )
        for p in _yaml_files(params_dir)
        if p.stem.casefold() == "defaults" and p.name != DEFAULTS_FILE
    ]
    if strays:
        defaults = ParamsFile(path, defaults.shown, defaults.values, defaults.lines, (*defaults.problems, *strays))
    return defaults


def branch_files(params_dir: Path) -> list[Path]:
    """Every branch file in ``params_dir``: ``*.yaml`` and ``*.yml`` in any case, but the
    defaults and hidden files (editor locks and backups start with a dot), sorted."""
    return [p for p in _yaml_files(params_dir) if p.stem.casefold() != "defaults"]


def _yaml_files(params_dir: Path) -> list[Path]:
    if not params_dir.is_dir():
        return []
    return sorted(p for p in params_dir.iterdir() if p.suffix.lower() in SUFFIXES and not p.name.startswith("."))


def _shown(path: Path, root: Path | None) -> str:
    """How messages name a file: relative to the project, personal data in its name masked."""
    if root is None:
        return mask_text(str(path))
    try:
        return mask_text(path.absolute().relative_to(root.absolute()).as_posix())
    except ValueError:
        return mask_text(str(path))


@cache
def notebook_parameters(notebook: Path) -> dict[str, object]:
    """Name → default value of the notebook's ``parameters`` cell (papermill's inspector)."""
    import papermill as pm

    declared = pm.inspect_notebook(str(notebook))
    defaults: dict[str, object] = {}
    for name, info in declared.items():
        try:
            defaults[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            defaults[name] = None  # a default we cannot read: accept any type
    return defaults


@dataclass(frozen=True)
class BranchParams:
    """The merged params of one branch."""

    slug: str
    file: Path
    values: dict
    notebooks: tuple[str, ...]

    @property
    def branch(self) -> str:
        return self.values["branch"]

    def for_notebook(self, notebook: str) -> dict:
        """The parameters to inject into ``notebook``: common keys plus its own section."""
        common = {k: v for k, v in self.values.items() if k not in self.notebooks and k not in BATCH_KEYS}
        return {**common, **self.values.get(notebook, {})}

    def runs(self, notebook: str) -> bool:
        """Whether the branch runs ``notebook``: every notebook, unless its params list them
        (``notebooks: [funnel, lost]`` for a branch that has no customer data)."""
        chosen = self.values.get("notebooks")
        return chosen is None or notebook in chosen


def _merge(defaults: dict, branch: dict) -> dict:
    merged = dict(defaults)
    for key, value in branch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "files":  # a section
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def load_branch(
    path: Path,
    notebooks: dict[str, Path],
    *,
    root: Path | None = None,
    defaults: ParamsFile | None = None,
    own: ParamsFile | None = None,
) -> BranchParams:
    """Read, merge and check one branch file against ``notebooks`` (name → .ipynb path).

    ``root`` is the project folder messages name files from (default: the parent of the
    params folder); ``defaults`` and ``own`` may be given when already read. Raises
    ParamsError listing every problem in the branch file and the defaults.
    """
    root = root or path.parent.parent
    defaults = defaults if defaults is not None else load_defaults(path.parent, root=root)
    own = own if own is not None else read_params(path, root=root)
    if defaults.problems or own.problems:
        raise ParamsError([*defaults.problems, *own.problems])

    def where(at: tuple, value, rule: str, hint: str = "") -> ParamsProblem:
        # A key's line in the branch file when it comes from there, else in the defaults.
        source = next((s for s in (own, defaults) if at in s.lines), own)
        return ParamsProblem(source.shown, source.lines.get(at), ".".join(map(str, at)) or None, value, rule, hint)

    problems: list[ParamsProblem] = []
    if not is_safe_name(path.stem):
        problems.append(
            ParamsProblem(
                own.shown,
                None,
                None,
                path.stem,
                "the file name is not a safe branch folder name",
                "use letters, digits, _ and - only, and no phone or ID number, e.g. params/hangzhou.yaml",
            )
        )
    branch = own.values.get("branch")
    if not isinstance(branch, str) or not branch.strip() or "\n" in branch:
        problems.append(
            where(
                ("branch",),
                branch,
                "each branch file must name its branch, as one line of text",
                "add a line like: branch: 杭州分公司",
            )
        )
    if "scheduler" in own.values:
        problems.append(
            where(
                ("scheduler",),
                own.values["scheduler"],
                "scheduler applies to the whole batch, not to one branch",
                "set it in params/defaults.yaml, or pass --scheduler",
            )
        )
    values = _merge(defaults.values, own.values)
    declared = {name: notebook_parameters(nb) for name, nb in notebooks.items()}
    for name, parameters in declared.items():
        for needed in ("branch", *RUNNER_PARAMETERS):
            if needed not in parameters:
                problems.append(
                    ParamsProblem(
                        _shown(notebooks[name], root),
                        None,
                        needed,
                        None,
                        f"notebook '{name}' does not declare the parameter '{needed}'",
                        "add it to the cell tagged 'parameters' (docs/notebooks.md)",
                    )
                )
    problems += _check_values(values, declared, where)
    if problems:
        raise ParamsError(sorted(problems, key=lambda p: (p.file, p.row or 0)))
    return BranchParams(slug=path.stem, file=path, values=values, notebooks=tuple(notebooks))


def _check_values(values: dict, declared: dict[str, dict], where) -> list[ParamsProblem]:
    """Every key against the notebooks' parameters: names, types and the shared keys' rules."""
    common = set.intersection(*(set(d) for d in declared.values())) if declared else set()
    unknown_hint = (
        f"common parameters: {', '.join(sorted(common - set(RUNNER_PARAMETERS)))}; "
        f"notebook sections: {', '.join(sorted(declared))}"
    )
    problems = []
    for key, value in values.items():
        if key in declared:
            if not isinstance(value, dict):
                problems.append(
                    where(
                        (key,),
                        value,
                        f"'{key}' is a notebook section and must be a mapping",
                        f"e.g. {key}: {{<parameter>: <value>}}",
                    )
                )
                continue
            own_names = ", ".join(sorted(set(declared[key]) - common)) or "none"
            for name, inner in value.items():
                at = (key, name)
                if name not in declared[key] or name in ("branch", *RUNNER_PARAMETERS):
                    problems.append(
                        where(
                            at,
                            inner,
                            f"'{name}' is not a parameter of notebook '{key}'",
                            f"its parameters: {own_names}",
                        )
                    )
                elif name in SPECIAL:
                    problems += _check_special(name, inner, at, where)
                elif rules := _declared_rules(key, name, inner, declared[key][name]):
                    problems += [where(at, inner, f"{key}.{name} {rule}") for rule in rules]
        elif key in RUNNER_PARAMETERS:
            problems.append(where((key,), value, f"'{key}' is set by the batch runner", "remove it from params"))
        elif key == "notebooks":
            known = ", ".join(sorted(declared))
            if not isinstance(value, list) or not all(isinstance(n, str) and n in declared for n in value):
                problems.append(
                    where(
                        (key,),
                        value,
                        f"notebooks must list notebooks of this kit ({known})",
                        "e.g. notebooks: [funnel, lost]; leave it out to run every notebook",
                    )
                )
        elif key == "scheduler":
            if not isinstance(value, str) or not (value == "" or _SCHEDULER.match(value)):
                problems.append(
                    where(
                        (key,),
                        value,
                        "scheduler must be the address of a Dask scheduler, empty or local for this machine",
                        'e.g. scheduler: "tcp://10.0.0.5:8786"',
                    )
                )
        elif key not in common:
            problems.append(where((key,), value, f"unknown parameter '{key}'", unknown_hint))
        elif key in SPECIAL:
            problems += _check_special(key, value, (key,), where)
        else:
            rule = next((r for d in declared.values() if (r := _type_problem(value, d[key])) is not None), None)
            if rule is not None:
                problems.append(where((key,), value, f"{key} {rule}"))
    return problems


def _declared_rules(notebook: str, name: str, value, default) -> list[str]:
    """What is wrong with ``value`` by the declaration of ``notebook``'s parameter ``name``
    (``funnelkit/<notebook>/params.py``: type, choices, range, rule); a notebook without a
    declaration is checked by the type of its parameters cell's default."""
    declaration = params_class(notebook)
    if declaration is None:
        rule = _type_problem(value, default)
        return [] if rule is None else [rule]
    return [rule for _, _, rule in declaration.problems({name: value})]


def _kind(value) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def _type_problem(value, default) -> str | None:
    if default is None:
        return None  # the notebook's default could not be read: any type goes
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return None
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return None
    return f"must be {_kind(default)} like the notebook's default {show_value(default)}, not {_kind(value)}"


def _check_special(key: str, value, at: tuple, where) -> list[ParamsProblem]:
    """The rules of the shared keys beyond their type (``branch`` is checked on its own)."""
    if key == "lang" and value not in LANGS:
        return [where(at, value, f"lang must be one of {', '.join(LANGS)}")]
    if key == "as_of" and not _is_date_or_empty(value):
        return [
            where(
                at,
                value,
                "as_of must be a date written YYYY-MM-DD, or empty for the latest date in the data",
                'e.g. as_of: "2024-06-30"',
            )
        ]
    if key == "files":
        return _check_files(value, at, where)
    if key == "stages":
        return _check_stages(value, at, where)
    if key == "aliases":
        return [
            where((*at, *path), found, rule, hint) for path, found, rule, hint in alias_problems(value, stages=None)
        ]
    return []


def _is_date_or_empty(value) -> bool:
    if value == "" and isinstance(value, str):
        return True
    try:
        return isinstance(value, str) and bool(_ISO_DATE.match(value)) and bool(date.fromisoformat(value))
    except ValueError:
        return False


def _check_files(files, at: tuple, where) -> list[ParamsProblem]:
    tables = ", ".join(TABLES)
    if not isinstance(files, dict):
        return [
            where(
                at,
                files,
                f"files must be a mapping of table name → file path, not {_kind(files)}",
                f"e.g. files: {{leads: data/hangzhou/leads.csv}} (tables: {tables})",
            )
        ]
    problems = []
    for table, file in files.items():
        if table not in TABLES:
            problems.append(where((*at, table), table, "unknown table in files", f"tables: {tables}"))
        elif not isinstance(file, str):
            problems.append(
                where(
                    (*at, table),
                    file,
                    f"the file of table '{table}' must be a path as text, not {_kind(file)}",
                    '"" reads the table from source',
                )
            )
    return problems


def _check_stages(stages, at: tuple, where) -> list[ParamsProblem]:
    example = "e.g. - {key: target, zh: 目标客户, en: Target}"
    if not isinstance(stages, list):
        return [
            where(
                at,
                stages,
                f"stages must be a list of stages, not {_kind(stages)}",
                f"[] gives the default funnel; {example}",
            )
        ]
    problems, keys = [], []
    for number, stage in enumerate(stages):
        item = (*at, number)
        if not isinstance(stage, dict):
            problems.append(where(item, stage, f"stage {number + 1} must be a mapping with key, zh and en", example))
            continue
        wrong = [
            name
            for name in ("key", "zh", "en")
            if (name in stage or name != "en") and (not isinstance(stage.get(name), str) or not stage[name].strip())
        ]
        extra = [str(name) for name in stage if name not in ("key", "zh", "en")]
        parts = [f"{', '.join(wrong)} must be text"] * bool(wrong) + [f"unknown {', '.join(extra)}"] * bool(extra)
        if parts:
            problems.append(
                where(item, stage, f"stage {number + 1}: {'; '.join(parts)} (a stage has key, zh and en)", example)
            )
        else:
            keys.append(stage["key"])
    if len(keys) != len(set(keys)):
        problems.append(where(at, keys, "stage keys must be unique"))
    if len(stages) == 1:
        problems.append(where(at, stages, "a funnel needs at least two stages"))
    return problems
