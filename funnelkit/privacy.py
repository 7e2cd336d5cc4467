"""Masking of personal data (phone numbers, ID numbers) before anything leaves the kit.

Masking text cells alone is not enough: data values become column headers when a table is
pivoted, dictionary keys in JSON, tick labels and legends in charts, and the branch name is
written into every file of a run. So :func:`mask_frame` masks labels as well as values,
:func:`mask_json` keys as well as values, and :func:`mask_notebook` every text of an
executed notebook; the chart style masks whatever text matplotlib draws
(:mod:`funnelkit.report.style`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

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
# Kept as they are, and text on either side masked on its own: inline images (data: URIs) in
# HTML or SVG are base64, where a digit run is no phone number and rewriting it would break
# the image; escape sequences in code (papermill writes "杭州" into the parameters cell as
# "\u676d\u5dde") end in hex digits that would otherwise hide a number right after them.
_KEEP = re.compile(r"(data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}|\\x[0-9A-Fa-f]{2})")
# Output formats that hold text; the others (PNG, JPEG, PDF) are base64 payloads.
_TEXT_MIME = re.compile(r"^text/|\+xml$|json$")


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


def _is_text(values) -> bool:
    """True for object, string and categorical-of-text columns or indexes."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _is_text(dtype.categories)
    return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)


def map_labels(labels: pd.Index, function) -> pd.Index:
    """``labels`` with ``function`` applied to every text label and to the names, MultiIndex
    levels included; other labels (numbers, dates) are kept as they are."""
    names = [function(n) if isinstance(n, str) else n for n in labels.names]
    if isinstance(labels, pd.MultiIndex):
        # Rebuilt from tuples: two labels may become equal, which set_levels refuses.
        tuples = [tuple(function(v) if isinstance(v, str) else v for v in t) for t in labels]
        return pd.MultiIndex.from_tuples(tuples, names=names) if tuples else labels.set_names(names)
    if _is_text(labels):
        labels = pd.Index([function(v) if isinstance(v, str) else v for v in labels], dtype=object)
    return labels.set_names(names)


def map_text_cells(data: pd.DataFrame, function) -> pd.DataFrame:
    """A copy of ``data`` with ``function`` applied to every text cell (by position, so
    repeated column labels are no problem); other cells are kept as they are."""
    out = data.copy()
    for position in range(data.shape[1]):
        values = data.iloc[:, position]
        if _is_text(values):
            if isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype(object)
            out.isetitem(position, values.map(function, na_action="ignore"))
    return out


def mask_frame(data: pd.DataFrame, *, labels: bool = True) -> pd.DataFrame:
    """A copy of ``data`` with every text cell masked and, with ``labels``, every text column
    label, index label and axis name (MultiIndex levels too): a pivot turns values into labels.

    Numbers stay numbers: a phone number stored as an integer is a data-contract problem the
    loader rejects, not text to rewrite. Two labels may mask to the same text; they are
    kept, side by side.

    Examples
    --------
    >>> wide = pd.DataFrame({"13812341234": ["=1+1"]}, index=pd.Index(["甲"], name="分公司"))
    >>> mask_frame(wide).columns.tolist()
    ['138****1234']
    """
    out = map_text_cells(data, mask_text)
    if labels:
        out.columns = map_labels(out.columns, mask_text)
        out.index = map_labels(out.index, mask_text)
    return out


def mask_json(value):
    """``value`` (dicts, lists and scalars as ``json`` takes them) with every text masked,
    dictionary keys included. Keys that mask to the same text are told apart by a
    suffix (`` (2)``, `` (3)``…) rather than one overwriting the other.

    Examples
    --------
    >>> mask_json({"13812341234": "身份证330102199001011234", "n": [1, "13900001111"]})
    {'138****1234': '身份证330102********1234', 'n': [1, '139****1111']}
    """
    if isinstance(value, dict):
        out: dict = {}
        for key, inner in value.items():
            masked = mask_text(key) if isinstance(key, str) else key
            unique, number = masked, 1
            while unique in out:
                number += 1
                unique = f"{masked} ({number})"
            out[unique] = mask_json(inner)
        return out
    if isinstance(value, (list, tuple)):
        return [mask_json(v) for v in value]
    return mask_text(value) if isinstance(value, str) else value


def mask_rich_text(text: str) -> str:
    r"""Mask HTML, SVG or code: inline base64 images (``data:`` URIs) are left untouched and
    escape sequences (``\u53f8``) do not hide a number written right after them.

    Examples
    --------
    >>> print(mask_rich_text('branch = "\\u53f8330102199001011234"'))
    branch = "\u53f8330102********1234"
    """
    if not isinstance(text, str):
        return text
    return "".join(part if i % 2 else mask_text(part) for i, part in enumerate(_KEEP.split(text)))


def _mask_source(value):
    """A cell source or output text: a string or, in files on disk, a list of lines."""
    if isinstance(value, list):
        return [mask_rich_text(v) for v in value]
    return mask_rich_text(value)


def mask_notebook(notebook):
    """A copy of an executed notebook (an ``nbformat`` node or its dict) with every text
    masked: cell sources (the injected parameters cell holds the branch name), text
    outputs of every kind (plain, HTML, SVG, markdown, JSON, streams), error names,
    messages and tracebacks, and the notebook's and cells' metadata (papermill records the
    parameters there). Images stay as they are: chart text is masked when drawn. Cell ids
    are kept (they are generated, and nbformat allows no ``*`` in them).
    """
    import nbformat

    notebook = nbformat.from_dict(notebook)  # a deep copy
    notebook.metadata = nbformat.from_dict(mask_json(notebook.metadata))
    for cell in notebook.cells:
        cell.source = _mask_source(cell.source)
        cell.metadata = nbformat.from_dict(mask_json(cell.get("metadata", {})))
        for output in cell.get("outputs", []):
            if "text" in output:
                output.text = _mask_source(output.text)
            for key in ("ename", "evalue"):
                if key in output:
                    output[key] = mask_text(output[key])
            if "traceback" in output:
                output.traceback = [mask_text(line) for line in output.traceback]
            for mime, content in output.get("data", {}).items():
                if _TEXT_MIME.search(mime):
                    output.data[mime] = mask_json(content) if mime.endswith("json") else _mask_source(content)
            if "metadata" in output:
                output.metadata = nbformat.from_dict(mask_json(output.metadata))
    return notebook


def mask_notebook_file(source: Path, target: Path | None = None) -> Path:
    """Write the notebook at ``source``, masked by :func:`mask_notebook`, to ``target``
    (default: ``source`` itself) atomically, and return ``target``. ``source`` is removed
    when it differs from ``target``, so an unmasked copy is never left behind. A file that is
    not a readable notebook is masked as plain text instead."""
    import nbformat

    source, target = Path(source), Path(target or source)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        masked = mask_notebook(nbformat.read(source, as_version=nbformat.NO_CONVERT))
        nbformat.write(masked, temporary, version=nbformat.NO_CONVERT)
    except ValueError:  # not JSON (a kernel died while papermill saved it): mask it as text
        temporary.write_text(mask_rich_text(source.read_text(encoding="utf-8", errors="replace")), encoding="utf-8")
    os.replace(temporary, target)
    if source.resolve() != target.resolve():
        source.unlink()
    return target


def mask_text_file(path: Path) -> None:
    """Rewrite the text file at ``path`` (a kernel log) masked, in place and atomically.
    Undecodable bytes are kept as they are (surrogate escapes), so nothing is lost."""
    path = Path(path)
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="surrogateescape")
    masked = mask_text(text)
    if masked != text:
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(masked.encode("utf-8", errors="surrogateescape"))
        os.replace(temporary, path)
