"""The lifetime-value notebook's parameters: each declared once, with its default, help and rule.

Branch files may override any of them in their ``ltv:`` section. The notebook's ``parameters``
cell is generated from this declaration (``funnelkit.parameters.sync_notebook``). The two
structured parameters may be given in part: ``projection`` and ``lifecycle_rules`` are
completed with their declared defaults (:meth:`Params.projection_inputs`,
:meth:`Params.rules`).

Examples
--------
>>> Params.from_values({"cohort_period": "quarter"}).cohort_period
'quarter'
>>> Params.problems({"projection": {"retention_rate": [0.5]}})[0][2]  # doctest: +ELLIPSIS
'unknown input retention_rate; allowed keys: estimate, years, ...'
>>> Params(lifecycle_rules={"decline_drop": 0.25}).rules()["exploration_months"]
12
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real
from typing import Any

from funnelkit import parameters
from funnelkit.parameters import filter_param, param

from .cohorts import PERIODS
from .rfm import FREQS

COHORT_PERIODS = tuple(PERIODS)  # year, quarter, month
RFM_FREQS = tuple(FREQS)  # D, W, M

#: Thresholds of the lifecycle stages (see :mod:`funnelkit.ltv.lifecycle`).
LIFECYCLE_RULES = {"exploration_months": 12, "stability_months": 36, "window_months": 12, "decline_drop": 0.3}

#: The projection table's inputs: empty (None or []) ones are estimated from the branch's
#: yearly cohorts when ``estimate`` is true (see :func:`funnelkit.ltv.projection.projection_assumptions`).
PROJECTION = {
    "estimate": True,
    "years": 5,
    "initial_customers": None,
    "retention_rates": [],
    "orders_per_year": [],
    "avg_order_value": [],
    "cost_rate": [],
    "acquisition_cost": None,
    "marketing_cost": None,
    "discount_factors": [],
    "interest_rate": None,
    "risk_factor": None,
}
#: Inputs given one value per projection year (a single number holds for every year).
PER_YEAR = ("retention_rates", "orders_per_year", "avg_order_value", "cost_rate", "discount_factors")
#: Every key ``projection`` may hold: the declared ones and the textbooks' rounding of discount factors.
PROJECTION_KEYS = (*PROJECTION, "discount_decimals")
#: What a projection input must be beyond a number: (lowest, highest, how it reads in a message).
_INPUT_RANGE = {
    "initial_customers": (0, None, "a number of customers above 0"),
    "retention_rates": (0, 1, "a rate from 0 to 1"),
    "cost_rate": (0, 1, "a rate from 0 to 1"),
    "orders_per_year": (0, None, "a number ≥ 0"),
    "avg_order_value": (0, None, "an amount ≥ 0"),
    "acquisition_cost": (0, None, "an amount ≥ 0"),
    "marketing_cost": (0, None, "an amount ≥ 0"),
    "discount_factors": (0, None, "a factor above 0"),
    "interest_rate": (0, 1, "a rate from 0 to 1"),
    "risk_factor": (0, None, "a factor above 0"),
}
_ABOVE_ZERO = {"initial_customers", "discount_factors", "risk_factor"}
#: Inputs the projection cannot do without: given, or estimated when ``estimate`` is true.
REQUIRED_INPUTS = ("initial_customers", "retention_rates", "orders_per_year", "avg_order_value", "cost_rate")


def is_empty(value: Any) -> bool:
    """An input left to the estimate or the fallback: None, "" or []."""
    return value is None or value == "" or (isinstance(value, (list, tuple)) and len(value) == 0)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and value == value and abs(value) != float("inf")


def _input_problem(key: str, value: Any) -> str | None:
    """What is wrong with one projection input other than ``estimate`` and ``years``."""
    if key == "discount_decimals":
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10
        return None if ok else f"discount_decimals: {value!r} is not a whole number of decimals from 0 to 10"
    listed = key in PER_YEAR or key == "marketing_cost"
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    low, high, reads = _INPUT_RANGE[key]
    wrong = [
        v
        for v in values
        if not _is_number(v) or v < low or (key in _ABOVE_ZERO and v <= low) or (high is not None and v > high)
    ]
    if not wrong and (listed or not isinstance(value, (list, tuple))):
        return None
    shape = f"a number or a list of numbers, each {reads}" if listed else f"one number, {reads}"
    return f"{key}: {value!r} must be {shape}"


def _projection_rule(value: dict) -> str | None:
    """Known keys only; ``estimate`` true or false; ``years`` a whole number ≥ 1; every other
    input empty or numbers in its range; a per-year list one value per year (``marketing_cost``:
    one per year after the first); without the estimate, every required input given. All
    problems are listed at once."""
    unknown = [str(k) for k in value if k not in PROJECTION_KEYS]
    if unknown:
        return f"unknown input {', '.join(unknown)}; allowed keys: {', '.join(PROJECTION_KEYS)}"
    wrong = []
    estimate, years = value.get("estimate", PROJECTION["estimate"]), value.get("years")
    if not isinstance(estimate, bool):
        wrong.append(f"estimate: {estimate!r} must be true or false")
    if years is not None and not (isinstance(years, int) and not isinstance(years, bool) and years >= 1):
        wrong.append(f"years: {years!r} must be a whole number of years ≥ 1")
        years = None
    years = PROJECTION["years"] if years is None else years
    for key, given in value.items():
        if key in ("estimate", "years") or is_empty(given):
            continue
        problem = _input_problem(key, given)
        if problem is None and isinstance(given, (list, tuple)) and key in (*PER_YEAR, "marketing_cost"):
            wanted = years - 1 if key == "marketing_cost" else years
            if len(given) != wanted and not (key == "marketing_cost" and years == 1 and len(given) == 1):
                which = "after the first" if key == "marketing_cost" else "of the projection"
                problem = (
                    f"{key} has {len(given)} values for {years} years: give one per year {which} "
                    f"({wanted}), or one number for every year"
                )
        if problem:
            wrong.append(problem)
    if estimate is False:
        missing = [k for k in REQUIRED_INPUTS if is_empty(value.get(k))]
        if missing:
            wrong.append(f"missing projection input {', '.join(missing)}: give it, or set estimate: true")
    return "; ".join(wrong) or None


def _rules_rule(value: dict) -> str | None:
    """Known keys only; the months whole numbers ≥ 1; ``decline_drop`` a share above 0 and at most 1."""
    unknown = [str(k) for k in value if k not in LIFECYCLE_RULES]
    if unknown:
        return f"unknown lifecycle rule {', '.join(unknown)}; allowed keys: {', '.join(LIFECYCLE_RULES)}"
    wrong = []
    for key, given in value.items():
        if key == "decline_drop":
            if not _is_number(given) or not 0 < given <= 1:
                wrong.append(f"decline_drop: {given!r} must be a share above 0 and at most 1 (0.3 = a 30% drop)")
        elif not (isinstance(given, int) and not isinstance(given, bool) and given >= 1):
            wrong.append(f"{key}: {given!r} must be a whole number of months ≥ 1")
    return "; ".join(wrong) or None


@dataclass(frozen=True)
class Params(parameters.Params):
    """The lifetime-value report's own parameters, after the common ones."""

    cohort_period: str = param("year", "acquisition cohorts by year, quarter or month", choices=COHORT_PERIODS)
    cost_rate: float = param(
        0.7, "margin is amount × (1 − cost_rate) where a transaction has neither margin nor cost", low=0, high=1
    )
    acquisition_cost: float = param(1000.0, "yuan per new customer", low=0)
    marketing_cost_per_customer: float = param(100.0, "yuan per retained customer per year", low=0)
    discount_rate: float = param(
        0.1, "yearly, for realised LTV (and the projection's interest rate when estimated)", low=0, high=1
    )
    projection: dict = param(
        PROJECTION,
        "the LTV projection table's inputs; None or [] is estimated from the branch's cohorts",
        rule=_projection_rule,
    )
    scenario_retention_gain: float = param(
        0.05, "the scenario: points added to every retention rate, 0.05 for 5 points", low=0, high=1
    )
    profit_per_purchase: float = param(100.0, "individual LTV calculator: yuan of profit per purchase")
    purchases_per_period: float = param(2.0, "individual LTV calculator: purchases per period", low=0)
    periods_per_year: int = param(12, "individual LTV calculator: periods per year", low=1)
    expected_years: int = param(20, "individual LTV calculator: years a customer stays", low=1)
    calculator_discount_rate: float = param(0.0, "individual LTV calculator: yearly discount rate", low=0, high=1)
    lifecycle_rules: dict = param(
        LIFECYCLE_RULES,
        "lifecycle stage thresholds in months, and the spending drop that means decline",
        rule=_rules_rule,
    )
    churn_months: int = param(12, "churned: no purchase in this many months", low=1)
    rfm_freq: str = param("D", "D, W or M: time unit of recency and T", choices=RFM_FREQS)
    forecast_months: int = param(12, "customer-base models: expected purchases over the next this many months", low=1)
    value_months: int = param(
        36, "customer-base models: customer value is the margin expected over this many months, discounted", low=1
    )
    holdout_months: int = param(
        12, "customer-base models: the check fits on earlier purchases and predicts the last this many months", low=1
    )
    at_risk_alive: float = param(
        0.5, "valuable customers at risk: probability of still buying below this", low=0, high=1
    )
    at_risk_top_share: float = param(
        0.2, "valuable customers at risk: value if still buying in this top share of customers", low=0, high=1
    )
    survival_periods: int = param(
        10, "retention model: cohort periods the fitted retention curve is projected to", low=1
    )
    ltv_3y_target: float = param(
        0.0, "target 3-year value per new customer in yuan; 0: no target (the index shows no light)", low=0
    )
    segment: str = filter_param("segment", "only this customer segment; empty: every segment")
    region: str = filter_param("region", "only this region; empty: every region")

    def projection_inputs(self) -> dict:
        """``projection`` completed with the declared defaults (a branch file may give a part)."""
        return {**PROJECTION, **self.projection}

    def rules(self) -> dict:
        """``lifecycle_rules`` completed with the declared defaults."""
        return {**LIFECYCLE_RULES, **self.lifecycle_rules}
