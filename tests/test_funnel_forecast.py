"""Time to convert, stage win probabilities, the pipeline forecast and its back-test."""

import numpy as np
import pandas as pd
import pytest

from funnelkit import forecast

STAGES = [{"key": "a", "zh": "甲", "en": "A"}, {"key": "b", "zh": "乙", "en": "B"}, {"key": "c", "zh": "丙", "en": "C"}]
D = pd.Timestamp


def _lead(lead_id, created, stage, outcome, amount, b=None, c=None, lost=None, segment="x"):
    return {"lead_id": lead_id, "created_date": D(created), "segment": segment, "stage": stage, "outcome": outcome,
            "amount": amount, "date_a": D(created), "date_b": D(b) if b else pd.NaT, "date_c": D(c) if c else pd.NaT,
            "lost_date": D(lost) if lost else pd.NaT}


@pytest.fixture
def leads():
    # history, all closed in 2005: two won (a → b → c), two lost at a
    # open at 2006-01-01: L5 at a, won later in 2006 (100 yuan); L6 at a, lost in 2006 (200 yuan)
    return pd.DataFrame([
        _lead("L1", "2005-01-01", "c", "won", 100.0, b="2005-01-11", c="2005-02-10"),
        _lead("L2", "2005-02-01", "c", "won", 300.0, b="2005-02-05", c="2005-03-07"),
        _lead("L3", "2005-01-01", "a", "lost", 50.0, lost="2005-02-01"),
        _lead("L4", "2005-03-01", "a", "lost", np.nan, lost="2005-04-01"),
        _lead("L5", "2005-12-01", "c", "won", 100.0, b="2006-02-01", c="2006-03-01"),
        _lead("L6", "2005-12-15", "a", "lost", 200.0, lost="2006-02-01"),
    ])


def test_time_to_convert_median_and_p90():
    days = [1, 2, 3, 4, 10]
    data = pd.DataFrame({"date_a": D("2006-01-01"), "date_b": [D("2006-01-01") + pd.Timedelta(days=d) for d in days],
                         "date_c": pd.NaT})
    table = forecast.time_to_convert(data, stages=STAGES).set_index("transition")
    # median of 1, 2, 3, 4, 10 = 3; p90 (linear) at position 0.9 × 4 = 3.6: 4 + 0.6 × 6 = 7.6
    assert table.at["a>b", "median_days"] == 3 and table.at["a>b", "p90_days"] == pytest.approx(7.6)
    assert table.at["a>b", "n"] == 5 and table.at["b>c", "n"] == 0
    assert table.at["a>b", "transition_label"] == "甲→乙"


def test_won_stage_and_close_dates(leads):
    assert forecast.won_stage(leads, stages=STAGES) == "c"
    closed = forecast.close_dates(leads, stages=STAGES)
    assert closed.tolist()[:3] == [D("2005-02-10"), D("2005-03-07"), D("2005-02-01")]


def test_win_probabilities_by_hand(leads):
    history = leads.iloc[:4]
    probs = forecast.win_probabilities(history, stages=STAGES, shrinkage=0).set_index("stage")
    # reached a: 4 closed, 2 won → 0.5; reached b and c: 2 closed, both won → 1
    assert probs["win_prob"].tolist() == pytest.approx([0.5, 1.0, 1.0])
    prior = pd.Series({"a": 0.25, "b": 0.5, "c": 1.0})
    shrunk = forecast.win_probabilities(history, stages=STAGES, prior=prior, shrinkage=4).set_index("stage")
    # (2 + 4 × 0.25) / (4 + 4) = 0.375;  b: (2 + 4 × 0.5) / (2 + 4) = 0.6667
    assert shrunk.at["a", "win_prob"] == pytest.approx(0.375)
    assert shrunk.at["b", "win_prob"] == pytest.approx(4 / 6)


def test_company_prior_from_stage_counts():
    peers = pd.DataFrame({"branch": ["p", "p", "p", "q", "q", "q"], "stage": ["a", "b", "c"] * 2,
                          "count": [100, 40, 10, 300, 60, 30]})
    prior = forecast.company_prior(peers, stages=STAGES, won="b")
    # reach b from a: (40 + 60) / (100 + 300) = 0.25; at and beyond b: 1
    assert prior.tolist() == pytest.approx([0.25, 1.0, 1.0])


def test_pipeline_forecast(leads):
    as_of = D("2006-01-01")
    then = forecast.as_of_day(leads, as_of, stages=STAGES)
    assert then.set_index("lead_id").loc[["L5", "L6"], "stage"].tolist() == ["a", "a"]
    assert then.set_index("lead_id").loc[["L5", "L6"], "outcome"].tolist() == ["open", "open"]
    pipe = forecast.pipeline(then, as_of=as_of, stages=STAGES, shrinkage=0).set_index("lead_id")
    # P(win | a) = 0.5: 0.5 × 100 + 0.5 × 200 = 150
    assert pipe["expected"].sum() == pytest.approx(150)
    # median days from a to close among won leads: (40, 34) → 37; L5 reached a 2005-12-01 → 2006-01-07
    assert pipe.at["L5", "close_month"] == "2006-01"
    by_month = forecast.forecast_by_month(pipe.reset_index())
    assert by_month["expected_amount"].sum() == pytest.approx(150) and by_month["leads"].sum() == 2


def test_missing_amount_is_the_segment_mean_of_won_deals(leads):
    # L4 has no amount: won deals of segment x average (100 + 300 + 100) / 3
    assert forecast.expected_amounts(leads).iloc[3] == pytest.approx(500 / 3)


def test_backtest_calibration_and_error(leads):
    tested = forecast.backtest(leads, start="2006-01-01", end="2006-12-31", stages=STAGES, shrinkage=0)
    assert tested["lead_id"].tolist() == ["L5", "L6"]
    assert tested["won"].tolist() == [True, False]
    error = forecast.forecast_error(tested)
    # forecast 150 against 100 actually won (L5): error +50, 50% of actual
    assert error["forecast_amount"] == pytest.approx(150) and error["actual_amount"] == 100
    assert error["error_pct"] == pytest.approx(0.5)
    # Brier: ((0.5 − 1)² + (0.5 − 0)²) / 2 = 0.25
    assert error["brier"] == pytest.approx(0.25)
    table = forecast.calibration(tested)
    assert table["band"].tolist() == ["25%–50%"]
    assert table[["leads", "forecast_prob", "actual_rate"]].iloc[0].tolist() == pytest.approx([2, 0.5, 0.5])


def test_has_stage_dates(leads):
    assert forecast.has_stage_dates(leads, STAGES)
    assert not forecast.has_stage_dates(leads.drop(columns=["date_b", "date_c"]), STAGES)
    assert not forecast.has_stage_dates(None, STAGES)
