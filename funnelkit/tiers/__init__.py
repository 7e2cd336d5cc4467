"""Tier concentration (基盘客户分级): base customers scored into premium / potential / general
tiers, concentrated by region and industry, year on year; referrals, repurchases, value
bands and follow-up cadence.

Rooms:

- ``params`` — :class:`Params`, every parameter of the notebook with its default and rule;
- ``analysis`` — :func:`analyse`, the one computing call, and its :class:`Result` (codes only);
- computation below it: ``tiering`` (scorecards, grid, tier shares), ``concentration``
  (key and weak regions, spread over regions and industries), ``migration`` (moves between
  tiers), ``value`` (value bands and tiers), ``referrals``, ``cadence`` (follow-up policy);
- ``views`` — display tables and words for the codes; ``findings`` — the summary, the
  sentences with numbers, data warnings and :func:`key_figures`; ``plots`` — charts;
  ``messages.yaml``.

Examples
--------
>>> from funnelkit import tiers
>>> from funnelkit.data import load_tables
>>> params = tiers.Params(branch="杭州分公司")
>>> result = tiers.analyse(load_tables(params, tiers.TABLES, required=["customers"]), params)
>>> sorted(result.tables()) == sorted(tiers.Result.SAVED)
True
"""

from . import plots, views
from .analysis import NEEDS, TABLES, Result, analyse
from .findings import (
    data_warnings,
    findings,
    key_figures,
    more_findings,
    policy_note,
    region_rule_note,
    source_notes,
    sources_note,
    tiering_note,
)
from .params import Params

__all__ = [
    "NEEDS",
    "TABLES",
    "Params",
    "Result",
    "analyse",
    "data_warnings",
    "findings",
    "key_figures",
    "more_findings",
    "plots",
    "policy_note",
    "region_rule_note",
    "source_notes",
    "sources_note",
    "tiering_note",
    "views",
]
