"""`procore-xl sync` against a full read: randomised changes in the sandbox (edits, adds, deletes,
a delete plus an add that leaves ``Total`` unchanged, a project's list emptied, daily logs) and
syncs killed with SIGKILL at random moments; after every sync the DuckDB content must equal what a
full sync of the same server state gives in a fresh folder with its own record store.

"Content" is each table's rows as sets of (column, value) for the non-null values, without dlt's
own columns (``_dlt_id``, ``_dlt_load_id``) and the slice markers' column: a column every row
leaves empty (one a full sync would not have made) is no difference, a value is.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from procore_xl import warehouse
from procore_xl.cli import main
from procore_xl.demo import sandbox_settings
from procore_xl.sandbox.browser import ConsentBrowser
from procore_xl.service import ProcoreService
from procore_xl.store import RecordStore
from procore_xl.tokens import MemoryTokenStore
from tests.cli_run import process_environ
from tests.report_env import TODAY

PROJECTS = ("91001", "91002")
REPORTS = "RFIs,Submittals,Manpower Logs"
DATES = {"start_date": (TODAY - timedelta(days=4)).isoformat(), "end_date": TODAY.isoformat()}
SYNC = ("sync", "--company", "8001", "--project", *PROJECTS, "--reports", REPORTS,
        "--start-date", DATES["start_date"], "--end-date", DATES["end_date"])
PER_PAGE = 100     # the in-process syncs' page size: 250 RFIs are three pages (changes are asked for)
LATE_FIELD = "reference"     # a documented RFI field the sandbox withholds until "Procore starts sending it"


@pytest.fixture
def sb(monkeypatch, tmp_path, make_sandbox):
    """250 RFIs a project, the sandbox's rate limits lifted; dlt's per-user folder (~/.dlt) in
    tmp_path, one for every folder synced, as on a person's computer."""
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "user-dlt"))
    with make_sandbox.serving(seed=11, rfis_per_project=250, today=TODAY, rate_limit_spike=10**6,
                              rate_limit_hourly=10**8, withheld_fields=(f"rfis.{LATE_FIELD}",)) as server:
        for name, value in {"PROCORE_LOGIN_URL": server.url, "PROCORE_API_URL": server.url,
                            "PROCORE_CLIENT_ID": server.client_id,
                            "PROCORE_CLIENT_SECRET": server.client_secret}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
        yield server


def service_sync(sb, monkeypatch, folder: Path, store: Path, *, full: bool = False) -> None:
    """``warehouse.sync`` into ``folder``'s procore.duckdb, a new sign-in and the record store
    ``store``, as a new process would (pages of PER_PAGE records)."""
    folder.mkdir(exist_ok=True)
    records = RecordStore(store)
    with monkeypatch.context() as m, ProcoreService(sandbox_settings(sb), MemoryTokenStore(), per_page=PER_PAGE,
                                                    record_store=records) as service:
        m.chdir(folder)
        service.login(open_browser=ConsentBrowser())
        summary = warehouse.sync(service, 8001, projects=list(PROJECTS), reports=REPORTS, full=full, **DATES)
    records.close()
    assert not summary.failures, summary.failures


def sync(capsys, monkeypatch, folder: Path, *extra: str, home: Path | None = None) -> str:
    """`procore-xl sync` in ``folder`` (in this process); its stderr. ``home``: another record store."""
    folder.mkdir(exist_ok=True)
    with monkeypatch.context() as m:
        m.chdir(folder)
        if home is not None:
            m.setenv("PROCORE_XL_HOME", str(home))
        code = main([*SYNC, *extra])
    err = capsys.readouterr().err
    assert code == 0, err
    return err


def content(folder: Path) -> dict[str, Counter]:
    with duckdb.connect(str(folder / "procore.duckdb"), read_only=True) as db:
        names = [n for (n,) in db.execute("select table_name from information_schema.tables "
                                          "where table_schema = 'procore_data'").fetchall()
                 if not n.startswith("_dlt")]
        out = {}
        for name in names:
            cursor = db.execute(f'select * from procore_data."{name}"')
            cols = [d[0] for d in cursor.description]
            rows = Counter(frozenset((c, _hashable(v)) for c, v in zip(cols, row)
                                     if v is not None and not c.startswith("_dlt") and c != warehouse.DELETED)
                           for row in cursor.fetchall())
            if rows:
                out[name] = rows
    return out


def _hashable(value):
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def differences(synced: dict[str, Counter], full: dict[str, Counter]) -> list[str]:
    """What differs, readably: per table the ids of rows only in one of them."""
    out = []
    for name in sorted(set(synced) | set(full)):
        extra, missing = synced.get(name, Counter()) - full.get(name, Counter()), \
            full.get(name, Counter()) - synced.get(name, Counter())
        if extra or missing:
            ids = lambda rows: sorted(dict(r).get("id") for r in rows)[:10]    # noqa: E731
            out.append(f"{name}: {sum(extra.values())} row(s) only in the synced table {ids(extra)}, "
                       f"{sum(missing.values())} only in the full sync {ids(missing)}")
    return out


def change_at_random(world, rng: random.Random, faults=None) -> list[str]:
    """1 to 6 changes of the kinds a sync must follow; what was done, for the failure message.
    With ``faults`` (the sandbox's), Procore's clock troubles too: stamps behind the cursor (an add
    days back with a deletion keeping Total, an edit within the overlap), stamps in the future, a
    ``Date`` header ahead of the stamps, and a field Procore starts sending."""
    done = []
    kinds = ["edit", "add", "delete", "delete+add", "submittal", "log", "empty"]
    if faults is not None:
        kinds += ["back-dated", "future", "clock-ahead", "new-field"]
    for _ in range(rng.randint(1, 6)):
        project = int(rng.choice(PROJECTS))
        kind = rng.choice(kinds)
        rfis = world.records("rfis", world.project(project))
        submittals = world.records("submittals", world.project(project))
        logs = world.records("manpower_logs", world.project(project))
        if kind == "edit":
            world.edit_record("rfis", rng.choice(rfis)["id"], subject=f"edited {rng.random():.6f}")
        elif kind == "add":
            world.add_record("rfis", project)
        elif kind == "delete":
            world.delete_record("rfis", rng.choice(rfis)["id"])
        elif kind == "delete+add":                          # Total unchanged
            world.delete_record("rfis", rng.choice(rfis)["id"])
            world.add_record("rfis", project)
        elif kind == "submittal" and submittals:
            choice = rng.choice(submittals)["id"]
            if rng.random() < 0.5:
                world.edit_record("submittals", choice, title=f"edited {rng.random():.6f}")
            else:
                world.delete_record("submittals", choice)
        elif kind == "log" and logs:
            choice = rng.choice(logs)["id"]
            if rng.random() < 0.5:
                world.edit_record("manpower_logs", choice, num_workers=rng.randint(1, 99))
            else:
                world.delete_record("manpower_logs", choice)
        elif kind == "empty" and rng.random() < 0.3:        # a project's submittals all gone
            for s in submittals:
                world.delete_record("submittals", s["id"])
        elif kind == "back-dated":
            if rng.random() < 0.2:
                world.add_record("rfis", project, stamp_shift=-timedelta(days=3))    # Total counts it
            elif rng.random() < 0.5:     # Total unchanged: stamped within the changes' day of overlap
                world.add_record("rfis", project, stamp_shift=-timedelta(minutes=rng.choice([5, 60, 60 * 20])))
                world.delete_record("rfis", rng.choice(rfis)["id"])
            else:
                world.edit_record("rfis", rng.choice(rfis)["id"], subject=f"back-dated {rng.random():.6f}",
                                  stamp_shift=-timedelta(minutes=rng.choice([5, 60])))
        elif kind == "future":
            world.edit_record("rfis", rng.choice(rfis)["id"], subject=f"future {rng.random():.6f}",
                              stamp_shift=timedelta(hours=rng.choice([1, 72])))
        elif kind == "clock-ahead":
            faults.clock_skew_seconds = rng.choice([0, 600, 3600])
            world.edit_record("rfis", rng.choice(rfis)["id"], subject=f"skewed {rng.random():.6f}")
        elif kind == "new-field":
            world.release("rfis", LATE_FIELD)
        done.append(f"{kind} in {project}")
    return done


@pytest.mark.parametrize("seed", [3, 8])
def test_every_incremental_sync_equals_a_full_sync(sb, monkeypatch, tmp_path, seed):
    rng = random.Random(seed)
    folder, store = tmp_path / "warehouse", tmp_path / "records.sqlite3"
    service_sync(sb, monkeypatch, folder, store)
    for round_ in range(4):
        done = change_at_random(sb.world, rng, sb.faults)
        service_sync(sb, monkeypatch, folder, store)
        reference = tmp_path / f"full-{round_}"
        service_sync(sb, monkeypatch, reference, reference / "records.sqlite3", full=True)
        assert differences(content(folder), content(reference)) == [], (seed, round_, done)


def pending(folder: Path) -> list[Path]:
    """Load packages dlt has not finished: extracted, normalized, or being loaded."""
    working = folder / ".procore.duckdb.dlt"
    return [p for pattern in ("*/*/normalize/extracted/*", "*/*/load/normalized/*") for p in working.glob(pattern)]


def kill_during_a_sync(sb, folder: Path, home: Path, moment: str, rng: random.Random) -> bool:
    """`python -m procore_xl sync` killed with SIGKILL at ``moment``: once dlt has a package
    extracted, or normalized, or after a random number of seconds. True when it was killed
    (False: it finished first)."""
    folder.mkdir(exist_ok=True)
    env = {**process_environ(sb, home), "RUNTIME__DLTHUB_TELEMETRY": "false"}
    process = subprocess.Popen([sys.executable, "-m", "procore_xl", *SYNC], cwd=folder, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + (rng.uniform(0.5, 8) if moment == "random" else 120)
    part = {"extracted": "normalize/extracted", "normalized": "load/normalized"}.get(moment)
    while process.poll() is None and time.monotonic() < deadline:
        if part and any(part in str(p) for p in pending(folder)):
            time.sleep(rng.uniform(0, 0.3))
            break
        time.sleep(0.01)
    killed = process.poll() is None
    if killed:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    process.stderr.close()
    return killed


def test_a_killed_sync_then_changes_then_a_sync_equals_a_full_sync(sb, capsys, monkeypatch, tmp_path):
    """Kills at random moments (the first sync too), changes while nothing runs, then a plain
    sync: never a stale load, and a load left pending is dropped with a warning naming it."""
    rng = random.Random(16)
    folder, home = tmp_path / "warehouse", Path(os.environ["PROCORE_XL_HOME"])
    kills = left = 0
    for trial, moment in enumerate(["extracted", "normalized", "random"]):
        killed = kill_during_a_sync(sb, folder, home, moment, rng)
        kills += killed
        was_pending = pending(folder)
        left += bool(was_pending)
        done = change_at_random(sb.world, rng)
        err = sync(capsys, monkeypatch, folder)
        what = (trial, moment, killed, [str(p.relative_to(folder)) for p in was_pending], done, err)
        assert ("dropped the unfinished load a stopped sync left in" in err) == bool(was_pending), what
        assert not pending(folder), what
        reference = tmp_path / f"full-{trial}"
        sync(capsys, monkeypatch, reference, "--full", home=reference / "home")
        assert differences(content(folder), content(reference)) == [], what
    assert kills >= 2 and left >= 1, (kills, left)
