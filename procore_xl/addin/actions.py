"""What the ribbon buttons do, on any WorkbookWriter (live Excel, a file, a test fake).

``procore_xl.addin.macros`` wraps each of these around ``xw.Book.caller()``; tests and the CLI call
them with the openpyxl writer. Problems a person can act on raise ProcoreError; the macro
layer shows them in a message box.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..analyses import find_analysis
from ..catalog import find_report
from ..environments import ENVIRONMENTS, load_settings
from ..errors import ConfigurationError, ParameterError
from ..parameters import SPECS
from ..excel import layout
from ..excel.analysis_layout import TableInfo, lay_out
from ..excel.analysis_sheet import source_reports
from ..excel.base import WorkbookWriter
from ..excel.dropdowns import compute_lists, repair_lists, start_context, write_lists
from ..excel.registry import Entry, find_entry
from ..excel.report_sheet import (create_report_sheet, moved_block, read_parameters, refresh_report_sheet,
                                  refresh_report_sheets, sheet_name_for)
from ..service import ProcoreService
from . import udfs
from .session import get_service, set_service

NAME_ENVIRONMENT = layout.NAME_ENVIRONMENT   # the Start-sheet cell holding the environment


def _read_name(wb: WorkbookWriter, name: str) -> Any:
    target = wb.name_target(name)
    if target is None or target[0] not in wb.sheet_names():
        return None
    sheet, (r, c, _, _) = target
    return wb.read(sheet, r, c, 1, 1)[0][0]


def workbook_service(wb: WorkbookWriter) -> ProcoreService:
    """The shared service, switched to the workbook's environment when the workbook names one."""
    env = _read_name(wb, NAME_ENVIRONMENT)
    env = str(env).strip().lower() if env not in (None, "") else None
    service = get_service()
    if env and env != service.settings.env:
        if env not in ENVIRONMENTS:
            raise ConfigurationError(f'Unknown Procore environment "{env}" in {NAME_ENVIRONMENT} - use one of: '
                                     + ", ".join(ENVIRONMENTS))
        service = ProcoreService(load_settings(env=env))
        set_service(service)
        udfs.clear_cache()
    return service


def choose_environment(wb: WorkbookWriter) -> str:
    """Apply the environment picked in the workbook (name ProcoreEnvironment); returns a
    line for the person."""
    service = workbook_service(wb)
    return (f"Procore environment: {service.settings.env} ({service.settings.api_url}). "
            f"Use Connect to sign in to it.")


def context_for(wb: WorkbookWriter) -> dict[str, Any]:
    """Company / project / contract / report for dependent lists: the active report sheet's
    parameters when a report sheet is active, else the Start sheet's picks."""
    ctx = start_context(wb)
    active = wb.active_sheet()
    entry = find_entry(wb, active) if active else None
    if entry is not None and not moved_block(wb, entry):     # (moved: its cells name other things)
        ctx["report"] = entry.report
        ctx.update({k: v for k, v in read_parameters(wb, entry).items()
                    if k in ("company", "project_filter", "project", "contract")})
    return ctx


def update_dropdowns(wb: WorkbookWriter, service: Any) -> list[str]:
    """Refresh every list on ``_lists``; returns notes about lists left empty."""
    wb.status("Procore: updating dropdown lists...")
    try:
        service.invalidate(lists=True)
        lists, notes = compute_lists(service, context_for(wb))
        write_lists(wb, lists)
        return notes
    finally:
        wb.status(None)


def connect(wb: WorkbookWriter, service: Any, *, open_browser: Callable[[str], Any] | None = None) -> str:
    """Browser sign-in, then fresh dropdowns. Returns "Signed in as ..."."""
    wb.status("Procore: finish signing in in your browser...")
    try:
        who = service.login(open_browser=open_browser)
    finally:
        wb.status(None)
    udfs.clear_cache()
    update_dropdowns(wb, service)
    return f"Signed in to Procore as {who.get('name') or who.get('login') or who.get('id')}"


def sign_out(wb: WorkbookWriter, service: Any) -> str:
    service.logout()
    udfs.clear_cache()
    return "Signed out of Procore"


def insert_analysis(wb: WorkbookWriter, service: Any) -> str:
    """The analysis picked on the Start sheet: its report sheets (for the Start sheet's company
    and project), filled, then the analysis sheet over their tables. Live Excel only (a file gets
    its analyses from ``procore-xl new-workbook --analysis``). Returns the analysis sheet's name."""
    ctx = start_context(wb)
    if not ctx.get("analysis"):
        raise ParameterError(f"Pick an analysis on the {layout.START_SHEET} sheet "
                             f"(cell {layout.START_CELLS['analysis']}) first", parameter="analysis")
    analysis = find_analysis(str(ctx["analysis"]))
    if not hasattr(wb, "write_analysis"):
        raise ConfigurationError("Insert analysis works in Excel; for a file use "
                                 f'procore-xl new-workbook --analysis "{analysis.name}"')
    given = {k: ctx[k] for k in ("company", "project_filter", "project") if k in ctx}
    entries = {}
    for source, (report, params) in zip(analysis.sources, source_reports(analysis, given)):
        entry = create_report_sheet(wb, report, params)
        wb.status(f"Procore: loading {report}...")
        try:
            refresh_report_sheet(wb, entry, service)
        finally:
            wb.status(None)
        entries[source.name] = entry
    tables = {}
    for name, entry in entries.items():
        header = tuple(n for n, _ in wb.table_columns(entry.sheet, entry.table))
        tables[name] = TableInfo(entry.sheet, entry.table, header) if header else None
    sheet = sheet_name_for(analysis.sheet, wb.sheet_names())
    wb.add_sheet(sheet)
    wb.write_analysis(lay_out(analysis, sheet, tables))
    udfs.clear_cache()
    wb.activate(sheet)
    return sheet


def insert_report(wb: WorkbookWriter, service: Any) -> Entry:
    """A new sheet for the report picked on the Start sheet, filled with its data."""
    ctx = start_context(wb)
    if not ctx.get("report"):
        raise ParameterError(f"Pick a report on the {layout.START_SHEET} sheet "
                             f"(cell {layout.START_CELLS['report']}) first", parameter="report")
    report = find_report(ctx["report"])
    params = {k: ctx[k] for k in ("company", "project_filter", "project") if k in ctx and k in report.parameters}
    entry = create_report_sheet(wb, report.name, params)
    if any(SPECS[k].list_name not in (None, "companies", "projects") for k in entry.params):
        update_dropdowns(wb, service)     # its contract / vendor / area... cells get current lists
    wb.status(f"Procore: loading {report.name}...")
    try:
        refresh_report_sheet(wb, entry, service)
    finally:
        wb.status(None)
    udfs.clear_cache()
    wb.activate(entry.sheet)
    return entry


def refresh_sheet(wb: WorkbookWriter, service: Any, sheet: str | None = None) -> bool:
    """Refresh one report sheet (the active one by default)."""
    sheet = sheet or wb.active_sheet()
    entry = find_entry(wb, sheet) if sheet else None
    if entry is None:
        raise ParameterError(f'"{sheet}" is not a Procore report sheet - use Insert report, '
                             f"or go to a report sheet and Refresh")
    service.invalidate()
    udfs.clear_cache()
    repair_lists(wb)
    wb.status(f"Procore: refreshing {entry.sheet}...")
    try:
        return refresh_report_sheet(wb, entry, service)
    finally:
        wb.status(None)


def refresh_all(wb: WorkbookWriter, service: Any,
                on_sheet: Callable[[Entry, bool], None] | None = None) -> tuple[list[str], list[str]]:
    """Refresh every registered report sheet (``report_sheet.refresh_report_sheets``), the UDF
    results forgotten; returns (refreshed, failed) sheet names."""
    return refresh_report_sheets(wb, service, on_sheet, forget=udfs.clear_cache)


def summary(ok: list[str], failed: list[str]) -> str:
    text = f"Refreshed {len(ok)} sheet(s)"
    if failed:
        text += f"; {len(failed)} failed (see Status/Message on each): " + ", ".join(failed)
    return text
