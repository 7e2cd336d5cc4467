"""Funnel stages, rates, losses and data quality on small hand-computed frames."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from funnelkit.data.schema import resolve_stages
from funnelkit.funnel import counts as funnel
from funnelkit.funnel.analysis import funnel_counts, notices
from funnelkit.funnel.findings import data_warnings
from funnelkit.funnel.labels import segment_label, stage_label, transition_label

STAGES = [{"key": "a", "zh": "甲", "en": "A"}, {"key": "b", "zh": "乙", "en": "B"}, {"key": "c", "zh": "丙", "en": "C"}]
MIN_GROUP = 30  # the declared default of min_group


def _rates(counts):
    return funnel.stage_table(counts, stages=STAGES, min_group=MIN_GROUP)


def _steps(rates, **options):
    return funnel.transition_table(rates, stages=STAGES, **{"min_group": MIN_GROUP, **options})


@pytest.fixture
def counts():
    # 2005: x 100 → 50 → 20, y 60 → 30 → 6;  2006: x 120 → 60 → 30, y 50 → 30 → 10
    return pd.DataFrame(
        {
            "period": ["2005"] * 6 + ["2006"] * 6,
            "segment": (["x"] * 3 + ["y"] * 3) * 2,
            "stage": ["a", "b", "c"] * 4,
            "count": [100, 50, 20, 60, 30, 6, 120, 60, 30, 50, 30, 10],
        }
    )


def _row(table, **where):
    mask = np.logical_and.reduce([table[k] == v for k, v in where.items()])
    assert mask.sum() == 1
    return table[mask].iloc[0]


def test_stage_rates_by_hand(counts):
    table = _rates(counts)
    # whole branch 2005: a = 100 + 60 = 160, b = 80, c = 26; conversion c from b = 26 / 80 = 0.325,
    # from the first stage 26 / 160 = 0.1625
    c = _row(table, period="2005", is_total=True, stage="c")
    assert c["count"] == 26 and c["prev_count"] == 80
    assert c["conv_prev"] == pytest.approx(0.325)
    assert c["conv_first"] == pytest.approx(0.1625)
    assert c["segment"] == "all" and stage_label(c["stage"], resolve_stages(STAGES), "zh") == "丙"
    assert segment_label(c["segment"], "zh") == "全部"
    # segment y 2006: b / a = 30 / 50 = 0.6
    assert _row(table, period="2006", segment="y", stage="b")["conv_prev"] == pytest.approx(0.6)
    assert segment_label(table["segment"].iloc[-1], "en") == "All"


def test_wilson_interval_matches_scipy(counts):
    table = _rates(counts)
    b = _row(table, period="2006", is_total=True, stage="b")  # 90 of 170
    ci = binomtest(90, 170).proportion_ci(method="wilson")
    assert (b["conv_prev_low"], b["conv_prev_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_transition_losses_by_hand(counts):
    steps = _steps(_rates(counts))
    ab = _row(steps, period="2006", is_total=True, transition="a>b")
    # 170 enter, 90 go on: 80 lost, loss rate 80 / 170
    assert ab["lost"] == 80 and ab["loss_rate"] == pytest.approx(80 / 170)
    assert transition_label(ab["transition"], resolve_stages(STAGES), "zh") == "甲→乙"
    ci = binomtest(80, 170).proportion_ci(method="wilson")
    assert (ab["loss_low"], ab["loss_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert not ab["too_few"]
    # segment y 2006 b→c: 30 enter (< 30 is too few; 30 is enough), 10 go on
    assert not _row(steps, period="2006", segment="y", transition="b>c")["too_few"]
    small = _steps(_rates(counts), min_group=31)
    assert _row(small, period="2006", segment="y", transition="b>c")["too_few"]


def _leads(rows):
    """rows: (period, segment, furthest stage[, outcome]) per lead; outcome lost unless given."""
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(len(rows))],
            "created_date": pd.to_datetime([f"{r[0]}-06-01" for r in rows]),
            "segment": [r[1] for r in rows],
            "stage": [r[2] for r in rows],
            "outcome": [r[3] if len(r) > 3 else "lost" for r in rows],
            "amount": np.nan,
        }
    )


def test_leads_and_counts_give_the_same_tables():
    # 2005 x: furthest a, a, b, c, c → a 5, b 3, c 2;  2006 x: furthest b, c → a 2, b 2, c 1
    leads = _leads(
        [
            ("2005", "x", "a"),
            ("2005", "x", "a"),
            ("2005", "x", "b"),
            ("2005", "x", "c"),
            ("2005", "x", "c"),
            ("2006", "x", "b"),
            ("2006", "x", "c"),
        ]
    )
    from_leads = funnel.counts_from_leads(leads, stages=STAGES)
    assert from_leads["count"].tolist() == [5, 3, 2, 2, 2, 1]
    given = pd.DataFrame(
        {
            "branch": "杭州分公司",
            "period": ["2005"] * 3 + ["2006"] * 3,
            "segment": "x",
            "stage": ["c", "b", "a", "a", "b", "c"],
            "count": [2, 3, 5, 2, 2, 1],
        }
    )
    from_counts = funnel_counts(leads=None, stage_counts=given, source="auto", stages=STAGES)
    pd.testing.assert_frame_equal(from_leads, from_counts, check_dtype=False)
    pd.testing.assert_frame_equal(_rates(from_leads), _rates(from_counts), check_dtype=False)
    assert funnel_counts(leads=leads, stage_counts=given, source="counts", stages=STAGES)["count"].tolist() == [
        5,
        3,
        2,
        2,
        2,
        1,
    ]


def test_funnel_counts_needs_a_source_table():
    # a bad funnel_source value is refused by the Params declaration (tests/funnel/test_params.py)
    from funnelkit.exceptions import FunnelkitError

    with pytest.raises(FunnelkitError, match="neither"):
        funnel_counts(leads=None, stage_counts=None, source="auto")
    with pytest.raises(FunnelkitError, match="no leads"):
        funnel_counts(leads=None, stage_counts=None, source="leads")


def test_data_quality_finds_rising_missing_and_mismatch(counts):
    broken = counts.copy()
    broken.loc[(broken["period"] == "2005") & (broken["segment"] == "x") & (broken["stage"] == "c"), "count"] = 70
    broken = broken[~((broken["period"] == "2006") & (broken["segment"] == "y") & (broken["stage"] == "b"))]
    # a total row for 2006 stage a: the segments add to 120 + 50 = 170, the source says 175
    broken = pd.concat(
        [broken, pd.DataFrame({"period": ["2006"], "segment": ["合计"], "stage": ["a"], "count": [175]})]
    )
    problems = funnel.data_quality(broken, stages=STAGES)
    rising = problems[problems["kind"] == "rising"]
    assert rising[["period", "segment", "stage", "expected", "found"]].values.tolist() == [["2005", "x", "c", 50, 70]]
    missing = problems[problems["kind"] == "missing_stage"]
    assert list(
        missing[missing["segment"] == "y"][["period", "segment", "stage"]].itertuples(index=False, name=None)
    ) == [("2006", "y", "b")]
    mismatch = problems[problems["kind"] == "total_mismatch"]
    assert mismatch[["period", "stage", "expected", "found"]].values.tolist() == [["2006", "a", 170, 175]]
    found = notices(problems, still_open=None, current="2006", has_peers=True, has_amount=True)
    assert found["kind"].tolist() == [*problems["kind"], "open_unknown"]
    messages = data_warnings(SimpleNamespace(notices=found, stages=resolve_stages(STAGES)), "zh")
    assert any("70" in m and "50" in m for m in messages)
    assert "2006年 y：缺少“乙”阶段数据，相关转化率留空。" in messages
    assert "2006年 甲：各客户群之和（170）与合计行“合计”（175）不符，分析按各客户群之和计算。" in messages
    assert funnel.data_quality(counts, stages=STAGES).empty
    # the missing stage stays empty in the whole-branch total instead of being undercounted
    table = _rates(broken)
    assert pd.isna(_row(table, period="2006", is_total=True, stage="b")["count"])
    assert _row(table, period="2006", is_total=True, stage="a")["count"] == 170  # the 合计 row is not counted


def test_rising_counts_get_no_interval():
    counts = pd.DataFrame({"period": "2006", "segment": "x", "stage": ["a", "b", "c"], "count": [10, 12, 5]})
    b = _row(_rates(counts), segment="x", stage="b")
    assert b["conv_prev"] == pytest.approx(1.2) and np.isnan(b["conv_prev_low"])


def test_periods(counts):
    assert funnel.current_period(counts, "") == "2006"
    assert funnel.previous_period(counts, "2006") == "2005"
    assert funnel.previous_period(counts, "2005") is None
    with pytest.raises(Exception, match="2007"):
        funnel.current_period(counts, "2007")


def test_conv_first_is_empty_without_a_first_stage():
    # 2006 x has no stage a row: conversion from the first stage cannot be computed
    # (not b as the denominator: 20 / 50 would be 0.4); 2005 x: c / a = 20 / 100
    counts = pd.DataFrame(
        {
            "period": ["2005"] * 3 + ["2006"] * 2,
            "segment": "x",
            "stage": ["a", "b", "c", "b", "c"],
            "count": [100, 50, 20, 50, 20],
        }
    )
    table = _rates(counts)
    for segment in ("x", "all"):
        c = _row(table, period="2006", segment=segment, stage="c")
        assert pd.isna(c["conv_first"]) and pd.isna(c["conv_first_low"])
        assert c["conv_prev"] == pytest.approx(20 / 50)  # b → c is still known
    assert _row(table, period="2005", segment="x", stage="c")["conv_first"] == pytest.approx(0.2)


# 2006 x: furthest a (lost), a (open), a (open), b (lost), b (open), c (won); y: a (open), b (lost)
OPEN_ROWS = [
    ("2006", "x", "a"),
    ("2006", "x", "a", "open"),
    ("2006", "x", "a", "open"),
    ("2006", "x", "b"),
    ("2006", "x", "b", "open"),
    ("2006", "x", "c", "won"),
    ("2006", "y", "a", "open"),
    ("2006", "y", "b"),
]


def test_open_leads_are_not_counted_as_lost():
    leads = _leads(OPEN_ROWS)
    counts = funnel.counts_from_leads(leads, stages=STAGES)
    still_open = funnel.open_from_leads(leads, stages=STAGES)
    assert still_open["still_open"].tolist() == [2, 1, 0, 1, 0, 0]  # x: a 2, b 1, c 0; y: a 1, b 0, c 0
    steps = _steps(_rates(counts), still_open=still_open)
    # x a→b: 6 enter, 3 go on, 2 still open at a → settled 4, lost 1, loss 1/4, conversion 3/4
    ab = _row(steps, segment="x", transition="a>b")
    assert (ab["from_count"], ab["to_count"], ab["still_open"], ab["settled"], ab["lost"]) == (6, 3, 2, 4, 1)
    assert ab["loss_rate"] == pytest.approx(0.25) and ab["rate"] == pytest.approx(0.75)
    ci = binomtest(1, 4).proportion_ci(method="wilson")
    assert (ab["loss_low"], ab["loss_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)
    # x b→c: 3 enter, 1 goes on, 1 open at b → settled 2, lost 1
    assert _row(steps, segment="x", transition="b>c")[["settled", "lost"]].tolist() == [2, 1]
    # whole branch a→b: 8 enter (6 + 2), 4 go on, 3 open at a (2 + 1) → settled 5, lost 1
    total = _row(steps, is_total=True, transition="a>b")
    assert total[["from_count", "still_open", "settled", "lost"]].tolist() == [8, 3, 5, 1]
    assert total["too_few"]  # 5 settled < 30
    # the counts form cannot tell: still_open NA, every customer not going on is lost
    by_counts = _steps(_rates(counts))
    assert by_counts["still_open"].isna().all()
    assert _row(by_counts, is_total=True, transition="a>b")[["lost", "loss_rate"]].tolist() == [4, 0.5]


def test_leads_and_counts_forms_agree_without_open_leads():
    # same leads, every one settled: the two forms give the same stage and transition tables
    leads = _leads([r[:3] + ("lost",) for r in OPEN_ROWS])
    from_leads = funnel.counts_from_leads(leads, stages=STAGES)
    given = from_leads.assign(branch="甲分公司")
    from_counts = funnel_counts(leads=None, stage_counts=given, source="auto", stages=STAGES)
    rates_leads, rates_counts = (_rates(c) for c in (from_leads, from_counts))
    pd.testing.assert_frame_equal(rates_leads, rates_counts, check_dtype=False)
    steps_leads = _steps(rates_leads, still_open=funnel.open_from_leads(leads, stages=STAGES))
    steps_counts = _steps(rates_counts)
    assert (steps_leads["still_open"] == 0).all() and steps_counts["still_open"].isna().all()
    pd.testing.assert_frame_equal(steps_leads.drop(columns="still_open"), steps_counts.drop(columns="still_open"))
    # with open leads the stage table is still the same (open leads count where they reached)
    open_leads = _leads(OPEN_ROWS)
    pd.testing.assert_frame_equal(_rates(funnel.counts_from_leads(open_leads, stages=STAGES)), rates_leads)


def test_segment_order_puts_the_total_first():
    from funnelkit.funnel.labels import segment_order

    rows = pd.DataFrame({"segment": ["住宅", "all", "公话", "住宅"], "is_total": [False, True, False, False]})
    assert segment_order(rows) == ["all", "住宅", "公话"]


def _pivoted_in_pandas(leads, keys, weight):
    """The former pandas path of counts_from_leads / open_from_leads: every lead pivoted."""
    return (
        leads.assign(
            period=leads["created_date"].dt.year.astype("Int64").astype(str),
            index=leads["stage"].map({k: i for i, k in enumerate(keys)}),
            weight=weight,
        )
        .pivot_table(index=["period", "segment"], columns="index", values="weight", aggfunc="sum")
        .reindex(columns=range(len(keys)))
        .fillna(0)
    )


@pytest.mark.parametrize("branch", ["杭州分公司", "嘉兴分公司"])
def test_counts_aggregated_in_duckdb_equal_the_pandas_pivot_on_the_demo(branch):
    from funnelkit.data.loading import load_tables
    from funnelkit.funnel import Params

    leads = load_tables(Params(branch=branch), ["leads"])["leads"]
    keys = [s.key for s in resolve_stages(None)]
    reached = _pivoted_in_pandas(leads, keys, pd.Series(1, index=leads.index))
    expected = funnel._tidy(reached.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1], keys, "count")
    pd.testing.assert_frame_equal(funnel.counts_from_leads(leads), expected)
    is_open = leads["outcome"].eq("open").fillna(False).astype(int)
    expected_open = funnel._tidy(_pivoted_in_pandas(leads, keys, is_open), keys, "still_open")
    pd.testing.assert_frame_equal(funnel.open_from_leads(leads), expected_open)


def test_counts_from_leads_with_python_strings_and_an_unknown_stage():
    """Object-dtype text (a frame built by hand) and a stage outside the funnel, left out."""
    leads = pd.DataFrame(
        {
            "created_date": pd.to_datetime(["2005-03-01", "2005-07-01", "2006-01-01", "2006-02-01"]),
            "segment": np.array(["x", "x", "y", "x"], dtype=object),
            "stage": np.array(["intent", "target", "signed", "nowhere"], dtype=object),
            "outcome": np.array(["open", "lost", "won", "open"], dtype=object),
        }
    )
    counted = funnel.counts_from_leads(leads).set_index(["period", "segment", "stage"])["count"]
    # 2005 x: one at intent, one at target → target 2, potential…intent 1, after 0
    assert counted[("2005", "x", "target")] == 2 and counted[("2005", "x", "intent")] == 1
    assert counted[("2005", "x", "signed")] == 0 and counted[("2006", "y", "signed")] == 1
    assert ("2006", "x", "target") not in counted.index  # the unknown stage counts nowhere
    keys = [s.key for s in resolve_stages(None)]
    reached = _pivoted_in_pandas(leads, keys, pd.Series(1, index=leads.index))
    expected = funnel._tidy(reached.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1], keys, "count")
    pd.testing.assert_frame_equal(funnel.counts_from_leads(leads), expected)
    still = funnel.open_from_leads(leads).set_index(["period", "segment", "stage"])["still_open"]
    assert still[("2005", "x", "intent")] == 1 and still.drop(("2005", "x", "intent")).sum() == 0
