"""Quasi-lost split, recovery funnel, the target arithmetic and competitors (frame of tests/test_lost.py).

Quasi-lost: A3 (abandoned, followed, re-engaged, won back), A4 (long unclosed, followed,
re-engaged), A5 (misjudged, followed), B4 (abandoned, not followed). Truly lost: B2 and B6
(competitor 中国移动 / 中国联通), B5 (competitor, no brand), B3 (unreachable).
Closed deals 11, lost 8.
"""

from __future__ import annotations

import pandas as pd
import pytest

from funnelkit.lost import recovery as lost_recovery
from funnelkit.lost.labels import lost_kind_label
from tests.lost.test_deals import deals_of, small_leads


@pytest.fixture
def deal_leads() -> pd.DataFrame:
    return deals_of(small_leads())


def test_lost_split(deal_leads):
    split = lost_recovery.lost_split(deal_leads).set_index("lost_kind")
    assert split["lost"].to_dict() == {
        "abandoned": 2,
        "long_unclosed": 1,
        "misjudged": 1,
        "competitor": 3,
        "unreachable": 1,
    }
    assert split.loc["abandoned", "group_share"] == pytest.approx(4 / 8)
    assert split.loc["competitor", "group_share"] == pytest.approx(4 / 8)
    assert split["share"].sum() == pytest.approx(1.0)
    assert lost_kind_label("abandoned", "en") == "Abandoned purchase"  # the table holds the code; views name it


def test_recovery_funnel(deal_leads):
    funnel = lost_recovery.recovery_funnel(deal_leads).set_index("step")
    # 4 quasi-lost → 3 followed up (A3 A4 A5) → 2 re-engaged (A3 A4) → 1 won back (A3)
    assert funnel["count"].tolist() == [4, 3, 2, 1]
    assert funnel["share"].tolist() == pytest.approx([1, 3 / 4, 2 / 4, 1 / 4])
    assert funnel["step_rate"].iloc[1:].tolist() == pytest.approx([3 / 4, 2 / 3, 1 / 2])
    assert lost_recovery.recovered_count(deal_leads) == 1


@pytest.mark.parametrize(
    ("target", "needed", "reachable"),
    [
        (0.65, 0, True),  # (8 - 1) / 11 = 0.636 ≤ 0.65 already
        (0.50, 2, True),  # (7 - k) / 11 ≤ 0.5 → k ≥ 1.5 → 2; 3 quasi-lost still open
        (0.30, 4, False),  # 7 - 0.3 × 11 = 3.7 → 4 > 3 open
    ],
)
def test_lost_rate_if_recovered_and_how_many_more(deal_leads, target, needed, reachable):
    effect = lost_recovery.recovery_effect(deal_leads, target=target).iloc[0]
    assert effect["lost_rate"] == pytest.approx(8 / 11)
    assert effect["recovered"] == 1
    assert effect["lost_rate_if_recovered"] == pytest.approx(7 / 11)
    assert (effect["more_needed"], effect["pool"], bool(effect["reachable"])) == (needed, 3, reachable)


def test_more_needed_exact_boundary():
    # (70 - 5) / 100 = 0.65 exactly: nothing more needed, although 0.65 × 100 is 65.00000000000001 in floats
    assert lost_recovery.more_needed(lost=70, recovered=5, closed=100, target=0.65) == 0
    assert lost_recovery.more_needed(lost=71, recovered=5, closed=100, target=0.65) == 1


def test_recovery_holders(deal_leads):
    holders = lost_recovery.recovery_holders(deal_leads, by=["product_line"]).set_index("group")
    # still open: A4 (re-engaged), A5 (followed, not re-engaged), B4 (not followed)
    assert holders["pool"].to_dict() == {"A": 2, "B": 1}
    assert holders.loc["A", "reengaged"] == 1 and holders.loc["B", "not_followed_up"] == 1
    assert holders["share"].tolist() == pytest.approx([2 / 3, 1 / 3])


def test_competitors_count_unnamed_brands(deal_leads):
    table = lost_recovery.competitors(deal_leads).set_index("competitor")
    assert table["lost"].to_dict() == {"中国移动": 1, "中国联通": 1, "missing": 1}
    assert table["share"].sum() == pytest.approx(1.0)
