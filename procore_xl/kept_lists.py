"""Discovery lists kept between runs: companies, projects, contracts... and custom field labels.

A refresh needs the company's and the project's names for the sheet, and the custom field
labels for its column names, but they rarely change: asking Procore for them on every run
cost two or three requests a report (Procore caps requests per hour). :class:`KeptLists` keeps
each list with the time it was fetched in a small SQLite file beside the record store
(``lists.sqlite3``, readable by the user only); :class:`~procore_xl.discovery.Discovery` uses a
kept list while it is younger than :data:`MAX_AGE` and asks Procore again when it is older, when a
name or id given is not in it, on a full refresh and on Update dropdowns.

Lists are a convenience: a kept list that cannot be read (a damaged or locked file) counts as
none, and one that cannot be saved is simply fetched again next time. The file is opened the way
the record store's is (:mod:`procore_xl.store_file`: WAL, under a cross-process lock, checked): a
damaged one is set aside and a new one started.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .store import Scope, scope_filter
from .store_file import StoreDamaged, StoreFile, StoreUnusable

log = logging.getLogger("procore_xl")

LISTS_FILE_NAME = "lists.sqlite3"
MAX_AGE = 24 * 3600.0          # seconds a kept list is used before it is fetched again
BUSY_TIMEOUT_SECONDS = 5
SCHEMA = """
CREATE TABLE IF NOT EXISTS discovery (
    key TEXT NOT NULL,           -- the list and what it belongs to (JSON)
    env TEXT NOT NULL,
    api_url TEXT NOT NULL,
    app TEXT NOT NULL,
    fetched_at REAL NOT NULL,    -- Unix time of the fetch (this computer's clock)
    value TEXT NOT NULL,         -- the records (JSON)
    PRIMARY KEY (env, api_url, app, key)
);
"""
TABLES = {"discovery": ("key", "env", "api_url", "app", "fetched_at", "value")}   # any other file is not ours


@dataclass(frozen=True)
class Kept:
    age: float                 # seconds since it was fetched
    value: Any


class KeptLists:
    """The kept lists of every environment, one SQLite file, opened, checked and set aside when
    damaged the way the record store's is (:class:`~procore_xl.store_file.StoreFile`). Thread-safe;
    safe across processes."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._file = StoreFile(self.path, SCHEMA, TABLES, busy_timeout=BUSY_TIMEOUT_SECONDS,
                               lock_timeout=BUSY_TIMEOUT_SECONDS)

    def _use(self, operation: Callable[[sqlite3.Connection], Any], failing: str, default: Any = None) -> Any:
        """``operation(connection)``; ``default`` when the file cannot be used (a damaged one is set
        aside: the next use starts a new one)."""
        try:
            try:
                return operation(self._file.connection())
            except sqlite3.DatabaseError as err:
                raise self._file.failed(err) from None
        except (sqlite3.Error, OSError, StoreDamaged, StoreUnusable) as exc:
            log.debug("kept lists %s (%s)", failing, exc)
            return default

    def load(self, scope: Scope, key: tuple) -> Kept | None:
        """The kept list (with its age), or None."""
        row = self._use(lambda conn: conn.execute(
            "SELECT fetched_at, value FROM discovery WHERE env=? AND api_url=? AND app=? AND key=?",
            (scope.env, scope.api_url, scope.app, _key(key))).fetchone(), "unreadable: fetching again")
        if row is None:
            return None
        try:
            value = json.loads(row[1])
        except (TypeError, ValueError):
            return None
        return Kept(max(0.0, time.time() - row[0]), value)

    def save(self, scope: Scope, key: tuple, value: Any) -> None:
        try:
            text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return
        self._use(lambda conn: conn.execute(
            "INSERT OR REPLACE INTO discovery (key, env, api_url, app, fetched_at, value) VALUES (?, ?, ?, ?, ?, ?)",
            (_key(key), scope.env, scope.api_url, scope.app, time.time(), text)), "not kept")

    def clear(self, env: str | None = None, api_url: str | None = None) -> int:
        """Forget the lists of one environment (and API host), or all; returns how many."""
        if not self.path.exists():
            return 0
        clause, args = scope_filter(env, api_url)
        return self._use(lambda conn: conn.execute(f"DELETE FROM discovery{clause}", args).rowcount,
                         "not cleared", 0)

    def close(self) -> None:
        """Close this thread's connection."""
        self._file.close()


def _key(key: tuple) -> str:
    return json.dumps([str(part) if not isinstance(part, (str, int, float, bool, type(None), list, tuple)) else part
                       for part in key], default=str)
