"""The notebooks keep the contract of docs/notebooks.md (checked without running them)."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from funnelkit.batch.params import notebook_parameters, read_yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
COMMON = ("branch", "source", "files", "lang", "stages", "as_of", "output_dir", "run_id")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in notebook.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_declares_the_common_parameters(path):
    # papermill silently drops a parameter whose line it cannot parse (a comment with "=")
    assert set(COMMON) <= set(notebook_parameters(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_defaults_agree_with_params_defaults(path):
    """The parameters cell (what JupyterLab runs) and params/defaults.yaml (what the batch
    injects) hold the same defaults, so both give the same report."""
    declared = notebook_parameters(path)
    defaults = read_yaml(ROOT / "params" / "defaults.yaml")
    section = defaults.get(path.stem, {})
    differing = {k: (declared.get(k, "<not a parameter>"), v) for k, v in section.items() if declared.get(k) != v}
    assert differing == {}
    common = {k: v for k, v in defaults.items() if k in COMMON}
    assert {k: declared[k] for k in common} == common


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_hold_calls_not_logic(path):
    """No def, class or loop in a notebook: logic belongs in the package."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        banned = [type(n).__name__ for n in ast.walk(tree)
                  if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.Lambda))]
        assert banned == [], cell.source[:120]
    tags = [set(c.metadata.get("tags", [])) for c in notebook.cells]
    assert sum("parameters" in t for t in tags) == 1
    assert sum("title" in t for t in tags) == 1 and sum("summary" in t for t in tags) == 1
