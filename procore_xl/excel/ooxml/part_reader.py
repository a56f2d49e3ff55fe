"""A worksheet part read a chunk at a time: the XML before sheetData, its rows, the XML after.

A report sheet of 100,000 RFIs is 277 MiB of XML: it is never held whole. :class:`PartReader`
gives each row as the buffer holding it and where its cells are; :class:`Reread` reads the part
again when a row kept only by its place needs its cells after all.
"""
from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from .xml import col_of

PART_READ_CHUNK = 1 << 20     # bytes of a sheet part read at a time
_CELL_REF_BYTES = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)\d+"')


class Reread:
    """The bytes of a sheet part, read again from the package when a row kept only by its place
    needs its cells after all (once, shared by every such row of the part)."""

    def __init__(self, zip_file: zipfile.ZipFile, path: str):
        self._zip, self._path, self._bytes = zip_file, path, None

    def part_bytes(self) -> bytes:
        if self._bytes is None:
            self._bytes = self._zip.read(self._path)
        return self._bytes


def span_of(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    """(first, last) column of the cells in ``data[start:end]``, from the first and last cell
    references; None when a cell has no reference (or there is none)."""
    first, last = data.find(b"<c", start, end), data.rfind(b"<c", start, end)
    if first < 0:
        return None
    a, b = _CELL_REF_BYTES.match(data, first, end), _CELL_REF_BYTES.match(data, last, end)
    if a is None or b is None:
        return None
    return col_of(a.group(1).decode()), col_of(b.group(1).decode())


class PartReader:
    """A worksheet part read ``chunk`` bytes at a time, in order: :meth:`head` (the XML before
    sheetData), :meth:`rows`, :meth:`tail` (the XML after it). Memory: a chunk and the row being
    read, never the part (a report sheet of 100,000 RFIs is 277 MiB of XML)."""

    def __init__(self, stream: BinaryIO, chunk: int = PART_READ_CHUNK):
        self._stream, self._chunk = stream, chunk
        self.buf, self.base, self.pos = b"", 0, 0    # buf holds the part's bytes from offset base
        self._open = True                            # sheetData has rows to read (not <sheetData/>)

    def _more(self, keep_from: int) -> bool:
        """Drop the buffer before ``keep_from``, read a chunk more; False at the end of the part."""
        data = self._stream.read(self._chunk)
        self.buf, self.base = self.buf[keep_from:] + data, self.base + keep_from
        self.pos = max(self.pos - keep_from, 0)
        return bool(data)

    def head(self) -> bytes | None:
        """The XML before ``<sheetData``; None when the part has none."""
        while True:
            at = self.buf.find(b"<sheetData", self.pos)
            opened = self.buf.find(b">", at) if at >= 0 else -1
            if opened >= 0:
                self._open = self.buf[opened - 1:opened] != b"/"
                head, self.pos = self.buf[:at], opened + 1
                return head
            if not self._more(0):
                return None

    def rows(self) -> Iterator[tuple[str, bytes, int, int, int]]:
        """Each ``<row>``: (its tag's attributes, the buffer holding it, the buffer's offset in
        the part, where its cells start and end in the buffer; -1, -1 for an empty ``<row/>``)."""
        if not self._open:                            # <sheetData/>
            return
        body_end = self.buf.find(b"</sheetData>", self.pos)
        while True:
            buf, pos = self.buf, self.pos
            row_at = buf.find(b"<row", pos)
            if body_end >= 0 and (row_at < 0 or body_end < row_at):
                self.pos = body_end
                return
            tag_end = buf.find(b">", row_at) if row_at >= 0 else -1
            if tag_end >= 0:
                empty = buf[tag_end - 1:tag_end] == b"/"
                close = tag_end if empty else buf.find(b"</row>", tag_end)
                if close >= 0:
                    self.pos = tag_end + 1 if empty else close + 6
                    attrs = buf[row_at + 4:tag_end].decode("utf-8")
                    yield (attrs, buf, self.base, -1, -1) if empty else (attrs, buf, self.base, tag_end + 1, close)
                    continue
            keep = row_at if row_at >= 0 else max(pos, len(buf) - 16)   # the row goes on in the next chunk
            if not self._more(keep):
                return
            body_end = self.buf.find(b"</sheetData>", self.pos)

    def tail(self) -> bytes:
        """The XML after sheetData (the rows not read yet are skipped)."""
        if self._open:
            while (end := self.buf.find(b"</sheetData>", self.pos)) < 0:
                if not self._more(max(self.pos, len(self.buf) - 16)):
                    return b""
            self.pos = end + len(b"</sheetData>")
        rest = [self.buf[self.pos:]]
        while data := self._stream.read(self._chunk):
            rest.append(data)
        return b"".join(rest)
