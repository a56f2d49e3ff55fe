"""A workbook file refreshed by splicing: only the report's parts are rewritten.

:class:`PackageWorkbook` implements the part of :class:`~procore_xl.excel.base.WorkbookWriter`
that refreshing report sheets needs (cells, tables, frozen rows, column widths) directly on the
``.xlsx``/``.xlsm`` package (a zip of XML parts). Saving copies every part it did not touch
unchanged - the VBA project, the ribbon, the person's own sheets, charts, names, styles - and
writes new XML only for the sheets whose cells changed, their table parts, and ``styles.xml``
when a number format or bold font was missing. Report tables are streamed
(:mod:`~procore_xl.excel.sheet_xml`), never loaded: a sheet part is read a chunk at a time, the
rows of an old table keep only their place, and rows are only looked at where they hold
something beside or below the table.

What a sheet keeps: every cell it had, except the cells a writer call cleared or overwrote.
Sheets and workbook names are created by the openpyxl writer (a new workbook's skeleton); this
class fills and refreshes them.
"""
from __future__ import annotations

import io
import os
import posixpath
import re
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from xml.sax.saxutils import unescape

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import from_excel

from ..errors import ConfigurationError
from . import package_zip, sheet_xml
from .base import Rect, range_ref
from .values import TableData

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_TABLE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/table"
REL_CALC_CHAIN = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
CT_TABLE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
TABLE_STYLE = "TableStyleMedium2"
# Deflate level for the parts we write, chosen by measurement (benchmarks/write_speed.py --level N,
# 100,000 x 30 mixed cells, one run each on the shared 2-core machine): level 1 29.1 MiB in 9.7 s,
# level 3 24.8 MiB in 11.6 s, level 6 (zlib's default) 21.7 MiB in 19.8 s. Writing is what a
# refresh waits for; a third more file is cheap next to twice the time: level 1.
COMPRESS_LEVEL = 1
PART_READ_CHUNK = 1 << 20     # bytes of a sheet part read at a time

_ENTITIES = {"&quot;": '"', "&apos;": "'", "&#13;": "\r", "&#10;": "\n", "&#9;": "\t"}
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_SHARED_INDEX = re.compile(r'<f\b[^>]*\bsi="(\d+)"')
_ROW_NUMBER = re.compile(r'\br="(\d+)"')
_ROW_DROP = re.compile(r'\s*\b(r|spans)="[^"]*"')
_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF = re.compile(r'\br="([A-Z]+)(\d+)"')
_CELL_REF_BYTES = re.compile(rb'<c\b[^>]*?\br="([A-Z]+)\d+"')
_T = re.compile(r"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
_V = re.compile(r"<v>(.*?)</v>", re.S)
_F = re.compile(r"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_CHAR_REF = re.compile(r"&#(x[0-9A-Fa-f]+|[0-9]+);")
# worksheet children that come after sheetData, in schema order (ECMA-376 CT_Worksheet)
_TAIL_ORDER = ["sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
               "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
               "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
               "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
               "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
               "webPublishItems", "tableParts", "extLst"]


def attrs(tag: str) -> dict[str, str]:
    return {k: xml_text(v) for k, v in _ATTR.findall(tag)}


def xml_text(text: str) -> str:
    """Element text or attribute value -> str (entities and character references)."""
    if "&" not in text:
        return text
    text = _CHAR_REF.sub(lambda m: chr(int(m.group(1)[1:], 16) if m.group(1)[0] == "x" else int(m.group(1))),
                         text.replace("&amp;", "&\x00"))
    return unescape(text, _ENTITIES).replace("&\x00", "&")


def col_of(ref_letters: str) -> int:
    return column_index_from_string(ref_letters)


def _part_path(base: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _rels_path(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def _insert_in_order(xml: str, element: str, name: str) -> str:
    """Put ``element`` into the worksheet tail before the first sibling that must follow it."""
    for later in _TAIL_ORDER[_TAIL_ORDER.index(name) + 1:]:
        m = re.search(rf"<{later}\b", xml)
        if m:
            return xml[: m.start()] + element + xml[m.start():]
    end = xml.rindex("</worksheet>")
    return xml[:end] + element + xml[end:]


# -- styles -----------------------------------------------------------------------------------------
class Styles:
    """``xl/styles.xml``: the cell formats in use, and new ones (number format, bold) on demand."""

    def __init__(self, xml: str):
        self.xml = xml
        self.codes = dict(BUILTIN_FORMATS)
        for m in re.finditer(r"<numFmt\b([^>]*?)/?>", xml):
            a = attrs(m.group(1))
            self.codes[int(a["numFmtId"])] = a.get("formatCode", "")
        self.fonts = re.findall(r"<font\b[^>]*?(?:/>|>.*?</font>)", self._block("fonts"), re.S)
        self.xfs = re.findall(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", self._block("cellXfs"), re.S)
        self.new_fonts: list[str] = []
        self.new_xfs: list[str] = []
        self.new_codes: dict[int, str] = {}
        self._cache: dict[tuple[str | None, bool], int] = {}

    def _block(self, name: str) -> str:
        m = re.search(rf"<{name}\b[^>]*?(?:/>|>(.*?)</{name}>)", self.xml, re.S)
        return (m.group(1) or "") if m else ""

    def number_format(self, index: int) -> str:
        xfs = self.xfs + self.new_xfs
        if not 0 <= index < len(xfs):
            return "General"
        fid = int(attrs(xfs[index].split(">", 1)[0]).get("numFmtId", 0))
        return self.codes.get(fid, "General")

    def is_date(self, index: int) -> bool:
        return is_date_format(self.number_format(index))

    def __call__(self, fmt: str | None, bold: bool) -> int:
        """The ``cellXfs`` index for (number format, bold), added when missing."""
        key = (fmt, bold)
        if key not in self._cache:
            self._cache[key] = self._find_or_add(fmt, bold)
        return self._cache[key]

    def _format_id(self, fmt: str | None) -> int:
        if fmt in (None, "General"):
            return 0
        for fid, code in self.codes.items():
            if code == fmt:
                return fid
        fid = max([163, *(k for k in self.codes if k >= 164)]) + 1
        self.codes[fid] = self.new_codes[fid] = fmt
        return fid

    def _bold_font(self) -> int:
        fonts = self.fonts + self.new_fonts
        base = fonts[0] if fonts else "<font/>"
        if "<b/>" in base:
            return 0
        bold = base.replace("<font>", "<font><b/>", 1) if base.startswith("<font>") else "<font><b/></font>"
        if bold in fonts:
            return fonts.index(bold)
        self.new_fonts.append(bold)
        return len(fonts)

    def _find_or_add(self, fmt: str | None, bold: bool) -> int:
        fid = self._format_id(fmt)
        font = self._bold_font() if bold else 0
        xfs = self.xfs + self.new_xfs
        for i, xf in enumerate(xfs):
            if not xf.endswith("/>"):
                continue                            # alignment or protection: not a plain format
            a = attrs(xf)
            if (int(a.get("numFmtId", 0)), int(a.get("fontId", 0)), a.get("fillId", "0"),
                    a.get("borderId", "0")) == (fid, font, "0", "0"):
                return i
        apply = (' applyNumberFormat="1"' if fid else "") + (' applyFont="1"' if font else "")
        self.new_xfs.append(f'<xf numFmtId="{fid}" fontId="{font}" fillId="0" borderId="0" xfId="0"{apply}/>')
        return len(xfs)

    @property
    def changed(self) -> bool:
        """Whether a number format, font or cell format was added (else the part is copied)."""
        return bool(self.new_codes or self.new_fonts or self.new_xfs)

    def to_xml(self) -> str:
        xml = self.xml
        if self.new_codes:
            fmts = "".join(f'<numFmt numFmtId="{k}" formatCode="{sheet_xml.escape(v)}"/>'
                           for k, v in self.new_codes.items())
            if re.search(r"<numFmts\b[^>]*/>", xml):
                xml = re.sub(r"<numFmts\b[^>]*/>", f"<numFmts>{fmts}</numFmts>", xml, count=1)
            elif "<numFmts" in xml:
                xml = xml.replace("</numFmts>", fmts + "</numFmts>", 1)
            else:
                xml = re.sub(r"(<styleSheet\b[^>]*>)", rf"\1<numFmts>{fmts}</numFmts>", xml, count=1)
        for name, items in (("fonts", self.new_fonts), ("cellXfs", self.new_xfs)):
            if items:
                xml = xml.replace(f"</{name}>", "".join(items) + f"</{name}>", 1)
        for name, pattern in (("numFmts", r"<numFmt\b"), ("fonts", r"<font\b"), ("cellXfs", r"<xf\b")):
            m = re.search(rf"<{name}\b[^>]*>(.*?)</{name}>", xml, re.S)
            if m:
                count = len(re.findall(pattern, m.group(1)))
                start = xml[m.start(): m.start() + len(name) + 1 + m.group(0)[len(name) + 1:].index(">") + 1]
                fixed = re.sub(r'\scount="\d+"', "", start)[:-1] + f' count="{count}">'
                xml = xml[: m.start()] + fixed + xml[m.start() + len(start):]
        return xml


# -- cells -------------------------------------------------------------------------------------------
@dataclass
class NewCell:
    """A cell written through the writer interface (XML made when the sheet is saved)."""

    value: Any
    fmt: str | None = None
    bold: bool = False


class _Reread:
    """The bytes of a sheet part, read again from the package when a row kept only by its place
    needs its cells after all (once, shared by every such row of the part)."""

    def __init__(self, zip_file: zipfile.ZipFile, path: str):
        self._zip, self._path, self._bytes = zip_file, path, None

    def part_bytes(self) -> bytes:
        if self._bytes is None:
            self._bytes = self._zip.read(self._path)
        return self._bytes


def _span_of(data: bytes, start: int, end: int) -> tuple[int, int] | None:
    """(first, last) column of the cells in ``data[start:end]``, from the first and last cell
    references; None when a cell has no reference (or there is none)."""
    first, last = data.find(b"<c", start, end), data.rfind(b"<c", start, end)
    if first < 0:
        return None
    a, b = _CELL_REF_BYTES.match(data, first, end), _CELL_REF_BYTES.match(data, last, end)
    if a is None or b is None:
        return None
    return col_of(a.group(1).decode()), col_of(b.group(1).decode())


class _PartReader:
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


class Row:
    """One ``<row>``: its attributes as they were (height, style...), its cells as XML bytes
    (not decoded: text with one character outside Latin-1 would take 4 bytes a character as
    ``str``; for a row of the old report table only its place in the part, read again if asked)
    until a writer call needs them one by one."""

    __slots__ = ("r", "attrs", "_data", "_start", "_end", "cells", "_span")

    def __init__(self, r: int, attrs: str, data: "bytes | _Reread" = b"", start: int = 0, end: int = 0,
                 span: tuple[int, int] | None = None):
        self.r, self.attrs = r, attrs
        self._data, self._start, self._end = data, start, end
        self._span = span                   # (first, last) column, when known without the cells
        self.cells: dict[int, str | NewCell] | None = None

    def _bytes(self) -> bytes:
        if isinstance(self._data, _Reread):     # a row of the old table: read again only if asked
            self._data = self._data.part_bytes()
        return self._data

    @property
    def content(self) -> str:
        return self._bytes()[self._start:self._end].decode("utf-8")

    def drop(self) -> None:
        self.cells, self._data = {}, b""

    def parsed(self) -> dict[int, str | NewCell]:
        if self.cells is None:
            self.cells = {}
            col = 0
            for m in _CELL.finditer(self.content):
                ref = _REF.search(m.group(1))
                col = col_of(ref.group(1)) if ref else col + 1
                self.cells[col] = m.group(0)
            self._data = b""
        return self.cells

    def columns(self) -> tuple[int, int] | None:
        """(first, last) column holding a cell, without parsing every cell."""
        if self.cells is not None:
            return (min(self.cells), max(self.cells)) if self.cells else None
        if self._span is not None:
            return self._span
        data = self._bytes()
        if data.find(b"<c", self._start, self._end) < 0:
            return None
        span = _span_of(data, self._start, self._end)
        if span is None:                            # cells without references: look at each
            cells = self.parsed()
            return (min(cells), max(cells)) if cells else None
        return span


@dataclass
class TablePart:
    path: str
    xml: str
    rid: str | None = None
    new_rect: Rect | None = None
    header: list[str] | None = None
    calculated: list[tuple[str, str]] = field(default_factory=list)
    changed: bool = False

    @property
    def name(self) -> str:
        return attrs(re.search(r"<table\b([^>]*)>", self.xml).group(1)).get("displayName", "")

    @property
    def rect(self) -> Rect:
        ref = attrs(re.search(r"<table\b([^>]*)>", self.xml).group(1))["ref"]
        a, _, b = ref.partition(":")
        m1, m2 = re.match(r"([A-Z]+)(\d+)", a), re.match(r"([A-Z]+)(\d+)", b or a)
        return int(m1.group(2)), col_of(m1.group(1)), int(m2.group(2)), col_of(m2.group(1))

    def columns(self) -> list[tuple[str, str | None]]:
        out = []
        for m in re.finditer(r"<tableColumn\b([^>]*?)(?:/>|>(.*?)</tableColumn>)", self.xml, re.S):
            f = re.search(r"<calculatedColumnFormula\b[^>]*>(.*?)</calculatedColumnFormula>", m.group(2) or "", re.S)
            out.append((sheet_xml.unescape_text(attrs(m.group(1)).get("name", "")), xml_text(f.group(1)) if f else None))
        return out

    def to_xml(self) -> str:
        r1, c1, r2, c2 = self.new_rect
        ref = range_ref(self.new_rect)
        names = [*(self.header or []), *(n for n, _ in self.calculated)]
        cols = []
        for i, name in enumerate(names, start=1):
            formula = dict(self.calculated).get(name) if i > len(self.header or []) else None
            inner = (f"<calculatedColumnFormula>{sheet_xml.escape(formula)}</calculatedColumnFormula>"
                     if formula else "")
            cols.append(f'<tableColumn id="{i}" name="{sheet_xml.escape_text(name)}"'
                        + (f">{inner}</tableColumn>" if inner else "/>"))
        xml = self.xml
        same_columns = [n for n, _ in self.columns()] == names
        start = re.search(r"<table\b[^>]*>", xml)
        xml = xml[: start.start()] + re.sub(r'\bref="[^"]*"', f'ref="{ref}"', start.group(0), count=1) + xml[start.end():]
        af = re.search(r"<autoFilter\b[^>]*?(?:/>|>.*?</autoFilter>)", xml, re.S)
        if af:
            keep = af.group(0) if same_columns else f'<autoFilter ref="{ref}"/>'
            keep = re.sub(r'\bref="[^"]*"', f'ref="{ref}"', keep, count=1)
            xml = xml[: af.start()] + keep + xml[af.end():]
        block = f'<tableColumns count="{len(names)}">{"".join(cols)}</tableColumns>'
        xml = re.sub(r"<tableColumns\b.*?</tableColumns>", lambda _: block, xml, count=1, flags=re.S)
        return xml


def new_table_xml(table_id: int, name: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<table xmlns="{NS_MAIN}" id="{table_id}" '
            f'name="{name}" displayName="{name}" ref="A1:A2" totalsRowShown="0"><autoFilter ref="A1:A2"/>'
            f'<tableColumns count="1"><tableColumn id="1" name="Column1"/></tableColumns>'
            f'<tableStyleInfo name="{TABLE_STYLE}" showFirstColumn="0" showLastColumn="0" '
            f'showRowStripes="1" showColumnStripes="0"/></table>')


# -- sheets ------------------------------------------------------------------------------------------
class SheetPart:
    """One worksheet part being changed: its rows as text, parsed where they are touched."""

    def __init__(self, book: "PackageWorkbook", name: str, path: str, tables: list[TablePart]):
        self.book, self.name, self.path, self.tables = book, name, path, tables
        self.rows: dict[int, Row] = {}
        # rows from the first table row on (the report's data) are read only when a call needs
        # them: a refresh reads the parameter cells, runs the report, and only then the old table
        self.late = min((t.rect[0] for t in tables), default=None)
        self._read(upto=self.late)
        self.stream: tuple[int, TableData, list[tuple[str, str]]] | None = None
        self.changed = False
        self.widths: dict[int, float] = {}
        self.freeze: int | None = None
        self.validations: list[str] = []

    def _read(self, upto: int | None = None) -> None:
        """Head, the rows ``r < upto`` and, without ``upto``, the other rows and the tail of the
        part as it is in the package, read a chunk at a time (:class:`_PartReader`); each row's
        cells copied. With ``upto`` the part is read no further: :meth:`_read_late` goes on
        from there (the rest of the part is read once, not twice)."""
        with self.book.zip.open(self.path) as stream:
            reader = _PartReader(stream)
            head = reader.head()
            if head is None:
                raise ConfigurationError(f'Sheet "{self.name}" has a form procore-xl cannot read (no sheetData)')
            self.head = head.decode("utf-8")
            r = 0
            for ra, buf, _, start, end in reader.rows():
                found = _ROW_NUMBER.search(ra)
                r = int(found.group(1)) if found else r + 1
                if upto is not None and r >= upto:
                    return
                kept = _ROW_DROP.sub("", ra.rstrip("/"))
                self.rows[r] = Row(r, kept) if start < 0 else Row(r, kept, buf[start:end], 0, end - start)
            self.tail = reader.tail().decode("utf-8")

    def need(self, row: int | None = None) -> None:
        """Read the late rows when ``row`` (None: any row) is among them."""
        if self.late is not None and (row is None or row >= self.late):
            since, self.late = self.late, None
            self._read_late(since)

    def _read_late(self, since: int) -> None:
        """Rows from ``since`` on (the old report table and what follows), read a chunk at a
        time. A row inside a table, every cell within the table's columns (what a refresh
        clears), keeps only its place: its cells are read again from the package only if they
        are asked for (a refresh that fails writes the old table back). Memory: a chunk and the
        rows around the table, not the sheet (277 MiB of XML for 100,000 RFIs)."""
        rects = [t.rect for t in self.tables]
        reread = _Reread(self.book.zip, self.path)
        r = 0
        with self.book.zip.open(self.path) as stream:
            reader = _PartReader(stream)
            reader.head()
            for ra, buf, base, start, end in reader.rows():
                found = _ROW_NUMBER.search(ra)
                r = int(found.group(1)) if found else r + 1
                if r < since:
                    continue
                kept = _ROW_DROP.sub("", ra.rstrip("/"))
                if start < 0:
                    self.rows[r] = Row(r, kept)
                    continue
                span = _span_of(buf, start, end)
                if span is not None and any(r1 <= r <= r2 and c1 <= span[0] and span[1] <= c2
                                            for r1, c1, r2, c2 in rects):
                    self.rows[r] = Row(r, kept, reread, base + start, base + end, span)
                else:
                    self.rows[r] = Row(r, kept, buf[start:end], 0, end - start)
            self.tail = reader.tail().decode("utf-8")

    # cells
    def row(self, r: int) -> Row:
        self.need(r)
        if r not in self.rows:
            self.rows[r] = Row(r, "")
        return self.rows[r]

    def get(self, r: int, c: int) -> Any:
        self.need(r)
        row = self.rows.get(r)
        if row is None:
            return None
        cell = row.parsed().get(c)
        if isinstance(cell, NewCell):
            return cell.value
        return self.book.decode(cell) if cell else None

    def put(self, r: int, c: int, value: Any, fmt: str | None) -> None:
        cells = self.row(r).parsed()
        if value is None:
            cells.pop(c, None)
        else:
            cells[c] = NewCell(value, fmt)
        self.changed = True

    def clear(self, rect: Rect) -> None:
        r1, c1, r2, c2 = rect
        self.need(r2)
        for r in [r for r in self.rows if r1 <= r <= r2]:
            row = self.rows[r]
            span = row.columns()
            if span is None:
                continue
            if c1 <= span[0] and span[1] <= c2:
                row.drop()
            else:
                for c in [c for c in row.parsed() if c1 <= c <= c2]:
                    del row.cells[c]
        self.changed = True

    def occupied(self, rect: Rect) -> list[tuple[int, int]]:
        r1, c1, r2, c2 = rect
        self.need(r2)
        out = []
        for r, row in self.rows.items():
            if not r1 <= r <= r2:
                continue
            span = row.columns()
            if span is None or span[1] < c1 or span[0] > c2:
                continue
            out += [(r, c) for c in row.parsed() if c1 <= c <= c2]
        return out

    def last_row(self) -> int:
        self.need()
        return max((r for r, row in self.rows.items() if row.columns() is not None), default=0)

    # saving
    def _cell_xml(self, r: int, c: int, cell: str | NewCell) -> str:
        if isinstance(cell, str):
            return cell
        return sheet_xml.cell(f"{get_column_letter(c)}{r}", cell.value, self.book.styles, cell.fmt, cell.bold)

    def _row_xml(self, row: Row) -> str:
        if row.cells is None:
            inner = row.content or ""
        else:
            inner = "".join(self._cell_xml(row.r, c, row.cells[c]) for c in sorted(row.cells))
        if not inner and not row.attrs.strip():
            return ""
        return f'<row r="{row.r}"{row.attrs}>{inner}</row>' if inner else f'<row r="{row.r}"{row.attrs}/>'

    def chunks(self) -> Iterable[str]:
        self.need()
        yield self._head()
        yield "<sheetData>"
        rows = sorted(self.rows)
        if self.stream is None:
            for r in rows:
                yield self._row_xml(self.rows[r])
        else:
            top, data, calculated = self.stream
            last = top + max(data.nrows, 1)
            width = max(data.width + len(calculated), 1)
            extra = {}
            for r in rows:                            # what the person keeps right of the table
                if top <= r <= last:
                    cells = self.rows[r].parsed()
                    extra[r] = "".join(self._cell_xml(r, c, v) for c, v in sorted(cells.items()) if c > width)
            yield "".join(self._row_xml(self.rows[r]) for r in rows if r < top)
            yield from sheet_xml.table_rows(data, top, self.book.styles, calculated=calculated, extra=extra,
                                            first_si=self._free_shared_index() if calculated else 0)
            if data.nrows == 0 and not calculated:
                yield f'<row r="{top + 1}">{extra.get(top + 1, "")}</row>'
            for r in rows:
                if r > last:
                    yield self._row_xml(self.rows[r])
        yield "</sheetData>"
        yield self._tail()

    def _free_shared_index(self) -> int:
        """One more than the highest shared-formula index of the cells the sheet keeps."""
        used = [-1]
        for row in self.rows.values():
            texts = [c for c in row.cells.values() if isinstance(c, str)] if row.cells is not None else [row.content]
            used += [int(i) for t in texts if "si=" in t for i in _SHARED_INDEX.findall(t)]
        return max(used) + 1

    def _head(self) -> str:
        head = re.sub(r"<dimension\b[^>]*/>", "", self.head, count=1)
        if self.freeze is not None:
            n = self.freeze
            pane = (f'<pane ySplit="{n}" topLeftCell="A{n + 1}" activePane="bottomLeft" state="frozen"/>'
                    f'<selection pane="bottomLeft" activeCell="A{n + 1}" sqref="A{n + 1}"/>')
            m = re.search(r"<sheetView\b([^>]*?)(/>|>(.*?)</sheetView>)", head, re.S)
            if m is None:
                view = f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
                anchor = re.search(r"<sheetFormatPr\b|<cols\b|$", head)
                head = head[: anchor.start()] + view + head[anchor.start():]
            elif not re.search(rf'<pane\b[^>]*ySplit="{n}"[^>]*state="frozen"', m.group(0)):
                head = head[: m.start()] + f"<sheetView{m.group(1)}>{pane}</sheetView>" + head[m.end():]
        if self.widths:
            m = re.search(r"<cols>(.*?)</cols>", head, re.S)
            have = re.findall(r"<col\b[^>]*/>", m.group(1)) if m else []
            taken = set()
            for col in have:
                a = attrs(col)
                taken.update(range(int(a["min"]), int(a["max"]) + 1))
            new = [f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>'
                   for c, w in self.widths.items() if c not in taken]
            cols = sorted(have + new, key=lambda x: int(attrs(x)["min"]))
            block = f"<cols>{''.join(cols)}</cols>"
            head = head[: m.start()] + block + head[m.end():] if m else head + block
        return head

    def _tail(self) -> str:
        tail = self.tail
        if self.validations:
            new = "".join(self.validations)
            m = re.search(r"<dataValidations\b[^>]*>", tail)
            if m:
                n = len(re.findall(r"<dataValidation\b", tail)) + len(self.validations)
                tail = tail.replace("</dataValidations>", new + "</dataValidations>", 1)
                tail = tail[: m.start()] + f'<dataValidations count="{n}">' + tail[m.end():]
            else:
                tail = _insert_in_order(tail, f'<dataValidations count="{len(self.validations)}">{new}'
                                              f"</dataValidations>", "dataValidations")
        new_parts = [t for t in self.tables if t.rid and f'r:id="{t.rid}"' not in tail]
        if new_parts:
            ids = re.findall(r"<tablePart\b[^>]*/>", tail)
            ids += [f'<tablePart xmlns:r="{NS_R}" r:id="{t.rid}"/>' for t in new_parts]
            block = f'<tableParts count="{len(ids)}">{"".join(ids)}</tableParts>'
            if "<tableParts" in tail:
                tail = re.sub(r"<tableParts\b.*?(?:</tableParts>|/>)", lambda _: block, tail, count=1, flags=re.S)
            else:
                tail = _insert_in_order(tail, block, "tableParts")
        return tail


# -- the package -----------------------------------------------------------------------------------
class PackageWorkbook:
    """Report sheets of one workbook file, refreshed by splicing (see module doc)."""

    def __init__(self, source: str | os.PathLike | BinaryIO | bytes):
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        try:
            self.zip = zipfile.ZipFile(source)
            self.names = self.zip.namelist()
            self.workbook_xml = self._text("xl/workbook.xml")
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            name = os.path.basename(str(source)) if not hasattr(source, "read") else "the workbook"
            raise ConfigurationError(f"{name} is not an Excel workbook procore-xl can read ({exc})") from None
        self.rels = self._rels("xl/workbook.xml")
        self.sheets: dict[str, str] = {}
        for m in re.finditer(r"<sheet\b([^>]*?)/?>", self.workbook_xml):
            a = attrs(m.group(1))
            rid = a.get("r:id") or next((v for k, v in a.items() if k.endswith(":id")), None)
            if rid in self.rels:
                self.sheets[a["name"]] = self.rels[rid][1]
        self.content_types = self._text("[Content_Types].xml")
        self.styles = Styles(self._text("xl/styles.xml")) if "xl/styles.xml" in self.names else Styles(
            f'<styleSheet xmlns="{NS_MAIN}"><fonts count="1"><font/></fonts><cellXfs count="1"><xf/></cellXfs>'
            f"</styleSheet>")
        self._parts: dict[str, SheetPart] = {}
        self._tables: dict[str, list[TablePart]] = {}
        self._sst: list[str] | None = None
        self._new_rels: dict[str, list[tuple[str, str, str]]] = {}
        self.new_overrides: list[str] = []
        self.formulas_written = False

    def _text(self, name: str) -> str:
        return self.zip.read(name).decode("utf-8")

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, part path) of ``part``."""
        path = _rels_path(part)
        if path not in self.names:
            return {}
        out = {}
        for m in re.finditer(r"<Relationship\b([^>]*?)/?>", self._text(path)):
            a = attrs(m.group(1))
            if a.get("TargetMode") != "External":
                out[a["Id"]] = (a["Type"], _part_path(part, a["Target"]))
        return out

    # reading cell values
    def shared_strings(self) -> list[str]:
        if self._sst is None:
            self._sst = []
            path = next((p for t, p in self.rels.values() if t.endswith("/sharedStrings")), None)
            if path and path in self.names:
                for si in re.finditer(r"<si>(.*?)</si>", self._text(path), re.S):
                    body = re.sub(r"<rPh\b.*?</rPh>", "", si.group(1), flags=re.S)
                    self._sst.append(sheet_xml.unescape_text("".join(xml_text(t or "") for t in _T.findall(body))))
        return self._sst

    def decode(self, cell_xml: str) -> Any:
        """A cell's value as openpyxl would read it."""
        head = cell_xml.split(">", 1)[0]
        a = attrs(head)
        kind = a.get("t", "n")
        f = _F.search(cell_xml)
        if f and f.group(1):
            return "=" + xml_text(f.group(1))
        if kind == "inlineStr":
            return sheet_xml.unescape_text("".join(xml_text(t or "") for t in _T.findall(cell_xml)))
        v = _V.search(cell_xml)
        if v is None:
            return None
        text = xml_text(v.group(1))
        if kind == "s":
            sst = self.shared_strings()
            return sst[int(text)] if int(text) < len(sst) else None
        if kind == "str":
            return sheet_xml.unescape_text(text)
        if kind == "e":
            return text
        if kind == "b":
            return text == "1"
        if "s" in a and self.styles.is_date(int(a["s"])):
            return from_excel(float(text))
        return float(text) if any(ch in text for ch in ".Ee") else int(text)

    # parts
    def tables_of(self, sheet: str) -> list[TablePart]:
        path = self.sheets[sheet]
        if path not in self._tables:
            self._tables[path] = [TablePart(p, self._text(p), rid)
                                  for rid, (t, p) in self._rels(path).items() if t == REL_TABLE and p in self.names]
        return self._tables[path]

    def part(self, sheet: str) -> SheetPart:
        if sheet not in self.sheets:
            raise KeyError(sheet)
        path = self.sheets[sheet]
        if path not in self._parts:
            self._parts[path] = SheetPart(self, sheet, path, self.tables_of(sheet))
        return self._parts[path]

    def _find_table(self, name: str) -> tuple[str, TablePart] | None:
        for sheet in self.sheets:
            for t in self.tables_of(sheet):
                if t.name.lower() == name.lower():
                    return sheet, t
        return None

    # -- WorkbookWriter ------------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return list(self.sheets)

    def active_sheet(self) -> str | None:
        m = re.search(r'<workbookView\b[^>]*\bactiveTab="(\d+)"', self.workbook_xml)
        names = list(self.sheets)
        return names[int(m.group(1)) if m else 0] if names else None

    def read(self, sheet: str, row: int, col: int, nrows: int, ncols: int) -> list[list[Any]]:
        part = self.part(sheet)
        return [[part.get(r, c) for c in range(col, col + ncols)] for r in range(row, row + nrows)]

    def write(self, sheet: str, row: int, col: int, rows: list[list[Any]],
              formats: list[str | None] | None = None) -> None:
        part = self.part(sheet)
        fmts = list(formats or [])
        for r, values in enumerate(rows, start=row):
            for j, v in enumerate(values):
                part.put(r, col + j, v, fmts[j] if j < len(fmts) else None)

    def write_table(self, sheet: str, top: int, data: TableData,
                    calculated: list[tuple[str, str]] = ()) -> None:
        """Header on row ``top``, the rows under it, calculated columns after: streamed on save."""
        part = self.part(sheet)
        part.stream = (top, data, list(calculated))
        part.changed = True
        self.formulas_written = self.formulas_written or bool(calculated)

    def clear(self, sheet: str, rect: Rect) -> None:
        self.part(sheet).clear(rect)

    def occupied(self, sheet: str, rect: Rect) -> list[tuple[int, int]]:
        return self.part(sheet).occupied(rect)

    def set_bold(self, sheet: str, rect: Rect) -> None:
        part = self.part(sheet)
        r1, c1, r2, c2 = rect
        for r in range(r1, r2 + 1):
            cells = part.row(r).parsed()
            for c in range(c1, c2 + 1):
                cell = cells.get(c)
                if isinstance(cell, str):
                    cell = NewCell(self.decode(cell), self._format_of(cell))
                if cell is not None:
                    cell.bold = True
                    cells[c] = cell
        part.changed = True

    def _format_of(self, cell_xml: str) -> str | None:
        s = attrs(cell_xml.split(">", 1)[0]).get("s")
        fmt = self.styles.number_format(int(s)) if s else "General"
        return None if fmt == "General" else fmt

    def last_row(self, sheet: str) -> int:
        return self.part(sheet).last_row()

    def table_names(self) -> list[str]:
        return [t.name for s in self.sheets for t in self.tables_of(s)]

    def table_rect(self, sheet: str, name: str) -> Rect | None:
        found = self._find_table(name)
        if found is None or found[0] != sheet:
            return None
        return found[1].new_rect or found[1].rect

    def table_columns(self, sheet: str, name: str) -> list[tuple[str, str | None]]:
        found = self._find_table(name)
        return found[1].columns() if found and found[0] == sheet else []

    def set_table(self, sheet: str, name: str, rect: Rect) -> None:
        found = self._find_table(name)
        if found is not None and found[0] != sheet:
            raise ValueError(f"Table {name} already exists on sheet {found[0]}")
        part = self.part(sheet)
        if found is None:
            table = self._add_table(sheet, name)
        else:
            table = found[1]
        header = part.stream[1].header if part.stream else None
        table.new_rect, table.header = rect, header or ["(no columns)"]
        table.calculated = part.stream[2] if part.stream else []
        table.changed = part.changed = True

    def _add_table(self, sheet: str, name: str) -> TablePart:
        ids = [int(attrs(re.search(r"<table\b([^>]*)>", t.xml).group(1)).get("id", 0))
               for s in self.sheets for t in self.tables_of(s)]
        n = 1
        while f"xl/tables/table{n}.xml" in self.names or any(
                t.path == f"xl/tables/table{n}.xml" for ts in self._tables.values() for t in ts):
            n += 1
        path = f"xl/tables/table{n}.xml"
        sheet_path = self.sheets[sheet]
        have = set(self._rels(sheet_path)) | {r for r, _, _ in self._new_rels.get(sheet_path, [])}
        k = 1
        while f"rIdProcore{k}" in have:
            k += 1
        rid = f"rIdProcore{k}"
        self._new_rels.setdefault(sheet_path, []).append((rid, REL_TABLE, path))
        self.new_overrides.append(f'<Override PartName="/{path}" ContentType="{CT_TABLE}"/>')
        table = TablePart(path, new_table_xml(max(ids, default=0) + 1, name), rid)
        self.tables_of(sheet).append(table)
        return table

    def remove_table(self, sheet: str, name: str) -> None:
        """The table's cells are cleared; the part is kept and moved by the next set_table."""
        rect = self.table_rect(sheet, name)
        if rect is not None:
            self.clear(sheet, rect)

    def freeze_rows(self, sheet: str, nrows: int) -> None:
        part = self.part(sheet)
        part.freeze = nrows
        part.changed = True

    def set_column_widths(self, sheet: str, widths: dict[int, float]) -> None:
        """Widths for columns that have none yet: a width the person set is kept."""
        part = self.part(sheet)
        part.widths.update(widths)
        part.changed = True

    def status(self, text: str | None) -> None:
        pass

    def alert(self, text: str) -> None:
        pass

    def close(self) -> None:
        """Let go of the source file (done by :meth:`save`; safe to call twice)."""
        self.zip.close()

    # -- saving --------------------------------------------------------------------------------------
    def save(self, target: str | os.PathLike) -> None:
        """Write the package to ``target`` (a new file): changed parts rewritten, the rest copied;
        relationship targets relative, ZIP64 only for an entry larger than 4 GiB
        (:mod:`~procore_xl.excel.package_zip`: such an entry is found while it is written, and the
        package is then written again with ZIP64 for it)."""
        changed = {p.path for p in self._parts.values() if p.changed}
        zip64 = {i.filename for i in self.zip.infolist()          # a part copied as it is: its size is known
                 if i.file_size > zipfile.ZIP64_LIMIT and i.filename not in changed}
        while True:
            try:
                self._save(target, zip64)
                break
            except package_zip.EntryTooLarge as big:
                zip64.add(big.name)
        self.zip.close()

    def _save(self, target: str | os.PathLike, zip64: set[str]) -> None:
        changed = {p.path: p for p in self._parts.values() if p.changed}
        tables = {t.path: t for ts in self._tables.values() for t in ts if t.changed}
        drop = set()
        if changed:                                   # Excel rebuilds the calculation chain
            drop = {p for t, p in self.rels.values() if t == REL_CALC_CHAIN}
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as out:
            for info in self.zip.infolist():
                name = info.filename
                if name in drop or name == "xl/styles.xml":
                    continue
                if name in changed:
                    package_zip.write_entry(out, _copy_info(info), (c.encode("utf-8") for c in changed[name].chunks()),
                                            zip64)
                elif name in tables:
                    out.writestr(_copy_info(info), tables[name].to_xml().encode("utf-8"))
                else:
                    patched = self._patched(name, drop)
                    if patched is not None:
                        out.writestr(_copy_info(info), patched.encode("utf-8"))
                    else:
                        with self.zip.open(info) as src:
                            package_zip.write_entry(out, _copy_info(info), iter(lambda: src.read(1 << 20), b""),
                                                    zip64)
            for t in tables.values():
                if t.path not in self.names:
                    out.writestr(_new_info(t.path), t.to_xml().encode("utf-8"))
            for sheet_path, rels in self._new_rels.items():
                rpath = _rels_path(sheet_path)
                if rpath not in self.names:
                    out.writestr(_new_info(rpath), _rels_xml("", rels, rpath).encode("utf-8"))
            if "xl/styles.xml" in self.names:          # last: the sheets above may have added formats
                info = self.zip.getinfo("xl/styles.xml")
                out.writestr(_copy_info(info), self.styles.to_xml().encode("utf-8") if self.styles.changed
                             else self.zip.read(info))

    def _patched(self, name: str, drop: set[str]) -> str | None:
        """New text for the package-level parts a change touches; None to copy the part."""
        if name == "[Content_Types].xml" and (self.new_overrides or drop):
            xml = self.content_types
            for p in drop:
                xml = re.sub(rf'<Override\b[^>]*PartName="/{re.escape(p)}"[^>]*/>', "", xml)
            return xml.replace("</Types>", "".join(self.new_overrides) + "</Types>", 1)
        if name.endswith(".rels"):                    # targets relative, as Excel writes them
            xml = self._text(name)
            if name == "xl/_rels/workbook.xml.rels" and drop:
                xml = re.sub(r"<Relationship\b[^>]*calcChain[^>]*/>", "", xml)
            new = [rels for sheet_path, rels in self._new_rels.items() if name == _rels_path(sheet_path)]
            if new:
                xml = _rels_xml(xml, new[0], name)
            fixed = package_zip.relative_targets(name, xml)
            return fixed if fixed != self._text(name) else None
        if name == "xl/workbook.xml" and self.formulas_written:
            xml = self.workbook_xml
            if re.search(r"<calcPr\b", xml):
                if "fullCalcOnLoad" not in xml:
                    xml = re.sub(r"<calcPr\b", '<calcPr fullCalcOnLoad="1"', xml, count=1)
                return xml
            return xml.replace("</workbook>", '<calcPr fullCalcOnLoad="1"/></workbook>', 1)
        return None


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type = zipfile.ZIP_DEFLATED if info.compress_type == zipfile.ZIP_STORED and info.file_size > 1024 \
        else info.compress_type
    new.external_attr = info.external_attr
    for name in ("compress_level", "_compresslevel"):          # its Python 3.13 and 3.11 names
        try:
            setattr(new, name, COMPRESS_LEVEL)
            break
        except AttributeError:
            continue
    return new


def _new_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return _copy_info(info)


def _rels_xml(xml: str, rels: list[tuple[str, str, str]], rels_path: str) -> str:
    """``xml`` (a .rels part; empty: a new one) with the relationships ``rels`` (id, type, part)
    added, their targets relative to the source part (``../tables/table1.xml``)."""
    items = "".join(f'<Relationship Id="{rid}" Type="{t}" Target="{package_zip.relative_target(rels_path, p)}"/>'
                    for rid, t, p in rels)
    if not xml:
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
                f'"http://schemas.openxmlformats.org/package/2006/relationships">{items}</Relationships>')
    return xml.replace("</Relationships>", items + "</Relationships>", 1)

