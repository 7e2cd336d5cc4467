"""Time to convert, stage win probabilities, the pipeline forecast and its back-test."""

import numpy as np
import pandas as pd
import pytest

from funnelkit.funnel import forecast

STAGES = [{"key": "a", "zh": "甲", "en": "A"}, {"key": "b", "zh": "乙", "en": "B"}, {"key": "c", "zh": "丙", "en": "C"}]
D = pd.Timestamp


def _lead(lead_id, created, stage, outcome, amount, b=None, c=None, lost=None, segment="x"):
    return {
        "lead_id": lead_id,
        "created_date": D(created),
        "segment": segment,
        "stage": stage,
        "outcome": outcome,
        "amount": amount,
        "date_a": D(created),
        "date_b": D(b) if b else pd.NaT,
        "date_c": D(c) if c else pd.NaT,
        "lost_date": D(lost) if lost else pd.NaT,
    }


@pytest.fixture
def leads():
    # history, all closed in 2005: three won (a → b → c), two lost at a
    # open at 2006-01-01: L5 at a, won later in 2006 (100 yuan); L6 at a, lost in 2006 (200 yuan)
    # month-start snapshots before 2006: at a L3 (02-01, lost), L4 (04-01, lost), L7 (06-01, won);
    # at b L1 (02-01), L2 (03-01), L7 (07-01), all won → P(win | open at a) = 1/3, at b = 1
    return pd.DataFrame(
        [
            _lead("L1", "2005-01-01", "c", "won", 100.0, b="2005-01-11", c="2005-02-10"),
            _lead("L2", "2005-02-01", "c", "won", 300.0, b="2005-02-05", c="2005-03-07"),
            _lead("L3", "2005-01-01", "a", "lost", 50.0, lost="2005-02-01"),
            _lead("L4", "2005-03-01", "a", "lost", np.nan, lost="2005-04-01"),
            _lead("L5", "2005-12-01", "c", "won", 100.0, b="2006-02-01", c="2006-03-01"),
            _lead("L6", "2005-12-15", "a", "lost", 200.0, lost="2006-02-01"),
            _lead("L7", "2005-05-10", "c", "won", 200.0, b="2005-06-10", c="2005-07-05"),
        ]
    )


def test_time_to_convert_median_and_p90():
    days = [1, 2, 3, 4, 10]
    data = pd.DataFrame(
        {"date_a": D("2006-01-01"), "date_b": [D("2006-01-01") + pd.Timedelta(days=d) for d in days], "date_c": pd.NaT}
    )
    table = forecast.time_to_convert(data, stages=STAGES).set_index("transition")
    # median of 1, 2, 3, 4, 10 = 3; p90 (linear) at position 0.9 × 4 = 3.6: 4 + 0.6 × 6 = 7.6
    assert table.at["a>b", "median_days"] == 3 and table.at["a>b", "p90_days"] == pytest.approx(7.6)
    assert table.at["a>b", "n"] == 5 and table.at["b>c", "n"] == 0
    assert list(table.columns) == ["n", "median_days", "p90_days"]  # codes only: labels are the views'


def test_won_stage_and_close_dates(leads):
    assert forecast.won_stage(leads, stages=STAGES) == "c"
    closed = forecast.close_dates(leads, stages=STAGES)
    assert closed.tolist()[:3] == [D("2005-02-10"), D("2005-03-07"), D("2005-02-01")]


@pytest.fixture
def snapshot_leads():
    # cut-offs 2005-02-01 (D1) and 2005-03-01 (D2): month starts after the first lead, before as_of 03-15
    return pd.DataFrame(
        [
            _lead("P1", "2005-01-10", "c", "won", 1.0, b="2005-01-20", c="2005-03-10"),  # D1 b, D2 b
            _lead("P2", "2005-01-15", "a", "lost", 1.0, lost="2005-02-20"),  # D1 a
            _lead("P3", "2005-01-20", "b", "lost", 1.0, b="2005-02-10", lost="2005-03-05"),  # D1 a, D2 b
            _lead("P4", "2005-02-05", "c", "won", 1.0, b="2005-02-25", c="2005-03-01"),  # D2 b (closes on D2: open)
            _lead("P5", "2005-01-12", "a", "lost", 1.0, lost="2005-01-25"),  # closed before D1
            _lead("P6", "2005-02-10", "c", "won", 1.0, b="2005-03-20", c="2005-04-01"),  # D2 a, closes after as_of
            _lead("P7", "2005-01-05", "a", "open", 1.0),  # still open: unknown
            _lead("P8", "2005-01-25", "c", "won", 1.0, b="2005-02-15", c="2005-03-12"),  # D1 a, D2 b
        ]
    )


def test_open_snapshots_stage_by_cut_off(snapshot_leads):
    snaps = forecast.open_snapshots(snapshot_leads, days=[D("2005-02-01"), D("2005-03-01")], stages=STAGES)
    at = snaps.set_index(["snapshot", "lead_id"])["stage"]
    assert at[D("2005-02-01")].to_dict() == {"P1": "b", "P2": "a", "P3": "a", "P7": "a", "P8": "a"}
    assert at[D("2005-03-01")].to_dict() == {"P1": "b", "P3": "b", "P4": "b", "P6": "a", "P7": "a", "P8": "b"}
    # P1 reached b on 01-20: 12 days at b on 02-01
    assert snaps.set_index(["snapshot", "lead_id"]).at[(D("2005-02-01"), "P1"), "days_at_stage"] == 12


def test_win_probabilities_from_snapshots_by_hand(snapshot_leads):
    as_of = D("2005-03-15")
    assert forecast.snapshot_days(snapshot_leads, as_of=as_of).tolist() == [D("2005-02-01"), D("2005-03-01")]
    probs = forecast.win_probabilities(snapshot_leads, stages=STAGES, as_of=as_of, shrinkage=0).set_index("stage")
    # P6 (closes after as_of) and P7 (open) are unknown at as_of and left out.
    # a: P2@D1 lost, P3@D1 lost, P8@D1 won → 1 / 3;  b: P1@D1, P1@D2, P4@D2, P8@D2 won, P3@D2 lost → 4 / 5
    assert probs["snapshots"].tolist() == [3, 5, 0] and probs["leads"].tolist() == [3, 4, 0]
    assert probs["win_prob"].tolist() == pytest.approx([1 / 3, 0.8, 1.0])
    # the old pass-through rate is higher at a: closed leads P1-P5, P8 reached a, 3 of 6 won
    assert probs.at["a", "pass_through"] == pytest.approx(0.5)
    prior = pd.Series({"a": 0.4, "b": 0.6, "c": 1.0})
    shrunk = forecast.win_probabilities(snapshot_leads, stages=STAGES, as_of=as_of, prior=prior, shrinkage=2).set_index(
        "stage"
    )
    # pass-through b: P1, P3, P4, P8 reached it, 3 won → 0.75; predicted snapshot wins 3 × 0.5 + 5 × 0.75
    # = 5.25 against 5 → stall factor 5 / 5.25; prior a 0.4 × 0.952381 = 0.380952, b 0.571429
    assert shrunk.at["a", "stall_factor"] == pytest.approx(5 / 5.25)
    # a: (3 × 1/3 + 2 × 0.380952) / (3 + 2) = 0.352381;  b: (4 × 0.8 + 2 × 0.571429) / (4 + 2) = 0.723810
    assert shrunk["win_prob"].tolist() == pytest.approx([0.352381, 0.723810, 1.0], abs=1e-6)


def test_company_prior_from_stage_counts():
    peers = pd.DataFrame(
        {"branch": ["p", "p", "p", "q", "q", "q"], "stage": ["a", "b", "c"] * 2, "count": [100, 40, 10, 300, 60, 30]}
    )
    prior = forecast.company_prior(peers, stages=STAGES, won="b")
    # reach b from a: (40 + 60) / (100 + 300) = 0.25; at and beyond b: 1
    assert prior.tolist() == pytest.approx([0.25, 1.0, 1.0])


def test_pipeline_forecast(leads):
    as_of = D("2006-01-01")
    then = forecast.as_of_day(leads, as_of, stages=STAGES)
    assert then.set_index("lead_id").loc[["L5", "L6"], "stage"].tolist() == ["a", "a"]
    assert then.set_index("lead_id").loc[["L5", "L6"], "outcome"].tolist() == ["open", "open"]
    pipe = forecast.pipeline(then, as_of=as_of, stages=STAGES, shrinkage=0).set_index("lead_id")
    # P(win | open at a) = 1/3: (100 + 200) / 3 = 100
    assert pipe["expected"].sum() == pytest.approx(100)
    # median days from a to close among won leads: (40, 34, 56) → 40; L5 reached a 2005-12-01 → 2006-01-10
    assert pipe.at["L5", "close_month"] == "2006-01"
    by_month = forecast.forecast_by_month(pipe.reset_index())
    assert by_month["expected_amount"].sum() == pytest.approx(100) and by_month["leads"].sum() == 2


def test_missing_amount_is_the_segment_mean_of_won_deals(leads):
    # L4 has no amount: won deals of segment x average (100 + 300 + 100 + 200) / 4
    assert forecast.expected_amounts(leads).iloc[3] == pytest.approx(175)


def test_backtest_calibration_and_error(leads):
    tested = forecast.backtest(leads, start="2006-01-01", end="2006-12-31", stages=STAGES, shrinkage=0)
    assert tested["lead_id"].tolist() == ["L5", "L6"]
    assert tested["won"].tolist() == [True, False]
    error = forecast.forecast_error(tested)
    # forecast (100 + 200) / 3 = 100 against 100 actually won (L5): error 0
    assert error["forecast_amount"] == pytest.approx(100) and error["actual_amount"] == 100
    assert error["error_pct"] == pytest.approx(0)
    # Brier: ((1/3 − 1)² + (1/3 − 0)²) / 2 = (4/9 + 1/9) / 2 = 5/18
    assert error["brier"] == pytest.approx(5 / 18)
    table = forecast.calibration(tested)
    assert table["band"].tolist() == ["25%–50%"]
    assert table[["leads", "forecast_prob", "actual_rate"]].iloc[0].tolist() == pytest.approx([2, 1 / 3, 0.5])


def test_backtest_uses_nothing_after_its_cut_off(leads):
    # L8 is open at a on the 2005-12-01 snapshot and closes in 2006, after the cut-off; flipping its
    # outcome, and those of L5 and L6, must not move the forecast made on 2006-01-01
    late = pd.DataFrame([_lead("L8", "2005-11-10", "c", "won", 500.0, b="2006-01-15", c="2006-02-01")])
    flipped = pd.concat([leads, late], ignore_index=True)
    flipped.loc[flipped["lead_id"].isin(["L5", "L8"]), ["stage", "outcome", "date_b", "date_c"]] = [
        "a",
        "lost",
        pd.NaT,
        pd.NaT,
    ]
    flipped.loc[flipped["lead_id"].isin(["L5", "L8"]), "lost_date"] = D("2006-01-20")
    flipped.loc[flipped["lead_id"] == "L6", ["stage", "outcome", "date_b", "date_c", "lost_date"]] = [
        "c",
        "won",
        D("2006-03-01"),
        D("2006-04-01"),
        pd.NaT,
    ]
    original = pd.concat([leads, late], ignore_index=True)
    columns = ["lead_id", "stage", "win_prob", "amount", "expected", "close_month"]
    before = forecast.backtest(original, start="2006-01-01", end="2006-12-31", stages=STAGES, shrinkage=0)
    after = forecast.backtest(flipped, start="2006-01-01", end="2006-12-31", stages=STAGES, shrinkage=0)
    pd.testing.assert_frame_equal(before[columns], after[columns])
    assert before["won"].tolist() != after["won"].tolist()
    # the check can fail: learning as of the end of 2006 does see the flipped outcomes
    late_probs = [
        forecast.win_probabilities(frame, stages=STAGES, as_of="2006-12-31", shrinkage=0)
        .set_index("stage")
        .at["a", "win_prob"]
        for frame in (original, flipped)
    ]
    assert late_probs[0] != pytest.approx(late_probs[1])


def test_has_stage_dates(leads):
    assert forecast.has_stage_dates(leads, STAGES)
    assert not forecast.has_stage_dates(leads.drop(columns=["date_b", "date_c"]), STAGES)
    assert not forecast.has_stage_dates(None, STAGES)


def _snapshots_one_day_at_a_time(leads, days, stages):
    """The former per-cut-off loop of ``open_snapshots``, kept as the reference it must match."""
    keys = [s["key"] for s in stages] if stages else [s.key for s in forecast.resolve_stages(None)]
    closed = forecast.close_dates(leads, stages=stages).to_numpy(dtype="datetime64[ns]")
    created = leads["created_date"].to_numpy(dtype="datetime64[ns]")
    dated = forecast._dated(leads, keys)
    frames = []
    for day in pd.DatetimeIndex(days):
        day64 = np.datetime64(day)
        rows = np.flatnonzero((created < day64) & ~(closed < day64))
        reached = dated[rows] < day64
        index = np.where(reached.any(axis=1), reached.shape[1] - 1 - np.argmax(reached[:, ::-1], axis=1), 0)
        reached_on = dated[rows, index]
        reached_on = np.where(np.isnat(reached_on), created[rows], reached_on)
        frames.append(
            pd.DataFrame(
                {
                    "snapshot": day,
                    "lead_id": leads["lead_id"].to_numpy()[rows],
                    "stage": np.array(keys, dtype=object)[index],
                    "days_at_stage": (day64 - reached_on) / np.timedelta64(1, "D"),
                    "outcome": leads["outcome"].to_numpy()[rows],
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    return table.assign(won=table["outcome"].eq("won").astype(bool))


def test_snapshots_match_the_per_day_loop_on_a_small_frame(snapshot_leads):
    days = [D("2005-01-01"), D("2005-02-01"), D("2005-03-01"), D("2005-04-01")]
    new = forecast.open_snapshots(snapshot_leads, days=days, stages=STAGES)
    pd.testing.assert_frame_equal(new, _snapshots_one_day_at_a_time(snapshot_leads, days, STAGES), check_dtype=False)
    # by hand: 2005-01-01 precedes every lead; P4 closes on 03-01 and is still open that morning
    assert (new["snapshot"] == D("2005-01-01")).sum() == 0
    assert "P4" in new.loc[new["snapshot"] == D("2005-03-01"), "lead_id"].tolist()
    # on 04-01 only P7 (open) and P6 (closes that day) remain
    assert sorted(new.loc[new["snapshot"] == D("2005-04-01"), "lead_id"]) == ["P6", "P7"]


@pytest.fixture(scope="module")
def demo_leads():
    from funnelkit.data.loading import load_tables
    from funnelkit.funnel import Params

    return load_tables(Params(branch="杭州分公司"), ["leads"])["leads"]


def test_snapshots_match_the_per_day_loop_on_the_demo(demo_leads):
    days = forecast.snapshot_days(demo_leads, as_of=demo_leads["created_date"].max())
    new = forecast.open_snapshots(demo_leads, days=days)
    assert len(new) > 10_000
    pd.testing.assert_frame_equal(new, _snapshots_one_day_at_a_time(demo_leads, days, None), check_dtype=False)


def test_pipeline_reached_on_matches_a_lead_by_lead_lookup(demo_leads):
    as_of = demo_leads["created_date"].max() + pd.Timedelta(days=1)
    pipe = forecast.pipeline(demo_leads, as_of=as_of, shrinkage=50)
    open_leads = demo_leads[demo_leads["outcome"] == "open"]
    reached_on = pd.Series(
        [open_leads.at[i, f"date_{s}"] for i, s in zip(open_leads.index, open_leads["stage"])],
        index=open_leads.index,
        dtype="datetime64[ns]",
    ).fillna(open_leads["created_date"])
    wait = forecast.days_to_close(demo_leads[forecast.close_dates(demo_leads) < as_of])
    day = (reached_on + pd.to_timedelta(open_leads["stage"].map(wait).fillna(0), unit="D")).clip(lower=as_of)
    assert pipe["close_month"].tolist() == day.dt.strftime("%Y-%m").tolist()


def _counted_from_snapshots(leads, days, stages):
    """Per stage: lead-snapshots, won ones and distinct leads, from the snapshot rows."""
    keys = [s["key"] for s in stages] if stages else [s.key for s in forecast.resolve_stages(None)]
    snaps = forecast.open_snapshots(leads, days=days, stages=stages)
    table = (
        snaps.groupby("stage")
        .agg(snapshots=("won", "size"), won=("won", "sum"), leads=("lead_id", "nunique"))
        .reindex(keys, fill_value=0)
    )
    return [table[c].to_numpy(dtype=float) for c in ("snapshots", "won", "leads")]


def _counted_in_blocks(leads, days, stages):
    from funnelkit.funnel import lead_arrays

    keys = [s["key"] for s in stages] if stages else [s.key for s in forecast.resolve_stages(None)]
    return lead_arrays.snapshot_counts(
        lead_arrays.date_columns(leads, keys),
        created=leads["created_date"].to_numpy(dtype="datetime64[ns]"),
        closed=lead_arrays.close_days(leads, keys),
        won=lead_arrays.outcome_is(leads, "won"),
        among=np.arange(len(leads)),
        days=days,
    )


@pytest.mark.parametrize("block", [1, 3, 1 << 20])
def test_snapshot_counts_in_blocks_equal_the_snapshot_rows(snapshot_leads, monkeypatch, block):
    from funnelkit.funnel import lead_arrays

    monkeypatch.setattr(lead_arrays, "SNAPSHOT_BLOCK", block)  # one lead, a few leads, all at once
    days = [D("2005-01-01"), D("2005-02-01"), D("2005-03-01"), D("2005-04-01")]
    for new, old in zip(
        _counted_in_blocks(snapshot_leads, days, STAGES), _counted_from_snapshots(snapshot_leads, days, STAGES)
    ):
        np.testing.assert_array_equal(new, old)


@pytest.mark.parametrize("block", [997, 1 << 20])
def test_snapshot_counts_in_blocks_equal_the_snapshot_rows_on_the_demo(demo_leads, monkeypatch, block):
    from funnelkit.funnel import lead_arrays

    monkeypatch.setattr(lead_arrays, "SNAPSHOT_BLOCK", block)
    days = forecast.snapshot_days(demo_leads, as_of=demo_leads["created_date"].max())
    new, old = _counted_in_blocks(demo_leads, days, None), _counted_from_snapshots(demo_leads, days, None)
    assert old[0].sum() > 10_000
    for a, b in zip(new, old):
        np.testing.assert_array_equal(a, b)


def test_close_dates_match_the_frame_rules_on_the_demo(demo_leads):
    """The array close dates against the module's conventions written with frame methods."""
    keys = [s.key for s in forecast.resolve_stages(None)]
    dated = demo_leads[[f"date_{k}" for k in keys]]
    furthest = dated.ffill(axis=1).iloc[:, -1].fillna(demo_leads["created_date"])
    won_on = demo_leads[f"date_{forecast.won_stage(demo_leads)}"].fillna(furthest)
    expected = won_on.where(demo_leads["outcome"] == "won").fillna(
        demo_leads["lost_date"].fillna(furthest).where(demo_leads["outcome"] == "lost")
    )
    pd.testing.assert_series_equal(forecast.close_dates(demo_leads), expected, check_names=False)


def test_as_of_day_matches_the_frame_rules_on_the_demo(demo_leads):
    """The roll-back against the module's conventions written with frame methods."""
    day = D("2006-01-01")
    keys = [s.key for s in forecast.resolve_stages(None)]
    known = demo_leads[demo_leads["created_date"] < day]
    reached = known[[f"date_{k}" for k in keys]].to_numpy(dtype="datetime64[ns]") < np.datetime64(day)
    index = np.where(reached.any(axis=1), len(keys) - 1 - np.argmax(reached[:, ::-1], axis=1), 0)
    closed = forecast.close_dates(demo_leads).loc[known.index]
    expected = known.assign(stage=np.array(keys)[index], outcome=known["outcome"].where(closed < day, "open"))
    pd.testing.assert_frame_equal(forecast.as_of_day(demo_leads, day), expected)


def test_stage_codes_of_arrow_and_python_text_agree():
    from funnelkit.funnel import lead_arrays

    stages = ["b", None, "a", "zz", "c"]
    keys = ["a", "b", "c"]
    arrow = pd.DataFrame({"stage": pd.array(stages, dtype="string[pyarrow]")})
    python = pd.DataFrame({"stage": np.array(stages, dtype=object)})
    assert lead_arrays.stage_codes(arrow, keys).tolist() == [1, -1, 0, -1, 2]
    assert lead_arrays.stage_codes(python, keys).tolist() == [1, -1, 0, -1, 2]


@pytest.mark.parametrize("start", ["2004-01-01", "2005-01-01", "2006-07-01"])
def test_a_rolled_back_frame_gives_the_back_test_and_range_of_the_leads_as_they_stood(demo_leads, start):
    """Leads created after the start kept with no outcome are passed over like absent ones:
    the back-test, its inputs to the range and the range equal those from :func:`as_of_day`."""
    from funnelkit.funnel import forecast_range

    end = pd.Period(start[:4]).end_time
    kept, cut = forecast.rolled_back(demo_leads, start), forecast.as_of_day(demo_leads, start)
    assert len(kept) == len(demo_leads) and kept["lead_id"].equals(demo_leads["lead_id"])
    one = forecast.backtest(demo_leads, start=start, end=end, shrinkage=50, then=kept)
    other = forecast.backtest(demo_leads, start=start, end=end, shrinkage=50, then=cut)
    pd.testing.assert_frame_equal(one, other)
    months = pd.period_range(start, end, freq="M").strftime("%Y-%m")
    draws = dict(as_of=start, months=months, inflow_months=6, draws=200, seed=0)
    pd.testing.assert_frame_equal(
        forecast_range.forecast_range(kept, one, **draws), forecast_range.forecast_range(cut, other, **draws)
    )


def test_close_days_given_once_give_the_figures_found_in_each_call(demo_leads):
    """The close days a caller passes (worked out once per analysis) are those each function
    would find; passing other days changes the figures (they are used)."""
    from funnelkit.funnel import forecast_range, lead_arrays, velocity

    keys = [s.key for s in forecast.resolve_stages(None)]
    closed = lead_arrays.close_days(demo_leads, keys)
    as_of, start, end = "2007-01-01", pd.Timestamp("2006-01-01"), pd.Timestamp("2006-12-31 23:59")
    pipe = forecast.pipeline(demo_leads, as_of=as_of, shrinkage=50)
    pd.testing.assert_frame_equal(forecast.pipeline(demo_leads, as_of=as_of, shrinkage=50, closed=closed), pipe)
    then = forecast.rolled_back(demo_leads, start)
    pd.testing.assert_frame_equal(forecast.rolled_back(demo_leads, start, closed=closed), then)
    tested = forecast.backtest(demo_leads, start=start, end=end, shrinkage=50, then=then)
    pd.testing.assert_frame_equal(
        forecast.backtest(demo_leads, start=start, end=end, shrinkage=50, then=then, closed=closed), tested
    )
    draws = dict(as_of=as_of, months=["2007-01", "2007-02"], inflow_months=6, draws=200, seed=0)
    pd.testing.assert_frame_equal(
        forecast_range.forecast_range(demo_leads, pipe, closed=closed, **draws),
        forecast_range.forecast_range(demo_leads, pipe, **draws),
    )
    months = ["2006-01", "2006-02"]
    pd.testing.assert_frame_equal(
        forecast_range.actual_by_month(demo_leads, months=months, closed=closed),
        forecast_range.actual_by_month(demo_leads, months=months),
    )
    pd.testing.assert_frame_equal(velocity.velocity(demo_leads, closed=closed), velocity.velocity(demo_leads))
    # every lead closed a day later: each won deal's cycle is a day longer
    later = closed + np.timedelta64(1, "D")
    shifted = velocity.velocity(demo_leads, closed=later)
    assert np.allclose(shifted["cycle_days"], velocity.velocity(demo_leads)["cycle_days"] + 1)
    moved = forecast_range.actual_by_month(demo_leads, months=months, closed=later)
    assert not moved.equals(forecast_range.actual_by_month(demo_leads, months=months))


def test_stage_text_is_the_text_of_the_stage_codes():
    from funnelkit.funnel import lead_arrays

    keys = ["a", "b", "c"]
    codes = np.array([2, 0, 0, 1])
    expected = pd.Series(pd.Categorical.from_codes(codes, keys)).astype(str)
    pd.testing.assert_series_equal(pd.Series(lead_arrays.stage_text(codes, keys)), expected)
    assert lead_arrays.stage_text(codes[:0], keys).tolist() == []


def test_won_stage_is_the_lowest_stage_a_won_lead_reached(leads, demo_leads):
    # the frame's rule: the won leads' stages, lowest first; the last stage when none is won
    keys = [s["key"] for s in STAGES]
    lower = leads.assign(stage=np.where(leads["lead_id"].eq("L1"), "b", leads["stage"]))  # L1 won at b
    assert forecast.won_stage(leads, stages=STAGES) == "c" and forecast.won_stage(lower, stages=STAGES) == "b"
    assert forecast.won_stage(leads.assign(outcome="lost"), stages=STAGES) == keys[-1]
    all_keys = [s.key for s in forecast.resolve_stages(None)]
    expected = all_keys[int(demo_leads.loc[demo_leads["outcome"] == "won", "stage"].map(all_keys.index).min())]
    assert forecast.won_stage(demo_leads) == expected == "signed"
