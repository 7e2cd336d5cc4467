"""Reasons, categories, Pareto, stage × reason and timing on the frame of tests/test_lost.py.

Lost deals and reasons: A: 价格太高 ×2 (A3 A4), 跟进不及时 (A5); B: 品牌不认可 (B2), 价格太高 ×2
(B3 B6), 未知原因X (B4, not in the taxonomy), empty (B5).
"""

from __future__ import annotations

import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from funnelkit.lost import reasons as lost_reasons
from funnelkit.lost.labels import category_label
from tests.lost.test_deals import TAXONOMY, deals_of, small_leads


@pytest.fixture
def deal_leads() -> pd.DataFrame:
    return deals_of(small_leads())


def test_reason_shares_per_product_line(deal_leads):
    shares = lost_reasons.reason_shares(deal_leads).set_index(["product_line", "reason"])["share"]
    assert shares["A", "价格太高"] == pytest.approx(2 / 3)
    assert shares["A", "跟进不及时"] == pytest.approx(1 / 3)
    assert shares["B", "价格太高"] == pytest.approx(2 / 5)
    assert shares["B", "品牌不认可"] == pytest.approx(1 / 5)
    assert shares["B", "未知原因X"] == pytest.approx(1 / 5)
    assert shares["B", "missing"] == pytest.approx(1 / 5)  # the empty reason is counted, not dropped
    assert shares.groupby(level="product_line").sum().tolist() == pytest.approx([1.0, 1.0])


def test_share_matrix_columns_sum_to_one_and_top_reasons(deal_leads):
    shares = lost_reasons.reason_shares(deal_leads)
    matrix = lost_reasons.share_matrix(shares)
    assert matrix["reason"].iloc[0] == "价格太高"  # 4 of 8 lost deals
    assert matrix[["A", "B"]].sum().tolist() == pytest.approx([1.0, 1.0])
    assert lost_reasons.top_reasons(shares) == {"A": "价格太高", "B": "价格太高"}


def test_categories_keep_unmapped_and_missing_reasons(deal_leads):
    categories = lost_reasons.category_shares(deal_leads, taxonomy=TAXONOMY).set_index("category")
    # product_price: A3 A4 B3 B6 = 4; sales_process: A5; brand: B2; customer: none; unmapped: B4; missing: B5
    assert categories["lost"].to_dict() == {
        "product_price": 4,
        "sales_process": 1,
        "brand": 1,
        "customer": 0,
        "unmapped": 1,
        "missing": 1,
    }
    assert categories["lost"].sum() == 8  # every lost deal, none dropped
    assert category_label("unmapped", "en") == "Unmapped reason"  # the table holds the code; views name it
    assert categories.loc["unmapped", "reasons"] == "未知原因X"
    assert lost_reasons.controllable_share(categories.reset_index()) == pytest.approx(1 / 8)


def test_unmapped_reason_warning_names_the_reason_and_its_count(deal_leads):
    from funnelkit.lost import Params, analyse, data_warnings

    unlisted = lost_reasons.unlisted_reasons(deal_leads)
    assert unlisted.to_dict("list") == {
        "category": ["unmapped", "missing"],
        "reason": ["未知原因X", "missing"],
        "lost": [1, 1],
    }
    params = Params(reason_taxonomy=TAXONOMY, as_of="2006-12-31")
    warnings = data_warnings(analyse({"leads": small_leads()}, params), "zh")
    assert len(warnings) == 2
    assert "未知原因X" in warnings[0] and "1 个" in warnings[0] and "未归类原因" in warnings[0]
    assert "1 个战败商机没有填写" in warnings[1]
    clean = deals_of(small_leads().assign(lost_reason="价格太高"))
    assert lost_reasons.unlisted_reasons(clean).empty


def test_pareto_cumulates_to_one(deal_leads):
    table = lost_reasons.pareto(deal_leads)
    assert table["reason"].iloc[0] == "价格太高" and table["lost"].iloc[0] == 4
    assert table["share"].iloc[0] == pytest.approx(0.5)
    assert table["cum_share"].iloc[-1] == pytest.approx(1.0)
    assert table["lost"].is_monotonic_decreasing


def test_reason_change_against_previous_year(deal_leads):
    earlier = small_leads().assign(
        created_date=lambda d: d["created_date"] - pd.DateOffset(years=1),
        lead_id=lambda d: d["lead_id"] + "-05",
        lost_reason=lambda d: d["lost_reason"].where(d["lost_reason"].isna(), "品牌不认可"),
    )
    both = deals_of(pd.concat([earlier, small_leads()]))
    change = lost_reasons.reason_change(both, year=2006).set_index("reason")
    # 2005: 品牌不认可 7 of 8 lost (B5 empty); 2006: 1 of 8
    assert change.loc["品牌不认可", "share_previous"] == pytest.approx(7 / 8)
    assert change.loc["品牌不认可", "change"] == pytest.approx(1 / 8 - 7 / 8)
    assert change.loc["价格太高", "change"] == pytest.approx(4 / 8 - 0)
    assert change.loc["品牌不认可", "p_value"] < 0.05
    # every reason is tested: Holm over the reasons' p-values, in the table's order
    assert change["p_adjusted"].tolist() == pytest.approx(multipletests(change["p_value"], method="holm")[1])
    assert (change["p_adjusted"] >= change["p_value"]).all()
    assert lost_reasons.reason_change(deal_leads, year=2006).empty  # no 2005 deals


def test_stage_reason_crosstab(deal_leads):
    table = lost_reasons.stage_reason(deal_leads).set_index("stage")
    # contacted: A4 价格太高, B2 品牌不认可, B4 未知原因X, B6 价格太高; intent: A3 A5 B3 B5
    assert list(table.index) == ["contacted", "intent"]  # stage keys in funnel order (views show 接触客户, 意向客户)
    assert table.loc["contacted", "价格太高"] == 2 and table.loc["contacted", "total"] == 4
    assert table.loc["intent", "跟进不及时"] == 1 and table.loc["intent", "total"] == 4


def test_loss_timing_median_and_p90(deal_leads):
    timing = lost_reasons.loss_timing(deal_leads).set_index("group")
    # A: 10, 20, 30 days → median 20, p90 = 20 + 0.8 × 10 = 28
    assert tuple(timing.loc["A", ["lost", "dated", "median_days", "p90_days"]]) == (3, 3, 20, pytest.approx(28))
    # B: 5, 15, 25 (B5 has no date, B6 is dated before creation) → median 15, p90 23
    assert tuple(timing.loc["B", ["lost", "dated", "median_days", "p90_days"]]) == (5, 3, 15, pytest.approx(23))
    # all six dated: 5 10 15 20 25 30 → median 17.5, p90 = 25 + 0.5 × 5 = 27.5
    assert timing.loc["all", "median_days"] == pytest.approx(17.5)
    assert timing.loc["all", "p90_days"] == pytest.approx(27.5)


def test_category_shares_without_lost_deals_are_zeros_without_a_warning():
    import warnings

    from funnelkit.lost.reasons import category_shares

    none = pd.DataFrame({c: pd.Series([], dtype="string") for c in ("outcome", "category", "reason")})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = category_shares(none, taxonomy={"price": ["贵"], "sales_process": ["慢"]})
    assert table["category"].tolist() == ["price", "sales_process"]
    assert table["reasons"].tolist() == ["", ""] and table["lost"].tolist() == [0, 0]
    assert table["share"].tolist() == [0.0, 0.0]
