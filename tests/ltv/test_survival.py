"""The shifted-beta-geometric retention model against the worked examples of Fader & Hardie
(2007), "How to project customer retention", and cohort survivors counted from purchases."""

import numpy as np
import pandas as pd
import pytest

from funnelkit.ltv import survival

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize(("counts", "alpha", "beta"), [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)])
def test_the_papers_worked_examples(counts, alpha, beta):
    fitted = survival.fit(survival.survivor_counts(counts))
    assert (round(fitted["alpha"], 3), round(fitted["beta"], 3)) == (alpha, beta)


def test_survival_and_retention_by_hand():
    # alpha = beta = 1: S(t) = B(1, 1 + t) / B(1, 1) = 1 / (1 + t); retention (t)/(t + 1)
    params = {"alpha": 1.0, "beta": 1.0}
    assert survival.survival(params, [0, 1, 2, 3]) == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4])
    assert survival.retention_rates(params, [1, 2, 3]) == pytest.approx([1 / 2, 2 / 3, 3 / 4])
    # year-on-year from quarters: S(4) / S(0) = 1/5, S(8) / S(4) = 5/9
    assert survival.yearly_retention(params, periods_per_year=4, years=2) == pytest.approx([1 / 5, 5 / 9])


def test_discounted_residual_lifetime_is_the_discounted_sum_of_survival():
    params = {"alpha": 0.704, "beta": 1.182}
    t = np.arange(3_000)  # beyond, 1.1 ** -t leaves nothing to add
    kept = survival.survival(params, t)
    for renewals in (0, 1, 4):
        n = renewals + 1
        direct = float(np.sum(kept[n:] / kept[n - 1] / 1.1 ** (t[n:] - n)))
        assert survival.discounted_residual_lifetime(params, renewals=renewals, discount_rate=0.1) == pytest.approx(
            direct, rel=1e-9
        )


def test_cohorts_observed_for_different_lengths_fit_together():
    # two cohorts from one curve: the full regular cohort and a second seen for 3 periods only
    both = pd.concat(
        [survival.survivor_counts(REGULAR, cohort="a"), survival.survivor_counts([500, 316, 234], cohort="b")]
    )
    fitted = survival.fit(both)
    assert fitted["alpha"] == pytest.approx(0.704, abs=0.03) and fitted["beta"] == pytest.approx(1.182, abs=0.06)
    pooled = survival.pooled_survival(both)
    assert pooled["customers"].tolist() == [1500, 1500, 1500, 1000, 1000, 1000, 1000, 1000]
    assert pooled["survival"].iloc[1] == pytest.approx((631 + 316) / 1500)


def test_cohort_survivors_from_purchases():
    # 2004 cohort: a buys 2004, 2006 (a quiet 2005 is no departure), b only 2004; 2005 cohort: c 2005, 2006
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "c", "c"],
            "date": pd.to_datetime(["2004-03-01", "2004-05-01", "2006-02-01", "2005-01-09", "2006-07-01"]),
        }
    )
    counts = survival.cohort_survivors(tx, period="year", as_of="2006-12-31")
    assert counts.to_dict("list") == {
        "cohort": ["2004", "2004", "2004", "2005", "2005"],
        "period": [0, 1, 2, 0, 1],
        "survivors": [2.0, 1.0, 1.0, 1.0, 1.0],
    }
    # on 30 June 2006 the year 2006 is not complete: not observed
    assert survival.cohort_survivors(tx, period="year", as_of="2006-06-30")["period"].tolist() == [0, 1, 0]
