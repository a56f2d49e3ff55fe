"""Procore as published: every request the catalog can make is in Procore's reference, every report
and sub report runs against the strict sandbox, and docs/procore_fidelity.md is current."""
from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from procore_xl import reference
from procore_xl.catalog import REPORTS
from procore_xl.discovery import Discovery
from procore_xl.fidelity import all_calls, calls, fidelity_markdown, problems
from procore_xl.runner import run_report
from report_env import TODAY, report_env
from test_runner import params_for

ROOT = Path(__file__).resolve().parent.parent


def test_every_request_the_catalog_can_make_is_documented():
    undocumented = {f"{c.role}: {p}" for c in all_calls() for p in problems(c)}
    assert undocumented == set()


def test_the_check_names_what_is_undocumented():
    from procore_xl.catalog import Endpoint
    from procore_xl.fidelity import Call
    old_photos = Call("report", Endpoint("/rest/v1.0/images", {"project_id": "{project_id}", "sort": "-updated_at"}),
                      frozenset({"project_id", "sort", "page", "per_page"}))
    assert problems(old_photos) == ["GET /rest/v1.0/images: sort=-updated_at not documented"]
    paged_show = Call("report", Endpoint("/rest/v1.0/projects/{project_id}/rfis/{rfi_id}"), frozenset({"page", "per_page"}))
    assert "GET /rest/v1.0/projects/{project_id}/rfis/{rfi_id} is paged but documented without paging" in problems(paged_show)
    nowhere = Call("report", Endpoint("/rest/v1.0/projects/{project_id}/nothing"), frozenset())
    assert problems(nowhere) == ["GET /rest/v1.0/projects/{project_id}/nothing is not in Procore's published reference"]


def test_deprecated_endpoints_still_in_use_are_named_in_the_report_note():
    for report in REPORTS.values():
        for c in calls(report):
            if c.documented.deprecated and c.role == "report":
                assert c.endpoint.path in report.note and "kept" in report.note, report.name


def test_notes_name_the_deprecated_endpoints_they_moved_from():
    moved = {"Meetings": "/rest/v1.0/meetings", "Calendar Events": "/rest/v1.0/calendar_events",
             "Inspectors (checklists)": "/rest/v1.0/checklist/possible_inspectors"}
    for name, old in moved.items():
        assert reference.lookup(old).deprecated and old in REPORTS[name].note
        assert not any(c.documented.deprecated for c in calls(REPORTS[name]))


def test_fidelity_table_is_current():
    update = runpy.run_path(str(ROOT / "docs" / "update_readme.py"))
    assert (ROOT / "docs" / "procore_fidelity.md").read_text(encoding="utf-8") == fidelity_markdown(), \
        "run: python docs/update_readme.py"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert update["render"](readme) == readme


@pytest.fixture(scope="module")
def strict_env(make_sandbox):
    with report_env(make_sandbox, strict=True) as (sb, client):
        assert sb.config.strict
        yield sb, client, Discovery(client)


RUNS = [(name, None) for name in REPORTS] + [(name, s.name) for name, r in REPORTS.items() for s in r.sub_lists]


@pytest.mark.parametrize("name,sub", RUNS, ids=[f"{n}/{s}" if s else n for n, s in RUNS])
def test_every_report_and_sub_report_has_rows_from_the_strict_sandbox(strict_env, name, sub):
    sb, client, disc = strict_env
    params = params_for(REPORTS[name])
    if sub:
        params["sub_report"] = sub
    result = run_report(client, name, params, discovery=disc, today=TODAY)
    assert len(result.frame) > 0, f"{name} / {sub}: no rows"
    if sub:
        assert f"{REPORTS[name].entity}.id" in result.frame.columns


def test_reports_reading_the_same_show_record_share_one_request(strict_env):
    sb, client, _ = strict_env
    disc = Discovery(client)
    sb.reset_counts()
    run_report(client, "All Activity Details", {"company": "Harbor Tower Builders"}, discovery=disc, today=TODAY)
    counts = sb.path_counts
    run_report(client, "RFIs", {"company": "Harbor Tower Builders", "project": "Harbor Tower", "sub_report": "answers"},
               discovery=disc, today=TODAY)
    shown = [p for p in sb.path_counts if p.startswith("/rest/v1.0/projects/91001/rfis/") and "replies" not in p]
    assert shown and all(sb.path_counts[p] == counts[p] == 1 for p in shown)


CHANGED = [("Checklist Templates", "items"), ("Drawing Areas", "drawing_sets"), ("Project Dates", None),
           ("Prime Contract (Change Orders)", "change_events"), ("Meetings", None), ("Calendar Events", None),
           ("Inspectors (checklists)", None), ("Change Reason Templates", None), ("Line Item Types", None),
           ("Recently Updated Photos", None), ("Plan Revision Logs", None)]


@pytest.mark.parametrize("name,sub", CHANGED)
def test_cli_pull_against_the_strict_sandbox_as_a_service_account(sandbox, monkeypatch, capsys, tmp_path, name, sub):
    from procore_xl.cli import main
    assert sandbox.config.strict and sandbox.config.service_account_needs_company_header
    for var, value in (("PROCORE_LOGIN_URL", sandbox.url), ("PROCORE_API_URL", sandbox.url),
                       ("PROCORE_CLIENT_ID", sandbox.client_id), ("PROCORE_CLIENT_SECRET", sandbox.client_secret)):
        monkeypatch.setenv(var, value)
    target = tmp_path / "out.csv"
    argv = ["pull", name, "--company", "8001", "--out", str(target)]
    if REPORTS[name].scope == "project":
        argv += ["--project", "91001"]
    if REPORTS[name].dates:
        argv += ["--start-days-back", "10"]
    if sub:
        argv += ["--sub-report", sub]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 0, err
    assert len(target.read_text(encoding="utf-8").splitlines()) > 1
