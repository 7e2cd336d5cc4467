"""Tests of cohort retention, realised LTV, RFM and lifecycle stages on small hand-made logs."""

import numpy as np
import pandas as pd
import pytest

from funnelkit.exceptions import ParamsError
from funnelkit.ltv import Params
from funnelkit.ltv.cohorts import (
    break_even,
    cohort_activity,
    cohort_matrix,
    pooled_retention,
    realised_ltv,
    typical_break_even,
    with_margin,
)
from funnelkit.ltv.lifecycle import churn_by_group, follows_inverted_u, lifecycle_stages, stage_summary
from funnelkit.ltv.params import LIFECYCLE_RULES
from funnelkit.ltv.rfm import rfm_summary


def log(rows, **extra):
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"]).assign(
        date=lambda d: pd.to_datetime(d["date"]), **extra
    )


# 2005 cohort: a (also 2006), b (single purchase); 2006 cohort: c (two purchases the same day)
LOG = log(
    [
        ("a", "2005-03-01", 100.0),
        ("a", "2006-05-01", 50.0),
        ("b", "2005-07-01", 80.0),
        ("c", "2006-02-01", 30.0),
        ("c", "2006-02-01", 20.0),
    ],
    margin=lambda d: d["amount"] * 0.4,
)


def test_margin_basis_prefers_margin_then_cost_then_rate():
    tx = pd.DataFrame({"amount": [100.0, 100.0, 100.0], "margin": [10.0, None, None], "cost": [99.0, 70.0, None]})
    out = with_margin(tx, cost_rate=0.8)
    assert out["margin"].tolist() == pytest.approx([10.0, 30.0, 20.0])
    assert out["margin_basis"].tolist() == ["margin", "cost", "cost_rate"]
    no_margin_column = with_margin(tx.drop(columns="margin"), cost_rate=0.8)
    assert no_margin_column["margin"].tolist() == pytest.approx([1.0, 30.0, 20.0])


def test_retention_by_hand_and_unobserved_cells_blank():
    # as of 2006-12-31: 2005 cohort = {a, b}: 2005 both active (1.0), 2006 only a (0.5);
    # 2006 cohort = {c}: period 0 active (1.0)
    full = cohort_activity(LOG, period="year", as_of="2006-12-31")
    assert full[["cohort", "period", "retention"]].values.tolist() == [
        ["2005", 0, 1.0],
        ["2005", 1, 0.5],
        ["2006", 0, 1.0],
    ]
    assert full["revenue"].tolist() == [180.0, 50.0, 50.0]
    assert full["orders"].tolist() == [2, 1, 2]
    # as of 2006-06-30 the year 2006 is not complete: its cells are NA, not 0
    part = cohort_activity(LOG, period="year", as_of="2006-06-30")
    unseen = part.loc[~part["observed"]]
    assert len(unseen) == 2 and unseen[["active", "revenue", "retention"]].isna().all().all()
    matrix = cohort_matrix(part, value="retention")
    assert matrix.columns.tolist() == ["cohort", "customers", "0", "1"]
    assert matrix.loc[matrix["cohort"] == "2005", "1"].isna().all()
    assert pooled_retention(full, period=1) == 0.5 and np.isnan(pooled_retention(part, period=1))


def test_monthly_cohorts_count_periods_from_acquisition_month():
    out = cohort_activity(LOG, period="month", as_of="2006-12-31")
    a = out.loc[out["cohort"] == "2005-03"]
    # a bought in 2005-03 and 2006-05: 14 months later; b's cohort is 2005-07
    assert a.loc[a["active"] > 0, "period"].tolist() == [0, 14]
    assert set(out["cohort"]) == {"2005-03", "2005-07", "2006-02"}


def test_realised_ltv_and_break_even_by_hand():
    # 2005 cohort, 2 customers, margin 40% → period 0 margin (100+80)*0.4 = 72 → 36 per customer;
    # period 1: 50*0.4 = 20 → 10 per customer; marketing 10 a year × 1 active / 2 = 5 per customer;
    # discount 10%: (10 − 5)/1.1 = 4.5454; acquisition 40 → LTV −4, then 0.5454 → breaks even in period 1
    act = cohort_activity(LOG, period="year", as_of="2006-12-31")
    ltv = realised_ltv(act, period="year", acquisition_cost=40, marketing_cost=10, discount_rate=0.1)
    first = ltv.loc[ltv["cohort"] == "2005"]
    assert first["ltv"].tolist() == pytest.approx([-4.0, 0.545454], abs=1e-6)
    assert first["marketing_per_customer"].tolist() == pytest.approx([0.0, 5.0])
    # 2006 cohort: c, margin 50*0.4 = 20 − 40 = −20: not yet paid back
    periods = break_even(ltv).set_index("cohort")["break_even_period"]
    assert periods["2005"] == 1 and pd.isna(periods["2006"])
    assert typical_break_even(break_even(ltv)) == 1.0


def test_rfm_single_purchase_and_same_day_purchases():
    # as of 2006-12-31 (days):
    # a: purchases 2005-03-01, 2006-05-01 → frequency 1, recency 426, T 670, monetary 50 (repeat only)
    # b: one purchase 2005-07-01 → frequency 0, recency 0, T 548, monetary 0
    # c: two purchases on 2006-02-01 → one purchase day: frequency 0, recency 0, T 333, monetary 0
    rfm = rfm_summary(LOG, as_of="2006-12-31", freq="D").set_index("customer_id")
    assert rfm.loc["a"].tolist() == [1.0, 426.0, 670.0, 50.0]
    assert rfm.loc["b"].tolist() == [0.0, 0.0, 548.0, 0.0]
    assert rfm.loc["c"].tolist() == [0.0, 0.0, 333.0, 0.0]


def test_rfm_same_day_repeat_purchases_are_summed_and_later_ones_dropped():
    # d: day 1 (10), day 11 twice (5 + 7 = 12), day 21 (30), and one after the end (ignored)
    # frequency 2, recency 20, T 30 (end 2006-01-31), monetary (12 + 30)/2 = 21
    tx = log(
        [
            ("d", "2006-01-01", 10.0),
            ("d", "2006-01-11", 5.0),
            ("d", "2006-01-11", 7.0),
            ("d", "2006-01-21", 30.0),
            ("d", "2006-03-01", 99.0),
        ]
    )
    assert rfm_summary(tx, as_of="2006-01-31", freq="D").iloc[0, 1:].tolist() == [2.0, 20.0, 30.0, 21.0]
    # in weeks (weeks start on Monday): 2006-01-01 is a Sunday (week of 2005-12-26)
    weekly = rfm_summary(tx, as_of="2006-01-31", freq="W").iloc[0]
    assert weekly["frequency"] == 2.0 and weekly["T"] == 5.0


def test_lifecycle_stages_at_rule_boundaries():
    as_of = "2006-12-31"
    tx = log(
        [
            ("new", "2006-06-01", 10.0),  # 7 months: exploration
            ("edge", "2005-12-31", 10.0),
            ("edge", "2006-12-01", 10.0),  # exactly 12 months, spend 10 vs 10
            ("form", "2005-01-01", 10.0),
            ("form", "2006-06-01", 10.0),  # 24 months, recent 10 vs previous 10
            ("fell", "2003-01-01", 100.0),
            ("fell", "2005-06-01", 100.0),
            ("fell", "2006-06-01", 70.0),  # −30%
            ("held", "2003-01-01", 100.0),
            ("held", "2005-06-01", 100.0),
            ("held", "2006-06-01", 71.0),  # −29%
            ("gone", "2004-01-01", 50.0),  # nothing for 3 years
        ],
        margin=lambda d: d["amount"],
    )
    stages = (
        lifecycle_stages(tx, as_of=as_of, rules=LIFECYCLE_RULES).set_index("customer_id")["stage"].astype(str).to_dict()
    )
    assert stages == {
        "new": "exploration",
        "edge": "formation",
        "form": "formation",
        "fell": "decline",
        "held": "stability",
        "gone": "decline",
    }
    # the boundary moves with the rules
    strict = lifecycle_stages(
        tx, as_of=as_of, rules={**LIFECYCLE_RULES, "exploration_months": 13, "decline_drop": 0.25}
    )
    assert strict.set_index("customer_id")["stage"].astype(str)[["edge", "held"]].tolist() == ["exploration", "decline"]
    # the rules and the cohort period are checked with the notebook's parameters, naming the key
    with pytest.raises(
        ParamsError, match=r"exploraton_months.*unknown lifecycle rule.*allowed keys: exploration_months"
    ):
        Params.from_values({"lifecycle_rules": {"exploraton_months": 6}})
    with pytest.raises(ParamsError, match=r"'lifecycle_rules'.*decline_drop"):
        Params.from_values({"lifecycle_rules": {"decline_drop": "30%"}})
    with pytest.raises(ParamsError, match=r"'cohort_period'.*year, quarter, month"):
        Params.from_values({"cohort_period": "week"})


def test_stage_profit_and_inverted_u():
    stages = pd.DataFrame(
        {
            "customer_id": list("abcd"),
            "stage": pd.Categorical(
                ["exploration", "formation", "stability", "decline"],
                categories=["exploration", "formation", "stability", "decline"],
            ),
            "recent_margin": [10.0, 20.0, 30.0, 5.0],
            "margin": [10.0, 50.0, 90.0, 60.0],
        }
    )
    summary = stage_summary(stages)
    assert summary["profit_per_customer"].tolist() == [10.0, 20.0, 30.0, 5.0]
    assert follows_inverted_u(summary) is True
    flat = stage_summary(stages.assign(recent_margin=[10.0, 20.0, 15.0, 5.0]))
    assert follows_inverted_u(flat) is False


def test_churn_by_group_counts_only_customers_old_enough():
    # as of 2006-12-31, churn window 12 months (cutoff 2005-12-31):
    # x (商企): last purchase 2005-06 → churned; y (商企): 2006-06 → stayed; z (住宅): acquired 2006 → not counted
    profiles = pd.DataFrame(
        {
            "customer_id": ["x", "y", "z"],
            "segment": ["商企", "商企", "住宅"],
            "region": ["A", "A", "B"],
            "first_purchase": pd.to_datetime(["2004-01-01", "2004-01-01", "2006-03-01"]),
            "last_purchase": pd.to_datetime(["2005-06-01", "2006-06-01", "2006-03-01"]),
            "revenue": [10.0, 20.0, 5.0],
        }
    )
    churn = churn_by_group(profiles, churn_months=12, as_of="2006-12-31")
    seg = churn.loc[churn["grouping"] == "segment"]
    assert seg[["group", "customers", "churned", "churn_rate"]].values.tolist() == [["商企", 2, 1, 0.5]]
    assert set(churn["grouping"]) == {"segment", "region", "value_tier"}


def test_a_transactions_file_in_the_contract_shape_feeds_the_analysis(tmp_path):
    from funnelkit.data.loading import load_table

    path = tmp_path / "tx.csv"
    pd.DataFrame(
        {
            "交易编号": ["t1", "t2", "t3", "t4", "t5"],
            "分公司": ["测试分公司"] * 5,
            "客户编号": ["a", "a", "b", "c", "c"],
            "日期": ["2005-03-01", "2006-05-01", "2005-07-01", "2006-02-01", "2006-02-01"],
            "金额": [100, 50, 80, 30, 20],
            "成本": [60, 30, 48, 18, 12],
        }
    ).to_csv(path, index=False)
    tx = load_table("transactions", branch="测试分公司", files={"transactions": str(path)})
    tx = with_margin(tx, cost_rate=0.9)
    assert set(tx["margin_basis"]) == {"cost"}  # margin = amount − cost = 40% of amount, as in LOG
    act = cohort_activity(tx, period="year", as_of="2006-12-31")
    assert act["retention"].tolist() == [1.0, 0.5, 1.0]
    assert realised_ltv(act, period="year", acquisition_cost=40, marketing_cost=10, discount_rate=0.1)["ltv"].iloc[
        1
    ] == (pytest.approx(0.545454, abs=1e-6))
    assert rfm_summary(tx, as_of="2006-12-31", freq="D").set_index("customer_id").loc["c", "frequency"] == 0
