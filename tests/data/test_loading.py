"""Tests of funnelkit.data.loading: sources, encodings, headers, parsing, rules, peer counts."""

import datetime as dt
import re
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from funnelkit.data import schema
from funnelkit.data.loading import load_table, peer_stage_counts, validate
from funnelkit.exceptions import DataSourceError, DataValidationError

HEADER_ZH = "线索编号,分公司,创建日期,客户类型,区域,行业,产品线,销售顾问,阶段,结果,金额"
HEADER_EN = "lead_id,branch,created_date,segment,region,industry,product_line,owner,stage,outcome,amount"
HZ = "杭州分公司"
OB = "O'Brien分公司"


def lead(lead_id="L1", branch=HZ, date="2006-01-31", stage="目标客户", outcome="跟进中", amount="100"):
    return f"{lead_id},{branch},{date},商企,城东,制造,宽带,张三,{stage},{outcome},{amount}"


def write_csv(tmp_path, lines, encoding="utf-8", name="leads.csv"):
    path = tmp_path / name
    path.write_bytes("\n".join(lines).encode(encoding) + b"\n")
    return path


def problems_of(excinfo):
    return [(p.row, p.column, p.rule) for p in excinfo.value.problems]


# ---------------------------------------------------------------- encodings
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_with_chinese_headers_and_values(tmp_path, encoding):
    path = write_csv(tmp_path, [HEADER_ZH, lead("L1", stage="签约客户", outcome="成交")], encoding)
    leads = load_table("leads", branch=HZ, files={"leads": str(path)})
    assert leads.loc[0, "lead_id"] == "L1"  # with a BOM the first header reads '\ufeff线索编号'
    assert leads.loc[0, "stage"] == "signed" and leads.loc[0, "outcome"] == "won"
    assert leads.loc[0, "segment"] == "商企"


def test_undecodable_file_names_file_line_and_offset(tmp_path):
    good = (HEADER_ZH + "\n" + lead() + "\n").encode("utf-8")
    start = f"L2,{HZ},2006-01-31,".encode()
    path = tmp_path / "leads.csv"
    path.write_bytes(good + start + b"\xff\xfe" + lead().split(",", 4)[4].encode() + b"\n")  # neither encoding
    with pytest.raises(DataValidationError) as excinfo:
        load_table("leads", branch=HZ, files={"leads": path})
    (problem,) = excinfo.value.problems
    assert problem.file == str(path) and problem.row == 3 and problem.value.startswith("ff fe")
    assert f"byte offset {len(good) + len(start)}" in problem.rule and "UTF-8 or GB18030" in problem.hint


def test_undecodable_branch_cell_is_a_warning_not_this_branchs_error(tmp_path):
    good = (HEADER_ZH + "\n" + lead() + "\n").encode("utf-8")
    path = tmp_path / "leads.csv"
    path.write_bytes(good + b"L2,\xff\xfe\xff\n")  # whose row this is cannot be known
    leads = load_table("leads", branch=HZ, files={"leads": path})
    assert leads["lead_id"].tolist() == ["L1"]
    (warning,) = leads.attrs["data_warnings"]
    assert (warning.file, warning.row, warning.count, warning.value) == (str(path), 3, 1, "ff fe ff")


# ---------------------------------------------------------------- output shape
def test_output_columns_dtypes_and_extras(tmp_path):
    lines = [
        HEADER_EN.upper() + ",客户来源",
        lead("L1", amount="１，２３４") + ",展会",
        lead("L2", date="2006年2月1日", stage="Signed", outcome="WON", amount="") + ",网络",
    ]
    path = write_csv(tmp_path, lines)
    leads = load_table("leads", branch=HZ, files={"leads": path})
    contract = [c.name for c in schema.table_columns("leads")]
    assert list(leads.columns) == [*contract, "客户来源"]
    assert leads["amount"].tolist()[0] == 1234.0 and pd.isna(leads["amount"].iloc[1])
    assert leads["created_date"].tolist() == [pd.Timestamp("2006-01-31"), pd.Timestamp("2006-02-01")]
    assert str(leads["lead_id"].dtype) == "string" and str(leads["followed_up"].dtype) == "boolean"
    assert pd.api.types.is_datetime64_dtype(leads["date_signed"]) and leads["date_signed"].isna().all()


def test_branch_with_no_rows_gives_empty_frame(tmp_path):
    path = write_csv(tmp_path, [HEADER_ZH, lead()])
    leads = load_table("leads", branch="宁波分公司", files={"leads": path})
    assert leads.empty and "lead_id" in leads.columns


def test_validate_does_not_mutate_and_parses_each_kind():
    raw = pd.DataFrame(
        {
            "客户编号": ["C1", "C2"],
            "分公司": [HZ, HZ],
            "区域": ["东", "西"],
            "行业": ["x", "y"],
            "首次购买日期": ["20060131", "2006/1/5"],
            "年度": ["2006", "２００７"],
            "参加活动": ["2", ""],
            "客户等级": ["优质", "GENERAL"],
            "身份证号": ["", "33010219900101123X"],
        }
    )
    before = raw.copy()
    customers = validate(raw, table="customers", file="c.csv")
    pd.testing.assert_frame_equal(raw, before)
    assert customers["first_purchase_date"].tolist() == [pd.Timestamp("2006-01-31"), pd.Timestamp("2006-01-05")]
    assert customers["snapshot_year"].tolist() == [2006, 2007]
    assert customers["tier"].tolist() == ["premium", "general"]
    assert customers["loyalty_events"].tolist()[0] == 2 and customers["loyalty_events"].isna().tolist()[1]


# ---------------------------------------------------------------- rules
def test_many_problems_reported_at_once_with_line_numbers(tmp_path):
    lines = [
        HEADER_ZH,
        lead("L1"),  # line 2: fine
        lead("L2", date="2006-13-01"),  # line 3: bad date
        lead("L3", amount="35%"),  # line 4: percentage
        lead("L4", stage="老客户"),  # line 5: unknown stage
        lead("L5", outcome="maybe"),  # line 6: unknown choice
        lead("L1"),  # line 7: duplicate id
        lead("3.30102199001011e+17"),  # line 8: Excel-float id
        lead("L8", amount="abc"),  # line 9: not a number
        lead("L9", date="38748"),  # line 10: serial in a CSV
        lead("", amount="-5"),
    ]  # line 11: empty id, negative amount
    with pytest.raises(DataValidationError) as excinfo:
        load_table("leads", branch=HZ, files={"leads": write_csv(tmp_path, lines)})
    assert problems_of(excinfo) == [
        (3, "创建日期 (created_date)", "not a date"),
        (4, "金额 (amount)", "a percentage is not accepted here"),
        (5, "阶段 (stage)", "unknown stage label"),
        (6, "结果 (outcome)", "unknown value"),
        (7, "线索编号 (lead_id)", "duplicate lead_id"),
        (8, "线索编号 (lead_id)", "Excel turned this identifier into a number and dropped digits"),
        (9, "金额 (amount)", "not a number"),
        (10, "创建日期 (created_date)", "a number is not a date"),
        (11, "线索编号 (lead_id)", "empty cell in a column that must be filled"),
        (11, "金额 (amount)", "out of range: must be ≥ 0"),
    ]
    message = str(excinfo.value)
    assert message.startswith("10 problem(s) in data") and "first seen in row 2" in message
    assert "目标客户 (target)" in message  # the stage hint lists the stages


def test_line_numbers_follow_quoted_newlines_and_blank_lines(tmp_path):
    lines = [HEADER_ZH + ",备注", lead("L1") + ',"two\nlines"', "", lead("L2", amount="x") + ",ok"]
    with pytest.raises(DataValidationError) as excinfo:
        load_table("leads", branch=HZ, files={"leads": write_csv(tmp_path, lines)})
    assert problems_of(excinfo) == [(5, "金额 (amount)", "not a number")]


def test_missing_and_duplicated_columns(tmp_path):
    header = HEADER_ZH.replace(",金额", "").replace("区域", "地区") + ",区域"
    path = write_csv(tmp_path, [header, lead().rsplit(",", 1)[0] + ",城东"])
    with pytest.raises(DataValidationError) as excinfo:
        load_table("leads", branch=HZ, files={"leads": path})
    rules = {(p.value, p.rule): p.hint for p in excinfo.value.problems}
    assert "amount or 金额 or 成交金额" in rules[("amount", "required column is missing")]
    assert ("地区 / 区域", "two columns give the same field") in rules


def test_personal_values_are_masked_in_problems():
    raw = pd.DataFrame(
        {
            "客户编号": ["C1"],
            "分公司": [HZ],
            "区域": ["东"],
            "行业": ["x"],
            "首次购买日期": ["2006-01-01"],
            "年度": ["2006"],
            "身份证号": ["3.30102199001011E+17"],
        }
    )
    with pytest.raises(DataValidationError) as excinfo:
        validate(raw, table="customers", file="c.csv")
    assert "3.30102199001011E+17" not in str(excinfo.value) and "3.3****" in str(excinfo.value)


def counts_csv(tmp_path, rows):
    lines = ["分公司,期间,客户类型,阶段,数量", *(",".join(map(str, r)) for r in rows)]
    return write_csv(tmp_path, lines, name="stage_counts.csv")


def test_stage_counts_rising_down_the_funnel_and_negative(tmp_path):
    path = counts_csv(
        tmp_path,
        [(HZ, 2006, "商企", "目标客户", 100), (HZ, 2006, "商企", "潜在客户", 120), (HZ, 2006, "住宅", "目标客户", -1)],
    )
    with pytest.raises(DataValidationError) as excinfo:
        load_table("stage_counts", branch=HZ, files={"stage_counts": path})
    (rising, negative) = excinfo.value.problems
    assert (rising.row, rising.value) == (3, 120)
    assert "目标客户 has 100 but the later stage 潜在客户 has 120" in rising.rule and "row 2" in rising.hint
    assert (negative.row, negative.rule) == (4, "out of range: must be ≥ 0")


# ---------------------------------------------------------------- XLSX
def test_xlsx_with_chinese_headers_date_cells_and_serials(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER_ZH.split(","))
    sheet.append(["L1", HZ, dt.datetime(2006, 1, 31), "商企", "东", "x", "宽带", "张三", "签约客户", "成交", 1234])
    sheet.append([None] * 11)  # a blank row keeps the sheet's numbering
    sheet.append(["L2", HZ, 38749, "商企", "东", "x", "宽带", "张三", "目标客户", "跟进中", 5.5])
    sheet.append(["L3", "宁波分公司", "bad", "商企", "东", "x", "宽带", "张三", "???", "跟进中", 1])
    sheet.append([3.30102199001011e17, HZ, "2006-02-01", "商企", "东", "x", "宽带", "张三", "目标客户", "跟进中", 1])
    book.save(tmp_path / "线索.xlsx")
    with pytest.raises(DataValidationError) as excinfo:
        load_table("leads", branch=HZ, source=str(tmp_path))
    assert problems_of(excinfo) == [
        (6, "线索编号 (lead_id)", "Excel turned this identifier into a number and dropped digits")
    ]
    sheet.delete_rows(6)
    book.save(tmp_path / "线索.xlsx")
    leads = load_table("leads", branch=HZ, source=str(tmp_path))
    # serial 38749 days after 1899-12-30 is 2006-02-01
    assert leads["created_date"].tolist() == [pd.Timestamp("2006-01-31"), pd.Timestamp("2006-02-01")]
    assert leads["amount"].tolist() == [1234.0, 5.5]


# ---------------------------------------------------------------- DuckDB and Parquet
def make_leads_frame():
    """Two clean O'Brien leads and two broken rows of another branch."""
    return pd.DataFrame(
        {
            "lead_id": ["A1", "B1", "A2", "B1"],
            "branch": [OB, "宁波分公司", OB, "宁波分公司"],
            "created_date": pd.to_datetime(["2006-01-31", "2006-05-01", "2007-03-01", "2006-05-02"]),
            "segment": ["商企", "住宅", "商企", "住宅"],
            "region": "东",
            "industry": "x",
            "product_line": "宽带",
            "owner": "张三",
            "stage": ["目标客户", "nonsense", "signed", "签约客户"],
            "outcome": ["open", "won", "won", "??"],
            "amount": [1.0, -3.0, 2.0, 1.0],
        }
    )


def make_db(tmp_path, **tables):
    path = tmp_path / "data.duckdb"
    with duckdb.connect(str(path)) as con:
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    return path


def test_duckdb_reads_only_the_branch_with_bound_parameter(tmp_path):
    path = make_db(tmp_path, leads=make_leads_frame())
    leads = load_table("leads", branch=OB, source=str(path))  # the other branch's rows are broken
    assert leads["lead_id"].tolist() == ["A1", "A2"] and leads["stage"].tolist() == ["target", "signed"]
    with pytest.raises(DataValidationError) as excinfo:
        load_table("leads", branch="宁波分公司", source=str(path))
    assert {(p.row, p.column) for p in excinfo.value.problems} == {
        (2, "stage"),
        (2, "amount"),
        (4, "outcome"),
        (4, "lead_id"),
    }  # rowid + 1


def test_parquet_reads_only_the_branch_with_row_numbers(tmp_path):
    path = tmp_path / "leads.parquet"
    make_leads_frame().to_parquet(path)
    leads = load_table("leads", branch=OB, files={"leads": path})
    assert leads["lead_id"].tolist() == ["A1", "A2"]
    with pytest.raises(DataValidationError) as excinfo:
        load_table("leads", branch="宁波分公司", files={"leads": path})
    assert sorted({p.row for p in excinfo.value.problems}) == [2, 4]


def test_missing_table_required_or_not(tmp_path):
    path = make_db(tmp_path, leads=make_leads_frame())
    assert load_table("stage_counts", branch=OB, source=str(path), required=False) is None
    assert load_table("leads", branch=OB, source=str(tmp_path), required=False) is None  # empty folder
    with pytest.raises(DataSourceError, match=re.escape("'stage_counts' not found in " + str(path))):
        load_table("stage_counts", branch=OB, source=str(path))


@pytest.mark.parametrize(
    "source, message",
    [
        ("nowhere/at/all", "expected a .duckdb/.db file or a folder"),
        ("missing.duckdb", "no DuckDB database at"),
    ],
)
def test_bad_sources(tmp_path, source, message):
    with pytest.raises(DataSourceError, match=message):
        load_table("leads", branch=HZ, source=str(tmp_path / source))
    with pytest.raises(DataSourceError, match="unknown file type"):
        load_table("leads", branch=HZ, files={"leads": str(tmp_path / "x.xls")})


# ---------------------------------------------------------------- peers
def test_peer_counts_from_stage_counts_table(tmp_path):
    counts = pd.DataFrame(
        {
            "branch": [HZ, HZ, OB, OB],
            "period": ["2006"] * 4,
            "segment": "商企",
            "stage": ["目标客户", "signed", "target", "Signed"],
            "count": [10, 4, 7, 2],
        }
    )
    peers = peer_stage_counts(source=str(make_db(tmp_path, stage_counts=counts)))
    assert peers[["branch", "stage", "count"]].values.tolist() == [
        [OB, "target", 7],
        [OB, "signed", 2],
        [HZ, "target", 10],
        [HZ, "signed", 4],
    ]


def test_peer_counts_from_leads_table_and_csv(tmp_path):
    frame = make_leads_frame()
    expected = {  # furthest stage reached: A1 target (2006), A2 signed (2007), B1 signed (2006);
        # 'nonsense' is dropped. At-or-beyond counts: target 1 / signed 0 in 2006 for O'Brien …
        (OB, "2006", "target"): 1,
        (OB, "2006", "signed"): 0,
        (OB, "2007", "target"): 1,
        (OB, "2007", "intent"): 1,
        (OB, "2007", "signed"): 1,
        (OB, "2007", "installed"): 0,
        ("宁波分公司", "2006", "signed"): 1,
        ("宁波分公司", "2006", "effective"): 0,
    }
    from_db = peer_stage_counts(source=str(make_db(tmp_path, leads=frame)))
    csv_path = tmp_path / "csv" / "leads.csv"
    csv_path.parent.mkdir()
    frame.assign(created_date=frame["created_date"].dt.strftime("%Y/%m/%d")).to_csv(csv_path, index=False)
    from_csv = peer_stage_counts(source=str(csv_path.parent))
    for peers in (from_db, from_csv):
        assert len(peers) == 3 * 8  # three (branch, year) groups × eight stages
        got = peers.set_index(["branch", "period", "stage"])["count"]
        assert {key: got[key] for key in expected} == expected


# ---------------------------------------------------------------- docs
def test_data_contract_doc_carries_the_generated_tables():
    doc = (Path(__file__).parents[2] / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert "## Tables" in doc and schema.render_markdown() in doc


# ---------------------------------------------------------------- typed sources (Arrow path)
def typed_leads(n=600):
    """``n`` leads of O'Brien with typed columns, as DuckDB/Parquet hold them."""
    days = pd.Series(pd.date_range("2006-01-01", periods=n, freq="D"))
    return pd.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "branch": OB,
            "created_date": days.dt.date,
            "segment": ["商企", " 住宅　", "ＡＢＣ"] * (n // 3),
            "region": "东",
            "industry": "x",
            "product_line": "宽带",
            "owner": ["张三", "李四", "王五"] * (n // 3),
            "stage": ["target", "签约客户", "Signed"] * (n // 3),
            "outcome": ["open", "won", "战败"] * (n // 3),
            "amount": [1.5, None, 0.0] * (n // 3),
            "lost_kind": [None, "买了竞品", "misjudged"] * (n // 3),
            "lost_date": (days + pd.Timedelta(hours=13)).where(days.dt.day % 2 == 0),  # a TIMESTAMP with a time
            "followed_up": pd.array([True, None, False] * (n // 3), dtype="boolean"),
            "date_signed": pd.Series([None] * n, dtype="datetime64[us]"),
            "客户来源": "展会",
        }
    )


def test_typed_duckdb_and_parquet_equal_the_csv_path(tmp_path):
    frame = typed_leads()
    from_db = load_table("leads", branch=OB, source=str(make_db(tmp_path, leads=frame)))
    frame.to_parquet(tmp_path / "leads.parquet")
    from_parquet = load_table("leads", branch=OB, files={"leads": tmp_path / "leads.parquet"})
    csv_path = tmp_path / "csv" / "leads.csv"
    csv_path.parent.mkdir()
    frame.assign(lost_date=frame["lost_date"].dt.strftime("%Y-%m-%d %H:%M")).to_csv(csv_path, index=False)
    from_csv = load_table("leads", branch=OB, files={"leads": csv_path})  # the text parsers: the reference
    pd.testing.assert_frame_equal(from_db, from_csv.assign(客户来源=from_csv["客户来源"].astype("string")))
    pd.testing.assert_frame_equal(from_parquet, from_db)
    # 'ＡＢＣ' and ' 住宅　' are normalised; codes from labels; 13:00 on day 2 is the date 2006-01-02
    assert from_db["segment"].head(3).tolist() == ["商企", "住宅", "ABC"]
    assert from_db["stage"].head(3).tolist() == ["target", "signed", "signed"]
    assert from_db["lost_date"].iloc[1] == pd.Timestamp("2006-01-02") and pd.isna(from_db["lost_date"].iloc[0])
    assert str(from_db["date_signed"].dtype) == "datetime64[ns]" and from_db["date_signed"].isna().all()
    assert str(from_db["lead_id"].dtype) == "string" and str(from_db["followed_up"].dtype) == "boolean"


def test_typed_source_problems_have_row_numbers(tmp_path):
    frame = typed_leads(9)
    frame.loc[[3, 7], "lead_id"] = "L00001"  # rows 4 and 8 repeat row 2's id (row = rowid + 1)
    frame.loc[4, "amount"] = -2.0  # row 5
    frame.loc[5, "outcome"] = None  # row 6
    frame.loc[6, "created_date"] = None  # row 7
    frame.loc[8, "stage"] = "nonsense"  # row 9
    with pytest.raises(DataValidationError) as excinfo:
        load_table("leads", branch=OB, source=str(make_db(tmp_path, leads=frame)))
    assert problems_of(excinfo) == [
        (4, "lead_id", "duplicate lead_id"),
        (5, "amount", "out of range: must be ≥ 0"),
        (6, "outcome", "empty cell in a column that must be filled"),
        (7, "created_date", "empty cell in a column that must be filled"),
        (8, "lead_id", "duplicate lead_id"),
        (9, "stage", "unknown stage label"),
    ]
    assert "first seen in row 2" in excinfo.value.problems[0].hint


def test_typed_scores_out_of_range_and_int_columns(tmp_path):
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "branch": OB,
            "region": "东",
            "industry": "x",
            "first_purchase_date": pd.to_datetime(["2006-01-01"] * 3),
            "snapshot_year": [2006, 2007, 1980],
            "loyalty_events": pd.array([2, None, 3]),
        }
    )
    with pytest.raises(DataValidationError) as excinfo:
        load_table("customers", branch=OB, source=str(make_db(tmp_path, customers=customers)))
    assert problems_of(excinfo) == [
        (3, "snapshot_year", "out of range: must be ≥ 1990 and ≤ 2100"),
        (3, "loyalty_events", "out of range: must be ≥ 0 and ≤ 2"),
    ]
    (tmp_path / "clean").mkdir()
    clean = make_db(tmp_path / "clean", customers=customers.iloc[:2])
    loaded = load_table("customers", branch=OB, source=str(clean))
    assert loaded["snapshot_year"].tolist() == [2006, 2007] and str(loaded["loyalty_events"].dtype) == "Int64"


def test_arrow_rows_come_back_in_source_order():
    import pyarrow as pa

    from funnelkit.data.sources import arrow_frame

    table = pa.table({"lead_id": pa.array(["c", "a", "b"], pa.large_string()), "__row": [3, 1, 2]})
    frame, rows = arrow_frame(table)
    assert frame["lead_id"].tolist() == ["a", "b", "c"] and rows.tolist() == [1, 2, 3]


def test_a_misspelt_header_is_named_with_the_column_it_is_close_to():
    from funnelkit.data.schema import resolve_stages
    from funnelkit.data.validation import map_headers

    headers = ["分公司", "线索编号", "创建日期", "产品线别", "阶段", "结果", "Segmentt", "备用"]
    _, problems = map_headers(headers, table="leads", file="leads.csv", stages=resolve_stages(None))
    hints = {p.value: p.hint for p in problems}
    assert hints["product_line"].startswith("is the column '产品线别' meant to be product_line?")
    assert hints["segment"].startswith("is the column 'Segmentt' meant to be segment?")
    assert "meant to be" not in hints["region"]  # nothing found reads like 区域 / region


def test_a_table_added_to_a_database_is_found_by_the_next_read(tmp_path):
    """The table list of a DuckDB file is remembered per version of the file, not forever."""
    from funnelkit.data import sources

    db = tmp_path / "branch.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE leads (branch VARCHAR)")
    assert sources.locate("visits", source=str(db), required=False) is None
    assert sources.locate("leads", source=str(db)).name == "leads"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE visits (branch VARCHAR)")
    assert sources.locate("visits", source=str(db), required=False).name == "visits"


# ---------------------------------------------------------------- reading some columns only
def test_columns_read_equal_those_of_a_whole_read(tmp_path):
    frame = typed_leads()
    path = make_db(tmp_path, leads=frame)
    whole = load_table("leads", branch=OB, source=str(path))
    some = load_table("leads", branch=OB, source=str(path), columns=["stage", "lead_id", "lost_date"])
    assert list(some.columns) == ["lead_id", "stage", "lost_date"]  # contract order
    pd.testing.assert_frame_equal(some, whole[["lead_id", "stage", "lost_date"]])
    frame.to_parquet(tmp_path / "leads.parquet")
    from_parquet = load_table("leads", branch=OB, files={"leads": tmp_path / "leads.parquet"}, columns=["stage"])
    pd.testing.assert_frame_equal(from_parquet, whole[["stage"]])
    # a filter's column is read with them, and the filter applies
    cut = load_table("leads", branch=OB, source=str(path), columns=["lead_id"], filters={"segment": "住宅"})
    assert list(cut.columns) == ["lead_id", "segment"] and set(cut["segment"]) == {"住宅"}
    assert cut["lead_id"].tolist() == whole.loc[whole["segment"] == "住宅", "lead_id"].tolist()


def test_columns_not_read_are_not_checked_but_a_missing_required_one_is_named(tmp_path):
    path = make_db(tmp_path, leads=make_leads_frame())
    with pytest.raises(DataValidationError) as excinfo:  # a broken amount and outcome in rows 2 and 4
        load_table("leads", branch="宁波分公司", source=str(path), columns=["lead_id", "stage"])
    assert {(p.row, p.column) for p in excinfo.value.problems} == {(2, "stage"), (4, "lead_id")}
    (tmp_path / "x").mkdir()
    frame = typed_leads().drop(columns=["owner"])
    with pytest.raises(DataValidationError) as excinfo:
        load_table("leads", branch=OB, source=str(make_db(tmp_path / "x", leads=frame)), columns=["lead_id"])
    assert any(p.rule == "required column is missing" and p.value == "owner" for p in excinfo.value.problems)
    with pytest.raises(ValueError, match="no column"):
        load_table("leads", branch=OB, source=str(path), columns=["leadid"])


@pytest.mark.parametrize("table", ["leads", "customers"])
def test_a_database_table_read_a_few_columns_at_a_time_is_the_table_read_at_once(table, monkeypatch):
    """The dates and numbers of a DuckDB table come a few columns per result (to bound the
    memory of each); the frame is the one a single result gives."""
    from funnelkit.data import sources

    few = load_table(table, branch=HZ)
    monkeypatch.setattr(sources, "COLUMNS_AT_ONCE", 1000)
    once = load_table(table, branch=HZ)
    assert len(few) > 100 and sum(few.dtypes.astype(str).str.startswith("datetime")) >= 1
    pd.testing.assert_frame_equal(few, once)
    assert few.attrs == once.attrs
