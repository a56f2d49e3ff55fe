"""Incremental refresh through the record store, end to end against a sandbox whose data moves.

Each module-level sandbox is its own (records are edited, added and deleted here); runs go through
the real service, client and SQLite store over loopback.
"""
from __future__ import annotations

import sqlite3
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from procore_xl.catalog import REPORTS
from procore_xl.cli import main
from procore_xl.sandbox import SandboxServer
from procore_xl.incremental import StoredClient
from procore_xl.store import RecordStore, Scope, store_path
from tests.report_env import TODAY

RFIS = "/rest/v1.0/projects/91001/rfis"
PCOS = "/rest/v1.0/potential_change_orders"


SANDBOX = dict(seed=7, today=TODAY, rate_limit_spike=100_000, rate_limit_hourly=1_000_000)


@pytest.fixture(scope="module")
def small_sandbox(make_sandbox):
    return make_sandbox(**SANDBOX, rfis_per_project=30)


def _service(make_service, sb, folder: Path, per_page: int = 10, **kw):
    """A signed-in service (closed at the end of the ``with``); 10 records a page, so the small
    sandbox's 30 RFIs take 3 pages (from 3 pages on, asking for changes takes fewer requests than
    reading everything again)."""
    return make_service.serving(sb, records=folder / "records.sqlite3", per_page=per_page, **kw)


def _data_requests(sb: SandboxServer, *paths: str) -> int:
    counts = sb.path_counts
    return sum(n for path, n in counts.items() if path in paths or any(path.startswith(p) for p in paths))


def _fresh_frame(make_service, sb, tmp_path, report, params) -> pd.DataFrame:
    """The same report run in full by a service with an empty store: the reference output."""
    with _service(make_service, sb, tmp_path / "fresh") as other:
        result = other.run(report, params)
    assert result.refresh == "full"
    return result.frame


RFI_PARAMS = {"company": 8001, "project": 91001}


def test_second_run_asks_only_for_changes_and_equals_a_full_run(small_sandbox, make_service, tmp_path):
    service = make_service(small_sandbox, records=tmp_path / "records.sqlite3", per_page=10)
    sb, world = small_sandbox, small_sandbox.world
    first = service.run("RFIs", RFI_PARAMS)
    assert first.refresh == "full"
    rfis = world.records("rfis", world.project(91001))
    world.edit_record("rfis", rfis[3]["id"], subject="Edited subject")
    world.add_record("rfis", 91001)
    world.add_record("rfis", 91001, subject="=looks like a formula")
    sb.reset_counts()
    second = service.run("RFIs", RFI_PARAMS)
    assert second.refresh.startswith("incremental: 3 changed, 0 deleted, ")
    assert _data_requests(sb, RFIS) == 2       # the changes and Total (it adds up: no recycle bin)
    assert _data_requests(sb, RFIS + "/recycle_bin") == 0
    pd.testing.assert_frame_equal(second.frame, _fresh_frame(make_service, sb, tmp_path, "RFIs", RFI_PARAMS))
    assert "Edited subject" in set(second.frame["subject"])


def test_a_list_of_one_page_is_read_again_in_one_request(small_sandbox, tmp_path, make_service):
    sb, world = small_sandbox, small_sandbox.world
    with _service(make_service, sb, tmp_path, per_page=1000) as svc:
        svc.run("RFIs", RFI_PARAMS)
        world.edit_record("rfis", world.records("rfis", world.project(91001))[2]["id"], subject="Again")
        sb.reset_counts()
        result = svc.run("RFIs", RFI_PARAMS)
        assert _data_requests(sb, RFIS) == 1 and result.refresh.startswith("incremental: 1 changed, 0 deleted")
        assert "Again" in set(result.frame["subject"])


def test_a_deleted_record_is_gone(small_sandbox, make_service, tmp_path):
    service = make_service(small_sandbox, records=tmp_path / "records.sqlite3", per_page=10)
    sb, world = small_sandbox, small_sandbox.world
    service.run("RFIs", RFI_PARAMS)
    gone = world.records("rfis", world.project(91001))[5]
    world.delete_record("rfis", gone["id"])
    result = service.run("RFIs", RFI_PARAMS)
    assert result.refresh.startswith("incremental: 0 changed, 1 deleted")
    assert gone["id"] not in set(result.frame["id"])
    pd.testing.assert_frame_equal(result.frame, _fresh_frame(make_service, sb, tmp_path, "RFIs", RFI_PARAMS))


def test_changed_parameters_and_full_on_demand_fetch_everything(small_sandbox, make_service, tmp_path):
    service = make_service(small_sandbox, records=tmp_path / "records.sqlite3", per_page=10)
    sb = small_sandbox
    service.run("RFIs", RFI_PARAMS)
    sb.reset_counts()
    assert service.run("RFIs", {**RFI_PARAMS, "project": 91002}).refresh == "full"
    assert service.run("RFIs", RFI_PARAMS, full=True).refresh == "full"
    with service.full_refresh():
        assert service.run("RFIs", RFI_PARAMS).refresh == "full"
    assert service.run("RFIs", RFI_PARAMS).refresh.startswith("incremental")


def test_a_store_older_than_the_full_refresh_age_is_fetched_in_full(small_sandbox, tmp_path, make_service):
    with _service(make_service, small_sandbox, tmp_path) as svc:
        svc.run("RFIs", RFI_PARAMS)
        eight_days_ago = (datetime.now(timezone.utc) - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
        with sqlite3.connect(svc.record_store.path) as db:         # as if the last full fetch were 8 days old
            db.execute("UPDATE calls SET full_at = ?", (eight_days_ago,))
        assert svc.run("RFIs", RFI_PARAMS).refresh == "full"
        assert svc.run("RFIs", RFI_PARAMS).refresh.startswith("incremental")
    with _service(make_service, small_sandbox, tmp_path, full_refresh_after=timedelta(days=30)) as svc:
        with sqlite3.connect(svc.record_store.path) as db:
            db.execute("UPDATE calls SET full_at = ?", (eight_days_ago,))
        assert svc.run("RFIs", RFI_PARAMS).refresh.startswith("incremental")


def test_another_app_or_environment_does_not_use_the_stored_records(small_sandbox, tmp_path, make_service):
    with _service(make_service, small_sandbox, tmp_path) as svc:
        svc.run("RFIs", RFI_PARAMS)
    with _service(make_service, small_sandbox, tmp_path) as svc:       # the same store, another API host
        svc.settings.api_url = svc.settings.api_url.replace("127.0.0.1", "localhost")
        assert svc.run("RFIs", RFI_PARAMS).refresh == "full"


def test_a_sub_report_fetched_per_record_asks_only_for_changed_records(small_sandbox, make_service, tmp_path):
    service = make_service(small_sandbox, records=tmp_path / "records.sqlite3", per_page=10)
    sb, world = small_sandbox, small_sandbox.world
    params = {**RFI_PARAMS, "sub_report": "answers"}
    service.run("RFIs", params)
    rfi = world.records("rfis", world.project(91001))[0]
    world.edit_record("rfis", rfi["id"], status="closed")
    sb.reset_counts()
    result = service.run("RFIs", params)
    shows = _data_requests(sb, RFIS + "/") - _data_requests(sb, RFIS + "/recycle_bin")
    assert shows == 1                                     # only the edited RFI is read again
    pd.testing.assert_frame_equal(result.frame, _fresh_frame(make_service, sb, tmp_path, "RFIs", params))


def test_a_per_parent_report_reads_only_new_or_changed_parents(small_sandbox, make_service, tmp_path):
    service = make_service(small_sandbox, records=tmp_path / "records.sqlite3", per_page=10)
    sb, world = small_sandbox, small_sandbox.world
    params = {**RFI_PARAMS, "pco": "all"}
    first = service.run("Potential Change Order Details", params)
    pcos = world.within("potential_change_orders", world.project(91001))
    assert len(pcos) > 2 and len(first.frame) > 0
    line = world.add_record("pco_line_items", pcos[0]["id"], description="Added line")
    world.edit_record("potential_change_orders", pcos[0]["id"], title="Changed PCO")
    world.delete_record("potential_change_orders", pcos[1]["id"])
    sb.reset_counts()
    result = service.run("Potential Change Order Details", params)
    line_item_calls = {p: n for p, n in sb.path_counts.items() if p.endswith("/line_items")}
    assert line_item_calls == {f"{PCOS}/{pcos[0]['id']}/line_items": 1}
    assert line["id"] in set(result.frame["id"])
    assert pcos[1]["id"] not in set(result.frame["pco.id"])
    assert result.refresh.startswith("incremental")
    pd.testing.assert_frame_equal(result.frame,
                                  _fresh_frame(make_service, sb, tmp_path, "Potential Change Order Details", params))


def test_the_store_file_is_readable_by_its_user_only(small_sandbox, make_service, tmp_path):
    service = make_service(small_sandbox, records=tmp_path / "records.sqlite3", per_page=10)
    service.run("Trades", {"company": 8001})
    mode = stat.S_IMODE(service.record_store.path.stat().st_mode)
    assert mode & 0o077 == 0


def test_reports_say_whether_they_refresh_incrementally():
    assert REPORTS["RFIs"].refresh == "incremental"
    assert REPORTS["Potential Change Order Details"].refresh == "incremental"
    assert REPORTS["Manpower Logs"].refresh == "full"
    assert REPORTS["Meetings"].refresh == "full"


# ---------------------------------------------------------------- 20,000 RFIs
@pytest.fixture(scope="module")
def big_sandbox(make_sandbox):
    return make_sandbox(**SANDBOX, rfis_per_project=20_000)


def test_20000_rfis_second_fetch_makes_at_most_3_data_requests(big_sandbox, tmp_path, make_service):
    """The store layer alone (the runner and the sheet over it are tested above on fewer RFIs)."""
    sb, world = big_sandbox, big_sandbox.world
    with _service(make_service, sb, tmp_path, per_page=1000) as svc:
        def fetch() -> tuple[list[int], str]:
            stored = StoredClient(svc.client, svc.record_store, Scope.of(svc.settings))
            rows = stored.get_all(RFIS, company_id=8001)
            return [r["id"] for r in rows], stored.tally.describe(0)

        ids, how = fetch()
        assert len(ids) == 20_000 and how == "full" and _data_requests(sb, RFIS) >= 20
        sb.reset_counts()
        assert fetch() == (ids, "incremental: 0 changed, 0 deleted, 0 requests")
        assert _data_requests(sb, RFIS) == 2           # the changes and Total

        rfis = world.records("rfis", world.project(91001))
        world.edit_record("rfis", rfis[10]["id"], subject="Edited")
        added = [world.add_record("rfis", 91001)["id"] for _ in range(2)]
        sb.reset_counts()
        ids, how = fetch()
        assert _data_requests(sb, RFIS) == 2 and how.startswith("incremental: 3 changed, 0 deleted")
        assert ids == [r["id"] for r in world.records("rfis", world.project(91001))] and ids[-2:] == added

        world.delete_record("rfis", rfis[0]["id"])
        ids, how = fetch()
        assert how.startswith("incremental: 0 changed, 1 deleted") and rfis[0]["id"] not in ids
        assert len(ids) == 20_001


# ---------------------------------------------------------------- the command line
@pytest.fixture
def cli_env(small_sandbox, monkeypatch):
    monkeypatch.setenv("PROCORE_LOGIN_URL", small_sandbox.url)
    monkeypatch.setenv("PROCORE_API_URL", small_sandbox.url)
    monkeypatch.setenv("PROCORE_CLIENT_ID", small_sandbox.client_id)
    monkeypatch.setenv("PROCORE_CLIENT_SECRET", small_sandbox.client_secret)
    return small_sandbox


def _table_ids(path) -> list[int]:
    sheet = openpyxl.load_workbook(path)["RFIs"]
    table = next(iter(sheet.tables.values()))
    rows = list(sheet[table.ref])
    col = [c.value for c in rows[0]].index("ID")      # a new sheet shows labels (issue 19)
    return [int(r[col].value) for r in rows[1:]]


def test_refreshing_a_workbook_asks_only_for_what_changed(cli_env, capsys, tmp_path):
    sb, world = cli_env, cli_env.world
    book = tmp_path / "rfis.xlsx"
    assert main(["new-workbook", str(book), "--report", "RFIs", "--company", "8001", "--project", "91001"]) == 0
    current = lambda: [r["id"] for r in world.records("rfis", world.project(91001))]   # noqa: E731
    assert _table_ids(book) == current()

    sb.reset_counts()
    assert main(["refresh", str(book), "-q"]) == 0
    assert _data_requests(sb, RFIS) <= 2        # one page read again, or the changes and Total
    assert "Refresh: incremental: 0 changed, 0 deleted" in str(openpyxl.load_workbook(book)["RFIs"]["B7"].value)

    rfis = world.records("rfis", world.project(91001))
    world.edit_record("rfis", rfis[1]["id"], subject="Edited")
    added = [world.add_record("rfis", 91001)["id"] for _ in range(2)]
    sb.reset_counts()
    assert main(["refresh", str(book), "-q"]) == 0
    assert _data_requests(sb, RFIS) <= 2
    assert _table_ids(book) == current() and _table_ids(book)[-2:] == added

    world.delete_record("rfis", rfis[0]["id"])
    assert main(["refresh", str(book), "-q"]) == 0
    assert _table_ids(book) == current() and rfis[0]["id"] not in _table_ids(book)

    sb.reset_counts()
    assert main(["refresh", str(book), "-q", "--full"]) == 0
    assert "Refresh: full" in str(openpyxl.load_workbook(book)["RFIs"]["B7"].value)
    capsys.readouterr()


def test_cache_info_clear_and_logout(cli_env, capsys, tmp_path):
    out = tmp_path / "trades.csv"
    assert main(["pull", "Trades", "--company", "8001", "--out", str(out)]) == 0
    assert "(full)" in capsys.readouterr().err
    assert main(["pull", "Trades", "--company", "8001", "--out", str(out), "--force"]) == 0
    assert "(incremental: 0 changed" in capsys.readouterr().err
    assert main(["cache", "info"]) == 0
    info = capsys.readouterr().out
    assert str(store_path()) in info and "entries: 1 endpoint calls" in info
    assert main(["cache", "clear", "--env", "production"]) == 0
    assert "Removed 0" in capsys.readouterr().out
    assert main(["cache", "clear", "--env", "PROD"]) == 0          # an alias, as PROCORE_ENV takes it
    assert "Removed 0 stored endpoint call(s) of production" in capsys.readouterr().out
    assert main(["cache", "clear", "--env", "custom"]) == 0
    assert "Removed 1" in capsys.readouterr().out
    assert main(["pull", "Trades", "--company", "8001", "--out", str(out), "--full", "--force"]) == 0
    assert "(full)" in capsys.readouterr().err
    main(["logout"])
    assert RecordStore().info().entries == 0
