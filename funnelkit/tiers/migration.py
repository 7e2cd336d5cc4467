"""How base customers move between tiers from one snapshot year to the next.

Takes the customers frame after :func:`funnelkit.tiers.tiering.assign_tiers`.
"""

from __future__ import annotations

import pandas as pd

from .tiering import TIER_ORDER, tiered


def migration(data: pd.DataFrame, *, previous: int | None, current: int) -> pd.DataFrame:
    """Tier transitions from ``previous`` to ``current`` snapshot.

    Customers tiered in both years fill the 3 × 3 premium / potential / general matrix
    (``movement`` up, same or down). Customers only in the current year come ``from_tier``
    ``new``; those only in the previous year go ``to_tier`` ``gone``. Empty without a
    previous year.
    """
    columns = ["from_tier", "to_tier", "customers", "movement"]
    if previous is None:
        return pd.DataFrame(columns=columns)
    before = tiered(data, previous).drop_duplicates("customer_id", keep="last").set_index("customer_id")["tier"]
    after = tiered(data, current).drop_duplicates("customer_id", keep="last").set_index("customer_id")["tier"]
    pairs = pd.concat([before.rename("from_tier"), after.rename("to_tier")], axis=1)
    pairs = pairs.fillna({"from_tier": "new", "to_tier": "gone"})
    rank = {t: i for i, t in enumerate(TIER_ORDER)}
    cells = (
        [(f, t) for f in TIER_ORDER for t in TIER_ORDER]
        + [("new", t) for t in TIER_ORDER]
        + [(f, "gone") for f in TIER_ORDER]
    )
    counts = pairs.groupby(["from_tier", "to_tier"]).size()
    out = pd.DataFrame([{"from_tier": f, "to_tier": t, "customers": int(counts.get((f, t), 0))} for f, t in cells])

    def movement(row):
        if row.from_tier == "new" or row.to_tier == "gone":
            return row.from_tier if row.from_tier == "new" else "gone"
        step = rank[row.from_tier] - rank[row.to_tier]
        return "up" if step > 0 else "down" if step < 0 else "same"

    return out.assign(movement=[movement(r) for r in out.itertuples()])


def migration_summary(moves: pd.DataFrame) -> pd.DataFrame:
    """Customers who moved up, stayed, slipped down, are new or are gone."""
    order = ["up", "same", "down", "new", "gone"]
    return (
        moves.groupby("movement")["customers"]
        .sum()
        .reindex(order, fill_value=0)
        .astype(int)
        .rename("customers")
        .rename_axis("movement")
        .reset_index()
    )
