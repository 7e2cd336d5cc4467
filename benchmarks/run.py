"""Speed and memory benchmarks: ``make bench``.

1. Branch loading on a large demo database (default scale 200, about 10 million leads):
   the time and peak memory to load one branch's leads through the pushed-down filter,
   against loading the whole table. A branch's cost must follow its own size.
2. One notebook batch on the default demo database: seconds per notebook run.

Each measurement runs in a fresh process (clean peak memory), ``--repeat`` times; the
medians and their ratios are printed, since this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
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


def bench_loading(scale: float, repeat: int) -> None:
    import duckdb

    db = ROOT / "data" / f"bench-scale{scale:g}.duckdb"
    if not db.exists():
        print(f"building {db} (scale {scale:g}) …", flush=True)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "funnelkit.cli", "demo", "--out", str(db), "--scale", str(scale)],
            check=True,
            cwd=ROOT,
        )
        print(f"  built in {time.perf_counter() - started:.0f} s")
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


def bench_batch(repeat: int) -> None:
    from funnelkit.batch.runner import run_batch

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for folder in ("params", "notebooks"):
            subprocess.run(["cp", "-r", str(ROOT / folder), str(project / folder)], check=True)
        (project / "outputs").mkdir()
        os.environ["FUNNELKIT_DEMO_DB"] = str(ROOT / "data" / "demo.duckdb")
        walls, per_notebook = [], {}
        for _ in range(repeat):
            started = time.perf_counter()
            batch = run_batch(project_root=project)
            walls.append(time.perf_counter() - started)
            for r in batch.results:
                per_notebook.setdefault(r.notebook, []).append(r.seconds)
        print(
            f"\nbatch: {len(batch.results)} notebook runs, {len(batch.failed)} failed; "
            f"median wall {statistics.median(walls):.1f} s over {repeat} run(s), {os.cpu_count()} workers"
        )
        for notebook, seconds in sorted(per_notebook.items()):
            print(f"  {notebook:<10} median {statistics.median(seconds):.1f} s per branch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", 200)))
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 3)))
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args()
    bench_loading(args.scale, args.repeat)
    if not args.skip_batch:
        bench_batch(max(1, args.repeat // 2))


if __name__ == "__main__":
    main()
