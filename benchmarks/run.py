"""Speed and memory benchmarks: ``make bench`` and ``make bench-scale``.

``make bench`` (``python -m benchmarks.run``): the batch side by side with a naive
papermill/nbconvert command loop and a careful sequential script on the same notebooks
(:mod:`benchmarks.compare`), with the ratios.

``make bench-scale`` (``python -m benchmarks.run --scale-run``), on a large demo database
(default scale 200, about 10 million leads):

1. branch loading: the time and peak memory to load one branch's leads through the
   pushed-down filter, against loading the whole table — a branch's cost must follow its
   own size;
2. every notebook of the largest branch: wall seconds and the kernel's peak resident
   memory, against the same branch on the default demo data.

Each measurement runs in a fresh process (clean peak memory), ``--repeat`` times; the
medians and their ratios are printed, since this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_MEASURE = r"""
import json, resource, sys, time
from funnelkit.data.loading import load_table
import duckdb
kind, db, branch = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.perf_counter()
if kind == "branch":
    rows = len(load_table("leads", branch=branch, source=db))
else:
    with duckdb.connect(db, read_only=True) as con:
        rows = len(con.execute("SELECT * FROM leads").df())
seconds = time.perf_counter() - start
print(json.dumps({"rows": rows, "seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(kind: str, db: Path, branch: str, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE, kind, str(db), branch], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "rows": runs[0]["rows"],
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mb": statistics.median(r["peak_mb"] for r in runs),
    }


def bench_loading(scale: float, repeat: int) -> str:
    import duckdb

    from benchmarks.scale import build

    db = build(ROOT / "data" / f"bench-scale{scale:g}.duckdb", scale)
    with duckdb.connect(str(db), read_only=True) as con:
        sizes = dict(con.execute("SELECT branch, count(*) FROM leads GROUP BY branch ORDER BY 2").fetchall())
    total = sum(sizes.values())
    small, large = next(iter(sizes)), list(sizes)[-1]
    print(
        f"\nleads: {total:,} rows over {len(sizes)} branches; smallest {small} {sizes[small]:,}, "
        f"largest {large} {sizes[large]:,}"
    )
    results = {
        name: measure(kind, db, branch, repeat)
        for name, kind, branch in (
            ("smallest branch", "branch", small),
            ("largest branch", "branch", large),
            ("whole table", "all", ""),
        )
    }
    print(f"{'load':<18}{'rows':>12}{'median s':>10}{'peak MB':>10}")
    for name, r in results.items():
        print(f"{name:<18}{r['rows']:>12,}{r['seconds']:>10.2f}{r['peak_mb']:>10.0f}")
    whole = results["whole table"]
    for name in ("smallest branch", "largest branch"):
        r = results[name]
        print(
            f"{name}: {r['rows'] / whole['rows']:.0%} of the rows, {r['seconds'] / whole['seconds']:.0%} of the "
            f"whole-table time (validated, vs raw), {r['peak_mb'] / whole['peak_mb']:.0%} of its peak memory"
        )
    return large


def notebook_costs(db: Path, branch: str) -> dict[str, dict]:
    """Per notebook of ``branch`` on the database ``db``: wall seconds and the kernel's peak
    resident memory (MB), from a real batch run (``run.json``), every notebook executed."""
    from funnelkit.batch.runner import run_batch

    with tempfile.TemporaryDirectory(prefix="funnelkit-bench-") as tmp:
        project = Path(tmp)
        for folder in ("params", "notebooks"):
            shutil.copytree(ROOT / folder, project / folder)
        (project / "outputs").mkdir()
        previous = {k: os.environ.get(k) for k in ("FUNNELKIT_DEMO_DB", "FUNNELKIT_HOME")}
        os.environ.update(FUNNELKIT_DEMO_DB=str(db), FUNNELKIT_HOME=str(project))
        try:
            batch = run_batch(project_root=project, branches=[branch], force=True)
        finally:
            for key, value in previous.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return {r.notebook: {"status": r.status, "seconds": r.seconds, "peak_mb": r.peak_mb} for r in batch.results}


def bench_notebooks(scale: float, branch: str) -> None:
    """Each notebook of ``branch`` on the large database against the default demo data."""
    large = notebook_costs(ROOT / "data" / f"bench-scale{scale:g}.duckdb", branch)
    small = notebook_costs(ROOT / "data" / "demo.duckdb", branch)
    print(f"\n{branch}, per notebook: demo data vs scale {scale:g} (targets: ≤ 2× the time, ≤ 1024 MB)")
    print(f"{'notebook':<10}{'demo s':>8}{'large s':>9}{'ratio':>7}{'demo MB':>9}{'large MB':>10}  status")
    for notebook, r in large.items():
        d = small.get(notebook, {})
        ratio = r["seconds"] / d["seconds"] if d.get("seconds") else float("nan")
        print(
            f"{notebook:<10}{d.get('seconds', 0):>8.1f}{r['seconds']:>9.1f}{ratio:>7.1f}"
            f"{d.get('peak_mb') or 0:>9.0f}{r['peak_mb'] or 0:>10.0f}  {r['status']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale-run",
        action="store_true",
        help="the large-database part: loading, and every notebook of the largest branch (slow)",
    )
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", 200)))
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 1)))
    parser.add_argument("--branch", action="append", help="branches of the side-by-side run (default hangzhou, ningbo)")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    if args.scale_run:
        largest = bench_loading(args.scale, max(args.repeat, 3))
        bench_notebooks(args.scale, largest)
        return
    from benchmarks.compare import compare

    compare(args.branch or ["hangzhou", "ningbo"], args.repeat, args.workers)


if __name__ == "__main__":
    main()
