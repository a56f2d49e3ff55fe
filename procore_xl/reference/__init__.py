"""Procore's published REST API reference, as data.

Two files, copied from the project's research into Procore's published reference (each entry keeps
the sources it was read from):

- ``endpoints.json``: every endpoint the catalog calls, in detail (required and optional query
  parameters, documented filters, sort and view values, paging, response fields and nested lists,
  deprecated/beta flags, the ``Procore-Company-Id`` rule) plus the global facts (paging, rate
  limits, tokens, errors);
- ``all_get_endpoints.json``: every GET endpoint of the API (1,265) in a shorter shape, for
  choosing successors of deprecated endpoints.

:func:`lookup` maps a concrete request path (``/rest/v1.0/projects/91001/rfis``) to the
:class:`Documented` entry whose template matches it; detailed entries win over short ones.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

_HERE = Path(__file__).parent
DETAILED_FILE = _HERE / "endpoints.json"
ALL_GET_FILE = _HERE / "all_get_endpoints.json"


@dataclass(frozen=True)
class Documented:
    """What Procore's reference documents for one GET endpoint."""
    path: str                               # the template, e.g. /rest/v1.0/projects/{project_id}/rfis
    required_query: frozenset[str]          # beyond path parameters
    optional_query: frozenset[str]          # every other documented query parameter (filters included)
    sort_param: str | None                  # "sort" or "sort[attribute]" (None: not sortable)
    sort_values: frozenset[str] | None      # documented values (None: not listed by the sources)
    view_values: frozenset[str] | None
    paginated: bool
    company_header: str                     # "required", "optional", "n.a." or a sentence from the sources
    deprecated: bool | None
    beta: bool | None
    record_fields: tuple[str, ...] | None   # top-level fields of one record
    nested: Mapping[str, tuple[str, ...]] = field(default_factory=dict)   # field -> child fields
    detailed: bool = False                  # from endpoints.json (else all_get_endpoints.json)
    source: tuple[str, ...] = ()
    deprecation_note: str = ""              # what the sources say about the deprecation / successor
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def operation(self) -> str:
        """Procore's operation id (``RestV10ProjectsProjectIdRfisGet``), when the sources name it."""
        op = self.raw.get("operation")
        return str(op.get("operationId") or "") if isinstance(op, Mapping) else str(self.raw.get("op") or "")

    @property
    def summary(self) -> str:
        op = self.raw.get("operation")
        return str(op.get("summary") or "") if isinstance(op, Mapping) else str(self.raw.get("summary") or "")

    @property
    def file(self) -> str:
        """The package data file the entry comes from."""
        return DETAILED_FILE.name if self.detailed else ALL_GET_FILE.name

    @property
    def version(self) -> str:
        m = re.match(r"/rest/v(\d+\.\d+)/", self.path)
        return m.group(1) if m else ""

    @property
    def filters(self) -> frozenset[str]:
        """Documented ``filters[name]`` names (without the ``filters[...]`` wrapper)."""
        return frozenset(filter_name(q) for q in self.query_parameters if filter_name(q))

    @property
    def query_parameters(self) -> frozenset[str]:
        return self.required_query | self.optional_query

    def documents(self, parameter: str) -> bool:
        """True when ``parameter`` (``page``, ``filters[updated_at]``, ``sort``...) is documented."""
        return parameter in self.query_parameters

    def documents_filter(self, name: str) -> bool:
        return name in self.filters

    @property
    def pattern(self) -> re.Pattern[str]:
        return _template_pattern(self.path)


def filter_name(query_name: str) -> str | None:
    """``filters[updated_at]`` (or ``filters[trade_id][]``) -> ``updated_at``; else None."""
    m = re.fullmatch(r"filters\[([^\]]+)\](\[\])?", query_name)
    return m.group(1) if m else None


@lru_cache(maxsize=None)
def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + r"\Z")


def _frozen_or_none(values) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def _deprecation(value: Any) -> tuple[bool | None, str]:
    """``deprecated`` is a flag, or ``{"deprecated": flag, "note": ...}`` where the sources say more."""
    if isinstance(value, Mapping):
        return value.get("deprecated"), str(value.get("note") or "")
    return value, ""


def _from_detailed(e: Mapping[str, Any]) -> Documented:
    response = e.get("response") or {}
    deprecated, note = _deprecation(e.get("deprecated"))
    return Documented(
        path=e["path"], required_query=frozenset(e.get("required_query") or ()),
        optional_query=frozenset(e.get("optional_query") or ()),
        sort_param=e.get("sort_param"), sort_values=_frozen_or_none(e.get("sort_values")),
        view_values=_frozen_or_none(e.get("view_values")), paginated=bool(e.get("paginated")),
        company_header=str(e.get("company_header") or ""), deprecated=deprecated,
        beta=e.get("beta"), record_fields=tuple(response.get("record_fields") or ()) or None,
        nested={k: tuple(v or ()) for k, v in (response.get("nested") or {}).items()},
        detailed=True, source=tuple(e.get("source") or ()), deprecation_note=note, raw=e)


def _from_short(e: Mapping[str, Any], source: str) -> Documented:
    query = set(e.get("required_query") or ()) | set(e.get("optional_query") or ())
    sort_param = "sort" if "sort" in query else ("sort[attribute]" if "sort[attribute]" in query else None)
    return Documented(
        path=e["path"], required_query=frozenset(e.get("required_query") or ()),
        optional_query=frozenset(e.get("optional_query") or ()), sort_param=sort_param,
        sort_values=_frozen_or_none(e.get("sort_values")), view_values=_frozen_or_none(e.get("view_values")),
        paginated=bool(e.get("paginated")), company_header="required", deprecated=e.get("deprecated"),
        beta=None, record_fields=tuple(e.get("fields") or ()) or None,
        nested={k: tuple(v or ()) for k, v in (e.get("nested") or {}).items()},
        detailed=False, source=(source,), raw=e)


@lru_cache(maxsize=1)
def _data() -> dict[str, Documented]:
    detailed = json.loads(DETAILED_FILE.read_text(encoding="utf-8"))
    short = json.loads(ALL_GET_FILE.read_text(encoding="utf-8"))
    entries: dict[str, Documented] = {}
    for e in short["endpoints"]:
        entries[e["path"]] = _from_short(e, short.get("source", ""))
    for e in detailed["endpoints"]:
        entries[e["path"]] = _from_detailed(e)
    return entries


def entries() -> dict[str, Documented]:
    """Every documented GET endpoint, keyed by its path template."""
    return _data()


@lru_cache(maxsize=1)
def _by_segments() -> dict[int, list[tuple[Documented, tuple[tuple[int, str], ...]]]]:
    """The entries by their number of path segments, each with its literal segments (index, text)."""
    found: dict[int, list[tuple[Documented, tuple[tuple[int, str], ...]]]] = {}
    for d in entries().values():
        segments = d.path.split("/")
        literal = tuple((i, text) for i, text in enumerate(segments) if "{" not in text)
        found.setdefault(len(segments), []).append((d, literal))
    return found


def lookup(path: str) -> Documented | None:
    """The entry documenting the concrete ``path`` (query string ignored), or None.

    A template with fewer placeholders wins (``/projects/{project_id}/rfis/{id}`` loses to a literal
    segment at the same place), detailed entries win over short ones."""
    path = path.split("?", 1)[0]
    # a placeholder matches no "/": only templates of as many segments, their literal ones equal, can
    # match; the patterns of those alone are compiled (all of them took 0.1 s, a first pull's first page)
    segments = path.split("/")
    matches = [d for d, literal in _by_segments().get(len(segments), ())
               if all(segments[i] == text for i, text in literal) and d.pattern.match(path)]
    if not matches:
        return None
    return min(matches, key=lambda d: (d.path.count("{"), not d.detailed))


# -- what refreshes incrementally: facts of the reference, read by the catalog and the record store
INCREMENTAL, FULL = "incremental", "full"     # a report's refresh (the README's Refresh column)
UPDATED_AT_FILTER = "filters[updated_at]"


def refreshes_incrementally(path: str) -> bool:
    """True when Procore's reference documents ``filters[updated_at]`` on this paged list
    (a concrete path or a catalog template)."""
    documented = lookup(path)
    return bool(documented and documented.paginated and documented.documents_filter("updated_at"))


def asks_for_changes(path: str, params: Mapping[str, Any] | None = None) -> bool:
    """The one rule for "is this call refreshed incrementally": a paged list documenting
    ``filters[updated_at]`` (:func:`refreshes_incrementally`) asked in Procore's default order and
    without an ``updated_at`` filter of its own (a sorted list would need its merged records
    re-sorted the way the server sorts). The catalog's Refresh column and the record store both
    ask it."""
    return refreshes_incrementally(path) and not any(str(k).startswith(("sort", UPDATED_AT_FILTER))
                                                     for k in (params or {}))


def versions_children(path: str, record_path: tuple[str, ...] = ()) -> bool:
    """True when the records of this list (inside ``record_path`` lists of the body, if given)
    carry ``updated_at`` (Procore's reference), so the per-parent calls under them are made
    again only for parents that changed."""
    documented = lookup(path)
    if documented is None:
        return False
    fields = [documented.nested.get(key, ()) for key in record_path] if record_path else [documented.record_fields or ()]
    return any("updated_at" in f for f in fields)
