"""The lost-deal report's pieces: messages, charts, findings, summary figures and the notebook's shape."""

from __future__ import annotations

import ast
import io
import re
import string
import textwrap
from pathlib import Path

import matplotlib
import nbformat
import pandas as pd
import pytest

from funnelkit.lost import analysis as lost_report
from funnelkit.lost import findings as lost_summary
from funnelkit.i18n import catalogue
from tests.lost.test_deals import TAXONOMY, small_leads

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "lost.ipynb"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_lost_message_has_both_languages_with_the_same_placeholders():
    messages = {k: v for k, v in catalogue().items() if k.startswith("lost.")}
    assert messages
    for key, texts in messages.items():
        assert set(texts) == {"zh", "en"}, key
        assert _fields(texts["zh"]) == _fields(texts["en"]), key


@pytest.fixture(scope="module")
def analysis():
    # as_of at the year's end: every deal is older than the 28 maturity days, so all count
    return lost_report.analyse(small_leads(), reason_taxonomy=TAXONOMY, lost_rate_target=0.5, as_of="2006-12-31")


def test_analyse_gathers_every_table_on_the_report_year(analysis):
    assert analysis.year == 2006 and analysis.maturity_days == 28  # p90 of 5…30 days = 27.5, rounded up
    assert analysis.target_row["immature"].iloc[0] == 0
    scope = analysis.scope.set_index("scope")
    assert scope["leads"].sum() == 14
    # the scope table covers the report year only: a 2005 copy of every lead does not change it
    earlier = small_leads().assign(created_date=lambda d: d["created_date"] - pd.DateOffset(years=1),
                                   lead_id=lambda d: d["lead_id"] + "-05")
    both = lost_report.analyse(pd.concat([earlier, small_leads()]), reason_taxonomy=TAXONOMY, as_of="2006-12-31")
    pd.testing.assert_frame_equal(both.scope, analysis.scope)
    assert set(both.yoy_groups["dimension"]) == {"product_line", "segment"}


def test_tables_hold_codes_not_labels_of_the_language():
    zh = lost_report.analyse(small_leads(), reason_taxonomy=TAXONOMY, as_of="2006-12-31", lang="zh")
    en = lost_report.analyse(small_leads(), reason_taxonomy=TAXONOMY, as_of="2006-12-31", lang="en")
    pd.testing.assert_frame_equal(zh.rates, en.rates)
    pd.testing.assert_frame_equal(zh.holders, en.holders)
    assert lost_report.rates_view(en)["dimension"].iloc[0] == "Overall"
    assert lost_report.rates_view(zh)["dimension"].iloc[-1] == "销售顾问"


def test_summary_figures_for_the_leadership_index(analysis):
    figures = lost_summary.summary_figures(analysis)
    assert figures["lost_rate"] == pytest.approx(8 / 11)
    assert figures["lost_rate_target"] == 0.5
    assert figures["gap_to_target"] == pytest.approx(8 / 11 - 0.5)
    assert figures["status"] == "off_track"
    assert figures["top_reason_by_product_line"] == {"A": "价格太高", "B": "价格太高"}
    assert figures["controllable_share"] == pytest.approx(1 / 8)
    assert figures["recovered_count"] == 1
    assert figures["current_year"] == 2006
    assert figures["more_needed_to_target"] == 2  # ceil(8 - 1 - 0.5 × 11) = ceil(1.5)
    assert figures["immature_deals"] == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_findings_are_generated_from_the_results(lang):
    a = lost_report.analyse(small_leads(), reason_taxonomy=TAXONOMY, lost_rate_target=0.5, as_of="2006-12-31",
                            lang=lang)
    joined = " ".join(lost_summary.findings(a))
    assert "72.7%" in joined  # 8 / 11
    assert "12.5%" in joined  # controllable share 1 / 8
    assert "价格太高" in joined
    assert ("2 个" if lang == "zh" else " 2 more") in joined  # more needed for a 50% target
    assert len(lost_summary.findings(a)) >= 6


def test_findings_count_the_deals_not_yet_mature_and_bound_the_rate():
    # end = the last creation date 2006-02-01, 28 days: the February deals (B1–B6) are not yet mature
    a = lost_report.analyse(small_leads(), reason_taxonomy=TAXONOMY, lang="en")
    row = a.target_row.iloc[0]
    assert (row["closed"], row["lost_rate"], row["immature"]) == (5, pytest.approx(3 / 5), 6)
    text = " ".join(lost_summary.findings(a))
    assert "60.0%" in text and "Another 6 deals" in text
    assert "72.7%" in text  # every closed deal, mature or not: 8 / 11
    assert "75.0%" in text  # the bound if A6, the one open deal, is lost too: (8 + 1) / 12


def test_charts_draw_one_mark_per_row():
    from matplotlib.patches import FancyBboxPatch, Rectangle

    from funnelkit.lost import plots as charts
    from funnelkit.report.style import use_report_style

    use_report_style()  # the CJK font, as in a report
    a = lost_report.analyse(small_leads(), reason_taxonomy=TAXONOMY, lang="en")  # February not yet mature
    ax = charts.rate_intervals(a.rates, dimension="product_line", target=0.65, margin=0.03, lang="en")
    assert [x.get_text() for x in ax.get_yticklabels()] == ["A (n=5)"]  # mature deals only: B is all February
    assert "Product line" in ax.get_title()
    ax = charts.monthly_rates(a.monthly, target=0.65, lang="en")
    solid, hollow = ax.lines[0], ax.lines[1]  # January on the line, February a hollow point
    assert list(solid.get_ydata()) == pytest.approx([3 / 5]) and list(hollow.get_ydata()) == pytest.approx([5 / 6])
    assert hollow.get_markerfacecolor() == "white"
    ax = charts.pareto(a.pareto, lang="en")  # 价格太高 4, then four reasons with 1 each
    assert [b.get_height() for b in ax.patches if isinstance(b, Rectangle)] == [4, 1, 1, 1, 1]
    ax = charts.recovery_funnel(a.funnel, lang="en")  # quasi-lost 4 → followed up 3 → re-engaged 2 → won back 1
    assert [b.get_width() for b in ax.patches] == [4, 3, 2, 1]
    assert [x.get_text().strip() for x in ax.texts] == ["4 (100%)", "3 (75%)", "2 (50%)", "1 (25%)"]
    ax = charts.competitors(a.competitors, lang="en")  # 中国移动, 中国联通, one without a brand
    assert len(ax.patches) == 3
    ax = charts.lead_flow(a.flow, lang="en")  # every node but "kind unknown" (no deals)
    assert sum(isinstance(p, FancyBboxPatch) for p in ax.patches) == 9
    for figure in map(matplotlib.pyplot.figure, matplotlib.pyplot.get_fignums()):
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
        assert buffer.tell() < 60_000
    matplotlib.pyplot.close("all")
def test_notebook_follows_the_contract():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    tags = [cell.metadata.get("tags", []) for cell in nb.cells]
    parameters = nb.cells[[i for i, t in enumerate(tags) if "parameters" in t][0]].source
    common = re.search(r"```python\n(.*?)```", (ROOT / "docs" / "notebooks.md").read_text(encoding="utf-8"), re.S)[1]
    assert parameters.startswith(textwrap.dedent(common).strip() + "\n")
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    for source in code:
        tree = ast.parse(source)
        assert not any(isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While)) for n in ast.walk(tree))
    assert sum("summary" in t for t in tags) == 1
    assert "report.summary(" in code[-1]
    for source in code[1:]:  # after the parameters: one call per cell (the set-up cell's imports aside)
        calls = [n for n in ast.parse(source).body if not isinstance(n, (ast.Import, ast.ImportFrom))]
        assert len(calls) == 1 or source.startswith("from funnelkit"), source
        assert not any(isinstance(n, (ast.If, ast.IfExp)) for n in ast.walk(ast.parse(source))), source
    assert "lr.save_tables(report, a)" in "\n".join(code)
    assert {"lost_rates", "lost_yoy_by_group", "reason_shares", "reason_categories", "recovery_funnel",
            "recovery_needed", "competitors", "loss_timing", "note_terms"} <= set(lost_report.TABLES)


def test_notebook_parameters_match_the_defaults_section():
    import yaml

    defaults = yaml.safe_load((ROOT / "params" / "defaults.yaml").read_text(encoding="utf-8"))["lost"]
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    declared = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(source).body
                if isinstance(node, ast.Assign)}
    assert {k: declared[k] for k in defaults} == defaults
