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
import pytest

from funnelkit import lost, lost_reasons, lost_recovery, lost_summary
from funnelkit.i18n import catalogue
from tests.test_lost import TAXONOMY, small_leads

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parent.parent
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
def results():
    deal_leads = lost.deals(small_leads(), taxonomy=TAXONOMY)
    shares = lost_reasons.reason_shares(deal_leads)
    categories = lost_reasons.category_shares(deal_leads, taxonomy=TAXONOMY)
    return {
        "deal_leads": deal_leads, "year": 2006, "shares": shares, "categories": categories,
        "target_row": lost.target_check(deal_leads, target=0.65, margin=0.03),
        "yoy": lost.year_over_year(deal_leads), "split": lost_recovery.lost_split(deal_leads),
        "funnel": lost_recovery.recovery_funnel(deal_leads),
        "effect": lost_recovery.recovery_effect(deal_leads, target=0.5),
        "holders": lost_recovery.recovery_holders(deal_leads),
        "competitors": lost_recovery.competitors(deal_leads),
        "warnings": lost_reasons.taxonomy_warnings(deal_leads),
    }


def test_summary_figures_for_the_leadership_index(results):
    figures = lost_summary.summary_figures(year=2006, target_row=results["target_row"], shares=results["shares"],
                                           categories=results["categories"], effect=results["effect"], margin=0.03)
    assert figures["lost_rate"] == pytest.approx(8 / 11)
    assert figures["lost_rate_target"] == 0.65
    assert figures["gap_to_target"] == pytest.approx(8 / 11 - 0.65)
    assert figures["status"] == "off_track"
    assert figures["top_reason_by_product_line"] == {"A": "价格太高", "B": "价格太高"}
    assert figures["controllable_share"] == pytest.approx(1 / 8)
    assert figures["recovered_count"] == 1
    assert figures["current_year"] == 2006
    assert figures["more_needed_to_target"] == 2


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_findings_are_generated_from_the_results(results, lang):
    args = {k: v for k, v in results.items() if k not in ("deal_leads",)}
    texts = lost_summary.findings(**args, lang=lang)
    joined = " ".join(texts)
    assert "72.7%" in joined  # 8 / 11
    assert "12.5%" in joined  # controllable share 1 / 8
    assert "价格太高" in joined
    assert ("2 个" if lang == "zh" else " 2 more") in joined  # more needed for a 50% target
    assert len(texts) >= 6


def test_charts_draw_and_stay_small(results):
    from funnelkit.plots import lost as charts
    from funnelkit.style import use_report_style

    use_report_style()  # the CJK font, as in a report
    deal_leads = results["deal_leads"]
    rates = lost.lost_rates(deal_leads)
    axes = [charts.rate_intervals(rates, dimension="产品线", target=0.65, margin=0.03),
            charts.monthly_rates(lost.monthly_rates(deal_leads), target=0.65),
            charts.reason_shares(lost_reasons.share_matrix(results["shares"])),
            charts.pareto(lost_reasons.pareto(deal_leads)),
            charts.recovery_funnel(results["funnel"]),
            charts.stage_reason(lost_reasons.stage_reason(deal_leads)),
            charts.lead_flow(lost.lead_flow(deal_leads)),
            charts.competitors(results["competitors"])]
    for ax in axes:
        buffer = io.BytesIO()
        ax.figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
        assert 0 < buffer.tell() < 60_000
        matplotlib.pyplot.close(ax.figure)


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
    names = set(re.findall(r'name="([a-z_]+)"', "\n".join(code)))
    assert {"lost_rates", "reason_shares", "reason_categories", "recovery_funnel", "recovery_needed",
            "competitors", "loss_timing", "note_terms"} <= names


def test_notebook_parameters_match_the_defaults_section():
    import yaml

    defaults = yaml.safe_load((ROOT / "params" / "defaults.yaml").read_text(encoding="utf-8"))["lost"]
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    declared = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(source).body
                if isinstance(node, ast.Assign)}
    assert {k: declared[k] for k in defaults} == defaults
