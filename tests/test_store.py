"""The SQLite record store on its own: keys, saves and merges, permissions, housekeeping."""
from __future__ import annotations

import json
import os
import sqlite3
import stat
from datetime import datetime, timedelta, timezone

import pytest

from procore_xl.store import CallKey, RecordStore, Scope, store_path

SCOPE = Scope("production", "https://api.procore.com", "app-1")
T0 = datetime(2026, 1, 5, 10, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path):
    s = RecordStore(tmp_path / "records.sqlite3")
    yield s
    s.close()


def key(path="/rest/v1.0/projects/1/rfis", company=8001, scope=SCOPE, **query) -> CallKey:
    return CallKey.of(scope, company, path, query)


def test_a_merge_updates_in_place_appends_new_and_keeps_the_rest(store):
    store.save(key(), [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}], server_time=T0, version=None, paged=True)
    store.merge(key(), [], server_time=T0 + timedelta(minutes=1))               # nothing changed
    store.merge(key(), [{"id": 3, "v": "c"}, {"id": 1, "v": "A"}], server_time=T0 + timedelta(minutes=2))
    stored = store.load(key())
    assert stored.records == [{"id": 1, "v": "A"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}]
    assert stored.fetched_at == T0 + timedelta(minutes=2) and stored.full_at == T0


def test_calls_are_keyed_by_scope_company_path_and_query_but_not_paging(store):
    store.save(key(per_page=100), [{"id": 1}], server_time=T0, version="v1", paged=True)
    assert store.load(key(page=3)).records == [{"id": 1}] and store.load(key()).version == "v1"
    for other in (key(company=8002), key(sort="-id"), key(scope=Scope("sandbox", SCOPE.api_url, "app-1")),
                  key(scope=Scope("production", SCOPE.api_url, "app-2")), key("/rest/v1.0/projects/2/rfis")):
        assert store.load(other) is None


def test_the_file_is_the_users_alone_and_in_wal_mode(store):
    store.save(key(), [{"id": 1}], server_time=T0, version=None, paged=True)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_location_is_the_per_user_data_folder(isolated_home):
    assert RecordStore().path == store_path() == isolated_home / "records.sqlite3"


def test_info_and_clear_by_environment(store):
    assert store.info().entries == 0
    store.save(key(), [{"id": 1}, {"id": 2}], server_time=T0, version=None, paged=True)
    sandbox = Scope("custom", "http://127.0.0.1:9", "sandbox-client-id")
    store.save(key(scope=sandbox), [{"id": 1}], server_time=T0 + timedelta(days=1), version=None, paged=True)
    info = store.info()
    assert (info.entries, info.records, info.oldest) == (2, 3, T0) and info.size_bytes > 0
    assert store.clear(env="custom") == 1 and store.load(key()) is not None
    assert store.clear() == 1 and store.info().records == 0


def test_a_failed_save_keeps_the_previous_records(store):
    store.save(key(), [{"id": 1}], server_time=T0, version=None, paged=True)
    with pytest.raises(TypeError):
        store.save(key(), [{"id": 2}, {"id": object()}], server_time=T0, version=None, paged=True)
    assert store.load(key()).records == [{"id": 1}]


def test_calls_not_saved_for_a_long_time_are_pruned(store):
    store.save(key(), [{"id": 1}], server_time=T0, version=None, paged=True)
    store.save(key(company=8002), [{"id": 2}], server_time=T0, version=None, paged=True)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE calls SET saved_at = '2020-01-01T00:00:00Z' WHERE company = '8002'")
    assert store.prune(not_saved_for=timedelta(days=30)) == 1
    assert store.load(key()) is not None and store.load(key(company=8002)) is None


def _open_and_save(path: str, barrier, answers) -> None:
    barrier.wait()                                    # every process opens the new store at once
    try:
        store = RecordStore(path)
        key = CallKey.of(Scope("sandbox", "http://127.0.0.1:1", "app"), 8001, "/rest/v1.0/projects/1/rfis", {})
        store.load(key, records=False)
        store.save(key, [{"id": i} for i in range(50)], server_time=datetime.now(timezone.utc), version=None,
                   paged=True)
        answers.put("ok")
    except Exception as exc:                          # reported to the test, not lost in the child
        answers.put(repr(exc))


def test_eight_processes_opening_a_new_store_at_once_all_save(tmp_path):
    """Switching a new database to WAL takes a lock SQLite will not wait for: the first opening
    by several processes at once must not fail with "database is locked"."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn" if os.name == "nt" else "fork")
    for round_ in range(10):
        path = str(tmp_path / f"records-{round_}.sqlite3")
        barrier, answers = ctx.Barrier(8), ctx.Queue()
        processes = [ctx.Process(target=_open_and_save, args=(path, barrier, answers)) for _ in range(8)]
        for p in processes:
            p.start()
        for p in processes:
            p.join(60)
        assert [answers.get(timeout=5) for _ in processes] == ["ok"] * 8


def test_pages_written_while_they_come_replace_the_call_at_commit_only(store, tmp_path):
    from procore_xl.store_writer import CallWriter

    store.save(key(), [{"id": 1, "v": "old"}], server_time=T0, version=None, paged=True)
    with CallWriter(store, key()) as writer:
        writer.add([{"id": 1, "v": "new"}, {"id": 2}])
        writer.add([{"id": 3, "text": "\ud800"}])        # a lone surrogate, stored as sent
        with sqlite3.connect(tmp_path / "records.sqlite3") as other:   # another process, meanwhile
            assert other.execute("SELECT data FROM records").fetchall() == [('{"id":1,"v":"old"}',)]
            other.execute("BEGIN IMMEDIATE")        # the store is not locked while the pages come
            other.execute("ROLLBACK")
        other.close()
        writer.commit(server_time=T0 + timedelta(hours=1))
    stored = store.load(key())
    assert stored.records == [{"id": 1, "v": "new"}, {"id": 2}, {"id": 3, "text": "\ud800"}]
    assert stored.full_at == T0 + timedelta(hours=1) and store.shape(key()) == (3, False)
    assert store.info().records == 3


def test_pages_not_committed_leave_the_call_as_it_was(store):
    from procore_xl.store_writer import CallWriter

    store.save(key(), [{"id": 1}], server_time=T0, version=None, paged=True)
    with pytest.raises(RuntimeError):
        with CallWriter(store, key()) as writer:
            writer.add([{"id": 2}])
            raise RuntimeError("the pull failed after a page")
    with pytest.raises(TypeError):                      # a record that cannot be stored: the writer stops
        with CallWriter(store, key()) as writer:
            writer.add([{"id": 3, "x": object()}])
            for _ in range(10):                         # add() never waits on a stopped writer
                writer.add([{"id": 4}])
            writer.commit(server_time=T0)
    assert store.load(key()).records == [{"id": 1}] and store.info().records == 1


@pytest.mark.parametrize("record", [
    {"id": 1, "subject": "Beton C30/37 – Überprüfung ✓", "n": 1.5, "ok": True, "none": None, "list": [1, "a", {}]},
    {"id": 2, "text": "lone \ud800 surrogate"},                       # orjson refuses: json with escapes
    {"id": 3, "big": 2 ** 70, "neg": -(2 ** 65)},                       # beyond 64 bits: json
    {"id": 4, "deep": {"a": {"b": [{"c": "\udfff"}]}}},
    {"id": 5, "float": 0.1 + 0.2, "tiny": 5e-324, "huge": 1.7976931348623157e308, "zero": -0.0},
])
def test_records_come_back_from_the_store_as_they_went_in(store, record):
    """Whatever encodes a record (orjson, or Python's json for what orjson refuses), it comes back
    equal and of the same types; the text is valid for SQLite's JSON functions."""
    call = key()
    store.save(call, [record], server_time=T0, version=None, paged=True)
    (back,) = store.load(call).records
    assert back == record and json.dumps(back) == json.dumps(record)
    assert store.newest_stamp(call) is None           # json_extract over the stored text works
