"""The real notebooks through the real batch, for every demo branch (one shared run)."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup

from tests.batch.test_runner import external_references

pytestmark = pytest.mark.e2e

BRANCHES = ("hangzhou", "ningbo", "wenzhou", "shaoxing", "jiaxing")
NOTEBOOKS = ("funnel", "tiers", "lost", "ltv")
TITLES = {"funnel": "客户漏斗", "tiers": "基盘客户", "lost": "战败客户", "ltv": "客户生命周期价值"}
#: Figures the leadership index reads from each notebook's summary.json.
KEY_FIGURES = {
    "funnel": {
        "overall_conversion",
        "top_bottleneck",
        "top_bottleneck_loss_rate",
        "top_bottleneck_gain_customers",
        "top_bottleneck_gain_revenue",
        "forecast_total",
        "current_period",
    },
    "tiers": {
        "tier_shares",
        "premium_share",
        "premium_share_previous",
        "premium_growth",
        "top_region",
        "top_industry",
        "referral_share_existing",
        "current_year",
    },
    "lost": {
        "lost_rate",
        "lost_rate_target",
        "gap_to_target",
        "status",
        "top_reason_by_product_line",
        "controllable_share",
        "recovered_count",
        "current_year",
    },
    "ltv": {"first_year_retention", "ltv_3y", "break_even_period", "decline_share", "cohort_period"},
}


def test_every_branch_and_notebook_succeeds(demo_run):
    failed = [(r.slug, r.notebook, r.detail) for r in demo_run.results if not r.ok]
    assert not failed
    assert {(r.slug, r.notebook) for r in demo_run.results} == {(b, n) for b in BRANCHES for n in NOTEBOOKS}
    # every kernel was forked from a worker's zygote: none paid for importing the kit again
    assert all(r.forked_kernel for r in demo_run.results)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
@pytest.mark.parametrize("branch", BRANCHES)
def test_report_is_a_clean_offline_document(demo_run, branch, notebook):
    html = (demo_run.run_dir / branch / f"{notebook}.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert TITLES[notebook] in soup.find("h1").get_text()
    assert not soup.select(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt")
    assert not soup.select('[data-mime-type="application/vnd.jupyter.stderr"]')
    text = soup.get_text()
    for leak in ("Traceback", "Warning:", "warnings.warn", "load_table(", "start_report(", "<script>alert"):
        assert leak not in text and leak not in html.replace("&lt;script&gt;alert", "")
    assert external_references(html) == []
    assert soup.find("img", src=lambda s: s and s.startswith("data:image/png;base64,"))
    assert len(html.encode()) < 1.5 * 1024 * 1024


@pytest.mark.parametrize("notebook", NOTEBOOKS)
@pytest.mark.parametrize("branch", BRANCHES)
def test_summary_carries_the_key_figures(demo_run, branch, notebook):
    summary = json.loads((demo_run.run_dir / branch / notebook / "summary.json").read_text(encoding="utf-8"))
    assert summary["run_id"] == demo_run.run_id and summary["notebook"] == notebook
    assert KEY_FIGURES[notebook] <= set(summary["figures"])
    for table in summary["tables"]:
        assert (demo_run.run_dir / branch / notebook / table).read_bytes().startswith(b"\xef\xbb\xbf")


#: Words a manager should not meet in a summary: statistics' names, codes, half a customer.
JARGON = re.compile(
    r"p\s*[=<]|Wilson|Holm|Brier|Newcombe|BTYD|校正后|赫芬达尔|\bpp\b|95% ?区间|\d\.\d+ ?(位|人|名|个区域|个商机)"
)
CODE = re.compile(r"[A-Za-z_][A-Za-z_0-9]+")
ALLOWED_WORDS = {"VIP"}  # a customer tier's name in Chinese business use


@pytest.mark.parametrize("notebook", NOTEBOOKS)
@pytest.mark.parametrize("branch", BRANCHES)
def test_reader_text_is_plain(demo_run, branch, notebook):
    soup = BeautifulSoup((demo_run.run_dir / branch / f"{notebook}.html").read_text(encoding="utf-8"), "html.parser")
    summary = soup.select_one(".fk-findings")
    assert 1 <= len(summary.select("li")) <= 5
    lines = [li.get_text() for li in soup.select(".fk-findings li, .fk-warnings li")]
    lines += [p.get_text() for p in soup.select(".fk-gap")]
    assert lines
    for line in lines:
        assert not JARGON.search(line), line
        assert not set(CODE.findall(line)) - ALLOWED_WORDS, line


def test_index_names_each_priority_with_its_gain(demo_run):
    soup = BeautifulSoup((demo_run.run_dir / "index.html").read_text(encoding="utf-8"), "html.parser")
    rows = soup.select("#key-figures tbody tr")
    assert len(rows) == len(BRANCHES)
    for row in rows:
        step = row.find("td", attrs={"data-key": "top_bottleneck"}).get_text()
        gain = float(row.find("td", attrs={"data-key": "gain_customers"})["data-value"] or 0)
        assert gain > 0 or "无可测算的改善空间" in step, (step, gain)
    headers = [th.get_text() for th in soup.select("#key-figures thead th")]
    assert any("百分点" in h for h in headers)
    hangzhou = json.loads((demo_run.run_dir / "hangzhou" / "funnel" / "summary.json").read_text(encoding="utf-8"))
    figures = hangzhou["figures"]
    assert figures["top_bottleneck_key"] == "paying>effective" and round(figures["top_bottleneck_gain_customers"]) == 18
