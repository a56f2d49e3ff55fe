"""The one place an :class:`~procore_xl.catalog.Endpoint` becomes requests.

Given an endpoint of the catalog and a context (``company_id``, ``project_id``, the placeholders
of parent records, extra query parameters), :class:`Fetch` renders the path and the query,
decides the ``Procore-Company-Id`` header (every call except /me and /companies, unless a
service account names its company), reads it as its :class:`~procore_xl.catalog.Paging` says
(a paged list, pages of one object each, one body, one body shared by the reports of a run) and
extracts the records (``record_path``, ``carry``). The runner, the discovery lists and the
service call Procore through it; only the transport (:mod:`procore_xl.client`) and the record
store (:mod:`procore_xl.incremental`) call the clients' GETs themselves.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from .answers import int_header
from .api_client import ApiClient
from .catalog import COMPANIES, ME, Endpoint, Paging

PARENT_VERSION = "_parent_version"   # context key: updated_at of the parent record(s) of a call
PAGE_SIZE = 1000        # per_page of envelope pages when the client names none (Procore's v1 maximum)
SHARED_MAX_AGE = 300    # seconds a shared show body serves other reports (one refresh, not a day)

# shared(key, fetch) -> the body: ``fetch()`` once per key (a Discovery's cache)
Shared = Callable[[tuple, Callable[[], Any]], Any]


@dataclass(frozen=True)
class Request:
    """One call of an endpoint: the path, the query and the ``Procore-Company-Id`` (None: not sent)."""
    path: str
    query: dict[str, Any]
    company: Any


def request(ep: Endpoint, ctx: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Request:
    """The call of ``ep`` in ``ctx``, ``extra`` added to the query."""
    path, query = ep.render(ctx)
    query.update(extra or {})
    return Request(path, query, ctx.get("company_id") if ep.company_header else None)


class Fetch:
    """Reads endpoints through one client. ``shared``: how a :attr:`Paging.SHARED` body is kept
    for the other reports of a run (without it, such a body is read like a :attr:`Paging.SINGLE`)."""

    def __init__(self, client: ApiClient, *, shared: Shared | None = None):
        self.client, self.shared = client, shared

    def records(self, ep: Endpoint, ctx: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> list[dict]:
        """Every record of one call of ``ep`` in ``ctx``. Through the record store, the call
        carries the parent records' version (``ctx[PARENT_VERSION]``)."""
        return extract_records(self.body(ep, ctx, extra), ep)

    def body(self, ep: Endpoint, ctx: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Any:
        """The answer(s) of one call, before the records are taken out of them."""
        call = request(ep, ctx, extra)
        client = self.client
        version = {"version": ctx.get(PARENT_VERSION)} if client.stores_records else {}
        if ep.paging is Paging.SHARED and self.shared is not None:   # fetched once for every report
            key = ("show", call.path, tuple(sorted(call.query.items())), call.company, version.get("version"))
            return self.shared(key, lambda: client.get(call.path, call.query, company_id=call.company, **version))
        if ep.paging is Paging.ENVELOPE:
            return self._envelope_pages(ep, call)
        if ep.paging is Paging.LIST:
            return client.get_all(call.path, call.query, company_id=call.company, **version)
        return client.get(call.path, call.query, company_id=call.company, **version)

    def pages(self, ep: Endpoint, ctx: Mapping[str, Any]) -> Iterator[list[dict]]:
        """The records of a :attr:`Paging.LIST` call page by page, as the pages arrive."""
        call = request(ep, ctx)
        for page in self.client.pages(call.path, call.query, company_id=call.company):
            yield extract_records(page, ep)

    def _envelope_pages(self, ep: Endpoint, call: Request) -> list:
        """Pages whose body is one object (records under ``record_path``), read one after the
        other. A page shorter than the ``Per-Page`` Procore's answer states is the last (so is the
        one that brings the count to its ``Total``); without those headers, pages are read while
        each holds as many records as the first (Procore may cap ``per_page``): the short one is
        the last."""
        pages: list = []
        first, previous, count = None, None, 0
        per_page = self.client.per_page or PAGE_SIZE
        for number in itertools.count(1):
            got: dict = {}
            body = self.client.get(call.path, {**call.query, "page": number, "per_page": per_page},
                                   company_id=call.company, headers=got)
            records = extract_records(body, ep)
            if records and records == previous:      # a server that ignores page: nothing new
                return pages
            first = len(records) if first is None else first
            count += len(records)
            if records:
                pages.append(body)
            headers = got.get("headers", {})          # the transport's: names in any case
            stated, total = int_header(headers, "Per-Page"), int_header(headers, "Total")
            if not records or len(records) < first or (stated is not None and len(records) < stated) \
                    or (total is not None and count >= total):
                return pages
            previous = records


def me(client: ApiClient, company_id: int | str | None = None) -> dict:
    """The signed-in user (/me); a service account names its company (``company_id``)."""
    return client.get(ME.path, company_id=company_id)


def companies(client: ApiClient, company_id: int | str | None = None) -> list[dict]:
    """The companies this sign-in reads; a service account names one of them (``company_id``)."""
    return client.get_all(COMPANIES.path, company_id=company_id)


def extract_records(body: Any, endpoint: Endpoint) -> list[dict]:
    """Records of a response (``client.get_all`` result or a single body), following the
    endpoint's ``record_path`` and ``carry``; nested lists of lists are flattened."""
    items = body if isinstance(body, list) else [body]
    flat: list[Any] = []
    for it in items:
        if isinstance(it, list):
            flat.extend(it)
        elif it is not None:
            flat.append(it)
    if not endpoint.record_path:
        return [r for r in flat if isinstance(r, dict)]
    out: list[dict] = []
    for container in flat:
        if not isinstance(container, dict):
            continue
        for key in endpoint.record_path:
            for rec in container.get(key) or []:
                if not isinstance(rec, dict):
                    continue
                rec = dict(rec)
                for c in endpoint.carry:
                    if c in container:
                        rec.setdefault(c, container[c])
                if len(endpoint.record_path) > 1:
                    rec["record_type"] = key
                out.append(rec)
    return out
