"""Bounds on what Procore answers: size once decompressed, nesting depth, the shape of a list.

An answer that breaks one of them is a :class:`~procore_xl.errors.ProcoreServerError` naming the
endpoint, never rows: a gzip body that expands without end is read in chunks and given up at
:data:`MAX_BODY_BYTES` (never expanded whole in memory first), JSON nested deeper than
:data:`MAX_DEPTH` levels is refused before anything recurses into it (flattening, the record
store, outputs), and where Procore's reference documents a list, an object or a list of
non-objects is an error rather than one odd row.
"""
from __future__ import annotations

import functools
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from . import reference
from .errors import ProcoreServerError

MIB = 1024 * 1024
MAX_BODY_BYTES = 256 * MIB     # one answer, decompressed (Procore's largest pages are a few MiB)
MAX_DEPTH = 100                # nesting levels of one answer (Procore's records go about 6 deep)
CHUNK_BYTES = 64 * 1024        # read (and decompress) this much at a time
MAX_PAGES = 20_000             # pages of one list (20 million v1 rows): beyond, Total or Link is wrong


def read_capped(chunks: Iterable[bytes], limit: int, what: str) -> bytes:
    """The body from its decoded ``chunks``, refused once it passes ``limit`` bytes."""
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large(what, limit)
        parts.append(chunk)
    return b"".join(parts)


def too_large(what: str, limit: int) -> ProcoreServerError:
    return ProcoreServerError(f"Procore's answer for {what} is larger than {limit / MIB:g} MiB once "
                              f"decompressed: procore-xl stopped reading it (add filters or a shorter date range; "
                              f"if it persists, tell Procore support)")


def too_deep(what: str) -> ProcoreServerError:
    return ProcoreServerError(f"Procore's answer for {what} nests deeper than {MAX_DEPTH} levels: procore-xl "
                              f"does not read it (a damaged answer; if it persists, tell Procore support)")


_CONTAINERS = frozenset((dict, list))          # what JSON nests (json.loads makes no other kinds)


def check_depth(body: Any, what: str, limit: int = MAX_DEPTH) -> None:
    """Raise :func:`too_deep` when ``body`` nests deeper than ``limit`` (iteratively: no recursion).

    Level by level, each level's objects and lists gathered into one list: no (value, depth)
    pair is built per container, which made the walk about 1.6x slower on Procore's pages of many
    small objects."""
    level = [body] if type(body) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            raise too_deep(what)
        inner: list = []
        keep = inner.append
        for value in level:
            for item in (value.values() if type(value) is dict else value):
                if type(item) in _CONTAINERS:
                    keep(item)
        level = inner


@functools.lru_cache(maxsize=4096)
def documents_a_list(path: str) -> bool:
    """True when Procore's reference documents the answer of ``path`` as a list of records
    (``array``, or v2's ``{data: array}``)."""
    documented = reference.lookup(urlsplit(path).path)
    if documented is None:
        return False
    response = documented.raw.get("response")
    kind = response.get("type") if isinstance(response, Mapping) else response
    return isinstance(kind, str) and (kind == "array" or kind.startswith("object{data: array"))


def checked_rows(rows: list | None, body: Any, path: str, what: str) -> list | None:
    """``rows`` (the records of a list answer, None when ``body`` is no list), refused where the
    reference documents a list of records and ``body`` is something else."""
    if not documents_a_list(path):
        return rows
    if rows is None:
        raise ProcoreServerError(f"Procore answered {what} with {_kind(body)} where its reference documents a "
                                 f"list: procore-xl does not guess rows from it (if it persists, tell Procore "
                                 f"support)")
    odd = next((r for r in rows if not isinstance(r, dict)), _NOTHING)
    if odd is not _NOTHING:
        raise ProcoreServerError(f"Procore's list of {what} holds {_kind(odd)} where its reference documents "
                                 f"records: procore-xl does not guess rows from it (if it persists, tell Procore "
                                 f"support)")
    return rows


_NOTHING = object()


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"a number ({value!r:.20})"
    return f"text ({str(value)[:20]!r})"


# -- what an answer's headers and body say about paging

def list_rows(body: Any) -> list | None:
    if isinstance(body, list):
        return list(body)
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return list(body["data"])  # v2: {"data": [...]}
    return None


def row_key(row: Any) -> Any:
    """Identity of a row for the no-headers fallback: its id, else its whole content."""
    if isinstance(row, dict) and row.get("id") is not None:
        return ("id", str(row["id"]))
    return ("row", repr(row))


def server_date(headers: Mapping[str, str]) -> datetime | None:
    """The server's clock from a ``Date`` header (UTC), None when missing or unreadable."""
    try:
        return parsedate_to_datetime(headers["Date"]).astimezone(timezone.utc)
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def int_header(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, TypeError, ValueError):
        return None


_LINK_PART = re.compile(r'<([^>]*)>((?:\s*;\s*[^;,<]+(?:=\s*(?:"[^"]*"|[^;,<]*))?)*)')


def next_link(headers: Mapping[str, str]) -> str | None:
    """The ``rel="next"`` URL of a Link header. URLs are split on their angle brackets, not on
    commas: a query such as ``sort=a,b`` or ``filters[id]=1,2`` keeps its commas."""
    link = headers.get("Link")
    if not link:
        return None
    for url, params in _LINK_PART.findall(link):
        for rel in re.findall(r';\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))', params):
            if "next" in (rel[0] or rel[1]).split():
                return url.strip()
    return None
