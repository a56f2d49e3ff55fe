"""WorkbookWriter over a live ``xlwings.Book`` (the ribbon macros; Windows/macOS Excel).

Only the free xlwings API is used (no PRO). Text stays text: a table column holding only text
gets Excel's Text number format (``@``) before its values are written, and any other text
value is written with a leading apostrophe, so a Procore subject like ``=HYPERLINK(...)``,
``+1 555``, ``00123`` or ``2024-01-01`` stays exactly what Procore sent (the apostrophe is not
part of the value). A table is written in blocks, one bulk write per block, inside
:meth:`XlwingsWorkbook.quiet` (screen updating, automatic calculation and events off).
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from openpyxl.utils import range_boundaries

from ..excel.base import Rect, sheet_range_ref
from ..excel.values import TEXT_FORMAT, TableData
from .analysis_live import write_layout

TABLE_STYLE = "TableStyleMedium2"
BLOCK_ROWS = 5_000               # rows per bulk write


def _text_safe(v: Any) -> Any:
    return "'" + v if isinstance(v, str) and v else v


def _rect_of(address: str) -> Rect:
    """``$A$13:$D$15`` (or ``Sheet!$A$1``) -> (13, 1, 15, 4)."""
    ref = address.rsplit("!", 1)[-1].replace("$", "")
    c1, r1, c2, r2 = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
    return r1, c1, r2, c2


def _first_row(formulas: Any) -> list[Any]:
    """Range.formula of one row comes back as a tuple of tuples, a tuple, or a single value."""
    if isinstance(formulas, (list, tuple)):
        return list(formulas[0]) if formulas and isinstance(formulas[0], (list, tuple)) else list(formulas)
    return [formulas]


class XlwingsWorkbook:
    """Implements :class:`procore_xl.excel.base.WorkbookWriter` on an ``xw.Book``."""

    def __init__(self, book: Any):
        self.book = book

    def _sheet(self, name: str) -> Any:
        return self.book.sheets[name]

    def _range(self, sheet: str, rect: Rect) -> Any:
        r1, c1, r2, c2 = rect
        return self._sheet(sheet).range((r1, c1), (r2, c2))

    def write_analysis(self, layout: Any) -> None:
        """An analysis sheet (``analysis_layout.Layout``) on its new sheet: formulas and charts."""
        write_layout(self.book, layout)

    # -- sheets ----------------------------------------------------------------------------
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.book.sheets]

    def add_sheet(self, name: str, *, hidden: bool = False) -> None:
        sheets = self.book.sheets
        sheet = sheets.add(name=name, after=sheets[len(sheets) - 1])
        if hidden:
            sheet.visible = False

    def active_sheet(self) -> str | None:
        return self.book.sheets.active.name

    def activate(self, sheet: str) -> None:
        self._sheet(sheet).activate()

    # -- cells -----------------------------------------------------------------------------
    def read(self, sheet: str, row: int, col: int, nrows: int, ncols: int) -> list[list[Any]]:
        if nrows <= 0 or ncols <= 0:
            return []
        return self._range(sheet, (row, col, row + nrows - 1, col + ncols - 1)).options(ndim=2).value

    def write(self, sheet: str, row: int, col: int, rows: list[list[Any]],
              formats: list[str | None] | None = None) -> None:
        if not rows:
            return
        width = max(len(r) for r in rows)
        values = [[_text_safe(v) for v in r] + [None] * (width - len(r)) for r in rows]
        # number formats first: Excel applies them as it parses the values
        for i, fmt in enumerate(formats or []):
            if fmt:
                self._range(sheet, (row, col + i, row + len(rows) - 1, col + i)).number_format = fmt
        self._range(sheet, (row, col, row + len(rows) - 1, col + width - 1)).value = values

    def write_table(self, sheet: str, top: int, data: TableData,
                    calculated: list[tuple[str, str]] = (), block_rows: int = BLOCK_ROWS) -> None:
        header = (data.header or ["(no columns)"]) + [name for name, _ in calculated]
        self.write(sheet, top, 1, [header])
        self.set_bold(sheet, (top, 1, top, len(header)))
        last = top + max(data.nrows, 1)
        text_only = []
        for j, column in enumerate(data.columns, start=1):
            values = column.values(0, data.nrows) if column.kind == "values" else ()
            only_text = column.kind == "values" and any(isinstance(v, str) for v in values) and all(
                v is None or isinstance(v, str) for v in values)
            text_only.append(only_text)
            fmt = TEXT_FORMAT if only_text else column.fmt
            if fmt and data.nrows:
                self._range(sheet, (top + 1, j, last, j)).number_format = fmt
        for start in range(0, data.nrows, block_rows):
            stop = min(start + block_rows, data.nrows)
            columns = [c.values(start, stop) if plain else [_text_safe(v) for v in c.values(start, stop)]
                       for c, plain in zip(data.columns, text_only)]
            rows = [list(r) for r in zip(*columns)] if columns else [[None]] * (stop - start)
            self._range(sheet, (top + 1 + start, 1, top + stop, max(data.width, 1))).value = rows
        for j, (_, formula) in enumerate(calculated, start=data.width + 1):
            # one formula for the column: Excel adjusts relative references row by row
            self._range(sheet, (top + 1, j, last, j)).formula = "=" + formula.lstrip("=")

    def occupied(self, sheet: str, rect: Rect) -> list[tuple[int, int]]:
        r1, c1, _, _ = rect
        values = self._range(sheet, rect).options(ndim=2).value
        return [(r1 + i, c1 + j) for i, row in enumerate(values) for j, v in enumerate(row) if v is not None]

    def table_columns(self, sheet: str, name: str) -> list[tuple[str, str | None]]:
        """Names from the header row; a column whose first data cell holds a formula (its formula
        text is not its value: a text cell reading "=..." holds the same in both) is a
        calculated column."""
        rect = self.table_rect(sheet, name)
        if rect is None:
            return []
        r1, c1, _, c2 = rect
        names = self._range(sheet, (r1, c1, r1, c2)).options(ndim=2).value[0]
        first = self._range(sheet, (r1 + 1, c1, r1 + 1, c2)).options(ndim=2)
        values, formulas = first.value[0], _first_row(first.formula)
        return [(str(n), f[1:] if isinstance(f, str) and f.startswith("=") and f != v else None)
                for n, v, f in zip(names, values, formulas)]

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Screen updating, automatic calculation and events off for a refresh; restored after,
        whatever happens."""
        app = self.book.app
        saved = (app.screen_updating, app.calculation, app.enable_events)
        try:
            app.screen_updating, app.calculation, app.enable_events = False, "manual", False
            yield
        finally:
            app.screen_updating, app.calculation, app.enable_events = saved

    def clear(self, sheet: str, rect: Rect) -> None:
        self._range(sheet, rect).clear()

    def set_bold(self, sheet: str, rect: Rect) -> None:
        self._range(sheet, rect).font.bold = True

    def last_row(self, sheet: str) -> int:
        used = self._sheet(sheet).used_range
        last = used.last_cell.row
        if last == 1 and used.count == 1 and used.value is None:
            return 0
        return last

    # -- tables ----------------------------------------------------------------------------
    def _find_table(self, name: str) -> tuple[Any, Any] | None:
        for sheet in self.book.sheets:
            for table in sheet.tables:
                if table.name.lower() == name.lower():
                    return sheet, table
        return None

    def table_names(self) -> list[str]:
        return [t.name for s in self.book.sheets for t in s.tables]

    def table_rect(self, sheet: str, name: str) -> Rect | None:
        found = self._find_table(name)
        if found is None or found[0].name != sheet:
            return None
        return _rect_of(found[1].range.address)

    def set_table(self, sheet: str, name: str, rect: Rect) -> None:
        found = self._find_table(name)
        if found is not None and found[0].name != sheet:
            raise ValueError(f"Table {name} already exists on sheet {found[0].name}")
        if found is not None:
            found[1].resize(self._range(sheet, rect))
            return
        self._sheet(sheet).tables.add(source=self._range(sheet, rect), name=name,
                                      table_style_name=TABLE_STYLE)

    def remove_table(self, sheet: str, name: str) -> None:
        found = self._find_table(name)
        if found is not None and found[0].name == sheet:
            found[1].delete()

    # -- names, validation, view ------------------------------------------------------------
    def name_target(self, name: str) -> tuple[str, Rect] | None:
        for n in self.book.names:
            if n.name.lower() == name.lower():
                text = (n.refers_to or "").lstrip("=")
                if "!" not in text:
                    return None
                sheet = text.rsplit("!", 1)[0].strip("'").replace("''", "'")
                return sheet, _rect_of(text)
        return None

    def set_name(self, name: str, sheet: str, rect: Rect) -> None:
        self.book.names.add(name, "=" + sheet_range_ref(sheet, rect))

    def set_list_validation(self, sheet: str, row: int, col: int, source: str | list[str]) -> None:
        target = self._range(sheet, (row, col, row, col)).data_validation
        target.set_list(self.book.names[source] if isinstance(source, str) else list(source))

    def freeze_rows(self, sheet: str, nrows: int) -> None:
        # xlwings' FreezePanes is PRO-only; on Windows use the window object directly.
        if sys.platform != "win32":
            return
        active = self.book.sheets.active
        self._sheet(sheet).activate()
        window = self.book.app.api.ActiveWindow
        window.FreezePanes = False
        window.SplitColumn = 0
        window.SplitRow = nrows
        window.FreezePanes = True
        active.activate()

    def set_column_widths(self, sheet: str, widths: dict[int, float]) -> None:
        ws = self._sheet(sheet)
        for col, width in widths.items():
            ws.range((1, col)).column_width = width

    # -- feedback ----------------------------------------------------------------------------
    def status(self, text: str | None) -> None:
        self.book.app.status_bar = text if text else False

    def alert(self, text: str) -> None:
        self.book.app.alert(text, title="Procore")
