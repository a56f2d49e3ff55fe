"""Write a report result to a file (or stdout): CSV, Excel workbook or JSON.

- CSV: UTF-8, RFC 4180 (CRLF line ends; a text holding a line break or a carriage return is
  quoted), a header row, one row per record (dates in ISO form), written in blocks. Text and
  headers starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) get a leading
  apostrophe, so a spreadsheet opening the file shows them as text instead of running them as
  formulas (``raw_csv=True`` writes them unchanged). On stdout when it is a terminal, control
  characters in text (ESC, BEL, a carriage return, bidi overrides...) are shown escaped as the
  rest of the CLI shows them (``errors.printable``); to a pipe or a file the text stays exact.
- .xlsx: a real workbook, the report on a sheet named after it as an Excel Table (the same
  report-sheet writer the add-in uses).
- JSON: the raw records as Procore returned them, streamed into the file as they arrive.

Text that UTF-8 cannot hold (a lone surrogate such as ``"\\ud800"``, which JSON can carry) is
written as U+FFFD and counted in the run's warnings.
"""
from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from itertools import compress
from pathlib import Path
from typing import Any

from .columns import COLUMNS_ALL, HEADERS_FIELDS, HEADERS_LABELS
from .errors import ConfigurationError, is_terminal, printable
from .files import check_folder, replacing
from .flatten import Table
from .lazy_pandas import frames_not_needed, pd
from .parameters import VIEW_PARAMS
from .runner import ReportResult, collector_paused, drop_records
from .text import encodable
from .view import empty_frame, report_view

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json"}


def output_format(target: str) -> str:
    """The format for an --out target (by extension; '-' is CSV on stdout), checked before any
    request is made: a known extension, an existing folder."""
    if target == "-":
        return "csv"
    fmt = FORMATS.get(Path(target).suffix.lower())
    if fmt is None:
        raise ConfigurationError(
            f'Cannot write "{target}": use a file name ending in .csv, .xlsx or .json, or - for stdout')
    check_folder(target)
    return fmt


def write_result(result: ReportResult, target: str, params: dict | None = None, *,
                 raw_csv: bool = False) -> None:
    """Write ``result`` to ``target`` (a path or '-'), atomically for files. ``params`` (as the
    user gave them) go on the report sheet of an .xlsx, so `procore-xl refresh` can rerun it."""
    with report_output(target, params, raw_csv=raw_csv) as out:
        out.records(result.records)
        out.write(result)


class ReportOutput:
    """One report's output, opened before the run. :attr:`records` takes the raw records batch
    by batch as they arrive (pass it to ``service.run(..., on_records=out.records)``): JSON writes
    them to its file at once, the other formats let them go, so they are never all held;
    :meth:`write` writes the rest when the run is done."""

    def __init__(self, fmt: str, target: str, tmp: Path | None, params: dict | None, raw_csv: bool):
        self.fmt, self.target, self.tmp, self.params, self.raw_csv = fmt, target, tmp, params, raw_csv
        self._json: _JsonRecords | None = _JsonRecords(tmp) if fmt == "json" and tmp is not None else None
        # only JSON writes the raw records; every other format needs the table alone
        self.records: Callable[[list[dict]], None] = self._json.add if self._json else drop_records

    def write(self, result: ReportResult) -> None:
        """Write ``result`` (its table; for JSON the records that went to :attr:`records`). Text
        that UTF-8 cannot hold (a lone surrogate, which JSON can carry) is written as U+FFFD and
        counted in ``result.warnings``."""
        if self.fmt == "xlsx":
            # the add-in's report-sheet writer, which imports nothing of output (one way: output -> excel);
            # imported when a workbook is written so that a CSV or JSON pull loads no openpyxl or numpy
            from .excel.results import write_workbook
            write_workbook(self.target, [(self.params or {}, result)])
            return
        table = csv_table(result) if self._json is None else None
        if self._json is not None:
            replaced = self._json.close()
        elif self.tmp is None:                       # '-': CSV on stdout, as UTF-8 bytes when it can
            sys.stdout.flush()
            raw_out = getattr(sys.stdout, "buffer", None)
            write = (lambda text: raw_out.write(text.encode("utf-8"))) if raw_out is not None else sys.stdout.write
            replaced = write_csv(table, write, raw=self.raw_csv, shown=is_terminal(sys.stdout))
            (raw_out or sys.stdout).flush()
        else:
            with open(self.tmp, "wb") as fh:
                replaced = write_csv(table, lambda text: fh.write(text.encode("utf-8")), raw=self.raw_csv)
        if replaced:
            result.warnings.append(f"{replaced} character(s) that UTF-8 cannot hold (lone surrogates in "
                                   f"Procore's text) written as U+FFFD, the replacement character")


def csv_table(result: ReportResult) -> Table | pd.DataFrame:
    """What a CSV holds: every column under its field name (lists as compact JSON), streamed;
    with ``headers``/``columns`` among the run's parameters, the report as :func:`view.view`
    shows it (labels and lists as words with ``labels``; ``default`` columns). No rows and no
    columns (Procore sent no record): the header of :func:`view.empty_frame` when the report's
    columns are known without records, so the file still has its header row."""
    empty = empty_frame(result, headers=str(result.params.get("headers") or HEADERS_FIELDS).strip().lower())
    if empty is not None:
        return empty
    if not any(k in result.params for k in VIEW_PARAMS):
        return result.table
    shown = report_view(result, headers=HEADERS_FIELDS, columns=COLUMNS_ALL,
                        readable_lists=result.params.get("headers") == HEADERS_LABELS)
    return shown.labelled()


def _view_options(params: dict | None) -> list[str]:
    return [k for k in VIEW_PARAMS if (params or {}).get(k) not in (None, "")]


def check_output_options(target: str, params: dict | None = None, *, raw_csv: bool = False) -> str:
    """The format for ``target`` (:func:`output_format`), with the options that do not apply to
    it refused in one line, before any sign-in or request: the display options (headers,
    columns) for JSON, which holds Procore's records as sent; ``raw_csv`` for anything but CSV."""
    fmt = output_format(target)
    given = _view_options(params)
    if fmt == "json" and given:
        raise ConfigurationError(f"JSON output holds Procore's records as sent: --{given[0]} applies to "
                                 f".csv and .xlsx only")
    if raw_csv and fmt != "csv":
        raise ConfigurationError(f"--raw-csv applies to CSV output only (.csv or -), not .{fmt}: "
                                 f"{'a workbook stores text as text' if fmt == 'xlsx' else 'JSON holds the text as sent'}")
    return fmt


@contextmanager
def report_output(target: str, params: dict | None = None, *, raw_csv: bool = False) -> Iterator[ReportOutput]:
    """A :class:`ReportOutput` for ``target`` (a path or '-'). A file takes its place only when
    the block ends without an error (``replacing``): a failed run leaves the old file as it was.
    JSON holds Procore's records as sent: the display options (headers, columns) are refused.
    A CSV without display options, JSON, or a workbook (its sheet written from the table's plain
    values, ``shown.Shown``) needs no DataFrame: a run inside the block does not import pandas
    ahead (``lazy_pandas.frames_not_needed``)."""
    fmt = check_output_options(target, params, raw_csv=raw_csv)
    given = _view_options(params)
    with frames_not_needed() if fmt == "xlsx" or (fmt in ("csv", "json") and not given) else nullcontext():
        if target == "-" or fmt == "xlsx":         # stdout; a workbook is written whole by write()
            yield ReportOutput(fmt, target, None, params, raw_csv)
            return
        with _replaced(fmt, target, params, raw_csv) as out:
            yield out


@contextmanager
def _replaced(fmt: str, target: str, params: dict | None, raw_csv: bool) -> Iterator[ReportOutput]:
    with replacing(Path(target)) as tmp:
        out = ReportOutput(fmt, target, tmp, params, raw_csv)
        try:
            yield out
        finally:
            if out._json is not None:
                out._json.abort()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_BLOCK_ROWS = 2_000      # rows converted to CSV text at a time: memory of one block, not the report


def _text_only(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _guard_text(values: pd.Series) -> pd.Series:
    """An apostrophe before text starting like a formula. One pass in plain Python, and no copy
    when there is none (most columns): at a block's size that is several times quicker than
    pandas' ``str.startswith``."""
    items = values.tolist()
    risky = [i for i, v in enumerate(items) if type(v) is str and v.startswith(FORMULA_START)]
    if not risky:
        return values
    for i in risky:
        items[i] = "'" + items[i]
    return pd.Series(items, index=values.index, dtype=values.dtype)


@collector_paused()
def write_csv(table: Table | pd.DataFrame, write: Callable[[str], Any], *, raw: bool = False,
              block_rows: int = CSV_BLOCK_ROWS, shown: bool = False) -> int:
    """``table`` as CSV text, block by block, through ``write`` (a report's table is read a page
    at a time, never whole): UTF-8 text, RFC 4180 (CRLF line ends, so a carriage return inside
    a text is quoted like a line feed), date-only columns as ``YYYY-MM-DD``, timestamps as
    ``YYYY-MM-DDTHH:MM:SS``. Unless ``raw``, text and headers starting like a formula get an
    apostrophe. With ``shown`` (stdout is a terminal) control characters in text are escaped
    (:func:`errors.printable`): only the CSV's own line ends stay raw. Returns how many lone
    surrogates became U+FFFD.

    Each block's text is exactly what pandas' ``to_csv`` writes for it (:func:`_block_csv_pandas`,
    still used for a block holding a kind of value the quick path does not know), made by
    Python's ``csv`` writer from the columns' values: pandas' per-block formatting cost more
    than the rest of writing the file."""
    if not isinstance(table, Table):               # a DataFrame (not asked of pandas: a pull's CSV needs none)
        table = Table.of(table)
    moments, date_only, texts = table.moments(), table.dates_only(), table.texts()
    header = [str(c) for c in table.columns]
    if not raw:
        header = [_text_only(c) for c in header]
    if shown:
        header = _shown(header)
    kinds = _Kinds(moments, date_only, texts, raw, shown)
    replaced = 0
    first = True
    for batch in table.plain_blocks(block_rows) if table.columns else table.blocks(block_rows):
        if isinstance(batch, list):                # the columns' plain values: no DataFrame
            text, n = _plain_csv(batch, table.columns, header if first else None, kinds)
            first = False
            replaced += n
            write(text)
            continue
        for start in range(0, max(len(batch), first), block_rows):   # an empty first: the header
            block = batch.iloc[start:start + block_rows]
            text = _block_csv(block, header if first else None, kinds)
            if text is None:
                text = _block_csv_pandas(block, header if first else None, kinds)
            first = False
            text, n = encodable(text)
            replaced += n
            write(text)
    if first:                                      # a table of no blocks: the header alone
        buf = io.StringIO()
        pd.DataFrame(columns=header).to_csv(buf, index=False, lineterminator="\r\n")
        write(buf.getvalue())
    return replaced


class _Kinds:
    """What :func:`write_csv` formats specially: the datetime columns (dates alone or with the
    time) and, unless ``raw``, the text columns to guard against formulas."""

    def __init__(self, moments: list[str], date_only: set[str], texts: list[str], raw: bool, shown: bool = False):
        self.moments, self.date_only, self.texts, self.raw = set(moments), date_only, set(texts), raw
        self.shown = shown          # for a terminal: control characters in text escaped


def _shown(values: list) -> list:
    """``values`` with each text's control characters escaped (:func:`errors.printable`), for a terminal."""
    return [printable(v) if type(v) is str else v for v in values]


def _block_csv_pandas(block: pd.DataFrame, header: list[str] | None, kinds: _Kinds) -> str:
    """One block's CSV text through pandas' ``to_csv`` (the reference :func:`_block_csv` matches)."""
    if kinds.moments or (kinds.texts and not kinds.raw) or kinds.shown:
        block = block.copy()
        for c in kinds.moments:  # formatted here: to_csv's date_format would scan every text column
            block[c] = block[c].dt.strftime("%Y-%m-%d" if c in kinds.date_only else "%Y-%m-%dT%H:%M:%S")
        if not kinds.raw:
            for c in kinds.texts:
                block[c] = _guard_text(block[c])
        if kinds.shown:
            for c in block.columns:
                if block[c].dtype.kind not in "biufcmM":
                    block[c] = pd.Series(_shown(block[c].tolist()), index=block.index, dtype=object)
    buf = io.StringIO()
    block.to_csv(buf, index=False, header=header if header is not None else False, lineterminator="\r\n")
    return buf.getvalue()


_CSV_FORMATS = frozenset({str, int, float, bool, type(None)})   # written by csv as pandas writes them


def _block_csv(block: pd.DataFrame, header: list[str] | None, kinds: _Kinds) -> str | None:
    """One block's CSV text, the same as :func:`_block_csv_pandas` gives, or None when the block
    holds something this does not format (then pandas does): every column's values as Python
    objects that the ``csv`` writer turns into pandas' text (missing -> empty, floats by
    ``repr`` as numpy's ``str``, datetimes by ``numpy.datetime_as_string``)."""
    names = list(block.columns)
    if not names or len(set(names)) != len(names):
        return None
    columns = []
    for name in names:
        values = _csv_values(block[name], name, kinds)
        if values is None:
            return None
        columns.append(_shown(values) if kinds.shown else values)
    return _csv_text(columns, header)


def _plain_csv(columns: list[list], names: list[str], header: list[str] | None, kinds: _Kinds) -> tuple[str, int]:
    """One block's CSV text from its columns' plain values (``Table.plain_blocks``): what
    :func:`_block_csv` writes for the same block as a DataFrame, through :func:`encodable`; and
    how many lone surrogates became U+FFFD. Only text can hold one: looked for column by column
    (and in the header), not in the whole block's text, which most often has one somewhere."""
    replaced = 0
    cells = []
    for values, name in zip(columns, names):
        values = _guarded(values, name, kinds)
        values, n = _encodable_column(_shown(values) if kinds.shown else values)
        replaced += n
        cells.append(values)
    if header is not None:
        header, n = _encodable_column(header)
        replaced += n
    return _csv_text(cells, header), replaced


def _encodable_column(values: list) -> tuple[list, int]:
    """``values`` with :func:`encodable` applied to each text, when some text holds a lone
    surrogate (looked for in the texts joined: most columns hold none and are used as they are)."""
    types = set(map(type, values))
    if str not in types:
        return values, 0
    joined = "".join(values if types == _TEXT else compress(values, map(_is_text, map(type, values))))
    if joined.isascii():
        return values, 0
    try:
        joined.encode("utf-8")
        return values, 0
    except UnicodeEncodeError:
        pass
    out, replaced = [], 0
    for v in values:
        if type(v) is str:
            v, n = encodable(v)
            replaced += n
        out.append(v)
    return out, replaced


def _csv_text(columns: list[list], header: list[str] | None) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if header is not None:
        writer.writerow(header)
    if len(columns) == 1:                   # csv quotes a row of one empty field: its writer decides
        writer.writerows(zip(*columns))
        return buf.getvalue()
    return csv_rows(columns, buf.getvalue())


_QUOTE_CHARS = (",", '"', "\r", "\n")       # what makes csv quote a field (excel dialect, QUOTE_MINIMAL)
_QUOTE_IF = re.compile('[,"\r\n]').search
_NONE_EMPTY = {None: ""}
_NUMBERS = frozenset({int, float, bool, type(None)})


def csv_rows(columns: list[list], head: str = "") -> str:
    """The rows of ``columns`` (two or more, of ``str``, ``int``, ``float``, ``bool`` or None) as
    ``csv.writer(lineterminator="\r\n").writerows`` writes them, a column at a time: each column's
    cells made by C loops (``str``, ``repr`` for floats as csv does, nothing for None), quoted only
    in a column whose joined text holds a comma, a quote or a line break, then the lines joined
    (after ``head``, text ending in a line break: a block's text is made once, not copied)."""
    cells = []
    for values in columns:
        types = set(map(type, values))
        if types == _TEXT:
            column = values
        elif types == {int}:
            column = list(map(str, values))
        else:           # str(float) is repr(float), as csv writes it; None: nothing
            column = list(map(str, map(_NONE_EMPTY.get, values, values)))
        if not types <= _NUMBERS and _any_of(_QUOTE_CHARS, "".join(column)):
            column = [_quoted(v) if _QUOTE_IF(v) else v for v in column]
        cells.append(column)
    lines = list(map(",".join, zip(*cells)))
    del cells                                   # the cells made here, freed before the text is
    if not lines:
        return head
    if head:
        lines.insert(0, head[:-2])              # its own line break is the join's
    lines.append("")                            # the last line's break
    return "\r\n".join(lines)


def _any_of(chars: tuple[str, ...], text: str) -> bool:
    return any(c in text for c in chars)        # one quick scan per character: quicker than a regex class


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


_TEXT = {str}
_FORMULA_AFTER_LF = re.compile("\n[" + re.escape("".join(FORMULA_START)) + "]").search
_is_text = _TEXT.__contains__


def _any_formula(values: list, types: set) -> bool:
    """Whether any text among ``values`` may start like a formula (looked for in the texts joined
    by line feeds, by C: most columns have none, and then the column is used as it is; a text
    holding a line feed and then ``=`` may give a yes that the caller's own test corrects)."""
    texts = values if types == _TEXT else compress(values, map(_is_text, map(type, values)))
    return _FORMULA_AFTER_LF("\n" + "\n".join(texts)) is not None


def _guarded(values: list, name: str, kinds: _Kinds, types: set | None = None) -> list:
    """A text column's values with an apostrophe before text starting like a formula (unless raw)."""
    if name not in kinds.texts or kinds.raw:
        return values
    types = set(map(type, values)) if types is None else types
    if str in types and _any_formula(values, types):
        values = ["'" + v if type(v) is str and v.startswith(FORMULA_START) else v for v in values]
    return values


def _csv_values(series: pd.Series, name: str, kinds: _Kinds) -> list | None:
    dtype = series.dtype
    if name in kinds.moments:
        if dtype.kind != "M" or getattr(dtype, "tz", None) is not None:
            return None
        import numpy
        text = numpy.datetime_as_string(series.to_numpy(), unit="D" if name in kinds.date_only else "s").tolist()
        return [None if t == "NaT" else t for t in text]
    if dtype == object:
        values = series.tolist()
        types = set(map(type, values))
        if not types <= _CSV_FORMATS:       # pd.NA, NaT, Decimal, numpy scalars...: pandas knows
            return None
        if float in types:                  # NaN (a field a record lacks) is written empty; a number
            values = [None if type(v) is float and v != v else v for v in values]   # by repr, as pandas
        return _guarded(values, name, kinds, types)
    if dtype == "Int64" or dtype == "int64":
        return series.to_numpy(dtype=object, na_value=None).tolist() if dtype == "Int64" else series.tolist()
    if dtype == "float64":
        return [None if v != v else v for v in series.tolist()]
    return None


class _JsonRecords:
    """The records as one JSON array (the layout of ``json.dumps(records, indent=1)``), written
    to ``path`` record by record as batches arrive."""

    def __init__(self, path: Path):
        self._fh = open(path, "wb")
        self._count = 0
        self.replaced = 0

    def add(self, records: list[dict]) -> None:
        if not records:
            return
        parts = []
        for rec in records:
            one = json.dumps(rec, ensure_ascii=False, indent=1, default=str)
            parts.append((",\n " if self._count else "[\n ") + one.replace("\n", "\n "))
            self._count += 1
        text, n = encodable("".join(parts))
        self.replaced += n
        self._fh.write(text.encode("utf-8"))

    def close(self) -> int:
        self._fh.write(b"\n]\n" if self._count else b"[]\n")
        self._fh.close()
        return self.replaced

    def abort(self) -> None:
        self._fh.close()
