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

import numpy as np
import pandas as pd

MAX_EXACT_INT = 2**53
MAX_NUMBER = 9.99999999999999e307    # Excel's largest number: a larger one is written as its text
MAX_TEXT = 32_767                 # Excel's limit for the text in one cell
MAX_HEADER = 255                  # Excel's limit for a table column name
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
TEXT_FORMAT = "@"

# Control characters Excel files cannot hold (same set openpyxl refuses), plus what XML cannot
# encode at all; each becomes U+FFFD (lone surrogates from JSON "\ud800" escapes fail the .xlsx save; U+FFFE/U+FFFF).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_EPOCH = dt.date(1900, 1, 1)


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
    text, cut, _ = _clean(text)
    return text, cut


def _clean(text: str) -> tuple[str, bool, int]:
    """(text Excel can store, was it cut, how many characters became U+FFFD)."""
    stripped = 0
    if _ILLEGAL.search(text):
        text, stripped = _ILLEGAL.subn("\ufffd", text)   # as CSV writes a lone surrogate
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
    return value.isoformat() if day < _EXCEL_EPOCH else value


def cell_value(value: Any) -> Any:
    """One Python/pandas value -> a value Excel can hold (see module doc)."""
    if value is None or value is pd.NaT or value is pd.NA:
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
    if isinstance(value, pd.Timestamp):
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
        return [None if pd.isna(v) else _date_cell(v.to_pydatetime(warn=False)) for v in pd.DatetimeIndex(part)]


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


def _column(name: str, series: pd.Series, field: str | None = None) -> Column:
    """One frame column as a :class:`Column` headed ``name``; its number format follows the
    field path ``field`` (default: ``name``)."""
    plan = ColumnPlan(name, field)
    plan.add(series)
    return plan.convert(series)


def _family(dtype: Any) -> str:
    """How a column of ``dtype`` is held: datetime, bool, int (with gaps or not), float or object."""
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    return "object"            # object / string / categorical / mixed: value by value


def _items(series: pd.Series) -> list[Any]:
    """An object column's values, NaN / NA / NaT as None (gaps)."""
    items = series.astype(object).tolist()
    missing = series.isna().to_numpy()
    if missing.any():
        items = [None if gap else v for v, gap in zip(items, missing.tolist())]
    return items


def _clean_texts(texts: list[str]) -> bool:
    """Every text as an .xlsx holds it already (nothing to replace, nothing to cut)."""
    return not _ILLEGAL.search("".join(texts)) and max(map(len, texts), default=0) <= MAX_TEXT // 2


def _is_text(t: type) -> bool:
    return issubclass(t, str)


class ColumnPlan:
    """How one column is written, decided over all its values, which may come block by block
    (:meth:`add`), exactly as over the whole column at once; :meth:`convert` then makes the
    :class:`Column` of any block of it (a sheet written block by block never holds the whole
    column). What decides: the column's dtype; datetimes with a time of day; the largest whole
    number (``0`` format from 11 digits); for values held one by one (object columns), the
    types found (text, bools, numbers, dates, gaps) and the dates, times and ids among them."""

    def __init__(self, name: str, field: str | None = None):
        self.name, self.field = name, name if field is None else field
        self.family: str | None = None
        self.mixed = False            # blocks of different dtypes: no plan stands for the whole column
        self.has_time = self.gaps = False
        self.max_abs = 0              # int: the largest |value|
        self.texts = self.others = self.nones = self.dates = self.times = self.cut = self.stripped = 0
        self.clean, self.exact, self.ints, self.big_ints = True, True, False, False
        self.types: set[type] = set()  # the types of the values other than text and gaps
        self.first_date: dt.date | None = None

    def add(self, series: pd.Series) -> None:
        family = _family(series.dtype)
        if self.family is None:
            self.family = family
        elif family != self.family:
            self.mixed = True
            return
        if family == "datetime":
            if getattr(series.dtype, "tz", None) is not None:
                series = series.dt.tz_localize(None)
            self.has_time = self.has_time or bool(((series - series.dt.normalize()).dropna() != pd.Timedelta(0)).any())
        elif family == "bool":
            self.gaps = self.gaps or bool(series.hasnans)
        elif family == "int" and len(series):
            data = series.to_numpy(dtype="int64") if isinstance(series.dtype, np.dtype) else \
                series.fillna(0).to_numpy(dtype="int64")
            self.max_abs = max(self.max_abs, int(np.abs(data).max()))
        elif family == "object":
            self._add_items(_items(series))

    def _add_items(self, items: list[Any]) -> None:
        types = set(map(type, items))
        texts = [v for v in items if isinstance(v, str)] if any(map(_is_text, types)) else []
        self.texts += len(texts)
        if texts and not _clean_texts(texts):
            self.clean = False
            for v in texts:
                _, was_cut, was_stripped = _clean(v)
                self.cut += was_cut
                self.stripped += was_stripped
        if all(t is type(None) or _is_text(t) for t in types):
            self.nones += len(items) - len(texts)
            return
        others = [v for v in items if v is not None and not isinstance(v, str)]
        self.others += len(others)
        self.nones += len(items) - len(texts) - len(others)
        self.types.update(map(type, others))
        self.exact = self.exact and all(abs(v) <= MAX_EXACT_INT for v in others if type(v) is int)
        if self.types == {dt.date}:
            first = min(others)
            self.first_date = first if self.first_date is None else min(self.first_date, first)
        for v in others:                    # what the values become, written one by one
            c = cell_value(v)
            if isinstance(c, dt.datetime):
                self.dates += 1
                self.times += c.time() != dt.time(0)
            elif isinstance(c, dt.date):
                self.dates += 1
            elif type(c) is int:
                self.ints = True
                self.big_ints = self.big_ints or abs(c) >= BIG_WHOLE

    @property
    def kind(self) -> str:
        """What :meth:`convert` makes of an object column: text (and gaps), bool, float
        (numbers and gaps), date (dates from Procore), dates (values that all become dates)
        or values (one by one)."""
        if not self.others:
            return "text"
        if not self.texts and not self.nones and self.types == {bool}:
            return "bool"
        if not self.texts and self.types <= {int, float} and self.exact:
            return "float"
        if not self.texts and self.types == {dt.date} and self.first_date >= _EXCEL_EPOCH:
            return "date"
        return "dates" if self.dates and self.dates == self.others and not self.texts else "values"

    @property
    def fmt(self) -> str | None:
        """The column's number format."""
        family = self.family
        if family == "datetime":
            return DATETIME_FORMAT if self.has_time else DATE_FORMAT
        if family == "int":
            fmt = display_format(self.field, "int")
            return ID_FORMAT if fmt is None and self.max_abs >= BIG_WHOLE else fmt
        if family == "float":
            return display_format(self.field, "float")
        if family != "object":
            return None
        kind = self.kind
        if kind == "float":
            return display_format(self.field, "float")
        if kind == "date":
            return DATE_FORMAT
        if kind in ("text", "bool"):
            return None
        if self.dates:
            return DATETIME_FORMAT if self.times else DATE_FORMAT
        return (display_format(self.field, "int") or (ID_FORMAT if self.big_ints else None)) if self.ints else None

    def convert(self, series: pd.Series) -> Column:
        """The :class:`Column` of ``series``: the column, or any block of it, once every block
        was added."""
        name, family, fmt = self.name, self.family, self.fmt
        if family == "datetime":
            if getattr(series.dtype, "tz", None) is not None:
                series = series.dt.tz_localize(None)
            return Column(name, "datetime", series.to_numpy(dtype="datetime64[ns]"), fmt)
        if family == "bool":
            if not self.gaps:
                return Column(name, "bool", series.to_numpy(dtype=bool))
            return Column(name, "values", [None if pd.isna(v) else bool(v) for v in series.astype(object)])
        if family == "int":
            if isinstance(series.dtype, np.dtype):
                return Column(name, "int", series.to_numpy(dtype="int64"), fmt)
            gaps = series.isna().to_numpy()      # nullable integers: the numbers and where the gaps are
            return Column(name, "int", series.fillna(0).to_numpy(dtype="int64"), fmt,
                          gaps=gaps if gaps.any() else None)
        if family == "float":
            return Column(name, "float", series.to_numpy(dtype="float64", na_value=np.nan), fmt)
        items, kind = _items(series), self.kind
        if kind == "bool":
            return Column(name, "bool", np.array(items, dtype=bool))
        if kind == "float":                     # numbers with gaps (None)
            return Column(name, "float", np.array([np.nan if v is None else v for v in items], dtype="float64"), fmt)
        if kind == "date":                      # dates (and gaps) from Procore: written like datetime64
            return Column(name, "datetime", np.array(items, dtype="datetime64[D]").astype("datetime64[ns]"), fmt)
        clean = self.clean or _clean_texts([v for v in items if isinstance(v, str)])
        if kind == "text" and clean:
            return Column(name, "values", items, None, text_only=any(isinstance(v, str) for v in items))
        values, cut, stripped = [], 0, 0
        for v in items:
            if isinstance(v, str):
                if not clean:
                    v, was_cut, was_stripped = _clean(v)
                    cut += was_cut
                    stripped += was_stripped
                values.append(v)
            else:
                values.append(cell_value(v))
        if kind == "dates":                     # a date column: written like datetime64
            return Column(name, "datetime", np.array([np.datetime64("NaT") if v is None else np.datetime64(v, "us")
                                                      for v in values], dtype="datetime64[ns]"), fmt)
        return Column(name, "values", values, fmt, cut, stripped,
                      text_only=kind == "text" and any(isinstance(v, str) for v in values))


def table_data(frame: pd.DataFrame, header: list[str] | None = None) -> TableData:
    """The frame as :class:`TableData` (column by column; the index is not written). ``header``:
    the names the table shows (labels; default the frame's column names); number formats follow
    the frame's own column names (the field paths)."""
    header = unique_headers(list(frame.columns) if header is None else list(header))
    fields = [str(c) for c in frame.columns]
    columns = [_column(header[i], frame.iloc[:, i], fields[i]) for i in range(frame.shape[1])]
    return TableData(header, columns, len(frame))


def frame_to_block(frame: pd.DataFrame, header: list[str] | None = None) -> Block:
    """The whole frame as a :class:`Block` (header + rows); the index is not written."""
    data = table_data(frame, header)
    return Block(header=data.header, rows=data.rows(), formats=data.formats,
                 truncated_cells=sum(c.cut for c in data.columns))
