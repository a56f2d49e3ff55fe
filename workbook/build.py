#!/usr/bin/env python3
"""Build procore.xlsm from the sources in this folder (no Excel needed).

    python workbook/build.py [-o procore.xlsm] [--stub-xlwings]

Pipeline:
  1. copy xlwings' own ``quickstart_standalone.xlsm`` from the installed wheel: it already
     holds the ``xlwings`` and ``Dictionary`` VBA modules of the pinned xlwings version;
  2. openpyxl (keep_vba): the Start sheet, hidden ``_lists`` / ``_procore`` sheets (with the
     VBA code names of SHEET_CODE_NAMES), the hidden ``xlwings.conf`` settings sheet, workbook
     names and dropdowns;
  3. pyopenvba: drop the sample ``Module1``, add a document module for each sheet the build
     adds (as Excel has one for every sheet), ``ProcoreRibbon`` (vba/ProcoreRibbon.bas) and
     ``xlwings_udfs`` (UDF wrappers generated from ``procore_xl.addin.udfs.UDFS``);
  4. zip step: add the ribbon (customUI14.xml) and its relationship, relationship targets
     relative (as Excel writes them; openpyxl writes absolute ones), fixed document properties,
     fixed timestamps and entry order, so a rebuild is byte-identical.

``--stub-xlwings`` makes a test build for headless LibreOffice, which cannot compile the
real xlwings module: ``RunPython(cmd)`` only writes ``cmd`` into STUB_RESULT_CELL.
"""
from __future__ import annotations

import argparse
import inspect
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import xlwings
from openpyxl.styles import Alignment, Border, PatternFill, Side
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from pyopenvba import ExcelFile
from pyopenvba.vba import VBAModuleKind

from procore_xl import catalog
from procore_xl.addin import udfs
from procore_xl.analyses import ANALYSES
from procore_xl.environments import ENVIRONMENTS
from procore_xl.excel import layout
from procore_xl.excel.ooxml import relationships
from procore_xl.excel.registry import HEADER as REGISTRY_HEADER

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RIBBON_BAS = HERE / "vba" / "ProcoreRibbon.bas"
CUSTOMUI_XML = HERE / "customUI14.xml"
TEMPLATE = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"

UDF_MODULE = "procore_xl.addin.udfs"
# Where the installer puts the Python environment (documented in the README).
INTERPRETER_WIN = r"%LOCALAPPDATA%\procore-xl\.venv\Scripts\pythonw.exe"
INTERPRETER_MAC = "$HOME/.procore-xl/.venv/bin/python"

PROJECT_FILTERS = ["active", "inactive", "all"]
# VBA code names of the sheets the build adds (the template's Start and xlwings.conf sheets keep
# Sheet1 and Sheet2). Each gets a document module, as Excel gives every sheet one.
SHEET_CODE_NAMES = {layout.LISTS_SHEET: "ListsSheet", layout.REGISTRY_SHEET: "RegistrySheet"}
TEMPLATE_SHEET_MODULE = "Sheet1"
CUSTOMUI_PART = "customUI/customUI14.xml"
CUSTOMUI_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FIXED_DATE = "2024-01-01T00:00:00Z"
CORE_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
    ' xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:title>Procore for Excel</dc:title><dc:creator>procore-xl</dc:creator>"
    f'<dcterms:created xsi:type="dcterms:W3CDTF">{FIXED_DATE}</dcterms:created>'
    f'<dcterms:modified xsi:type="dcterms:W3CDTF">{FIXED_DATE}</dcterms:modified>'
    "</cp:coreProperties>"
)

# Test double for the xlwings VBA module (LibreOffice check only).
STUB_RESULT_CELL = "Z1"  # on the Start sheet
STUB_XLWINGS = (
    'Attribute VB_Name = "xlwings"\n'
    "' Test stub (build.py --stub-xlwings): records the command instead of running Python.\n"
    "Public Function RunPython(PythonCommand As String)\n"
    f'    ThisWorkbook.Worksheets("{layout.START_SHEET}").Range("{STUB_RESULT_CELL}").Value = PythonCommand\n'
    "End Function\n"
)


# --- step 2: sheets, names, dropdowns (openpyxl) ------------------------------------------

def font(**kwargs) -> Font:
    return Font(name="Calibri", **kwargs)  # the template's font, also where no font is set


def list_columns() -> dict[str, str]:
    """List name -> column letter on the _lists sheet (one column per list, header in row 1)."""
    return {name: get_column_letter(i) for i, name in enumerate(layout.LIST_NAMES, start=1)}


def fill_lists(wb, initial: dict[str, list[str]]) -> None:
    lists = wb.create_sheet(layout.LISTS_SHEET)
    lists.sheet_state = "hidden"
    sheet = quote_sheetname(layout.LISTS_SHEET)
    for list_name, col in list_columns().items():
        values = initial.get(list_name, [])
        lists[f"{col}1"] = list_name
        for row, value in enumerate(values, start=2):
            lists[f"{col}{row}"] = value
        last = max(2, len(values) + 1)  # an empty list still names one (empty) cell
        name = layout.LIST_NAMES[list_name]
        wb.defined_names[name] = DefinedName(name, attr_text=f"{sheet}!${col}$2:${col}${last}")


def fill_start(ws, wb) -> None:
    ws.title = layout.START_SHEET
    ws.delete_rows(1, ws.max_row)
    ws.sheet_view.showGridLines = False
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    for col, width in (("A", 2), ("B", 16), ("C", 42), ("D", 54)):
        ws.column_dimensions[col].width = width

    ws["B1"] = "Procore for Excel"
    ws["B1"].font = font(size=18, bold=True, color="F47E42")
    ws["B2"] = "Pull Procore data into this workbook with the Procore tab on the ribbon."
    ws["B2"].font = font(italic=True, color="595959")

    input_fill = PatternFill("solid", fgColor="FFF2CC")
    thin = Side(style="thin", color="BFBFBF")
    labels = {
        "company": ("Company", "Pick from the list (Procore > Connect loads it)."),
        "project_filter": ("Project filter", "active, inactive or all projects in the list."),
        "project": ("Project", "Pick a project of the company, or all."),
        "report": ("Report", "Then Procore > Insert report."),
        "analysis": ("Analysis", "Then Procore > Insert analysis: key figures and charts."),
        "environment": ("Environment", "Blank: as set up on this PC. Or production, sandbox, monthly, federal."),
    }
    list_for = {"company": "companies", "project_filter": "project_filters",
                "project": "projects", "report": "reports", "environment": "environments",
                "analysis": "analyses"}
    start = quote_sheetname(layout.START_SHEET)
    for key, cell in layout.START_CELLS.items():
        row = ws[cell].row
        label, hint = labels[key]
        ws.cell(row=row, column=ws[cell].column - 1, value=label).font = font(bold=True)
        hint_cell = ws.cell(row=row, column=ws[cell].column + 1, value=hint)
        hint_cell.font = font(color="808080")
        hint_cell.alignment = Alignment(horizontal="left", indent=1)
        ws[cell].fill = input_fill
        ws[cell].font = font()
        ws[cell].border = Border(left=thin, right=thin, top=thin, bottom=thin)
        col, r = ws[cell].column_letter, ws[cell].row
        name = layout.START_NAMES[key]
        wb.defined_names[name] = DefinedName(name, attr_text=f"{start}!${col}${r}")
        dv = DataValidation(type="list", formula1=layout.LIST_NAMES[list_for[key]],
                            allow_blank=True, showErrorMessage=True, errorTitle="Procore",
                            error="Pick a value from the list.")
        ws.add_data_validation(dv)
        dv.add(cell)
    ws[layout.START_CELLS["project_filter"]] = "active"   # environment: blank = as set up on this PC

    first = max(ws[c].row for c in layout.START_CELLS.values()) + 2
    steps = [
        ("How to use", True),
        ("1. Procore > Connect: sign in to Procore in your browser (once per computer).", False),
        ("2. Pick a company, a project filter and a project above.", False),
        ("3. Pick a report, then Procore > Insert report: a new sheet with the data.", False),
        ("   Or pick an analysis, then Procore > Insert analysis: its report sheets and charts.", False),
        ("4. Procore > Refresh this sheet, or Refresh all, to fetch fresh data later.", False),
        ("5. Procore > Update dropdowns reloads the lists above; Sign out forgets the sign-in.", False),
        ("", False),
        ("Worksheet functions", True),
        ('PROCORE_REPORT(report, company, project, [name, value]...)  e.g. "RFIs", C4, C6', False),
        ("PROCORE_REPORTS(), PROCORE_COMPANIES(), PROCORE_PROJECTS(company, filter)", False),
        ("PROCORE_LIST(list_name, company, project, [name, value]...)", False),
    ]
    for offset, (text, bold) in enumerate(steps):
        c = ws.cell(row=first + offset, column=2, value=text or None)
        c.font = font(bold=bold, size=12 if bold else 11)
        c.alignment = Alignment(vertical="center")


def fill_xlwings_conf(wb) -> None:
    conf = wb["_xlwings.conf"]
    conf.title = layout.XLWINGS_CONF_SHEET  # the leading underscore removed: settings active
    conf.sheet_state = "hidden"
    # "Use UDF Server": ribbon macros (RunPython) run in the same Python process as the worksheet
    # functions, so Refresh / Connect / Sign out reach the UDF cache and the signed-in service.
    values = {"Interpreter_Win": INTERPRETER_WIN, "Interpreter_Mac": INTERPRETER_MAC,
              "UDF Modules": UDF_MODULE, "Use UDF Server": True}
    for row in conf.iter_rows(min_col=1, max_col=2):
        if row[0].value in values:
            row[1].value = values[row[0].value]


def step_openpyxl(path: Path) -> None:
    wb = openpyxl.load_workbook(path, keep_vba=True)
    fill_start(wb["Sheet1"], wb)  # keeps the template's sheet (and its Sheet1 document module)
    fill_xlwings_conf(wb)
    fill_lists(wb, {"reports": list(catalog.REPORTS), "project_filters": PROJECT_FILTERS,
                    "environments": list(ENVIRONMENTS), "analyses": list(ANALYSES)})
    registry = wb.create_sheet(layout.REGISTRY_SHEET)
    registry.sheet_state = "hidden"
    registry.append(REGISTRY_HEADER)  # one row per report sheet follows (procore_xl.excel.registry)
    for sheet, code_name in SHEET_CODE_NAMES.items():
        wb[sheet].sheet_properties.codeName = code_name
    wb.move_sheet(layout.XLWINGS_CONF_SHEET, offset=len(wb.sheetnames))
    wb.active = 0
    wb.save(path)


# --- step 3: VBA (pyopenvba) ------------------------------------------------------------

def udf_wrappers_vba(functions=None, module_name: str = UDF_MODULE) -> str:
    """The ``xlwings_udfs`` module, as xlwings' udfs.import_udfs/generate_vba_wrapper writes it
    on Windows (with xw.func defaults: call_in_wizard=True, volatile=False), but generated at
    build time so users need no "Trust access to the VBA project object model"."""
    functions = udfs.UDFS if functions is None else functions
    out = ['Attribute VB_Name = "xlwings_udfs"',
           "'Autogenerated code by xlwings - changes will be lost with next import!",
           """#Const App = "Microsoft Excel" 'Adjust when using outside of Excel"""]
    for f in sorted(functions, key=lambda f: f.__name__):  # xlwings walks dir(module)
        fname = f.__name__
        params = list(inspect.signature(f).parameters.values())
        vararg = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), "")
        sig = []
        for p in params:
            if p.kind is p.VAR_POSITIONAL:
                sig.append(f"ParamArray {p.name}()")
            elif p.kind is p.POSITIONAL_OR_KEYWORD:
                # VBA forbids Optional together with ParamArray (xlwings refuses that case too;
                # tests/test_workbook_build.py reports it), so only mark Optional without one.
                optional = p.default is not p.empty and not vararg
                sig.append(("Optional " if optional else "") + p.name)
            else:
                raise ValueError(f"{fname}: xlwings does not support UDFs with keyword arguments")
        body = []
        if vararg:
            fixed = [p.name for p in params if p.kind is not p.VAR_POSITIONAL]
            n = len(fixed)
            body += ["Dim argsArray() As Variant",
                     f"argsArray = Array({', '.join(fixed)})",
                     f"ReDim Preserve argsArray(0 to UBound({vararg}) - LBound({vararg}) + {n})",
                     f"For k = LBound({vararg}) To UBound({vararg})",
                     f"argsArray({n} + k - LBound({vararg})) = {vararg}(k)",
                     "Next k"]
            args_vba = "argsArray"
        else:
            args_vba = f"Array({', '.join(p.name for p in params)})"
        out.append(f"Function {fname}({', '.join(sig)})")
        out += ["    " + line for line in body]
        out += ['    #If App = "Microsoft Excel" Then',
                "        If TypeOf Application.Caller Is Range Then On Error GoTo failed",
                f'        {fname} = XLPy.CallUDF("{module_name}", "{fname}", {args_vba}, '
                "ThisWorkbook, Application.Caller)",
                "        Exit Function",
                "    #Else",
                f'        {fname} = XLPy.CallUDF("{module_name}", "{fname}", {args_vba})',
                "        Exit Function",
                "    #End If",
                "failed:",
                f"    {fname} = Err.Description",
                "End Function",
                ""]
    return crlf("\n".join(out) + "\n")


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def add_sheet_modules(book: ExcelFile) -> None:
    """A document module for each sheet of SHEET_CODE_NAMES, with the header of the template's
    own sheet module, declared ``Document=`` in the PROJECT stream as Excel declares it."""
    project = book.vba_project()
    header = project.get_module(TEMPLATE_SHEET_MODULE).attribute_header
    for code_name in SHEET_CODE_NAMES.values():
        project.add_module(code_name, header.replace(f'"{TEMPLATE_SHEET_MODULE}"', f'"{code_name}"', 1),
                           kind=VBAModuleKind.other)
        # pyopenvba (pinned) declares an added module Document= only if it is among these names;
        # otherwise Class=, and Excel would see a class module where it expects the sheet's.
        book._document_names.add(code_name.casefold())


def step_vba(path: Path, stub_xlwings: bool) -> None:
    with ExcelFile(path) as book:
        project = book.vba_project()
        project.delete_module("Module1")  # the quickstart sample macro
        add_sheet_modules(book)
        if stub_xlwings:
            project.delete_module("Dictionary")
            book.set_module("xlwings", crlf(STUB_XLWINGS))
        project.add_module("ProcoreRibbon", crlf(RIBBON_BAS.read_text(encoding="utf-8")))
        project.add_module("xlwings_udfs", udf_wrappers_vba())
        book.save()


# --- step 4: ribbon + reproducible zip ----------------------------------------------------

def add_ribbon_rel(rels: bytes) -> bytes:
    rel = relationships.relationship("rIdProcoreRibbon", CUSTOMUI_REL, CUSTOMUI_PART)
    return relationships.add_relationships(rels.decode("utf-8"), [rel]).encode("utf-8")


def step_zip(src: Path, dst: Path) -> None:
    with zipfile.ZipFile(src) as zin:
        parts = {name: zin.read(name) for name in zin.namelist()}
    parts["_rels/.rels"] = add_ribbon_rel(parts["_rels/.rels"])
    for name in [n for n in parts if n.endswith(".rels")]:      # relative targets, as Excel writes them
        parts[name] = relationships.relative_targets(name, parts[name].decode("utf-8")).encode("utf-8")
    parts["docProps/core.xml"] = CORE_XML.encode("utf-8")
    parts[CUSTOMUI_PART] = CUSTOMUI_XML.read_bytes()
    order = ["[Content_Types].xml"] + sorted(n for n in parts if n != "[Content_Types].xml")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zout:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            zout.writestr(info, parts[name], compresslevel=6)
    dst.write_bytes(buf.getvalue())


def build(out: Path, stub_xlwings: bool = False) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as td:
        work = Path(td) / "procore.xlsm"
        shutil.copyfile(TEMPLATE, work)
        step_openpyxl(work)
        step_vba(work, stub_xlwings)
        step_zip(work, out)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default=str(ROOT / "procore.xlsm"))
    ap.add_argument("--stub-xlwings", action="store_true",
                    help=f"test build for LibreOffice: RunPython writes its command to "
                         f"{layout.START_SHEET}!{STUB_RESULT_CELL}")
    args = ap.parse_args(argv)
    print(build(Path(args.out), args.stub_xlwings))


if __name__ == "__main__":
    main()
