"""Each ribbon entry point, run as Excel runs it (``xw.Book.caller()`` -> a fake xlwings book),
against the sandbox over loopback with a real sign-in."""
from __future__ import annotations

import webbrowser

import pytest
import xlwings as xw

from procore_xl.addin import macros
from procore_xl.excel import layout
from procore_xl.excel.registry import find_entry, read_registry
from procore_xl.excel.report_sheet import PARAM_FIRST_ROW, header_row
from procore_xl.addin.session import get_service, set_service
from procore_xl.sandbox.entities import CONTRACTS
from procore_xl.service import ProcoreService
from procore_xl.tokens import KeyringTokenStore
from test_excel_fake_xlwings import FakeBook


def start_book(report="RFIs", company="Harbor Tower Builders", project="Harbor Tower", analysis=None) -> FakeBook:
    """A workbook like procore.xlsm: a Start sheet whose picks are workbook names."""
    book = FakeBook(["Start"])
    start = book.sheets["Start"]
    for key, value in (("company", company), ("project", project), ("report", report), ("analysis", analysis)):
        start.range(layout.START_CELLS[key]).value = value
    for key, name in layout.START_NAMES.items():
        cell = layout.START_CELLS[key]
        book.names.add(name, f"=Start!${cell[0]}${cell[1:]}")
    return book


@pytest.fixture
def caller(monkeypatch):
    """Makes xw.Book.caller() return the given fake book (what RunPython hands us on Windows)."""
    def use(book):
        monkeypatch.setattr(xw.Book, "caller", staticmethod(lambda: book))
        return book
    return use


def table_rows(book, sheet):
    (table,) = list(book.sheets[sheet].tables)
    return table.range.options(ndim=2).value[1:]


def rfi_count(sandbox, project_id):
    return len(sandbox.world.records("rfis", sandbox.world.project(project_id)))


def test_entry_points_are_the_published_ones():
    assert [m.__name__ for m in macros.MACROS] == [
        "connect", "sign_out", "choose_environment", "insert_report", "insert_analysis", "refresh_sheet",
        "refresh_sheet_full",
        "refresh_all", "update_dropdowns"]


def test_insert_report(excel_service, sandbox, caller):
    book = caller(start_book())
    macros.insert_report()
    assert book.app.alerts == []
    sheet = book.sheets["RFIs"]
    assert book.sheets.active is sheet
    assert sheet.cells[(2, 2)] == "OK" and len(table_rows(book, "RFIs")) == rfi_count(sandbox, 91001)
    entry = find_entry(macros.XlwingsWorkbook(book), "RFIs")
    assert entry.params["company"] == "Harbor Tower Builders" and entry.params["project"] == "Harbor Tower"
    assert book.app.status_history[0] == "Procore: loading RFIs..." and book.app.status_bar is False


def test_refresh_sheet_reads_the_parameter_cells(excel_service, sandbox, caller):
    book = caller(start_book())
    macros.insert_report()
    wb = macros.XlwingsWorkbook(book)
    entry = find_entry(wb, "RFIs")
    row = PARAM_FIRST_ROW + list(entry.params).index("project")
    book.sheets["RFIs"].range((row, 2)).value = 91002.0            # the person picks another project
    macros.refresh_sheet()
    assert book.app.alerts == []
    assert len(table_rows(book, "RFIs")) == rfi_count(sandbox, 91002)
    name = sandbox.world.project(91002)["name"]                     # the cell now shows the project's name
    assert find_entry(wb, "RFIs").params["project"] == name
    assert book.sheets["RFIs"].range((row, 2)).value == name


def test_refresh_all_keeps_failed_sheets(excel_service, sandbox, caller):
    book = caller(start_book())
    macros.insert_report()
    book.sheets["Start"].range(layout.START_CELLS["report"]).value = "Projects"
    macros.insert_report()
    wb = macros.XlwingsWorkbook(book)
    before = table_rows(book, "RFIs")
    entry = find_entry(wb, "RFIs")
    book.sheets["RFIs"].range((PARAM_FIRST_ROW + list(entry.params).index("project"), 2)).value = "No Such Project"
    book.app.alerts.clear()
    macros.refresh_all()
    assert book.app.alerts == ["Refreshed 1 sheet(s); 1 failed (see Status/Message on each): RFIs"]
    rfis = book.sheets["RFIs"]
    assert rfis.cells[(2, 2)] == "Failed" and 'Unknown project "No Such Project"' in rfis.cells[(7, 2)]
    assert table_rows(book, "RFIs") == before
    assert book.sheets["Projects"].cells[(2, 2)] == "OK"
    assert [e.sheet for e in read_registry(wb)] == ["RFIs", "Projects"]
    assert any(str(s).startswith("Procore: refreshing Projects (2 of 2)") for s in book.app.status_history)


def test_update_dropdowns_follow_the_start_sheet(excel_service, sandbox, caller):
    book = caller(start_book())
    macros.update_dropdowns()
    lists = book.sheets[layout.LISTS_SHEET]
    assert lists.visible is False

    def labels(list_name):
        ref = book.names[layout.LIST_NAMES[list_name]].refers_to
        return [r[0] for r in lists.range(ref.split("!")[1].replace("$", "")).options(ndim=2).value]
    assert labels("companies") == ["Coastal Civil Group", "Harbor Tower Builders"]
    active = [p["name"] for p in sandbox.world.company_projects(8001) if p["active"]]
    assert sorted(labels("projects")) == sorted(active)
    assert "RFIs" in labels("reports") and labels("project_filters") == ["active", "inactive", "all"]
    book.sheets["Start"].range(layout.START_CELLS["company"]).value = 8002.0
    macros.update_dropdowns()
    assert "Marina Seawall" in labels("projects") and "Harbor Tower" not in labels("projects")


def test_report_sheet_dropdowns_point_at_the_lists(excel_service, caller):
    book = caller(start_book())
    macros.insert_report()
    v = book.sheets["RFIs"].validations
    assert v[(PARAM_FIRST_ROW, 2)] == "ProcoreCompanies"
    assert (header_row(find_entry(macros.XlwingsWorkbook(book), "RFIs")), 2) not in v


def test_connect_signs_in_with_the_browser_and_sign_out_forgets(settings, keyring_backend, browser,
                                                                sandbox, caller, monkeypatch):
    svc = ProcoreService(settings, KeyringTokenStore())
    set_service(svc)
    monkeypatch.setattr(webbrowser, "open", browser)
    book = caller(start_book())
    try:
        macros.connect()
        assert book.app.alerts == ["Signed in to Procore as Dana Reyes"]
        assert browser.opened and KeyringTokenStore().load(settings.key)["access_token"]
        assert "Harbor Tower" in [c for c, in book.sheets["_lists"].range("B2:B9").options(ndim=2).value]
        macros.sign_out()
        assert book.app.alerts[-1] == "Signed out of Procore"
        assert KeyringTokenStore().load(settings.key) is None
    finally:
        set_service(None)


def test_not_signed_in_is_a_message_box(settings, keyring_backend, caller):
    import dataclasses
    set_service(ProcoreService(dataclasses.replace(settings, client_secret=None), KeyringTokenStore()))
    book = caller(start_book())
    try:
        macros.update_dropdowns()
        assert book.app.alerts == ["Not signed in to Procore - use Procore > Connect"]
    finally:
        set_service(None)


def test_refresh_on_a_plain_sheet_says_what_to_do(excel_service, caller):
    book = caller(start_book())
    macros.refresh_sheet()
    assert book.app.alerts == ['"Start" is not a Procore report sheet - use Insert report, or go to a '
                               'report sheet and Refresh']


def test_insert_report_without_a_pick(excel_service, caller):
    book = caller(start_book(report=None))
    macros.insert_report()
    assert book.app.alerts == ["Pick a report on the Start sheet (cell C8) first"]


def test_choose_environment(excel_service, caller, monkeypatch):
    book = caller(start_book())
    book.sheets["Start"].range("C2").value = "moon"
    book.names.add("ProcoreEnvironment", "=Start!$C$2")
    macros.choose_environment()
    assert book.app.alerts[-1].startswith('Unknown Procore environment "moon"')
    monkeypatch.setenv("PROCORE_CLIENT_ID", "my-app")
    book.sheets["Start"].range("C2").value = "Sandbox"
    macros.choose_environment()
    assert book.app.alerts[-1] == ("Procore environment: sandbox (https://sandbox.procore.com). "
                                   "Use Connect to sign in to it.")
    assert get_service() is not excel_service and get_service().settings.env == "sandbox"


def test_insert_a_report_that_needs_a_parent_then_pick_it_from_the_dropdown(excel_service, sandbox, caller):
    book = caller(start_book(report="Drawings"))
    macros.insert_report()                                           # no drawing area picked yet
    sheet = book.sheets["Drawings"]
    assert sheet.cells[(2, 2)] == "Failed" and "Drawing Area is required" in sheet.cells[(7, 2)]
    wb = macros.XlwingsWorkbook(book)
    areas = wb.name_target(layout.LIST_NAMES["drawing_areas"])
    assert areas is not None
    listed = [row[0] for row in wb.read(areas[0], areas[1][0], areas[1][1], areas[1][2] - areas[1][0] + 1, 1)]
    expected = sorted(a["name"] for a in sandbox.world.records("drawing_areas", sandbox.world.project(91001)))
    assert sorted(listed) == expected                                # the dropdown was filled for this project
    entry = find_entry(wb, "Drawings")
    row = PARAM_FIRST_ROW + list(entry.params).index("drawing_area")
    sheet.range((row, 2)).value = listed[0]                         # the person picks an area
    macros.refresh_sheet()
    assert sheet.cells[(2, 2)] == "OK"
    area = next(a for a in sandbox.world.records("drawing_areas", sandbox.world.project(91001))
                if a["name"] == listed[0])
    assert len(table_rows(book, "Drawings")) == len(sandbox.world.records("drawings", area))


def test_inserted_sheet_has_its_sub_reports_and_keeps_typed_dates(excel_service, sandbox, caller):
    import datetime as dt

    from procore_xl.catalog import find_report
    from procore_xl.parameters import sub_report_choices

    book = caller(start_book(report="Manpower Logs"))
    macros.insert_report()
    sheet = book.sheets["Manpower Logs"]
    rows = {k: PARAM_FIRST_ROW + i for i, k in enumerate(find_entry(macros.XlwingsWorkbook(book),
                                                                        "Manpower Logs").params)}
    assert sheet.validations[(rows["sub_report"], 2)] == sub_report_choices(find_report("Manpower Logs"))
    assert sheet.validations[(rows["project_filter"], 2)] == ["active", "inactive", "all"]
    sheet.range((rows["start_date"], 2)).value = dt.datetime(2025, 11, 1)   # what Excel hands back for a date
    sheet.range((rows["end_days_back"], 2)).value = 2.0
    macros.refresh_sheet()
    assert book.app.alerts == [] and sheet.cells[(2, 2)] == "OK"
    assert sheet.cells[(rows["start_date"], 2)] == dt.date(2025, 11, 1)      # a date, not '2025-11-01'
    assert sheet.formats[(rows["start_date"], 2)] == "yyyy-mm-dd"
    assert sheet.cells[(rows["end_days_back"], 2)] == 2.0


def test_refresh_runs_with_screen_updating_calculation_and_events_off(excel_service, sandbox, caller, monkeypatch):
    book = caller(start_book())
    seen = []
    real = macros.XlwingsWorkbook.write_table

    def watch(self, *args, **kwargs):                    # what Excel's settings are while the table is written
        seen.append((book.app.screen_updating, book.app.calculation, book.app.enable_events))
        return real(self, *args, **kwargs)
    monkeypatch.setattr(macros.XlwingsWorkbook, "write_table", watch)
    macros.insert_report()
    macros.refresh_sheet()
    assert seen == [(False, "manual", False)] * 2
    assert (book.app.screen_updating, book.app.calculation, book.app.enable_events) == (True, "automatic", True)

    def boom(self, *args, **kwargs):
        raise RuntimeError("Excel went away")
    monkeypatch.setattr(macros.XlwingsWorkbook, "write_table", boom)
    macros.refresh_all()                                 # a failure is a message box; settings restored
    assert book.app.alerts[-1].startswith("Procore: unexpected error - RuntimeError: Excel went away")
    assert (book.app.screen_updating, book.app.calculation, book.app.enable_events) == (True, "automatic", True)


def test_a_table_is_one_bulk_write_per_block_and_text_columns_need_no_apostrophe(excel_service, sandbox, caller):
    book = caller(start_book())
    macros.insert_report()
    wb = macros.XlwingsWorkbook(book)
    entry = find_entry(wb, "RFIs")
    top = header_row(entry)
    sheet = book.sheets["RFIs"]
    header = [sheet.cells.get((top, c)) for c in range(1, 60) if sheet.cells.get((top, c))]
    subject = header.index("Subject") + 1                # labels on an inserted sheet (issue 19)
    assert sheet.formats[(top + 1, subject)] == "@"      # Excel keeps these as text without an apostrophe
    book.app.writes = 0
    from procore_xl.excel import plans
    data = plans.table_data(excel_service.run("RFIs", {"company": 8001, "project": 91001}).frame)
    wb.write_table("RFIs", top, data, block_rows=50)
    blocks = -(-data.nrows // 50)
    assert book.app.writes == 1 + blocks                 # the header, then one write per block of rows


def test_insert_analysis_writes_the_layout_as_formulas_and_charts(excel_service, sandbox, caller):
    from procore_xl.analyses import find_analysis
    from procore_xl.excel.analysis_layout import TableInfo, lay_out

    book = caller(start_book(report=None, analysis="RFIs"))
    macros.insert_analysis()
    assert book.app.alerts == []
    sheet = book.sheets["RFI Analysis"]
    assert book.sheets.active is sheet and book.sheets["RFIs"].cells[(2, 2)] == "OK"
    entry = find_entry(macros.XlwingsWorkbook(book), "RFIs")
    header = tuple(n for n, _ in macros.XlwingsWorkbook(book).table_columns("RFIs", entry.table))
    layout = lay_out(find_analysis("RFIs"), "RFI Analysis", {"rfis": TableInfo("RFIs", entry.table, header)})
    formulas = {k: "=" + c.formula for k, c in layout.cells.items() if c.formula}
    assert {k: v for k, v in sheet.formulas.items()} == formulas
    assert sheet.formulas[(5, 2)] == '=COUNTIFS(tbl_RFIs[status],"open")' and sheet.cells[(5, 1)] == "Open RFIs"
    assert sheet.arrays == {k for k, c in layout.cells.items() if c.array} != set()
    assert [c.chart_type for c in sheet.charts] == ["bar_clustered", "column_clustered", "line_markers"]
    first = list(sheet.charts)[0].source.areas
    assert [(a.r1, a.c1, a.r2, a.c2) for a in first] == [(12, 1, 22, 1), (12, 2, 22, 2), (12, 3, 22, 3)]
    helper = layout.hidden_cols[0]
    assert sheet.widths.get(helper) == 0


def test_insert_analysis_without_a_pick(excel_service, caller):
    book = caller(start_book(report=None))
    macros.insert_analysis()
    assert book.app.alerts == ["Pick an analysis on the Start sheet (cell C9) first"]


# -- contract dropdowns ------------------------------------------------------------------------
def list_labels(book, list_name: str) -> list[str]:
    wb = macros.XlwingsWorkbook(book)
    sheet, (r1, c1, r2, _) = wb.name_target(layout.LIST_NAMES[list_name])
    return [row[0] for row in wb.read(sheet, r1, c1, r2 - r1 + 1, 1) if row[0] not in (None, "")]


def test_contract_dropdowns_list_the_projects_contracts_then_the_cors_of_the_one_picked(excel_service, sandbox, caller):
    world = sandbox.world
    project = world.project(91001)
    book = caller(start_book(report="Change Order Request Details"))
    macros.insert_report()           # needs a contract: the sheet waits for one, its dropdowns filled
    contracts = [c for kind in CONTRACTS for c in world.records(kind, project)]
    labels = list_labels(book, "contracts")
    assert len(labels) == len(contracts)
    for contract in contracts:       # every contract of the project (prime and commitments) by its title
        assert any(contract["title"] in label for label in labels), contract["title"]
    assert list_labels(book, "cors") == []          # no contract picked yet

    sheet_name = "Change Order Request Details"
    entry = find_entry(macros.XlwingsWorkbook(book), sheet_name)
    row = PARAM_FIRST_ROW + list(entry.params).index("contract")
    assert book.sheets[sheet_name].validations[(row, 2)] == layout.LIST_NAMES["contracts"]
    commitment = world.records("work_order_contracts", project)[0]
    picked = next(label for label in labels if commitment["title"] in label and commitment["number"] in label)
    book.sheets[sheet_name].range((row, 2)).value = picked          # the person picks the contract
    macros.update_dropdowns()                                       # with the report sheet active
    cors = world.records("change_order_requests", commitment)
    assert cors
    assert sorted(list_labels(book, "cors")) == sorted(f"{c['number']} - {c['title']}" for c in cors)
