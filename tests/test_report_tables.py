"""What ``Report.table`` shows and saves: counts without decimals, long tables cut with a link
to every row, and the Excel workbook of every table shown."""

from __future__ import annotations

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from funnelkit.report.display import Report
from funnelkit.report.workbook import cell_value, sheet_title

PHONE = "13812345678"


def shown_html(monkeypatch, report: Report, data: pd.DataFrame, **options) -> BeautifulSoup:
    captured = []
    monkeypatch.setattr("IPython.display.display", lambda obj: captured.append(obj))
    report.table(data, **options)
    return BeautifulSoup(captured[-1].data, "html.parser")


def test_whole_valued_floats_are_shown_as_integers(monkeypatch):
    data = pd.DataFrame({"客户数": [1658.0, 2.0, float("nan")], "均值": [1.5, 2.0, 3.25]})
    soup = shown_html(monkeypatch, Report(notebook="funnel", branch="甲"), data)
    cells = [[td.get_text() for td in tr.find_all("td")] for tr in soup.select("tbody tr")]
    assert cells == [["1,658", "1.50"], ["2", "2.00"], ["", "3.25"]]


def test_a_long_table_shows_its_top_rows_and_links_every_row(monkeypatch, tmp_path):
    report = Report(notebook="lost", branch="甲", output_dir=str(tmp_path))
    data = pd.DataFrame({"code": range(30), "名称": [f"客户{i}" for i in range(30)]})
    soup = shown_html(monkeypatch, report, data, max_rows=5, hide=["code"])
    assert len(soup.select("tbody tr")) == 5
    link = soup.select_one("p.fk-more a")  # a view in the report's words: its sheet of the workbook
    assert link["href"] == "lost/lost.xlsx" and "“表1 名称”" in link.get_text()
    report.save_workbook()
    sheet = load_workbook(tmp_path / "lost.xlsx")["表1 名称"]
    assert sheet.max_row == 31 and sheet["A31"].value == "客户29"
    named = shown_html(monkeypatch, report, data, name="clients", max_rows=5)  # a saved table: its CSV
    assert named.select_one("p.fk-more a")["href"] == "lost/clients.csv"
    assert len(pd.read_csv(tmp_path / "clients.csv", encoding="utf-8-sig")) == 30
    short = shown_html(monkeypatch, report, data.head(3))
    assert short.select_one("p.fk-more") is None


def test_the_workbook_holds_every_table_whole_with_numbers_masked_and_defused(monkeypatch, tmp_path):
    report = Report(notebook="funnel", branch="甲", output_dir=str(tmp_path))
    monkeypatch.setattr("IPython.display.display", lambda obj: None)
    report.table(
        pd.DataFrame({"阶段": ["=HYPERLINK(1)", PHONE], "人数": ["1,658", "12"], "转化率": ["38.1%", "-0.5%"]}),
        max_rows=1,
    )
    report.table(
        pd.DataFrame({"year": [2006], "share": [0.25], "客户": [3.0]}), percent=["share"], labels={"share": "占比"}
    )
    book = load_workbook(report.save_workbook())
    first, second = book.worksheets
    assert book.sheetnames == ["表1 阶段", "表2 year"]
    assert [[c.value for c in row] for row in first.iter_rows()] == [
        ["阶段", "人数", "转化率"],
        ["'=HYPERLINK(1)", 1658, 0.381],
        ["138****5678", 12, -0.005],
    ]
    assert first["B2"].number_format == "#,##0" and first["C2"].number_format == "0.0%"
    assert [[c.value for c in row] for row in second.iter_rows()] == [["year", "占比", "客户"], [2006, 0.25, 3]]
    assert second["B2"].number_format == "0.0%" and second["C2"].number_format == "#,##0"


def test_cell_values_and_sheet_titles():
    assert cell_value("12,345.60") == (12345.6, "#,##0.00")
    assert cell_value("1,2345") == ("1,2345", None)  # not a number as written
    assert cell_value("−3") == (-3, "#,##0")
    assert cell_value(pd.NA) == (None, None)
    assert sheet_title(1, "a/b:c", "en") == "Table 1 a b c" and sheet_title(2, "13812345678") == "表2 138＊＊＊＊5678"
    assert len(sheet_title(2, "x" * 60)) == 31


def test_every_chart_png_says_its_smallest_font_and_dpi():
    import base64
    import io

    from matplotlib.figure import Figure

    from funnelkit.report.style import CHART_DPI, use_report_style
    from tests.e2e.browser import smallest_text_px

    use_report_style()
    figure = Figure(figsize=(4, 3))
    ax = figure.subplots()
    ax.plot([1, 2], label="甲")
    ax.legend(fontsize=6.5)
    ax.text(1, 1, "")  # empty text is not drawn: it does not count
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    src = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    from PIL import Image

    width = Image.open(io.BytesIO(buffer.getvalue())).width
    assert smallest_text_px(src, width) == pytest.approx(6.5 * CHART_DPI / 72, rel=1e-3)  # natural size
    assert smallest_text_px(src, width / 2) == pytest.approx(6.5 * CHART_DPI / 144, rel=1e-3)  # shown at half
