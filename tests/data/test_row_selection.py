"""Rows an analysis selects by a coded column (``load_table(..., rows=...)``), and equality
filters, read inside DuckDB and Parquet the way validation reads the cells: the branch's own
labels count, broken cells are still named, and every source gives the same rows."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from funnelkit.data import load_table
from funnelkit.exceptions import DataValidationError

# Stages written three ways (a key, the Chinese label, the branch's own label via aliases) and
# with stray spaces; a lead of another branch at a deal stage.
LEADS = pd.DataFrame(
    {
        "branch": ["甲", "甲", "甲", "甲", "甲", "甲", "乙"],
        "lead_id": ["L1", "L2", "L3", "L4", "L5", "L6", "L7"],
        "created_date": pd.to_datetime(["2006-01-05"] * 7),
        "segment": ["政企", "大客户", "家庭", "政企 ", "大客户", "家庭", "政企"],
        "stage": ["target", "意向客户", " intent", "已签约", "contacted", "潜在客户", "intent"],
        "outcome": ["lost", "open", "lost", "won", "lost", "open", "lost"],
        "region": "城区",
        "industry": "零售",
        "product_line": "宽带",
        "owner": "王",
        "amount": 100.0,
    }
)
ALIASES = {"stage": {"已签约": "signed"}, "segment": {"大客户": "政企"}}
DEALS = {"stage": ("contacted", "intent", "signed", "installed", "paying", "effective")}


@pytest.fixture(params=["duckdb", "parquet", "csv"])
def source(request, tmp_path):
    """The same leads as a DuckDB file, a Parquet file and a CSV file."""
    if request.param == "csv":
        LEADS.to_csv(tmp_path / "leads.csv", index=False)
        return str(tmp_path)
    if request.param == "parquet":
        LEADS.to_parquet(tmp_path / "leads.parquet", index=False)
        return str(tmp_path)
    path = tmp_path / "leads.duckdb"
    with duckdb.connect(str(path)) as con:
        con.register("frame", LEADS)
        con.execute("CREATE TABLE leads AS SELECT * FROM frame")
    return str(path)


def test_selected_rows_are_those_whose_code_is_chosen_after_aliases(source):
    deals = load_table("leads", branch="甲", source=source, aliases=ALIASES, rows=DEALS)
    assert deals["lead_id"].tolist() == ["L2", "L3", "L4", "L5"]
    assert deals["stage"].tolist() == ["intent", "intent", "signed", "contacted"]


def test_an_equality_filter_reads_the_branchs_own_labels_too(source):
    rows = load_table("leads", branch="甲", source=source, aliases=ALIASES, filters={"segment": "政企"})
    assert rows["lead_id"].tolist() == ["L1", "L2", "L4", "L5"]


def test_filter_and_selection_together_keep_what_both_accept(source):
    rows = load_table("leads", branch="甲", source=source, aliases=ALIASES, filters={"segment": "政企"}, rows=DEALS)
    assert rows["lead_id"].tolist() == ["L2", "L4", "L5"]


def test_selection_with_only_some_columns_reads_the_selected_column_too(source):
    rows = load_table("leads", branch="甲", source=source, aliases=ALIASES, rows=DEALS, columns=["outcome"])
    assert list(rows.columns) == ["stage", "outcome"]
    assert rows["outcome"].tolist() == ["open", "lost", "won", "lost"]


def test_a_broken_cell_of_the_selected_column_is_still_named(tmp_path):
    broken = LEADS.assign(stage=LEADS["stage"].where(LEADS["lead_id"] != "L6", "不知道"))
    path = tmp_path / "leads.duckdb"
    with duckdb.connect(str(path)) as con:
        con.register("frame", broken)
        con.execute("CREATE TABLE leads AS SELECT * FROM frame")
    with pytest.raises(DataValidationError) as raised:
        load_table("leads", branch="甲", source=str(path), aliases=ALIASES, rows=DEALS)
    (problem,) = raised.value.problems
    assert (problem.row, problem.value, problem.rule) == (6, "不知道", "unknown stage label")  # sixth row of the table


def test_no_row_selected_is_an_empty_frame_not_a_missing_branch(source):
    none = load_table("leads", branch="甲", source=source, aliases=ALIASES, rows={"stage": ("paying",)})
    assert none.empty and "lead_id" in none.columns
