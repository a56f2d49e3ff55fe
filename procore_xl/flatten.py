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
from typing import Any, Callable, Iterable, Mapping, Sequence

import pandas as pd

MAX_EXACT_INT = 2 ** 53
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
                   prefix: str = "") -> dict[str, Any]:
    """One flat dict: nested dicts -> dotted keys, lists -> compact JSON (empty -> None).
    Name clashes: see the module doc (first keeps the name, a different value gets `` (2)``)."""
    out: dict[str, Any] = {}
    fields = rec.get("custom_fields") if not prefix else None
    if fields is None or not _is_mapping(fields):
        _flatten_into(out, prefix, rec.items())
        return out
    keys = list(rec)
    at = keys.index("custom_fields")
    _flatten_into(out, prefix, ((k, rec[k]) for k in keys[:at]))
    custom_at = len(out)
    _flatten_into(out, prefix, ((k, rec[k]) for k in keys[at + 1:]))
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


def _flatten_into(out: dict[str, Any], prefix: str, fields: Iterable[tuple[Any, Any]]) -> None:
    """``fields`` (key, value pairs) into ``out`` as ``<prefix><key>``: objects as dotted columns,
    lists as compact JSON, scalars as they are; a name already taken goes through :func:`_put`."""
    for k, v in fields:
        col = f"{prefix}{k}"
        t = type(v)
        if t in _PLAIN:
            pass
        elif t is dict or (t is not list and isinstance(v, Mapping)):
            if v:
                _flatten_into(out, col + ".", v.items())
                continue
            v = None
        elif t is list or isinstance(v, tuple):
            v = _compact_json(list(v)) if v else None
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


def _clean_ids(s: pd.Series) -> pd.Series:
    vals = s.dropna()
    if vals.empty:
        return s
    ints = []
    for v in vals:
        if isinstance(v, bool):
            return s
        if isinstance(v, int):
            ints.append(v)
        elif isinstance(v, float) and v.is_integer():
            ints.append(int(v))
        elif isinstance(v, str) and _INT_RE.fullmatch(v.strip()):
            ints.append(int(v))
        else:
            return s
    if any(abs(i) >= 2 ** 63 for i in ints):       # beyond int64: exact Python ints
        return pd.Series([None if _missing(v) else int(v) for v in s], index=s.index, dtype=object)
    # Exact integers; an id above 2**53 stays a number here and becomes text only in the one Excel
    # cell that could not hold it (excel/values.py), so the rest of the column stays numeric.
    exact = [None if _missing(v) else int(v) for v in s]   # not via float: no rounding above 2**53
    return pd.Series(pd.array(exact, dtype="Int64"), index=s.index)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA


def _blank(v: Any) -> bool:
    return isinstance(v, str) and not v.strip()


def _clean_dates(s: pd.Series) -> pd.Series:
    dates = 0
    for v in s:                    # stop at the first value that is not a date (most columns)
        if type(v) is str:
            if _DATE_RE.fullmatch(v):
                dates += 1
            elif v.strip():
                return s
        elif not _missing(v):
            return s
    if not dates:
        return s
    try:
        out = pd.to_datetime(s.map(lambda v: None if _missing(v) or _blank(v) else v),
                             utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return s
    return out.dt.tz_localize(None)


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


def _clean_money(col: str, s: pd.Series) -> pd.Series:
    if not _MONEY_WORDS.search(col.rsplit(".", 1)[-1]):
        return s
    vals = [v for v in s.dropna() if not _blank(v)]
    if not vals or not all(_exact_number(v) for v in vals):
        return s
    if not any(isinstance(v, str) for v in vals):
        return s
    return s.map(lambda v: None if _missing(v) or _blank(v) else float(v)).astype("Float64").astype(float)


def clean_column(col: str, s: pd.Series) -> pd.Series:
    if s.dtype != object:
        return s
    if _is_id_col(col):
        return _clean_ids(s)
    out = _clean_dates(s)
    if out is not s:
        return out
    return _clean_money(col, s)


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
    """Rows flattened batch by batch (a page as it arrives) into columns; :meth:`frame` types and
    orders them exactly as :func:`to_frame` does. Memory: each batch's columns are kept pickled
    (compact bytes, repeated text once), so the decoded records of a page are freed whole when
    the next page comes; a long pull no longer keeps every page's memory pinned by the few
    values it retains from it. Repeated text (names, statuses, logins) ends as one object per
    distinct value and column.

    ``custom_labels`` may be a function: it is called once, at the first record that has custom
    fields (the definitions request is only made for reports that carry some)."""

    def __init__(self, *, custom_labels: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None):
        self._labels = custom_labels
        self._pieces: dict[str, list[tuple[int, bytes]]] = {}   # name -> (first row, pickled values)
        self._memos: dict[str, dict[str, str] | None] = {}      # per column: one object per distinct text
        self._filled: set[str] = set()                          # columns with at least one value
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
            flat.append(flatten_record(rec, custom_labels=labels))
        if not flat:
            return
        names: dict[str, None] = {}
        for row in flat:
            names.update(dict.fromkeys(row))
        first = self.rows
        self.rows += len(flat)
        for name in names:
            values = [row.get(name, _ABSENT) for row in flat]
            if name not in self._pieces:
                self._pieces[name] = []
                self._memos[name] = {}
            memo = self._memos[name]
            if memo is not None:
                values = [memo.setdefault(v, v) if type(v) is str else v for v in values]
                if len(memo) > self.rows // 4 + 64:     # mostly distinct values: not worth a memo
                    self._memos[name] = None
            if name not in self._filled and any(v is not None and v is not _ABSENT for v in values):
                self._filled.add(name)
            self._pieces[name].append((first, pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL)))

    def _column(self, name: str) -> list[Any]:
        """One column's values, every row (a row without the field: NaN); its pieces are freed."""
        values: list[Any] = []
        memo = self._memos.pop(name, None)
        for first, blob in self._pieces.pop(name):
            if first > len(values):
                values.extend([_ABSENT] * (first - len(values)))
            piece = pickle.loads(blob)
            values.extend([memo.get(v, v) if type(v) is str else v for v in piece] if memo else piece)
        values.extend([_ABSENT] * (self.rows - len(values)))
        return values

    def frame(self, *, lead: Sequence[str] = (), keys: Sequence[str] = (),
              order: Sequence[str] = ()) -> pd.DataFrame:
        """The typed DataFrame (the builder gives its columns away: call once)."""
        cols = _without_empty_parents(list(self._pieces), self._filled)
        lead_cols = [c for c in cols if any(c.startswith(p) for p in lead)] if lead else []
        cols = order_columns(cols, lead=lead_cols, keys=keys, order=order)
        if not self.rows:
            return pd.DataFrame(columns=cols)
        # dtype=object: no int -> float upcast (an id above 2**53 next to a missing value stays exact)
        data = {c: clean_column(c, pd.Series(self._column(c), dtype=object)) for c in cols}
        self._pieces.clear()
        self._memos.clear()
        return pd.DataFrame(data, columns=cols, index=pd.RangeIndex(self.rows), copy=False)


def to_frame(rows: Sequence[Mapping[str, Any]], *, lead: Sequence[str] = (), keys: Sequence[str] = (),
             order: Sequence[str] = (), custom_labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Flatten ``rows`` and return a typed DataFrame with ordered columns. Leading columns whose
    names start with the lead prefixes (``project.``, ``rfi.``) come first in order of appearance."""
    builder = FrameBuilder(custom_labels=custom_labels)
    builder.add(rows)
    return builder.frame(lead=lead, keys=keys, order=order)
