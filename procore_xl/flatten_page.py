"""A page of records flattened column by column: what :func:`procore_xl.flatten.flatten_record`
gives row by row, for a page whose records share their shape (Procore's pages do), at the cost of
C iterations per column instead of Python work per value.

:func:`page_columns` returns each flat column's values over the page (``ABSENT`` where a record
lacks the column) in the order the columns first appear row by row, exactly what flattening each
record and gathering the names in order of appearance gives, or None when the page is not one it
answers for (then each record is flattened on its own): records that are not plain dicts with the
same keys in the same order, an object whose non-empty values do not share their keys, values of
kinds JSON does not make, or two fields that would flatten to one name (a clash
:func:`~procore_xl.flatten.flatten_record` settles with ``" (2)"``).

Why the order comes out right: when every object at one path has the same keys in the same order,
each flat column has one place in every row that holds it (the positions of its keys, level by
level), and a row lists its columns in that order. So the order of first appearance is the order
of (first row holding the column, its place): one sort, no row built.

Also here, for both ways: the compact JSON of nested lists and the custom fields' values and labels.
"""
from __future__ import annotations

import json
import re
from itertools import repeat
from operator import itemgetter, methodcaller
from typing import Any, Callable, Mapping

_PLAIN = frozenset({str, int, float, bool, type(None)})   # JSON scalars: stored as they are
ABSENT = float("nan")     # a field a record does not have (as pandas fills a frame built from dicts)


def _compact_encoder() -> Callable[[Any], str]:
    """``json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode``, with
    the C encoder made once instead of at every call (that encoder's Python wrappers cost more
    than encoding a record's short lists). No check for circular references: what is encoded
    here came from JSON (and was checked to be at most 100 levels deep)."""
    plain = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return plain
    try:
        encode = make(None, str, json.encoder.encode_basestring, None, ":", ",", False, False, True)
        if "".join(encode([1.5, "\u00e9", {"a": None}, float("nan")], 0)) != plain([1.5, "\u00e9", {"a": None},
                                                                                     float("nan")]):
            return plain
    except TypeError:                   # another Python's C encoder: the standard way
        return plain
    join = "".join
    return lambda value: join(encode(value, 0))


compact_json = _compact_encoder()


def is_mapping(v: Any) -> bool:
    # plain ``dict`` first: ``isinstance(v, Mapping)`` goes through the ABC machinery, which cost
    # a third of a pull's flattening when it ran for every value
    return type(v) is dict or (type(v) not in _PLAIN and isinstance(v, Mapping))


_CUSTOM_KEY = re.compile(r"custom_field_([0-9]+)").fullmatch


def free_name(name: str, taken: Mapping[str, Any] | set[str]) -> str:
    n = 2
    free = name
    while free in taken:
        free = f"{name} ({n})"
        n += 1
    return free


def custom_fields(fields: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """``custom_field_<id>: {data_type, value[, label]}`` -> ``{<label>: value}``; unknown labels
    keep ``custom_fields.custom_field_<id>``."""
    out: dict[str, Any] = {}
    for key, v in fields.items():
        label = None
        value = v
        if type(v) is dict or is_mapping(v):
            label = v.get("label")
            value = v.get("value", v)
        label = _label(key, label, labels)
        name = label or f"custom_fields.{key}"
        if name in out:
            name = free_name(name, out)        # two fields, one label: keep both
        out[name] = value if type(value) in _PLAIN else _custom_value(value)
    return out


def _label(key: Any, label: Any, labels: Mapping[str, str]) -> str | None:
    """A custom field's label: the one its value carries, else the definitions' (by id)."""
    label = label if isinstance(label, str) and label.strip() else None
    if not label:
        m = _CUSTOM_KEY(str(key))
        if m:
            label = labels.get(m.group(1)) or labels.get(int(m.group(1)))  # type: ignore[call-overload]
            label = str(label) if label is not None and str(label).strip() else None
    return label


def _custom_value(value: Any) -> Any:
    """A custom field's value as a cell holds it (a list-of-values entry by its label or name)."""
    if type(value) in _PLAIN:
        pass
    elif is_mapping(value):   # list-of-values entries: {id, label} or {id, name}
        value = value.get("label") or value.get("name") or value.get("value") or compact_json(value)
        if isinstance(value, Mapping | list):
            value = compact_json(value)
    elif isinstance(value, list):
        value = ", ".join(_item_text(x) for x in value) or None
    return value


def _item_text(x: Any) -> str:
    if isinstance(x, Mapping):
        x = x.get("label") or x.get("name") or x
    return x if isinstance(x, str) else compact_json(x)


# -- a page column by column

_DICT, _LIST, _NONE = dict, list, type(None)
_GET_LABEL = methodcaller("get", "label")
_CUSTOM = "custom_fields"


class _NotHere(Exception):
    """The page is not one :func:`page_columns` answers for."""


def page_columns(records: list, labels: Mapping[str, str] | None, lists: set[str]) -> dict[str, list] | None:
    """Each flat column of ``records`` -> its values (``ABSENT`` where a record lacks it), in the
    order of first appearance; names of columns made from lists added to ``lists``. None: flatten
    each record on its own (see the module doc)."""
    if not records or set(map(type, records)) != {dict}:
        return None
    keys = tuple(records[0])
    if not keys and set(map(len, records)) == {0}:
        return {}
    if not keys or any(type(k) is not str for k in keys) or set(map(tuple, records)) != {keys}:
        return None
    found: list[tuple[int, tuple, str, list]] = []      # (first row, place, name, values)
    made_lists: list[str] = []
    try:
        columns = _transposed(records, keys)
        for at, (key, values) in enumerate(zip(keys, columns)):
            if key == _CUSTOM and _custom_column(values, labels or {}, (at,), found):
                continue
            _column(key, list(values), (at,), found, made_lists)
    except _NotHere:
        return None
    names = [name for _, _, name, _ in found]
    if len(set(names)) != len(names):
        return None                                     # two fields, one name: row by row settles it
    taken = set(names)
    lists.update(name for name in made_lists if name in taken)
    found.sort(key=itemgetter(0, 1))
    return {name: values for _, _, name, values in found}


def _first(values: list) -> int:
    """The first row holding a value (-1: none)."""
    for i, v in enumerate(values):
        if v is not ABSENT:
            return i
    return -1


def _column(name: str, values: list, place: tuple, found: list, made_lists: list[str]) -> None:
    """One path's values over the page (``ABSENT`` for rows whose parent lacks it) into ``found``:
    as they are (scalars), as dotted columns (objects) or compact JSON (lists)."""
    types = set(map(type, values))
    if types <= _PLAIN:
        first = _first(values) if float in types else 0
        if first >= 0:
            found.append((first, place, name, values))
        return
    if not types <= _PLAIN | {_DICT, _LIST}:
        raise _NotHere
    objects = [v for v in values if type(v) is _DICT and v]
    if _LIST in types:
        if any(type(v) is _LIST and v for v in values):
            made_lists.append(name)
        values = [v if type(v) is not _LIST else compact_json(v) if v else None for v in values]
    if objects:
        sub = tuple(objects[0])
        if any(type(k) is not str for k in sub) or set(map(tuple, objects)) != {sub}:
            raise _NotHere
        blank = dict.fromkeys(sub, ABSENT)
        rows = [v if type(v) is _DICT and v else blank for v in values]
        columns = _transposed(rows, sub)
        prefix = name + "."
        for at, (key, sub_values) in enumerate(zip(sub, columns)):
            _column(prefix + key, list(sub_values), place + (at,), found, made_lists)
        values = [ABSENT if type(v) is _DICT and v else None if type(v) is _DICT else v for v in values]
    elif _DICT in types:
        values = [None if type(v) is _DICT else v for v in values]       # {} reads as nothing
    first = _first(values)
    if first >= 0:
        found.append((first, place, name, values))


def _custom_column(values: tuple, labels: Mapping[str, str], place: tuple, found: list) -> bool:
    """The custom fields' columns where every record's ``custom_fields`` is an object with the same
    fields (False: none of them is one, the column is an ordinary one)."""
    types = set(map(type, values))
    if _DICT not in types:
        return False
    if not types <= {_DICT, _NONE}:
        raise _NotHere
    present = [v for v in values if type(v) is _DICT]
    columns = _custom_columns(present, labels)
    if columns is None:                             # field by field did not answer: record by record
        rows = [custom_fields(v, labels) for v in present]
        names = tuple(rows[0])
        if set(map(tuple, rows)) != {names}:
            raise _NotHere
        columns = dict(zip(names, _transposed(rows, names)))
    first = 0
    if _NONE in types:
        first = next(i for i, v in enumerate(values) if v is not None)
        found.append((values.index(None), place, _CUSTOM, [None if v is None else ABSENT for v in values]))
        for name, column in columns.items():     # the rows without custom fields: ABSENT
            taken = iter(column)
            columns[name] = [ABSENT if v is None else next(taken) for v in values]
    for at, (name, column) in enumerate(columns.items()):
        found.append((first, place + (at,), name, column))
    return True


def _custom_columns(objects: list[dict], labels: Mapping[str, str]) -> dict[str, list] | None:
    """What :func:`custom_fields` gives for each of ``objects``, as columns, made field by field
    (None: their fields differ, or a field's label is not one for every record)."""
    keys = tuple(objects[0])
    if not keys:
        return {} if set(map(len, objects)) == {0} else None
    if set(map(tuple, objects)) != {keys}:
        return None
    out: dict[str, list] = {}
    for key, entries in zip(keys, _transposed(objects, keys)):
        kinds = set(map(type, entries))
        if kinds == {_DICT}:
            try:
                carried = set(map(_GET_LABEL, entries))
            except TypeError:                        # a label of a kind a set cannot hold
                return None
            if len(carried) != 1:
                return None
            label = _label(key, carried.pop(), labels)
            values = list(map(_DICT.get, entries, repeat("value"), entries))
        elif kinds <= _PLAIN:
            label, values = _label(key, None, labels), list(entries)
        else:
            return None
        if not set(map(type, values)) <= _PLAIN:
            values = list(map(_custom_value, values))
        name = label or f"custom_fields.{key}"
        if name in out:
            name = free_name(name, out)        # two fields, one label: keep both
        out[name] = values
    return out


def _transposed(rows: list[dict], keys: tuple) -> Any:
    """The values of each of ``keys`` (which every row has) over ``rows``, one sequence per key."""
    return zip(*map(itemgetter(*keys), rows)) if len(keys) > 1 else [[r[keys[0]] for r in rows]]
