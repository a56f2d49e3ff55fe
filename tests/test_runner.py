"""The generic runner against the sandbox over loopback, through the real client."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from procore_xl.catalog import ALL_PROJECTS, COMPANY, PROJECT, REPORTS
from procore_xl.discovery import Discovery
from procore_xl.errors import NotFoundError, ParameterError
from procore_xl.runner import run_report
from procore_xl.sandbox import BIG_ID
from procore_xl.sandbox.entities import CONTRACTS
from report_env import TODAY, report_env

# Reports that may legitimately return no rows in the small sandbox, and why.
NO_ROWS_REASONS: dict[str, str] = {}


@pytest.fixture(scope="module")
def env(make_sandbox):
    with report_env(make_sandbox) as (sb, client):
        yield sb, client


@pytest.fixture(scope="module")
def disc(env):
    return Discovery(env[1])


def params_for(report) -> dict:
    p: dict = {"company": "Harbor Tower Builders"}
    if report.scope == PROJECT:
        p["project"] = "Harbor Tower"
    for e in report.each:
        if e.parameter:
            p[e.parameter] = "all"
    if report.dates:
        p.update(start_days_back=40, end_days_back=0)
    return p


def assert_identity_first(frame: pd.DataFrame, report) -> None:
    """Leading columns (project.*, parents' keys, the parent record's keys for a sub report) come
    first, then the identity columns of the rows, starting with id."""
    sub = report.sub_list(report.default_sub_report)
    keys = sub.keys if sub else report.keys
    prefixes = ["project."] + [f"{e.prefix}." for e in report.each] + ([f"{report.entity}."] if sub else [])
    cols = list(frame.columns)
    n = 0
    while n < len(cols) and any(cols[n].startswith(p) for p in prefixes):
        n += 1
    present = [k for k in keys if k in cols[n:]]
    assert present and present[0] == "id", f"no id column: {cols[:8]}"
    assert cols[n:n + len(present)] == present, f"key columns not first: {cols[:10]}"


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_pulls_rows_from_the_sandbox(env, disc, name):
    sb, client = env
    report = REPORTS[name]
    before = sb.requests
    result = run_report(client, name, params_for(report), discovery=disc, today=TODAY)
    assert result.report == name
    assert result.requests == sb.requests - before and result.requests >= 1
    if name in NO_ROWS_REASONS:
        return
    assert len(result.frame) > 0, f"{name}: no rows"
    assert_identity_first(result.frame, report)
    if report.scope == ALL_PROJECTS:
        assert list(result.frame.columns[:2]) == ["project.id", "project.name"]


def test_rfis_of_one_project_match_the_sandbox(env, disc):
    sb, client = env
    project = sb.world.project(91001)
    result = run_report(client, "rfis", {"company": 8001, "project": 91001.0}, discovery=disc, today=TODAY)
    expected = sb.world.records("rfis", project)
    f = result.frame
    assert len(f) == len(expected)
    assert list(f.columns[:3]) == ["id", "number", "subject"]
    assert set(f["id"].astype(str)) == {str(r["id"]) for r in expected}
    assert str(BIG_ID) in set(f["id"].astype(str))      # id above 2**53 kept exact, as text
    assert f["created_at"].dtype.kind == "M"
    assert result.params["project"] == "Harbor Tower" and result.warnings == []


def test_all_projects_leading_columns_and_unreadable_project_warning(env, disc):
    sb, client = env
    result = run_report(client, "RFIs", {"company": 8001, "project": "all"}, discovery=disc, today=TODAY)
    active = [p for p in sb.world.company_projects(8001) if p["active"]]
    readable = [p for p in active if sb.world.can_read(p)]
    f = result.frame
    assert list(f.columns[:5]) == ["project.id", "project.name", "id", "number", "subject"]
    assert sorted(set(f["project.id"])) == sorted(p["id"] for p in readable)
    assert len(f) == sum(len(sb.world.records("rfis", p)) for p in readable)
    unreadable = [p for p in active if not sb.world.can_read(p)]
    assert len(result.warnings) == len(unreadable) == 1
    assert result.warnings[0].startswith(f'Skipped project "{unreadable[0]["name"]}" ({unreadable[0]["id"]}): no access')


def test_project_filter_inactive(env, disc):
    sb, client = env
    result = run_report(client, "RFIs", {"company": 8001, "project": "all", "project_filter": "inactive"},
                        discovery=disc, today=TODAY)
    inactive = {p["id"] for p in sb.world.company_projects(8001) if not p["active"]}
    assert set(result.frame["project.id"]) == inactive and result.params["project_filter"] == "inactive"


def test_a_single_unreadable_project_is_an_error(env, disc):
    _, client = env
    with pytest.raises(NotFoundError):
        run_report(client, "RFIs", {"company": 8001, "project": 91007}, discovery=disc, today=TODAY)


def test_sub_report_questions_and_two_level_answers(env, disc):
    sb, client = env
    rfis = sb.world.records("rfis", sb.world.project(91001))
    q = run_report(client, "RFIs", {"company": 8001, "project": 91001, "sub_report": "questions"},
                   discovery=disc, today=TODAY).frame
    assert list(q.columns[:4]) == ["rfi.id", "rfi.number", "rfi.subject", "id"]
    assert len(q) == sum(len(r["questions"]) for r in rfis)
    fresh = Discovery(client)       # the module's Discovery may hold the RFI show bodies already
    a = run_report(client, "RFIs", {"company": 8001, "project": 91001, "sub_report": "answers"},
                   discovery=fresh, today=TODAY)
    assert list(a.frame.columns[:5]) == ["rfi.id", "rfi.number", "rfi.subject", "question.id", "id"]
    replies = sum(len(sb.world.records("rfi_replies", r)) for r in rfis)
    assert len(a.frame) == replies
    again = run_report(client, "RFIs", {"company": 8001, "project": 91001, "sub_report": "answers"},
                       discovery=fresh, today=TODAY)
    assert again.requests == 1 and len(again.frame) == replies     # show bodies shared, the list re-read
    assert a.requests - again.requests >= len(rfis)                 # one show request per RFI the first time


def test_all_rfi_replies_roll_up(env, disc):
    sb, client = env
    result = run_report(client, "All RFI Replies", {"company": 8001}, discovery=disc, today=TODAY)
    readable = [p for p in sb.world.company_projects(8001) if p["active"] and sb.world.can_read(p)]
    expected = sum(len(sb.world.records("rfi_replies", r)) for p in readable for r in sb.world.records("rfis", p))
    assert len(result.frame) == expected
    assert list(result.frame.columns[:5]) == ["project.id", "project.name", "rfi.id", "rfi.number", "rfi.subject"]
    assert len(result.warnings) == 1


def test_daily_log_range_is_chunked_without_duplicates(env, disc):
    sb, client = env
    sb.reset_counts()
    result = run_report(client, "Work Logs", {"company": 8001, "project": 91001, "start_days_back": 99,
                                              "end_days_back": 0}, discovery=disc, today=TODAY)
    path = "/rest/v1.0/projects/91001/work_logs"
    assert sb.path_counts.get(path) == 4            # 100 days = 4 chunks of at most 31 days (one page each)
    f = result.frame
    assert f["id"].is_unique and len(f) > 0
    assert f["date"].min() >= pd.Timestamp(TODAY - timedelta(days=99)) and f["date"].max() <= pd.Timestamp(TODAY)
    one = run_report(client, "Work Logs", {"company": 8001, "project": 91001, "days_back": 1},
                     discovery=disc, today=TODAY)
    assert set(one.frame["date"]) <= {pd.Timestamp(TODAY - timedelta(days=1))}
    assert one.params["report_date"] == (TODAY - timedelta(days=1)).isoformat()


def test_recently_updated_photos_returns_the_n_most_recent(env, disc):
    _, client = env
    result = run_report(client, "Recently Updated Photos", {"company": 8001, "project": 91001, "photos": 3},
                        discovery=disc, today=TODAY)
    f = result.frame
    assert len(f) == 3 and f["updated_at"].is_monotonic_decreasing


def test_one_parent_by_name_and_unknown_parent(env, disc):
    _, client = env
    areas = disc.choices("drawing_areas", company=8001, project=91001)
    one = run_report(client, "Drawings", {"company": 8001, "project": 91001, "drawing_area": areas[0].label},
                     discovery=disc, today=TODAY)
    assert set(one.frame["drawing_area.id"]) == {areas[0].id}
    assert list(one.frame.columns[:3]) == ["drawing_area.id", "drawing_area.name", "id"]
    with pytest.raises(ParameterError) as e:
        run_report(client, "Drawings", {"company": 8001, "project": 91001, "drawing_area": "Basement 9"},
                   discovery=disc, today=TODAY)
    assert str(e.value).startswith('Unknown drawing area "Basement 9" in project 91001')


def test_contract_id_typed_by_hand(env, disc):
    sb, client = env
    contracts = disc.records("contracts", company_id=8001, project_id=91001)
    cid = contracts[0]["id"]
    result = run_report(client, "Change Orders Requests", {"company": 8001, "project": 91001,
                                                           "contract_id": float(cid)}, discovery=disc, today=TODAY)
    assert result.params["contract_id"] == cid
    (contract,) = [c for kind in CONTRACTS for c in sb.world.records(kind, sb.world.project(91001)) if c["id"] == cid]
    cors = sb.world.records("change_order_requests", contract)
    assert cors and sorted(result.frame["id"]) == sorted(c["id"] for c in cors)
    assert set(result.frame["contract.id"]) == {cid}


def test_company_reports_do_not_need_a_project(env, disc):
    sb, client = env
    result = run_report(client, "Projects", {"company": "Harbor Tower Builders", "project_filter": "all"},
                        discovery=disc, today=TODAY)
    assert len(result.frame) == len(sb.world.company_projects(8001))
    assert list(result.frame.columns[:3]) == ["id", "project_number", "name"]
    assert REPORTS["Projects"].scope == COMPANY


def test_a_parent_deleted_since_it_was_listed_is_skipped_with_a_warning(env):
    """All RFI Replies: one RFI's replies answer 404 (deleted meanwhile): that RFI is skipped and
    named, the other RFIs' replies are all there; when nothing at all is readable, it is an error."""
    from procore_xl.runner import run_report

    sandbox, client = env
    rfis = sandbox.world.records("rfis", sandbox.world.project(91001))
    gone = rfis[0]["id"]
    sandbox.faults.gone_paths = frozenset({f"/rest/v1.0/projects/91001/rfis/{gone}/replies"})
    try:
        result = run_report(client, "All RFI Replies", {"company": 8001, "project_filter": "active"})
        in_91001 = result.frame[result.frame["project.id"] == 91001]
        assert gone not in set(in_91001["rfi.id"]) and set(in_91001["rfi.id"])
        assert any(f"rfi {gone} of project 91001 not found" in w for w in result.warnings)
        assert not any("Skipped project" in w and "Harbor Tower" in w for w in result.warnings)
        areas = sandbox.world.records("drawing_areas", sandbox.world.project(91001))
        sandbox.faults.gone_paths = frozenset(f"/rest/v1.1/drawing_areas/{a['id']}/drawings" for a in areas)
        with pytest.raises(NotFoundError):       # not one drawing area readable: an error, not an empty sheet
            run_report(client, "Drawings", {"company": 8001, "project": 91001, "drawing_area": "all"})
    finally:
        sandbox.faults.gone_paths = frozenset()


def test_project_dates_read_every_page(env):
    """Each page of project dates is one object: the runner reads page after page."""
    from procore_xl.client import ProcoreClient
    sb, client = env
    dates = sb.world.records("project_dates", sb.world.project(91001))
    with ProcoreClient(sb.url, client.tokens, per_page=2) as small:
        before = sb.path_counts.get("/rest/v1.0/projects/91001/project_dates", 0)
        result = run_report(small, "Project Dates", {"company": 8001, "project": 91001}, today=TODAY)
        pages = sb.path_counts["/rest/v1.0/projects/91001/project_dates"] - before
    assert sorted(result.frame["id"]) == sorted(d["id"] for d in dates) and len(dates) == 5
    assert pages == 3                      # 2 + 2 + 1: the short page is the last


@pytest.mark.parametrize("sub_report", [None, "Files", "File versions"])
def test_project_folders_skip_folders_documented_as_empty(env, sub_report):
    """A folder listed with ``has_children: false`` holds nothing: it is not fetched, and the sheet
    (and each sub report) equals the one made by fetching every folder."""
    import dataclasses
    from procore_xl.sandbox.routes import folder_parent_index
    sb, client = env
    report = REPORTS["Project Folders"]
    every = dataclasses.replace(report, tree=dataclasses.replace(report.tree, empty_when_false=None))
    params = {"company": 8001, "project": 91001, **({"sub_report": sub_report} if sub_report else {})}
    folders = sb.world.records("folders", sb.world.project(91001))
    empty = [f for k, f in enumerate(folders)
             if not sb.world.records("files", f) and not any(folder_parent_index(j) == k for j in range(len(folders)))]
    assert empty and len(empty) < len(folders) - 1               # the sandbox has both kinds
    before = sb.path_counts.copy()
    quick = run_report(client, report, params, today=TODAY)
    shows = sum(n - before.get(p, 0) for p, n in sb.path_counts.items() if p.startswith("/rest/v1.0/folders/"))
    assert shows == len(folders) - 1 - len(empty)                 # every folder but the root and the empty ones
    full = run_report(client, every, params, today=TODAY)
    pd.testing.assert_frame_equal(quick.frame, full.frame)
    if sub_report is None:
        assert sorted(quick.frame["id"]) == sorted(f["id"] for f in folders)


def test_the_cycle_collector_runs_rarely_during_runs_and_as_before_after():
    import gc

    from procore_xl.runner import COLLECT_EVERY, collector_paused
    before = gc.get_threshold()
    with collector_paused():
        with collector_paused():                 # another run meanwhile (another thread)
            assert gc.get_threshold()[0] >= COLLECT_EVERY
        assert gc.get_threshold()[0] >= COLLECT_EVERY
    assert gc.get_threshold() == before
