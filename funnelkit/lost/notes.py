"""The free-text notes on lost deals: their most frequent terms per reason.

Notes are masked first (:func:`funnelkit.privacy.mask_text`), then markup, digits and masked
numbers are removed, so a phone or ID number can never come out as a term. Chinese word
segmentation is done locally with ``jieba`` (no online service); its start-up log is silenced.

Examples
--------
>>> notes = pd.DataFrame({"reason": ["价格太高"] * 2, "note": ["客户嫌价格高", "价格高，月租贵"]})
>>> note_terms(notes, top=1)[["reason", "term", "notes"]].to_dict("records")
[{'reason': '价格太高', 'term': '价格', 'notes': 2}]
"""

from __future__ import annotations

import logging
import re
from functools import cache

import pandas as pd

from funnelkit.privacy import mask_text

#: Words too common in sales notes to say anything (function words, "customer", "sales" …).
STOP_WORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "在",
        "和",
        "与",
        "及",
        "也",
        "就",
        "都",
        "还",
        "又",
        "而",
        "并",
        "但",
        "或",
        "等",
        "着",
        "过",
        "把",
        "被",
        "给",
        "让",
        "对",
        "向",
        "从",
        "到",
        "为",
        "以",
        "于",
        "之",
        "我",
        "我们",
        "你",
        "您",
        "他",
        "她",
        "它",
        "他们",
        "她们",
        "这",
        "那",
        "这个",
        "那个",
        "一个",
        "一些",
        "有",
        "没",
        "不",
        "很",
        "太",
        "再",
        "已",
        "已经",
        "要",
        "会",
        "能",
        "可以",
        "客户",
        "用户",
        "销售",
        "公司",
        "表示",
        "认为",
        "说",
        "进行",
        "目前",
        "现在",
        "暂时",
        "需要",
        "由于",
        "因为",
        "所以",
        "如果",
        "后",
        "前",
        "中",
        "上",
        "下",
        "次",
        "个",
        "元",
        "天",
        "月",
        "年",
    ]
)
_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_NUMBERISH = re.compile(r"[0-9０-９*＊]+[xX]?")
_WORDLIKE = re.compile(r"[\u4e00-\u9fffA-Za-z]")


@cache
def _tokenizer():
    import jieba

    jieba.setLogLevel(logging.CRITICAL)  # "Building prefix dict…" would reach the report's stderr
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def clean_note(text: str) -> str:
    """A note ready for segmentation: masked, markup and numbers (masked ones too) removed."""
    return _NUMBERISH.sub(" ", _MARKUP.sub(" ", mask_text(str(text))))


def terms_of(text: str, *, stop_words=STOP_WORDS) -> list[str]:
    """The distinct terms of one note: words of two or more characters containing a letter or
    Chinese character, stop words left out, in order of appearance."""
    words = (w.strip() for w in _tokenizer().lcut(clean_note(text)))
    kept = [w for w in words if len(w) >= 2 and _WORDLIKE.search(w) and w not in stop_words]
    return list(dict.fromkeys(kept))


def note_terms(lost_notes: pd.DataFrame, *, top: int, by: str = "reason", stop_words=STOP_WORDS) -> pd.DataFrame:
    """Most frequent terms of the notes per ``by`` group.

    Parameters
    ----------
    lost_notes : DataFrame
        Rows with ``note`` and the ``by`` column (lost deals); empty notes are skipped.
    top : int
        Terms kept per group.

    Returns
    -------
    DataFrame
        ``<by>``, ``rank``, ``term``, ``notes`` (notes of the group containing the term),
        ``share`` (of the group's notes with text), ``group_notes``.
    """
    text = lost_notes["note"].astype("string").str.strip()
    rows = lost_notes.assign(note=text)[text.fillna("").ne("")]
    if rows.empty:
        return pd.DataFrame(columns=[by, "rank", "term", "notes", "share", "group_notes"])
    # Notes repeat a lot: segment each distinct text once.
    distinct = pd.Series({note: terms_of(note, stop_words=stop_words) for note in rows["note"].unique()})
    exploded = (
        rows.assign(term=rows["note"].map(distinct), group=rows[by].astype(str)).explode("term").dropna(subset=["term"])
    )
    group_notes = rows.groupby(rows[by].astype(str)).size()
    counts = (
        exploded.groupby(["group", "term"])
        .size()
        .rename("notes")
        .reset_index()
        .sort_values(["group", "notes", "term"], ascending=[True, False, True])
    )
    counts = counts.assign(rank=counts.groupby("group").cumcount() + 1)
    counts = counts[counts["rank"] <= top]
    notes_in_group = counts["group"].map(group_notes)
    return (
        counts.assign(share=counts["notes"] / notes_in_group, group_notes=notes_in_group)
        .rename(columns={"group": by})[[by, "rank", "term", "notes", "share", "group_notes"]]
        .reset_index(drop=True)
    )


def frequent_notes(lost_notes: pd.DataFrame, *, by: str = "reason", top: int = 3) -> pd.DataFrame:
    """The most frequent note texts per ``by`` group, masked: ``<by>``, ``note``, ``deals`` (how
    many lost deals carry it). Digits other than phone and ID numbers are kept, as written."""
    text = lost_notes["note"].astype("string").str.strip()
    rows = pd.DataFrame({by: lost_notes[by].astype(str), "note": text})[text.fillna("").ne("")]
    counts = (
        rows.value_counts()
        .rename("deals")
        .reset_index()
        .sort_values([by, "deals", "note"], ascending=[True, False, True])
    )
    counts = counts[counts.groupby(by).cumcount() < top]
    return counts.assign(note=counts["note"].map(mask_text)).reset_index(drop=True)
