"""Fixtures of the browser tests: one headless Chromium and the run folder under test,
shared by every browser test module of the session."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from tests.e2e import browser as bw

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ("funnel", "tiers", "lost", "ltv")


def _skip_loudly(reason: str) -> None:
    """Skip with a warning in the summary; fail instead where the browser is required (CI)."""
    if os.environ.get("FUNNELKIT_REQUIRE_BROWSER"):
        pytest.fail(reason.replace("SKIPPED", "FAILED") + " (FUNNELKIT_REQUIRE_BROWSER is set)")
    warnings.warn(reason, pytest.PytestWarning, stacklevel=2)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium shared by every browser test; skips loudly when it cannot start."""
    executable = bw.find_chromium()
    if executable is None:
        _skip_loudly(bw.SKIP_REASON)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_loudly("BROWSER TESTS SKIPPED: the Python package playwright is missing — run make install")
    playwright = sync_playwright().start()
    try:
        browser = bw.launch(playwright, executable)
    except Exception as error:  # any launch failure means "no usable browser here"
        playwright.stop()
        _skip_loudly(
            f"BROWSER TESTS SKIPPED: {executable} would not start ({str(error).splitlines()[0]})"
            " — run scripts/install-browser.sh as root"
        )
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="session")
def run_dir(request, chromium) -> Path:
    """The run folder under test: ``$FUNNELKIT_BROWSER_RUN`` if set, else the session batch.
    Depends on ``chromium`` so a machine without a browser skips before running the batch."""
    given = os.environ.get("FUNNELKIT_BROWSER_RUN")
    if given:
        folder = Path(given) if Path(given).is_absolute() else ROOT / given
        if not (folder / "index.html").exists():
            pytest.fail(f"FUNNELKIT_BROWSER_RUN={given}: no index.html in {folder}")
        return folder.resolve()
    return request.getfixturevalue("demo_run").run_dir


@pytest.fixture(scope="session")
def branch(run_dir: Path) -> str:
    """The branch whose reports are opened: the first one in the run that has any report."""
    candidates = sorted(p.parent.name for p in run_dir.glob(f"*/{NOTEBOOKS[0]}.html"))
    candidates = candidates or sorted(p.parent.name for p in run_dir.glob("*/*.html"))
    if not candidates:
        pytest.fail(f"no branch report in {run_dir}")
    return candidates[0]
