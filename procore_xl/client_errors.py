"""What the client says when Procore refuses or fails: one readable line per failure.

The transport (:mod:`procore_xl.client`) decides WHEN a request has failed for good; this module
says WHAT happened, in words a person can act on: the HTTP status mapped to its
:mod:`procore_xl.errors` class (403 permission, 404 not found naming the record, the project or
the company, 400/406/422 rejected, 408 too slow), Procore's own error text from any of its body
shapes, and the final words of retried failures ("Procore answered 503 Service Unavailable 6
times in 40 s for rfis of project 91001; try again later"). Never a token.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from .answers import MAX_PAGES
from .errors import (BadRequestError, NotFoundError, PermissionDeniedError, ProcoreConnectionError, ProcoreError,
                     ProcoreServerError, RateLimitedError, how_often, status_words)


def server_error(status: int, url: str, what: str, request_id: str | None) -> ProcoreServerError:
    """A 5xx status that came back every try."""
    return ProcoreServerError(f"Procore answered {status_words(status)} {what} for {describe(url)}; try again later",
                              request_id=request_id, status=status)


def unreadable(url: str, what: str, request_id: str | None) -> ProcoreServerError:
    """A body that did not parse as JSON, every try."""
    return ProcoreServerError(f"Procore sent an unreadable answer for {describe(url)} {what}; try again later",
                              request_id=request_id)


def unreachable(api_url: str, happened: str, what: str) -> ProcoreConnectionError:
    """No answer at all (cannot connect, timed out, dropped), every try."""
    return ProcoreConnectionError(f"Cannot reach {api_url} ({happened} {what}): check the URL / your connection")


def rate_limited(what: str | None, resets: str, reset_at: float | None,
                 request_id: str | None) -> RateLimitedError:
    """429 with no try left (``what``: how often), or a wait too long for a pull (``what`` None)."""
    answered = f" (Procore answered {status_words(429)} {what})" if what else ""
    return RateLimitedError(f"Procore rate limit reached{answered}; {resets}", reset_at=reset_at,
                            request_id=request_id, status=429)


def token_refused(times: int, seconds: float, url: str, request_id: str | None) -> ProcoreError:
    """401 after 401 although the sign-in renewed each time."""
    return ProcoreError(f"Procore refused {how_often(times, seconds)} the access token for {describe(url)}, "
                        f"although the sign-in renewed each time; try again later", request_id=request_id,
                        status=401)


def too_many_pages(url: str, total: int | None) -> ProcoreServerError:
    said = f" (its Total says {total:,} records)" if total is not None else ""
    return ProcoreServerError(f"Procore listed more than {MAX_PAGES:,} pages of {describe(url)}"
                              f"{said}: procore-xl stops there rather than read without end; add filters "
                              f"or a shorter date range")


_ID = re.compile(r"^\d+$")
_VERSION = re.compile(r"v\d+(\.\d+)?")


def describe(url: str) -> str:
    """Human words for a path: '/rest/v1.0/projects/91001/rfis' -> 'rfis of project 91001'."""
    segments = [s for s in urlsplit(url).path.split("/")
                if s and s != "rest" and not _VERSION.fullmatch(s)]
    names = [s for s in segments if not _ID.match(s)]
    thing = names[-1].replace("_", " ") if names else urlsplit(url).path
    project = _id_after(segments, "projects")
    if project and thing != "projects":
        return f"{thing} of project {project}"
    return thing


def _id_after(segments: list[str], name: str) -> str | None:
    for before, after in zip(segments, segments[1:]):
        if before == name and _ID.match(after):
            return after
    return None


def error_detail(response: requests.Response) -> str:
    """Procore's error text from any of its body shapes (§2.6), as one short line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    text = _detail_from(body) if body is not None else ""
    if not text and "html" not in response.headers.get("Content-Type", ""):
        text = response.text
    text = " ".join(str(text).split())
    return text[:200] + ("..." if len(text) > 200 else "")


def _detail_from(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(filter(None, (_detail_from(b) for b in body)))
    if not isinstance(body, dict):
        return ""
    for key in ("errors", "error", "message", "base", "fields"):
        value = body.get(key)
        if not value:
            continue
        if isinstance(value, dict):
            if "message" in value:
                return _detail_from(value["message"])
            return "; ".join(f"{k}: {_detail_from(v)}" for k, v in value.items())
        return _detail_from(value)
    return ""


def error_for(response: requests.Response, url: str, company_id: int | str | None,
               request_id: str | None) -> ProcoreError:
    status = response.status_code
    detail = error_detail(response)
    what = describe(url)
    url = response.url or url       # with the query string (project_id=, company_id=)
    path = urlsplit(url).path
    segments = [s for s in path.split("/") if s]
    company = company_id or _id_after(segments, "companies") or _query_value(url, "company_id")
    kw = {"request_id": request_id, "status": status}
    if status == 403:
        where = f" in company {company}" if company else ""
        extra = f" - Procore says: {detail}" if detail else ""
        return PermissionDeniedError(f"No permission to read {what}{where} (ask your Procore admin for access){extra}",
                                     **kw)
    if status == 404:
        project = _id_after(segments, "projects") or _query_value(url, "project_id")
        child = _last_record(segments) or _query_record(url)
        if project and child and child[1] != project:      # one record under the project, not the project
            kind, record = child
            return NotFoundError(f"{kind} {record} of project {project} not found, or you have no access "
                                 f"to it", **kw)
        if project:
            return NotFoundError(f"Project {project} not found, or you have no access to it", **kw)
        company_in_path = _id_after(segments, "companies")
        if company_in_path:
            return NotFoundError(f"Company {company_in_path} not found, or you have no access to it", **kw)
        return NotFoundError(f"{what} ({path}) not found, or you have no access to it", **kw)
    if status in (400, 406, 422):
        return BadRequestError(f"Procore rejected the request for {what}: {detail or f'HTTP {status}'}", **kw)
    if status == 408:
        return ProcoreServerError(f"Procore timed out building {what}: add filters or a shorter date range", **kw)
    return ProcoreError(f"Procore answered HTTP {status} for {what}" + (f": {detail}" if detail else ""), **kw)


def _last_record(segments: list[str]) -> tuple[str, str] | None:
    """('rfi', '123') for .../rfis/123/replies: the last id in a path and what it is."""
    for before, after in reversed(list(zip(segments, segments[1:]))):
        if _ID.match(after) and not _ID.match(before):
            return before.removesuffix("s").replace("_", " "), after
    return None


def _query_record(url: str) -> tuple[str, str] | None:
    """('contract', '999') for ...?project_id=1&contract_id=999: a parent named in the query."""
    for pair in urlsplit(url).query.split("&"):
        key, _, value = pair.partition("=")
        if key.endswith("_id") and key not in ("project_id", "company_id") and _ID.match(value):
            return key.removesuffix("_id").replace("_", " "), value
    return None


def _query_value(url: str, name: str) -> str | None:
    for pair in urlsplit(url).query.split("&"):
        key, _, value = pair.partition("=")
        if key == name and value:
            return value
    return None


def request_id_of(response: requests.Response) -> str | None:
    return response.headers.get("X-Request-Id") or None


def is_connect_failure(exc: Exception) -> bool:
    if not isinstance(exc, requests.ConnectionError) or isinstance(exc, requests.Timeout):
        return False
    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", reason)
    return isinstance(inner, (NewConnectionError, NameResolutionError))
