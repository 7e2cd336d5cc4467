"""The index page and one report of each notebook, opened in headless Chromium with the
network cut off: no request may leave the machine, no console error, no broken image, the
page fits a phone, and the heading is Chinese drawn in a CJK font. Full-page screenshots at
laptop and phone widths go to ``test-results/screenshots/`` for a person to look at.

Runs on the session's real batch (``demo_run``); set ``FUNNELKIT_BROWSER_RUN=outputs/latest``
to test an existing run folder instead (much faster while working on the reports).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pytest

from tests.e2e import browser as bw

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-results" / "screenshots"
NOTEBOOKS = ("funnel", "tiers", "lost", "ltv")
PAGES = ("index", *NOTEBOOKS)
WIDTHS = {"laptop": 1280, "phone": 390}


def page_path(run_dir: Path, branch: str, page: str) -> Path:
    """File of ``page`` ('index' or a notebook name); fails with the batch's own error line
    when the report was not written."""
    path = run_dir / "index.html" if page == "index" else run_dir / branch / f"{page}.html"
    if not path.exists():
        status = _batch_status(run_dir, branch, page)
        pytest.fail(f"{path.relative_to(run_dir)} missing from the run ({status})")
    return path


def _batch_status(run_dir: Path, branch: str, notebook: str) -> str:
    run_json = run_dir / "run.json"
    if not run_json.exists():
        return "no run.json"
    for result in json.loads(run_json.read_text(encoding="utf-8")).get("results", []):
        if result.get("slug") == branch and result.get("notebook") == notebook:
            return f"batch status {result.get('status')}: {result.get('error') or result.get('detail')}"
    return "not in run.json: was the notebook run?"


def shot_name(branch: str, page: str, device: str) -> str:
    return f"index-{device}" if page == "index" else f"{branch}-{page}-{device}"


@pytest.mark.parametrize("device", WIDTHS)
@pytest.mark.parametrize("page_name", PAGES)
def test_page_is_clean_offline(chromium, run_dir, branch, page_name, device):
    """Opens with nothing from another host, no console error, every image drawn, no
    sideways scrolling of the whole page; saves a full-page screenshot."""
    path = page_path(run_dir, branch, page_name)
    with bw.open_page(chromium, path, width=WIDTHS[device]) as (page, visit):
        bw.screenshot(page, SCREENSHOTS, shot_name(branch, page_name, device))
        broken = bw.broken_images(page)
        images = bw.image_count(page)
        overflow = bw.page_overflow(page)
    assert not visit.problems(), "\n".join(visit.problems())
    assert not broken, f"broken images: {broken}"
    if page_name != "index":
        assert images > 0, "a report without a single chart: the plots did not reach the HTML"
    # Wide tables must scroll inside their own box, not drag the whole page sideways.
    assert overflow <= 1, f"page is {overflow}px wider than a {WIDTHS[device]}px window"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_section_heading_is_visible_and_listed(chromium, run_dir, branch, notebook):
    """The notebooks' markdown headings are shown (not hidden with the code) and each entry of
    the contents leads to a visible heading with its lead paragraph."""
    path = page_path(run_dir, branch, notebook)
    with bw.open_page(chromium, path, width=WIDTHS["laptop"]) as (page, visit):
        sections = page.evaluate(
            """() => [...document.querySelectorAll('nav.fk-toc li a')].map(a => {
                const id = a.getAttribute('href').slice(1);
                const h = document.getElementById(id) || document.getElementById(decodeURIComponent(id));
                return [a.textContent, h ? h.getBoundingClientRect().height : -1];
            })"""
        )
    assert len(sections) >= 4
    hidden = [name for name, height in sections if height <= 0]
    assert hidden == [], f"section headings not shown: {hidden}"


@pytest.mark.parametrize("page_name", PAGES)
def test_heading_is_chinese_in_a_cjk_font(chromium, run_dir, branch, page_name):
    """The ``h1`` holds Chinese, its CSS puts a CJK family first and, when the system has a
    Chinese font, Chromium really draws it with a CJK font rather than tofu boxes."""
    path = page_path(run_dir, branch, page_name)
    with bw.open_page(chromium, path, width=WIDTHS["laptop"]) as (page, visit):
        text, font_family = bw.heading(page)
        drawn = bw.rendered_fonts(page, "h1") if text else []
    assert bw.HAN.search(text), f"h1 {text!r} has no Chinese (default lang is zh)"
    assert bw.first_family(font_family) in bw.CJK_FAMILIES, f"h1 font-family starts with a non-CJK font: {font_family}"
    installed = bw.chinese_fonts_installed()
    if installed is None:
        pytest.skip("fc-list missing: cannot tell whether a Chinese font is installed")
    assert installed, "fc-list :lang=zh finds no Chinese font: install fonts-noto-cjk (scripts/install-browser.sh)"
    assert any("CJK" in f or f in bw.CJK_FAMILIES for f in drawn), f"h1 drawn with {drawn}, no CJK font"


def test_index_links_stay_local_and_exist(chromium, run_dir):
    """Every link on the index points at a file of the run (reports, CSVs), not a host."""
    with bw.open_page(chromium, run_dir / "index.html", width=WIDTHS["laptop"]) as (page, visit):
        hrefs = page.evaluate(
            "() => [...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.href])"
        )
    assert hrefs, "the index links to no report"
    outside = [raw for raw, resolved in hrefs if not resolved.startswith("file:")]
    assert not outside, f"links to other hosts: {outside}"
    missing = [raw for raw, resolved in hrefs if not Path(url2pathname(urlsplit(resolved).path)).exists()]
    assert not missing, f"links to files not in the run: {missing}"


# --- the guard itself: a page that misbehaves in every way is caught ---------------------

BAD_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="https://cdn.example.com/require.js"></script></head>
<body><h1>Bad</h1><div style="width: 2000px">too wide</div><img src="missing.png"><img src="http://203.0.113.9/chart.png">
<script>console.error("boom"); fetch("https://api.example.com/t").catch(() => {});
setTimeout(() => { throw new Error("uncaught"); }, 0);</script></body></html>"""


def test_guard_catches_outside_requests_console_errors_and_broken_images(chromium, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(BAD_PAGE, encoding="utf-8")
    with bw.open_page(chromium, bad, width=WIDTHS["phone"]) as (page, visit):
        page.wait_for_timeout(200)  # let the timer's uncaught error fire
        broken = bw.broken_images(page)
        overflow = bw.page_overflow(page)
    assert set(visit.outside_requests) >= {
        "https://cdn.example.com/require.js",
        "http://203.0.113.9/chart.png",
        "https://api.example.com/t",
    }
    assert "boom" in visit.console_errors
    assert any("uncaught" in e for e in visit.page_errors)
    assert len(broken) == 2  # the missing local file and the blocked remote one
    assert overflow == 8 + 2000 - 390  # body's default 8px left margin + the div - the window


def test_guard_passes_a_local_page_with_a_data_image(chromium, tmp_path):
    # 1×1 transparent PNG: a page as the reports are made (inline charts) must come out clean.
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
    good = tmp_path / "good.html"
    good.write_text(
        f'<!DOCTYPE html><html><body><h1>好</h1><img src="data:image/png;base64,{png}"></body></html>', encoding="utf-8"
    )
    with bw.open_page(chromium, good, width=WIDTHS["phone"]) as (page, visit):
        broken = bw.broken_images(page)
        overflow = bw.page_overflow(page)
    assert visit.problems() == [] and broken == [] and overflow == 0
