"""Display tables of the lost-deal report: ``view(result, lang) -> DataFrame``, one per table shown.

Each takes a table of :class:`~funnelkit.lost.Result`, puts words in ``lang`` on its codes
(:mod:`funnelkit.lost.labels`), formats its numbers for reading (shares as ``12.3%``, counts
with thousands separators, p-values to three decimals) and names its columns in ``lang``. The
tidy tables themselves, in codes, are what is saved as CSV.

Examples
--------
>>> from funnelkit.data.loading import load_tables
>>> from funnelkit.lost import Params, analyse
>>> params = Params(branch="温州分公司")
>>> result = analyse(load_tables(params, ["leads"]), params)
>>> rates(result, "en").iloc[0, :3].tolist()
['Overall', 'All', '126']
>>> list(rates(result, "zh").columns[:2])
['维度', '分组']
"""

from __future__ import annotations

import re

import pandas as pd

from funnelkit.i18n import t
from funnelkit.result import shown_if

from .labels import (
    category_label,
    column_label,
    dimension_label,
    direction_label,
    group_label,
    lost_group_label,
    lost_kind_label,
    mapped,
    node_label,
    reason_label,
    scope_label,
    stage_label,
    status_label,
    step_label,
)

RATE_COLUMNS = ("lost_rate", "lost_rate_low", "lost_rate_high", "win_rate", "win_rate_low", "win_rate_high")
_CALENDAR = re.compile(r"year|month")  # integers shown without thousands separators


def _shown(table: pd.DataFrame, lang: str, *, percent=(), decimals: dict[str, int] | None = None) -> pd.DataFrame:
    """``table`` for reading: ``percent`` columns as 12.3%, ``decimals`` columns with that many
    decimals, other floats with two, integers with separators (years and months without),
    flags left to the report (it shows them as yes or blank); columns named in ``lang``."""
    decimals = decimals or {}
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if column in percent:
            out[column] = values.map(lambda v: "" if pd.isna(v) else f"{v:.1%}").astype(object)
        elif column in decimals:
            out[column] = values.map(lambda v, d=decimals[column]: "" if pd.isna(v) else f"{v:,.{d}f}").astype(object)
        elif pd.api.types.is_bool_dtype(values):
            continue
        elif pd.api.types.is_float_dtype(values):
            out[column] = values.map(lambda v: "" if pd.isna(v) else f"{v:,.2f}").astype(object)
        elif pd.api.types.is_integer_dtype(values):
            spec = "" if _CALENDAR.search(str(column)) else ","
            out[column] = values.map(lambda v, s=spec: "" if pd.isna(v) else f"{v:{s}}").astype(object)
    return out.rename(columns=lambda c: column_label(str(c), lang))


def _dimension_groups(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    return table.assign(
        dimension=mapped(table["dimension"], dimension_label, lang), group=mapped(table["group"], group_label, lang)
    )


def scope(result, lang: str) -> pd.DataFrame:
    """Leads before the deal stage and deals of the report year, by outcome."""
    stage = stage_label(result.deal_from_stage, result.stages, lang)
    return _shown(result.scope.assign(scope=mapped(result.scope["scope"], scope_label, lang, stage)), lang)


def target(result, lang: str) -> pd.DataFrame:
    """The mature deals' lost rate against the target, its status and the deals left out."""
    row = result.target_row
    return _shown(
        row.assign(status=mapped(row["status"], status_label, lang)),
        lang,
        percent=[
            "lost_rate",
            "lost_rate_low",
            "lost_rate_high",
            "target",
            "gap_to_target",
            "lost_rate_all",
            "lost_rate_if_open_lost",
        ],
    )


def rates(result, lang: str) -> pd.DataFrame:
    """Lost and win rates overall and by product line, segment and sales owner."""
    return _shown(_dimension_groups(result.rates, lang), lang, percent=RATE_COLUMNS)


def monthly(result, lang: str) -> pd.DataFrame:
    """Lost and win rates by month of lead creation."""
    return _shown(result.monthly, lang, percent=RATE_COLUMNS)


def yoy(result, lang: str) -> pd.DataFrame:
    """Lost rate per creation year with the change from the year before and its test."""
    return _shown(
        result.yoy, lang, percent=[*RATE_COLUMNS, "change", "change_low", "change_high"], decimals={"p_value": 3}
    )


def yoy_groups(result, lang: str) -> pd.DataFrame:
    """The report year against the year before, by product line and segment (Holm-adjusted)."""
    return _shown(
        _dimension_groups(result.yoy_groups, lang),
        lang,
        percent=["lost_rate_previous", "lost_rate", "change", "change_low", "change_high"],
        decimals={"p_value": 3, "p_adjusted": 3},
    )


def drivers(result, lang: str) -> pd.DataFrame | None:
    """What goes with losing: each tested attribute value's decided deals, its lost rate and
    the others', the odds ratio of loss, the Holm-adjusted p-value and the reading; None when
    the section is a gap."""
    table = result.drivers
    if table is None:
        return None
    shown = table.assign(
        attribute=mapped(table["attribute"], dimension_label, lang),
        direction=mapped(table["direction"], direction_label, lang),
    )
    columns = ["attribute", "value", "deals", "lost", "lost_rate", "lost_rate_without", "odds_ratio"]
    return _shown(
        shown[[*columns, "p_adjusted", "direction"]],
        lang,
        percent=["lost_rate", "lost_rate_without"],
        decimals={"p_adjusted": 3},
    )


@shown_if("matrix")
def reason_shares(result, lang: str) -> pd.DataFrame:
    """Share of each reason among the lost deals of each product line (reasons × lines)."""
    matrix = result.matrix
    return _shown(
        matrix.assign(reason=mapped(matrix["reason"], reason_label, lang)), lang, percent=list(matrix.columns[1:])
    )


@shown_if("categories")
def categories(result, lang: str) -> pd.DataFrame:
    """Lost deals per reason category, the controllable one marked."""
    table = result.categories
    return _shown(
        table.assign(
            category=mapped(table["category"], category_label, lang),
            reasons=mapped(table["reasons"], reason_label, lang),
        ),
        lang,
        percent=["share"],
    )


@shown_if("pareto")
def pareto(result, lang: str) -> pd.DataFrame:
    """Reasons by lost deals, most frequent first, with the cumulative share."""
    table = result.pareto
    return _shown(
        table.assign(reason=mapped(table["reason"], reason_label, lang)), lang, percent=["share", "cum_share"]
    )


@shown_if("reason_change")
def reason_change(result, lang: str) -> pd.DataFrame:
    """Each reason's share this year against the year before (Holm-adjusted p-values)."""
    table = result.reason_change
    return _shown(
        table.assign(reason=mapped(table["reason"], reason_label, lang)),
        lang,
        percent=["share_previous", "share_current", "change"],
        decimals={"p_value": 3, "p_adjusted": 3},
    )


@shown_if("split")
def split(result, lang: str) -> pd.DataFrame:
    """Lost deals by group (quasi-lost, truly lost) and kind."""
    table = result.split
    return _shown(
        table.assign(
            lost_group=mapped(table["lost_group"], lost_group_label, lang),
            lost_kind=mapped(table["lost_kind"], lost_kind_label, lang),
        ),
        lang,
        percent=["share", "group_share"],
    )


@shown_if("funnel")
def recovery_funnel(result, lang: str) -> pd.DataFrame:
    """Quasi-lost deals through the second follow-up to won back."""
    table = result.funnel
    return _shown(table.assign(step=mapped(table["step"], step_label, lang)), lang, percent=["share", "step_rate"])


@shown_if("effect")
def recovery_effect(result, lang: str) -> pd.DataFrame:
    """The lost rate if the won-back deals count as won, and what the target still needs."""
    return _shown(result.effect, lang, percent=["lost_rate", "lost_rate_if_recovered", "target"])


@shown_if("holders")
def recovery_needed(result, lang: str) -> pd.DataFrame:
    """Where the quasi-lost deals not yet won back are, by product line and sales owner."""
    return _shown(_dimension_groups(result.holders, lang), lang, percent=["share"])


@shown_if("competitors")
def competitors(result, lang: str) -> pd.DataFrame:
    """Competitor brands bought by truly lost deals."""
    table = result.competitors
    return _shown(table.assign(competitor=mapped(table["competitor"], reason_label, lang)), lang, percent=["share"])


@shown_if("stage_by_reason")
def stage_reason(result, lang: str) -> pd.DataFrame:
    """Lost deals by stage at loss × reason."""
    table = result.stage_by_reason
    return _shown(table.assign(stage=mapped(table["stage"], stage_label, lang, result.stages)), lang)


def loss_timing(result, lang: str) -> pd.DataFrame:
    """Days from lead creation to loss, per product line and overall."""
    table = result.timing
    return _shown(
        table.assign(group=mapped(table["group"], group_label, lang)), lang, decimals={"median_days": 0, "p90_days": 0}
    )


def lead_flow(result, lang: str) -> pd.DataFrame:
    """Where deals go: from one node of the lead flow to the next, with the count of deals."""
    flow = result.flow
    return _shown(
        pd.DataFrame(
            {
                "from": mapped(flow["source"], node_label, lang),
                "to": mapped(flow["target"], node_label, lang),
                "count": flow["count"],
            }
        ),
        lang,
    )


#: Terms shown per lost reason, on one line (the CSV holds every ranked term).
TERMS_SHOWN = 5


@shown_if("terms")
def note_terms(result, lang: str) -> pd.DataFrame:
    """Per lost reason, one row: its notes and their most frequent terms with the notes that
    hold each, ``价格（12）、资费（9）`` — a line a reader scans, not a long word list."""
    table = result.terms.sort_values(["reason", "rank"], kind="stable")
    sep = "、" if lang == "zh" else ", "
    rows = [
        {
            "reason": reason,
            "group_notes": int(group["group_notes"].iloc[0]),
            "terms": sep.join(
                t("lost.term_count", lang, term=term, n=int(n))
                for term, n in zip(group["term"].head(TERMS_SHOWN), group["notes"].head(TERMS_SHOWN))
            ),
        }
        for reason, group in table.groupby("reason", sort=False)
    ]
    shown = pd.DataFrame(rows, columns=["reason", "group_notes", "terms"])
    return _shown(shown.assign(reason=mapped(shown["reason"], reason_label, lang)), lang)


@shown_if("examples")
def note_examples(result, lang: str) -> pd.DataFrame:
    """The most frequent notes per reason (masked)."""
    table = result.examples
    return _shown(table.assign(reason=mapped(table["reason"], reason_label, lang)), lang)
