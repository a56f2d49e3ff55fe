"""Bytes a long pull keeps until its end, kept on disk once they grow: a report's pages waiting
to be saved in the record store, a table's pickled columns. Memory then holds what is being
worked on (a page, a block), not the whole report.

A :class:`Spill` stays in memory up to ``SPILL_AFTER`` bytes, then moves to an unnamed temporary
file (created 0600 and unlinked at once on POSIX, so nothing is left behind even when the process
is killed; on Windows it is deleted when closed)."""
from __future__ import annotations

import tempfile
import threading

SPILL_AFTER = 8 * 2**20     # bytes held in memory before moving to disk: small reports never touch it


class Spill:
    """Append-only blobs: :meth:`put` returns a handle that :meth:`get` reads back."""

    def __init__(self, max_memory: int = SPILL_AFTER):
        self._file = tempfile.SpooledTemporaryFile(max_size=max_memory, prefix="procore-xl-")
        self._max_memory = max_memory
        self._end = 0
        self._lock = threading.Lock()          # one file position, shared by every reader

    def put(self, blob: bytes) -> tuple[int, int]:
        with self._lock:
            self._file.seek(self._end)
            self._file.write(blob)
            handle = (self._end, len(blob))
            self._end += len(blob)
        return handle

    def get(self, handle: tuple[int, int]) -> bytes:
        at, size = handle
        with self._lock:
            self._file.seek(at)
            return self._file.read(size)

    @property
    def on_disk(self) -> bool:
        return self._end > self._max_memory

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
