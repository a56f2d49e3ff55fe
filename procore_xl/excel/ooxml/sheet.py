"""A worksheet part being changed: its rows kept as bytes and parsed only where a writer call
touches them, a report table streamed in (:mod:`.sheet_data`), and its head (frozen rows, column
widths) and tail (data validations, table parts) edited in place.

Rows from the first table row on (the old report table and what follows) are read only when a
call needs them, a chunk at a time (:mod:`.part_reader`): a row inside a table keeps only its
place and is read again from the package only if asked for.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
import zipfile
from typing import Any, Protocol

from openpyxl.utils import get_column_letter

from ...errors import ConfigurationError
from ..base import Rect
from ..values import TableData
from . import sheet_data
from .part_reader import PartReader, Reread, span_of
from .styles import Styles
from .table import TablePart
from .xml import NS_MAIN, NS_R, XML_DECLARATION, attrs, col_of, insert_before


class Package(Protocol):
    """What a sheet part needs of its package (:class:`.workbook.PackageWorkbook`): the zip it is
    read from, the styles its cells use, and a cell's value as openpyxl would read it."""

    zip: zipfile.ZipFile
    styles: Styles

    def decode(self, cell_xml: str) -> Any: ...

def closes(xml: str, root: str) -> bool:
    """Whether ``xml`` (a part, or its tail) ends its root element ``root`` (prefixed or not)."""
    return re.search(rf"</(?:[\w.-]+:)?{root}>\s*$", xml) is not None


def damaged(book: Any, what: str) -> ConfigurationError:
    """The one-line error for a workbook package that is damaged: what is wrong, and that the
    file was not changed."""
    name = getattr(book, "label", None) or "the workbook"
    return ConfigurationError(f"{name} is damaged: {what} - the file was not changed; open it in Excel to "
                              f"repair it, or build a new one with `procore-xl new-workbook`")


_SHARED_INDEX = re.compile(r'<f\b[^>]*\bsi="(\d+)"')
_ROW_NUMBER = re.compile(r'\br="(\d+)"')
_ROW_DROP = re.compile(r'\s*\b(r|spans)="[^"]*"')
_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_REF = re.compile(r'\br="([A-Z]+)(\d+)"')
# worksheet children that come after sheetData, in schema order (ECMA-376 CT_Worksheet)
_TAIL_ORDER = ["sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
               "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr", "conditionalFormatting",
               "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup", "headerFooter",
               "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags",
               "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
               "webPublishItems", "tableParts", "extLst"]


def _insert_in_order(xml: str, element: str, name: str) -> str:
    """Put ``element`` into the worksheet tail before the first sibling that must follow it."""
    return insert_before(xml, element, _TAIL_ORDER[_TAIL_ORDER.index(name) + 1:], "</worksheet>")


@dataclass
class NewCell:
    """A cell written through the writer interface (XML made when the sheet is saved)."""

    value: Any
    fmt: str | None = None
    bold: bool = False


class Row:
    """One ``<row>``: its attributes as they were (height, style...), its cells as XML bytes
    (not decoded: text with one character outside Latin-1 would take 4 bytes a character as
    ``str``; for a row of the old report table only its place in the part, read again if asked)
    until a writer call needs them one by one."""

    __slots__ = ("r", "attrs", "_data", "_start", "_end", "cells", "_span")

    def __init__(self, r: int, attrs: str, data: "bytes | Reread" = b"", start: int = 0, end: int = 0,
                 span: tuple[int, int] | None = None):
        self.r, self.attrs = r, attrs
        self._data, self._start, self._end = data, start, end
        self._span = span                   # (first, last) column, when known without the cells
        self.cells: dict[int, str | NewCell] | None = None

    def _bytes(self) -> bytes:
        if isinstance(self._data, Reread):     # a row of the old table: read again only if asked
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
        span = span_of(data, self._start, self._end)
        if span is None:                            # cells without references: look at each
            cells = self.parsed()
            return (min(cells), max(cells)) if cells else None
        return span


class SheetPart:
    """One worksheet part being changed: its rows as text, parsed where they are touched."""

    def __init__(self, book: Package, name: str, path: str, tables: list[TablePart]):
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

    @classmethod
    def empty(cls, book: Package, name: str, path: str) -> "SheetPart":
        """A new worksheet part with no cells (a sheet added to the package: ``_lists``)."""
        part = cls.__new__(cls)
        part.book, part.name, part.path, part.tables, part.rows, part.late = book, name, path, [], {}, None
        part.head = f'{XML_DECLARATION}<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">'
        part.tail = "</worksheet>"
        part.stream, part.changed, part.widths, part.freeze, part.validations = None, True, {}, None, []
        return part

    def _read(self, upto: int | None = None) -> None:
        """Head, the rows ``r < upto`` and, without ``upto``, the other rows and the tail of the
        part as it is in the package, read a chunk at a time (:class:`~.part_reader.PartReader`); each row's
        cells copied. With ``upto`` the part is read no further: :meth:`_read_late` goes on
        from there (the rest of the part is read once, not twice)."""
        with self.book.zip.open(self.path) as stream:
            reader = PartReader(stream)
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
            self.tail = self._whole(reader.tail().decode("utf-8"))

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
        reread = Reread(self.book.zip, self.path)
        spans: dict[tuple[int, int], tuple[int, int]] = {}     # one tuple per span: the rows of a table share it
        r = 0
        with self.book.zip.open(self.path) as stream:
            reader = PartReader(stream)
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
                span = span_of(buf, start, end)
                if span is not None and any(r1 <= r <= r2 and c1 <= span[0] and span[1] <= c2
                                            for r1, c1, r2, c2 in rects):
                    self.rows[r] = Row(r, kept, reread, base + start, base + end, spans.setdefault(span, span))
                else:
                    self.rows[r] = Row(r, kept, buf[start:end], 0, end - start)
            self.tail = self._whole(reader.tail().decode("utf-8"))

    def _whole(self, tail: str) -> str:
        """The part's tail, which must close the worksheet: a part cut short (a copy or a
        download that stopped half-way) is refused before anything is fetched or written."""
        if not closes(tail, "worksheet"):
            raise damaged(self.book, f'sheet "{self.name}" ({self.path}) is cut short')
        return tail

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
            if c1 <= span[0] and span[1] <= c2 and not row.attrs.strip():
                del self.rows[r]             # written as nothing either way: not kept until the save
            elif c1 <= span[0] and span[1] <= c2:
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
        return sheet_data.cell(f"{get_column_letter(c)}{r}", cell.value, self.book.styles, cell.fmt, cell.bold)

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
            width = max(data.width, 1) + len(calculated)      # as report_sheet.write_result sizes the table
            extra = {}
            for r in rows:                            # what the person keeps right of the table
                if top <= r <= last:
                    cells = self.rows[r].parsed()
                    extra[r] = "".join(self._cell_xml(r, c, v) for c, v in sorted(cells.items()) if c > width)
            yield "".join(self._row_xml(self.rows[r]) for r in rows if r < top)
            yield from sheet_data.table_rows(data, top, self.book.styles, calculated=calculated, extra=extra,
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

