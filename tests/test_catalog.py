"""The catalog as data: the 70 names, parents by reference, placeholders, lookups, docs."""
from __future__ import annotations

import pytest

from procore_xl.catalog import ALL_PROJECTS, GROUPS, LISTS, PROJECT, REPORTS, USER, find_report
from procore_xl.errors import UnknownReportError
from procore_xl.parameter_docs import catalog_markdown
from procore_xl.parameters import SPECS

# The report menu users know (reports.md): names must match exactly.
EXPECTED = {
    "Company": ["Companies", "Company Users", "Company Vendors", "Company Insurances",
                "Company Vendor Insurances", "Trades", "Programs", "Harm Sources", "Line Item Types",
                "Change Reason Templates", "Standard Cost Code Lists", "Standard Cost Codes", "Projects"],
    "Company-wide roll-ups": ["All RFI Replies", "All Activity Details"],
    "Project": ["Project Details", "Project Details (Budget)", "Project Dates", "Project Folders",
                "Project Insurances", "Project Roles", "Project Users", "Project Vendors", "Locations",
                "Cost Codes", "Equipment", "Calendar Events", "Punch Item Types", "TimeCard Time Types"],
    "Project management": ["RFIs", "Submittals", "Meetings", "Meetings Categories", "Drawing Areas",
                           "Drawings", "Checklists", "Checklist Templates", "Inspectors (checklists)",
                           "Photo Albums", "Photos", "Recently Updated Photos"],
    "Safety": ["Incidents", "Injuries", "Near Misses", "Property Damages", "Environmentals"],
    "Daily logs": ["Manpower Logs", "Notes Logs", "Plan Revision Logs", "Quantity Logs", "Visitor Logs",
                   "Waste Logs", "Work Logs", "TimeCard Entries"],
    "Financials": ["Budget Items", "Direct Costs", "Purchase Order Contract", "Work Order Contract",
                   "Contract Payments", "Change Orders", "Change Orders Requests",
                   "Change Order Request Details", "Potential Change Orders",
                   "Potential Change Order Details", "Prime Contract (Attachment)",
                   "Prime Contract (Change Orders)", "Prime Contract (Line Items)",
                   "Prime Contract (Order Packages)", "Prime Contract (Order Requests)",
                   "Prime Contract (Payment Received)"],
}


def test_the_70_reports_with_exact_names_and_groups():
    assert len(REPORTS) == 70
    for group, names in EXPECTED.items():
        assert group in GROUPS
        assert sorted(r.name for r in REPORTS.values() if r.group == group) == sorted(names)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_report_data_is_consistent(name):
    r = REPORTS[name]
    filled = {"company_id", "project_id", "by_status"} | {e.placeholder for e in r.each}
    assert r.endpoint.placeholders <= filled, f"unfilled placeholder in {r.endpoint.path}"
    assert r.endpoint.path.startswith("/rest/v") and r.version in ("1.0", "1.1", "1.3", "2.0")
    if "{project_id}" in r.endpoint.path or "project_id" in r.endpoint.placeholders:
        assert r.scope in (PROJECT, ALL_PROJECTS)
    seen = set()
    for e in r.each:   # parents by reference; a parent's list may use an earlier parent's placeholder
        src = LISTS[e.source]
        for ep in src.endpoints:
            assert ep.placeholders <= {"company_id", "project_id", "by_status"} | seen
        seen.add(e.placeholder)
    for p in r.parameters:
        assert p in SPECS
    if r.default_sub_report:
        assert r.sub_list(r.default_sub_report) is not None
    for s in r.sub_lists:
        if s.fetch:
            assert s.fetch.placeholders <= filled | {"id"}
    if r.dates:
        assert r.group == "Daily logs"
    assert r.keys and r.keys[0] == "id"


def test_parameters_follow_from_the_data():
    assert REPORTS["Companies"].parameters == ()
    assert REPORTS["Projects"].parameters == ("company", "project_filter")
    assert REPORTS["RFIs"].parameters == ("company", "project_filter", "project", "sub_report")
    assert "drawing_area" in REPORTS["Drawings"].parameters
    assert REPORTS["Change Order Request Details"].parameters[3:6] == ("contract", "contract_id", "cor")
    assert "pco" in REPORTS["Potential Change Order Details"].parameters
    assert "vendor" in REPORTS["Company Vendor Insurances"].parameters
    assert "cost_code_list" in REPORTS["Standard Cost Codes"].parameters
    assert "album" in REPORTS["Photos"].parameters and "meeting" in REPORTS["Meetings Categories"].parameters
    assert "photos" in REPORTS["Recently Updated Photos"].parameters
    assert {"report_date", "start_days_back"} <= set(REPORTS["Manpower Logs"].parameters)
    assert REPORTS["All RFI Replies"].scope == ALL_PROJECTS and "project" not in REPORTS["All RFI Replies"].parameters
    assert REPORTS["Companies"].scope == USER and not REPORTS["Companies"].endpoint.company_header


def test_endpoint_render_fills_path_and_query():
    path, query = REPORTS["Standard Cost Codes"].endpoint.render(
        {"company_id": 8001, "cost_code_list_id": 7.0})
    assert path == "/rest/v1.0/standard_cost_codes"
    assert query == {"company_id": "8001", "standard_cost_code_list_id": "7"}
    path, query = REPORTS["RFIs"].sub_list("answers").fetch.render({"project_id": 91001, "id": 5})
    assert path == "/rest/v1.0/projects/91001/rfis/5" and query == {}


def test_uncertain_mappings_carry_a_note():
    for name in ("All Activity Details", "Budget Items", "Change Orders", "Prime Contract (Payment Received)",
                 "Project Details (Budget)", "Equipment", "Calendar Events", "Change Reason Templates"):
        assert REPORTS[name].note, name


@pytest.mark.parametrize("typed,name", [("rfis", "RFIs"), ("  Project   Details  (Budget) ", "Project Details (Budget)"),
                                        ("PRIME CONTRACT (LINE ITEMS)", "Prime Contract (Line Items)")])
def test_find_report_forgives_case_and_spaces(typed, name):
    assert find_report(typed).name == name


def test_find_report_suggests_close_names():
    with pytest.raises(UnknownReportError) as e:
        find_report("RFI")
    assert str(e.value) == 'Unknown report "RFI" - did you mean "RFIs"?'
    with pytest.raises(UnknownReportError) as e:
        find_report("Manpower Log")
    assert '"Manpower Logs"' in str(e.value)
    with pytest.raises(UnknownReportError) as e:
        find_report("zzzz")
    assert "zzzz" in str(e.value) and len(e.value.choices) == 70


def test_catalog_markdown_lists_every_report_with_labels():
    md = catalog_markdown()
    lines = md.strip().splitlines()
    assert lines[0] == "| Report | Group | Parameters | Refresh | Notes |" and len(lines) == 72
    assert "| RFIs | Project management | Company, Project Filter, Project, Sub Report" in md
    assert "| Drawings | Project management | Company, Project Filter, Project, Drawing Area | incremental |" in md
    assert any(line.startswith("| Manpower Logs |") and "| full |" in line for line in lines)
    assert "| Potential Change Orders | Financials | Company, Project Filter, Project | incremental |" in md
    assert "| Manpower Logs | Daily logs |" in md and "Approved manpower logs only" in md
    assert "Contract, Contract ID, COR ID" in md
    for name in REPORTS:
        assert f"| {name} |" in md
