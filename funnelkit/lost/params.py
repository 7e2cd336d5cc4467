"""The lost-deal notebook's parameters: each declared once, with its default, help and rule.

Branch files may override any of them in their ``lost:`` section. The notebook's
``parameters`` cell is generated from this declaration
(``funnelkit.parameters.sync_notebook``).

Examples
--------
>>> Params.from_values({"lost_rate_target": 0.6}).lost_rate_target
0.6
>>> Params.problems({"reason_taxonomy": {"price": ["价格太高"]}})[0][2]
'names unknown categories price; categories: product_price, sales_process, brand, customer'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from funnelkit import parameters
from funnelkit.data.schema import resolve_stages
from funnelkit.parameters import filter_param, param

#: Reason categories, in the order the report lists them; ``sales_process`` is the one the
#: branch controls itself.
CATEGORIES = ("product_price", "sales_process", "brand", "customer")

# The demo data's reasons by category; a branch lists its own reasons in its params file.
TAXONOMY = {
    "product_price": ["价格太高", "产品不满意", "资源不足"],
    "sales_process": ["跟进不及时"],
    "brand": ["品牌不认可"],
    "customer": ["资金未到位", "要求不合理"],
}

_STAGE_KEY = re.compile(r"[A-Za-z0-9_]+")


def _stage_key_rule(value: str) -> str | None:
    """What one value alone can show: a stage key is one word (the funnel is checked with
    ``stages``, see :meth:`Params.problems`)."""
    return None if _STAGE_KEY.fullmatch(value) else "must be a stage key such as contacted"


def _taxonomy_rule(value: dict) -> str | None:
    """Category codes of :data:`CATEGORIES`, each with a list of reasons (text), no reason
    under two categories; every problem at once."""
    wrong = []
    unknown = [str(c) for c in value if c not in CATEGORIES]
    if unknown:
        wrong.append(f"names unknown categories {', '.join(unknown)}; categories: {', '.join(CATEGORIES)}")
    not_lists = [
        str(c)
        for c, reasons in value.items()
        if not isinstance(reasons, list) or not all(isinstance(r, str) and r.strip() for r in reasons)
    ]
    if not_lists:
        wrong.append(f"{', '.join(not_lists)} must each be a list of reasons (text), e.g. [价格太高, 资源不足]")
    seen: dict[str, str] = {}
    for category, reasons in value.items():
        for reason in reasons if isinstance(reasons, list) else []:
            first = seen.setdefault(str(reason).strip(), str(category))
            if first != category:
                wrong.append(f"reason {reason} is listed under both {first} and {category}; keep it in one")
    return "; ".join(wrong) or None


def _year_rule(value: int) -> str | None:
    return None if value == 0 or 1900 <= value <= 2099 else "must be 0 (the latest year) or a year like 2006"


def unknown_stage(deal_from_stage: str, stages: list | None) -> str | None:
    """What is wrong when ``deal_from_stage`` is not a stage key of ``stages`` (``[]``: the
    default funnel), or None."""
    keys = [s.key for s in resolve_stages(stages)]
    if deal_from_stage in keys:
        return None
    return f"is not a stage of this branch's funnel; use one of {', '.join(keys)}"


@dataclass(frozen=True)
class Params(parameters.Params):
    """The lost-deal analysis's own parameters, after the common ones."""

    deal_from_stage: str = param(
        "contacted", "a deal is a lead that reached this stage; earlier losses are context only", rule=_stage_key_rule
    )
    lost_rate_target: float = param(
        0.65, "lost / (won + lost) the branch aims for, among mature closed deals", low=0, high=1
    )
    at_risk_margin: float = param(0.03, "up to this much above the target: at risk; beyond: off track", low=0, high=1)
    reason_taxonomy: dict = param(
        TAXONOMY,
        "category (product_price, sales_process, brand, customer) to its "
        "lost reasons; unlisted reasons count as unmapped",
        rule=_taxonomy_rule,
    )
    current_year: int = param(0, "the report year; 0: the latest creation year of deals", rule=_year_rule)
    maturity_days: int = param(
        0,
        "deals younger than this at the data's end leave rates and tests; 0: the 90th "
        "percentile of days to loss in earlier years",
        low=0,
    )
    top_terms: int = param(8, "note terms shown per lost reason", low=1)
    driver_min_deals: int = param(
        30,
        "an attribute value (an owner, a region) is tested for going with losing only with at least "
        "this many decided deals, and as many without it",
        low=1,
    )
    segment: str = filter_param("segment", "only this customer segment; empty: every segment")
    region: str = filter_param("region", "only this sales region; empty: every region")
    product_line: str = filter_param("product_line", "only this product line; empty: every product line")
    period: str = filter_param("period", "a year like 2006 or a span like 2004-2006; empty: every period")

    @classmethod
    def problems(cls, values: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
        """Every value's own rule, then the one rule across two values when both are given
        (a notebook's namespace holds both; the batch checks one value at a time):
        ``deal_from_stage`` is a stage of ``stages`` (``[]``: the default funnel)."""
        found = super().problems(values)
        bad = {name for name, _, _ in found}
        if {"deal_from_stage", "stages"} <= set(values) and not bad & {"deal_from_stage", "stages"}:
            rule = unknown_stage(values["deal_from_stage"], values["stages"])
            if rule:
                found.append(("deal_from_stage", values["deal_from_stage"], rule))
        return found
