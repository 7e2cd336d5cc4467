"""Phone and ID numbers are masked everywhere: in text, frames, CSVs and every output file."""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pytest

from funnelkit.privacy import mask_frame, mask_text
from funnelkit.report.display import excel_safe

PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")


@pytest.mark.parametrize(
    "raw, masked",
    [
        ("13812341234", "138****1234"),
        ("电话：13812341234。", "电话：138****1234。"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("330102199001011234", "330102********1234"),
        ("身份证33010219900101123X号", "身份证330102********123X号"),
        ("0571-87654321", "0571-****4321"),
        ("ID330102199001011234", "ID330102********1234"),
        ("旧证330102900101123", "旧证330102******123"),
        ("１３８１２３４１２３４", "138****1234"),
        ("138.1234.5678", "138****5678"),
        ("057487654321", "0574****4321"),
        ("(0574)87654321", "(0574)****4321"),
        ("订单12345678901234567890", "订单12345678901234567890"),  # a longer digit run is not a phone
        ("金额 1380000 元", "金额 1380000 元"),
    ],
)
def test_mask_text(raw, masked):
    assert mask_text(raw) == masked


def test_mask_frame_masks_text_cells_and_index_only():
    frame = pd.DataFrame(
        {"who": ["张三 13812341234", None], "amount": [13812341234, 5]}, index=["330102199001011234", "x"]
    )
    out = mask_frame(frame)
    assert out["who"].tolist()[0] == "张三 138****1234" and pd.isna(out["who"].tolist()[1])
    assert out["amount"].tolist() == [13812341234, 5]  # numbers are not personal data columns
    assert out.index[0] == "330102********1234"
    assert frame["who"].iloc[0] == "张三 13812341234"  # input untouched


def test_excel_formula_cells_are_defused():
    out = excel_safe(pd.DataFrame({"note": ['=HYPERLINK("x")', "+1", "normal", "@SUM(A1)"]}))
    assert out["note"].tolist() == ['\'=HYPERLINK("x")', "'+1", "normal", "'@SUM(A1)"]


def _planted(demo_db) -> set[str]:
    """Every phone and ID number the demo database plants (columns and free-text notes)."""
    with duckdb.connect(str(demo_db), read_only=True) as con:
        values = [
            r[0]
            for r in con.execute(
                "SELECT contact_phone FROM leads WHERE contact_phone IS NOT NULL "
                "UNION ALL SELECT contact_phone FROM customers WHERE contact_phone IS NOT NULL "
                "UNION ALL SELECT id_number FROM customers WHERE id_number IS NOT NULL"
            ).fetchall()
        ]
        notes = [r[0] for r in con.execute("SELECT note FROM leads WHERE note IS NOT NULL").fetchall()]
    for note in notes:
        values += PHONE.findall(note) + ID_NUMBER.findall(note)
    return {re.sub(r"\D", "", v[:-1]) + v[-1] for v in values}


@pytest.mark.e2e
def test_no_planted_number_appears_raw_in_any_output_file(demo_run):
    from tests.conftest import ROOT

    planted = _planted(ROOT / "data" / "demo.duckdb")
    assert len(planted) > 1000  # the demo really plants them
    files = [p for p in demo_run.run_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".csv" for p in files) and any(p.suffix == ".html" for p in files)
    leaks = {}
    for path in files:
        # separators stripped between digits, so "138 1234 5678" could not slip through
        text = re.sub(r"(?<=\d)[ .\-](?=\d)", "", path.read_text(encoding="utf-8", errors="replace"))
        found = (set(PHONE.findall(text)) | set(ID_NUMBER.findall(text))) & planted
        if found:
            leaks[str(path.relative_to(demo_run.run_dir))] = sorted(found)[:3]
    assert leaks == {}
