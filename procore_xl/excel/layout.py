"""Where things live in a procore-xl workbook: sheet names, named ranges, cell positions.

One place, shared by the workbook build script (``workbook/build.py``), the report-sheet
writers, the dropdown code and the ribbon macros, so they can never disagree.
"""
from __future__ import annotations

# --- sheets -------------------------------------------------------------------------
START_SHEET = "Start"            # company / project / report pickers, Insert report
LISTS_SHEET = "_lists"           # hidden: discovery lists behind the dropdowns
REGISTRY_SHEET = "_procore"      # hidden: one row per report sheet (sheet, report, parameters JSON)
XLWINGS_CONF_SHEET = "xlwings.conf"  # hidden: xlwings per-workbook settings

# --- Start sheet cells (also exposed as workbook names below) -------------------------
START_CELLS = {
    "company": "C4",
    "project_filter": "C5",
    "project": "C6",
    "report": "C8",
    "analysis": "C9",
    "environment": "C10",
}

# --- workbook names -----------------------------------------------------------------
# Single cells the user picks in (Start sheet):
NAME_COMPANY = "ProcoreCompany"
NAME_PROJECT_FILTER = "ProcoreProjectFilter"
NAME_PROJECT = "ProcoreProject"
NAME_REPORT = "ProcoreReport"
NAME_ANALYSIS = "ProcoreAnalysis"
NAME_ENVIRONMENT = "ProcoreEnvironment"   # production / sandbox / monthly / federal
START_NAMES = {
    "company": NAME_COMPANY,
    "project_filter": NAME_PROJECT_FILTER,
    "project": NAME_PROJECT,
    "report": NAME_REPORT,
    "analysis": NAME_ANALYSIS,
    "environment": NAME_ENVIRONMENT,
}

# Dropdown sources on the _lists sheet: list name (discovery) -> workbook name.
LIST_NAMES = {
    "companies": "ProcoreCompanies",
    "projects": "ProcoreProjects",
    "project_filters": "ProcoreProjectFilters",
    "reports": "ProcoreReports",
    "contracts": "ProcoreContracts",
    "pcos": "ProcorePCOs",
    "cors": "ProcoreCORs",
    "vendors": "ProcoreVendors",
    "drawing_areas": "ProcoreDrawingAreas",
    "meetings": "ProcoreMeetings",
    "albums": "ProcoreAlbums",
    "cost_code_lists": "ProcoreCostCodeLists",
    "sub_reports": "ProcoreSubReports",
    "environments": "ProcoreEnvironments",
    "analyses": "ProcoreAnalyses",
}

# --- report sheets --------------------------------------------------------------------
# A report sheet: a metadata block at the top, the parameter cells under it, then the table.
META_FIRST_ROW = 1               # "Report", "Status", "Refreshed", "Duration", "Rows", "Requests", "Message"
TABLE_HEADER_GAP = 1             # blank rows between the parameter block and the table header
# Every report table's header row, whatever the report's parameters (room for the most any
# report takes, checked by tests/test_report_view.py), so one header row reads every sheet
# (pandas.read_excel(header=20), Power Query). A sheet made before this row was fixed keeps its
# table where it is (report_sheet.header_row).
TABLE_HEADER_ROW = 21
