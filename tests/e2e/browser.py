"""Headless-Chromium helpers for the browser tests: launch Debian's chromium through
Playwright, open a local page with the network cut off, and collect what went wrong.

Only ``file://`` and ``data:`` URLs may load. Everything else is aborted and recorded; the
host resolver is also pointed at nothing, so a request that slips past the route (a
browser-internal one) still cannot leave the machine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SKIP_REASON = "BROWSER TESTS SKIPPED: chromium not installed — run scripts/install-browser.sh as root"

# Flags that stop chromium's own background traffic (updates, sync, field trials, QUIC).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]

LOCAL_SCHEMES = ("file:", "data:")

# Families the report and index stylesheets put first for Chinese text.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
    "Hiragino Sans GB",
    "WenQuanYi Micro Hei",
)
HAN = re.compile(r"[\u4e00-\u9fff]")


def find_chromium() -> str | None:
    """Path of Debian's chromium, or None when it is not installed."""
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


def launch(playwright, executable: str):
    """Start headless chromium (Playwright gives it a fresh temporary profile)."""
    return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)


def chinese_fonts_installed() -> bool | None:
    """True/False from ``fc-list :lang=zh``; None when fontconfig's fc-list is missing."""
    if shutil.which("fc-list") is None:
        return None
    listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


@dataclass
class Visit:
    """What one page did while it loaded: requests that tried to leave the machine,
    console errors and uncaught exceptions."""

    url: str
    outside_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per problem, empty when the page is clean."""
        return (
            [f"outside request: {u}" for u in self.outside_requests]
            + [f"console error: {m}" for m in self.console_errors]
            + [f"page error: {m}" for m in self.page_errors]
        )


def _guard(route, visit: Visit) -> None:
    url = route.request.url
    if url.startswith(LOCAL_SCHEMES):
        route.continue_()
    else:
        visit.outside_requests.append(url)
        route.abort("blockedbyclient")


@contextmanager
def open_page(browser, path: Path, *, width: int, height: int = 900):
    """Open ``path`` in a fresh context ``width`` pixels wide, offline; yield (page, Visit).

    Every non-local request is aborted and logged, service workers are blocked, and web
    sockets (which routes do not see) are logged too.
    """
    url = Path(path).resolve().as_uri()
    visit = Visit(url)
    context = browser.new_context(viewport={"width": width, "height": height}, service_workers="block")
    try:
        context.route("**/*", lambda route: _guard(route, visit))
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and visit.console_errors.append(m.text))
        page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
        page.on("websocket", lambda ws: visit.outside_requests.append(ws.url))
        page.goto(url, wait_until="load")
        yield page, visit
    finally:
        context.close()


def broken_images(page) -> list[str]:
    """``src`` (first 80 characters) of every ``img`` that did not load."""
    return page.evaluate(
        "() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
        ".map(i => (i.currentSrc || i.src || '(no src)').slice(0, 80))"
    )


def image_count(page) -> int:
    return page.evaluate("() => document.images.length")


def page_overflow(page) -> int:
    """Pixels by which the page is wider than the window (0 = no sideways scrolling)."""
    return page.evaluate("() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


def heading(page) -> tuple[str, str]:
    """Text and computed ``font-family`` of the first ``h1`` (empty strings if none)."""
    return tuple(
        page.evaluate(
            "() => { const h = document.querySelector('h1');"
            " return h ? [h.textContent.trim(), getComputedStyle(h).fontFamily] : ['', '']; }"
        )
    )


def first_family(font_family: str) -> str:
    return font_family.split(",")[0].strip().strip("\"'")


def rendered_fonts(page, selector: str) -> list[str]:
    """Families chromium actually drew ``selector``'s text with (DevTools protocol), so a
    missing font shows up even when the CSS names it."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return [f["familyName"] for f in fonts]


def screenshot(page, folder: Path, name: str) -> Path:
    """Full-page PNG ``folder/name.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    return target


# --- layout: tables that fit or scroll, print, chart text ---------------------------------

#: A4 portrait minus the 10 mm side margins of the stylesheets' ``@page``, in CSS pixels.
A4_CONTENT_WIDTH = round((210 - 2 * 10) / 25.4 * 96)


def unscrollable_tables(page) -> list[str]:
    """Tables wider than their box with no scroll affordance: no ancestor that scrolls
    sideways (``overflow-x: auto|scroll``) and fits the window. One line per table."""
    return page.evaluate(
        """() => [...document.querySelectorAll('table')].flatMap((t, i) => {
            if (t.getBoundingClientRect().width === 0) return [];
            const box = t.parentElement;
            if (t.scrollWidth <= box.clientWidth + 1) return [];
            for (let e = box; e && e !== document.body; e = e.parentElement) {
                const o = getComputedStyle(e).overflowX;
                if ((o === 'auto' || o === 'scroll') && e.getBoundingClientRect().right <= window.innerWidth + 1)
                    return [];
            }
            const columns = t.rows[0] ? t.rows[0].cells.length : 0;
            return [`table ${i} (${columns} columns): ${t.scrollWidth}px in a ${box.clientWidth}px box`];
        })"""
    )


def unpinned_label_columns(page, selector: str = "table.fk-table") -> list[str]:
    """Tables that scroll sideways although their label (first) column is not pinned."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].flatMap((t, i) => {
            const box = t.parentElement;
            if (t.scrollWidth <= box.clientWidth + 1) return [];
            const first = t.querySelector('tbody tr td:first-child, tbody tr th:first-child');
            return first && getComputedStyle(first).position === 'sticky' ? [] : [`table ${i}`];
        })""",
        selector,
    )


def cut_in_print(page) -> list[str]:
    """Elements reaching past the page's right edge in the current (print) layout: on paper
    they are cut. One line per outermost such element."""
    return page.evaluate(
        """() => { const W = document.documentElement.clientWidth; const out = [];
            for (const e of document.querySelectorAll('body *')) {
                const r = e.getBoundingClientRect();
                if (r.width === 0 || r.right <= W + 1) continue;
                if (out.some(o => o.el.contains(e))) continue;
                const name = `${e.tagName.toLowerCase()}.${e.className}`;
                out.push({el: e, text: `${name} right edge ${Math.round(r.right)}px > ${W}px`});
            }
            return out.map(o => o.text); }"""
    )


def chart_images(page) -> list[dict]:
    """Every inline PNG chart: its ``src`` (a data URI) and the width it is drawn at."""
    return page.evaluate(
        """() => [...document.images].filter(i => i.src.startsWith('data:image/png'))
            .map(i => ({src: i.src, shown: i.getBoundingClientRect().width}))"""
    )


def smallest_text_px(src: str, shown_width: float) -> float | None:
    """Height in CSS pixels of the smallest text in a chart as drawn: the smallest font size
    (points, written into the PNG by the report style) at the PNG's dpi, scaled by the
    width the page gives the image against the PNG's own width. None when the PNG does not
    say its smallest font."""
    import base64
    import io

    from PIL import Image

    from funnelkit.report.style import MIN_FONT_KEY

    image = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    points = image.info.get(MIN_FONT_KEY)
    if points is None:
        return None
    dpi = image.info.get("dpi", (72, 72))[0]
    return float(points) * dpi / 72 * shown_width / image.width
