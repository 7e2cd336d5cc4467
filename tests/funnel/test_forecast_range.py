"""The forecast range: draws, the expected inflow of new deals, the back-test coverage."""

import numpy as np
import pandas as pd
import pytest

from funnelkit.funnel import forecast_range as fr

D = pd.Timestamp


def _pipeline(rows):
    return pd.DataFrame(rows, columns=["lead_id", "win_prob", "amount", "close_month"])


def _no_new(months):
    return pd.DataFrame({"close_month": months, "new_won": 0.0})


def test_certain_leads_give_a_range_of_one_point():
    pipe = _pipeline([("a", 1.0, 100.0, "2007-01"), ("b", 0.0, 500.0, "2007-01"), ("c", 1.0, 40.0, "2007-02")])
    won, revenue = fr.simulate(pipe, new_deals=_no_new(["2007-01", "2007-02"]), amounts=np.array([]), draws=50, seed=1)
    assert (won == [1, 1]).all() and (revenue == [100, 40]).all()
    table = fr.summarise(won, revenue, months=["2007-01", "2007-02"], pipeline_won=[1, 1], new_won=[0, 0])
    assert table["close_month"].tolist() == ["2007-01", "2007-02", "all"]
    assert table[["won_p10", "won_p50", "won_p90"]].iloc[2].tolist() == [2, 2, 2]
    assert table[["amount_p10", "amount_p90"]].iloc[2].tolist() == [140, 140]


def test_a_coin_flip_lead_ranges_from_nothing_to_its_amount():
    pipe = _pipeline([("a", 0.5, 100.0, "2007-01"), ("late", 0.9, 100.0, "2007-09")])  # outside the months
    won, revenue = fr.simulate(pipe, new_deals=_no_new(["2007-01"]), amounts=np.array([]), draws=4000, seed=0)
    table = fr.summarise(won, revenue, months=["2007-01"], pipeline_won=[0.5], new_won=[0])
    assert table.loc[0, ["amount_p10", "amount_p90"]].tolist() == [0, 100]
    # about half the draws win it: 4000 draws, sd of the share 0.008, 5 sd allowed
    assert won.mean() == pytest.approx(0.5, abs=0.04)


def test_draws_are_reproducible_by_seed_and_match_the_expected_value():
    rng = np.random.default_rng(7)
    pipe = _pipeline(
        [(str(i), p, a, "2007-01") for i, (p, a) in enumerate(zip(rng.random(300), rng.random(300) * 1000))]
    )
    new = pd.DataFrame({"close_month": ["2007-01"], "new_won": [4.0]})
    amounts = np.array([10.0, 30.0])
    one = fr.simulate(pipe, new_deals=new, amounts=amounts, draws=3000, seed=3)
    two = fr.simulate(pipe, new_deals=new, amounts=amounts, draws=3000, seed=3)
    assert all((a == b).all() for a, b in zip(one, two))
    # mean deals: Σp + 4; mean revenue: Σ p·a + 4 × 20
    assert one[0].mean() == pytest.approx(pipe["win_prob"].sum() + 4, rel=0.02)
    assert one[1].mean() == pytest.approx((pipe["win_prob"] * pipe["amount"]).sum() + 80, rel=0.02)
    # blocks of leads do not change the draws' distribution, only memory
    small = fr.BLOCK
    try:
        fr.BLOCK = 7
        blocked = fr.simulate(pipe, new_deals=new, amounts=amounts, draws=3000, seed=3)
    finally:
        fr.BLOCK = small
    assert blocked[0].mean() == pytest.approx(one[0].mean(), rel=0.02)


def test_draws_are_those_of_fresh_arrays_block_by_block(monkeypatch):
    """The reused buffers give, bit for bit, what drawing fresh arrays for each block gave."""
    rng = np.random.default_rng(11)
    months = ["2007-01", "2007-02", "2007-03"]
    pipe = _pipeline(
        [(str(i), p, round(a, 2), months[i % 3]) for i, (p, a) in enumerate(zip(rng.random(23), rng.random(23) * 900))]
    )
    monkeypatch.setattr(fr, "BLOCK", 5)  # four full blocks and a part
    monkeypatch.setattr(fr, "ROWS", 7)  # each drawn seven draws at a time, then the five left
    won, revenue = fr.simulate(pipe, new_deals=_no_new(months), amounts=np.array([]), draws=40, seed=5)

    fresh = np.random.default_rng(5)
    column = pipe["close_month"].map({m: i for i, m in enumerate(months)}).to_numpy()
    expected_won, expected_revenue = np.zeros((40, 3)), np.zeros((40, 3))
    for block in range(0, len(pipe), 5):
        part = slice(block, block + 5)
        one_hot = np.eye(3)[column[part]]
        deals = fresh.random((40, len(column[part]))) < pipe["win_prob"].to_numpy()[part]
        expected_won += deals @ one_hot
        expected_revenue += (deals * pipe["amount"].to_numpy()[part]) @ one_hot
    assert np.array_equal(won, expected_won) and np.array_equal(revenue, expected_revenue)


def test_threads_draw_what_one_thread_draws(monkeypatch):
    """Blocks drawn on several threads, each from its place in the stream, give one thread's
    numbers bit for bit, and leave the stream where one thread leaves it for the new deals."""
    rng = np.random.default_rng(13)
    months = ["2007-01", "2007-02"]
    pipe = _pipeline(
        [(str(i), p, round(a, 2), months[i % 2]) for i, (p, a) in enumerate(zip(rng.random(47), rng.random(47) * 900))]
    )
    new = pd.DataFrame({"close_month": months, "new_won": [3.0, 5.0]})
    amounts = np.array([120.5, 80.25, 999.0])
    monkeypatch.setattr(fr, "BLOCK", 6)  # seven full blocks and a part
    one = fr.simulate(pipe, new_deals=new, amounts=amounts, draws=30, seed=2, threads=1)
    for threads, rows in [(2, 30), (2, 4), (3, 7), (8, 1), (20, 30)]:
        monkeypatch.setattr(fr, "ROWS", rows)
        split = fr.simulate(pipe, new_deals=new, amounts=amounts, draws=30, seed=2, threads=threads)
        assert all(np.array_equal(a, b) for a, b in zip(one, split)), (threads, rows)
    # the new deals' draws are part of the check: without them the totals differ
    without = fr.simulate(pipe, new_deals=_no_new(months), amounts=amounts, draws=30, seed=2)
    assert not np.array_equal(one[0], without[0])


def _leads(rows):
    return pd.DataFrame(
        [
            {
                "lead_id": i,
                "created_date": D(created),
                "segment": "x",
                "stage": "c" if outcome == "won" else "a",
                "outcome": outcome,
                "amount": amount,
                "date_a": D(created),
                "date_b": pd.NaT,
                "date_c": D(closed) if outcome == "won" else pd.NaT,
                "lost_date": D(closed) if outcome == "lost" else pd.NaT,
            }
            for i, (created, outcome, closed, amount) in enumerate(rows)
        ]
    )


STAGES = [{"key": "a", "zh": "甲", "en": "A"}, {"key": "b", "zh": "乙", "en": "B"}, {"key": "c", "zh": "丙", "en": "C"}]


def test_new_deals_by_hand():
    # as_of 2007-01-01, window one month: December 2006 holds 31 leads → 1 lead a day.
    # Closed before as_of: 31 leads, one won (created 12-01, won 12-11: a 10-day lag) → conversion 1/31.
    rows = [("2006-12-01", "won", "2006-12-11", 100.0)] + [
        (f"2006-12-{d:02d}", "lost", "2006-12-31", np.nan) for d in range(2, 32)
    ]
    table = fr.new_deal_rates(
        _leads(rows), as_of="2007-01-01", months=["2007-01", "2007-02"], inflow_months=1, stages=STAGES
    )
    # January: leads created Jan 1–21 close in January (21 days); February: created Jan 22–Feb 18 (28 days)
    assert table["new_won"].tolist() == pytest.approx([21 / 31, 28 / 31])


def test_coverage_counts_months_inside_the_range():
    ranged = pd.DataFrame(
        {
            "close_month": ["2006-01", "2006-02", "all"],
            "won_p10": [1, 1, 3],
            "won_p50": [2, 2, 4],
            "won_p90": [3, 3, 5],
            "amount_p10": [10, 10, 30],
            "amount_p50": [20, 20, 40],
            "amount_p90": [30, 30, 50],
        }
    )
    actual = pd.DataFrame(
        {"close_month": ["2006-01", "2006-02", "all"], "actual_won": [3.0, 4.0, 7.0], "actual_amount": [5, 30, 35]}
    )
    table, cover = fr.coverage(ranged, actual)
    # deals: 3 in [1, 3], 4 outside → 1 of 2; amounts: 5 outside, 30 inside → 1 of 2; totals 7 out, 35 in
    assert table["won_inside"].tolist() == [True, False, False]
    assert cover == {
        "months": 2,
        "won_coverage": 0.5,
        "amount_coverage": 0.5,
        "total_won_inside": False,
        "total_amount_inside": True,
    }


def test_actual_by_month_by_hand():
    rows = [("2006-01-05", "won", "2006-01-20", 100.0), ("2006-01-06", "won", "2006-03-02", 50.0)]
    rows += [("2006-01-07", "lost", "2006-01-08", np.nan)]
    table = fr.actual_by_month(_leads(rows), months=["2006-01", "2006-02", "2006-03"], stages=STAGES)
    assert table["actual_won"].tolist() == [1, 0, 1, 2] and table["actual_amount"].tolist() == [100, 0, 50, 150]


@pytest.mark.parametrize("block", [1, 7, 1 << 20])
def test_new_deal_amounts_drawn_in_blocks_equal_one_draw_for_all(monkeypatch, block):
    """The former single draw of every new deal's amount is the reference: blocks of draws
    must give the same sums from the same generator, and leave it in the same state."""
    monkeypatch.setattr(fr, "DEAL_BLOCK", block)
    amounts = np.random.default_rng(1).random(500) * 1000
    new = np.random.default_rng(2).poisson([3.0, 0.5, 40.0], size=(50, 3))
    one, blocks = np.random.default_rng(3), np.random.default_rng(3)
    cell = np.repeat(np.arange(new.size), new.ravel())
    expected = np.bincount(cell, weights=one.choice(amounts, size=cell.size), minlength=new.size).reshape(new.shape)
    np.testing.assert_array_equal(fr._new_deal_revenue(blocks, new, amounts), expected)
    assert one.random() == blocks.random()
