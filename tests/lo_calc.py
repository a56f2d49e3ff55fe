#!/usr/bin/python3
"""Recalculate workbooks in headless LibreOffice (an independent calculator) and report values.

Run with the system Python that has LibreOffice's ``uno`` module (python3-uno), not the venv:

    /usr/bin/python3 tests/lo_calc.py spec.json      # prints one JSON list, one object per document

spec.json: [{"path": "book.xlsx", "sheets": {"RFI Analysis": "A1:H120"},
             "pdf": [["RFI Analysis", "A1:N60", "out.pdf"]] (optional)}, ...]
One soffice for every document. Its throwaway profile sets OOXMLRecalcMode to "always", and every
document is recalculated with ``calculateAll()`` after loading, so the values are LibreOffice's own,
never the cached values in the file. For each document: the cell values of each sheet range (numbers
as numbers, text as text, formula errors as "#ERR<code>"), and every chart of those sheets with the
ranges its series read (LibreOffice's own parse of the chart parts). ``pdf``: a range of a sheet
exported as a one-page PDF (workbook/screenshot.py makes the README's pictures from it).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uno  # noqa: E402
from lo_headless import inspect_specs, open_document, prop  # noqa: E402

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def cell_value(cell):
    from com.sun.star.table.CellContentType import FORMULA, TEXT, VALUE
    kind = cell.Type
    if kind == FORMULA:
        if cell.getError():
            return f"#ERR{cell.getError()}"
        return cell.getString() if cell.FormulaResultType2 == 2 else cell.getValue()   # FormulaResult.STRING
    if kind == VALUE:
        return cell.getValue()
    if kind == TEXT:
        return cell.getString()
    return None


def read_range(sheet, address):
    rng = sheet.getCellRangeByName(address)
    addr = rng.RangeAddress
    rows = []
    for r in range(addr.StartRow, addr.EndRow + 1):
        rows.append([cell_value(sheet.getCellByPosition(c, r)) for c in range(addr.StartColumn, addr.EndColumn + 1)])
    return rows


def charts_of(sheet):
    out = []
    charts = sheet.Charts
    for name in charts.ElementNames:
        chart = charts.getByName(name)
        doc = chart.EmbeddedObject
        ranges = []
        try:
            for seq in doc.getDataSequences():
                for s in (seq.getLabel(), seq.getValues()):
                    if s is not None:
                        ranges.append(s.getSourceRangeRepresentation())
        except Exception as e:  # reported, the test decides
            ranges.append(f"ERROR {e}")
        out.append({"name": name, "ranges": [str(r) for r in chart.Ranges] if hasattr(chart, "Ranges") else [],
                    "sequences": ranges, "title": doc.Title.String if doc.HasMainTitle else ""})
    return out


def export_pdf(doc, sheet_name, address, target):
    """The range ``address`` of the sheet, recalculated, as a one-page landscape PDF."""
    sheet = doc.Sheets.getByName(sheet_name)
    style = doc.StyleFamilies.getByName("PageStyles").getByName(sheet.PageStyle)
    style.IsLandscape = True
    style.Width, style.Height = 29700, 21000
    style.ScaleToPagesX, style.ScaleToPagesY = 1, 1
    style.HeaderIsOn = style.FooterIsOn = False
    selection = sheet.getCellRangeByName(address)
    doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(target)), (
        prop("FilterName", "calc_pdf_Export"),
        prop("FilterData", uno.Any("[]com.sun.star.beans.PropertyValue", (prop("Selection", selection),))),
    ))


def inspect_doc(desktop, spec):
    doc = open_document(desktop, spec["path"])
    try:
        doc.calculateAll()
        out = {"sheets": {}, "charts": {}, "names": list(doc.Sheets.ElementNames)}
        for name, address in spec.get("sheets", {}).items():
            if not doc.Sheets.hasByName(name):
                out["sheets"][name] = None
                continue
            sheet = doc.Sheets.getByName(name)
            out["sheets"][name] = read_range(sheet, address)
            out["charts"][name] = charts_of(sheet)
        for sheet_name, address, target in spec.get("pdf", []):
            export_pdf(doc, sheet_name, address, target)
        return out
    finally:
        doc.close(True)


if __name__ == "__main__":
    inspect_specs(sys.argv[1], inspect_doc, "procore_lo_calc", settings=RECALC_ALWAYS)
