"""Funnel stages, rates, losses and data quality on small hand-computed frames."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from funnelkit import funnel
from funnelkit.funnel_report import funnel_counts

STAGES = [{"key": "a", "zh": "甲", "en": "A"}, {"key": "b", "zh": "乙", "en": "B"}, {"key": "c", "zh": "丙", "en": "C"}]


@pytest.fixture
def counts():
    # 2005: x 100 → 50 → 20, y 60 → 30 → 6;  2006: x 120 → 60 → 30, y 50 → 30 → 10
    return pd.DataFrame({"period": ["2005"] * 6 + ["2006"] * 6, "segment": (["x"] * 3 + ["y"] * 3) * 2,
                         "stage": ["a", "b", "c"] * 4, "count": [100, 50, 20, 60, 30, 6, 120, 60, 30, 50, 30, 10]})


def _row(table, **where):
    mask = np.logical_and.reduce([table[k] == v for k, v in where.items()])
    assert mask.sum() == 1
    return table[mask].iloc[0]


def test_stage_rates_by_hand(counts):
    table = funnel.stage_table(counts, stages=STAGES)
    # whole branch 2005: a = 100 + 60 = 160, b = 80, c = 26; conversion c from b = 26 / 80 = 0.325,
    # from the first stage 26 / 160 = 0.1625
    c = _row(table, period="2005", is_total=True, stage="c")
    assert c["count"] == 26 and c["prev_count"] == 80
    assert c["conv_prev"] == pytest.approx(0.325)
    assert c["conv_first"] == pytest.approx(0.1625)
    assert c["segment"] == "全部" and c["stage_label"] == "丙"
    # segment y 2006: b / a = 30 / 50 = 0.6
    assert _row(table, period="2006", segment="y", stage="b")["conv_prev"] == pytest.approx(0.6)
    assert funnel.stage_table(counts, stages=STAGES, lang="en")["segment"].iloc[-1] == "All"


def test_wilson_interval_matches_scipy(counts):
    table = funnel.stage_table(counts, stages=STAGES)
    b = _row(table, period="2006", is_total=True, stage="b")  # 90 of 170
    ci = binomtest(90, 170).proportion_ci(method="wilson")
    assert (b["conv_prev_low"], b["conv_prev_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_transition_losses_by_hand(counts):
    steps = funnel.transition_table(funnel.stage_table(counts, stages=STAGES), stages=STAGES)
    ab = _row(steps, period="2006", is_total=True, transition="a>b")
    # 170 enter, 90 go on: 80 lost, loss rate 80 / 170
    assert ab["lost"] == 80 and ab["loss_rate"] == pytest.approx(80 / 170)
    assert ab["transition_label"] == "甲→乙"
    ci = binomtest(80, 170).proportion_ci(method="wilson")
    assert (ab["loss_low"], ab["loss_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert not ab["too_few"]
    # segment y 2006 b→c: 30 enter (< 30 is too few; 30 is enough), 10 go on
    assert not _row(steps, period="2006", segment="y", transition="b>c")["too_few"]
    small = funnel.transition_table(funnel.stage_table(counts, stages=STAGES, min_group=31), stages=STAGES)
    assert _row(small, period="2006", segment="y", transition="b>c")["too_few"]


def _leads(rows):
    """rows: (period, segment, furthest stage) per lead."""
    return pd.DataFrame({"lead_id": [f"L{i}" for i in range(len(rows))],
                         "created_date": pd.to_datetime([f"{p}-06-01" for p, _, _ in rows]),
                         "segment": [s for _, s, _ in rows], "stage": [k for _, _, k in rows],
                         "outcome": "lost", "amount": np.nan})


def test_leads_and_counts_give_the_same_tables():
    # 2005 x: furthest a, a, b, c, c → a 5, b 3, c 2;  2006 x: furthest b, c → a 2, b 2, c 1
    leads = _leads([("2005", "x", "a"), ("2005", "x", "a"), ("2005", "x", "b"), ("2005", "x", "c"),
                    ("2005", "x", "c"), ("2006", "x", "b"), ("2006", "x", "c")])
    from_leads = funnel.counts_from_leads(leads, stages=STAGES)
    assert from_leads["count"].tolist() == [5, 3, 2, 2, 2, 1]
    given = pd.DataFrame({"branch": "杭州分公司", "period": ["2005"] * 3 + ["2006"] * 3, "segment": "x",
                          "stage": ["c", "b", "a", "a", "b", "c"], "count": [2, 3, 5, 2, 2, 1]})
    from_counts = funnel_counts(leads=None, stage_counts=given, stages=STAGES)
    pd.testing.assert_frame_equal(from_leads, from_counts, check_dtype=False)
    pd.testing.assert_frame_equal(funnel.stage_table(from_leads, stages=STAGES),
                                  funnel.stage_table(from_counts, stages=STAGES), check_dtype=False)
    assert funnel_counts(leads=leads, stage_counts=given, source="counts", stages=STAGES)["count"].tolist() == \
        [5, 3, 2, 2, 2, 1]


def test_funnel_counts_rejects_bad_source():
    from funnelkit.exceptions import FunnelkitError

    with pytest.raises(FunnelkitError, match="auto"):
        funnel_counts(leads=None, stage_counts=None, source="both")
    with pytest.raises(FunnelkitError, match="neither"):
        funnel_counts(leads=None, stage_counts=None)


def test_data_quality_finds_rising_missing_and_mismatch(counts):
    broken = counts.copy()
    broken.loc[(broken["period"] == "2005") & (broken["segment"] == "x") & (broken["stage"] == "c"), "count"] = 70
    broken = broken[~((broken["period"] == "2006") & (broken["segment"] == "y") & (broken["stage"] == "b"))]
    # a total row for 2006 stage a: the segments add to 120 + 50 = 170, the source says 175
    broken = pd.concat([broken, pd.DataFrame({"period": ["2006"], "segment": ["合计"], "stage": ["a"],
                                              "count": [175]})])
    problems = funnel.data_quality(broken, stages=STAGES)
    rising = problems[problems["kind"] == "rising"]
    assert rising[["period", "segment", "stage", "expected", "found"]].values.tolist() == [["2005", "x", "c", 50, 70]]
    missing = problems[problems["kind"] == "missing_stage"]
    assert [("2006", "y", "b")] == list(missing[missing["segment"] == "y"][["period", "segment", "stage"]]
                                         .itertuples(index=False, name=None))
    mismatch = problems[problems["kind"] == "total_mismatch"]
    assert mismatch[["period", "stage", "expected", "found"]].values.tolist() == [["2006", "a", 170, 175]]
    messages = funnel.quality_messages(problems, stages=STAGES)
    assert any("70" in m and "50" in m for m in messages)
    assert funnel.data_quality(counts, stages=STAGES).empty
    # the missing stage stays empty in the whole-branch total instead of being undercounted
    table = funnel.stage_table(broken, stages=STAGES)
    assert pd.isna(_row(table, period="2006", is_total=True, stage="b")["count"])
    assert _row(table, period="2006", is_total=True, stage="a")["count"] == 170  # the 合计 row is not counted


def test_rising_counts_get_no_interval():
    counts = pd.DataFrame({"period": "2006", "segment": "x", "stage": ["a", "b", "c"], "count": [10, 12, 5]})
    b = _row(funnel.stage_table(counts, stages=STAGES), segment="x", stage="b")
    assert b["conv_prev"] == pytest.approx(1.2) and np.isnan(b["conv_prev_low"])


def test_periods(counts):
    assert funnel.current_period(counts) == "2006"
    assert funnel.previous_period(counts, "2006") == "2005"
    assert funnel.previous_period(counts, "2005") is None
    with pytest.raises(Exception, match="2007"):
        funnel.current_period(counts, "2007")
