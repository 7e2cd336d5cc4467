"""Year-over-year tests, peers, bottleneck ranking and sizing, decomposition, elasticities."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2, chi2_contingency

from funnelkit.funnel import compare as funnel_stats
from funnelkit.funnel import counts as funnel
from funnelkit.funnel import drivers as funnel_drivers

STAGES = [{"key": "a", "zh": "甲", "en": "A"}, {"key": "b", "zh": "乙", "en": "B"}, {"key": "c", "zh": "丙", "en": "C"}]
MIN_GROUP = 30  # the declared default of min_group


def _bottlenecks(transitions, *, period, **options):
    """Ranked with the declared defaults (no weights, no peers, no deal amount, top 3) unless given."""
    return funnel_drivers.bottlenecks(
        transitions,
        period=period,
        **{"controllability": {}, "peer_median": None, "amount": np.nan, "top": 3, **options},
    )


@pytest.fixture
def transitions():
    # whole branch: 2005 160 → 80 → 26, 2006 170 → 90 → 40 (x and y as in test_funnel)
    counts = pd.DataFrame(
        {
            "period": ["2005"] * 6 + ["2006"] * 6,
            "segment": (["x"] * 3 + ["y"] * 3) * 2,
            "stage": ["a", "b", "c"] * 4,
            "count": [100, 50, 20, 60, 30, 6, 120, 60, 30, 50, 30, 10],
        }
    )
    rates = funnel.stage_table(counts, stages=STAGES, min_group=MIN_GROUP)
    return funnel.transition_table(rates, stages=STAGES, min_group=MIN_GROUP)


def test_yoy_matches_pearson_chi_square(transitions):
    yoy = funnel_stats.yoy_tests(transitions, current="2006", previous="2005", adjust="holm", min_group=MIN_GROUP)
    bc = yoy[yoy["is_total"] & (yoy["transition"] == "b>c")].iloc[0]
    # 26 / 80 → 40 / 90: difference 0.4444 − 0.325 = 0.1194
    assert bc["diff"] == pytest.approx(40 / 90 - 26 / 80)
    # the Miettinen–Nurminen score test of a difference is Pearson's chi-square (no continuity
    # correction) scaled by (N − 1) / N, N = 80 + 90 = 170
    chi = chi2_contingency([[26, 80 - 26], [40, 90 - 40]], correction=False)
    assert bc["p_value"] == pytest.approx(chi2.sf(chi.statistic * 169 / 170, 1), rel=1e-9)
    assert bc["p_value"] == pytest.approx(chi.pvalue, abs=0.002)
    assert bc["diff_low"] < bc["diff"] < bc["diff_high"]
    # Holm within the whole-branch family of two tests: the smaller p doubled
    whole = yoy[yoy["is_total"]]
    assert whole["p_adjusted"].min() == pytest.approx(min(1, 2 * whole["p_value"].min()))
    assert len(yoy) == 6 and yoy["too_few"].sum() == 0


def test_yoy_flags_small_groups(transitions):
    yoy = funnel_stats.yoy_tests(transitions, current="2006", previous="2005", adjust="holm", min_group=31)
    # y: 2006 b→c starts with 30 customers: too few, not tested
    row = yoy[(yoy["segment"] == "y") & (yoy["transition"] == "b>c")].iloc[0]
    assert row["too_few"] and np.isnan(row["p_value"])
    assert funnel_stats.yoy_tests(transitions, current="2006", previous=None, adjust="holm", min_group=MIN_GROUP).empty


def test_bottleneck_ranking_follows_the_controllable_gain(transitions):
    # 2006: a→b 90/170 = 0.529, b→c 40/90 = 0.444, 40 last-stage customers. Against peer
    # medians of 0.6 and 0.5: a→b gains 40 × (0.6 / (9/17) − 1) = 5.33, b→c 40 × (0.5 / (4/9) − 1) = 5
    peer = pd.DataFrame({"transition": ["a>b", "b>c"], "peer_median": [0.6, 0.5]})
    ranked = _bottlenecks(transitions, period="2006", peer_median=peer, controllability={"a>b": 0.2})
    assert ranked["transition"].tolist() == ["b>c", "a>b"]  # 5 × 1 > 5.33 × 0.2 = 1.07
    assert ranked["priority_gain"].tolist() == pytest.approx([5, 0.2 * 40 * (0.6 * 17 / 9 - 1)])
    assert ranked["score"].tolist() == pytest.approx([50, 16])  # customers lost × weight, shown
    ranked = _bottlenecks(transitions, period="2006", peer_median=peer, controllability={"a>b": 1.0})
    assert ranked["transition"].tolist() == ["a>b", "b>c"]  # 5.33 > 5, though a→b loses more
    assert ranked["top"].tolist() == [True, True]
    flagged = _bottlenecks(transitions, period="2006", peer_median=peer, top=1)
    assert flagged["top"].tolist() == [True, False]


def test_a_step_without_gain_is_never_first(transitions):
    # a→b loses 80 customers but is at its peers' median; b→c loses 50 and is below it
    peer = pd.DataFrame({"transition": ["a>b", "b>c"], "peer_median": [90 / 170, 0.5]})
    ranked = _bottlenecks(transitions, period="2006", peer_median=peer)
    assert ranked["transition"].tolist() == ["b>c", "a>b"]
    assert ranked["top"].tolist() == [True, False]  # no gain, no flag
    # no gain anywhere (2006 is already the best period, no peers): nothing is flagged
    none = _bottlenecks(transitions, period="2006")
    assert (none["priority_gain"] == 0).all() and not none["top"].any()
    assert none["transition"].tolist() == ["a>b", "b>c"]  # then by customers lost


def test_bottleneck_sized_against_three_benchmarks(transitions):
    # b→c in 2006 at 4/9: peer median 0.45, better quarter 0.55, own best 0.444 (2006 itself)
    peer = pd.DataFrame({"transition": ["a>b", "b>c"], "peer_median": [0.5, 0.45], "peer_top": [0.5, 0.55]})
    ranked = _bottlenecks(transitions, period="2006", peer_median=peer, amount=10).set_index("transition")
    row = ranked.loc["b>c"]
    assert row["gain_peer"] == pytest.approx(40 * (0.45 * 9 / 4 - 1))  # 0.5
    assert row["gain_top"] == pytest.approx(40 * (0.55 * 9 / 4 - 1))  # 9.5
    assert row["gain_best"] == 0
    assert row["benchmark"] == "peer_top" and row["gain_customers"] == pytest.approx(9.5)
    assert row["gain_revenue"] == pytest.approx(95)
    # equal gains name the more modest benchmark
    tie = pd.DataFrame({"transition": ["b>c"], "peer_median": [0.5], "peer_top": [0.5]})
    assert (
        _bottlenecks(transitions, period="2006", peer_median=tie).set_index("transition").at["b>c", "benchmark"]
        == "peer_median"
    )


def test_bottleneck_gain_at_peer_median(transitions):
    peer = pd.DataFrame({"transition": ["a>b", "b>c"], "peer_median": [0.5, 0.5]})
    ranked = _bottlenecks(transitions, period="2006", peer_median=peer, amount=100).set_index("transition")
    # b→c at 40/90 reaching 0.5: last 40 × (0.5 / (4/9) − 1) = 40 × 0.125 = 5 customers, 500 yuan
    assert ranked.at["b>c", "gain_peer"] == pytest.approx(5)
    assert ranked.at["b>c", "gain_revenue"] == pytest.approx(500)
    assert ranked.at["b>c", "benchmark"] == "peer_median"
    # a→b already above 0.5 (90/170): no gain; the best period is 2006 itself
    assert ranked.at["a>b", "gain_customers"] == 0
    assert ranked.at["a>b", "best_period"] == "2006"


def test_bottleneck_gain_at_own_best(transitions):
    ranked = _bottlenecks(transitions, period="2005").set_index("transition")
    # 2005 b→c 26/80 = 0.325, best 2006 40/90: last 26 × (0.4444 / 0.325 − 1) = 9.5556
    assert ranked.at["b>c", "gain_best"] == pytest.approx(26 * ((40 / 90) / 0.325 - 1))
    assert ranked.at["b>c", "benchmark"] == "own_best"


def test_log_decomposition_adds_up_exactly(transitions):
    parts = funnel_drivers.decompose_change(transitions, current="2006", previous="2005")
    for _, segment in parts.groupby("segment"):
        change = segment["last_current"].iloc[0] - segment["last_previous"].iloc[0]
        assert segment["customers"].sum() == pytest.approx(change, abs=1e-9)
    whole = parts[parts["is_total"]].set_index("component")
    # 26 → 40: L = 14 / ln(40/26); volume 160 → 170 gives L × ln(170/160) = 1.9702
    assert whole.at["volume", "customers"] == pytest.approx(14 / np.log(40 / 26) * np.log(170 / 160))
    assert whole["log_change"].sum() == pytest.approx(np.log(40 / 26))


def test_elasticity_by_hand(transitions):
    e = funnel_drivers.elasticities(transitions, period="2006", amount=100).set_index("transition")
    # last 40: one point at b→c (4/9) → 0.01 × 40 / (4/9) = 0.9; at a→b (9/17) → 0.01 × 40 × 17/9 = 0.7556
    assert e.at["b>c", "customers_per_point"] == pytest.approx(0.9)
    assert e.at["a>b", "customers_per_point"] == pytest.approx(0.4 * 17 / 9)
    assert e.at["b>c", "revenue_per_point"] == pytest.approx(90)
    # check against the funnel itself: 170 × (90/170 + 0.01) × 40/90 − 40
    assert e.at["a>b", "customers_per_point"] == pytest.approx(170 * (90 / 170 + 0.01) * 40 / 90 - 40)


def _peers():
    rows = []
    for branch, (a, b) in {"甲分公司": (100, 50), "乙分公司": (200, 80), "丙分公司": (400, 200)}.items():
        rows += [(branch, "2006", "x", "a", a), (branch, "2006", "x", "b", b), (branch, "2006", "x", "c", b // 2)]
    return pd.DataFrame(rows, columns=["branch", "period", "segment", "stage", "count"])


def test_peer_median_and_funnel_plot():
    rates = funnel_stats.branch_transitions(_peers(), stages=STAGES, min_group=MIN_GROUP)
    median = funnel_stats.peer_medians(rates, branch="甲分公司", period="2006").set_index("transition")
    # the others convert a→b at 80/200 = 0.4 and 200/400 = 0.5: median 0.45
    assert median.at["a>b", "peer_median"] == pytest.approx(0.45) and median.at["a>b", "peers"] == 2
    plot = funnel_stats.funnel_plot_data(rates, branch="甲分公司", period="2006", transition="a>b")
    # pooled 330 / 700; 95% limits at n = 100: p0 ± 1.96 √(p0(1−p0)/100)
    p0 = 330 / 700
    own = plot[plot["is_self"]].iloc[0]
    assert own["p0"] == pytest.approx(p0)
    assert own["high95"] == pytest.approx(p0 + 1.959964 * np.sqrt(p0 * (1 - p0) / 100))
    assert own["position"] == "within"  # 0.5 inside [0.373, 0.569]
    low = plot[plot["branch"] == "乙分公司"].iloc[0]  # 0.4 at n = 200: below p0 − 1.96 × 0.0353 = 0.402
    assert low["position"] == "low"


def test_better_quarter_and_company_rate_by_hand():
    from funnelkit.data.schema import resolve_stages

    rates = funnel_stats.branch_transitions(_peers(), stages=STAGES, min_group=MIN_GROUP)
    others = funnel_stats.peer_medians(rates, branch="甲分公司", period="2006").set_index("transition")
    # a→b of the two others: 0.4 and 0.5; the top quartile's threshold 0.4 + 0.75 × 0.1 = 0.475
    assert others.at["a>b", "peer_top"] == pytest.approx(0.475)
    alone = funnel_stats.peer_medians(rates[rates["branch"] != "丙分公司"], branch="甲分公司", period="2006")
    assert alone.set_index("transition").at["a>b", "peer_top"] == pytest.approx(0.4)  # one other: itself
    # the company: every branch's last stage over its first, 25 + 40 + 100 = 165 of 700
    stages = resolve_stages(STAGES)
    assert funnel_stats.company_conversion(_peers(), stages=stages, period="2006") == pytest.approx(165 / 700)
    # it is the data's, not a run's: the same whichever branch asks, nothing for a year without data
    assert np.isnan(funnel_stats.company_conversion(_peers(), stages=stages, period="2005"))


def test_bottleneck_ranks_settled_losses():
    # as the fixture, but 40 of 2006 x's 120 at stage a are open leads still sitting there
    counts = pd.DataFrame(
        {
            "period": ["2005"] * 6 + ["2006"] * 6,
            "segment": (["x"] * 3 + ["y"] * 3) * 2,
            "stage": ["a", "b", "c"] * 4,
            "count": [100, 50, 20, 60, 30, 6, 120, 60, 30, 50, 30, 10],
        }
    )
    still_open = counts.assign(still_open=0).drop(columns="count")
    still_open.loc[
        (still_open["period"] == "2006") & (still_open["segment"] == "x") & (still_open["stage"] == "a"), "still_open"
    ] = 40
    steps = funnel.transition_table(
        funnel.stage_table(counts, stages=STAGES, min_group=MIN_GROUP),
        stages=STAGES,
        still_open=still_open,
        min_group=MIN_GROUP,
    )
    ranked = _bottlenecks(steps, period="2006").set_index("transition")
    # a→b: 170 enter, 90 go on, 40 open → 130 settled, 40 lost (not 80), loss 40 / 130; b→c loses 50
    assert ranked.loc["a>b", ["still_open", "lost"]].tolist() == [40, 40]
    assert ranked.loc["a>b", "loss_rate"] == pytest.approx(40 / 130)
    assert ranked.index.tolist() == ["b>c", "a>b"]  # 50 > 40; counting open leads as lost would put a→b first
    # own best a→b conversion is 2006's 90 / 130 (2005: 80 / 160): no gain against itself
    assert ranked.loc["a>b", "rate"] == pytest.approx(90 / 130) and ranked.loc["a>b", "gain_best"] == 0
