"""Executed notebook → leadership HTML: no code, no prompts, no tracebacks, nothing remote,
no personal data."""

from __future__ import annotations

import html as html_text
import re
from collections.abc import Iterable
from functools import cache
from urllib.parse import quote

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor

from funnelkit.i18n import LANGS, catalogue, t
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
    return _without_empty_subsections(rest[:head] + summary + rest[head:])


def _without_empty_subsections(cells: list) -> list:
    """``cells`` without a ``### `` subheading whose code cells up to the next heading showed
    nothing (a section the branch's data cannot show says so once, under its ``## `` heading)."""

    def shows(cell) -> bool:
        return cell.cell_type == "code" and any(o.get("output_type") != "stream" for o in cell.get("outputs", []))

    kept = []
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("### "):
            following = []
            for later in cells[i + 1 :]:
                if later.cell_type == "markdown" and later.source.lstrip().startswith("#"):
                    break
                following.append(later)
            if not any(shows(c) for c in following) and not any(c.cell_type == "markdown" for c in following):
                continue
        kept.append(cell)
    return kept


# Section headings: markdown "## …" cells, to which nbconvert gives an id and an anchor link.
_SECTION = re.compile(r'<h2 id="([^"]+)">(.*?)(?:<a class="anchor-link"[^>]*>¶</a>)?</h2>', re.S)
_TOC_SLOT = re.compile(r'<nav class="fk-toc" data-label="([^"]*)"></nav>')


def with_contents(body: str) -> str:
    """Fill the title block's contents slot with a link to every section heading."""
    items = "".join(f'<li><a href="#{anchor}">{text}</a></li>' for anchor, text in _SECTION.findall(body))
    if not items:
        return body
    return _TOC_SLOT.sub(lambda m: f'<nav class="fk-toc"><h2>{m[1]}</h2><ol>{items}</ol></nav>', body, count=1)


def report_title(branch: str, notebook: str, lang: str = "zh") -> str:
    """The browser tab's title of a report: the branch and the report's name in ``lang``
    (``杭州分公司 · 客户漏斗分析``)."""
    key = f"{notebook}.title"
    return f"{branch} · {t(key, lang) if key in catalogue() else notebook}"


def with_navigation(body: str, *, notebook: str, downloads: Iterable[str], lang: str, index: str) -> str:
    """Add the report's way out: a link back to the run's index at the top, and at the end a
    block linking the Excel workbook and every CSV of the report (files in the folder named
    after the notebook, beside the report)."""
    back = html_text.escape(t("common.back_to_index", lang))
    top = f'<nav class="fk-nav"><a href="{html_text.escape(index)}" rel="up">← {back}</a></nav>'
    body = re.sub(r"(<body[^>]*>)", lambda m: m[1] + top, body, count=1)
    files = sorted(downloads)
    if not files:
        return body

    def link(name: str) -> str:
        href = html_text.escape(f"{quote(notebook)}/{quote(name)}")
        return f'<a href="{href}" download>{html_text.escape(name)}</a>'

    books = [f for f in files if f.endswith(".xlsx")]
    csvs = [f for f in files if f.endswith(".csv")]
    rows = []
    if books:
        rows.append(
            f"<dt>{html_text.escape(t('common.download_workbook', lang))}</dt><dd>{' '.join(map(link, books))}</dd>"
        )
    if csvs:
        rows.append(f"<dt>{html_text.escape(t('common.download_csv', lang))}</dt><dd>{' '.join(map(link, csvs))}</dd>")
    block = (
        f'<section class="fk-downloads" id="downloads"><h2 class="fk-downloads-title">'
        f"{html_text.escape(t('common.downloads', lang))}</h2><dl>{''.join(rows)}</dl>"
        f'<p><a href="{html_text.escape(index)}" rel="up">← {back}</a></p></section>'
    )
    return (
        body.replace("</main>", block + "</main>", 1)
        if "</main>" in body
        else body.replace("</body>", block + "</body>", 1)
    )


def to_html(
    notebook: nbformat.NotebookNode,
    *,
    title: str,
    lang: str = "zh",
    name: str = "",
    downloads: Iterable[str] = (),
    index: str = "../index.html",
) -> str:
    """Render an executed notebook as a self-contained HTML report.

    The ``title`` (it names the branch) and every text of the notebook are masked here, so
    no report depends on its caller having masked them. With the notebook's ``name``, the
    report links back to the run's ``index`` and to its ``downloads`` (file names in the
    folder ``name`` beside the report).
    """
    notebook = mask_notebook(notebook)  # also a copy: the preprocessor edits cells
    notebook.metadata["title"] = mask_text(title)
    notebook.cells = report_cells(notebook.cells, lang)
    html = exporter()
    html.language_code = "zh" if lang == "zh" else "en"
    body, _ = html.from_notebook_node(notebook)
    body = with_contents(body)
    if name:
        body = with_navigation(body, notebook=name, downloads=downloads, lang=lang, index=index)
    return body
