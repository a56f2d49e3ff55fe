"""flatten_page: a page flattened column by column gives exactly what flattening each record gives
(names, their order, values, the columns made from lists), over random pages whose records share
their shape (the pages it answers for) and pages that do not (where it must decline)."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from procore_xl.flatten import FrameBuilder
from procore_xl.flatten_page import ABSENT, page_columns
from record_strategies import FEW, HEAVY, JSON, KEYS, RECORDS, SCALARS

LABELS = {"5001": "Priority", "5002": "Owner Reference", "5003": "id"}   # "id": a label that clashes

# a shape: key -> "scalar" | "list" | "custom" | a nested shape; the records of a page follow it
SHAPE = st.recursive(st.sampled_from(["scalar", "list"]),
                     lambda kids: st.dictionaries(KEYS, kids, min_size=1, max_size=4), max_leaves=8)
CUSTOM_KEYS = st.lists(st.sampled_from(["custom_field_5001", "custom_field_5002", "custom_field_5003",
                                        "custom_field_77", "other"]), min_size=0, max_size=3, unique=True)


def custom_entry() -> st.SearchStrategy:
    values = st.one_of(SCALARS, st.fixed_dictionaries({"id": st.integers(1, 9), "label": st.sampled_from(
        ["High", "", None])}), st.lists(st.sampled_from([{"label": "a"}, {"name": "b"}, "c", 1]), max_size=2))
    entry = st.fixed_dictionaries({"data_type": st.just("string"), "value": values},
                                  optional={"label": st.sampled_from(["Zone", "Priority", " ", "id"])})
    return st.one_of(entry, SCALARS)


def value_of(shape, custom_keys) -> st.SearchStrategy:
    if shape == "scalar":
        return st.one_of(SCALARS, st.just({}), st.just([]), JSON)
    if shape == "list":
        return st.one_of(st.lists(JSON, max_size=3), st.none())
    return st.one_of(st.just(None), st.just({}), SCALARS, st.fixed_dictionaries(
        {k: value_of(v, custom_keys) for k, v in shape.items()}))


@st.composite
def pages(draw):
    """Records that share their keys at every level (mostly), their values of any kind."""
    shape = draw(SHAPE.filter(lambda s: isinstance(s, dict)))
    with_custom = draw(st.booleans())
    if with_custom:
        shape = {k: v for k, v in shape.items() if k != "custom_fields"}
    keys = draw(CUSTOM_KEYS)
    fields = st.one_of(st.none(), st.just({}), st.fixed_dictionaries({k: custom_entry() for k in keys}))
    strategy = st.fixed_dictionaries({k: value_of(v, keys) for k, v in shape.items()},
                                     optional={"custom_fields": fields} if with_custom else {})
    if with_custom and draw(st.booleans()):
        strategy = st.fixed_dictionaries({**{k: value_of(v, keys) for k, v in shape.items()}, "custom_fields": fields})
    return draw(st.lists(strategy, min_size=1, max_size=8))


def row_by_row(records: list, labels) -> tuple[dict, set]:
    builder = FrameBuilder()
    return builder._rows_flattened(records, labels), builder._lists


def assert_same_columns(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for name in want:
        assert len(got[name]) == len(want[name])
        for a, b in zip(got[name], want[name]):
            if a is ABSENT or b is ABSENT:
                assert a is b, name
            elif isinstance(a, float) and a != a:
                assert isinstance(b, float) and b != b, name
            else:
                assert type(a) is type(b) and a == b, name


@HEAVY
@given(pages(), st.sampled_from([None, LABELS]))
def test_a_page_column_by_column_is_the_page_row_by_row(records, labels):
    lists: set[str] = set()
    got = page_columns(records, labels, lists)
    want, want_lists = row_by_row(records, labels)
    if got is not None:
        assert_same_columns(got, want)
        assert lists == want_lists
    else:
        assert lists == set()


@FEW
@given(RECORDS)
def test_any_records_column_by_column_or_declined(records):
    lists: set[str] = set()
    got = page_columns(records, LABELS, lists)
    if got is not None:
        want, want_lists = row_by_row(records, LABELS)
        assert_same_columns(got, want)
        assert lists == want_lists


def test_procore_like_pages_go_column_by_column():
    records = [{"id": i, "assignee": {"id": 1, "name": "A"} if i % 2 else None, "location": {} if i % 3 else
                {"id": 4}, "assignees": [{"id": 1}] if i % 2 else [],
                "custom_fields": {"custom_field_5001": {"data_type": "lov_entry", "value": {"id": 1, "label": "High"}},
                                  "custom_field_5002": {"data_type": "string", "value": "OR-1"}}}
               for i in range(10)]
    lists: set[str] = set()
    got = page_columns(records, LABELS, lists)
    assert got is not None
    want, want_lists = row_by_row(records, LABELS)
    assert_same_columns(got, want)
    assert lists == want_lists == {"assignees"}
    assert list(got)[:4] == ["id", "assignee", "location.id", "assignees"]


def test_pages_it_does_not_answer_for_are_declined():
    assert page_columns([{"a": 1, "b": 2}, {"b": 2, "a": 1}], None, set()) is None        # keys in another order
    assert page_columns([{"a": {"x": 1}}, {"a": {"y": 1}}], None, set()) is None        # objects of other keys
    assert page_columns([{"a.b": 1, "a": {"b": 2}}], None, set()) is None               # two fields, one name
    assert page_columns([{"a": (1, 2)}], None, set()) is None                           # not what JSON makes
    assert page_columns([{"id": 1, "custom_fields": {"custom_field_5003": {"value": 2}}}], LABELS, set()) is None


def test_the_builder_counts_rows_of_empty_records():
    builder = FrameBuilder()
    builder.add([{}, {}])
    builder.add([{"a": 1}])
    assert builder.rows == 3 and builder.frame()["a"].tolist()[2] == 1
