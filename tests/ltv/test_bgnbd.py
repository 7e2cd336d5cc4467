"""BG/NBD against the published CDNOW results (Fader, Hardie & Lee 2005), and the RFM summary
that feeds it against the published CDNOW summary (tests/fixtures/cdnow/README.md)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnelkit.ltv import bgnbd
from funnelkit.ltv.customer_value import holdout_check, holdout_error, holdout_split
from funnelkit.ltv.rfm import rfm_summary

CDNOW = Path(__file__).resolve().parent.parent / "fixtures" / "cdnow"
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    """The 2,357 customers in weeks: x, t_x, T and their mean repeat spend."""
    return pd.read_csv(CDNOW / "cdnow_summary.csv").rename(
        columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"}
    )


@pytest.fixture(scope="module")
def purchases() -> pd.DataFrame:
    raw = pd.read_csv(CDNOW / "cdnow_sample.csv.gz", dtype={"customer_id": str, "date": str})
    return raw.assign(date=pd.to_datetime(raw["date"], format="%Y%m%d"))[["customer_id", "date", "amount"]]


def test_cdnow_fit_is_the_published_one(summary):
    fitted = bgnbd.fit(summary)
    assert len(summary) == 2357 and fitted["converged"]
    for name, value in PUBLISHED.items():
        assert round(fitted[name], 3) == value, name
    # the log-likelihood of the authors' spreadsheet implementation of the paper
    assert fitted["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)


def test_the_fit_does_not_depend_on_the_time_unit(summary):
    in_days = bgnbd.fit(summary.assign(recency=summary["recency"] * 7, T=summary["T"] * 7))
    in_weeks = bgnbd.fit(summary)
    assert in_days["alpha"] == pytest.approx(in_weeks["alpha"] * 7, rel=1e-3)
    assert [in_days[k] for k in ("r", "a", "b")] == pytest.approx([in_weeks[k] for k in ("r", "a", "b")], rel=1e-3)


def test_the_papers_customer_expects_1_226_purchases():
    # paper, section 4: x = 2, t_x = 30.43, T = 38.86 weeks → 1.226 purchases in the next 39 weeks
    one = pd.DataFrame({"frequency": [2.0], "recency": [30.43], "T": [38.86]})
    assert bgnbd.expected_purchases(one, PUBLISHED, t=39).iloc[0] == pytest.approx(1.226, abs=5e-4)


def test_probability_alive_by_hand():
    params = {"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 2.0}
    rows = pd.DataFrame({"frequency": [0.0, 1.0, 3.0], "recency": [0.0, 4.0, 9.0], "T": [10.0, 10.0, 10.0]})
    # x = 1: odds a/(b + x − 1) · ((α+T)/(α+t_x))^(r+x) = 1/2 · (11/5)² = 2.42
    # x = 3: 1/4 · (11/10)⁴ = 0.366025
    expected = [1.0, 1 / (1 + 0.5 * (11 / 5) ** 2), 1 / (1 + 0.25 * 1.1**4)]
    assert bgnbd.probability_alive(rows, params).tolist() == pytest.approx(expected)
    # without a repeat purchase nobody has dropped out: expected purchases are the new customer's
    alone = rows.iloc[[0]]
    assert bgnbd.expected_purchases(alone, params | {"a": 2.0}, t=5).iloc[0] > 0


def test_unconditional_purchases_grow_with_time_and_match_a_simulation():
    params = {"r": 2.0, "alpha": 10.0, "a": 2.0, "b": 4.0}
    rng = np.random.default_rng(7)
    n, horizon = 40_000, 30.0
    rate, drop = rng.gamma(2.0, 1 / 10.0, n), rng.beta(2.0, 4.0, n)
    counts = np.zeros(n)
    alive, clock = np.ones(n, bool), np.zeros(n)
    while alive.any():
        clock = clock + rng.exponential(1 / rate)
        bought = alive & (clock <= horizon)
        counts += bought
        alive = bought & (rng.random(n) >= drop)
    expected = bgnbd.unconditional_purchases(params, t=horizon)
    assert counts.mean() == pytest.approx(expected, rel=0.03)
    assert np.all(np.diff(bgnbd.unconditional_purchases(params, t=[1, 5, 10, 30])) > 0)


def test_the_rfm_summary_reproduces_the_published_cdnow_summary(summary, purchases):
    # 39 weeks of calibration: 1 January to 30 September 1997, in days then weeks
    calibration = rfm_summary(purchases.loc[purchases["date"] <= "1997-09-30"], as_of="1997-09-30", freq="D")
    assert calibration["customer_id"].tolist() == [f"{i:04d}" for i in summary["customer_id"]]
    assert calibration["frequency"].tolist() == summary["frequency"].tolist()
    assert np.abs(calibration["recency"] / 7 - summary["recency"]).max() < 0.005  # published to 2 decimals
    assert np.abs(calibration["T"] / 7 - summary["T"]).max() < 0.005
    assert np.abs(calibration["monetary_value"] - summary["monetary_value"]).max() < 0.006


def test_holdout_check_on_cdnow(purchases):
    calibration, length = holdout_split(purchases, as_of=pd.Timestamp("1998-06-30"), freq="D", holdout_months=9)
    assert len(calibration) == 2357 and length == 273  # 39 weeks, as in the paper
    # the actual holdout purchases, counted directly: days with a purchase after 30 September 1997
    later = purchases.loc[purchases["date"] > "1997-09-30"].drop_duplicates(["customer_id", "date"])
    assert calibration["actual"].sum() == len(later)
    fitted = bgnbd.fit(calibration)
    assert round(fitted["r"], 3) == PUBLISHED["r"] and round(fitted["alpha"] / 7, 3) == PUBLISHED["alpha"]
    check = holdout_check(calibration, fitted, length=length)
    assert check["repeat_purchases"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, -1]
    assert check["customers"].iloc[:-1].sum() == check["customers"].iloc[-1] == 2357
    # the model follows the customers: more purchases before, more after, in prediction as in fact
    assert check["predicted"].iloc[:-1].is_monotonic_increasing and check["actual"].iloc[0] < check["actual"].iloc[-2]
    error = holdout_error(check)
    assert -0.15 < error["total_error"] < 0  # CDNOW's holdout is under-predicted, by 12%
    assert error["group_error"] >= abs(error["total_error"]) - 1e-12
