"""The tier notebook's one computing call: :func:`analyse` scores, tiers and follows up one
branch's base customers and returns a :class:`Result` whose tables speak in codes.

Examples
--------
>>> from funnelkit import tiers
>>> from funnelkit.data import load_tables
>>> params = tiers.Params(branch="杭州分公司")
>>> result = tiers.analyse(load_tables(params, tiers.TABLES, required=["customers"]), params)
>>> sorted(result.tables())[:3]
['cadence', 'concentration', 'events_by_month']
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from funnelkit.result import AnalysisResult, Gap, missing_table, unless_gap

from . import cadence, concentration, migration, referrals, tiering, value
from .params import Params

#: The tables the notebook cannot run without: one of each group (customers). A branch
#: without them has its notebook skipped, not failed.
NEEDS = (("customers",),)

#: The tables the notebook reads: customers is required, events and visits are optional.
TABLES = ("customers", "events", "visits")


def section_gaps(tables: Mapping[str, pd.DataFrame | None], params: Params) -> dict[str, Gap]:
    """The sections a branch's tables cannot show: referrals and repurchases without an
    events table (or with no event in it), the referral sources without events or counts in
    params, and the follow-up cadence without a visits table (the analysis adds the case of
    no visit in the year's window)."""
    gaps = {}
    events = tables.get("events")
    if events is None or events.empty:
        gaps["referrals"] = (
            missing_table("events", "tiers.what_referrals") if events is None else Gap("tiers.gap_no_events")
        )
        if not params.referral_counts:
            gaps["sources"] = missing_table("events", "tiers.what_sources") if events is None else gaps["referrals"]
    if tables.get("visits") is None:
        gaps["cadence"] = missing_table("visits", "tiers.what_cadence")
    return gaps


@dataclass(frozen=True)
class Result(AnalysisResult):
    """Every table of one branch's tier report (tidy frames in codes; see the functions that make them)."""

    SAVED = {
        "tier_basis": "basis",
        "tier_grid": "grid_cells",
        "tier_shares": "shares",
        "tier_by_region": "by_region",
        "tier_by_industry": "by_industry",
        "region_classes": "regions",
        "concentration": "spread",
        "region_industry": "focus_mix",
        "migration": "moves",
        "migration_summary": "movement",
        "value_bands": "bands",
        "top_revenue_share": "top_share",
        "value_tiers": "value_table",
        "events_by_month": "by_month",
        "events_by_tier": "per_tier",
        "referral_sources": "sources",
        "cadence": "cadence_table",
        "overdue_owners": "owners",
        "overdue": "overdue",
    }

    year: int
    previous_year: int | None
    grid: tiering.TierGrid
    rule: dict
    policy: dict
    top_k: int
    actions: dict  # referral source code → {zh, en} action (params over the defaults)
    referral_counts: dict
    visit_end: pd.Timestamp | None
    contacts_in_window: int | None
    customers: pd.DataFrame
    events: pd.DataFrame | None
    basis: pd.DataFrame
    grid_cells: pd.DataFrame
    shares: pd.DataFrame
    by_region: pd.DataFrame
    by_industry: pd.DataFrame
    regions: pd.DataFrame
    spread: pd.DataFrame
    focus_mix: pd.DataFrame
    moves: pd.DataFrame | None
    movement: pd.DataFrame | None
    bands: pd.DataFrame
    top_share: pd.DataFrame
    value_table: pd.DataFrame
    by_month: pd.DataFrame | None
    per_tier: pd.DataFrame | None
    sources: pd.DataFrame | None
    cadence_table: pd.DataFrame | None
    owners: pd.DataFrame | None
    overdue: pd.DataFrame | None
    premium_share_target: float = 0.0  # from params; 0: none set


def analyse(tables: Mapping[str, pd.DataFrame | None], params: Params) -> Result:
    """Run the whole tier analysis of one branch.

    ``tables`` holds ``customers`` (required) and ``events`` and ``visits`` (``None`` when the
    branch has none: the sections that need them are gaps, see :func:`section_gaps`);
    ``params`` the notebook's :class:`~funnelkit.tiers.params.Params`.
    """
    grid, rule = tiering.tier_grid(params.tier_grid), concentration.region_rule(params.region_rule)
    policy = cadence.visit_policy(params.visit_policy)
    customers = tiering.assign_tiers(tables["customers"], grid=grid)
    gaps = section_gaps(tables, params)
    given = referrals.relabelled_counts(params.referral_counts, params.aliases)
    events = tables.get("events")
    year, previous = tiering.snapshot_years(customers, current_year=params.current_year)
    tiering.require_tiers(customers, year=year)
    if previous is None:  # one snapshot year: nothing to move from
        gaps["migration"] = Gap("data.gap_one_period", {"period": "tiers.word_snapshot_year", "only": year})
    moves = None if previous is None else migration.migration(customers, previous=previous, current=year)
    visits = tables.get("visits")
    contacts = in_window = None
    if visits is not None:
        in_window = cadence.contacts_in_window(visits, year=year, as_of=params.as_of)
        if not in_window:
            gaps["cadence"] = Gap("tiers.gap_no_visits", {"year": year})
        else:
            contacts = cadence.customer_cadence(visits, customers, year=year, policy=policy, as_of=params.as_of)
    sources = None
    if "sources" not in gaps:
        sources = referrals.source_structure(referrals.events_or_empty(events), referral_counts=given)
    when = functools.partial(unless_gap, gaps)

    return Result(
        gaps=gaps,
        year=year,
        previous_year=previous,
        grid=grid,
        rule=rule,
        policy=policy,
        top_k=params.top_k,
        actions=referrals.source_actions(params.source_actions),
        referral_counts=given,
        visit_end=when("cadence", lambda: cadence.window_end(visits, year=year, as_of=params.as_of)),
        contacts_in_window=in_window,
        customers=customers,
        events=events,
        basis=tiering.tier_basis(customers),
        grid_cells=tiering.grid_counts(customers, year=year, grid=grid),
        shares=tiering.tier_shares(customers, years=[previous, year]),
        by_region=tiering.tier_by(customers, by="region", current=year, previous=previous),
        by_industry=tiering.tier_by(customers, by="industry", current=year, previous=previous),
        regions=concentration.region_classes(customers, year=year, rule=rule),
        spread=concentration.concentration(customers, year=year, top_k=params.top_k),
        focus_mix=concentration.region_industry(customers, year=year, tiers=rule["tiers"]),
        moves=moves,
        movement=when("migration", lambda: migration.migration_summary(moves)),
        bands=value.value_bands(customers, year=year, bands=params.value_bands),
        top_share=value.top_revenue_share(customers, year=year),
        value_table=value.value_tiers(customers, year=year, rule=params.value_tiers),
        by_month=when("referrals", lambda: referrals.events_by_month(events, customers)),
        per_tier=when("referrals", lambda: referrals.events_by_tier(events, customers, year=year)),
        sources=sources,
        cadence_table=when("cadence", lambda: cadence.cadence_by_tier(contacts)),
        owners=when("cadence", lambda: cadence.overdue_owner_counts(contacts)),
        overdue=when("cadence", lambda: cadence.overdue_by_owner(contacts)),
        premium_share_target=params.premium_share_target,
    )
