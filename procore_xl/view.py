"""A report's table as a person reads it: which columns, in what order, under which names, and
nested lists as words instead of JSON.

``view(frame, report, sub_report, headers=, columns=)`` -> :class:`View` (the frame with the
chosen columns, nested lists as readable text, and the header a sheet shows). The data
(labels, default column sets, how list elements read) is ``columns.py``; report sheets and
``=PROCORE_REPORT`` use labels and the default columns, CSV keeps field names and every column
unless asked (``--headers labels``, ``--columns default``).

Default columns: the leading columns (``project.*`` of an all-projects run, the parent record's
keys), the report's default set from ``columns.DEFAULT_COLUMNS`` in Procore's log order (a
report without one: its identity columns, its order hints, then the rest), then custom fields;
a column empty in every row is left out. ``keep``: names an existing table already shows; they
stay even when empty now or outside the set, so a refresh never takes away a column a formula
names. ``all``: every column, empty ones too, as the record has them.
"""
from __future__ import annotations

import functools
import json
import re
import string
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from .catalog import Report, find_report
from .columns import (COLUMNS_ALL, COLUMNS_DEFAULT, HEADERS_FIELDS, HEADERS_LABELS, ITEM_TEXT,
                      default_column_rows, default_columns, is_field_path, label_for)
from .flatten import LIST_COLUMNS, Table, singular
from .table import is_blank, is_missing
from .lazy_pandas import pd

_ITEM_KEYS = ("name", "full_name", "label", "title", "subject", "body", "plain_text_body",
              "description", "filename", "login", "email_address", "value", "number", "id")
_NESTED = ("user", "person", "vendor", "company", "contact", "login_information")
SEPARATOR = "; "


@dataclass
class View:
    frame: pd.DataFrame       # the chosen columns (field names), lists as readable text
    header: list[str]         # what the table's header row shows (labels or field names)

    def labelled(self) -> pd.DataFrame:
        """The frame under its header names (made unique ignoring case: "Status (2)")."""
        return self.frame.set_axis(unique(self.header), axis=1)


def unique(names: Sequence[str]) -> list[str]:
    """``names`` with a later repeat (ignoring case) as "<name> (2)", "(3)"..."""
    seen: set[str] = set()
    out = []
    for name in names:
        free, n = name, 2
        while free.casefold() in seen:
            free, n = f"{name} ({n})", n + 1
        seen.add(free.casefold())
        out.append(free)
    return out


def report_and_sub_list(report: str | Report, sub_report: str | None) -> tuple[Report, Any]:
    """The report and the sub list a view shows: ``sub_report`` by name, ``"none"`` for the
    report's own rows, blank for the report's default sub list (if it has one)."""
    rep = find_report(report) if not isinstance(report, Report) else report
    sub = rep.sub_list(sub_report) if sub_report and sub_report != "none" else None
    if sub is None and rep.default_sub_report and sub_report in (None, ""):
        sub = rep.sub_list(rep.default_sub_report)
    return rep, sub


def view(frame: pd.DataFrame | Table, report: str | Report, sub_report: str | None = None, *,
         headers: str = HEADERS_LABELS, columns: str = COLUMNS_DEFAULT,
         keep: Iterable[str] = (), readable_lists: bool = True) -> View:
    """The frame as a sheet shows it (see the module doc). ``headers``: labels or fields;
    ``columns``: default or all; ``keep``: header names an existing table has (case-insensitive).
    A :class:`~procore_xl.flatten.Table` is read block by block (:func:`_view_table`): the same
    view, without the whole report's frame ever being held."""
    rep, sub = report_and_sub_list(report, sub_report)
    if isinstance(frame, Table):
        return _view_table(frame, rep, sub, headers=headers, columns=columns, keep=keep,
                           readable_lists=readable_lists)
    names = {c: (label_for(rep.name, c) if headers == HEADERS_LABELS else c) for c in frame.columns}
    keep_cols = kept_columns(names, keep, default_columns(rep.name) if sub is None else ())
    chosen = list(frame.columns) if columns == COLUMNS_ALL else \
        _default(frame, rep, sub, keep_cols)
    lists = set(frame.attrs.get(LIST_COLUMNS, ()))
    out = frame.loc[:, chosen] if chosen != list(frame.columns) else frame
    if readable_lists and lists & set(chosen):
        out = out.copy()
        for c in chosen:
            if c in lists:
                out[c] = pd.Series([readable_list(c, v) for v in out[c].tolist()], index=out.index,
                                   dtype=object)      # object: pandas' string dtype refuses lone surrogates
    numbers = [c for c in chosen if NUMBER_TEXT.search(c) and out[c].dtype == object]
    if numbers:
        out = out.copy() if out is frame else out
        for c in numbers:
            out[c] = as_numbers(out[c], whole=not COORDINATE.search(c))
    out.attrs = {k: v for k, v in frame.attrs.items() if k != LIST_COLUMNS}
    if not readable_lists:
        out.attrs[LIST_COLUMNS] = sorted(lists & set(chosen))
    return View(out, [names[c] for c in chosen])


def _view_table(table: Table, rep: Report, sub, *, headers: str, columns: str, keep: Iterable[str],
                readable_lists: bool) -> View:
    """:func:`view` of a table read block by block: only the columns the view may show are kept
    from each block (nested lists already as words), then joined column by column; a column is
    empty when it is in every block (judged on the values as sent, as :func:`view` does), and
    item numbers become numbers over the whole column. Memory: the shown columns once, not the
    report's whole frame and a copy of it."""
    cols = list(table.columns)
    names = {c: (label_for(rep.name, c) if headers == HEADERS_LABELS else c) for c in cols}
    keep_cols = kept_columns(names, keep, default_columns(rep.name) if sub is None else ())
    chosen = cols if columns == COLUMNS_ALL else candidate_columns(cols, rep, sub, keep_cols)
    pieces: dict[str, list[pd.Series]] = {c: [] for c in chosen}
    filled: set[str] = set()
    lists: set[str] = set()
    attrs: dict[str, Any] = {}
    rows = blocks = 0
    for block in table.blocks(columns=chosen or None):       # only these columns typed
        blocks += 1
        lists.update(block.attrs.get(LIST_COLUMNS, ()))
        attrs.update({k: v for k, v in block.attrs.items() if k != LIST_COLUMNS})
        rows += len(block)
        for c in chosen:
            s = block[c]
            if c not in filled and not is_empty_column(s):
                filled.add(c)
            if readable_lists and c in lists:
                s = pd.Series([readable_list(c, v) for v in s.tolist()], index=s.index, dtype=object)
            pieces[c].append(s)
        del block
    if columns != COLUMNS_ALL and rows:
        chosen = [c for c in chosen if c in keep_cols or c in filled]
    data = {}
    for c in chosen:
        parts = pieces.pop(c)
        data[c] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
        del parts
    pieces.clear()
    out = pd.DataFrame(data, columns=chosen, index=pd.RangeIndex(rows), copy=False) if blocks else \
        pd.DataFrame(columns=chosen)
    del data
    for c in chosen:
        if NUMBER_TEXT.search(c) and out[c].dtype == object:
            out[c] = as_numbers(out[c], whole=not COORDINATE.search(c))
    out.attrs = attrs
    if not readable_lists:
        out.attrs[LIST_COLUMNS] = sorted(lists & set(chosen))
    return View(out, [names[c] for c in chosen])


class PlainColumn(NamedTuple):
    """A block of a column as plain Python values (no pandas), ``family`` saying what the typed
    Series they stand for holds (see :mod:`procore_xl.excel.plans`): ``int`` (ints, None),
    ``float`` (floats, None), ``datetime`` (ISO text, None) or ``object`` (values as sent)."""
    family: str
    values: list[Any]


# text columns a person reads as numbers: item numbers ("12") and coordinates ("37.712791")
COORDINATE = re.compile(r"(^|\.|_)(latitude|longitude|gps_lat|gps_long)$")
NUMBER_TEXT = re.compile(r"((^|\.)number|(^|\.|_)(latitude|longitude|gps_lat|gps_long))$")
_WHOLE = re.compile(r"0|-?[1-9][0-9]{0,14}")        # no leading zeros ("007" stays text), exact in a double
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")


def as_numbers(s: Any, *, whole: bool) -> Any:
    """A text column (a Series or a :class:`PlainColumn`) as numbers when every value is one
    (:func:`numbers_of`); else the column as it is (the same object: all or nothing, as
    flatten types columns)."""
    plain = isinstance(s, PlainColumn)
    numbers = numbers_of(s.values if plain else s.tolist(), whole=whole)
    if numbers is None:
        return s
    if plain:
        return PlainColumn("int" if whole else "float", numbers)
    if whole:
        return pd.Series(pd.array(numbers, dtype="Int64"), index=s.index)
    return pd.Series(numbers, index=s.index, dtype=float)


def numbers_of(values: list[Any], *, whole: bool) -> list[Any] | None:
    """Text values as numbers (ints, or floats; gaps None) when every value is one (whole
    numbers without leading zeros, or plain decimals of at most 15 digits); else None."""
    pattern = _WHOLE if whole else _DECIMAL
    for v in values:
        if v is None or (isinstance(v, float) and v != v):
            continue
        if isinstance(v, bool) or not isinstance(v, (str, int, float)) or (
                whole and isinstance(v, float) and not v.is_integer()):
            return None
        if isinstance(v, str) and not (pattern.fullmatch(v.strip())
                                       and len(v.strip().lstrip("-").replace(".", "")) <= 15):
            return None
    if whole:
        return [None if v is None or v != v else int(v) for v in values]
    return [None if v is None or v != v else float(v) for v in values]


def lead_prefixes(rep: Report, sub_report: str | None) -> list[str]:
    """The prefixes of the columns the runner puts first (project, parents, sub-list levels)."""
    lead = ["project."] + [f"{e.prefix}." for e in rep.each]
    sub = rep.sub_list(sub_report) if sub_report else None
    if sub is not None:
        lead += [f"{rep.entity}."] + [f"{singular(p)}." for p in sub.path.split(".")[:-1] if sub.path]
    return lead


def kept_columns(names: Mapping[str, str], keep: Iterable[str], own: Sequence[str]) -> set[str]:
    """One column per header name an existing table shows: the report's default column of that
    name if there is one, else the first of that name (two fields may share a label, e.g.
    ``ball_in_courts`` and ``ball_in_court.name``: the table showed one of them, never both)."""
    kept = {k.casefold() for k in keep if k}
    rank = {c: i for i, c in enumerate(own)}
    chosen: dict[str, str] = {}
    for column in sorted(names, key=lambda c: rank.get(c, len(rank))):
        name = names[column].casefold()
        if name in kept and name not in chosen:
            chosen[name] = column
    return set(chosen.values())


def _default(frame: pd.DataFrame, rep: Report, sub, keep: set[str]) -> list[str]:
    chosen = candidate_columns(list(frame.columns), rep, sub, keep)
    if not len(frame):          # no rows: nothing says a column is empty; the header stays
        return chosen
    return [c for c in chosen if c in keep or not is_empty_column(frame[c])]


def candidate_columns(cols: list[str], rep: Report, sub, keep: set[str]) -> list[str]:
    """The default columns in order, before those empty in every row are left out."""
    present = set(cols)
    lead = [c for c in cols if any(c.startswith(p) for p in lead_prefixes(rep, sub.name if sub else None))]
    own = default_columns(rep.name) if sub is None else ()
    if own:
        body = [c for c in own if c in present and c not in lead]
        custom = [c for c in cols if not is_field_path(c) and c not in lead]
        chosen = lead + body + [c for c in custom if c not in body]
        chosen += [c for c in cols if c in keep and c not in chosen]
    else:
        chosen = cols
    return chosen


def is_empty_column(s: Any) -> bool:
    """Nothing in the column (a Series or a :class:`PlainColumn`) but gaps and blank text."""
    if isinstance(s, PlainColumn):
        return empty_values(s.values)
    if s.dtype == object:
        return empty_values(s.tolist())
    return bool(s.isna().all())


def empty_values(values: Iterable[Any]) -> bool:
    """Every value a gap (None, NaN, NA) or blank text."""
    return all(is_missing(v) or is_blank(v) for v in values)


def readable_list(column: str, value: Any) -> Any:
    """A nested list's compact JSON (as flatten wrote it) as words: "Ana Ruiz; Li Chen",
    "Q1: ...; Q2: ..."; anything that is not such a list stays as it is."""
    if not isinstance(value, str) or not value.startswith("["):
        return value
    try:
        items = json.loads(value)
    except ValueError:
        return value
    if not isinstance(items, list):
        return value
    field = column.rsplit(".", 1)[-1]
    texts = [item_text(field, x, n) for n, x in enumerate(items, start=1)]
    return SEPARATOR.join(t for t in texts if t) or None


def item_text(field: str, item: Any, n: int = 1) -> str:
    """One element of the nested list ``field`` as words: its template from
    ``columns.ITEM_TEXT``, else its name (label, title, body... or a person's name inside it)."""
    if item is None:
        return ""
    if not _is_map(item):
        return item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) \
            if isinstance(item, list) else str(item)
    for template in ITEM_TEXT.get(field, ()):
        text = _fill(template, item, n)
        if text is not None:
            return text
    for source in (item, *(item.get(k) for k in _NESTED)):
        if _is_map(source):
            for key in _ITEM_KEYS:
                v = source.get(key)
                if v not in (None, "") and not _is_nested(v):
                    return str(v)
    return ", ".join(f"{k}: {v}" for k, v in item.items()
                     if v not in (None, "", [], {}) and not _is_nested(v))


_PLAIN = frozenset({str, int, float, bool, type(None)})      # what JSON holds besides objects and lists


def _is_map(v: Any) -> bool:
    """isinstance(v, Mapping), quick for what JSON holds (every item of every row goes through it)."""
    t = type(v)
    return t is dict or (t not in _PLAIN and t is not list and isinstance(v, Mapping))


def _is_nested(v: Any) -> bool:
    """isinstance(v, (Mapping, list)), as quick."""
    t = type(v)
    return t is dict or t is list or (t not in _PLAIN and isinstance(v, (Mapping, list)))


@functools.lru_cache(maxsize=None)
def _template(template: str) -> tuple[tuple[str, str | None, tuple[str, ...]], ...]:
    """A template's (literal text, field name, the name's dotted parts), parsed once."""
    return tuple((text, name, tuple(name.split(".")) if name is not None else ())
                 for text, name, _, _ in string.Formatter().parse(template))


def _fill(template: str, item: Mapping[str, Any], n: int) -> str | None:
    """``template`` with ``{n}`` and ``{dotted.path}`` filled; None when a path is missing."""
    out = []
    for text, name, parts in _template(template):
        out.append(text)
        if name is None:
            continue
        if name == "n":
            out.append(str(n))
            continue
        v: Any = item
        for part in parts:
            v = v.get(part) if _is_map(v) else None
        if v in (None, "") or _is_nested(v):
            return None
        out.append(str(v))
    return "".join(out)


def options(params: Mapping[str, Any], *, headers: str, columns: str) -> tuple[str, str]:
    """(headers, columns) from run parameters, with the given defaults for what is not set."""
    h = str(params.get("headers") or headers).strip().lower()
    c = str(params.get("columns") or columns).strip().lower()
    return h, c


def empty_header(report: str | Report, sub_report: str | None = None, *, headers: str = HEADERS_FIELDS) -> list[str]:
    """The header of a report with no rows, when its columns are known without records: the
    report's default columns (its default set, or its identity columns and order hints; what
    `procore-xl params` lists), as labels or field names. [] for a sub-report's rows, whose
    columns only records tell."""
    rep = find_report(report) if not isinstance(report, Report) else report
    sub = sub_report if sub_report not in (None, "") else (rep.default_sub_report or "none")
    if sub != "none":
        return []
    rows = default_column_rows(rep)
    return unique([label for _, label in rows]) if headers == HEADERS_LABELS else [path for path, _ in rows]


def empty_frame(result, *, headers: str = HEADERS_FIELDS) -> pd.DataFrame | None:
    """A run with no record and so no columns (``result``: a runner.ReportResult) as a frame of
    no rows under the report's default columns (:func:`empty_header`, as ``headers`` names them);
    None when the run has columns, or only records could tell them (a sub report's rows)."""
    if len(result.table) or len(result.table.columns):
        return None
    known = empty_header(result.report, result.params.get("sub_report"), headers=headers)
    return pd.DataFrame({name: pd.Series([], dtype=object) for name in known}) if known else None


def report_view(result, *, headers: str, columns: str, keep: Sequence[str] = (),
                params: Mapping[str, Any] | None = None, readable_lists: bool = True,
                stream: bool = False) -> View:
    """:func:`view` of a ReportResult with its own sub report; ``params`` (default: the run's)
    may set the options, else the given defaults apply. ``stream``: read the result's table
    block by block (a sheet written once) rather than its whole frame (made once and kept)."""
    h, c = options(params if params is not None else result.params, headers=headers, columns=columns)
    return view(result.table if stream else result.frame, result.report, result.params.get("sub_report"), headers=h, columns=c,
                keep=keep, readable_lists=readable_lists)


__all__ = ["View", "PlainColumn", "report_and_sub_list", "numbers_of", "empty_values", "view", "report_view", "empty_header", "empty_frame", "readable_list", "item_text", "options",
           "HEADERS_LABELS", "HEADERS_FIELDS", "COLUMNS_DEFAULT", "COLUMNS_ALL", "LIST_COLUMNS"]
