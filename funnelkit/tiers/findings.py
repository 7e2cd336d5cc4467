"""What the tier report says: the written summary, the sentences with numbers, data warnings,
and the ``summary.json`` key figures — all from a :class:`~funnelkit.tiers.Result`.

Texts come from ``funnelkit/tiers/messages.yaml``.

Examples
--------
>>> from funnelkit import tiers
>>> from funnelkit.data import load_tables
>>> params = tiers.Params(branch="杭州分公司")
>>> result = tiers.analyse(load_tables(params, tiers.TABLES), params)
>>> sorted(key_figures(result))[:3]
['current_year', 'premium_growth', 'premium_share']
"""

from __future__ import annotations

import pandas as pd

from funnelkit.i18n import label, t
from funnelkit.report.formatting import pct

from .referrals import counts_table, unrecognised_sources
from .tiering import TIER_ORDER
from .views import code_label


def _listing(values, lang) -> str:
    values = list(values)
    return ("、" if lang == "zh" else ", ").join(map(str, values)) if values else t("tiers.none_listed", lang)


def _difference(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def key_figures(result) -> dict:
    """The figures ``summary.json`` carries for the leadership index.

    ``tier_shares`` (current year, fractions), ``premium_share`` and ``premium_share_previous``,
    ``premium_share_change`` (the share's change, a fraction: 0.01 is one point),
    ``premium_growth`` (relative change in the premium *count*), ``premium_share_target``
    (from the params; None when not set), ``top_region`` and
    ``top_industry`` (where premium customers are most numerous), ``referral_share_existing``
    and ``current_year``.
    """
    shares, sources = result.shares, result.sources
    by_region, by_industry = result.by_region, result.by_industry
    current, previous = result.year, result.previous_year

    def share_of(year, tier="premium"):
        row = shares[(shares["snapshot_year"] == year) & (shares["tier"] == tier)]
        return float(row["share"].iloc[0]) if len(row) else None

    def count_of(year):
        row = shares[(shares["snapshot_year"] == year) & (shares["tier"] == "premium")]
        return int(row["customers"].iloc[0]) if len(row) else 0

    def top(table, column):
        premium = table[(table["tier"] == "premium") & (table["current"] > 0)]
        return (
            premium.sort_values(["current", column], ascending=[False, True])[column].iloc[0] if len(premium) else None
        )

    before = count_of(previous) if previous is not None else 0
    existing = pd.Series(dtype=float)
    if sources is not None:
        existing = sources.loc[sources["source_type"] == "existing_customer", "share"]
    return {
        "current_year": current,
        "previous_year": previous,
        "tier_shares": {tier: share_of(current, tier) for tier in TIER_ORDER},
        "premium_share": share_of(current),
        "premium_share_previous": share_of(previous) if previous is not None else None,
        "premium_growth": count_of(current) / before - 1 if before else None,
        "premium_share_change": _difference(share_of(current), share_of(previous) if previous is not None else None),
        "premium_share_target": result.premium_share_target or None,
        "top_region": top(by_region, "region"),
        "top_industry": top(by_industry, "industry"),
        "referral_share_existing": float(existing.iloc[0]) if len(existing) and pd.notna(existing.iloc[0]) else None,
    }


def _tier_findings(figures, shares, basis, lang) -> list[str]:
    year, previous = figures["current_year"], figures["previous_year"]
    now = shares[shares["snapshot_year"] == year].set_index("tier")
    out = [
        t(
            "tiers.shares",
            lang,
            year=year,
            customers=int(now["customers"].sum()),
            premium_n=int(now.loc["premium", "customers"]),
            **{tier: pct(now.loc[tier, "share"]) for tier in TIER_ORDER},
        )
    ]
    kinds = basis[basis["snapshot_year"] == year].set_index("tier_basis")["customers"]
    out.append(t("tiers.basis", lang, **{k: int(kinds.get(k, 0)) for k in ("scorecard", "source", "none")}))
    if previous is None:
        out.append(t("tiers.no_previous", lang, year=year))
        return out
    before = shares[shares["snapshot_year"] == previous].set_index("tier")
    n_before, n_now = int(before.loc["premium", "customers"]), int(now.loc["premium", "customers"])
    if n_before:
        change = figures["premium_growth"]
        out.append(
            t(
                "tiers.premium_growth",
                lang,
                previous_year=previous,
                previous_n=n_before,
                current_n=n_now,
                growth=f"{change:+.1%}",
                points=f"{figures['premium_share_change'] * 100:+.1f}",
                previous_share=pct(figures["premium_share_previous"]),
                current_share=pct(figures["premium_share"]),
            )
        )
    else:
        out.append(t("tiers.premium_growth_new", lang, previous_year=previous, year=year, current_n=n_now))
    return out


def _concentration_findings(figures, regions, rule, concentration, top_k, lang) -> list[str]:
    premium = concentration[concentration["tier"] == "premium"].set_index("dimension")
    if figures["top_region"] is None:
        out = [t("tiers.no_premium", lang)]
    else:
        region = premium.loc["region"]
        out = [
            t(
                "tiers.concentration",
                lang,
                region=figures["top_region"],
                industry=figures["top_industry"],
                region_share=pct(region["top_group_share"]),
                industry_share=pct(premium.loc["industry", "top_group_share"]),
            ),
            t(
                "tiers.hhi",
                lang,
                top_k=top_k,
                top_k_share=pct(region["top_k_share"]),
                hhi=f"{region['hhi']:.2f}",
                effective=f"{region['effective_groups']:.0f}",
            ),
        ]
    out.append(
        t(
            "tiers.regions",
            lang,
            tiers=_listing([label(x, lang) for x in rule["tiers"]], lang),
            key_ratio=f"{rule['key_ratio']:g}",
            weak_ratio=f"{rule['weak_ratio']:g}",
            key=_listing(regions.loc[regions["region_class"] == "key", "region"], lang),
            weak=_listing(regions.loc[regions["region_class"] == "weak", "region"], lang),
        )
    )
    return out


def _migration_findings(moves, previous, lang) -> list[str]:
    if previous is None or moves is None:
        return []
    n = moves.set_index("movement")["customers"]
    return [
        t(
            "tiers.migration",
            lang,
            both=int(n["up"] + n["same"] + n["down"]),
            **{k: int(n[k]) for k in ("up", "down", "same", "new", "gone")},
        )
    ]


def _value_findings(top_share, value_tiers, lang) -> list[str]:
    row = top_share.iloc[0]
    if not row["customers"]:
        return [t("tiers.no_value", lang)]
    vip = value_tiers.set_index("value_tier").loc["vip"]
    return [
        t(
            "tiers.value",
            lang,
            top_pct=f"{row['top_fraction']:.0%}",
            top_n=int(row["top_customers"]),
            share=pct(row["top_revenue_share"]),
            vip_n=int(vip["customers"]),
            vip_share=pct(vip["revenue_share"]),
        )
    ]


def _referral_findings(per_tier, sources, actions, year, lang) -> list[str]:
    out = []
    if per_tier is not None and len(per_tier):
        rates = per_tier.set_index("tier")["referral_per_100"]
        out.append(
            t(
                "tiers.referrals",
                lang,
                year=year,
                referrals=int(per_tier["referral"].sum()),
                repurchases=int(per_tier["repurchase"].sum()),
                premium_rate=_number(rates.get("premium")),
                general_rate=_number(rates.get("general")),
            )
        )
    if sources is None:
        return out
    if not sources["referrals"].sum():
        return [*out, t("tiers.no_referrals", lang)]
    top = sources.sort_values("referrals", ascending=False, kind="stable").iloc[0]
    existing = sources.loc[sources["source_type"] == "existing_customer", "share"]
    action = actions.get(top["source_type"], {}).get(lang, "")
    return [
        *out,
        t(
            "tiers.sources",
            lang,
            existing=pct(existing.iloc[0]),
            top=code_label(top["source_type"], lang),
            top_share=pct(top["share"]),
            action=action or "—",
        ),
    ]


def _number(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1f}"


def _cadence_findings(by_tier, owners, policy, end, contacts, lang) -> list[str]:
    if by_tier is None:
        return []
    met = by_tier.set_index("tier")["meets_policy"]
    out = [
        t(
            "tiers.cadence",
            lang,
            phone_days=policy["phone_days"],
            onsite_days=policy["onsite_days"],
            **{tier: pct(met.get(tier)) for tier in TIER_ORDER},
        )
    ]
    day = pd.Timestamp(end).date().isoformat()
    if not owners["overdue"].sum():
        return [*out, t("tiers.no_overdue", lang, end=day)]
    worst = owners.iloc[0]
    return [
        *out,
        t(
            "tiers.overdue",
            lang,
            end=day,
            overdue=int(owners["overdue"].sum()),
            owner=worst["owner"],
            owner_n=int(worst["overdue"]),
        ),
    ]


#: Bullets of the summary at most: what a manager reads in a minute.
SUMMARY_LENGTH = 5


def findings(result, lang: str = "zh") -> list[str]:
    """The summary of the tier report, at most :data:`SUMMARY_LENGTH` bullets: the tier mix,
    the premium tier's change, the regions to build on and to fix, and follow-up against the
    visit policy with the most overdue owner (:func:`more_findings` holds the rest)."""
    figures = key_figures(result)
    tier = _tier_findings(figures, result.shares, result.basis, lang)
    regions = _concentration_findings(figures, result.regions, result.rule, result.spread, result.top_k, lang)
    cadence = _cadence_findings(
        result.cadence_table, result.owners, result.policy, result.visit_end, result.contacts_in_window, lang
    )
    return [tier[0], *tier[2:], regions[-1], *cadence][:SUMMARY_LENGTH]


def more_findings(result, lang: str = "zh") -> list[str]:
    """The findings the summary leaves out: how customers were tiered, where premium
    customers concentrate, tier migration, value tiers and referrals."""
    figures = key_figures(result)
    tier = _tier_findings(figures, result.shares, result.basis, lang)
    regions = _concentration_findings(figures, result.regions, result.rule, result.spread, result.top_k, lang)
    return [
        tier[1],
        *regions[:-1],
        *_migration_findings(result.movement, result.previous_year, lang),
        *_value_findings(result.top_share, result.value_table, lang),
        *_referral_findings(result.per_tier, result.sources, result.actions, result.year, lang),
    ]


def data_warnings(result, lang: str = "zh") -> list[str]:
    """Data-quality warnings: untiered customers, missing sales amounts, referrals without a
    source, referral counts given in params and source labels outside the six types."""
    rows = result.customers[result.customers["snapshot_year"] == result.year]
    out = []
    if untiered := int((rows["tier_basis"] == "none").sum()):
        out.append(t("tiers.warn_untiered", lang, year=result.year, n=untiered))
    if no_amount := int(rows["sales_amount"].isna().sum()) if "sales_amount" in rows else len(rows):
        out.append(t("tiers.warn_no_amount", lang, year=result.year, n=no_amount))
    events = result.events
    if events is not None and "source_type" in events:
        unknown = int(((events["kind"] == "referral") & events["source_type"].isna()).sum())
        if unknown:
            out.append(t("tiers.warn_unknown_source", lang, n=unknown))
    return [*out, *source_notes(result, lang)]


def source_notes(result, lang: str = "zh") -> list[str]:
    """Notes of the referral-source section: counts given in params, labels outside the six
    source types (kept under their own names)."""
    given = counts_table(result.referral_counts) if result.referral_counts else None
    out = [t("tiers.sources_given", lang, n=int(given["referrals"].sum()))] if given is not None else []
    listed = given if given is not None else result.events
    own = {} if listed is None else unrecognised_sources(listed, count="referrals" if given is not None else None)
    if own:
        labels = _listing([t("tiers.label_count", lang, label=k, n=f"{n:,}") for k, n in own.items()], lang)
        out.append(t("tiers.warn_other_source", lang, labels=labels))
    return out


def sources_note(result, lang: str = "zh") -> str:
    """:func:`source_notes` as the one paragraph the referral-source section shows ("" when none)."""
    return " ".join(source_notes(result, lang))


def tiering_note(result, lang: str = "zh") -> str:
    """The scorecards and the grid's cuts, in words."""
    grid = result.grid
    return t("tiers.tiering_note", lang, loyalty_cuts=list(grid.loyalty_cuts), capacity_cuts=list(grid.capacity_cuts))


def region_rule_note(result, lang: str = "zh") -> str:
    """The key / ordinary / weak region rule, in words."""
    rule = result.rule
    return t(
        "tiers.region_rule_note",
        lang,
        tiers=_listing([label(x, lang) for x in rule["tiers"]], lang),
        key_ratio=f"{rule['key_ratio']:g}",
        weak_ratio=f"{rule['weak_ratio']:g}",
    )


def policy_note(result, lang: str = "zh") -> str:
    """The visit policy and how it is judged, in words ("" when the cadence is a gap)."""
    policy, end = result.policy, result.visit_end
    if not result.has("cadence"):
        return ""
    return t(
        f"tiers.policy_note_{policy['measure']}",
        lang,
        year=result.year,
        end=pd.Timestamp(end).date().isoformat(),
        phone_days=policy["phone_days"],
        onsite_days=policy["onsite_days"],
    )
