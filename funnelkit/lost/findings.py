"""The written summary, the data-quality warnings, the sentences with numbers the sections
show, and the key figures of the lost-deal report — all generated from a
:class:`funnelkit.lost.Result`, never written by hand.

Examples
--------
>>> from funnelkit.data.loading import load_tables
>>> from funnelkit.lost import Params, analyse
>>> params = Params(branch="绍兴分公司")
>>> result = analyse(load_tables(params, ["leads"]), params)
>>> findings(result, "en")[0].startswith(f"The {result.year} lost rate of mature deals is")
True
>>> key_figures(result)["status"] in ("on_track", "at_risk", "off_track")
True
"""

from __future__ import annotations

import pandas as pd

from funnelkit.i18n import t
from funnelkit.report.formatting import pct

from .deals import MISSING
from .drivers import ATTRIBUTES, strongest
from .labels import dimension_label, group_label, reason_label, stage_label, status_label
from .reasons import controllable_share
from .reasons import top_reasons as _top_reasons


def _yoy_finding(yoy: pd.DataFrame, year: int, lang: str) -> list[str]:
    row = yoy[yoy["year"].astype(str).eq(str(year))]
    if row.empty or pd.isna(row["change"].iloc[0]):
        return [t("lost.find_yoy_none", lang)]
    r = row.iloc[0]
    key = "lost.find_yoy_significant" if r["p_value"] < 0.05 else "lost.find_yoy_not_significant"
    return [
        t(
            key,
            lang,
            previous=year - 1,
            direction=t("lost.up" if r["change"] > 0 else "lost.down", lang),
            points=f"{abs(r['change']) * 100:.1f}",
            p=f"{r['p_value']:.3f}",
        )
    ]


def _top_reason_finding(shares: pd.DataFrame, lang: str) -> list[str]:
    top = shares[shares["rank"].eq(1)]
    parts = [
        t("lost.find_top_reason_part", lang, line=line, reason=reason_label(reason, lang), share=pct(share))
        for line, reason, share in zip(top["product_line"], top["reason"], top["share"])
    ]
    if not parts:
        return []
    return [t("lost.find_top_reasons", lang, parts=("；" if lang == "zh" else "; ").join(parts))]


def _recovery_findings(
    split: pd.DataFrame, funnel: pd.DataFrame, effect: pd.Series, holders: pd.DataFrame, lang: str
) -> list[str]:
    quasi_share = float(split.loc[split["lost_group"].eq("quasi_lost"), "share"].sum())
    counts = dict(zip(funnel["step"], funnel["count"]))
    texts = [
        t(
            "lost.find_recovery",
            lang,
            quasi_share=pct(quasi_share),
            quasi=counts["quasi_lost"],
            followed=counts["followed_up"],
            reengaged=counts["reengaged"],
            recovered=counts["recovered"],
            rate_if=pct(effect["lost_rate_if_recovered"]),
        )
    ]
    if effect["more_needed"] == 0:
        return texts + [t("lost.find_needed_none", lang)]
    first = holders.groupby("dimension", sort=False).head(1)
    where = "、".join(
        f"{g}（{p}）" if lang == "zh" else f"{g} ({p})"
        for g, p in zip(first["group"].map(lambda g: group_label(g, lang)), first["pool"])
    )
    key = "lost.find_needed" if effect["reachable"] else "lost.find_needed_unreachable"
    return texts + [t(key, lang, needed=int(effect["more_needed"]), pool=int(effect["pool"]), where=where)]


def _maturity_findings(r: pd.Series, days: int, lang: str) -> list[str]:
    if not r["immature"]:
        return []
    return [
        t(
            "lost.find_immature",
            lang,
            immature=int(r["immature"]),
            open=int(r["immature_open"]),
            days=days,
            rate_all=pct(r["lost_rate_all"]),
            bound=pct(r["lost_rate_if_open_lost"]),
        )
    ]


def _group_yoy_finding(groups: pd.DataFrame, lang: str) -> list[str]:
    moved = groups[groups["p_adjusted"].lt(0.05).fillna(False)]
    if moved.empty:
        return [t("lost.find_yoy_groups_none", lang)] if len(groups) else []
    parts = [f"{g} {c * 100:+.1f}" for g, c in zip(moved["group"], moved["change"])]
    return [t("lost.find_yoy_groups", lang, parts="、".join(parts) if lang == "zh" else ", ".join(parts))]


def _ratio(value: float) -> str:
    """An odds ratio for reading: one decimal from 1 up, two below (0.45, not 0.5)."""
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def _driver_findings(a, lang: str, *, top: int = 3) -> list[str]:
    """One sentence per attribute that goes most clearly with losing more (then less) often;
    one sentence saying none does; nothing when the section is a gap."""
    if a.drivers is None:
        return []
    texts = [
        t(
            f"lost.find_driver_{'more' if direction == 'more_lost' else 'less'}",
            lang,
            attribute=dimension_label(r["attribute"], lang),
            value=r["value"],
            ratio=_ratio(r["odds_ratio"]),
            rate=pct(r["lost_rate"]),
            rate_without=pct(r["lost_rate_without"]),
        )
        for direction in ("more_lost", "less_lost")
        for r in strongest(a.drivers, direction=direction, top=top).to_dict("records")
    ]
    if texts:
        return texts
    tested = set(a.drivers["attribute"])
    names = [dimension_label(c, lang) for c in ATTRIBUTES if c in tested]
    return [t("lost.find_drivers_none", lang, attributes=("、" if lang == "zh" else ", ").join(names))]


#: Bullets of the summary at most: what a manager reads in a minute.
SUMMARY_LENGTH = 5


def findings(a, lang: str) -> list[str]:
    """The report's summary, at most :data:`SUMMARY_LENGTH` bullets in order: the mature
    deals' lost rate against the target, the change from last year, the attribute values
    that go most clearly with losing, top reasons, the controllable share, and quasi-lost
    recovery (:func:`more_findings` holds the rest)."""
    if a.target_row.empty or not a.target_row["closed"].iloc[0]:
        return [t("lost.find_no_deals", lang, year=a.year)]
    return _headline(a, lang)[:SUMMARY_LENGTH]


def _headline(a, lang: str) -> list[str]:
    """The findings in the summary's order of importance (the summary takes the first)."""
    r = a.target_row.iloc[0]
    texts = [
        t(
            "lost.find_rate",
            lang,
            year=a.year,
            rate=pct(r["lost_rate"]),
            low=pct(r["lost_rate_low"]),
            high=pct(r["lost_rate_high"]),
            closed=int(r["closed"]),
            target=pct(r["target"]),
            gap=f"{r['gap_to_target'] * 100:+.1f}",
            status=status_label(r["status"], lang),
        )
    ]
    # A summary read in a minute: the rate against target, its change, why deals are lost,
    # the share the branch controls and what recovery brings; the rest stays in its section.
    texts += _yoy_finding(a.yoy, a.year, lang)
    texts += _driver_findings(a, lang)[:1]  # the clearest; the section lists the others
    if a.has("reasons"):
        texts += _top_reason_finding(a.shares, lang)
        texts.append(t("lost.find_controllable", lang, share=pct(controllable_share(a.categories))))
    if a.has("recovery"):
        texts += _recovery_findings(a.split, a.funnel, a.effect.iloc[0], a.holders, lang)
    return texts


def more_findings(a, lang: str) -> list[str]:
    """The findings the summary leaves out: what recovery still needs for the target, the
    other attribute values that go with losing, deals not yet mature, the groups'
    year-over-year changes, the leading competitor and the data
    warnings' count."""
    if a.target_row.empty or not a.target_row["closed"].iloc[0]:
        return []
    texts = _headline(a, lang)[SUMMARY_LENGTH:] + _driver_findings(a, lang)[1:]
    texts += _maturity_findings(a.target_row.iloc[0], a.maturity_days, lang) + _group_yoy_finding(a.yoy_groups, lang)
    if a.competitors is not None and not a.competitors.empty:
        texts.append(
            t(
                "lost.find_competitor",
                lang,
                brand=reason_label(a.competitors["competitor"].iloc[0], lang),
                share=pct(a.competitors["share"].iloc[0]),
            )
        )
    if len(a.unlisted):
        texts.append(t("lost.find_warnings", lang, count=len(a.unlisted)))
    return texts


def data_warnings(a, lang: str) -> list[str]:
    """One warning per lost reason the taxonomy does not list (with its count), one for the
    lost deals without a reason."""
    return [
        t("lost.warn_missing", lang, count=int(n))
        if category == MISSING
        else t("lost.warn_unmapped", lang, reason=reason, count=int(n))
        for category, reason, n in a.unlisted[["category", "reason", "lost"]].itertuples(index=False)
    ]


def scope_note(a, lang: str) -> str:
    """What a deal is and which year the report covers."""
    return t("lost.scope_note", lang, stage=stage_label(a.deal_from_stage, a.stages, lang), year=a.year)


def maturity_note(a, lang: str) -> str:
    """The maturity rule of the report, with this run's numbers."""
    row = a.target_row.iloc[0]
    cutoff = (a.end - pd.Timedelta(days=a.maturity_days)).date().isoformat()
    return t(
        "lost.maturity_note",
        lang,
        days=a.maturity_days,
        end=a.end.date().isoformat(),
        cutoff=cutoff,
        immature=int(row["immature"]),
        open=int(row["immature_open"]),
    )


def drivers_note(a, lang: str) -> str:
    """How many decided deals the drivers of losing compare and which values are left out;
    empty when the section is a gap (its one line says why)."""
    if a.drivers is None:
        return ""
    return t("lost.drivers_note", lang, decided=a.decided_deals, tested=len(a.drivers), min=a.driver_min_deals)


def status_note(a, lang: str) -> str:
    """The on-track / at-risk / off-track rule with the branch's target and margin."""
    return t("lost.status_note", lang, target=f"{a.target:.0%}", margin=f"{a.margin * 100:g}")


def controllable_callout(a, lang: str) -> list[str]:
    """The sales-process share, called out because it is the one the branch controls."""
    if a.categories is None:
        return []
    return [t("lost.controllable_callout", lang, share=f"{controllable_share(a.categories):.1%}")]


def notes_note(a, lang: str) -> str:
    """How many of the year's lost deals carry a note, or that none does."""
    if not a.has("notes"):
        return ""
    if not a.noted_deals:
        return t("lost.no_notes", lang)
    return t("lost.notes_count", lang, noted=a.noted_deals, lost=a.lost_deals)


def key_figures(a) -> dict:
    """The figures ``summary.json`` carries for the leadership index: rates on mature deals;
    ``recovered_count`` counts every quasi-lost deal of the year won back (the recovery funnel);
    ``loss_drivers`` lists the attribute values that go most clearly with losing more
    (``more_lost``) and less (``less_lost``) often, absent when that section is a gap."""
    r = a.target_row.iloc[0]
    e = a.effect.iloc[0] if a.effect is not None else {}
    return {
        **_driver_figures(a),
        "current_year": int(a.year),
        "closed_deals": int(r["closed"]),
        "lost_rate": float(r["lost_rate"]),
        "lost_rate_low": float(r["lost_rate_low"]),
        "lost_rate_high": float(r["lost_rate_high"]),
        "lost_rate_target": float(r["target"]),
        "at_risk_margin": float(a.margin),
        "gap_to_target": float(r["gap_to_target"]),
        "status": str(r["status"]),
        "maturity_days": int(a.maturity_days),
        "immature_deals": int(r["immature"]),
        "lost_rate_if_open_lost": float(r["lost_rate_if_open_lost"]),
        # None where the section is a gap (its column is empty): no zero stands for "no data"
        "top_reason_by_product_line": _top_reasons(a.shares) if a.has("reasons") else None,
        "controllable_share": controllable_share(a.categories) if a.has("reasons") else None,
        "recovered_count": int(a.funnel["count"].iloc[-1]) if a.has("recovery") else None,
        "lost_rate_if_recovered": float(e["lost_rate_if_recovered"]) if a.has("recovery") else None,
        "more_needed_to_target": int(e["more_needed"]) if a.has("recovery") else None,
    }


def _driver_figures(a) -> dict:
    if a.drivers is None:
        return {}

    def figures(row: dict) -> dict:
        numbers = ("lost_rate", "lost_rate_without", "odds_ratio", "p_adjusted")
        return {
            "attribute": row["attribute"],
            "value": str(row["value"]),
            "deals": int(row["deals"]),
            **{k: float(row[k]) for k in numbers},
        }

    return {
        "loss_drivers": {
            d: [figures(r) for r in strongest(a.drivers, direction=d).to_dict("records")]
            for d in ("more_lost", "less_lost")
        },
        "loss_driver_values_tested": len(a.drivers),
    }
