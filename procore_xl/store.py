"""The local record store: the raw Procore records of each endpoint call, in one SQLite file.

Each call is keyed by (environment, API host, app client id, company, path, query) and holds its
records in Procore's order, the server time (``Date`` header) of its last fetch and of its last
complete fetch, and the version of the parent record it belongs to (the parent's ``updated_at``,
for per-parent calls). :mod:`procore_xl.incremental` decides what to ask Procore; this module
only keeps what was fetched.

The file lives in the per-user data folder (``records.sqlite3``), readable by the user only. It is
shared by every process of the user at once (Excel's UDF server, a scheduled refresh, a terminal):
WAL mode lets readers go on while one process writes, a busy timeout makes writers wait their
turn, and every save is one transaction, so a reader sees a call's old records or its new ones.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import orjson

from . import store_file
from .environments import Settings, data_dir
from .store_file import ReadTransaction, StoreDamaged, StoreUnusable, WriteTransaction

__all__ = ["CallKey", "RecordStore", "Scope", "StoreDamaged", "StoreInfo", "StoreUnusable", "StoredCall",
           "iso_time", "record_id", "store_path", "stored_row"]

STORE_FILE_NAME = "records.sqlite3"
KEPT_TRIES = 3                        # info / clear / prune: new stores tried before giving up
SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,        -- sha256 of the fields below
    env TEXT NOT NULL,           -- environment name (production, sandbox, custom...)
    api_url TEXT NOT NULL,
    app TEXT NOT NULL,           -- the app's client id
    company TEXT NOT NULL,       -- Procore-Company-Id sent ('' for none)
    path TEXT NOT NULL,
    query TEXT NOT NULL,         -- JSON of the sorted query parameters
    fetched_at TEXT NOT NULL,    -- server time of the last fetch (full or changes), ISO 8601 UTC
    full_at TEXT NOT NULL,       -- server time of the last complete fetch
    version TEXT,                -- the parent record's updated_at for a per-parent call
    count INTEGER NOT NULL,      -- records held
    paged INTEGER NOT NULL,      -- 1: a list of records; 0: one body kept whole
    saved_at TEXT NOT NULL       -- this computer's clock when saved (for `cache info`)
);
CREATE TABLE IF NOT EXISTS records (
    call TEXT NOT NULL REFERENCES calls(key) ON DELETE CASCADE,
    pos INTEGER NOT NULL,        -- Procore's order
    id TEXT,                     -- the record's id as text (NULL: a body without one)
    data TEXT NOT NULL,          -- the record as Procore sent it (JSON)
    PRIMARY KEY (call, pos)
);
CREATE INDEX IF NOT EXISTS records_by_id ON records(call, id);
"""


TABLES = {"calls": ("key", "env", "api_url", "app", "company", "path", "query", "fetched_at", "full_at",
                    "version", "count", "paged", "saved_at"),
          "records": ("call", "pos", "id", "data")}    # what SCHEMA makes: any other file is not ours


def store_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the record store lives: ``records.sqlite3`` in the per-user data folder."""
    return data_dir(environ) / STORE_FILE_NAME


@dataclass(frozen=True)
class Scope:
    """Whose records: one environment, API host and app (records of one company are keyed below)."""
    env: str
    api_url: str
    app: str

    @classmethod
    def of(cls, settings: Settings) -> "Scope":
        return cls(settings.env, settings.api_url.rstrip("/"), settings.client_id or "")


@dataclass(frozen=True)
class CallKey:
    scope: Scope
    company: str
    path: str
    query: str          # JSON of the sorted query parameters

    @classmethod
    def of(cls, scope: Scope, company: Any, path: str, query: Mapping[str, Any] | None) -> "CallKey":
        pairs = sorted((str(k), str(v)) for k, v in (query or {}).items() if k not in ("page", "per_page"))
        return cls(scope, "" if company is None else str(company), path, json.dumps(pairs))

    @property
    def digest(self) -> str:
        parts = [self.scope.env, self.scope.api_url, self.scope.app, self.company, self.path, self.query]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass
class StoredCall:
    """What the store holds for one call."""
    fetched_at: datetime
    full_at: datetime
    version: str | None
    paged: bool
    records: list[Any]         # paged: the rows in Procore's order; else [body]


@dataclass(frozen=True)
class StoreInfo:
    path: Path
    size_bytes: int
    entries: int
    records: int
    oldest: datetime | None    # the oldest last-complete-fetch time held


def iso_time(moment: datetime) -> str:
    """``moment`` as Procore writes times: ISO 8601 UTC to the second (``2026-12-01T09:30:00Z``)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        raise sqlite3.DatabaseError(f"malformed time {str(text)[:40]!r} in the store") from None


def _loads(data: str) -> Any:
    """A stored record; text that is not JSON (or not text) means a damaged store. Read by Python's
    json: orjson would read an integer beyond 64 bits as a float, without a word."""
    try:
        return json.loads(data)
    except (TypeError, ValueError, RecursionError):
        raise sqlite3.DatabaseError("malformed record in the store") from None


# the records a call holds counted through the index every read of them in order goes by, and the
# count saved with them, in one statement (one snapshot, whatever other processes commit meanwhile)
_HELD = ("SELECT (SELECT count FROM calls WHERE key = ?), "
         "(SELECT COUNT(*) FROM records INDEXED BY sqlite_autoindex_records_1 WHERE call = ?)")


def _held(conn: sqlite3.Connection, key: "CallKey") -> int:
    """The records the call holds; a damaged store when its index lost some (bytes garbled on
    disk): SQLite reads past them without an error, so the stored list would come back short."""
    saved, indexed = conn.execute(_HELD, (key.digest, key.digest)).fetchone()
    if saved is not None and saved != indexed:
        raise sqlite3.DatabaseError(f"the index of the stored records finds {indexed} of the {saved} saved")
    return indexed


def _whole(given: int, held: int) -> None:
    """A read of a call in order that gave other than the records it holds: a damaged store."""
    if given != held:
        raise sqlite3.DatabaseError(f"the stored records read in order are {given} of {held}")


def _records(conn: sqlite3.Connection, key: "CallKey") -> list[Any]:
    """The call's records in Procore's order (read inside one snapshot:
    :class:`~procore_xl.store_file.ReadTransaction`); a damaged store when fewer come than the call holds."""
    held = _held(conn, key)
    data = [_loads(d) for (d,) in conn.execute("SELECT data FROM records WHERE call = ? ORDER BY pos",
                                               (key.digest,))]
    _whole(len(data), held)
    return data


def _guarded(method):
    """sqlite3 errors of a store operation as RecordStore._failed makes them."""
    @functools.wraps(method)
    def guarded(self: "RecordStore", *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as err:
            raise self._failed(err) from None
    return guarded


def parse_stamp(value: Any) -> datetime | None:
    """A Procore time stamp (``2026-12-01T09:30:00Z``, with or without fractions or an offset) as
    an aware UTC time; None for anything else."""
    if not isinstance(value, str) or len(value) < 19 or value[10] != "T":
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _json_path(path: tuple[str, ...]) -> str:
    """SQLite's JSON path of a field path: ``$."location"."code"``."""
    return "$" + "".join(f'."{part}"' for part in path)


def scope_filter(env: str | None, api_url: str | None) -> tuple[str, list[str]]:
    """The ``WHERE`` clause (or "") and its arguments that pick the rows of one environment and
    API host, or all: what ``clear`` of the record store and of the kept lists forget."""
    where, args = [], []
    if env is not None:
        where.append("env = ?")
        args.append(env)
    if api_url is not None:
        where.append("api_url = ?")
        args.append(api_url.rstrip("/"))
    return (" WHERE " + " AND ".join(where)) if where else "", args


def record_id(record: Any) -> str | None:
    """A record's id as text (the key records are merged by); None for a body without one."""
    if isinstance(record, dict) and record.get("id") is not None:
        return str(record["id"])
    return None


def stored_row(record: Any) -> tuple[str | None, str]:
    """A record as the store keeps it: (its id, its JSON text)."""
    return record_id(record), _dumps(record)


def _dumps(record: Any) -> str:
    """Compact JSON text of a record, by orjson (about ten times quicker than Python's json: a first
    pull of 20,000 RFIs encoded every record again for the store). What orjson refuses, text UTF-8
    cannot hold (a lone surrogate, which Procore's JSON can carry) and integers beyond 64 bits, goes
    through Python's json with ASCII escapes, stored as sent (``\ud800``) instead of failing SQLite's
    UTF-8 encoding. Either way the store compares records decoded, never their text. (A ``NaN``,
    which no JSON Procore sends can hold, is stored as null.)"""
    try:
        return orjson.dumps(record).decode("utf-8")
    except TypeError:                      # orjson.JSONEncodeError is a TypeError
        return _ascii_dumps(record)


# One encoder for every record (json.dumps with options makes a new one per call); records parsed
# from JSON cannot hold themselves, so no check for cycles.
_ascii_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), check_circular=False).encode


class RecordStore:
    """The SQLite record store. Thread-safe (one connection per thread); safe across processes.

    A damaged file is set aside and a new one started (:mod:`procore_xl.store_file`); the
    operation that found it raises :class:`StoreDamaged` so that the caller starts its run again
    (:meth:`take_notices` then holds the one warning to show). ``info``, ``clear`` and ``prune``
    start again by themselves. A store that cannot be written raises :class:`StoreUnusable`."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else store_path()
        self._file = store_file.StoreFile(self.path, SCHEMA, TABLES)

    def _connect(self) -> sqlite3.Connection:
        return self._file.connection()

    def _failed(self, err: BaseException) -> BaseException:
        return self._file.failed(err)

    def begin(self) -> None:
        """Before a run: use the file in place now (:meth:`StoreFile.begin <procore_xl.store_file.StoreFile.begin>`)."""
        self._file.begin()

    def take_notices(self) -> list[str]:
        """The warnings about stores set aside since the last call (each given once)."""
        return self._file.take_notices()

    def close(self) -> None:
        """Close this thread's connection."""
        self._file.close()

    # -- reading ----------------------------------------------------------------------------------
    @_guarded
    def load(self, key: CallKey, *, records: bool = True) -> StoredCall | None:
        """The stored call; ``records=False``: its times and flags only (``records`` empty). One
        snapshot: the times and the records of one version, whatever other processes commit."""
        with ReadTransaction(self._connect()) as conn:
            row = conn.execute("SELECT fetched_at, full_at, version, paged FROM calls WHERE key = ?",
                               (key.digest,)).fetchone()
            if row is None:
                return None
            data = _records(conn, key) if records else []
        return StoredCall(_parse(row[0]), _parse(row[1]), row[2], bool(row[3]), data)

    def pages(self, key: CallKey, size: int) -> Iterator[list[Any]]:
        """The call's records in Procore's order, ``size`` at a time (never all held), all of one
        version: the pages are read in one snapshot (:meth:`StoreFile.snapshot
        <procore_xl.store_file.StoreFile.snapshot>`), so a save or merge another process commits
        while the caller is between two pages never mixes two versions (records skipped or
        repeated); the next read sees it."""
        try:
            with self._file.snapshot() as conn:
                held, given = _held(conn, key), 0
                last = -1
                while True:
                    rows = conn.execute("SELECT pos, data FROM records WHERE call = ? AND pos > ? "
                                        "ORDER BY pos LIMIT ?", (key.digest, last, size)).fetchall()
                    if not rows:
                        break
                    last, given = rows[-1][0], given + len(rows)
                    yield [_loads(d) for _, d in rows]
                _whole(given, held)
        except sqlite3.DatabaseError as err:
            raise self._failed(err) from None

    @_guarded
    def shape(self, key: CallKey) -> tuple[int, bool]:
        """(records held, whether any of them has no id) of a stored call, of one version."""
        with ReadTransaction(self._connect()) as conn:
            count = _held(conn, key)
            unkeyed = conn.execute("SELECT 1 FROM records WHERE call = ? AND id IS NULL LIMIT 1",
                                   (key.digest,)).fetchone() is not None
        return count, unkeyed

    @_guarded
    def unknown_ids(self, key: CallKey, ids: Iterable[str]) -> set[str]:
        """The ``ids`` the call holds no record for."""
        conn = self._connect()
        return {i for i in set(ids) if conn.execute("SELECT 1 FROM records WHERE call = ? AND id = ? LIMIT 1",
                                                    (key.digest, i)).fetchone() is None}

    @_guarded
    def changed_of(self, key: CallKey, records: Iterable[dict]) -> list[dict]:
        """The ``records`` the call holds under another content or not at all (by id)."""
        conn = self._connect()
        out = []
        for record in records:
            held = conn.execute("SELECT data FROM records WHERE call = ? AND id = ?",
                                (key.digest, record_id(record))).fetchone()
            if held is None or _loads(held[0]) != record:
                out.append(record)
        return out

    @_guarded
    def held_ids(self, key: CallKey, ids: Iterable[str]) -> set[str]:
        """The ``ids`` the call holds a record for."""
        wanted = set(ids)
        return wanted - self.unknown_ids(key, wanted)

    @_guarded
    def newest_stamp(self, key: CallKey) -> datetime | None:
        """The latest ``updated_at`` among the call's records (None: none carries one)."""
        row = self._connect().execute(
            "SELECT MAX(json_extract(data, '$.updated_at')) FROM records WHERE call = ? "
            "AND json_type(data, '$.updated_at') = 'text'", (key.digest,)).fetchone()
        return parse_stamp(row[0]) if row and row[0] else None

    @_guarded
    def lacking(self, key: CallKey, paths: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
        """The field paths (``("location", "code")``) no record of the call has: a nested one
        only where some record holds its parent object (a field that was null is not new)."""
        conn = self._connect()
        out = []
        for path in paths:
            if any('"' in part for part in path):
                continue
            where = "json_type(data, ?) IS NOT NULL"
            args: list[Any] = [_json_path(path)]
            if len(path) > 1:
                parent = conn.execute("SELECT 1 FROM records WHERE call = ? AND json_type(data, ?) = 'object' "
                                      "LIMIT 1", (key.digest, _json_path(path[:-1]))).fetchone()
                if parent is None:
                    continue
            if conn.execute(f"SELECT 1 FROM records WHERE call = ? AND {where} LIMIT 1",
                            (key.digest, *args)).fetchone() is None:
                out.append(path)
        return out

    # -- writing ----------------------------------------------------------------------------------
    @_guarded
    def save(self, key: CallKey, records: Iterable[Any], *, server_time: datetime, version: str | None,
             paged: bool) -> None:
        """Replace the call's records with a complete fetch made at ``server_time``, in one
        transaction. ``records`` may be a generator: they are written as they come, never all held
        (a first pull's pages are written while they come by :class:`~procore_xl.store_writer.CallWriter`)."""
        rows = ((key.digest, i, *stored_row(r)) for i, r in enumerate(records))
        with self._write() as conn:
            self._replace(conn, key, server_time, version, paged, lambda: conn.executemany(
                "INSERT INTO records (call, pos, id, data) VALUES (?, ?, ?, ?)", rows))

    def _replace(self, conn: sqlite3.Connection, key: CallKey, server_time: datetime, version: str | None,
                 paged: bool, fill: Callable[[], Any]) -> None:
        """In a write transaction: the call's records replaced by those ``fill()`` inserts."""
        conn.execute("DELETE FROM records WHERE call = ?", (key.digest,))
        self._upsert_call(conn, key, server_time, server_time, version, 0, paged)
        fill()
        conn.execute("UPDATE calls SET count = (SELECT COUNT(*) FROM records WHERE call = ?) WHERE key = ?",
                     (key.digest, key.digest))

    @_guarded
    def merge(self, key: CallKey, changed: Iterable[dict], *, server_time: datetime,
              deleted: Iterable[str] = ()) -> int:
        """Records changed or added since the last fetch, by id: a changed record keeps its place,
        a new one goes last, one the store holds unchanged stays as it is; the records whose ids
        are in ``deleted`` go. The last complete fetch time stays. Returns how many records were
        new or different."""
        changed = list(changed)
        different = 0
        with self._write() as conn:
            conn.executemany("DELETE FROM records WHERE call = ? AND id = ?", ((key.digest, i) for i in deleted))
            row = conn.execute("SELECT full_at, version, paged FROM calls WHERE key = ?", (key.digest,)).fetchone()
            if row is None:
                raise KeyError("no stored call to merge into")
            top = conn.execute("SELECT COALESCE(MAX(pos), -1) FROM records WHERE call = ?",
                               (key.digest,)).fetchone()[0]
            for record in changed:
                rid, data = stored_row(record)
                held = conn.execute("SELECT data FROM records WHERE call = ? AND id = ?", (key.digest, rid)).fetchone()
                if held is not None and _loads(held[0]) == record:
                    continue
                different += 1
                if held is not None:
                    conn.execute("UPDATE records SET data = ? WHERE call = ? AND id = ?", (data, key.digest, rid))
                else:
                    top += 1
                    conn.execute("INSERT INTO records (call, pos, id, data) VALUES (?, ?, ?, ?)",
                                 (key.digest, top, rid, data))
            count = conn.execute("SELECT COUNT(*) FROM records WHERE call = ?", (key.digest,)).fetchone()[0]
            self._upsert_call(conn, key, server_time, _parse(row[0]), row[1], count, bool(row[2]))
        return different

    def _upsert_call(self, conn, key: CallKey, fetched_at: datetime, full_at: datetime, version: str | None,
                     count: int, paged: bool) -> None:
        conn.execute(
            "INSERT INTO calls (key, env, api_url, app, company, path, query, fetched_at, full_at, "
            "version, count, paged, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET fetched_at = excluded.fetched_at, full_at = excluded.full_at, "
            "version = excluded.version, count = excluded.count, paged = excluded.paged, "
            "saved_at = excluded.saved_at",      # not REPLACE: that would delete the call's records
            (key.digest, key.scope.env, key.scope.api_url, key.scope.app, key.company, key.path, key.query,
             iso_time(fetched_at), iso_time(full_at), version, count, int(paged), iso_time(datetime.now(timezone.utc))))

    def _write(self):
        return WriteTransaction(self._connect())

    # -- housekeeping: these work on a damaged store too (it is set aside, a new one started) --------
    def _kept(self, operation):
        """``operation()`` on the store, on a new one if the file in place is damaged."""
        for _ in range(KEPT_TRIES - 1):
            try:
                return _guarded(lambda self: operation())(self)
            except StoreDamaged:
                continue
        try:
            return _guarded(lambda self: operation())(self)
        except StoreDamaged:
            raise StoreUnusable(f"The record store {self.path} was found damaged {KEPT_TRIES} times in a row: "
                                f"close the programs using it and delete it (it holds only copies of Procore "
                                f"data)") from None

    def info(self) -> StoreInfo:
        if not self.path.exists():
            return StoreInfo(self.path, 0, 0, 0, None)

        def read() -> StoreInfo:
            conn = self._connect()
            entries, oldest = conn.execute("SELECT COUNT(*), MIN(full_at) FROM calls").fetchone()
            records = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
            size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
            return StoreInfo(self.path, size, entries, records, _parse(oldest) if oldest else None)
        return self._kept(read)

    def prune(self, not_saved_for: timedelta) -> int:
        """Forget calls not saved for that long (parameters no longer used, a sandbox long gone)."""
        if not self.path.exists():
            return 0
        cutoff = iso_time(datetime.now(timezone.utc) - not_saved_for)

        def prune() -> int:
            with self._write() as conn:
                removed = conn.execute("DELETE FROM calls WHERE saved_at < ?", (cutoff,)).rowcount
                if removed:
                    conn.execute("DELETE FROM records WHERE call NOT IN (SELECT key FROM calls)")
            return removed
        return self._kept(prune)

    def clear(self, env: str | None = None, api_url: str | None = None) -> int:
        """Forget the records of one environment (and API host), or all; returns the calls removed."""
        if not self.path.exists():
            return 0
        clause, args = scope_filter(env, api_url)

        def clear() -> int:
            with self._write() as conn:
                removed = conn.execute(f"DELETE FROM calls{clause}", args).rowcount
                conn.execute("DELETE FROM records WHERE call NOT IN (SELECT key FROM calls)")
            if not clause:                     # everything gone: give the space back
                self._connect().execute("VACUUM")
            return removed
        return self._kept(clear)

    def set_aside_files(self) -> list[Path]:
        """Damaged stores set aside beside this one (never deleted by procore-xl)."""
        return store_file.set_aside_files(self.path)
