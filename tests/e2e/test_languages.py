"""Computation speaks in codes: a report in English saves exactly the tables of the Chinese one."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def english_run(tmp_path_factory, demo_run, monkeypatch_module):
    from funnelkit.batch.runner import run_batch

    project = tmp_path_factory.mktemp("english")
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    (project / "params").mkdir()
    (project / "outputs").mkdir()
    shutil.copy(ROOT / "params" / "hangzhou.yaml", project / "params" / "hangzhou.yaml")
    defaults = (ROOT / "params" / "defaults.yaml").read_text(encoding="utf-8")
    assert "lang: zh" in defaults
    (project / "params" / "defaults.yaml").write_text(defaults.replace("lang: zh", "lang: en", 1), encoding="utf-8")
    monkeypatch_module.setenv("FUNNELKIT_DEMO_DB", str(ROOT / "data" / "demo.duckdb"))
    return run_batch(project_root=project, workers=2)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_every_table_is_the_same_in_both_languages(demo_run, english_run):
    assert not english_run.failed, [r.detail for r in english_run.failed]
    zh = demo_run.run_dir / "hangzhou"
    en = english_run.run_dir / "hangzhou"
    tables = sorted(p.relative_to(zh) for p in zh.glob("*/*.csv"))
    assert len(tables) > 40
    assert tables == sorted(p.relative_to(en) for p in en.glob("*/*.csv"))
    differing = [str(t) for t in tables if (zh / t).read_bytes() != (en / t).read_bytes()]
    assert differing == []
    english_html = (en / "funnel.html").read_text(encoding="utf-8")
    assert "Funnel" in english_html and "客户漏斗诊断" not in english_html
