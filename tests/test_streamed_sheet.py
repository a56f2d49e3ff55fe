"""A report sheet written block by block (excel/streamed.py) writes the cells of the whole table:
what only all rows can say (a column's kind and number format, the columns shown, item numbers
as numbers, text an .xlsx cannot hold) is decided before the first block is written, even when
the one value that decides it comes in the last block."""
from __future__ import annotations

import pytest

from procore_xl.columns import COLUMNS_ALL, COLUMNS_DEFAULT, HEADERS_FIELDS, HEADERS_LABELS
from procore_xl.excel.ooxml.sheet_data import table_rows
from procore_xl.excel.streamed import streamed_table
from procore_xl.excel.plans import table_data
from procore_xl.flatten import FrameBuilder
from procore_xl.shown import Shown
from procore_xl.view import view

N = 23


def rfi(i: int, surprise: bool) -> dict:
    """An RFI; with ``surprise`` the last one holds what changes how whole columns are written."""
    late = surprise and i == N - 1
    return {
        "id": i + 1,
        "number": "007" if late else str(i + 1),                        # item numbers: text once one is not
        "subject": f"subject {i}" + ("\x07bell\ud800" if late else ""),  # a character no .xlsx holds
        "status": "open" if i % 3 else None,
        "due_date": f"2026-01-{1 + i % 28:02d}" + ("T10:30:00Z" if late else ""),   # a time of day
        "created_at": f"2026-02-{1 + i % 28:02d}T00:00:00Z",
        "cost_impact": {"status": "yes", "value": "12.50" if i % 2 else ""},
        "schedule_impact": {"status": "no", "value": "n/a" if late else i},      # numbers, then a text
        "assignees": [{"name": f"Person {i}"}] if i % 2 else [],
        "private": None if late else bool(i % 4),                        # bools, then a gap
        "reference": 12_345_678_901 if i == 0 else (True if late else i),  # whole numbers, then a bool
        "location": {"name": f"Level {i % 4}", "latitude": "n" if late else f"37.{i}"},
        "time_resolved": None if i % 5 else i / 4,
        "rfi_manager": {"name": "Ana Ruiz" if late else None},           # filled in the last block only
        "questions": [{"plain_text_body": f"question {i}"}],
        "never": None,
    }


def table(surprise: bool, cuts: tuple[int, ...]):
    records = [rfi(i, surprise) for i in range(N)]
    builder = FrameBuilder()
    edges = [0, *cuts, N]
    for start, end in zip(edges, edges[1:]):
        builder.add(records[start:end])
    return builder.table(keys=("id",))


def _styles():
    index: dict = {}
    return lambda fmt, bold: index.setdefault((fmt, bold), len(index))


@pytest.mark.parametrize("surprise", [True, False])
@pytest.mark.parametrize("cuts, block_rows", [((), 2_000), ((5, 11, 17), 1), ((5, 11, 17), 4), ((1, 22), 6)])
@pytest.mark.parametrize("headers, columns", [(HEADERS_FIELDS, COLUMNS_ALL), (HEADERS_LABELS, COLUMNS_DEFAULT)])
def test_a_sheet_written_block_by_block_is_the_sheet_of_the_whole_table(surprise, cuts, block_rows, headers, columns):
    t = table(surprise, cuts)
    whole_view = view(t, "RFIs", headers=headers, columns=columns)
    whole = table_data(whole_view.frame, whole_view.header)
    streamed = streamed_table(Shown(t, "RFIs", headers=headers, columns=columns, block_rows=block_rows))
    assert streamed is not None and streamed.nrows == whole.nrows == N
    assert streamed.header == whole.header and streamed.formats == whole.formats
    assert streamed.notes() == whole.notes()
    assert streamed.rows(0, 200) == whole.rows(0, 200) and streamed.rows(3, 9) == whole.rows(3, 9)
    style = _styles()
    for rows, calculated in ((7, []), (500, [("Twice", "=[@id]*2")])):
        assert list(table_rows(streamed, 21, style, block_rows=rows, calculated=calculated)) == \
            list(table_rows(whole, 21, style, block_rows=rows, calculated=calculated))


def test_the_last_block_decides_for_every_block():
    """The values that change a whole column only in the last row do change it (the point of
    planning over all blocks first)."""
    plain = streamed_table(Shown(table(False, (5, 11, 17)), "RFIs", headers=HEADERS_FIELDS, columns=COLUMNS_ALL,
                                 block_rows=1))
    late = streamed_table(Shown(table(True, (5, 11, 17)), "RFIs", headers=HEADERS_FIELDS, columns=COLUMNS_ALL,
                                block_rows=1))
    def how(plan):
        return plan.family, plan.kind if plan.family == "object" else None, plan.fmt

    kinds = {p.field: how(p) for p in plain.plans}
    changed = {p.field for p in late.plans if how(p) != kinds.get(p.field)}
    assert {"number", "due_date", "schedule_impact.value", "reference", "location.latitude"} <= changed
    assert any("U+FFFD" in n for n in late.notes()) and not plain.notes()


def test_a_table_read_whole_between_the_two_reads_writes_the_same_sheet():
    """The words of nested lists kept from the first read are taken only for the same block:
    once the table was read whole (one block now), they are made again."""
    t = table(True, (5, 11, 17))
    streamed = streamed_table(Shown(t, "RFIs", block_rows=4))
    style = _styles()
    before = list(table_rows(streamed, 21, style))
    t.frame()
    assert list(table_rows(streamed, 21, style)) == before


@pytest.mark.parametrize("nrows", [0, 2])
def test_a_calculated_column_beside_a_table_of_no_column_goes_after_the_placeholder(nrows):
    """A table with no data column still has its "(no columns)" header cell in A; the
    calculated column the person added comes in B, its formula on every row (it used to raise
    IndexError)."""
    from procore_xl.excel.values import TableData

    data = TableData([], [], nrows)
    xml = "".join(table_rows(data, 5, lambda fmt, bold: int(bold), calculated=[("Twice", "=1+1")]))
    assert '<c r="A5" s="1" t="inlineStr"><is><t>(no columns)</t></is></c>' in xml
    assert '<c r="B5" s="1" t="inlineStr"><is><t>Twice</t></is></c>' in xml
    for r in range(6, 6 + max(nrows, 1)):
        assert f'<c r="B{r}"><f' in xml and f'r="A{r}"' not in xml
