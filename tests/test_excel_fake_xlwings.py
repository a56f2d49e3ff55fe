"""A small fake of the xlwings Book/Sheet/Range API: only what XlwingsWorkbook uses.

It mimics what Excel does on ``range.value = ...`` that matters to us: text starting with ``=``
becomes a formula, text that looks like a number becomes a number, a leading apostrophe
keeps text as text (and is not part of the value), and so does the Text number format ``@``
set on the cell before the value. Reading returns floats for numbers, like
Excel. The tests at the bottom check the fake's method signatures against real xlwings, so the
fake cannot drift from the API it stands in for.
"""
from __future__ import annotations

import inspect
import re

import xlwings as xw
from openpyxl.utils import get_column_letter, range_boundaries

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _excel_parse(v):
    """What Excel stores when COM sets Range.Value to ``v``."""
    if isinstance(v, str):
        if v.startswith("'"):
            return ("text", v[1:])
        if v.startswith("=") and len(v) > 1:
            return ("formula", v)
        if _NUMBER.match(v.strip()):
            return ("value", float(v))
        return ("value", v)
    if isinstance(v, bool):
        return ("value", v)
    if isinstance(v, int):
        return ("value", float(v))
    return ("value", v)


class FakeApp:
    def __init__(self):
        self.status_bar = False
        self.status_history = []
        self.alerts = []
        self.screen_updating, self.calculation, self.enable_events = True, "automatic", True
        self.settings_history = []          # (screen_updating, calculation, enable_events) at each change
        self.writes = 0                     # Range.value assignments (bulk writes)

    def __setattr__(self, key, value):
        if key == "status_bar" and hasattr(self, "status_history"):
            self.status_history.append(value)
        object.__setattr__(self, key, value)
        if key in ("screen_updating", "calculation", "enable_events") and hasattr(self, "settings_history"):
            self.settings_history.append((self.screen_updating, self.calculation, self.enable_events))

    @property
    def quiet(self):
        return (self.screen_updating, self.calculation, self.enable_events) == (False, "manual", False)

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self.alerts.append(prompt)
        return "ok"


class _Font:
    def __init__(self, rng):
        self._rng = rng

    @property
    def bold(self):
        return all(k in self._rng.sheet.bold for k in self._rng._keys())

    @bold.setter
    def bold(self, value):
        for k in self._rng._keys():
            (self._rng.sheet.bold.add if value else self._rng.sheet.bold.discard)(k)


class _Validation:
    def __init__(self, rng):
        self._rng = rng

    def set_list(self, source, *, in_cell_dropdown=True):
        """A Name (stored as its name) or literal values (stored as a list of texts), with the
        checks real xlwings makes on literal values (DataValidation._literal_source)."""
        if isinstance(source, FakeName):
            stored = source.name
        else:
            if isinstance(source, (str, bytes)) or not isinstance(source, (list, tuple)):
                raise TypeError("source must be a non-empty sequence, Range, or Name")
            if not source:
                raise ValueError("source must not be empty")
            stored = [v if isinstance(v, str) else str(v) for v in source]
            if any("," in v or ";" in v for v in stored):
                raise ValueError("literal list values cannot contain ',' or ';'")
            if len(",".join(stored)) > 255:
                raise ValueError("a literal list source cannot exceed 255 characters")
        for k in self._rng._keys():
            self._rng.sheet.validations[k] = stored

    def delete(self):
        for k in self._rng._keys():
            self._rng.sheet.validations.pop(k, None)


class FakeRange:
    def __init__(self, sheet, r1, c1, r2, c2, ndim=None):
        self.sheet, self.r1, self.c1, self.r2, self.c2, self._ndim = sheet, r1, c1, r2, c2, ndim

    def _keys(self):
        return [(r, c) for r in range(self.r1, self.r2 + 1) for c in range(self.c1, self.c2 + 1)]

    def options(self, ndim=None, **_):
        return FakeRange(self.sheet, self.r1, self.c1, self.r2, self.c2, ndim)

    @property
    def address(self):
        a = f"${get_column_letter(self.c1)}${self.r1}"
        b = f"${get_column_letter(self.c2)}${self.r2}"
        return a if a == b else f"{a}:{b}"

    @property
    def row(self):
        return self.r1

    @property
    def count(self):
        return (self.r2 - self.r1 + 1) * (self.c2 - self.c1 + 1)

    @property
    def last_cell(self):
        return FakeRange(self.sheet, self.r2, self.c2, self.r2, self.c2)

    @property
    def value(self):
        rows = [[self.sheet.cells.get((r, c)) for c in range(self.c1, self.c2 + 1)]
                for r in range(self.r1, self.r2 + 1)]
        if self._ndim == 2:
            return rows
        if self.count == 1:
            return rows[0][0]
        return rows[0] if self.r1 == self.r2 else rows

    @value.setter
    def value(self, values):
        if not isinstance(values, list):
            values = [[values]]
        elif values and not isinstance(values[0], list):
            values = [values]
        self.sheet.book.app.writes += 1
        for i, row in enumerate(values):
            for j, v in enumerate(row):
                key = (self.r1 + i, self.c1 + j)
                kind, stored = ("text", v) if isinstance(v, str) and self.sheet.formats.get(key) == "@" \
                    else _excel_parse(v)
                self.sheet.formulas.pop(key, None)
                if stored is None:
                    self.sheet.cells.pop(key, None)
                elif kind == "formula":
                    self.sheet.formulas[key] = stored
                    self.sheet.cells[key] = "<computed>"
                else:
                    self.sheet.cells[key] = stored

    @property
    def formula(self):
        rows = [[self.sheet.formulas.get((r, c), self.sheet.cells.get((r, c), ""))
                 for c in range(self.c1, self.c2 + 1)] for r in range(self.r1, self.r2 + 1)]
        if self._ndim == 2:
            return rows
        return rows[0][0] if self.count == 1 else rows

    @formula.setter
    def formula(self, formula):
        """One formula for the whole range (what the product writes for a calculated column)."""
        assert isinstance(formula, str) and formula.startswith("=")
        for k in self._keys():
            self.sheet.formulas[k] = formula
            self.sheet.cells[k] = "<computed>"

    @property
    def formula_array(self):
        return self.sheet.formulas.get((self.r1, self.c1))

    @formula_array.setter
    def formula_array(self, formula):
        """An array formula in one cell (Excel: Ctrl+Shift+Enter)."""
        assert isinstance(formula, str) and formula.startswith("=") and self.count == 1
        self.sheet.formulas[(self.r1, self.c1)] = formula
        self.sheet.arrays.add((self.r1, self.c1))
        self.sheet.cells[(self.r1, self.c1)] = "<computed>"

    @property
    def number_format(self):
        return self.sheet.formats.get((self.r1, self.c1), "General")

    @number_format.setter
    def number_format(self, fmt):
        for k in self._keys():
            self.sheet.formats[k] = fmt

    @property
    def font(self):
        return _Font(self)

    @property
    def data_validation(self):
        return _Validation(self)

    @property
    def column_width(self):
        return self.sheet.widths.get(self.c1, 8.43)

    @column_width.setter
    def column_width(self, width):
        for c in range(self.c1, self.c2 + 1):
            self.sheet.widths[c] = width

    def clear(self):
        for k in self._keys():
            for store in (self.sheet.cells, self.sheet.formats, self.sheet.formulas):
                store.pop(k, None)
            self.sheet.bold.discard(k)


class FakeTable:
    def __init__(self, sheet, name, rng):
        self.sheet, self.name, self._rect = sheet, name, (rng.r1, rng.c1, rng.r2, rng.c2)

    @property
    def range(self):
        return FakeRange(self.sheet, *self._rect)

    def resize(self, range):
        rng = range
        assert rng.r1 == self._rect[0], "Excel keeps the header row of a resized table"
        self.sheet.tables._check_free(FakeRange(self.sheet, rng.r1, rng.c1, rng.r2, rng.c2), ignore=self)
        self._rect = (rng.r1, rng.c1, rng.r2, rng.c2)

    def delete(self):
        self.range.clear()
        self.sheet.tables._items.remove(self)


class FakeTables:
    def __init__(self, sheet):
        self.sheet, self._items = sheet, []

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self):
        return len(self._items)

    def _check_free(self, rng, ignore=None):
        for t in self._items:
            if t is ignore:
                continue
            r1, c1, r2, c2 = t._rect
            if not (rng.r2 < r1 or rng.r1 > r2 or rng.c2 < c1 or rng.c1 > c2):
                raise RuntimeError("A table cannot overlap another table")

    def add(self, source=None, name=None, source_type=None, link_source=None, has_headers=True,
            destination=None, table_style_name="TableStyleMedium2"):
        book = self.sheet.book
        if any(t.name.lower() == name.lower() for s in book.sheets for t in s.tables):
            raise RuntimeError(f"A table named {name} exists")
        self._check_free(source)
        table = FakeTable(self.sheet, name, source)
        table.style = table_style_name
        self._items.append(table)
        return table


class _Used:
    def __init__(self, sheet):
        self.sheet = sheet

    def _rng(self):
        keys = list(self.sheet.cells) or [(1, 1)]
        return FakeRange(self.sheet, 1, 1, max(k[0] for k in keys), max(k[1] for k in keys))


class FakeUnion:
    def __init__(self, sheet, address):
        self.sheet, self.areas = sheet, [sheet.range(a) for a in address.split(",")]


class FakeSheet:
    def __init__(self, book, name):
        self.book, self.name = book, name
        self.cells, self.formats, self.formulas, self.widths, self.validations = {}, {}, {}, {}, {}
        self.bold = set()
        self.arrays = set()
        self.visible = True
        self.tables = FakeTables(self)
        self.charts = FakeCharts(self)

    def range(self, cell1, cell2=None):
        if isinstance(cell1, str) and "," in cell1:       # a union of areas (chart sources)
            return FakeUnion(self, cell1)
        if isinstance(cell1, str):
            c1, r1, c2, r2 = range_boundaries(cell1 if ":" in cell1 else f"{cell1}:{cell1}")
            return FakeRange(self, r1, c1, r2, c2)
        r1, c1 = cell1
        r2, c2 = cell2 if cell2 is not None else cell1
        return FakeRange(self, r1, c1, r2, c2)

    def __getitem__(self, address):
        return self.range(address)

    @property
    def used_range(self):
        return _Used(self)._rng()

    def activate(self):
        self.book.sheets._active = self


class FakeChart:
    def __init__(self, sheet, left, top, width, height):
        self.sheet, self.box = sheet, (left, top, width, height)
        self.chart_type, self.source, self.name = None, None, None

    def set_source_data(self, source, plot_by=None):
        self.source = source


class FakeCharts:
    def __init__(self, sheet):
        self.sheet, self._items = sheet, []

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self):
        return len(self._items)

    def add(self, left=0, top=0, width=355, height=211, chart_type=None, source=None, plot_by=None, name=None,
            anchor=None, style=227):
        chart = FakeChart(self.sheet, left, top, width, height)
        self._items.append(chart)
        return chart


class FakeSheets:
    def __init__(self, book):
        self.book, self._items, self._active = book, [], None

    def __iter__(self):
        return iter(list(self._items))

    def __len__(self):
        return len(self._items)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self._items[key]
        for s in self._items:
            if s.name.lower() == key.lower():
                return s
        raise KeyError(key)

    def add(self, name=None, before=None, after=None):
        if name is not None and name.lower() in (s.name.lower() for s in self._items):
            raise ValueError("Sheet named '%s' already present in workbook" % name)
        if len(name) > 31 or re.search(r"[\[\]:*?/\\]", name):
            raise ValueError(f"Excel refuses the sheet name {name!r}")
        sheet = FakeSheet(self.book, name)
        pos = self._items.index(after) + 1 if after is not None else len(self._items)
        self._items.insert(pos, sheet)
        self._active = sheet
        return sheet

    @property
    def active(self):
        return self._active


class FakeName:
    def __init__(self, name, refers_to):
        self.name, self.refers_to = name, refers_to


class FakeNames:
    def __init__(self):
        self._items = {}

    def __iter__(self):
        return iter(list(self._items.values()))

    def __getitem__(self, name):
        for key, n in self._items.items():
            if key.lower() == name.lower():
                return n
        raise KeyError(name)

    def add(self, name, refers_to):
        assert refers_to.startswith("="), "Excel names refer to a formula"
        self._items = {k: v for k, v in self._items.items() if k.lower() != name.lower()}
        self._items[name] = FakeName(name, refers_to)
        return self._items[name]


class FakeBook:
    def __init__(self, sheet_names=("Sheet1",)):
        self.app = FakeApp()
        self.sheets = FakeSheets(self)
        self.names = FakeNames()
        for name in sheet_names:
            self.sheets.add(name)
        self.sheets._active = self.sheets[0]

    def get(self, sheet, address):
        return self.sheets[sheet].range(address).value


# -- the fake stays faithful to the real API ---------------------------------------------------
def _params(fn):
    return [p for p in inspect.signature(fn).parameters if p != "self"]


def test_fake_signatures_match_xlwings():
    assert _params(FakeTables.add) == _params(xw.main.Tables.add)
    assert _params(FakeSheets.add) == _params(xw.main.Sheets.add)
    assert _params(FakeNames.add) == _params(xw.main.Names.add)
    assert _params(FakeTable.resize) == _params(xw.main.Table.resize)
    assert _params(_Validation.set_list) == _params(xw.main.DataValidation.set_list)
    assert _params(FakeApp.alert) == _params(xw.main.App.alert)
    assert _params(FakeCharts.add) == _params(xw.main.Charts.add)
    assert _params(FakeChart.set_source_data) == _params(xw.main.Chart.set_source_data)
    for attr in ("value", "formula", "number_format", "font", "data_validation", "column_width", "address",
                 "last_cell", "count", "formula_array"):
        assert hasattr(xw.main.Range, attr), attr
    for attr in ("chart_type", "name"):
        assert hasattr(xw.main.Chart, attr), attr
    for attr in ("used_range", "tables", "activate", "range", "visible", "charts"):
        assert hasattr(xw.main.Sheet, attr), attr
    for attr in ("status_bar", "screen_updating", "calculation", "enable_events"):
        assert hasattr(xw.main.App, attr), attr


def test_fake_literal_lists_accept_what_xlwings_accepts():
    """set_list with literal values: the fake takes and refuses exactly what real xlwings'
    DataValidation._literal_source takes and refuses (it runs before any Excel call)."""
    import pytest

    cases = [["none", "questions", "answers"], ["a" * 127, "b" * 127], ["a" * 127, "b" * 128],
             ["a,b", "c"], ["a;b"], [], "none,questions"]
    for values in cases:
        try:
            real = xw.main.DataValidation._literal_source(values)
        except (TypeError, ValueError) as exc:
            real = type(exc)
        book = FakeBook()
        try:
            book.sheets[0].range("B9").data_validation.set_list(values)
            fake = book.sheets[0].validations[(9, 2)]
        except (TypeError, ValueError) as exc:
            fake = type(exc)
        assert fake == real, values
    with pytest.raises(ValueError):
        xw.main.DataValidation._literal_source(["x"] * 200)
