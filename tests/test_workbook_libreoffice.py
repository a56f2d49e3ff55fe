"""procore.xlsm in headless LibreOffice, an independent reader with its own VBA support.

LibreOffice cannot compile the real xlwings VBA module (Windows API declares), and then no macro
of the project runs; the macros are therefore run on the ``--stub-xlwings`` build, whose
``RunPython(cmd)`` writes ``cmd`` into a cell. Runs ``tests/lo_check.py`` with the system Python
that has LibreOffice's ``uno`` module.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from workbook_build_module import load_build_module

from procore_xl.excel import layout

ROOT = Path(__file__).resolve().parent.parent
UNO_PYTHON = "/usr/bin/python3"


# CI (.ci/run) installs LibreOffice and says so: there a missing LibreOffice fails these tests
# instead of skipping them. Read at import, before the autouse fixture clears PROCORE_* variables.
EXPECTED = os.environ.get("CI", "").lower() == "true" or os.environ.get("PROCORE_XL_EXPECT_LIBREOFFICE") == "1"


def lo_missing() -> str | None:
    """What is missing for these tests, or None."""
    if shutil.which("soffice") is None:
        return "soffice is not on PATH (apt-get install libreoffice-calc)"
    if not Path(UNO_PYTHON).exists() or subprocess.run([UNO_PYTHON, "-c", "import uno"],
                                                      capture_output=True).returncode != 0:
        return f"{UNO_PYTHON} cannot import uno (apt-get install python3-uno)"
    return None


pytestmark = pytest.mark.libreoffice

# Plain VBA macro -> the exact command it must hand to RunPython.
EXPECTED_COMMANDS = {
    "ProcoreConnectMacro": "import procore_xl.addin.macros as m; m.connect()",
    "ProcoreSignOutMacro": "import procore_xl.addin.macros as m; m.sign_out()",
    "ProcoreEnvironmentMacro": "import procore_xl.addin.macros as m; m.choose_environment()",
    "ProcoreInsertReportMacro": "import procore_xl.addin.macros as m; m.insert_report()",
    "ProcoreInsertAnalysisMacro": "import procore_xl.addin.macros as m; m.insert_analysis()",
    "ProcoreRefreshSheetMacro": "import procore_xl.addin.macros as m; m.refresh_sheet()",
    "ProcoreRefreshSheetFullMacro": "import procore_xl.addin.macros as m; m.refresh_sheet_full()",
    "ProcoreRefreshAllMacro": "import procore_xl.addin.macros as m; m.refresh_all()",
    "ProcoreUpdateDropdownsMacro": "import procore_xl.addin.macros as m; m.update_dropdowns()",
}



@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    """What LibreOffice sees in the committed procore.xlsm and in a --stub-xlwings build."""
    missing = lo_missing()
    if missing and EXPECTED:
        pytest.fail(f"LibreOffice is expected here (CI) but {missing}", pytrace=False)
    if missing:
        pytest.skip(missing)
    build = load_build_module()
    tmp = tmp_path_factory.mktemp("lo")
    stub = build.build(tmp / "procore_stub.xlsm", stub_xlwings=True)
    source = (ROOT / "workbook" / "vba" / "ProcoreRibbon.bas").read_text()
    plain_macros = re.findall(r"^Public Sub (Procore\w+Macro)\(\)", source, re.M)
    spec = [{"path": str(ROOT / "procore.xlsm")},
            {"path": str(stub), "macros": plain_macros,
             "result_cell": [layout.START_SHEET, build.STUB_RESULT_CELL]}]
    (tmp / "spec.json").write_text(json.dumps(spec))
    out = subprocess.run([UNO_PYTHON, str(ROOT / "tests" / "lo_check.py"), str(tmp / "spec.json")],
                         capture_output=True, text=True, timeout=120, check=True)
    real, stubbed = json.loads(out.stdout)
    return {"real": real, "stub": stubbed, "plain_macros": plain_macros}


def test_real_build_sheets(seen):
    sheets = {s["name"]: s["visible"] for s in seen["real"]["sheets"]}
    assert sheets == {layout.START_SHEET: True, layout.LISTS_SHEET: False,
                      layout.REGISTRY_SHEET: False, layout.XLWINGS_CONF_SHEET: False}


def test_real_build_sheet_code_names_have_their_modules(seen):
    code_names = {s["name"]: s["code_name"] for s in seen["real"]["sheets"]}
    assert code_names[layout.LISTS_SHEET] == "ListsSheet" and code_names[layout.REGISTRY_SHEET] == "RegistrySheet"
    assert set(code_names.values()) <= set(seen["real"]["modules"])


def test_real_build_names_and_dropdowns(seen):
    names = seen["real"]["names"]
    assert set(names) == set(layout.START_NAMES.values()) | set(layout.LIST_NAMES.values())
    for key, cell in layout.START_CELLS.items():
        col, row = re.fullmatch(r"([A-Z]+)(\d+)", cell).groups()
        assert names[layout.START_NAMES[key]]["content"] == f"${layout.START_SHEET}.${col}${row}"
    for name in layout.LIST_NAMES.values():
        assert names[name]["content"].startswith(f"${layout.LISTS_SHEET}.")
    assert names[layout.LIST_NAMES["project_filters"]]["values"] == ["active", "inactive", "all"]
    assert names[layout.NAME_PROJECT_FILTER]["values"] == ["active"]
    validations = seen["real"]["validations"]
    assert validations[layout.NAME_COMPANY] == {"type": "LIST", "formula1": layout.LIST_NAMES["companies"]}
    assert validations[layout.NAME_PROJECT] == {"type": "LIST", "formula1": layout.LIST_NAMES["projects"]}
    assert validations[layout.NAME_REPORT] == {"type": "LIST", "formula1": layout.LIST_NAMES["reports"]}
    assert validations[layout.NAME_PROJECT_FILTER] == {"type": "LIST",
                                                       "formula1": layout.LIST_NAMES["project_filters"]}


def test_real_build_vba_modules(seen):
    assert {"xlwings", "Dictionary", "ProcoreRibbon", "xlwings_udfs", "ListsSheet", "RegistrySheet"} <= set(
        seen["real"]["modules"])


def test_stub_build_macros_hand_exact_commands_to_runpython(seen):
    assert sorted(seen["plain_macros"]) == sorted(EXPECTED_COMMANDS)
    assert seen["stub"]["macros"] == {name: EXPECTED_COMMANDS[name] for name in seen["plain_macros"]}
