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
