"""Hostile and odd input files at the data edge: each gives a located problem, a data
warning, or a clean read; loading never raises anything but a FunnelkitError."""

import datetime as dt
import sqlite3
from contextlib import suppress
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from funnelkit.data import sources
from funnelkit.data.loading import data_warnings, load_table, peer_stage_counts
from funnelkit.exceptions import (
    DataSourceError,
    DataValidationError,
    FunnelkitError,
    ParamsError,
)

HEADER = "lead_id,branch,created_date,segment,region,industry,product_line,owner,stage,outcome,amount"
HZ, NB = "杭州分公司", "宁波分公司"
AS_OF = "2007-12-31"


def lead(lead_id="L1", branch=HZ, date="2006-01-31", amount="100", lost_date=None):
    row = f"{lead_id},{branch},{date},商企,东,制造,宽带,张三,接触客户,战败,{amount}"
    return row if lost_date is None else f"{row},{lost_date}"


def write(tmp_path, lines, *, end="\n", name="leads.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes((end.join(lines) + end).encode(encoding))
    return path


def load(path, branch=HZ, **kwargs):
    return load_table("leads", branch=branch, files={"leads": path}, as_of=kwargs.pop("as_of", AS_OF), **kwargs)


def facts(problem):
    return (Path(problem.file).name, problem.row, problem.column, problem.value, problem.rule)


# ---------------------------------------------------------------- line ends and encodings
def test_csv_with_cr_line_ends_reads_with_the_lines_an_editor_shows(tmp_path):
    path = write(tmp_path, [HEADER, lead("L1"), lead("L2", amount="abc")], end="\r")  # "CSV (Macintosh)"
    with pytest.raises(DataValidationError) as excinfo:
        load(path)
    assert [facts(p) for p in excinfo.value.problems] == [("leads.csv", 3, "amount", "abc", "not a number")]
    path = write(tmp_path, [HEADER, lead("L1"), lead("L2")], end="\r")
    assert load(path)["lead_id"].tolist() == ["L1", "L2"]


def mixed_file(tmp_path, header=HEADER, end="\n"):
    """UTF-8 header and 杭州 rows; a 宁波 row pasted from a GB18030 export (line 3)."""
    utf8 = (header + end + lead("L1") + end).encode("utf-8")
    gb_row = lead("N1", branch=NB).encode("gb18030") + end.encode()
    path = tmp_path / "leads.csv"
    path.write_bytes(utf8 + gb_row + (lead("L2") + end).encode("utf-8"))
    return path, len(utf8), gb_row


def test_a_bad_byte_in_another_branchs_row_does_not_fail_this_branch(tmp_path):
    path, _, _ = mixed_file(tmp_path)
    leads = load(path)
    assert leads["lead_id"].tolist() == ["L1", "L2"] and leads["segment"].tolist() == ["商企", "商企"]
    assert leads.attrs["data_warnings"] == []
    other = load(path, branch=NB)  # the header is ASCII: its rows and the header read as GB18030
    assert other["lead_id"].tolist() == ["N1"] and other["segment"].tolist() == ["商企"]


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_the_branch_whose_row_cannot_be_decoded_gets_line_and_byte_offset(tmp_path, end):
    header = HEADER.replace("segment", "客户类型")  # a UTF-8 header: GB18030 rows would be a guess
    path, offset, gb_row = mixed_file(tmp_path, header, end)
    assert load(path)["segment"].tolist() == ["商企", "商企"]
    with pytest.raises(DataValidationError) as excinfo:
        load(path, branch=NB)
    (problem,) = excinfo.value.problems
    first_bad = offset + len(b"N1,")  # the branch name is the first non-ASCII text of the row
    assert (problem.row, problem.value) == (3, gb_row[3:7].hex(" "))
    assert problem.rule == (
        f"cannot decode the file: bad byte at byte offset {first_bad} (this branch's rows and the header read as UTF-8)"
    )


# ---------------------------------------------------------------- empty tables
@pytest.mark.parametrize("kind", ["csv", "xlsx", "parquet"])
def test_header_only_table_loads_as_an_empty_typed_frame(tmp_path, kind):
    full = load(write(tmp_path, [HEADER, lead()], name="full.csv"))
    if kind == "csv":
        path = write(tmp_path, [HEADER])
    elif kind == "xlsx":
        book = openpyxl.Workbook()
        book.active.append(HEADER.split(","))
        book.save(path := tmp_path / "leads.xlsx")
    else:
        full.iloc[:0].to_parquet(path := tmp_path / "leads.parquet")
    empty = load(path)
    assert empty.empty and list(empty.columns) == list(full.columns)
    assert empty.dtypes.to_dict() == full.dtypes.to_dict()


def test_lost_analysis_says_there_are_no_deals(tmp_path):
    from funnelkit import lost

    with pytest.raises(FunnelkitError, match="^no deals to analyse: the branch has no leads"):
        lost.analyse({"leads": load(write(tmp_path, [HEADER]))}, lost.Params())
    early = load(write(tmp_path, [HEADER, lead().replace("接触客户", "目标客户")], name="early.csv"))
    with pytest.raises(FunnelkitError, match="has 1 leads and none reached 接触客户 \\(contacted"):
        lost.analyse({"leads": early}, lost.Params())


# ---------------------------------------------------------------- XLSX
def workbook(tmp_path, rows, *, title=None, cover=False, name="leads.xlsx"):
    book = openpyxl.Workbook()
    sheet = book.active
    if cover:
        sheet.title = "封面"
        sheet.append(["2006年线索报表"])
        sheet = book.create_sheet("数据")
    elif title:
        sheet.title = title
    for row in [HEADER.split(","), *rows]:
        sheet.append(row)
    book.save(tmp_path / name)
    return tmp_path / name


def xlsx_lead(lead_id="L1", branch=HZ, amount=100, date="2006-01-31"):
    return [lead_id, branch, date, "商企", "东", "制造", "宽带", "张三", "接触客户", "战败", amount]


def test_uncached_formula_is_named_by_file_row_column_sheet_and_cell(tmp_path):
    # openpyxl saves formulas without a cached result, as scripts do; Excel would store one
    path = workbook(tmp_path, [xlsx_lead("L1", amount="=40+2"), xlsx_lead("N1", NB, amount="=1/0")], title="线索")
    with pytest.raises(DataValidationError) as excinfo:
        load(path)
    (problem,) = excinfo.value.problems  # N1's formula is the other branch's business
    assert facts(problem) == ("leads.xlsx", 2, "amount", "=40+2", "formula without a cached value")
    assert problem.hint.startswith("cell K2 of sheet '线索': open and save the file in Excel")
    assert load(path, branch="温州分公司").empty


def test_uncached_formula_in_the_branch_column_fails_every_branch(tmp_path):
    path = workbook(tmp_path, [xlsx_lead("L1"), xlsx_lead("X1", branch='=IF(A3="X1","杭州分公司","")')])
    for branch in (HZ, NB):
        with pytest.raises(DataValidationError) as excinfo:
            load(path, branch=branch)  # whose row it is cannot be known without the formula's result
        assert [facts(p) for p in excinfo.value.problems] == [
            ("leads.xlsx", 3, "branch", '=IF(A3="X1","杭州分公司","")', "formula without a cached value")
        ]


def test_workbook_with_a_cover_sheet_names_its_sheets(tmp_path):
    path = workbook(tmp_path, [xlsx_lead()], cover=True)
    with pytest.raises(DataSourceError) as excinfo:
        load(path)
    assert str(excinfo.value) == (
        f"{path}: no sheet is named for table 'leads' and the workbook has 2 sheets "
        f"(封面, 数据); rename the sheet holding the leads rows to 'leads' or '线索', "
        f"or keep only that sheet"
    )
    single = workbook(tmp_path, [xlsx_lead()], title="Sheet1", name="one.xlsx")
    assert load(single)["lead_id"].tolist() == ["L1"]  # one sheet: nothing to choose


# ---------------------------------------------------------------- sources
@pytest.mark.parametrize("required", [True, False])
def test_xls_file_in_a_source_folder_is_named(tmp_path, required):
    (tmp_path / "leads.xls").write_bytes(b"\xd0\xcf\x11\xe0 old Excel")
    with pytest.raises(DataSourceError) as excinfo:
        load_table("leads", branch=HZ, source=str(tmp_path), required=required)
    assert str(excinfo.value) == (
        f"table 'leads': found leads.xls (Excel 97-2003) in {tmp_path}, a format "
        f"funnelkit cannot read; open it in Excel or WPS and save it as leads.xlsx "
        f"(or export it as CSV UTF-8)"
    )


def test_text_file_named_parquet_is_a_clear_error(tmp_path):
    path = tmp_path / "leads.parquet"
    path.write_text(HEADER + "\n" + lead() + "\n", encoding="utf-8")
    for read in (lambda: load(path), lambda: peer_stage_counts(source=str(tmp_path))):
        with pytest.raises(DataSourceError) as excinfo:
            read()
        assert str(excinfo.value) == (
            f"{path} is not a Parquet file (it lacks Parquet's PAR1 markers): export "
            f"the table as Parquet again, or save it as .csv or .xlsx"
        )


def test_sqlite_or_other_file_as_duckdb_source_is_a_clear_error(tmp_path):
    path = tmp_path / "company.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE leads (lead_id TEXT)")
    con.close()
    with pytest.raises(DataSourceError, match=r"company\.db is a SQLite database, not DuckDB: export its tables"):
        load_table("leads", branch=HZ, source=str(path))
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    with pytest.raises(DataSourceError, match=r"junk\.duckdb is not a DuckDB database"):
        load_table("leads", branch=HZ, source=str(junk))


def test_every_duckdb_connection_is_offline(tmp_path):
    db = tmp_path / "d.duckdb"
    with sources.open_duckdb(db) as con:
        con.execute("CREATE TABLE leads AS SELECT 1 AS x")
    parquet = tmp_path / "x.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(parquet)
    connections = [
        sources.open_duckdb(),
        sources.connect(db),
        sources.open_connection(sources.Location("parquet", parquet, "leads")),
    ]
    for con in connections:
        with con:
            assert con.execute(
                "SELECT current_setting('autoload_known_extensions'), current_setting('autoinstall_known_extensions')"
            ).fetchone() == (False, False)
    package = Path(sources.__file__).parents[1]
    callers = sorted(
        str(p.relative_to(package)) for p in package.rglob("*.py") if "duckdb.connect(" in p.read_text(encoding="utf-8")
    )
    assert callers == ["data/sources.py"]  # the one place, with the offline config


# ---------------------------------------------------------------- dates
PLACEHOLDERS = [
    HEADER + ",lost_date",
    lead("L1", date="0001-01-01"),
    lead("L2", lost_date="9999-12-31"),
    lead("L3", date="1900-01-01"),
    lead("L4", date="2099-01-01"),
    lead("L5", lost_date="2007-12-31"),
]
EARLY = "date before 1990-01-01"
LATE = "date after the data's as-of date 2007-12-31 (params as_of)"


def test_placeholder_and_future_dates_in_csv_are_problems_of_their_cell(tmp_path):
    with pytest.raises(DataValidationError) as excinfo:
        load(write(tmp_path, PLACEHOLDERS))
    assert [facts(p) for p in excinfo.value.problems] == [
        ("leads.csv", 2, "created_date", "0001-01-01", EARLY),
        ("leads.csv", 3, "lost_date", "9999-12-31", LATE),
        ("leads.csv", 4, "created_date", "1900-01-01", EARLY),
        ("leads.csv", 5, "created_date", "2099-01-01", LATE),
    ]  # L5, on the as-of date, is fine
    assert "leave the cell empty" in excinfo.value.problems[0].hint


def test_without_as_of_the_window_ends_today(tmp_path):
    with pytest.raises(DataValidationError) as excinfo:
        load(write(tmp_path, [HEADER, lead("L1", date="2099-01-01")]), as_of="")
    (problem,) = excinfo.value.problems
    assert problem.rule == f"date after today ({dt.date.today()})" and problem.value == "2099-01-01"
    with pytest.raises(ParamsError, match="as_of"):
        load(write(tmp_path, [HEADER, lead()]), as_of="yesterday")


def typed_leads(created, lost):
    return pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "branch": HZ,
            "created_date": created,
            "segment": "商企",
            "region": "东",
            "industry": "制造",
            "product_line": "宽带",
            "owner": "张三",
            "stage": "接触客户",
            "outcome": "战败",
            "amount": 1.0,
            "lost_date": lost,
        }
    )


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_placeholder_dates_in_typed_sources(tmp_path, kind):
    created = [dt.date(1, 1, 1), dt.date(2006, 1, 31), dt.date(2006, 2, 1)]
    lost = [None, dt.datetime(9999, 12, 31, 0, 0), dt.datetime(2006, 3, 1, 12, 0)]  # a TIMESTAMP column
    frame = typed_leads(created, pd.array(lost, dtype="timestamp[us][pyarrow]"))
    if kind == "parquet":
        frame.to_parquet(path := tmp_path / "leads.parquet")
        where = {"files": {"leads": path}}
    else:
        with duckdb.connect(str(path := tmp_path / "d.duckdb")) as con:
            con.register("frame", frame)
            con.execute("CREATE TABLE leads AS SELECT * FROM frame")
        where = {"source": str(path)}
    with pytest.raises(DataValidationError) as excinfo:
        load_table("leads", branch=HZ, as_of=AS_OF, **where)
    assert [(p.row, p.column, str(p.value)[:10], p.rule) for p in excinfo.value.problems] == [
        (1, "created_date", "0001-01-01", EARLY),
        (2, "lost_date", "9999-12-31", LATE),
    ]


def test_placeholder_dates_in_xlsx_cells(tmp_path):
    path = workbook(
        tmp_path,
        [
            xlsx_lead("L1", date=dt.datetime(9999, 12, 31)),
            xlsx_lead("L2", date=2958465),
            xlsx_lead("L3", date="0001-01-01"),
            xlsx_lead("L4", date=dt.datetime(2006, 1, 31)),
        ],
    )
    with pytest.raises(DataValidationError) as excinfo:
        load(path)
    assert [(p.row, p.value, p.rule) for p in excinfo.value.problems] == [
        (2, "9999-12-31", LATE),
        (3, "2958465", LATE),
        (4, "0001-01-01", EARLY),
    ]  # serial 2958465: 9999-12-31


def test_a_2099_lead_of_another_branch_is_no_peer_period(tmp_path):
    write(tmp_path, [HEADER, lead("L1"), lead("N1", branch=NB, date="2099-01-01")])
    peers = peer_stage_counts(source=str(tmp_path), as_of=AS_OF)
    assert set(peers["period"]) == {"2006"} and set(peers["branch"]) == {HZ}


# ---------------------------------------------------------------- branch cells
def test_invisible_characters_in_branch_cells_are_stripped_and_unread_rows_counted(tmp_path):
    lines = [
        HEADER,
        lead("L1", branch=HZ + "\u200b"),
        lead("L2", branch="\x00" + HZ),
        lead("L3", branch="\ufeff" + HZ),
        lead("L4", branch="\u3000" + HZ + "\u00a0"),
        lead("X1", branch="\u200b"),
        lead("X2", branch=""),
        lead("X3", branch="杭州 分公司"),
        lead("N1", branch=NB),
    ]
    path = write(tmp_path, lines)
    leads = load(path)
    assert leads["lead_id"].tolist() == ["L1", "L2", "L3", "L4"] and set(leads["branch"]) == {HZ}
    assert [(w.row, w.column, w.value, w.rule, w.count) for w in leads.attrs["data_warnings"]] == [
        (6, "branch", "", "empty branch cell: no branch reads these rows", 2),
        (
            8,
            "branch",
            "杭州 分公司",
            f"branch differs from '{HZ}' only in spaces or letter case: these rows are not read",
            1,
        ),
    ]
    assert data_warnings(leads, lang="en")[0] == (
        "leads.csv: 2 row(s) have an empty branch cell (first in row 6); no branch reads them."
    )  # no server path in a report
    assert "只差空格或大小写" in data_warnings(leads)[1]


def test_lost_report_lists_the_loading_warnings_even_without_mature_deals(tmp_path):
    from funnelkit import lost

    leads = load(write(tmp_path, [HEADER, lead("L1"), lead("L2", date="2006-02-01"), lead("X1", branch="")]))
    result = lost.analyse({"leads": leads}, lost.Params())  # both deals are too young: no year to compare
    assert data_warnings(leads, lang="en") == [
        "leads.csv: 1 row(s) have an empty branch cell (first in row 4); no branch reads them."
    ]
    assert result.yoy.empty and int(result.target_row["immature"].iloc[0]) == 2


def test_invisible_characters_in_duckdb_branch_cells(tmp_path):
    frame = typed_leads([dt.date(2006, 1, d) for d in (1, 2, 3)], [None] * 3)
    frame["branch"] = [HZ + "\u200b", "\x00", NB]
    with duckdb.connect(str(path := tmp_path / "d.duckdb")) as con:
        con.register("frame", frame)
        con.execute("CREATE TABLE leads AS SELECT * FROM frame")
    leads = load_table("leads", branch=HZ, source=str(path), as_of=AS_OF)
    assert leads["lead_id"].tolist() == ["L1"] and leads["branch"].tolist() == [HZ]
    assert [(w.row, w.rule, w.count) for w in leads.attrs["data_warnings"]] == [
        (2, "empty branch cell: no branch reads these rows", 1)
    ]
    peers = peer_stage_counts(source=str(path), as_of=AS_OF)
    assert set(peers["branch"]) == {HZ, NB}  # no ghost branch "杭州分公司\u200b", no empty one


# ---------------------------------------------------------------- counts and fingerprint
def test_problem_counts_are_honest_when_the_list_is_cut(tmp_path):
    lines = [HEADER] + [
        lead(f"L{i}", date="2006-13-01" if i % 4 == 0 else "2006-01-31", amount="abc" if i % 10 == 0 else "1")
        for i in range(1200)
    ]
    with pytest.raises(DataValidationError) as excinfo:
        load(write(tmp_path, lines))
    error = excinfo.value
    assert error.total == 300 + 120 and error.counts == {"created_date: not a date": 300, "amount: not a number": 120}
    head = str(error).splitlines()[:3]
    assert head == [
        f"420 problem(s) in data ({tmp_path / 'leads.csv'}); the first 50 shown:",
        "  300 × created_date: not a date",
        "  120 × amount: not a number",
    ]
    assert len(error.problems) == 100 + 100  # listed: PER_RULE_LIMIT of each rule


def test_fingerprint_covers_only_the_files_the_loader_reads(tmp_path):
    from funnelkit.batch.params import BranchParams
    from funnelkit.batch.runner import input_files

    folder = tmp_path / "data" / "hz"
    folder.mkdir(parents=True)
    write(folder, [HEADER, lead()])
    (folder / "notes.txt").write_text("big unrelated file")
    (folder / "old").mkdir()
    (folder / "old" / "leads.csv").write_text(HEADER)
    tx = tmp_path / "tx.csv"
    tx.write_text("transaction_id\n")
    branch = BranchParams(
        "hz",
        tmp_path / "params" / "hz.yaml",
        {"branch": HZ, "source": "data/hz", "files": {"transactions": "tx.csv"}},
        (),
    )
    assert input_files(tmp_path, [branch]) == [folder / "leads.csv", tx]


# ---------------------------------------------------------------- never anything but FunnelkitError
HOSTILE = {
    "binary.csv": bytes(range(256)) * 4,
    "quotes.csv": b'lead_id,branch\n"unterminated,\xe6\x9d\xad\n',
    "empty.csv": b"",
    "bom_only.csv": b"\xef\xbb\xbf",
    "nul.csv": b"\x00" * 64,
    "fake.xlsx": b"PK\x03\x04 not a zip",
    "fake.parquet": b"PAR1" + b"\x00" * 16 + b"PAR1",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_raise_only_funnelkit_errors(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(HOSTILE[name])
    with suppress(FunnelkitError):  # any other exception fails the test with its traceback
        load(path)
