"""Funnel diagnosis (客户漏斗): stages and conversion per segment and period, where customers
are lost, which loss is controllable and what fixing it is worth.

Rooms:

- ``params`` — :class:`Params`, every parameter of the notebook with its default and rule;
- ``analysis`` — :func:`analyse`, the one computing call, and its :class:`Result` (codes only);
  :func:`columns`, the columns it reads;
- computation below it: ``counts`` (stage and transition tables, data quality), ``compare``
  (year-over-year tests, peers, funnel plot), ``drivers`` (bottlenecks, decomposition,
  elasticities), ``forecast`` (time to convert, pipeline forecast, back-test),
  ``forecast_range`` (the forecast as P10–P90 by simulation), ``velocity`` (pipeline velocity
  and its exact split), ``stage_time`` (days spent at each stage), ``lead_arrays`` (the leads
  as numpy arrays those share);
- ``labels`` — words for the codes; ``views`` — display tables; ``findings`` — the summary,
  data-quality warnings and :func:`key_figures`; ``plots`` — charts; ``messages.yaml``.

Examples
--------
>>> from funnelkit import funnel
>>> from funnelkit.data.loading import load_tables
>>> params = funnel.Params(branch="嘉兴分公司", funnel_source="counts")
>>> result = funnel.analyse(load_tables(params, ["leads", "stage_counts"]), params)
>>> # the tables that need leads with stage dates are left out
>>> sorted(set(funnel.Result.SAVED) - set(result.tables()))  # doctest: +NORMALIZE_WHITESPACE
['backtest_calibration', 'backtest_range', 'forecast_range', 'stage_time', 'stage_time_trend',
 'time_to_convert', 'velocity', 'velocity_change']
"""

from . import plots, views
from .analysis import NEEDS, Result, analyse, columns
from .findings import data_warnings, findings, key_figures
from .params import Params

__all__ = [
    "NEEDS",
    "Params",
    "Result",
    "analyse",
    "columns",
    "data_warnings",
    "findings",
    "key_figures",
    "plots",
    "views",
]
