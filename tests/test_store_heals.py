"""A damaged or read-only record store: set aside and rebuilt by a full read, or named with the fix.

Real `procore-xl` runs (in-process and as several processes at once) against a sandbox of their
own over loopback; real SQLite files damaged the ways files get damaged; every healed run is
compared with a full read of the same server state.
"""
from __future__ import annotations

import gc
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cli_run import one_error_line, point_at, process_environ, run
from procore_xl.store import CallKey, RecordStore, Scope, StoreDamaged

PULL = ("pull", "RFIs", "--company", "8001", "--project", "91001")
DAMAGES = ("truncated", "overwritten", "foreign schema", "malformed record", "undecodable record", "malformed time",
           "index lost records")


@pytest.fixture(scope="module")
def own_sandbox(make_sandbox):
    return make_sandbox(rfis_per_project=600)


@pytest.fixture
def env(own_sandbox, monkeypatch, isolated_home):
    point_at(own_sandbox, monkeypatch)
    return own_sandbox


def settle(path: Path) -> None:
    """Every connection of this process closed and the WAL written into the file, as after a run."""
    gc.collect()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def damage(path: Path, how: str) -> bytes:
    """Damage the store the way ``how`` says; returns the damaged file's bytes."""
    settle(path)
    if how == "truncated":
        with open(path, "r+b") as f:
            f.truncate(path.stat().st_size // 2)
    elif how == "overwritten":
        path.write_bytes(b"not a database, something else wrote here\n" * 200)
    elif how == "foreign schema":
        for companion in ("", "-wal", "-shm"):
            Path(f"{path}{companion}").unlink(missing_ok=True)
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
            db.execute("INSERT INTO notes (text) VALUES ('mine')")
        db.close()
    elif how == "index lost records":
        lose_index_entries(path)
    else:
        with sqlite3.connect(path) as db:
            if how == "malformed record":
                db.execute("UPDATE records SET data = '{\"id\": 1, \"subj' WHERE pos = 7")
            elif how == "undecodable record":       # bytes flipped on disk: text that is not UTF-8
                db.execute("UPDATE records SET data = CAST(x'7b226964223a20ff' AS TEXT) WHERE pos = 7")
            else:
                db.execute("UPDATE calls SET full_at = 'yesterday-ish', fetched_at = 'soon'")
        db.close()
    return path.read_bytes()


def lose_index_entries(path: Path) -> None:
    """The records' (call, pos) index missing a seventh of its entries, the rows all there (what
    bytes garbled on disk do to an index page): SQLite reads the list through that index, without
    an error, and finds it short; only integrity_check, which no run can afford, sees it."""
    db = sqlite3.connect(path)
    db.execute("CREATE INDEX lossy ON records(call, pos) WHERE pos % 7 != 3")
    roots = dict(db.execute("SELECT name, rootpage FROM sqlite_master WHERE name IN "
                            "('lossy', 'sqlite_autoindex_records_1')"))
    db.execute("PRAGMA writable_schema = ON")       # the two indexes' trees swapped, then the full one dropped
    db.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = 'sqlite_autoindex_records_1'", (roots["lossy"],))
    db.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = 'lossy'", (roots["sqlite_autoindex_records_1"],))
    db.commit()
    db.close()
    db = sqlite3.connect(path)
    db.execute("DROP INDEX lossy")
    db.commit()
    assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    db.close()


def warnings(err: str) -> list[str]:
    """The warning lines about the record store (the sandbox's data brings others)."""
    return [line for line in err.splitlines() if line.startswith("procore-xl: warning:") and "record store" in line]


def set_aside(home: Path) -> list[Path]:
    return sorted(home.glob("records-damaged-*.sqlite3"))


def healthy(path: Path) -> int:
    """Entries of a store that SQLite finds intact."""
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        entries = db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    db.close()
    return entries


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_store_is_set_aside_and_the_run_equals_a_full_read(env, capsys, tmp_path, isolated_home, how):
    store = isolated_home / "records.sqlite3"
    first, healed, full = tmp_path / "first.csv", tmp_path / "healed.csv", tmp_path / "full.csv"
    assert run(capsys, *PULL, "--out", str(first))[0] == 0
    damaged = damage(store, how)
    rfi = int(first.read_text().splitlines()[5].split(",")[0])
    env.world.edit_record("rfis", rfi, subject=f"changed while the store was {how}")

    code, out, err = run(capsys, *PULL, "--out", str(healed))
    assert code == 0, err
    [line] = warnings(err)                         # one warning line, naming the file
    assert str(store) in line and "set aside" in line
    assert "subj" not in line and '"id"' not in line       # no stored record's text in the warning
    [aside] = set_aside(isolated_home)
    assert aside.read_bytes() == damaged           # set aside as it was, never deleted
    assert healthy(store) >= 1                     # the new store holds the full read

    assert run(capsys, *PULL, "--full", "--out", str(full))[0] == 0
    assert healed.read_bytes() == full.read_bytes() != first.read_bytes()
    assert f"changed while the store was {how}" in healed.read_text()
    code, _, err = run(capsys, *PULL, "--out", str(healed), "--force")    # healed: the next run is quiet
    assert code == 0 and warnings(err) == [] and healed.read_bytes() == full.read_bytes()
    assert set_aside(isolated_home) == [aside]


def test_a_store_whose_index_lost_records_is_set_aside_not_read_short(own_sandbox, make_service, tmp_path):
    """A list long enough to be brought up to date by its changes (more than two pages) is read
    back from the store through its (call, pos) index: an index that lost entries handed back a
    short list, counted as "incremental: 0 changed" (the rows were written as 600, read as 514)."""
    path = tmp_path / "records.sqlite3"
    params = {"company": 8001, "project": 91001}
    with make_service.serving(own_sandbox, records=path, per_page=100) as service:
        first = service.run("RFIs", params)
    settle(path)
    lose_index_entries(path)
    with make_service.serving(own_sandbox, records=path, per_page=100) as service:
        healed = service.run("RFIs", params)
    assert healed.table.frame().equals(first.table.frame()) and len(healed.table) == 600
    assert "set aside" in healed.warnings[0] and "index" in healed.warnings[0]
    assert len(list(tmp_path.glob("records-damaged-*.sqlite3"))) == 1


@pytest.mark.parametrize("command", [("cache", "info"), ("cache", "clear")])
def test_cache_info_and_clear_work_on_a_damaged_store(env, capsys, isolated_home, command):
    store = isolated_home / "records.sqlite3"
    assert run(capsys, *PULL, "--out", str(isolated_home.parent / "setup.csv"))[0] == 0
    damaged = damage(store, "overwritten")
    code, out, err = run(capsys, *command)
    assert code == 0, err
    [line] = warnings(err)
    assert str(store) in line and "set aside" in line
    assert "subj" not in line and '"id"' not in line       # no stored record's text in the warning
    [aside] = set_aside(isolated_home)
    assert aside.read_bytes() == damaged
    if command[1] == "info":
        assert str(store) in out and aside.name in out
    code, out, err = run(capsys, *command)         # and again, on the new store: no warning
    assert code == 0 and warnings(err) == []


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_store_is_named_with_the_fix(env, capsys, tmp_path, isolated_home, what):
    store = isolated_home / "records.sqlite3"
    assert run(capsys, *PULL, "--out", str(isolated_home.parent / "setup.csv"))[0] == 0
    settle(store)
    target = store if what == "file" else isolated_home
    mode = target.stat().st_mode
    os.chmod(target, 0o444 if what == "file" else 0o555)
    try:
        out_file = tmp_path / "rfis.csv"
        for argv in (PULL + ("--out", str(out_file)), ("cache", "clear")):
            code, out, err = run(capsys, *argv)
            line = one_error_line(err)
            assert code == 2, argv
            assert str(store) in line and "read-only" in line and "writable" in line, line
            assert "another program" not in line and "internal error" not in line
        assert not out_file.exists()
    finally:
        os.chmod(target, mode)


def test_a_store_found_damaged_by_two_stores_at_once_is_set_aside_once(tmp_path):
    """Two store objects (as two processes) reading one file when it is found damaged: the first
    sets it aside and starts a new one, the second finds the new one in place and keeps it."""
    path = tmp_path / "records.sqlite3"
    key = CallKey.of(Scope("custom", "http://x", "app"), 1, "/rest/v1.0/projects/1/rfis", {})
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc)
    a, b = RecordStore(path), RecordStore(path)
    a.save(key, [{"id": n} for n in range(50)], server_time=now, version=None, paged=True)
    assert len(b.load(key).records) == 50                    # b has the file open too
    with sqlite3.connect(path) as db:
        db.execute("UPDATE records SET data = 'garbage{' WHERE pos = 3")
    db.close()
    with pytest.raises(StoreDamaged) as first:
        a.load(key)
    assert first.value.notice and "set aside" in first.value.notice
    a.begin()
    assert a.load(key) is None                                # a new store
    a.save(key, [{"id": "rebuilt"}], server_time=now, version=None, paged=True)
    with pytest.raises(StoreDamaged) as second:               # b's file was replaced under it
        b.load(key)
    assert second.value.notice is None
    b.begin()
    assert b.load(key).records == [{"id": "rebuilt"}]         # a's rebuilt store, kept
    assert len(list(tmp_path.glob("records-damaged-*.sqlite3"))) == 1
    assert b.take_notices() == [] and len(a.take_notices()) == 1
    a.close()
    b.close()


@pytest.mark.parametrize("how", ["overwritten", "malformed record"])
def test_processes_finding_one_damaged_store_at_once_set_it_aside_once(env, capsys, tmp_path, isolated_home, how):
    store = isolated_home / "records.sqlite3"
    assert run(capsys, *PULL, "--out", str(isolated_home.parent / "setup.csv"))[0] == 0
    damage(store, how)
    environ = process_environ(env, isolated_home)
    outs = [tmp_path / f"rfis-{i}.csv" for i in range(4)]
    children = [subprocess.Popen([sys.executable, "-m", "procore_xl", *PULL, "--out", str(out)], env=environ,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for out in outs]
    results = [(*child.communicate(timeout=300), child.returncode) for child in children]
    assert [code for *_, code in results] == [0] * len(outs), [err for _, err, _ in results]
    assert sum(len(warnings(err)) for _, err, _ in results) == 1     # one process set it aside and said so
    assert len(set_aside(isolated_home)) == 1
    assert healthy(store) >= 1
    full = tmp_path / "full.csv"
    assert run(capsys, *PULL, "--full", "--out", str(full))[0] == 0
    assert {out.read_bytes() for out in outs} == {full.read_bytes()}
