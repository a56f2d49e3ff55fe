"""Differential tests: every incremental `pull` and workbook `refresh` equals a full read of the same
server state, or reads in full and says why.

The sandbox's data moves the ways Procore's can: edits, adds, deletions (to the recycle bin), a
deletion plus an add that keep ``Total`` unchanged, stamps back-dated (replication lag) or in the
future, a ``Date`` header running ahead of the stamps, a field Procore starts sending. After each
change the incremental run is compared with a full read by another service with its own store.
Runs are also killed (SIGKILL) at random moments; the next run must still equal a full read.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from procore_xl.cli import main
from procore_xl.incremental import StoredClient
from procore_xl.service import ProcoreService
from procore_xl.store import Scope
from tests.cli_run import process_environ
from tests.report_env import TODAY

PROJECT = 91001
PARAMS = {"company": 8001, "project": PROJECT}
RFIS = f"/rest/v1.0/projects/{PROJECT}/rfis"
PCOS = "/rest/v1.0/potential_change_orders"
LATE_FIELD = "reference"           # a documented RFI field the sandbox withholds until "Procore starts sending it"
SEED = int(os.environ.get("PROCORE_XL_DIFFERENTIAL_SEED", "16"))


SANDBOX = dict(seed=7, today=TODAY, rfis_per_project=30, rate_limit_spike=100_000, rate_limit_hourly=1_000_000)


@pytest.fixture(scope="module")
def sandbox(make_sandbox):
    return make_sandbox(**SANDBOX)


PAGE = 10      # records a page: the 30 RFIs take 3 pages, so changes are asked for, not the whole list


@pytest.fixture(scope="module")
def services(sandbox, make_service, tmp_path_factory):
    """(incremental, reference): the reference service reads everything in full, every time."""
    folder = tmp_path_factory.mktemp("stores")
    return (make_service(sandbox, records=folder / "incremental.sqlite3", per_page=PAGE),
            make_service(sandbox, records=folder / "full.sqlite3", per_page=PAGE))


@pytest.fixture(autouse=True)
def calm(sandbox):
    """Every test starts with a server whose clock agrees with its stamps and sends every field."""
    sandbox.faults.clock_skew_seconds = 0
    sandbox.world.release("rfis", LATE_FIELD)
    yield
    sandbox.faults.clock_skew_seconds = 0


def _full(ref: ProcoreService, report: str = "RFIs", params=PARAMS) -> pd.DataFrame:
    result = ref.run(report, params, full=True)
    assert result.refresh == "full"
    return result.frame


def _live(world) -> list[dict]:
    return world.records("rfis", world.project(PROJECT))


def _start(inc: ProcoreService) -> None:
    inc.clear_records()
    assert inc.run("RFIs", PARAMS).refresh == "full"


def _same(result, ref: ProcoreService, report: str = "RFIs", params=PARAMS) -> None:
    pd.testing.assert_frame_equal(result.frame, _full(ref, report, params))


def _swap(world, back: timedelta) -> int:
    """One live RFI deleted and one added stamped ``back`` in time (Total unchanged): the gone id."""
    gone = _live(world)[4]["id"]
    world.delete_record("rfis", gone)
    world.add_record("rfis", PROJECT, stamp_shift=-back)
    return gone


# ---------------------------------------------------------------- each case on its own
def test_a_deletion_and_an_add_stamped_hours_back_keeping_total_are_both_seen(sandbox, services):
    """Total unchanged, the add stamped hours back: the changes (asked from a day before the last
    refresh) carry it, so the count is one short of the stored records plus the new one, the recycle
    bin names the deletion and both are merged (or, stamped before the newest stamp held, the list
    is read in full)."""
    inc, ref = services
    _start(inc)
    gone = _swap(sandbox.world, timedelta(hours=20))
    result = inc.run("RFIs", PARAMS)
    assert result.refresh.startswith("incremental: 1 changed, 1 deleted, 3 requests") or \
        "before the last refresh" in result.refresh
    assert gone not in set(result.frame["id"])
    _same(result, ref)
    assert inc.run("RFIs", PARAMS).refresh.startswith("incremental: 0 changed, 0 deleted")


def test_an_add_stamped_days_back_is_counted_and_read_in_full(sandbox, services):
    """Beyond the changes' window an add is seen by Total alone (one more than held): the recycle
    bin is asked (the count is off), names nothing, and the list is read in full."""
    inc, ref = services
    world = sandbox.world
    _start(inc)
    world.add_record("rfis", PROJECT, stamp_shift=-timedelta(days=3))
    result = inc.run("RFIs", PARAMS)
    assert "read in full" in result.refresh and "Procore counts" in result.refresh and "recycle_bin" in result.refresh
    _same(result, ref)


def test_the_limit_a_swap_stamped_days_back_waits_for_the_full_read(sandbox, services):
    """The README's limit, as it is: a deletion and an add stamped days back (before the changes'
    window) keep Total as the stored records plus nothing new, so no request shows it (an edit
    stamped that far back is the same); the weekly full read, or --full, brings it."""
    inc, ref = services
    _start(inc)
    gone = _swap(sandbox.world, timedelta(days=3))
    silent = inc.run("RFIs", PARAMS)
    assert silent.refresh.startswith("incremental: 0 changed, 0 deleted, 2 requests")
    assert gone in set(silent.frame["id"])                                   # the limit
    full = inc.run("RFIs", PARAMS, full=True)
    assert full.refresh == "full" and gone not in set(full.frame["id"])
    _same(full, ref)


def test_a_deletion_is_read_from_the_recycle_bin(sandbox, services):
    inc, ref = services
    world = sandbox.world
    _start(inc)
    gone = _live(world)[2]["id"]
    world.delete_record("rfis", gone)
    sandbox.reset_counts()
    result = inc.run("RFIs", PARAMS)
    assert result.refresh.startswith("incremental: 0 changed, 1 deleted, 3 requests")    # no full read
    assert sandbox.path_counts.get(RFIS + "/recycle_bin") == 1
    assert gone not in set(result.frame["id"])
    _same(result, ref)


def test_include_deleted_names_deletions_in_the_changes_request(sandbox, services):
    """PCOs document filters[include_deleted]: the deletion comes with the changes, no request
    more; with an add stamped days back and Total unchanged the list is read in full."""
    inc, ref = services
    world = sandbox.world
    scope, query = Scope.of(inc.settings), {"project_id": PROJECT}

    def pcos(client):
        return [r["id"] for r in client.get_all(PCOS, query, company_id=8001)]

    fresh = lambda: StoredClient(inc.client, inc.record_store, scope)    # noqa: E731
    inc.clear_records()
    first = fresh()
    before = pcos(first)
    assert first.tally.describe(0) == "full" and len(before) > 20
    contract = world.records("prime_contracts", world.project(PROJECT))[0]["id"]
    world.delete_record("potential_change_orders", before[3])
    sandbox.reset_counts()
    second = fresh()
    ids = pcos(second)
    assert sandbox.path_counts.get(PCOS) == 2                # changes with deletions, and Total
    assert ids == pcos(StoredClient(ref.client, ref.record_store, Scope.of(ref.settings), full=True))
    assert second.tally.describe(0).startswith("incremental: 0 changed, 1 deleted") and not second.tally.reasons
    world.delete_record("potential_change_orders", before[5])
    world.add_record("potential_change_orders", contract, stamp_shift=-timedelta(days=3))
    third = fresh()
    ids = pcos(third)
    assert third.tally.reasons and "Procore counts" in third.tally.reasons[0]
    assert ids == pcos(StoredClient(ref.client, ref.record_store, Scope.of(ref.settings), full=True))


def test_an_edit_stamped_before_the_last_refresh_reads_in_full(sandbox, services):
    inc, ref = services
    world = sandbox.world
    _start(inc)
    world.edit_record("rfis", _live(world)[1]["id"], subject="Now")
    assert inc.run("RFIs", PARAMS).refresh.startswith("incremental: 1 changed")
    world.edit_record("rfis", _live(world)[7]["id"], subject="Stamped an hour back", stamp_shift=-timedelta(hours=1))
    result = inc.run("RFIs", PARAMS)
    assert "read in full" in result.refresh and "before the last refresh" in result.refresh
    assert "Stamped an hour back" in set(result.frame["subject"])
    _same(result, ref)


def test_an_edit_stamped_in_the_future_reads_in_full(sandbox, services):
    inc, ref = services
    world = sandbox.world
    _start(inc)
    world.edit_record("rfis", _live(world)[8]["id"], subject="From the future", stamp_shift=timedelta(days=3))
    result = inc.run("RFIs", PARAMS)
    assert "read in full" in result.refresh and "in the future" in result.refresh
    assert "From the future" in set(result.frame["subject"])
    _same(result, ref)
    assert inc.run("RFIs", PARAMS).refresh.startswith("incremental: 0 changed, 0 deleted")   # seen: not again


def test_edits_while_the_server_clock_runs_ahead_of_its_stamps(sandbox, services):
    inc, ref = services
    world = sandbox.world
    sandbox.faults.clock_skew_seconds = 600
    _start(inc)
    for n, index in enumerate((3, 9, 11)):
        world.edit_record("rfis", _live(world)[index]["id"], subject=f"While the clock ran ahead {n}")
        result = inc.run("RFIs", PARAMS)
        assert f"While the clock ran ahead {n}" in set(result.frame["subject"])
        _same(result, ref)


def test_a_field_procore_starts_sending_reads_in_full(sandbox, services):
    inc, ref = services
    world = sandbox.world
    world.withhold("rfis", LATE_FIELD)
    _start(inc)
    assert LATE_FIELD not in inc.run("RFIs", PARAMS).frame.columns
    world.release("rfis", LATE_FIELD)
    world.edit_record("rfis", _live(world)[5]["id"], subject="Sent with the new field")
    result = inc.run("RFIs", PARAMS)
    assert "read in full" in result.refresh and LATE_FIELD in result.refresh
    _same(result, ref)
    assert list(result.frame.columns) == list(_full(ref).columns)


def test_a_field_procore_starts_sending_with_nothing_changed_reads_in_full(tmp_path, make_sandbox, make_service):
    """Nothing changed, so no change carries the new field: the one record the Total answer
    carries does (a sandbox of its own: no record stamped within the changes' window)."""
    with make_sandbox.serving(**SANDBOX, withheld_fields=(f"rfis.{LATE_FIELD}",)) as sb, \
            make_service.serving(sb, records=tmp_path / "inc.sqlite3", per_page=PAGE) as inc, \
            make_service.serving(sb, records=tmp_path / "full.sqlite3", per_page=PAGE) as ref:
        assert inc.run("RFIs", PARAMS).refresh == "full"
        sb.world.release("rfis", LATE_FIELD)
        result = inc.run("RFIs", PARAMS)
        assert "read in full" in result.refresh and "not among the changes" in result.refresh
        _same(result, ref)
        assert LATE_FIELD in result.frame.columns


# ---------------------------------------------------------------- randomised scenarios
def _pick(rng: random.Random, world) -> int:
    return rng.choice(_live(world))["id"]


def _edit(rng, sb):
    sb.world.edit_record("rfis", _pick(rng, sb.world), subject=f"edit {rng.random():.6f}")


def _add(rng, sb):
    sb.world.add_record("rfis", PROJECT)


def _delete(rng, sb):
    sb.world.delete_record("rfis", _pick(rng, sb.world))


def _delete_and_add(rng, sb):
    sb.world.delete_record("rfis", _pick(rng, sb.world))
    sb.world.add_record("rfis", PROJECT)


def _back_dated(rng, sb):
    """A record stamped back in time: an add (days back alone: Total counts it; with a deletion
    keeping Total unchanged, within the changes' day of overlap), or an edit within the overlap
    (further back, counts cannot see an edit or such a swap: the README says it waits for the next
    full read)."""
    if rng.random() < 0.25:
        sb.world.add_record("rfis", PROJECT, stamp_shift=-timedelta(days=3))
    elif rng.random() < 0.5:
        sb.world.add_record("rfis", PROJECT, stamp_shift=-timedelta(minutes=rng.choice([5, 60, 60 * 20])))
        sb.world.delete_record("rfis", _pick(rng, sb.world))        # Total unchanged
    else:
        sb.world.edit_record("rfis", _pick(rng, sb.world), subject=f"back-dated {rng.random():.6f}",
                             stamp_shift=-timedelta(minutes=rng.choice([5, 60, 60 * 20])))


def _future(rng, sb):
    sb.world.edit_record("rfis", _pick(rng, sb.world), subject="future",
                         stamp_shift=timedelta(hours=rng.choice([1, 72])))


def _clock_ahead(rng, sb):
    sb.faults.clock_skew_seconds = rng.choice([0, 600, 3600])
    _edit(rng, sb)


def _new_field(rng, sb):
    sb.world.release("rfis", LATE_FIELD)
    _edit(rng, sb)


CHANGES = (_edit, _add, _delete, _delete_and_add, _back_dated, _future, _clock_ahead, _new_field)


def test_random_changes_never_give_a_silent_difference(sandbox, services):
    """6 trials of 5 rounds: 1 to 3 random changes, then an incremental run that must equal a
    full read of the same server state (reading in full and saying why is fine)."""
    inc, ref = services
    rng = random.Random(SEED)
    said_why = 0
    for trial in range(6):
        if rng.random() < 0.5:
            sandbox.world.withhold("rfis", LATE_FIELD)
        sandbox.faults.clock_skew_seconds = 0
        _start(inc)
        for round_ in range(5):
            steps = [rng.choice(CHANGES) for _ in range(rng.randint(1, 3))]
            for step in steps:
                step(rng, sandbox)
            result = inc.run("RFIs", PARAMS)
            said_why += "read in full" in result.refresh
            try:
                _same(result, ref)
            except AssertionError as exc:
                raise AssertionError(f"seed {SEED} trial {trial} round {round_}: {[s.__name__ for s in steps]} "
                                     f"-> {result.refresh}") from exc
    assert said_why > 0                          # the doubtful cases did come up, and were read in full


# ---------------------------------------------------------------- killed runs
def _process(sb, home: Path, *argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "procore_xl", *argv], env=process_environ(sb, home),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _finish(sb, home: Path, monkeypatch, *argv: str) -> None:
    """A run to its end, in this process (as the command line runs it), with ``home``'s store."""
    for name, value in process_environ(sb, home).items():
        if name.startswith("PROCORE_"):
            monkeypatch.setenv(name, value)
    assert main(list(argv)) == 0


def _killed(sb, home: Path, rng: random.Random, *argv: str) -> None:
    """A run in its own process, killed (SIGKILL) at a random moment from start-up to its end."""
    proc = _process(sb, home, *argv)
    time.sleep(rng.uniform(0.5, 4.0))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def _sheet_rows(book: Path, sheet: str = "RFIs") -> list[tuple]:
    ws = openpyxl.load_workbook(book)[sheet]
    table = next(iter(ws.tables.values()))
    return [tuple(c.value for c in row) for row in ws[table.ref]]


def test_killed_pulls_and_refreshes_are_followed_by_runs_equal_to_a_full_read(sandbox, tmp_path, monkeypatch,
                                                                                capsys):
    rng = random.Random(SEED + 1)
    home = tmp_path / "home"
    csv, book = tmp_path / "rfis.csv", tmp_path / "rfis.xlsx"
    args = ["--company", "8001", "--project", str(PROJECT)]
    _finish(sandbox, home, monkeypatch, "pull", "RFIs", *args, "--out", str(csv))
    _finish(sandbox, home, monkeypatch, "new-workbook", str(book), "--report", "RFIs", *args)
    changes = (_edit, _add, _delete, _delete_and_add, _back_dated, _future)
    try:
        for trial in range(2):
            rng.choice(changes)(rng, sandbox)
            sandbox.faults.latency_ms = 100                 # each request 0.1 s: a kill lands mid-run
            _killed(sandbox, home, rng, "pull", "RFIs", *args, "--out", str(csv), "--force")
            _killed(sandbox, home, rng, "refresh", str(book))
            sandbox.faults.latency_ms = 0
            rng.choice(changes)(rng, sandbox)
            fresh = tmp_path / f"full-{trial}"              # an empty store: a full read
            full_csv, full_book = fresh / "rfis.csv", fresh / "rfis.xlsx"
            fresh.mkdir()
            _finish(sandbox, home, monkeypatch, "pull", "RFIs", *args, "--out", str(csv), "--force")
            _finish(sandbox, fresh, monkeypatch, "pull", "RFIs", *args, "--out", str(full_csv), "--force")
            assert csv.read_bytes() == full_csv.read_bytes(), f"trial {trial}"
            _finish(sandbox, home, monkeypatch, "refresh", str(book), "-q")
            _finish(sandbox, fresh, monkeypatch, "new-workbook", str(full_book), "--report", "RFIs", *args)
            assert _sheet_rows(book) == _sheet_rows(full_book), f"trial {trial}"
    finally:
        sandbox.faults.latency_ms = 0
        capsys.readouterr()


def test_the_sheet_and_the_refresh_command_say_why_a_list_was_read_in_full(sandbox, services, tmp_path):
    """The Message cell holds the reason; `procore-xl refresh` prints each sheet's Message
    (WorkbookRefresh.notes) and `pull` its refresh line (both the run's ``refresh``)."""
    from procore_xl.excel.refresh import new_workbook, refresh_workbook

    inc, ref = services
    book = tmp_path / "rfis.xlsx"
    inc.clear_records()
    new_workbook(book, [("RFIs", PARAMS)], inc, progress=False)
    sandbox.world.edit_record("rfis", _live(sandbox.world)[6]["id"], subject="Ahead", stamp_shift=timedelta(days=3))
    outcome = refresh_workbook(book, inc, progress=False)
    assert "read in full: /rest/v1.0/projects/91001/rfis: 1 record(s) stamped in the future" in outcome.notes["RFIs"]
    message = openpyxl.load_workbook(book)["RFIs"]["B7"].value
    assert message.startswith("Refresh: incremental: 1 changed") and "stamped in the future" in message
    header, *rows = _sheet_rows(book)
    assert "Ahead" in {row[header.index("Subject")] for row in rows}
