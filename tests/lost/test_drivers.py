"""What goes with losing: odds ratios, smoothing, Fisher and Holm checked by hand on a small
frame; the gaps; the planted driver of the demo data found by the report."""

from __future__ import annotations

import math

import matplotlib
import pandas as pd
import pytest

from funnelkit import lost
from funnelkit.data.loading import load_tables
from funnelkit.lost.drivers import COLUMNS, loss_drivers, odds_ratio, strongest
from tests.lost.test_analysis import analyse_small
from tests.lost.test_deals import small_leads

matplotlib.use("Agg")


def deals(*groups: tuple[str, int, int, int]) -> pd.DataFrame:
    """Deals from (owner, lost, won, open) counts; every deal in region 东区."""
    rows = [
        (owner, outcome)
        for owner, n_lost, n_won, n_open in groups
        for outcome, n in (("lost", n_lost), ("won", n_won), ("open", n_open))
        for _ in range(n)
    ]
    return pd.DataFrame(rows, columns=["owner", "outcome"]).assign(region="东区")


def fisher_by_hand(a: int, b: int, c: int, d: int) -> float:
    """Two-sided Fisher exact p-value: the hypergeometric probabilities of every table with the
    same margins that is no likelier than the one observed, summed."""
    row, column, n = a + b, a + c, a + b + c + d

    def chance(k: int) -> float:
        return math.comb(row, k) * math.comb(n - row, column - k) / math.comb(n, column)

    observed = chance(a)
    tables = range(max(0, column - (n - row)), min(row, column) + 1)
    return sum(chance(k) for k in tables if chance(k) <= observed * (1 + 1e-7))


# A: 8 lost 2 won; B: 3 lost 7 won; C: 2 lost 2 won (too few to be tested itself, still among
# "the others" of A and B); open deals and a deal without an owner are in no group.
SMALL = pd.concat(
    [deals(("A", 8, 2, 3), ("B", 3, 7, 1), ("C", 2, 2, 0)), pd.DataFrame({"owner": [None], "outcome": ["lost"]})],
    ignore_index=True,
)


def test_odds_ratio_adds_one_to_every_cell_and_takes_woolfs_interval():
    ratio, low, high = odds_ratio(8, 2, 5, 9)
    assert float(ratio) == pytest.approx(9 * 10 / (3 * 6))  # (8+1)(9+1) / ((2+1)(5+1)) = 5
    spread = 1.959964 * math.sqrt(1 / 9 + 1 / 3 + 1 / 6 + 1 / 10)
    assert (float(low), float(high)) == pytest.approx((5 * math.exp(-spread), 5 * math.exp(spread)))
    ratio, _, _ = odds_ratio(10, 0, 5, 5)  # every deal with the value lost: finite, not infinite
    assert float(ratio) == pytest.approx(11 * 6 / (1 * 6))


def test_each_value_against_the_rest_of_its_attribute_by_hand():
    table = loss_drivers(SMALL, min_deals=5).set_index("value")
    assert list(table.columns) == [c for c in COLUMNS if c != "value"]
    assert sorted(table.index) == ["A", "B"]  # C has 4 decided deals; region has one value
    a, b = table.loc["A"], table.loc["B"]
    assert (a["attribute"], a["deals"], a["lost"]) == ("owner", 10, 8)
    assert a["lost_rate"] == pytest.approx(0.8) and a["lost_rate_without"] == pytest.approx(5 / 14)  # B + C
    assert a["odds_ratio"] == pytest.approx(5.0)  # (8+1)(9+1) / ((2+1)(5+1))
    assert b["lost_rate_without"] == pytest.approx(10 / 14)  # A + C
    assert b["odds_ratio"] == pytest.approx((3 + 1) * (4 + 1) / ((7 + 1) * (10 + 1)))
    p_a, p_b = fisher_by_hand(8, 2, 5, 9), fisher_by_hand(3, 7, 10, 4)
    assert a["p_value"] == pytest.approx(p_a, rel=1e-9) and b["p_value"] == pytest.approx(p_b, rel=1e-9)
    # Holm over the two: the smaller times 2, the larger times 1 but never below the smaller's
    low, high = min(p_a, p_b), max(p_a, p_b)
    holm = {low: min(1, 2 * low), high: min(1, max(high, 2 * low))}
    assert (a["p_adjusted"], b["p_adjusted"]) == pytest.approx((holm[p_a], holm[p_b]))
    assert set(table["direction"]) == {"unclear"}  # 10 deals each: suggestive, not clear


def test_a_clear_difference_reads_in_both_directions():
    table = loss_drivers(deals(("A", 30, 0, 0), ("B", 10, 20, 0), ("C", 12, 18, 5)), min_deals=20)
    reading = dict(zip(table["value"], table["direction"]))
    assert reading["A"] == "more_lost" and reading["B"] == "less_lost"
    assert table["direction"].iloc[0] != "unclear"  # clear readings first
    assert strongest(table, direction="more_lost")["value"].tolist() == ["A"]
    assert len(strongest(table, direction="less_lost")) == 1  # one value per attribute at most


def test_too_few_deals_leave_nothing_to_test():
    assert loss_drivers(SMALL, min_deals=11).empty  # A and B have 10 decided deals each
    assert list(loss_drivers(SMALL, min_deals=11).columns) == COLUMNS
    # the rest must be as large: with 100 deals of A, B's 10 are too few to stand against them
    assert loss_drivers(deals(("A", 60, 40, 0), ("B", 5, 5, 0)), min_deals=11).empty
    assert loss_drivers(deals(("A", 3, 0, 0)), min_deals=1).empty  # one owner: nothing to compare


def test_a_branch_with_too_few_decided_deals_gets_a_gap_with_the_reason():
    a = analyse_small(as_of="2006-12-31")  # 11 decided deals, every value under 30
    assert a.drivers is None and "loss_drivers" not in a.tables()
    assert a.gaps["drivers"].key == "lost.gap_drivers_too_few"
    assert "11" in a.gaps["drivers"].text("en") and "30" in a.gaps["drivers"].text("en")
    assert lost.views.drivers(a, "zh") is None and lost.plots.drivers(a) is None
    assert lost.drivers_note(a, "zh") == "" and "loss_drivers" not in lost.key_figures(a)
    assert not any("odds" in text for text in lost.findings(a, "en"))
    opened = small_leads().assign(outcome=lambda d: d["outcome"].where(d["stage"].eq("target"), "open"))
    b = analyse_small(opened, as_of="2006-12-31")
    assert b.gaps["drivers"].key == "lost.gap_drivers_no_decided" and "2006" in b.gaps["drivers"].text("en")


def test_small_counts_are_tested_when_the_branch_says_so():
    a = analyse_small(as_of="2006-12-31", driver_min_deals=2)
    assert a.has("drivers") and set(a.drivers["attribute"]) == {"segment", "product_line", "owner"}
    assert "2" in lost.drivers_note(a, "en")


@pytest.fixture(scope="module")
def ningbo():
    params = lost.Params(branch="宁波分公司")
    return lost.analyse(load_tables(params, ["leads"]), params)


def test_the_report_finds_the_demo_datas_planted_driver(ningbo):
    top = ningbo.drivers.iloc[0]
    assert (top["attribute"], top["value"], top["direction"]) == ("owner", "徐明", "more_lost")
    assert top["odds_ratio"] > 3 and top["p_adjusted"] < 0.001
    assert ningbo.drivers["direction"].eq("more_lost").sum() == 1  # nothing else stands out
    figures = lost.key_figures(ningbo)["loss_drivers"]
    assert [row["value"] for row in figures["more_lost"]] == ["徐明"]
    zh = " ".join(lost.findings(ningbo, "zh"))
    assert f"销售顾问「徐明」的商机战败的几率是其余商机的 {top['odds_ratio']:.1f} 倍" in zh
    shown = lost.views.drivers(ningbo, "en")
    assert shown.iloc[0, :2].tolist() == ["Sales owner", "徐明"] and shown.iloc[0, -1] == "Lost more often"


def test_the_chart_draws_the_values_on_a_log_axis(ningbo):
    from funnelkit.report.style import use_report_style

    use_report_style()
    ax = lost.plots.drivers(ningbo, lang="zh", top=10).axes[0]
    assert ax.get_xscale() == "log"
    assert len(ax.get_yticklabels()) == 10
    assert ax.get_yticklabels()[-1].get_text().startswith("销售顾问：徐明")  # the top row drawn at the top
    matplotlib.pyplot.close("all")
