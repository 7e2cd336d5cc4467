"""Customer lifetime value (客户生命周期价值): retention and revenue by acquisition cohort, when
each cohort pays back, the projected LTV and what higher retention is worth, lifecycle stages,
churn by customer group, the RFM summary, each customer's expected future and value, the
valuable customers at risk, and the retention model.

Rooms:

- ``params`` — :class:`Params`, every parameter of the notebook with its default and rule;
- ``analysis`` — :func:`analyse`, the one computing call, and its :class:`Result` (codes only);
- computation below it: ``cohorts`` (margin, cohort retention and revenue, realised LTV and
  break-even), ``projection`` (the LTV projection table, its estimated inputs, the individual
  calculator), ``lifecycle`` (lifecycle stages, churn by customer group), ``rfm`` (the RFM
  summary buy-till-you-die models expect); the customer-base models ``bgnbd`` (purchases
  and drop-out), ``spend`` (spend per purchase), ``customer_value`` (per customer, the
  customers at risk, the check on held-out months) and the retention model ``survival``
  (sBG), put together section by section, with their gaps, by ``models``;
- ``views`` — display tables; ``findings`` — the summary (:func:`findings`), the notes that
  carry this run's numbers (:func:`margin_note` …) and :func:`key_figures`; ``plots`` —
  charts; ``messages.yaml``.

Examples
--------
>>> from funnelkit import ltv
>>> from funnelkit.data.loading import load_tables
>>> params = ltv.Params(branch="宁波分公司", cohort_period="quarter")
>>> result = ltv.analyse(load_tables(params, ["transactions"]), params)
>>> sorted(result.tables()) == sorted(ltv.Result.SAVED)
True
"""

from . import plots, views
from .analysis import NEEDS, Result, analyse
from .findings import (
    at_risk_note,
    base_note,
    blank_cells_note,
    calculator_note,
    churn_note,
    findings,
    holdout_note,
    key_figures,
    margin_note,
    more_findings,
    rfm_note,
    rules_note,
    survival_note,
)
from .params import Params

__all__ = [
    "NEEDS",
    "Params",
    "Result",
    "analyse",
    "at_risk_note",
    "base_note",
    "blank_cells_note",
    "calculator_note",
    "churn_note",
    "findings",
    "holdout_note",
    "key_figures",
    "more_findings",
    "margin_note",
    "plots",
    "rfm_note",
    "rules_note",
    "survival_note",
    "views",
]
