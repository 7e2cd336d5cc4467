"""The lost-deal report reads only the lead columns it uses: on every demo branch the result
is the one the whole table gives, and the title's data-as-of date is the same."""

from __future__ import annotations

import pytest

from funnelkit import lost
from funnelkit.data.loading import latest_dates, load_tables
from funnelkit.report import data_as_of
from tests.results import DEMO_BRANCHES, differing_fields, same


@pytest.mark.parametrize("branch", DEMO_BRANCHES)
def test_the_columns_read_give_the_whole_tables_result(branch):
    params = lost.Params(branch=branch)
    whole = load_tables(params, ["leads"], required=["leads"])
    read = load_tables(params, ["leads"], required=["leads"], columns=lost.columns(params))
    assert set(read["leads"].columns) == set(lost.columns(params)["leads"])
    assert "contact_phone" not in read["leads"] and "lead_id" not in read["leads"]
    expected, got = lost.analyse(whole, params), lost.analyse(read, params)
    assert not differing_fields(expected, got)
    assert data_as_of("", latest_dates(params, "leads")) == data_as_of("", whole["leads"]) != ""


@pytest.mark.parametrize("branch", DEMO_BRANCHES)
def test_the_deals_and_every_leads_outcome_give_the_whole_tables_result(branch):
    params = lost.Params(branch=branch)
    whole = load_tables(params, ["leads"], required=["leads"])
    read = lost.load(params)
    assert len(read["leads"]) < len(whole["leads"]) == len(read["all_leads"])
    assert set(read["leads"]["stage"]) <= set(lost.rows(params)["leads"]["stage"])
    expected, got = lost.analyse(whole, params), lost.analyse(read, params)
    assert not differing_fields(expected, got)


def test_deals_from_a_later_stage_are_read_from_that_stage_on():
    params = lost.Params(branch="宁波分公司", deal_from_stage="signed")
    read = lost.load(params)
    assert set(read["leads"]["stage"]) == {"signed", "installed", "paying", "effective"}
    whole = load_tables(params, ["leads"], required=["leads"])
    expected, got = lost.analyse(whole, params), lost.analyse(read, params)
    assert same(expected.scope, got.scope) and same(expected.rates, got.rates)
