"""Executed notebook → leadership HTML: no code, no prompts, no tracebacks, nothing remote."""

from __future__ import annotations

from functools import cache

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor

from .paths import TEMPLATES_DIR

HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-cell"}


class CleanOutputs(Preprocessor):
    """Drop what a board document must not show: errors, stderr, parameter cells."""

    def preprocess_cell(self, cell, resources, index):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            cell.outputs = [] if cell.cell_type == "code" else None
            cell.source = "" if cell.cell_type == "code" else cell.source
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs
                            if o.output_type != "error"
                            and not (o.output_type == "stream" and o.name == "stderr")]
        return cell, resources


@cache
def exporter() -> HTMLExporter:
    """One exporter per process: building it costs far more than a conversion."""
    html = HTMLExporter(template_name="funnelkit", extra_template_basedirs=[str(TEMPLATES_DIR)])
    html.exclude_input = True
    html.exclude_input_prompt = True
    html.exclude_output_prompt = True
    html.embed_images = False
    html.register_preprocessor(CleanOutputs, enabled=True)
    return html


def summary_first(cells: list) -> list:
    """Move the cells tagged ``summary`` (computed last, from every result) to just after
    the title cell, so leadership reads the findings first."""
    summary = [c for c in cells if "summary" in c.get("metadata", {}).get("tags", [])]
    rest = [c for c in cells if c not in summary]
    head = 1 if rest and rest[0].cell_type == "markdown" else 0
    return rest[:head] + summary + rest[head:]


def to_html(notebook: nbformat.NotebookNode, *, title: str, lang: str = "zh") -> str:
    """Render an executed notebook as a self-contained HTML report."""
    notebook = nbformat.from_dict(notebook)  # a copy: the preprocessor edits cells
    notebook.metadata["title"] = title
    notebook.cells = summary_first(notebook.cells)
    html = exporter()
    html.language_code = "zh" if lang == "zh" else "en"
    body, _ = html.from_notebook_node(notebook)
    return body
