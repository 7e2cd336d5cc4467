"""The tier notebook's parameters: each declared once, with its default, help and rule.

Branch files may override any of them in their ``tiers:`` section. The notebook's
``parameters`` cell is generated from this declaration (``funnelkit sync-notebooks``). The
structured values (grid, region rule, value bands and tiers, visit policy, referral counts,
source actions) are checked by the same functions the analysis uses to read them, so a value
passes here exactly when the analysis can use it.

Examples
--------
>>> Params.from_values({"top_k": 5}).top_k
5
>>> Params.problems({"visit_policy": {"measure": "count"}})[0][2]
'measure: must be one of calendar, gap'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from funnelkit import parameters
from funnelkit.exceptions import ParamsError
from funnelkit.parameters import filter_param, param

from .cadence import DEFAULT_POLICY, visit_policy
from .concentration import DEFAULT_REGION_RULE, region_rule
from .referrals import SOURCE_ACTIONS, counts_table, source_actions
from .tiering import DEFAULT_GRID, tier_grid
from .value import DEFAULT_BANDS, DEFAULT_VALUE_TIERS, check_bands, check_value_tiers


def _checked_by(read: Callable) -> Callable:
    """A rule from a function that reads the value and raises ParamsError when it cannot."""

    def rule(value) -> str | None:
        try:
            read(value)
        except ParamsError as error:
            return "; ".join(f"{p.column}: {p.rule}" if p.column else p.rule for p in error.problems)
        return None

    return rule


@dataclass(frozen=True)
class Params(parameters.Params):
    """The parameters of the tier notebook (``notebooks/tiers.ipynb``)."""

    tier_grid: dict = param(
        DEFAULT_GRID,
        "loyalty × capacity grid: cuts of each score and the tier of each cell",
        rule=_checked_by(tier_grid),
    )
    current_year: int = param(
        0, "snapshot year to report; 0: the latest in the data, compared with the one before", low=0
    )
    region_rule: dict = param(
        DEFAULT_REGION_RULE,
        "key / weak regions: their share of these tiers against the branch's",
        rule=_checked_by(region_rule),
    )
    premium_share_target: float = param(
        0.0, "target share of premium customers, a fraction; 0: no target (the index shows no light)", low=0, high=1
    )
    top_k: int = param(3, "concentration: share of a tier in its top_k regions or industries", low=1)
    value_bands: list = param(
        list(DEFAULT_BANDS), "sales-amount bands in yuan, lowest bound first", rule=_checked_by(check_bands)
    )
    value_tiers: dict = param(
        DEFAULT_VALUE_TIERS,
        "cumulative top fractions by sales amount for vip, major, ordinary",
        rule=_checked_by(check_value_tiers),
    )
    source_actions: dict = param(
        SOURCE_ACTIONS,
        "per referral source code: the action to take, in zh and en; sources not given keep theirs",
        rule=_checked_by(source_actions),
    )
    referral_counts: dict = param(
        {}, "source label → count given by hand; non-empty: replaces the events table", rule=_checked_by(counts_table)
    )
    visit_policy: dict = param(
        DEFAULT_POLICY,
        "follow-up: phone_days, onsite_days and measure (calendar or gap)",
        rule=_checked_by(visit_policy),
    )
    region: str = filter_param("region", "only customers of this region; empty: every region")
    segment: str = filter_param("segment", "only customers of this segment; empty: every segment")
