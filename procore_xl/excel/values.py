"""DataFrame -> plain cell values, shared by the sheet writers and the UDFs.

Excel holds numbers as IEEE doubles, dates as serial numbers and text up to 32,767
characters. This module turns a report frame into exactly that: ``datetime``/``date`` for
dates (``flatten`` already turned Procore's timestamps into UTC; any zone left is dropped
without shifting the clock time), ``int``/``float`` for
numbers, ``str`` for text and for integers too large for a double (ids above 2**53),
``None`` for missing values. Nothing here knows about openpyxl or xlwings.

Edge rules: the characters an .xlsx cannot hold (XML 1.0: C0 controls other than tab/LF/CR,
lone UTF-16 surrogates, U+FFFE/U+FFFF) become U+FFFD and are counted, as CSV does with lone
surrogates; text is cut to 32,767 UTF-16 units - Excel's count, so a character outside the BMP
(an emoji) counts twice; dates before 1900-01-01 (which Excel cannot
show; openpyxl would write serial 0 or a negative number) are written as ISO text.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import sys

import numpy as np

from ..lazy_pandas import pd

MAX_EXACT_INT = 2**53
MAX_NUMBER = 9.99999999999999e307    # Excel's largest number: a larger one is written as its text
MAX_TEXT = 32_767                 # Excel's limit for the text in one cell
MAX_HEADER = 255                  # Excel's limit for a table column name
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
TEXT_FORMAT = "@"

# Control characters Excel files cannot hold (same set openpyxl refuses), plus what XML cannot
# encode at all; each becomes U+FFFD (lone surrogates from JSON "\ud800" escapes fail the .xlsx save; U+FFFE/U+FFFF).
NOT_IN_XLSX = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
EXCEL_EPOCH = dt.date(1900, 1, 1)


@dataclass
class Block:
    """A frame as cell values: header row, data rows, one number format (or None) per column."""

    header: list[str]
    rows: list[list[Any]]
    formats: list[str | None]
    truncated_cells: int = 0      # text cells cut to 32,767 characters

    @property
    def width(self) -> int:
        return len(self.header)


def clean_text(text: str) -> tuple[str, bool]:
    """Strip characters Excel cannot store; cut to Excel's cell limit. Returns (text, was_cut)."""
    text, cut, _ = clean_counted(text)
    return text, cut


def clean_counted(text: str) -> tuple[str, bool, int]:
    """(text Excel can store, was it cut, how many characters became U+FFFD)."""
    stripped = 0
    if NOT_IN_XLSX.search(text):
        text, stripped = NOT_IN_XLSX.subn("\ufffd", text)   # as CSV writes a lone surrogate
    if len(text) > MAX_TEXT // 2 and len(text.encode("utf-16-le", "surrogatepass")) // 2 > MAX_TEXT:
        units = 0
        for i, ch in enumerate(text):       # Excel counts UTF-16 units: astral characters are 2
            units += 2 if ord(ch) > 0xFFFF else 1
            if units > MAX_TEXT - 1:
                return text[:i] + "\u2026", True, stripped
    return text, False, stripped


def _date_cell(value: dt.date) -> Any:
    """A date/datetime Excel can show, or its ISO text when it is before 1900."""
    day = value.date() if isinstance(value, dt.datetime) else value
    return value.isoformat() if day < EXCEL_EPOCH else value


def cell_value(value: Any) -> Any:
    """One Python/pandas value -> a value Excel can hold (see module doc)."""
    if value is None:
        return None
    # a value from JSON is never a pandas one: no import for it (getattr: pandas may be half
    # imported by lazy_pandas.prewarm's thread, and then no value is one of its own either)
    pandas = sys.modules.get("pandas")
    if pandas is not None and (value is getattr(pandas, "NaT", None) or value is getattr(pandas, "NA", None)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        value = int(value)
        return str(value) if abs(value) > MAX_EXACT_INT else value
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            return None
        return repr(value) if abs(value) > MAX_NUMBER else value
    if pandas is not None and isinstance(value, getattr(pandas, "Timestamp", ())):
        if value.tzinfo is not None:
            value = value.tz_localize(None)
        return _date_cell(value.to_pydatetime(warn=False))
    if isinstance(value, dt.datetime):
        return _date_cell(value.replace(tzinfo=None) if value.tzinfo is not None else value)
    if isinstance(value, dt.date):
        return _date_cell(value)
    if isinstance(value, dt.time):
        return value
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else cell_value(pd.Timestamp(value))
    if isinstance(value, str):
        return clean_text(value)[0]
    if isinstance(value, list | tuple | dict):
        try:
            text = json.dumps(value, default=str, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError):   # non-text keys, cycles, too deep
            text = str(value)
        return clean_text(text)[0]
    return clean_text(str(value))[0]


def unique_headers(columns: list[Any]) -> list[str]:
    """Table column names: text, non-empty, at most 255 characters, unique ignoring case."""
    seen: set[str] = set()
    out = []
    for i, col in enumerate(columns, start=1):
        name = clean_text(str(col).strip())[0][:MAX_HEADER] if col is not None else ""
        name = name.replace("\n", " ") or f"Column {i}"
        base, n = name, 2
        while name.lower() in seen:
            suffix = f" ({n})"
            name = base[: MAX_HEADER - len(suffix)] + suffix
            n += 1
        seen.add(name.lower())
        out.append(name)
    return out


# -- display formats ------------------------------------------------------------------------------
MONEY_FORMAT = "#,##0.00"
ID_FORMAT = "0"                  # whole-number ids: every digit, never 2.20001E+11
PERCENT_FORMAT = '0.00"%"'       # Procore sends percentages as 0-100: the value stays, the sign shows
TIME_FORMAT = "hh:mm:ss"
_PERCENT_NAME = re.compile(r"(percent|percentage|pct)", re.I)
_MONEY_NAME = re.compile(r"(amount|total|cost|price|balance|payments|revised_contract|change_orders|budget|"
                         r"forecast|retainage|paid|requisitions|draw_requests|subtotal|tax|value)", re.I)
_NOT_MONEY = re.compile(r"(count|hours|quantity|qty|rate|days|number|_id$|^id$|position|uom|percent)", re.I)
_ID_NAME = re.compile(r"(^id$|_id$|^number$)")
# numbers that only look like money by their path's last word: days of a schedule impact
_NOT_MONEY_PATHS = re.compile(r"(^|\.)schedule_impact\.value$|days", re.I)
BIG_WHOLE = 10 ** 10             # a whole number this large is shown with every digit (format 0)


def display_format(name: str, kind: str) -> str | None:
    """The number format a numeric column is shown with (``name`` is the field path): whole
    ids (``id``, ``location_id``, ``number``) with every digit (``0``), money (an amount-like
    name: ``amount``, ``grand_total``, ``unit_cost``...) with thousands separators and two
    decimals, percentages with a % sign; None (General) for other numbers: days, counts,
    coordinates."""
    if kind not in ("float", "int"):
        return None
    last = name.rsplit(".", 1)[-1]
    if _ID_NAME.search(last):
        return ID_FORMAT
    if _NOT_MONEY_PATHS.search(name):
        return None
    if _PERCENT_NAME.search(last):
        return PERCENT_FORMAT
    if _MONEY_NAME.search(last) and not _NOT_MONEY.search(last):
        return MONEY_FORMAT
    return None


# -- column-typed table data ----------------------------------------------------------------------
@dataclass
class Column:
    """One frame column ready for a sheet: ``kind`` says how ``data`` holds it.

    ``float``/``int``/``bool``: a numpy array (ints without gaps; floats with NaN for missing);
    ``datetime``: naive datetime64 values; ``values``: a list of cell values (:func:`cell_value`).
    """

    name: str
    kind: str
    data: Any
    fmt: str | None = None
    cut: int = 0                  # text values cut to 32,767 characters
    stripped: int = 0             # characters an .xlsx cannot hold, written as U+FFFD
    text_only: bool = False       # ``values`` holding only text (and gaps)
    gaps: Any = None              # ``int``: a bool array, True where the value is missing

    def values(self, start: int, stop: int) -> list[Any]:
        """Cell values of rows ``start:stop`` (the rules of :func:`cell_value`)."""
        part = self.data[start:stop]
        if self.kind == "values":
            return part
        if self.kind == "float":
            finite = np.isfinite(part)
            out = part.tolist()
            if not finite.all():
                out = [v if ok else None for v, ok in zip(out, finite.tolist())]
            if finite.any() and np.abs(part[finite]).max() > MAX_NUMBER:
                out = [repr(v) if v is not None and abs(v) > MAX_NUMBER else v for v in out]
            return out
        if self.kind == "int":
            out = part.tolist()
            if len(part) and np.abs(part).max() > MAX_EXACT_INT:
                out = [str(v) if abs(v) > MAX_EXACT_INT else v for v in out]
            if self.gaps is not None:
                out = [None if gap else v for v, gap in zip(out, self.gaps[start:stop].tolist())]
            return out
        if self.kind == "bool":
            return part.tolist()
        # microseconds, as pandas' to_pydatetime(warn=False) gives them; NaT -> None
        return [None if v is None else _date_cell(v) for v in part.astype("datetime64[us]").tolist()]


@dataclass
class TableData:
    """A report frame as table columns: header names, typed columns, row count."""

    header: list[str]
    columns: list[Column]
    nrows: int

    @property
    def width(self) -> int:
        return len(self.header)

    @property
    def formats(self) -> list[str | None]:
        return [c.fmt for c in self.columns]

    def rows(self, start: int = 0, stop: int | None = None) -> list[list[Any]]:
        stop = self.nrows if stop is None else min(stop, self.nrows)
        if not self.columns:
            return [[] for _ in range(max(stop - start, 0))]
        return [list(r) for r in zip(*(c.values(start, stop) for c in self.columns))]

    def column_blocks(self) -> Iterator[tuple[int, int, list[Column]]]:
        """(first row, rows, columns) of each block of rows: here one, the whole table."""
        yield 0, self.nrows, self.columns

    def notes(self) -> list[str]:
        return column_notes(self.columns)


def column_notes(columns: Iterable[Column | ColumnPlan]) -> list[str]:
    """What the sheet could not keep as sent, per column (for the run's warnings)."""
    out = []
    for c in columns:
        if c.cut:
            out.append(f"{c.cut} text value(s) in column {c.name} cut to Excel's 32,767 characters")
        if c.stripped:
            out.append(f"{c.stripped} character(s) in column {c.name} that an Excel file cannot hold "
                       f"(control characters or lone surrogates in Procore's text) written as U+FFFD, "
                       f"the replacement character")
    return out
