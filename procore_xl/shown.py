"""A report's table as a sheet shows it, read block by block and never held whole: :class:`Shown`
(the default view of :func:`~procore_xl.view.view` over a :class:`~procore_xl.table.Table`,
whose rules it applies: the columns shown, nested lists as words, item numbers as numbers).
A table read from pages is read as plain values (``Table.plain_blocks``: lists per column, no
pandas; :class:`~procore_xl.view.PlainColumn`, :class:`PlainBlock`) when every block can be,
else as DataFrames.
"""
from __future__ import annotations

import pickle
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from .catalog import Report
from .columns import COLUMNS_ALL, COLUMNS_DEFAULT, HEADERS_LABELS, default_columns, label_for
from .lazy_pandas import pd
from .spill import Spill
from .table import AS_SENT, BIG_IDS, DATES, IDS, MONEY, Table
from .view import (COORDINATE, NUMBER_TEXT, PlainColumn, as_numbers, candidate_columns, is_empty_column, kept_columns,
                   readable_list, report_and_sub_list)


class PlainBlock(NamedTuple):
    """A block of :meth:`Shown.blocks` read as plain values: its rows and each shown column."""
    rows: int
    columns: list[PlainColumn]


# the family of each column kind of table.py, as plain_blocks() gives it
_FAMILY = {IDS: "int", BIG_IDS: "object", MONEY: "float", DATES: "datetime", AS_SENT: "object"}


class _NotPlain(Exception):
    """A block the table could not give as plain values: the table is read as frames."""


class Shown:
    """A report's table as a sheet shows it (the default view of :func:`view` over a
    :class:`~procore_xl.flatten.Table`), read block by block twice and never held whole:
    :meth:`scan` reads every block once to decide what only all rows can say (which columns
    are empty, which item numbers are all numbers), handing each block's columns to an
    observer on the way; :meth:`blocks` then gives the shown columns block by block, exactly
    the rows of :func:`view`'s frame (blocks of about ``block_rows``). After :meth:`scan`:
    :attr:`columns`, :attr:`header`, :attr:`rows`, :attr:`plain`.

    A table read from pages is read as plain values (``Table.plain_blocks``: lists, no pandas;
    the columns as :class:`PlainColumn`, the blocks as :class:`PlainBlock`) when every block
    can be (values from JSON; dates in the forms Procore sends), else as DataFrames: decided
    by :meth:`scan`, which starts over as frames (``restart()`` first) at a block that cannot."""

    def __init__(self, table: Table, report: str | Report, sub_report: str | None = None, *,
                 headers: str = HEADERS_LABELS, columns: str = COLUMNS_DEFAULT, keep: Iterable[str] = (),
                 block_rows: int = 2_000, plain: bool = True):
        rep, sub = report_and_sub_list(report, sub_report)
        cols = list(table.columns)
        self._table, self._all, self._block_rows = table, columns == COLUMNS_ALL, block_rows
        self._names = {c: (label_for(rep.name, c) if headers == HEADERS_LABELS else c) for c in cols}
        self._keep = kept_columns(self._names, keep, default_columns(rep.name) if sub is None else ())
        self._candidates = cols if self._all else candidate_columns(cols, rep, sub, self._keep)
        self.columns = list(self._candidates)
        self.numbers: set[str] = set()            # item numbers and coordinates shown as numbers
        self.rows = 0
        self._lists = set(table.list_columns())  # columns of nested lists (JSON text)
        kinds = table.plain_kinds() if plain and self._candidates else None
        self.plain = kinds is not None            # read as plain values (until a block cannot be)
        self._families = {c: "object" if c in self._lists else _FAMILY[kinds[c]]
                          for c in self._candidates} if kinds else {}
        self._words = Spill()                     # nested lists as words, made by scan() for blocks()
        self._kept: dict[tuple[str, int, int], tuple[int, int]] = {}

    @property
    def header(self) -> list[str]:
        return [self._names[c] for c in self.columns]

    def scan(self, observe: Callable[[str, bool, Any], None] | None = None,
             restart: Callable[[], None] | None = None) -> None:
        """Read every block: ``observe(column, as_numbers, values)`` gets each candidate
        column's block as shown (nested lists as words; a Series, or a :class:`PlainColumn`
        when :attr:`plain`); a text column that may show as numbers also as numbers
        (``as_numbers`` True), while every block so far converts. ``restart()``: called when
        a plain reading gives way to frames, before the blocks are read again."""
        if self.plain:
            try:
                self._scan(observe, self._plain_blocks(self._candidates))
                return
            except _NotPlain:
                self.plain = False
                self._kept.clear()
                if restart is not None:
                    restart()
        self._scan(observe, self._frame_blocks(self._candidates))

    def _scan(self, observe: Callable[[str, bool, Any], None] | None,
              blocks: Iterator[tuple[int, dict[str, Any]]]) -> None:
        filled: set[str] = set()
        numbers = {c: True for c in self._candidates if NUMBER_TEXT.search(c)}
        rows = 0
        for number, (count, block) in enumerate(blocks):
            rows += count
            for c in self._candidates:
                s = block[c]
                if c not in filled and not is_empty_column(s):
                    filled.add(c)
                s = self._shown(c, s, number, keep=True)
                if observe is not None:
                    observe(c, False, s)
                if numbers.get(c) and _is_object(s):
                    n = as_numbers(s, whole=not COORDINATE.search(c))
                    numbers[c] = n is not s
                    if numbers[c] and observe is not None:
                        observe(c, True, n)
                elif c in numbers:
                    numbers[c] = False
            del block
        self.rows = rows
        if not self._all and rows:
            self.columns = [c for c in self._candidates if c in self._keep or c in filled]
        self.numbers = {c for c, ok in numbers.items() if ok}

    def _plain_blocks(self, columns: list[str]) -> Iterator[tuple[int, dict[str, PlainColumn]]]:
        """(rows, {column: PlainColumn}) of each block; :class:`_NotPlain` at a block that is a frame."""
        for block in self._table.plain_blocks(self._block_rows, columns=columns):
            if not isinstance(block, list):
                raise _NotPlain
            yield len(block[0]), {c: PlainColumn(self._families[c], v) for c, v in zip(columns, block)}

    def _frame_blocks(self, columns: list[str]) -> Iterator[tuple[int, Any]]:
        for block in self._table.blocks(self._block_rows, columns=columns or None):
            yield len(block), block

    def blocks(self) -> Iterator[pd.DataFrame | PlainBlock]:
        """The shown columns, block by block (after :meth:`scan`): DataFrames, or
        :class:`PlainBlock` when :attr:`plain` (a table read whole since, ``Table.frame()``:
        its frame, whose columns the same plans convert)."""
        if not self.plain:
            for number, block in enumerate(self._table.blocks(self._block_rows, columns=self.columns or None)):
                yield self._frame_block(block, number)
            return
        read = self.columns or self._candidates[:1]            # no column shown: the rows still count
        for number, block in enumerate(self._table.plain_blocks(self._block_rows, columns=read)):
            if not isinstance(block, list):
                yield self._frame_block(block, number)
                continue
            values = dict(zip(read, block))
            yield PlainBlock(len(block[0]), [self._numbers(c, self._shown(c, PlainColumn(self._families[c], values[c]),
                                                                          number)) for c in self.columns])

    def _frame_block(self, block: pd.DataFrame, number: int) -> pd.DataFrame:
        data = {c: self._numbers(c, self._shown(c, block[c], number)) for c in self.columns}
        return pd.DataFrame(data, columns=self.columns, index=block.index, copy=False)

    def _numbers(self, column: str, s: Any) -> Any:
        return as_numbers(s, whole=not COORDINATE.search(column)) if column in self.numbers else s

    def _shown(self, column: str, s: Any, number: int, keep: bool = False) -> Any:
        """Block ``number``'s column (a Series or a PlainColumn) as shown: a nested list as
        words, made once (``keep``: pickled in a Spill, on disk once large, for :meth:`blocks`
        to read back instead of parsing the JSON again; the same block number of the same
        length, else made again)."""
        if column not in self._lists:
            return s
        values = s.values if isinstance(s, PlainColumn) else s.tolist()
        key = (column, number, len(values))
        handle = self._kept.get(key)
        if handle is not None:
            words = pickle.loads(self._words.get(handle))
        else:
            words = [readable_list(column, v) for v in values]
            if keep:
                try:
                    self._kept[key] = self._words.put(pickle.dumps(words, pickle.HIGHEST_PROTOCOL))
                except (pickle.PicklingError, TypeError, AttributeError):    # a value only a frame held
                    pass
        if isinstance(s, PlainColumn):
            return PlainColumn("object", words)
        return pd.Series(words, index=s.index, dtype=object)


def _is_object(s: Any) -> bool:
    """Values held one by one: an object Series, or plain values as sent."""
    return s.family == "object" if isinstance(s, PlainColumn) else s.dtype == object


__all__ = ["Shown", "PlainBlock"]
