"""Report sheets written through both writers: openpyxl (files, reopened independently) and
xlwings (a fake of the xlwings API that parses values the way Excel does)."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils import range_boundaries

from procore_xl.excel import layout
from procore_xl.excel.dropdowns import write_lists
from procore_xl.excel.openpyxl_writer import OpenpyxlWorkbook
from procore_xl.excel.registry import read_registry
from procore_xl.catalog import find_report
from procore_xl.excel.report_sheet import (EXCEL_MAX_ROWS, PARAM_FIRST_ROW, create_report_sheet,
                                           header_row, literal_list, safe_message, sheet_name_for,
                                           table_name_for, validation_source, write_failure, write_result)
from procore_xl.parameters import sub_report_choices
from procore_xl.excel.plans import frame_to_block
from procore_xl.excel.values import unique_headers
from procore_xl.addin.xlwings_writer import XlwingsWorkbook
from procore_xl.runner import ReportResult
from test_excel_fake_xlwings import FakeBook

# tests of the sheet's mechanics (layout, refresh, calculated columns) show the frame as it is:
# field names, every column (issue 19 made labels and default columns the default)
AS_SENT = {"columns": "all", "headers": "fields"}

TRICKY = ["=HYPERLINK(\"http://x\")", "+1 555 0100", "-minus", "@at", "00123", "2024-01-01", "plain"]


def sample_frame(n=len(TRICKY)) -> pd.DataFrame:
    return pd.DataFrame({
        "id": list(range(1, n + 1)),
        "big_id": [2**60 + i for i in range(n)],
        "subject": [TRICKY[i % len(TRICKY)] for i in range(n)],
        "amount": [1.5 if i % 2 else np.nan for i in range(n)],
        "created_at": pd.to_datetime([f"2024-03-0{1 + i % 9}T10:30:00Z" for i in range(n)], utc=True),
        "due_date": [dt.date(2024, 5, 1 + i % 28) if i % 3 else None for i in range(n)],
        "closed": [bool(i % 2) for i in range(n)],
    })


def result(frame, report="RFIs", warnings=()):
    return ReportResult(report=report, params={}, table=frame, requests=3, seconds=0.25,
                        warnings=list(warnings))


class FileView:
    """Saves the openpyxl workbook and reads it back with a fresh openpyxl."""

    def __init__(self, tmp_path):
        self.book = openpyxl.Workbook()
        self.book.active.title = "My notes"
        self.book["My notes"]["A1"] = "keep me"
        self.book["My notes"]["B2"] = "=1+1"
        self.writer = OpenpyxlWorkbook(self.book)
        self.path = tmp_path / "book.xlsx"

    def reopen(self):
        self.book.save(self.path)
        self.wb = openpyxl.load_workbook(self.path)
        return self

    def value(self, sheet, addr):
        return self.wb[sheet][addr].value

    def is_text(self, sheet, addr):
        return self.wb[sheet][addr].data_type == "s"

    def number_format(self, sheet, addr):
        return self.wb[sheet][addr].number_format

    def table(self, sheet):
        (name, ref), = self.wb[sheet].tables.items()
        return name, ref

    def table_headers(self, sheet):
        t = self.wb[sheet].tables[self.table(sheet)[0]]
        return [c.name for c in t.tableColumns]

    def validation(self, sheet, addr):
        """A workbook name, or the literal choices as a list (``"a,b"`` in the file)."""
        for dv in self.wb[sheet].data_validations.dataValidation:
            if addr in dv.sqref:
                assert dv.type == "list"
                f = dv.formula1
                return f[1:-1].split(",") if f.startswith('"') and f.endswith('"') else f
        return None

    def name(self, name):
        return self.wb.defined_names[name].attr_text

    def hidden(self, sheet):
        return self.wb[sheet].sheet_state == "hidden"

    def sheetnames(self):
        return self.wb.sheetnames

    def user_sheet_intact(self):
        ws = self.wb["My notes"]
        return ws["A1"].value == "keep me" and ws["B2"].value == "=1+1"


class FakeView:
    """Reads the fake xlwings book's cells directly (what Excel would hold)."""

    def __init__(self, tmp_path):
        self.book = FakeBook(["My notes"])
        self.book.sheets["My notes"].range("A1").value = "keep me"
        self.book.sheets["My notes"].range("B2").value = "=1+1"
        self.writer = XlwingsWorkbook(self.book)

    def reopen(self):
        return self

    def _key(self, addr):
        c, r, _, _ = range_boundaries(f"{addr}:{addr}")
        return r, c

    def value(self, sheet, addr):
        v = self.book.sheets[sheet].cells.get(self._key(addr))
        return int(v) if isinstance(v, float) and v.is_integer() and not isinstance(v, bool) else v

    def is_text(self, sheet, addr):
        s = self.book.sheets[sheet]
        return self._key(addr) not in s.formulas and isinstance(s.cells.get(self._key(addr)), str)

    def number_format(self, sheet, addr):
        return self.book.sheets[sheet].formats.get(self._key(addr), "General")

    def table(self, sheet):
        (t,) = list(self.book.sheets[sheet].tables)
        return t.name, t.range.address.replace("$", "")

    def table_headers(self, sheet):
        t = list(self.book.sheets[sheet].tables)[0]
        return t.range.options(ndim=2).value[0]

    def validation(self, sheet, addr):
        return self.book.sheets[sheet].validations.get(self._key(addr))

    def name(self, name):
        return self.book.names[name].refers_to.lstrip("=")

    def hidden(self, sheet):
        return not self.book.sheets[sheet].visible

    def sheetnames(self):
        return [s.name for s in self.book.sheets]

    def user_sheet_intact(self):
        s = self.book.sheets["My notes"]
        return s.cells[(1, 1)] == "keep me" and s.formulas[(2, 2)] == "=1+1"


@pytest.fixture(params=["openpyxl", "xlwings-fake"])
def view(request, tmp_path):
    return FileView(tmp_path) if request.param == "openpyxl" else FakeView(tmp_path)


def test_report_sheet_layout_values_and_types(view):
    entry = create_report_sheet(view.writer, "rfis", {"company": "Harbor Tower Builders", "project": 91001, **AS_SENT})
    frame = sample_frame()
    assert write_result(view.writer, entry, result(frame, warnings=["one project skipped"]))
    v = view.reopen()
    s = entry.sheet
    assert s == "RFIs" and entry.table == "tbl_RFIs"
    assert [v.value(s, f"A{r}") for r in range(1, 8)] == [
        "Report", "Status", "Refreshed", "Duration (s)", "Rows", "Requests", "Message"]
    assert v.value(s, "B1") == "RFIs" and v.value(s, "B2") == "OK"
    assert isinstance(v.value(s, "B3"), dt.datetime)
    assert abs(v.value(s, "B3") - dt.datetime.now()) < dt.timedelta(minutes=5)
    assert v.value(s, "B4") == 0.25 and v.value(s, "B5") == len(frame) and v.value(s, "B6") == 3
    assert v.value(s, "B7") == "one project skipped"
    # parameters: every parameter of RFIs, with the given values and their dropdowns
    labels = {v.value(s, f"A{r}"): (r, v.value(s, f"B{r}")) for r in range(PARAM_FIRST_ROW, PARAM_FIRST_ROW + 4)}
    assert labels["Company"][1] == "Harbor Tower Builders" and labels["Project"][1] == 91001
    assert v.validation(s, f"B{labels['Company'][0]}") == layout.LIST_NAMES["companies"]
    assert v.validation(s, f"B{labels['Project'][0]}") == layout.LIST_NAMES["projects"]
    # the table
    top = header_row(entry)
    name, ref = v.table(s)
    assert name == "tbl_RFIs" and ref == f"A{top}:G{top + len(frame)}"
    assert v.table_headers(s) == list(frame.columns)
    first = top + 1
    assert v.value(s, f"A{first}") == 1
    assert v.value(s, f"B{first}") == str(2**60) and v.is_text(s, f"B{first}")
    for i, text in enumerate(TRICKY):            # Procore text is data, never a formula or a number
        assert v.value(s, f"C{first + i}") == text and v.is_text(s, f"C{first + i}"), text
    assert v.value(s, f"D{first}") is None and v.value(s, f"D{first + 1}") == 1.5
    assert v.value(s, f"E{first}") == dt.datetime(2024, 3, 1, 10, 30)
    assert v.number_format(s, f"E{first}") == "yyyy-mm-dd hh:mm:ss"
    assert v.value(s, f"F{first}") is None
    assert v.value(s, f"F{first + 1}") in (dt.date(2024, 5, 2), dt.datetime(2024, 5, 2))
    assert v.number_format(s, f"F{first + 1}") == "yyyy-mm-dd"
    assert v.value(s, f"G{first + 1}") is True
    # registry: hidden, report + parameters as JSON
    assert v.hidden(layout.REGISTRY_SHEET)
    assert v.value(layout.REGISTRY_SHEET, "A2") == "RFIs" and v.value(layout.REGISTRY_SHEET, "C2") == "tbl_RFIs"
    assert json.loads(v.value(layout.REGISTRY_SHEET, "D2"))["project"] == 91001
    assert v.user_sheet_intact()


def test_refresh_replaces_the_table_and_clears_old_rows(view):
    entry = create_report_sheet(view.writer, "Projects", {"company": 8001, **AS_SENT})
    write_result(view.writer, entry, result(sample_frame(40), "Projects"))
    small = pd.DataFrame({"id": [7, 8], "name": ["a", "b"]})
    write_result(view.writer, entry, result(small, "Projects"))
    v = view.reopen()
    top = header_row(entry)
    assert v.table("Projects") == ("tbl_Projects", f"A{top}:B{top + 2}")
    assert v.value("Projects", f"A{top + 2}") == 8
    assert v.value("Projects", f"A{top + 3}") is None          # old rows gone
    assert v.value("Projects", f"C{top}") is None              # old columns gone
    assert v.value("Projects", "B5") == 2
    assert v.user_sheet_intact()


def test_empty_result_still_a_valid_table(view):
    entry = create_report_sheet(view.writer, "Trades", {"company": 8001})
    write_result(view.writer, entry, result(pd.DataFrame({"id": [], "name": []}), "Trades"))
    v = view.reopen()
    top = header_row(entry)
    assert v.table("Trades") == ("tbl_Trades", f"A{top}:B{top + 1}")   # header + one empty row
    assert v.value("Trades", "B5") == 0


def test_no_record_shows_the_reports_default_columns(view, tmp_path):
    """A run with no record (so no columns) gives a table under the report's default columns, as
    a CSV gets (view.empty_header), through every writer: it showed one column "(no columns)"."""
    from procore_xl.excel.ooxml.workbook import PackageWorkbook

    entry = create_report_sheet(view.writer, "Trades", {"company": 8001})
    write_result(view.writer, entry, result(pd.DataFrame(), "Trades"))
    v = view.reopen()
    top = header_row(entry)
    assert v.table("Trades") == ("tbl_Trades", f"A{top}:D{top + 1}")
    assert v.table_headers("Trades") == ["Trade", "Active", "Last Updated", "ID"]
    if isinstance(view, FileView):                       # and a refresh of the file (the package writer)
        wb = PackageWorkbook(view.path)
        write_result(wb, read_registry(wb)[0], result(pd.DataFrame(), "Trades"))
        wb.save(tmp_path / "refreshed.xlsx")
        ws = openpyxl.load_workbook(tmp_path / "refreshed.xlsx")["Trades"]
        assert [ws.cell(top, c).value for c in range(1, 5)] == ["Trade", "Active", "Last Updated", "ID"]
        assert ws.tables["tbl_Trades"].ref == f"A{top}:D{top + 1}"


def test_failed_refresh_keeps_previous_table(view):
    entry = create_report_sheet(view.writer, "RFIs", {"company": 8001, "project": 91001, **AS_SENT})
    write_result(view.writer, entry, result(sample_frame(5)))
    write_failure(view.writer, entry, safe_message(RuntimeError("boom access_token=abc123secret")))
    v = view.reopen()
    top = header_row(entry)
    assert v.value("RFIs", "B2") == "Failed"
    assert "boom" in v.value("RFIs", "B7") and "last successful refresh" in v.value("RFIs", "B7")
    assert "abc123secret" not in v.value("RFIs", "B7")
    assert v.value("RFIs", "B7").endswith("access_token=***. The table below is from the last successful refresh.")
    assert v.table("RFIs") == ("tbl_RFIs", f"A{top}:G{top + 5}")
    assert v.value("RFIs", f"A{top + 5}") == 5 and v.value("RFIs", "B5") == 5


def test_failure_message_sentences_are_separated(view):
    entry = create_report_sheet(view.writer, "RFIs", {"company": 8001, "project": 91001, **AS_SENT})
    write_failure(view.writer, entry, "Not signed in.")                       # no table yet: as is
    first = view.reopen().value("RFIs", "B7")
    assert first.endswith(": Not signed in.")
    write_result(view.writer, entry, result(sample_frame(2)))
    write_failure(view.writer, entry, 'Unknown project "Nowhere" in Sunset Library Renovation')
    second = view.reopen().value("RFIs", "B7")
    assert second.endswith('in Sunset Library Renovation. The table below is from the last successful refresh.')
    write_failure(view.writer, entry, "Procore is busy - try again later.")
    third = view.reopen().value("RFIs", "B7")
    assert third.endswith("later. The table below is from the last successful refresh.") and ".." not in third


def test_too_many_rows_is_a_clear_failure_not_a_cut(view):
    entry = create_report_sheet(view.writer, "RFIs", {"company": 8001, "project": 91001, **AS_SENT})
    write_result(view.writer, entry, result(sample_frame(3)))
    huge = pd.DataFrame({"id": np.zeros(EXCEL_MAX_ROWS - header_row(entry) + 1, dtype="int64")})
    assert write_result(view.writer, entry, result(huge)) is False
    v = view.reopen()
    assert v.value("RFIs", "B2") == "Failed"
    assert "do not fit" in v.value("RFIs", "B7") and "csv" in v.value("RFIs", "B7")
    assert v.value("RFIs", "B5") == 3


def test_lists_become_named_ranges_and_shrink(view):
    write_lists(view.writer, {"companies": ["A", "B", "C"], "projects": ["P1"]})
    write_lists(view.writer, {"companies": ["Z"]})
    v = view.reopen()
    assert v.hidden(layout.LISTS_SHEET)
    col = list(layout.LIST_NAMES).index("companies") + 1
    assert v.name("ProcoreCompanies") == "'_lists'!$A$2:$A$2" and col == 1
    assert v.value("_lists", "A1") == "companies" and v.value("_lists", "A2") == "Z"
    assert v.value("_lists", "A3") is None and v.value("_lists", "A4") is None
    assert v.name("ProcoreProjects") == "'_lists'!$B$2:$B$2" and v.value("_lists", "B2") == "P1"


def test_second_sheet_of_same_report_gets_unique_names(view):
    a = create_report_sheet(view.writer, "RFIs", {"project": 1})
    b = create_report_sheet(view.writer, "RFIs", {"project": 2})
    for e, n in ((a, 1), (b, 2)):
        write_result(view.writer, e, result(pd.DataFrame({"id": [n]})))
    v = view.reopen()
    assert (a.sheet, b.sheet) == ("RFIs", "RFIs (2)")
    assert v.table("RFIs (2)")[0] == "tbl_RFIs_2"
    assert [e.sheet for e in read_registry(view.writer)] == ["RFIs", "RFIs (2)"]


def test_sheet_and_table_names():
    assert sheet_name_for("Prime Contract (Change Orders)", []) == "Prime Contract (Change Orders)"
    assert sheet_name_for("a/b:c*d?[e]\\f", []) == "a-b-c-d--e--f"
    long = "x" * 40                                        # one word: cut, and says so
    assert sheet_name_for(long, []) == "x" * 30 + "\u2026"
    assert sheet_name_for(long, ["x" * 30 + "\u2026"]) == "x" * 26 + "\u2026 (2)"
    assert sheet_name_for("Start", ["Start"]) == "Start (2)"
    assert sheet_name_for("rfis", ["RFIS"]) == "rfis (2)"
    assert table_name_for("Inspectors (checklists)", []) == "tbl_Inspectors_checklists"


def test_long_sheet_names_lose_parentheses_then_whole_words():
    taken: list[str] = []
    for _ in range(3):
        taken.append(sheet_name_for("Prime Contract (Payment Received)", taken))
    assert taken == ["Prime Contract Payment Received", "Prime Contract Payment\u2026 (2)",
                     "Prime Contract Payment\u2026 (3)"]
    name = sheet_name_for("Quality and Safety Observation Items by Location", [])
    assert name == "Quality and Safety Observation\u2026" and len(name) <= 31
    name = sheet_name_for("Punch List (Items Closed by Assignee and Trade)", [])
    assert name == "Punch List Items Closed by\u2026"


def test_long_sheet_name_through_both_writers(view):
    a = create_report_sheet(view.writer, "Prime Contract (Payment Received)", {"company": 8001})
    b = create_report_sheet(view.writer, "Prime Contract (Payment Received)", {"company": 8001})
    v = view.reopen()
    assert (a.sheet, b.sheet) == ("Prime Contract Payment Received", "Prime Contract Payment\u2026 (2)")
    assert {a.sheet, b.sheet} <= set(v.sheetnames())
    assert [e.sheet for e in read_registry(view.writer)] == [a.sheet, b.sheet]


def test_fixed_choices_get_the_reports_own_dropdown(view):
    rfis = create_report_sheet(view.writer, "RFIs", {"company": 8001, "project": 91001, **AS_SENT})
    subs = create_report_sheet(view.writer, "Submittals", {"company": 8001, "project": 91001})
    v = view.reopen()
    assert sub_report_choices(find_report("RFIs"))[:3] == ["none", "questions", "answers"]
    for entry, choices in ((rfis, sub_report_choices(find_report("RFIs"))),
                           (subs, sub_report_choices(find_report("Submittals")))):
        row = {k: PARAM_FIRST_ROW + i for i, k in enumerate(entry.params)}
        assert v.validation(entry.sheet, f"B{row['sub_report']}") == choices
        assert v.validation(entry.sheet, f"B{row['project_filter']}") == ["active", "inactive", "all"]
        assert v.validation(entry.sheet, f"B{row['company']}") == layout.LIST_NAMES["companies"]
    assert sub_report_choices(find_report("Submittals"))[1:] == [
        "approvers", "ball_in_court", "distribution_members", "attachments"]


def test_literal_lists_only_when_excel_can_hold_them():
    assert literal_list(["none", "questions"]) == ["none", "questions"]
    assert literal_list(["a" * 127, "b" * 127]) is not None                  # 255 characters
    assert literal_list(["a" * 127, "b" * 128]) is None                      # 256: no validation
    assert literal_list(["a,b", "c"]) is None and literal_list([]) is None
    assert validation_source("Trades", "company") == "ProcoreCompanies"
    assert validation_source("Trades", "photos") is None
    assert table_name_for("RFIs", ["TBL_RFIS"]) == "tbl_RFIs_2"


def test_values_helpers():
    assert unique_headers(["a", "A", None, "a", "x\ny"]) == ["a", "A (2)", "Column 3", "a (3)", "x y"]
    block = frame_to_block(pd.DataFrame({"t": ["ok\x07bell", "y" * 40_000], "n": pd.array([1, None], "Int64")}))
    assert block.rows[0][0] == "ok\ufffdbell" and len(block.rows[1][0]) == 32_767
    assert block.truncated_cells == 1 and block.rows[1][1] is None and block.rows[0][1] == 1


def test_safe_message_hides_credentials():
    msg = safe_message(ValueError("POST failed: client_secret=s3cr3t&refresh_token=r3fr3sh Authorization: Bearer abc.def"))
    assert "s3cr3t" not in msg and "r3fr3sh" not in msg and "abc.def" not in msg
    assert msg.startswith("ValueError: POST failed")


def test_live_excel_keeps_a_calculated_column_the_person_added():
    book = FakeBook(["My notes"])
    wb = XlwingsWorkbook(book)
    entry = create_report_sheet(wb, "Projects", {"company": 8001, **AS_SENT})
    write_result(wb, entry, result(pd.DataFrame({"id": [1, 2], "name": ["a", "=b"]}), "Projects"))
    top = header_row(entry)
    sheet = book.sheets["Projects"]
    sheet.range((top, 3)).value = "Double"                  # the person adds a formula column to the table
    sheet.range((top + 1, 3), (top + 2, 3)).formula = "=[@id]*2"
    (table,) = list(sheet.tables)
    table.resize(sheet.range((top, 1), (top + 2, 3)))
    write_result(wb, entry, result(pd.DataFrame({"id": [1, 2, 3], "name": ["a", "=b", "c"]}), "Projects"))
    assert table.range.address == f"$A${top}:$C${top + 3}"
    assert sheet.cells[(top, 3)] == "Double"
    assert [sheet.formulas.get((r, 3)) for r in range(top + 1, top + 4)] == ["=[@id]*2"] * 3
    assert (top + 2, 2) not in sheet.formulas and sheet.cells[(top + 2, 2)] == "=b"     # data stays text
