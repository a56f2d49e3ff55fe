"""`procore-xl demo`: the sandbox, a real sign-in, all 70 reports into one workbook."""
import io

import openpyxl

from procore_xl.catalog import REPORTS
from procore_xl.demo import run_demo
from procore_xl.excel.openpyxl_writer import OpenpyxlWorkbook
from procore_xl.excel.registry import read_registry


def test_demo_pulls_every_report_into_one_workbook(tmp_path):
    out = tmp_path / "demo.xlsx"
    printed = io.StringIO()
    code = run_demo(str(out), rfis_per_project=2, stream=printed, rate_limit_spike=1000)
    assert code == 0, printed.getvalue()
    entries = read_registry(OpenpyxlWorkbook(openpyxl.load_workbook(out)))
    assert sorted({e.report for e in entries}) == sorted(REPORTS)    # and the report sheets of the analyses
    from procore_xl.analyses import ANALYSES
    assert set(a.sheet for a in ANALYSES.values()) <= set(openpyxl.load_workbook(out).sheetnames)
    book = openpyxl.load_workbook(out)
    for entry in entries:
        sheet = book[entry.sheet]
        assert sheet["B2"].value == "OK", (entry.sheet, sheet["B7"].value)
        assert len(sheet.tables) == 1
    text = printed.getvalue()
    assert "70 of 70 reports and 7 analyses" in text and "Signed in as Dana Reyes" in text
    for name in REPORTS:
        assert name in text
