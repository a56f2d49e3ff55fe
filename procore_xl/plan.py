"""How many requests a full refresh will make, without making them (``procore-xl refresh BOOK --plan``).

Procore caps requests per hour, so before a full refresh of a large workbook a person may want
to know what it will spend. :class:`Plan` runs each report as a full refresh would, with a
client that sends nothing: every call is answered from what the record store holds for it (the
answer of its last fetch) and counted as the requests a full fetch of it takes now (its pages:
records / per_page, at least one); parent lists answer with their stored records, so the calls
made per parent (an RFI's replies, a contract's change orders) are counted per stored parent. A
call never made before counts as one request, and what it would lead to is unknown: the plan
then says "at least". Discovery lists (companies, projects...) count once per refresh, as a full
refresh fetches each once; a call several reports make counts once (reports of one refresh share it).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from .api_client import ApiClient
from .client import page_size_for
from .discovery import Discovery
from .errors import ParameterError
from .ratelimit import RateBudget
from .runner import run_report
from .store import CallKey, RecordStore, Scope

PAGE_ROWS = 1000


@dataclass
class ReportPlan:
    report: str
    requests: int                 # this report's share (calls made before by other reports: not again)
    unknown: int = 0              # calls never made before, counted as one request each
    error: str = ""               # why the report could not be planned (its parameters...)
    sheet: str = ""               # the workbook sheet it fills, if any


@dataclass
class Plan:
    """The requests of a full refresh of several reports, planned from the record store and the kept lists."""
    store: RecordStore
    kept: Any                     # kept_lists.KeptLists
    scope: Scope
    per_page: int = 1000
    reports: list[ReportPlan] = field(default_factory=list)
    _seen: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.reports)

    @property
    def unknown(self) -> int:
        return sum(r.unknown for r in self.reports)

    def add(self, report: str, params: Mapping[str, Any]) -> ReportPlan:
        """Plan one report run (a sheet of the workbook)."""
        client = _PlannedClient(self)
        lists = _PlannedLists(client, self)
        try:
            run_report(client, report, params, discovery=lists, on_records=lambda batch: None)
            planned = ReportPlan(report, client.requests, client.unknown)
        except Exception as exc:     # noqa: BLE001 - a plan never fails: it says what it could not count
            note = str(exc) or type(exc).__name__
            if isinstance(exc, ParameterError) and lists.never_fetched:    # a name looked for in no list
                note = (f"the {' and '.join(dict.fromkeys(lists.never_fetched))} list was never fetched on this "
                        f"computer, so the names in its cells cannot be looked up without a request")
            planned = ReportPlan(report, client.requests, client.unknown + 1, note)
        self.reports.append(planned)
        return planned

    def first_time(self, key: Any) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True


class _Stats:
    def __init__(self, client: _PlannedClient):
        self._client = client

    @property
    def requests(self) -> int:
        return self._client.requests

    def snapshot(self) -> dict[str, int]:
        return {"requests": self._client.requests}


class _PlannedClient(ApiClient):
    """The runner's client in a plan: nothing is sent (see the module doc)."""

    stores_records = True          # parent lists come through this client, as through the record store
    tally = None

    def __init__(self, plan: Plan):
        self.plan = plan
        self.per_page = plan.per_page
        self.budget = RateBudget()     # nothing sent: nothing left to say
        self.requests = 0
        self.unknown = 0
        self.stats = _Stats(self)
        self._lock = threading.Lock()

    def _count(self, key: CallKey, pages: int, *, unknown: bool = False, page: Any = None) -> None:
        if self.plan.first_time(("call", key.digest) + ((str(page),) if page not in (None, 1, "1") else ())):
            with self._lock:
                self.requests += pages
                self.unknown += int(unknown)

    def _pages(self, path: str, records: int) -> int:
        return max(1, -(-records // page_size_for(path, self.plan.per_page)))

    def get_all(self, path: str, params: Mapping[str, Any] | None = None, *, company_id=None,
                version: str | None = None) -> list:
        key = CallKey.of(self.plan.scope, company_id, path, params)
        stored = self.plan.store.load(key)
        if stored is None:
            self._count(key, 1, unknown=True)
            return []
        self._count(key, self._pages(path, len(stored.records)) if stored.paged else 1)
        return stored.records

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, company_id=None,
            version: str | None = None, headers: dict | None = None) -> Any:
        key = CallKey.of(self.plan.scope, company_id, path, params)
        stored = self.plan.store.load(key)
        # a body read page by page (Project Dates): the store keeps its first page; each page asked
        # counts, and the plan takes Procore to answer the per_page asked (as its Per-Page says)
        self._count(key, 1, unknown=stored is None, page=(params or {}).get("page"))
        if headers is not None and (params or {}).get("per_page"):
            headers["headers"] = {"Per-Page": str(params["per_page"])}
        return stored.records[0] if stored is not None and stored.records else None

    def pages(self, path: str, params: Mapping[str, Any] | None = None, *, company_id=None) -> Iterator[list]:
        """The report's own long list: counted from the stored count, its records not read."""
        key = CallKey.of(self.plan.scope, company_id, path, params)
        count, _ = self.plan.store.shape(key)
        stored = count or self.plan.store.load(key, records=False) is not None
        self._count(key, self._pages(path, count), unknown=not stored)
        return iter(())


class _ReadOnly:
    """The kept lists as a plan sees them: read, never written. A plan sends nothing, so a list
    it has not got stands in as empty - kept, that empty list would be taken for Procore's by
    the runs of the next day (a service account's company "not found", every project unknown)."""

    def __init__(self, kept: Any):
        self._kept = kept

    def load(self, *args: Any, **kwargs: Any) -> Any:
        return self._kept.load(*args, **kwargs)

    def save(self, *args: Any, **kwargs: Any) -> None:
        return None


class _PlannedLists(Discovery):
    """Discovery lists in a plan: from the lists kept by earlier runs, each counted once per
    refresh as the requests fetching it again takes (one per endpoint and page)."""

    def __init__(self, client: _PlannedClient, plan: Plan):
        super().__init__(client, kept=_ReadOnly(plan.kept) if plan.kept is not None else None, scope=plan.scope,
                         use_kept=False)
        self.plan = plan
        self.never_fetched: list[str] = []       # lists not kept: empty stand-ins, names not found in them

    def _fetch(self, list_name: str, source, ctx: dict) -> list[dict]:
        key = self.key(list_name, **ctx)
        found = self.kept.load(self.scope, key) if self.kept is not None else None
        records = list(found.value) if found is not None else []
        if found is None:
            self.never_fetched.append(list_name)
        if self.plan.first_time(("list", key)):
            with self.client._lock:
                self.client.requests += max(len(source.endpoints),
                                            -(-len(records) // page_size_for("", self.plan.per_page)))
                self.client.unknown += int(found is None)
        return records

    def cached(self, key: tuple, fetch, *, max_age: float | None = None, keep: bool = False, fresh: bool = False):
        return fetch()              # custom field labels: counted as the call they make
