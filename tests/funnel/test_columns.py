"""The funnel report reads only the lead columns it uses: on every demo branch the result is
the one the whole table gives (the lead-level pipelines then carry no lead ids)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from funnelkit import funnel
from funnelkit.data.loading import load_peers, load_tables

BRANCHES = ["杭州分公司", "宁波分公司", "温州分公司", "绍兴分公司", "嘉兴分公司"]


def same(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b)
        except AssertionError:
            return False
        return True
    return a == b or (a != a and b != b)


@pytest.mark.parametrize("branch", BRANCHES)
def test_the_columns_read_give_the_whole_tables_result(branch):
    params = funnel.Params(branch=branch)
    peers = load_peers(params)
    whole = load_tables(params, ["leads", "stage_counts"])
    read = load_tables(params, ["leads", "stage_counts"], columns=funnel.columns(params))
    assert "lead_id" not in read["leads"] and "contact_phone" not in read["leads"]
    expected, got = funnel.analyse(whole, params, peers=peers), funnel.analyse(read, params, peers=peers)
    assert expected.pipeline["lead_id"].notna().all() and "lead_id" not in got.pipeline
    for lead_level in ("pipeline", "backtest"):
        expected = dataclasses.replace(expected, **{lead_level: getattr(expected, lead_level).drop(columns="lead_id")})
    differ = [f.name for f in dataclasses.fields(expected) if not same(getattr(expected, f.name), getattr(got, f.name))]
    assert not differ
