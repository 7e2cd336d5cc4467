"""Days spent at each stage, their trend and the slowest stage."""

import numpy as np
import pandas as pd
import pytest

from funnelkit.funnel import stage_time as st

STAGES = [
    {"key": "a", "zh": "甲", "en": "A"},
    {"key": "b", "zh": "乙", "en": "B"},
    {"key": "c", "zh": "丙", "en": "C"},
]
D = pd.Timestamp


def _lead(i, outcome, a, b=None, c=None, lost=None):
    return {
        "lead_id": i,
        "created_date": D(a),
        "stage": "c" if c else "b" if b else "a",
        "outcome": outcome,
        "date_a": D(a),
        "date_b": D(b) if b else pd.NaT,
        "date_c": D(c) if c else pd.NaT,
        "lost_date": D(lost) if lost else pd.NaT,
    }


@pytest.fixture
def leads():
    return pd.DataFrame(
        [
            _lead("W", "won", "2006-01-01", b="2006-01-11", c="2006-02-10"),  # a 10, b 30; c not ended
            _lead("S", "won", "2006-01-01", c="2006-01-21"),  # skipped b: a 20
            _lead("L", "lost", "2006-01-05", b="2006-01-06", lost="2006-03-07"),  # a 1, b 60 (lost)
            _lead("O", "open", "2006-01-01", b="2006-01-04"),  # a 3; b still running
            _lead("E", "lost", "2006-02-01", b="2006-01-01", lost="2006-02-02"),  # b before a: a dropped
        ]
    )


def test_stays_by_hand(leads):
    table = st.stays(leads, stages=STAGES)
    got = {(r.lead_id, r.stage): (r.days, r.ended) for r in table.itertuples()}
    assert got == {
        ("W", "a"): (10, "next"),
        ("W", "b"): (30, "next"),
        ("S", "a"): (20, "next"),
        ("L", "a"): (1, "next"),
        ("L", "b"): (60, "lost"),
        ("O", "a"): (3, "next"),
        ("E", "b"): (32, "lost"),
    }


def test_summary_trend_and_slowest(leads):
    table = st.stays(leads, stages=STAGES)
    summary = st.stage_time_summary(table, stages=STAGES, min_group=2).set_index("stage")
    # a: 1, 3, 10, 20 → median 6.5, p75 12.5, p90 17; b: 30, 32, 60 → median 32; c: none
    assert summary.loc["a", ["stays", "median_days", "p75_days", "p90_days"]].tolist() == pytest.approx(
        [4, 6.5, 12.5, 17]
    )
    assert summary.at["b", "median_days"] == 32 and summary.at["c", "stays"] == 0 and summary.at["c", "too_few"]
    assert st.slowest_stage(summary.reset_index())["stage"] == "b"
    # with min_group 4 only a is judged
    assert st.slowest_stage(st.stage_time_summary(table, stages=STAGES, min_group=4))["stage"] == "a"
    trend = st.stage_time_trend(table).set_index(["stage", "month"])
    # a ended in January: W 01-11, S 01-21, L 01-06, O 01-04 → median (1, 3, 10, 20) = 6.5
    assert trend.loc[("a", "2006-01"), "median_days"] == 6.5
    assert trend.loc[("b", "2006-02"), "stays"] == 2 and trend.loc[("b", "2006-03"), "median_days"] == 60


def test_no_stays_no_slowest():
    empty = st.stays(pd.DataFrame([_lead("O", "open", "2006-01-01")]), stages=STAGES)
    assert empty.empty
    assert st.slowest_stage(st.stage_time_summary(empty, stages=STAGES, min_group=1)) is None
    assert np.isnan(st.stage_time_summary(empty, stages=STAGES, min_group=1)["median_days"]).all()
