"""procore.xlsm: built from workbook/ sources, checked with independent readers
(zipfile + ElementTree, oletools' olevba for the VBA, openpyxl reloading the file)."""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
import xlwings
from oletools.olevba import VBA_Parser
from workbook_build_module import load_build_module

from procore_xl import macros, udfs
from procore_xl.excel import layout

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "procore.xlsm"
CUI_NS = "{http://schemas.microsoft.com/office/2009/07/customui}"
RIBBON_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
REBUILD_HINT = "rebuild and commit it: python workbook/build.py"

# The ribbon as specified: button label -> the procore_xl.macros function it must run.
RIBBON = {
    "Connect": "connect",
    "Sign out": "sign_out",
    "Environment": "choose_environment",
    "Insert report": "insert_report",
    "Refresh this sheet": "refresh_sheet",
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


def test_ribbon_buttons_call_public_callbacks(ribbon_xml, vba):
    ids = [e.get("id") for e in ribbon_xml.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "ribbon ids must be unique"
    buttons = ribbon_xml.findall(f".//{CUI_NS}button")
    assert sorted(b.get("label") for b in buttons) == sorted(RIBBON)
    subs = public_subs(vba["ProcoreRibbon"])
    for b in buttons:
        assert b.get("imageMso") and b.get("screentip") and b.get("size") in ("large", "normal")
        callback = b.get("onAction")
        assert callback in subs, f"onAction {callback!r} is not a Public Sub of ProcoreRibbon"
        assert subs[callback][0] == "control As IRibbonControl"


def test_each_button_runs_its_python_macro(ribbon_xml, vba):
    subs = public_subs(vba["ProcoreRibbon"])
    for b in ribbon_xml.findall(f".//{CUI_NS}button"):
        params, body = subs[b.get("onAction")]
        (plain,) = body.split()  # the callback only calls a plain macro
        assert plain in subs and subs[plain][0] == "", f"{plain} must be a Public Sub without arguments"
        command = re.fullmatch(r'\s*RunPython "([^"]+)"\s*', subs[plain][1])
        expected = f"import procore_xl.macros as m; m.{RIBBON[b.get('label')]}()"
        assert command and command.group(1) == expected


def test_runpython_commands_name_real_functions(vba):
    commands = re.findall(r'RunPython "([^"]+)"', vba["ProcoreRibbon"])
    assert commands
    called = set()
    for cmd in commands:
        m = re.fullmatch(r"import (procore_xl(?:\.\w+)+) as (\w+); \2\.(\w+)\(\)", cmd)
        assert m, f"unexpected RunPython command {cmd!r}"
        func = getattr(importlib.import_module(m.group(1)), m.group(3))
        assert callable(func)
        assert all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                   for p in inspect.signature(func).parameters.values()), f"{cmd}: needs arguments"
        called.add(func)
    assert called == set(macros.MACROS), "every procore_xl.macros entry point has a ribbon macro"


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
        assert f'XLPy.CallUDF("procore_xl.udfs", "{f.__name__}", ' in code


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
               "project": "projects", "report": "reports", "environment": "environments"}
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
    try:
        from procore_xl import catalog
    except ImportError:
        expected = []
    else:
        expected = list(catalog.REPORTS)
    assert list_values(book, "reports") == expected


def test_xlwings_conf_sheet(book):
    conf = book[layout.XLWINGS_CONF_SHEET]
    settings = {}
    for key, value in conf.iter_rows(min_col=1, max_col=2, values_only=True):
        if key is None:  # xlwings reads A1 down to the first empty cell
            break
        settings[key] = value
    assert settings["UDF Modules"] == "procore_xl.udfs"
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
