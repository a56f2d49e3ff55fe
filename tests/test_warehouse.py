"""`procore-xl sync` and the dlt source: real sandbox over loopback, real dlt pipelines, real DuckDB
and Parquet files in temp folders.

The sandbox here is this module's own (its records are edited, added and deleted between syncs),
small (3 RFIs a project) and never paced by its rate limit.
"""
from __future__ import annotations

import os
import re
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from procore_xl import warehouse
from procore_xl.catalog import PROJECT, REPORTS, find_report
from procore_xl.cli import main
from procore_xl.runner import run_report
from procore_xl.sandbox import SandboxServer
from tests.report_env import TODAY

WEEK = {"start_date": (TODAY - timedelta(days=7)).isoformat(), "end_date": TODAY.isoformat()}

DISCOVERY_PATHS = {"/oauth/token", "/rest/v1.0/companies", "/rest/v1.0/projects"}


FAST = dict(seed=7, today=TODAY, rate_limit_spike=100000, rate_limit_hourly=1000000)


@pytest.fixture(scope="module")
def sandbox_world(make_sandbox):
    return make_sandbox(**FAST, rfis_per_project=3)


def use(sandbox: SandboxServer, monkeypatch, folder: Path) -> SandboxServer:
    """PROCORE_* variables for the sandbox's service account; dlt's working folders and the
    current folder in ``folder``."""
    monkeypatch.setenv("PROCORE_LOGIN_URL", sandbox.url)
    monkeypatch.setenv("PROCORE_API_URL", sandbox.url)
    monkeypatch.setenv("PROCORE_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("PROCORE_CLIENT_SECRET", sandbox.client_secret)
    monkeypatch.setenv("DLT_DATA_DIR", str(folder / "dlt"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.chdir(folder)
    sandbox.reset_counts()
    return sandbox


@pytest.fixture
def sb(sandbox_world, monkeypatch, tmp_path):
    """The module's sandbox (3 RFIs a project), used from tmp_path."""
    return use(sandbox_world, monkeypatch, tmp_path)


def sync_cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(["sync", "--company", "8001", *argv])
    return code, capsys.readouterr().err


def rows_loaded(err: str) -> int:
    return int(re.search(r"([\d,]+) rows loaded", err).group(1).replace(",", ""))


def table(name: str, database: str = "procore.duckdb", dataset: str = "procore_data") -> list[dict]:
    with duckdb.connect(database, read_only=True) as db:
        cursor = db.execute(f"select * from {dataset}.{name}")
        cols = [d[0] for d in cursor.description]
        return [dict(zip(cols, row)) for row in cursor.fetchall()]


def rfis_of(sb, project_id: int = 91001) -> dict[int, dict]:
    project = sb.world.project(project_id)
    return {r["id"]: r for r in sb.world.records("rfis", project)}


def data_requests(sb) -> int:
    return sum(n for path, n in sb.path_counts.items() if path not in DISCOVERY_PATHS)


def test_sync_asks_procore_for_changes_and_the_table_equals_the_server(capsys, monkeypatch, tmp_path, make_sandbox):
    """More RFIs than two pages (1,000 each): the second sync asks the record store, which asks
    Procore for the changes; the project's rows are replaced by the whole, current list."""
    with make_sandbox.serving(**FAST, rfis_per_project=2001) as sandbox:
        sb = use(sandbox, monkeypatch, tmp_path)
        code, err = sync_cli(capsys, "--project", "91001", "--reports", "RFIs")
        assert code == 0, err
        assert "1 tables, 2,001 rows loaded" in err and "requests" in err
        rows = table("rfis")
        assert sorted(r["id"] for r in rows) == sorted(rfis_of(sb))
        assert {r["project_id"] for r in rows} == {91001}
        assert rows[0]["project_name"] == sb.world.project(91001)["name"]

        first = next(iter(rfis_of(sb)))
        sb.world.edit_record("rfis", first, subject="Edited in the sandbox")
        added = [sb.world.add_record("rfis", 91001)["id"] for _ in range(2)]
        sb.reset_counts()
        code, err = sync_cli(capsys, "--project", "91001", "--reports", "RFIs")
        assert code == 0, err
        assert "2,003 rows loaded (3 changed, 0 deleted in Procore)" in err
        assert sb.path_counts["/rest/v1.0/projects/91001/rfis"] <= 3, sb.path_counts     # not 3 pages again
        rows = {r["id"]: r for r in table("rfis")}
        assert sorted(rows) == sorted(rfis_of(sb)) and set(added) <= set(rows)
        assert len(table("rfis")) == 2003                                   # no duplicates
        assert rows[first]["subject"] == "Edited in the sandbox"

        gone = added[0]
        sb.world.delete_record("rfis", gone)
        code, err = sync_cli(capsys, "--project", "91001", "--reports", "RFIs")
        assert code == 0, err
        assert "1 deleted in Procore" in err
        assert sorted(r["id"] for r in table("rfis")) == sorted(rfis_of(sb)) and gone not in rfis_of(sb)


def test_a_short_list_is_read_again_whole(sb, capsys):
    assert sync_cli(capsys, "--project", "91003", "--reports", "RFIs")[0] == 0
    first, second = list(rfis_of(sb, 91003))[:2]
    sb.world.edit_record("rfis", first, subject="Edited, short list")
    sb.world.delete_record("rfis", second)
    moved_in = sb.world.add_record("rfis", 91003)
    moved_in["updated_at"] = "2020-01-01T00:00:00Z"      # new to the table, stamped long ago
    sb.reset_counts()
    code, err = sync_cli(capsys, "--project", "91003", "--reports", "RFIs")
    assert code == 0, err
    assert sb.path_counts["/rest/v1.0/projects/91003/rfis"] == 1       # one page, no Total check
    assert "1 deleted" in err
    rows = {r["id"]: r for r in table("rfis")}
    assert sorted(rows) == sorted(rfis_of(sb, 91003)) and rows[first]["subject"] == "Edited, short list"
    assert moved_in["id"] in rows


def test_a_project_without_access_is_one_warning_and_the_others_load(sb, capsys):
    code, err = sync_cli(capsys, "--reports", "RFIs,Submittals")
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("procore-xl: warning:")]
    assert len(warnings) == 1, err
    assert '"Confidential Data Center"' in warnings[0] and "in 2 report(s)" in warnings[0]
    readable = [p["id"] for p in sb.world.readable_projects(8001) if p["active"]]
    assert sorted(r["id"] for r in table("rfis")) == sorted(i for p in readable for i in rfis_of(sb, p))


def test_a_full_sync_reads_everything_again(sb, capsys):
    assert sync_cli(capsys, "--project", "91002", "--reports", "Meetings Categories")[0] == 0
    sb.reset_counts()
    code, err = sync_cli(capsys, "--project", "91002", "--reports", "Meetings Categories")
    assert code == 0, err
    unchanged = data_requests(sb)                      # the record store: no meeting asked again
    sb.reset_counts()
    code, err = sync_cli(capsys, "--project", "91002", "--reports", "Meetings Categories", "--full")
    assert code == 0, err
    assert data_requests(sb) > unchanged               # every meeting's categories in full
    assert rows_loaded(err) == len(table("meetings_categories")) > 0


def test_every_report_over_every_project_has_the_rows_pull_returns(sb, make_service):
    service = make_service(sb)
    summary = warehouse.sync(service, 8001, projects="all", reports="all", **WEEK)
    assert not summary.failures
    assert summary.requests > 0 and summary.rows > 0
    with duckdb.connect("procore.duckdb", read_only=True) as db:
        counts = {name: db.execute(f"select count(*) from procore_data.{name}").fetchone()[0]
                  for (name,) in db.execute("select table_name from information_schema.tables "
                                            "where table_schema = 'procore_data'").fetchall()}
    for report in REPORTS.values():
        params = warehouse.report_parameters(report, 8001, "active", WEEK)
        if report.scope == PROJECT:
            params["project"] = "all"
        pulled = run_report(service.client, report, params, discovery=service.discovery).frame
        # each record once: the sandbox gives a prime contract's and a commitment's PCOs the same ids
        keys = pulled.rename(columns=warehouse.column_name)[list(warehouse.primary_key(report))] \
            if len(pulled) else pulled
        assert counts.get(warehouse.table_name(report), 0) == len(keys.drop_duplicates()), report.name


def test_sub_reports_are_their_own_tables(sb, make_service):
    service = make_service(sb)
    warehouse.sync(service, 8001, projects=[91001], reports="RFIs", sub_reports=True)
    pulled = run_report(service.client, "RFIs", {"company": 8001, "project": 91001, "sub_report": "questions"})
    questions = table("rfis_questions")
    assert len(questions) == len(pulled.frame) > 0
    assert {"project_id", "rfi_id", "id"} <= set(questions[0])


def test_daily_logs_load_by_date_window_and_drop_deleted_logs(sb, make_service):
    service = make_service(sb)
    report = find_report("Manpower Logs")
    window = {"start_date": (TODAY - timedelta(days=3)).isoformat(), "end_date": TODAY.isoformat()}
    warehouse.sync(service, 8001, projects=[91001], reports=[report.name], **window)
    first = table("manpower_logs")
    assert first and all(r["project_id"] == 91001 for r in first)
    gone, edited = first[0]["id"], first[1]["id"]
    sb.world.delete_record("manpower_logs", gone)
    sb.world.edit_record("manpower_logs", edited, num_workers=99)
    summary = warehouse.sync(service, 8001, projects=[91001], reports=[report.name], **window)
    assert summary.tables == {"manpower_logs": len(first) - 1}     # the window's logs replace its days
    rows = {r["id"]: r for r in table("manpower_logs")}
    assert sorted(rows) == sorted(r["id"] for r in first if r["id"] != gone)
    assert rows[edited]["num_workers"] == 99

    # every log of one day deleted: that day's rows go too; a narrower window keeps the other days
    day = max(r["date"] for r in rows.values())
    for log in [r for r in rows.values() if r["date"] == day]:
        sb.world.delete_record("manpower_logs", log["id"])
    warehouse.sync(service, 8001, projects=[91001], reports=[report.name], report_date=day.date().isoformat())
    left = table("manpower_logs")
    assert left and sorted(r["id"] for r in left) == sorted(i for i, r in rows.items() if r["date"] != day)


def test_filesystem_destination_writes_parquet(sb, make_service, tmp_path, monkeypatch):
    service = make_service(sb)
    bucket = tmp_path / "lake"
    monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", bucket.as_uri())
    summary = warehouse.sync(service, 8001, projects=[91001], reports="RFIs", destination="filesystem")
    assert summary.tables == {"rfis": len(rfis_of(sb))}
    files = sorted((bucket / "procore_data" / "rfis").glob("*.parquet"))
    assert files
    ids = [i for f in files for i in pq.read_table(f).column("id").to_pylist()]
    assert sorted(ids) == sorted(rfis_of(sb))
    sb.world.edit_record("rfis", ids[0], subject="Edited before the second sync")
    warehouse.sync(service, 8001, projects=[91001], reports="RFIs", destination="filesystem")
    rows = [r for f in (bucket / "procore_data" / "rfis").glob("*.parquet") for r in pq.read_table(f).to_pylist()]
    assert sorted(r["id"] for r in rows) == sorted(rfis_of(sb))            # rewritten, not appended
    assert {r["subject"] for r in rows if r["id"] == ids[0]} == {"Edited before the second sync"}


def test_failed_reports_are_named_and_keep_their_rows(sb, make_service):
    service = make_service(sb)
    warehouse.sync(service, 8001, projects=[91004], reports="RFIs")
    before = table("rfis")
    sb.world.edit_record("rfis", before[0]["id"], subject="Changed while Procore is down")
    service.client.backoff, service.client.max_retries = 0.01, 2
    sb.faults.unavailable_every = 1                                 # every API request: 503
    try:
        summary = warehouse.sync(service, 8001, projects=[91004], reports="RFIs,Submittals")
    finally:
        sb.faults.unavailable_every = None
    assert sorted({name for name, _ in summary.failures}) == ["RFIs", "Submittals"]
    assert "Procore answered 503 Service Unavailable" in summary.failures[0][1]
    assert table("rfis") == before                                  # the previous rows stay
    summary = warehouse.sync(service, 8001, projects=[91004], reports="RFIs,Submittals")
    assert not summary.failures                                     # the next sync picks up the change
    assert {r["subject"] for r in table("rfis") if r["id"] == before[0]["id"]} == {"Changed while Procore is down"}
    assert len(table("submittals")) == len(sb.world.records("submittals", sb.world.project(91004)))


def test_bad_input_is_one_line(sb, capsys):
    code, err = sync_cli(capsys, "--project", "91001", "--reports", "RFI's please")
    assert code == 2 and err.count("\n") == 1 and 'Unknown report "RFI\'s please"' in err
    code, err = sync_cli(capsys, "--project", "91001", "--dataset", "procore")
    assert code == 2 and err.count("\n") == 1 and "choose another dataset name" in err
    for name in ("ProcoreData", "data-1", "1abc", "bad name!"):   # dlt would load "ProcoreData" into procore_data
        code, err = sync_cli(capsys, "--project", "91001", "--reports", "RFIs", "--dataset", name)
        assert code == 2 and err.count("\n") == 1 and "use lowercase letters, digits and _" in err, err
    assert not os.path.exists("procore.duckdb")
    for argv, words in ((["--reports", ""], "names no report"), (["--reports", " , "], "names no report"),
                        (["--project", "", "--reports", "RFIs"], "names no project")):
        code, err = sync_cli(capsys, *argv)     # an unset shell variable: an error, not "0 rows loaded"
        assert code == 2 and err.count("\n") == 1 and words in err, err
    assert not os.path.exists("procore.duckdb")


def test_a_destination_without_credentials_is_one_line(sb, capsys, monkeypatch):
    for name in [n for n in os.environ if n.startswith("DESTINATION__")]:
        monkeypatch.delenv(name)
    code, err = sync_cli(capsys, "--project", "91001", "--reports", "RFIs", "--destination", "postgres")
    assert code == 2 and err.count("\n") == 1
    assert "postgres is not configured" in err and ".dlt/secrets.toml" in err
    code, err = sync_cli(capsys, "--project", "91001", "--reports", "RFIs", "--destination", "filesystem")
    assert code == 2 and err.count("\n") == 1        # no bucket_url: dlt describes it as None
    assert "filesystem is not configured" in err and "bucket_url" in err and "internal error" not in err
    code, err = sync_cli(capsys, "--project", "91001", "--reports", "RFIs", "--destination", "no_such_place")
    assert code == 2 and err.count("\n") == 1 and 'Unknown dlt destination "no_such_place"' in err


def test_a_destination_whose_driver_is_missing_says_what_to_install():
    from dlt.common.exceptions import MissingDependencyException

    from procore_xl.warehouse_target import load_error

    line = str(load_error(MissingDependencyException("postgres destination", ["dlt[postgres]"]), "postgres"))
    assert "\n" not in line and line.endswith('you may do the following: pip install "dlt[postgres]"'), line


def test_without_dlt_the_command_says_what_to_install(sb, capsys, monkeypatch):
    import procore_xl
    monkeypatch.delitem(sys.modules, "procore_xl.warehouse")
    monkeypatch.delattr(procore_xl, "warehouse")
    monkeypatch.setitem(sys.modules, "dlt", None)             # what `import dlt` meets when absent
    code, err = sync_cli(capsys, "--project", "91001")
    assert code == 2
    assert err.strip() == 'procore-xl: error: procore-xl sync needs dlt: pip install "procore-xl[warehouse]"'
    assert not Path("procore.duckdb").exists()


def test_table_names_and_keys():
    assert warehouse.table_name("Change Orders Requests") == "change_orders_requests"
    assert warehouse.table_name("Prime Contract (Line Items)") == "prime_contract_line_items"
    assert warehouse.primary_key(find_report("RFIs")) == ("project_id", "id")
    assert warehouse.primary_key(find_report("Potential Change Order Details")) == ("project_id", "pco_id", "id")
    assert warehouse.primary_key(find_report("Calendar Events")) == ("project_id", "id")
    assert warehouse.column_name("assignee.name") == "assignee_name"
    assert warehouse.column_name("Due Date (2)") == "due_date_2"
    assert warehouse.column_name("日本語の列") == "日本語の列"
    assert warehouse.column_name("U\u0308nïcødé Label") == "ünïcødé_label"      # composed, lower case


def test_two_folders_load_into_their_own_databases(sb, capsys, monkeypatch, tmp_path):
    """dlt's per-user working folder (~/.dlt here: one DLT_DATA_DIR for both) is not shared: a sync
    in folder B loads into B's procore.duckdb, and the summary names that file."""
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "user-dlt"))
    a, b = tmp_path / "a", tmp_path / "b"
    summaries = {}
    for folder, project in ((a, "91001"), (b, "91002")):
        folder.mkdir()
        monkeypatch.chdir(folder)
        code, summaries[folder] = sync_cli(capsys, "--project", project, "--reports", "RFIs")
        assert code == 0, summaries[folder]
    assert (b / "procore.duckdb").exists()
    assert {r["project_id"] for r in table("rfis", str(a / "procore.duckdb"))} == {91001}
    assert {r["project_id"] for r in table("rfis", str(b / "procore.duckdb"))} == {91002}
    for folder, err in summaries.items():
        assert f"-> duckdb {folder / 'procore.duckdb'}, dataset procore_data" in err


def test_the_database_and_dlts_working_folder_are_private(sb, capsys, tmp_path):
    code, err = sync_cli(capsys, "--project", "91001", "--reports", "RFIs")
    assert code == 0, err
    assert (tmp_path / "procore.duckdb").stat().st_mode & 0o777 == 0o600
    working = tmp_path / ".procore.duckdb.dlt"
    assert working.is_dir() and working.stat().st_mode & 0o077 == 0
    assert all(p.stat().st_mode & 0o077 == 0 for p in working.rglob("*"))


def test_columns_keep_custom_field_labels_in_any_script_and_a_new_column_is_filled_for_every_row(
        sb, capsys, monkeypatch, tmp_path):
    """Custom-field labels in Japanese and with accents are the column names. A label that changes
    between syncs makes a column that appears later: it is filled for every row, as a first
    sync of the same data fills it (not only for the rows changed since)."""
    definitions = {d["id"]: d for d in sb.world.records("custom_field_definitions", sb.world.company(8001))}
    original = {i: d["label"] for i, d in definitions.items()}
    try:
        sb.world.edit_record("custom_field_definitions", 5002, label="日本語の列")
        assert sync_cli(capsys, "--project", "91001", "--reports", "RFIs")[0] == 0
        rows = table("rfis")
        filled = {r["id"] for r in rows if r["日本語の列"] is not None}
        assert filled and "priority" in rows[0]

        sb.world.edit_record("custom_field_definitions", 5003, label="Ünïcødé Estimate")
        sb.world.edit_record("rfis", rows[0]["id"], subject="One RFI changed")
        assert sync_cli(capsys, "--project", "91001", "--reports", "RFIs")[0] == 0
        later = table("rfis")
        first_sync = tmp_path / "fresh"
        first_sync.mkdir()
        monkeypatch.chdir(first_sync)
        monkeypatch.setenv("PROCORE_XL_HOME", str(tmp_path / "fresh-home"))
        assert sync_cli(capsys, "--project", "91001", "--reports", "RFIs")[0] == 0
        fresh = table("rfis")
    finally:
        for i, label in original.items():
            sb.world.edit_record("custom_field_definitions", i, label=label)
    estimate = {r["id"]: r["ünïcødé_estimate"] for r in fresh}
    assert sum(v is not None for v in estimate.values()) > 1
    assert {r["id"]: r["ünïcødé_estimate"] for r in later} == estimate
    assert {r["id"]: r["日本語の列"] for r in later} == {r["id"]: r["日本語の列"] for r in fresh}


def test_a_working_folder_dlt_cannot_read_is_set_aside(sb, capsys, tmp_path):
    assert sync_cli(capsys, "--project", "91001", "--reports", "RFIs")[0] == 0
    working = tmp_path / ".procore.duckdb.dlt" / "procore_data" / "procore"
    (working / "state.json").write_text("{not json")
    sb.world.edit_record("rfis", next(iter(rfis_of(sb))), subject="After a damaged working folder")
    code, err = sync_cli(capsys, "--project", "91001", "--reports", "RFIs")
    assert code == 0, err
    assert "dlt could not use its working folder" in err and "procore.unreadable-" in err
    assert sorted(r["id"] for r in table("rfis")) == sorted(rfis_of(sb))
    assert "After a damaged working folder" in {r["subject"] for r in table("rfis")}
