"""Skip what has not changed: job keys, reuse of published results, ``--force``.

The batches run for real on the tiny smoke notebook (a reused job must start no kernel:
it leaves no kernel log and no ``warm_kernel``); the data fingerprints are checked on
small DuckDB and CSV sources.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from funnelkit.batch import cache
from funnelkit.batch.runner import run_batch
from funnelkit.cli import _counts_text, main

CSV = "分公司,期间,客户类型,阶段,数量\n{b},2006,商企,目标客户,{n}\n{b},2006,商企,潜在客户,40\n"


@pytest.fixture
def two_files(project: Path) -> Path:
    """Branches alpha and beta, each reading its own CSV file."""
    for slug, branch in (("alpha", "甲分公司"), ("beta", "乙分公司")):
        (project / f"{slug}.csv").write_text(CSV.format(b=branch, n=100), encoding="utf-8")
        (project / "params" / f"{slug}.yaml").write_text(
            f"branch: {branch}\nfiles:\n  stage_counts: {slug}.csv\n", encoding="utf-8"
        )
    return project


def statuses(batch) -> dict[str, str]:
    return {r.slug: r.status for r in batch.results}


def job_logs(batch) -> list[str]:
    return sorted(p.name for p in (batch.run_dir / "logs").glob("*.log")) if (batch.run_dir / "logs").exists() else []


@pytest.mark.e2e
def test_an_unchanged_batch_reuses_everything_and_a_changed_file_reruns_its_branch(two_files: Path):
    first = run_batch(project_root=two_files, workers=2)
    assert statuses(first) == {"alpha": "ok", "beta": "ok"}
    assert all(r.peak_mb and r.peak_mb > 20 for r in first.results)  # a real kernel's memory
    recorded = json.loads((first.run_dir / "run.json").read_text(encoding="utf-8"))["results"]
    assert all(r["peak_mb"] > 20 and r["seconds"] > 0 and r["reused_from"] == "" for r in recorded)
    # the kernel's own processor time: some, and no more than two cores' worth of its wall time
    assert all(0 < r["cpu_seconds"] <= 2 * r["seconds"] for r in recorded)

    second = run_batch(project_root=two_files, workers=2)
    assert statuses(second) == {"alpha": "reused", "beta": "reused"}
    assert all(r.reused_from == first.run_id and not r.warm_kernel and r.peak_mb is None for r in second.results)
    assert all(r.cpu_seconds is None for r in second.results)
    assert job_logs(second) == []  # no kernel started
    for slug in ("alpha", "beta"):
        for name in ("smoke.html", "smoke.ipynb", "smoke/summary.json"):
            assert (second.run_dir / slug / name).read_bytes() == (first.run_dir / slug / name).read_bytes()
    recorded = json.loads((second.run_dir / "run.json").read_text(encoding="utf-8"))["results"]
    assert [(r["status"], r["reused_from"]) for r in recorded] == [("reused", first.run_id)] * 2
    index = second.index.read_text(encoding="utf-8")
    assert index.count(f"沿用 {first.run_id} 的报告") == 2 and "smoke.html" in index

    (two_files / "beta.csv").write_text(CSV.format(b="乙分公司", n=101), encoding="utf-8")
    third = run_batch(project_root=two_files, workers=2)
    assert statuses(third) == {"alpha": "reused", "beta": "ok"}
    assert job_logs(third) == ["beta-smoke.log"]
    assert '"total": 141' in (third.run_dir / "beta" / "smoke" / "summary.json").read_text(encoding="utf-8")

    forced = run_batch(project_root=two_files, workers=2, force=True)
    assert statuses(forced) == {"alpha": "ok", "beta": "ok"}


@pytest.mark.e2e
def test_a_changed_notebook_reruns_and_the_cli_says_reused(two_files: Path, monkeypatch):
    (two_files / "params" / "beta.yaml").unlink()
    monkeypatch.setenv("FUNNELKIT_HOME", str(two_files))
    done = CliRunner().invoke(main, ["batch", "--workers", "1"])
    assert done.exit_code == 0, done.output
    done = CliRunner().invoke(main, ["batch", "--workers", "1"])
    assert done.exit_code == 0 and "reused" in done.output and "unchanged since run" in done.output, done.output

    notebook = two_files / "notebooks" / "smoke.ipynb"
    content = json.loads(notebook.read_text(encoding="utf-8"))
    content["cells"].append({"cell_type": "markdown", "id": "new-note", "metadata": {}, "source": "一段新的说明"})
    notebook.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    again = run_batch(project_root=two_files, workers=1)
    assert statuses(again) == {"alpha": "ok"}


# -- keys and fingerprints, without kernels ----------------------------------------------


def stage_counts_db(path: Path, rows: list[tuple]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE OR REPLACE TABLE stage_counts "
            "(branch VARCHAR, period VARCHAR, segment VARCHAR, stage VARCHAR, count INTEGER)"
        )
        con.executemany("INSERT INTO stage_counts VALUES (?, ?, ?, ?, ?)", rows)


ROWS = [
    ("甲分公司", "2006", "商企", "target", 100),
    ("乙分公司", "2006", "商企", "target", 80),
    ("甲分公司", "2006", "商企", "potential", 40),
]


def test_a_duckdb_source_keys_on_the_branch_rows_only(tmp_path: Path):
    db = tmp_path / "shared.duckdb"
    stage_counts_db(db, ROWS)
    alpha = {"branch": "甲分公司", "source": str(db)}
    beta = {"branch": "乙分公司", "source": str(db)}
    before = cache.data_print(alpha, tmp_path), cache.data_print(beta, tmp_path)
    stage_counts_db(db, [*ROWS[:1], ("乙分公司", "2006", "商企", "target", 81), *ROWS[2:]])
    after = cache.data_print(alpha, tmp_path), cache.data_print(beta, tmp_path)
    assert after[0] == before[0] and after[1] != before[1]
    stage_counts_db(db, [ROWS[2], ROWS[1], ROWS[0]])  # the branch's rows in another order: row numbers differ
    assert cache.data_print(alpha, tmp_path) != before[0]


def test_a_file_keys_on_its_bytes(tmp_path: Path):
    data = tmp_path / "counts.csv"
    data.write_text(CSV.format(b="甲分公司", n=100), encoding="utf-8")
    values = {"branch": "甲分公司", "files": {"stage_counts": str(data)}}
    before = cache.data_print(values, tmp_path)
    assert cache.data_print(values, tmp_path) == before
    data.write_text(CSV.format(b="甲分公司", n=100) + "甲分公司,2006,商企,接触客户,17\n", encoding="utf-8")
    assert cache.data_print(values, tmp_path) != before


def test_the_key_covers_notebook_parameters_data_and_peers(project: Path):
    notebook = project / "notebooks" / "smoke.ipynb"
    base = {"notebook": notebook, "parameters": {"lang": "zh"}, "data": "d", "peers": None, "kernel_name": "funnelkit"}
    key = cache.job_key(**base)
    assert cache.job_key(**base) == key
    for change in ({"parameters": {"lang": "en"}}, {"data": "e"}, {"peers": "p"}, {"kernel_name": "other"}):
        assert cache.job_key(**{**base, **change}) != key, change
    assert not cache.reads_peers(notebook)
    assert cache.reads_peers(Path(__file__).resolve().parents[2] / "notebooks" / "funnel.ipynb")


def test_the_progress_bar_counts_each_state():
    counts = {"reused": 2, "running": 1, "done": 3, "failed": 1, "skipped": 0}
    assert _counts_text(counts) == "reused 2 · running 1 · done 3 · failed 1"
    assert _counts_text({**counts, "skipped": 4}).endswith("failed 1 · skipped 4")
