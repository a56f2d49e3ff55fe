"""WorkbookWriter over an openpyxl ``Workbook`` (files: headless refresh, CLI, demo, tests)."""
from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableColumn, TableFormula, TableStyleInfo

from .base import Rect, cell_ref, parse_target, range_ref, sheet_range_ref
from .ooxml.xml import keep_literal, unescape_text
from .values import TableData

TABLE_STYLE = "TableStyleMedium2"
_BOLD = Font(bold=True)
_PLAIN = Font()


def _shown(value: Any) -> Any:
    """A cell's value as Excel shows it: openpyxl hands back a stored text as it is, with any
    ``_xHHHH_`` (Excel's escape of U+HHHH) undecoded."""
    return unescape_text(value) if type(value) is str and "_x" in value else value


class OpenpyxlWorkbook:
    """Implements :class:`procore_xl.excel.base.WorkbookWriter` on an in-memory openpyxl workbook."""

    def __init__(self, workbook: Workbook):
        self.book = workbook
        self._calculated: dict[tuple[str, int], list[tuple[str, str]]] = {}

    # -- sheets ----------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return list(self.book.sheetnames)

    def add_sheet(self, name: str, *, hidden: bool = False) -> None:
        ws = self.book.create_sheet(name)
        if hidden:
            ws.sheet_state = "hidden"

    def active_sheet(self) -> str | None:
        ws = self.book.active
        return ws.title if ws is not None else None

    def activate(self, sheet: str) -> None:
        ws = self.book[sheet]
        for other in self.book.worksheets:
            other.sheet_view.tabSelected = other is ws
        self.book.active = ws

    # -- cells -----------------------------------------------------------------------------
    def read(self, sheet: str, row: int, col: int, nrows: int, ncols: int) -> list[list[Any]]:
        ws = self.book[sheet]
        return [[_shown(ws.cell(r, c).value) for c in range(col, col + ncols)] for r in range(row, row + nrows)]

    def write(self, sheet: str, row: int, col: int, rows: list[list[Any]],
              formats: list[str | None] | None = None) -> None:
        ws = self.book[sheet]
        cells = ws._cells          # direct insert: the public ws.cell() costs ~3x more per cell
        fmts = [(col + i, f) for i, f in enumerate(formats or []) if f]
        for r, values in enumerate(rows, start=row):
            for c, v in enumerate(values, start=col):
                if v is None:
                    cells.pop((r, c), None)
                    continue
                if type(v) is str and "_x" in v:    # openpyxl stores text raw; Excel reads _x0041_ as "A"
                    v = keep_literal(v)
                cell = Cell(ws, row=r, column=c, value=v)
                if cell.data_type == "f":      # text that looks like a formula stays text
                    cell.data_type = "s"
                cells[(r, c)] = cell
            for c, f in fmts:
                if (r, c) in cells:
                    cells[(r, c)].number_format = f

    def write_table(self, sheet: str, top: int, data: TableData,
                    calculated: list[tuple[str, str]] = (), block_rows: int = 5_000) -> None:
        """Header (bold) on row ``top``, the data under it, then the calculated columns."""
        header = (data.header or ["(no columns)"]) + [name for name, _ in calculated]
        self.write(sheet, top, 1, [header])
        self.set_bold(sheet, (top, 1, top, len(header)))
        for start in range(0, data.nrows, block_rows):
            self.write(sheet, top + 1 + start, 1, data.rows(start, start + block_rows), data.formats)
        ws, first = self.book[sheet], data.width + 1
        for j, (_, formula) in enumerate(calculated):
            for r in range(top + 1, top + 1 + max(data.nrows, 1)):
                ws.cell(r, first + j).value = "=" + formula.lstrip("=")
        self._calculated[(sheet, top)] = list(calculated)

    def occupied(self, sheet: str, rect: Rect) -> list[tuple[int, int]]:
        r1, c1, r2, c2 = rect
        return [k for k, cell in self.book[sheet]._cells.items()
                if r1 <= k[0] <= r2 and c1 <= k[1] <= c2 and cell.value is not None]

    def table_columns(self, sheet: str, name: str) -> list[tuple[str, str | None]]:
        found = self._find_table(name)
        if found is None or found[0].title != sheet:
            return []
        return [(c.name, c.calculatedColumnFormula.attr_text if c.calculatedColumnFormula is not None else None)
                for c in found[1].tableColumns]

    def clear(self, sheet: str, rect: Rect) -> None:
        ws = self.book[sheet]
        r1, c1, r2, c2 = rect
        for key in [k for k in ws._cells if r1 <= k[0] <= r2 and c1 <= k[1] <= c2]:
            del ws._cells[key]
        self._drop_validations(ws, rect)

    def set_bold(self, sheet: str, rect: Rect) -> None:
        ws = self.book[sheet]
        r1, c1, r2, c2 = rect
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                ws.cell(r, c).font = _BOLD

    def last_row(self, sheet: str) -> int:
        ws = self.book[sheet]
        return max((r for r, _ in ws._cells), default=0)

    # -- tables ----------------------------------------------------------------------------
    def _find_table(self, name: str) -> tuple[Any, Table] | None:
        for ws in self.book.worksheets:
            for table in ws.tables.values():      # (TableList.items() gives refs, not tables)
                if table.displayName.lower() == name.lower():
                    return ws, table
        return None

    def table_names(self) -> list[str]:
        return [t for ws in self.book.worksheets for t in ws.tables]

    def table_rect(self, sheet: str, name: str) -> Rect | None:
        found = self._find_table(name)
        if found is None or found[0].title != sheet:
            return None
        c1, r1, c2, r2 = range_boundaries(found[1].ref)
        return r1, c1, r2, c2

    def set_table(self, sheet: str, name: str, rect: Rect) -> None:
        found = self._find_table(name)
        if found is not None and found[0].title != sheet:
            raise ValueError(f"Table {name} already exists on sheet {found[0].title}")
        ref = range_ref(rect)
        if found is None:
            table = Table(displayName=name, ref=ref)
            table.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True)
            self.book[sheet].add_table(table)
        else:
            table = found[1]
            table.ref = ref
        # column names are re-read from the header cells when the file is saved; calculated
        # columns keep their formula
        calculated = dict(self._calculated.get((sheet, rect[0]), []))
        if calculated:
            ws = self.book[sheet]
            names = [ws.cell(rect[0], c).value for c in range(rect[1], rect[3] + 1)]
            table.tableColumns = [TableColumn(id=i, name=str(n)) for i, n in enumerate(names, start=1)]
            for column in table.tableColumns:
                if column.name in calculated:
                    column.calculatedColumnFormula = TableFormula(attr_text=calculated[column.name])
        else:
            table.tableColumns = []
        table.autoFilter = None

    def remove_table(self, sheet: str, name: str) -> None:
        rect = self.table_rect(sheet, name)
        if rect is not None:
            ws = self.book[sheet]
            del ws.tables[next(t for t in list(ws.tables) if t.lower() == name.lower())]
            self.clear(sheet, rect)

    # -- names, validation, view ------------------------------------------------------------
    def name_target(self, name: str) -> tuple[str, Rect] | None:
        for key, dn in self.book.defined_names.items():
            if key.lower() == name.lower():
                return parse_target(dn.attr_text or "")
        return None

    def set_name(self, name: str, sheet: str, rect: Rect) -> None:
        for key in [k for k in self.book.defined_names if k.lower() == name.lower()]:
            del self.book.defined_names[key]
        self.book.defined_names[name] = DefinedName(name, attr_text=sheet_range_ref(sheet, rect))

    def set_list_validation(self, sheet: str, row: int, col: int, source: str | list[str]) -> None:
        ws = self.book[sheet]
        ref = cell_ref(row, col)
        self._drop_validations(ws, (row, col, row, col))
        formula = source if isinstance(source, str) else '"' + ",".join(source) + '"'
        dv = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False,
                            showErrorMessage=False)   # ids, "all" and dates may still be typed
        dv.add(ref)
        ws.add_data_validation(dv)

    @staticmethod
    def _drop_validations(ws, rect: Rect) -> None:
        """Remove validation from the ranges lying inside ``rect``."""
        r1, c1, r2, c2 = rect
        for dv in list(ws.data_validations.dataValidation):
            for cr in list(dv.sqref.ranges):
                if cr.min_row >= r1 and cr.max_row <= r2 and cr.min_col >= c1 and cr.max_col <= c2:
                    dv.sqref.remove(cr)
            if not dv.sqref.ranges:
                ws.data_validations.dataValidation.remove(dv)

    def freeze_rows(self, sheet: str, nrows: int) -> None:
        self.book[sheet].freeze_panes = cell_ref(nrows + 1, 1)

    def set_column_widths(self, sheet: str, widths: dict[int, float]) -> None:
        ws = self.book[sheet]
        for col, width in widths.items():
            ws.column_dimensions[get_column_letter(col)].width = width

    # -- feedback ----------------------------------------------------------------------------
    def status(self, text: str | None) -> None:
        pass

    def alert(self, text: str) -> None:
        pass
