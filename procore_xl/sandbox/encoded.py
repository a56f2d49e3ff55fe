"""List answers' bodies made from each record's JSON, encoded once per record.

A list answer's body is ``[`` + the records' JSON joined by ``,`` + ``]``, byte for byte what
encoding the list at once gives. The world does not change a record in place (an edit, an add or a
deletion puts new records in its lists: :class:`~procore_xl.sandbox.world.World`), so a record
object's documented JSON can be kept and sent again: the sandbox answers a page of 1,000 RFIs in a
few milliseconds instead of about a tenth of a second of its own CPU, which a client measured
against it would otherwise pay on top of the latency the sandbox is told to model. A test may
still set a field of a record in place: the JSON is kept with a copy of the record's fields and
used only while the record still equals it (a comparison that takes the values' identity first).
"""
from __future__ import annotations

import threading

from .httputil import encode
from .published import Documented, documented_fields

MAX_KEPT = 400_000          # records kept encoded; past that the memory starts again (withheld fields
                            # make new record objects at every answer: they would otherwise pile up)


class EncodedRecords:
    """Each record's documented JSON, kept by the record object it was made from (thread-safe)."""

    def __init__(self, limit: int = MAX_KEPT):
        self._kept: dict[int, tuple[dict, dict, Documented, bytes]] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def list_body(self, doc: Documented, records: list) -> bytes:
        """The body of a list answer of ``records``, each with only its documented fields."""
        parts = []
        for record in records:
            hit = self._kept.get(id(record))
            # the very object (its id is not reused while it is held here), its fields as they were
            if hit is not None and hit[0] is record and hit[2] is doc and record == hit[1]:
                parts.append(hit[3])
                continue
            data = encode(documented_fields(doc, record))
            parts.append(data)
            if type(record) is dict:
                with self._lock:
                    if len(self._kept) >= self._limit:
                        self._kept.clear()
                    self._kept[id(record)] = (record, dict(record), doc, data)
        return b"[" + b",".join(parts) + b"]"
