"""Where Procore tells which records of a list were deleted: the sources its reference documents.

An incremental refresh asks for the records changed since its cursor; a deleted record is not among
them. Two documented sources name deletions, both filtered by ``filters[updated_at]`` (a deletion
stamps the record's ``updated_at`` and ``deleted_at``):

* a recycle-bin list beside the list (about 40 in the reference), either ``<list>/recycle_bin``
  (``/rest/v1.0/projects/{project_id}/rfis/recycle_bin``) or ``recycle_bin`` after the owner
  (``/rest/v1.0/projects/{project_id}/recycle_bin/checklist/lists``): one more request;
* ``filters[include_deleted]`` documented on the list itself (``with``: live and deleted records,
  the deleted ones with ``deleted_at`` set): the changes request carries it, no request more.

:func:`deletion_source` picks the documented one for a concrete list path (None: the reference
documents neither; deletions are then seen through ``Total`` alone).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from . import reference

INCLUDE_DELETED = "filters[include_deleted]"
RECYCLE_BIN = "recycle_bin"
_OWNER = re.compile(r"(?P<owner>/rest/v[\d.]+/(?:projects|companies)/[^/]+)/(?P<rest>.+)")


@dataclass(frozen=True)
class DeletionSource:
    """How to ask for the records of one list deleted within a ``filters[updated_at]`` range."""
    path: str                                   # the list to ask (the recycle bin, or the list itself)
    params: Mapping[str, Any] = field(default_factory=dict)   # query besides filters[updated_at]
    inline: bool = False                        # True: the list itself (filters[include_deleted]=with)

    @property
    def name(self) -> str:
        return INCLUDE_DELETED if self.inline else self.path

    @staticmethod
    def deleted(record: Any) -> bool:
        """A record of an ``include_deleted=with`` answer that is deleted."""
        return isinstance(record, dict) and bool(record.get("deleted_at"))


def deletion_source(path: str, params: Mapping[str, Any] | None = None) -> DeletionSource | None:
    """The documented source of deletions for the list at ``path`` (a concrete path) asked with
    ``params``; None when the reference documents none."""
    params = dict(params or {})
    listed = reference.lookup(path)
    if listed is None:
        return None
    if listed.documents(INCLUDE_DELETED):
        return DeletionSource(path, {**params, INCLUDE_DELETED: "with"}, inline=True)
    for candidate in _recycle_bins(path):
        documented = reference.lookup(candidate)
        if documented is None or not _is_recycle_bin(documented.path) or not documented.documents_filter("updated_at"):
            continue
        carried = {k: v for k, v in params.items()
                   if documented.documents(k) and not k.startswith(("filters[", "sort", "view", "page", "per_page"))}
        if documented.required_query - set(carried):
            continue
        return DeletionSource(candidate, carried)
    return None


def _recycle_bins(path: str) -> list[str]:
    """The places a recycle bin of ``path`` can have in Procore's reference."""
    out = [f"{path.rstrip('/')}/{RECYCLE_BIN}"]
    m = _OWNER.fullmatch(path)
    if m:
        out.append(f"{m['owner']}/{RECYCLE_BIN}/{m['rest']}")
    return out


def _is_recycle_bin(template: str) -> bool:
    """A recycle-bin list template (not ``.../{id}`` matching the word ``recycle_bin``)."""
    return RECYCLE_BIN in template.split("/") and not template.endswith("}")
