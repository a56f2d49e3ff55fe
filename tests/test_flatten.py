"""flatten: literal records in, columns and types out (pure data transformation); then property-based:
records shaped unlike our sandbox -> a frame without crashing or losing data (strategies and the
decisions they pin in tests/record_strategies.py), and the table read block by block."""
from __future__ import annotations

import io
import math
from datetime import datetime

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from procore_xl.flatten import FrameBuilder, explode, flatten_record, singular, to_frame
from procore_xl.output import write_csv
from procore_xl.table import _DATE_RE, _NUM_RE, MAX_EXACT_INT, order_columns
from record_strategies import (FEW, HEAVY, JSON, KEYS, RECORD, RECORDS, SCALARS, SETTINGS, iso_dates, leaves,
                               missing, money_text, same)

RFI = {
    "id": 7, "number": "003", "subject": "Rebar spacing", "status": "open",
    "assignee": {"id": 100001, "name": "Dana Reyes", "login": "dana@x"},
    "cost_impact": {"status": "tbd", "value": 12.5},
    "assignees": [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}],
    "drawing_ids": [], "location": {},
    "questions": [
        {"id": 70, "body": "Which spacing?", "answers": [
            {"id": 700, "body": "150 mm", "answer_date": "2024-05-02"},
            {"id": 701, "body": "Confirmed", "answer_date": "2024-05-03"}]},
        {"id": 71, "body": "And the cover?", "answers": []},
    ],
    "custom_fields": {"custom_field_5001": {"data_type": "lov_entry", "value": {"id": 9, "label": "High"}},
                      "custom_field_5002": {"data_type": "string", "value": "OWN-1"},
                      "custom_field_5009": {"data_type": "string", "value": "x", "label": "Zone"}},
}


def test_nested_objects_become_dotted_columns_and_lists_compact_json():
    flat = flatten_record(RFI, custom_labels={"5001": "Priority"})
    assert flat["assignee.name"] == "Dana Reyes" and flat["cost_impact.value"] == 12.5
    assert flat["assignees"] == '[{"id":1,"name":"A"},{"id":2,"name":"B"}]'
    assert flat["drawing_ids"] is None and flat["location"] is None
    assert "assignee" not in flat and "custom_fields" not in flat


def test_custom_fields_are_named_after_their_labels():
    flat = flatten_record(RFI, custom_labels={"5001": "Priority"})
    assert flat["Priority"] == "High"                         # from definitions, LOV label as value
    assert flat["Zone"] == "x"                                # label carried by the value itself
    assert flat["custom_fields.custom_field_5002"] == "OWN-1"  # no definition: keeps the id


def test_sub_report_rows_carry_parent_keys_one_level():
    rows = explode([{"project.id": 91001, **RFI}], "questions", entity="rfi", keys=("id", "number", "subject"))
    assert [r["id"] for r in rows] == [70, 71]
    assert rows[0]["rfi.id"] == 7 and rows[0]["rfi.number"] == "003" and rows[0]["project.id"] == 91001
    frame = to_frame(rows, lead=("project.", "rfi."), keys=("id", "body"))
    assert list(frame.columns[:6]) == ["project.id", "rfi.id", "rfi.number", "rfi.subject", "id", "body"]


def test_sub_report_two_levels_answers_inside_questions():
    rows = explode([RFI], "questions.answers", entity="rfi", keys=("id", "number", "subject"))
    assert [(r["question.id"], r["id"]) for r in rows] == [(70, 700), (70, 701)]
    frame = to_frame(rows, lead=("rfi.", "question."), keys=("id",))
    assert list(frame.columns[:5]) == ["rfi.id", "rfi.number", "rfi.subject", "question.id", "id"]
    assert frame["answer_date"].tolist() == [datetime(2024, 5, 2), datetime(2024, 5, 3)]


def test_records_without_the_sub_list_give_no_rows():
    assert explode([{"id": 1}, {"id": 2, "questions": None}], "questions", entity="rfi", keys=("id",)) == []


def test_types_dates_money_ids_text():
    rows = [
        {"id": "12", "number": "007", "zip": "02110", "grand_total": "1234.50", "created_at": "2024-05-01T10:00:00Z",
         "due_date": "2024-05-31", "vendor_id": 3.0, "event_date": "2024-05-01T12:00:00+02:00", "notes": "2024 plan",
         "big": {"id": MAX_EXACT_INT + 1}, "amount": "abc"},
        {"id": "13", "number": "008", "zip": "94105", "grand_total": None, "created_at": None,
         "due_date": "2024-06-01", "vendor_id": None, "event_date": None, "notes": "x",
         "big": {"id": 5}, "amount": "1.0"},
    ]
    f = to_frame(rows, keys=("id", "number"))
    assert f["id"].tolist() == [12, 13] and str(f["id"].dtype) == "Int64"
    assert f["number"].tolist() == ["007", "008"] and f["zip"].tolist() == ["02110", "94105"]
    assert f["grand_total"].iloc[0] == 1234.5 and pd.isna(f["grand_total"].iloc[1])
    assert f["created_at"].iloc[0] == datetime(2024, 5, 1, 10) and f["created_at"].dt.tz is None
    assert f["event_date"].iloc[0] == datetime(2024, 5, 1, 10)          # offset -> UTC, naive
    assert f["due_date"].tolist() == [datetime(2024, 5, 31), datetime(2024, 6, 1)]
    assert f["vendor_id"].iloc[0] == 3 and pd.isna(f["vendor_id"].iloc[1])
    assert f["big.id"].tolist() == [MAX_EXACT_INT + 1, 5]              # exact, even beyond 2**53
    assert f["notes"].tolist() == ["2024 plan", "x"]
    assert f["amount"].tolist() == ["abc", "1.0"]                        # not all numbers: stays text


def test_column_order_identity_first_then_hints_then_as_seen():
    assert order_columns(["status", "subject", "id", "z", "project.name", "project.id", "number"],
                         lead=["project.id", "project.name"], keys=("id", "number", "subject"),
                         order=("z", "missing")) == \
        ["project.id", "project.name", "id", "number", "subject", "z", "status"]


def test_empty_input_gives_an_empty_frame():
    f = to_frame([], keys=("id",))
    assert f.empty and list(f.columns) == []


def test_singular():
    assert singular("questions") == "question" and singular("entries") == "entry"
    assert singular("class") == "class" and singular("distribution_list") == "distribution_list"


def test_an_object_null_in_some_records_gives_no_always_empty_column():
    frame = to_frame([{"id": 1, "location": None}, {"id": 2, "location": {"id": 7, "name": "Level 3"}}])
    assert list(frame.columns) == ["id", "location.id", "location.name"]
    assert frame["location.name"].tolist()[1] == "Level 3"


def test_frame_built_batch_by_batch_equals_the_frame_of_all_rows():
    """Pages flattened as they arrive give the same table as all records at once: columns first
    seen late, fields some records lack (NaN as before), objects null in one batch and present
    in the next, and types decided over the whole column (one text value keeps a column text)."""
    from procore_xl.flatten import FrameBuilder

    rows = [dict(RFI, id=i, number=f"{i:03d}", due_date=f"2024-05-{1 + i % 28:02d}",
                 location={"id": 3, "name": "L3"} if i % 3 else None, **({"late": i} if i > 7 else {}))
            for i in range(12)]
    rows[11]["due_date"] = "N/A"
    calls = []

    def labels():
        calls.append(1)
        return {"5001": "Priority"}

    builder = FrameBuilder(custom_labels=labels)
    for start in (0, 2, 3, 9):
        builder.add(rows[start:{0: 2, 2: 3, 3: 9, 9: 12}[start]])
    builder.add([])
    streamed = builder.frame(lead=("project.",), keys=("id", "number"))
    whole = to_frame(rows, lead=("project.",), keys=("id", "number"), custom_labels={"5001": "Priority"})
    pd.testing.assert_frame_equal(streamed, whole)
    assert calls == [1]                                   # definitions asked for once, when needed
    assert streamed["due_date"].tolist()[-1] == "N/A"     # text in one batch keeps the column text
    assert "location" not in streamed and streamed["late"].isna().sum() == 8


def test_custom_labels_are_not_asked_for_records_without_custom_fields():
    from procore_xl.flatten import FrameBuilder

    def labels():
        raise AssertionError("no record has custom fields")

    builder = FrameBuilder(custom_labels=labels)
    builder.add([{"id": 1, "custom_fields": {}}, {"id": 2}])
    assert builder.frame()["id"].tolist() == [1, 2]


# == property-based: records shaped unlike our sandbox (strategies in record_strategies.py) ==

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
