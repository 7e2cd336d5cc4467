"""A branch's own labels mapped by params ``aliases``; messages in the report's language."""

from __future__ import annotations

import pytest

from funnelkit.data import load_table, load_tables
from funnelkit.data.aliases import alias_problems
from funnelkit.exceptions import DataSourceError, DataValidationError, ParamsError
from funnelkit.parameters import Params
from funnelkit.tiers import referrals

EVENTS = (
    "event_id,branch,customer_id,date,kind,source_type\n"
    "e1,甲分公司,c1,2006-03-01,推荐,老用户推荐\n"
    "e2,甲分公司,c2,2006-03-02,转介绍,老用户推荐 \n"
    "e3,甲分公司,c3,2006-03-03,推荐,亲朋好友推荐\n"
    "e4,甲分公司,c4,2006-03-04,推荐,街坊介绍\n"
)


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return str(path)


def test_aliases_map_the_branchs_labels_onto_the_contracts_codes(events):
    sources = {"老用户推荐": "existing_customer", "亲朋好友推荐": "亲友"}
    aliases = {"source_type": sources, "events.kind": {"转介绍": "推荐"}}
    table = load_table("events", branch="甲分公司", files={"events": events}, aliases=aliases)
    assert table["kind"].tolist() == ["referral"] * 4
    # 街坊介绍 is none of the six: kept under its own name, never lumped into "other"
    assert table["source_type"].tolist() == ["existing_customer", "existing_customer", "friends_family", "街坊介绍"]
    shares = referrals.referral_sources(table).set_index("source_type")
    assert shares.loc["existing_customer", "share"] == 0.5 and shares.loc["街坊介绍", "referrals"] == 1
    assert "other" not in shares.index
    assert referrals.unrecognised_sources(table) == {"街坊介绍": 1}


def test_a_label_of_a_closed_list_that_matches_nothing_is_a_problem_of_its_cell(events):
    with pytest.raises(DataValidationError) as caught:
        load_table("events", branch="甲分公司", files={"events": events})
    (problem,) = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (3, "kind", "转介绍")
    assert "aliases" in problem.hint


def test_hand_made_counts_go_through_the_same_aliases():
    counts = {"老用户推荐": 60, "亲朋好友推荐": 30, "老客户": 5, "其它渠道": 5}
    sources = {"老用户推荐": "existing_customer", "亲朋好友推荐": "亲友"}
    given = referrals.relabelled_counts(counts, {"source_type": sources})
    assert given == {"existing_customer": 65, "friends_family": 30, "其它渠道": 5}
    table = referrals.referral_sources(referrals.counts_table(given), count="referrals").set_index("source_type")
    assert table.loc["existing_customer", "share"] == pytest.approx(0.65)
    assert table.loc["其它渠道", "share"] == pytest.approx(0.05)


def test_bad_aliases_are_params_problems_listed_together():
    aliases = {"tier": {"A类": "gold", "B类": "优质"}, "kind": {"x": "referral"}, "phone": {}, "segment": 3}
    found = alias_problems(aliases)
    assert [(path, rule) for path, _, rule, _ in found] == [
        (("tier", "A类"), "not a tier of the contract"),
        (("kind",), "this column means different things in different tables"),
        (("phone",), "not a column that holds codes"),
        (("segment",), "must be a mapping of the branch's label → the contract's code"),
    ]
    assert "events.kind or visits.kind" in found[1][3]
    with pytest.raises(ParamsError, match="not a tier"):
        Params.from_values({"aliases": {"tier": {"A类": "gold"}}})


def test_batch_params_name_the_line_of_a_bad_alias(project):
    import shutil

    from funnelkit.batch.runner import plan
    from tests.conftest import ROOT

    (project / "notebooks" / "smoke.ipynb").unlink()
    shutil.copy(ROOT / "notebooks" / "tiers.ipynb", project / "notebooks")
    (project / "params" / "alpha.yaml").write_text(
        "branch: 甲分公司\naliases:\n  outcome:\n    签了: signed\n", encoding="utf-8"
    )
    _, _, failed = plan(project / "params", project / "notebooks")
    assert "line 4, key 'aliases.outcome.签了'" in failed[0].detail and "not an outcome" in failed[0].detail


def test_problems_read_in_chinese_with_paths_relative_to_the_project(tmp_path, monkeypatch, events):
    monkeypatch.setenv("FUNNELKIT_HOME", str(tmp_path))
    with pytest.raises(DataValidationError) as caught:
        load_table("events", branch="甲分公司", files={"events": events})
    text = caught.value.text("zh")
    assert text.splitlines()[0] == "数据（events.csv）中有 1 个问题："
    assert "events.csv，第 3 行，列“kind”：值 '转介绍' — 不是允许的取值" in text
    assert str(tmp_path) not in text and str(tmp_path) not in str(caught.value)


def test_a_wrong_branch_name_is_named_before_any_analysis_in_both_languages(events):
    params = Params(branch="甲", files={"events": events})
    with pytest.raises(DataSourceError) as caught:
        load_tables(params, ["events"])
    assert "did you mean '甲分公司'?" in str(caught.value)
    assert "是否应为「甲分公司」" in caught.value.text("zh")


def test_in_jupyterlab_a_data_problem_shows_in_the_report_language_without_traceback(capsys, events):
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython()
    shell.user_ns.update(events=events)
    shell.run_cell(
        "from funnelkit import tiers\nfrom funnelkit.data import load_tables\n"
        "params = tiers.Params.from_namespace({'branch': '甲', 'files': {'events': events}, 'lang': 'zh'})\n"
        "load_tables(params, ['events'])"
    )
    shown = capsys.readouterr()
    assert "DataSourceError: 数据中没有分公司「甲」" in shown.out and "是否应为「甲分公司」" in shown.out
    assert "Traceback" not in shown.out + shown.err and "loading.py" not in shown.out + shown.err
