"""The one service behind every surface.

The command line, the xlwings UDFs, the ribbon macros and the demo all call
:class:`ProcoreService`: it owns the settings, the token store, the API client and the
per-run discovery cache, and it runs reports from the catalog.
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any

from . import auth, fetch
from .catalog import REPORTS, Report
from .client import MAX_WORKERS, ProcoreClient
from .discovery import Choice, Discovery
from .environments import Settings, load_settings
from .errors import ConfigurationError
from .incremental import DEFAULT_MAX_AGE, StoredClient
from .kept_lists import LISTS_FILE_NAME, KeptLists
from .runner import ReportResult, check_report, drop_records, run_report
from .shared_calls import Answers, SharedCalls
from .store import RecordStore, Scope, StoreDamaged, StoreInfo, StoreUnusable
from .tokens import TokenStore, default_token_store, stored_client_secret


FULL_REFRESH_DAYS_VARIABLE = "PROCORE_XL_FULL_REFRESH_DAYS"
UNUSED_RECORDS_KEPT = timedelta(days=30)   # stored calls not saved for this long are forgotten
log = logging.getLogger("procore_xl")
STORE_TRIES = 3      # runs started again on a new record store when the one in use turns out damaged
_full_refresh = contextvars.ContextVar("procore_xl_full_refresh", default=False)
_shared_answers: contextvars.ContextVar[Answers | None] = contextvars.ContextVar("procore_xl_shared_answers",
                                                                                default=None)


def full_refresh_age(environ: Mapping[str, str] = os.environ) -> timedelta:
    """After how long a stored list is fetched in full again (PROCORE_XL_FULL_REFRESH_DAYS, default 7)."""
    text = environ.get(FULL_REFRESH_DAYS_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_AGE
    try:
        days = float(text)
    except ValueError:
        days = -1
    if days < 0:
        raise ConfigurationError(f"{FULL_REFRESH_DAYS_VARIABLE}={text!r}: give a number of days (0 or more)")
    return timedelta(days=days)


class _Sink:
    """A run's ``on_records`` sink that knows whether it was given anything (a run started again
    after its record store was set aside must not hand the same records out twice)."""

    def __init__(self, sink: Callable[[list[dict]], None]):
        self.sink, self.used = sink, False

    def __call__(self, batch: list[dict]) -> None:
        self.used = self.used or bool(batch)
        self.sink(batch)


class ProcoreService:
    """Signs in, discovers, runs reports. Safe to share between threads.

    Every report run goes through the local record store (:mod:`procore_xl.store`,
    :mod:`procore_xl.incremental`): only what changed since the last run is asked for, unless a
    full refresh is asked (``run(..., full=True)`` or within :meth:`full_refresh`)."""

    def __init__(self, settings: Settings | None = None, token_store: TokenStore | None = None,
                 *, per_page: int = 1000, max_workers: int = MAX_WORKERS, record_store: RecordStore | None = None,
                 lists: KeptLists | None = None, full_refresh_after: timedelta | None = None):
        settings = settings or load_settings()
        if settings.client_secret is None:           # flags and PROCORE_CLIENT_SECRET come first
            # the app secret `procore-xl setup` keeps in the keyring: a person's, so never used to
            # sign in as the app's service account
            settings = dataclasses.replace(settings, client_secret=stored_client_secret(settings),
                                           service_account=False)
        self.settings = settings
        self._token_store = token_store
        self._record_store = record_store
        self.full_refresh_after = full_refresh_after if full_refresh_after is not None else full_refresh_age()
        self.per_page = per_page
        self._max_workers = max_workers
        self._lock = threading.RLock()
        self._client: ProcoreClient | None = None
        self._discovery: Discovery | None = None
        self._lists = lists
        self._fresh_lists = False        # the next Discovery fetches its lists (Update dropdowns)
        self._committing: list[StoredClient] = []    # runs whose record store commit is still going on

    # -- plumbing ------------------------------------------------------------------------
    @property
    def token_store(self) -> TokenStore:
        """Where the sign-in's tokens are kept (the OS keyring, ...)."""
        with self._lock:
            if self._token_store is None:
                self._token_store = default_token_store(self.settings)
            return self._token_store

    @property
    def record_store(self) -> RecordStore:
        """The local record store (one per user, shared with other processes)."""
        with self._lock:
            if self._record_store is None:
                self._record_store = RecordStore()
                self._record_store.prune(not_saved_for=UNUSED_RECORDS_KEPT)
            return self._record_store

    @property
    def client(self) -> ProcoreClient:
        with self._lock:
            if self._client is None:
                tokens = auth.TokenManager(self.settings, self.token_store)
                self._client = ProcoreClient(self.settings.api_url, tokens, per_page=self.per_page,
                                             max_workers=self._max_workers)
            return self._client

    @property
    def lists(self) -> KeptLists:
        """Discovery lists and labels kept between runs (``lists.sqlite3`` beside the record store)."""
        with self._lock:
            if self._lists is None:
                self._lists = KeptLists(self.record_store.path.with_name(LISTS_FILE_NAME))
            return self._lists

    @property
    def discovery(self) -> Discovery:
        with self._lock:
            if self._discovery is None:
                self._discovery = Discovery(self.client, kept=self.lists, scope=Scope.of(self.settings),
                                            use_kept=not self._fresh_lists)
                self._fresh_lists = False
            return self._discovery

    def invalidate(self, *, lists: bool = False) -> None:
        """Forget this service's discovery lists (Refresh); ``lists``: the lists kept by earlier
        runs too, so that the next ones are fetched (Update dropdowns)."""
        with self._lock:
            self._discovery = None
            self._fresh_lists = self._fresh_lists or lists

    def settle(self) -> list[str]:
        """Wait for the record store commits of runs made with ``commit_later``; returns a warning
        for each that failed (the run's output stands: the store only missed a copy, so the
        next run of that report reads in full)."""
        with self._lock:
            committing, self._committing = self._committing, []
        warnings = []
        for stored in committing:
            try:
                stored.settle()
            except (StoreDamaged, StoreUnusable, sqlite3.Error, OSError) as err:
                warnings.append(f"the record store did not keep this run's records ({err}): the next run "
                                f"reads them in full")
        return warnings

    def close(self) -> None:
        for warning in self.settle():
            log.warning("%s", warning)
        with self._lock:
            if self._client is not None:
                self._client.close()
            if self._lists is not None:
                self._lists.close()
            self._client = None
            self._discovery = None

    def __enter__(self) -> ProcoreService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sign-in -------------------------------------------------------------------------
    def login(self, *, oob: bool = False, open_browser: Callable[[str], Any] | None = None,
              read_code: Callable[[], str] | None = None) -> dict:
        """Browser sign-in (or out-of-band code paste); returns who signed in."""
        auth.login(self.settings, self.token_store, oob=oob, open_browser=open_browser, read_code=read_code)
        self.close()
        return self.whoami()

    def logout(self) -> str | None:
        """Revoke and forget the sign-in: what was done (``auth.logout``), None when there was none."""
        done = auth.logout(self.settings, self.token_store)
        self.clear_records()
        self.close()
        return done

    def whoami(self, company_id: int | None = None) -> dict:
        """The signed-in user; a service account (DMSA) must name a company (``company_id``)."""
        return fetch.me(self.client, company_id)

    def companies(self, company_id: int | None = None) -> list[dict]:
        """The companies this sign-in reads; a service account must name one of them (``company_id``)."""
        return fetch.companies(self.client, company_id)

    # -- catalog and lists ---------------------------------------------------------------
    def reports(self) -> list[Report]:
        return list(REPORTS.values())

    def choices(self, list_name: str, *, fresh: bool = False, **context: Any) -> list[Choice]:
        """A discovery list (kept by an earlier run while young enough); ``fresh``: as Procore has it now."""
        return self.discovery.choices(list_name, fresh=fresh, **context)

    def run(self, report: str | Report, params: Mapping[str, Any], *, full: bool = False,
            on_records: Callable[[list[dict]], None] | None = None, commit_later: bool = False) -> ReportResult:
        """Run a report through the record store; ``full``: fetch everything again; ``on_records``
        takes the raw records batch by batch (see ``run_report``). Without it they are let go
        as they are flattened (a sheet, a formula or a CSV needs the table alone; the raw
        records of 20,000 RFIs would hold about 140 MB until the run ends). ``commit_later``: a
        list read in full is committed to the record store by its thread while the caller writes
        the result out; :meth:`settle` waits for it (and :meth:`close` does)."""
        report = check_report(report, params)     # a mistyped name or value before any sign-in or request
        store = self.record_store
        sink = _Sink(on_records or drop_records)
        full = full or _full_refresh.get()
        discovery = self.discovery
        if full:                        # names and labels as Procore has them now, too
            discovery.forget_kept()
        for _ in range(STORE_TRIES):
            store.begin()
            client = stored = StoredClient(self.client, store, Scope.of(self.settings), full=full,
                                           max_age=self.full_refresh_after, commit_later=commit_later)
            answers = _shared_answers.get()
            if answers is not None:     # other reports of this refresh may have made the same calls
                client = SharedCalls(client, answers, full=full)
            try:
                result = run_report(client, report, params, discovery=discovery, on_records=sink)
            except StoreDamaged as damaged:   # set aside (by us or another process): start again on the new one
                if sink.used and on_records is not None:
                    notices = " ".join(store.take_notices()) or str(damaged)
                    raise StoreUnusable(f"{notices[0].upper()}{notices[1:]}; this run had already written "
                                        f"records out: run it again") from None
                continue
            result.warnings[:0] = store.take_notices()
            result.rate_limit = self.client.budget.left() or ""
            if stored.committing:
                with self._lock:
                    self._committing.append(stored)
            return result
        raise StoreUnusable(f"The record store {store.path} was found damaged {STORE_TRIES} times during one "
                            f"run: close the programs using it and delete it (it holds only copies of Procore "
                            f"data)")

    @contextlib.contextmanager
    def full_refresh(self) -> Iterator[None]:
        """Runs made by this thread inside the block fetch everything again (Full refresh,
        ``procore-xl refresh --full``)."""
        token = _full_refresh.set(True)
        try:
            yield
        finally:
            _full_refresh.reset(token)

    @contextlib.contextmanager
    def sharing(self) -> Iterator[Answers]:
        """Runs of this thread inside the block (the reports of one workbook refresh) make a
        call other runs of the block made only once (:mod:`procore_xl.shared_calls`); a call Procore
        refused is not asked again for a day (kept beside the lists)."""
        answers = Answers(self.lists, Scope.of(self.settings))
        token = _shared_answers.set(answers)
        try:
            yield answers
        finally:
            _shared_answers.reset(token)

    # -- the record store ----------------------------------------------------------------
    def records_info(self) -> StoreInfo:
        return self.record_store.info()

    def clear_records(self, *, every_environment: bool = False) -> int:
        """Forget stored records of this environment (or of all); returns the calls removed."""
        if every_environment:
            self.lists.clear()
            return self.record_store.clear()
        self.lists.clear(env=self.settings.env, api_url=self.settings.api_url)
        return self.record_store.clear(env=self.settings.env, api_url=self.settings.api_url)
