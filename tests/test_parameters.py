"""Parameters: kinds, names and ids, relative dates, and a clear ParameterError for bad input.
Company and project resolution runs against the sandbox through the real client."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from procore_xl.catalog import LISTS, REPORTS
from procore_xl.discovery import Discovery, make_choices
from procore_xl.errors import ParameterError
from procore_xl.parameters import SPECS, Choice, as_date, as_id, date_chunks, resolve, resolve_dates, select
from report_env import TODAY, report_env


@pytest.fixture(scope="module")
def env(make_sandbox):
    with report_env(make_sandbox) as (sb, client):
        yield sb, client


@pytest.fixture
def disc(env):
    return Discovery(env[1])


def err(report, params, disc, **kw) -> str:
    with pytest.raises(ParameterError) as e:
        resolve(REPORTS[report], params, disc, today=TODAY, **kw)
    return str(e.value)


# -- names and ids ------------------------------------------------------------------------------
@pytest.mark.parametrize("project", [91001, 91001.0, "91001", " 91001.0 ", "Harbor Tower", "harbor  TOWER",
                                     "91001-01"])
def test_project_by_name_or_id_in_any_form(disc, project):
    res = resolve(REPORTS["RFIs"], {"company": "harbor tower builders", "project": project}, disc, today=TODAY)
    assert res.company == Choice("Harbor Tower Builders", 8001, res.company.aliases)
    assert res.project.id == 91001 and res.project.label == "Harbor Tower"
    assert res.display == {"project_filter": "active", "company": "Harbor Tower Builders", "company_id": 8001,
                           "project": "Harbor Tower", "project_id": 91001, "sub_report": "none"}
    json.dumps(res.display)


def test_an_inactive_project_can_be_chosen_by_id_whatever_the_filter(env, disc):
    sb, _ = env
    inactive = next(p for p in sb.world.company_projects(8001) if not p["active"])
    res = resolve(REPORTS["RFIs"], {"company": 8001, "project": inactive["id"]}, disc, today=TODAY)
    assert res.project.id == inactive["id"]


def test_project_all_and_project_filter(disc):
    res = resolve(REPORTS["RFIs"], {"company": 8001, "project": "ALL", "project_filter": "Inactive only"}, disc,
                  today=TODAY)
    assert res.all_projects and res.project is None and res.project_filter == "inactive"


def test_ambiguous_names_list_the_candidates():
    choices = make_choices([{"id": 91002, "name": "Main St"}, {"id": 91009, "name": "Main St"},
                            {"id": 91003, "name": "Elm"}], LISTS["projects"])
    assert [c.label for c in choices] == ["Elm", "Main St (91002)", "Main St (91009)"]
    with pytest.raises(ParameterError) as e:
        select("project", "main st", choices, where="in company 8001")
    assert str(e.value) == ('Project "main st" is ambiguous in company 8001 - it matches "Main St (91002)", '
                            '"Main St (91009)"; use the label or the id')
    assert e.value.choices == ["Main St (91002)", "Main St (91009)"]
    assert select("project", "Main St (91009)", choices)[0].id == 91009
    assert select("project", 91009.0, choices)[0].id == 91009


def test_parent_parameters_all_or_one():
    choices = make_choices([{"id": 1, "number": "001", "title": "Steel"}, {"id": 2, "number": "002", "title": "Glass"}],
                           LISTS["pcos"])
    assert [c.label for c in choices] == ["001 - Steel", "002 - Glass"]
    assert select("pco", "all", choices) == choices
    assert select("pco", "glass", choices)[0].id == 2 and select("pco", "001", choices)[0].id == 1
    with pytest.raises(ParameterError) as e:
        select("company", "all", [Choice("A", 1)])
    assert str(e.value) == 'Company cannot be "all" - choose one of: A'


def test_string_ids_of_v2_records():
    assert select("album", "abc-1", [Choice("Site", "abc-1")])[0].label == "Site"


# -- bad input ------------------------------------------------------------------------------------
def test_missing_parameters(disc):
    assert err("RFIs", {"company": 8001}, disc) == "Project is required for RFIs (a project name, id or all)"
    assert err("RFIs", {"project": 91001}, disc) == \
        "Company is required - choose one of: Coastal Civil Group, Harbor Tower Builders"
    assert err("Drawings", {"company": 8001, "project": 91001}, disc) == \
        "Drawing Area is required for Drawings - a name, an id or all"
    assert err("Contract Payments", {"company": 8001, "project": 91001}, disc) == \
        "Contract (or Contract ID) is required for Contract Payments - a name, an id or all"


def test_unknown_names(disc):
    msg = err("RFIs", {"company": 8001, "project": "Harbour"}, disc)
    assert msg.startswith('Unknown project "Harbour" in company 8001 - did you mean "Harbor Tower"? Or choose one of: all, ')
    assert "Pier 39 Retrofit" in msg
    assert err("RFIs", {"company": "Harbor", "project": 91001}, disc).startswith('Unknown company "Harbor"')
    assert err("RFIs", {"company": 8001, "project": 99999}, disc).startswith('No project with id 99999 in company 8001')


def test_wrong_types_and_values(disc):
    base = {"company": 8001, "project": 91001}
    assert err("Recently Updated Photos", {**base, "photos": "many"}, disc) == \
        'Number of photos must be a whole number >= 1, got "many"'
    assert err("Recently Updated Photos", {**base, "photos": 0}, disc) == \
        'Number of photos must be a whole number >= 1, got "0"'
    assert err("Manpower Logs", {**base, "days_back": "-3"}, disc) == \
        'Report Date (days back) must be a whole number >= 0, got "-3"'
    assert err("Contract Payments", {**base, "contract_id": "PO-1"}, disc) == \
        'Contract ID must be a whole number >= 1, got "PO-1"'
    assert err("Contract Payments", {**base, "contract_id": 5, "contract": "x"}, disc) == \
        "Give Contract (from the list) or Contract ID (typed), not both"
    assert err("RFIs", {**base, "project_filter": "open"}, disc) == \
        'Unknown project filter "open" - choose one of: active, inactive, all'


def test_bad_dates(disc):
    base = {"company": 8001, "project": 91001}
    assert err("Work Logs", {**base, "report_date": "2024-02-30"}, disc) == \
        'Report Date "2024-02-30" is not a date - use YYYY-MM-DD, e.g. 2024-05-31'
    assert err("Work Logs", {**base, "start_date": "31/05/2024"}, disc).startswith('Start Date "31/05/2024" is not a date')
    assert err("Work Logs", {**base, "start_date": "2024-05-10", "end_date": "2024-05-01"}, disc) == \
        "End Date 2024-05-01 is before Start Date 2024-05-10 - swap them"
    assert err("Work Logs", {**base, "report_date": "2024-05-10", "start_days_back": 3}, disc) == \
        "Give a Report Date or a Start/End Date range, not both"
    assert err("Work Logs", {**base, "end_days_back": 3}, disc) == \
        "Start Date is required with End Date (a date or start_days_back)"


def test_unknown_sub_report_and_unknown_or_foreign_parameters(disc):
    base = {"company": 8001, "project": 91001}
    assert err("RFIs", {**base, "sub_report": "answer"}, disc) == \
        'Unknown sub report "answer" for RFIs - choose one of: none, questions, answers, assignees, ball_in_courts'
    assert err("RFIs", {**base, "projct": 1}, disc).startswith('Unknown parameter "projct" - did you mean "project"?')
    assert err("RFIs", {**base, "album": "Site"}, disc) == \
        "RFIs does not take Album (album); it takes: company, project_filter, project, sub_report"


def test_blank_values_count_as_not_given(disc):
    res = resolve(REPORTS["RFIs"], {"company": 8001, "project": 91001, "sub_report": "", "album": None}, disc,
                  today=TODAY)
    assert res.sub_list is None


def test_sub_report_and_limit_defaults(disc):
    base = {"company": 8001, "project": 91001}
    assert resolve(REPORTS["RFIs"], {**base, "sub_report": "Answers"}, disc).sub_list.path == "questions.answers"
    assert resolve(REPORTS["Prime Contract (Attachment)"], base, disc).sub_list.name == "attachments"
    assert resolve(REPORTS["Recently Updated Photos"], base, disc).limit == SPECS["photos"].default == 50
    assert resolve(REPORTS["Recently Updated Photos"], {**base, "photos": 7.0}, disc).limit == 7


# -- dates ----------------------------------------------------------------------------------------
def test_relative_dates_resolve_against_today():
    t = date(2024, 6, 14)
    assert resolve_dates({}, t) == ((t, t), True)
    assert resolve_dates({"days_back": 1}, t) == ((date(2024, 6, 13),) * 2, True)
    assert resolve_dates({"report_date": "2024-05-31"}, t) == ((date(2024, 5, 31),) * 2, True)
    assert resolve_dates({"start_days_back": 10, "end_days_back": "5"}, t) == \
        ((date(2024, 6, 4), date(2024, 6, 9)), False)
    assert resolve_dates({"start_date": "2024-06-01"}, t) == ((date(2024, 6, 1), t), False)
    assert resolve_dates({"start_date": date(2024, 1, 1), "end_days_back": 0}, t) == ((date(2024, 1, 1), t), False)


def test_daily_log_display_params(disc):
    res = resolve(REPORTS["Manpower Logs"], {"company": 8001, "project": 91001, "start_days_back": 10,
                                             "end_days_back": 5}, disc, today=TODAY)
    assert res.dates == (TODAY - timedelta(days=10), TODAY - timedelta(days=5)) and not res.single_date
    assert res.display["start_date"] == "2024-06-04" and res.display["start_days_back"] == 10


def test_excel_values():
    assert as_id(91001.0) == 91001 and as_id("91001") == 91001 and as_id(91001.5) is None and as_id(True) is None
    assert as_date("report_date", 45457) == date(2024, 6, 14)     # Excel serial
    assert as_date("report_date", "2024-06-14T00:00:00") == date(2024, 6, 14)


def test_date_chunks_cover_the_range_once():
    start = date(2024, 1, 1)
    chunks = date_chunks(start, start + timedelta(days=99), 31)
    assert len(chunks) == 4
    assert chunks[0] == (date(2024, 1, 1), date(2024, 1, 31)) and chunks[-1][1] == date(2024, 4, 9)
    assert all(b[0] == a[1] + timedelta(days=1) for a, b in zip(chunks, chunks[1:]))
    assert date_chunks(start, start, 31) == [(start, start)]


# -- discovery --------------------------------------------------------------------------------------
def test_discovery_lists_sorted_unique_and_cached(env, disc):
    sb, client = env
    companies = disc.choices("companies")
    assert [c.label for c in companies] == sorted(c["name"] for c in sb.world.member_companies())
    for pf, want in (("active", True), ("inactive", False)):
        got = disc.choices("projects", company=8001, project_filter=pf)
        expected = sorted(p["name"] for p in sb.world.company_projects(8001) if p["active"] == want)
        assert [c.label for c in got] == expected
    every = disc.choices("project", company_id=8001.0, project_filter="all")
    assert len(every) == len(sb.world.company_projects(8001)) == len({c.label for c in every})
    before = client.stats.snapshot()["requests"]
    disc.choices("projects", company=8001, project_filter="all")
    assert client.stats.snapshot()["requests"] == before
    assert [c.label for c in disc.choices("sub_reports", report="rfis")] == \
        ["none", "questions", "answers", "assignees", "ball_in_courts"]
    assert [c.id for c in disc.choices("project_filter")] == ["active", "inactive", "all"]


def test_discovery_needs_its_context(disc):
    with pytest.raises(ParameterError) as e:
        disc.choices("drawing_areas", company=8001)
    assert str(e.value) == "The drawing_areas list needs one project (a name or an id, not all)"
    with pytest.raises(ParameterError) as e:
        disc.choices("widgets")
    assert str(e.value).startswith('Unknown list "widgets" - choose one of: ')


def test_an_id_nobody_has_gets_no_look_alike_suggestion():
    choices = [Choice("Harbor Tower", 91001, ("91001-HT",)), Choice("Sunset Library Renovation", 91005)]
    with pytest.raises(ParameterError) as err:
        select("project", "92001", choices, where="in company 8001")
    assert str(err.value).startswith("No project with id 92001 in company 8001 - choose one of:")
    assert "did you mean" not in str(err.value)
