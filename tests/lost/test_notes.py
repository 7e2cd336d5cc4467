"""Note terms: segmentation per reason, and personal numbers and markup never leaking."""

from __future__ import annotations

import pandas as pd
import pytest

from funnelkit.lost import notes as lost_notes
from funnelkit.report.display import Report

PHONE, ID_NUMBER = "13812345678", "33010219900101123X"
NOTES = pd.DataFrame(
    {
        "reason": ["价格太高", "价格太高", "价格太高", "品牌不认可", "品牌不认可", "价格太高"],
        "note": [
            "客户嫌月租太贵，要求优惠",
            "报价超出预算，月租太贵",
            f"客户手机{PHONE}，月租太贵",
            f"客户身份证{ID_NUMBER}，信任移动品牌",
            "客户留言<script>alert(1)</script>",
            None,
        ],
    }
)


@pytest.fixture
def captured(monkeypatch):
    """Everything Report would display, as HTML text."""
    shown: list[str] = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(getattr(obj, "data", str(obj))))
    return shown


def test_terms_per_reason_counted_once_per_note():
    terms = lost_notes.note_terms(NOTES, top=3)
    price = terms[terms["reason"].eq("价格太高")].set_index("term")
    # 太贵 and 月租 are in all three 价格太高 notes with text (the empty one is skipped); ties by term
    assert price.loc["太贵", "notes"] == 3 and price.loc["太贵", "rank"] == 1
    assert price.loc["月租", "notes"] == 3 and price.loc["月租", "rank"] == 2
    assert price.loc["月租", "share"] == pytest.approx(1.0)
    assert price.index[2] in {"优惠", "手机", "报价", "预算", "超出"}  # 1 note each
    assert price["group_notes"].eq(3).all()
    assert terms.groupby("reason")["rank"].max().le(3).all()


def test_stop_words_digits_and_numbers_never_become_terms():
    terms = set(lost_notes.note_terms(NOTES, top=50)["term"])
    assert "客户" not in terms  # stop word
    assert not any(ch.isdigit() for term in terms for ch in term)
    assert not any(part in term for term in terms for part in (PHONE[:3], "1234", "3301", "****", "script>"))
    assert {"品牌", "移动"} <= terms
    assert "alert" not in terms  # script content is markup, not words


def test_no_raw_phone_id_or_script_in_rendered_tables_and_findings(captured):
    report = Report(notebook="lost", branch="测试分公司", lang="zh")
    report.table(lost_notes.note_terms(NOTES, top=50))
    report.table(NOTES)  # even the raw notes table comes out masked and escaped
    report.findings([f"备注：{text}" for text in NOTES["note"].dropna()])
    html = "\n".join(captured)
    assert PHONE not in html and ID_NUMBER not in html and "19900101" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "138****5678" in html


def test_no_notes_gives_an_empty_table():
    empty = lost_notes.note_terms(NOTES.assign(note=pd.NA), top=8)
    assert empty.empty and list(empty.columns) == ["reason", "rank", "term", "notes", "share", "group_notes"]


def test_frequent_notes_are_masked():
    table = lost_notes.frequent_notes(NOTES, top=2)
    # 价格太高 has three distinct notes once each: the two first by text are kept
    assert table.groupby("reason").size().to_dict() == {"价格太高": 2, "品牌不认可": 2}
    assert table["deals"].eq(1).all()
    assert not table["note"].str.contains(PHONE).any() and not table["note"].str.contains(ID_NUMBER).any()
    assert table["note"].str.contains("<script>", regex=False).any()  # text stays text: escaping is the display's job
