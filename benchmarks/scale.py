"""Notebooks at scale: wall time and peak memory per notebook on a 10-million-lead database.

``python -m benchmarks.scale`` builds ``data/bench-scale200.duckdb`` when missing (``funnelkit
demo --scale 200``: about 10 million leads, 3 million in the largest branch 杭州分公司) and
runs each notebook for that branch twice, on the default demo database and on the large one:

- ``notebook`` (default): the real notebook executed by papermill in the ``funnelkit`` kernel;
  peak memory is the kernel process's resident set, sampled every 0.1 s.
- ``analyse``: loading plus ``analyse()`` in a fresh Python process; peak memory is that
  process's ``ru_maxrss`` (no sampling gaps), and its CPU seconds are printed too (steadier than
  wall time on a shared machine). ``--profile`` adds the top cProfile entries.

Each measurement is the median of ``--repeat`` runs (a fresh process each), printed with the
ratio large/default against the targets (≤ 2× the default time, ≤ 1 GB per kernel).
``measure_notebooks`` is importable, so the ``make bench`` driver can call it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ("funnel", "tiers", "lost", "ltv")
BRANCH = "杭州分公司"
TIME_RATIO_TARGET = 2.0
PEAK_MB_TARGET = 1024

_ANALYSE = r"""
import cProfile, io, json, pstats, resource, sys, time
name, source, branch, profile = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
started = time.perf_counter()
import importlib
module = importlib.import_module(f"funnelkit.{name}")
from funnelkit.data import load_peers, load_tables
imported = time.perf_counter()
params = module.Params(branch=branch, source=source)
profiler = cProfile.Profile() if profile else None
if profiler:
    profiler.enable()
t0 = time.perf_counter()
cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
if name == "funnel":
    tables = load_tables(params, ["leads", "stage_counts"], columns=module.columns(params))
    peers = load_peers(params)
elif name == "tiers":
    tables = load_tables(params, module.TABLES, required=["customers"])
elif name == "lost":
    tables = module.load(params)
else:
    tables = load_tables(params, ["transactions"], required=["transactions"])
t1 = time.perf_counter()
result = module.analyse(tables, params, peers=peers) if name == "funnel" else module.analyse(tables, params)
t2 = time.perf_counter()
if profiler:
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
    print(out.getvalue(), file=sys.stderr)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"import": imported - started, "load": t1 - t0, "analyse": t2 - t1, "seconds": t2 - t0,
                  "cpu": usage.ru_utime + usage.ru_stime - cpu0, "peak_mb": usage.ru_maxrss / 1024}))
"""


def build(db: Path, scale: float) -> Path:
    """``db`` built by ``funnelkit demo --scale`` unless it exists."""
    if not db.exists():
        print(f"building {db} (scale {scale:g}) …", flush=True)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "funnelkit.cli", "demo", "--out", str(db), "--scale", str(scale)],
            check=True,
            cwd=ROOT,
        )
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    return db


def _environment(code: Path) -> dict:
    """This process's environment with ``code`` (a funnelkit checkout) first on the path, and
    the kit's kernel environment (``runner.KERNEL_ENV``): ``analyse`` runs as the kernel would."""
    from funnelkit.batch.runner import KERNEL_ENV

    path = os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")]))
    return {**os.environ, **KERNEL_ENV, "PYTHONPATH": path}


def _analyse_once(name: str, source: Path, branch: str, profile: bool, code: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _ANALYSE, name, str(source), branch, "1" if profile else "0"],
        capture_output=True,
        text=True,
        cwd=code,
        env=_environment(code),
    )
    if done.returncode:
        raise RuntimeError(f"{name} on {source} failed:\n{done.stderr[-3000:]}")
    if profile:
        print(done.stderr, file=sys.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


class _PeakSampler(threading.Thread):
    """The largest resident set of any child process (the kernel) of this process."""

    def __init__(self, interval: float = 0.1):
        super().__init__(daemon=True)
        self.interval, self.peak, self._done = interval, 0, threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._done.is_set():
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    self.peak = max(self.peak, child.memory_info().rss)
            self._done.wait(self.interval)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def _notebook_once(name: str, source: Path, branch: str, code: Path) -> dict:
    import papermill

    # the kernel inherits this environment and starts in ``code``: it imports that kit
    os.environ["PYTHONPATH"] = _environment(code)["PYTHONPATH"]
    sampler = _PeakSampler()
    with tempfile.TemporaryDirectory() as tmp:
        sampler.start()
        started = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(code / "notebooks" / f"{name}.ipynb"),
                str(Path(tmp) / f"{name}.ipynb"),
                parameters={"branch": branch, "source": str(source)},
                kernel_name="funnelkit",
                cwd=str(code),
                progress_bar=False,
            )
        finally:
            seconds = time.perf_counter() - started
            peak = sampler.stop()
    return {"seconds": seconds, "peak_mb": peak / 2**20}


def measure_notebooks(
    sources: dict[str, Path],
    *,
    notebooks=NOTEBOOKS,
    branch: str = BRANCH,
    repeat: int = 3,
    mode: str = "notebook",
    profile: bool = False,
    code: Path = ROOT,
) -> dict[tuple[str, str], dict]:
    """Median seconds and peak MB of each notebook on each source: ``{(source name, notebook): {...}}``.

    ``code`` is the funnelkit checkout whose notebooks and package run (default: this one).
    """
    results = {}
    for notebook in notebooks:
        for label, source in sources.items():
            runs = [
                _analyse_once(notebook, source, branch, profile and i == 0, code)
                if mode == "analyse"
                else _notebook_once(notebook, source, branch, code)
                for i in range(repeat)
            ]
            results[label, notebook] = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
            row = results[label, notebook]
            cpu = f"  (cpu {row['cpu']:.1f} s)" if "cpu" in row else ""
            print(f"  {notebook:<8}{label:<9}{row['seconds']:>8.1f} s{row['peak_mb']:>8.0f} MB{cpu}", flush=True)
    return results


def report(results: dict, *, small: str = "default", large: str = "scale") -> bool:
    """Print the table with ratios; True when every notebook meets both targets."""
    print(f"\n{'notebook':<10}{'default s':>10}{'large s':>10}{'ratio':>8}{'default MB':>12}{'large MB':>10}  targets")
    ok = True
    for notebook in dict.fromkeys(n for _, n in results):
        a, b = results[small, notebook], results[large, notebook]
        ratio = b["seconds"] / a["seconds"]
        meets = ratio <= TIME_RATIO_TARGET and b["peak_mb"] <= PEAK_MB_TARGET
        ok &= meets
        print(
            f"{notebook:<10}{a['seconds']:>10.1f}{b['seconds']:>10.1f}{ratio:>7.2f}×{a['peak_mb']:>12.0f}"
            f"{b['peak_mb']:>10.0f}  {'met' if meets else 'MISSED'}"
        )
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=200)
    parser.add_argument("--db", type=Path, help="the large database (default data/bench-scale<scale>.duckdb)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=("notebook", "analyse"), default="notebook")
    parser.add_argument("--notebook", action="append", choices=NOTEBOOKS, help="only this notebook; repeatable")
    parser.add_argument("--profile", action="store_true", help="cProfile the first analyse run (mode analyse)")
    parser.add_argument("--only-large", action="store_true", help="skip the default demo database")
    parser.add_argument("--code", type=Path, default=ROOT, help="funnelkit checkout to measure (e.g. an older one)")
    args = parser.parse_args(argv)
    large = build(args.db or ROOT / "data" / f"bench-scale{args.scale:g}.duckdb", args.scale)
    sources = {} if args.only_large else {"default": ROOT / "data" / "demo.duckdb"}
    sources["scale"] = large
    print(f"{args.mode}: branch {BRANCH}, median of {args.repeat}, {os.cpu_count()} cores", flush=True)
    results = measure_notebooks(
        sources,
        notebooks=args.notebook or NOTEBOOKS,
        repeat=args.repeat,
        mode=args.mode,
        profile=args.profile,
        code=args.code.resolve(),
    )
    return 0 if args.only_large or report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
