"""`procore-xl pull` to CSV, JSON and stdout over the sandbox: text Procore really sends (a lone
surrogate, a bare carriage return, a custom field label that looks like a formula), the output
rules (dates, formula guard, atomic files) and the block-by-block writers."""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import re

import pandas as pd
import pytest

from procore_xl import output
from procore_xl.runner import ReportResult
from procore_xl.sandbox.fakedata import AWKWARD_TEXT, FORMULA_LIKE_LABEL
from test_cli import env, run  # noqa: F401 - the sandbox environment and the in-process CLI

CR_TEXT, SURROGATE_TEXT = AWKWARD_TEXT
RFIS = ("pull", "RFIs", "--company", "8001", "--project", "91001")


def csv_rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def rfis_of(sandbox, project: int = 91001) -> list[dict]:
    return sandbox.world.records("rfis", sandbox.world.project(project))


def test_the_sandbox_sends_the_awkward_text():
    assert "\r" in CR_TEXT and "\n" not in CR_TEXT
    assert any(0xD800 <= ord(ch) <= 0xDFFF for ch in SURROGATE_TEXT)


@pytest.mark.parametrize("suffix", ["csv", "json", "-"])
def test_a_lone_surrogate_is_written_as_the_replacement_character_and_counted(env, capsys, tmp_path, suffix):
    assert any(r["subject"] == SURROGATE_TEXT for r in rfis_of(env)), "an RFI subject with a lone surrogate"
    expected = sum(json.dumps(r, ensure_ascii=False).count("\ud800") for r in rfis_of(env))  # subjects, questions
    target = "-" if suffix == "-" else str(tmp_path / f"rfis.{suffix}")
    code, out, err = run(capsys, *RFIS, "--out", target)
    assert code == 0, err
    text = out if suffix == "-" else (tmp_path / f"rfis.{suffix}").read_text(encoding="utf-8")
    assert SURROGATE_TEXT.replace("\ud800", "\ufffd") in text
    warning = next(line for line in err.splitlines() if "U+FFFD" in line)
    assert warning.startswith("procore-xl: warning: ") and f" {expected} character(s)" in warning
    if suffix == "json":
        records = json.loads(text)
        assert len(records) == len(rfis_of(env))
        assert records[0]["custom_fields"] == rfis_of(env)[0]["custom_fields"]   # as Procore sent it


def test_a_bare_carriage_return_stays_inside_its_field(env, capsys, tmp_path):
    target = tmp_path / "rfis.csv"
    code, _, err = run(capsys, *RFIS, "--out", str(target))
    assert code == 0, err
    rows = csv_rows(target)
    assert len(rows) == len(rfis_of(env))                  # no record split in two
    subjects = {r["id"]: r["subject"] for r in rows}
    for rfi in rfis_of(env):
        if rfi["subject"] == CR_TEXT:
            assert subjects[str(rfi["id"])] == CR_TEXT
    assert CR_TEXT in subjects.values()
    # pandas, a reader that splits records on a bare CR when unquoted, reads the same rows
    assert len(pd.read_csv(target, dtype=str, keep_default_na=False)) == len(rows)


def test_custom_field_headers_that_look_like_formulas_are_escaped_unless_raw(env, capsys, tmp_path):
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    args = ("pull", "RFIs", "--company", "8002", "--project", "92001")
    assert run(capsys, *args, "--out", str(safe))[0] == 0
    assert run(capsys, *args, "--raw-csv", "--out", str(raw))[0] == 0
    with open(safe, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    with open(raw, encoding="utf-8", newline="") as fh:
        raw_header = next(csv.reader(fh))
    assert "'" + FORMULA_LIKE_LABEL in header and FORMULA_LIKE_LABEL not in header
    assert FORMULA_LIKE_LABEL in raw_header
    assert "Priority" in header                            # plain labels are left alone


def test_csv_dates_and_formula_guard(env, capsys, tmp_path):
    target = tmp_path / "rfis.csv"
    assert run(capsys, *RFIS, "--out", str(target))[0] == 0
    rows = csv_rows(target)
    by_id = {int(r["id"]): r for r in rows}
    for rfi in rfis_of(env):
        row = by_id[rfi["id"]]
        assert row["due_date"] == rfi["due_date"]                       # date-only: YYYY-MM-DD
        assert row["created_at"] == rfi["created_at"].removesuffix("Z")  # UTC, no T00:00:00 games
        if rfi["subject"].startswith(("=", "+", "-", "@")):
            assert row["subject"] == "'" + rfi["subject"]
        elif rfi["subject"] != SURROGATE_TEXT:
            assert row["subject"] == rfi["subject"]


def mixed_frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame({
        "id": pd.array(range(rows), dtype="Int64"),
        "text": pd.Series([["=1+1", "plain", None, "-3 days", "a\rb", "x\ud800y"][i % 6] for i in range(rows)],
                          dtype=object),
        "when": pd.to_datetime([f"2024-05-{1 + i % 28:02d}T10:{i % 60:02d}:00" for i in range(rows)]),
        "day": pd.to_datetime([f"2024-06-{1 + i % 28:02d}" for i in range(rows)]),
        "=total": [i * 1.5 for i in range(rows)],
    })


def test_csv_in_blocks_is_the_same_text_as_in_one_block():
    frame = mixed_frame(23)
    whole = io.StringIO()
    assert output.write_csv(frame, whole.write) == 3          # three lone surrogates replaced
    blocks: list[str] = []
    assert output.write_csv(frame, blocks.append, block_rows=5) == 3
    assert len(blocks) == 5 and "".join(blocks) == whole.getvalue()
    rows = list(csv.reader(io.StringIO(whole.getvalue(), newline="")))
    assert rows[0] == ["id", "text", "when", "day", "'=total"]
    assert rows[1] == ["0", "'=1+1", "2024-05-01T10:00:00", "2024-06-01", "0.0"]
    assert rows[5][1] == "a\rb" and rows[6][1] == "x\ufffdy" and len(rows) == 24


def test_csv_of_an_empty_table_is_its_header():
    text = io.StringIO()
    output.write_csv(pd.DataFrame(columns=["id", "@name"]), text.write)
    assert text.getvalue() == "id,'@name\r\n"


def test_json_is_written_whole_or_not_at_all(env, capsys, tmp_path):
    """A failing run leaves the previous file as it was, even though JSON streams into a temporary
    file while the records arrive."""
    target = tmp_path / "rfis.json"
    target.write_text("[]\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with output.report_output(str(target)) as out:
            out.records([{"id": 1}])
            raise RuntimeError("the run failed")
    assert target.read_text(encoding="utf-8") == "[]\n"
    assert [p.name for p in tmp_path.iterdir()] == ["rfis.json"]
    with output.report_output(str(target)) as out:
        out.records([{"id": 1, "a": {"b": [1, 2]}}])
        out.records([])
        out.records([{"id": 2}])
        out.write(ReportResult(report="RFIs", params={}, table=pd.DataFrame(), requests=0, seconds=0.0))
    records = [{"id": 1, "a": {"b": [1, 2]}}, {"id": 2}]
    assert target.read_text(encoding="utf-8") == json.dumps(records, ensure_ascii=False, indent=1) + "\n"


# -- date-only CSV columns -------------------------------------------------------------------
def test_csv_date_only_columns_are_yyyy_mm_dd_and_timestamps_keep_their_time(env, capsys, tmp_path):
    target = tmp_path / "rfis.csv"
    code, _, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(target))
    assert code == 0, err
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    due = [r["due_date"] for r in rows if r["due_date"]]
    created = [r["created_at"] for r in rows if r["created_at"]]
    assert due and created
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in due), due[:3]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", c) for c in created), created[:3]


# -- the CSV text made without pandas' to_csv is pandas' text, character for character -------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TEXT = st.one_of(st.text(max_size=8), st.sampled_from(["=1+1", "+3", "-x", "@a", "\tt", "\rr", 'a"b', "a,b",
                                                       "a\nb", "a\rb", "", " ", "x\ud800y", "NaN", "None"]))
OBJECT_VALUE = st.one_of(TEXT, st.none(), st.just(float("nan")), st.integers(-2**70, 2**70), st.booleans(),
                         st.floats(allow_nan=True, allow_infinity=True))
MOMENT = st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)))


@st.composite
def blocks(draw):
    rows = draw(st.integers(0, 6))
    columns, moments, dates_only = {}, [], set()
    for i in range(draw(st.integers(1, 5))):
        name = draw(st.sampled_from(["id", "=f", "text", "when", "a,b", ""])) + str(i)
        kind = draw(st.sampled_from(["object", "Int64", "int64", "float64", "moment", "date"]))
        if kind == "object":
            columns[name] = pd.Series(draw(st.lists(OBJECT_VALUE, min_size=rows, max_size=rows)), dtype=object)
        elif kind == "Int64":
            values = draw(st.lists(st.one_of(st.none(), st.integers(-2**63, 2**63 - 1)), min_size=rows, max_size=rows))
            columns[name] = pd.Series(pd.array(values, dtype="Int64"))
        elif kind == "int64":
            columns[name] = pd.Series(draw(st.lists(st.integers(-2**63, 2**63 - 1), min_size=rows, max_size=rows)),
                                      dtype="int64")
        elif kind == "float64":
            values = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=rows, max_size=rows))
            columns[name] = pd.Series(values, dtype="float64")
        else:
            values = draw(st.lists(MOMENT, min_size=rows, max_size=rows))
            if kind == "date":
                values = [None if v is None else dt.datetime(v.year, v.month, v.day) for v in values]
                dates_only.add(name)
            columns[name] = pd.Series(pd.array(values, dtype="datetime64[us]"))
            moments.append(name)
    frame = pd.DataFrame(columns)
    texts = [c for c in frame.columns if frame[c].dtype == object]
    return frame, moments, dates_only, texts


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks(), st.booleans(), st.booleans())
def test_csv_block_text_is_pandas_text(drawn, raw, with_header):
    frame, moments, dates_only, texts = drawn
    kinds = output._Kinds(moments, dates_only, texts, raw)
    header = [("" if raw else "'") + str(c) for c in frame.columns] if with_header else None
    quick = output._block_csv(frame, header, kinds)
    assert quick is not None            # every kind of column drawn here is written without pandas
    assert quick == output._block_csv_pandas(frame, header, kinds)


def test_csv_block_of_values_the_quick_path_does_not_know_goes_through_pandas():
    frame = pd.DataFrame({"a": pd.Series([pd.NA, decimal.Decimal("1.50"), pd.Timestamp("2024-01-01")],
                                         dtype=object), "b": pd.Series(["x", "y", None], dtype="string")})
    kinds = output._Kinds([], set(), ["a", "b"], False)
    assert output._block_csv(frame, None, kinds) is None
    text = io.StringIO()
    output.write_csv(frame, text.write)
    assert text.getvalue() == output._block_csv_pandas(frame, ["a", "b"], kinds)


def test_sandbox_rfis_streamed_csv_is_the_frame_written_by_pandas(env):
    """A report's table as the sandbox sends it (custom fields, awkward text, dates, ids, money),
    streamed page by page through the quick path, against pandas' to_csv of the whole frame."""
    from procore_xl.flatten import FrameBuilder, to_frame
    records = rfis_of(env)
    builder = FrameBuilder()
    for start in range(0, len(records), 7):
        builder.add(records[start:start + 7])
    got = io.StringIO()
    output.write_csv(builder.table(keys=["id"]), got.write, block_rows=10)
    frame = to_frame(records, keys=["id"])
    table = output.Table.of(frame)
    kinds = output._Kinds(table.moments(), table.dates_only(), table.texts(), False)
    expected = output._block_csv_pandas(frame, [output._text_only(str(c)) for c in frame.columns], kinds)
    assert table.moments() and got.getvalue() == output.encodable(expected)[0]


ODD_TEXT = st.one_of(st.text(max_size=8), st.sampled_from(
    ["", " ", ",", '"', '""', "a,b", 'say "hi"', "line\nbreak", "cr\rhere", "\r\n", "=1+2", "+1", "-2", "@x",
     "\ttab", "\x00nul", "\x1f", "\ud800lone", "\U0001F600", "é,ü", "'", "a'b"]))
CELL = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), ODD_TEXT,
                 st.floats(allow_nan=False, allow_infinity=True))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 5).flatmap(lambda n: st.lists(st.lists(CELL, min_size=n, max_size=n), max_size=6)))
def test_csv_rows_are_what_the_csv_writer_writes(rows):
    columns = [list(c) for c in zip(*rows)] if rows else []
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerows(rows)
    assert output.csv_rows(columns) == expected.getvalue()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), ODD_TEXT, st.integers()), max_size=8))
def test_a_formula_is_never_missed(values):
    types = set(map(type, values))
    assert output._any_formula(values, types) >= any(type(v) is str and v.startswith(output.FORMULA_START)
                                                     for v in values)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "é", "\ud800", "\udfff", "\ud83d", "\ude00", "\U0001F600", "\x00", ",",
                                 "\uffff", "\ue000", "\ud7ff", "\udc00x"]), max_size=12).map("".join))
def test_lone_surrogates_become_the_replacement_character_one_for_one(text):
    got, n = output.encodable(text)
    assert n == sum(0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert got == "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    got.encode("utf-8")


def test_csv_rows_after_a_head_line():
    head = io.StringIO()
    csv.writer(head, lineterminator="\r\n").writerow(["a", "b,c"])
    assert output.csv_rows([[1, None], ["x", 'y"']], head.getvalue()) == 'a,"b,c"\r\n1,x\r\n,"y"""\r\n'
    assert output.csv_rows([[], []], head.getvalue()) == head.getvalue()


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4).flatmap(lambda n: st.lists(st.lists(CELL, min_size=n, max_size=n), max_size=5)),
       st.booleans())
def test_lone_surrogates_replaced_column_by_column_as_in_the_whole_block(rows, with_header):
    width = len(rows[0]) if rows else 2
    columns = [list(c) for c in zip(*rows)] if rows else [[] for _ in range(width)]
    names = [f"c{i}\ud800" if i % 2 else f"c{i}" for i in range(width)]
    kinds = output._Kinds([], set(), names, False)
    header = names if with_header else None
    whole = output.encodable(output._csv_text([output._guarded(v, n, kinds) for v, n in zip(columns, names)], header))
    assert output._plain_csv(columns, names, header, kinds) == whole


def test_csv_shown_on_a_terminal_escapes_control_characters_on_every_path():
    """``shown``: each text's control characters escaped, header too, by the quick path and by
    pandas' (a Decimal sends a block there); without it the text is exact."""
    from decimal import Decimal
    evil = "a\x1b[31m\x07\rb\u202e"
    for extra in ([1, 2], [Decimal("1.5"), None]):
        frame = pd.DataFrame({"id": [1, 2], f"@{evil}": [evil, "=x\x9b"], "n": extra})
        text = io.StringIO()
        output.write_csv(frame, text.write, shown=True)
        rows = text.getvalue().split("\r\n")
        assert rows[0] == "id,'@a\\x1b[31m\\x07\\rb\\u202e,n" and rows[-1] == ""
        assert rows[1].startswith("1,a\\x1b[31m\\x07\\rb\\u202e,") and rows[2].startswith("2,'=x\\x9b,")
        assert len(rows) == 4
        exact = io.StringIO()
        output.write_csv(frame, exact.write)
        assert evil in exact.getvalue() and "\\x1b" not in exact.getvalue()


FUTURE = ("pull", "Manpower Logs", "--company", "8001", "--project", "91001",
          "--start-date", "2031-01-01", "--end-date", "2031-01-02")         # no logs yet: no rows


@pytest.mark.parametrize("options, labels", [((), False), (("--headers", "labels"), True),
                                             (("--columns", "default"), False)])
def test_an_empty_result_writes_the_header_of_its_default_columns(env, capsys, tmp_path, options, labels):
    from procore_xl.catalog import find_report
    from procore_xl.columns import default_column_rows

    rows = default_column_rows(find_report("Manpower Logs"))
    header = ",".join(label if labels else path for path, label in rows) + "\r\n"
    code, out, err = run(capsys, *FUTURE, *options, "--out", str(tmp_path / "logs.csv"))
    assert code == 0, err
    assert "Manpower Logs: 0 rows" in err
    assert (tmp_path / "logs.csv").read_bytes().decode("utf-8") == header
    code, out, err = run(capsys, *FUTURE, *options)
    assert code == 0, err
    assert out == header
    assert header.startswith("Date,Vendor," if labels else "date,vendor.name,")


def test_an_empty_result_as_json_is_an_empty_array(env, capsys, tmp_path):
    code, out, err = run(capsys, *FUTURE, "--out", str(tmp_path / "logs.json"))
    assert code == 0, err
    assert json.loads((tmp_path / "logs.json").read_text(encoding="utf-8")) == []
