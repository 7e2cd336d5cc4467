"""Executed notebook → leadership HTML: no code, no prompts, no tracebacks, nothing remote,
no personal data."""

from __future__ import annotations

import re
from functools import cache

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor

from funnelkit.i18n import LANGS
from funnelkit.paths import TEMPLATES_DIR
from funnelkit.privacy import mask_notebook, mask_text

HIDDEN_TAGS = {"parameters", "injected-parameters", "notebook-only"}


class CleanOutputs(Preprocessor):
    """Drop what a board document must not show: errors and stderr (warnings text)."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.outputs
                if o.output_type != "error" and not (o.output_type == "stream" and o.name == "stderr")
            ]
        return cell, resources


@cache
def exporter() -> HTMLExporter:
    """One exporter per process: building it costs far more than a conversion."""
    from traitlets.config import Config

    config = Config()
    config.CSSHTMLHeaderPreprocessor.enabled = False  # code-highlighting CSS: reports show no code
    html = HTMLExporter(config=config, template_name="funnelkit", extra_template_basedirs=[str(TEMPLATES_DIR)])
    html.exclude_input = True
    html.exclude_input_prompt = True
    html.exclude_output_prompt = True
    html.embed_images = False
    html.register_preprocessor(CleanOutputs, enabled=True)
    return html


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def report_cells(cells: list, lang: str = "zh") -> list:
    """The cells of the report, in reading order: notebook-only cells (the analyst's title,
    parameters) and narrative in another language (tagged ``lang-en`` in a ``zh`` report)
    dropped, and the cells tagged ``summary`` (computed from every result) moved to just after
    the cell tagged ``title``, so leadership reads the findings first."""
    other = {f"lang-{code}" for code in LANGS if code != lang}
    cells = [c for c in cells if not _tags(c) & (HIDDEN_TAGS | other)]
    summary = [c for c in cells if "summary" in _tags(c)]
    rest = [c for c in cells if "summary" not in _tags(c)]
    head = next((i + 1 for i, c in enumerate(rest) if "title" in _tags(c)), 0)
    return rest[:head] + summary + rest[head:]


# Section headings: markdown "## …" cells, to which nbconvert gives an id and an anchor link.
_SECTION = re.compile(r'<h2 id="([^"]+)">(.*?)(?:<a class="anchor-link"[^>]*>¶</a>)?</h2>', re.S)
_TOC_SLOT = re.compile(r'<nav class="fk-toc" data-label="([^"]*)"></nav>')


def with_contents(body: str) -> str:
    """Fill the title block's contents slot with a link to every section heading."""
    items = "".join(f'<li><a href="#{anchor}">{text}</a></li>' for anchor, text in _SECTION.findall(body))
    if not items:
        return body
    return _TOC_SLOT.sub(lambda m: f'<nav class="fk-toc"><h2>{m[1]}</h2><ol>{items}</ol></nav>', body, count=1)


def to_html(notebook: nbformat.NotebookNode, *, title: str, lang: str = "zh") -> str:
    """Render an executed notebook as a self-contained HTML report.

    The ``title`` (it names the branch) and every text of the notebook are masked here, so
    no report depends on its caller having masked them.
    """
    notebook = mask_notebook(notebook)  # also a copy: the preprocessor edits cells
    notebook.metadata["title"] = mask_text(title)
    notebook.cells = report_cells(notebook.cells, lang)
    html = exporter()
    html.language_code = "zh" if lang == "zh" else "en"
    body, _ = html.from_notebook_node(notebook)
    return with_contents(body)
