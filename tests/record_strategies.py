"""Hypothesis strategies for records shaped unlike our sandbox (real Procore, stand-in servers),
shared by the property tests of ``flatten`` (tests/test_flatten.py) and ``excel.values``
(tests/test_excel_values.py): record -> DataFrame -> cell values without crashing or losing data.

Decisions those tests pin (also in the module docs of ``flatten`` and ``excel.values``):
* name clashes keep both values (``"<name> (2)"``), equal values are kept once;
* sub-list path not a list: None -> no rows, object -> one row, scalar -> one ``value`` row;
* typing is all-or-nothing per column; blank text counts as missing in a column that converts;
* ids above 2**53 become exact text; money text with > 15 significant digits stays text;
* cells: text without characters an .xlsx cannot hold, <= 32,767 UTF-16 units; dates before
  1900 as ISO text.
"""
from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from procore_xl.excel.values import MAX_EXACT_INT

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEAVY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ----------------------------------------------------------------------------------

KEYS = st.one_of(
    st.sampled_from(["id", "number", "subject", "status", "grand_total", "amount", "due_date",
                     "created_at", "vendor_id", "project", "project.id", "custom_fields", "questions",
                     "notes", "a", "b", "a.b", "value", "id (2)", ""]),
    st.text(max_size=6),
)
LONG = ["x" * 40_000, "\U0001F600" * 20_000, "=" + "é" * 33_000]
WEIRD_TEXT = ["", " ", "N/A", "=SUM(A1:A9)", "+1", "-12.5", "-see note", "@user", "a\x00b\x1fc",
              "\ud800lone", "\ufffe", "line\nbreak\ttab", "007", "-0", "²", "١٢", "--5",
              "2024-05-01\n", "1e5", "1,234.00", ".5"]


@st.composite
def iso_dates(draw) -> tuple[str, dt.datetime]:
    """(ISO text in one of Procore's forms, the naive UTC datetime it means)."""
    when = draw(st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2200, 12, 31)))
    form = draw(st.sampled_from(["date", "Z", "offset", "offset_basic", "frac3", "frac6", "space", "naive"]))
    if form == "date":
        return when.strftime("%Y-%m-%d"), dt.datetime(when.year, when.month, when.day)
    when = when.replace(microsecond=0)
    base = when.strftime("%Y-%m-%dT%H:%M:%S")
    if form in ("offset", "offset_basic"):
        minutes = draw(st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15))
        sign = "+" if minutes >= 0 else "-"
        hh, mm = divmod(abs(minutes), 60)
        off = f"{sign}{hh:02d}:{mm:02d}" if form == "offset" else f"{sign}{hh:02d}{mm:02d}"
        return base + off, when - dt.timedelta(minutes=minutes)
    if form == "frac3":
        ms = draw(st.integers(0, 999))
        return f"{base}.{ms:03d}Z", when + dt.timedelta(milliseconds=ms)
    if form == "frac6":
        us = draw(st.integers(0, 999_999))
        return f"{base}.{us:06d}Z", when + dt.timedelta(microseconds=us)
    if form == "space":
        return when.strftime("%Y-%m-%d %H:%M:%S"), when
    if form == "naive":
        return base, when
    return base + "Z", when


def money_text() -> st.SearchStrategy[str]:
    cents = st.integers(-10**12, 10**12)
    return st.one_of(cents.map(lambda c: f"{c / 100:.2f}"), cents.map(str),
                     st.sampled_from(["1234.00", "-12.5", "0", "0.5"]))


SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(-2**70, 2**70), st.integers(MAX_EXACT_INT - 3, MAX_EXACT_INT + 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(WEIRD_TEXT), st.sampled_from(LONG),
    iso_dates().map(lambda p: p[0]), money_text(),
)
JSON = st.recursive(SCALARS, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(KEYS, kids, max_size=3),
                    max_leaves=10)
RECORD = st.dictionaries(KEYS, JSON, max_size=7)
RECORDS = st.lists(RECORD, max_size=6)

CELL_TYPES = (type(None), bool, int, float, str, dt.datetime, dt.date)


# -- helpers -------------------------------------------------------------------------------------

def leaves(rec, prefix=""):
    """(column, value) the flattener must keep, custom fields aside."""
    for k, v in rec.items():
        col = f"{prefix}{k}"
        if k == "custom_fields" and not prefix and isinstance(v, dict):
            continue
        if isinstance(v, dict) and v:
            yield from leaves(v, col + ".")
        elif isinstance(v, dict) or v == []:
            yield col, None
        elif isinstance(v, list):
            yield col, json.dumps(v, separators=(",", ":"), ensure_ascii=False, default=str)
        else:
            yield col, v


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def missing(v) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))
