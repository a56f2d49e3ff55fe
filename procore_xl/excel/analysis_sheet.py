"""Analysis sheets in workbook files: key figures, breakdown tables and native charts as formulas.

A workbook with analyses is built like any new workbook (``refresh.new_workbook``,
``results.write_runs``): openpyxl makes the skeleton, with an empty sheet for each analysis
(:func:`add_placeholder`) beside the report sheets it reads; the report tables are streamed in;
then :func:`write_analysis_sheets` lays each analysis out over the tables as written (their
names and headers, :mod:`~procore_xl.excel.analysis_layout`) and writes its parts into the
package: the worksheet XML (cells, formulas, conditional formatting), one drawing part, one
chart part per chart (:mod:`~procore_xl.excel.ooxml.charts`), their relationships and content
types, the cell formats and the highlight (``dxf``) in ``styles.xml``, and ``fullCalcOnLoad`` so
that Excel recalculates every formula whenever it opens the file. Nothing on the sheet is a value
computed in Python.

A refresh (``PackageWorkbook``) rewrites only report sheets: analysis sheets, drawings and charts
are copied byte for byte, and Excel recalculates them over the new tables.
"""
from __future__ import annotations

import os
import posixpath
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import openpyxl

from ..analyses import Analysis, report_params
from ..files import replaced
from .analysis_layout import Layout, TableInfo, lay_out
from .base import cell_ref, range_ref
from .layout import START_SHEET
from .ooxml import charts, container
from .ooxml.container import COMPRESS_LEVEL
from .ooxml.relationships import (add_relationships, add_types, override, part_path, relationship, relationships,
                                   rels_path)
from .ooxml.styles import Styles, dxf_count, with_dxf
from .ooxml.workbook import PackageWorkbook
from .ooxml.xml import NS_MAIN, NS_R, attrs
from .registry import Entry
from .report_sheet import sheet_name_for

HIGHLIGHT_DXF = ('<dxf><font><b/><color rgb="FF9C0006"/></font><fill><patternFill>'
                 '<bgColor rgb="FFFFC7CE"/></patternFill></fill></dxf>')
_FLAG_RULES = {"late": ("greaterThan", "0"), "over": ("lessThan", "0")}


def source_reports(analysis: Analysis, params: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(report, parameters) of each report sheet the analysis reads, from the person's
    parameters (company, project...) and the analysis's own (contract "all", a date range)."""
    return [(s.report, report_params(s, params)) for s in analysis.sources]


def add_placeholder(book: openpyxl.Workbook, analysis: Analysis, index: int = 0) -> str:
    """An empty sheet for ``analysis`` in a new workbook's skeleton, the ``index``-th of the
    first sheets (after Start), and active; :func:`write_analysis_sheets` fills it."""
    name = sheet_name_for(analysis.sheet, book.sheetnames)
    at = index + (1 if START_SHEET in book.sheetnames and book.sheetnames.index(START_SHEET) == 0 else 0)
    ws = book.create_sheet(name, at)
    if index == 0:
        for other in book.worksheets:
            other.sheet_view.tabSelected = other is ws
        book.active = ws
    return name


def tables_of(wb: PackageWorkbook, analysis: Analysis, entries: Mapping[str, Entry]) -> dict[str, TableInfo | None]:
    """Source name -> its report table as written (None when the sheet or table is missing)."""
    out: dict[str, TableInfo | None] = {}
    for source in analysis.sources:
        entry = entries.get(source.name)
        columns = wb.table_columns(entry.sheet, entry.table) if entry is not None else []
        out[source.name] = TableInfo(entry.sheet, entry.table, tuple(n for n, _ in columns)) if columns else None
    return out


def write_analysis_sheets(path: str | os.PathLike,
                          items: list[tuple[Analysis, str, Mapping[str, Entry]]]) -> list[Layout]:
    """Fill the placeholder sheets of ``path`` (rewritten in place; callers write a temporary
    file): each item is (analysis, its sheet, source name -> the report sheet's registry entry)."""
    path = Path(path)
    wb = PackageWorkbook(path.read_bytes())
    try:
        layouts = [lay_out(a, sheet, tables_of(wb, a, entries)) for a, sheet, entries in items]
    finally:
        wb.close()
    _Package(path).write(layouts)
    return layouts


class _Package:
    def __init__(self, path: Path):
        self.path = path
        with zipfile.ZipFile(path) as z:
            self.names = z.namelist()
            self.workbook = z.read("xl/workbook.xml").decode("utf-8")
            self.wb_rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
            self.content_types = z.read("[Content_Types].xml").decode("utf-8")
            self.styles_xml = z.read("xl/styles.xml").decode("utf-8") if "xl/styles.xml" in self.names else None
            self.sheet_parts = self._sheet_parts()
            self.old = {p: z.read(p).decode("utf-8") for p in self.sheet_parts.values()}
        self.new: dict[str, bytes] = {}
        self.overrides: list[str] = []

    def _sheet_parts(self) -> dict[str, str]:
        rels = {a["Id"]: a["Target"] for a in relationships(self.wb_rels)}
        out = {}
        for m in re.finditer(r"<sheet\b([^>]*?)/?>", self.workbook):
            a = attrs(m.group(1))
            rid = next((v for k, v in a.items() if k.endswith(":id")), None)
            target = rels.get(rid, "")
            out[a["name"]] = part_path("xl/workbook.xml", target)
        return out

    def _free(self, pattern: str) -> str:
        n = 1
        while pattern.format(n) in self.names or pattern.format(n) in self.new:
            n += 1
        return pattern.format(n)

    def write(self, layouts: list[Layout]) -> None:
        styles = Styles(self.styles_xml) if self.styles_xml is not None else None
        dxf = dxf_count(self.styles_xml) if styles is not None else None
        for layout in layouts:
            part = self.sheet_parts[layout.sheet]
            selected = 'tabSelected="1"' in self.old.get(part, "")
            drawing = self._charts(layout, part) if layout.charts else None
            self.new[part] = sheet_xml(layout, styles, dxf, selected, drawing).encode("utf-8")
        if styles is not None:
            self.new["xl/styles.xml"] = with_dxf(styles.to_xml(), HIGHLIGHT_DXF).encode("utf-8")
        self.new["xl/workbook.xml"] = _full_calc_on_load(self.workbook).encode("utf-8")
        self.new["[Content_Types].xml"] = add_types(self.content_types, self.overrides).encode("utf-8")
        with replaced(self.path, companion="analysis") as tmp, zipfile.ZipFile(self.path) as src, \
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as out:
            zip64 = {i.filename for i in src.infolist() if i.file_size > zipfile.ZIP64_LIMIT}   # copied as is
            for info in src.infolist():
                if info.filename in self.new:
                    out.writestr(info.filename, self.new.pop(info.filename))
                else:
                    with src.open(info) as a:
                        container.write_entry(out, _copy(info), iter(lambda: a.read(1 << 20), b""), zip64)
            for name, data in self.new.items():
                out.writestr(name, data)

    def _charts(self, layout: Layout, part: str) -> str:
        """Chart parts, the drawing and the relationships of ``layout``: the drawing's r:id."""
        drawing = self._free("xl/drawings/drawing{}.xml")
        self.new[drawing] = b""          # reserved while the charts are numbered
        anchors, rels = [], []
        for i, chart in enumerate(layout.charts, start=1):
            name = self._free("xl/charts/chart{}.xml")
            self.new[name] = charts.chart_xml(chart.kind, chart.title, layout.sheet, chart.categories,
                                                 chart.series, chart.date_format).encode("utf-8")
            self.overrides.append(override(name, charts.CT_CHART))
            rels.append(relationship(f"rId{i}", charts.REL_CHART, "../charts/" + posixpath.basename(name)))
            anchors.append((chart.anchor, f"rId{i}", chart.title))
        self.new[drawing] = charts.drawing_xml(anchors).encode("utf-8")
        self.new[rels_path(drawing)] = add_relationships("", rels).encode("utf-8")
        self.overrides.append(override(drawing, charts.CT_DRAWING))
        target = posixpath.relpath(drawing, posixpath.dirname(part))
        self.new[rels_path(part)] = add_relationships(
            "", [relationship("rIdAnalysisDrawing", charts.REL_DRAWING, target)]).encode("utf-8")
        return "rIdAnalysisDrawing"


def _copy(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type = zipfile.ZIP_DEFLATED
    new.external_attr = info.external_attr
    return new


def _full_calc_on_load(xml: str) -> str:
    if re.search(r"<calcPr\b", xml):
        return xml if "fullCalcOnLoad" in xml else re.sub(r"<calcPr\b", '<calcPr fullCalcOnLoad="1"', xml, count=1)
    for later in ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                  "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst"):
        at = re.search(rf"<{later}\b", xml)
        if at:
            return xml[: at.start()] + '<calcPr calcId="191029" fullCalcOnLoad="1"/>' + xml[at.start():]
    return xml.replace("</workbook>", '<calcPr calcId="191029" fullCalcOnLoad="1"/></workbook>', 1)


def _cell_xml(row: int, col: int, cell, styles: Styles | None) -> str:
    ref = cell_ref(row, col)
    s = styles(cell.format, cell.bold) if styles is not None and (cell.format or cell.bold) else 0
    style = f' s="{s}"' if s else ""
    if cell.formula is not None:
        kind = f' t="array" ref="{ref}"' if cell.array else ""
        return f'<c r="{ref}"{style}><f{kind}>{escape(cell.formula)}</f></c>'
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(v)}</v></c>'
    if isinstance(v, (int, float)):
        return f'<c r="{ref}"{style}><v>{v!r}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{escape(str(v))}</t></is></c>'


def sheet_xml(layout: Layout, styles: Styles | None, dxf: int | None, selected: bool, drawing: str | None) -> str:
    rows: dict[int, list[tuple[int, Any]]] = {}
    for (r, c), cell in layout.cells.items():
        rows.setdefault(r, []).append((c, cell))
    data = []
    for r in sorted(rows):
        cells = "".join(_cell_xml(r, c, cell, styles) for c, cell in sorted(rows[r], key=lambda x: x[0]))
        data.append(f'<row r="{r}">{cells}</row>')
    cols = [f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>' for c, w in sorted(layout.widths.items())]
    if layout.hidden_cols:
        a, b = layout.hidden_cols
        cols.append(f'<col min="{a}" max="{b}" width="14" hidden="1" customWidth="1"/>')
    cf = []
    if dxf is not None:
        for priority, (rect, flag) in enumerate(layout.flags, start=1):
            operator, value = _FLAG_RULES[flag]
            cf.append(f'<conditionalFormatting sqref="{range_ref(rect) if rect[:2] != rect[2:] else cell_ref(*rect[:2])}">'
                      f'<cfRule type="cellIs" dxfId="{dxf}" priority="{priority}" operator="{operator}">'
                      f"<formula>{value}</formula></cfRule></conditionalFormatting>")
    view = f'<sheetView workbookViewId="0"{" tabSelected=" + chr(34) + "1" + chr(34) if selected else ""}/>'
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">'
            f'<sheetPr><tabColor rgb="FF2F5597"/></sheetPr>'
            f'<sheetViews>{view}</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
            f'<cols>{"".join(cols)}</cols><sheetData>{"".join(data)}</sheetData>{"".join(cf)}'
            f'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            + (f'<drawing r:id="{drawing}"/>' if drawing else "") + "</worksheet>")
