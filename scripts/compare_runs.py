"""Compare the figures and tables of two batch runs: ``python scripts/compare_runs.py OLD NEW``.

Used to prove a refactor changes no figure: every ``summary.json`` figure and every CSV table
of every branch and notebook must be equal (run ids, kit versions and table lists aside).
Exits 1 and lists the differences when they are not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

IGNORED = {"run_id", "kit_version", "tables"}


def summaries(run: Path) -> dict[str, dict]:
    return {str(p.relative_to(run)): json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(run.glob("*/*/summary.json"))}


def differences(old: Path, new: Path) -> list[str]:
    found = []
    before, after = summaries(old), summaries(new)
    for name in sorted(set(before) | set(after)):
        if name not in before or name not in after:
            found.append(f"{name}: only in {'new' if name in after else 'old'} run")
            continue
        a = {k: v for k, v in before[name].items() if k not in IGNORED}
        b = {k: v for k, v in after[name].items() if k not in IGNORED}
        for key in sorted(set(a["figures"]) | set(b["figures"])):
            if a["figures"].get(key, "<missing>") != b["figures"].get(key, "<missing>"):
                found.append(f"{name}: figure {key}: {a['figures'].get(key, '<missing>')!r} → "
                             f"{b['figures'].get(key, '<missing>')!r}")
        for key in sorted((set(a) | set(b)) - {"figures"}):
            if a.get(key) != b.get(key):
                found.append(f"{name}: {key}: {a.get(key)!r} → {b.get(key)!r}")
    for csv in sorted(old.glob("*/*/*.csv")):
        twin = new / csv.relative_to(old)
        if not twin.exists():
            found.append(f"{csv.relative_to(old)}: missing in new run")
            continue
        try:
            pd.testing.assert_frame_equal(pd.read_csv(csv), pd.read_csv(twin))
        except AssertionError as error:
            found.append(f"{csv.relative_to(old)}: {str(error).splitlines()[0]}")
    return found


if __name__ == "__main__":
    problems = differences(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(problems) or "identical: every summary.json figure and CSV table")
    sys.exit(1 if problems else 0)
