"""Lost-deal analysis on a small hand-made frame: scope, rates, target status, reasons, recovery.

The frame (all leads created in 2006, default telecom funnel, deal stage = contacted):

    id  line stage      outcome reason       kind           follow/re-eng/recov  created → lost
    P1  A    target     lost    网络未覆盖   -              (before the deal stage: context only)
    P2  A    potential  open    -            -
    A1  A    signed     won
    A2  A    effective  won
    A3  A    intent     lost    价格太高     abandoned      T T T                01-01 → 01-11 (10 d)
    A4  A    contacted  lost    价格太高     long_unclosed  T T F                01-01 → 01-21 (20 d)
    A5  A    intent     lost    跟进不及时   misjudged      T F -                01-01 → 01-31 (30 d)
    A6  A    intent     open
    B1  B    signed     won
    B2  B    contacted  lost    品牌不认可   competitor 中国移动                 02-01 → 02-06 (5 d)
    B3  B    intent     lost    价格太高     unreachable                         02-01 → 02-16 (15 d)
    B4  B    contacted  lost    未知原因X    abandoned      F - -                02-01 → 02-26 (25 d)
    B5  B    intent     lost    (empty)      competitor (no brand)               no loss date
    B6  B    contacted  lost    价格太高     competitor 中国联通                 02-01 → 01-29 (before creation)

Deals: won 3 (A1 A2 B1), lost 8, open 1 → closed 11, lost rate 8/11.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats import proportion as sm_proportion
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from funnelkit.exceptions import ParamsError
from funnelkit.lost import deals as lost

TAXONOMY = {
    "product_price": ["价格太高", "产品不满意", "资源不足"],
    "sales_process": ["跟进不及时"],
    "brand": ["品牌不认可"],
    "customer": ["资金未到位", "要求不合理"],
}
NA = None


def deals_of(leads: pd.DataFrame, **options) -> pd.DataFrame:
    """The deals of ``leads`` with the deal stage and taxonomy of these tests."""
    return lost.deals(leads, **{"deal_from_stage": "contacted", "taxonomy": TAXONOMY, **options})


def small_leads() -> pd.DataFrame:
    rows = [  # id, line, stage, outcome, reason, kind, competitor, followed, reengaged, recovered, created, lost
        ("P1", "A", "target", "lost", "网络未覆盖", NA, NA, NA, NA, NA, "2006-01-01", "2006-01-05"),
        ("P2", "A", "potential", "open", NA, NA, NA, NA, NA, NA, "2006-01-01", NA),
        ("A1", "A", "signed", "won", NA, NA, NA, NA, NA, NA, "2006-01-01", NA),
        ("A2", "A", "effective", "won", NA, NA, NA, NA, NA, NA, "2006-01-01", NA),
        ("A3", "A", "intent", "lost", "价格太高", "abandoned", NA, True, True, True, "2006-01-01", "2006-01-11"),
        (
            "A4",
            "A",
            "contacted",
            "lost",
            "价格太高",
            "long_unclosed",
            NA,
            True,
            True,
            False,
            "2006-01-01",
            "2006-01-21",
        ),
        ("A5", "A", "intent", "lost", "跟进不及时", "misjudged", NA, True, False, NA, "2006-01-01", "2006-01-31"),
        ("A6", "A", "intent", "open", NA, NA, NA, NA, NA, NA, "2006-01-01", NA),
        ("B1", "B", "signed", "won", NA, NA, NA, NA, NA, NA, "2006-02-01", NA),
        (
            "B2",
            "B",
            "contacted",
            "lost",
            "品牌不认可",
            "competitor",
            "中国移动",
            NA,
            NA,
            NA,
            "2006-02-01",
            "2006-02-06",
        ),
        ("B3", "B", "intent", "lost", "价格太高", "unreachable", NA, NA, NA, NA, "2006-02-01", "2006-02-16"),
        ("B4", "B", "contacted", "lost", "未知原因X", "abandoned", NA, False, NA, NA, "2006-02-01", "2006-02-26"),
        ("B5", "B", "intent", "lost", NA, "competitor", NA, NA, NA, NA, "2006-02-01", NA),
        ("B6", "B", "contacted", "lost", "价格太高", "competitor", "中国联通", NA, NA, NA, "2006-02-01", "2006-01-29"),
    ]
    columns = [
        "lead_id",
        "product_line",
        "stage",
        "outcome",
        "lost_reason",
        "lost_kind",
        "competitor",
        "followed_up",
        "reengaged",
        "recovered",
        "created_date",
        "lost_date",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.assign(
        branch="测试分公司",
        segment=np.where(frame["product_line"].eq("A"), "商企", "住宅"),
        owner=frame["lead_id"].str[0] + "某",
        created_date=pd.to_datetime(frame["created_date"]),
        lost_date=pd.to_datetime(frame["lost_date"]),
        **{c: frame[c].astype("boolean") for c in ("followed_up", "reengaged", "recovered")},
        note=pd.Series(pd.NA, index=frame.index, dtype="string"),
    )


@pytest.fixture
def deal_leads() -> pd.DataFrame:
    return deals_of(small_leads())


def test_deals_keep_leads_from_the_deal_stage_on_and_leave_input_alone():
    leads = small_leads()
    before = leads.copy()
    result = deals_of(leads)
    assert sorted(result["lead_id"]) == sorted(set(leads["lead_id"]) - {"P1", "P2"})
    pd.testing.assert_frame_equal(leads, before)
    # with the deal stage moved to intent, contacted leads (A4 B2 B4 B6) leave too: 12 - 4 = 8
    assert len(lost.deals(leads, deal_from_stage="intent")) == 8
    # a deal lost without a reason gets the reason code "missing" (B5), never a word of a language
    assert result.set_index("lead_id").loc["B5", ["reason", "category"]].tolist() == ["missing", "missing"]


def test_scope_counts_show_leads_before_the_deal_stage_once():
    scope = lost.scope_counts(small_leads(), deal_from_stage="contacted").set_index("scope")
    assert list(scope.index) == ["deals", "before_deals"]  # codes; the view names the stage
    deals_row, before_row = scope.loc["deals"], scope.loc["before_deals"]
    assert (deals_row["won"], deals_row["lost"], deals_row["open"], deals_row["leads"]) == (3, 8, 1, 12)
    assert (before_row["won"], before_row["lost"], before_row["open"]) == (0, 1, 1)
    assert before_row["top_reasons"] == "网络未覆盖"


def test_overall_and_product_line_rates_with_wilson_intervals(deal_leads):
    rates = lost.lost_rates(deal_leads, by=["product_line"])
    assert list(rates["dimension"]) == ["overall", "product_line", "product_line"]  # codes, not labels
    overall = rates.iloc[0]
    assert (overall["won"], overall["lost"], overall["open"], overall["closed"]) == (3, 8, 1, 11)
    assert overall["lost_rate"] == pytest.approx(8 / 11)
    assert overall["win_rate"] == pytest.approx(3 / 11)
    a = rates[rates["group"].eq("A")].iloc[0]  # A: won 2, lost 3 → 3/5
    b = rates[rates["group"].eq("B")].iloc[0]  # B: won 1, lost 5 → 5/6
    assert (a["lost"], a["closed"], a["lost_rate"]) == (3, 5, pytest.approx(0.6))
    assert (b["lost"], b["closed"], b["lost_rate"]) == (5, 6, pytest.approx(5 / 6))
    for row, lost_n, won_n in ((a, 3, 2), (b, 5, 1), (overall, 8, 3)):
        closed = lost_n + won_n
        assert (row["lost_rate_low"], row["lost_rate_high"]) == pytest.approx(
            proportion_confint(lost_n, closed, method="wilson")
        )
        assert (row["win_rate_low"], row["win_rate_high"]) == pytest.approx(
            proportion_confint(won_n, closed, method="wilson")
        )
    assert rates["too_few"].all()  # 11 closed deals < MIN_GROUP
    assert list(rates["group"][1:]) == ["B", "A"]  # highest lost rate first


def test_monthly_rates_follow_the_creation_month(deal_leads):
    monthly = lost.monthly_rates(deal_leads)
    assert list(monthly["month"]) == ["2006-01", "2006-02"]
    assert list(monthly["lost_rate"]) == pytest.approx([3 / 5, 5 / 6])


@pytest.mark.parametrize(
    ("rate", "status"),
    [
        (0.60, "on_track"),
        (0.65, "on_track"),
        (0.6500001, "at_risk"),
        (17 / 25, "at_risk"),
        (0.65 + 0.03, "at_risk"),
        (0.6800001, "off_track"),
        (0.9, "off_track"),
        (float("nan"), "off_track"),
    ],
)
def test_target_status_boundaries(rate, status):
    assert lost.target_status(rate, target=0.65, margin=0.03) == status


def test_target_check_gap(deal_leads):
    row = lost.target_check(deal_leads, target=0.65, margin=0.03).iloc[0]
    # 8/11 = 0.7273 is 0.0773 above 0.65, more than the 0.03 margin
    assert row["gap_to_target"] == pytest.approx(8 / 11 - 0.65)
    assert row["status"] == "off_track"
    assert lost.target_check(deal_leads, target=0.70, margin=0.03).iloc[0]["status"] == "at_risk"  # 0.0273 ≤ 0.03


def test_year_over_year_change(deal_leads):
    earlier = small_leads().assign(
        created_date=lambda d: d["created_date"] - pd.DateOffset(years=1), lead_id=lambda d: d["lead_id"] + "-05"
    )
    earlier = earlier[~earlier["lead_id"].isin(["A3-05", "A4-05"])]  # 2005: won 3, lost 6 → 6/9
    yoy = lost.year_over_year(deals_of(pd.concat([earlier, small_leads()])))
    assert list(yoy["year"].astype(int)) == [2005, 2006]
    assert yoy["lost_rate"].tolist() == pytest.approx([6 / 9, 8 / 11])
    assert np.isnan(yoy["change"].iloc[0])
    assert yoy["change"].iloc[1] == pytest.approx(8 / 11 - 6 / 9)  # +0.0606
    # the score test and Newcombe interval of statsmodels on the hand counts 8/11 against 6/9
    reference = sm_proportion.test_proportions_2indep(8, 11, 6, 9, method="score", compare="diff")
    assert yoy["p_value"].iloc[1] == pytest.approx(reference.pvalue)
    # by hand (Miettinen–Nurminen score, pooled 14/20 at a zero difference):
    # se = sqrt(0.7 × 0.3 × (1/11 + 1/9) × 20/19) = 0.2113, z = 0.0606 / 0.2113 = 0.287, p = 0.774
    assert yoy["p_value"].iloc[1] == pytest.approx(0.7743, abs=1e-3)
    low, high = confint_proportions_2indep(8, 11, 6, 9, method="newcomb", compare="diff")
    assert (yoy["change_low"].iloc[1], yoy["change_high"].iloc[1]) == pytest.approx((low, high))


def test_current_year_defaults_to_latest_and_rejects_a_year_without_deals(deal_leads):
    assert lost.latest_year(deal_leads, 0) == 2006
    assert lost.latest_year(deal_leads, 2006) == 2006
    with pytest.raises(ParamsError, match="current_year"):
        lost.latest_year(deal_leads, 2001)


def test_lead_flow_counts(deal_leads):
    flow = lost.lead_flow(deal_leads).set_index(["source", "target"])["count"]
    assert flow["pool", "won"] == 3 and flow["pool", "open"] == 1 and flow["pool", "lost"] == 8
    # quasi-lost A3 A4 A5 B4; truly lost B2 B3 B5 B6; A3 won back
    assert flow["lost", "management"] == 4 and flow["lost", "competitor_pool"] == 4
    assert flow["lost", "kind_unknown"] == 0
    assert flow["management", "recovered"] == 1 and flow["management", "not_recovered"] == 3


def test_taxonomy_rejects_a_reason_in_two_categories():
    from funnelkit.lost import Params

    with pytest.raises(ParamsError, match="价格太高"):
        Params.from_values({"reason_taxonomy": {"product_price": ["价格太高"], "brand": ["价格太高"]}})


def two_years() -> pd.DataFrame:
    """2005 = the small frame a year earlier without A3 A4 (A: 1 of 3 lost, B: 5 of 6), then 2006."""
    earlier = small_leads().assign(
        created_date=lambda d: d["created_date"] - pd.DateOffset(years=1),
        lost_date=lambda d: d["lost_date"] - pd.DateOffset(years=1),
        lead_id=lambda d: d["lead_id"] + "-05",
    )
    return pd.concat([earlier[~earlier["lead_id"].isin(["A3-05", "A4-05"])], small_leads()], ignore_index=True)


def test_year_over_year_by_group_with_holm():
    table = lost.year_over_year_by(deals_of(two_years()), year=2006)
    lines = table[table["dimension"].eq("product_line")].set_index("group")
    # A: 1/3 → 3/5; B: 5/6 → 5/6
    assert lines.loc["A", ["closed_previous", "closed"]].tolist() == [3, 5]
    assert lines.loc["A", "change"] == pytest.approx(3 / 5 - 1 / 3)
    assert lines.loc["B", "change"] == pytest.approx(0)
    p_a = sm_proportion.test_proportions_2indep(3, 5, 1, 3, method="score", compare="diff").pvalue
    p_b = sm_proportion.test_proportions_2indep(5, 6, 5, 6, method="score", compare="diff").pvalue
    assert lines["p_value"].tolist() == pytest.approx([p_a, p_b])
    assert lines["p_adjusted"].tolist() == pytest.approx(multipletests([p_a, p_b], method="holm")[1])
    segments = table[table["dimension"].eq("segment")].set_index("group")  # 商企 = A, 住宅 = B
    assert segments.loc["商企", "p_value"] == pytest.approx(p_a)


def maturing_leads() -> pd.DataFrame:
    """The small frame with B1 still open (stage intent): deals won 2, lost 8, open 2."""
    leads = small_leads()
    b1 = leads["lead_id"].eq("B1")
    return leads.assign(outcome=leads["outcome"].where(~b1, "open"), stage=leads["stage"].where(~b1, "intent"))


def test_maturity_days_is_the_90th_percentile_of_days_to_loss(deal_leads):
    # dated losses 5 10 15 20 25 30 days (B5 undated, B6 before creation): p90 = 25 + 0.5 × 5 = 27.5 → 28
    assert lost.maturity_days(deal_leads, days=0) == 28
    assert lost.maturity_days(deal_leads, days=0, year=2006) == 28  # no earlier year: every year's losses
    assert lost.maturity_days(deal_leads, days=90) == 90
    assert lost.maturity_days(deal_leads.iloc[:0], days=0) == lost.FALLBACK_MATURITY_DAYS
    # with 2005 history (A5 B2 B3 B4 copies dated, 30 5 15 25 days: p90 = 25 + 0.7 × 5 = 28.5 → 29),
    # the 2006 losses are not used
    both = deals_of(two_years())
    assert lost.maturity_days(both, days=0, year=2006) == 29


def test_deals_not_yet_mature_leave_the_rate_target_and_tests():
    deal_leads = deals_of(maturing_leads())
    # end 2006-03-01, 40 days: cutoff 2006-01-20 → January deals (A) mature, February deals (B) not
    aged = lost.with_maturity(deal_leads, end="2006-03-01", days=40)
    assert sorted(aged.loc[aged["mature"], "lead_id"]) == ["A1", "A2", "A3", "A4", "A5", "A6"]
    row = lost.target_check(aged, target=0.65, margin=0.03).iloc[0]
    assert (row["closed"], row["lost"], row["lost_rate"]) == (5, 3, pytest.approx(3 / 5))  # A only
    assert row["status"] == "on_track"  # 0.60 ≤ 0.65, where all closed deals (8/10 = 0.80) would be off track
    assert (row["immature"], row["immature_open"]) == (6, 1)  # B1–B6, B1 open
    assert row["lost_rate_all"] == pytest.approx(8 / 10)
    assert row["lost_rate_if_open_lost"] == pytest.approx((8 + 2) / 12)  # A6 and B1 lost too
    assert lost.monthly_rates(aged)["mature"].tolist() == [True, False]
    yoy = lost.year_over_year(aged)
    assert yoy["lost_rate"].tolist() == [pytest.approx(3 / 5)] and yoy["immature"].tolist() == [6]
    # without maturity every deal counts
    assert lost.target_check(deal_leads, target=0.65, margin=0.03).iloc[0]["immature"] == 0
