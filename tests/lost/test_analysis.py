"""The lost-deal report's pieces: analyse, messages, charts, findings, key figures and the notebook's shape."""

from __future__ import annotations

import ast
import io
import string
from pathlib import Path

import matplotlib
import nbformat
import pandas as pd
import pytest

from funnelkit import lost
from funnelkit.data.loading import load_tables
from funnelkit.exceptions import FunnelkitError, ParamsError
from funnelkit.i18n import catalogue
from funnelkit.parameters import parameters_cell
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


def analyse_small(leads: pd.DataFrame | None = None, **values) -> lost.Result:
    """:func:`lost.analyse` on the hand-made frame (or ``leads``) with the tests' taxonomy."""
    params = lost.Params(**{"reason_taxonomy": TAXONOMY, **values})
    return lost.analyse({"leads": small_leads() if leads is None else leads}, params)


@pytest.fixture(scope="module")
def analysis():
    # as_of at the year's end: every deal is older than the 28 maturity days, so all count
    return analyse_small(lost_rate_target=0.5, as_of="2006-12-31")


@pytest.fixture(scope="module")
def hangzhou():
    params = lost.Params(branch="杭州分公司")
    return lost.analyse(load_tables(params, ["leads"]), params)


def test_every_saved_table_of_the_demo_branch_has_rows(hangzhou):
    tables = hangzhou.tables()
    assert list(tables) == list(lost.Result.SAVED)
    assert [name for name, table in tables.items() if table.empty] == []
    assert hangzhou.year == 2006 and hangzhou.target_row["status"].iloc[0] in ("on_track", "at_risk", "off_track")


def test_an_unknown_deal_stage_is_a_params_error_listing_the_stages():
    # Params(...) built by hand is not checked when made; analyse checks it against the funnel
    with pytest.raises(ParamsError, match="contacted") as error:
        analyse_small(deal_from_stage="contact")
    assert [p.column for p in error.value.problems] == ["deal_from_stage"]
    custom = [{"key": "lead", "zh": "线索"}, {"key": "offer", "zh": "报价"}, {"key": "deal", "zh": "成交"}]
    with pytest.raises(ParamsError, match="use one of lead, offer, deal"):
        analyse_small(stages=custom)  # contacted is no stage of this funnel


def test_a_branch_without_deals_says_so():
    with pytest.raises(FunnelkitError, match="^no deals to analyse: the branch has no leads"):
        analyse_small(small_leads().iloc[:0])  # a header-only leads file
    early = small_leads().query("lead_id == 'P1'")  # lost at the target stage, before any deal
    with pytest.raises(FunnelkitError, match="has 1 leads and none reached 接触客户 \\(contacted"):
        analyse_small(early)


def test_a_bad_value_built_by_hand_is_refused_by_analyse():
    with pytest.raises(ParamsError, match="lost_rate_target"):
        analyse_small(lost_rate_target=65)


def test_analyse_gathers_every_table_on_the_report_year(analysis):
    assert analysis.year == 2006 and analysis.maturity_days == 28  # p90 of 5…30 days = 27.5, rounded up
    assert analysis.target_row["immature"].iloc[0] == 0
    scope = analysis.scope.set_index("scope")
    assert scope["leads"].sum() == 14
    # the scope table covers the report year only: a 2005 copy of every lead does not change it
    earlier = small_leads().assign(
        created_date=lambda d: d["created_date"] - pd.DateOffset(years=1), lead_id=lambda d: d["lead_id"] + "-05"
    )
    both = analyse_small(pd.concat([earlier, small_leads()]), as_of="2006-12-31")
    pd.testing.assert_frame_equal(both.scope, analysis.scope)
    assert set(both.yoy_groups["dimension"]) == {"product_line", "segment"}


def test_tables_hold_codes_not_labels_of_the_language():
    zh = analyse_small(as_of="2006-12-31", lang="zh")
    en = analyse_small(as_of="2006-12-31", lang="en")
    for name, table in zh.tables().items():
        pd.testing.assert_frame_equal(table, en.tables()[name], obj=name)
    assert list(zh.rates["dimension"].unique()) == ["overall", "product_line", "segment", "owner"]
    assert zh.rates["group"].iloc[0] == "all" and zh.timing["group"].iloc[-1] == "all"
    assert set(zh.split["lost_group"]) == {"quasi_lost", "truly_lost"} and "label" not in zh.funnel
    assert list(zh.stage_by_reason["stage"]) == ["contacted", "intent"]
    assert list(zh.scope["scope"]) == ["deals", "before_deals"]


def test_views_and_findings_in_both_languages_come_from_one_result(analysis):
    views = lost.views
    assert views.rates(analysis, "en")["Dimension"].iloc[0] == "Overall"
    assert views.rates(analysis, "zh")["维度"].iloc[-1] == "销售顾问"
    assert views.rates(analysis, "en")["Group"].iloc[0] == "All"
    assert views.scope(analysis, "zh")["范围"].tolist() == ["商机（到达接触客户及以后）", "到达接触客户之前"]
    assert views.scope(analysis, "en")["Scope"].iloc[0] == "Deals (reached Contacted or beyond)"
    assert views.target(analysis, "zh")["状态"].iloc[0] == "未达标"  # 8/11 against 0.5 + 0.03
    assert views.target(analysis, "en")["Lost rate"].iloc[0] == "72.7%"
    assert views.stage_reason(analysis, "zh")["战败时阶段"].tolist() == ["接触客户", "意向客户"]
    assert "未填写" in views.stage_reason(analysis, "zh").columns  # B5's empty reason, named
    assert views.loss_timing(analysis, "en")["Group"].iloc[-1] == "All"
    assert views.lead_flow(analysis, "en")["From"].iloc[0] == "Deal pool"
    assert "not filled in" in views.competitors(analysis, "en")["Competitor"].tolist()
    assert views.split(analysis, "en")["Kind"].iloc[0] == "Abandoned purchase"
    assert views.recovery_funnel(analysis, "zh")["环节"].tolist() == ["准战败商机", "二次跟进", "重新激活", "挽回成交"]
    categories = views.categories(analysis, "en").set_index("Category")
    assert categories.loc["Reason not filled in", "Reasons seen"] == "not filled in"
    assert categories.loc["Sales process (controllable)", "Share"] == "12.5%"
    zh, en = lost.findings(analysis, "zh"), lost.findings(analysis, "en")
    assert len(zh) == len(en) and zh != en
    assert "未达标" in zh[0] and "off track" in en[0]


def test_summary_figures_for_the_leadership_index(analysis):
    figures = lost.key_figures(analysis)
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
    a = analyse_small(lost_rate_target=0.5, as_of="2006-12-31")
    summary = lost.findings(a, lang)
    joined = " ".join([*summary, *lost.more_findings(a, lang)])
    assert "72.7%" in joined  # 8 / 11
    assert "12.5%" in joined  # controllable share 1 / 8
    assert "价格太高" in joined
    assert ("2 个" if lang == "zh" else " 2 more") in joined  # more needed for a 50% target
    assert len(summary) == 5 and "72.7%" in summary[0]


def test_findings_count_the_deals_not_yet_mature_and_bound_the_rate():
    # end = the last creation date 2006-02-01, 28 days: the February deals (B1–B6) are not yet mature
    a = analyse_small()
    row = a.target_row.iloc[0]
    assert (row["closed"], row["lost_rate"], row["immature"]) == (5, pytest.approx(3 / 5), 6)
    text = " ".join([*lost.findings(a, "en"), *lost.more_findings(a, "en")])
    assert "60.0%" in text and "Another 6 deals" in text
    assert "72.7%" in text  # every closed deal, mature or not: 8 / 11
    assert "75.0%" in text  # the bound if A6, the one open deal, is lost too: (8 + 1) / 12


def test_charts_draw_one_mark_per_row():
    from matplotlib.patches import FancyBboxPatch, Rectangle

    from funnelkit.lost import plots as charts
    from funnelkit.report.style import use_report_style

    use_report_style()  # the CJK font, as in a report
    a = analyse_small()  # February not yet mature
    assert (a.target, a.margin) == (0.65, 0.03)
    ax = charts.rate_intervals(a, dimension="product_line", lang="en").axes[0]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["A (n=5)"]  # mature deals only: B is all February
    assert "Product line" in ax.get_title()
    ax = charts.monthly_rates(a, lang="en").axes[0]
    solid, hollow = ax.lines[0], ax.lines[1]  # January on the line, February a hollow point
    assert list(solid.get_ydata()) == pytest.approx([3 / 5]) and list(hollow.get_ydata()) == pytest.approx([5 / 6])
    assert hollow.get_markerfacecolor() == "white"
    ax = charts.pareto(a, lang="en").axes[0]  # 价格太高 4, then four reasons with 1 each
    assert [b.get_height() for b in ax.patches if isinstance(b, Rectangle)] == [4, 1, 1, 1, 1]
    assert "not filled in" in [x.get_text() for x in ax.get_xticklabels()]  # B5's empty reason, named
    ax = charts.recovery_funnel(a, lang="en").axes[0]  # quasi-lost 4 → followed up 3 → re-engaged 2 → won back 1
    assert [b.get_width() for b in ax.patches] == [4, 3, 2, 1]
    assert [x.get_text().strip() for x in ax.texts] == ["4 (100%)", "3 (75%)", "2 (50%)", "1 (25%)"]
    assert [x.get_text() for x in ax.get_yticklabels()] == [
        "Quasi-lost deals",
        "Followed up again",
        "Re-engaged",
        "Won back",
    ]
    ax = charts.competitors(a, lang="en").axes[0]  # 中国移动, 中国联通, one without a brand
    assert len(ax.patches) == 3
    ax = charts.lead_flow(a, lang="en").axes[0]  # every node but "kind unknown" (no deals)
    assert sum(isinstance(p, FancyBboxPatch) for p in ax.patches) == 9
    ax = charts.stage_reason(a, lang="zh").axes[0]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["接触客户", "意向客户"]
    ax = charts.reason_shares(a, lang="en").axes[0]
    assert "not filled in" in [x.get_text() for x in ax.get_yticklabels()]
    for figure in map(matplotlib.pyplot.figure, matplotlib.pyplot.get_fignums()):
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
        assert buffer.tell() < 60_000
    matplotlib.pyplot.close("all")


def test_notebook_follows_the_contract():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    tags = [cell.metadata.get("tags", []) for cell in nb.cells]
    parameters = nb.cells[[i for i, t in enumerate(tags) if "parameters" in t][0]].source
    assert parameters == parameters_cell(lost.Params, "lost")
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    for source in code:
        tree = ast.parse(source)
        assert not any(isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While)) for n in ast.walk(tree))
    assert sum("summary" in t for t in tags) == 1
    assert code[-1] == "report.publish(result, lost.key_figures(result));"
    for source in code[2:]:  # after the parameters and the set-up cell: one call per cell
        calls = [n for n in ast.parse(source).body if not isinstance(n, (ast.Import, ast.ImportFrom))]
        assert len(calls) == 1, source
        assert not any(isinstance(n, (ast.If, ast.IfExp)) for n in ast.walk(ast.parse(source))), source
    shown = "\n".join(code)
    assert "result = lost.analyse(tables, params)" in shown
    # every view and chart of the package is shown
    views = [
        name
        for name in dir(lost.views)
        if not name.startswith("_")
        and callable(getattr(lost.views, name))
        and getattr(lost.views, name).__module__ == lost.views.__name__
    ]
    charts = [
        name
        for name in dir(lost.plots)
        if not name.startswith("_")
        and callable(getattr(lost.plots, name))
        and getattr(lost.plots, name).__module__ == lost.plots.__name__
    ]
    assert [v for v in views if f"lost.views.{v}(result" not in shown] == []
    assert [c for c in charts if f"lost.plots.{c}(result" not in shown] == []
    assert {
        "lost_rates",
        "lost_yoy_by_group",
        "reason_shares",
        "reason_categories",
        "recovery_funnel",
        "recovery_needed",
        "competitors",
        "loss_timing",
        "note_terms",
    } <= set(lost.Result.SAVED)


def test_notebook_parameters_are_the_declared_defaults():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    declared = {
        node.target.id: ast.literal_eval(node.value)
        for node in ast.parse(source).body
        if isinstance(node, ast.AnnAssign)
    }
    assert declared == lost.Params.defaults()


def test_note_terms_read_as_one_line_per_reason():
    import dataclasses

    terms = pd.DataFrame(
        {
            "reason": ["价格太高"] * 7 + ["资源不足"],
            "rank": [*range(1, 8), 1],
            "term": ["资费", "太贵", "对比", "联通", "优惠", "便宜", "套餐", "端口"],
            "notes": [12, 9, 8, 7, 6, 5, 4, 3],
            "share": [0.5] * 8,
            "group_notes": [20] * 7 + [3],
        }
    )
    shown = lost.views.note_terms(dataclasses.replace(analyse_small(), terms=terms), "zh")
    assert shown.values.tolist() == [
        ["价格太高", "20", "资费（12）、太贵（9）、对比（8）、联通（7）、优惠（6）"],  # five of seven
        ["资源不足", "3", "端口（3）"],
    ]
