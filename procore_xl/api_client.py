"""ApiClient: what the reports read Procore through.

Three clients implement it: :class:`~procore_xl.client.ProcoreClient` (the transport: straight
from Procore), :class:`~procore_xl.incremental.StoredClient` (through the record store: only what
changed is asked for) and :class:`~procore_xl.shared_calls.SharedCalls` (a workbook refresh's
calls made once). :mod:`procore_xl.fetch` is the one module of the reports that calls their GETs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Mapping, Protocol

if TYPE_CHECKING:
    from .client import ClientStats
    from .ratelimit import RateBudget


class ApiClient(Protocol):
    """GETs on one Procore API host, and what a run reads about them afterwards."""

    per_page: int                  # records asked for per page (v2.x lists take at most 100)
    budget: RateBudget             # Procore's rate-limit budget: budget.left() for the summary line
    stats: ClientStats             # the requests made (stats.requests)
    tally: Any                     # incremental.Tally: what came from the record store; None: nothing did
    stores_records: bool           # True: get/get_all take version= (the parent's updated_at)

    def get(self, path: str, params: Mapping[str, Any] | None = None, *,
            company_id: int | str | None = None, **kw: Any) -> Any:
        """One body."""

    def get_all(self, path: str, params: Mapping[str, Any] | None = None, *,
                company_id: int | str | None = None, **kw: Any) -> list:
        """Every record of a list, in Procore's order."""

    def pages(self, path: str, params: Mapping[str, Any] | None = None, *,
              company_id: int | str | None = None) -> Iterator[list]:
        """A list page by page, in Procore's order."""
