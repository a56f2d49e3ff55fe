"""ProcoreClient: polite, fast GETs against the Procore REST API.

* headers: ``Authorization: Bearer``, ``Accept: application/json``, ``User-Agent`` and, when a
  company is given, ``Procore-Company-Id``;
* paging: page 1 with ``per_page`` (at most 100 on v2.x); ``Per-Page`` is read back and trusted; with ``Total`` the
  remaining pages are fetched concurrently and assembled in page order; otherwise ``Link``
  ``rel="next"`` is followed; otherwise there is one page;
* at most ``max_workers`` requests in flight across every thread using the client;
* rate limits: :class:`~procore_xl.ratelimit.RateBudget` paces requests by the X-Rate-Limit-*
  headers; 429 waits for Retry-After / the reset;
* retries with bounded exponential backoff and jitter, with a budget of tries per kind of failure
  (429, each 5xx status, refused/unresolvable host, timeout, dropped connection, malformed JSON
  body): a server's ``Retry-After`` (or, on 429, ``X-Rate-Limit-Reset``) sets the wait; the final
  error says what happened ("Procore answered 503 Service Unavailable 6 times in 40 s ..."); 401
  refreshes the token once;
* errors are :mod:`procore_xl.errors` classes with a message a person can act on and Procore's
  request id. No token appears in any message or log line.
"""
from __future__ import annotations

import itertools
import json
import logging
import math
import random
import re
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from . import __version__
from .api_client import AccessTokens, ApiClient, ClientStats
from .answers import (CHUNK_BYTES, MAX_BODY_BYTES, MAX_PAGES, check_depth, checked_rows, int_header, list_rows,
                      next_link, read_capped, row_key, server_date, too_deep)
from .client_errors import (describe, error_detail, error_for, is_connect_failure, rate_limited,  # noqa: F401
                            request_id_of, server_error, token_refused, too_many_pages, unreachable, unreadable)
from .errors import ProcoreError, RateLimitedError
from .ratelimit import DEFAULT_MAX_WAIT, RateBudget, clock_time, parse_retry_after, server_offset
from .retries import CANNOT_CONNECT, CONNECT_FAILURE_ATTEMPTS, RETRY_STATUSES, Failures, Retry, backoff, jittered

log = logging.getLogger("procore_xl")

DEFAULT_USER_AGENT = f"procore-xl/{__version__} python-requests/{requests.__version__}"
# 401s one request lives through while the sign-in still renews (a token expiring during a long pull,
# other threads and processes sharing the sign-in using it up or rotating it): past this many in a row
# Procore is refusing good tokens, which is not an expired sign-in. Only a refused refresh token is.
MAX_REFRESHES_PER_REQUEST = 30
MAX_WORKERS = 16               # requests in flight (the pages of a list after its first, at once)
TRUSTED_PAGES = 2_000          # a Total implying at most this many pages is asked for at once
V2_MAX_PER_PAGE = 100  # procore_api.md 2.1/2.3: v2.x collections page at most 100 rows
_TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                     requests.exceptions.ContentDecodingError)


@dataclass
class _Answer:
    """One successful API response: decoded body (or its bytes, when asked so) and headers."""

    body: Any
    headers: Mapping[str, str]


class ProcoreClient(ApiClient):
    """GET-only client for one Procore API host. Thread-safe; share one per sign-in."""

    stores_records = False          # straight from Procore: no version=, no tally
    tally = None

    def __init__(self, api_url: str, tokens: AccessTokens, *, per_page: int = 1000, max_workers: int = MAX_WORKERS,
                 timeout: float = 60, max_retries: int = 6, user_agent: str = DEFAULT_USER_AGENT,
                 backoff: float = 0.5, max_backoff: float = 20.0, max_rate_wait: float = DEFAULT_MAX_WAIT,
                 rate_budget: RateBudget | None = None, max_body_bytes: int = MAX_BODY_BYTES):
        self.api_url = api_url.rstrip("/")
        self.tokens = tokens
        self.per_page = per_page
        self.max_workers = max_workers
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_body_bytes = max_body_bytes
        self.user_agent = user_agent
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.budget = rate_budget or RateBudget(max_wait=max_rate_wait)
        self.stats = ClientStats(tokens)
        self._slots = threading.BoundedSemaphore(max_workers)
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max_workers, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="procore-xl-page")

    # ------------------------------------------------------------------ public API

    def get(self, path: str, params: Mapping[str, Any] | None = None, *, company_id: int | str | None = None,
            headers: dict | None = None) -> Any:
        """GET one resource (or one page); returns the decoded JSON body. ``headers``: a dict that
        gets the answer's headers under ``"headers"``, as :meth:`pages`' ``first_headers`` does (a
        page of an object body reads its paging headers there)."""
        answer = self._fetch(path, params, company_id)
        if headers is not None:
            headers["headers"] = answer.headers
        return answer.body

    def get_all(self, path: str, params: Mapping[str, Any] | None = None, *,
                company_id: int | str | None = None) -> list[dict]:
        """Every row of a list endpoint, in Procore's order. A non-list body comes back as ``[body]``."""
        return [row for page in self.pages(path, params, company_id=company_id) for row in page]

    def pages(self, path: str, params: Mapping[str, Any] | None = None, *,
              company_id: int | str | None = None, first_headers: dict | None = None) -> Iterator[list]:
        """The rows of a list endpoint page by page, in Procore's order, each page as soon as it
        and the pages before it have arrived (a reader that is slower than the network holds at
        most ``max_workers`` pages it has not read yet). A non-list body is one page ``[body]``.
        ``first_headers``: a dict that gets page 1's response headers under ``"headers"``."""
        return self._pages_of(path, params, company_id, limit=math.inf, first_headers=first_headers)

    def get_first(self, path: str, limit: int, params: Mapping[str, Any] | None = None, *,
                  company_id: int | str | None = None) -> list[dict]:
        """The first ``limit`` rows of a (sorted) list, reading no more pages than needed."""
        rows: list = []
        for page in self._pages_of(path, params, company_id, limit=limit):
            rows.extend(page)
        return rows[:limit]

    # -- for the record store (procore_xl.incremental): the server's clock and list sizes

    def get_all_dated(self, path: str, params: Mapping[str, Any] | None = None, *,
                      company_id: int | str | None = None) -> tuple[list[dict], datetime | None]:
        """``get_all`` plus the server's time (``Date`` header) when it answered page 1."""
        first: dict[str, Mapping[str, str]] = {}
        rows = [row for page in self.pages(path, params, company_id=company_id, first_headers=first) for row in page]
        return rows, server_date(first.get("headers", {}))

    def get_dated(self, path: str, params: Mapping[str, Any] | None = None, *,
                  company_id: int | str | None = None, headers: dict | None = None) -> tuple[Any, datetime | None]:
        """``get`` plus the server's time (``Date`` header) of the answer."""
        answer = self._fetch(path, params, company_id)
        if headers is not None:
            headers["headers"] = answer.headers
        return answer.body, server_date(answer.headers)

    def count(self, path: str, params: Mapping[str, Any] | None = None, *,
              company_id: int | str | None = None) -> int | None:
        """How many records a list holds: one ``per_page=1`` request reading ``Total`` (None when
        the answer has no Total header)."""
        return self.count_with_first(path, params, company_id=company_id)[0]

    def count_with_first(self, path: str, params: Mapping[str, Any] | None = None, *,
                         company_id: int | str | None = None) -> tuple[int | None, Any]:
        """:meth:`count` and the one record its answer carries (the list's first; None if empty)."""
        answer = self._fetch(path, {**(params or {}), "page": 1, "per_page": 1}, company_id)
        rows = list_rows(answer.body)
        return int_header(answer.headers, "Total"), (rows[0] if rows else None)

    def _pages_of(self, path: str, params: Mapping[str, Any] | None, company_id: int | str | None,
                  limit: float, first_headers: dict | None = None) -> Iterator[list]:
        """Page 1, then: with ``Total`` the pages still needed, at once; else ``Link`` rel="next"
        page by page; else (a full page, no headers) page numbers until a short page."""
        params = dict(params or {})
        params.pop("page", None)
        requested = page_size_for(path, min(int(params.pop("per_page", None) or self.per_page), limit))
        first = self._fetch(path, {**params, "page": 1, "per_page": requested}, company_id)
        if first_headers is not None:
            first_headers["headers"] = first.headers
        rows = self._rows(first.body, path)
        if rows is None:
            yield [first.body]
            return
        self.stats.add(pages=1)
        total = int_header(first.headers, "Total")
        size = int_header(first.headers, "Per-Page") or (len(rows) if rows and total and len(rows) < total
                                                            else requested)
        headers = first.headers
        del first
        count = len(rows)
        wanted = limit if total is None else min(limit, total)
        # a page shorter than the Per-Page Procore stated is the last, whatever Total says
        ended = int_header(headers, "Per-Page") is not None and len(rows) < size
        more = total is not None and count < wanted and not ended
        implied = math.ceil(wanted / size) if more else 0
        # the next pages asked for before page 1 is handed on: they come while the caller reads it
        following = self._fetch_pages(path, params, size, range(2, min(implied, MAX_PAGES) + 1),
                                      company_id, trusted=implied <= TRUSTED_PAGES) if more else None
        try:
            yield rows
        except BaseException:
            if following is not None:
                following.close()
            raise
        if more:
            previous = rows
            for answer in following:
                page_rows = self._rows(answer.body, path) or []
                headers = answer.headers
                del answer
                if page_rows and page_rows == previous:      # the same page again: paging is ignored
                    ended = True
                    break
                count += len(page_rows)
                yield page_rows
                previous = page_rows
                if len(page_rows) < size:                    # short or empty: the end (Total overstated)
                    ended = True
                    break
            else:
                if implied > MAX_PAGES:
                    raise self._too_many_pages(path, total)
        next_url = None if ended else next_link(headers)
        if next_url is None and total is None and size <= count < limit:
            yield from self._count_pages_on(path, params, size, rows, company_id, limit=limit)
            return
        yield from self._follow_links(next_url, count, company_id, limit=limit)  # no Total, or rows appeared

    def _follow_links(self, next_url: str | None, count: int, company_id: int | str | None,
                      limit: float = math.inf) -> Iterator[list]:
        """Follow rel="next" one page after the other (until ``limit`` rows, an empty page or a
        link already followed)."""
        followed: set[str] = set()
        while next_url and count < limit and next_url not in followed:
            if len(followed) >= MAX_PAGES:
                raise self._too_many_pages(next_url, None)
            followed.add(next_url)
            answer = self._fetch(next_url, None, company_id)
            self.stats.add(pages=1)
            page_rows = self._rows(answer.body, next_url) or []
            count += len(page_rows)
            yield page_rows
            next_url = next_link(answer.headers) if page_rows else None

    def _count_pages_on(self, path: str, params: dict, size: int, first_rows: list, company_id,
                        limit: float = math.inf) -> Iterator[list]:
        """A full first page with neither Total nor Link: ask for the next pages one by one until
        a short or empty page (procore_api.md 2.3's fallback). An endpoint that ignores paging
        answers page 2 with page 1 again: stop there, without the repeat."""
        seen = {row_key(r) for r in first_rows}
        count = len(first_rows)
        page = 2
        while True:
            answer = self._fetch(path, {**params, "page": page, "per_page": size}, company_id)
            page_rows = self._rows(answer.body, path) or []
            self.stats.add(pages=1)
            fresh = [r for r in page_rows if row_key(r) not in seen]
            if not fresh:
                return
            seen.update(row_key(r) for r in fresh)
            count += len(fresh)
            yield fresh
            if len(page_rows) < size or count >= limit:
                return
            if page >= MAX_PAGES:
                raise self._too_many_pages(path, None)
            page += 1

    def _rows(self, body: Any, path: str) -> list | None:
        """The records of a list answer (None: not a list), refused where the reference documents
        a list of records and the answer is something else."""
        return checked_rows(list_rows(body), body, path, describe(self._url(path)))

    def _too_many_pages(self, path: str, total: int | None) -> ProcoreError:
        return too_many_pages(self._url(path), total)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._session.close()

    def __enter__(self) -> "ProcoreClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ paging

    def _fetch_pages(self, path: str, params: dict, size: int, pages: range,
                     company_id: int | str | None, *, trusted: bool = True) -> Iterator[_Answer]:
        """Pages ``pages`` concurrently (same params as page 1 plus page/per_page), yielded in page
        order; at most ``max_workers`` pages are asked for ahead of the one being read: all of them
        at once when ``trusted`` (the ``Total`` that implies them is a plausible size), else two
        at first and more as pages are read (a ``Total`` that overstates the list by far costs a
        few requests past its end, not a burst of ``max_workers``). A page
        waits its turn as the bytes Procore sent (a quarter of the decoded page's memory) and is
        decoded when its turn comes; one whose body does not parse is asked for again, with the
        usual retries."""
        def query(page: int) -> dict:
            return {**params, "page": page, "per_page": size}

        def one(page: int) -> _Answer:
            answer = self._fetch(path, query(page), company_id, decode=False)
            self.stats.add(pages=1)
            return answer

        todo = iter(pages)
        # the first ones at once, when this is called, not when the pages are first read
        first = self.max_workers if trusted else min(2, self.max_workers)
        ahead: deque[tuple[int, Future]] = deque((page, self._executor.submit(one, page))
                                                 for page in itertools.islice(todo, first))
        pages_in_order = self._pages_in_order(path, query, company_id, todo, ahead, one)
        next(pages_in_order)      # started: closing it, even before its first page is read, cancels what was asked
        return pages_in_order

    def _pages_in_order(self, path: str, query: Callable[[int], dict], company_id: int | str | None,
                        todo: Iterator[int], ahead: deque, one: Callable[[int], _Answer]) -> Iterator[_Answer]:
        try:
            yield None                                   # taken by _fetch_pages
            while ahead:
                page, future = ahead.popleft()
                answer = future.result()                 # the first failure, in page order, ends it
                for following in itertools.islice(todo, 2 if len(ahead) + 2 <= self.max_workers else 1):
                    ahead.append((following, self._executor.submit(one, following)))
                try:
                    answer = _Answer(self._decode(answer.body, path, None), answer.headers)
                except Retry as retry:
                    log.warning("GET %s page %d failed (%s); asking for it again", _path_of(self._url(path)),
                                page, retry.kind)
                    self.stats.add(retries=1)
                    answer = self._fetch(path, query(page), company_id)
                yield answer
        finally:
            for _, future in ahead:
                future.cancel()

    # ------------------------------------------------------------------ one request with retries

    def _fetch(self, path: str, params: Mapping[str, Any] | None, company_id: int | str | None, *,
               decode: bool = True) -> _Answer:
        """One GET with retries; the body decoded, or (``decode=False``) the bytes as sent."""
        url = self._url(path)
        failures = Failures()
        unauthorized = 0            # 401s of this request: each renews the sign-in (or adopts a renewal)
        while True:
            token = self.tokens.access_token()
            try:
                return self._attempt(url, params, company_id, token, decode)
            except _Unauthorized as exc:
                unauthorized += 1
                if unauthorized > MAX_REFRESHES_PER_REQUEST:
                    raise token_refused(unauthorized, time.monotonic() - failures.started, url,
                                        exc.request_id) from None
                log.info("Procore answered 401 for %s: refreshing the sign-in", _path_of(url))
                self.stats.add(refreshes=1)
                self.tokens.refresh(token)    # SignedOutError only when Procore refuses the refresh token
                if unauthorized > 2:          # lost the race for fresh tokens again: let the storm pass
                    time.sleep(min(1.0, 0.02 * 2 ** (unauthorized - 3)) * random.uniform(0.5, 1.0))
            except Retry as retry:
                count = failures.add(retry.kind)
                limit = self.max_retries
                if retry.kind == CANNOT_CONNECT:
                    limit = min(limit, CONNECT_FAILURE_ATTEMPTS)
                delay = (jittered(retry.wait) if retry.wait is not None
                         else backoff(count, self.backoff, self.max_backoff))
                if count >= limit or delay > self.budget.max_wait:
                    raise retry.final(failures.what(retry.kind)) from None
                log.warning("GET %s failed (%s); retry %d of %d for this in %.1f s",
                            _path_of(url), retry.kind, count, limit - 1, delay)
                self.stats.add(retries=1)
                if delay > 0:
                    time.sleep(delay)

    def _attempt(self, url: str, params: Mapping[str, Any] | None, company_id: int | str | None,
                 token: str, decode: bool = True) -> _Answer:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                   "User-Agent": self.user_agent}
        if company_id is not None:
            headers["Procore-Company-Id"] = str(company_id)
        with self._slots:                     # at most max_workers requests in flight
            self.budget.acquire()
            try:
                self.stats.add(api_requests=1)
                response = self._session.get(url, params=params, headers=headers, timeout=self.timeout,
                                             stream=True)
                try:      # decompressed a chunk at a time, and refused past max_body_bytes
                    content = read_capped(response.iter_content(CHUNK_BYTES), self.max_body_bytes,
                                          describe(url))
                except BaseException:
                    response.close()
                    raise
                response._content, response._content_consumed = content, True   # for error_detail()
                self.budget.observe(response.headers)
            except _TRANSPORT_ERRORS as exc:
                raise self._transport_retry(exc) from None
            finally:
                self.budget.release()
        status = response.status_code
        request_id = request_id_of(response)
        log.debug("GET %s%s -> %d", _path_of(url), f" page {params['page']}" if params and "page" in params else "",
                  status)
        if 200 <= status < 300:
            return _Answer(self._decode(content, url, request_id) if decode else content, response.headers)
        if status == 401:
            raise _Unauthorized(request_id)
        if status == 429:
            raise self._rate_limited(response, request_id)
        if status in RETRY_STATUSES:
            wait_s = parse_retry_after(response.headers.get("Retry-After"), time.time())
            raise Retry(f"HTTP {status}", wait=wait_s,
                         final=lambda what: server_error(status, url, what, request_id))
        raise error_for(response, url, company_id, request_id)

    def _decode(self, content: bytes, url: str, request_id: str | None) -> Any:
        if not content.strip():
            return None
        try:
            body = json.loads(content)      # the standard library's: requests would take simplejson when
            # installed (dlt brings it), about 1.6x slower on a 1,000-RFI page
        except RecursionError:
            raise too_deep(describe(url)) from None
        except ValueError:
            raise Retry("malformed JSON body", final=lambda what: unreadable(url, what, request_id)) from None
        check_depth(body, describe(url))
        return body

    def _transport_retry(self, exc: Exception) -> Retry:
        if is_connect_failure(exc):
            kind, happened = CANNOT_CONNECT, "could not connect"
        elif isinstance(exc, requests.Timeout):
            kind, happened = "timeout", f"no answer within {self.timeout:g} s"
        else:
            kind, happened = "connection dropped", "the connection dropped"
        return Retry(kind, final=lambda what: unreachable(self.api_url, happened, what))

    def _rate_limited(self, response: requests.Response, request_id: str | None) -> Retry | RateLimitedError:
        now = time.time()
        wait_s = parse_retry_after(response.headers.get("Retry-After"), now)
        reset = int_header(response.headers, "X-Rate-Limit-Reset")
        if wait_s is None and reset is not None:
            wait_s = max(0.0, reset + server_offset(response.headers, now) - now)
        reset_at = now + wait_s if wait_s is not None else None
        resets = "it resets at " + (clock_time(reset_at) if reset_at else "the top of the hour")

        def final(what: str | None = None) -> RateLimitedError:
            return rate_limited(what, resets, reset_at, request_id)

        if wait_s is not None and wait_s > self.budget.max_wait:
            return final()  # too long to wait inside a pull: say when to try again
        if reset_at is not None:
            self.budget.exhausted_until(reset_at)  # every thread pauses until then (with jitter)
            return Retry("HTTP 429", wait=0, final=final)
        return Retry("HTTP 429", final=final)

    def _url(self, path: str) -> str:
        """Absolute URL on our API host; Link URLs keep only path and query (the token stays home)."""
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            return f"{self.api_url}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        if not path.startswith("/"):
            path = "/" + path
        return self.api_url + path


class _Unauthorized(Exception):
    def __init__(self, request_id: str | None):
        super().__init__("401")
        self.request_id = request_id


# ---------------------------------------------------------------------- helpers

def page_size_for(path: str, size: int) -> int:
    """``per_page`` to ask for: v2.x lists take at most 100 (asking for more may be refused or
    silently capped, which would look like a short last page)."""
    if re.match(r"rest/v2\.", urlsplit(path).path.lstrip("/")):
        return max(1, min(size, V2_MAX_PER_PAGE))
    return max(1, size)


def _path_of(url: str) -> str:
    return urlsplit(url).path
