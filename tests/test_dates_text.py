"""Dates kept as their text (table._text_form): a piece of a dates column all in a form Procore
sends is checked without pandas and written to CSV by slicing its text. A random differential
against the pandas path (each piece through ``pd.to_datetime(utc=True, format="ISO8601")``, as
the typing rules say): the same column kind, the same ``dates_only``, the same CSV text and the
same datetimes in a frame or a block, for Procore's forms, the forms pandas alone parses, invalid
dates and years at and beyond the edges of the fast path."""
from __future__ import annotations

import csv
import io
import random
import subprocess
import sys

import numpy
import pandas as pd
import pytest

from procore_xl.flatten import FrameBuilder
from procore_xl.flatten_page import ABSENT
from procore_xl.output import write_csv
from procore_xl.table import _DATE_RE, DATES, DAYS, ZULU, ColumnType, _text_form

YEARS = [1600, 1677, 1678, 1999, 2024, 2026, 2261, 2262, 9999]
INVALID = ["2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-01-00", "1900-02-29"]
BAD_TIMES = ["24:00:00", "23:60:00", "23:59:60", "25:00:00"]


def _day(rng: random.Random, dirt: float) -> str:
    if rng.random() < dirt:
        return rng.choice(INVALID)
    year = rng.choice(YEARS) if rng.random() < 0.15 else rng.randint(1990, 2030)
    if rng.random() < 0.05:                              # valid in leap years only
        return f"{rng.choice([1904, 2000, 2024, 2260]) if not dirt else year:04d}-02-29"
    return f"{year:04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _time(rng: random.Random, dirt: float) -> str:
    if rng.random() < dirt:
        return rng.choice(BAD_TIMES)
    if rng.random() < 0.3:
        return "00:00:00"
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


def _value(rng: random.Random, style: str, dirt: float) -> object:
    if rng.random() < 0.1:
        return rng.choice([None, ABSENT, None])
    if rng.random() < dirt:
        return rng.choice(["", "  ", "N/A", 7, 1.5, "2026-01-01 ", "2026-1-1"])
    if style == "mixed":
        style = rng.choice(["zulu", "days", "offset", "fraction", "space", "short"])
    day, time = _day(rng, dirt), _time(rng, dirt)
    if style == "zulu":
        return f"{day}T{time}Z"
    if style == "days":
        return day
    if style == "offset":
        return f"{day}T{time}{rng.choice(['+02:00', '-0530', '+00:00'])}"
    if style == "fraction":
        return f"{day}T{time}.{rng.randint(0, 999999):0{rng.randint(1, 6)}d}Z"
    if style == "space":
        return f"{day} {time}{rng.choice(['Z', ''])}"
    return f"{day}T{time[:5]}"                    # no seconds


def _piece(rng: random.Random, rows: int, dirt: float) -> list:
    style = rng.choice(["zulu", "zulu", "zulu", "days", "days", "missing", "mixed", "offset", "fraction",
                        "space", "short"])
    if style == "missing":
        return [rng.choice([None, ABSENT]) for _ in range(rows)]
    return [_value(rng, style, dirt) for _ in range(rows)]


def _missing(v) -> bool:
    return v is None or (type(v) is float and v != v)


def _pandas_piece(values: list) -> pd.Series:
    text = pd.Series([v if type(v) is str and v.strip() else None for v in values], dtype=object)
    return pd.to_datetime(text, utc=True, format="ISO8601").dt.tz_localize(None)


def _pandas_path(pieces: list[list]) -> tuple[bool, bool, pd.Series | None]:
    """The typing rules with every piece parsed by pandas: (a dates column, dates only, its datetimes)."""
    parsed, seen = [], False
    for values in pieces:
        found = False
        for v in values:
            if type(v) is str and _DATE_RE.fullmatch(v):
                found = True
            elif (type(v) is str and v.strip()) or (type(v) is not str and not _missing(v)):
                return False, False, None
        if not found:
            parsed.append(_pandas_piece([None] * len(values)))
            continue
        try:
            parsed.append(_pandas_piece(values))
        except (ValueError, TypeError, OverflowError):
            return False, False, None
        seen = True
    if not seen:
        return False, False, None
    moments = pd.concat(parsed, ignore_index=True)
    days = moments.dropna().to_numpy()
    return True, bool((days == days.astype("datetime64[D]")).all()), moments


def _csv_text(moments: pd.Series, dates_only: bool) -> list[str]:
    text = numpy.datetime_as_string(moments.to_numpy(), unit="D" if dates_only else "s").tolist()
    return ["" if t == "NaT" else t for t in text]


@pytest.mark.parametrize("seed", range(8))
def test_dates_kept_as_text_match_the_pandas_path(seed):
    rng = random.Random(seed)
    kept = 0
    for _ in range(40):
        sizes = [rng.randint(1, 12) for _ in range(rng.randint(1, 4))]
        columns = [f"when_{i}" for i in range(4)]
        dirt = {c: rng.choice([0, 0, 0, 0.01, 0.05]) for c in columns}    # invalid and odd values
        pieces = {c: [_piece(rng, n, dirt[c]) for n in sizes] for c in columns}
        builder = FrameBuilder()
        start = 0
        for k, n in enumerate(sizes):
            builder.add([{"id": start + i, **{c: pieces[c][k][i] for c in columns}} for i in range(n)])
            start += n
        table = builder.table(keys=["id"])
        types = table._column_types()
        got_csv = io.StringIO()
        write_csv(table, got_csv.write)
        header, *lines = csv.reader(io.StringIO(got_csv.getvalue(), newline=""))
        written = dict(zip(header, zip(*lines)))
        blocks = pd.concat(list(table.blocks(rows=rng.randint(1, 20))))
        frame = table.frame()
        for c in columns:
            dates, dates_only, moments = _pandas_path(pieces[c])
            if c not in types:              # no value in any row: no column
                assert not dates
                continue
            judge = types[c]
            kept += sum(isinstance(m, str) for m in judge.moments)
            assert (judge.kind == DATES) == dates, pieces[c]
            if not dates:
                continue
            assert judge.dates_only == dates_only, pieces[c]
            assert list(written[c]) == _csv_text(moments, dates_only), pieces[c]
            pd.testing.assert_series_equal(blocks[c], moments, check_names=False, check_index=False)
            pd.testing.assert_series_equal(frame[c], moments, check_names=False)
    assert kept                 # the fast path was taken (and differential-tested) for some pieces


def test_the_forms_kept_as_text_and_those_left_to_pandas():
    assert _text_form(["2026-12-06T07:48:37Z", None, ABSENT]) == (ZULU, False)
    assert _text_form(["2026-12-06T00:00:00Z", "2024-02-29T00:00:00Z"]) == (ZULU, True)
    assert _text_form(["2026-12-06", None]) == (DAYS, True)
    assert _text_form(["1678-01-01", "2261-12-31"]) == (DAYS, True)
    for pandas_decides in (["2026-12-06T07:48:37+02:00"], ["2026-12-06T07:48:37.5Z"], ["2026-12-06 07:48:37Z"],
                           ["2026-12-06T07:48:37Z", "2026-12-06"], ["2026-02-29"], ["2026-13-01"],
                           ["2026-01-01T24:00:00Z"], ["1677-12-31"], ["2262-01-01"], ["2026-12-06", ""],
                           ["2026-12-06\n2026-12-07"], ["2026-12-06", 7], ["٢٠٢٦-12-06"], [None], []):
        assert _text_form(pandas_decides) is None, pandas_decides
    judge = ColumnType("due_date", parse_dates=True)
    judge.add(["2026-12-06", None])
    judge.add(["2026-12-07T10:00:00Z"])
    assert judge.kind == DATES and judge.moments == [DAYS, ZULU] and not judge.dates_only


def test_a_csv_of_procore_dates_imports_no_pandas_and_a_frame_still_types_them():
    code = ("import io, sys; from procore_xl.flatten import FrameBuilder; from procore_xl.output import write_csv; "
            "b = FrameBuilder(); b.add([{'id': 1, 'created_at': '2026-01-02T03:04:05Z', 'due_date': '2026-02-03'}, "
            "{'id': 2, 'created_at': None, 'due_date': None}]); out = io.StringIO(); "
            "write_csv(b.table(keys=['id']), out.write); print(repr(out.getvalue()), 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == [repr("id,created_at,due_date\r\n1,2026-01-02T03:04:05,2026-02-03\r\n2,,\r\n"), "False"]
    builder = FrameBuilder()
    builder.add([{"id": 1, "created_at": "2026-01-02T03:04:05Z", "due_date": "2026-02-03"}])
    frame = builder.table(keys=["id"]).frame()
    assert str(frame["created_at"].dtype).startswith("datetime64") and frame["due_date"][0] == pd.Timestamp("2026-02-03")


PULL_THEN_SAY_IF_PANDAS = ("import atexit, runpy, sys; "
                           "atexit.register(lambda: print('pandas' in sys.modules)); "
                           "sys.argv = ['procore-xl', *sys.argv[1:]]; runpy.run_module('procore_xl', run_name='__main__')")


@pytest.mark.parametrize("suffix, pandas", [("csv", False), ("json", False), ("xlsx", False)])
def test_a_pull_imports_pandas_only_for_an_output_that_needs_a_frame(sandbox, tmp_path, suffix, pandas):
    from cli_run import process_environ

    child = subprocess.run([sys.executable, "-c", PULL_THEN_SAY_IF_PANDAS, "pull", "RFIs", "--company", "8001",
                            "--project", "91001", "--out", str(tmp_path / f"rfis.{suffix}")],
                           env=process_environ(sandbox, tmp_path), capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == [str(pandas)]
