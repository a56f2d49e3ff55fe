"""Procore paging: ``page``/``per_page`` in, ``Total``/``Per-Page``/``Link`` out.

v1.x lists: default 100 per page, at most 1,000. v2.x lists: default 10, at most 100. A client that asks
for more gets the cap and must read ``Per-Page`` back.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

V1_DEFAULT, V1_MAX = 100, 1000
V2_DEFAULT, V2_MAX = 10, 100


class PagingError(ValueError):
    """A page or per_page value that is not a positive whole number."""


@dataclass(frozen=True)
class Page:
    items: list
    headers: dict[str, str]


def page_size_limits(path: str) -> tuple[int, int]:
    """(default, max) page size for an API path."""
    return (V2_DEFAULT, V2_MAX) if path.startswith("/rest/v2") else (V1_DEFAULT, V1_MAX)


def _positive_int(value: str | None, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise PagingError(f"{name} must be a whole number") from None
    if number < 1:
        raise PagingError(f"{name} must be 1 or more")
    return number


def paginate(items: list, *, base_url: str, path: str, query: list[tuple[str, str]]) -> Page:
    """Slice ``items`` for the request's page and build the Total/Per-Page/Link headers."""
    params = dict(query)
    default, maximum = page_size_limits(path)
    per_page = min(_positive_int(params.get("per_page"), default, "per_page"), maximum)
    page = _positive_int(params.get("page"), 1, "page")
    total = len(items)
    last = max((total + per_page - 1) // per_page, 1)
    start = (page - 1) * per_page
    headers = {"Total": str(total), "Per-Page": str(per_page)}
    link = link_header(base_url, path, query, page, last, per_page)
    if link:
        headers["Link"] = link
    return Page(items[start:start + per_page], headers)


def link_header(base_url: str, path: str, query: list[tuple[str, str]], page: int, last: int, per_page: int) -> str:
    """RFC 8288 Link with absolute URLs; page 1 has next+last only, the last page has no next."""
    others = [(k, v) for k, v in query if k not in ("page", "per_page")]

    def url(n: int) -> str:
        return f"{base_url}{path}?{urlencode(others + [('page', str(n)), ('per_page', str(per_page))])}"

    rels = []
    if page > 1:
        rels += [("first", 1), ("prev", min(page - 1, last))]
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    return ", ".join(f'<{url(n)}>; rel="{rel}"' for rel, n in rels)
