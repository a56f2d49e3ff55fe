"""An analysis sheet laid out as cells, formulas, conditional formats and charts (no file format).

:func:`lay_out` turns an :class:`~procore_xl.analyses.Analysis` and the report tables it reads
(table name and header, as written) into a :class:`Layout`. Every number on the sheet is a
formula over the tables' structured references; the layout's size depends only on the
analysis, never on the data, so chart ranges stay valid whatever a refresh brings.

Layout (rows 1-based)::

    1  <Sheet title>
    2  what it shows; "formulas over the report tables, recalculated by Excel"
    3  Reads: 'RFIs' (tbl_RFIs) ...
    5  Open RFIs        | =COUNTIFS(tbl_RFIs[status],"open")       <- key figures: label, value
    ...
       <breakdown title>                                             chart to the right
       Ball in court | Open | Overdue
       =INDEX(...)   | =COUNTIFS(...) | ...                          (fixed number of rows)

A Top breakdown finds its names with formulas in hidden helper columns far right (the first
``distinct`` different values of the column, each one's rank, then the largest N).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..analyses import DATE, MONTH, Analysis, Breakdown, Buckets, Column, Periods, Top
from openpyxl.utils import get_column_letter

from .base import Rect, cell_ref, range_ref

FIRST_FIGURE_ROW = 5
CHART_ROWS = 16                 # rows a chart covers
CHART_COLS = 8                  # columns a chart covers
HELPER_FIRST_COL = 40           # hidden helper columns (column AN on)
NOT_FOUND = -1e300


@dataclass
class Cell:
    value: Any = None            # a constant (text, number)
    formula: str | None = None   # without "="
    array: bool = False          # an array formula (one cell)
    format: str | None = None
    bold: bool = False


@dataclass
class ChartSpec:
    kind: str
    title: str
    anchor: Rect                  # cells the chart covers (first row, first col, last row, last col)
    categories: Rect
    series: list[tuple[Rect, Rect]]   # (name cell, values) per series
    date_format: str | None = None    # categories are dates (periods) shown in this format


@dataclass
class Layout:
    sheet: str
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    flags: list[tuple[Rect, str]] = field(default_factory=list)      # (cells, "late" | "over")
    charts: list[ChartSpec] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    hidden_cols: tuple[int, int] | None = None
    notes: list[str] = field(default_factory=list)                   # missing columns
    figures: dict[str, tuple[int, int]] = field(default_factory=dict)  # label -> value cell

    def put(self, row: int, col: int, **kw) -> None:
        self.cells[(row, col)] = Cell(**kw)


@dataclass(frozen=True)
class TableInfo:
    """A report table as written: its sheet, name and header."""
    sheet: str
    name: str
    header: tuple[str, ...]


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def header_for(field_path: str, header: tuple[str, ...] | list[str]) -> str | None:
    """The header of the column that holds ``field_path`` in a table whose header is ``header``,
    or None. The one place a field path meets a header: the field path itself, else the same
    words in any case and spacing ("ball_in_court.name" -> "Ball In Court Name"), else a readable
    label without the last part of a nested field ("Ball In Court" for "ball_in_court.name")."""
    if field_path in header:
        return field_path
    squashed = {_squash(h): h for h in reversed(header)}
    found = squashed.get(_squash(field_path))
    if found is None and "." in field_path:
        found = squashed.get(_squash(field_path.rsplit(".", 1)[0]))
    return found


_SPECIAL = re.compile(r"[\s,:.\[\]#'\"{}$^&*+=\-<>/()!%~`@;?|\\]")


def structured_ref(table: str, column: str) -> str:
    """``tbl_RFIs[status]``; ``tbl_RFIs[[ball_in_court.name]]`` when the name has characters a
    structured reference must bracket (``'`` escapes ``[ ] # '``)."""
    escaped = re.sub(r"([\[\]#'])", r"'\1", column)
    return f"{table}[[{escaped}]]" if _SPECIAL.search(column) else f"{table}[{escaped}]"


class MissingColumn(Exception):
    pass


class _Formulas:
    """Template -> Excel formula for one analysis (see :mod:`procore_xl.analyses`)."""

    _TOKEN = re.compile(r"\{(\w+):([^{}]+)\}|\{(key|next|from|to)\}")

    def __init__(self, analysis: Analysis, tables: dict[str, TableInfo | None]):
        self.analysis, self.tables = analysis, tables
        self.figures: dict[str, str] = {}

    def render(self, template: str, row: dict[str, str] | None = None) -> str:
        row = row or {}

        def sub(m: re.Match) -> str:
            if m.group(3):
                return row[m.group(3)]
            source, name = m.group(1), m.group(2)
            if source == "fig":
                if name not in self.figures:
                    raise MissingColumn(f'the key figure "{name}"')
                return self.figures[name]
            if source == "col":
                return row["col:" + name]
            info = self.tables.get(source)
            report = self.analysis.source(source).report
            if info is None:
                raise MissingColumn(f"the {report} table")
            header = header_for(name, info.header)
            if header is None:
                raise MissingColumn(f'the column "{name}" in sheet {info.sheet!r} ({info.name})')
            return structured_ref(info.name, header)
        return self._TOKEN.sub(sub, template)


def lay_out(analysis: Analysis, sheet: str, tables: dict[str, TableInfo | None]) -> Layout:
    """The analysis sheet for ``tables`` (source name -> the table as written; None: missing)."""
    out = Layout(sheet)
    f = _Formulas(analysis, tables)
    out.put(1, 1, value=analysis.sheet, bold=True)
    out.put(2, 1, value=f"{analysis.description}. Every figure and chart is a formula over the report "
                        f"tables: Excel recalculates them after each refresh.")
    reads = [f"'{t.sheet}' ({t.name})" for t in tables.values() if t is not None]
    out.put(3, 1, value="Reads: " + ", ".join(reads) + (f". {analysis.note}" if analysis.note else ""))
    row = FIRST_FIGURE_ROW
    out.put(row - 1, 1, value="Key figures", bold=True)
    for fig in analysis.figures:
        out.put(row, 1, value=fig.label, bold=True)
        try:
            formula = f.render(fig.formula)
        except MissingColumn as exc:
            out.put(row, 2, value=f"(needs {exc})")
            out.notes.append(f"{fig.label}: needs {exc}")
        else:
            out.put(row, 2, formula=formula, format=fig.format)
            f.figures[fig.label] = cell_ref(row, 2, absolute=True)
            out.figures[fig.label] = (row, 2)
            if fig.flag:
                out.flags.append(((row, 2, row, 2), fig.flag))
        row += 1
    row += 1
    helper = HELPER_FIRST_COL
    for b in analysis.breakdowns:
        row, helper = _breakdown(out, f, b, row, helper)
    out.widths = {1: 34.0, **{c: 16.0 for c in range(2, 8)}}
    if helper > HELPER_FIRST_COL:
        out.hidden_cols = (HELPER_FIRST_COL, helper - 1)
    return out


def _breakdown(out: Layout, f: _Formulas, b: Breakdown, top: int, helper: int) -> tuple[int, int]:
    rows = b.rows
    n = rows.n if isinstance(rows, (Top, Periods)) else len(rows.rows)
    out.put(top, 1, value=b.title, bold=True)
    head = top + 1
    first = head + 1
    extra = 2 if isinstance(rows, Buckets) else 0      # From / To columns
    col0 = 2 + extra
    out.put(head, 1, value=rows.label or "", bold=True)
    if extra:
        out.put(head, 2, value="From (days)", bold=True)
        out.put(head, 3, value="To (days)", bold=True)
    columns = list(b.columns)
    if b.split is not None:          # one column per value of the split, its name in the header
        (c,) = b.columns
        columns = []
        for j in range(b.split.n):
            name = f"{get_column_letter(col0 + j)}${head}"
            columns.append(Column(f"{c.label} {j + 1}", f'IF({name}="","",' + c.formula.replace("{split}", name)
                                  + ")", c.format, c.flag))
    for j, c in enumerate(columns):
        if b.split is None:
            out.put(head, col0 + j, value=c.label, bold=True)
    keys: list[dict[str, str]] = []
    try:
        if isinstance(rows, Top):
            helper = _top_keys(out, f, rows, first, helper, [(first + i, 1) for i in range(n)])
        if b.split is not None:
            helper = _top_keys(out, f, b.split, first, helper, [(head, col0 + j) for j in range(b.split.n)])
        for i in range(n):
            r = first + i
            row = {"key": f"$A{r}"}
            if isinstance(rows, Periods):
                row["next"] = _period(out, rows, i, r)
            elif isinstance(rows, Buckets):
                label, lo, hi = rows.rows[i]
                out.put(r, 1, value=label)
                out.put(r, 2, value=lo)
                out.put(r, 3, value=hi)
                row["from"], row["to"] = f"$B{r}", f"$C{r}"
            for j, c in enumerate(columns):
                row["col:" + c.label] = cell_ref(r, col0 + j)
            keys.append(row)
        for j, c in enumerate(columns):
            for i, row in enumerate(keys):
                formula = f.render(c.formula, row)
                if isinstance(rows, Top):
                    formula = f'IF({row["key"]}="","",{formula})'
                out.put(first + i, col0 + j, formula=formula, format=c.format)
            if c.flag:
                out.flags.append(((first, col0 + j, first + n - 1, col0 + j), c.flag))
    except MissingColumn as exc:
        for r in range(first, first + n):
            for c in range(1, col0 + len(columns)):
                out.cells.pop((r, c), None)
        out.put(first, 1, value=f"(needs {exc})")
        out.notes.append(f"{b.title}: needs {exc}")
        return top + 4, helper
    last = first + n - 1
    if b.total:
        out.put(last + 1, 1, value="Total", bold=True)
        for j, c in enumerate(columns):
            col = col0 + j
            out.put(last + 1, col, formula=f"SUM({range_ref((first, col, last, col))})", format=c.format, bold=True)
            if c.flag:
                out.flags.append(((last + 1, col, last + 1, col), c.flag))
    if b.chart is not None:
        by_label = {c.label: col0 + j for j, c in enumerate(columns)}
        anchor_col = col0 + len(columns) + 1
        out.charts.append(ChartSpec(
            b.chart.kind, b.chart.title, (top, anchor_col, top + CHART_ROWS - 1, anchor_col + CHART_COLS - 1),
            (first, 1, last, 1),
            [((head, by_label[s], head, by_label[s]), (first, by_label[s], last, by_label[s]))
             for s in (b.chart.series if b.split is None else by_label)],
            ({"day": "d mmm", "week": "d mmm", "month": "mmm yy"}[rows.unit] if isinstance(rows, Periods) else None)))
    height = max(n + 3 + (1 if b.total else 0), CHART_ROWS + 1 if b.chart else 0)
    return top + height, helper


def _period(out: Layout, rows: Periods, i: int, r: int) -> str:
    back = rows.n - 1 - i
    if rows.unit == "day":
        out.put(r, 1, formula=f"TODAY()-{back}" if back else "TODAY()", format=DATE)
        return f"($A{r}+1)"
    if rows.unit == "week":
        out.put(r, 1, formula=f"TODAY()-WEEKDAY(TODAY(),3)-{7 * back}", format=DATE)
        return f"($A{r}+7)"
    out.put(r, 1, formula=f"EDATE(TODAY()-DAY(TODAY())+1,-{back})", format=MONTH)
    return f"EDATE($A{r},1)"


def _top_keys(out: Layout, f: _Formulas, rows: Top, first: int, helper: int, targets: list[tuple[int, int]]) -> int:
    """Helper columns (value, rank) for the first ``rows.distinct`` different values of the
    column, and the ``targets`` cells (a breakdown's key cells): the values with the largest ranks."""
    src = f.render("{%s:%s}" % (rows.source, rows.field))
    vcol, rcol = helper, helper + 1
    v, rk = get_column_letter(vcol), get_column_letter(rcol)
    out.put(first - 2, vcol, value=f"(helper: values of {rows.field})")
    d = rows.distinct
    for k in range(1, d + 1):
        r = first + k - 1
        out.put(r, vcol, array=True,
                formula=f'IFERROR(INDEX({src},MATCH(0,COUNTIF({v}${first - 1}:{v}{r - 1},{src})+({src}=""),0)),"")')
        rank = f.render(rows.rank, {"key": f"{v}{r}"}) if rows.rank else f"COUNTIFS({src},{v}{r})"
        out.put(r, rcol, formula=f'IF({v}{r}="",{NOT_FOUND:.0E},{rank}+{d + 1 - k}/{d + 2})')
    values = f"${v}${first}:${v}${first + d - 1}"
    ranks = f"${rk}${first}:${rk}${first + d - 1}"
    for i, (r, c) in enumerate(targets, start=1):
        big = f"LARGE({ranks},{i})"
        out.put(r, c, formula=f'IF({big}<{NOT_FOUND / 10:.0E},"",INDEX({values},MATCH({big},{ranks},0)))',
                bold=r < first)
    return helper + 2
