"""flatten: literal records in, columns and types out (pure data transformation)."""
from __future__ import annotations

from datetime import datetime

import pandas as pd

from procore_xl.flatten import explode, flatten_record, singular, to_frame
from procore_xl.table import MAX_EXACT_INT, order_columns

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
