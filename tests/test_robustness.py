"""Property-based tests: records shaped unlike our sandbox (real Procore, stand-in servers) go
record -> DataFrame -> cell values without crashing or losing data.

Decisions pinned here (also in the module docs of ``flatten`` and ``excel.values``):
* name clashes keep both values (``"<name> (2)"``), equal values are kept once;
* sub-list path not a list: None -> no rows, object -> one row, scalar -> one ``value`` row;
* typing is all-or-nothing per column; blank text counts as missing in a column that converts;
* ids above 2**53 become exact text; money text with > 15 significant digits stays text;
* cells: text without characters an .xlsx cannot hold, <= 32,767 UTF-16 units; dates before
  1900 as ISO text.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import math

import numpy as np
import openpyxl
from openpyxl.utils.escape import unescape as openpyxl_unescape
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procore_xl.excel.openpyxl_writer import OpenpyxlWorkbook
from procore_xl.excel.values import MAX_EXACT_INT, MAX_TEXT, _ILLEGAL, cell_value, frame_to_block
from procore_xl.flatten import FrameBuilder, explode, flatten_record, to_frame
from procore_xl.output import write_csv
from procore_xl.table import _DATE_RE, _NUM_RE

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


def check_cell(v):
    assert isinstance(v, CELL_TYPES), type(v)
    if isinstance(v, float):
        assert math.isfinite(v)
    if isinstance(v, int) and not isinstance(v, bool):
        assert abs(v) <= MAX_EXACT_INT
    if isinstance(v, str):
        assert len(v.encode("utf-16-le")) // 2 <= MAX_TEXT and not _ILLEGAL.search(v)
    if isinstance(v, dt.date):
        assert (v.date() if isinstance(v, dt.datetime) else v) >= dt.date(1900, 1, 1)
        assert getattr(v, "tzinfo", None) is None


# -- 1. to_frame ---------------------------------------------------------------------------------

@HEAVY
@given(RECORDS)
def test_to_frame_never_raises_one_row_per_record_no_column_lost(records):
    keys = ("id", "number")
    frame = to_frame(records, lead=("project.",), keys=keys, order=("status",))
    assert len(frame) == len(records)
    cols = list(frame.columns)
    assert len(set(cols)) == len(cols)
    flat = [flatten_record(r) for r in records]
    every = {c for f in flat for c in f}
    # only a column that is empty in every record AND whose object shows as dotted columns goes
    dropped = {c for c in every if any(o.startswith(c + ".") for o in every)
               and all(f.get(c) is None for f in flat)}
    assert set(cols) == every - dropped
    # order: lead-prefixed columns, then the key columns present, then the rest as first seen
    n_lead = sum(c.startswith("project.") for c in cols)
    assert all(c.startswith("project.") for c in cols[:n_lead])
    present_keys = [k for k in keys if k in cols and not k.startswith("project.")]
    assert cols[n_lead:n_lead + len(present_keys)] == present_keys
    assert list(to_frame(records, lead=("project.",), keys=keys, order=("status",)).columns) == cols


@SETTINGS
@given(RECORD)
def test_flatten_keeps_every_leaf_value_under_its_name_or_a_numbered_twin(rec):
    flat = flatten_record(rec)
    for col, value in leaves(rec):
        twins = [flat[c] for c in flat if c == col or (c.startswith(col + " (") and c.endswith(")"))]
        assert any(same(value, t) for t in twins), (col, value, flat)


@SETTINGS
@given(RECORD, st.dictionaries(st.from_regex(r"custom_field_[0-9]{1,3}", fullmatch=True),
                               st.one_of(JSON, st.fixed_dictionaries(
                                   {"data_type": st.just("string"), "value": JSON},
                                   optional={"label": st.one_of(KEYS, st.integers(), st.none())})),
                               max_size=4),
       st.dictionaries(st.from_regex(r"[0-9]{1,3}", fullmatch=True), KEYS, max_size=3))
def test_custom_fields_one_column_each_never_replacing_a_field(rec, fields, labels):
    rec = {k: v for k, v in rec.items() if k != "custom_fields"}
    plain = flatten_record(rec)
    flat = flatten_record({**rec, "custom_fields": fields}, custom_labels=labels)
    assert len(flat) == len(plain) + len(fields)
    for c, v in plain.items():
        assert same(flat[c], v)
    to_frame([{**rec, "custom_fields": fields}], custom_labels=labels)     # and no crash


def test_name_clashes_keep_both_values():
    flat = flatten_record({"a.b": 1, "a": {"b": 2}, "project.id": 5, "project": {"id": 5, "name": "P"},
                           "custom_fields": {"custom_field_1": {"value": "v", "label": "a.b"},
                                             "custom_field_2": {"value": "w", "label": "Zone"},
                                             "custom_field_3": {"value": "z", "label": "Zone"}}})
    assert flat == {"a.b": 1, "a.b (2)": 2, "project.id": 5, "project.name": "P",
                    "a.b (3)": "v", "Zone": "w", "Zone (2)": "z"}
    assert flatten_record({"custom_fields": {"custom_field_1": {"label": {"x": 1}, "value": 3},
                                             "custom_field_2": {"label": 7, "value": 4}}}) == \
        {"custom_fields.custom_field_1": 3, "custom_fields.custom_field_2": 4}


def test_all_empty_records_still_give_their_rows():
    assert to_frame([{}, {}]).shape == (2, 0)


# -- 2. explode ----------------------------------------------------------------------------------

ELEMENT = st.one_of(st.dictionaries(st.sampled_from(["id", "body", "rfi.id", "answers", "value"]), JSON,
                                    max_size=4), SCALARS)
AT_PATH = st.one_of(st.none(), st.lists(ELEMENT, max_size=4), ELEMENT)


def expected_count(value) -> int:
    return len(value) if isinstance(value, list) else 0 if value is None else 1


@SETTINGS
@given(st.lists(st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.integers(-2**60, 2**60), st.none(), st.text(max_size=3)),
    "number": st.one_of(st.none(), st.text(max_size=3)), "project.id": st.integers(),
    "questions": AT_PATH}), max_size=5))
def test_explode_one_row_per_element_carrying_parent_keys(records):
    rows = explode(records, "questions", entity="rfi", keys=("id", "number"))
    assert len(rows) == sum(expected_count(r.get("questions")) for r in records)
    i = 0
    for rec in records:
        value = rec.get("questions")
        elems = value if isinstance(value, list) else [] if value is None else [value]
        for e in elems:
            row = rows[i]
            i += 1
            assert same(row["rfi.id"], rec.get("id"))
            if rec.get("number") is not None:
                assert row["rfi.number"] == rec["number"]
            if "project.id" in rec:
                assert row["project.id"] == rec["project.id"]
            own = e if isinstance(e, dict) else {"value": e}
            for k, v in own.items():      # element fields kept (a clash with a key column: twin)
                assert any(same(v, row[c]) for c in row if c == k or c.startswith(k + " ("))
    to_frame(rows, lead=("project.", "rfi."), keys=("id", "body"))


@SETTINGS
@given(st.lists(st.fixed_dictionaries({"id": st.integers(0, 99)}, optional={
    "questions": st.one_of(st.none(), SCALARS, st.lists(st.one_of(SCALARS, st.fixed_dictionaries(
        {}, optional={"id": st.integers(0, 99), "answers": AT_PATH})), max_size=3))}), max_size=4))
def test_explode_two_levels(records):
    rows = explode(records, "questions.answers", entity="rfi", keys=("id",))
    want = 0
    for rec in records:
        qs = rec.get("questions")
        qs = qs if isinstance(qs, list) else [] if qs is None else [qs]
        want += sum(expected_count(q.get("answers")) for q in qs if isinstance(q, dict))
    assert len(rows) == want
    assert all("rfi.id" in r and "question.id" in r for r in rows)


def test_explode_non_list_values():
    recs = [{"id": 1, "questions": None}, {"id": 2}, {"id": 3, "questions": []},
            {"id": 4, "questions": {"id": 40}}, {"id": 5, "questions": "n/a"},
            {"id": 6, "questions": [{"id": 60, "rfi.id": 999}]}]
    rows = explode(recs, "questions", entity="rfi", keys=("id",))
    assert rows == [{"rfi.id": 4, "id": 40}, {"rfi.id": 5, "value": "n/a"},
                    {"rfi.id": 6, "id": 60, "rfi.id (2)": 999}]


# -- 3. type cleaning ----------------------------------------------------------------------------

@SETTINGS
@given(st.lists(st.one_of(iso_dates(), st.none(), st.just(("", None))), min_size=1, max_size=8),
       st.sampled_from([None, "soon", "N/A", "2024-13-45", "2024-05-01\n"]))
def test_dates_convert_only_when_the_whole_column_parses(items, intruder):
    records = [{"due_date": p[0] if p else None} for p in items]
    if intruder is not None:
        records.append({"due_date": intruder})
    col = to_frame(records)["due_date"] if records else None
    texts = [r["due_date"] for r in records]
    if intruder is None and any(p and p[1] for p in items):
        assert pd.api.types.is_datetime64_any_dtype(col) and col.dt.tz is None
        for p, got in zip(items, col):
            if p and p[1] is not None:
                assert got == pd.Timestamp(p[1])
            else:
                assert got is pd.NaT
    else:
        assert all(same(got, t) or (t is None and missing(got)) for got, t in zip(col, texts))


@SETTINGS
@given(st.lists(st.one_of(money_text(), st.none(), st.just("")), min_size=1, max_size=8),
       st.sampled_from([None, "N/A", "-see note", "=1+1", "+5", "1e5", "1,234.00", "007",
                        "12345678901234567890", "@x"]))
def test_money_converts_only_when_the_whole_column_is_numeric_text(values, intruder):
    records = [{"grand_total": v} for v in values + ([intruder] if intruder else [])]
    col = to_frame(records)["grand_total"]
    texts = [r["grand_total"] for r in records]
    if intruder is None and any(v for v in values):
        assert col.dtype == float
        for t, got in zip(texts, col):
            assert math.isnan(got) if not t else got == float(t)
    else:
        assert all(same(got, t) or (t is None and missing(got)) for got, t in zip(col, texts))


@SETTINGS
@given(st.lists(st.one_of(st.none(), st.integers(-2**80, 2**80), st.integers(MAX_EXACT_INT - 2, MAX_EXACT_INT + 2),
                          st.integers(0, 10**6).map(str)), min_size=1, max_size=8),
       st.sampled_from(["id", "vendor_id", "big.id", "number", "grand_total"]))
def test_large_integers_never_lose_precision(values, col):
    records = [{col: v} for v in values]
    got = to_frame(records)[col].tolist()
    for v, g in zip(values, got):
        if v is None:
            assert missing(g)
        else:
            assert not isinstance(g, float) or abs(int(v)) <= MAX_EXACT_INT
            assert str(int(g) if isinstance(g, float) else g) == str(v)


@HEAVY
@given(RECORDS)
def test_text_is_kept_or_becomes_what_it_says(records):
    """Every text value comes out as itself, or as the number / date / blank it spells; text
    starting with = + - @ is never turned into anything but a number it spells."""
    frame = to_frame(records)
    flat = [flatten_record(r) for r in records]
    for i, f in enumerate(flat):
        for c, v in f.items():
            if not isinstance(v, str):
                continue
            got = frame.at[i, c]
            if same(got, v):
                continue
            s = v.strip()
            if not s:
                assert missing(got)
            elif isinstance(got, pd.Timestamp):
                assert not v[:1] in "=+-@" and _DATE_RE.fullmatch(v)
            else:
                assert _NUM_RE.fullmatch(s) and not isinstance(got, str) and float(got) == float(s), (v, got)


def test_formula_like_and_note_text_stays_text():
    f = to_frame([{"amount": "-12.5", "notes": "=HYPERLINK(\"x\")"}, {"amount": "1234.00", "notes": "-see note"},
                  {"amount": "", "notes": "@mention"}])
    assert f["amount"].tolist()[:2] == [-12.5, 1234.0] and math.isnan(f["amount"].iloc[2])
    assert f["notes"].tolist() == ["=HYPERLINK(\"x\")", "-see note", "@mention"]
    g = to_frame([{"amount": "-12.5"}, {"amount": "-see note"}])
    assert g["amount"].tolist() == ["-12.5", "-see note"]
    h = to_frame([{"id": "007"}, {"id": "8"}, {"employee_id": "²"}, {"origin_id": "--5"}])
    assert h["id"].tolist()[:2] == ["007", "8"] and h["employee_id"].iloc[2] == "²"


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


# -- the table read block by block (a streamed CSV) ----------------------------------------------

def built_in_batches(records, cuts):
    """The records added to a FrameBuilder in batches cut at ``cuts`` (pages of a pull)."""
    builder = FrameBuilder()
    edges = sorted({0, len(records), *(c for c in cuts if c <= len(records))})
    for start, end in zip(edges, edges[1:]):
        builder.add(records[start:end])
    return builder.table(keys=("id",))


@SETTINGS
@given(st.lists(RECORD, max_size=10), st.lists(st.integers(0, 10), max_size=4), st.integers(1, 4), st.booleans())
def test_table_read_block_by_block_is_the_whole_frame(records, cuts, block_rows, raw):
    """Types are decided over the whole column before the first block is written: blocks of any
    size give the frame's values and exactly the CSV text of the whole frame."""
    whole = to_frame(records, keys=("id",))
    blocks = list(built_in_batches(records, cuts).blocks(block_rows))
    if len(whole):
        streamed = pd.concat(blocks)
        assert list(streamed.columns) == list(whole.columns) and list(streamed.index) == list(whole.index)
        for c in whole.columns:
            assert streamed[c].dtype.kind == whole[c].dtype.kind, c
            assert all((missing(a) and missing(b)) or same(a, b) for a, b in zip(streamed[c], whole[c])), c
    else:
        assert not blocks
    expected, got = io.StringIO(), io.StringIO()
    assert write_csv(whole, expected.write, raw=raw) == \
        write_csv(built_in_batches(records, cuts), got.write, raw=raw, block_rows=block_rows)
    assert got.getvalue() == expected.getvalue()


@FEW
@given(st.lists(st.one_of(iso_dates().map(lambda p: p[0]), st.none(), st.just("")), min_size=2, max_size=8),
       st.sampled_from(["N/A", "2024-13-45", "2024-02-30", "2024-05-01T25:00:00Z"]), st.integers(0, 8))
def test_a_late_intruder_keeps_every_block_of_the_column_as_sent(dates, intruder, at):
    """One value that only looks like a date, in the last page, keeps the first pages' dates as
    the text they were, exactly as in the whole frame."""
    records = [{"id": i, "due_date": d} for i, d in enumerate(dates)] + [{"id": 99, "due_date": intruder}]
    table = built_in_batches(records, [at, len(dates)])
    column = pd.concat(table.blocks(1))["due_date"]
    assert column.dtype == object and column.tolist()[-1] == intruder
    assert all(same(a, r["due_date"]) or (missing(a) and r["due_date"] is None)
               for a, r in zip(column, records))
