"""The latest date in a branch's data (a report's data-as-of date): counted inside DuckDB
when nothing there would fail validation, else read and checked as ever."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from funnelkit.data import loading
from funnelkit.data.loading import latest_dates
from funnelkit.data.schema import date_columns
from funnelkit.exceptions import DataValidationError
from funnelkit.parameters import Params
from tests.conftest import ROOT

DEMO = ROOT / "data" / "demo.duckdb"


@pytest.mark.skipif(not DEMO.exists(), reason="needs the demo database (make demo)")
@pytest.mark.parametrize("branch", ["杭州分公司", "温州分公司"])
def test_counted_in_duckdb_the_dates_are_those_read_and_checked(branch, monkeypatch):
    counted = latest_dates(Params(branch=branch), "leads")
    assert loading._latest_counted(Params(branch=branch), "leads", date_columns("leads")) is not None
    monkeypatch.setattr(loading, "_latest_counted", lambda *_: None)
    read = latest_dates(Params(branch=branch), "leads")
    pd.testing.assert_frame_equal(counted, read)
    assert counted["created_date"].iloc[0] > pd.Timestamp("2006-01-01")


def _database(tmp_path, created, lost):
    """Two leads of branch 甲 (and one of 乙, created later) with every required column; no
    stage dates; created as DATE, lost as TIMESTAMP."""
    path = tmp_path / "leads.duckdb"
    frame = pd.DataFrame(
        {
            "branch": ["甲", "甲", "乙"],
            "lead_id": ["L1", "L2", "L3"],
            "created_date": pd.to_datetime([*created, "2006-12-31"]),
            "lost_date": pd.to_datetime([*lost, None]),
            **dict.fromkeys(["segment", "region", "industry", "product_line", "owner"], "x"),
            "stage": "target",
            "outcome": "open",
            "amount": 1.0,
        }
    )
    with duckdb.connect(str(path)) as con:
        con.register("frame", frame)
        con.execute("CREATE TABLE leads AS SELECT * REPLACE (CAST(created_date AS DATE) AS created_date) FROM frame")
    return str(path)


def test_the_latest_day_of_each_date_column(tmp_path):
    source = _database(tmp_path, ["2006-01-02", "2006-03-04"], ["2006-05-06 13:00", None])
    latest = latest_dates(Params(branch="甲", source=source), "leads")
    assert latest[["created_date", "lost_date"]].iloc[0].tolist() == [
        pd.Timestamp("2006-03-04"),
        pd.Timestamp("2006-05-06"),
    ]
    assert latest["date_signed"].isna().all()  # a stage date the table lacks


@pytest.mark.parametrize(
    ("created", "lost", "rule"),
    [
        (["2006-01-02", "2999-01-01"], [None, None], "after"),
        (["2006-01-02", "1980-01-01"], [None, None], "before"),
        (["2006-01-02", None], [None, None], "empty"),
    ],
)
def test_a_date_validation_would_refuse_is_still_named(tmp_path, created, lost, rule):
    with pytest.raises(DataValidationError) as raised:
        latest_dates(Params(branch="甲", source=_database(tmp_path, created, lost)), "leads")
    (problem,) = raised.value.problems
    assert problem.row == 2 and "created_date" in problem.column and rule in problem.rule
