"""A notebook's filters (segment, region, product line, period) applied when loading."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from funnelkit.data import load_peers, load_table, load_tables
from funnelkit.parameters import Params, filter_param
from tests.conftest import ROOT

DEMO = ROOT / "data" / "demo.duckdb"

COUNTS = (
    "branch,period,segment,stage,count\n"
    "甲,2005,政企,target,10\n甲,2005,家庭,target,7\n甲,2006,政企,target,4\n甲,2006,家庭,target,3\n"
    "乙,2006,政企,target,9\n"
)


def _counts(tmp_path):
    (tmp_path / "stage_counts.csv").write_text(COUNTS, encoding="utf-8")
    return str(tmp_path)


def test_filters_cut_a_file_to_the_rows_asked_for(tmp_path):
    source = _counts(tmp_path)
    rows = load_table("stage_counts", branch="甲", source=source, filters={"segment": "政企", "period": "2006"})
    assert rows["count"].tolist() == [4]
    rows = load_table("stage_counts", branch="甲", source=source, filters={"period": "2005-2006", "segment": ""})
    assert rows["count"].sum() == 24


def test_a_table_without_the_column_is_read_whole_and_says_so(tmp_path):
    rows = load_table("stage_counts", branch="甲", source=_counts(tmp_path), filters={"region": "城区"})
    assert rows["count"].sum() == 24
    (warning,) = rows.attrs["data_warnings"]
    assert warning.column == "region" and "城区" in warning.text("zh") and "region" in warning.text("en")


def test_peers_are_cut_to_the_same_segment_and_years(tmp_path):
    @dataclass_frozen
    class P(Params):
        segment: str = filter_param("segment", "segment")
        period: str = filter_param("period", "years")

    peers = load_peers(P(branch="甲", source=_counts(tmp_path), segment="政企", period="2006"))
    assert sorted(zip(peers["branch"], peers["count"])) == [("乙", 9), ("甲", 4)]


def dataclass_frozen(cls):
    from dataclasses import dataclass

    return dataclass(frozen=True)(cls)


@pytest.mark.skipif(not DEMO.exists(), reason="needs the demo database (make demo)")
def test_demo_database_filters_are_pushed_into_duckdb_and_exact():
    @dataclass_frozen
    class P(Params):
        segment: str = filter_param("segment", "segment")
        product_line: str = filter_param("product_line", "product line")
        period: str = filter_param("period", "years")

    with duckdb.connect(str(DEMO), read_only=True) as con:
        segment, product = con.execute(
            "SELECT segment, product_line FROM leads WHERE branch = '杭州分公司' "
            "GROUP BY ALL ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        expected = con.execute(
            "SELECT count(*) FROM leads WHERE branch = '杭州分公司' AND segment = ? "
            "AND product_line = ? AND year(created_date) = 2005",
            [segment, product],
        ).fetchone()[0]
    params = P(branch="杭州分公司", segment=segment, product_line=product, period="2005")
    leads = load_tables(params, ["leads"])["leads"]
    assert len(leads) == expected > 0
    assert set(leads["segment"]) == {segment} and set(leads["product_line"]) == {product}
    assert set(pd.DatetimeIndex(leads["created_date"]).year) == {2005}
