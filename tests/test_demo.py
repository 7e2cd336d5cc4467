"""Tests of the demo data generator: determinism, the contract, and the story it tells."""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pandas as pd
import pytest

from funnelkit.data.schema import CAPACITY_ITEMS, DEFAULT_STAGES, LOYALTY_ITEMS, TABLES, table_columns
from funnelkit.demo import DEMO_BRANCHES, load_demo, write_demo_db
from funnelkit.privacy import mask_text
from funnelkit.stats import two_proportion_test

STAGES = [s.key for s in DEFAULT_STAGES]


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """The scale-1 database (≈ 50 thousand leads, about a second to build)."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    counts = write_demo_db(path)
    with duckdb.connect(str(path), read_only=True) as con:
        yield con, counts, path


def frame(con, sql: str) -> pd.DataFrame:
    return con.sql(sql).df()


def table_hash(con, table: str) -> str:
    return con.execute(
        f'SELECT md5(string_agg(CAST(t AS VARCHAR), chr(10) ORDER BY CAST(t AS VARCHAR))) FROM "{table}" t'
    ).fetchall()[0][0]


def hashes(path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: table_hash(con, name) for name in TABLES}


# --- the file --------------------------------------------------------------------------


def test_same_seed_gives_identical_tables_and_another_seed_does_not(tmp_path):
    write_demo_db(tmp_path / "a.duckdb", scale=0.05)
    write_demo_db(tmp_path / "b.duckdb", scale=0.05)
    write_demo_db(tmp_path / "c.duckdb", scale=0.05, seed=7)
    first, second, other = (hashes(tmp_path / f"{n}.duckdb") for n in "abc")
    assert first == second
    assert all(first[name] != other[name] for name in TABLES)


def test_file_is_written_atomically_and_counts_are_returned(full):
    con, counts, path = full
    assert not path.with_name(path.name + ".tmp").exists()
    assert counts == {name: con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0] for name in TABLES}
    assert 40_000 <= counts["leads"] <= 60_000
    assert 100_000 <= counts["transactions"] <= 200_000


@pytest.mark.parametrize("table", list(TABLES))
def test_columns_are_the_contract_columns(full, table):
    con, _, _ = full
    names = [row[0] for row in con.execute(f'DESCRIBE "{table}"').fetchall()]
    assert names == [c.name for c in table_columns(table)]


def test_choice_columns_hold_only_contract_codes(full):
    con, _, _ = full
    for table in TABLES.values():
        for column in table.columns:
            if column.choices:
                found = {v for (v,) in con.execute(f'SELECT DISTINCT "{column.name}" FROM "{table.name}"').fetchall()}
                assert found - {None} <= set(column.choices), (table.name, column.name)
    stages = {v for (v,) in con.execute("SELECT DISTINCT stage FROM leads").fetchall()}
    assert stages == set(STAGES)


def test_bad_scale_is_refused(tmp_path):
    with pytest.raises(ValueError, match="scale"):
        write_demo_db(tmp_path / "x.duckdb", scale=0)


# --- leads and the funnel ----------------------------------------------------------------


def funnel(con, where: str = "true") -> pd.Series:
    """Leads at or beyond each stage, from stage_counts."""
    data = frame(con, f"SELECT stage, sum(count) AS n FROM stage_counts WHERE {where} GROUP BY stage")
    return data.set_index("stage")["n"].reindex(STAGES).astype(float)


def test_funnel_losses_have_the_documented_shape(full):
    con, _, _ = full
    reached = funnel(con)
    lost = 1 - reached / reached.shift()  # share lost at each step
    assert lost.idxmax() == "potential"  # i.e. target→potential loses the most
    assert 0.55 <= lost["potential"] <= 0.62
    assert lost["contacted"] == pytest.approx(0.57, abs=0.05)
    assert 1 - reached["effective"] / reached["signed"] == pytest.approx(0.66, abs=0.05)


def test_contacted_to_intent_really_improves_in_2006(full):
    con, _, _ = full
    y05, y06 = funnel(con, "period = '2005'"), funnel(con, "period = '2006'")
    test = two_proportion_test(y05["intent"], y05["contacted"], y06["intent"], y06["contacted"])
    assert test["diff"] > 0.04 and test["p_value"] < 0.001


def test_peers_differ_where_the_story_says(full):
    con, _, _ = full
    rate = {b: funnel(con, f"branch = '{b}'") for b in DEMO_BRANCHES}
    contact = {b: r["contacted"] / r["potential"] for b, r in rate.items()}
    install = {b: r["installed"] / r["signed"] for b, r in rate.items()}
    assert min(contact, key=contact.get) == "宁波分公司"
    assert min(install, key=install.get) == "温州分公司"


def test_stage_counts_equal_counts_derived_from_leads(full):
    con, _, _ = full
    leads = frame(con, "SELECT branch, created_date, segment, stage FROM leads")
    position = leads["stage"].map({key: i for i, key in enumerate(STAGES)})
    derived = (
        pd.concat([leads.assign(stage=key, count=position >= i) for i, key in enumerate(STAGES)])
        .assign(period=lambda d: d["created_date"].dt.year.astype(str))
        .groupby(["branch", "period", "segment", "stage"])["count"]
        .sum()
        .astype(int)
    )
    given = frame(con, "SELECT * FROM stage_counts").set_index(["branch", "period", "segment", "stage"])["count"]
    pd.testing.assert_series_equal(given.sort_index(), derived.sort_index(), check_names=False, check_dtype=False)


def test_some_late_stage_group_is_too_small_to_judge(full):
    con, _, _ = full
    small = con.execute(
        "SELECT count(*) FROM stage_counts WHERE stage = 'signed' AND count < 30 AND segment IN ('公话', '校园')"
    ).fetchall()[0][0]
    big = con.execute("SELECT count(*) FROM stage_counts WHERE stage = 'signed' AND count >= 30").fetchall()[0][0]
    assert small > 0 and big > 0


def test_branches_years_and_segments(full):
    con, _, _ = full
    leads = frame(con, "SELECT DISTINCT branch, year(created_date) AS year, segment, owner, region FROM leads")
    assert sorted(leads["branch"].unique()) == sorted(DEMO_BRANCHES) and len(DEMO_BRANCHES) >= 5
    assert sorted(leads["year"].unique()) == [2003, 2004, 2005, 2006]
    assert set(leads["segment"]) == {"商企", "住宅", "公话", "校园"}
    per_branch = leads.groupby("branch")[["owner", "region"]].nunique()
    assert per_branch["owner"].between(6, 10).all() and per_branch["region"].between(5, 6).all()


def test_stage_dates_increase_and_stop_at_the_furthest_stage(full):
    con, _, _ = full
    leads = frame(con, "SELECT * FROM leads USING SAMPLE 5000 ROWS (reservoir, 1)")
    dates = leads[[f"date_{k}" for k in STAGES]].to_numpy(dtype="datetime64[D]")
    position = leads["stage"].map({key: i for i, key in enumerate(STAGES)}).to_numpy()
    reached = ~np.isnat(dates)
    assert (reached == (np.arange(len(STAGES)) <= position[:, None])).all()
    both = reached[:, 1:] & reached[:, :-1]
    assert (np.diff(dates, axis=1)[both] >= np.timedelta64(1, "D")).all()
    assert (leads["date_target"] == leads["created_date"]).all()
    effective = leads.dropna(subset=["date_effective"])
    assert (effective["date_effective"] - effective["date_paying"]).dt.days.between(60, 150).all()


def test_outcomes_follow_the_rules(full):
    con, _, _ = full
    leads = frame(con, "SELECT * FROM leads")
    signed = leads["stage"].map({key: i for i, key in enumerate(STAGES)}) >= STAGES.index("signed")
    assert (leads.loc[signed, "outcome"] == "won").all()
    is_open = leads["outcome"] == "open"
    assert (leads.loc[is_open, "created_date"] >= "2006-11-01").all()
    assert (leads.loc[~signed & (leads["created_date"] >= "2006-11-01"), "outcome"] == "open").all()
    closed = leads[leads["stage"].isin(STAGES[2:]) & (leads["outcome"] != "open")]
    assert (closed["outcome"] == "lost").mean() == pytest.approx(0.70, abs=0.04)
    never = leads[leads["stage"].isin(["target", "potential"]) & (leads["outcome"] == "lost")]
    assert set(never["lost_reason"]) == {"网络未覆盖", "未接触"} and never["lost_kind"].isna().all()
    assert never["amount"].isna().all()
    lost = leads[leads["outcome"] == "lost"]
    last = lost[[f"date_{k}" for k in STAGES]].max(axis=1)
    assert (lost["lost_date"] > last).all()
    assert leads.loc[leads["outcome"] != "lost", ["lost_reason", "lost_kind", "lost_date"]].isna().all().all()


def test_one_owner_of_one_branch_loses_far_more_decided_deals(full):
    con, _, _ = full
    rates = frame(
        con,
        """SELECT branch, owner, avg(CASE WHEN outcome = 'lost' THEN 1.0 ELSE 0.0 END) AS lost_rate
           FROM leads WHERE stage NOT IN ('target', 'potential') AND outcome <> 'open' GROUP BY ALL""",
    ).set_index(["branch", "owner"])["lost_rate"]
    weak = rates.pop(("宁波分公司", "徐明"))
    assert weak == pytest.approx(0.92, abs=0.03)
    assert rates.max() < 0.76  # every other owner of every branch loses about two in three


def test_the_planted_driver_changes_only_the_weak_owners_won_deals(tmp_path, monkeypatch):
    from funnelkit.demo import catalog

    write_demo_db(tmp_path / "planted.duckdb", scale=0.2)
    monkeypatch.setattr(catalog, "WEAK_OWNER_SLIP", 0.0)
    write_demo_db(tmp_path / "none.duckdb", scale=0.2)
    sql = "SELECT * FROM leads ORDER BY lead_id"
    with duckdb.connect(str(tmp_path / "planted.duckdb")) as a, duckdb.connect(str(tmp_path / "none.duckdb")) as b:
        planted, plain = a.sql(sql).df(), b.sql(sql).df()
        assert hashes_of(a, "customers", "transactions") == hashes_of(b, "customers", "transactions")
    changed = ~((planted == plain) | (planted.isna() & plain.isna())).all(axis=1)
    assert changed.sum() > 10
    assert set(zip(plain.loc[changed, "branch"], plain.loc[changed, "owner"])) == {("宁波分公司", "徐明")}
    assert (plain.loc[changed, "outcome"] == "won").all() and (planted.loc[changed, "stage"] == "intent").all()
    assert set(planted.loc[changed, "outcome"]) <= {"lost", "open"}


def hashes_of(con, *tables: str) -> list[str]:
    return [table_hash(con, name) for name in tables]


def test_lost_kinds_and_follow_up(full):
    con, _, _ = full
    lost = frame(con, "SELECT * FROM leads WHERE lost_kind IS NOT NULL")
    quasi = lost["lost_kind"].isin(["abandoned", "long_unclosed", "misjudged"])
    assert quasi.mean() == pytest.approx(0.55, abs=0.04)
    assert (lost["competitor"].notna() == (lost["lost_kind"] == "competitor")).all()
    assert set(lost["competitor"].dropna()) == {"中国移动", "中国联通", "广电网络", "其他"}
    assert lost.loc[~quasi, "followed_up"].isna().all()
    followed = lost.loc[quasi, "followed_up"].astype(bool)
    assert followed.mean() == pytest.approx(0.60, abs=0.04)
    reengaged = lost.loc[quasi & lost["followed_up"].fillna(False).astype(bool), "reengaged"].astype(bool)
    assert reengaged.mean() == pytest.approx(0.40, abs=0.05)
    assert lost.loc[lost["reengaged"].isna(), "recovered"].isna().all()


def test_price_is_the_top_lost_reason_in_every_product_line(full):
    con, _, _ = full
    shares = (
        frame(
            con, "SELECT product_line, lost_reason, count(*) AS n FROM leads WHERE lost_kind IS NOT NULL GROUP BY ALL"
        )
        .pivot(index="product_line", columns="lost_reason", values="n")
        .fillna(0)
    )
    shares = shares.div(shares.sum(axis=1), axis=0)
    assert (shares.idxmax(axis=1) == "价格太高").all()
    assert shares["价格太高"].between(0.22, 0.40).all()
    assert "跟进不及时" in shares.columns


def test_amounts_by_segment(full):
    con, _, _ = full
    ranges = frame(con, "SELECT segment, min(amount) lo, max(amount) hi FROM leads GROUP BY 1").set_index("segment")
    assert ranges.loc["商企", "lo"] >= 3_000 and ranges.loc["商企", "hi"] <= 60_000
    assert ranges.loc["住宅", "lo"] >= 600 and ranges.loc["住宅", "hi"] <= 3_000
    open_late = con.execute(
        "SELECT count(*), count(amount) FROM leads WHERE outcome = 'open' AND stage = 'intent'"
    ).fetchall()[0]
    assert open_late[0] > 0 and open_late[0] == open_late[1]


def test_notes_carry_the_planted_personal_data_and_script(full):
    con, _, _ = full
    notes = frame(con, "SELECT note, outcome FROM leads WHERE note IS NOT NULL")
    lost = con.execute("SELECT count(*) FROM leads WHERE outcome = 'lost'").fetchall()[0][0]
    assert len(notes) / lost == pytest.approx(0.25, abs=0.04) and (notes["outcome"] == "lost").all()
    assert notes["note"].str.contains("<script>alert(1)</script>", regex=False).sum() in (1, 2)
    phones = notes["note"].str.contains(r"1[3-9]\d{9}")
    ids = notes["note"].str.contains(r"\d{17}[\dX]")
    assert phones.any() and ids.any()
    masked = notes.loc[phones | ids, "note"].map(mask_text)
    assert not masked.str.contains(r"\d{11}").any()


# --- customers, events, visits, transactions -------------------------------------------------


def scored(con) -> pd.DataFrame:
    data = frame(con, "SELECT * FROM customers")
    loyalty, capacity = data[list(LOYALTY_ITEMS)].sum(axis=1), data[list(CAPACITY_ITEMS)].sum(axis=1)
    tier = np.where(
        (loyalty >= 8) & (capacity >= 8), "premium", np.where((loyalty >= 6) & (capacity >= 6), "potential", "general")
    )
    return data.assign(tier=tier)


def test_scorecards_tier_4_12_84_unevenly(full):
    con, _, _ = full
    data = scored(con)
    for name, (_, top) in {**LOYALTY_ITEMS, **CAPACITY_ITEMS}.items():
        assert data[name].between(0, top).all()
    for _, year in data.groupby("snapshot_year"):
        shares = year["tier"].value_counts(normalize=True)
        assert shares["premium"] == pytest.approx(0.04, abs=0.03)
        assert shares["potential"] == pytest.approx(0.12, abs=0.03)
        assert shares["general"] == pytest.approx(0.84, abs=0.03)
    upper = data["tier"] != "general"
    by_industry = upper.groupby(data["industry"]).mean()
    assert by_industry.max() > 2 * by_industry.min()
    assert data.groupby("branch")["customer_id"].nunique().between(600, 1200).all()


def test_customers_in_both_years_move_a_little(full):
    con, _, _ = full
    data = scored(con)
    both = data.pivot(index="customer_id", columns="snapshot_year", values="tier").dropna()
    assert len(both) > 0.8 * data["customer_id"].nunique()
    moved = both[2005] != both[2006]
    assert 0.02 < moved.mean() < 0.2
    assert data["tier"].isin(["premium", "potential", "general"]).all()


def test_sales_amount_reaches_every_band(full):
    con, _, _ = full
    amounts = frame(con, "SELECT sales_amount FROM customers")["sales_amount"]
    bands = pd.cut(amounts, [0, 1e4, 5e4, 1e5, 2e5, np.inf], right=False).value_counts()
    assert (bands > 0).all()
    ids = frame(con, "SELECT id_number FROM customers")["id_number"]
    assert ids.str.fullmatch(r"\d{17}[\dX]").all()


def test_id_numbers_carry_a_valid_check_digit(full):
    con, _, _ = full
    # GB 11643 on the textbook example 11010519491231002X: weighted sum 167, 167 % 11 = 2 → 'X'
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

    def check(number: str) -> str:
        return "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], weights)) % 11]

    assert check("11010519491231002X") == "X"
    sample = frame(con, "SELECT id_number FROM customers LIMIT 200")["id_number"]
    assert all(check(n) == n[-1] for n in sample)


def test_premium_customers_refer_more_and_are_visited_per_policy(full):
    con, _, _ = full
    data = scored(con)
    events = frame(con, "SELECT customer_id, year(date) AS snapshot_year, kind, source_type FROM events")
    per = events.groupby(["customer_id", "snapshot_year"]).size().rename("events")
    rate = data.join(per, on=["customer_id", "snapshot_year"]).fillna({"events": 0}).groupby("tier")["events"].mean()
    assert rate["premium"] > 3 * rate["general"]
    assert events.loc[events["kind"] == "referral", "source_type"].value_counts().idxmax() == "existing_customer"
    assert events.loc[events["kind"] == "repurchase", "source_type"].isna().all()
    visits = frame(con, "SELECT customer_id, kind, month(date) AS month, quarter(date) AS quarter FROM visits")
    phone = visits[visits["kind"] == "phone"].groupby("customer_id")["month"].nunique()
    onsite = visits[visits["kind"] == "onsite"].groupby("customer_id")["quarter"].nunique()
    meets = (phone.reindex(data["customer_id"]).fillna(0).to_numpy() == 12) & (
        onsite.reindex(data["customer_id"]).fillna(0).to_numpy() == 4
    )
    by_tier = pd.Series(meets).groupby(data["tier"].to_numpy()).mean()
    assert by_tier["premium"] > 0.5 > by_tier["general"]


def test_cohort_retention_rises_and_margins_are_30_to_40(full):
    con, _, _ = full
    tx = frame(con, "SELECT customer_id, date, amount, cost, margin FROM transactions")
    active = tx.assign(year=tx["date"].dt.year)[["customer_id", "year"]].drop_duplicates()
    active["tenure"] = active["year"] - active.groupby("customer_id")["year"].transform("min")
    alive = active.groupby(["tenure"]).size()
    # customers active at tenure t, among the cohorts old enough to reach t
    cohort = active.groupby("customer_id")["year"].min()
    eligible = {
        t: active[(active["tenure"] == t - 1) & (active["customer_id"].map(cohort) <= 2006 - t)].shape[0]
        for t in (1, 2, 3)
    }
    retention = {t: alive[t] / eligible[t] for t in (1, 2, 3)}
    assert retention[1] == pytest.approx(0.60, abs=0.05)
    assert retention[1] < retention[2] < retention[3]
    assert retention[3] == pytest.approx(0.80, abs=0.05)
    assert (tx["margin"].sum() / tx["amount"].sum()) == pytest.approx(0.35, abs=0.05)
    per = tx.groupby("customer_id").agg(n=("date", "size"), days=("date", "nunique"))
    assert (per["n"] == 1).any() and (per["days"] < per["n"]).any()
    assert (tx["amount"] - tx["cost"] - tx["margin"]).abs().max() < 0.011


def test_personal_columns_look_real(full):
    con, _, _ = full
    phones = frame(con, "SELECT contact_phone FROM leads WHERE contact_phone IS NOT NULL LIMIT 500")
    assert phones["contact_phone"].map(lambda p: bool(re.fullmatch(r"1[358]\d{9}", p))).all()


# --- load_demo --------------------------------------------------------------------------------


def test_load_demo_returns_small_copies_per_branch():
    leads = load_demo("leads")
    assert 3_000 <= len(leads) <= 8_000 and list(leads.columns) == [c.name for c in table_columns("leads")]
    one = load_demo("leads", branch="温州分公司")
    assert set(one["branch"]) == {"温州分公司"} and 0 < len(one) < len(leads)
    leads.loc[:, "stage"] = "target"
    assert load_demo("leads")["stage"].nunique() == len(STAGES)


def test_load_demo_refuses_unknown_names_listing_the_options():
    with pytest.raises(ValueError, match="leads, stage_counts"):
        load_demo("lead")
    with pytest.raises(ValueError, match="杭州分公司"):
        load_demo("leads", branch="上海分公司")
