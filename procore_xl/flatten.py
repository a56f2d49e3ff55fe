"""Records -> rows -> a clean pandas DataFrame.

* :func:`flatten_record`: nested objects become dotted columns (``assignee.name``), lists become
  compact JSON text, custom fields become one column per field named after its label.
* :func:`explode`: a Sub Report: each element of a nested list (``questions`` or, two levels,
  ``questions.answers``) becomes a row carrying its parents' key columns (``rfi.id``,
  ``rfi.number``, ``rfi.subject``, ``question.id``...).
* :func:`to_frame`: typed columns (ISO dates/timestamps -> naive UTC datetimes, money strings ->
  float, ids -> integers, or text above 2**53) and a stable column order (identity first).
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

MAX_EXACT_INT = 2 ** 53
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_NUM_RE = re.compile(r"^-?\d+(\.\d+)?$")
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


def _json(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False, default=str)


def flatten_record(rec: Mapping[str, Any], *, custom_labels: Mapping[str, str] | None = None,
                   prefix: str = "") -> dict[str, Any]:
    """One flat dict: nested dicts -> dotted keys, lists -> compact JSON (empty -> None)."""
    out: dict[str, Any] = {}
    for k, v in rec.items():
        col = f"{prefix}{k}"
        if k == "custom_fields" and isinstance(v, Mapping) and not prefix:
            out.update(_custom_fields(v, custom_labels or {}))
        elif isinstance(v, Mapping):
            if v:
                out.update(flatten_record(v, prefix=col + "."))
            else:
                out[col] = None
        elif isinstance(v, (list, tuple)):
            out[col] = _json(list(v)) if v else None
        else:
            out[col] = v
    return out


def _custom_fields(fields: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """``custom_field_<id>: {data_type, value[, label]}`` -> ``{<label>: value}``; unknown labels
    keep ``custom_fields.custom_field_<id>``."""
    out = {}
    for key, v in fields.items():
        label = None
        value = v
        if isinstance(v, Mapping):
            label = v.get("label")
            value = v.get("value", v)
        m = re.match(r"custom_field_(\d+)$", str(key))
        if not label and m:
            label = labels.get(m.group(1)) or labels.get(int(m.group(1)))  # type: ignore[call-overload]
        if isinstance(value, Mapping):   # list-of-values entries: {id, label} or {id, name}
            value = value.get("label") or value.get("name") or value.get("value") or _json(value)
        elif isinstance(value, list):
            value = ", ".join(str(x.get("label") or x.get("name") or x) if isinstance(x, Mapping)
                              else str(x) for x in value) or None
        out[label or f"custom_fields.{key}"] = value
    return out


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
    (``question.id``), then the element's own fields (not yet flattened)."""
    parts = path.split(".")
    rows: list[dict[str, Any]] = []

    def walk(node: Mapping[str, Any], depth: int, carried: dict[str, Any]) -> None:
        value = node.get(parts[depth])
        elems = value if isinstance(value, list) else [value] if isinstance(value, Mapping) else []
        for e in elems:
            if depth == len(parts) - 1:
                rows.append({**carried, **e} if isinstance(e, Mapping) else {**carried, "value": e})
            elif isinstance(e, Mapping):
                walk(e, depth + 1, {**carried, **parent_columns(e, singular(parts[depth]), child_keys)})

    for rec in records:
        carried = {k: v for k, v in rec.items() if "." in k}
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
        elif isinstance(v, str) and v.strip().lstrip("-").isdigit():
            ints.append(int(v))
        else:
            return s
    if any(abs(i) > MAX_EXACT_INT for i in ints):
        return s.map(lambda v: None if _missing(v) else str(int(float(v)) if isinstance(v, float) else v))
    return s.map(lambda v: None if _missing(v) else int(v)).astype("Int64")


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA


def _clean_dates(s: pd.Series) -> pd.Series:
    vals = s.dropna()
    if vals.empty or not all(isinstance(v, str) and _DATE_RE.match(v) for v in vals):
        return s
    try:
        out = pd.to_datetime(s, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        return s
    return out.dt.tz_localize(None)


def _clean_money(col: str, s: pd.Series) -> pd.Series:
    if not _MONEY_WORDS.search(col.rsplit(".", 1)[-1]):
        return s
    vals = s.dropna()
    if vals.empty:
        return s
    if not all((isinstance(v, str) and _NUM_RE.match(v.strip())) or
               (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in vals):
        return s
    if not any(isinstance(v, str) for v in vals):
        return s
    return s.map(lambda v: None if _missing(v) else float(v)).astype("Float64").astype(float)


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


def to_frame(rows: Sequence[Mapping[str, Any]], *, lead: Sequence[str] = (), keys: Sequence[str] = (),
             order: Sequence[str] = (), custom_labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Flatten ``rows`` and return a typed DataFrame with ordered columns. Leading columns whose
    names start with the lead prefixes (``project.``, ``rfi.``) come first in order of appearance."""
    flat = [flatten_record(r, custom_labels=custom_labels) for r in rows]
    columns: dict[str, None] = {}
    for r in flat:
        for k in r:
            columns.setdefault(k, None)
    cols = list(columns)
    lead_cols = [c for c in cols if any(c.startswith(p) for p in lead)] if lead else []
    cols = order_columns(cols, lead=lead_cols, keys=keys, order=order)
    frame = pd.DataFrame.from_records(flat, columns=cols) if flat else pd.DataFrame(columns=cols)
    frame = frame.astype(object) if len(frame) else frame
    for c in frame.columns:
        frame[c] = clean_column(c, frame[c])
    return frame
