"""The batch side by side with two hand-written ways of running the same notebooks.

On the same branches and every notebook, each way executes each notebook with its branch's
parameters (tables and summary written too) and converts it to code-free HTML:

- ``batch``: ``funnelkit batch --branch … --force`` (every notebook executed);
- ``naive``: per notebook the ``papermill`` command, then ``jupyter nbconvert --to html
  --no-input``;
- ``careful``: one Python process calling papermill's and nbconvert's API, one
  ``HTMLExporter`` reused for every notebook.

Each way runs in its own fresh process(es) and is timed from outside; the rounds are
interleaved (batch, naive, careful, batch, …) so a noisy neighbour hits all three alike.
A last line times a second, unchanged ``funnelkit batch`` (every notebook reused).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

_CAREFUL = r"""
import json, sys
import papermill as pm
from nbconvert import HTMLExporter
jobs = json.load(open(sys.argv[1]))
exporter = HTMLExporter(exclude_input=True)
for job in jobs:
    nb = pm.execute_notebook(job["notebook"], job["executed"], parameters=job["parameters"],
                             kernel_name="funnelkit", cwd=job["cwd"], progress_bar=False)
    html, _ = exporter.from_notebook_node(nb)
    open(job["html"], "w", encoding="utf-8").write(html)
"""


def project_copy(folder: Path) -> Path:
    """A scratch project (params, notebooks, empty outputs) reading the demo database."""
    for name in ("params", "notebooks"):
        shutil.copytree(ROOT / name, folder / name)
    (folder / "outputs").mkdir()
    return folder


def plan_jobs(project: Path, branches: list[str], work: Path) -> list[dict]:
    """The (notebook, parameters) of every job the batch would run, with paths under ``work``."""
    from funnelkit.batch.runner import _skip_reason, plan

    good, selected, failed = plan(project / "params", project / "notebooks", branches=branches)
    if failed:
        raise SystemExit(f"bad params for the benchmark: {failed[0].detail}")
    jobs = []
    for branch in good:
        for notebook in selected:
            if _skip_reason(branch, notebook, project):
                continue
            name = f"{branch.slug}-{notebook}"
            tables = work / name
            jobs.append(
                {
                    "notebook": str(project / "notebooks" / f"{notebook}.ipynb"),
                    "executed": str(work / f"{name}.ipynb"),
                    "html": str(work / f"{name}.html"),
                    "cwd": str(project),
                    "parameters": {**branch.for_notebook(notebook), "output_dir": str(tables), "run_id": "bench"},
                }
            )
    return jobs


def fresh(work: Path, jobs: list[dict]) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for job in jobs:
        Path(job["parameters"]["output_dir"]).mkdir()


def timed(commands: list[list[str]], env: dict, cwd: Path) -> float:
    started = time.perf_counter()
    for command in commands:
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{' '.join(command[:3])} … failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def naive_commands(jobs: list[dict], work: Path) -> list[list[str]]:
    commands = []
    for i, job in enumerate(jobs):
        parameters = work / f"parameters-{i}.yaml"
        parameters.write_text(yaml.safe_dump(job["parameters"], allow_unicode=True), encoding="utf-8")
        commands.append(
            [str(BIN / "papermill"), job["notebook"], job["executed"], "-k", "funnelkit", "--cwd", job["cwd"]]
            + ["-f", str(parameters), "--no-progress-bar"]
        )
        commands.append([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", job["executed"]])
    return commands


def compare(branches: list[str], repeat: int, workers: int | None = None) -> dict:
    """Wall seconds of each way (median over ``repeat`` rounds), printed with the ratios."""
    with tempfile.TemporaryDirectory(prefix="funnelkit-bench-") as tmp:
        project = project_copy(Path(tmp) / "project")
        env = {
            **os.environ,
            "FUNNELKIT_HOME": str(project),
            "FUNNELKIT_DEMO_DB": os.environ.get("FUNNELKIT_DEMO_DB", str(ROOT / "data" / "demo.duckdb")),
        }
        os.environ.update({k: env[k] for k in ("FUNNELKIT_HOME", "FUNNELKIT_DEMO_DB")})
        work = Path(tmp) / "work"
        jobs = plan_jobs(project, branches, work)
        batch = [str(BIN / "funnelkit"), "batch", "--force"] + [a for b in branches for a in ("--branch", b)]
        batch += ["--workers", str(workers)] if workers else []
        jobs_file = Path(tmp) / "jobs.json"
        jobs_file.write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
        walls: dict[str, list[float]] = {"batch": [], "naive": [], "careful": []}
        for round_ in range(repeat):
            walls["batch"].append(timed([batch], env, project))
            fresh(work, jobs)
            walls["naive"].append(timed(naive_commands(jobs, work), env, project))
            fresh(work, jobs)
            walls["careful"].append(timed([[sys.executable, "-c", _CAREFUL, str(jobs_file)]], env, project))
            print(f"round {round_ + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in walls.items()), flush=True)
        unchanged = timed([batch[:2] + batch[3:]], env, project)
        latest = sorted(p for p in (project / "outputs").iterdir() if not p.is_symlink() and p.is_dir())[-2]
        per_job = json.loads((latest / "run.json").read_text(encoding="utf-8"))["results"]
    medians = {k: statistics.median(v) for k, v in walls.items()}
    print(f"\n{len(jobs)} notebooks ({', '.join(branches)} × every notebook), median of {repeat} round(s):")
    for way, seconds in medians.items():
        print(f"  {way:<8}{seconds:>8.1f} s")
    print(
        f"  batch / careful = {medians['batch'] / medians['careful']:.2f} (target ≤ 0.50); "
        f"batch / naive = {medians['batch'] / medians['naive']:.2f} (target ≤ 0.15)"
    )
    print(f"  a second, unchanged batch (every notebook reused): {unchanged:.1f} s")
    print(
        "  the last executing batch, per notebook: seconds, kernel processor seconds, kernel peak MB, "
        "kernel started ahead, forked"
    )
    for r in per_job:
        memory = f"{r['peak_mb']:.0f}" if r.get("peak_mb") else "-"
        cpu = f"{r['cpu_seconds']:.1f}" if r.get("cpu_seconds") else "-"
        ahead = "yes" if r.get("warm_kernel") else "no"
        forked = "yes" if r.get("forked_kernel") else "no"
        print(f"    {r['slug']:<10}{r['notebook']:<8}{r['seconds']:>7.1f}{cpu:>7}{memory:>7}  {ahead:<4} {forked}")
    floor = kernel_floor(per_job, medians["naive"])
    if floor:
        print(
            f"  the kernels' own work: {floor['cpu']:.1f} processor seconds; on {floor['cores']} cores no way of "
            f"running these notebooks takes less than {floor['seconds']:.1f} s, {floor['ratio']:.2f} × the naive loop"
        )
    return {"walls": walls, "medians": medians, "unchanged": unchanged, "jobs": per_job, "floor": floor}


def kernel_floor(per_job: list[dict], naive: float, cores: int | None = None) -> dict | None:
    """The least wall time any driver needs for the notebooks' own work: their kernels'
    processor seconds (the kit imported beforehand, as a forked kernel has it) spread over
    every core, and that as a fraction of the naive loop's wall time. None when a kernel's
    time was not measured."""
    cpu = [r.get("cpu_seconds") for r in per_job]
    if not cpu or any(c is None for c in cpu):
        return None
    cores = cores or os.cpu_count() or 1
    seconds = sum(cpu) / cores
    return {"cpu": sum(cpu), "cores": cores, "seconds": seconds, "ratio": seconds / naive}
