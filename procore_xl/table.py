"""A report's typed table: the typing rules and :class:`Table`, read whole or block by block.

* :class:`ColumnType` decides what one column becomes, over all its values (which may come page by
  page); :func:`typed` makes a column (or a block of it) of that type; :func:`clean_column` types
  a whole column at once; :func:`order_columns` puts identity first.
* :class:`Table`: the typed table, read whole (``frame()``) or block by block (``blocks()``, what
  a streamed CSV reads), from a ready frame or from the pages a ``flatten.FrameBuilder`` holds.

Types are all-or-nothing per column: a column becomes datetimes only when every non-blank value is
ISO-8601 text that parses; money only when every non-blank value is plain decimal text (``-12.5``,
``1234.00``; no ``+``, exponent, thousands separator or leading zeros) that a float holds exactly
(<= 15 significant digits); ids only when every value is an integer (text with leading zeros, e.g.
``"007"``, keeps the column text). Blank text (``""``) counts as missing in a column that converts;
any other text (``"N/A"``, ``"-see note"``) keeps the whole column as the original text. Ids stay
exact integers (an id above 2**53 becomes text only in the Excel cell that cannot hold it, see
``excel/values.py``).
"""
from __future__ import annotations

import re
import sys
from collections import deque
from datetime import date, datetime
from operator import itemgetter
from typing import Any, Callable, Iterator, Protocol, Sequence

from .lazy_pandas import pd



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


_INT = {int}                                                 # the types of a column of ints alone
_STR = {str}                                                 # ... of text alone


def _is_id_col(col: str) -> bool:
    last = col.rsplit(".", 1)[-1]
    return last == "id" or last.endswith("_id")


def is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    pandas = sys.modules.get("pandas")      # values from JSON are never pd.NA: no import for this
    return pandas is not None and v is getattr(pandas, "NA", None)


def is_blank(v: Any) -> bool:
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
    ``parse_dates`` each piece of date text is also checked as it comes, so a date that only
    looks like one (``2026-13-45``) keeps the column as sent before any piece is converted, and
    :attr:`dates_only` says whether every value is a midnight (a date without a time).
    :attr:`moments` has one entry per piece: None for a piece without a date; :data:`ZULU` or
    :data:`DAYS` for a piece all in the form Procore sends (checked in C, see
    :func:`_text_form`; its datetimes and its CSV text are made from the piece's values when
    asked: :func:`piece_moments`, :func:`dates_text`, no pandas for a CSV); else the piece parsed
    by pandas (a Series, 8 bytes a value)."""

    def __init__(self, name: str, *, parse_dates: bool = False):
        self.ids = _is_id_col(name)
        self.dates = not self.ids
        self.money = not self.ids and bool(_MONEY_WORDS.search(name.rsplit(".", 1)[-1]))
        self._parse = parse_dates
        self.moments: list[pd.Series | str | None] = []
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
        if values and set(map(type, values)) == _INT:      # the common case: ints alone, checked in C
            self._id_seen = True
            self._big = self._big or max(values) >= 2 ** 63 or min(values) <= -2 ** 63
            return
        for v in values:
            if type(v) is int:          # the common case first (a bool is not an int here)
                n = v
            elif is_missing(v):
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
        if self._parse:
            form = _text_form(values)
            if form is not None:                # the forms Procore sends, checked without pandas
                self._date_seen = True
                self.moments.append(form[0])
                self.dates_only = self.dates_only and form[1]
                return
        found = False
        for v in values:                # stop at the first value that is not a date (most columns)
            if type(v) is str:
                if _DATE_RE.fullmatch(v):
                    found = True
                elif v.strip():
                    self._not_dates()
                    return
            elif not is_missing(v):
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
            if is_missing(v) or is_blank(v):
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


ZULU, DAYS = "zulu", "days"      # a piece of dates all YYYY-MM-DDTHH:MM:SSZ / all YYYY-MM-DD
_FORMS = {20: (ZULU, b"0000-00-00T00:00:00Z\n", datetime.fromisoformat),
          10: (DAYS, b"0000-00-00\n", date.fromisoformat)}
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_YEARS = ("1678", "2261")         # well inside pandas' datetime64[ns] range (1677-09-21 to 2262-04-11)
_TEXT_OR_MISSING = frozenset({str, type(None), float})
_NOT_MIDNIGHT = re.compile("T(?!00:00:00Z)").search


def _text_form(values: Sequence[Any]) -> tuple[str, bool] | None:
    """``(ZULU or DAYS, every value a midnight)`` for a piece whose values are all missing (None,
    NaN) or text of that one form (at least one), each a valid date and time (as pandas checks:
    months, days of the month and Feb 29 in leap years, hours, minutes, seconds) in a year of
    :data:`_YEARS`; None for any other piece (an offset, a fraction, a space, two forms, a blank
    text, an invalid date...: pandas decides). Checked by C loops, not per value in Python."""
    types = set(map(type, values))
    if types == _STR:
        texts = values
    elif str in types and types <= _TEXT_OR_MISSING:
        texts = [v for v in values if type(v) is str]
        if float in types and any(v == v for v in values if type(v) is float):
            return None                 # a number among dates: not a date piece
    else:
        return None
    found = _FORMS.get(len(texts[0]))
    if found is None:
        return None
    form, line, parse = found
    joined = "\n".join(texts) + "\n"
    # each value (a line feed inside one would add a line) in the form: every digit as a 0
    if not joined.isascii() or joined.encode("ascii").translate(_DIGITS_AS_ZERO) != line * len(texts):
        return None
    if min(texts)[:4] < _YEARS[0] or max(texts)[:4] > _YEARS[1]:
        return None
    try:
        deque(map(parse, texts), maxlen=0)       # the dates and times valid
    except ValueError:
        return None
    return form, form == DAYS or _NOT_MIDNIGHT(joined) is None


_DAY, _SECOND = itemgetter(slice(None, 10)), itemgetter(slice(None, 19))


def _kept_text(form: str, values: list[Any], dates_only: bool) -> list[str | None]:
    """A piece kept as its text (:func:`_text_form`) as :func:`dates_text` writes it."""
    if form == ZULU:
        cut = _DAY if dates_only else _SECOND
        if set(map(type, values)) == _STR:
            return list(map(cut, values))
        return [cut(v) if type(v) is str else None for v in values]
    if dates_only:
        return [v if type(v) is str else None for v in values]
    return [v + "T00:00:00" if type(v) is str else None for v in values]


def piece_moments(moments: pd.Series | str | None, rows: int, values: Callable[[], list[Any]]) -> pd.Series:
    """One piece of a dates column (an entry of :attr:`ColumnType.moments`) as naive UTC
    datetimes; ``values()``: the piece's values, read for a piece kept as its text."""
    if moments is None:
        return typed(DATES, [None] * rows)
    if isinstance(moments, str):
        return _to_datetimes(values())
    return moments


def _to_datetimes(values: Sequence[Any]) -> pd.Series:
    """Date text (and missing values: a date column holds nothing else) as naive UTC datetimes."""
    text = pd.Series([v if type(v) is str and v and not v.isspace() else None for v in values], dtype=object)
    return pd.to_datetime(text, utc=True, format="ISO8601").dt.tz_localize(None)


def typed(kind: str, values: Sequence[Any]) -> pd.Series:
    """``values`` (one column, or a block of it) as a Series of the column's ``kind``."""
    if kind == IDS:      # exact: not via float (no rounding above 2**53); above 2**53 becomes
        # text only in the one Excel cell that cannot hold it (excel/values.py)
        if set(map(type, values)) != _INT:
            values = [v if type(v) is int else None if is_missing(v) else int(v) for v in values]
        return pd.Series(pd.array(values, dtype="Int64"))
    if kind == BIG_IDS:  # beyond int64: exact Python ints
        return pd.Series([None if is_missing(v) else int(v) for v in values], dtype=object)
    if kind == DATES:
        return _to_datetimes(values)
    if kind == MONEY:
        return pd.Series([None if is_missing(v) or is_blank(v) else float(v) for v in values], dtype=float)
    # dtype=object: no int -> float upcast (an id above 2**53 next to a missing value stays exact)
    return pd.Series(values, dtype=object)


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def plain(kind: str, values: list[Any]) -> list[Any] | None:
    """A column (or a block of it) of ``kind`` (not dates) as the Python values its typed Series
    reads back as (``Series.tolist()``, missing as None): exact ints, floats, values as sent; None
    when it holds a value of a kind JSON does not make (then the Series is made)."""
    if kind == IDS or kind == BIG_IDS:
        if set(map(type, values)) == _INT:
            return values
        return [v if type(v) is int else None if is_missing(v) else int(v) for v in values]
    if kind == MONEY:
        values = [None if is_missing(v) or is_blank(v) else float(v) for v in values]
        return [None if v is None or v != v else v for v in values]
    types = set(map(type, values))
    if not types <= _PLAIN_TYPES:
        return None
    if float in types:
        return [None if type(v) is float and v != v else v for v in values]
    return values


def dates_text(moments: list[pd.Series | str | None], rows: list[int], dates_only: bool,
               values: Callable[[int], list[Any]] | None = None) -> list[str | None]:
    """Pieces of a dates column (entries of :attr:`ColumnType.moments`) as ISO text:
    ``YYYY-MM-DD`` when ``dates_only``, else ``YYYY-MM-DDTHH:MM:SS`` (what a CSV holds); missing
    as None. ``values(k)``: the values of the k-th piece, read for a piece kept as its text."""
    out: list[str | None] = []
    for k, (piece, n) in enumerate(zip(moments, rows)):
        if piece is None:
            out.extend([None] * n)
        elif isinstance(piece, str):
            out.extend(_kept_text(piece, values(k), dates_only))
        else:
            import numpy
            text = numpy.datetime_as_string(piece.to_numpy(), unit="D" if dates_only else "s").tolist()
            out.extend([None if t == "NaT" else t for t in text])
    return out


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



class Pages(Protocol):
    """What a :class:`Table` reads its rows from (:class:`~procore_xl.flatten.FrameBuilder`: the
    pages flattened as they came): the whole frame, blocks of rows, and each column's type."""

    def _frame(self, columns: list[str]) -> Any: ...

    def _blocks(self, columns: list[str], types: Any, rows: int) -> Iterator[Any]: ...

    def _column_types(self, columns: list[str]) -> Any: ...

    def _plain_blocks(self, columns: list[str], types: Any, rows: int) -> Iterator[Any]: ...

    def _list_columns(self, columns: list[str]) -> list[str]: ...


class Table:
    """A report's typed table, read whole (:meth:`frame`, made once) or block by block
    (:meth:`blocks`: the same rows typed as the whole frame types them, without the whole frame
    ever being held; what a CSV or any other streamed output needs)."""

    def __init__(self, columns: Sequence[str], rows: int, *, frame: pd.DataFrame | None = None,
                 builder: Pages | None = None):
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

    def plain_blocks(self, rows: int = 2_000, columns: Sequence[str] | None = None) -> Iterator[Any]:
        """:meth:`blocks` as lists of each column's plain values (:func:`plain`; dates as ISO text,
        :func:`dates_text`) where the table is read from pages, without a DataFrame per block; a
        block this cannot give (or a table made from a frame) comes as its DataFrame.
        ``columns``: only those (default: all)."""
        if self._builder is None:
            yield from self.blocks(rows, columns)
            return
        cols = self.columns if columns is None else list(columns)
        yield from self._builder._plain_blocks(cols, self._column_types(), rows)

    def plain_kinds(self) -> dict[str, str] | None:
        """Each column's kind (:data:`IDS`, :data:`MONEY`...) when :meth:`plain_blocks` gives
        exactly the values :meth:`blocks` types (read from pages, every piece of dates in a form
        Procore sends, kept as its text: its ISO text holds the whole datetime); None when it
        may not (a table made from a frame; dates pandas parsed, which may hold fractions of a
        second that the ISO text drops)."""
        if self._builder is None:
            return None
        types = self._column_types()
        if any(t.kind == DATES and not all(m is None or isinstance(m, str) for m in t.moments)
               for t in types.values()):
            return None
        return {c: t.kind for c, t in types.items()}

    def list_columns(self) -> list[str]:
        """The columns made from nested lists (their compact JSON text)."""
        if self._builder is None:
            return list(self.frame().attrs.get(LIST_COLUMNS, ()))
        return self._builder._list_columns(self.columns)

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
