"""One Excel workbook per report: every table the report shows, whole, a sheet each, with
the report's headers, numbers as numbers and rates in percentage format.

The report's tables are made for reading: their cells hold formatted text ("1,658",
"38.1%"). A spreadsheet user wants to sort and sum them, so a cell whose text is exactly a
formatted number becomes that number again, with a number format that shows it the same
way; anything else (intervals, names, codes with leading zeros) stays text. Personal data
is masked first and the text left is defused (:func:`~funnelkit.report.files.defuse`), labels
included, as in the CSVs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from funnelkit.privacy import mask_frame, mask_text

from .files import defuse

# "1,658", "-12", "+3.5", "38.1%", "-0.4%": a whole cell that is a formatted number.
_NUMBER = re.compile(
    r"^(?P<sign>[+\-−])?(?P<digits>(?:0|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d*))(?:\.(?P<frac>\d+))?(?P<pct>%)?$"
)
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def cell_value(value) -> tuple[object, str | None]:
    """The value a spreadsheet cell should hold for a report cell, and its number format
    (None: the cell's default).

    Examples
    --------
    >>> cell_value("1,658"), cell_value("38.1%"), cell_value("+2.50")
    ((1658, '#,##0'), (0.381, '0.0%'), (2.5, '+#,##0.00;-#,##0.00;0.00'))
    >>> cell_value("[3.1%, 4.0%]"), cell_value("007"), cell_value(3)
    (('[3.1%, 4.0%]', None), ('007', None), (3, '#,##0'))
    """
    if isinstance(value, bool):
        return value, None
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None, None
    if isinstance(value, int):
        return value, "#,##0"
    if isinstance(value, float):
        return value, "#,##0" if value == round(value) else "#,##0.00"
    if not isinstance(value, str):
        return value, None
    match = _NUMBER.match(value.strip())
    if not match:
        return value, None
    decimals = len(match["frac"] or "")
    text = match["digits"].replace(",", "") + (f".{match['frac']}" if decimals else "")
    number = float(text) if decimals or match["pct"] else int(text)
    if match["sign"] in ("-", "−"):
        number = -number
    body = "0" + ("." + "0" * decimals if decimals else "")
    if match["pct"]:
        number = round(number / 100, decimals + 2)
        fmt = f"{body}%"
    else:
        fmt = "#,##" + body
    if match["sign"] == "+":
        fmt = f"+{fmt};-{fmt};{fmt.lstrip('#,')}"
    return number, fmt


def sheet_title(number: int, label: str, lang: str = "zh") -> str:
    """The sheet name of the report's table ``number`` whose first column is ``label``:
    unique by its number, and one Excel accepts (31 characters, none of ``[]:*?/\\``).

    Examples
    --------
    >>> sheet_title(3, "阶段"), sheet_title(12, "a/b:c", "en")
    ('表3 阶段', 'Table 12 a b c')
    """
    stem = f"{'表' if lang == 'zh' else 'Table '}{number}"
    text = f"{stem} {mask_text(str(label))}".replace("*", "＊")  # a masked phone keeps its look
    return _SHEET_FORBIDDEN.sub(" ", text.strip())[:31].strip()


def write_workbook(path: Path, tables: Iterable, *, lang: str = "zh") -> Path | None:
    """Write ``tables`` (:class:`~funnelkit.report.display.ShownTable`) to ``path`` as an
    .xlsx workbook, one sheet each, atomically; returns ``path`` (None when there are none).

    Examples
    --------
    >>> import tempfile
    >>> from openpyxl import load_workbook
    >>> from funnelkit.report.display import ShownTable
    >>> shown = ShownTable(1, pd.DataFrame({"阶段": ["=1+1"], "人数": ["1,658"], "转化率": [0.381]}), {}, ("转化率",))
    >>> book = load_workbook(write_workbook(Path(tempfile.mkdtemp()) / "t.xlsx", [shown]))
    >>> [[c.value for c in row] for row in book.active.iter_rows()]
    [['阶段', '人数', '转化率'], ["'=1+1", 1658, 0.381]]
    >>> book.active["C2"].number_format
    '0.0%'
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    tables = list(tables)
    if not tables:
        return None
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        data = table.data
        percent = {str(table.labels.get(c, c)) for c in table.percent}
        # Masked first; defused after numbers are read back ("-0.5%" is a number, not a formula).
        data = mask_frame(data.rename(columns=table.labels))
        sheet = book.create_sheet(sheet_title(table.number, data.columns[0] if len(data.columns) else "", lang))
        sheet.append([defuse(str(c)) for c in data.columns])
        for row in data.itertuples(index=False):
            cells = []
            for column, value in zip(data.columns, row):
                if str(column) in percent and isinstance(value, (int, float)) and not pd.isna(value):
                    cells.append((float(value), "0.0%"))
                else:
                    cells.append(cell_value(value.item() if hasattr(value, "item") else value))
            sheet.append([defuse(v) for v, _ in cells])
            for column, (_, fmt) in enumerate(cells, start=1):
                if fmt:
                    sheet.cell(row=sheet.max_row, column=column).number_format = fmt
        sheet.freeze_panes = "B2"  # header row and label column stay in view
        for column, label in enumerate(data.columns, start=1):
            widest = max([len(str(label)), *(len(str(v)) for v in data.iloc[:200, column - 1])])
            sheet.column_dimensions[get_column_letter(column)].width = min(40, widest + 4)
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    book.save(temporary)
    os.replace(temporary, path)
    return path
