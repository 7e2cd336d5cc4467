"""A branch's data is its own: one that names files never reads a demo row."""

from __future__ import annotations

import pytest

from funnelkit.data import load_table, load_tables
from funnelkit.data.sources import input_paths
from funnelkit.exceptions import DataSourceError
from funnelkit.parameters import Params
from tests.conftest import ROOT

DEMO = ROOT / "data" / "demo.duckdb"
COUNTS = "branch,period,segment,stage,count\n杭州分公司,2006,政企,target,10\n杭州分公司,2006,政企,potential,4\n"


@pytest.mark.parametrize("demo_present", [True, False])
def test_a_files_only_branch_never_reads_the_demo_database(tmp_path, monkeypatch, demo_present):
    if demo_present and not DEMO.exists():
        pytest.skip("needs the demo database (make demo)")
    monkeypatch.setenv("FUNNELKIT_DEMO_DB", str(DEMO if demo_present else tmp_path / "absent.duckdb"))
    (tmp_path / "counts.csv").write_text(COUNTS, encoding="utf-8")
    params = Params(branch="杭州分公司", files={"stage_counts": str(tmp_path / "counts.csv")})
    tables = load_tables(params, ["stage_counts", "leads", "events", "visits"])
    assert tables["stage_counts"]["count"].tolist() == [10, 4]
    assert tables["leads"] is None and tables["events"] is None and tables["visits"] is None
    assert input_paths(files=params.files) == {tmp_path / "counts.csv"}
    with pytest.raises(DataSourceError, match="not among the branch's files"):
        load_table("customers", branch="杭州分公司", files=params.files)


@pytest.mark.skipif(not DEMO.exists(), reason="needs the demo database (make demo)")
def test_a_branch_naming_no_data_reads_the_demo_database(monkeypatch):
    monkeypatch.setenv("FUNNELKIT_DEMO_DB", str(DEMO))
    assert len(load_table("visits", branch="杭州分公司")) > 0
