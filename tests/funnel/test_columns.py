"""The funnel report reads only the lead columns it uses: on every demo branch the result is
the one the whole table gives (the lead-level pipelines then carry no lead ids)."""

from __future__ import annotations

import dataclasses

import pytest

from funnelkit import funnel
from funnelkit.data.loading import load_peers, load_tables
from tests.results import DEMO_BRANCHES, differing_fields


@pytest.mark.parametrize("branch", DEMO_BRANCHES)
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
    assert not differing_fields(expected, got)
