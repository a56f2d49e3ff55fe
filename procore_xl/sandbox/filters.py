"""Procore list filters applied to generated records: ``filters[attr]``, plain params, date scopes, sort."""
from __future__ import annotations

from datetime import date, datetime


class FilterError(ValueError):
    """A filter value the API would reject (400)."""


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return str(value.get("id"))
    return str(value)


def _filter_name(key: str) -> str | None:
    if key.startswith("filters[") and "]" in key:
        return key[len("filters["):key.index("]")]
    return None


def _parse_instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(f"invalid date or time {text!r}") from None


def _in_range(value: str | None, bounds: str) -> bool:
    if not value:
        return False
    start, _, end = bounds.partition("...")
    for bound, sign in ((start, 1), (end, -1)):
        if not bound:
            continue
        if len(bound) == 10:        # a plain date: compare the record's date part
            _parse_instant(bound)
            difference = (value[:10] > bound) - (value[:10] < bound)
        else:
            a, b = _parse_instant(value if len(value) > 10 else value + "T00:00:00+00:00"), _parse_instant(bound)
            difference = (a > b) - (a < b)
        if difference * sign < 0:
            return False
    return True


def matches(record: dict, field: str, values: list[str]) -> bool:
    if field not in record:
        return True                  # Procore ignores filters on attributes a record does not have
    if len(values) == 1 and "..." in values[0]:
        return _in_range(record[field], values[0])
    return _text(record[field]) in values


def apply_filters(records: list[dict], query: list[tuple[str, str]], plain: tuple[str, ...] = ()) -> list[dict]:
    """Keep records matching every ``filters[x]`` (and every listed plain param) of the query."""
    wanted: dict[str, list[str]] = {}
    for key, value in query:
        name = _filter_name(key) or (key if key in plain else None)
        if name and name != "by_status":
            values = [value] if "..." in value else value.split(",")
            wanted.setdefault(name, []).extend(values)
    if not wanted:
        return records
    return [r for r in records if all(matches(r, f, v) for f, v in wanted.items())]


def apply_sort(records: list[dict], sort: str | None) -> list[dict]:
    """``sort=field`` or ``sort=-field`` (comma list); unknown fields are ignored."""
    if not sort or not records:
        return records
    out = list(records)
    for part in reversed([p.strip() for p in sort.split(",") if p.strip()]):
        field = part.lstrip("-")
        if field in out[0]:
            out.sort(key=lambda r: (r.get(field) is None, r.get(field)), reverse=part.startswith("-"))
    return out


def date_scope(params: dict[str, str], today: date) -> tuple[str, str]:
    """The (start, end) dates of a daily-log request; no date parameter means today only."""
    if params.get("log_date"):
        day = _check_date(params["log_date"])
        return day, day
    start, end = params.get("start_date"), params.get("end_date")
    if start or end:
        start = _check_date(start) if start else _check_date(end)
        end = _check_date(end) if end else start
        if end < start:
            raise FilterError("end_date is before start_date")
        return start, end
    return today.isoformat(), today.isoformat()


def _check_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise FilterError(f"invalid date {text!r}, expected YYYY-MM-DD") from None
