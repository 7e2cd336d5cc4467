"""The one way the kit writes a CSV or JSON file: personal data masked and formulas defused
in labels as well as values.

Every table a report saves goes through :func:`write_csv`, ``summary.json`` through
:func:`write_json` and the batch's ``run.json`` through :func:`json_text`. A pivot turns data values (product lines,
lost reasons, segments) into column headers and index labels, and a summary's keys may come
from the data, so both writers treat labels and keys like values.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from funnelkit.privacy import map_labels, map_text_cells, mask_frame, mask_json

# A text starting with one of these runs as a formula in Excel, LibreOffice and Sheets
# (OWASP CSV injection; ASVS 1.2.10 adds the null character).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


def defuse(value):
    """``value`` with an apostrophe in front when it is text a spreadsheet would run as a formula.

    Examples
    --------
    >>> defuse("=1+1"), defuse("-2+3"), defuse("普通文本"), defuse(-2)
    ("'=1+1", "'-2+3", '普通文本', -2)
    """
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def excel_safe(data: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``data`` with every text cell, column label, index label and axis name
    (MultiIndex levels too) that a spreadsheet would run as a formula prefixed with an
    apostrophe."""
    out = map_text_cells(data, defuse)
    out.columns = map_labels(out.columns, defuse)
    out.index = map_labels(out.index, defuse)
    return out


def safe_table(data: pd.DataFrame) -> pd.DataFrame:
    """``data`` as it may leave the kit for a spreadsheet: masked, then defused (masking
    turns full-width ``＋``/``－`` into ASCII, which must be defused too)."""
    return excel_safe(mask_frame(data))


def write_csv(path: Path, data: pd.DataFrame, *, index: bool = False) -> Path:
    """Write ``data`` to ``path`` as CSV for Excel (UTF-8 with BOM), through :func:`safe_table`,
    atomically (a reader never sees half a file); returns ``path``.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> wide = pd.DataFrame({"=HYPERLINK(1)": ["13812341234"]})
    >>> write_csv(folder / "t.csv", wide).read_text(encoding="utf-8-sig").splitlines()
    ["'=HYPERLINK(1)", '138****1234']
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    safe_table(data).to_csv(temporary, index=index, encoding="utf-8-sig")
    os.replace(temporary, path)
    return path


def to_jsonable(value):
    """Plain JSON values: numpy scalars unwrapped, NaN → None, dates → ISO text, keys as
    text; every text, keys included, masked.

    Examples
    --------
    >>> to_jsonable({"13812341234": np.float64("nan"), 2: pd.Timestamp("2006-01-31")})
    {'138****1234': None, '2': '2006-01-31'}
    """
    return mask_json(_plain(value))


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def json_text(document: dict, *, verbatim: Iterable[str] = ()) -> str:
    """``document`` as UTF-8 JSON text, through :func:`to_jsonable`.

    ``verbatim`` names top-level keys whose values the kit made itself and that are not
    text for a reader (a SHA-256 fingerprint): a run of digits inside a hex digest could
    look like a phone number, and masking it would change the digest.
    """
    kept = {key: document[key] for key in verbatim if key in document}
    masked = iter(to_jsonable({k: v for k, v in document.items() if k not in kept}).items())
    safe = dict(next(masked) if key not in kept else (key, kept[key]) for key in document)  # order kept
    return json.dumps(safe, ensure_ascii=False, indent=2)


def write_json(path: Path, document: dict, *, verbatim: Iterable[str] = ()) -> Path:
    """Write ``document`` to ``path`` as :func:`json_text`, atomically; returns ``path``."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json_text(document, verbatim=verbatim), encoding="utf-8")
    os.replace(temporary, path)
    return path
