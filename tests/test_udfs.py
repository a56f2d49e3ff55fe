"""The worksheet functions, called directly (xlwings' decorators are no-ops off Windows),
against the sandbox over loopback with a real sign-in."""
from __future__ import annotations

import dataclasses
import datetime as dt
import inspect


from procore_xl.addin import udfs
from procore_xl.addin.session import set_service
from procore_xl.sandbox.world import BIG_ID
from procore_xl.service import ProcoreService
from procore_xl.tokens import KeyringTokenStore


def test_signatures_are_the_published_ones():
    sigs = {f.__name__: str(inspect.signature(f)) for f in udfs.UDFS}
    assert sigs == {
        "PROCORE_REPORT": "(report, company, project, *name_value_pairs)",
        "PROCORE_REPORTS": "()",
        "PROCORE_COMPANIES": "()",
        "PROCORE_PROJECTS": "(company, project_filter='active')",
        "PROCORE_LIST": "(list_name, company, project, *name_value_pairs)",
    }


def test_report_by_name_and_by_float_id_gives_the_same_table(excel_service, sandbox):
    by_name = udfs.PROCORE_REPORT("RFIs", "Harbor Tower Builders", "Harbor Tower")
    by_id = udfs.PROCORE_REPORT("rfis", 8001.0, 91001.0)
    assert isinstance(by_name, list) and by_name == by_id
    header, rows = by_name[0], by_name[1:]
    # the spill shows labels (issue 19): the id column is "ID"
    assert "ID" in header and len(rows) == len(sandbox.world.records("rfis", sandbox.world.project(91001)))
    ids = [r[header.index("ID")] for r in rows]
    assert str(BIG_ID) in ids                               # exact, as text
    assert not any(isinstance(i, float) for i in ids)        # never a rounded double
    cells = [v for r in rows for v in r]
    assert not any(isinstance(v, float) and v != v for v in cells)          # no NaN: empty is None
    assert any(isinstance(v, dt.datetime) for v in cells)
    assert not any(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in cells)
    assert all(len(r) == len(header) for r in rows)


def test_results_are_cached_until_cleared(excel_service, sandbox):
    first = udfs.PROCORE_REPORT("RFIs", 8001, 91001)
    served = sandbox.requests
    assert udfs.PROCORE_REPORT("RFIs", 8001.0, 91001.0) == first     # same arguments as Excel sends them
    assert sandbox.requests == served
    udfs.clear_cache()
    assert udfs.PROCORE_REPORT("RFIs", 8001, 91001) == first
    assert sandbox.requests > served


def test_name_value_pairs(excel_service):
    plain = udfs.PROCORE_REPORT("RFIs", 8001, 91001)
    nested = udfs.PROCORE_REPORT("RFIs", 8001, 91001, "Sub Report", "questions", None, None)
    assert isinstance(nested, list) and nested[0] != plain[0]
    assert udfs.PROCORE_REPORT("RFIs", 8001, 91001, "sub_report") == \
        'Parameters come in name/value pairs - "sub_report" has no value'


def test_errors_are_one_readable_line(excel_service):
    assert udfs.PROCORE_REPORT("RFI", 8001, 91001).startswith('Unknown report "RFI" - did you mean "RFIs"')
    assert udfs.PROCORE_REPORT("RFIs", 8001, None).startswith("Project is required for RFIs")
    assert udfs.PROCORE_REPORT("RFIs", "No Such Co", 91001).startswith('Unknown company "No Such Co"')
    assert udfs.PROCORE_REPORT("RFIs", 8001, [[1], [2]]) == "Project: pass one cell or value, not a range"
    for msg in (udfs.PROCORE_REPORT("RFI", 8001, 91001), udfs.PROCORE_REPORT("RFIs", 8001, None)):
        assert "\n" not in msg and len(msg) < 400


def test_long_pulls_are_refused_with_a_hint(excel_service, sandbox):
    before = sandbox.requests
    assert udfs.PROCORE_REPORT("RFIs", 8001, "all") == udfs.HEAVY_MESSAGE.format(report="RFIs")
    assert udfs.PROCORE_REPORT("All RFI Replies", 8001, None).startswith("All RFI Replies over all projects")
    assert sandbox.requests == before


def test_not_signed_in(settings, keyring_backend):
    # no stored token, and no client secret to fall back on (a service account)
    set_service(ProcoreService(dataclasses.replace(settings, client_secret=None), KeyringTokenStore()))
    udfs.clear_cache()
    try:
        assert udfs.PROCORE_COMPANIES() == udfs.NOT_SIGNED_IN
        assert udfs.PROCORE_REPORT("RFIs", 8001, 91001) == udfs.NOT_SIGNED_IN
    finally:
        set_service(None)


def test_catalog_companies_projects(excel_service):
    reports = udfs.PROCORE_REPORTS()
    assert reports[0] == ["Report", "Group", "Parameters"] and len(reports) == 71
    assert ["RFIs", "Project management", "Company, Project Filter, Project, Sub Report"] in reports
    companies = udfs.PROCORE_COMPANIES()
    assert companies[0] == ["Company", "ID"] and ["Harbor Tower Builders", 8001] in companies
    active = udfs.PROCORE_PROJECTS(8001.0)
    inactive = udfs.PROCORE_PROJECTS("Harbor Tower Builders", "inactive")
    assert ["Harbor Tower", 91001] in active and ["Harbor Tower", 91001] not in inactive
    assert ["Sunset Library Renovation", 91005] in inactive


def test_generic_lists(excel_service):
    contracts = udfs.PROCORE_LIST("contracts", "Harbor Tower Builders", 91001.0)
    assert contracts[0][1] == "ID" and len(contracts) > 1
    subs = udfs.PROCORE_LIST("sub_reports", None, None, "report", "RFIs")
    assert ["none", "none"] in subs
    assert udfs.PROCORE_LIST("project filters", None, None) == [["Project Filter", "ID"], ["active", "active"],
                                                     ["inactive", "inactive"], ["all", "all"]]
    assert udfs.PROCORE_LIST("nonsense", 8001, None).startswith('Unknown list "nonsense"')
