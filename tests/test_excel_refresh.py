"""Headless refresh of workbook files against the sandbox: round trip, VBA + ribbon parts kept,
the user's sheets kept, and a refresh that dies half-way leaves the original file intact."""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwings

from procore_xl.excel import layout
from procore_xl.excel.base import parse_target
from procore_xl.excel.openpyxl_writer import OpenpyxlWorkbook
from procore_xl.excel.ooxml.workbook import PackageWorkbook
from procore_xl.excel.refresh import new_workbook, refresh_workbook
from procore_xl.excel.report_sheet import PARAM_FIRST_ROW, header_row
from procore_xl.excel.registry import read_registry
from procore_xl.tokens import KeyringTokenStore

RIBBON = (b'<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui"><ribbon><tabs>'
          b'<tab id="procore" label="Procore"><group id="g" label="Data"><button id="refreshAll" '
          b'label="Refresh all" onAction="ProcoreOnAction"/></group></tab></tabs></ribbon></customUI>')
RIBBON_REL = ('<Relationship Id="rIdRibbon" Type="http://schemas.microsoft.com/office/2007/relationships/'
              'ui/extensibility" Target="customUI/customUI14.xml"/>')
REPORTS = [("RFIs", {"company": "Harbor Tower Builders", "project": 91001}),
           ("Projects", {"company": 8001, "project_filter": "all"}),
           ("Trades", {"company": 8001})]


def make_xlsm(path: Path) -> Path:
    """xlwings' quickstart_standalone.xlsm + a sheet of the user's + a ribbon part (customUI14,
    added after openpyxl, the way the procore.xlsm build does it)."""
    template = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    raw = path.with_suffix(".raw.xlsm")
    book = openpyxl.load_workbook(template, keep_vba=True)
    notes = book.create_sheet("My notes")
    notes["A1"], notes["B1"] = "budget check", "=SUM(1,2)"
    book.save(raw)
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "_rels/.rels":
                data = data.replace(b"</Relationships>", RIBBON_REL.encode() + b"</Relationships>")
            out.writestr(item, data)
        out.writestr("customUI/customUI14.xml", RIBBON)
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_of(ws):
    (table,) = ws.tables.values()
    return table


def test_new_workbook_then_refresh_round_trip(service, sandbox, tmp_path):
    path = tmp_path / "report.xlsx"
    built = new_workbook(path, REPORTS, service, progress=False)
    assert built.refreshed == ["RFIs", "Projects", "Trades"] and built.failed == []
    book = openpyxl.load_workbook(path)
    assert [s for s in book.sheetnames if book[s].sheet_state == "visible"] == ["RFIs", "Projects", "Trades"]
    rfis = book["RFIs"]
    n = len(sandbox.world.records("rfis", sandbox.world.project(91001)))
    table = table_of(rfis)
    assert table.displayName == "tbl_RFIs" and rfis["B5"].value == n
    assert table.ref.endswith(str(header_row(read_registry(OpenpyxlWorkbook(book))[0]) + n))
    assert book.defined_names["ProcoreCompanies"].attr_text.startswith("'_lists'!$A$2")
    first_refresh = rfis["B3"].value

    # the person edits a parameter cell in the file; a headless refresh picks it up
    entry = read_registry(OpenpyxlWorkbook(book))[0]
    rfis.cell(PARAM_FIRST_ROW + list(entry.params).index("project"), 2).value = "Pier 39 Retrofit"
    book.save(path)
    result = refresh_workbook(path, service, progress=False)
    assert result.refreshed == ["RFIs", "Projects", "Trades"] and result.failed == []
    book = openpyxl.load_workbook(path)
    n2 = len(sandbox.world.records("rfis", sandbox.world.project(91002)))
    assert book["RFIs"]["B5"].value == n2 and book["RFIs"]["B3"].value >= first_refresh
    assert read_registry(OpenpyxlWorkbook(book))[0].params["project"] == "Pier 39 Retrofit"
    assert not list(tmp_path.glob(".~*"))                       # no temporary file left behind


def test_xlsm_keeps_vba_ribbon_and_user_sheets(service, tmp_path):
    path = make_xlsm(tmp_path / "procore.xlsm")
    new_workbook(path, REPORTS[:2], service, template=path, progress=False)
    before = parts(path)
    assert b'Target="customUI/customUI14.xml"' in before["_rels/.rels"]      # kept by new_workbook too
    result = refresh_workbook(path, service, progress=False)
    assert result.failed == []
    after = parts(path)
    changed = {n for n in before if after.get(n) != before[n]}
    sheets = {s: p for s, p in PackageWorkbook(path).sheets.items()}
    # only the report sheets, their tables, the registry and the styles are new; the rest is byte-identical
    assert changed <= {sheets["RFIs"], sheets["Projects"], sheets["_procore"], "xl/styles.xml",
                       *(n for n in before if n.startswith("xl/tables/"))}, changed
    assert after["xl/vbaProject.bin"] == before["xl/vbaProject.bin"]
    assert after[sheets["My notes"]] == before[sheets["My notes"]]
    assert after["customUI/customUI14.xml"] == RIBBON
    assert b'Target="customUI/customUI14.xml"' in after["_rels/.rels"]
    assert b"ui/extensibility" in after["_rels/.rels"]
    assert b"macroEnabled" in after["[Content_Types].xml"]
    assert result.dropped_parts == []
    book = openpyxl.load_workbook(path, keep_vba=True)
    assert book["My notes"]["A1"].value == "budget check" and book["My notes"]["B1"].value == "=SUM(1,2)"
    assert "_xlwings.conf" in book.sheetnames and {"RFIs", "Projects"} <= set(book.sheetnames)


def test_failed_sheet_is_recorded_and_others_refresh(service, tmp_path):
    path = tmp_path / "report.xlsx"
    new_workbook(path, REPORTS[:2], service, progress=False)
    book = openpyxl.load_workbook(path)
    entry = read_registry(OpenpyxlWorkbook(book))[0]
    rows_before = book["RFIs"]["B5"].value
    book["RFIs"].cell(PARAM_FIRST_ROW + list(entry.params).index("project"), 2).value = "Nowhere"
    book.save(path)
    result = refresh_workbook(path, service, progress=False)
    assert result.refreshed == ["Projects"] and result.failed == ["RFIs"]
    book = openpyxl.load_workbook(path)
    assert book["RFIs"]["B2"].value == "Failed" and 'Unknown project "Nowhere"' in book["RFIs"]["B7"].value
    assert book["RFIs"]["B5"].value == rows_before and table_of(book["RFIs"]).displayName == "tbl_RFIs"


def test_refresh_dying_half_way_leaves_the_file_intact(service, tmp_path, monkeypatch):
    path = make_xlsm(tmp_path / "procore.xlsm")
    new_workbook(path, REPORTS, service, template=path, progress=False)
    digest = sha(path)
    calls = {"n": 0}
    real_write = PackageWorkbook.write_table

    def dies_on_second_table(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed half-way")
        return real_write(self, *args, **kwargs)
    monkeypatch.setattr(PackageWorkbook, "write_table", dies_on_second_table)
    with pytest.raises(KeyboardInterrupt):
        refresh_workbook(path, service, progress=False)
    assert sha(path) == digest and not list(tmp_path.glob(".~*"))


def test_save_failing_half_way_leaves_the_file_intact(service, tmp_path, monkeypatch):
    path = tmp_path / "report.xlsx"
    new_workbook(path, REPORTS[:1], service, progress=False)
    digest = sha(path)

    def disk_full(self, filename):
        Path(filename).write_bytes(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(PackageWorkbook, "save", disk_full)
    with pytest.raises(OSError):
        refresh_workbook(path, service, progress=False)
    assert sha(path) == digest and not list(tmp_path.glob(".~*"))


def test_workbook_without_report_sheets_is_a_clear_error(service, tmp_path):
    path = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(Exception, match="has no Procore report sheets"):
        refresh_workbook(path, service, progress=False)


def test_no_secret_in_the_workbook(service, settings, tmp_path):
    path = tmp_path / "report.xlsx"
    new_workbook(path, REPORTS[:1], service, progress=False)
    token = KeyringTokenStore().load(settings.key)
    blob = b"".join(parts(path).values())
    for secret in (token["access_token"], token["refresh_token"], settings.client_secret):
        assert secret.encode() not in blob
    assert layout.REGISTRY_SHEET in openpyxl.load_workbook(path).sheetnames


def test_refresh_process_killed_half_way_leaves_the_file_intact(sandbox, settings, service, tmp_path, monkeypatch):
    """`procore-xl refresh` in its own process, SIGKILLed while it is fetching: the workbook's
    bytes are unchanged and no temporary file is left; a second run then completes."""
    import os
    import signal
    import subprocess
    import sys
    import time

    book = make_xlsm(tmp_path / "book.xlsm")
    new_workbook(book, REPORTS, service, template=book, progress=False)
    before = book.read_bytes()
    # the refresh signs in as the service account and the sheets name their company: Procore's
    # rule (company header on /companies too) would need company ids there; not what this tests
    monkeypatch.setattr(sandbox.config, "service_account_needs_company_header", False)
    env = {**os.environ, "PROCORE_LOGIN_URL": settings.login_url, "PROCORE_API_URL": settings.api_url,
           "PROCORE_CLIENT_ID": settings.client_id, "PROCORE_CLIENT_SECRET": settings.client_secret,
           "PROCORE_XL_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "procore_xl", "refresh", str(book), "-q"]

    sandbox.faults.latency_ms = 400                 # slow enough to kill it mid-refresh
    sandbox.reset_counts()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while sandbox.path_counts.get("/rest/v1.0/companies", 0) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)                            # it is fetching now
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert book.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".~")) == []

    sandbox.faults.latency_ms = 0
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert book.read_bytes() != before
    assert {e.sheet for e in read_registry(OpenpyxlWorkbook(openpyxl.load_workbook(book, keep_vba=True)))} == \
        {"RFIs", "Projects", "Trades"}



def test_a_renamed_report_sheet_is_followed_and_a_deleted_one_forgotten(service, tmp_path):
    path = tmp_path / "book.xlsx"
    new_workbook(path, REPORTS[1:], service, progress=False)          # Projects, Trades
    book = openpyxl.load_workbook(path)
    book["Projects"].title = "All projects"                          # the person renames one sheet
    del book["Trades"]                                               # and deletes the other
    book.save(path)
    outcome = refresh_workbook(path, service, progress=False)
    assert outcome.refreshed == ["All projects"] and outcome.failed == []
    entries = read_registry(OpenpyxlWorkbook(openpyxl.load_workbook(path)))
    assert [(e.sheet, e.report) for e in entries] == [("All projects", "Projects")]


@pytest.mark.parametrize("typed", ['{"company": "Harbor', "[1, 2]", "notes"])
def test_a_registry_row_whose_parameters_no_longer_read_is_healed_from_the_sheet(service, tmp_path, typed):
    """The hidden _procore sheet's Parameters cell typed over or cut short: the parameter names come
    from the sheet's labels, the refresh runs with the cells' values and writes the row whole again
    (it failed with "Company is required" although the sheet named the company)."""
    path = tmp_path / "book.xlsx"
    new_workbook(path, REPORTS[:1], service, progress=False)
    book = openpyxl.load_workbook(path)
    before = read_registry(OpenpyxlWorkbook(book))[0].params
    book["RFIs"].cell(PARAM_FIRST_ROW + list(before).index("project"), 2).value = "Pier 39 Retrofit"
    book[layout.REGISTRY_SHEET]["D2"] = typed
    book.save(path)
    outcome = refresh_workbook(path, service, progress=False)
    assert outcome.refreshed == ["RFIs"] and outcome.failed == []
    book = openpyxl.load_workbook(path)
    (entry,) = read_registry(OpenpyxlWorkbook(book))
    assert entry.params == {**before, "project": "Pier 39 Retrofit"} and not entry.damaged
    assert book["RFIs"]["B2"].value == "OK" and table_of(book["RFIs"]).ref.startswith(f"A{layout.TABLE_HEADER_ROW}:")


def test_a_table_converted_to_a_range_is_named_as_the_reason(service, tmp_path):
    """The person's Convert to Range (or a deleted table) leaves the last data where the table goes:
    the sheet fails, keeps it, and says the table is gone (it said only that cells are in the way,
    which were the sheet's own)."""
    path = tmp_path / "book.xlsx"
    new_workbook(path, REPORTS[2:], service, progress=False)          # Trades
    book = openpyxl.load_workbook(path)
    rows = book["Trades"].max_row
    del book["Trades"].tables[table_of(book["Trades"]).displayName]
    book.save(path)
    outcome = refresh_workbook(path, service, progress=False)
    assert outcome.failed == ["Trades"]
    sheet = openpyxl.load_workbook(path)["Trades"]
    assert sheet["B2"].value == "Failed" and sheet.max_row == rows
    assert "its table tbl_Trades is no longer in the sheet (converted to a range or deleted)" in sheet["B7"].value


def param_cells(book, sheet):
    """Label -> (value, number format) of the parameter cells of a report sheet."""
    ws, cells = book[sheet], {}
    row = PARAM_FIRST_ROW
    while ws.cell(row, 1).value:
        cells[ws.cell(row, 1).value] = (ws.cell(row, 2).value, ws.cell(row, 2).number_format)
        row += 1
    return cells


def test_a_pulled_workbook_looks_exactly_like_a_refreshed_one(service, tmp_path):
    """`procore-xl pull --out x.xlsx` (write_results_workbook over a run already made) and a
    refresh record the run the same way: names, applied defaults, registry."""
    from procore_xl.excel.refresh import write_results_workbook

    given = {"company": 8001, "project": "91001"}               # ids, as typed on a command line
    pulled = write_results_workbook(tmp_path / "pulled.xlsx", [(given, service.run("RFIs", given))])
    refreshed = tmp_path / "refreshed.xlsx"
    shutil.copy(pulled, refreshed)
    assert refresh_workbook(refreshed, service, progress=False).failed == []
    a, b = openpyxl.load_workbook(pulled), openpyxl.load_workbook(refreshed)
    cells = param_cells(a, "RFIs")
    assert cells["Company"][0] == "Harbor Tower Builders" and cells["Project Filter"][0] == "active"
    assert cells["Project"][0] == "Harbor Tower" and cells["Sub Report"][0] == "none"
    assert cells == param_cells(b, "RFIs")
    assert read_registry(OpenpyxlWorkbook(a))[0] == read_registry(OpenpyxlWorkbook(b))[0]
    # report, status, rows (not requests: the refresh after the pull asks only for changes)
    assert [a["RFIs"].cell(r, 2).value for r in (1, 2, 5)] == [b["RFIs"].cell(r, 2).value for r in (1, 2, 5)]


def test_dates_typed_in_parameter_cells_stay_dates(service, tmp_path):
    path = tmp_path / "logs.xlsx"
    new_workbook(path, [("Manpower Logs", {"company": 8001, "project": 91001, "start_date": "2025-11-01",
                                           "end_days_back": 3})], service, progress=False)
    book = openpyxl.load_workbook(path)
    cells = param_cells(book, "Manpower Logs")
    assert cells["Start Date"] == (dt.datetime(2025, 11, 1), "yyyy-mm-dd")
    assert cells["End Date (days back)"][0] == 3 and cells["End Date"][0] is None
    # the person types a date over the text of another cell, the way Excel stores one
    rows = {label: PARAM_FIRST_ROW + i for i, label in enumerate(cells)}
    ws = book["Manpower Logs"]
    ws.cell(rows["Start Date"], 2).value = dt.datetime(2025, 10, 15)
    ws.cell(rows["Start Date"], 2).number_format = "m/d/yyyy"
    book.save(path)
    assert refresh_workbook(path, service, progress=False).failed == []
    cells = param_cells(openpyxl.load_workbook(path), "Manpower Logs")
    assert cells["Start Date"] == (dt.datetime(2025, 10, 15), "yyyy-mm-dd")       # not '2025-10-15'
    assert cells["End Date (days back)"] == (3, "General")                         # still relative
    assert cells["Report Date"][0] is None


def test_progress_bar_only_on_a_terminal(service, tmp_path, capsys, monkeypatch):
    import fcntl
    import io
    import os
    import select
    import struct
    import sys
    import termios

    path = tmp_path / "report.xlsx"
    new_workbook(path, REPORTS[2:], service, progress=True)          # stderr is captured: no bar
    refresh_workbook(path, service, progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err and "sheet" not in err

    master, slave = os.openpty()                                     # a real terminal: the bar shows
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))   # 120 columns wide
    try:
        tty = io.TextIOWrapper(io.FileIO(slave, "w", closefd=False), write_through=True)
        monkeypatch.setattr(sys, "stderr", tty)
        refresh_workbook(path, service, progress=True)
        tty.flush()
        shown = b""
        while select.select([master], [], [], 0)[0]:
            shown += os.read(master, 65536)
        assert b"Refreshing report.xlsx" in shown
    finally:
        monkeypatch.undo()
        os.close(master)
        os.close(slave)


def test_saving_into_a_missing_folder_says_so_before_any_request(service, sandbox, tmp_path):
    from procore_xl.errors import ConfigurationError
    from procore_xl.excel.refresh import write_results_workbook

    missing = tmp_path / "no such folder" / "report.xlsx"
    sandbox.reset_counts()
    with pytest.raises(ConfigurationError, match=r"^Folder .*no such folder does not exist"):
        new_workbook(missing, REPORTS[2:], service, progress=False)
    assert sandbox.requests == 0
    run = service.run("Trades", {"company": 8001})
    with pytest.raises(ConfigurationError, match=r"^Folder .*no such folder does not exist") as err:
        write_results_workbook(missing, [({"company": 8001}, run)])
    assert ".~" not in str(err.value) and not missing.parent.exists()


def test_workbook_file_types_are_checked_up_front(service, sandbox, tmp_path):
    from procore_xl.errors import ConfigurationError

    template = make_xlsm(tmp_path / "procore.xlsm")
    sandbox.reset_counts()
    with pytest.raises(ConfigurationError, match=r"must end in \.xlsm .* use out\.xlsm"):
        new_workbook(tmp_path / "out.xlsx", REPORTS[2:], service, template=template, progress=False)
    with pytest.raises(ConfigurationError, match=r"--template procore\.xlsm"):
        new_workbook(tmp_path / "out.xlsm", REPORTS[2:], service, progress=False)
    with pytest.raises(ConfigurationError, match=r"must end in \.xlsx"):
        new_workbook(tmp_path / "out.csv", REPORTS[2:], service, progress=False)
    assert sandbox.requests == 0 and not list(tmp_path.glob("out*"))
    built = new_workbook(tmp_path / "ok.xlsm", REPORTS[2:], service, template=template, progress=False)
    assert built.failed == [] and b"macroEnabled" in parts(tmp_path / "ok.xlsm")["[Content_Types].xml"]


def test_refreshing_something_that_is_not_a_workbook_is_a_clear_error(service, tmp_path):
    from procore_xl.errors import ConfigurationError

    csv = tmp_path / "data.csv"
    csv.write_text("id,name\n1,a\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    for target in (csv, folder):
        with pytest.raises(ConfigurationError, match="is not an Excel workbook procore-xl can read"):
            refresh_workbook(target, service, progress=False)


def _cells(ws):
    return {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}


@pytest.mark.parametrize("change", ["insert above", "delete inside"])
def test_a_moved_parameter_block_fails_the_sheet_and_writes_nothing_into_it(service, tmp_path, change):
    """Rows inserted above (or deleted inside) a report sheet's parameter block: the cells no
    longer sit beside their names. The sheet fails with a message naming it and the move, and
    nothing is written into it (its values bound to the wrong names: 'Unknown columns choice
    "Harbor Tower"', and Status/Message were written over the person's shifted cells)."""
    path = tmp_path / "book.xlsx"
    new_workbook(path, REPORTS[:2], service, progress=False)          # RFIs, Projects
    book = openpyxl.load_workbook(path)
    if change == "insert above":
        book["RFIs"].insert_rows(1, 2)
        book["RFIs"]["A1"] = "my title"
    else:
        book["RFIs"].delete_rows(3)                                   # the Refreshed row
    book.save(path)
    before = _cells(openpyxl.load_workbook(path)["RFIs"])
    outcome = refresh_workbook(path, service, progress=False)
    assert outcome.failed == ["RFIs"] and outcome.refreshed == ["Projects"]
    reason = outcome.reasons["RFIs"]
    assert 'Sheet "RFIs" was not refreshed: its parameter block was moved or changed' in reason
    assert ("now start in A3 instead of A1" in reason) == (change == "insert above")
    assert _cells(openpyxl.load_workbook(path)["RFIs"]) == before


def test_a_moved_parameter_block_in_live_excel_is_left_alone_with_an_alert(service):
    """The add-in's Refresh does what the headless refresh does (see above)."""
    from procore_xl.addin import actions
    from procore_xl.addin.xlwings_writer import XlwingsWorkbook
    from procore_xl.excel.report_sheet import create_report_sheet
    from test_excel_fake_xlwings import FakeBook

    book = FakeBook(["My notes"])
    wb = XlwingsWorkbook(book)
    create_report_sheet(wb, "RFIs", {"company": "Harbor Tower Builders", "project": 91001})
    sheet = book.sheets["RFIs"]
    sheet.cells = {(r + 1, c): v for (r, c), v in sheet.cells.items()}    # a row inserted above
    sheet.cells[(1, 1)] = "my title"
    before = dict(sheet.cells)
    assert actions.refresh_sheet(wb, service, "RFIs") is False
    assert sheet.cells == before and not sheet.tables
    (alert,) = book.app.alerts
    assert 'Sheet "RFIs" was not refreshed' in alert and "now start in A2 instead of A1" in alert


def test_a_deleted_lists_sheet_is_made_again_by_a_refresh(service, tmp_path):
    """The hidden _lists sheet behind the dropdowns deleted: a refresh makes it again (hidden) and
    points the dropdowns' names at it (they pointed at a missing sheet: every dropdown broken)."""
    path = tmp_path / "book.xlsx"
    new_workbook(path, REPORTS[:1], service, progress=False)
    book = openpyxl.load_workbook(path)
    del book[layout.LISTS_SHEET]
    book.save(path)
    outcome = refresh_workbook(path, service, progress=False)
    assert outcome.refreshed == ["RFIs"] and outcome.failed == []
    book = openpyxl.load_workbook(path)
    assert book[layout.LISTS_SHEET].sheet_state == "hidden" and book["RFIs"]["B2"].value == "OK"
    for name in layout.LIST_NAMES.values():
        assert parse_target(book.defined_names[name].attr_text)[0] == layout.LISTS_SHEET, name
    wb = PackageWorkbook(path)
    assert wb.name_target("ProcoreCompanies")[0] == layout.LISTS_SHEET
    wb.close()
    again = tmp_path / "again.xlsx"                  # a second refresh keeps one sheet and one name each
    shutil.copy(path, again)
    assert refresh_workbook(again, service, progress=False).failed == []
    book = openpyxl.load_workbook(again)
    assert book.sheetnames.count(layout.LISTS_SHEET) == 1


@pytest.mark.parametrize("button", ["refresh_all", "refresh_sheet"])
def test_a_deleted_lists_sheet_is_made_again_in_live_excel(service, button):
    """The add-in's refresh does the same (Excel turns the names of a deleted sheet into #REF!)."""
    from procore_xl.addin import actions
    from procore_xl.addin.xlwings_writer import XlwingsWorkbook
    from procore_xl.excel.report_sheet import create_report_sheet
    from test_excel_fake_xlwings import FakeBook

    book = FakeBook(["My notes"])
    wb = XlwingsWorkbook(book)
    create_report_sheet(wb, "RFIs", {"company": "Harbor Tower Builders", "project": 91001})
    book.sheets._items.remove(book.sheets[layout.LISTS_SHEET])         # the person deletes _lists
    for name in layout.LIST_NAMES.values():
        book.names.add(name, "=#REF!$A$2:$A$2")
    book.sheets["RFIs"].activate()
    if button == "refresh_all":
        assert actions.refresh_all(wb, service) == (["RFIs"], [])
    else:
        assert actions.refresh_sheet(wb, service, "RFIs") is True
    assert not book.sheets[layout.LISTS_SHEET].visible and book.sheets.active.name == "RFIs"
    for name in layout.LIST_NAMES.values():
        assert wb.name_target(name)[0] == layout.LISTS_SHEET, name


def test_the_plan_of_a_workbook_with_a_moved_parameter_block_says_so(service, tmp_path):
    """`refresh --plan` reads the parameter cells the same way: a moved block is named, not counted
    with values bound to the wrong names."""
    from procore_xl.errors import ConfigurationError
    from procore_xl.excel.refresh import plan_workbook

    path = tmp_path / "book.xlsx"
    new_workbook(path, REPORTS[:1], service, progress=False)
    book = openpyxl.load_workbook(path)
    book["RFIs"].insert_rows(1)
    book.save(path)
    with pytest.raises(ConfigurationError, match='Sheet "RFIs" was not refreshed: its parameter block was moved'):
        plan_workbook(path, service)
