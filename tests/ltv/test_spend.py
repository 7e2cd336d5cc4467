"""Gamma-Gamma spend per purchase against the published CDNOW results (Fader & Hardie 2013,
"The Gamma-Gamma model of monetary value": p = 6.25, q = 3.74, γ = 15.44 on the 946 repeat buyers)."""

from pathlib import Path

import pandas as pd
import pytest

from funnelkit.ltv import spend

CDNOW = Path(__file__).resolve().parent.parent / "fixtures" / "cdnow" / "cdnow_summary.csv"


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return pd.read_csv(CDNOW).rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


def test_cdnow_fit_is_the_published_one(summary):
    fitted = spend.fit(summary)
    assert fitted["customers"] == 946 and fitted["converged"]
    assert (round(fitted["p"], 2), round(fitted["q"], 2)) == (6.25, 3.74)
    # published 15.44; the maximum here is 15.448 (lifetimes' own fit of the same data reports 15.45)
    assert fitted["gamma"] == pytest.approx(15.44, abs=0.01)


def test_the_fit_does_not_depend_on_the_currency_unit(summary):
    in_cents = spend.fit(summary.assign(monetary_value=summary["monetary_value"] * 100))
    fitted = spend.fit(summary)
    assert in_cents["gamma"] == pytest.approx(fitted["gamma"] * 100, rel=1e-3)
    assert (in_cents["p"], in_cents["q"]) == pytest.approx((fitted["p"], fitted["q"]), rel=1e-3)


def test_expected_spend_weighs_own_mean_against_the_population_mean():
    params = {"p": 2.0, "q": 3.0, "gamma": 10.0}
    rows = pd.DataFrame({"frequency": [0.0, 1.0, 4.0], "monetary_value": [0.0, 30.0, 30.0]})
    # population mean pγ/(q − 1) = 10; weight of the own mean px/(px + q − 1): 2/4 and 8/10
    assert spend.population_mean(params) == pytest.approx(10.0)
    assert spend.expected_spend(rows, params).tolist() == pytest.approx([10.0, 20.0, 26.0])


def test_only_repeat_buyers_with_spend_are_fitted():
    rows = pd.DataFrame({"frequency": [0.0, 2.0, 3.0], "monetary_value": [0.0, 0.0, 12.0]})
    assert spend.repeaters(rows).index.tolist() == [2]
