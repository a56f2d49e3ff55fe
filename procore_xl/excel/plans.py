"""How one report column is written to a sheet, decided over all its values (which may come block
by block): :class:`ColumnPlan`. The values come as a pandas Series (a frame's column) or as
plain Python lists (:class:`~procore_xl.view.PlainColumn`: a table read from pages, no pandas);
both make the same :class:`~procore_xl.excel.values.Column` of each block. :func:`table_data`:
a whole frame's columns (the writers that do not stream, the UDFs' :func:`frame_to_block`).

Plain lists by family (what the table's column kind makes, ``view.PlainColumn``): ``int``
(ints and None: ids, item numbers; the Series' ``Int64``), ``float`` (floats and None: money,
coordinates), ``datetime`` (ISO text ``YYYY-MM-DD`` / ``YYYY-MM-DDTHH:MM:SS`` and None: the
Series' naive datetime64), ``object`` (values as sent, value by value as an object Series).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from ..lazy_pandas import pd
from ..view import PlainColumn
from .values import (EXCEL_EPOCH, NOT_IN_XLSX, BIG_WHOLE, DATE_FORMAT, DATETIME_FORMAT, ID_FORMAT, MAX_EXACT_INT,
                     MAX_TEXT, Block, Column, TableData, clean_counted, cell_value, display_format, unique_headers)


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
    return not NOT_IN_XLSX.search("".join(texts)) and max(map(len, texts), default=0) <= MAX_TEXT // 2


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

    def add(self, series: pd.Series | PlainColumn) -> None:
        if isinstance(series, PlainColumn):
            self._add_plain(series)
            return
        family = _family(series.dtype)
        if not self._takes(family):
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

    def _takes(self, family: str) -> bool:
        """Whether a block of ``family`` joins the plan: the first block sets the family; a
        block of another marks the plan mixed (no plan stands for the whole column)."""
        if self.family is None:
            self.family = family
        elif family != self.family:
            self.mixed = True
            return False
        return True

    def _add_plain(self, column: PlainColumn) -> None:
        """:meth:`add` of plain values: the same decisions as over the Series they stand for."""
        family, items = column.family, column.values
        if not self._takes(family):
            return
        if family == "datetime":
            self.has_time = self.has_time or any(v is not None and len(v) > 10 and v[11:19] != "00:00:00"
                                                 for v in items)
        elif family == "int":
            self.max_abs = max(self.max_abs, max((abs(v) for v in items if v is not None), default=0))
        elif family == "object":
            self._add_items(items)

    def _add_items(self, items: list[Any]) -> None:
        types = set(map(type, items))
        texts = [v for v in items if isinstance(v, str)] if any(map(_is_text, types)) else []
        self.texts += len(texts)
        if texts and not _clean_texts(texts):
            self.clean = False
            for v in texts:
                _, was_cut, was_stripped = clean_counted(v)
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
        if not self.texts and self.types == {dt.date} and self.first_date >= EXCEL_EPOCH:
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

    def convert(self, series: pd.Series | PlainColumn) -> Column:
        """The :class:`Column` of ``series``: the column, or any block of it, once every block
        was added."""
        name, family, fmt = self.name, self.family, self.fmt
        if isinstance(series, PlainColumn):
            return self._convert_plain(series.values)
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
        return self._convert_items(_items(series))

    def _convert_plain(self, items: list[Any]) -> Column:
        """:meth:`convert` of plain values (``family`` as :meth:`add` took them): the Column the
        Series they stand for makes."""
        name, family, fmt = self.name, self.family, self.fmt
        if family == "datetime":               # ISO text: numpy reads it as pandas did (None: NaT)
            return Column(name, "datetime", np.array(items, dtype="datetime64[ns]"), fmt)
        if family == "int":                    # as a nullable Int64 column: numbers, and the gaps
            if None in items:
                gaps = np.array([v is None for v in items], dtype=bool)
                return Column(name, "int", np.array([0 if v is None else v for v in items], dtype="int64"), fmt,
                              gaps=gaps)
            return Column(name, "int", np.array(items, dtype="int64"), fmt)
        if family == "float":
            return Column(name, "float", np.array([np.nan if v is None else v for v in items], dtype="float64"), fmt)
        return self._convert_items(items)

    def _convert_items(self, items: list[Any]) -> Column:
        """The Column of an object column's values (gaps as None)."""
        name, fmt, kind = self.name, self.fmt, self.kind
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
                    v, was_cut, was_stripped = clean_counted(v)
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


def _column(name: str, series: pd.Series, field: str | None = None) -> Column:
    """One frame column as a :class:`Column` headed ``name``; its number format follows the
    field path ``field`` (default: ``name``)."""
    plan = ColumnPlan(name, field)
    plan.add(series)
    return plan.convert(series)


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


__all__ = ["ColumnPlan", "table_data", "frame_to_block"]
