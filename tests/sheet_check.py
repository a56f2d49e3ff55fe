#!/usr/bin/env python3
"""Check the report sheets of a workbook read the way a project manager reads them (issue 19):

* no cell of a report table holds JSON (a nested list or object as text);
* no header of a sheet in label mode (Headers = labels) is a raw field path (``cost_impact.value``);
* no whole number of 11 digits or more (an id) is shown in General format, which Excel shows
  as ``2.20001E+11``, and a column of whole numbers (format ``0``) is wide enough for them;
* no column of a sheet in default view (Columns = default) is empty in every row;
* days are not money, coordinates are numbers;
* every table's header is on the same row.

    python tests/sheet_check.py demo.xlsx        # prints each problem; exit 1 when there is one

The workbook is read with openpyxl (cell values and number formats as Excel stores them).
"""
from __future__ import annotations

import json
import re
import sys

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries

RAW_PATH = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*( \([0-9]+\))?")
SCIENTIFIC_FROM = 10 ** 10          # General shows 11+ digit numbers in scientific notation
MONEY = re.compile(r"#,##0\.00")


DEFAULTS = {"Headers": "labels", "Columns": "default"}


def _option(ws, label: str) -> str | None:
    """A sheet's display option (a blank cell: the default); None when the sheet has no such
    row (a sheet made before the options existed)."""
    for row in range(1, 40):
        if ws.cell(row, 1).value == label:
            value = ws.cell(row, 2).value
            return str(value).strip().lower() if value not in (None, "") else DEFAULTS[label]
    return None


def _is_json(value) -> bool:
    if not isinstance(value, str) or not value[:1] in "[{":
        return False
    try:
        return isinstance(json.loads(value), (list, dict))
    except ValueError:
        return False


def problems(path) -> list[str]:
    book = openpyxl.load_workbook(path)
    out: list[str] = []
    header_rows: dict[int, list[str]] = {}
    for ws in book.worksheets:
        if ws.sheet_state != "visible" or not ws.tables:
            continue
        for table in ws.tables.values():
            c1, r1, c2, r2 = range_boundaries(table.ref)
            header_rows.setdefault(r1, []).append(ws.title)
            headers = [ws.cell(r1, c).value for c in range(c1, c2 + 1)]
            labels = _option(ws, "Headers") == "labels"
            default = _option(ws, "Columns") == "default"
            for j, name in enumerate(headers):
                col = c1 + j
                cells = [ws.cell(r, col) for r in range(r1 + 1, r2 + 1)]
                where = f"{ws.title}!{name}"
                if labels and isinstance(name, str) and RAW_PATH.fullmatch(name):
                    out.append(f"{where}: raw field path as header")
                filled = [c for c in cells if c.value not in (None, "")]
                if default and cells and not filled:
                    out.append(f"{where}: empty in every row")
                for c in filled:
                    if _is_json(c.value):
                        out.append(f"{where}: JSON in {c.coordinate}: {c.value[:60]}")
                        break
                for c in filled:
                    if (isinstance(c.value, (int, float)) and not isinstance(c.value, bool)
                            and abs(c.value) >= SCIENTIFIC_FROM and c.number_format == "General"):
                        out.append(f"{where}: {c.value} in General format at {c.coordinate} (shows as "
                                   f"scientific notation)")
                        break
                digits = max((len(str(int(c.value))) for c in filled if c.number_format == "0"
                              and isinstance(c.value, (int, float)) and not isinstance(c.value, bool)), default=0)
                width = ws.column_dimensions[get_column_letter(col)].width
                if digits and width and width < digits + 1:
                    out.append(f"{where}: {digits}-digit numbers in a column {width:g} wide (shows ########)")
                text = str(name)
                if "days" in text.lower() and any(MONEY.search(c.number_format) for c in filled):
                    out.append(f"{where}: days formatted as money")
                if text.lower() in ("latitude", "longitude", "gps_lat", "gps_long") and any(
                        not isinstance(c.value, (int, float)) for c in filled):
                    out.append(f"{where}: coordinates as text")
    if len(header_rows) > 1:
        out.append("tables start on different rows: " + "; ".join(
            f"row {r}: {', '.join(sheets[:3])}{'...' if len(sheets) > 3 else ''}"
            for r, sheets in sorted(header_rows.items())))
    return out


def main(argv: list[str]) -> int:
    found = problems(argv[0])
    for p in found:
        print(p)
    print(f"{len(found)} problem(s) in {argv[0]}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
