"""The streaming sheet writer and the splicing refresh: the same cells as the openpyxl writer,
read back by openpyxl and by LibreOffice; the person's calculated columns and cells kept; what
cannot be kept said in the warnings."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from procore_xl.errors import ConfigurationError
from procore_xl.excel.openpyxl_writer import OpenpyxlWorkbook
from procore_xl.excel.ooxml.workbook import PackageWorkbook
from procore_xl.excel.refresh import new_workbook, refresh_workbook, write_results_workbook
from procore_xl.excel.registry import read_registry
from procore_xl.excel.layout import TABLE_HEADER_ROW
from procore_xl.excel.report_sheet import (EXCEL_MAX_ROWS, PARAM_FIRST_ROW, create_report_sheet, header_row,
                                           record_run)
from procore_xl.excel.values import MONEY_FORMAT, PERCENT_FORMAT
from procore_xl.runner import ReportResult

# field names and every column: these tests are about the writer's mechanics (issue 19 made
# labels and the default columns what a new sheet shows)
AS_SENT = {"columns": "all", "headers": "fields"}
PARAMS = {"company": 8001, "project": 91001, **AS_SENT}
TRICKY_TEXT = ['=HYPERLINK("http://x")', "+1 555 0100", "-minus", "@at", "00123", "2024-01-01", "  padded  ",
               "line\nbreak", "carriage\rreturn", "tab\tinside", "a & b < c > d \"q\" 'a'", "emoji \U0001F600",
               "bell\x07gone", "", "1e5", "TRUE"]


def tricky_frame() -> pd.DataFrame:
    n = len(TRICKY_TEXT)
    big = [2**53 - 1, 2**53, 2**53 + 1, -(2**60), 2**63 - 1] + list(range(n - 5))
    mixed = [1, "two", 3.5, dt.date(2024, 1, 2), None, True, ["a", 1], {"k": "v"}, 2**60,
             dt.datetime(1899, 12, 31, 12), dt.time(13, 45, 30), np.nan, pd.Timestamp("2024-05-06T07:08:09Z"),
             "=1+1", float("inf"), 0]
    return pd.DataFrame({
        "id": range(1, n + 1),
        "big_id": big,
        "subject": TRICKY_TEXT,
        "grand_total": [1234567.891, np.nan, -0.5, float("inf"), 0.1 + 0.2, 1e-7] + [float(i) for i in range(n - 6)],
        "percentage": list(range(n)),
        "created_at": pd.to_datetime([f"2024-03-0{1 + i % 9}T10:30:00.123456Z" for i in range(n)], utc=True),
        "due_date": [dt.date(2024, 5, 1 + i) if i % 3 else None for i in range(n)],
        "old_date": [dt.date(1899, 1, 1), dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1)] + [None] * (n - 4),
        "closed": [bool(i % 2) for i in range(n)],
        "count": pd.array([i if i % 4 else None for i in range(n)], dtype="Int64"),
        "mixed": mixed,
        "long_text": ["y" * 40_000 if i == 0 else f"short {i}" for i in range(n)],
    })


def result(frame, report="RFIs", warnings=()):
    return ReportResult(report=report, params={}, table=frame, requests=2, seconds=0.5, warnings=list(warnings))


def cells(ws, first_row, last_row, width):
    """(value, is text, number format of non-text cells) of every cell in the area."""
    out = {}
    for row in ws.iter_rows(min_row=first_row, max_row=last_row, max_col=width):
        for c in row:
            if c.value is not None:
                out[c.coordinate] = (c.value, c.data_type, None if c.data_type == "s" else c.number_format)
    return out


def old_writer_file(frame, path):
    """The reference: the openpyxl writer (cell objects + openpyxl's save), as before the streaming writer."""
    book = openpyxl.Workbook()
    wb = OpenpyxlWorkbook(book)
    entry = create_report_sheet(wb, "RFIs", PARAMS)
    record_run(wb, entry, PARAMS, result(frame))
    book.remove(book["Sheet"])
    book.save(path)
    return entry


def test_streaming_writer_writes_the_cells_the_openpyxl_writer_wrote(tmp_path):
    frame = tricky_frame()
    entry = old_writer_file(frame, tmp_path / "old.xlsx")
    write_results_workbook(tmp_path / "new.xlsx", [(PARAMS, result(frame))])
    old, new = (openpyxl.load_workbook(tmp_path / n)["RFIs"] for n in ("old.xlsx", "new.xlsx"))
    top, width = header_row(entry), frame.shape[1]
    a, b = cells(old, 1, top + len(frame) + 2, width + 2), cells(new, 1, top + len(frame) + 2, width + 2)
    a.pop("B3"), b.pop("B3")                                  # "Refreshed": the clock moved on
    assert a == b
    assert old.tables["tbl_RFIs"].ref == new.tables["tbl_RFIs"].ref == f"A{top}:L{top + len(frame)}"
    assert [c.name for c in new.tables["tbl_RFIs"].tableColumns] == list(frame.columns)
    assert new.freeze_panes == old.freeze_panes == f"A{top + 1}"
    first = top + 1
    # the tricky values themselves, as a person reading the sheet sees them
    assert [new.cell(first + i, 3).value for i in range(len(TRICKY_TEXT))] == [
        t.replace("\x07", "\ufffd") for t in TRICKY_TEXT[:13]] + [None, "1e5", "TRUE"]
    assert {new.cell(first + i, 3).data_type for i in range(13)} == {"s"}
    assert [new.cell(first + i, 2).value for i in range(3)] == [2**53 - 1, 2**53, str(2**53 + 1)]
    assert new.cell(first, 4).number_format == MONEY_FORMAT and new.cell(first, 5).number_format == PERCENT_FORMAT
    assert new.cell(first, 6).value == dt.datetime(2024, 3, 1, 10, 30, 0, 123000)
    assert new.cell(first, 8).value == "1899-01-01" and new.cell(first + 1, 8).value == dt.datetime(1900, 1, 1)
    assert new.cell(first + 10, 11).value == dt.time(13, 45, 30)
    assert len(new.cell(first, 12).value) == 32_767
    widths = {k: d.width for k, d in new.column_dimensions.items() if d.width}
    assert widths == {k: d.width for k, d in old.column_dimensions.items() if d.width}


def test_what_an_xlsx_cannot_keep_is_counted_in_the_warnings(tmp_path):
    frame = tricky_frame()
    run = result(frame, warnings=["one project skipped"])
    write_results_workbook(tmp_path / "new.xlsx", [(PARAMS, run)])
    assert run.warnings == ["one project skipped",
                            "1 character(s) in column subject that an Excel file cannot hold (control characters or lone "
                            "surrogates in Procore's text) written as U+FFFD, the replacement character",
                            "1 text value(s) in column long_text cut to Excel's 32,767 characters"]
    message = openpyxl.load_workbook(tmp_path / "new.xlsx")["RFIs"]["B7"].value
    assert message == "; ".join(run.warnings)


def test_pull_to_xlsx_with_more_rows_than_a_sheet_holds_writes_nothing(tmp_path):
    huge = pd.DataFrame({"id": np.zeros(EXCEL_MAX_ROWS, dtype="int64")})
    target = tmp_path / "big.xlsx"
    with pytest.raises(ConfigurationError, match=r"1,048,576 rows of RFIs do not fit .* \(--out big\.csv\)"):
        write_results_workbook(target, [(PARAMS, result(huge))])
    assert list(tmp_path.iterdir()) == []


def lo_available() -> bool:
    return shutil.which("soffice") is not None


@pytest.mark.libreoffice
@pytest.mark.skipif(not lo_available(), reason="needs soffice")
def test_libreoffice_reads_every_streamed_value(tmp_path):
    frame = tricky_frame().drop(columns=["long_text"])
    write_results_workbook(tmp_path / "new.xlsx", [(PARAMS, result(frame))])
    out = tmp_path / "lo"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "xlsx", "--outdir", str(out), str(tmp_path / "new.xlsx")], check=True, capture_output=True,
                   timeout=120)
    ours, theirs = (openpyxl.load_workbook(p)["RFIs"] for p in (tmp_path / "new.xlsx", out / "new.xlsx"))
    top = 13
    for row in range(top, top + len(frame) + 1):
        for col in range(1, frame.shape[1] + 1):
            a, b = ours.cell(row, col).value, theirs.cell(row, col).value
            b = {"=TRUE()": True, "=FALSE()": False}.get(b, b) if isinstance(b, str) else b   # how LO saves bools
            numbers = (int, float)
            if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
                assert a == pytest.approx(b, rel=1e-15), (row, col)      # LibreOffice saves 15 digits
            elif isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
                assert abs(a - b) < dt.timedelta(milliseconds=1), (row, col)
            else:
                assert a == b, (row, col, a, b)


# -- refresh by splicing: the person's content -----------------------------------------------------
def rfis(sandbox, project):
    return len(sandbox.world.records("rfis", sandbox.world.project(project)))


def set_project(path, project):
    book = openpyxl.load_workbook(path)
    entry = read_registry(OpenpyxlWorkbook(book))[0]
    book["RFIs"].cell(PARAM_FIRST_ROW + list(entry.params).index("project"), 2).value = project
    book.save(path)


SMALL, LARGE = 91001, "all"          # one project, then every project: more RFIs (and columns)


def one_project_book(service, tmp_path):
    """A new workbook with the RFIs of one project, reopened with openpyxl: (path, book, sheet, table)."""
    path = tmp_path / "book.xlsx"
    new_workbook(path, [("RFIs", {"company": 8001, "project": SMALL, **AS_SENT})], service, progress=False)
    book = openpyxl.load_workbook(path)
    return path, book, book["RFIs"], book["RFIs"].tables["tbl_RFIs"]


def test_calculated_column_and_cells_beside_the_table_survive_a_refresh(service, sandbox, tmp_path):
    path, book, ws, table = one_project_book(service, tmp_path)
    top, width = ws[table.ref.split(":")[0]].row, ws[table.ref.split(":")[1]].column
    last = ws[table.ref.split(":")[1]].row
    # the person adds a calculated column to the table and a note right of it
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import TableColumn, TableFormula
    calc = width + 1
    ws.cell(top, calc).value = "Double id"
    for r in range(top + 1, last + 1):
        ws.cell(r, calc).value = "=tbl_RFIs[[#This Row],[id]]*2"
    column = TableColumn(id=width + 1, name="Double id")
    column.calculatedColumnFormula = TableFormula(attr_text="tbl_RFIs[[#This Row],[id]]*2")
    table.tableColumns.append(column)
    table.ref = f"A{top}:{get_column_letter(calc)}{last}"
    table.autoFilter = None
    ws.cell(top + 1, calc + 20).value = "my note"          # (every project: a few more columns)
    book.save(path)
    set_project(path, LARGE)

    outcome = refresh_workbook(path, service, progress=False)
    assert outcome.failed == [], outcome.reasons
    ws = openpyxl.load_workbook(path)["RFIs"]
    n = ws["B5"].value
    assert n > last - top
    table = ws.tables["tbl_RFIs"]
    end = len(table.tableColumns)
    assert end > calc and table.ref == f"A{top}:{get_column_letter(end)}{top + n}"
    assert [c.name for c in table.tableColumns][-1] == "Double id"
    assert table.tableColumns[-1].calculatedColumnFormula.attr_text == "tbl_RFIs[[#This Row],[id]]*2"
    assert [ws.cell(r, end).value for r in range(top + 1, top + n + 1)] == ["=tbl_RFIs[[#This Row],[id]]*2"] * n
    assert ws.cell(top, end).value == "Double id" and ws.cell(top + 1, calc + 20).value == "my note"


def test_a_table_that_would_grow_over_the_persons_cells_fails_and_keeps_its_data(service, sandbox, tmp_path):
    path, book, ws, table = one_project_book(service, tmp_path)
    last = ws[table.ref.split(":")[1]].row
    ws.cell(last + 2, 1).value = "Total checked by Ann"
    ws.cell(last + 2, 2).value = 42
    book.save(path)
    before = openpyxl.load_workbook(path)["RFIs"]
    set_project(path, LARGE)

    outcome = refresh_workbook(path, service, progress=False)
    assert outcome.failed == ["RFIs"]
    assert f"A{last + 2}:B{last + 2} holds other cells" in outcome.reasons["RFIs"]
    ws = openpyxl.load_workbook(path)["RFIs"]
    assert ws["B2"].value == "Failed" and ws["B5"].value == rfis(sandbox, SMALL)
    assert ws.tables["tbl_RFIs"].ref == before.tables["tbl_RFIs"].ref
    assert [[c.value for c in r] for r in ws.iter_rows(min_row=13)] == \
        [[c.value for c in r] for r in before.iter_rows(min_row=13)]

    set_project(path, SMALL)                        # back to a table that fits: refreshes, cells kept
    assert refresh_workbook(path, service, progress=False).failed == []
    ws = openpyxl.load_workbook(path)["RFIs"]
    assert (ws.cell(last + 2, 1).value, ws.cell(last + 2, 2).value) == ("Total checked by Ann", 42)


def test_refreshing_again_adds_no_styles_and_keeps_the_zip_entries(service, tmp_path):
    path = tmp_path / "book.xlsx"
    new_workbook(path, [("RFIs", PARAMS), ("Trades", {"company": 8001, **AS_SENT})], service, progress=False)
    refresh_workbook(path, service, progress=False)
    with zipfile.ZipFile(path) as z:
        names, styles = z.namelist(), z.read("xl/styles.xml")
    refresh_workbook(path, service, progress=False)
    with zipfile.ZipFile(path) as z:
        assert z.namelist() == names and z.read("xl/styles.xml") == styles
    assert PackageWorkbook(path).table_names() == ["tbl_RFIs", "tbl_Trades"]


@pytest.mark.libreoffice
@pytest.mark.skipif(not lo_available(), reason="needs soffice")
def test_a_workbook_saved_by_another_program_refreshes_by_splicing(service, tmp_path):
    """LibreOffice rewrites the whole file its own way (shared strings, its styles, attributes in
    another order): the refresh reads its cells and writes a file both readers open."""
    path = tmp_path / "book.xlsx"
    new_workbook(path, [("RFIs", {"company": 8001, "project": SMALL, **AS_SENT})], service, progress=False)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "xlsx", "--outdir", str(tmp_path / "lo"), str(path)], check=True, capture_output=True, timeout=120)
    saved = tmp_path / "lo" / "book.xlsx"
    with zipfile.ZipFile(saved) as z:                # the parameter cells are shared strings now
        before = {n: z.read(n) for n in z.namelist()}
    assert b"Harbor Tower Builders" in before["xl/sharedStrings.xml"]
    outcome = refresh_workbook(saved, service, progress=False)
    assert outcome.failed == [], outcome.reasons
    ws = openpyxl.load_workbook(saved)["RFIs"]
    assert ws["B2"].value == "OK" and ws["B5"].value == 200 and ws.tables["tbl_RFIs"].ref == f"A{TABLE_HEADER_ROW}:" + \
        ws.tables["tbl_RFIs"].ref.split(":")[1]
    params = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(PARAM_FIRST_ROW, PARAM_FIRST_ROW + 4)}
    assert params["Company"] == "Harbor Tower Builders" and params["Project"] == "Harbor Tower"
    with zipfile.ZipFile(saved) as z:
        after = {n: z.read(n) for n in z.namelist()}
    assert after["xl/sharedStrings.xml"] == before["xl/sharedStrings.xml"]
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "xlsx", "--outdir", str(tmp_path / "again"), str(saved)], check=True, capture_output=True,
                   timeout=120)
    again = openpyxl.load_workbook(tmp_path / "again" / "book.xlsx")["RFIs"]     # LibreOffice reads it back
    assert [[c.value for c in r] for r in again.iter_rows(min_row=14, max_row=20, max_col=3)] == \
        [[c.value for c in r] for r in ws.iter_rows(min_row=14, max_row=20, max_col=3)]


def test_the_command_line_prints_what_the_workbook_could_not_keep(sandbox, monkeypatch, capsys, tmp_path):
    """Text Procore may send (a control character, a 40,000-character answer) in a pull to .xlsx:
    the file keeps what it can, stderr says how many values of which column changed."""
    from procore_xl.cli import main

    for name, value in (("PROCORE_LOGIN_URL", sandbox.url), ("PROCORE_API_URL", sandbox.url),
                        ("PROCORE_CLIENT_ID", sandbox.client_id), ("PROCORE_CLIENT_SECRET", sandbox.client_secret)):
        monkeypatch.setenv(name, value)
    records = sandbox.world.records("rfis", sandbox.world.project(91001))
    awkward = sum(len(re.findall("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]", r["subject"])) for r in records[2:])
    monkeypatch.setitem(records[0], "subject", "Leak at\x0b level 3")
    monkeypatch.setitem(records[1], "subject", "x" * 40_000)
    target = tmp_path / "rfis.xlsx"
    assert main(["pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(target)]) == 0
    err = capsys.readouterr().err
    # a pulled sheet shows labels ("Subject", the 2nd default column) from TABLE_HEADER_ROW on
    assert (f"procore-xl: warning: {1 + awkward} character(s) in column Subject that an Excel file cannot hold "
            f"(control characters or lone surrogates in Procore's text) written as U+FFFD") in err
    assert "procore-xl: warning: 1 text value(s) in column Subject cut to Excel's 32,767 characters" in err
    ws = openpyxl.load_workbook(target)["RFIs"]
    subjects = [ws.cell(r, 2).value for r in range(TABLE_HEADER_ROW + 1, TABLE_HEADER_ROW + 200)]
    assert "Leak at\ufffd level 3" in subjects and "x" * 32_766 + "\u2026" in subjects
    assert "that an Excel file cannot hold" in ws["B7"].value


def test_a_spliced_refresh_writes_the_cells_the_openpyxl_writer_wrote(tmp_path):
    """The table the openpyxl writer wrote, replaced by splicing with a bigger frame, then with
    the same frame again: every cell as the openpyxl writer writes it."""
    frame = tricky_frame()
    entry = old_writer_file(frame, tmp_path / "old.xlsx")
    shutil.copy(tmp_path / "old.xlsx", tmp_path / "spliced.xlsx")
    for run in (pd.concat([frame, frame], ignore_index=True), frame):
        wb = PackageWorkbook(tmp_path / "spliced.xlsx")
        assert record_run(wb, read_registry(wb)[0], PARAMS, result(run))
        wb.save(tmp_path / "next.xlsx")
        shutil.move(tmp_path / "next.xlsx", tmp_path / "spliced.xlsx")
    old, new = (openpyxl.load_workbook(tmp_path / n)["RFIs"] for n in ("old.xlsx", "spliced.xlsx"))
    top, width = header_row(entry), frame.shape[1]
    a, b = (cells(ws, 1, top + 2 * len(frame) + 2, width + 2) for ws in (old, new))
    a.pop("B3"), b.pop("B3")
    assert a == b                                  # the rows of the bigger run are gone, too
    assert new.tables["tbl_RFIs"].ref == old.tables["tbl_RFIs"].ref


def test_a_calculated_column_with_cell_references_follows_its_row(tmp_path):
    from openpyxl.worksheet.table import TableColumn, TableFormula

    path = tmp_path / "book.xlsx"
    write_results_workbook(path, [(PARAMS, result(pd.DataFrame({"id": [1, 2], "amount": [1.5, 2.5]})))])
    book = openpyxl.load_workbook(path)
    ws, table = book["RFIs"], book["RFIs"].tables["tbl_RFIs"]
    top = TABLE_HEADER_ROW                           # was 13: every table now starts on one row
    ws.cell(top, 3).value = "Twice"
    ws.cell(top + 1, 3).value, ws.cell(top + 2, 3).value = f"=B{top + 1}*2", f"=B{top + 2}*2"
    column = TableColumn(id=3, name="Twice")
    column.calculatedColumnFormula = TableFormula(attr_text=f"B{top + 1}*2")
    table.tableColumns.append(column)
    table.ref, table.autoFilter = f"A{top}:C{top + 2}", None
    book.save(path)
    wb = PackageWorkbook(path)
    assert record_run(wb, read_registry(wb)[0], PARAMS, result(pd.DataFrame({"id": [1, 2, 3], "amount": [1, 2, 3]})))
    wb.save(tmp_path / "after.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "after.xlsx")["RFIs"]
    assert [ws.cell(r, 3).value for r in range(top + 1, top + 4)] == [f"=B{r}*2" for r in range(top + 1, top + 4)]
    assert ws.tables["tbl_RFIs"].ref == f"A{top}:C{top + 3}"


# -- the old table read a chunk at a time ---------------------------------------------------------
def _rows_whole(xml: bytes) -> list[tuple[str, bytes | None]]:
    """The rows of sheetData found in the whole part at once (the yardstick)."""
    body = xml[xml.index(b">", xml.index(b"<sheetData")) + 1: xml.rfind(b"</sheetData>")]
    return [(m.group(1).decode(), m.group(3)) for m in re.finditer(rb"<row\b([^>]*?)(/>|>(.*?)</row>)", body, re.S)]


@pytest.mark.parametrize("chunk", [1, 5, 13, 64, 1 << 20])
def test_a_part_read_a_chunk_at_a_time_is_the_whole_part(tmp_path, chunk):
    """A real report sheet (tricky text, rows beside the table, a tail with rowBreaks after
    sheetData): the head, every row with its cells' bytes exact and where they are in the part,
    and the tail, wherever the chunks cut."""
    import io

    from procore_xl.excel.ooxml.part_reader import PartReader

    path = tmp_path / "book.xlsx"
    write_results_workbook(path, [(PARAMS, result(tricky_frame()))])
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.startswith("xl/worksheets/sheet") and len(z.read(n)) > 2000)
        xml = z.read(name)
    xml = xml.replace(b"</sheetData>", b'<row r="900" ht="20" customHeight="1"/>'
                                       b'<row r="901"><c r="Z901" t="inlineStr"><is><t>&lt;row&gt; </t></is></c></row>'
                                       b"</sheetData>", 1)
    xml = xml.replace(b"</worksheet>", b'<rowBreaks count="1"><brk id="3"/></rowBreaks></worksheet>')
    want = _rows_whole(xml)
    reader = PartReader(io.BytesIO(xml), chunk)
    assert reader.head() == xml[:xml.index(b"<sheetData")]
    rows = [(attrs.rstrip("/"), buf[start:end] if start >= 0 else None, (base + start, base + end))
            for attrs, buf, base, start, end in reader.rows()]
    assert len(want) > 10 and [(a, c) for a, c, _ in rows] == want
    assert [xml[a:b] for _, c, (a, b) in rows if c is not None] == [c for _, c in want if c is not None]
    tail = xml[xml.rindex(b"</sheetData>") + len(b"</sheetData>"):]
    assert b"<rowBreaks" in tail and reader.tail() == tail

    reader = PartReader(io.BytesIO(xml), chunk)          # rows left unread: the tail all the same
    reader.head()
    next(iter(reader.rows()))
    assert reader.tail() == tail


def test_a_part_without_rows():
    import io

    from procore_xl.excel.ooxml.part_reader import PartReader

    for xml, tail in ((b'<worksheet><sheetData/><rowBreaks count="0"/></worksheet>', b'<rowBreaks count="0"/></worksheet>'),
                      (b"<worksheet><sheetData></sheetData><rowBreaks/></worksheet>", b"<rowBreaks/></worksheet>")):
        for chunk in (1, 4, 1 << 20):
            reader = PartReader(io.BytesIO(xml), chunk)
            assert reader.head() == b"<worksheet>" and list(reader.rows()) == [] and reader.tail() == tail
    assert PartReader(io.BytesIO(b"<worksheet></worksheet>"), 3).head() is None
