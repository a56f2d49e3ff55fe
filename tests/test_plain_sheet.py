"""A report sheet written from plain values (``Table.plain_blocks``: lists, no pandas) is the
sheet the pandas path writes: random tables of every column kind a pull makes (ids, ids beyond
int64, money, dates with and without a time and before 1900, text an .xlsx cannot hold or
cut, formula-like text, nested lists, item numbers, coordinates, empty columns, gaps, bools,
mixed values), read in random pages and blocks, give the same header, number formats, notes
and sheet XML through both. Values that are not from JSON send the whole table down the
pandas path; nothing in the plain path imports pandas."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st
from record_strategies import FEW, LONG, WEIRD_TEXT, money_text

from procore_xl.columns import COLUMNS_ALL, COLUMNS_DEFAULT, HEADERS_FIELDS, HEADERS_LABELS
from procore_xl.excel.ooxml.sheet_data import table_rows
from procore_xl.excel.streamed import streamed_table
from procore_xl.excel.plans import table_data
from procore_xl.flatten import FrameBuilder
from procore_xl.shown import Shown
from procore_xl.view import view

GAP = st.none()
TEXT = st.one_of(st.text(max_size=8), st.sampled_from(WEIRD_TEXT), st.sampled_from(LONG),
                 st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0xE000), max_size=6))


@st.composite
def days(draw, low=1678, high=2261) -> str:
    day = draw(st.dates(min_value=dt.date(low, 1, 1), max_value=dt.date(high, 12, 31)))
    return day.isoformat()


@st.composite
def zulu(draw, midnight: bool = False) -> str:
    day = draw(days())
    if midnight:
        return f"{day}T00:00:00Z"
    t = draw(st.times()).replace(microsecond=0)
    return f"{day}T{t.isoformat()}Z"


# each column: the values a record may hold there (the column name picks its kind's rules)
COLUMNS = {
    "id": st.integers(1, 2**62),
    "vendor_id": st.one_of(GAP, st.integers(-2**63 + 1, 2**63 - 1), st.integers(0, 10**12).map(str)),
    "big_id": st.one_of(GAP, st.integers(2**63, 2**70), st.integers(0, 99)),
    "grand_total": st.one_of(GAP, money_text(), st.just(""), st.floats(-1e12, 1e12)),
    "amount": st.one_of(GAP, st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**60, 2**60)),
    "due_date": st.one_of(GAP, days(), days(1678, 1899)),
    "created_at": st.one_of(GAP, zulu(), zulu(midnight=True)),
    "closed_at": st.one_of(GAP, zulu(midnight=True)),
    "start_date": st.one_of(GAP, days(1890, 1910)),
    "subject": st.one_of(GAP, TEXT),
    "status": st.one_of(GAP, st.sampled_from(["open", "closed", " ", "", "=1+1", "@x", "-3", "+4"])),
    "assignees": st.one_of(GAP, st.just([]), st.lists(st.fixed_dictionaries(
        {"name": st.one_of(GAP, TEXT)}, optional={"id": st.integers(0, 9)}), max_size=3),
        st.lists(st.one_of(st.integers(0, 9), TEXT, st.lists(st.integers(0, 3), max_size=2)), max_size=3)),
    "number": st.one_of(GAP, st.integers(0, 10**16).map(str), st.sampled_from(["007", "-5", " 12 ", "1.5", "x"]),
                        st.integers(-99, 99), st.floats(-10, 10)),
    "location.latitude": st.one_of(GAP, st.floats(-90, 90).map(lambda f: f"{f:.6f}"),
                                   st.sampled_from(["-0.5", "12", "1e5", "N"]), st.floats(-90, 90)),
    "never": GAP,
    "blank": st.one_of(GAP, st.sampled_from(["", "  ", "\t"])),
    "private": st.one_of(GAP, st.booleans()),
    "mixed": st.one_of(GAP, st.booleans(), st.integers(-2**64, 2**64), st.floats(), TEXT, days(), zulu(),
                       st.lists(st.integers(0, 3), max_size=2), st.dictionaries(st.sampled_from("ab"), TEXT, max_size=1)),
}


def _records(draw, rows: int) -> list[dict]:
    names = draw(st.lists(st.sampled_from(sorted(COLUMNS)), min_size=1, max_size=len(COLUMNS), unique=True))
    out = []
    for i in range(rows):
        rec: dict = {}
        for name in names:
            v = draw(COLUMNS[name])
            if "." in name:
                head, tail = name.split(".")
                rec.setdefault(head, {})[tail] = v
            elif name != "id" or i % 7:        # now and then no id
                rec[name] = v
        out.append(rec)
    return out


@st.composite
def tables(draw):
    rows = draw(st.integers(1, 25))
    records = _records(draw, rows)
    cuts = sorted(draw(st.lists(st.integers(1, rows), max_size=3, unique=True)))
    builder = FrameBuilder()
    for start, end in zip([0, *cuts], [*cuts, rows]):
        if end > start:
            builder.add(records[start:end])
    return builder.table(keys=("id",))


def _styles():
    index: dict = {}
    return lambda fmt, bold: index.setdefault((fmt, bold), len(index))


def _same_sheet(plain, frames) -> None:
    assert (plain is None) == (frames is None)
    if plain is None:
        return
    assert plain.nrows == frames.nrows and plain.header == frames.header
    assert plain.formats == frames.formats and plain.notes() == frames.notes()
    assert plain.rows(0, 200) == frames.rows(0, 200)
    style = _styles()
    for rows, calculated in ((3, []), (500, [("Twice", "=[@id]*2")])):
        assert list(table_rows(plain, 5, style, block_rows=rows, calculated=calculated)) == \
            list(table_rows(frames, 5, style, block_rows=rows, calculated=calculated))


@FEW
@given(tables(), st.sampled_from([(HEADERS_FIELDS, COLUMNS_ALL), (HEADERS_LABELS, COLUMNS_DEFAULT)]),
       st.integers(1, 30))
def test_a_sheet_from_plain_values_is_the_sheet_of_the_pandas_path(table, options, block_rows):
    headers, columns = options
    shown = Shown(table, "RFIs", headers=headers, columns=columns, block_rows=block_rows)
    # values from JSON, dates in Procore's forms (a page mixing two forms is parsed by pandas): plain values
    plain_dates = table.plain_kinds() is not None
    assert shown.plain == (plain_dates and bool(shown.columns))
    plain = streamed_table(shown)
    assert shown.plain == (plain_dates and bool(shown._candidates))     # no block sent it to frames
    frames_shown = Shown(table, "RFIs", headers=headers, columns=columns, block_rows=block_rows, plain=False)
    frames = streamed_table(frames_shown)
    assert not frames_shown.plain
    _same_sheet(plain, frames)
    if plain is not None:             # and both are the sheet of the view's whole frame
        whole = view(table, "RFIs", headers=headers, columns=columns)
        _same_sheet(plain, table_data(whole.frame, whole.header))


def test_a_value_not_from_json_sends_the_whole_table_down_the_pandas_path():
    """A block plain_blocks cannot give as lists (a Python date among the values) comes late:
    the scan starts over on frames, and the sheet is the pandas path's."""
    builder = FrameBuilder()
    builder.add([{"id": i, "subject": f"s{i}", "number": str(i)} for i in range(1, 6)])
    builder.add([{"id": 6, "subject": dt.date(2020, 1, 2), "number": "6"}])
    table = builder.table(keys=("id",))
    shown = Shown(table, "RFIs", headers=HEADERS_FIELDS, columns=COLUMNS_ALL, block_rows=2)
    assert shown.plain
    plain = streamed_table(shown)
    assert not shown.plain
    _same_sheet(plain, streamed_table(Shown(table, "RFIs", headers=HEADERS_FIELDS, columns=COLUMNS_ALL,
                                            block_rows=2, plain=False)))


def test_a_table_read_whole_between_the_two_reads_writes_the_same_sheet():
    """Planned over plain values, then the table is read whole (Table.frame(): no pages any
    more): the blocks come from its frame under the same plans, and the sheet is the same."""
    builder = FrameBuilder()
    for start in (0, 4, 9):
        builder.add([{"id": i, "number": str(i), "grand_total": f"{i}.5", "created_at": f"2026-01-0{1 + i % 9}T10:00:00Z",
                      "due_date": "1850-01-02" if i == 3 else None, "assignees": [{"name": f"P{i}"}],
                      "subject": f"s\x07{i}"} for i in range(start, start + 4 + start % 2)])
    table = builder.table(keys=("id",))
    shown = Shown(table, "RFIs", block_rows=3)
    planned = streamed_table(shown)
    assert shown.plain
    style = _styles()
    before = list(table_rows(planned, 5, style))
    table.frame()
    assert list(table_rows(planned, 5, style)) == before and planned.rows(0, 200)


def test_dates_pandas_parsed_are_read_as_frames():
    """Dates in a form other than Procore's (a fraction of a second) are parsed by pandas and
    may hold what ISO text to the second drops: such a table is read as frames."""
    builder = FrameBuilder()
    builder.add([{"id": 1, "created_at": "2026-01-02T03:04:05.250Z"}, {"id": 2, "created_at": None}])
    table = builder.table(keys=("id",))
    assert table.plain_kinds() is None
    assert not Shown(table, "RFIs").plain


def test_a_sheet_written_from_plain_values_imports_no_pandas():
    code = ("import sys; from procore_xl.flatten import FrameBuilder; "
            "from procore_xl.excel.streamed import streamed_table; from procore_xl.shown import Shown; "
            "from procore_xl.excel.ooxml.sheet_data import table_rows; "
            "b = FrameBuilder(); b.add([{'id': 1, 'number': '7', 'created_at': '2026-01-02T03:04:05Z', "
            "'due_date': '1850-02-03', 'grand_total': '12.50', 'assignees': [{'name': 'Ana'}], 'subject': 'x\\x07'}, "
            "{'id': 2, 'number': None, 'created_at': None, 'due_date': None, 'grand_total': None, 'subject': None}]); "
            "shown = Shown(b.table(keys=['id']), 'RFIs'); data = streamed_table(shown); "
            "xml = ''.join(table_rows(data, 3, lambda f, b: 0)); data.notes(); data.rows(0, 200); "
            "print(shown.plain, len(xml) > 0, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "False"]


SAY_IF_PANDAS = ("import atexit, runpy, sys; "
                 "atexit.register(lambda: print('pandas' in sys.modules)); "
                 "sys.argv = ['procore-xl', *sys.argv[1:]]; runpy.run_module('procore_xl', run_name='__main__')")
RFIS = ["--company", "8001", "--project", "91001"]


def _procore_xl(env, *argv: str) -> bool:
    """Run `procore-xl argv` as a process: was pandas imported by its end."""
    child = subprocess.run([sys.executable, "-c", SAY_IF_PANDAS, *argv], env=env, capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    return child.stdout.split()[-1] == "True"


def _table_cells(path, sheet: str = "RFIs") -> list[tuple]:
    """The report table's cells (value, number format) from its header row down, and the widths."""
    import openpyxl

    from procore_xl.excel.layout import TABLE_HEADER_ROW
    ws = openpyxl.load_workbook(path)[sheet]
    cells = [tuple((c.value, c.number_format) for c in row) for row in ws.iter_rows(min_row=TABLE_HEADER_ROW)]
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    return [*cells, tuple(sorted(widths.items())), tuple(ws.tables.items())]


def test_a_pull_to_xlsx_and_a_refresh_import_no_pandas_and_write_the_pandas_paths_sheet(sandbox, tmp_path,
                                                                                         excel_service):
    """Real `procore-xl pull --out x.xlsx`, `new-workbook` and `refresh` processes never import
    pandas, and their report table is the one the pandas path writes (the same run's table
    read whole as a frame: a table made from a frame is read as frames)."""
    from cli_run import process_environ

    from procore_xl.excel.results import write_workbook
    from procore_xl.table import Table

    env = process_environ(sandbox, tmp_path / "home")
    assert not _procore_xl(env, "pull", "RFIs", *RFIS, "--out", str(tmp_path / "pulled.xlsx"))
    assert not _procore_xl(env, "new-workbook", str(tmp_path / "book.xlsx"), "--report", "RFIs", *RFIS)
    assert not _procore_xl(env, "refresh", str(tmp_path / "book.xlsx"), "-q")
    assert not _procore_xl(env, "refresh", str(tmp_path / "book.xlsx"), "-q", "--full")

    params = {"company": "8001", "project": "91001"}
    result = excel_service.run("RFIs", params)
    assert result.table.plain_kinds() is not None and len(result.table) > 100
    result.table = Table.of(result.table.frame())
    assert result.table.plain_kinds() is None            # read as frames: the pandas path
    write_workbook(tmp_path / "frames.xlsx", [(params, result)])
    expected = _table_cells(tmp_path / "frames.xlsx")
    kinds = {type(v) for row in expected[:-2] for v, _ in row}
    assert {str, int, dt.datetime} <= kinds and len(expected) > 100      # a table worth comparing
    assert _table_cells(tmp_path / "pulled.xlsx") == expected
    assert _table_cells(tmp_path / "book.xlsx") == expected
