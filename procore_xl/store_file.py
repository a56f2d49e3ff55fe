"""The record store's SQLite file: opened under a lock, checked, and set aside when damaged
(:class:`StoreFile`: a connection per thread; the kept lists open theirs the same way).

The record store (:mod:`procore_xl.store`) holds copies of Procore data only, so a damaged file
is never a reason to stop: it is set aside (renamed beside itself with a time stamp, its ``-wal``
and ``-shm`` companions too, never deleted) and a new one is started, which the next read fills
in full. Damage is what SQLite calls a corrupt or foreign file (truncated, overwritten, malformed,
another program's database) and stored text that does not parse or decode.

Several processes share the file (Excel's UDF server, a scheduled refresh, a terminal). Opening a
connection and setting the file aside both happen under one cross-process lock (``<file>.lock``),
and a file is set aside only if it is still the very file (device and inode) found damaged: when
two processes find the same damaged file, the first renames it and the second finds the first
one's new store in its place and uses it. A connection already open on the renamed file goes on
reading its own (old) file; SQLite notices that its file moved and neither checkpoints into nor
deletes the new file's companions when it closes.

A file that cannot be written (read-only file or folder) is a :class:`StoreUnusable` error that
names the file and the fix; so is a store another process keeps locked past the busy timeout.

How the file's connections are used: a read of several statements is one snapshot
(:class:`ReadTransaction`, or :meth:`StoreFile.snapshot` for a read given out a page at a time),
a write one transaction at a time across processes (:class:`WriteTransaction`).
"""
from __future__ import annotations

import contextlib
import errno
import itertools
import os
import sqlite3
import stat
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import filelock

from .errors import ProcoreError

BUSY_TIMEOUT_SECONDS = 60
LOCK_TIMEOUT_SECONDS = 120
COMPANIONS = ("", "-wal", "-shm")        # the database file and SQLite's companions, renamed together
DAMAGED_MARK = "-damaged-"

# SQLite's primary result codes (sqlite3.h)
_SQLITE_ERROR, _BUSY, _LOCKED, _READONLY, _IOERR = 1, 5, 6, 8, 10
_CORRUPT, _FULL, _CANTOPEN, _PERM, _NOTADB = 11, 13, 14, 3, 26
_FOREIGN_SCHEMA_WORDS = ("no such table", "no such column", "has no column")
_UNDECODABLE_WORDS = "could not decode to utf-8"    # Python's sqlite3: stored text of garbled bytes


class StoreUnusable(ProcoreError):
    """The record store cannot be used: read-only, locked too long, the disk full."""


class StoreDamaged(Exception):
    """Internal: the store file this process was using was found damaged (and set aside) or was
    replaced by another process's new store. What was read from it this run cannot be trusted:
    the run starts again on the file now in place. ``notice`` is the warning to show (None when
    another process set the file aside)."""

    def __init__(self, notice: str | None):
        super().__init__(notice or "the record store was replaced by another process")
        self.notice = notice


def identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path`` now; None when there is none."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def lock(path: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> filelock.FileLock:
    """The cross-process lock held while a connection opens the file or the file is set aside."""
    return filelock.FileLock(f"{path}.lock", timeout=timeout, mode=0o600)


def is_damage(err: BaseException) -> bool:
    """True when ``err`` (an sqlite3 error while using the store) means the file itself is bad."""
    if not isinstance(err, sqlite3.DatabaseError):
        return False
    code = getattr(err, "sqlite_errorcode", None)
    if code is None:                     # raised by us (stored text that does not parse) or by a module
        return not isinstance(err, sqlite3.OperationalError) or _foreign(err) \
            or _UNDECODABLE_WORDS in str(err).lower()
    primary = code & 0xFF
    if primary in (_CORRUPT, _NOTADB):
        return True
    return primary == _SQLITE_ERROR and _foreign(err)


def _foreign(err: BaseException) -> bool:
    return any(words in str(err).lower() for words in _FOREIGN_SCHEMA_WORDS)


def unusable(err: BaseException, path: Path) -> StoreUnusable | None:
    """The error to show when ``err`` (sqlite3 or OS) means the store cannot be used as it is;
    None for anything else (a bug of ours stays what it is)."""
    fix = (f"make it writable (the file, and its folder, which takes {path.name}-wal and -shm beside it), "
           f"or set PROCORE_XL_HOME to a folder you can write; it holds only copies of Procore data")
    if isinstance(err, PermissionError) or (isinstance(err, OSError) and err.errno in (13, 30)):
        return StoreUnusable(f"The record store {path} cannot be written (read-only file or folder): {fix}")
    if isinstance(err, filelock.Timeout):
        return StoreUnusable(f"The record store {path} stayed locked by another procore-xl process for "
                             f"{LOCK_TIMEOUT_SECONDS} s (its lock {err.lock_file}); try again")
    if isinstance(err, OSError):
        return StoreUnusable(f"The record store {path} cannot be used ({err.strerror or err}): {fix}")
    if not isinstance(err, sqlite3.DatabaseError):
        return None
    primary = (getattr(err, "sqlite_errorcode", None) or 0) & 0xFF
    if primary in (_READONLY, _CANTOPEN, _PERM):
        return StoreUnusable(f"The record store {path} cannot be written (read-only file or folder): {fix}")
    if primary in (_BUSY, _LOCKED):
        return StoreUnusable(f"The record store {path} stayed locked by another procore-xl process for "
                             f"{BUSY_TIMEOUT_SECONDS} s; try again")
    if primary == _FULL:
        return StoreUnusable(f"The disk holding the record store {path} is full: free some space, or set "
                             f"PROCORE_XL_HOME to a folder on another disk")
    if primary == _IOERR:
        return StoreUnusable(f"The record store {path} could not be read or written ({err}, "
                             f"{getattr(err, 'sqlite_errorname', '?')}): check the disk, "
                             f"or set PROCORE_XL_HOME to a folder on another disk")
    return None


def check_writable(path: Path) -> None:
    """PermissionError when the store or its folder is read-only: by its permission bits too, so
    that a store a person made read-only stays so even for root (who could write it anyway)."""
    for place in (path.parent, path):
        try:
            mode = os.stat(place).st_mode
        except FileNotFoundError:
            continue
        if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(place, os.W_OK):
            raise PermissionError(errno.EACCES, "read-only", str(place))


def create(path: Path) -> None:
    """The folder and, when there is none, an empty file readable by the user only (SQLite's -wal
    and -shm files take the database file's permissions). An existing file is never opened here:
    closing any descriptor of a database file drops the POSIX locks SQLite holds on it for the
    process's other connections (SQLite's "how to corrupt" 2.2)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    if os.name != "nt":
        os.chmod(path, 0o600)


def connect(path: Path, schema: str, tables: dict[str, tuple[str, ...]],
            busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> sqlite3.Connection:
    """A connection to the store at ``path``, made with the lock held: the file is created if
    missing, checked (SQLite can read it and it holds exactly our tables, or none: then they are
    made) and its WAL companions are open before the lock is let go, so that no file can be set
    aside between. Raises sqlite3 errors (damage: :func:`is_damage`) and OS errors."""
    create(path)
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        found = _tables(conn)
        if not found:
            _set_up(conn, schema)
        elif found != tables:
            raise sqlite3.DatabaseError(f"not a procore-xl record store (its tables: {', '.join(sorted(found))})")
        elif conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            _set_up(conn, schema)
        return conn
    except BaseException:
        conn.close()
        raise


def _tables(conn: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%'")]
    return {n: tuple(row[1] for row in conn.execute(f'PRAGMA table_info("{n}")')) for n in names}


def _set_up(conn: sqlite3.Connection, schema: str) -> None:
    """WAL mode and the tables. Several processes opening a new store at once race for the lock
    that switching to WAL takes, and SQLite answers "database is locked" at once rather than wait
    (its busy handler does not apply): try again, a little later each time, up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    for attempt in itertools.count():
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(schema)
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(min(0.5, 0.01 * 2 ** attempt))


def set_aside(path: Path, damaged: tuple[int, int] | None, reason: str) -> str | None:
    """Rename the damaged store ``path`` (and its companions) beside itself with a time stamp, if
    the file there is still ``damaged`` (device, inode); call with :func:`lock` held. Returns the
    warning to show, None when another process set it aside already (or it is gone)."""
    if damaged is None or identity(path) != damaged:
        return None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for n in itertools.count():
        target = path.with_name(f"{path.stem}{DAMAGED_MARK}{stamp}{f'-{n}' if n else ''}{path.suffix}")
        if not any(Path(f"{target}{c}").exists() for c in COMPANIONS):
            break
    for companion in COMPANIONS:
        try:
            os.replace(f"{path}{companion}", f"{target}{companion}")
        except FileNotFoundError:
            pass
        except OSError as err:      # Windows: another program has it open
            raise StoreUnusable(f"The record store {path} is damaged ({_reason(reason)}) and could not be set "
                                f"aside ({err.strerror or err}): close the programs using it (Excel?) and delete "
                                f"it; it holds only copies of Procore data") from None
    return (f"the record store {path} was damaged ({_reason(reason)}): it was set aside as {target.name} "
            f"(safe to delete) and a new one started; what it held is read from Procore in full again")


def _reason(text: str) -> str:
    if _UNDECODABLE_WORDS in text.lower():      # sqlite3 quotes the garbled record: not for a warning
        return "a stored record is not UTF-8 text"
    return " ".join(text.split())[:120] or "unreadable"


def set_aside_files(path: Path) -> list[Path]:
    """Damaged stores set aside beside ``path`` (for ``cache info``)."""
    return sorted(p for p in path.parent.glob(f"{path.stem}{DAMAGED_MARK}*{path.suffix}"))


class StoreFile:
    """One SQLite file of ours as every thread of this process uses it: a connection per thread,
    opened under :func:`lock` and checked (:func:`connect`), the file set aside when found damaged.

    Each time the file in use is given up (damaged, or replaced by another process) the generation
    goes up: a thread whose connection belongs to an earlier generation opened since the latest
    :meth:`begin` raises :class:`StoreDamaged` (what it read this run may have come from the old
    file); older connections are replaced quietly. The record store and the kept lists both use it."""

    def __init__(self, path: Path, schema: str, tables: dict[str, tuple[str, ...]], *,
                 busy_timeout: float = BUSY_TIMEOUT_SECONDS, lock_timeout: float = LOCK_TIMEOUT_SECONDS):
        self.path = path
        self._schema, self._tables, self._busy_timeout = schema, tables, busy_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._file_lock = lock(path, lock_timeout)
        self._generation = 0          # +1 each time the file in use is given up (damaged or replaced)
        self._begun = 0               # the generation the latest run began with (begin())
        self._file: tuple[int, int] | None = None    # (device, inode) this generation works on
        self._notices: list[str] = []

    def connection(self) -> sqlite3.Connection:
        """This thread's connection to the file of the current generation. A file replaced under
        this process (another process set it aside) raises StoreDamaged: what this run read may
        have come from the old file."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.generation == self._generation:
            if identity(self.path) == local.file:
                return conn
            self._give_up(local.file)
            raise StoreDamaged(None)
        if conn is not None:
            self.close()
            if local.generation >= self._begun:     # this run's file was given up while in use
                raise StoreDamaged(None)
        generation = self._generation
        try:
            check_writable(self.path)
            with self._file_lock:
                try:
                    conn = connect(self.path, self._schema, self._tables, self._busy_timeout)
                except sqlite3.DatabaseError as err:
                    if not is_damage(err):
                        raise
                    raise StoreDamaged(self._set_aside_locked(identity(self.path), err)) from None
                found = identity(self.path)
        except (OSError, sqlite3.DatabaseError, filelock.Timeout) as err:
            raise unusable(err, self.path) or err from None
        with self._lock:
            if self._generation == generation and self._file is None:
                self._file = found
            if self._generation != generation or self._file != found:   # replaced while in use
                conn.close()
                self._give_up(self._file)
                raise StoreDamaged(None)
        local.conn, local.generation, local.file = conn, generation, found
        return conn

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own holding one read transaction for the block: every statement in
        it reads the file as it was when the first one ran, whatever other connections (other
        processes, this thread's own) commit meanwhile (WAL: they are not held up). For a read
        that gives its rows out a page at a time: this thread's connection stays free for
        anything done between two pages. The file is the one in use (checked as
        :meth:`connection` checks it), once the connection is open."""
        conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            self.connection()           # the file just opened is this run's (else StoreDamaged)
            conn.execute("BEGIN")
            yield conn
        finally:
            conn.close()                # ends the read transaction: nothing was written

    def _give_up(self, file: tuple[int, int] | None) -> None:
        """Stop using ``file``: the next connection opens the file in place now."""
        with self._lock:
            if self._file == file or self._file is None:
                self._generation += 1
                self._file = None

    def _set_aside_locked(self, damaged: tuple[int, int] | None, err: BaseException) -> str | None:
        """Set the damaged file aside (the file lock held); the notice, None if another process did."""
        notice = set_aside(self.path, damaged, str(err))
        with self._lock:
            if notice:
                self._notices.append(notice)
            if self._file == damaged or self._file is None:
                self._generation += 1
                self._file = None
        return notice

    def failed(self, err: BaseException) -> BaseException:
        """What an sqlite3 error while using the file becomes: a damaged file is set aside
        (StoreDamaged); a read-only or full one is a StoreUnusable; anything else stays."""
        if is_damage(err):
            file = getattr(self._local, "file", None)
            self.close()            # before the rename: SQLite may checkpoint and delete its -wal
            try:
                with self._file_lock:
                    notice = self._set_aside_locked(file, err)
            except (OSError, filelock.Timeout) as lock_err:
                return unusable(lock_err, self.path) or lock_err
            return StoreDamaged(notice)
        return unusable(err, self.path) or err

    def begin(self) -> None:
        """Before a run: use the file in place now (another process may have replaced it).
        Connections of earlier generations are then replaced quietly; during the run, a file
        given up raises StoreDamaged in every thread that had read from it."""
        with self._lock:
            if self._file is not None and identity(self.path) != self._file:
                self._generation += 1
                self._file = None
            self._begun = self._generation

    def take_notices(self) -> list[str]:
        """The warnings about files set aside since the last call (each given once)."""
        with self._lock:
            notices, self._notices = self._notices, []
        return notices

    def close(self) -> None:
        """Close this thread's connection (the next use opens one again)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass
            self._local.conn = None


class ReadTransaction:
    """``BEGIN`` ... ``COMMIT`` around the statements of one read, so that they read one snapshot
    (each statement alone is its own); inside a transaction already, that one's. Reads only: on an
    error the transaction is rolled back and the error is the one raised."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn, self._own = conn, False

    def __enter__(self) -> sqlite3.Connection:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN")
            self._own = True
        return self.conn

    def __exit__(self, exc_type, *exc) -> None:
        if not (self._own and self.conn.in_transaction):
            return
        try:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
        except sqlite3.Error:
            if exc_type is None:
                raise


class WriteTransaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error): one writer at a time, waiting
    up to the busy timeout for another process's write to finish."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, *exc) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
