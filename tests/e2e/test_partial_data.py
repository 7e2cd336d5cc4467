"""Real branch data through the real notebooks: partial tables, the branch's own labels, one
period and no other branch. Each report still publishes, shows what it can and says in one
line what is missing; the demo database is never read."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from bs4 import BeautifulSoup

from funnelkit.batch.runner import run_batch
from funnelkit.data.schema import TABLES
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

DEMO = ROOT / "data" / "demo.duckdb"
BRANCH = "杭州分公司"
#: The branch writes its referral sources its own way; its params map them back.
OWN_SOURCES = {
    "existing_customer": "老用户推荐",
    "friends_family": "亲朋好友推荐",
    "new_customer": "新用户推荐",
    "same_industry": "同行业推荐",
    "same_region": "同区域推荐",
}
ALIASES = "aliases:\n  source_type:\n" + "".join(f"    {own}: {code}\n" for code, own in OWN_SOURCES.items())


def _export(db, table: str, path, where: str = "") -> None:
    db.execute(f"COPY (SELECT * FROM {table} WHERE branch = ? {where}) TO '{path}' (HEADER)", [BRANCH])


@pytest.fixture(scope="module")
def partial(tmp_path_factory):
    """A project of three real-shaped branches cut from the demo data, exported as CSV files
    (the demo database itself is hidden from the run), and one batch over them."""
    if not DEMO.exists():
        pytest.fail("data/demo.duckdb is missing: run the tests with `make test`, which builds it")
    project = tmp_path_factory.mktemp("partial")
    data = project / "data"
    data.mkdir()
    with duckdb.connect(str(DEMO), read_only=True) as db:
        _export(db, "customers", data / "customers.csv")
        _export(db, "visits", data / "visits.csv")
        _export(db, "stage_counts", data / "counts_2006.csv", "AND period = '2006'")
        required = ", ".join(c.name for c in TABLES["leads"].columns if c.required)
        db.execute(f"COPY (SELECT {required} FROM leads WHERE branch = ?) TO '{data / 'leads.csv'}' (HEADER)", [BRANCH])
        relabel = " ".join(f"WHEN '{code}' THEN '{own}'" for code, own in OWN_SOURCES.items())
        db.execute(
            f"COPY (SELECT * REPLACE (CASE source_type {relabel} ELSE source_type END AS source_type) FROM events"
            f" WHERE branch = ?) TO '{data / 'events.csv'}' (HEADER)",
            [BRANCH],
        )
        shares = db.execute(
            "SELECT source_type, count(*) / sum(count(*)) OVER () FROM events WHERE branch = ? AND kind = 'referral'"
            " AND source_type IS NOT NULL GROUP BY 1",
            [BRANCH],
        ).fetchall()
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    params = project / "params"
    params.mkdir()
    (params / "defaults.yaml").write_text('lang: zh\nsource: ""\nfiles: {}\nstages: []\nas_of: ""\n', encoding="utf-8")
    branches = {
        # customers and visits, no events: the referral sections are gaps
        "no_events": "files: {customers: data/customers.csv, visits: data/visits.csv}\nnotebooks: [tiers]\n",
        # customers and events in the branch's own labels, no visits: the cadence is a gap
        "own_labels": "files: {customers: data/customers.csv, events: data/events.csv}\n"
        f"notebooks: [tiers]\n{ALIASES}",
        # stage counts of one period, no other branch: the change and the peer sections are gaps
        "one_period": "files: {stage_counts: data/counts_2006.csv}\nnotebooks: [funnel]\n",
        # leads with the required columns only: no reasons, kinds, competitors or notes
        "bare_leads": "files: {leads: data/leads.csv}\nnotebooks: [lost]\n",
    }
    for slug, text in branches.items():
        (params / f"{slug}.yaml").write_text(f"branch: {BRANCH}\n{text}", encoding="utf-8")
    (project / "outputs").mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("FUNNELKIT_DEMO_DB", str(project / "no-demo.duckdb"))  # any demo read would fail
    try:
        batch = run_batch(project_root=project, workers=2)
    finally:
        mp.undo()
    return batch, dict(shares)


def _report(batch, slug, notebook):
    folder = batch.run_dir / slug / notebook
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    html = (batch.run_dir / slug / f"{notebook}.html").read_text(encoding="utf-8")
    return summary, BeautifulSoup(html, "html.parser"), {p.name for p in folder.glob("*.csv")}


def test_every_partial_branch_publishes(partial):
    batch, _ = partial
    assert [(r.slug, r.notebook, r.status) for r in batch.results if r.status != "skipped"] == [
        ("bare_leads", "lost", "ok"),
        ("no_events", "tiers", "ok"),
        ("one_period", "funnel", "ok"),
        ("own_labels", "tiers", "ok"),
    ], [r.detail for r in batch.results if not r.ok]


def test_a_missing_table_skips_exactly_its_sections(partial):
    batch, _ = partial
    summary, soup, csvs = _report(batch, "no_events", "tiers")
    assert set(summary["sections_not_shown"]) == {"referrals", "sources"}
    gaps = [p.get_text() for p in soup.select(".fk-gap")]
    assert len(gaps) == 2 and all("推荐与续购记录（events）" in g for g in gaps)
    assert {"events_by_month.csv", "events_by_tier.csv", "referral_sources.csv"}.isdisjoint(csvs)
    assert {"cadence.csv", "tier_shares.csv"} <= csvs  # the sections it can show are there
    assert summary["figures"]["referral_share_existing"] is None  # no zero standing for "no data"

    summary, soup, csvs = _report(batch, "own_labels", "tiers")
    assert set(summary["sections_not_shown"]) == {"cadence"}
    assert "回访记录（visits）" in soup.select_one(".fk-gap").get_text()
    assert {"cadence.csv", "overdue.csv", "overdue_owners.csv"}.isdisjoint(csvs)
    assert "没有回访记录" not in soup.get_text() and "0.0%" not in soup.select_one(".fk-findings").get_text()


def test_the_branchs_own_labels_give_the_shares_of_its_data(partial):
    batch, shares = partial
    summary, _, _ = _report(batch, "own_labels", "tiers")
    table = (batch.run_dir / "own_labels" / "tiers" / "referral_sources.csv").read_text(encoding="utf-8-sig")
    rows = {line.split(",")[0]: line.split(",") for line in table.splitlines()[1:]}
    assert "other" not in rows and not any(own in rows for own in OWN_SOURCES.values())
    assert summary["figures"]["referral_share_existing"] == pytest.approx(shares["existing_customer"])


def test_one_period_and_no_peers_say_so_instead_of_empty_tables(partial):
    batch, _ = partial
    summary, soup, csvs = _report(batch, "one_period", "funnel")
    assert set(summary["sections_not_shown"]) >= {"change", "peers"}
    text = soup.get_text()
    assert "None" not in text and "只有2006" in text.replace(" ", "")
    assert "本次运行的数据中没有其他分公司" in text
    assert {"yoy.csv", "drivers.csv"}.isdisjoint(csvs) and "stages.csv" in csvs


def test_empty_optional_columns_are_gaps_not_shares_of_missing(partial):
    batch, _ = partial
    summary, soup, csvs = _report(batch, "bare_leads", "lost")
    assert set(summary["sections_not_shown"]) == {"reasons", "recovery", "competitors", "notes"}
    assert summary["figures"]["controllable_share"] is None and summary["figures"]["recovered_count"] is None
    gaps = [p.get_text() for p in soup.select(".fk-gap")]
    assert len(gaps) == 4 and "战败原因（lost_reason）" in gaps[0]
    text = soup.get_text()
    assert "未填写" not in text and "准战败）" not in text  # no share of "missing", no boxes of zeros
    assert not [h for h in soup.find_all("h3") if "原因分类" in h.get_text()]  # no empty subsection
    assert {"reason_shares.csv", "lost_split.csv", "competitors.csv", "note_terms.csv"}.isdisjoint(csvs)
    assert "lost_rates.csv" in csvs
