"""excel.values, property-based: any report frame (and frames no report makes: odd dtypes,
duplicate or missing column names) -> cell values an .xlsx can hold, saved and read back the same.

Pinned: cells are text without characters an .xlsx cannot hold, <= 32,767 UTF-16 units; ids above
2**53 become exact text; dates before 1900 become ISO text (see tests/record_strategies.py).
"""
from __future__ import annotations

import datetime as dt
import io
import math

import numpy as np
import openpyxl
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape as openpyxl_unescape

from procore_xl.excel.openpyxl_writer import OpenpyxlWorkbook
from procore_xl.excel.plans import frame_to_block
from procore_xl.excel.values import MAX_EXACT_INT, MAX_TEXT, NOT_IN_XLSX, cell_value
from procore_xl.flatten import to_frame
from record_strategies import (CELL_TYPES, FEW, HEAVY, JSON, KEYS, RECORDS, SCALARS, SETTINGS, WEIRD_TEXT,
                               missing)


def check_cell(v):
    assert isinstance(v, CELL_TYPES), type(v)
    if isinstance(v, float):
        assert math.isfinite(v)
    if isinstance(v, int) and not isinstance(v, bool):
        assert abs(v) <= MAX_EXACT_INT
    if isinstance(v, str):
        assert len(v.encode("utf-16-le")) // 2 <= MAX_TEXT and not NOT_IN_XLSX.search(v)
    if isinstance(v, dt.date):
        assert (v.date() if isinstance(v, dt.datetime) else v) >= dt.date(1900, 1, 1)
        assert getattr(v, "tzinfo", None) is None



# -- 4. frame_to_block ---------------------------------------------------------------------------

def check_block(frame: pd.DataFrame):
    block = frame_to_block(frame)
    assert len(block.rows) == len(frame) and len(block.header) == frame.shape[1]
    assert len({h.lower() for h in block.header}) == len(block.header)
    assert all(0 < len(h) <= 255 for h in block.header)
    for r, row in enumerate(block.rows):
        assert len(row) == frame.shape[1]
        for c, v in enumerate(row):
            check_cell(v)
            orig = frame.iat[r, c]
            if pd.api.types.is_scalar(orig) and missing(orig):
                assert v is None
    return block


@HEAVY
@given(RECORDS)
def test_frame_to_block_on_any_report_frame(records):
    check_block(to_frame(records, lead=("project.",), keys=("id",)))


@st.composite
def odd_frames(draw):
    n = draw(st.integers(0, 5))
    ints = st.lists(st.one_of(st.none(), st.integers(-2**62, 2**62)), min_size=n, max_size=n)
    floats = st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n)
    stamps = st.lists(st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1800, 1, 1),
                                                        max_value=dt.datetime(2200, 1, 1))), min_size=n, max_size=n)
    objs = st.lists(st.one_of(SCALARS, JSON, st.dates(), st.sampled_from([pd.NaT, pd.NA, np.datetime64("NaT"),
                                                                           np.int64(2**60), np.float64("inf"),
                                                                           pd.Timedelta(1, "h")])),
                    min_size=n, max_size=n)
    cols = {
        "Int64": pd.array(draw(ints), dtype="Int64"),
        "float": np.array(draw(floats), dtype="float64"),
        "dt": pd.to_datetime(pd.Series(draw(stamps), dtype=object)),
        "dtz": pd.to_datetime(pd.Series(draw(stamps), dtype=object)).dt.tz_localize("UTC"),
        "bool": pd.array(draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)), dtype="boolean"),
        "str": pd.array(draw(st.lists(st.one_of(st.none(), st.text(max_size=5), st.sampled_from(WEIRD_TEXT)),
                                      min_size=n, max_size=n)), dtype=pd.StringDtype("python")),
        "cat": pd.Categorical(draw(st.lists(st.sampled_from(["a", "b", None]), min_size=n, max_size=n))),
        "obj": pd.Series(draw(objs), dtype=object),
    }
    names = draw(st.lists(st.one_of(KEYS, st.integers(), st.none(), st.just("x" * 300)),
                          min_size=len(cols), max_size=len(cols)))
    frame = pd.DataFrame({k: pd.Series(v).reset_index(drop=True) for k, v in cols.items()})
    frame.columns = names          # duplicates, None, ints, long names allowed
    return frame


@SETTINGS
@given(odd_frames())
def test_frame_to_block_on_odd_frames(frame):
    check_block(frame)


def kind(value) -> type:
    """int and float are one kind in a cell (a double: 2.0 reads back as 2). openpyxl writes a
    double with 16 significant digits, so the 17th may differ (Excel shows 15)."""
    return float if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value)


def reopened_value(written):
    """What openpyxl reads back from an .xlsx for a cell value it wrote: dates as datetimes, and
    a datetime to the millisecond (Excel's serial number holds no more)."""
    if isinstance(written, dt.datetime):
        return written + dt.timedelta(microseconds=round(written.microsecond, -3) - written.microsecond)
    if isinstance(written, dt.date):
        return dt.datetime(written.year, written.month, written.day)
    return None if written == "" else written


@FEW
@given(RECORDS)
def test_blocks_save_as_xlsx_and_read_back_the_same(records):
    """Through the report-sheet writer (text that looks like a formula stays text), saved and
    reopened: every cell holds what the block said, with its type."""
    block = frame_to_block(to_frame(records))
    wb = openpyxl.Workbook()
    OpenpyxlWorkbook(wb).write(wb.active.title, 1, 1, [block.header] + block.rows)
    buf = io.BytesIO()
    wb.save(buf)
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).active

    def shown(v):      # openpyxl reads a text back as stored: _xHHHH_ decoded here as Excel would
        return openpyxl_unescape(v) if isinstance(v, str) else v

    assert [shown(ws.cell(1, c).value) for c in range(1, block.width + 1)] == block.header
    for r, row in enumerate(block.rows, start=2):
        for c, written in enumerate(row, start=1):
            cell = ws.cell(r, c)
            expected = reopened_value(written)
            if isinstance(expected, dt.datetime) and isinstance(cell.value, dt.datetime):
                assert abs(cell.value - expected) <= dt.timedelta(milliseconds=1), (written, cell.value)
            else:
                assert kind(cell.value) is kind(expected), (written, cell.value)
                if kind(expected) is float:
                    assert math.isclose(cell.value, expected, rel_tol=1e-15), (written, cell.value)
                else:
                    assert shown(cell.value) == expected, (written, cell.value)
            assert cell.data_type != "f", written


def test_cell_value_edges():
    assert cell_value("a\ud800b\x00\ufffe") == "a\ufffdb\ufffd\ufffd"     # as CSV writes a lone surrogate
    assert cell_value(dt.date(1899, 12, 31)) == "1899-12-31"
    assert cell_value(pd.Timestamp("0001-01-01")) == "0001-01-01T00:00:00"
    assert cell_value(np.datetime64("2024-05-01")) == dt.datetime(2024, 5, 1)
    emoji = cell_value("\U0001F600" * 20_000)
    assert len(emoji.encode("utf-16-le")) // 2 == MAX_TEXT and emoji.endswith("\u2026")
    assert cell_value({1: {2, 3}}) == '{"1": "{2, 3}"}'   # JSON text; what JSON cannot hold as str()
    assert cell_value(2**53 + 1) == str(2**53 + 1) and cell_value(float("nan")) is None


def test_a_number_beyond_excels_largest_lands_as_its_text():
    """Excel's largest number is 9.99999999999999E+307: a larger double (1.7976931348623155e308
    written with 16 digits would read back as infinity) is written as its text, by both writers."""
    from procore_xl.excel.ooxml import sheet_data
    from procore_xl.excel.plans import table_data
    from procore_xl.excel.values import MAX_NUMBER

    big = 1.7976931348623155e308
    assert cell_value(big) == repr(big) and cell_value(MAX_NUMBER) == MAX_NUMBER
    block = frame_to_block(to_frame([{"id": 1, "x": big}, {"id": 2, "x": 2.5}]))
    wb = openpyxl.Workbook()
    OpenpyxlWorkbook(wb).write(wb.active.title, 1, 1, [block.header] + block.rows)
    buf = io.BytesIO()
    wb.save(buf)
    ws = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).active
    assert [ws.cell(r, 2).value for r in (2, 3)] == [repr(big), 2.5]
    data = table_data(pd.DataFrame({"x": [big, 2.5, float("nan")]}))
    (col,) = data.columns
    assert col.values(0, 3) == [repr(big), 2.5, None]
    cells = sheet_data._column_cells(col, "A", ["2", "3", "4"], 0, 3, lambda fmt, bold: 0)   # the streamed writer
    assert f"<t>{big!r}</t>" in cells[0] and "<v>2.5</v>" in cells[1] and cells[2] == ""
