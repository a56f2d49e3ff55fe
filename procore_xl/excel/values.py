"""DataFrame -> plain cell values, shared by the sheet writers and the UDFs.

Excel holds numbers as IEEE doubles, dates as serial numbers and text up to 32,767
characters. This module turns a report frame into exactly that: ``datetime``/``date`` for
dates (``flatten`` already turned Procore's timestamps into UTC; any zone left is dropped
without shifting the clock time), ``int``/``float`` for
numbers, ``str`` for text and for integers too large for a double (ids above 2**53),
``None`` for missing values. Nothing here knows about openpyxl or xlwings.

Edge rules: text loses the characters an .xlsx cannot hold (C0 controls other than tab/LF/CR,
lone UTF-16 surrogates, U+FFFE/U+FFFF) and is cut to 32,767 UTF-16 units - Excel's count, so a
character outside the BMP (an emoji) counts twice; dates before 1900-01-01 (which Excel cannot
show; openpyxl would write serial 0 or a negative number) are written as ISO text.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

MAX_EXACT_INT = 2**53
MAX_TEXT = 32_767                 # Excel's limit for the text in one cell
MAX_HEADER = 255                  # Excel's limit for a table column name
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
TEXT_FORMAT = "@"

# Control characters Excel files cannot hold (same set openpyxl refuses), plus what XML cannot
# encode at all (lone surrogates from JSON "\ud800" escapes fail the .xlsx save; U+FFFE/U+FFFF).
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
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    if len(text) > MAX_TEXT // 2 and len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
        units = 0
        for i, ch in enumerate(text):       # Excel counts UTF-16 units: astral characters are 2
            units += 2 if ord(ch) > 0xFFFF else 1
            if units > MAX_TEXT - 1:
                return text[:i] + "\u2026", True
    return text, False


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
        return None if math.isnan(value) or math.isinf(value) else value
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


def _column_values(series: pd.Series) -> tuple[list[Any], str | None, int]:
    """Convert one column; returns (values, number format, text cells cut)."""
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        if getattr(dtype, "tz", None) is not None:
            series = series.dt.tz_localize(None)
        values = [None if v is pd.NaT else _date_cell(v.to_pydatetime(warn=False)) for v in series]
        has_time = bool(((series - series.dt.normalize()).dropna() != pd.Timedelta(0)).any())
        return values, DATETIME_FORMAT if has_time else DATE_FORMAT, 0
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return [None if pd.isna(v) else bool(v) for v in series.astype(object)], None, 0
    if pd.api.types.is_integer_dtype(dtype):
        obj = series.astype(object)
        return [cell_value(v) for v in obj], None, 0
    if pd.api.types.is_float_dtype(dtype):
        arr = series.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(arr)
        values = arr.tolist()
        if not finite.all():
            values = [v if ok else None for v, ok in zip(values, finite.tolist())]
        return values, None, 0
    # object / string / categorical / mixed: value by value
    values, cut, dates, times = [], 0, 0, 0
    for v in series.astype(object):
        if isinstance(v, str):
            text, was_cut = clean_text(v)
            cut += was_cut
            values.append(text)
            continue
        c = cell_value(v)
        if isinstance(c, dt.datetime):
            dates += 1
            times += c.time() != dt.time(0)
        elif isinstance(c, dt.date):
            dates += 1
        values.append(c)
    fmt = (DATETIME_FORMAT if times else DATE_FORMAT) if dates else None
    return values, fmt, cut


def frame_to_block(frame: pd.DataFrame) -> Block:
    """The whole frame as a :class:`Block` (header + rows); the index is not written."""
    header = unique_headers(list(frame.columns))
    columns, formats, cut = [], [], 0
    for i in range(frame.shape[1]):
        values, fmt, n = _column_values(frame.iloc[:, i])
        columns.append(values)
        formats.append(fmt)
        cut += n
    rows = [list(r) for r in zip(*columns)] if columns else [[] for _ in range(len(frame))]
    return Block(header=header, rows=rows, formats=formats, truncated_cells=cut)
