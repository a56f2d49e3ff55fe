"""A workbook file refreshed by splicing: only the report's parts are rewritten.

:class:`PackageWorkbook` implements the part of :class:`~procore_xl.excel.base.WorkbookWriter`
that refreshing report sheets needs (cells, tables, frozen rows, column widths) directly on the
``.xlsx``/``.xlsm`` package (a zip of XML parts). Saving copies every part it did not touch
unchanged - the VBA project, the ribbon, the person's own sheets, charts, names, styles - and
writes new XML only for the sheets whose cells changed, their table parts, and ``styles.xml``
when a number format or bold font was missing. Report tables are streamed
(:mod:`.sheet_data`), never loaded: a sheet part is read a chunk at a time, the
rows of an old table keep only their place, and rows are only looked at where they hold
something beside or below the table.

What a sheet keeps: every cell it had, except the cells a writer call cleared or overwrote.
Sheets and workbook names are created by the openpyxl writer (a new workbook's skeleton); this
class fills and refreshes them, and adds back a hidden sheet and its names the person deleted
(``_lists``, the dropdowns' source: ``dropdowns.ensure_lists``).
"""
from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from typing import Any, BinaryIO

from openpyxl.utils.datetime import from_excel

from ...errors import ConfigurationError
from ..base import Rect, parse_target, sheet_range_ref
from ..values import TableData
from . import container
from .relationships import (REL_CALC_CHAIN, add_relationships, add_types, free_id, internal_parts, override,
                            relationship, relative_target, relative_targets, rels_path, remove_overrides,
                            remove_relationships)
from .sheet import NewCell, SheetPart, closes, damaged
from .styles import EMPTY_STYLES, Styles
from .table import CT_TABLE, REL_TABLE, TablePart, new_table_xml
from .xml import NS_R, attrs, escape, insert_before, unescape_text, xml_text

REL_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_AFTER_NAMES = ["calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst"]   # workbook.xml's order
_T = re.compile(r"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
_V = re.compile(r"<v>(.*?)</v>", re.S)
_F = re.compile(r"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)


class PackageWorkbook:
    """Report sheets of one workbook file, refreshed by splicing (see module doc)."""

    streams_tables = True      # write_table's data is read when the sheet is saved, a block at a time

    def __init__(self, source: str | os.PathLike | BinaryIO | bytes):
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        name = os.path.basename(str(source)) if not hasattr(source, "read") else "the workbook"
        self.label = name            # for messages
        try:
            self.zip = zipfile.ZipFile(source)
            self.names = self.zip.namelist()
            self.workbook_xml = self._text("xl/workbook.xml")
            self.content_types = self._text("[Content_Types].xml")
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise ConfigurationError(f"{name} is not an Excel workbook procore-xl can read ({exc})") from None
        except (zlib.error, EOFError, UnicodeDecodeError) as exc:
            raise damaged(self, f"its workbook part cannot be read ({exc})") from None
        for part, text, root in (("xl/workbook.xml", self.workbook_xml, "workbook"),
                                 ("[Content_Types].xml", self.content_types, "Types")):
            if not closes(text, root):
                raise damaged(self, f"{part} is cut short")
        self.rels = self._rels("xl/workbook.xml")
        self.sheets: dict[str, str] = {}
        for m in re.finditer(r"<sheet\b([^>]*?)/?>", self.workbook_xml):
            a = attrs(m.group(1))
            rid = a.get("r:id") or next((v for k, v in a.items() if k.endswith(":id")), None)
            if rid in self.rels:
                self.sheets[a["name"]] = self.rels[rid][1]
        self.styles = Styles(self._text("xl/styles.xml") if "xl/styles.xml" in self.names else EMPTY_STYLES)
        self._parts: dict[str, SheetPart] = {}
        self._tables: dict[str, list[TablePart]] = {}
        self._sst: list[str] | None = None
        self._new_rels: dict[str, list[tuple[str, str, str]]] = {}
        self.new_overrides: list[str] = []
        self.formulas_written = False
        self.workbook_changed = False    # a sheet or a name added (workbook.xml rewritten)

    def _text(self, name: str) -> str:
        return self.zip.read(name).decode("utf-8")

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, part path) of ``part``."""
        path = rels_path(part)
        return internal_parts(self._text(path), part) if path in self.names else {}

    # reading cell values
    def shared_strings(self) -> list[str]:
        if self._sst is None:
            self._sst = []
            path = next((p for t, p in self.rels.values() if t.endswith("/sharedStrings")), None)
            if path and path in self.names:
                for si in re.finditer(r"<si>(.*?)</si>", self._text(path), re.S):
                    body = re.sub(r"<rPh\b.*?</rPh>", "", si.group(1), flags=re.S)
                    self._sst.append(unescape_text("".join(xml_text(t or "") for t in _T.findall(body))))
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
            return unescape_text("".join(xml_text(t or "") for t in _T.findall(cell_xml)))
        v = _V.search(cell_xml)
        if v is None:
            return None
        text = xml_text(v.group(1))
        if kind == "s":
            sst = self.shared_strings()
            return sst[int(text)] if int(text) < len(sst) else None
        if kind == "str":
            return unescape_text(text)
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
            if path not in self.names:
                raise damaged(self, f'sheet "{sheet}" has no part ({path})')
            try:
                self._parts[path] = SheetPart(self, sheet, path, self.tables_of(sheet))
            except (zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError) as exc:
                raise damaged(self, f'sheet "{sheet}" cannot be read ({exc})') from None
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
        rid = free_id([*self._rels(sheet_path), *(r for r, _, _ in self._new_rels.get(sheet_path, []))])
        self._new_rels.setdefault(sheet_path, []).append((rid, REL_TABLE, path))
        self.new_overrides.append(override(path, CT_TABLE))
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

    def add_sheet(self, name: str, *, hidden: bool = False) -> None:
        """A new empty sheet after the others (in the package when saved)."""
        n = 1
        while f"xl/worksheets/sheet{n}.xml" in self.names or f"xl/worksheets/sheet{n}.xml" in self._parts:
            n += 1
        path = f"xl/worksheets/sheet{n}.xml"
        rid = free_id([*self.rels, *(r for r, _, _ in self._new_rels.get("xl/workbook.xml", []))])
        self._new_rels.setdefault("xl/workbook.xml", []).append((rid, REL_WORKSHEET, path))
        self.new_overrides.append(override(path, CT_WORKSHEET))
        ids = [int(i) for i in re.findall(r'<sheet\b[^>]*\bsheetId="(\d+)"', self.workbook_xml)]
        state = ' state="hidden"' if hidden else ""
        root = re.search(r"<workbook\b[^>]*>", self.workbook_xml)
        ns = "" if root and f'xmlns:r="{NS_R}"' in root.group(0) else f'xmlns:r="{NS_R}" '
        sheet = f'<sheet {ns}name="{escape(name)}" sheetId="{max(ids, default=0) + 1}"{state} r:id="{rid}"/>'

        self.workbook_xml = self.workbook_xml.replace("</sheets>", sheet + "</sheets>", 1)
        self.sheets[name] = path
        self._parts[path] = SheetPart.empty(self, name, path)
        self.workbook_changed = True

    def _defined_names(self) -> list[re.Match]:
        return [m for m in re.finditer(r"<definedName\b([^>]*)>(.*?)</definedName>", self.workbook_xml, re.S)
                if "localSheetId" not in m.group(1)]

    def name_target(self, name: str) -> tuple[str, Rect] | None:
        for m in self._defined_names():
            if attrs(m.group(1)).get("name", "").lower() == name.lower():
                return parse_target(xml_text(m.group(2)))
        return None

    def set_name(self, name: str, sheet: str, rect: Rect) -> None:
        xml = self.workbook_xml
        for m in reversed(self._defined_names()):
            if attrs(m.group(1)).get("name", "").lower() == name.lower():
                xml = xml[: m.start()] + xml[m.end():]
        new = f'<definedName name="{escape(name)}">{escape(sheet_range_ref(sheet, rect))}</definedName>'
        if re.search(r"<definedNames\b[^>]*/>", xml):
            xml = re.sub(r"<definedNames\b[^>]*/>", lambda _: f"<definedNames>{new}</definedNames>", xml, count=1)
        elif "</definedNames>" in xml:
            xml = xml.replace("</definedNames>", new + "</definedNames>", 1)
        else:
            xml = insert_before(xml, f"<definedNames>{new}</definedNames>", _AFTER_NAMES, "</workbook>")
        self.workbook_xml, self.workbook_changed = xml, True

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
        (:mod:`.container`: such an entry is found while it is written, and the
        package is then written again with ZIP64 for it)."""
        changed = {p.path for p in self._parts.values() if p.changed}
        zip64 = {i.filename for i in self.zip.infolist()          # a part copied as it is: its size is known
                 if i.file_size > zipfile.ZIP64_LIMIT and i.filename not in changed}
        while True:
            try:
                self._save(target, zip64)
                break
            except container.EntryTooLarge as big:
                zip64.add(big.name)
        self.zip.close()

    def _save(self, target: str | os.PathLike, zip64: set[str]) -> None:
        changed = {p.path: p for p in self._parts.values() if p.changed}
        tables = {t.path: t for ts in self._tables.values() for t in ts if t.changed}
        drop = set()
        if changed:                                   # Excel rebuilds the calculation chain
            drop = {p for t, p in self.rels.values() if t == REL_CALC_CHAIN}
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=container.COMPRESS_LEVEL) as out:
            for info in self.zip.infolist():
                name = info.filename
                if name in drop or name == "xl/styles.xml":
                    continue
                if name in changed:
                    container.write_entry(out, container.copy_info(info),
                                          (c.encode("utf-8") for c in changed[name].chunks()), zip64)
                elif name in tables:
                    out.writestr(container.copy_info(info), tables[name].to_xml().encode("utf-8"))
                else:
                    patched = self._patched(name, drop)
                    if patched is not None:
                        out.writestr(container.copy_info(info), patched.encode("utf-8"))
                    else:
                        with self.zip.open(info) as src:
                            container.write_entry(out, container.copy_info(info),
                                                  iter(lambda: src.read(1 << 20), b""), zip64)
            for t in tables.values():
                if t.path not in self.names:
                    out.writestr(container.new_info(t.path), t.to_xml().encode("utf-8"))
            for part in changed.values():             # a sheet added (add_sheet)
                if part.path not in self.names:
                    container.write_entry(out, container.new_info(part.path),
                                          (c.encode("utf-8") for c in part.chunks()), zip64)
            for sheet_path, rels in self._new_rels.items():
                rpath = rels_path(sheet_path)
                if rpath not in self.names:
                    out.writestr(container.new_info(rpath), _with_rels("", rels, rpath).encode("utf-8"))
            if "xl/styles.xml" in self.names:          # last: the sheets above may have added formats
                info = self.zip.getinfo("xl/styles.xml")
                out.writestr(container.copy_info(info), self.styles.to_xml().encode("utf-8") if self.styles.changed
                             else self.zip.read(info))

    def _patched(self, name: str, drop: set[str]) -> str | None:
        """New text for the package-level parts a change touches; None to copy the part."""
        if name == "[Content_Types].xml" and (self.new_overrides or drop):
            return add_types(remove_overrides(self.content_types, drop), self.new_overrides)
        if name.endswith(".rels"):                    # targets relative, as Excel writes them
            xml = self._text(name)
            if name == "xl/_rels/workbook.xml.rels" and drop:
                xml = remove_relationships(xml, REL_CALC_CHAIN)
            new = [rels for sheet_path, rels in self._new_rels.items() if name == rels_path(sheet_path)]
            if new:
                xml = _with_rels(xml, new[0], name)
            fixed = relative_targets(name, xml)
            return fixed if fixed != self._text(name) else None
        if name == "xl/workbook.xml" and (self.formulas_written or self.workbook_changed):
            xml = self.workbook_xml
            if not self.formulas_written:
                return xml
            if re.search(r"<calcPr\b", xml):
                if "fullCalcOnLoad" not in xml:
                    xml = re.sub(r"<calcPr\b", '<calcPr fullCalcOnLoad="1"', xml, count=1)
                return xml
            return xml.replace("</workbook>", '<calcPr fullCalcOnLoad="1"/></workbook>', 1)
        return None


def _with_rels(xml: str, rels: list[tuple[str, str, str]], rels_part: str) -> str:
    """``xml`` (a .rels part; empty: a new one) with the relationships ``rels`` (id, type, part)
    added, their targets relative to the source part (``../tables/table1.xml``)."""
    return add_relationships(xml, [relationship(rid, t, relative_target(rels_part, p)) for rid, t, p in rels])
