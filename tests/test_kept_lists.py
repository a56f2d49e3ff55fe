"""Requests a refresh does not need: discovery lists and custom field labels kept between runs
(kept_lists.py), the company and project named while the data comes when given as ids, and one
request for a call several reports of one workbook refresh make (shared_calls.py). Real sandbox
over loopback, real record store and list files; each "run" is a new service, as a new
`procore-xl` process is."""
from __future__ import annotations

import collections
import contextlib
import logging
import re
import sqlite3
import time

import pytest

from procore_xl.discovery import KEPT_AGE
from procore_xl.errors import ParameterError, ProcoreError
from procore_xl.excel.refresh import new_workbook, refresh_workbook
from procore_xl.kept_lists import LISTS_FILE_NAME
from procore_xl.service import ProcoreService
from procore_xl.store import RecordStore
from procore_xl.tokens import KeyringTokenStore

RFIS = ("RFIs", {"company": 8001, "project": 91001})


@pytest.fixture
def run(settings, signed_in_tokens, tmp_path):
    """A new service (a new process) over the same record store, kept lists and sign-in."""
    services = []

    def make() -> ProcoreService:
        service = ProcoreService(settings, KeyringTokenStore(), record_store=RecordStore(tmp_path / "records.sqlite3"))
        services.append(service)
        return service
    yield make
    for service in services:
        service.close()


@pytest.fixture
def paths(caplog):
    """The paths the client asked for (its DEBUG lines), ids as N."""
    caplog.set_level(logging.DEBUG, logger="procore_xl")

    def asked() -> collections.Counter:
        found = collections.Counter(re.sub(r"/\d+", "/N", m.group(1)) for r in caplog.records
                                    if (m := re.search(r"GET (\S+)", r.getMessage())))
        caplog.clear()
        return found
    return asked


def test_a_second_refresh_of_one_report_asks_for_its_data_alone(run, sandbox, tmp_path, paths):
    book = tmp_path / "rfis.xlsx"
    new_workbook(book, [RFIS], run(), progress=False)
    refresh_workbook(book, run(), progress=False)
    paths()
    sandbox.reset_counts()
    outcome = refresh_workbook(book, run(), progress=False)
    assert outcome.refreshed and not outcome.failed
    # before: the companies and projects lists (to name them on the sheet) and the custom field
    # definitions (column names) were asked for again on every run
    assert paths() == {"/rest/v1.0/projects/N/rfis": 1}
    assert sandbox.requests == 1


LABELS = "/rest/v1.1/companies/N/custom_field_definitions"


def test_custom_field_labels_are_kept_a_day_and_read_again_for_a_field_they_do_not_know(run, sandbox, tmp_path,
                                                                                        paths):
    first = run()
    assert "Cost Estimate" in first.run(*RFIS).frame.columns
    assert paths()[LABELS] == 1
    assert "Cost Estimate" in run().run(*RFIS).frame.columns
    assert LABELS not in paths()                                   # kept: not asked again
    key = ("custom_field_definitions", 8001)
    kept = first.lists.load(first.discovery.scope, key)
    first.lists.save(first.discovery.scope, key, {k: v for k, v in kept.value.items() if k != "5003"})
    frame = run().run(*RFIS).frame           # a record carries field 5003, unknown to the kept labels
    assert "Cost Estimate" in frame.columns and "custom_fields.custom_field_5003" not in frame.columns
    assert paths()[LABELS] == 1


def test_a_label_renamed_in_procore_shows_within_a_day_and_at_once_on_a_full_refresh(run, sandbox, tmp_path,
                                                                                     paths):
    world = sandbox.world
    original = {d["id"]: d["label"] for d in world.records("custom_field_definitions", world.company(8001))}
    try:
        run().run(*RFIS)
        world.edit_record("custom_field_definitions", 5002, label="Owner Ref (renamed)")
        assert "Owner Ref (renamed)" in run().run(*RFIS, full=True).frame.columns
        world.edit_record("custom_field_definitions", 5002, label="Owner Ref (again)")
        with sqlite3.connect(tmp_path / LISTS_FILE_NAME) as db:      # kept longer ago than a list is used
            db.execute("UPDATE discovery SET fetched_at = ?", (time.time() - KEPT_AGE - 60,))
        db.close()
        paths()
        assert "Owner Ref (again)" in run().run(*RFIS).frame.columns
        assert paths()[LABELS] == 1
        world.edit_record("custom_field_definitions", 5002, label="Owner Ref (dropdowns)")
        service = run()
        service.invalidate(lists=True)                              # what Update dropdowns does
        assert "Owner Ref (dropdowns)" in service.run(*RFIS).frame.columns
    finally:
        for i, label in original.items():
            world.edit_record("custom_field_definitions", i, label=label)


def test_labels_and_lists_are_fetched_again_when_old_on_a_full_refresh_and_on_update_dropdowns(run, sandbox,
                                                                                                 tmp_path, paths):
    run().run(*RFIS)
    paths()
    run().run(*RFIS)
    assert "/rest/v1.0/companies" not in paths()
    run().run(*RFIS, full=True)
    assert {"/rest/v1.0/companies", "/rest/v1.0/projects",
            "/rest/v1.1/companies/N/custom_field_definitions"} <= set(paths())
    with sqlite3.connect(tmp_path / LISTS_FILE_NAME) as db:      # kept longer ago than a list is used
        db.execute("UPDATE discovery SET fetched_at = ?", (time.time() - KEPT_AGE - 60,))
    db.close()
    run().run(*RFIS)
    assert {"/rest/v1.0/companies", "/rest/v1.0/projects"} <= set(paths())
    service = run()
    service.run(*RFIS)
    assert "/rest/v1.0/companies" not in paths()
    service.invalidate(lists=True)                              # what Update dropdowns does
    service.choices("companies")
    assert "/rest/v1.0/companies" in paths()


def test_a_name_not_in_a_kept_list_is_looked_for_in_the_list_as_it_is_now(run, sandbox, tmp_path, paths):
    first = run()
    first.run("RFIs", {"company": 8001, "project": "Harbor Tower"})
    key = first.discovery.key("projects", company_id=8001, project_filter="all")
    kept = first.lists.load(first.discovery.scope, key)
    older = [p for p in kept.value if p["id"] != 91001]             # kept before the project was created
    first.lists.save(first.discovery.scope, key, older)
    paths()
    result = run().run("RFIs", {"company": 8001, "project": "Harbor Tower"})
    assert result.params["project_id"] == 91001
    assert paths()["/rest/v1.0/projects"] == 1
    with pytest.raises(ParameterError, match='Unknown project "No Such Tower" in company 8001'):
        run().run("RFIs", {"company": 8001, "project": "No Such Tower"})


def test_ids_are_named_while_the_data_comes_and_wrong_ids_still_say_so(run, sandbox):
    result = run().run(*RFIS)
    assert result.params["company"] == "Harbor Tower Builders" and result.params["project"] == "Harbor Tower"
    assert list(result.params)[1:5] == ["company", "company_id", "project", "project_id"]   # the order as before
    with pytest.raises(ParameterError, match="No company with id 9999"):
        run().run("RFIs", {"company": 9999, "project": 91001})
    with pytest.raises(ParameterError, match="No project with id 99999 in company 8001"):
        run().run("RFIs", {"company": 8001, "project": 99999})


def test_logout_and_cache_clear_forget_the_kept_lists(run, sandbox, tmp_path):
    service = run()
    service.run(*RFIS)
    with sqlite3.connect(tmp_path / LISTS_FILE_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM discovery").fetchone()[0] >= 2     # companies, projects
    db.close()
    service.clear_records()
    with sqlite3.connect(tmp_path / LISTS_FILE_NAME) as db:
        assert db.execute("SELECT COUNT(*) FROM discovery").fetchone()[0] == 0
    db.close()


def test_reports_of_one_refresh_that_read_the_same_list_share_one_request(run, sandbox, tmp_path, paths):
    book = tmp_path / "contracts.xlsx"
    reports = [("Change Orders Requests", {"company": 8001, "project": 91001, "contract": "all"}),
               ("Change Orders", {"company": 8001, "project": 91001, "contract": "all"}),
               ("Contract Payments", {"company": 8001, "project": 91001, "contract": "all"})]
    new_workbook(book, reports, run(), progress=False)
    paths()
    outcome = refresh_workbook(book, run(), progress=False)
    assert len(outcome.refreshed) == 3
    asked = paths()
    # each report reads the project's prime, purchase order and work order contracts: once now
    assert asked["/rest/v1.0/prime_contracts"] == 1
    assert asked["/rest/v1.0/purchase_order_contracts"] == 1
    assert asked["/rest/v1.0/work_order_contracts"] == 1


def test_a_list_this_sign_in_may_not_read_is_not_asked_for_on_every_run(sandbox, monkeypatch, capsys, tmp_path,
                                                                          paths):
    """A service account cannot list companies without a company header (procore_api.md 1.5): the
    company given by id is taken as is, and the refusal is kept like a list, not asked again."""
    from cli_run import point_at, run as cli

    point_at(sandbox, monkeypatch)
    argv = ["pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(tmp_path / "rfis.csv"),
            "--force"]      # the second run replaces the first one's file
    assert cli(capsys, *argv)[0] == 0
    assert paths()["/rest/v1.0/companies"] == 1
    assert cli(capsys, *argv)[0] == 0
    assert "/rest/v1.0/companies" not in paths()          # before: refused again on every run


def test_cache_clear_forgets_the_kept_lists_too(sandbox, monkeypatch, capsys, tmp_path, isolated_home):
    from cli_run import point_at, run as cli

    point_at(sandbox, monkeypatch)
    monkeypatch.setattr(sandbox.config, "service_account_needs_company_header", False)
    assert cli(capsys, "pull", "RFIs", "--company", "Harbor Tower Builders", "--project", "91001",
               "--out", str(tmp_path / "rfis.csv"))[0] == 0
    (lists,) = isolated_home.rglob(LISTS_FILE_NAME)
    count = "SELECT COUNT(*) FROM discovery"
    with sqlite3.connect(lists) as db:
        assert db.execute(count).fetchone()[0] >= 2
    db.close()
    assert cli(capsys, "cache", "clear")[0] == 0
    with sqlite3.connect(lists) as db:
        assert db.execute(count).fetchone()[0] == 0
    db.close()


def test_a_refusal_is_shared_by_the_reports_of_one_refresh(run, sandbox):
    """Project 91007 answers 404 to the demo user: asked once in one refresh, not once per report."""
    service = run()
    with service.sharing():
        for _ in range(2):
            with pytest.raises(ProcoreError):
                service.run("RFIs", {"company": 8001, "project": 91007})
    assert sandbox.path_counts["/rest/v1.0/projects/91007/rfis"] == 1


def test_a_refusal_is_remembered_for_a_day_and_asked_again_by_a_full_refresh(run, sandbox, monkeypatch):
    """Project 91007 answers 404: the next refreshes (new services, as new processes) do not ask
    again for a day and still say why, naming when; a full refresh asks, and once Procore answers
    the refusal is forgotten."""
    import procore_xl.shared_calls as shared_calls
    rfis = "/rest/v1.0/projects/91007/rfis"
    key = shared_calls._key("list", rfis, {}, 8001, {})
    service = run()
    with service.sharing(), pytest.raises(ProcoreError):
        service.run("RFIs", {"company": 8001, "project": 91007})
    assert sandbox.path_counts[rfis] == 1
    service = run()
    with service.sharing(), pytest.raises(ProcoreError) as again:
        service.run("RFIs", {"company": 8001, "project": 91007})
    assert sandbox.path_counts[rfis] == 1                          # not asked again
    assert "Procore refused it" in str(again.value) and "Full refresh" in str(again.value)
    with service.sharing(), pytest.raises(ProcoreError):
        service.run("RFIs", {"company": 8001, "project": 91007}, full=True)
    assert sandbox.path_counts[rfis] == 2                          # a full refresh asks
    monkeypatch.setattr(shared_calls, "REFUSAL_AGE", 0.0)          # a day later
    with service.sharing(), pytest.raises(ProcoreError):
        service.run("RFIs", {"company": 8001, "project": 91007})
    assert sandbox.path_counts[rfis] == 3
    monkeypatch.setattr(shared_calls, "REFUSAL_AGE", 24 * 3600.0)
    with run().sharing() as answers:
        assert isinstance(answers._remembered(key), shared_calls._Refused)
    sandbox.world._unreadable.discard(91007)                     # access granted meanwhile
    try:
        with service.sharing():
            assert len(service.run("RFIs", {"company": 8001, "project": 91007}, full=True).frame)
        with run().sharing() as answers:
            assert answers._remembered(key) is shared_calls._NONE
    finally:
        sandbox.world._unreadable.add(91007)


def test_a_list_read_per_parent_and_whole_is_one_request_a_refresh(run, sandbox, tmp_path):
    """A contract's change order requests are read per contract (with the contract's version) by
    one report and whole (the COR parameter's list) by another: one request each refresh,
    neither undoing the other's version in the store, and one in a full refresh."""
    book = tmp_path / "cors.xlsx"
    contract = {"company": 8001, "project": 91001, "contract": "all"}
    reports = [("Change Order Request Details", {**contract, "cor": "all"}), ("Change Orders Requests", contract)]
    new_workbook(book, reports, run(), progress=False)
    contracts = len(run().choices("contracts", company=8001, project=91001))
    refresh_workbook(book, run(), progress=False)
    for full in (False, True):
        sandbox.reset_counts()
        service = run()
        with service.full_refresh() if full else contextlib.nullcontext():
            outcome = refresh_workbook(book, service, progress=False)
        assert len(outcome.refreshed) == 2
        assert sandbox.path_counts["/rest/v1.0/change_order_requests"] == contracts   # before, twice per contract


def test_a_damaged_lists_file_is_set_aside_as_the_record_store_is(tmp_path):
    from procore_xl.kept_lists import KeptLists
    from procore_xl.store import Scope

    path = tmp_path / LISTS_FILE_NAME
    path.write_bytes(b"not a database at all " * 200)
    scope = Scope("production", "https://api.procore.com", "app-1")
    lists = KeptLists(path)
    try:
        assert lists.load(scope, ("companies",)) is None           # counts as none, and is set aside
        lists.save(scope, ("companies",), [{"id": 1}])
        assert lists.load(scope, ("companies",)).value == [{"id": 1}]
    finally:
        lists.close()
    assert [p.name for p in tmp_path.glob("lists-damaged-*.sqlite3")] != []
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
