"""The notebooks keep the contract of docs/notebooks.md (checked without running them)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from funnelkit.batch.params import notebook_parameters
from funnelkit.parameters import Params, parameters_cell, params_class

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
HEADING = re.compile(r"^(#{1,6}) ", re.M)


def _cells(path):
    return nbformat.read(path, as_version=4).cells


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    assert not any(c.get("outputs") for c in _cells(path) if c.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_is_generated_from_the_declaration(path):
    """One source for every default: the cell is what ``funnelkit sync-notebooks`` writes from
    ``funnelkit/<notebook>/params.py``, and papermill reads every parameter from it."""
    cls = params_class(path.stem)
    assert cls is not None, f"funnelkit/{path.stem}/params.py must declare Params"
    cell = next(c for c in _cells(path) if "parameters" in c.metadata.get("tags", []))
    assert cell.source == parameters_cell(cls, path.stem), "run: funnelkit sync-notebooks"
    assert list(notebook_parameters(path)) == list(cls.declared())
    assert set(Params.declared()) <= set(cls.declared())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_hold_calls_not_logic(path):
    """No def, class or loop in a notebook: logic belongs in the package."""
    cells = _cells(path)
    for cell in cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        banned = [
            type(n).__name__
            for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.Lambda))
        ]
        assert banned == [], cell.source[:120]
        assert "report.section(" not in cell.source, "headings are markdown cells, not catalogue calls"
    tags = [set(c.metadata.get("tags", [])) for c in cells]
    assert sum("parameters" in t for t in tags) == 1
    assert sum("title" in t for t in tags) == 1 and sum("summary" in t for t in tags) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_narrative_is_markdown_in_both_languages(path):
    """Each section's heading and lead paragraph are a zh/en pair of markdown cells, so
    JupyterLab's table of contents shows every section before anything runs and the export
    keeps the report's language only."""
    cells = [c for c in _cells(path) if c.cell_type == "markdown" and "notebook-only" not in c.metadata.get("tags", [])]
    langs = [next((t for t in c.metadata.get("tags", []) if t.startswith("lang-")), None) for c in cells]
    assert None not in langs, "every report markdown cell is tagged lang-zh or lang-en"
    zh = [c for c, lang in zip(cells, langs) if lang == "lang-zh"]
    en = [c for c, lang in zip(cells, langs) if lang == "lang-en"]
    assert len(zh) == len(en) >= 4
    for a, b in zip(zh, en):
        assert HEADING.findall(a.source) == HEADING.findall(b.source), (a.source[:60], b.source[:60])
        assert not re.search(r"[\u4e00-\u9fff]", b.source), b.source[:80]
    assert sum(bool(HEADING.findall(c.source)) for c in zh) >= 4
