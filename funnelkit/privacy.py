"""Masking of personal data (phone numbers, ID numbers) before anything leaves the kit."""

from __future__ import annotations

import re

import pandas as pd

# 18-digit ID numbers (the last may be X) and old 15-digit ones; Chinese mainland mobile
# numbers (optionally +86, with spaces, dots or dashes between the groups); landlines with an
# area code. Digit lookarounds keep longer digit runs (order numbers) untouched; letters
# next to a number ("ID330102…") do not protect it.
_ID = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9Xx])")
_OLD_ID = re.compile(r"(?<!\d)(\d{6})(\d{6})(\d{3})(?!\d)")
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)[- .]?(\d{4})[- .]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(\(?0\d{2,3}\)?[- ]?)(\d{3,4})(\d{4})(?!\d)")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


def mask_text(text: str) -> str:
    """Mask phone and ID numbers inside free text.

    Examples
    --------
    >>> mask_text("客户电话13812341234，身份证330102199001011234")
    '客户电话138****1234，身份证330102********1234'
    """
    if not isinstance(text, str):
        return text
    text = text.translate(_FULL_WIDTH_DIGITS)  # １３８… is a phone number too
    text = _ID.sub(lambda m: f"{m[1]}********{m[3][-4:]}", text)
    text = _OLD_ID.sub(lambda m: f"{m[1]}******{m[3]}", text)
    text = _MOBILE.sub(lambda m: f"{m[1]}****{m[3]}", text)
    return _LANDLINE.sub(lambda m: f"{m[1]}****{m[3]}", text)


def mask_frame(data: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``data`` with every text cell (and text index) masked."""
    text_cols = [c for c in data.columns if data[c].dtype == object or pd.api.types.is_string_dtype(data[c])]
    out = data.copy()
    for column in text_cols:
        out[column] = data[column].map(mask_text, na_action="ignore")
    if out.index.dtype == object or pd.api.types.is_string_dtype(out.index):
        out.index = out.index.map(mask_text)
    return out
