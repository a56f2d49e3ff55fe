"""A complete fetch of a paged list written to the record store while its pages come (a first pull,
``--full``, a stored list too old to bring up to date).

:class:`CallWriter` hands each page to a thread of its own, which encodes its records once (the
JSON the store keeps) and puts them in a temporary table of that thread's SQLite connection: a
file of SQLite's own (unnamed, deleted when the connection closes or the process dies), so no lock
on the store is held while Procore answers and memory holds a page or two, not the list. The
encoding overlaps with the waits for Procore's pages, and SQLite's own work with the caller's
(sqlite3 lets the other threads run while SQLite works). :meth:`CallWriter.commit`, once the last
page is in, replaces the call's records with the staged ones in one transaction: a run killed at
any moment leaves the call as it was before or complete, never half written.

The pages handed to :meth:`CallWriter.add` are read by the thread while the caller goes on with
them: the caller must not change them (nothing in a run does: records are read, never edited).
"""
from __future__ import annotations

import queue
import sqlite3
import threading
from datetime import datetime
from typing import Any

from .store import CallKey, RecordStore, stored_row
from .store_file import WriteTransaction

PAGES_AHEAD = 2               # pages waiting for the thread before add() waits: memory holds a few pages
_STAGE = "CREATE TEMP TABLE IF NOT EXISTS staged (pos INTEGER PRIMARY KEY, id TEXT, data TEXT NOT NULL)"
_DISCARD = object()


class CallWriter:
    """``with CallWriter(store, key) as writer: writer.add(page) ...; writer.commit(server_time=...)``;
    leaving the block without :meth:`commit` leaves the stored call as it was."""

    def __init__(self, store: RecordStore, key: CallKey):
        self.store, self.key = store, key
        self._pages: queue.Queue = queue.Queue(maxsize=PAGES_AHEAD)
        self._error: BaseException | None = None
        self._done = False
        self._thread = threading.Thread(target=self._run, name="procore-xl record writer", daemon=True)
        self._thread.start()

    def add(self, page: list[Any]) -> None:
        """Stage one page of records (in Procore's order); raises at once what made the thread stop."""
        if self._error is not None:
            self._finish(_DISCARD)
        self._pages.put(page)

    def commit(self, *, server_time: datetime, version: str | None = None, wait: bool = True) -> None:
        """Replace the call's records with every page added, in one transaction (made at ``server_time``);
        ``wait=False``: the thread does it while the caller goes on (writing the output), and
        :meth:`wait` returns once it is done (or raises what failed)."""
        self._finish((server_time, version), wait=wait)

    def wait(self) -> None:
        """Wait for the thread's last work (a commit asked with ``wait=False``); raise what failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def discard(self) -> None:
        """Forget the pages added; the stored call stays as it was."""
        try:
            self._finish(_DISCARD)
        except Exception:       # noqa: BLE001 - what failed while staging is moot once discarded
            pass

    def __enter__(self) -> CallWriter:
        return self

    def __exit__(self, *exc) -> None:
        if not self._done:
            self.discard()

    def _finish(self, last: Any, wait: bool = True) -> None:
        if not self._done:
            self._done = True
            self._pages.put(last)
        if wait:
            self.wait()

    # -- the thread --------------------------------------------------------------------------------
    def _run(self) -> None:
        ended = [False]                            # the last item (commit or discard) taken
        try:
            self._stage(self.store._connect(), ended)    # this thread's connection: the staged table is its own
        except BaseException as err:      # noqa: BLE001 - handed to the caller by add() or commit()
            self._error = self.store._failed(err) if isinstance(err, sqlite3.DatabaseError) else err
            while not ended[0]:                    # add() never waits on a stopped thread
                item = self._pages.get()
                ended[0] = item is _DISCARD or isinstance(item, tuple)
        finally:
            self.store.close()                     # closing drops the staged table (and its file)

    def _stage(self, conn: sqlite3.Connection, ended: list[bool]) -> None:
        conn.execute(_STAGE)
        conn.execute("DELETE FROM temp.staged")
        pos = 0
        while True:
            page = self._pages.get()
            ended[0] = page is _DISCARD or isinstance(page, tuple)
            if page is _DISCARD:
                return
            if isinstance(page, tuple):            # (server_time, version): the last page is in
                server_time, version = page
                with WriteTransaction(conn):
                    self.store._replace(conn, self.key, server_time, version, True, lambda: conn.execute(
                        "INSERT INTO records (call, pos, id, data) SELECT ?, pos, id, data FROM temp.staged "
                        "ORDER BY pos", (self.key.digest,)))
                return
            rows = [(pos + i, *stored_row(r)) for i, r in enumerate(page)]
            del page
            pos += len(rows)
            conn.execute("BEGIN")                  # the temporary table only: no lock on the store
            try:
                conn.executemany("INSERT INTO temp.staged (pos, id, data) VALUES (?, ?, ?)", rows)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
