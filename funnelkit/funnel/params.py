"""The funnel notebook's parameters: each declared once, with its default, help and rule.

Branch files may override any of them in their ``funnel:`` section (``params/jiaxing.yaml``
reads the funnel from stage counts). The notebook's ``parameters`` cell is generated from
this declaration (``funnelkit.parameters.sync_notebook``).

Examples
--------
>>> Params.from_values({"funnel_source": "counts"}).funnel_source
'counts'
>>> Params.problems({"controllability": {"target>potential": 2}})
[('controllability', {'target>potential': 2}, 'target>potential: 2 is not a weight from 0 to 1')]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

from funnelkit import parameters
from funnelkit.data.schema import resolve_stages
from funnelkit.parameters import filter_param, param

SOURCES = ("auto", "leads", "counts")
PVALUE_ADJUSTMENTS = ("holm", "fdr_bh")

# Why each step weighs what it does: network coverage build-out is slow (target>potential);
# contact volume, visits and follow-up, the offer, installation capacity, billing and
# retention after signing can be acted on within the year, some faster than others.
CONTROLLABILITY = {
    "target>potential": 0.2,
    "potential>contacted": 0.9,
    "contacted>intent": 0.8,
    "intent>signed": 0.7,
    "signed>installed": 0.5,
    "installed>paying": 0.6,
    "paying>effective": 0.9,
}


def _controllability_rule(value: dict) -> str | None:
    """Each entry: a transition key ``from>to`` and a weight from 0 to 1 (all listed at once)."""
    wrong = []
    for key, weight in value.items():
        if not isinstance(key, str) or key.count(">") != 1:
            wrong.append(f"{key!r} is not a transition written from>to")
        elif isinstance(weight, bool) or not isinstance(weight, Real) or not 0 <= weight <= 1:
            wrong.append(f"{key}: {weight!r} is not a weight from 0 to 1")
    return "; ".join(wrong) or None


def unknown_transitions(controllability: Mapping, stages: list | None) -> str | None:
    """What is wrong when ``controllability`` names a step that is not a transition of
    ``stages`` (a weight nobody would ever read), or None."""
    chain = resolve_stages(stages)
    known = [f"{a.key}>{b.key}" for a, b in zip(chain[:-1], chain[1:])]
    unknown = [str(k) for k in controllability if k not in known]
    if not unknown:
        return None
    return f"names no transition of the funnel: {', '.join(unknown)}; transitions: {', '.join(known)}"


@dataclass(frozen=True)
class Params(parameters.Params):
    """The funnel diagnosis's own parameters, after the common ones."""

    funnel_source: str = param(
        "auto", "leads, counts or auto (leads if the branch has them, else stage_counts)", choices=SOURCES
    )
    controllability: dict = param(
        CONTROLLABILITY,
        "per transition from>to, 1 controllable now, 0 not in the short term; a step not listed weighs 1",
        rule=_controllability_rule,
    )
    current_period: str = param("", "the period to diagnose; empty: the latest period in the data")
    min_group: int = param(30, "fewer customers than this at a step: too few to judge", low=0)
    pvalue_adjust: str = param("holm", "holm or fdr_bh, for the year-over-year tests", choices=PVALUE_ADJUSTMENTS)
    forecast_shrinkage: float = param(
        50.0, "pseudo-leads pulling thin stage win rates toward the company-wide figure", low=0
    )
    forecast_draws: int = param(2000, "simulated pipelines behind the forecast range (P10 to P90)", low=100)
    forecast_seed: int = param(0, "seed of the forecast range's draws: the same data and seed give the same range")
    forecast_inflow_months: int = param(
        6, "months before the forecast whose new leads per day set the expected inflow of new deals", low=1
    )
    top_bottlenecks: int = param(3, "transitions named as bottlenecks", low=1)
    deal_amount: float = param(
        0.0, "average deal in yuan for revenue sizing; 0: mean amount of the branch's won leads", low=0
    )
    conversion_target: float = param(
        0.0,
        "target overall conversion from the first stage to the last, a fraction; 0: the company's pooled rate",
        low=0,
        high=1,
    )
    segment: str = filter_param("segment", "only this customer segment; empty: every segment")
    region: str = filter_param("region", "only this sales region (leads only); empty: every region")
    period: str = filter_param("period", "a year like 2006 or a span like 2004-2006; empty: every period")

    @classmethod
    def problems(cls, values: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
        """Every value's own rule, then the one rule across two values when both are given
        (a notebook's namespace always holds both): ``controllability`` names transitions of
        ``stages`` (``[]``: the default funnel). A value checked alone is not refused for a
        funnel it may not belong to."""
        found = super().problems(values)
        bad = {name for name, _, _ in found}
        if {"controllability", "stages"} <= set(values) and not bad & {"controllability", "stages"}:
            rule = unknown_transitions(values["controllability"], values["stages"])
            if rule:
                found.append(("controllability", values["controllability"], rule))
        return found
