"""Records -> rows -> a clean pandas DataFrame.

* :func:`flatten_record`: nested objects become dotted columns (``assignee.name``), lists become
  compact JSON text, custom fields become one column per field named after its label.
* :func:`explode`: a Sub Report: each element of a nested list (``questions`` or, two levels,
  ``questions.answers``) becomes a row carrying its parents' key columns (``rfi.id``,
  ``rfi.number``, ``rfi.subject``, ``question.id``...).
* :func:`to_frame`: typed columns (ISO dates/timestamps -> naive UTC datetimes, money strings ->
  float, ids -> exact integers) and a stable column order (identity first).
* :class:`FrameBuilder`: the same table built batch by batch (a page as it arrives), so a long
  pull holds the table, not every record and every flat row at once.

Robustness rules (records may be shaped unlike our sandbox; see tests/test_robustness.py):

* Column names never collide silently. When two fields flatten to the same name (a literal key
  ``"a.b"`` next to ``{"a": {"b": ...}}``, or a runner lead column ``project.id`` next to the
  record's own ``project: {id}``), the first keeps the name; a later *different* value goes to
  ``"<name> (2)"`` (``(3)``...); an equal value is dropped (nothing is lost). Custom field columns
  yield to the record's own fields: a label equal to an existing column becomes ``"<label> (2)"``.
* Sub reports (:func:`explode`): a list at the path gives one row per element; a lone object is
  a one-element list; a scalar (text, number, bool) at the last level becomes one row with a
  ``value`` column (as scalar list elements do); ``None``/missing/``[]`` gives no row.
* Types are all-or-nothing per column: a column becomes datetimes only when every non-blank
  value is ISO-8601 text that parses; money only when every non-blank value is plain decimal
  text (``-12.5``, ``1234.00``; no ``+``, exponent, thousands separator or leading zeros) that
  a float holds exactly (<= 15 significant digits); ids only when every value is an integer
  (text with leading zeros, e.g. ``"007"``, keeps the column text). Blank text (``""``) counts
  as missing in a column that converts; any other text (``"N/A"``, ``"-see note"``) keeps the
  whole column as the original text. Ids stay exact integers (an id above 2**53 becomes text
  only in the Excel cell that cannot hold it, see ``excel/values.py``).
"""
from __future__ import annotations

import json
import pickle
import re
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from .lazy_pandas import pd
from .spill import Spill

MAX_EXACT_INT = 2 ** 53
LIST_COLUMNS = "list_columns"    # frame.attrs: the columns made from nested lists (compact JSON)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
                      r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?")
_NUM_RE = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")        # fullmatch; no leading zeros
_INT_RE = re.compile(r"0|-?[1-9][0-9]*")                    # fullmatch; "007" and "-0" stay text
_MAX_DIGITS = 15                                             # a double holds 15 significant digits
_MONEY_WORDS = re.compile(
    r"(amount|total|cost|price|balance|payments|revised_contract|change_orders|budget|forecast|"
    r"retainage|percent|percentage|value|rate|hours|quantity|limit|paid|requisitions|draw_requests)",
    re.I)


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("ses") or word.endswith("xes"):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


_compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


def _json(v: Any) -> str:
    return _compact_json(v)


def _free_name(name: str, taken: Mapping[str, Any] | set[str]) -> str:
    n = 2
    free = name
    while free in taken:
        free = f"{name} ({n})"
        n += 1
    return free


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


_PLAIN = frozenset({str, int, float, bool, type(None)})   # JSON scalars: stored as they are


def flatten_record(rec: Mapping[str, Any], *, custom_labels: Mapping[str, str] | None = None,
                   prefix: str = "", lists: set[str] | None = None) -> dict[str, Any]:
    """One flat dict: nested dicts -> dotted keys, lists -> compact JSON (empty -> None); the
    names of the columns made from lists are added to ``lists``. Name clashes: see the module
    doc (first keeps the name, a different value gets `` (2)``)."""
    out: dict[str, Any] = {}
    fields = rec.get("custom_fields") if not prefix else None
    if fields is None or not _is_mapping(fields):
        _flatten_into(out, prefix, rec.items(), lists)
        return out
    keys = list(rec)
    at = keys.index("custom_fields")
    _flatten_into(out, prefix, ((k, rec[k]) for k in keys[:at]), lists)
    custom_at = len(out)
    _flatten_into(out, prefix, ((k, rec[k]) for k in keys[at + 1:]), lists)
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


def _is_mapping(v: Any) -> bool:
    # plain ``dict`` first: ``isinstance(v, Mapping)`` goes through the ABC machinery, which cost
    # a third of a pull's flattening when it ran for every value
    return type(v) is dict or (type(v) not in _PLAIN and isinstance(v, Mapping))


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


def _custom_fields(fields: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """``custom_field_<id>: {data_type, value[, label]}`` -> ``{<label>: value}``; unknown labels
    keep ``custom_fields.custom_field_<id>``."""
    out: dict[str, Any] = {}
    for key, v in fields.items():
        label = None
        value = v
        if _is_mapping(v):
            label = v.get("label")
            value = v.get("value", v)
        label = label if isinstance(label, str) and label.strip() else None
        m = re.fullmatch(r"custom_field_([0-9]+)", str(key))
        if not label and m:
            label = labels.get(m.group(1)) or labels.get(int(m.group(1)))  # type: ignore[call-overload]
            label = str(label) if label is not None and str(label).strip() else None
        if _is_mapping(value):   # list-of-values entries: {id, label} or {id, name}
            value = value.get("label") or value.get("name") or value.get("value") or _json(value)
            if isinstance(value, Mapping | list):
                value = _json(value)
        elif isinstance(value, list):
            value = ", ".join(_item_text(x) for x in value) or None
        name = _free_name(label or f"custom_fields.{key}", out)   # two fields, one label: keep both
        out[name] = value
    return out


def _item_text(x: Any) -> str:
    if isinstance(x, Mapping):
        x = x.get("label") or x.get("name") or x
    return x if isinstance(x, str) else _json(x)


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


# ---------------------------------------------------------------------------------------------
# Typing and ordering

def _is_id_col(col: str) -> bool:
    last = col.rsplit(".", 1)[-1]
    return last == "id" or last.endswith("_id")


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA


def _blank(v: Any) -> bool:
    return isinstance(v, str) and not v.strip()


def _exact_number(v: Any) -> bool:
    """Plain decimal text (or a number) that a float holds exactly enough to stand for it."""
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return abs(v) <= MAX_EXACT_INT
    if isinstance(v, float):
        return True
    if not isinstance(v, str) or not _NUM_RE.fullmatch(v.strip()):
        return False
    return len(v.strip().lstrip("-").replace(".", "").lstrip("0")) <= _MAX_DIGITS


AS_SENT, IDS, BIG_IDS, DATES, MONEY = "as sent", "ids", "big ids", "dates", "money"   # column types


class ColumnType:
    """What one column becomes under the all-or-nothing rules of the module doc, decided over all
    its values, which may come piece by piece (:meth:`add`): exact integer ids (``Int64``; Python
    ints beyond int64), naive UTC datetimes, money as float, or the values as sent. With
    ``parse_dates`` each piece of date text is also parsed as it comes (and kept, 8 bytes a
    value, in :attr:`moments`: one Series per piece, None for a piece without a date), so a date
    that only looks like one (``2026-13-45``) keeps the column as sent before any piece is
    converted, and :attr:`dates_only` says whether every value is a midnight (a date without a
    time)."""

    def __init__(self, name: str, *, parse_dates: bool = False):
        self.ids = _is_id_col(name)
        self.dates = not self.ids
        self.money = not self.ids and bool(_MONEY_WORDS.search(name.rsplit(".", 1)[-1]))
        self._parse = parse_dates
        self.moments: list[pd.Series | None] = []
        self._id_seen = self._big = self._date_seen = self._number_seen = self._money_text = False
        self.dates_only = True

    def add(self, values: Sequence[Any]) -> None:
        if self.ids:
            self._add_ids(values)
        if self.dates:
            self._add_dates(values)
        if self.money:
            self._add_money(values)

    def _add_ids(self, values: Sequence[Any]) -> None:
        for v in values:
            if type(v) is int:          # the common case first (a bool is not an int here)
                n = v
            elif _missing(v):
                continue
            elif isinstance(v, bool):
                self.ids = False
                return
            elif isinstance(v, int):
                n = v
            elif isinstance(v, float) and v.is_integer():
                n = int(v)
            elif isinstance(v, str) and _INT_RE.fullmatch(v.strip()):
                n = int(v)
            else:
                self.ids = False
                return
            self._id_seen = True
            self._big = self._big or abs(n) >= 2 ** 63

    def _add_dates(self, values: Sequence[Any]) -> None:
        found = False
        for v in values:                # stop at the first value that is not a date (most columns)
            if type(v) is str:
                if _DATE_RE.fullmatch(v):
                    found = True
                elif v.strip():
                    self._not_dates()
                    return
            elif not _missing(v):
                self._not_dates()
                return
        if not self._parse:
            self._date_seen = self._date_seen or found
            return
        if not found:
            self.moments.append(None)
            return
        try:
            moments = _to_datetimes(values)
        except (ValueError, TypeError, OverflowError):
            self._not_dates()
            return
        self._date_seen = True
        self.moments.append(moments)
        self.dates_only = self.dates_only and _midnights(moments)

    def _not_dates(self) -> None:
        self.dates = False
        self.moments = []

    def _add_money(self, values: Sequence[Any]) -> None:
        for v in values:
            if _missing(v) or _blank(v):
                continue
            if not _exact_number(v):
                self.money = False
                return
            self._number_seen = True
            self._money_text = self._money_text or isinstance(v, str)

    @property
    def kind(self) -> str:
        if self.ids and self._id_seen:
            return BIG_IDS if self._big else IDS
        if self.dates and self._date_seen:
            return DATES
        if self.money and self._number_seen and self._money_text:   # numbers already: left as sent
            return MONEY
        return AS_SENT


def _to_datetimes(values: Sequence[Any]) -> pd.Series:
    """Date text (and missing values: a date column holds nothing else) as naive UTC datetimes."""
    text = pd.Series([v if type(v) is str and v and not v.isspace() else None for v in values], dtype=object)
    return pd.to_datetime(text, utc=True, format="ISO8601").dt.tz_localize(None)


def typed(kind: str, values: Sequence[Any]) -> pd.Series:
    """``values`` (one column, or a block of it) as a Series of the column's ``kind``."""
    if kind == IDS:      # exact: not via float (no rounding above 2**53); above 2**53 becomes
        # text only in the one Excel cell that cannot hold it (excel/values.py)
        return pd.Series(pd.array([None if _missing(v) else int(v) for v in values], dtype="Int64"))
    if kind == BIG_IDS:  # beyond int64: exact Python ints
        return pd.Series([None if _missing(v) else int(v) for v in values], dtype=object)
    if kind == DATES:
        return _to_datetimes(values)
    if kind == MONEY:
        return pd.Series([None if _missing(v) or _blank(v) else float(v) for v in values], dtype=float)
    # dtype=object: no int -> float upcast (an id above 2**53 next to a missing value stays exact)
    return pd.Series(values, dtype=object)


def clean_column(col: str, s: pd.Series) -> pd.Series:
    """A whole column typed by the module doc's rules (a non-object column as it is)."""
    if s.dtype != object:
        return s
    values = s.tolist()
    judge = ColumnType(col)
    judge.add(values)
    kind = judge.kind
    if kind == AS_SENT:
        return s
    try:
        return typed(kind, values).set_axis(s.index)
    except (ValueError, TypeError, OverflowError):   # a date that only looks like one
        return s


def order_columns(columns: Sequence[str], *, lead: Sequence[str] = (), keys: Sequence[str] = (),
                  order: Sequence[str] = ()) -> list[str]:
    """lead (project.*, parent keys) -> keys -> order hints -> the rest as first seen."""
    seen: list[str] = []
    present = set(columns)
    for group in (lead, keys, order):
        for c in group:
            if c in present and c not in seen:
                seen.append(c)
    seen += [c for c in columns if c not in seen]
    return seen


def _without_empty_parents(cols: list[str], filled: set[str]) -> list[str]:
    """An object that is null in some records and present in others gives ``location.id``...
    columns; the bare ``location`` column would only ever be empty, so it goes."""
    prefixes = {c.rsplit(".", n)[0] for c in cols for n in range(1, c.count(".") + 1)}
    return [c for c in cols if c not in prefixes or c in filled]


_ABSENT = float("nan")     # a field a record does not have (as pandas fills a frame built from dicts)


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
        labels = self._labels if not callable(self._labels) else None
        flat = []
        for rec in records:
            if labels is None and callable(self._labels) and rec.get("custom_fields"):
                labels = self._custom_labels()
            flat.append(flatten_record(rec, custom_labels=labels, lists=self._lists))
        if not flat:
            return
        names: dict[str, None] = {}
        for row in flat:
            names.update(dict.fromkeys(row))
        first = self.rows
        self.rows += len(flat)
        self._batches.append((first, len(flat)))
        for name in names:
            values = [row.get(name, _ABSENT) for row in flat]
            if name not in self._pieces:
                self._pieces[name] = {}
                self._memos[name] = {}
            memo = self._memos[name]
            if memo is not None:
                values = [memo.setdefault(v, v) if type(v) is str else v for v in values]
                if len(memo) > self.rows // 4 + 64:     # mostly distinct values: not worth a memo
                    self._memos[name] = None
            if name not in self._filled and any(v is not None and v is not _ABSENT for v in values):
                self._filled.add(name)
            self._pieces[name][first] = self._spill.put(pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL))

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
        group: list[int] = []
        for i, (first, n) in enumerate(self._batches):
            group.append(i)
            if first + n - self._batches[group[0]][0] >= rows or i == len(self._batches) - 1:
                yield self._block(cols, types, group)
                group = []

    def _block(self, cols: Sequence[str], types: Mapping[str, ColumnType], group: list[int]) -> pd.DataFrame:
        batches = [self._batches[i] for i in group]
        data = {}
        for c in cols:
            kind = types[c].kind
            if kind == DATES:               # parsed when the column was typed: not again
                moments = types[c].moments
                data[c] = pd.concat([moments[i] if moments[i] is not None else typed(DATES, [None] * n)
                                     for i, (_, n) in zip(group, batches)], ignore_index=True)
            else:
                data[c] = typed(kind, [v for first, n in batches for v in self._piece(c, first, n)])
        start, end = batches[0][0], batches[-1][0] + batches[-1][1]
        block = pd.DataFrame(data, columns=list(cols), copy=False).set_axis(pd.RangeIndex(start, end))
        block.attrs[LIST_COLUMNS] = [c for c in cols if c in self._lists]     # as the whole frame says
        return block


class Table:
    """A report's typed table, read whole (:meth:`frame`, made once) or block by block
    (:meth:`blocks`: the same rows typed as the whole frame types them, without the whole frame
    ever being held; what a CSV or any other streamed output needs)."""

    def __init__(self, columns: Sequence[str], rows: int, *, frame: pd.DataFrame | None = None,
                 builder: FrameBuilder | None = None):
        self.columns = list(columns)
        self.rows = rows
        self._frame, self._builder = frame, builder
        self._types: dict[str, ColumnType] | None = None

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Table:
        return cls(list(frame.columns), len(frame), frame=frame)

    def __reduce__(self):
        return Table.of, (self.frame(),)      # pickled (sent to another process): as its frame

    def __len__(self) -> int:
        return self.rows

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = self._builder._frame(self.columns)
            self._builder = self._types = None
        return self._frame

    def blocks(self, rows: int = 2_000, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
        """The rows in order, in blocks of about ``rows`` (whole pages of the pull; a table made
        from a frame: that frame, in one block); ``columns``: only those (default: all)."""
        if self._builder is None:
            yield self.frame()
            return
        cols = self.columns if columns is None else list(columns)
        yield from self._builder._blocks(cols, self._column_types(), rows)

    def moments(self) -> list[str]:
        """The columns of datetimes."""
        if self._builder is None:
            frame = self.frame()
            return [c for c in self.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
        return [c for c, t in self._column_types().items() if t.kind == DATES]

    def dates_only(self) -> set[str]:
        """The datetime columns whose every value is a midnight: dates without a time."""
        if self._builder is None:
            frame = self.frame()
            return {c for c in self.moments() if _midnights(frame[c])}
        return {c for c, t in self._column_types().items() if t.kind == DATES and t.dates_only}

    def texts(self) -> list[str]:
        """The columns that may hold text (typed as sent)."""
        if self._builder is None:
            frame = self.frame()
            return [c for c in self.columns if pd.api.types.is_object_dtype(frame[c])
                    or pd.api.types.is_string_dtype(frame[c])]
        return [c for c, t in self._column_types().items() if t.kind in (AS_SENT, BIG_IDS)]

    def _column_types(self) -> dict[str, ColumnType]:
        if self._types is None:
            self._types = self._builder._column_types(self.columns)
        return self._types


def _midnights(moments: pd.Series) -> bool:
    """Every (non-missing) value a midnight."""
    values = moments.dropna().to_numpy()
    return bool((values == values.astype("datetime64[D]")).all())


def to_frame(rows: Sequence[Mapping[str, Any]], *, lead: Sequence[str] = (), keys: Sequence[str] = (),
             order: Sequence[str] = (), custom_labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Flatten ``rows`` and return a typed DataFrame with ordered columns. Leading columns whose
    names start with the lead prefixes (``project.``, ``rfi.``) come first in order of appearance."""
    builder = FrameBuilder(custom_labels=custom_labels)
    builder.add(rows)
    return builder.frame(lead=lead, keys=keys, order=order)
