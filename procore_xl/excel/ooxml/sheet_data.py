"""A worksheet's sheetData written directly: cells and rows of a report table, column by column,
in blocks.

The rules are those of :mod:`procore_xl.excel.values` (a :class:`~procore_xl.excel.values.Column`
says how a column holds its values): numbers as numbers, dates and times as serial numbers with
their number format, ids above 2**53 and text as text - always an inline string, so text that
starts with ``=``, ``+``, ``-`` or ``@`` can never become a formula.

Inline strings rather than the shared-string table (openpyxl, the writer this replaced, wrote
inline strings too): nothing has to be collected across the whole table before the sheet is
written, so memory stays one block, and a refresh can splice a sheet without rewriting the
workbook's ``sharedStrings.xml`` (every other sheet's string indices stay valid). Repeated
text (statuses, names) costs little after deflate. openpyxl, LibreOffice and Excel read both.

Styles are indices into the workbook's ``cellXfs``; the caller maps (number format, bold) to
an index (``style(fmt, bold) -> int``).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from openpyxl.utils import get_column_letter

from ..values import MAX_NUMBER, TIME_FORMAT, Column, TableData
from .xml import escape, escape_text

Style = Callable[[str | None, bool], int]
# Rows encoded at a time: memory is one block. benchmarks/write_speed.py, 100,000 x 30: 500 rows
# 4.9 s / 318 MiB, 1,000 rows 4.7 to 4.9 s / 321 MiB, 5,000 rows 5.3 s / 370 MiB; the refresh of
# 20,000 RFIs (56 columns) peaks 34 MiB lower at 500 rows than at 1,000.
BLOCK_ROWS = 500
_EPOCH = np.datetime64("1899-12-30", "D")
_DAY_NS = 86_400 * 10**9
_PY_EPOCH = dt.datetime(1899, 12, 30)
_NEEDS_ESCAPE = re.compile('[&<>\r"]')
_PRESERVE = ' xml:space="preserve"'


def _style(index: int) -> str:
    """The cell's style attribute (none for the default style 0)."""
    return f' s="{index}"' if index else ""


def _text(ref: str, text: str, s: int) -> str:
    space = _PRESERVE if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{_style(s)} t="inlineStr"><is><t{space}>{escape_text(text)}</t></is></c>'


def serial(value: dt.date | dt.datetime | dt.time) -> float:
    """Excel's serial number for a date/datetime/time (1900 date system, as openpyxl writes it)."""
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    delta = value - _PY_EPOCH
    days = delta.days - (1 if 0 < delta.days <= 60 else 0)
    return days + (delta.seconds + delta.microseconds / 1e6) / 86400


def _number(v: float | int) -> str:
    """16 significant digits, as openpyxl writes numbers (Excel shows 15)."""
    return "%.16g" % v if isinstance(v, float) else str(v)


def cell(ref: str, value: Any, style: Style, fmt: str | None = None, bold: bool = False) -> str:
    """One cell's XML (empty string for None). Text is always text, never a formula."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return _text(ref, value, style(None if fmt in (None, "General") else fmt, bold))
    if isinstance(value, bool):
        s = style(fmt, bold)
        return f'<c r="{ref}"{_style(s)} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.time):
        fmt = fmt or TIME_FORMAT
        value = serial(value)
    elif isinstance(value, dt.date):
        fmt = fmt or "yyyy-mm-dd h:mm:ss"          # what openpyxl gives a datetime
        value = serial(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return ""
    if isinstance(value, float) and abs(value) > MAX_NUMBER:       # beyond Excel's largest number: text
        return _text(ref, repr(value), 0)
    s = style(fmt, bold)
    return f'<c r="{ref}"{_style(s)}><v>{_number(value)}</v></c>'


def shared_formula(letter: str, rows: list[str], formula: str, si: int, first: bool, last: int) -> list[str]:
    """The cells of a calculated column the person added to a report table: one shared formula
    (``si``) from the column's first data row to ``last``, so that relative references move
    with the row the way Excel fills a table column."""
    if not rows:
        return []
    tail = [f'<c r="{letter}{r}"><f t="shared" si="{si}"/></c>' for r in rows]
    if first:
        tail[0] = (f'<c r="{letter}{rows[0]}"><f t="shared" ref="{letter}{rows[0]}:{letter}{last}" si="{si}">'
                   f'{escape(formula.lstrip("="))}</f></c>')
    return tail


def _column_cells(col: Column, letter: str, rows: list[str], start: int, stop: int, style: Style) -> list[str]:
    """The cells of ``col`` for table rows ``start:stop`` ('' where the cell is empty);
    ``rows`` holds the sheet row numbers as text."""
    sa = _style(style(col.fmt, False))
    part = col.data[start:stop]
    if col.kind == "float":
        mask = np.isfinite(part)
        finite, values = mask.tolist(), part.tolist()
        cells = [f'<c r="{letter}{r}"{sa}><v>{v:.16g}</v></c>' if ok else ""
                 for r, v, ok in zip(rows, values, finite)]
        if mask.any() and np.abs(part[mask]).max() > MAX_NUMBER:     # beyond Excel's largest number: text
            cells = [_text(f"{letter}{r}", repr(v), 0) if ok and abs(v) > MAX_NUMBER else c
                     for c, r, v, ok in zip(cells, rows, values, finite)]
        return cells
    if col.kind == "int":
        values = part.tolist()
        if len(part) and np.abs(part).max() > 2**53:
            cells = [f'<c r="{letter}{r}"{sa}><v>{v}</v></c>' if abs(v) <= 2**53 else _text(f"{letter}{r}", str(v), 0)
                     for r, v in zip(rows, values)]
        else:
            cells = [f'<c r="{letter}{r}"{sa}><v>{v}</v></c>' for r, v in zip(rows, values)]
        if col.gaps is not None:
            cells = [("" if gap else c) for c, gap in zip(cells, col.gaps[start:stop].tolist())]
        return cells
    if col.kind == "bool":
        return [f'<c r="{letter}{r}"{sa} t="b"><v>{int(v)}</v></c>' for r, v in zip(rows, part.tolist())]
    if col.kind == "datetime":
        nat = np.isnat(part)
        days = part.astype("datetime64[D]")
        if (days[~nat] < np.datetime64("1900-01-01")).any():         # ISO text for those: value by value
            return [cell(f"{letter}{r}", v, style, col.fmt) for r, v in zip(rows, col.values(start, stop))]
        safe = np.where(nat, np.datetime64("2000-01-01", "ns"), part)
        days = safe.astype("datetime64[D]")
        whole = (days - _EPOCH).astype("int64")
        whole = whole - ((whole > 0) & (whole <= 60))
        frac = (safe - days).astype("timedelta64[ns]").astype("int64") / _DAY_NS
        serials = (whole + frac).tolist()
        if not nat.any():
            return [f'<c r="{letter}{r}"{sa}><v>{v:.16g}</v></c>' for r, v in zip(rows, serials)]
        return [f'<c r="{letter}{r}"{sa}><v>{v:.16g}</v></c>' if not gap else ""
                for r, v, gap in zip(rows, serials, nat.tolist())]
    if col.text_only:
        if _NEEDS_ESCAPE.search(joined := "".join(v for v in part if v)) or "_x" in joined:
            part = [escape_text(v) if v else v for v in part]
        return [f'<c r="{letter}{r}" t="inlineStr"><is><t'
                f'{_PRESERVE if v[0].isspace() or v[-1].isspace() else ""}>{v}</t></is></c>' if v else ""
                for r, v in zip(rows, part)]
    return [cell(f"{letter}{r}", v, style, col.fmt) for r, v in zip(rows, part)]


def table_rows(data: TableData, top: int, style: Style, *, first_col: int = 1,
               calculated: list[tuple[str, str]] = (), extra: dict[int, str] | None = None,
               block_rows: int = BLOCK_ROWS, first_si: int = 0) -> Iterator[str]:
    """``<row>`` elements of a report table: the header on sheet row ``top`` (bold), the data
    rows under it, blocks of ``block_rows`` rows per yielded string. ``calculated`` are
    (name, formula) columns after the data columns, refilled on every row; ``extra`` maps a
    sheet row to cells (XML) kept to the right of the table; ``first_si`` the first shared-formula
    index free on the sheet. ``data`` gives its columns a block of rows at a time
    (``column_blocks()``: a :class:`~procore_xl.excel.values.TableData` in one, a streamed table
    block by block); the rows are yielded in the same blocks of ``block_rows`` either way."""
    extra = extra or {}
    header = data.header or ["(no columns)"]     # a table of no column still has one (its placeholder)
    lead = len(header)                            # the columns before the calculated ones
    letters = [get_column_letter(first_col + j) for j in range(lead + len(calculated))]
    names = header + [name for name, _ in calculated]
    cells = "".join(cell(f"{letters[j]}{top}", name, style, None, True) for j, name in enumerate(names))
    yield f'<row r="{top}">{cells}{extra.get(top, "")}</row>'
    last = top + max(data.nrows, 1)
    if data.nrows == 0:
        if calculated:                       # one row: the calculated columns' formulas
            r = str(top + 1)
            cells = [""] * lead + [shared_formula(letters[lead + k], [r], formula, first_si + k, True, last)[0]
                                   for k, (_, formula) in enumerate(calculated)]
            yield f'<row r="{r}">{"".join(cells)}{extra.get(top + 1, "")}</row>'
        return
    pending: list[str] = []                  # rows made, yielded block_rows at a time
    for first, count, data_columns in data.column_blocks():
        for start in range(0, count, block_rows):
            stop = min(start + block_rows, count)
            rows = [str(top + 1 + first + i) for i in range(start, stop)]
            columns = [_column_cells(c, letters[j], rows, start, stop, style) for j, c in enumerate(data_columns)]
            for k, (_, formula) in enumerate(calculated):
                columns.append(shared_formula(letters[lead + k], rows, formula, first_si + k,
                                              first + start == 0, last))
            for i, parts in enumerate(zip(*columns) if columns else [()] * len(rows)):
                r = rows[i]
                tail = extra.get(int(r), "") if extra else ""
                pending.append(f'<row r="{r}">{"".join(parts)}{tail}</row>')
            while len(pending) >= block_rows:
                yield "".join(pending[:block_rows])
                del pending[:block_rows]
    if pending:
        yield "".join(pending)
