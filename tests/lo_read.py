#!/usr/bin/python3
"""Read workbooks in headless LibreOffice (an independent reader), one soffice for all files.

Run with the system Python that has LibreOffice's ``uno`` module (python3-uno), not the venv:

    /usr/bin/python3 tests/lo_read.py file1.xlsx file2.xlsm ...   # JSON on stdout

{"<file>": {"sheets": {"<name>": [[cell, ...], ...]}} | {"error": "..."}}: every sheet's used
area from A1, as ``getDataArray`` gives it (a number, including dates as serial numbers and
booleans as 1/0; text; "" for an empty cell). Each file is opened with the Excel 2007-365 filter
and without repairing, so a damaged file is an error rather than a guess.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lo_headless import headless, open_document, prop  # noqa: E402


def read(desktop, path):
    try:
        doc = open_document(desktop, path, prop("FilterName", "Calc MS Excel 2007 XML"), prop("RepairPackage", False),
                            prop("MacroExecutionMode", 0))
    except Exception as exc:  # IOException and friends: the test decides
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    if doc is None or not hasattr(doc, "Sheets"):
        return {"error": "LibreOffice opened no spreadsheet"}
    try:
        sheets = {}
        for name in doc.Sheets.ElementNames:
            sheet = doc.Sheets.getByName(name)
            cursor = sheet.createCursor()
            cursor.gotoEndOfUsedArea(False)
            end = cursor.getRangeAddress()
            rng = sheet.getCellRangeByPosition(0, 0, end.EndColumn, end.EndRow)
            sheets[name] = [list(r) for r in rng.getDataArray()]
        return {"sheets": sheets}
    finally:
        doc.close(True)


def main(paths):
    with headless("procore_lo_read") as desktop:
        print(json.dumps({p: read(desktop, p) for p in paths}))


if __name__ == "__main__":
    main(sys.argv[1:])
