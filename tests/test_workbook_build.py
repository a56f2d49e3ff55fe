"""procore.xlsm: built from workbook/ sources, checked with independent readers
(zipfile + ElementTree, oletools' olevba for the VBA, openpyxl reloading the file)."""
from __future__ import annotations

import ast
import inspect
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import olefile
import openpyxl
import pytest
import xlwings
from oletools.olevba import VBA_Parser
from workbook_build_module import load_build_module

from procore_xl import catalog
from procore_xl.addin import udfs
from procore_xl.excel import layout

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "procore.xlsm"
CUI_NS = "{http://schemas.microsoft.com/office/2009/07/customui}"
RIBBON_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
REBUILD_HINT = "rebuild and commit it: python workbook/build.py"
RIBBON_MODULE = "ProcoreRibbon"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"  # VB_Base of a worksheet's document module
WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
MACROS_PY = ROOT / "procore_xl" / "addin" / "macros.py"

# The ribbon as specified: button label -> the procore_xl.addin.macros function it must run.
RIBBON = {
    "Connect": "connect",
    "Sign out": "sign_out",
    "Environment": "choose_environment",
    "Insert report": "insert_report",
    "Insert analysis": "insert_analysis",
    "Refresh this sheet": "refresh_sheet",
    "Full refresh": "refresh_sheet_full",
    "Refresh all": "refresh_all",
    "Update dropdowns": "update_dropdowns",
}



build = load_build_module()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build.build(tmp_path_factory.mktemp("wb") / "procore.xlsm")


@pytest.fixture(scope="module")
def vba(built) -> dict[str, str]:
    """module name -> source code, as olevba extracts it."""
    parser = VBA_Parser(str(built))
    try:
        return {Path(vba_filename).stem: code.replace("\r\n", "\n")
                for _, _, vba_filename, code in parser.extract_macros()}
    finally:
        parser.close()


@pytest.fixture(scope="module")
def ribbon_xml(built) -> ElementTree.Element:
    with zipfile.ZipFile(built) as z:
        return ElementTree.fromstring(z.read("customUI/customUI14.xml"))


def public_subs(code: str) -> dict[str, tuple[str, str]]:
    """Public Sub name -> (parameter list, body)."""
    return {m["name"]: (m["params"].strip(), m["body"])
            for m in re.finditer(r"^Public Sub (?P<name>\w+)\((?P<params>[^)]*)\)\n(?P<body>.*?)^End Sub",
                                 code, re.M | re.S)}


def test_rebuild_reproduces_committed_file(built):
    assert COMMITTED.exists(), f"procore.xlsm missing: {REBUILD_HINT}"
    with zipfile.ZipFile(built) as new, zipfile.ZipFile(COMMITTED) as old:
        assert new.namelist() == old.namelist(), REBUILD_HINT
        changed = [n for n in new.namelist() if new.read(n) != old.read(n)]
    assert changed == [], f"parts differ from the committed procore.xlsm {changed}: {REBUILD_HINT}"
    assert built.read_bytes() == COMMITTED.read_bytes(), REBUILD_HINT


def test_zip_has_fixed_timestamps_and_properties(built):
    with zipfile.ZipFile(built) as z:
        assert {i.date_time for i in z.infolist()} == {build.ZIP_DATE}
        assert z.namelist()[0] == "[Content_Types].xml"
        core = z.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]+)<", core) == [build.FIXED_DATE] * 2


def test_vba_modules(vba):
    assert {"xlwings", "Dictionary", "ProcoreRibbon", "xlwings_udfs"} <= set(vba)
    assert "Module1" not in vba  # the quickstart sample is gone


def sheet_code_names(built) -> dict[str, str]:
    """Sheet name -> the codeName of its sheetPr in the sheet's part (xlsx XML), "" if none."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
    with zipfile.ZipFile(built) as z:
        workbook = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = {r.get("Id"): r.get("Target") for r in ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
        out = {}
        for sheet in workbook.iterfind("m:sheets/m:sheet", ns):
            target = rels[sheet.get(f"{{{ns['r']}}}id")]  # absolute (/xl/...) or relative to xl/
            part = ElementTree.fromstring(z.read(target[1:] if target.startswith("/") else "xl/" + target))
            pr = part.find("m:sheetPr", ns)
            out[sheet.get("name")] = "" if pr is None else pr.get("codeName", "")
        book_pr = workbook.find("m:workbookPr", ns)
    out[""] = book_pr.get("codeName")  # the workbook's own
    return out


def project_documents(built) -> list[str]:
    """The Document= declarations of the VBA project's PROJECT stream (olefile)."""
    with zipfile.ZipFile(built) as z:
        ole = olefile.OleFileIO(z.read("xl/vbaProject.bin"))
    try:
        text = ole.openstream("PROJECT").read().decode("latin-1")
    finally:
        ole.close()
    return [line.split("=", 1)[1].split("/")[0] for line in text.splitlines() if line.startswith("Document=")]


def test_every_sheet_has_a_code_name_and_its_document_module(built, vba):
    code_names = sheet_code_names(built)
    book_code_name = code_names.pop("")
    assert book_code_name == "ThisWorkbook"
    assert code_names[layout.LISTS_SHEET] == "ListsSheet" and code_names[layout.REGISTRY_SHEET] == "RegistrySheet"
    assert all(code_names.values()), f"sheets without a VBA code name: {code_names}"
    assert sorted(project_documents(built)) == sorted([book_code_name, *code_names.values()])
    for code_name in code_names.values():  # olevba: the module exists with a worksheet's header
        assert f'Attribute VB_Base = "{WORKSHEET_BASE}"' in vba[code_name], code_name
        assert f'Attribute VB_Name = "{code_name}"' in vba[code_name]
    assert f'Attribute VB_Base = "{WORKBOOK_BASE}"' in vba[book_code_name]


def test_xlwings_module_is_the_pinned_version(vba):
    header = re.search(r"^'Version: (\S+)", vba["xlwings"], re.M)
    assert header and header.group(1) == xlwings.__version__
    wheel = (Path(xlwings.__file__).parent / "xlwings.bas").read_text(encoding="utf-8")

    def code(text):
        return [line.rstrip() for line in text.replace("\r\n", "\n").splitlines()
                if line.strip() and not line.startswith("Attribute ")]
    assert code(vba["xlwings"]) == code(wheel)


def test_ribbon_part_and_relationship(built, ribbon_xml):
    with zipfile.ZipFile(built) as z:
        rels = ElementTree.fromstring(z.read("_rels/.rels"))
        names = set(z.namelist())
    targets = [r.get("Target") for r in rels if r.get("Type") == RIBBON_REL]
    assert targets == ["customUI/customUI14.xml"] and targets[0] in names
    assert ribbon_xml.tag == CUI_NS + "customUI"
    tabs = ribbon_xml.findall(f".//{CUI_NS}tab")
    assert [t.get("label") for t in tabs] == ["Procore"]


def callback_attributes(ribbon_xml) -> list[tuple[str, str, str]]:
    """(control id, attribute, procedure) for every RibbonX callback of the ribbon part: onAction,
    onLoad, onChange, onShow, get* (getLabel, getEnabled, ...), loadImage."""
    return [(e.get("id") or e.tag, attr, value) for e in ribbon_xml.iter() for attr, value in e.attrib.items()
            if attr.startswith(("on", "get")) or attr == "loadImage"]


def test_ribbon_buttons_call_public_callbacks(ribbon_xml, vba):
    ids = [e.get("id") for e in ribbon_xml.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "ribbon ids must be unique"
    buttons = ribbon_xml.findall(f".//{CUI_NS}button")
    assert sorted(b.get("label") for b in buttons) == sorted(RIBBON)
    subs = public_subs(vba[RIBBON_MODULE])
    for b in buttons:
        assert b.get("imageMso") and b.get("screentip") and b.get("size") in ("large", "normal")
    for control, attr, callback in callback_attributes(ribbon_xml):
        module, _, procedure = callback.rpartition(".")
        assert module == RIBBON_MODULE, f"{control} {attr}={callback!r}: qualify it as {RIBBON_MODULE}.<Sub>"
        assert procedure in subs, f"{control} {attr}={callback!r} is not a Public Sub of {RIBBON_MODULE}"
        # RibbonX signatures: onLoad(ribbon As IRibbonUI); the others (control As IRibbonControl[, ...])
        first = "ribbon As IRibbonUI" if attr == "onLoad" else "control As IRibbonControl"
        assert subs[procedure][0].split(",")[0] == first, f"{callback}({subs[procedure][0]})"


def test_full_refresh_sits_next_to_refresh_this_sheet(ribbon_xml):
    labels = [b.get("label") for b in ribbon_xml.findall(f".//{CUI_NS}group[@id='procoreReports']/{CUI_NS}button")]
    assert labels[labels.index("Refresh this sheet") + 1] == "Full refresh"


def workbook_names(built) -> set[str]:
    """The defined names of the built file, read from xl/workbook.xml."""
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(built) as z:
        workbook = ElementTree.fromstring(z.read("xl/workbook.xml"))
    return {d.get("name") for d in workbook.iter(f"{ns}definedName")}


def name_clashes(procedures, names) -> list[str]:
    """Procedures (as an onAction or Application.Run names them, "Module.Sub" or "Sub") that a
    workbook name shadows: Excel looks a defined name up first, names are case-insensitive."""
    taken = {n.casefold() for n in names}
    return [p for p in procedures if {p.casefold(), *(part.casefold() for part in p.split("."))} & taken]


def test_no_callback_or_macro_is_named_like_a_workbook_name(built, ribbon_xml, vba):
    names = workbook_names(built)
    assert set(layout.START_NAMES.values()) <= names  # read from the file, not from layout
    callbacks = [callback for _, _, callback in callback_attributes(ribbon_xml)]
    assert callbacks
    assert name_clashes(callbacks, names) == []
    macros_and_modules = [*public_subs(vba[RIBBON_MODULE]), *vba]  # Alt+F8 / Application.Run names
    assert name_clashes(macros_and_modules, names) == []
    assert RIBBON_MODULE not in public_subs(vba[RIBBON_MODULE])  # "ProcoreRibbon.ProcoreRibbon" is ambiguous


def test_name_clash_check_catches_the_old_environment_callback(built):
    """The ribbon before issue 7 called onAction="ProcoreEnvironment", also the Start sheet's name."""
    assert name_clashes(["ProcoreEnvironment", "ProcoreRibbon.procoreenvironment"], workbook_names(built)) == [
        "ProcoreEnvironment", "ProcoreRibbon.procoreenvironment"]


def test_each_button_runs_its_python_macro(ribbon_xml, vba):
    subs = public_subs(vba[RIBBON_MODULE])
    for b in ribbon_xml.findall(f".//{CUI_NS}button"):
        params, body = subs[b.get("onAction").rpartition(".")[2]]
        (plain,) = body.split()  # the callback only calls a plain macro
        assert plain in subs and subs[plain][0] == "", f"{plain} must be a Public Sub without arguments"
        command = re.fullmatch(r'\s*RunPython "([^"]+)"\s*', subs[plain][1])
        expected = f"import procore_xl.addin.macros as m; m.{RIBBON[b.get('label')]}()"
        assert command and command.group(1) == expected


def macros_py_functions() -> tuple[dict[str, ast.FunctionDef], list[str]]:
    """procore_xl/addin/macros.py read as source (not imported): its top-level functions, and the names
    listed in its MACROS."""
    tree = ast.parse(MACROS_PY.read_text(encoding="utf-8"))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    (listed,) = [node.value for node in tree.body if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "MACROS" for t in node.targets)]
    return functions, [element.id for element in listed.elts]


def test_runpython_commands_name_real_functions(vba):
    commands = re.findall(r'RunPython "([^"]+)"', vba[RIBBON_MODULE])
    assert commands
    functions, listed = macros_py_functions()
    called = []
    for cmd in commands:
        m = re.fullmatch(r"import procore_xl\.addin\.macros as (\w+); \1\.(\w+)\(\)", cmd)
        assert m, f"unexpected RunPython command {cmd!r}"
        called.append(m.group(2))
    assert sorted(called) == sorted(RIBBON.values())
    missing = [name for name in called if name not in functions]
    assert not missing, f"procore_xl.addin.macros has no {missing}"
    for name in set(called) - set(missing):
        args = functions[name].args
        required = (len(args.posonlyargs) + len(args.args) - len(args.defaults)
                    + sum(default is None for default in args.kw_defaults))
        assert required == 0, f"procore_xl.addin.macros.{name} needs arguments; RunPython passes none"
    assert set(listed) == set(called), "every procore_xl.addin.macros.MACROS entry has a ribbon button, and back"


def test_modules_named_by_workbooks_built_before_still_answer():
    """procore.xlsm built before the add-in package names procore_xl.udfs (UDF Modules, the
    xlwings_udfs wrappers) and runs "import procore_xl.macros as m; m.<name>()": both modules
    re-export the same objects."""
    import procore_xl.macros as old_macros
    import procore_xl.udfs as old_udfs
    from procore_xl.addin import macros

    for f in udfs.UDFS:
        assert getattr(old_udfs, f.__name__) is f
    assert old_udfs.clear_cache is udfs.clear_cache
    for f in macros.MACROS:
        assert getattr(old_macros, f.__name__) is f


def test_udf_wrappers_match_python_signatures(vba):
    code = vba["xlwings_udfs"]
    wrappers = {m[1]: m[2] for m in re.finditer(r"^Function (\w+)\((.*)\)$", code, re.M)}
    assert set(wrappers) == {f.__name__ for f in udfs.UDFS}
    for f in udfs.UDFS:
        params = list(inspect.signature(f).parameters.values())
        args = [a.strip() for a in wrappers[f.__name__].split(",") if a.strip()]
        assert len(args) == len(params), f.__name__
        for arg, p in zip(args, params):
            assert arg.split()[-1].removesuffix("()") == p.name
            assert arg.startswith("ParamArray ") == (p.kind is p.VAR_POSITIONAL)
        assert f'XLPy.CallUDF("procore_xl.addin.udfs", "{f.__name__}", ' in code


def test_udf_wrappers_equal_xlwings_own_generator(vba):
    """The pre-generated module is what xlwings' "Import Functions" would write on Windows."""
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "xlwings_udf_vba.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(out.stdout)
    assert result["errors"] == {}, "xlwings (on Windows) rejects these UDFs"
    ours = vba["xlwings_udfs"].split("\n", 3)[3]  # after the 3 header lines
    assert ours.strip() == result["vba"].replace("\r\n", "\n").strip()


@pytest.fixture(scope="module")
def book(built):
    return openpyxl.load_workbook(built, keep_vba=True)


def test_sheets_and_visibility(book):
    states = {ws.title: ws.sheet_state for ws in book.worksheets}
    assert states == {layout.START_SHEET: "visible", layout.LISTS_SHEET: "hidden",
                      layout.REGISTRY_SHEET: "hidden", layout.XLWINGS_CONF_SHEET: "hidden"}
    assert book.sheetnames[0] == layout.START_SHEET and book.active.title == layout.START_SHEET
    from procore_xl.excel.registry import HEADER
    assert [c.value for c in book[layout.REGISTRY_SHEET][1]] == HEADER
    assert book[layout.REGISTRY_SHEET].max_row == 1  # no report sheet registered yet


def destination(book, name) -> tuple[str, str]:
    ((sheet, ref),) = list(book.defined_names[name].destinations)
    return sheet, ref


def test_start_cells_names_and_dropdowns(book):
    start = book[layout.START_SHEET]
    validations = {str(cell): dv for dv in start.data_validations.dataValidation for cell in dv.sqref}
    list_of = {"company": "companies", "project_filter": "project_filters",
               "project": "projects", "report": "reports", "environment": "environments",
               "analysis": "analyses"}
    for key, cell in layout.START_CELLS.items():
        assert destination(book, layout.START_NAMES[key]) == (layout.START_SHEET, cell.replace("C", "$C$"))
        dv = validations[cell]
        assert dv.type == "list" and dv.formula1 == layout.LIST_NAMES[list_of[key]]
    assert start[layout.START_CELLS["project_filter"]].value == "active"


def list_values(book, list_name) -> list:
    sheet, ref = destination(book, layout.LIST_NAMES[list_name])
    assert sheet == layout.LISTS_SHEET
    return [row[0].value for row in book[sheet][ref.replace("$", "")] if row[0].value is not None]


def test_lists_sheet(book):
    for list_name in layout.LIST_NAMES:
        list_values(book, list_name)  # every list name points into _lists
    assert sorted(list_values(book, "project_filters")) == ["active", "all", "inactive"]
    assert list_values(book, "reports") == list(catalog.REPORTS) != []


def test_xlwings_conf_sheet(book):
    conf = book[layout.XLWINGS_CONF_SHEET]
    settings = {}
    for key, value in conf.iter_rows(min_col=1, max_col=2, values_only=True):
        if key is None:  # xlwings reads A1 down to the first empty cell
            break
        settings[key] = value
    assert settings["UDF Modules"] == "procore_xl.addin.udfs"
    assert settings["Interpreter_Win"].endswith(r"\Scripts\pythonw.exe")
    assert settings["Interpreter_Mac"].endswith("/bin/python")
    # macros share the UDF server's process: Refresh clears the UDF cache, Connect signs the UDFs in
    assert settings["Use UDF Server"] is True and settings["Show Console"] is False


SECRET_PATTERNS = [
    r"(?i)(client_secret|access_token|refresh_token|password|api[_-]?key)\s*[:=]\s*['\"]?[A-Za-z0-9_\-]{8,}",
    r"(?i)bearer\s+[A-Za-z0-9_\-\.=]{16,}",
    # long opaque strings mixing digits, upper and lower case (tokens, keys)
    r"(?=[\w\-]*\d)(?=[\w\-]*[A-Z])(?=[\w\-]*[a-z])\b[\w\-]{32,}\b",
]


def test_no_secrets(built, vba):
    texts = {name: code for name, code in vba.items()}
    with zipfile.ZipFile(built) as z:
        for name in z.namelist():
            if not name.endswith(".bin"):
                texts[name] = z.read(name).decode("utf-8")
    hits = [(name, m.group(0)) for name, text in texts.items()
            for pattern in SECRET_PATTERNS for m in re.finditer(pattern, text)]
    assert hits == []
    from procore_xl.sandbox import CLIENT_SECRET  # the sandbox's demo app secret
    assert not any(CLIENT_SECRET in text for text in texts.values())
    assert CLIENT_SECRET.encode() not in built.read_bytes()


def test_stub_build_only_replaces_xlwings(tmp_path):
    stub = build.build(tmp_path / "stub.xlsm", stub_xlwings=True)
    parser = VBA_Parser(str(stub))
    try:
        modules = {Path(f).stem: code for _, _, f, code in parser.extract_macros()}
    finally:
        parser.close()
    assert "Dictionary" not in modules and "ProcoreRibbon" in modules and "xlwings_udfs" in modules
    assert "Public Function RunPython(PythonCommand As String)" in modules["xlwings"]
    assert "Declare" not in modules["xlwings"]
