"""Report sheets a project manager reads without a decoder (issue 19 items 3-5): labels,
default columns in Procore's log order, nested lists as words, types Excel shows right, one
header row on every sheet; the API field names and every column stay one switch away."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import openpyxl
import pandas as pd

from procore_xl.addin import udfs
from procore_xl.catalog import REPORTS
from procore_xl.columns import DEFAULT_COLUMNS, label_for, readable
from procore_xl.demo import demo_params, demo_sandbox_config, run_demo
from procore_xl.excel.layout import TABLE_HEADER_GAP, TABLE_HEADER_ROW
from procore_xl.excel.openpyxl_writer import OpenpyxlWorkbook
from procore_xl.excel.ooxml.workbook import PackageWorkbook
from procore_xl.excel.refresh import refresh_workbook
from procore_xl.excel.registry import read_registry
from procore_xl.excel.report_sheet import PARAM_FIRST_ROW, create_report_sheet, write_result
from procore_xl.parameters import VIEW_PARAMS
from procore_xl.runner import ReportResult
from procore_xl.view import readable_list, view

from cli_run import point_at, run
from sheet_check import problems

LEGACY = Path(__file__).parent / "data" / "legacy_rfis.xlsx"


def table(ws):
    t, = ws.tables.values()
    ref = openpyxl.utils.range_boundaries(t.ref)
    header = [ws.cell(ref[1], c).value for c in range(ref[0], ref[2] + 1)]
    rows = [[ws.cell(r, c).value for c in range(ref[0], ref[2] + 1)] for r in range(ref[1] + 1, ref[3] + 1)]
    return ref[1], header, rows


# -- labels -------------------------------------------------------------------------------------
def test_labels_are_procores_names_or_the_path_in_words_and_custom_fields_keep_theirs():
    assert [label_for("RFIs", p) for p in ("number", "subject", "status", "ball_in_courts", "due_date",
                                           "cost_impact.status")] == [
        "Number", "Subject", "Status", "Ball In Court", "Due Date", "Cost Impact"]
    assert label_for("RFIs", "cost_impact.value") == "Cost Impact Value"
    assert label_for("RFIs", "ball_in_court.login") == "Ball In Court Login"
    assert label_for("RFIs", "location.parent_id") == "Location Parent ID"
    assert label_for("RFIs", "assignee.name") == "Assignee"
    assert label_for("RFIs", "location_id (2)") == "Location ID (2)"
    assert label_for("RFIs", "rfi.number") == "RFI Number"
    assert label_for("RFIs", "Owner Reference") == "Owner Reference"        # a custom field's label
    assert readable("project.id") == "Project ID"


def test_every_report_table_starts_on_the_same_row_whatever_its_parameters():
    most = max(len(r.parameters) for r in REPORTS.values()) + len(VIEW_PARAMS)
    assert PARAM_FIRST_ROW + most + TABLE_HEADER_GAP <= TABLE_HEADER_ROW
    for default in DEFAULT_COLUMNS:
        assert default in REPORTS


def _documented_fields(report: str) -> set[str]:
    """First-level response fields procore_xl/reference/endpoints.json documents for the
    endpoints ``report`` reads."""
    endpoints = json.loads((Path(__file__).parents[1] / "procore_xl" / "reference" / "endpoints.json")
                           .read_text(encoding="utf-8"))["endpoints"]
    return {f for e in endpoints if f"report: {report}" in e["catalog"].get("used_by", ())
            for f in e["response"].get("record_fields") or ()}


def test_every_report_has_a_default_set_of_fields_it_really_has(make_sandbox, make_service):
    """Issue 19 item 4: every report has its default columns, and each of them is a column the
    sandbox's run of that report produces, or (for fields the sandbox leaves out) a field
    Procore documents for the report's endpoint; a set naming a field that exists nowhere
    would show nothing."""
    assert set(DEFAULT_COLUMNS) == set(REPORTS)
    with make_sandbox.serving(demo_sandbox_config(rate_limit_spike=100000)) as sandbox, \
            make_service.serving(sandbox) as svc:
        unknown = {}
        for report in REPORTS.values():
            columns = set(svc.run(report, demo_params(report, svc)).frame.columns)
            documented = _documented_fields(report.name)
            wrong = [f for f in DEFAULT_COLUMNS[report.name]
                     if f not in columns and f.split(".")[0] not in documented]
            if wrong:
                unknown[report.name] = wrong
        svc.clear_records()
    assert unknown == {}
    for name, fields in DEFAULT_COLUMNS.items():
        assert len(set(fields)) == len(fields), name
        labels = [label_for(name, f) for f in fields]
        assert len(set(labels)) == len(labels), (name, labels)


# -- the demo workbook -------------------------------------------------------------------------
def test_the_demo_workbook_reads_without_a_decoder(tmp_path):
    """The issue's 'done when', checked by tests/sheet_check.py: no JSON cell, no raw-path header
    in label mode, no id in scientific notation, no all-empty column in default view, days
    not money, coordinates numbers, one header row on every sheet."""
    out = tmp_path / "demo.xlsx"
    assert run_demo(str(out), stream=io.StringIO(), rate_limit_spike=1000) == 0
    assert problems(out) == []
    book = openpyxl.load_workbook(out)
    rows = {table(book[e.sheet])[0] for e in read_registry(OpenpyxlWorkbook(book))}
    assert rows == {TABLE_HEADER_ROW}
    assert pd.read_excel(out, sheet_name="RFIs", header=TABLE_HEADER_ROW - 1, engine="openpyxl").columns[:4].tolist() == [
        "Number", "Subject", "Status", "Responsible Contractor"]
    options = {book["RFIs"].cell(r, 1).value: book["RFIs"].cell(r, 2).value for r in range(1, TABLE_HEADER_ROW)}
    assert options["Headers"] == "labels" and options["Columns"] == "default"
    top, header, data = table(book["RFIs"])
    questions = [r[header.index("Questions")] for r in data if r[header.index("Questions")]]
    assert questions and all(q.startswith("Q1: ") for q in questions)
    number = header.index("ID")
    assert book["RFIs"].cell(top + 1, number + 1).number_format == "0"
    days = header.index("Schedule Impact Days")
    assert book["RFIs"].cell(top + 1, days + 1).number_format == "General"
    assert all(isinstance(r[days], int) for r in data)


def test_the_check_finds_each_kind_of_problem(tmp_path):
    """sheet_check.problems sees what it is meant to see (a check that cannot fail proves nothing)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "RFIs"
    ws["A8"], ws["B8"], ws["A9"], ws["B9"] = "Headers", "labels", "Columns", "default"
    ws.append([])
    for r, row in enumerate([["subject", "Empty", "Questions", "ID", "Schedule Impact Days", "Latitude"],
                             ["a", None, '[{"id":1}]', 220001000001, 5, "37.1"]], start=TABLE_HEADER_ROW):
        for c, v in enumerate(row, start=1):
            ws.cell(r, c, v)
    ws.cell(TABLE_HEADER_ROW + 1, 5).number_format = "#,##0.00"
    ws.cell(TABLE_HEADER_ROW, 7, "Location ID")
    ws.cell(TABLE_HEADER_ROW + 1, 7, 200000001006).number_format = "0"
    ws.column_dimensions["G"].width = 10
    ws.add_table(openpyxl.worksheet.table.Table(displayName="tbl_RFIs", ref=f"A{TABLE_HEADER_ROW}:G{TABLE_HEADER_ROW + 1}"))
    other = book.create_sheet("Other")
    other.append(["x"])
    other.append([1])
    other.add_table(openpyxl.worksheet.table.Table(displayName="tbl_Other", ref="A1:A2"))
    book.save(tmp_path / "bad.xlsx")
    found = "\n".join(problems(tmp_path / "bad.xlsx"))
    for what in ("RFIs!subject: raw field path", "RFIs!Empty: empty in every row", "RFIs!Questions: JSON",
                 "RFIs!ID: 220001000001 in General format", "Schedule Impact Days: days formatted as money",
                 "RFIs!Latitude: coordinates as text", "RFIs!Location ID: 12-digit numbers in a column 10 wide",
                 "tables start on different rows"):
        assert what in found, found


# -- the view itself -----------------------------------------------------------------------------
def test_nested_lists_read_as_words():
    assert readable_list("assignees", json.dumps([{"id": 1, "name": "Ana Ruiz"}, {"id": 2, "name": "Li Chen"}])) \
        == "Ana Ruiz; Li Chen"
    assert readable_list("questions", json.dumps([{"id": 9, "body": "Which rebar?"}, {"id": 10, "body": "Depth?"}])) \
        == "Q1: Which rebar?; Q2: Depth?"
    assert readable_list("approvers", json.dumps([{"user": {"name": "Ana"}, "response": {"name": "Approved"}}])) \
        == "Ana (Approved)"
    assert readable_list("drawing_ids", "[1,2]") == "1; 2"
    assert readable_list("subject", "[not json") == "[not json"


def _result(frame, report="RFIs"):
    return ReportResult(report=report, params={}, table=frame, requests=1, seconds=0.1)


def test_a_column_the_table_shows_stays_when_it_empties_and_all_brings_back_everything(tmp_path):
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    entry = create_report_sheet(OpenpyxlWorkbook(book), "RFIs", {"company": 8001, "project": 91001})
    book.save(path)

    def write(frame) -> list:
        wb = PackageWorkbook(path)
        assert write_result(wb, entry, _result(frame))
        wb.save(tmp_path / "next.xlsx")
        shutil.move(tmp_path / "next.xlsx", path)
        top, header, _ = table(openpyxl.load_workbook(path)["RFIs"])
        assert top == TABLE_HEADER_ROW
        return header

    first = pd.DataFrame({"id": [1, 2], "number": [1, 2], "subject": ["a", "b"], "reference": ["R1", None],
                          "link": ["u1", "u2"], "deleted_at": [None, None]})
    shown = write(first)
    assert shown == ["Number", "Subject", "Reference", "ID"]        # link: not a default; deleted_at: empty
    later = first.assign(reference=[None, None])
    assert write(later) == shown                                    # Reference stays: formulas name it
    entry.params["columns"] = "all"
    assert write(later) == ["ID", "Number", "Subject", "Reference", "Link", "Deleted At"]


def test_a_sub_report_still_makes_one_row_per_element_with_labels(service):
    result = service.run("RFIs", {"company": 8001, "project": 91001, "sub_report": "questions"})
    shown = view(result.frame, "RFIs", "questions")
    assert shown.header[:3] == ["RFI ID", "RFI Number", "RFI Subject"] and "Body" in shown.header
    assert len(shown.frame) == len(result.frame) > 0


# -- an existing workbook ----------------------------------------------------------------------
def test_a_workbook_made_before_keeps_its_field_names_columns_and_place(service, tmp_path):
    """A sheet written by the code before issue 19 (tests/data/legacy_rfis.xlsx: commit ed2f9bc's
    new_workbook of RFIs of project 91001 from a sandbox with 6 RFIs a project, then an openpyxl
    Summary sheet with =COUNTIFS(tbl_RFIs[status],"open") and =SUM(tbl_RFIs[cost_impact.value]);
    field-name headers, table at row 13) is refreshed: the
    header style, the columns and the table's place stay, so the person's formulas still name
    columns the table has; the JSON of its lists becomes words."""
    path = tmp_path / "legacy.xlsx"
    shutil.copy(LEGACY, path)
    before = openpyxl.load_workbook(path)
    top, old_header, _ = table(before["RFIs"])
    assert top == 13 and "cost_impact.value" in old_header
    outcome = refresh_workbook(path, service, progress=False)
    assert outcome.failed == [], outcome.reasons
    after = openpyxl.load_workbook(path)
    new_top, header, rows = table(after["RFIs"])
    assert new_top == top and header[:len(old_header)] == old_header
    assert after["Summary"]["B1"].value == '=COUNTIFS(tbl_RFIs[status],"open")'
    assert after["Summary"]["B2"].value == "=SUM(tbl_RFIs[cost_impact.value])"
    assert {"status", "cost_impact.value"} <= set(header)
    questions = [r[header.index("questions")] for r in rows if r[header.index("questions")]]
    assert questions and not any(q.startswith("[") for q in questions)


# -- other surfaces ------------------------------------------------------------------------------
def test_formula_spill_shows_labels_and_switches_to_field_names(excel_service, sandbox):
    labels = udfs.PROCORE_REPORT("RFIs", 8001, 91001)
    fields = udfs.PROCORE_REPORT("RFIs", 8001, 91001, "headers", "fields", "columns", "all")
    assert labels[0][:3] == ["Number", "Subject", "Status"]
    assert fields[0][:3] == ["id", "number", "subject"] and "cost_impact.value" in fields[0]
    assert len(fields[0]) > len(labels[0]) and len(fields) == len(labels)
    assert "choose one of" in udfs.PROCORE_REPORT("RFIs", 8001, 91001, "headers", "pretty")


def test_csv_keeps_field_names_unless_asked(sandbox, monkeypatch, capsys, tmp_path):
    point_at(sandbox, monkeypatch)
    code, out, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001")
    assert code == 0, err
    header = next(csv.reader(io.StringIO(out)))
    assert header[:3] == ["id", "number", "subject"] and "questions" in header
    code, out, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001",
                         "--headers", "labels", "--columns", "default")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[:3] == ["Number", "Subject", "Status"]
    assert all(not r["Questions"].startswith("[") for r in rows) and any(r["Questions"] for r in rows)
    code, _, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001",
                       "--headers", "labels", "--out", str(tmp_path / "r.json"))
    assert code != 0 and "JSON output holds Procore's records as sent" in err and not (tmp_path / "r.json").exists()


def test_params_lists_the_default_columns(capsys):
    code, out, _ = run(capsys, "params", "RFIs")
    assert code == 0
    lines = out.split("Default columns")[1].splitlines()[1:]
    assert [line.split()[0] for line in lines[:3]] == ["Number", "Subject", "Status"]
    assert "--headers" in out and "--columns" in out


# -- a report sheet's view read block by block -------------------------------------------------
def _rfi_table(records, batch=500):
    from procore_xl.flatten import FrameBuilder
    builder = FrameBuilder()
    for i in range(0, len(records), batch):
        builder.add(records[i:i + batch])
    return builder.table()


def test_the_view_of_a_table_read_block_by_block_is_the_view_of_its_frame():
    """write_result reads the table block by block (never its whole frame): the same columns,
    values, types, header and list columns as the view of the whole frame, for every option."""
    from procore_xl.flatten import LIST_COLUMNS
    from procore_xl.view import view
    records = [{"id": i, "number": str(i), "subject": f"Subject {i}", "status": "open" if i % 3 else "closed",
                "empty_text": " " if i % 2 else None, "never": None,
                "due_date": f"2024-05-{1 + i % 28:02d}", "amount": f"{i}.50" if i % 7 else None,
                "assignees": [{"name": f"Ana {i}"}, {"name": "Li Chen"}] if i % 4 else [],
                "location": {"id": i % 11, "name": f"Level {i % 5}"} if i % 9 else None}
               for i in range(1, 4_600)]
    for kw in ({}, {"columns": "all"}, {"headers": "fields"}, {"keep": ["Never"]}, {"readable_lists": False}):
        streamed = view(_rfi_table(records), "RFIs", **kw)
        whole = view(_rfi_table(records).frame(), "RFIs", **kw)
        assert streamed.header == whole.header, kw
        pd.testing.assert_frame_equal(streamed.frame, whole.frame, check_dtype=True)
        assert streamed.frame.attrs.get(LIST_COLUMNS) == whole.frame.attrs.get(LIST_COLUMNS), kw
    empty = view(_rfi_table([]), "RFIs")
    assert empty.header == view(_rfi_table([]).frame(), "RFIs").header and len(empty.frame) == 0
