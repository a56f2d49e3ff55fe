#!/usr/bin/python3
"""Open .xlsm files in headless LibreOffice (an independent reader) and report what it sees.

Run with the system Python that has LibreOffice's ``uno`` module (python3-uno), not the venv:

    /usr/bin/python3 tests/lo_check.py spec.json      # prints one JSON object per document

spec.json: [{"path": "...xlsm", "macros": ["ProcoreRefreshAllMacro", ...],
             "result_cell": ["Start", "Z1"]}, ...]
For each document: sheets (name, visible, VBA code name), workbook names (their LibreOffice content and the
cell values they cover), the data validation of every single cell a workbook name points at
(type and source), the VBA modules LibreOffice imported, and for every macro of the spec the
value of ``result_cell`` after running it (the cell is cleared first). Ribbon callbacks are not
run: LibreOffice cannot pass them an IRibbonControl.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lo_headless import inspect_specs, open_document, prop  # noqa: E402

LIB = "VBAProject"


def run(sp, proc, sheet, cell):
    sheet.getCellRangeByName(cell).setString("")
    url = f"vnd.sun.star.script:{LIB}.ProcoreRibbon.{proc}?language=Basic&location=document"
    try:
        sp.getScript(url).invoke((), (), ())
    except Exception as e:  # reported, the test decides
        return f"ERROR {type(e).__name__}: {str(e)[:200]}"
    return sheet.getCellRangeByName(cell).getString()


def inspect_doc(desktop, spec):
    doc = open_document(desktop, spec["path"], prop("MacroExecutionMode", 4))
    try:
        out = {"sheets": [], "names": {}, "validations": {}, "modules": [], "macros": {}}
        for name in doc.Sheets.ElementNames:
            sheet = doc.Sheets.getByName(name)
            out["sheets"].append({"name": name, "visible": bool(sheet.IsVisible), "code_name": sheet.CodeName})
        names = doc.NamedRanges
        for n in names.ElementNames:
            rng = names.getByName(n).getReferredCells()
            values = [] if rng is None else [r[0] for r in rng.getDataArray()]
            out["names"][n] = {"content": names.getByName(n).Content, "values": values}
            if rng is not None and len(values) == 1:
                v = rng.Validation
                out["validations"][n] = {"type": v.Type.value, "formula1": v.getFormula1()}
        libs = doc.BasicLibraries
        if libs.hasByName(LIB):
            libs.loadLibrary(LIB)
            out["modules"] = sorted(libs.getByName(LIB).ElementNames)
        sheet_name, cell = spec.get("result_cell", ["Start", "Z1"])
        sheet = doc.Sheets.getByName(sheet_name)
        sp = doc.getScriptProvider()
        for proc in spec.get("macros", []):
            out["macros"][proc] = run(sp, proc, sheet, cell)
        return out
    finally:
        doc.close(True)


if __name__ == "__main__":
    inspect_specs(sys.argv[1], inspect_doc, "procore_lo")
