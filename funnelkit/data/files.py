"""Reading CSV and XLSX files into raw cells, with each row's number as the user sees it.

CSV: UTF-8 (BOM or not), else GB18030, strictly; line ends CRLF, LF or CR alone ("CSV
(Macintosh)"). A file that is in neither encoding as a whole (rows pasted from two exports)
is read as bytes: the CSV structure (commas, quotes, line ends) is ASCII and means the same
in both encodings, so each cell keeps its bytes until the loader knows which rows are the
branch's; then only those rows and the header are decoded, strictly, in one encoding.

XLSX: the sheet named like the table, or the only sheet; the header is the first non-empty
row. A formula cell saved without its result (files written by scripts, never opened in
Excel) reads as empty, so such cells are found in the sheet's XML and named.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
import zipfile
from contextlib import suppress
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnelkit.exceptions import DataSourceError, DataValidationError, Problem

from .schema import TABLES

ENCODINGS = ("utf-8", "gb18030")
_NAMES = {"utf-8": "UTF-8", "gb18030": "GB18030"}
_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(rb"\r\n|\r|\n")
_DECODE_HINT = "save the file as UTF-8 or GB18030 (Excel: CSV UTF-8)"


@dataclass
class Sheet:
    """The raw cells of a CSV file or an Excel sheet.

    ``frame`` has the header's cells as columns. When ``encoded`` is set, the body cells
    still hold their bytes (as latin-1 text) and ``header_encodings`` lists the encodings
    the header reads in; ``formulas`` maps (row, column position) to (cell, formula) for
    formula cells without a cached result.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    label: str
    sheet: str = ""
    encoded: bool = False
    header_encodings: tuple[str, ...] = ()
    line_starts: list[int] = field(default_factory=list)
    data: bytes = b""
    formulas: dict = field(default_factory=dict)

    def readings(self, cell: str) -> list[str]:
        """Every strict reading of an undecoded cell (none when it is in neither encoding)."""
        raw = cell.encode("latin-1")
        found = []
        for encoding in ENCODINGS:
            with suppress(UnicodeDecodeError):
                found.append(raw.decode(encoding))
        return found


# ---------------------------------------------------------------- CSV
def _line_starts(data: bytes) -> list[int]:
    """Byte offset where each line starts (line 1 at offset 0); any line end counts."""
    return [0, *(m.end() for m in _LINE_END.finditer(data))]


def _decode_problem(file: str, data: bytes, starts: list[int], offset: int, rule: str) -> Problem:
    line = bisect.bisect_right(starts, offset)
    return Problem(file, line, None, data[offset : offset + 4].hex(" "), rule, _DECODE_HINT)


def _parse(text: str | bytes, file: str) -> tuple[pd.DataFrame, np.ndarray]:
    """CSV text as a grid of text cells (header row first) and each row's first line; bytes
    are read as latin-1, one character per byte (pandas does that in C)."""
    source = io.BytesIO(text) if isinstance(text, bytes) else io.StringIO(text)
    encoding = "latin-1" if isinstance(text, bytes) else None
    try:
        grid = pd.read_csv(source, header=None, dtype=str, keep_default_na=False, encoding=encoding)
    except pd.errors.EmptyDataError:
        raise DataValidationError(
            [Problem(file, None, None, "", "the file is empty", "export the table with its header row")]
        ) from None
    except pd.errors.ParserError as error:
        raise DataValidationError(
            [
                Problem(
                    file,
                    None,
                    None,
                    "",
                    f"not a readable CSV file: {error}",
                    "check quotes and the number of commas on that line",
                )
            ]
        ) from None
    return grid, _record_lines(text, len(grid))


def _record_lines(text: str | bytes, n_records: int) -> np.ndarray:
    """The line each CSV record starts on (header = line 1), allowing for quoted newlines
    and blank lines; ``text`` has LF line ends."""
    newline = b"\n" if isinstance(text, bytes) else "\n"
    n_lines = text.count(newline) + (0 if text.endswith(newline) else 1)
    if n_lines == n_records:
        return np.arange(1, n_records + 1)
    text = text.decode("latin-1") if isinstance(text, bytes) else text
    starts, previous = [], 0
    reader = csv.reader(io.StringIO(text, newline=""))
    for record in reader:
        if record:
            starts.append(previous + 1)
        previous = reader.line_num
    return np.asarray(starts) if len(starts) == n_records else np.arange(1, n_records + 1)


def _with_lf(text):
    """Line ends as LF when the text (or bytes) has lone CRs (old Mac CSV); CRLF is left as it is."""
    cr, crlf, lf = ("\r", "\r\n", "\n") if isinstance(text, str) else (b"\r", b"\r\n", b"\n")
    if cr in text and text.count(cr) != text.count(crlf):
        return text.replace(crlf, lf).replace(cr, lf)
    return text


def _whole_text(path) -> str | None:
    """The file as text in the first encoding that reads all of it (a BOM means UTF-8)."""
    data = path.read_bytes()  # freed on return: a large file is not held twice while parsed
    for encoding in ("utf-8-sig",) if data.startswith(_BOM) else ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def read_csv(path) -> Sheet:
    """A CSV file's cells as text, decoded strictly; undecoded bytes when it is in no single encoding."""
    file = str(path)
    text = _whole_text(path)
    if text is not None:
        grid, lines = _parse(_with_lf(text), file)
        return _sheet(grid, lines, file)
    # Neither encoding reads the whole file (rare): keep each cell's bytes, latin-1 maps byte to char.
    data = path.read_bytes()
    bom = data.startswith(_BOM)
    body = data[len(_BOM) :] if bom else data
    grid, lines = _parse(_with_lf(body), file)
    starts = [s + len(_BOM) * bom for s in _line_starts(body)]
    header = "\x1f".join(grid.iloc[0].fillna("")).encode("latin-1")
    readable = tuple(e for e in (ENCODINGS[:1] if bom else ENCODINGS) if _reads(header, e))
    if not header.isascii():  # the header is read in one encoding; the rows must be in the same
        readable = readable[:1]
    if not readable:
        error = _first_error(header, "utf-8")
        raise DataValidationError(
            [
                _decode_problem(
                    file,
                    data,
                    starts,
                    starts[0] + error,
                    f"cannot decode the header: bad byte at byte offset "
                    f"{starts[0] + error} (read as UTF-8 and as GB18030)",
                )
            ]
        )
    grid.iloc[0] = [c.encode("latin-1").decode(readable[0]) for c in grid.iloc[0].fillna("")]
    sheet = _sheet(grid, lines, file)
    sheet.encoded, sheet.header_encodings, sheet.line_starts, sheet.data = True, readable, starts, data
    return sheet


def _sheet(grid: pd.DataFrame, lines: np.ndarray, file: str) -> Sheet:
    frame = grid.iloc[1:].set_axis(list(grid.iloc[0].fillna("")), axis=1).reset_index(drop=True)
    return Sheet(frame, lines[1:], file)


def _reads(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _first_error(raw: bytes, encoding: str) -> int:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as error:
        return error.start
    return -1


def decode_rows(sheet: Sheet, frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The branch's rows of an undecoded sheet as text: in the first encoding that reads the
    header and every one of them; otherwise each row it cannot read is a problem."""
    following = np.searchsorted(sheet.rows, rows, side="right")  # the next record of each row
    ends = [sheet.line_starts[sheet.rows[i] - 1] if i < len(sheet.rows) else len(sheet.data) for i in following]
    spans = [sheet.data[sheet.line_starts[row - 1] : end] for row, end in zip(rows, ends)]
    for encoding in sheet.header_encodings:
        if all(_reads(span, encoding) for span in spans):
            return _decoded(frame, lambda cell, encoding=encoding: cell.encode("latin-1").decode(encoding))
    encoding = sheet.header_encodings[0]
    problems = []
    for row, span in zip(rows, spans):
        offset = _first_error(span, encoding)
        if offset >= 0:
            at = sheet.line_starts[row - 1] + offset
            problems.append(
                _decode_problem(
                    sheet.label,
                    sheet.data,
                    sheet.line_starts,
                    at,
                    f"cannot decode the file: bad byte at byte offset {at} (this branch's "
                    f"rows and the header read as {_NAMES[encoding]})",
                )
            )
    raise DataValidationError(problems)


def decode_all(sheet: Sheet) -> pd.DataFrame:
    """Every row of an undecoded sheet as text, for aggregates over all branches: a cell in
    neither encoding becomes empty (its branch reports it when it loads its rows). Each
    distinct cell is decoded once."""

    def read(cell):
        readings = sheet.readings(cell)
        return readings[0] if readings else None

    return _decoded(sheet.frame, read)


def _decoded(frame: pd.DataFrame, decode) -> pd.DataFrame:
    """``frame`` with ``decode`` applied to each distinct text cell of each column once."""
    return frame.apply(lambda cells: cells.map({c: decode(c) for c in cells.dropna().unique()}))


# ---------------------------------------------------------------- XLSX
_CELL = re.compile(
    rb"<(?:\w+:)?c\b([^>]*)>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?f>)\s*"
    rb"(<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)
_ATTRIBUTE = re.compile(rb'\b(r|t)="([^"]*)"')


def uncached_formulas(path, part: str) -> dict[str, str]:
    """Cell → formula for each formula in the sheet XML ``part`` saved without a result.

    Read in chunks cut after a row's end, so no cell is split. A formula whose cached text
    result is empty (``t="str"`` with an empty value) has a result. A cell without its
    reference (optional in the format) is reported as ``?``."""
    found: dict[str, str] = {}
    carry = b""
    with zipfile.ZipFile(path) as archive, archive.open(part) as stream:
        while True:
            chunk = stream.read(1 << 22)
            data = carry + chunk
            end = data.rfind(b"row>") if chunk else len(data) - 4
            cut = end + 4 if end >= 0 else 0
            for match in _CELL.finditer(data, 0, cut):
                attributes = dict(_ATTRIBUTE.findall(match.group(1)))
                if match.group(3) is not None and attributes.get(b"t") == b"str":
                    continue
                formula = (match.group(2) or b"").decode("utf-8", "replace")
                found[attributes.get(b"r", b"?").decode()] = f"={formula}" if formula else "=(shared formula)"
            carry = data[cut:]
            if not chunk:
                return found


def _pick_sheet(book, table: str, file: str):
    names = {n.casefold() for n in (table, *TABLES[table].file_stems)}
    named = [n for n in book.sheetnames if n.casefold() in names]
    if named:
        return book[named[0]]
    if len(book.sheetnames) == 1:
        return book.worksheets[0]
    stems = " or ".join(repr(n) for n in dict.fromkeys((table, *TABLES[table].file_stems)))
    raise DataSourceError(
        f"{file}: no sheet is named for table {table!r} and the workbook has "
        f"{len(book.sheetnames)} sheets ({', '.join(book.sheetnames)}); rename the sheet "
        f"holding the {table} rows to {stems}, or keep only that sheet"
    )


def read_xlsx(path, table: str) -> Sheet:
    """The cells of the table's sheet, with sheet rows, and its formulas without a result."""
    import openpyxl  # only XLSX sources need it
    from openpyxl.utils.cell import coordinate_to_tuple

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise DataSourceError(f"cannot read Excel file {path}: {error}") from None
    try:
        sheet = _pick_sheet(book, table, str(path))
        records = [
            (number, row)
            for number, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1)
            if any(v is not None and v != "" for v in row)
        ]
        part = getattr(sheet, "_worksheet_path", None)
        title = sheet.title
    finally:
        book.close()
    formulas = uncached_formulas(path, part) if part else {}
    if not records:
        raise DataValidationError(
            [Problem(str(path), None, None, "", f"the sheet {title!r} is empty", "put the header in the first row")]
        )
    (_, header), body = records[0], records[1:]
    width = len(header)
    frame = pd.DataFrame(
        [list(row[:width]) + [None] * (width - len(row)) for _, row in body],
        columns=["" if h is None else str(h) for h in header],
        dtype=object,
    )
    cells = {}  # (row, column position) → (cell, formula); a cell without reference at (0, -1)
    for cell, formula in formulas.items():
        row, column = coordinate_to_tuple(cell) if cell != "?" else (0, 0)
        cells[(row, column - 1)] = (cell, formula)
    return Sheet(
        frame, np.asarray([number for number, _ in body], dtype=np.int64), str(path), sheet=title, formulas=cells
    )
