"""A report sheet's table written block by block, never held whole.

:func:`streamed_table` reads a report's table as the sheet shows it (:class:`~procore_xl.view.Shown`)
once, to decide what only all rows can say: the columns shown, and how each is written
(:class:`~procore_xl.excel.plans.ColumnPlan`: its kind and number format, the text cut or
replaced); :class:`StreamedTable` then gives the sheet its columns a block of rows at a time
(``column_blocks()``, what :func:`~procore_xl.excel.ooxml.sheet_data.table_rows` reads), each
block read again from the table and converted under those plans (a table read from pages:
as plain values, no pandas, :class:`~procore_xl.view.PlainBlock`, when every block can be;
else as frames). The cells are those
:func:`~procore_xl.excel.plans.table_data` makes of the whole frame; memory is a block
(about 2,000 rows) instead of the report's shown columns twice (the view's frame and the
sheet's columns). The writer that streams a sheet as it is saved (``PackageWorkbook``) takes
it; the others get :func:`~procore_xl.excel.plans.table_data` of the whole frame.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..shown import PlainBlock, Shown
from ..view import empty_frame
from .plans import ColumnPlan, table_data
from .values import Column, TableData, column_notes, unique_headers


class StreamedTable:
    """A :class:`~procore_xl.excel.values.TableData` read block by block (see module doc):
    ``header``, ``nrows``, ``width``, ``formats``, ``notes()``, ``rows()`` and
    ``column_blocks()`` as a TableData has them."""

    def __init__(self, shown: Shown, plans: list[ColumnPlan]):
        self._shown = shown
        self.header = unique_headers(shown.header)
        self.plans = plans
        for name, plan in zip(self.header, plans):
            plan.name = name
        self.nrows = shown.rows

    @property
    def width(self) -> int:
        return len(self.header)

    @property
    def formats(self) -> list[str | None]:
        return [p.fmt for p in self.plans]

    def notes(self) -> list[str]:
        return column_notes(self.plans)

    def column_blocks(self) -> Iterator[tuple[int, int, list[Column]]]:
        """(first row, rows, columns) of each block of rows, in order."""
        first = 0
        for block in self._shown.blocks():
            if isinstance(block, PlainBlock):       # plain values: no pandas
                count, columns = block.rows, [plan.convert(v) for plan, v in zip(self.plans, block.columns)]
            else:
                count, columns = len(block), [plan.convert(block.iloc[:, j]) for j, plan in enumerate(self.plans)]
            yield first, count, columns
            first += count
            del block, columns

    def rows(self, start: int = 0, stop: int | None = None) -> list[list[Any]]:
        """Cell values of rows ``start:stop`` (read from the first block on: for a few rows)."""
        stop = self.nrows if stop is None else min(stop, self.nrows)
        out: list[list[Any]] = []
        for first, count, columns in self.column_blocks():
            if first >= stop:
                break
            if first + count > start:
                part = TableData(self.header, columns, count)
                out += part.rows(max(start - first, 0), min(stop - first, count))
        return out


def streamed_table(shown: Shown) -> StreamedTable | None:
    """``shown`` read once and planned (:meth:`Shown.scan`); None when a block by block write
    could not stand for the whole: no rows (nothing to stream), or a column whose blocks are
    of different dtypes."""
    plans: dict[tuple[str, bool], ColumnPlan] = {}

    def observe(column: str, numbers: bool, values: Any) -> None:
        plan = plans.get((column, numbers))
        if plan is None:
            plan = plans[column, numbers] = ColumnPlan(column)
        plan.add(values)

    shown.scan(observe, restart=plans.clear)
    chosen = [plans.get((c, c in shown.numbers)) for c in shown.columns]
    if not shown.rows or any(p is None or p.mixed for p in chosen):
        return None
    return StreamedTable(shown, chosen)


def empty_table(result: Any, headers: str) -> TableData | None:
    """A run with no record and so no columns: a table of no rows under the report's default
    columns (:func:`~procore_xl.view.empty_frame`), not "(no columns)"; None when it has columns,
    or only records could tell them (a sub report's rows)."""
    frame = empty_frame(result, headers=headers)
    return None if frame is None else table_data(frame)


__all__ = ["StreamedTable", "streamed_table", "empty_table"]

