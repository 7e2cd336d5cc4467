"""The HTML export keeps the report's language and lists markdown sections in the contents."""

from __future__ import annotations

import nbformat
from bs4 import BeautifulSoup

from funnelkit.batch.htmlexport import to_html


def _notebook():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    title = code("", metadata={"tags": ["title"]})
    title.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"text/html": '<header><h1>报告</h1><nav class="fk-toc" data-label="目录"></nav></header>'},
        )
    ]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        md("# 草稿 · draft", metadata={"tags": ["notebook-only"]}),
        title,
        md("## 阶段与转化率\n\n每个阶段的客户数。", metadata={"tags": ["lang-zh"]}),
        md("## Stages and rates\n\nCustomers at each stage.", metadata={"tags": ["lang-en"]}),
        md("## 瓶颈", metadata={"tags": ["lang-zh"]}),
        md("## Bottleneck", metadata={"tags": ["lang-en"]}),
    ]
    return notebook


def test_only_the_report_language_is_kept_and_listed():
    zh = BeautifulSoup(to_html(_notebook(), title="t", lang="zh"), "html.parser")
    text = zh.get_text()
    assert "每个阶段的客户数" in text and "Customers at each stage" not in text and "草稿" not in text
    assert [a.get_text() for a in zh.select("nav.fk-toc li a")] == ["阶段与转化率", "瓶颈"]
    en = BeautifulSoup(to_html(_notebook(), title="t", lang="en"), "html.parser")
    assert [a.get_text() for a in en.select("nav.fk-toc li a")] == ["Stages and rates", "Bottleneck"]
    assert "每个阶段" not in en.get_text()
    for link in en.select("nav.fk-toc li a"):
        assert en.find(id=link["href"][1:]) is not None  # every entry leads to its heading


def test_a_report_links_back_to_the_index_and_to_its_downloads():
    from funnelkit.batch.htmlexport import report_title

    html = to_html(
        _notebook(),
        title=report_title("杭州分公司", "funnel", "zh"),
        lang="zh",
        name="funnel",
        downloads=["stages.csv", "funnel.xlsx", "a b.csv"],
    )
    soup = BeautifulSoup(html, "html.parser")
    assert soup.title.get_text() == "杭州分公司 · 客户漏斗诊断"
    assert [a["href"] for a in soup.select("a[rel=up]")] == ["../index.html", "../index.html"]
    block = soup.select_one("section.fk-downloads")
    assert [a["href"] for a in block.select("a[download]")] == [
        "funnel/funnel.xlsx",
        "funnel/a%20b.csv",
        "funnel/stages.csv",
    ]
    assert block.find("h2").get("id") is None  # not a section of the contents
    assert "数据下载" not in soup.select_one("nav.fk-toc").get_text()
    en = BeautifulSoup(
        to_html(_notebook(), title=report_title("HZ", "lost", "en"), lang="en", name="lost"), "html.parser"
    )
    assert (
        en.title.get_text() == "HZ · Lost-deal analysis"
        and en.select_one("a[rel=up]").get_text() == "← Back to the overview"
    )
    assert en.select_one("section.fk-downloads") is None  # nothing to download: no empty block


def test_a_subsection_that_shows_nothing_is_left_out():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

    from funnelkit.batch.htmlexport import report_cells

    shown = new_code_cell("report.table(x);", outputs=[new_output("display_data", {"text/html": "<table/>"})])
    cells = [
        new_markdown_cell("## Lost reasons"),
        new_code_cell('report.gap(result, "reasons");', outputs=[new_output("display_data", {"text/html": "<p/>"})]),
        new_markdown_cell("### Pareto chart"),
        new_code_cell("lost.plots.pareto(result);"),  # a gap: the plot returned None, nothing shown
        new_markdown_cell("### Competitors bought"),
        shown,
    ]
    assert [c.source for c in report_cells(cells)] == [
        "## Lost reasons",
        'report.gap(result, "reasons");',
        "lost.plots.pareto(result);",
        "### Competitors bought",
        "report.table(x);",
    ]
