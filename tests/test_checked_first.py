"""Cheap local checks come before expensive remote ones: a mistyped report, parameter, value or
list name is what a person hears about first - before "No Procore client id", before "Not
signed in", before any request. Real parts only: the command line in-process, the worksheet
functions called directly, the sandbox over loopback where a request could be made."""
from __future__ import annotations

import dataclasses

import pytest

from cli_run import one_error_line, point_at, run
from procore_xl.addin import udfs
from procore_xl.addin.session import set_service
from procore_xl.service import ProcoreService
from procore_xl.tokens import KeyringTokenStore


# -- command line, no client id set (isolated_home clears every PROCORE_* variable) --------------
@pytest.mark.parametrize("argv, words", [
    (["pull", "Nope"], ['Unknown report "Nope"']),
    (["pull", "RFI", "--company", "8001", "--project", "91001"], ['did you mean "RFIs"']),
    (["pull", "RFIs", "--company", "8001", "--project", "91001", "--report-date", "2026-01-05"],
     ["does not take Report Date"]),
    (["pull", "RFIs", "--company", "8001", "--project", "91001", "--sub-report", "nope"],
     ['Unknown sub report "nope"']),
    (["pull", "RFIs", "--company", "8001", "--project", "91001", "--headers", "nope"],
     ['Unknown headers choice "nope"']),
    (["pull", "Manpower Logs", "--company", "8001", "--project", "91001", "--start-date", "2026-02-30"],
     ['Start Date "2026-02-30" is not a date']),
    (["pull", "Manpower Logs", "--company", "8001", "--project", "91001", "--start-days-back", "-5"],
     ["whole number >= 0"]),
    (["pull", "Change Orders", "--company", "8001", "--project", "91001"], ["Contract (or Contract ID) is required"]),
    (["pull", "RFIs", "--company", "8001"], ["Project is required"]),
    (["pull", ""], ["No report named"]),
    (["lists", "nope"], ['Unknown list "nope"']),
    (["lists", "contracts", "--company", "8001"], ["The contracts list needs one project (a name or an id, not all)"]),
    (["lists", "contracts", "--company", "8001", "--project", "all"], ["The contracts list needs one project"]),
    (["lists", "cors", "--company", "8001", "--project", "91001"], ["The cors list needs one contract"]),
    (["lists", "projects"], ["The projects list needs one company"]),
    (["lists", "vendors"], ["The vendors list needs one company"]),
    (["pull", "RFIs", "--company", "8001", "--project", "91001", "--raw-csv", "--out", "rfis.xlsx"],
     ["--raw-csv applies to CSV output only", "not .xlsx"]),
    (["pull", "RFIs", "--company", "8001", "--project", "91001", "--raw-csv", "--out", "rfis.json"],
     ["--raw-csv applies to CSV output only", "not .json"]),
    (["pull", "RFIs", "--company", "8001", "--project", "91001", "--headers", "labels", "--out", "rfis.json"],
     ["JSON output holds Procore's records as sent: --headers"]),
    (["sync", "--company", "8001", "--reports", "RFIs,Nope"], ['Unknown report "Nope"']),
])
def test_a_mistyped_name_or_value_is_named_before_the_missing_client_id(capsys, argv, words):
    code, out, err = run(capsys, *argv)
    line = one_error_line(err)
    assert code == 2 and not out
    assert "client id" not in line, line
    for word in words:
        assert word in line, line


def test_the_lists_that_need_no_procore_need_no_client_id(capsys):
    code, out, err = run(capsys, "lists", "reports")
    assert code == 0, err
    assert "RFIs\tRFIs" in out.splitlines()
    code, out, err = run(capsys, "lists", "project_filter")
    assert (code, out.split()) == (0, ["active", "active", "inactive", "inactive", "all", "all"]), err
    code, out, err = run(capsys, "lists", "sub_reports", "--report", "RFIs")
    assert code == 0 and "questions\tquestions" in out.splitlines(), err


def test_a_list_procore_holds_still_needs_the_client_id(capsys):
    code, _, err = run(capsys, "lists", "projects", "--company", "8001")
    assert code == 2 and "PROCORE_CLIENT_ID" in one_error_line(err)


def test_a_bad_value_sends_no_request(sandbox, monkeypatch, capsys, tmp_path):
    point_at(sandbox, monkeypatch)
    before = sandbox.requests
    code, _, err = run(capsys, "pull", "Manpower Logs", "--company", "Harbor Tower Builders", "--project",
                       "Harbor Tower", "--start-date", "2026-02-30", "--out", str(tmp_path / "logs.csv"))
    assert code == 2 and 'Start Date "2026-02-30" is not a date' in one_error_line(err)
    assert sandbox.requests == before and not (tmp_path / "logs.csv").exists()


@pytest.mark.parametrize("suffix", ["xlsx", "json"])
def test_raw_csv_for_a_workbook_or_json_is_refused_without_a_request(sandbox, monkeypatch, capsys, tmp_path, suffix):
    point_at(sandbox, monkeypatch)
    before = sandbox.requests
    target = tmp_path / f"rfis.{suffix}"
    code, out, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "--raw-csv",
                         "--out", str(target))
    assert code == 2 and not out
    assert f"--raw-csv applies to CSV output only (.csv or -), not .{suffix}" in one_error_line(err)
    assert sandbox.requests == before and not target.exists()


# -- worksheet functions -------------------------------------------------------------------------
def test_cells_name_a_bad_parameter_before_the_missing_client_id():
    set_service(None)
    udfs.clear_cache()
    try:
        assert udfs.PROCORE_REPORT("RFIs", 8001, 91001, "bogus", 1).startswith('Unknown parameter "bogus"')
        assert udfs.PROCORE_REPORT("RFIs", "Harbor Tower Builders", "Harbor Tower", "sub_report", "zz") \
            .startswith('Unknown sub report "zz"')
        assert udfs.PROCORE_REPORT("Manpower Logs", 8001, 91001, "start_date", "2026-02-30") \
            .startswith('Start Date "2026-02-30" is not a date')
        assert udfs.PROCORE_LIST("nope", 8001, 91001).startswith('Unknown list "nope"')
        assert udfs.PROCORE_PROJECTS(8001, "zzz").startswith('Unknown project filter "zzz"')
        # what needs no Procore works without a client id
        assert len(udfs.PROCORE_REPORTS()) == 71
        assert udfs.PROCORE_LIST("sub_reports", None, None, "report", "RFIs")[:2] == [["Sub reports", "ID"],
                                                                                      ["none", "none"]]
        assert ["RFIs", "RFIs"] in udfs.PROCORE_LIST("reports", None, None)
    finally:
        set_service(None)
        udfs.clear_cache()


def test_cells_name_a_bad_parameter_before_not_signed_in(settings, keyring_backend):
    set_service(ProcoreService(dataclasses.replace(settings, client_secret=None), KeyringTokenStore()))
    udfs.clear_cache()
    try:
        assert udfs.PROCORE_REPORT("Manpower Logs", "Harbor Tower Builders", "Harbor Tower",
                                   "start_days_back", -5).startswith("Start Date (days back) must be")
        assert udfs.PROCORE_REPORT("RFIs", "Harbor Tower Builders", "Harbor Tower") == udfs.NOT_SIGNED_IN
    finally:
        set_service(None)
        udfs.clear_cache()


def test_a_blank_report_cell_says_so():
    for blank in (None, "", "   "):
        message = udfs.PROCORE_REPORT(blank, 8001, 91001)
        assert message.startswith("No report named - give a report name"), message
        assert '"None"' not in message


def test_a_parameter_given_twice_in_a_formula_is_refused(excel_service, sandbox):
    before = sandbox.requests
    assert udfs.PROCORE_REPORT("RFIs", 8001, 91001, "Sub Report", "questions", "sub-report", "answers") == \
        "Sub Report is given twice - give each parameter once"
    assert udfs.PROCORE_REPORT("RFIs", 8001, 91001, "project", 91002).startswith("Project is given twice")
    assert sandbox.requests == before
    # the project as a pair with the Project argument left empty is one value, not two
    assert isinstance(udfs.PROCORE_REPORT("RFIs", 8001, None, "project", 91001), list)


def test_lists_in_cells_work_for_a_service_account(sandbox, settings, keyring_backend):
    """A service account (client id + secret, no user sign-in) cannot list companies: the list
    functions take the company's id as a report does, instead of failing on the companies list."""
    set_service(ProcoreService(settings, KeyringTokenStore()))      # no stored sign-in: the app's account
    udfs.clear_cache()
    try:
        projects = udfs.PROCORE_PROJECTS(8001.0)
        assert projects[0] == ["Project", "ID"] and ["Harbor Tower", 91001] in projects, projects
        contracts = udfs.PROCORE_LIST("contracts", 8001, 91001.0)
        assert contracts[0] == ["Contracts", "ID"] and len(contracts) > 1, contracts
        assert udfs.PROCORE_PROJECTS("Harbor Tower Builders").startswith("This sign-in cannot list companies")
    finally:
        set_service(None)
        udfs.clear_cache()


def test_companies_in_a_cell_for_a_service_account_says_what_to_do(sandbox, settings, keyring_backend):
    """=PROCORE_COMPANIES() for a service account: the readable line the CLI gives (name the
    company by id, or sign in as a user), not Procore's "Missing Procore-Company-Id header!" alone;
    the same on a second call (the refusal is kept) and nothing cached as a table."""
    set_service(ProcoreService(settings, KeyringTokenStore()))      # no stored sign-in: the app's account
    udfs.clear_cache()
    try:
        for _ in range(2):
            shown = udfs.PROCORE_COMPANIES()
            assert isinstance(shown, str), shown
            assert shown.startswith("This sign-in cannot list companies (a service account"), shown
            assert "names its company by id" in shown and "e.g. =PROCORE_PROJECTS(8001)" in shown, shown
            assert "Procore > Connect" in shown, shown
    finally:
        set_service(None)
        udfs.clear_cache()


def test_a_value_pasted_by_mistake_is_cut_so_the_hint_stays_in_sight(capsys):
    """A cell or a file pasted into a name: the message repeats its start and its length, and
    still says how to fix it (a cell shows 1,000 characters; a terminal line should be one)."""
    set_service(None)
    udfs.clear_cache()
    try:
        for message in (udfs.PROCORE_REPORT("x" * 100_000, 8001, 91001),
                        udfs.PROCORE_REPORT("RFIs", 8001, 91001, "y" * 100_000, 1),
                        udfs.PROCORE_REPORT("Manpower Logs", 8001, 91001, "start_date", "2026-01-01" * 1000),
                        udfs.PROCORE_LIST("z" * 100_000, None, None),
                        udfs.PROCORE_REPORT("RFIs", 8001, 91001, "w" * 100_000),
                        udfs.PROCORE_REPORT("RFIs", 8001, 91001, "v" * 100_000, 1, "v" * 100_000, 2)):
            assert len(message) < 400 and "characters)" in message, message[:200]
        assert udfs.PROCORE_REPORT("x" * 100_000, 8001, 91001).endswith("for the list of reports")
    finally:
        set_service(None)
    code, _, err = run(capsys, "pull", "RFIs" * 50_000)
    line = one_error_line(err)
    assert code == 2 and len(line) < 300 and '...(200,000 characters)"' in line, line[:300]


@pytest.mark.parametrize("argv, words", [
    (["refresh", ""], "Workbook: the file name is empty"),
    (["refresh", "", "--plan"], "Workbook: the file name is empty"),
    (["new-workbook", "x.xlsx", "--report", "RFIs", "--template", ""], "Template: the file name is empty"),
])
def test_an_empty_file_name_is_named(capsys, tmp_path, monkeypatch, argv, words):
    """`refresh "$BOOK"` with the variable unset: said so, not "Is a directory: ." or a double space."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2 and not out and words in one_error_line(err)
    assert not any(p.suffix == ".xlsx" for p in tmp_path.iterdir())       # nothing written


def test_list_cells_name_a_bad_filter_or_pair(excel_service, sandbox):
    """=PROCORE_LIST("projects", C4, , "project_filter", "zzz") said "KeyError: 'zzz'"; a pair the
    list does not take was dropped silently."""
    before = sandbox.requests
    assert udfs.PROCORE_LIST("projects", 8001, None, "project_filter", "zzz") == \
        'Unknown project filter "zzz" - choose one of: active, inactive, all'
    assert udfs.PROCORE_LIST("projects", 8001, None, "bogus", 1).startswith('PROCORE_LIST does not take "bogus"')
    assert sandbox.requests == before
    inactive = udfs.PROCORE_LIST("projects", 8001, None, "project_filter", " Inactive ")
    assert ["Sunset Library Renovation", 91005] in inactive and ["Harbor Tower", 91001] not in inactive


def test_a_list_with_an_unknown_project_filter_is_a_parameter_error(service, sandbox):
    from procore_xl.errors import ParameterError

    before = sandbox.requests
    with pytest.raises(ParameterError, match='Unknown project filter "zzz" - choose one of: active, inactive, all'):
        service.choices("projects", company=8001, project_filter="zzz")
    assert sandbox.requests == before


def test_lists_companies_as_the_hint_for_a_service_account_says(sandbox, monkeypatch, capsys):
    """A service account cannot list companies without naming one: the error says to run
    `procore-xl lists companies --company ID`, and that command then works (it failed with the
    same hint again, a loop)."""
    point_at(sandbox, monkeypatch)
    code, _, err = run(capsys, "lists", "companies")
    assert code == 2 and "`procore-xl lists companies --company ID`" in one_error_line(err)
    code, out, err = run(capsys, "lists", "companies", "--company", "8001")
    assert code == 0, err
    assert "8001\tHarbor Tower Builders" in out.splitlines()


@pytest.mark.parametrize("argv, words", [
    (["--report", "RFIs", "--company", "8001", "--project", "91001", "--headers", "nope"],
     'Unknown headers choice "nope"'),
    (["--report", "Manpower Logs", "--company", "8001", "--project", "91001", "--start-date", "2026-02-30"],
     'Start Date "2026-02-30" is not a date'),
    (["--report", "RFIs", "--company", "8001", "--project", "91001", "--report-date", "2026-01-05"],
     "RFIs does not take Report Date"),
])
def test_new_workbook_names_a_mistyped_value_before_the_missing_client_id(capsys, tmp_path, argv, words):
    code, out, err = run(capsys, "new-workbook", str(tmp_path / "book.xlsx"), *argv)
    line = one_error_line(err)
    assert code == 2 and not out and words in line and "client id" not in line, line
    assert not (tmp_path / "book.xlsx").exists()


def test_new_workbook_still_writes_a_sheet_whose_project_is_left_to_fill_in(sandbox, monkeypatch, capsys, tmp_path):
    point_at(sandbox, monkeypatch)
    target = tmp_path / "book.xlsx"
    code, _, err = run(capsys, "new-workbook", str(target), "--report", "RFIs", "--company", "8001")
    assert code == 1 and "was written, but RFIs failed" in err and "Project is required" in err
    assert target.exists()
