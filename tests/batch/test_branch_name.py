"""A branch name its data does not know fails that branch before any kernel starts."""

from __future__ import annotations

from funnelkit.batch.runner import plan

COUNTS = "分公司,期间,客户类型,阶段,数量\n杭州分公司,2006,商企,目标客户,100\n宁波分公司,2006,商企,目标客户,80\n"


def _branches(project, **files):
    (project / "counts.csv").write_text(COUNTS, encoding="utf-8")
    for slug, branch in files.items():
        (project / "params" / f"{slug}.yaml").write_text(
            f"branch: {branch}\nfiles: {{stage_counts: counts.csv}}\n", encoding="utf-8"
        )


def test_a_wrong_branch_name_names_the_closest_one(project):
    _branches(project, good="宁波分公司", wrong="杭州")
    good, _, failed = plan(project / "params", project / "notebooks")
    assert [b.slug for b in good] == ["good"]
    (result,) = failed
    assert result.slug == "wrong"
    assert "params/wrong.yaml, line 1, key 'branch'" in result.detail
    assert "no rows for branch '杭州' in counts.csv (stage_counts)" in result.detail
    assert "branches found: 宁波分公司, 杭州分公司; did you mean '杭州分公司'?" in result.detail


def test_no_suggestion_when_nothing_is_close(project):
    _branches(project, far="Shanghai")
    _, _, (result,) = plan(project / "params", project / "notebooks")
    assert "branches found: 宁波分公司, 杭州分公司" in result.detail and "did you mean" not in result.detail
