"""Personal data is masked, and formulas defused, in every file and on the console: in labels,
keys, chart text, the branch name and error text as well as in cell values."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.text
import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from funnelkit.privacy import mask_notebook, mask_text_file
from funnelkit.report.display import Report
from funnelkit.report.files import safe_table, to_jsonable, write_csv, write_json
from funnelkit.report.style import use_report_style

from .conftest import FIXTURES

PHONE, PHONE_MASKED = "13812345678", "138****5678"
ID_NUMBER, ID_MASKED = "330102199001011234", "330102********1234"
FORMULAS = ['=HYPERLINK("x")', "+1+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


# -- (a) the CSV writer: values, column labels, index labels -----------------------------------


def test_csv_masks_and_defuses_column_labels_and_values(tmp_path: Path):
    wide = pd.DataFrame(
        [[f"客户{PHONE}", 1, FORMULAS[0]], [FORMULAS[2], -2, f"证件{ID_NUMBER}"]],
        columns=[f"宽带{PHONE}", FORMULAS[1], ID_NUMBER],
    )
    rows = _read_csv(write_csv(tmp_path / "t.csv", wide))
    assert rows == [
        [f"宽带{PHONE_MASKED}", "'" + FORMULAS[1], ID_MASKED],
        [f"客户{PHONE_MASKED}", "1", "'" + FORMULAS[0]],
        ["'" + FORMULAS[2], "-2", f"证件{ID_MASKED}"],
    ]  # a negative number stays a number
    assert wide.columns[0] == f"宽带{PHONE}" and wide.iloc[0, 0] == f"客户{PHONE}"  # input untouched


def test_csv_masks_and_defuses_index_labels_and_names(tmp_path: Path):
    frame = pd.DataFrame({"lost": [3, 4]}, index=pd.Index([FORMULAS[3], f"价格{ID_NUMBER}"], name=f"负责人{PHONE}"))
    rows = _read_csv(write_csv(tmp_path / "t.csv", frame, index=True))
    assert rows == [[f"负责人{PHONE_MASKED}", "lost"], ["'" + FORMULAS[3], "3"], [f"价格{ID_MASKED}", "4"]]


def test_csv_masks_and_defuses_multiindex_rows_and_columns(tmp_path: Path):
    rows_index = pd.MultiIndex.from_tuples(
        [(f"价格{ID_NUMBER}", FORMULAS[0]), ("服务", PHONE)], names=["reason", FORMULAS[2]]
    )
    columns = pd.MultiIndex.from_tuples([("2006", f"宽带{PHONE}"), ("2006", FORMULAS[1])])
    frame = pd.DataFrame([[1, 2], [3, 4]], index=rows_index, columns=columns)
    text = tmp_path / "t.csv"
    write_csv(text, frame, index=True)
    content = text.read_text(encoding="utf-8-sig")
    assert PHONE not in content and ID_NUMBER not in content
    rows = _read_csv(text)
    assert rows[0] == ["", "", "2006", "2006"]
    assert rows[1] == ["", "", f"宽带{PHONE_MASKED}", "'" + FORMULAS[1]]
    assert rows[2] == ["reason", "'" + FORMULAS[2], "", ""]
    assert rows[3] == [f"价格{ID_MASKED}", "'" + FORMULAS[0], "1", "2"]
    assert rows[4] == ["服务", PHONE_MASKED, "3", "4"]


def test_labels_that_mask_alike_are_both_kept():
    wide = pd.DataFrame({PHONE: [1], "13899995678": [2], "categorical": pd.Categorical([f"甲{PHONE}"])})
    out = safe_table(wide)
    assert out.columns.tolist() == [PHONE_MASKED, PHONE_MASKED, "categorical"]
    assert out.iloc[0].tolist() == [1, 2, f"甲{PHONE_MASKED}"]


def test_report_save_table_goes_through_the_writer(tmp_path: Path):
    report = Report(notebook="lost", branch="甲", output_dir=str(tmp_path))
    pivot = pd.DataFrame({"reason": ["价格", "服务"], f"宽带{PHONE}": [1, 2], FORMULAS[0]: [3, 4]})
    report.save_table("reason_shares", pivot)
    assert _read_csv(tmp_path / "reason_shares.csv")[0] == ["reason", f"宽带{PHONE_MASKED}", "'" + FORMULAS[0]]


def test_shown_table_masks_header_cells_and_keeps_formats(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    pivot = pd.DataFrame({"reason": [f"价格{ID_NUMBER}"], f"宽带{PHONE}": [0.25]})
    Report(notebook="lost", branch="甲").table(pivot, percent=[f"宽带{PHONE}"])
    soup = BeautifulSoup(shown[0], "html.parser")
    assert [th.get_text() for th in soup.find_all("th")] == ["reason", f"宽带{PHONE_MASKED}"]
    assert PHONE not in shown[0] and ID_NUMBER not in shown[0]
    assert "25.0%" in shown[0]  # the format found its column although the label is masked


# -- (b) JSON: keys as well as values --------------------------------------------------------


def test_json_masks_keys_and_values_and_tells_colliding_keys_apart():
    document = {f"宽带{PHONE}": {ID_NUMBER: [f"电话{PHONE}", 1.5]}, "宽带13899995678": 2, 3: float("nan")}
    assert to_jsonable(document) == {
        f"宽带{PHONE_MASKED}": {ID_MASKED: [f"电话{PHONE_MASKED}", 1.5]},
        f"宽带{PHONE_MASKED} (2)": 2,
        "3": None,
    }


def test_summary_json_masks_branch_keys_and_values(tmp_path: Path):
    report = Report(notebook="lost", branch=f"杭州{PHONE}分公司", output_dir=str(tmp_path), run_id="r1")
    report.summary({"by_reason": {f"价格{ID_NUMBER}": 4}, "top": f"宽带{PHONE}"})
    text = (tmp_path / "summary.json").read_text(encoding="utf-8")
    assert PHONE not in text and ID_NUMBER not in text
    summary = json.loads(text)
    assert summary["branch"] == f"杭州{PHONE_MASKED}分公司"
    assert summary["figures"] == {"by_reason": {f"价格{ID_MASKED}": 4}, "top": f"宽带{PHONE_MASKED}"}


def test_write_json_keeps_verbatim_keys_and_order(tmp_path: Path):
    digest = "ab" + PHONE + "c" * 51  # a hex digest may hold a digit run like a phone number
    document = {"run_id": "r", "fingerprint": digest, "branch": PHONE}
    write_json(tmp_path / "run.json", document, verbatim=("fingerprint",))
    assert json.loads((tmp_path / "run.json").read_text(encoding="utf-8")) == {
        "run_id": "r",
        "fingerprint": digest,
        "branch": PHONE_MASKED,
    }
    assert list(json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))) == ["run_id", "fingerprint", "branch"]


# -- (c) chart text --------------------------------------------------------------------------


def _chart_texts(figure) -> list[str]:
    figure.canvas.draw()
    return [t.get_text() for t in figure.findobj(matplotlib.text.Text)]


def _svg(figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text stays text in the SVG
        figure.savefig(buffer, format="svg")
    return buffer.getvalue()


def test_every_chart_text_is_masked_whatever_draws_it():
    import seaborn as sns

    use_report_style()
    data = pd.DataFrame(
        {
            "product_line": [f"宽带{PHONE}", f"证件{ID_NUMBER}", "固话"],
            "segment": [f"客户{PHONE}", f"客户{PHONE}", f"身份{ID_NUMBER}"],
            "lost": [3, 4, 5],
        }
    )
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(12, 4))
    left.bar(data["product_line"], data["lost"], label=f"图例{PHONE}")  # categorical ticks: set at draw time
    left.set_title(f"杭州{PHONE}分公司 {ID_NUMBER}")
    left.legend()
    left.annotate(f"注{ID_NUMBER}", (0, 3))
    data.pivot_table(index="product_line", columns="segment", values="lost").plot.barh(ax=middle)  # pandas
    sns.barplot(data=data, x="segment", y="lost", hue="product_line", ax=right)  # seaborn
    figure.suptitle(PHONE)
    texts = _chart_texts(figure)
    svg = _svg(figure)
    plt.close(figure)
    assert not [t for t in texts if PHONE in t or ID_NUMBER in t]
    assert f"杭州{PHONE_MASKED}分公司 {ID_MASKED}" in texts and f"宽带{PHONE_MASKED}" in texts
    assert f"图例{PHONE_MASKED}" in texts and f"注{ID_MASKED}" in texts and f"客户{PHONE_MASKED}" in texts
    assert PHONE not in svg and ID_NUMBER not in svg
    assert PHONE_MASKED in svg and ID_MASKED in svg  # the SVG does hold the text, masked


def test_chart_masking_is_installed_once():
    use_report_style()
    first = matplotlib.text.Text.set_text
    use_report_style()
    assert matplotlib.text.Text.set_text is first
    assert matplotlib.text.Text(0, 0, None).get_text() == ""  # matplotlib's None → "" is kept


# -- notebooks and logs ---------------------------------------------------------------------

IMAGE = "iVBORw0KGgo" + "0" + PHONE + "AAAA"  # base64 may hold any digit run: left alone


def _executed_notebook() -> nbformat.NotebookNode:
    from papermill.translators import translate_parameters

    # as papermill writes it: "杭州…分公司" as \u escapes, the ID number right after one
    source = translate_parameters("python3", "python", {"branch": f"杭州{PHONE}分公司{ID_NUMBER}"}, "Parameters")
    cell = nbformat.v4.new_code_cell(source, id="params1", metadata={"tags": ["injected-parameters"]})
    failing = nbformat.v4.new_code_cell(
        "raise ValueError(x)",
        id="fails1",
        outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=f"分公司 {PHONE}\n"),
            nbformat.v4.new_output(
                "display_data",
                data={
                    "text/plain": f"证件 {ID_NUMBER}",
                    "text/html": f'<th>宽带{PHONE}</th><img src="data:image/png;base64,{IMAGE}">',
                    "image/png": IMAGE,
                    "application/json": {f"k{PHONE}": [ID_NUMBER]},
                },
            ),
            nbformat.v4.new_output(
                "error",
                ename="ValueError",
                evalue=f"联系人 {PHONE}",
                traceback=[f"\x1b[0;31mValueError\x1b[0m: 联系人 {PHONE}"],
            ),
        ],
    )
    notebook = nbformat.v4.new_notebook(cells=[cell, failing])
    notebook.metadata["papermill"] = {"parameters": {"branch": f"杭州{PHONE}分公司"}}
    return notebook


def test_mask_notebook_masks_every_text_and_keeps_images_and_ids():
    notebook = _executed_notebook()
    masked = mask_notebook(notebook)
    text = nbformat.writes(masked)
    assert ID_NUMBER not in text
    assert text.count(PHONE) == 2  # only the two copies inside the base64 image payload
    outputs = masked.cells[1].outputs
    assert outputs[1].data["image/png"] == notebook.cells[1].outputs[1].data["image/png"]
    assert "data:image/png;base64,iVBORw0KGgo0" + PHONE in outputs[1].data["text/html"]
    assert outputs[2].evalue == f"联系人 {PHONE_MASKED}" and PHONE_MASKED in outputs[2].traceback[0]
    assert masked.cells[0].source == notebook.cells[0].source.replace(PHONE, PHONE_MASKED).replace(ID_NUMBER, ID_MASKED)
    assert ID_NUMBER in notebook.cells[0].source and "\\u53f8" + ID_NUMBER in notebook.cells[0].source
    assert masked.metadata.papermill.parameters.branch == f"杭州{PHONE_MASKED}分公司"
    assert [c.id for c in masked.cells] == ["params1", "fails1"]
    assert PHONE in nbformat.writes(notebook).replace(IMAGE, "")  # the input is left as it was
    nbformat.validate(masked)


def test_mask_notebook_file_moves_a_masked_copy_even_of_a_broken_notebook(tmp_path: Path):
    from funnelkit.privacy import mask_notebook_file

    staged, kept = tmp_path / "n.ipynb", tmp_path / "_failed" / "n.ipynb"
    kept.parent.mkdir()
    nbformat.write(_executed_notebook(), staged)
    mask_notebook_file(staged, kept)
    assert not staged.exists() and nbformat.read(kept, as_version=4).cells[0].metadata.tags == ["injected-parameters"]
    assert ID_NUMBER not in kept.read_text(encoding="utf-8")
    staged.write_text('{"cells": [{"source": "branch = \\"' + PHONE + '\\"', encoding="utf-8")  # cut off mid-save
    mask_notebook_file(staged, kept)
    assert kept.read_text(encoding="utf-8") == '{"cells": [{"source": "branch = \\"' + PHONE_MASKED + '\\"'


def test_mask_text_file_keeps_undecodable_bytes(tmp_path: Path):
    log = tmp_path / "k.log"
    log.write_bytes(b"\xff\xfe kernel " + PHONE.encode() + " 分公司\n".encode())
    mask_text_file(log)
    assert log.read_bytes() == b"\xff\xfe kernel " + PHONE_MASKED.encode() + " 分公司\n".encode()


def test_index_masks_branch_names_and_errors(tmp_path: Path):
    from funnelkit.batch.index import write_index
    from funnelkit.batch.runner import Result

    results = [Result("hz", f"杭州{PHONE}分公司", "lost", "failed", error=f"ValueError: 证件 {ID_NUMBER}")]
    html = write_index(tmp_path, results, fingerprint="f" * 64).read_text(encoding="utf-8")
    assert PHONE not in html and ID_NUMBER not in html
    assert f"杭州{PHONE_MASKED}分公司" in html and f"证件 {ID_MASKED}" in html


# -- (d) end to end: a batch whose branch name and data carry personal data ---------------------

#: Every raw number the fixture notebook and the params plant.
PLANTED = {PHONE, ID_NUMBER, "13900001111", "330102198001019876", "13700001111"}
BRANCH = f"杭州{PHONE}分公司{ID_NUMBER}"


def _leaks(text: str) -> set[str]:
    # separators stripped between digits, so "138 1234 5678" could not slip through
    text = re.sub(r"(?<=\d)[ .\-](?=\d)", "", text)
    return {number for number in PLANTED if number in text}


@pytest.fixture
def masking_project(project: Path) -> Path:
    shutil.copy(FIXTURES / "masking.ipynb", project / "notebooks" / "masking.ipynb")
    # the branch's own data (the batch checks that its data knows the branch name)
    (project / "counts.csv").write_text(
        f"branch,period,segment,stage,count\n{BRANCH},2006,商企,target,5\n宁波分公司330102198001019876,2006,商企,target,3\n",
        encoding="utf-8",
    )
    (project / "params" / "hz.yaml").write_text(
        f"branch: {BRANCH}\nfiles: {{stage_counts: counts.csv}}\n", encoding="utf-8"
    )
    (project / "params" / "nb.yaml").write_text(
        "branch: 宁波分公司330102198001019876\nfiles: {stage_counts: counts.csv}\nmasking:\n  fail: '13900001111'\n",
        encoding="utf-8",
    )
    (project / "params" / "wz.yaml").write_text(
        "branch: 温州分公司\nlang: '13700001111'\n", encoding="utf-8"
    )  # no kernel
    return project


@pytest.mark.e2e
def test_no_planted_number_in_any_file_of_a_run_or_on_the_console(masking_project: Path):
    done = subprocess.run(
        [sys.executable, "-m", "funnelkit.cli", "batch", "--notebook", "masking", "--workers", "2"],
        cwd=masking_project,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "FUNNELKIT_HOME": str(masking_project), "COLUMNS": "400"},
    )
    assert done.returncode == 1, done.stderr  # nb and wz fail on purpose
    assert _leaks(done.stdout + done.stderr) == set(), done.stderr
    assert "13900001111"[:3] + "****1111" in done.stderr  # the error is shown, masked

    run = Path(done.stdout.strip().splitlines()[-1]).parent
    files = [p for p in run.rglob("*") if p.is_file()]
    names = {str(p.relative_to(run)) for p in files}
    assert {
        "index.html",
        "run.json",
        "hz/masking.html",
        "hz/masking.ipynb",
        "hz/masking/summary.json",
        "hz/masking/reason_shares.csv",
        "hz/masking/stage_reason.csv",
        "nb/_failed/masking.ipynb",
        "logs/hz-masking.log",
        "logs/nb-masking.log",
    } <= names
    leaks = {str(p.relative_to(run)): _leaks(p.read_text(encoding="utf-8", errors="replace")) for p in files}
    assert {name: found for name, found in leaks.items() if found} == {}
    assert not [n for n in names if _leaks(n)]  # nor in a file name

    # what the files hold instead: masked text, defused formulas, a rendered report
    shown_branch = f"杭州{PHONE_MASKED}分公司{ID_MASKED}"
    report = BeautifulSoup((run / "hz" / "masking.html").read_text(encoding="utf-8"), "html.parser")
    assert report.title.get_text() == f"{shown_branch} · masking"
    assert shown_branch in report.select_one("header.fk-title").get_text()
    assert f"宽带 {PHONE_MASKED}" in [th.get_text() for th in report.select("table.fk-table th")]
    assert "kernel log of " + shown_branch in (run / "logs" / "hz-masking.log").read_text(encoding="utf-8")
    header = _read_csv(run / "hz" / "masking" / "reason_shares.csv")[0]
    assert header == ["reason", "'+1+cmd|' /C calc'!A0", '\'=HYPERLINK("http://x")', f"宽带 {PHONE_MASKED}"]
    stage_reason = _read_csv(run / "hz" / "masking" / "stage_reason.csv")
    assert [row[:2] for row in stage_reason] == [
        ["reason", "product_line"],
        [f"价格 {ID_MASKED}", f"宽带 {PHONE_MASKED}"],
        ["'@SUM(1)", '\'=HYPERLINK("http://x")'],
        ["'-2+3", f"宽带 {PHONE_MASKED}"],
        [f"价格 {ID_MASKED}", "'+1+cmd|' /C calc'!A0"],
    ]
    summary = json.loads((run / "hz" / "masking" / "summary.json").read_text(encoding="utf-8"))
    assert summary["branch"] == shown_branch and summary["figures"]["branches"] == {shown_branch: 1}
    assert summary["figures"]["by_reason"][f"价格 {ID_MASKED}"] == 4
    executed = nbformat.read(run / "hz" / "masking.ipynb", as_version=4)
    assert executed.metadata.papermill.parameters.branch == shown_branch
    failed = nbformat.read(run / "nb" / "_failed" / "masking.ipynb", as_version=4)
    assert any(o.get("evalue", "").startswith("联系人 139****1111") for c in failed.cells for o in c.get("outputs", []))
    recorded = json.loads((run / "run.json").read_text(encoding="utf-8"))
    by_slug = {r["slug"]: r for r in recorded["results"]}
    assert by_slug["hz"]["status"] == "ok" and by_slug["hz"]["branch"] == shown_branch
    assert "139****1111" in by_slug["nb"]["error"] and "330102********9876" in by_slug["nb"]["detail"]
    assert by_slug["wz"]["status"] == "failed" and "137****1111" in by_slug["wz"]["detail"]
    assert len(recorded["fingerprint"]) == 64
    index = (run / "index.html").read_text(encoding="utf-8")
    assert shown_branch in index and "139****1111" in index
