"""One request for a call several reports of one workbook refresh make.

Many reports read the same list: the contracts behind every change-order report, a project's
RFIs behind both RFI roll-ups, the vendors, meetings, drawing areas and photo albums behind two
reports each. Within one refresh of a workbook (:meth:`ProcoreService.sharing`), :class:`SharedCalls`
answers such a call from the answer an earlier report of the same refresh got, so Procore is
asked once. Only for the length of that refresh (the answers are one moment's data, as if every
report had run at that moment), and only for answers of at most :data:`MAX_RECORDS` records (a
report's own long list is read page by page and never held).
"""
from __future__ import annotations

import json
import threading
from typing import Any, Iterator, Mapping

MAX_RECORDS = 5_000


class Answers:
    """The answers of one refresh, shared by its reports (thread-safe)."""

    def __init__(self) -> None:
        self._answers: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.shared = 0              # calls answered without a request

    def get(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            if key in self._answers:
                self.shared += 1
                return True, self._answers[key]
            return False, None

    def put(self, key: str, value: Any) -> None:
        size = len(value) if isinstance(value, list) else 1
        if size <= MAX_RECORDS:
            with self._lock:
                self._answers[key] = value


class SharedCalls:
    """A report run's client (an :class:`~procore_xl.incremental.StoredClient`) whose
    ``get_all``/``get`` answers are shared through ``answers``; everything else passes through."""

    def __init__(self, client, answers: Answers):
        self._client, self._answers = client, answers

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_all(self, path: str, params: Mapping[str, Any] | None = None, *, company_id=None, **kw) -> list:
        return self._shared("get_all", path, params, company_id, kw)

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, company_id=None, **kw) -> Any:
        return self._shared("get", path, params, company_id, kw)

    def pages(self, path: str, params: Mapping[str, Any] | None = None, *, company_id=None,
              **kw) -> Iterator[list]:
        return self._client.pages(path, params, company_id=company_id, **kw)

    def _shared(self, method: str, path: str, params, company_id, kw: dict) -> Any:
        key = json.dumps([method, path, sorted((str(k), str(v)) for k, v in (params or {}).items()),
                          None if company_id is None else str(company_id), sorted((k, str(v)) for k, v in kw.items())])
        found, value = self._answers.get(key)
        if found:
            tally = getattr(self._client, "tally", None)
            if tally is not None:
                tally.add(reused=1)
            return value
        value = getattr(self._client, method)(path, params, company_id=company_id, **kw)
        self._answers.put(key, value)
        return value
