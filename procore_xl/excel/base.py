"""The workbook-writer interface: the few operations the report-sheet logic needs.

Two implementations: :class:`procore_xl.excel.openpyxl_writer.OpenpyxlWorkbook` (files) and
:class:`procore_xl.addin.xlwings_writer.XlwingsWorkbook` (a live ``xw.Book``). Rows and
columns are 1-based, like Excel. ``write`` takes plain values (see ``values.py``); text is
always written as text, never as a formula, whatever it starts with.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from openpyxl.utils import get_column_letter, quote_sheetname, range_boundaries

if TYPE_CHECKING:
    from .values import TableData

Rect = tuple[int, int, int, int]          # first row, first column, last row, last column


def cell_ref(row: int, col: int, *, absolute: bool = False) -> str:
    d = "$" if absolute else ""
    return f"{d}{get_column_letter(col)}{d}{row}"


def range_ref(rect: Rect, *, absolute: bool = False) -> str:
    r1, c1, r2, c2 = rect
    return f"{cell_ref(r1, c1, absolute=absolute)}:{cell_ref(r2, c2, absolute=absolute)}"


def sheet_range_ref(sheet: str, rect: Rect) -> str:
    """``'_lists'!$A$2:$A$9`` (what a workbook name refers to, without the leading ``=``)."""
    return f"{quote_sheetname(sheet)}!{range_ref(rect, absolute=True)}"


def parse_target(text: str) -> tuple[str, Rect] | None:
    """``'_lists'!$A$2:$A$9`` -> ("_lists", (2, 1, 9, 1)); None for anything else."""
    if "!" not in text:
        return None
    sheet, ref = text.lstrip("=").rsplit("!", 1)
    sheet = sheet.strip("'").replace("''", "'")
    try:
        c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
    except ValueError:
        return None
    if r1 is None or c1 is None:
        return None
    return sheet, (r1, c1, r2, c2)


class WorkbookWriter(Protocol):
    """What the report-sheet, registry and dropdown logic may do to a workbook."""

    # sheets
    def sheet_names(self) -> list[str]: ...
    def add_sheet(self, name: str, *, hidden: bool = False) -> None: ...
    def active_sheet(self) -> str | None: ...
    def activate(self, sheet: str) -> None: ...

    # cells
    def read(self, sheet: str, row: int, col: int, nrows: int, ncols: int) -> list[list[Any]]: ...
    def write(self, sheet: str, row: int, col: int, rows: list[list[Any]],
              formats: list[str | None] | None = None) -> None:
        """Write a 2-D block; ``formats`` gives one number format (or None) per column."""
    def write_table(self, sheet: str, top: int, data: "TableData",
                    calculated: list[tuple[str, str]] = ()) -> None:
        """A report table's cells: the header (bold) on row ``top`` from column A, the rows under
        it, then ``calculated`` (name, formula) columns filled on every row."""
    def occupied(self, sheet: str, rect: Rect) -> list[tuple[int, int]]:
        """(row, col) of the cells in ``rect`` that hold something."""
    def clear(self, sheet: str, rect: Rect) -> None:
        """Values, number formats and fonts of the cells in ``rect`` back to empty/General."""
    def set_bold(self, sheet: str, rect: Rect) -> None: ...
    def last_row(self, sheet: str) -> int:
        """Last row holding anything (0 for an empty sheet)."""

    # tables, names, validation, view
    def table_rect(self, sheet: str, name: str) -> Rect | None: ...
    def table_names(self) -> list[str]: ...
    def table_columns(self, sheet: str, name: str) -> list[tuple[str, str | None]]:
        """(column name, calculated-column formula or None) of the table, left to right."""
    def set_table(self, sheet: str, name: str, rect: Rect) -> None:
        """Create the table, or move/resize the one of that name (header = first row of rect)."""
    def remove_table(self, sheet: str, name: str) -> None:
        """Delete the table and the cells it covers."""
    def name_target(self, name: str) -> tuple[str, Rect] | None: ...
    def set_name(self, name: str, sheet: str, rect: Rect) -> None: ...
    def set_list_validation(self, sheet: str, row: int, col: int, source: str | list[str]) -> None:
        """A dropdown on one cell: ``source`` is a workbook name (``ProcoreCompanies``) or the
        literal choices (``["none", "questions"]``: no commas, 255 characters in all at most).
        Other values may still be typed (ids, "all", dates)."""
    def freeze_rows(self, sheet: str, nrows: int) -> None: ...
    def set_column_widths(self, sheet: str, widths: dict[int, float]) -> None: ...

    # feedback (no-ops for files)
    def status(self, text: str | None) -> None: ...
    def alert(self, text: str) -> None: ...
