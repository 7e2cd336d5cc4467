"""The shortcuts that keep the lifetime-value analysis fast at millions of transactions give
the results of the direct computation: the pooled BG/NBD and Gamma-Gamma objectives against
the per-customer likelihoods, the value horizon per distinct (frequency, T) against every customer's own, and
the analysis on integer customer codes against the analysis on the ids themselves."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from funnelkit.data.loading import load_tables
from funnelkit.ltv import analysis, bgnbd, spend
from funnelkit.ltv.customer_value import customer_value
from funnelkit.ltv.params import Params

CDNOW = Path(__file__).resolve().parent.parent / "fixtures" / "cdnow"


def _repeated() -> pd.DataFrame:
    """Fourteen customers, several of them alike: x, t_x, T in weeks."""
    rows = [(0, 0.0, 30.0)] * 4 + [(2, 20.0, 30.0)] * 3 + [(1, 5.0, 25.0), (5, 24.0, 26.0), (1, 5.0, 25.0)]
    rows += [(3, 10.0, 28.0), (0, 0.0, 25.0), (7, 29.0, 30.0), (2, 20.0, 30.0)]
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"]).assign(
        customer_id=[f"c{i}" for i in range(14)], monetary_value=np.linspace(10, 40, 14)
    )


def _direct_objective(x, t_x, T, weight):
    """The negative log-likelihood and its gradient by log-parameter, straight from
    ``bgnbd.log_likelihood`` and ``bgnbd._gradient``."""

    def negative(log_params):
        values = np.exp(log_params)
        params = dict(zip(bgnbd.PARAMETERS, values))
        value = -float(np.sum(weight * bgnbd.log_likelihood(params, x, t_x, T)))
        return value, -(weight @ bgnbd._gradient(params, x, t_x, T)) * values

    return negative


@pytest.mark.parametrize("point", [(0.0, 0.0, 0.0, 0.0), (-1.4, 1.5, -0.2, 0.9), (2.0, -3.0, 1.0, -1.0)])
def test_pooled_objective_is_the_direct_one_to_the_last_bit(point):
    x, t_x, T = (_repeated()[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    weight = np.arange(1.0, len(x) + 1)
    fast, direct = bgnbd._pooled_objective(x, t_x, T, weight), _direct_objective(x, t_x, T, weight)
    value, gradient = fast(np.array(point))
    expected_value, expected_gradient = direct(np.array(point))
    assert value == expected_value
    assert np.array_equal(gradient, expected_gradient)


@pytest.mark.parametrize("point", [(0.0, 0.0, 0.0), (1.8, 1.3, 0.4), (-2.0, 3.0, -1.0)])
def test_spend_objective_is_the_direct_one_to_the_last_bit(point):
    buyers = _repeated().loc[lambda f: f["frequency"] > 0]
    x, z = buyers["frequency"].to_numpy(dtype=float), buyers["monetary_value"].to_numpy(dtype=float) / 25
    value, gradient = spend._pooled_objective(x, z)(np.array(point))
    values = np.exp(np.array(point))
    params = dict(zip(spend.PARAMETERS, values))
    assert value == -float(np.sum(spend.log_likelihood(params, x, z)))
    assert np.array_equal(gradient, -spend._gradient(params, x, z).sum(axis=0) * values)


def test_weighted_fit_is_the_fit_on_every_customer_row():
    """``fit`` pools identical rows with a count weight; the unweighted maximum over every row,
    found by the same optimiser from the same start, is the same."""
    summary = pd.read_csv(CDNOW / "cdnow_summary.csv").rename(columns={"x": "frequency", "t_x": "recency"})
    summary = pd.concat([summary, summary.iloc[::3]], ignore_index=True)  # more repeated rows
    fitted = bgnbd.fit(summary)
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    scale = T.max() / 10
    direct = _direct_objective(x, t_x / scale, T / scale, np.ones(len(x)))
    found = optimize.minimize(direct, np.zeros(4), jac=True, method="L-BFGS-B", bounds=[(-12, 12)] * 4)
    assert found.success and fitted["converged"]
    expected = dict(zip(bgnbd.PARAMETERS, np.exp(found.x)))
    expected["alpha"] *= scale
    for name in bgnbd.PARAMETERS:
        assert fitted[name] == pytest.approx(expected[name], rel=1e-5), name
    assert fitted["log_likelihood"] == pytest.approx(-found.fun - x.sum() * np.log(scale), rel=1e-9)


def test_value_horizon_per_distinct_pair_is_each_customers_own():
    rfm = _repeated()
    frequency = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    spend = {"p": 6.25, "q": 3.74, "gamma": 15.44}
    settings = {"forecast_months": 6, "value_months": 12, "discount_rate": 0.1, "margin_rate": 0.3}
    fast = customer_value(rfm, frequency, spend, unit_days=7.0, **settings)
    # the horizon customer by customer, as the value was computed before the pairs were pooled
    months_unit = 30.436875 / 7.0
    cumulative = np.column_stack(
        [np.zeros(len(rfm))]
        + [bgnbd.expected_purchases_if_alive(rfm, frequency, t=m * months_unit).to_numpy() for m in range(1, 13)]
    )
    discount = 1.1 ** (-np.arange(1, 13) / 12)
    each = fast["expected_spend"].to_numpy()
    if_active = np.diff(cumulative, axis=1) @ discount * each * 0.3
    assert np.array_equal(fast["value_if_active"].to_numpy(), if_active)
    assert np.array_equal(fast["customer_value"].to_numpy(), if_active * fast["probability_alive"].to_numpy())
    assert fast["customer_id"].tolist() == rfm["customer_id"].tolist()


def test_customer_codes_follow_the_ids_sort_order_and_come_back():
    tx = pd.DataFrame({"customer_id": pd.array(["b", "a", "10", "9", "a"], dtype="string"), "amount": range(5)})
    coded, ids = analysis._coded_customers(tx)
    assert coded["customer_id"].tolist() == [3, 2, 0, 1, 2]
    assert list(ids) == ["10", "9", "a", "b"]
    back = analysis._decoded(coded, ids)
    assert back["customer_id"].tolist() == tx["customer_id"].tolist()
    assert back["customer_id"].dtype == tx["customer_id"].dtype
    for ids in (pd.Series([7, 3, 7], index=[5, 6, 9]), pd.Series(["z", "y", "z"], dtype=object, index=[5, 6, 9])):
        other = pd.DataFrame({"customer_id": ids})
        back = analysis._decoded(*analysis._coded_customers(other))
        pd.testing.assert_frame_equal(back, other)
    missing = tx.assign(customer_id=pd.array(["b", None, "a", "a", "b"], dtype="string"))
    assert analysis._coded_customers(missing)[1] is None


def _fields(result) -> dict:
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name != "params"}


def _same(left, right) -> None:
    if isinstance(left, pd.DataFrame):
        # a count by customer is Int64 over nullable text ids and int64 over codes
        pd.testing.assert_frame_equal(left, right, check_exact=True, check_dtype=False)
    elif isinstance(left, dict):
        assert left.keys() == right.keys()
        for key in left:
            _same(left[key], right[key])
    elif isinstance(left, float) and np.isnan(left):
        assert np.isnan(right)
    else:
        assert left == right


@pytest.mark.parametrize("branch", ["杭州分公司", "温州分公司"])
def test_analysis_on_codes_is_the_analysis_on_ids(branch, monkeypatch):
    params = Params(branch=branch)
    tables = load_tables(params, ["transactions"], required=["transactions"])
    coded = analysis.analyse(tables, params)
    monkeypatch.setattr(analysis, "_coded_customers", lambda tx: (tx, None))
    on_ids = analysis.analyse(tables, params)
    assert coded.customer_value is not None and coded.holdout is not None
    left, right = _fields(on_ids), _fields(coded)
    assert left.keys() == right.keys()
    for name in left:
        _same(left[name], right[name])
