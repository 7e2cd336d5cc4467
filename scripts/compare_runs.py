"""Compare the figures and tables of two batch runs: ``python scripts/compare_runs.py OLD NEW``.

Used to prove a refactor changes no figure: every ``summary.json`` figure and every CSV table
of every branch and notebook must be equal (run ids, kit versions and table lists aside).
Exits 1 and lists the differences when they are not. ``--notebook NAME`` compares one notebook.

The renames of a release are declared below, so that only they are forgiven: label columns
that left the CSVs (the tables speak in codes; views translate) and labels replaced by codes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from funnelkit.data.schema import DEFAULT_STAGES, REFERRAL_SOURCES, TIERS
from funnelkit.tiers.views import CODE_COLUMNS, code_label

TIER_CODES = {
    *TIERS,
    *REFERRAL_SOURCES,
    *("referral", "repurchase", "new", "gone", "unknown", "up", "same", "down"),
    *("scorecard", "source", "none", "key", "ordinary", "weak", "vip", "major", "small", "region"),
    *("industry", "other"),
}

IGNORED = {"run_id", "kit_version", "tables"}
#: Columns the CSVs no longer carry (labels in one language; the code column stays).
DROPPED = {
    *("stage_label", "transition_label", "component_label"),  # funnel
    *("status_label", "group_label", "kind_label", "label"),  # lost
    *("band", "action"),  # tiers: band names and recommended actions are words of a language
}
#: Values that became codes: column → {old label: code}.
RECODED = {
    "segment": {"全部": "all", "All": "all"},
    "group": {
        "全部": "all",
        "All": "all",
        "高价值（前20%）": "high_value",
        "中价值（20%–50%）": "mid_value",
        "低价值（后50%）": "low_value",
        "未知": "unknown",
    },  # lost, ltv
    "scope": {"商机（到达接触客户及以后）": "deals", "到达接触客户之前": "before_deals"},
    "stage": {stage.zh: stage.key for stage in DEFAULT_STAGES}
    | {"考察期": "exploration", "形成期": "formation", "稳定期": "stability", "退化期": "decline"},  # lost, ltv
    # tiers: the CSVs carried the Chinese labels of the codes
    **{column: {code_label(code, "zh", column=column): code for code in TIER_CODES} for column in CODE_COLUMNS},
}


def _as_released(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns=[c for c in frame.columns if c in DROPPED])
    return frame.replace({c: m for c, m in RECODED.items() if c in frame.columns})


def summaries(run: Path, notebook: str = "*") -> dict[str, dict]:
    return {
        str(p.relative_to(run)): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(run.glob(f"*/{notebook}/summary.json"))
    }


def differences(old: Path, new: Path, notebook: str = "*") -> list[str]:
    found = []
    before, after = summaries(old, notebook), summaries(new, notebook)
    for name in sorted(set(before) | set(after)):
        if name not in before or name not in after:
            found.append(f"{name}: only in {'new' if name in after else 'old'} run")
            continue
        a = {k: v for k, v in before[name].items() if k not in IGNORED}
        b = {k: v for k, v in after[name].items() if k not in IGNORED}
        for key in sorted(set(a["figures"]) | set(b["figures"])):
            if a["figures"].get(key, "<missing>") != b["figures"].get(key, "<missing>"):
                found.append(
                    f"{name}: figure {key}: {a['figures'].get(key, '<missing>')!r} → "
                    f"{b['figures'].get(key, '<missing>')!r}"
                )
        for key in sorted((set(a) | set(b)) - {"figures"}):
            if a.get(key) != b.get(key):
                found.append(f"{name}: {key}: {a.get(key)!r} → {b.get(key)!r}")
    for csv in sorted(old.glob(f"*/{notebook}/*.csv")):
        twin = new / csv.relative_to(old)
        if not twin.exists():
            found.append(f"{csv.relative_to(old)}: missing in new run")
            continue
        try:
            pd.testing.assert_frame_equal(_as_released(pd.read_csv(csv)), _as_released(pd.read_csv(twin)))
        except AssertionError as error:
            found.append(f"{csv.relative_to(old)}: {str(error).splitlines()[0]}")
    return found


if __name__ == "__main__":
    args = sys.argv[1:]
    only = args[args.index("--notebook") + 1] if "--notebook" in args else "*"
    runs = [a for a in args if a not in ("--notebook", only)]
    problems = differences(Path(runs[0]), Path(runs[1]), only)
    print("\n".join(problems) or "identical: every summary.json figure and CSV table")
    sys.exit(1 if problems else 0)
