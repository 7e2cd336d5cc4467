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
