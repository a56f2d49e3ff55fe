"""Records -> rows -> a report's table (typed and ordered in :mod:`procore_xl.table`).

* :func:`flatten_record`: nested objects become dotted columns (``assignee.name``), lists become
  compact JSON text, custom fields become one column per field named after its label.
* :func:`explode`: a Sub Report: each element of a nested list (``questions`` or, two levels,
  ``questions.answers``) becomes a row carrying its parents' key columns (``rfi.id``,
  ``rfi.number``, ``rfi.subject``, ``question.id``...).
* :class:`FrameBuilder`: the table built batch by batch (a page as it arrives), so a long pull
  holds the table, not every record and every flat row at once; :func:`to_frame`: the same for
  rows at hand, as a typed DataFrame (ISO dates/timestamps -> naive UTC datetimes, money strings
  -> float, ids -> exact integers; the rules in :mod:`procore_xl.table`) with a stable column
  order (identity first).

Robustness rules (records may be shaped unlike our sandbox; see tests/test_flatten.py):

* Column names never collide silently. When two fields flatten to the same name (a literal key
  ``"a.b"`` next to ``{"a": {"b": ...}}``, or a runner lead column ``project.id`` next to the
  record's own ``project: {id}``), the first keeps the name; a later *different* value goes to
  ``"<name> (2)"`` (``(3)``...); an equal value is dropped (nothing is lost). Custom field columns
  yield to the record's own fields: a label equal to an existing column becomes ``"<label> (2)"``.
* Sub reports (:func:`explode`): a list at the path gives one row per element; a lone object is
  a one-element list; a scalar (text, number, bool) at the last level becomes one row with a
  ``value`` column (as scalar list elements do); ``None``/missing/``[]`` gives no row.
"""
from __future__ import annotations

import pickle
from itertools import chain
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from .flatten_page import _PLAIN, ABSENT, compact_json, custom_fields, free_name, is_mapping, page_columns
from .lazy_pandas import pd
from .spill import Spill
from .table import (DATES, LIST_COLUMNS, ColumnType, Table, clean_column, dates_text, order_columns, piece_moments,
                    plain, typed)

__all__ = ["FrameBuilder", "LIST_COLUMNS", "Table", "explode", "flatten_record", "parent_columns", "singular",
           "to_frame"]


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("ses") or word.endswith("xes"):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


_compact_json = compact_json
_json = compact_json
_free_name = free_name
_is_mapping = is_mapping
_custom_fields = custom_fields


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:   # noqa: BLE001 - exotic values: treat as different (keep both)
        return False


def _put(out: dict[str, Any], col: str, value: Any) -> None:
    """``out[col] = value`` without losing an earlier, different value under the same name."""
    if col in out:
        if _same(out[col], value):
            return
        col = _free_name(col, out)
    out[col] = value


_STR, _INT = {str}, {int}                                  # the types of a column of text / of ints alone


def flatten_record(rec: Mapping[str, Any], *, custom_labels: Mapping[str, str] | None = None,
                   prefix: str = "", lists: set[str] | None = None) -> dict[str, Any]:
    """One flat dict: nested dicts -> dotted keys, lists -> compact JSON (empty -> None); the
    names of the columns made from lists are added to ``lists``. Name clashes: see the module
    doc (first keeps the name, a different value gets `` (2)``)."""
    out: dict[str, Any] = {}
    if prefix:
        _flatten_into(out, prefix, rec.items(), lists)
        return out
    fields = rec.get("custom_fields")
    if fields is None or not _is_mapping(fields):
        _flatten_top(out, rec, lists, custom=False)
        return out
    custom_at = _flatten_top(out, rec, lists, custom=True)
    custom = _custom_fields(fields, custom_labels or {})
    if not custom:
        return out
    # custom field columns go where ``custom_fields`` was, renamed if they clash with a field
    items = list(out.items())
    merged = dict(items[:custom_at])
    taken = set(out)
    for name, value in custom.items():
        name = _free_name(name, taken)
        taken.add(name)
        merged[name] = value
    merged.update(items[custom_at:])
    return merged


def _flatten_top(out: dict[str, Any], rec: Mapping[str, Any], lists: set[str] | None, *, custom: bool) -> int:
    """What :func:`_flatten_into` does for a record's own fields, in one pass with the common
    cases (a scalar, an object of scalars) inline; with ``custom``, ``custom_fields`` is left out
    and the number of columns before it returned."""
    custom_at = -1
    for k, v in rec.items():
        if custom and custom_at < 0 and k == "custom_fields":
            custom_at = len(out)
            continue
        t = type(v)
        if type(k) is str and t in _PLAIN and k not in out:      # the common case, without a call
            out[k] = v
        elif type(k) is str and t is dict and v:
            dotted = k + "."
            for k2, v2 in v.items():        # an object of scalars (most are) without a call per value
                if type(k2) is str and type(v2) in _PLAIN:
                    col = dotted + k2
                    if col not in out:
                        out[col] = v2
                        continue
                _flatten_into(out, dotted, ((k2, v2),), lists)
        else:
            _flatten_into(out, "", ((k, v),), lists)
    return custom_at


def _flatten_into(out: dict[str, Any], prefix: str, fields: Iterable[tuple[Any, Any]],
                  lists: set[str] | None = None) -> None:
    """``fields`` (key, value pairs) into ``out`` as ``<prefix><key>``: objects as dotted columns,
    lists as compact JSON (their names added to ``lists``), scalars as they are; a name already
    taken goes through :func:`_put`."""
    for k, v in fields:
        col = f"{prefix}{k}"
        t = type(v)
        if t in _PLAIN:
            pass
        elif t is dict or (t is not list and isinstance(v, Mapping)):
            if v:
                _flatten_into(out, col + ".", v.items(), lists)
                continue
            v = None
        elif t is list or isinstance(v, tuple):
            v = _compact_json(list(v)) if v else None
            if lists is not None and v is not None:
                lists.add(col if col not in out or _same(out[col], v) else _free_name(col, out))
        if col in out:
            _put(out, col, v)
        else:
            out[col] = v


def _get_path(rec: Mapping[str, Any], dotted: str) -> Any:
    cur: Any = rec
    for part in dotted.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def parent_columns(rec: Mapping[str, Any], prefix: str, keys: Sequence[str]) -> dict[str, Any]:
    """``{prefix.key: value}`` for the keys the record has (dotted keys allowed)."""
    out = {}
    for k in keys:
        v = _get_path(rec, k)
        if v is not None or k == "id":
            out[f"{prefix}.{k}"] = v
    return out


def explode(records: Iterable[Mapping[str, Any]], path: str, *, entity: str,
            keys: Sequence[str], child_keys: Sequence[str] = ("id",)) -> list[dict[str, Any]]:
    """Rows from the nested list at ``path`` (dotted for deeper levels). Each row starts with the
    record's leading columns (keys holding a dot, e.g. ``project.id`` added by the runner), the
    record's key columns (``<entity>.<key>``), each intermediate level's ``child_keys``
    (``question.id``), then the element's own fields (not yet flattened; one that clashes with a
    carried key column goes to ``"<name> (2)"``). Not a list at the path: ``None`` -> no rows, an
    object -> one row, a scalar -> one row with a ``value`` column (at an intermediate level a
    scalar has no children: no rows)."""
    parts = path.split(".")
    rows: list[dict[str, Any]] = []

    def walk(node: Mapping[str, Any], depth: int, carried: dict[str, Any]) -> None:
        value = node.get(parts[depth])
        elems = value if isinstance(value, list) else [] if value is None else [value]
        for e in elems:
            if depth == len(parts) - 1:
                row = dict(carried)          # the element's fields never replace a key column
                for k, v in (e.items() if isinstance(e, Mapping) else [("value", e)]):
                    _put(row, k, v)
                rows.append(row)
            elif isinstance(e, Mapping):
                walk(e, depth + 1, {**carried, **parent_columns(e, singular(parts[depth]), child_keys)})

    for rec in records:
        carried = {k: v for k, v in rec.items() if isinstance(k, str) and "." in k}
        carried.update(parent_columns(rec, entity, keys))
        walk(rec, 0, carried)
    return rows


def _without_empty_parents(cols: list[str], filled: set[str]) -> list[str]:
    """An object that is null in some records and present in others gives ``location.id``...
    columns; the bare ``location`` column would only ever be empty, so it goes."""
    prefixes = {c.rsplit(".", n)[0] for c in cols for n in range(1, c.count(".") + 1)}
    return [c for c in cols if c not in prefixes or c in filled]


_ABSENT = ABSENT


def _columns_of(rows: list[dict[str, Any]], names: list[str]) -> list[list[Any]]:
    """The values of each of ``names`` over ``rows`` (``_ABSENT`` where a row lacks one), read
    by C code (``itemgetter``, ``zip``) rather than a lookup per value in Python."""
    if len(names) <= 1:
        return [[row.get(name, _ABSENT) for row in rows] for name in names]
    blank = dict.fromkeys(names, _ABSENT)
    whole = len(names)
    rows = [row if len(row) == whole else {**blank, **row} for row in rows]   # a row's names are among names
    return [list(column) for column in zip(*map(itemgetter(*names), rows))]


class FrameBuilder:
    """Rows flattened batch by batch (a page as it arrives) into columns; :meth:`table` gives them
    as a :class:`Table`, typed and ordered exactly as :func:`to_frame` does. Memory: each batch's
    columns are kept pickled in a :class:`~procore_xl.spill.Spill` (on disk once the report is
    large), so the decoded records of a page are freed whole when the next page comes and a long
    pull holds a page, not the report. Repeated text (names, statuses, logins) ends as one object
    per distinct value and column in a whole frame.

    ``custom_labels`` may be a function: it is called once, at the first record that has custom
    fields (the definitions request is only made for reports that carry some)."""

    def __init__(self, *, custom_labels: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None):
        self._labels = custom_labels
        self._spill = Spill()                            # the pickled pieces
        self._pieces: dict[str, dict[int, tuple[int, int]]] = {}   # name -> {first row of a batch: piece}
        self._batches: list[tuple[int, int]] = []        # (first row, rows) of each batch
        self._memos: dict[str, dict[str, str] | None] = {}  # per column: one object per distinct text
        self._filled: set[str] = set()                   # columns with at least one value
        self._lists: set[str] = set()                    # columns made from nested lists
        self.rows = 0

    def _custom_labels(self) -> Mapping[str, str] | None:
        if callable(self._labels):
            self._labels = self._labels() or {}
        return self._labels

    def add(self, records: Iterable[Mapping[str, Any]]) -> None:
        records = records if type(records) is list else list(records)
        if not records:
            return
        if callable(self._labels) and any(rec.get("custom_fields") for rec in records):
            self._custom_labels()       # asked for once, only for records that carry custom fields
        labels = self._labels if not callable(self._labels) else None
        columns = page_columns(records, labels, self._lists)     # most pages: column by column
        if columns is None:
            columns = self._rows_flattened(records, labels)
        first = self.rows
        self.rows += len(records)
        self._batches.append((first, len(records)))
        for name, values in columns.items():
            if name not in self._pieces:
                self._pieces[name] = {}
                self._memos[name] = {}
            memo = self._memos[name]
            if memo is not None:
                if set(map(type, values)) == _STR:      # text alone: the memo's lookups in C
                    values = list(map(memo.setdefault, values, values))
                else:
                    values = [memo.setdefault(v, v) if type(v) is str else v for v in values]
                if len(memo) > self.rows // 4 + 64:     # mostly distinct values: not worth a memo
                    self._memos[name] = None
            if name not in self._filled and any(v is not None and v is not _ABSENT for v in values):
                self._filled.add(name)
            self._pieces[name][first] = self._spill.put(pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL))

    def _rows_flattened(self, records: list, labels: Mapping[str, str] | None) -> dict[str, list]:
        """What :func:`page_columns` gives, record by record (any page)."""
        flat = [flatten_record(rec, custom_labels=labels, lists=self._lists) for rec in records]
        names = list(dict.fromkeys(chain.from_iterable(flat)))   # every row's names, in order of appearance
        return dict(zip(names, _columns_of(flat, names)))

    def table(self, *, lead: Sequence[str] = (), keys: Sequence[str] = (), order: Sequence[str] = ()) -> Table:
        """The rows as a :class:`Table` (which reads this builder: add nothing more)."""
        cols = _without_empty_parents(list(self._pieces), self._filled)
        lead_cols = [c for c in cols if any(c.startswith(p) for p in lead)] if lead else []
        return Table(order_columns(cols, lead=lead_cols, keys=keys, order=order), self.rows, builder=self)

    def frame(self, *, lead: Sequence[str] = (), keys: Sequence[str] = (),
              order: Sequence[str] = ()) -> pd.DataFrame:
        """The typed DataFrame (the builder gives its columns away: call once)."""
        return self.table(lead=lead, keys=keys, order=order).frame()

    def _piece(self, name: str, first: int, rows: int) -> list[Any]:
        """One batch of a column (a column the batch did not have: NaN)."""
        piece = self._pieces[name].get(first)
        return pickle.loads(self._spill.get(piece)) if piece is not None else [_ABSENT] * rows

    def _column(self, name: str) -> list[Any]:
        """One column's values, every row, repeated text as one object; its pieces are freed."""
        values: list[Any] = []
        memo = self._memos.pop(name, None)
        for first, handle in self._pieces.pop(name).items():
            if first > len(values):
                values.extend([_ABSENT] * (first - len(values)))
            piece = pickle.loads(self._spill.get(handle))
            values.extend([memo.get(v, v) if type(v) is str else v for v in piece] if memo else piece)
        values.extend([_ABSENT] * (self.rows - len(values)))
        return values

    def _frame(self, cols: Sequence[str]) -> pd.DataFrame:
        if not self.rows:
            frame = pd.DataFrame(columns=list(cols))
        else:
            data = {c: clean_column(c, pd.Series(self._column(c), dtype=object)) for c in cols}
            self._pieces.clear()
            self._memos.clear()
            self._spill.close()
            frame = pd.DataFrame(data, columns=list(cols), index=pd.RangeIndex(self.rows), copy=False)
        frame.attrs[LIST_COLUMNS] = [c for c in cols if c in self._lists]
        return frame

    def _column_types(self, cols: Sequence[str]) -> dict[str, ColumnType]:
        """Each column's type, decided over all its pieces (one piece in memory at a time)."""
        types = {}
        for c in cols:
            judge = types[c] = ColumnType(c, parse_dates=True)
            for first, rows in self._batches:
                if not (judge.ids or judge.dates or judge.money):
                    break                                   # nothing left it could become
                judge.add(self._piece(c, first, rows))
        return types

    def _blocks(self, cols: Sequence[str], types: Mapping[str, ColumnType], rows: int) -> Iterator[pd.DataFrame]:
        """Consecutive batches joined into blocks of at least ``rows`` rows (the last may be short)."""
        for group in self._groups(rows):
            yield self._block(cols, types, group)

    def _groups(self, rows: int) -> Iterator[list[int]]:
        group: list[int] = []
        for i, (first, n) in enumerate(self._batches):
            group.append(i)
            if first + n - self._batches[group[0]][0] >= rows or i == len(self._batches) - 1:
                yield group
                group = []

    def _plain_blocks(self, cols: Sequence[str], types: Mapping[str, ColumnType], rows: int) -> Iterator[Any]:
        """The blocks of :meth:`_blocks` as each column's plain values (:func:`table.plain`), no
        DataFrame made; a block holding a value of another kind (not from JSON) as its DataFrame."""
        for group in self._groups(rows):
            batches = [self._batches[i] for i in group]
            columns = []
            for c in cols:
                judge = types[c]
                if judge.kind == DATES:
                    columns.append(dates_text([judge.moments[i] for i in group], [n for _, n in batches],
                                              judge.dates_only, lambda k: self._piece(c, *batches[k])))
                else:
                    columns.append(plain(judge.kind, list(chain.from_iterable(self._piece(c, first, n)
                                                                              for first, n in batches))))
            yield columns if all(c is not None for c in columns) else self._block(cols, types, group)

    def _list_columns(self, cols: Sequence[str]) -> list[str]:
        return [c for c in cols if c in self._lists]

    def _block(self, cols: Sequence[str], types: Mapping[str, ColumnType], group: list[int]) -> pd.DataFrame:
        batches = [self._batches[i] for i in group]
        data = {}
        for c in cols:
            kind = types[c].kind
            if kind == DATES:               # parsed when the column was typed (or kept as its text)
                moments = types[c].moments
                data[c] = pd.concat([piece_moments(moments[i], n, lambda: self._piece(c, first, n))
                                     for i, (first, n) in zip(group, batches)], ignore_index=True)
            else:
                data[c] = typed(kind, [v for first, n in batches for v in self._piece(c, first, n)])
        start, end = batches[0][0], batches[-1][0] + batches[-1][1]
        block = pd.DataFrame(data, columns=list(cols), copy=False).set_axis(pd.RangeIndex(start, end))
        block.attrs[LIST_COLUMNS] = [c for c in cols if c in self._lists]     # as the whole frame says
        return block


def to_frame(rows: Sequence[Mapping[str, Any]], *, lead: Sequence[str] = (), keys: Sequence[str] = (),
             order: Sequence[str] = (), custom_labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Flatten ``rows`` and return a typed DataFrame with ordered columns. Leading columns whose
    names start with the lead prefixes (``project.``, ``rfi.``) come first in order of appearance."""
    builder = FrameBuilder(custom_labels=custom_labels)
    builder.add(rows)
    return builder.frame(lead=lead, keys=keys, order=order)
