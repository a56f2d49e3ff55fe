"""ApiClient: what the reports read Procore through, and ClientStats, the requests counted.

The clients implementing it: :class:`~procore_xl.client.ProcoreClient` (the transport: straight
from Procore), :class:`~procore_xl.incremental.StoredClient` (through the record store: only what
changed is asked for), :class:`~procore_xl.shared_calls.SharedCalls` (a workbook refresh's calls
made once) and the plan's (:mod:`procore_xl.plan`: nothing sent, requests counted).
:mod:`procore_xl.fetch` is the one module of the reports that calls their GETs.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Protocol

if TYPE_CHECKING:
    from .ratelimit import RateBudget


class AccessTokens(Protocol):
    """What a client needs of the sign-in (:class:`~procore_xl.auth.TokenManager` is the one):
    a current access token, a refresh after a 401, and how many token requests were made."""

    @property
    def token_requests(self) -> int: ...

    def access_token(self) -> str: ...

    def refresh(self, failed_token: str) -> str: ...


class ClientStats:
    """Thread-safe counters of one client. ``requests`` counts every HTTP request made,
    retries and token-endpoint requests (refreshes, client credentials) included."""

    def __init__(self, tokens: AccessTokens | None = None):
        self._lock = threading.Lock()
        self._tokens = tokens
        self._token_requests_at_start = tokens.token_requests if tokens else 0
        self.api_requests = 0
        self.retries = 0
        self.pages = 0
        self.refreshes = 0

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    @property
    def token_requests(self) -> int:
        return (self._tokens.token_requests - self._token_requests_at_start) if self._tokens else 0

    @property
    def requests(self) -> int:
        return self.api_requests + self.token_requests

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"requests": self.api_requests + self.token_requests, "api_requests": self.api_requests,
                    "token_requests": self.token_requests, "retries": self.retries, "pages": self.pages,
                    "refreshes": self.refreshes}


class ApiClient(Protocol):
    """GETs on one Procore API host, and what a run reads about them afterwards."""

    per_page: int                  # records asked for per page (v2.x lists take at most 100)
    budget: RateBudget             # Procore's rate-limit budget: budget.left() for the summary line
    stats: ClientStats             # the requests made (stats.requests)
    tally: Any                     # incremental.Tally: what came from the record store; None: nothing did
    stores_records: bool           # True: get/get_all take version= (the parent's updated_at)

    def get(self, path: str, params: Mapping[str, Any] | None = None, *,
            company_id: int | str | None = None, **kw: Any) -> Any:
        """One body; ``headers=`` (a dict) gets the answer's headers under ``"headers"`` when one
        was asked for."""

    def get_all(self, path: str, params: Mapping[str, Any] | None = None, *,
                company_id: int | str | None = None, **kw: Any) -> list:
        """Every record of a list, in Procore's order."""

    def pages(self, path: str, params: Mapping[str, Any] | None = None, *,
              company_id: int | str | None = None) -> Iterator[list]:
        """A list page by page, in Procore's order."""


class ClientOver(ApiClient):
    """A client that answers through another one (``inner``): its page size, rate budget and
    request counts are that client's (:class:`~procore_xl.incremental.StoredClient`,
    :class:`~procore_xl.shared_calls.SharedCalls`)."""

    inner: ApiClient

    @property
    def per_page(self) -> int:
        return self.inner.per_page

    @property
    def budget(self) -> RateBudget:
        return self.inner.budget

    @property
    def stats(self) -> ClientStats:
        return self.inner.stats
