"""Layout in the real browser: at 1280 px every table fits or scrolls inside its own box
with its label column pinned; on A4 paper nothing is cut; chart text is at least 10 px on a
laptop; reports and the index link to each other, and each report to its downloads.

Runs on the session's demo batch (``run_dir`` of test_browser); A4 PDFs of one branch go to
``test-results/pdf/`` for a person to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import pytest

from tests.e2e import browser as bw
from tests.e2e.test_browser import NOTEBOOKS, PAGES, ROOT, WIDTHS, page_path

pytestmark = pytest.mark.browser
PDFS = ROOT / "test-results" / "pdf"
MIN_CHART_TEXT_PX = 10


@pytest.mark.parametrize("device", WIDTHS)
@pytest.mark.parametrize("page_name", PAGES)
def test_tables_fit_or_scroll_with_the_label_pinned(chromium, run_dir, branch, page_name, device):
    path = page_path(run_dir, branch, page_name)
    with bw.open_page(chromium, path, width=WIDTHS[device]) as (page, visit):
        unscrollable = bw.unscrollable_tables(page)
        unpinned = bw.unpinned_label_columns(page, "table.fk-table, #key-figures")
        overflowing_at_laptop = page.evaluate(
            "() => [...document.querySelectorAll('table')]"
            ".filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).length"
        )
    assert unscrollable == [], unscrollable
    assert unpinned == [], f"tables scrolling without a pinned label column: {unpinned}"
    if device == "laptop":  # at 1280 px every column of every table is in view
        assert overflowing_at_laptop == 0


@pytest.mark.parametrize("page_name", PAGES)
def test_a4_print_cuts_no_column_and_no_chart(chromium, run_dir, branch, page_name):
    """Laid out as Chromium prints it on A4 portrait (print media, the page's content width),
    no element reaches past the page edge; the real PDF is A4 and is kept for a person."""
    path = page_path(run_dir, branch, page_name)
    with bw.open_page(chromium, path, width=bw.A4_CONTENT_WIDTH) as (page, visit):
        page.emulate_media(media="print")
        cut = bw.cut_in_print(page)
        PDFS.mkdir(parents=True, exist_ok=True)
        pdf = page.pdf(path=str(PDFS / f"{path.stem}.pdf"), prefer_css_page_size=True, print_background=True)
    assert cut == [], "cut on A4:\n" + "\n".join(cut[:10])
    sizes = {tuple(float(v) for v in box) for box in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)}
    assert sizes and all(abs(w - 595.3) < 1.5 and abs(h - 841.9) < 1.5 for w, h in sizes), sizes  # A4, from @page


@pytest.mark.parametrize("page_name", PAGES)
def test_chart_text_is_at_least_10px_at_1280(chromium, run_dir, branch, page_name):
    path = page_path(run_dir, branch, page_name)
    with bw.open_page(chromium, path, width=WIDTHS["laptop"]) as (page, visit):
        charts = bw.chart_images(page)
    sizes = [bw.smallest_text_px(c["src"], c["shown"]) for c in charts]
    assert charts and None not in sizes, "a chart PNG without its smallest font size: report style not applied"
    small = [round(s, 1) for s in sizes if s < MIN_CHART_TEXT_PX]
    assert small == [], f"chart text below {MIN_CHART_TEXT_PX}px at 1280px: {small} (all: {sorted(sizes)[:3]}…)"


def _local(resolved: str) -> Path:
    return Path(url2pathname(urlsplit(resolved).path))


def test_reports_and_index_link_both_ways(chromium, run_dir, branch):
    index = run_dir / "index.html"
    with bw.open_page(chromium, index, width=WIDTHS["laptop"]) as (page, visit):
        links = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
        figures = page.evaluate("() => [...document.querySelectorAll('#key-figures a.value')].map(a => a.href)")
    reports = {_local(h).resolve() for h in links if h.endswith(".html")}
    for notebook in NOTEBOOKS:
        assert (run_dir / branch / f"{notebook}.html").resolve() in reports
    assert figures, "no key figure links to its report"
    for href in figures:  # each figure opens its report at an existing section
        target, anchor = href.split("#", 1) if "#" in href else (href, "")
        assert anchor, f"{href} links to a report but not to a section"
        text = _local(target).read_text(encoding="utf-8")
        assert f'id="{anchor}"' in text or f'id="{unquote(anchor)}"' in text, href
    for notebook in NOTEBOOKS:
        report = run_dir / branch / f"{notebook}.html"
        with bw.open_page(chromium, report, width=WIDTHS["laptop"]) as (page, visit):
            up = page.evaluate("() => [...document.querySelectorAll('a[rel=up]')].map(a => a.href)")
            downloads = page.evaluate(
                "() => [...document.querySelectorAll('.fk-downloads a[download]')].map(a => a.href)"
            )
            title = page.title()
        assert up and {_local(h).resolve() for h in up} == {index.resolve()}
        assert any(h.endswith(".xlsx") for h in downloads) and any(h.endswith(".csv") for h in downloads)
        assert [h for h in downloads if not _local(h).is_file()] == []
        assert "分公司 · " in title and notebook not in title  # branch and the report's name, in Chinese


# --- the checks themselves catch what they are for ---------------------------------------

WIDE = "<table><tr>" + '<td style="white-space: nowrap">一二三四五六七八九十</td>' * 20 + "</tr></table>"
DOT = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
GUARDED = f"""<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<div id="bare">{WIDE}</div><div style="overflow-x: auto">{WIDE}</div>
<img style="width: 1500px" src="data:image/png;base64,{DOT}"></body></html>"""


def test_the_layout_checks_catch_a_bare_wide_table_and_a_cut_image(chromium, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(GUARDED, encoding="utf-8")
    with bw.open_page(chromium, bad, width=WIDTHS["laptop"]) as (page, visit):
        unscrollable = bw.unscrollable_tables(page)
        unpinned = bw.unpinned_label_columns(page, "table")
        page.emulate_media(media="print")
        page.set_viewport_size({"width": bw.A4_CONTENT_WIDTH, "height": 1000})
        cut = bw.cut_in_print(page)
    assert len(unscrollable) == 1 and unscrollable[0].startswith("table 0 (20 columns)")
    assert len(unpinned) == 2  # both scroll (or overflow) without a pinned first column
    # on paper a scroll box clips: both tables are cut, and the image
    assert [line.split(" ")[0] for line in cut] == ["table.", "table.", "img."]
