"""Incremental fetching: ask Procore only for what changed since the records in the store.

:class:`StoredClient` has the GET methods of :class:`~procore_xl.client.ProcoreClient` that the
runner uses, and answers each call from the :class:`~procore_xl.store.RecordStore`:

* a list whose endpoint documents ``filters[updated_at]`` (Procore's reference, per endpoint) and
  that takes more than two pages is brought up to date by :meth:`StoredClient._merge_changes`:
  the records updated since the cursor and ``Total`` (one ``per_page=1`` request) as the
  cross-check: two requests. Deletions come from the source the reference documents
  (:mod:`procore_xl.deletions`): ``filters[include_deleted]`` on the list itself rides on the
  changes request; a recycle-bin list is asked only when ``Total`` falls short of the stored records
  plus the new ones (something went: the bin names what). Anything that does not add up is read in
  full, with the reason in the run's refresh line (a list of one or two pages is read in full: no
  more requests);
* a per-parent call (an RFI's replies, a PCO's line items, one RFI in full) with the parent's
  ``updated_at`` as ``version``: nothing is asked while the parent is unchanged; fetched in
  full when it changed or is new (a deleted parent is not asked for at all, so its children go);
* anything else, or a call not in the store, from another app or environment, whose last complete
  fetch is older than ``max_age``, or with ``full=True``: fetched in full, as without a store.

The cursor is the server's clock, the ``Date`` header of the last answer, never this computer's;
changes are asked from :data:`OVERLAP` before it, so a record Procore stamps late or back-dated
by up to that much is still seen. A list is read in full, and the refresh line says why, when:

* a record new or changed since the stored copy carries a stamp older than the cursor (the
  earlier of the last ``Date`` and the newest stamp held, less :data:`STAMP_SLACK`): a stamp
  that went back in time may hide others outside the window;
* such a record is stamped later than the answer's ``Date`` (plus :data:`STAMP_SLACK`): the
  clock that stamps records is not the one the cursor reads;
* such a record has a field no stored record has (Procore started sending it: the unchanged
  records lack it, so columns and their order would differ from a full read's);
* the count does not add up: ``Total`` differs from the stored records plus the new ones less the
  deleted ones the deletion source names; or a changed record has no id, or there is no ``Total``.
  What no count sees: as many records gone as appear with a stamp from before :data:`OVERLAP`
  (a balanced swap, like an edit stamped that far back): the weekly full read settles it;
* the one record the ``Total`` answer carries (the list's first) is not among the changes yet
  differs from its stored copy (a field Procore started sending with nothing changed, an edit
  stamped before the window).

Parameters are part of a call's key, so a change of parameters is a call never fetched before.
The records returned always come from the store's copy after the fetch, in Procore's order (new
records last), so the output of an incremental run equals that of a full run.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Mapping

from .reference import FULL, INCREMENTAL, UPDATED_AT_FILTER, asks_for_changes
from .api_client import ClientOver
from .client import page_size_for, server_date
from .deletions import DeletionSource, deletion_source
from .store import CallKey, RecordStore, Scope, StoredCall, iso_time, parse_stamp, record_id
from .store_writer import CallWriter

DEFAULT_MAX_AGE = timedelta(days=7)
CHANGES_PAY_OFF_PAGES = 2             # asking for changes costs 2 requests: worth it above 2 pages
OVERLAP = timedelta(days=1)           # changes asked from this long before the cursor (late stamps)
STAMP_SLACK = timedelta(minutes=2)    # a change stamped this near the cursor or Date is not doubted
FAR_AHEAD = timedelta(days=36500)     # the changes' range ends this far after now: no stamp is left out
PAGE_ROWS = 1000                      # rows per page handed out by StoredClient.pages from a list in hand
UPDATED_AT = UPDATED_AT_FILTER


@dataclass
class Tally:
    """What one report run took from the store and from Procore (thread-safe)."""
    changed: int = 0           # records new or different since the stored copy
    deleted: int = 0           # stored records Procore no longer lists
    incremental: int = 0       # calls answered from the store plus what changed
    reused: int = 0            # per-parent calls answered from the store alone
    full: int = 0              # calls fetched in full with nothing stored to compare
    reasons: list[str] = field(default_factory=list)   # why stored lists were read in full after all
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def doubt(self, reason: str) -> None:
        with self._lock:
            if reason not in self.reasons:
                self.reasons.append(reason)

    @property
    def mode(self) -> str:
        return INCREMENTAL if self.incremental or self.reused else FULL

    def describe(self, requests: int) -> str:
        """``incremental: 3 changed, 1 deleted, 2 requests`` or ``full``, then why lists were
        read in full after all (``; read in full: ...``)."""
        line = FULL if self.mode == FULL else \
            f"{INCREMENTAL}: {self.changed} changed, {self.deleted} deleted, {requests} requests"
        return "; ".join([line, *(f"read in full: {r}" for r in self.reasons)])


class StoredClient(ClientOver):
    """The runner's client for one report run: GETs answered through the record store."""

    stores_records = True

    def __init__(self, client, store: RecordStore, scope: Scope, *, full: bool = False,
                 max_age: timedelta = DEFAULT_MAX_AGE, commit_later: bool = False):
        self.inner, self.store, self.scope = client, store, scope
        self.full, self.max_age = full, max_age
        self.commit_later = commit_later        # a list read page by page is committed by its thread
        self.committing: list[CallWriter] = []  # ... while the caller goes on: settle() waits for them
        self.tally = Tally()

    def settle(self) -> None:
        """Wait for the lists still being committed (``commit_later``); raise the first failure."""
        failed: BaseException | None = None
        while self.committing:
            try:
                self.committing.pop(0).wait()
            except BaseException as err:       # noqa: BLE001 - the others are waited for all the same
                failed = failed or err
        if failed is not None:
            raise failed

    # -- lists ------------------------------------------------------------------------------------
    def get_all(self, path: str, params: Mapping[str, Any] | None = None, *,
                company_id: int | str | None = None, version: str | None = None) -> list[dict]:
        params = dict(params or {})
        key = CallKey.of(self.scope, company_id, path, params)
        stored = self._usable(key, paged=True)
        if stored is not None and version is not None and stored.version == version:
            self.tally.add(reused=1)
            return stored.records
        if stored is not None and version is None and self._changes_pay_off(key, path, params):
            if self._merge_changes(key, path, params, company_id, stored):
                return [r for page in self.store.pages(key, PAGE_ROWS) for r in page]
            return self._read_whole(key, path, params, company_id, version)   # the merge tallied what went
        rows = self._read_whole(key, path, params, company_id, version, stored)
        # an incremental list read whole (short), or a changed parent's children
        self._count_against(stored if version is not None or asks_for_changes(path, params) else None, rows)
        return rows

    def _read_whole(self, key: CallKey, path: str, params: dict, company_id, version: str | None,
                    stored: StoredCall | None = None) -> list[dict]:
        """The list read from Procore and saved. Read without a parent's version (another report
        reads the same list whole) and equal to the copy stored under one, it keeps that version:
        these are still the children of that parent version, and the report that reads them per
        parent does not ask again (two reports no longer undo each other's version every refresh)."""
        rows, server_time = self.inner.get_all_dated(path, params, company_id=company_id)
        if version is None and stored is not None and stored.version is not None and stored.records == rows:
            version = stored.version
        self.store.save(key, rows, server_time=server_time or _now(), version=version, paged=True)
        return rows

    def pages(self, path: str, params: Mapping[str, Any] | None = None, *,
              company_id: int | str | None = None) -> Iterator[list]:
        """A list page by page (the runner's path for one plain list). With nothing usable stored
        (a first pull, ``--full``, a last full fetch too old) Procore's pages pass straight through
        as they arrive and are written by a thread of their own while the next ones come
        (:class:`~procore_xl.store_writer.CallWriter`), the call replaced in one transaction once the
        last one is in: memory holds a page or two, not the list. Otherwise the list is
        brought up to date as by :meth:`get_all` and handed out in pages."""
        params = dict(params or {})
        key = CallKey.of(self.scope, company_id, path, params)
        stored = self._usable(key, paged=True, records=False)
        if stored is not None:
            if not self._changes_pay_off(key, path, params):
                rows = self.get_all(path, params, company_id=company_id)    # short: read whole, compared
                for start in range(0, len(rows), PAGE_ROWS):
                    yield rows[start:start + PAGE_ROWS]
                return
            if self._merge_changes(key, path, params, company_id, stored):
                yield from self.store.pages(key, PAGE_ROWS)
                return
        first: dict = {}
        with CallWriter(self.store, key) as writer:     # each page staged by a thread while the next one comes
            for page in self.inner.pages(path, params, company_id=company_id, first_headers=first):
                writer.add(page)
                yield page
            if stored is None:
                self.tally.add(full=1)
            writer.commit(server_time=server_date(first.get("headers", {})) or _now(), wait=not self.commit_later)
            if self.commit_later:
                self.committing.append(writer)

    def _changes_pay_off(self, key: CallKey, path: str, params: Mapping[str, Any]) -> bool:
        """Whether to ask for changes rather than read the stored list again: documented, every
        stored record has an id to merge by, and a full read would take more than two pages."""
        if not asks_for_changes(path, params):
            return False
        count, unkeyed = self.store.shape(key)
        return not unkeyed and self._pages(path, count) > CHANGES_PAY_OFF_PAGES

    def _merge_changes(self, key: CallKey, path: str, params: dict, company_id, stored: StoredCall) -> bool:
        """Merge what changed since the last fetch into the stored records, inside the store (they
        are never loaded): True when merged; False when only a full read can tell (the reason is
        in the tally, with what the answers showed). Two requests when the count adds up (the
        changes, ``Total``); a recycle bin is asked only when it does not (a deletion shows there)."""
        cursor = stored.fetched_at
        window = f"{iso_time(cursor - OVERLAP)}...{iso_time(max(_now(), cursor) + FAR_AHEAD)}"
        source = deletion_source(path, params)
        query = {**(source.params if source and source.inline else params), UPDATED_AT: window}
        answer, server_time = self.inner.get_all_dated(path, query, company_id=company_id)
        server_time = server_time or _now()
        changes = [r for r in answer if not (source and source.inline and DeletionSource.deleted(r))]
        named = {record_id(r) for r in answer if source and source.inline and DeletionSource.deleted(r)}
        changed_ids = {record_id(r) for r in changes}
        gone = self.store.held_ids(key, named - {None} - changed_ids)
        different = [r for r in changes if record_id(r) is None] or self.store.changed_of(key, changes)
        reason = self._doubt(key, changes, different, cursor, server_time)
        if reason is None:
            total, first = self.inner.count_with_first(path, params, company_id=company_id)
            held = self.store.shape(key)[0]
            new = len(self.store.unknown_ids(key, changed_ids))
            if total is not None and total != held + new - len(gone) and source is not None and not source.inline:
                bin_query = {**source.params, UPDATED_AT: window}        # the count is short: which went
                named = {record_id(r) for r in self.inner.get_all(source.path, bin_query, company_id=company_id)}
                gone = self.store.held_ids(key, named - {None} - changed_ids)
            expected = held + new - len(gone)
            if total is None:
                reason = "Procore sent no Total to check the stored records against"
            elif first is not None and record_id(first) not in changed_ids and self.store.changed_of(key, [first]):
                reason = (f"record {record_id(first)} differs from its stored copy but is not among the changes "
                          f"(a field Procore started sending, or a change stamped before the last refresh)")
            elif total != expected:
                deletions = f" less the {len(gone)} deleted" if gone else ""
                checked = f" (deletions from {source.name})" if source else " (no documented source of deletions)"
                reason = (f"Procore counts {total} records, the {held} stored plus the new ones{deletions} "
                          f"make {expected}{checked}")
        if reason is not None:
            self.tally.add(incremental=1, changed=len(different), deleted=len(gone))
            self.tally.doubt(f"{path}: {reason}")
            return False
        changed = self.store.merge(key, changes, server_time=server_time, deleted=gone)
        self.tally.add(incremental=1, changed=changed, deleted=len(gone))
        return True

    def _doubt(self, key: CallKey, changes: list, different: list, cursor: datetime,
               server_time: datetime) -> str | None:
        """Why the changes cannot be merged (None: they can): records without ids, a new or changed
        record with a field the stored ones lack, or stamped before the cursor or after the server's clock."""
        if any(record_id(r) is None for r in changes):
            return "records without an id cannot be merged"
        new_fields = self.store.lacking(key, sorted({p for r in different for p in _field_paths(r)}))
        if new_fields:
            names = ", ".join(".".join(p) for p in new_fields[:5])
            return f"Procore sends field(s) the stored records lack: {names}"
        stamps = [parse_stamp(r.get("updated_at")) for r in different if isinstance(r, dict)]
        early = [s for s in stamps if s is not None and s < cursor - STAMP_SLACK]
        if early:       # the cursor is the earlier of the last Date and the newest stamp held (read only now)
            newest = self.store.newest_stamp(key)
            trusted = min(cursor, newest) if newest else cursor
            early = [s for s in early if s < trusted - STAMP_SLACK]
        if early:
            return (f"{len(early)} record(s) changed with a time stamp ({iso_time(min(early))}) before the last "
                    f"refresh ({iso_time(trusted)})")
        late = [s for s in stamps if s is not None and s > server_time + STAMP_SLACK]
        if late:
            return (f"{len(late)} record(s) stamped in the future ({iso_time(max(late))}, Procore's clock says "
                    f"{iso_time(server_time)})")
        return None

    # -- single bodies ----------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None, *,
            company_id: int | str | None = None, version: str | None = None, headers: dict | None = None) -> Any:
        params = dict(params or {})
        key = CallKey.of(self.scope, company_id, path, params)
        stored = self._usable(key, paged=False)
        if stored is not None and version is not None and stored.version == version:
            self.tally.add(reused=1)
            return stored.records[0]
        body, server_time = self.inner.get_dated(path, params, company_id=company_id, headers=headers)
        if stored is not None and version is not None:        # a changed parent's body
            self.tally.add(incremental=1, changed=int(stored.records[0] != body))
        else:
            self.tally.add(full=1)
        if str(params.get("page", 1)) == "1":      # pages of one call share its key: the first one is kept
            self.store.save(key, [body], server_time=server_time or _now(), version=version, paged=False)
        return body

    # -- rules ------------------------------------------------------------------------------------
    def _pages(self, path: str, records: int) -> int:
        """Pages a full read of ``records`` records takes (v2.x lists page at most 100)."""
        per_page = page_size_for(path, int(self.inner.per_page or 1000))
        return -(-records // per_page)

    def _usable(self, key: CallKey, *, paged: bool, records: bool = True) -> StoredCall | None:
        """The stored call, unless a full fetch is due (asked for, nothing stored, too old);
        ``records=False``: without its records (only whether it is usable)."""
        if self.full:
            return None
        stored = self.store.load(key, records=records)
        if stored is None or stored.paged != paged or _now() - stored.full_at > self.max_age:
            return None
        return stored

    def _count_against(self, stored: StoredCall | None, rows: list) -> None:
        """A list read whole: what changed and went compared with the stored copy (None: a full
        read, nothing to compare)."""
        if stored is None:
            self.tally.add(full=1)
            return
        before = {record_id(r): r for r in stored.records}
        after = {record_id(r) for r in rows}
        changed = sum(1 for r in rows if record_id(r) not in before or before[record_id(r)] != r)
        self.tally.add(incremental=1, changed=changed, deleted=len(set(before) - after))


def _field_paths(record: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every field path of a record, into nested objects (not into lists)."""
    if isinstance(record, dict):
        for name, value in record.items():
            path = (*prefix, str(name))
            yield path
            if isinstance(value, dict) and len(path) < 8:
                yield from _field_paths(value, path)


def _now() -> datetime:
    return datetime.now(timezone.utc)
