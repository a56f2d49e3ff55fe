"""The hidden ``_procore`` sheet: which sheets are report sheets, and what they run.

One row per report sheet: sheet name, report name, table name, parameters (JSON, the
values last used). Refresh all, the CLI's headless refresh and the macros read it; nothing
secret is ever stored here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .base import WorkbookWriter
from .layout import REGISTRY_SHEET

HEADER = ["Sheet", "Report", "Table", "Parameters"]


@dataclass
class Entry:
    sheet: str
    report: str
    table: str
    params: dict[str, Any] = field(default_factory=dict)
    damaged: bool = False       # its Parameters cell did not read as a JSON object (the sheet's labels tell)
    problem: str = field(default="", compare=False)   # why the sheet was left alone (report_sheet.moved_block)

    @property
    def keys(self) -> list[str]:
        """Parameter names in the order of the sheet's parameter rows."""
        return list(self.params)


def _ensure(wb: WorkbookWriter) -> None:
    if REGISTRY_SHEET not in wb.sheet_names():
        wb.add_sheet(REGISTRY_SHEET, hidden=True)
        wb.write(REGISTRY_SHEET, 1, 1, [HEADER])


def read_registry(wb: WorkbookWriter) -> list[Entry]:
    """Every registered report sheet, in registry order (unreadable rows are skipped)."""
    if REGISTRY_SHEET not in wb.sheet_names():
        return []
    n = wb.last_row(REGISTRY_SHEET)
    entries = []
    for sheet, report, table, params in wb.read(REGISTRY_SHEET, 2, 1, max(n - 1, 0), 4):
        if not sheet or not report:
            continue
        try:
            parsed = json.loads(params) if params else {}
        except (TypeError, ValueError, RecursionError):
            parsed = None
        entries.append(Entry(str(sheet), str(report), str(table or ""), parsed if isinstance(parsed, dict) else {},
                             damaged=not isinstance(parsed, dict)))
    return entries


def find_entry(wb: WorkbookWriter, sheet: str) -> Entry | None:
    for entry in read_registry(wb):
        if entry.sheet.lower() == sheet.lower():
            return entry
    return None


def remove_entry(wb: WorkbookWriter, sheet: str) -> None:
    """Forget a report sheet (deleted by the person): its registry row is cleared."""
    if REGISTRY_SHEET not in wb.sheet_names():
        return
    n = wb.last_row(REGISTRY_SHEET)
    names = [r[0] for r in wb.read(REGISTRY_SHEET, 2, 1, max(n - 1, 0), 1)]
    for row, name in enumerate(names, start=2):
        if name and str(name).lower() == sheet.lower():
            wb.clear(REGISTRY_SHEET, (row, 1, row, len(HEADER)))


def follow_renamed_sheets(wb: WorkbookWriter) -> tuple[list[Entry], list[str]]:
    """The registry, with report sheets the person renamed found again by their table (which
    keeps its name) and sheets they deleted forgotten. Returns (entries, forgotten sheet names)."""
    sheets = {s.lower(): s for s in wb.sheet_names()}
    entries, forgotten = [], []
    for entry in read_registry(wb):
        if entry.sheet.lower() in sheets:
            entries.append(entry)
            continue
        moved = next((s for s in wb.sheet_names() if entry.table and wb.table_rect(s, entry.table)), None)
        remove_entry(wb, entry.sheet)
        if moved is None:
            forgotten.append(entry.sheet)
            continue
        entry.sheet = moved
        save_entry(wb, entry)
        entries.append(entry)
    return entries, forgotten


def save_entry(wb: WorkbookWriter, entry: Entry) -> None:
    """Add the entry, or replace the row of the same sheet."""
    _ensure(wb)
    n = wb.last_row(REGISTRY_SHEET)
    names = [r[0] for r in wb.read(REGISTRY_SHEET, 2, 1, max(n - 1, 0), 1)]
    row = next((i for i, s in enumerate(names, start=2) if s and str(s).lower() == entry.sheet.lower()),
               max(n, 1) + 1)
    values = [entry.sheet, entry.report, entry.table, json.dumps(entry.params, default=str, ensure_ascii=False)]
    wb.write(REGISTRY_SHEET, row, 1, [values])
