"""Days spent at each stage, their trend and the slowest stage."""

import numpy as np
import pandas as pd
import pytest

from funnelkit.funnel import lead_arrays
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


def _counted(table):
    """Per-stay rows counted by stage, month ended and days: what stay_counts must give."""
    return (
        table.assign(month=pd.DatetimeIndex(table["left"]).strftime("%Y-%m"))
        .groupby(["stage_index", "stage", "month", "days"])
        .size()
        .rename("stays")
        .reset_index()
    )


def test_stay_counts_by_hand(leads):
    counted = st.stay_counts(leads, stages=STAGES)
    got = {(r.stage, r.month, r.days): r.stays for r in counted.itertuples()}
    assert got == {
        ("a", "2006-01", 1): 1,
        ("a", "2006-01", 3): 1,
        ("a", "2006-01", 10): 1,
        ("a", "2006-01", 20): 1,
        ("b", "2006-02", 30): 1,
        ("b", "2006-02", 32): 1,
        ("b", "2006-03", 60): 1,
    }
    pd.testing.assert_frame_equal(
        st.stage_time_summary(counted, stages=STAGES, min_group=2),
        st.stage_time_summary(st.stays(leads, stages=STAGES), stages=STAGES, min_group=2),
    )


@pytest.fixture(scope="module")
def demo_leads():
    from funnelkit.data.loading import load_tables
    from funnelkit.funnel import Params

    return load_tables(Params(branch="杭州分公司"), ["leads"])["leads"]


def test_counted_stays_give_the_per_stay_figures_on_the_demo(demo_leads):
    per_stay = st.stays(demo_leads)
    counted = st.stay_counts(demo_leads)
    pd.testing.assert_frame_equal(counted, _counted(per_stay)[st.COUNT_COLUMNS], check_dtype=False)
    # the figures of the per-stay rows, computed as pandas groups them
    grouped = per_stay.groupby("stage")["days"]
    summary = st.stage_time_summary(counted, min_group=30).set_index("stage")
    for name, q in st.QUANTILES.items():
        pd.testing.assert_series_equal(
            summary[name].dropna(), grouped.quantile(q).reindex(summary.index).dropna(), check_names=False
        )
    month = pd.DatetimeIndex(per_stay["left"]).strftime("%Y-%m")
    medians = per_stay.assign(month=month).groupby(["stage", "month"])["days"].median()
    trend = st.stage_time_trend(counted).set_index(["stage", "month"])["median_days"]
    pd.testing.assert_series_equal(trend.sort_index(), medians.sort_index(), check_names=False)


@pytest.mark.parametrize("block", [1, 997, 4001])
def test_stays_counted_in_blocks_of_leads_are_those_counted_at_once(demo_leads, leads, monkeypatch, block):
    """A (stage, month, days) found in several blocks of leads is summed: the same table."""
    whole = st.stay_counts(demo_leads), st.stay_counts(leads, stages=STAGES)
    monkeypatch.setattr(st, "STAY_BLOCK", block)
    pd.testing.assert_frame_equal(st.stay_counts(leads, stages=STAGES), whole[1])
    if block > 1:  # one lead at a time over the demo's thousands is slow, not different
        pd.testing.assert_frame_equal(st.stay_counts(demo_leads), whole[0])


@pytest.mark.parametrize("seed", range(5))
def test_weighted_quantiles_equal_pandas_on_the_repeated_values(seed):
    rng = np.random.default_rng(seed)
    days = rng.choice(np.arange(0, 400, dtype=float), size=rng.integers(1, 60), replace=False)
    weights = rng.integers(1, 50, size=len(days))
    repeated = pd.Series(np.repeat(days, weights))
    groups = pd.DataFrame({"g": 0, "d": repeated}).groupby("g")["d"]
    for q in (0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        assert st.weighted_quantile(days, weights, q) == groups.quantile(q).iloc[0]
    assert st.weighted_median(days, weights) == groups.median().iloc[0]
    assert np.isnan(st.weighted_quantile(days[:0], weights[:0], 0.5))


def _pandas_counts(month, days):
    return pd.DataFrame({"month": month, "days": days}).value_counts(sort=False).rename("stays").reset_index()


def _sorted(table):
    return table.sort_values(["month", "days"], ignore_index=True)


def test_counting_by_integer_key_matches_pandas():
    # whole days, months before and after 1970: the bincount path
    month = np.array(["1969-11", "2006-01", "1969-11", "2006-01", "2006-03", "1969-11"], dtype="datetime64[M]")
    days = np.array([3.0, 0.0, 3.0, 45.0, 0.0, 2.0])
    counted = st._counted(month, days)
    assert {(str(m)[:7], d, n) for m, d, n in counted.itertuples(index=False)} == {
        ("1969-11", 2.0, 1),
        ("1969-11", 3.0, 2),
        ("2006-01", 0.0, 1),
        ("2006-01", 45.0, 1),
        ("2006-03", 0.0, 1),
    }
    pd.testing.assert_frame_equal(_sorted(counted), _sorted(_pandas_counts(month, days)))


@pytest.mark.parametrize("days", [[0.5, 1.0, 0.5], [1.0, 40_000.0, 1.0], []])
def test_fractional_days_a_vast_span_or_none_are_counted_by_pandas(days, monkeypatch):
    monkeypatch.setattr(st, "COUNT_CELLS", 1000)  # 40,000 days × 1 month is too many cells
    days = np.array(days)
    month = np.full(len(days), np.datetime64("2006-01", "M"))
    counted = st._counted(month, days)
    pd.testing.assert_frame_equal(_sorted(counted), _sorted(_pandas_counts(month, days)))
    assert counted["stays"].sum() == len(days)


def test_close_days_given_are_those_used(leads):
    keys = ["a", "b", "c"]
    closed = lead_arrays.close_days(leads, keys)
    pd.testing.assert_frame_equal(
        st.stay_counts(leads, stages=STAGES, closed=closed), st.stay_counts(leads, stages=STAGES)
    )
    # lead L lost on 2006-03-07 after 60 days at b; moved to 2006-04-06 it stays 90
    later = np.where(leads["lead_id"].eq("L").to_numpy(), np.datetime64("2006-04-06", "ns"), closed)
    counted = st.stay_counts(leads, stages=STAGES, closed=later)
    assert counted.loc[counted["stage"].eq("b"), "days"].tolist() == [30.0, 32.0, 90.0]
