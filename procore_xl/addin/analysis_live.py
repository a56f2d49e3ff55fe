"""An analysis sheet written into live Excel (the ribbon's Insert analysis), free xlwings API only.

The same :class:`~procore_xl.excel.analysis_layout.Layout` as a file gets: constants as values,
formulas with ``Range.formula`` (``formula_array`` for the helper cells), number formats, bold
labels, column widths (helper columns width 0: hidden), one chart per breakdown with
``sheet.charts.add`` over the breakdown's cells. Conditional formatting has no free xlwings API:
on Windows it goes through ``Range.api.FormatConditions`` and is skipped where that is missing.
"""
from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter

from ..excel.analysis_layout import Layout
from ..excel.base import range_ref

CHART_TYPES = {"column": "column_clustered", "bar": "bar_clustered", "stacked": "column_stacked",
               "line": "line_markers", "pie": "pie"}
_POINTS_PER_ROW, _POINTS_PER_COL = 15.0, 64.0
_XL_CELL_VALUE, _XL_GREATER, _XL_LESS = 1, 5, 6


def write_layout(book: Any, layout: Layout) -> None:
    """Fill the (new, empty) sheet ``layout.sheet`` of the xlwings ``book``."""
    sheet = book.sheets[layout.sheet]
    for (r, c), cell in sorted(layout.cells.items()):
        rng = sheet.range((r, c))
        if cell.format:
            rng.number_format = cell.format
        if cell.formula is not None:
            if cell.array:
                rng.formula_array = "=" + cell.formula
            else:
                rng.formula = "=" + cell.formula
        elif isinstance(cell.value, str):
            rng.value = "'" + cell.value           # text stays text
        else:
            rng.value = cell.value
        if cell.bold:
            rng.font.bold = True
    for col, width in layout.widths.items():
        sheet.range((1, col)).column_width = width
    if layout.hidden_cols:
        a, b = layout.hidden_cols
        sheet.range((1, a), (1, b)).column_width = 0
    for rect, flag in layout.flags:
        try:
            conditions = sheet.range(range_ref(rect)).api.FormatConditions
        except AttributeError:              # no COM (macOS, tests): the figures are still right
            continue
        rule = conditions.Add(_XL_CELL_VALUE, _XL_GREATER if flag == "late" else _XL_LESS, "=0")
        rule.Font.Color, rule.Interior.Color = 0x06009C, 0xCEC7FF        # BGR: Excel's "light red fill"
    for chart in layout.charts:
        r1, c1, r2, c2 = chart.anchor
        columns = sorted({v[1] for _, v in chart.series})
        head = chart.series[0][0][0]
        cat = chart.categories
        source = ",".join([f"{get_column_letter(cat[1])}{head}:{get_column_letter(cat[1])}{cat[2]}"]
                          + [f"{get_column_letter(c)}{head}:{get_column_letter(c)}{cat[2]}" for c in columns])
        made = sheet.charts.add((c1 - 1) * _POINTS_PER_COL, (r1 - 1) * _POINTS_PER_ROW,
                                (c2 - c1 + 1) * _POINTS_PER_COL, (r2 - r1 + 1) * _POINTS_PER_ROW)
        made.chart_type = CHART_TYPES[chart.kind]
        made.set_source_data(sheet.range(source))
        made.name = chart.title[:250]
