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
        'lang: zh\nsource: ""\nfiles: {}\nstages: []\nas_of: ""\nsmoke:\n  greeting: 你好\n', encoding="utf-8")
    return tmp_path
