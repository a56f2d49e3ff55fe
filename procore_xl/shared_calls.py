"""One request for a call several reports of one workbook refresh make.

Many reports read the same list: the contracts behind every change-order report, a project's
RFIs behind both RFI roll-ups, the vendors, meetings, drawing areas and photo albums behind two
reports each. Within one refresh of a workbook (:meth:`ProcoreService.sharing`), :class:`SharedCalls`
answers such a call from the answer an earlier report of the same refresh got, so Procore is
asked once. Only for the length of that refresh (the answers are one moment's data, as if every
report had run at that moment), and only for answers of at most :data:`MAX_RECORDS` records (a
report's own list read page by page is kept only while it stays that short: a long one is never
held). A refusal (404 or 403: a project this sign-in may not read) is an answer too, shared the same
way, and remembered for a day beside the kept lists (:data:`REFUSAL_AGE`; ``kept``): the next
refreshes do not ask again for what this sign-in may not read (the sheet still names it, with when
Procore refused it); a full refresh asks again, and forgets the refusal when Procore answers.

A call made with a parent's ``version`` (the record store may answer it from its copy while the
parent is unchanged) is answered by the same call an earlier report made without one (Procore's list
as it is now); the other way round it is not (a copy justified by a parent's version is not what a
report reading the list whole would get), except in a full refresh, where every answer is Procore's.
"""
from __future__ import annotations

import json
import threading
from typing import Any, Iterator, Mapping

from .api_client import ApiClient, ClientOver
from .errors import NotFoundError, PermissionDeniedError
from .kept_lists import MAX_AGE, KeptLists
from .store import Scope

MAX_RECORDS = 5_000
PAGE_ROWS = 1_000          # records per page handed out from a shared list
REFUSAL_AGE = MAX_AGE      # seconds a refusal is remembered across refreshes (a kept list's day)
_REFUSED = "refused"       # the kept lists' key of a remembered refusal: (_REFUSED, call)


class Answers:
    """The answers of one refresh, shared by its reports (thread-safe)."""

    def __init__(self, kept: KeptLists | None = None, scope: Scope | None = None) -> None:
        self._answers: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._kept, self._scope = (kept, scope) if kept is not None and scope is not None else (None, None)
        self.shared = 0              # calls answered without a request

    def get(self, key: str, *, remembered: bool = True) -> tuple[bool, Any]:
        """The answer to ``key`` in this refresh, or a refusal remembered from an earlier one
        (unless ``remembered`` is False: a full refresh); a refusal is raised again."""
        with self._lock:
            value = self._answers.get(key, _NONE)
        if value is _NONE and remembered:
            value = self._remembered(key)
        if value is _NONE:
            return False, None
        with self._lock:
            self._answers.setdefault(key, value)
            self.shared += 1
        if isinstance(value, _Refused):
            raise type(value.error)(value.error.message, request_id=value.error.request_id,
                                    status=value.error.status)
        return True, value

    def refused(self, key: str, error: NotFoundError | PermissionDeniedError) -> None:
        with self._lock:
            self._answers[key] = _Refused(error)
        if self._kept is not None:
            self._kept.save(self._scope, (_REFUSED, key), {
                "denied": isinstance(error, PermissionDeniedError), "message": error.message,
                "status": error.status, "request_id": error.request_id})

    def answered(self, key: str) -> None:
        """Procore answered ``key`` (in a full refresh): a refusal remembered for it is forgotten."""
        if self._kept is not None and self._remembered(key) is not _NONE:
            self._kept.save(self._scope, (_REFUSED, key), None)

    def _remembered(self, key: str) -> Any:
        """A refusal of ``key`` kept from an earlier refresh of the last day (``_NONE``: none)."""
        if self._kept is None:
            return _NONE
        kept = self._kept.load(self._scope, (_REFUSED, key))
        if kept is None or not isinstance(kept.value, dict) or kept.age >= REFUSAL_AGE:
            return _NONE
        refusal = kept.value
        kind = PermissionDeniedError if refusal.get("denied") else NotFoundError
        minutes = int(kept.age // 60)
        when = "less than a minute ago" if minutes < 1 else f"{minutes} min ago"
        return _Refused(kind(f"{refusal.get('message')} (Procore refused it {when}; not asked again for a day: "
                             f"a Full refresh asks now)", request_id=refusal.get("request_id"),
                             status=refusal.get("status")))

    def put(self, key: str, value: Any) -> None:
        size = len(value) if isinstance(value, list) else 1
        if size <= MAX_RECORDS:
            with self._lock:
                self._answers[key] = value


_NONE = object()             # no answer for a key


class _Refused:
    """A call Procore refused (404, 403) in this refresh."""

    def __init__(self, error: NotFoundError | PermissionDeniedError):
        self.error = error


class SharedCalls(ClientOver):
    """A report run's client (an :class:`~procore_xl.incremental.StoredClient`) whose
    ``get_all``/``get``/``pages`` answers are shared through ``answers``."""

    def __init__(self, client: ApiClient, answers: Answers, *, full: bool = False):
        self.inner, self._answers, self.full = client, answers, full     # full: every answer Procore's
        self.stores_records, self.tally = client.stores_records, client.tally

    def get_all(self, path: str, params: Mapping[str, Any] | None = None, *, company_id=None, **kw) -> list:
        return self._shared("list", self.inner.get_all, path, params, company_id, kw)

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, company_id=None, **kw) -> Any:
        if kw.get("headers") is not None:       # a page read for its paging headers: asked, not shared
            return self.inner.get(path, params, company_id=company_id, **kw)
        return self._shared("body", self.inner.get, path, params, company_id, kw)

    def _shared(self, kind: str, fetch, path: str, params, company_id, kw: dict) -> Any:
        """The answer an earlier report of this refresh got for the same call, else ``fetch``'s."""
        key = _key(kind, path, params, company_id, kw)
        found, value = self._reused(key, path, params, company_id, kw, kind)
        if found:
            return value
        try:
            value = fetch(path, params, company_id=company_id, **kw)
        except (NotFoundError, PermissionDeniedError) as refused:
            self._answers.refused(key, refused)
            raise
        self._answers.put(key, value)
        if self.full:
            self._answers.answered(key)
        if kw.get("version") is not None and self.full:
            # a full refresh read it from Procore, whatever the version: the same call without one too
            self._answers.put(_key(kind, path, params, company_id, {k: v for k, v in kw.items() if k != "version"}),
                              value)
        return value

    def pages(self, path: str, params: Mapping[str, Any] | None = None, *, company_id=None,
              **kw) -> Iterator[list]:
        """A list page by page (a report's own list): shared with ``get_all`` of the same call,
        kept for the reports after it only while it holds at most :data:`MAX_RECORDS` records."""
        key = _key("list", path, params, company_id, kw)
        found, value = self._reused(key, path, params, company_id, kw, "list")
        if found:
            for start in range(0, len(value), PAGE_ROWS):
                yield value[start:start + PAGE_ROWS]
            return
        kept: list | None = []
        try:
            for page in self.inner.pages(path, params, company_id=company_id, **kw):
                if kept is not None:
                    kept.extend(page)
                    if len(kept) > MAX_RECORDS:
                        kept = None
                yield page
        except (NotFoundError, PermissionDeniedError) as refused:
            if not kept:                    # refused before any page: nothing was handed out
                self._answers.refused(key, refused)
            raise
        if kept is not None:
            self._answers.put(key, kept)
        if self.full:
            self._answers.answered(key)

    def _reused(self, key: str, path: str, params, company_id, kw: Mapping[str, Any],
                kind: str) -> tuple[bool, Any]:
        """The answer to ``key`` from an earlier report of this refresh; for a call made with a
        parent's ``version``, also the same call made without one (read from Procore)."""
        found, value = self._answers.get(key, remembered=not self.full)
        if not found and kw.get("version") is not None:
            found, value = self._answers.get(_key(kind, path, params, company_id,
                                                  {k: v for k, v in kw.items() if k != "version"}),
                                             remembered=not self.full)
        if found:
            if self.tally is not None:
                self.tally.add(reused=1)
        return found, value


def _key(kind: str, path: str, params: Mapping[str, Any] | None, company_id: Any, kw: Mapping[str, Any]) -> str:
    """One call: a list (``get_all`` or ``pages``, the same records) or a body, and what it asks."""
    return json.dumps([kind, path, sorted((str(k), str(v)) for k, v in (params or {}).items()),
                       None if company_id is None else str(company_id),
                       sorted((k, str(v)) for k, v in kw.items() if v is not None)])   # version=None: none
