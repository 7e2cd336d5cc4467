"""The leadership index page: key figures from each summary.json, traffic lights, the company
funnel plot, links, failures, escaping, masking and language — on a fake run folder."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from funnelkit.batch.index import company_funnel_data, key_figures_table, traffic_lights, write_index
from funnelkit.batch.runner import Result
from funnelkit.i18n import t
from tests.batch.test_runner import external_references

EVIL = "<script>alert(1)</script>乙分公司"
PHONE = "13812345678"
# slug → (branch, funnel, lost, tiers, ltv figures); gamma's ltv run fails.
BRANCHES = {
    "alpha": (
        "甲分公司",
        {
            "overall_conversion": 0.20,
            "pipeline_velocity": 57368.6,
            "pipeline_velocity_change": 20550.0,
            "top_bottleneck": "潜在客户→接触客户",
            "top_bottleneck_key": "potential>contacted",
            "top_bottleneck_lost": 120.0,
            "top_bottleneck_gain_customers": 12.4,
            "top_bottleneck_gain_revenue": 1234567.8,
            "priority_found": True,
            "overall_conversion_benchmark": 0.16,
            "overall_conversion_basis": "company",
            "current_period": "2006",
        },
        {"lost_rate": 0.50, "lost_rate_target": 0.60, "status": "on_track"},
        {"premium_share": 0.10, "premium_share_target": 0.08, "premium_share_change": -0.02, "premium_growth": -0.10},
        {"ltv_3y": 1500.0, "ltv_3y_target": 1000.0},
    ),
    "beta": (
        EVIL,
        {
            "overall_conversion": 0.16,
            "pipeline_velocity": 1200.0,
            "pipeline_velocity_change": None,
            "top_bottleneck": "潜在客户→接触客户",
            "top_bottleneck_key": "potential>contacted",
            "top_bottleneck_lost": 70.0,
            "top_bottleneck_gain_customers": 3.0,
            "top_bottleneck_gain_revenue": 5000.0,
            "priority_found": True,
            "overall_conversion_benchmark": 0.20,
            "overall_conversion_basis": "target",
            "current_period": "2006",
        },
        {"lost_rate": 0.62, "lost_rate_target": 0.60, "status": "at_risk"},
        {"premium_share": 0.08, "premium_share_target": None, "premium_share_change": 0.01, "premium_growth": 0.20},
        {"ltv_3y": 900.0, "ltv_3y_target": None},
    ),
    "gamma": (
        "丙分公司",
        {
            "overall_conversion": 0.11,
            "pipeline_velocity": 800.0,
            "pipeline_velocity_change": -50.0,
            "top_bottleneck": "接触客户→意向客户",
            "top_bottleneck_key": "contacted>intent",
            "top_bottleneck_lost": 40.0,
            "top_bottleneck_gain_customers": 1.0,
            "top_bottleneck_gain_revenue": 800.0,
            "priority_found": True,
            "overall_conversion_benchmark": 0.16,
            "overall_conversion_basis": "company",
            "current_period": "2006",
        },
        {"lost_rate": 0.75, "lost_rate_target": 0.60, "status": "off_track"},
        {"premium_share": 0.05, "premium_share_target": 0.06, "premium_share_change": -0.01, "premium_growth": 0.10},
        None,
    ),
}
# Whole-branch potential>contacted in 2006: alpha 80/200, beta 30/100, gamma 50/100.
STEP = {"alpha": (200, 80), "beta": (100, 30), "gamma": (100, 50)}
NOTEBOOKS = ("funnel", "lost", "tiers", "ltv")
TABLES = {
    "funnel": ["transitions.csv", "a b.csv"],
    "lost": ["lost_rates.csv"],
    "tiers": ["tier_shares.csv"],
    "ltv": ["ltv_projection.csv"],
}


def _transitions(n: int, converted: int) -> pd.DataFrame:
    """The rows the index must pick (total, 2006) among decoys (a segment, an older year)."""
    rows = [
        ("2006", "all", True, "potential>contacted", n, converted),
        ("2006", "all", True, "contacted>intent", converted, converted // 2),
        ("2006", "商企", False, "potential>contacted", 7, 7),
        ("2005", "all", True, "potential>contacted", 999, 1),
    ]
    frame = pd.DataFrame(rows, columns=["period", "segment", "is_total", "transition", "from_count", "to_count"])
    return frame.assign(rate=frame["to_count"] / frame["from_count"])


def _write_run(run: Path) -> list[Result]:
    results = []
    for slug, (branch, *figures) in BRANCHES.items():
        for notebook, values in zip(NOTEBOOKS, figures):
            if values is None:
                results.append(
                    Result(slug, branch, notebook, "failed", error=f"ValueError: 客户电话{PHONE}格式不对 <b>x</b>")
                )
                continue
            folder = run / slug / notebook
            folder.mkdir(parents=True)
            (run / slug / f"{notebook}.html").write_text("<html></html>", encoding="utf-8")
            for table in TABLES[notebook]:
                (folder / table).write_text("\ufeffa\n1\n", encoding="utf-8")
            if notebook == "funnel":
                _transitions(*STEP[slug]).to_csv(folder / "transitions.csv", index=False, encoding="utf-8-sig")
            (folder / "summary.json").write_text(
                json.dumps(
                    {
                        "notebook": notebook,
                        "branch": branch,
                        "lang": "zh",
                        "run_id": run.name,
                        "kit_version": "0.1.0",
                        "tables": TABLES[notebook],
                        "figures": values,
                    },
                    ensure_ascii=False,
                ),
                encoding="utf-8",
            )
            results.append(Result(slug, branch, notebook, "ok"))
    return results


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outputs") / "20260101-000000-abcd"
    results = _write_run(folder)
    zh = write_index(folder, results, fingerprint="f" * 64).read_text(encoding="utf-8")
    en = write_index(folder, results, fingerprint="f" * 64, lang="en").read_text(encoding="utf-8")
    return folder, results, zh, en


def _cell(soup: BeautifulSoup, branch: str, key: str):
    for row in soup.select("#key-figures tbody tr"):
        if row.find("td", attrs={"data-key": "branch"}).get_text() == branch:
            return row.find("td", attrs={"data-key": key})
    raise AssertionError(f"no row for {branch}")


def _shown(soup: BeautifulSoup, branch: str, key: str) -> str:
    return _cell(soup, branch, key).find(class_="value").get_text()


def test_figures_on_the_page_match_each_summary(run):
    folder, _, zh, _ = run
    soup = BeautifulSoup(zh, "html.parser")
    assert len(soup.select("#key-figures tbody tr")) == 3
    columns = {
        "overall_conversion": (1, "overall_conversion"),
        "pipeline_velocity": (1, "pipeline_velocity"),
        "gain_customers": (1, "top_bottleneck_gain_customers"),
        "gain_revenue": (1, "top_bottleneck_gain_revenue"),
        "lost_rate": (2, "lost_rate"),
        "premium_share": (3, "premium_share"),
        "premium_share_change": (3, "premium_share_change"),
        "ltv_3y": (4, "ltv_3y"),
    }
    for slug, (branch, *_) in BRANCHES.items():
        for column, (position, key) in columns.items():
            notebook = NOTEBOOKS[position - 1]
            path = folder / slug / notebook / "summary.json"
            cell = _cell(soup, branch, column)
            if not path.exists():
                assert cell["data-value"] == "" and cell.find("span", class_="value").get_text() == "无"
                continue
            figure = json.loads(path.read_text(encoding="utf-8"))["figures"][key]
            assert float(cell["data-value"]) == figure, (slug, column)
    # Formatted for reading: one-decimal percentages, thousands separators, signed growth.
    assert _shown(soup, "甲分公司", "overall_conversion") == "20.0%"
    # velocity in whole yuan a day, its change on the year before beside it (none when one year)
    assert _shown(soup, "甲分公司", "pipeline_velocity") == "57,369"
    assert "+20,550" in _cell(soup, "甲分公司", "pipeline_velocity").get_text()
    assert "较上年" not in _cell(soup, EVIL, "pipeline_velocity").get_text()
    assert _shown(soup, "甲分公司", "gain_revenue") == "1,234,568"
    assert _shown(soup, "甲分公司", "gain_customers") == "12"
    assert _shown(soup, "甲分公司", "premium_share_change") == "-2.0"  # points, not per cent
    assert _shown(soup, "甲分公司", "ltv_3y") == "1,500"
    assert _shown(soup, "丙分公司", "top_bottleneck") == "接触客户→意向客户"
    lost = _cell(soup, "丙分公司", "lost_rate")
    assert _shown(soup, "丙分公司", "lost_rate") == "75.0%" and lost.small.get_text() == "目标 60.0%"


def test_traffic_lights_on_hand_picked_values(run):
    soup = BeautifulSoup(run[2], "html.parser")

    def light(branch, key):
        mark = _cell(soup, branch, key).find("span", class_="light")
        return None if mark is None else mark["data-light"]

    # Lost rate by its status against target.
    assert [light(b, "lost_rate") for b in ("甲分公司", EVIL, "丙分公司")] == ["green", "amber", "red"]
    # Conversion against each branch's own benchmark: 0.20 / 0.16 company = 1.25 green,
    # 0.16 / 0.20 target = 0.80 amber, 0.11 / 0.16 company = 0.69 red.
    assert [light(b, "overall_conversion") for b in ("甲分公司", EVIL, "丙分公司")] == ["green", "amber", "red"]
    assert _cell(soup, "甲分公司", "overall_conversion").small.get_text() == "全公司 16.0%"
    assert _cell(soup, EVIL, "overall_conversion").small.get_text() == "目标 20.0%"
    # Premium share against its target: 0.10 / 0.08 green, 0.05 / 0.06 = 0.83 amber, no target: no light.
    assert [light(b, "premium_share") for b in ("甲分公司", EVIL, "丙分公司")] == ["green", None, "amber"]
    # Its change on last year in points: −2.0 red (a fall of more than 1.5), +1.0 green, −1.0 amber.
    assert [light(b, "premium_share_change") for b in ("甲分公司", EVIL, "丙分公司")] == ["red", "green", "amber"]
    # LTV: 1500 against a target of 1000 green; no target, no light; gains never carry one.
    assert light("甲分公司", "ltv_3y") == "green" and light(EVIL, "ltv_3y") is None
    assert light("甲分公司", "gain_revenue") is None
    # Not colour alone: a text label and an aria label naming the reason.
    mark = _cell(soup, "丙分公司", "lost_rate").find("span", class_="light")
    assert mark.get_text() == "落后" and mark["aria-label"] == "落后：战败率75.0%，目标60.0%"
    mark = _cell(soup, "丙分公司", "premium_share_change").find("span", class_="light")
    assert mark["aria-label"] == "关注：较上年-1.0个百分点"
    rules = soup.select_one("details.rules").get_text()
    assert "全公司合并转化率" in rules and "中位数" not in rules


def _figures(**columns) -> pd.DataFrame:
    """A key-figure table as :func:`key_figures_table` makes it, every figure empty unless given."""
    n = len(next(iter(columns.values())))
    empty = {c: [None] * n for c in ("lost_status", "lost_rate", "lost_rate_target", "premium_share_change")}
    empty |= {c: [None] * n for c in ("overall_conversion", "conversion_benchmark", "conversion_basis")}
    empty |= {c: [None] * n for c in ("premium_share", "premium_share_target", "ltv_3y", "ltv_3y_target")}
    frame = pd.DataFrame({**empty, **columns})
    texts = ("slug", "lost_status", "conversion_basis")
    return frame.astype({c: float for c in frame if c not in texts})


def test_traffic_lights_function_keeps_rule_boundaries():
    figures = _figures(
        slug=list("abcd"),
        overall_conversion=[0.10, 0.09, 0.0675, 0.074],
        conversion_benchmark=[0.10, 0.10, 0.09, None],
        conversion_basis=["company", "target", "company", None],
        premium_share_change=[0.0, -0.005, -0.0051, -0.016],
        lost_status=[None, "on_track", None, "weird"],
        lost_rate=[None, 0.3, None, 0.4],
        lost_rate_target=[None, 0.5, None, 0.5],
    )
    lights = traffic_lights(figures).set_index(["slug", "figure"])
    light = lights["light"]
    # 0.09 / 0.10 = 0.90 exactly: still green; 0.0675 / 0.09 = 0.75 exactly: amber, not red.
    assert light["a", "overall_conversion"] == "green" and light["b", "overall_conversion"] == "green"
    assert light["c", "overall_conversion"] == "amber" and ("d", "overall_conversion") not in light.index
    assert lights.loc[("b", "overall_conversion"), "basis"] == "target"
    assert lights.loc[("c", "overall_conversion"), "basis"] == "company"
    # share change: a fall of exactly half a point green, just over amber, over 1.5 points red.
    assert [light[s, "premium_share_change"] for s in "abcd"] == ["green", "green", "amber", "red"]
    assert light["b", "lost_rate"] == "green" and ("d", "lost_rate") not in light.index  # unknown status
    assert not any(f in ("premium_share", "ltv_3y") for _, f in light.index)  # no target, no light


def test_lights_stay_when_branches_come_and_go():
    five = _figures(
        slug=["hangzhou", "jiaxing", "ningbo", "shaoxing", "wenzhou"],
        overall_conversion=[0.022, 0.029, 0.019, 0.016, 0.014],
        conversion_benchmark=[0.020] * 5,
        conversion_basis=["company"] * 5,
        premium_share=[0.040, 0.043, 0.040, 0.039, 0.029],
        premium_share_target=[0.04] * 5,
        premium_share_change=[0.0, 0.01, 0.005, 0.002, -0.002],
        ltv_3y=[666.0, 693.0, 726.0, 642.0, 650.0],
        ltv_3y_target=[700.0] * 5,
    )
    before = traffic_lights(five)
    # a sixth branch far off every figure (a copy of one with a tenth of its values), then one fewer
    sixth = five.iloc[[0]].assign(
        slug="copy", overall_conversion=0.002, premium_share=0.004, premium_share_change=-0.05, ltv_3y=66.0
    )
    added = traffic_lights(pd.concat([five, sixth], ignore_index=True))
    removed = traffic_lights(five[five["slug"] != "ningbo"])
    key = ["slug", "figure"]
    pd.testing.assert_frame_equal(
        added[added["slug"] != "copy"].sort_values(key, ignore_index=True), before.sort_values(key, ignore_index=True)
    )
    expected = before[before["slug"] != "ningbo"].sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(removed.sort_values(key, ignore_index=True), expected)
    assert set(added.loc[added["slug"] == "copy", "light"]) == {"red"}
    assert len(before) == 5 * 4  # conversion, premium share, its change and LTV for each branch


def test_a_branch_without_a_gain_says_so(tmp_path):
    run = tmp_path / "20260101-000000-none"
    figures = {
        "overall_conversion": 0.2,
        "top_bottleneck": None,
        "top_bottleneck_key": None,
        "top_bottleneck_gain_customers": None,
        "top_bottleneck_gain_revenue": None,
        "priority_found": False,
        "current_period": "2006",
    }
    (run / "solo" / "funnel").mkdir(parents=True)
    (run / "solo" / "funnel.html").write_text("<html></html>", encoding="utf-8")
    summary = {"notebook": "funnel", "branch": "甲分公司", "lang": "zh", "tables": [], "figures": figures}
    (run / "solo" / "funnel" / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    soup = BeautifulSoup(
        write_index(run, [Result("solo", "甲分公司", "funnel", "ok")]).read_text("utf-8"), "html.parser"
    )
    assert _shown(soup, "甲分公司", "top_bottleneck") == "各环节均已达标杆，无可测算的改善空间"
    assert _shown(soup, "甲分公司", "gain_customers") == "0" and _shown(soup, "甲分公司", "gain_revenue") == "0"
    assert _shown(soup, "甲分公司", "lost_rate") == "无"  # not run: nothing to say


def test_key_figures_table_is_one_row_per_branch():
    summaries = [
        {"slug": "b", "branch": "乙", "notebook": "ltv", "lang": "zh", "figures": {"ltv_3y": 10}},
        {
            "slug": "a",
            "branch": "甲",
            "notebook": "lost",
            "lang": "zh",
            "figures": {"lost_rate": 0.4, "status": "at_risk", "lost_rate_target": None},
        },
    ]
    table = key_figures_table(summaries)
    assert table["slug"].tolist() == ["a", "b"] and table.loc[1, "ltv_3y"] == 10.0
    assert table.loc[0, "lost_status"] == "at_risk" and pd.isna(table.loc[0, "lost_rate_target"])
    assert pd.isna(table.loc[0, "ltv_3y"]) and table.loc[1, "lost_status"] is None


def test_company_funnel_data_by_hand():
    transitions = pd.concat(
        [_transitions(*STEP[s]).query("is_total and period == '2006'").assign(branch=s) for s in STEP]
    )
    data = company_funnel_data(transitions, transition="potential>contacted").set_index("branch")
    # pooled 160/400 = 0.40; n=200: se = sqrt(.4*.6/200) = 0.034641, 95% ± 1.959964*se = ± 0.067896;
    # n=100: se = 0.0489898, 95% ± 0.096018, 99.8% ± 3.090232*se = ± 0.151390.
    assert data["rate"].to_dict() == pytest.approx({"alpha": 0.40, "beta": 0.30, "gamma": 0.50})
    assert data["p0"].tolist() == pytest.approx([0.40] * 3)
    assert (data.loc["alpha", "low95"], data.loc["alpha", "high95"]) == pytest.approx((0.332104, 0.467896), abs=1e-6)
    assert (data.loc["beta", "low95"], data.loc["beta", "high95"]) == pytest.approx((0.303982, 0.496018), abs=1e-6)
    assert (data.loc["beta", "low998"], data.loc["beta", "high998"]) == pytest.approx((0.248610, 0.551390), abs=1e-6)
    # beta 0.30 < 0.303982: outside 95% below; gamma 0.50 > 0.496018: outside 95% above.
    assert data["position"].to_dict() == {"alpha": "within", "beta": "low", "gamma": "high"}


def test_funnel_plot_is_embedded_small_and_on_the_common_bottleneck(run):
    soup = BeautifulSoup(run[2], "html.parser")
    figure = soup.find("figure", id="company-funnel")
    src = figure.img["src"]
    assert src.startswith("data:image/png;base64,")
    assert len(base64.b64decode(src.split(",", 1)[1])) < 80 * 1024
    # potential>contacted is the top bottleneck of two branches out of three; pooled 40.0%.
    caption = figure.figcaption.get_text()
    assert "潜在客户→接触客户" in caption and "2个分公司" in caption and "40.0%" in caption


def test_sorting_script_is_inline_and_nothing_is_external(run):
    for html in run[2:]:
        soup = BeautifulSoup(html, "html.parser")
        scripts = soup.find_all("script")
        assert scripts and all(not s.get("src") for s in scripts)
        assert any("dataset.value" in s.get_text() and "parseFloat" in s.get_text() for s in scripts)
        assert all(th.button for th in soup.select("#key-figures thead th"))
        assert external_references(html) == [] and not re.search(r"https?://", html)


def test_links_to_every_report_and_csv(run):
    _, results, zh, _ = run
    hrefs = {a["href"] for a in BeautifulSoup(zh, "html.parser").find_all("a")}
    for r in results:
        if r.ok:
            assert f"{r.slug}/{r.notebook}.html" in hrefs
            for table in TABLES[r.notebook]:
                assert f"{r.slug}/{r.notebook}/{table.replace(' ', '%20')}" in hrefs
    assert "gamma/ltv.html" not in hrefs and "gamma/funnel/a%20b.csv" in hrefs


def test_data_text_is_escaped_and_error_lines_masked(run):
    _, _, zh, _ = run
    assert "<script>alert" not in zh and "&lt;script&gt;alert(1)&lt;/script&gt;乙分公司" in zh
    assert "<b>x</b>" not in zh
    soup = BeautifulSoup(zh, "html.parser")
    assert _shown(soup, EVIL, "branch") == EVIL
    failures = soup.select("#failures tbody tr")
    assert len(failures) == 1
    assert [td.get_text() for td in failures[0].find_all("td")] == [
        "丙分公司",
        "客户生命周期价值",
        "ValueError: 客户电话138****5678格式不对 <b>x</b>",
    ]
    assert PHONE not in zh


def test_run_facts_and_language(run):
    _, _, zh, en = run
    soup = BeautifulSoup(zh, "html.parser")
    assert soup.html["lang"] == "zh" and soup.h1.get_text() == t("index.page_title", "zh")
    meta = soup.get_text()
    assert "20260101-000000-abcd" in meta and "f" * 64 in meta and "funnelkit " in meta
    english = BeautifulSoup(en, "html.parser")
    assert english.html["lang"] == "en" and english.h1.get_text() == "Branch sales analysis overview"
    headers = [th.get_text() for th in english.select("#key-figures thead th")]
    assert headers[:2] == ["Branch", "Overall funnel conversion"] and "3-year LTV" in headers
    # The zh bottleneck label from the summary comes back in English stage names.
    assert _shown(english, "丙分公司", "top_bottleneck") == "Contacted→Intent"
    assert "Customer lifetime value" in english.select_one("#failures").get_text()
    assert not re.search(r"[\u4e00-\u9fff]", english.h1.get_text() + "".join(headers))


def test_write_is_atomic_and_refuses_unknown_language(run):
    folder, results, _, _ = run
    assert not (folder / ".index.html.tmp").exists()
    with pytest.raises(ValueError, match="lang must be one of"):
        write_index(folder, results, lang="fr")


def test_figures_link_to_the_section_behind_them(run, tmp_path):
    from funnelkit.batch.index import section_anchor

    folder, _, zh, _ = run
    soup = BeautifulSoup(zh, "html.parser")
    link = _cell(soup, "丙分公司", "overall_conversion").find("a", class_="value")
    assert link["href"] == "gamma/funnel.html"  # the fake report has no headings: its top
    assert _cell(soup, "丙分公司", "ltv_3y").find("a") is None  # its ltv failed: nothing to open
    report = tmp_path / "r.html"
    report.write_text(
        '<h2 id="%E6%88%98%E8%B4%A5%E7%8E%87">战败率<a class="anchor-link" href="#x">¶</a></h2>'
        '<h2 id="B">Lost reasons</h2>',
        encoding="utf-8",
    )
    assert section_anchor(report, ("战败率", "Lost rates")) == "%E6%88%98%E8%B4%A5%E7%8E%87"
    assert section_anchor(report, ("Lost reasons",)) == "B" and section_anchor(report, ("x",)) is None


def test_downloads_are_folded_per_branch_and_failures_show_no_server_path(tmp_path):
    folder = tmp_path / "20260101-000000-abcd"
    results = _write_run(folder)
    results.append(
        Result("alpha", "甲分公司", "ltv", "failed", error="DataError: cannot read /srv/kit/data/hz/leads.csv: bad")
    )
    soup = BeautifulSoup(write_index(folder, results).read_text(encoding="utf-8"), "html.parser")
    folded = soup.select("ul.reports > li > details.csv")
    assert len(folded) == len(BRANCHES) and all(d.get("open") is None for d in folded)
    assert folded[0].summary.get_text() == "数据下载（Excel、CSV）"
    errors = [tr.find_all("td")[2].get_text() for tr in soup.select("#failures tbody tr")]
    assert "DataError: cannot read leads.csv: bad" in errors and "/srv/" not in soup.get_text()
