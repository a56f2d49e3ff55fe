"""What Procore publishes for each sandbox endpoint, enforced on requests and responses.

Built from the project's copy of Procore's reference (:mod:`procore_xl.reference`):

- :func:`checked_query` holds a request's query against the documented parameters. Strict mode
  (the tests' default) refuses, with a 400 naming the problem, an undocumented parameter, a
  missing required one, an undocumented ``filters[x]``, ``sort`` or ``view`` value. Lenient mode
  (the demo's) behaves as Procore is reported to: undocumented filters, sorts and other
  parameters are ignored, not applied.
- :func:`documented_fields` trims records to the documented fields of the endpoint's response,
  nested lists to their documented children (a list response does not carry what only the show
  endpoint returns).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .. import reference
from ..reference import Documented, filter_name

PAGING = ("page", "per_page")


class Refused(ValueError):
    """A request the reference does not document (strict mode answers 400 with this text)."""


@lru_cache(maxsize=None)
def documented(pattern: str) -> Documented | None:
    """The reference entry for a route pattern such as ``/rest/v1.0/projects/{project_id}/rfis``."""
    return reference.lookup(re.sub(r"\{[^}]+\}", "1", pattern))


def checked_query(doc: Documented, query: list[tuple[str, str]], *, strict: bool) -> list[tuple[str, str]]:
    """The query as the handler may apply it; raises :class:`Refused` in strict mode."""
    allowed = set(doc.query_parameters) | (set(PAGING) if doc.paginated else set())
    sent = {k for k, _ in query}
    if strict:
        missing = sorted(doc.required_query - sent)
        if missing:
            raise Refused(f"{', '.join(missing)} is missing (required for GET {doc.path})")
    kept = []
    for key, value in query:
        problem = _problem(doc, allowed, key, value)
        if problem is None:
            kept.append((key, value))
        elif strict:
            raise Refused(f"{problem} (GET {doc.path})")
    return kept


def _problem(doc: Documented, allowed: set[str], key: str, value: str) -> str | None:
    if key not in allowed:
        if filter_name(key):
            return f"{key} is not a documented filter"
        if key in PAGING:
            return f"{key}: this endpoint is documented without paging"
        return f"{key} is not a documented parameter"
    if key == doc.sort_param and doc.sort_values is not None:
        bad = [v for v in value.split(",") if v.strip().lstrip("-") not in doc.sort_values]
        if bad:
            return f"sort={value} is not a documented sort (documented: {', '.join(sorted(doc.sort_values))})"
    if key == "view" and doc.view_values is not None and value not in doc.view_values:
        return f"view={value} is not a documented view (documented: {', '.join(sorted(doc.view_values))})"
    return None


def documented_fields(doc: Documented, payload: Any, record_path: str = "") -> Any:
    """``payload`` (records, one record, or groups) with only the documented fields."""
    if isinstance(payload, list):
        return [documented_fields(doc, item, record_path) for item in payload]
    if not isinstance(payload, dict):
        return payload
    fields = doc.record_fields if not record_path else doc.nested.get(record_path)
    if fields is None:
        return payload
    out = {}
    for key in fields:
        if key not in payload:
            continue
        value = payload[key]
        child = f"{record_path}.{key}" if record_path else key
        if child in doc.nested and isinstance(value, (list, dict)) and _records(value):
            value = documented_fields(doc, value, child)
        out[key] = value
    return out


def _records(value: Any) -> bool:
    """Lists of records (or one record object) are trimmed; lists of ids or texts stay as they are."""
    if isinstance(value, dict):
        return True
    return bool(value) and all(isinstance(v, dict) for v in value)
