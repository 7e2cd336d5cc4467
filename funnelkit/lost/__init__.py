"""Lost-deal analysis (战败客户): why deals were lost, by product line; quasi-lost against
truly lost; recovery; the lost rate against its target.

Rooms:

- ``params`` — :class:`Params`, every parameter of the notebook with its default and rule;
- ``analysis`` — :func:`analyse`, the one computing call, and its :class:`Result` (codes only);
- computation below it: ``deals`` (which deals count, maturity, rates, the target, year over
  year, the lead flow), ``drivers`` (what goes with losing: odds ratios of loss by deal
  attribute), ``reasons`` (reason shares, categories, Pareto, stage and timing),
  ``recovery`` (quasi-lost split, second follow-up, what the target still needs,
  competitors), ``notes`` (terms of the free-text notes);
- ``labels`` — words for the codes; ``views`` — display tables; ``findings`` — the summary,
  data-quality warnings, the sentences with numbers a section shows (exported here, as
  ``lost.findings`` is the summary function) and :func:`key_figures`; ``plots`` — charts;
  ``messages.yaml``.

Examples
--------
>>> from funnelkit import lost
>>> from funnelkit.data.loading import load_tables
>>> params = lost.Params(branch="杭州分公司")
>>> result = lost.analyse(load_tables(params, ["leads"]), params)
>>> sorted(result.tables()) == sorted(lost.Result.SAVED)
True
"""

from . import plots, views
from .analysis import NEEDS, Result, analyse, columns, load, rows
from .findings import (
    controllable_callout,
    data_warnings,
    drivers_note,
    findings,
    key_figures,
    maturity_note,
    more_findings,
    notes_note,
    scope_note,
    status_note,
)
from .params import Params

__all__ = [
    "NEEDS",
    "Params",
    "Result",
    "analyse",
    "columns",
    "load",
    "rows",
    "controllable_callout",
    "data_warnings",
    "drivers_note",
    "findings",
    "key_figures",
    "more_findings",
    "maturity_note",
    "notes_note",
    "plots",
    "scope_note",
    "status_note",
    "views",
]
