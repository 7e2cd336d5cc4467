"""Branch params: read ``params/*.yaml``, merge with the defaults, check them against the notebooks.

Every check runs before any kernel starts. A branch file ``params/<slug>.yaml`` names the
branch (``branch: 杭州分公司``) and overrides ``params/defaults.yaml``. Top-level keys are the
common parameters every notebook declares; a key named after a notebook holds that
notebook's own parameters. Each key must be a parameter of its notebook (papermill would
only warn, and a key is injected as code), with the type of that parameter's default.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from funnelkit.exceptions import ParamsError, Problem
from funnelkit.i18n import LANGS
from funnelkit.paths import is_safe_name
from funnelkit.data.schema import TABLES

DEFAULTS_FILE = "defaults.yaml"
RUNNER_PARAMETERS = ("output_dir", "run_id")  # set by the batch, never by params files
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that records YAML 1.1 surprises instead of silently converting them."""

    def __init__(self, stream, file: str):
        super().__init__(stream)
        self.file = file
        self.problems: list[Problem] = []

    def _surprise(self, node, rule: str, hint: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, None, node.value, rule, hint))

    def construct_yaml_bool(self, node):
        if node.value.lower() not in ("true", "false"):
            self._surprise(node, f"YAML 1.1 reads {node.value!r} as a boolean",
                           f"write true/false, or quote it (\"{node.value}\") if you mean text")
        return super().construct_yaml_bool(node)

    def construct_yaml_int(self, node):
        if _LEADING_ZERO.match(node.value) or _SEXAGESIMAL.match(node.value):
            self._surprise(node, f"YAML 1.1 reads {node.value!r} as a number in another base",
                           f"quote it (\"{node.value}\") if it is a code, or drop the leading zero")
        return super().construct_yaml_int(node)

    def construct_mapping(self, node, deep=False):
        seen: set = set()
        for key_node, _ in node.value:
            key = key_node.value
            if key in seen:
                self._surprise(key_node, "key appears twice in one mapping", "keep one of them")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor("tag:yaml.org,2002:bool", _StrictLoader.construct_yaml_bool)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


def read_yaml(path: Path) -> dict:
    """Read one params file, raising ParamsError listing every problem in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[:error.start].count(b"\n") + 1
        raise ParamsError([Problem(str(path), line, None, "", "the file is not UTF-8 text",
                                   "save it as UTF-8 (in Notepad: Save as → Encoding UTF-8)")]) from None
    except OSError as error:
        raise ParamsError([Problem(str(path), None, None, "", f"cannot read the file: {error.strerror}", "")]) from None
    loader = _StrictLoader(text, str(path))
    try:
        data = loader.get_single_data() or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ParamsError([Problem(str(path), mark.line + 1 if mark else None, None, "",
                                   f"not valid YAML: {getattr(error, 'problem', error)}",
                                   "check indentation and quoting")]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        loader.problems.append(Problem(str(path), 1, None, type(data).__name__,
                                       "a params file must be a mapping of names to values", ""))
    if loader.problems:
        raise ParamsError(loader.problems)
    return data


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
        common = {k: v for k, v in self.values.items() if k not in self.notebooks}
        return {**common, **self.values.get(notebook, {})}


def _merge(defaults: dict, branch: dict) -> dict:
    merged = dict(defaults)
    for key, value in branch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key != "files":  # a section
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _line_of(path: Path, key: str) -> int | None:
    pattern = re.compile(rf"^\s*['\"]?{re.escape(key)}['\"]?\s*:")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _type_problem(value, default) -> str | None:
    if default is None or value is None and default is None:
        return None
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return None
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return None
    return f"must be {expected.__name__} like the notebook's default {default!r}, not {type(value).__name__}"


def _check_common(values: dict, where) -> list[Problem]:
    problems = []
    if values.get("lang", "zh") not in LANGS:
        problems.append(where("lang", values["lang"], f"lang must be one of {', '.join(LANGS)}", ""))
    for table in (values.get("files") or {}):
        if table not in TABLES:
            problems.append(where("files", table, "unknown table in files", f"tables: {', '.join(TABLES)}"))
    stages = values.get("stages") or []
    if isinstance(stages, list):
        keys = []
        for stage in stages:
            if not isinstance(stage, dict) or not {"key", "zh"} <= set(stage):
                problems.append(where("stages", stage, "each stage needs key and zh (and en)", "see params/defaults.yaml"))
            else:
                keys.append(str(stage["key"]))
        if len(keys) != len(set(keys)):
            problems.append(where("stages", keys, "stage keys must be unique", ""))
        if stages and len(stages) < 2:
            problems.append(where("stages", stages, "a funnel needs at least two stages", ""))
    return problems


def load_branch(path: Path, notebooks: dict[str, Path]) -> BranchParams:
    """Read, merge and check one branch file against ``notebooks`` (name → .ipynb path).

    Raises ParamsError listing every problem in the branch file and the defaults.
    """
    slug = path.stem
    defaults_path = path.parent / DEFAULTS_FILE
    problems: list[Problem] = []
    defaults, own = {}, {}
    for target, file in (("defaults", defaults_path), ("own", path)):
        if not file.exists():
            continue
        try:
            (defaults if target == "defaults" else own).update(read_yaml(file))
        except ParamsError as error:
            problems += error.problems
    if problems:
        raise ParamsError(problems)

    def where(key, value, rule, hint, file=path):
        source = file if key in own or file != path else defaults_path
        return Problem(str(source), _line_of(source, key) if source.exists() else None, key, value, rule, hint)

    if not is_safe_name(slug):
        problems.append(Problem(str(path), None, None, slug, "the file name is not a safe branch folder name",
                                "use letters, digits, _ and - only, e.g. params/hangzhou.yaml"))
    if not isinstance(own.get("branch"), str) or not own.get("branch", "").strip():
        problems.append(Problem(str(path), _line_of(path, "branch"), "branch", own.get("branch"),
                                "each branch file must name its branch as text",
                                "add a line like: branch: 杭州分公司"))
    values = _merge(defaults, own)
    problems += _check_common(values, where)
    declared = {name: notebook_parameters(nb) for name, nb in notebooks.items()}
    common_names = set.intersection(*(set(d) for d in declared.values())) if declared else set()
    for name, parameters in declared.items():
        for needed in ("branch", *RUNNER_PARAMETERS):
            if needed not in parameters:
                problems.append(Problem(str(notebooks[name]), None, needed, None,
                                        f"notebook '{name}' does not declare the parameter '{needed}'",
                                        "add it to the cell tagged 'parameters' (docs/notebooks.md)"))
    for key, value in values.items():
        if key in declared:
            if not isinstance(value, dict):
                problems.append(where(key, value, f"'{key}' is a notebook section and must be a mapping", ""))
                continue
            for name, inner in value.items():
                if name not in declared[key] or name in RUNNER_PARAMETERS:
                    problems.append(where(name, inner, f"'{name}' is not a parameter of notebook '{key}'",
                                          f"its parameters: {', '.join(sorted(set(declared[key]) - common_names))}"))
                elif (rule := _type_problem(inner, declared[key][name])) is not None:
                    problems.append(where(name, inner, f"{key}.{name} {rule}", ""))
        elif key in RUNNER_PARAMETERS:
            problems.append(where(key, value, f"'{key}' is set by the batch runner", "remove it from params"))
        elif key not in common_names:
            problems.append(where(key, value, f"unknown parameter '{key}'",
                                  f"common parameters: {', '.join(sorted(common_names - set(RUNNER_PARAMETERS)))}; "
                                  f"notebook sections: {', '.join(sorted(declared))}"))
        else:
            for name, defaults_of in declared.items():
                if (rule := _type_problem(value, defaults_of[key])) is not None:
                    problems.append(where(key, value, f"{key} {rule}", ""))
                    break
    if problems:
        raise ParamsError(problems)
    return BranchParams(slug=slug, file=path, values=values, notebooks=tuple(notebooks))


def branch_files(params_dir: Path) -> list[Path]:
    """Every branch file in ``params_dir`` (all YAML files but the defaults), sorted."""
    return sorted(p for p in params_dir.glob("*.yaml") if p.name != DEFAULTS_FILE)
