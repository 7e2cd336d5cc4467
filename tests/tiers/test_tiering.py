"""Tiering, concentration and migration (funnelkit.tiers.tiering, .concentration, .migration) on small
hand-computed frames."""

import numpy as np
import pandas as pd
import pytest

from funnelkit.data import schema
from funnelkit.exceptions import ParamsError
from funnelkit.tiers import concentration, migration
from funnelkit.tiers import tiering as tiers

LOYALTY, CAPACITY = list(schema.LOYALTY_ITEMS), list(schema.CAPACITY_ITEMS)


def scored(customer_id, loyalty, capacity, *, tier=pd.NA, year=2006, region="A", industry="x"):
    """One customer row; ``loyalty`` / ``capacity`` are item tuples in schema order (or None)."""
    row = {"customer_id": customer_id, "snapshot_year": year, "region": region, "industry": industry, "tier": tier}
    row |= dict(zip(LOYALTY, loyalty or [pd.NA] * len(LOYALTY)))
    row |= dict(zip(CAPACITY, capacity or [pd.NA] * len(CAPACITY)))
    return row


def frame(rows):
    return pd.DataFrame(rows).astype({c: "Int64" for c in [*LOYALTY, *CAPACITY, "snapshot_year"]})


# loyalty items: satisfaction 2, maintenance 3, events 2, referral 3
# capacity items: standing 2, health 1, reputation 2, reach 1, units 2, plans 2
BOUNDARY = frame(
    [
        scored("c1", (2, 3, 2, 1), (2, 1, 2, 1, 2, 0)),  # 8 / 8 → premium (both on the premium cut)
        scored("c2", (2, 3, 2, 0), (2, 1, 2, 1, 2, 0)),  # 7 / 8 → potential
        scored("c3", (2, 3, 2, 1), (2, 1, 2, 1, 1, 0)),  # 8 / 7 → potential
        scored("c4", (2, 2, 2, 0), (2, 1, 2, 1, 0, 0)),  # 6 / 6 → potential (both on the potential cut)
        scored("c5", (2, 3, 0, 0), (2, 1, 2, 1, 0, 0)),  # 5 / 6 → general
        scored("c6", (2, 2, 2, 0), (2, 1, 2, 0, 0, 0)),  # 6 / 5 → general
        scored("c7", None, None, tier="premium"),  # no items: the source's tier
        scored("c8", (2, pd.NA, 2, 3), (2, 1, 2, 1, 2, 2)),  # one loyalty item missing, no tier: untiered
        scored("c9", (2, 3, 2, 3), (2, 1, 2, 1, 2, 2), tier="general"),  # 10 / 10: the scorecard wins
    ]
)


def test_scores_and_tiers_by_hand():
    out = tiers.assign_tiers(BOUNDARY, grid=tiers.DEFAULT_GRID).set_index("customer_id")
    assert out["loyalty"].tolist()[:6] == [8, 7, 8, 6, 5, 6]
    assert out["capacity"].tolist()[:6] == [8, 8, 7, 6, 6, 5]
    assert out["tier"].tolist() == [
        "premium",
        "potential",
        "potential",
        "potential",
        "general",
        "general",
        "premium",
        None,
        "premium",
    ]
    assert out["tier_basis"].tolist() == ["scorecard"] * 6 + ["source", "none", "scorecard"]
    assert out.loc["c8", "loyalty"] is pd.NA and out.loc["c8", "capacity"] == 10
    # bands: below 6 → 0, 6–7 → 1, 8–10 → 2
    assert out["loyalty_band"].tolist()[:6] == [2, 1, 2, 1, 0, 1]


def test_assign_tiers_does_not_mutate_input():
    before = BOUNDARY.copy()
    tiers.assign_tiers(BOUNDARY, grid=tiers.DEFAULT_GRID)
    pd.testing.assert_frame_equal(BOUNDARY, before)


def test_custom_grid_moves_the_boundaries():
    grid = {"loyalty_cuts": [7], "capacity_cuts": [7], "tiers": [["general", "general"], ["general", "premium"]]}
    out = tiers.assign_tiers(BOUNDARY, grid=grid).set_index("customer_id")["tier"]
    # one cut at 7 on each axis: 8/8, 7/8 and 8/7 are premium now, 6/6 is general
    assert out[["c1", "c2", "c3", "c4"]].tolist() == ["premium", "premium", "premium", "general"]


@pytest.mark.parametrize(
    "grid, words",
    [
        ({"loyalty_cuts": [6, 8], "capacity_cuts": [6, 8], "tiers": [["general"] * 3] * 2}, "3 rows"),
        ({"loyalty_cuts": [6, 8], "capacity_cuts": [6, 8], "tiers": [["general", "gold", "general"]] * 3}, "gold"),
        ({"loyalty_cuts": [8, 6], "capacity_cuts": [6, 8], "tiers": [["general"] * 3] * 3}, "increasing"),
        ({"loyalty_cuts": [6, 11], "capacity_cuts": [6, 8], "tiers": [["general"] * 3] * 3}, "between 1 and 10"),
        ({"loyalty_cuts": [6, 8], "tiers": [["general"] * 3] * 3}, "capacity_cuts"),
    ],
)
def test_invalid_grid_is_rejected_with_a_clear_message(grid, words):
    with pytest.raises(ParamsError, match="tier_grid") as error:
        tiers.tier_grid(grid)
    assert words in str(error.value)


def test_grid_counts_cover_every_cell():
    cells = tiers.grid_counts(tiers.assign_tiers(BOUNDARY, grid=tiers.DEFAULT_GRID), year=2006, grid=tiers.DEFAULT_GRID)
    assert len(cells) == 9 and cells["customers"].sum() == 7  # the scorecard-tiered customers
    premium_cell = cells[(cells["loyalty_band"] == 2) & (cells["capacity_band"] == 2)].iloc[0]
    assert (premium_cell["loyalty"], premium_cell["capacity"], premium_cell["tier"], premium_cell["customers"]) == (
        "8–10",
        "8–10",
        "premium",
        2,
    )  # c1 and c9


def two_years():
    """Region A/B, industry x/y, source-assigned tiers over 2005 and 2006."""
    rows = [
        ("p1", 2005, "A", "x", "premium"),
        ("p2", 2005, "A", "x", "premium"),
        ("q1", 2005, "B", "y", "potential"),
        ("g1", 2005, "B", "y", "general"),
        ("g2", 2005, "A", "y", "general"),
        ("p1", 2006, "A", "x", "premium"),
        ("p2", 2006, "A", "x", "potential"),
        ("q1", 2006, "B", "y", "premium"),
        ("g1", 2006, "B", "y", "general"),
        ("n1", 2006, "A", "x", "premium"),
        ("n2", 2006, "C", "y", "general"),
    ]
    return tiers.assign_tiers(
        frame([scored(c, None, None, tier=t, year=y, region=r, industry=i) for c, y, r, i, t in rows]),
        grid=tiers.DEFAULT_GRID,
    )


def test_snapshot_years():
    data = two_years()
    assert tiers.snapshot_years(data, current_year=0) == (2006, 2005)
    assert tiers.snapshot_years(data, current_year=2005) == (2005, None)
    with pytest.raises(ParamsError, match="2007"):
        tiers.snapshot_years(data, current_year=2007)


def test_shares_sum_to_one_per_year():
    shares = tiers.tier_shares(two_years(), years=[2005, 2006])
    assert np.allclose(shares.groupby("snapshot_year")["share"].sum(), 1.0)
    # 2006: premium p1, q1, n1 = 3 of 6
    row = shares[(shares["snapshot_year"] == 2006) & (shares["tier"] == "premium")].iloc[0]
    assert (row["customers"], row["share"]) == (3, 0.5)


def test_tier_by_region_growth_and_shares():
    table = tiers.tier_by(two_years(), by="region", current=2006, previous=2005).set_index(["region", "tier"])
    premium_a = table.loc[("A", "premium")]
    # premium in A: 2005 p1, p2 = 2; 2006 p1, n1 = 2 → growth 0; 2006 share of premium 2/3
    assert (premium_a["previous"], premium_a["current"], premium_a["growth"]) == (2, 2, 0.0)
    assert premium_a["share_current"] == pytest.approx(2 / 3)
    premium_b = table.loc[("B", "premium")]
    assert premium_b["previous"] == 0 and np.isnan(premium_b["growth"])  # growth from zero is undefined
    # general in B: 1 → 1; general in C: 0 → 1
    assert table.loc[("C", "general"), "current"] == 1
    for column in ("share_previous", "share_current"):
        sums = table.groupby("tier")[column].sum(min_count=1).dropna()
        assert np.allclose(sums, 1.0)


def test_region_rule_by_hand():
    rows = (
        [
            scored(f"a{i}", None, None, tier=t, region="A")
            for i, t in enumerate(["premium", "potential", "general", "general"])
        ]
        + [
            scored(f"b{i}", None, None, tier=t, region="B")
            for i, t in enumerate(["potential", "general", "general", "general"])
        ]
        + [scored(f"c{i}", None, None, tier="general", region="C") for i in range(2)]
    )
    out = concentration.region_classes(
        tiers.assign_tiers(frame(rows), grid=tiers.DEFAULT_GRID), year=2006, rule=concentration.DEFAULT_REGION_RULE
    ).set_index("region")
    # branch focus share 3/10; A 2/4 → 0.5/0.3 = 1.67 key; B 1/4 → 0.83 ordinary; C 0 → weak
    assert out.loc["A", "ratio"] == pytest.approx(0.5 / 0.3)
    assert out["region_class"].to_dict() == {"A": "key", "B": "ordinary", "C": "weak"}
    with pytest.raises(ParamsError, match="weak_ratio"):
        concentration.region_rule({"key_ratio": 0.7, "weak_ratio": 0.8})


def test_herfindahl_and_top_k_by_hand():
    rows = [scored(f"p{i}", None, None, tier="premium", region=r) for i, r in enumerate("AABC")]
    out = concentration.concentration(
        tiers.assign_tiers(frame(rows), grid=tiers.DEFAULT_GRID), year=2006, by=("region",), top_k=2
    )
    premium = out.set_index("tier").loc["premium"]
    # shares 0.5, 0.25, 0.25 → HHI 0.25 + 0.0625 + 0.0625 = 0.375; top-2 = 0.75
    assert premium["hhi"] == pytest.approx(0.375)
    assert premium["top_k_share"] == pytest.approx(0.75)
    assert premium["effective_groups"] == pytest.approx(1 / 0.375)
    assert (premium["top_group"], premium["top_group_share"], premium["groups"]) == ("A", 0.5, 3)
    assert np.isnan(out.set_index("tier").loc["general", "hhi"])  # no general customers


def test_migration_conserves_customers_in_both_years():
    data = two_years()
    moves = migration.migration(data, previous=2005, current=2006)
    core = moves[~moves["from_tier"].eq("new") & ~moves["to_tier"].eq("gone")]
    both = set(data.loc[data["snapshot_year"] == 2005, "customer_id"]) & set(
        data.loc[data["snapshot_year"] == 2006, "customer_id"]
    )
    assert core["customers"].sum() == len(both) == 4  # p1, p2, q1, g1
    cell = moves.set_index(["from_tier", "to_tier"])["customers"]
    assert (
        cell[("premium", "premium")] == 1
        and cell[("premium", "potential")] == 1
        and cell[("potential", "premium")] == 1
    )
    summary = migration.migration_summary(moves).set_index("movement")["customers"].to_dict()
    # up: q1; down: p2; same: p1, g1; new: n1, n2; gone: g2
    assert summary == {"up": 1, "same": 2, "down": 1, "new": 2, "gone": 1}


def test_migration_without_previous_year_is_empty():
    assert migration.migration(two_years(), previous=None, current=2006).empty


def test_region_industry_lists_every_pair():
    out = concentration.region_industry(two_years(), year=2006, tiers=["premium"])
    assert len(out) == 3 * 2 and out["customers"].sum() == 3
    assert out.set_index(["region", "industry"]).loc[("A", "x"), "customers"] == 2  # p1, n1
