"""Shared fixtures: a throw-away project folder (params/, notebooks/) for runner tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with the smoke notebook and shared defaults, no branches yet."""
    (tmp_path / "params").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "outputs").mkdir()
    shutil.copy(FIXTURES / "smoke.ipynb", tmp_path / "notebooks" / "smoke.ipynb")
    (tmp_path / "params" / "defaults.yaml").write_text(
        'lang: zh\nsource: ""\nfiles: {}\nstages: []\nas_of: ""\nsmoke:\n  greeting: 你好\n', encoding="utf-8"
    )
    return tmp_path


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """One real batch over every notebook and every branch of the repository, on the demo
    database, in a scratch copy of the project. Shared by the end-to-end tests."""
    import os

    from funnelkit.batch.runner import run_batch

    demo_db = ROOT / "data" / "demo.duckdb"
    if not demo_db.exists():
        pytest.fail("data/demo.duckdb is missing: run the tests with `make test`, which builds it")
    project = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "params", project / "params")
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    (project / "outputs").mkdir()
    previous = os.environ.get("FUNNELKIT_DEMO_DB")
    os.environ["FUNNELKIT_DEMO_DB"] = str(demo_db)
    try:
        yield run_batch(project_root=project, workers=2)
    finally:
        if previous is None:
            os.environ.pop("FUNNELKIT_DEMO_DB", None)
        else:
            os.environ["FUNNELKIT_DEMO_DB"] = previous


def pytest_terminal_summary(terminalreporter):
    """Shout when the browser tests could not run (chromium missing)."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "BROWSER TESTS SKIPPED" in str(r.longrepr)]
    if skipped:
        terminalreporter.section("BROWSER TESTS SKIPPED", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(skipped)} browser tests did not run: chromium not installed"
            " — run scripts/install-browser.sh as root",
            red=True,
            bold=True,
        )
