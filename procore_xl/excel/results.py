"""A new workbook from report runs already made: ``procore-xl pull --out x.xlsx`` and the demo.

:func:`skeleton` builds the sheets with openpyxl (metadata labels, parameter cells and their
dropdowns, the ``_procore`` registry; no data); :func:`write_runs` then streams each report's
table into it through :class:`~procore_xl.excel.ooxml.workbook.PackageWorkbook`, exactly as a refresh
writes it. :func:`write_workbook` writes a file atomically (:func:`procore_xl.files.replacing`);
``output`` calls it for ``pull --out x.xlsx`` and nothing in ``excel`` imports ``output``.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import openpyxl

from ..errors import ConfigurationError
from ..files import replacing
from .analysis_sheet import add_placeholder, write_analysis_sheets
from .openpyxl_writer import OpenpyxlWorkbook
from .ooxml.workbook import PackageWorkbook
from .registry import Entry
from .report_sheet import EXCEL_MAX_ROWS, ROW_MESSAGE, create_report_sheet, header_row, record_run


def skeleton(reports: list[tuple[str, Mapping[str, Any]]],
             book: openpyxl.Workbook | None = None) -> tuple[openpyxl.Workbook, list[Entry]]:
    """``book`` (a loaded template; a blank workbook when None) with one report sheet per
    (report, params): labels, parameter cells, registry row; no data yet. The first is active."""
    if book is not None:
        book.template = False        # an .xltx/.xltm template gives a workbook, not another template
    blank = None
    if book is None:
        book = openpyxl.Workbook()
        blank = book.active
    wb = OpenpyxlWorkbook(book)
    entries = [create_report_sheet(wb, report, params) for report, params in reports]
    if blank is not None and len(book.worksheets) > 1:
        book.remove(blank)
    if entries:
        wb.activate(entries[0].sheet)
    return book, entries


def write_runs(target: str | os.PathLike, runs: Iterable[tuple[Mapping[str, Any], Any]], *,
               name: str | None = None, analyses: Iterable[tuple[Any, list[int]]] = ()) -> None:
    """Write a new .xlsx to ``target``: one report sheet per ``(params, result)`` (``result`` a
    ReportResult), registered so that ``procore-xl refresh`` can refresh it later, looking
    exactly as after a refresh (:func:`record_run`). A report with more rows than a sheet holds
    is a ConfigurationError raised before anything is written. ``name``: the file name the
    messages give (``target`` may be a temporary file). ``analyses``: (analysis, the index in
    ``runs`` of the run of each of its sources): an analysis sheet over those report sheets."""
    target = Path(target)
    name = name or target.name
    runs = list(runs)
    book, entries = skeleton([(result.report, params) for params, result in runs])
    analyses = [(analysis, indexes, add_placeholder(book, analysis, i)) for i, (analysis, indexes) in enumerate(analyses)]
    for entry, (_, result) in zip(entries, runs):
        room = EXCEL_MAX_ROWS - header_row(entry)
        if len(result.table) > room:
            raise ConfigurationError(
                f"Cannot write {name}: {len(result.table):,} rows of {result.report} do not fit in an "
                f"Excel sheet ({room:,} rows below the header) - write CSV instead "
                f"(--out {Path(name).with_suffix('.csv').name}) or narrow the parameters")
    book.save(target)
    wb = PackageWorkbook(target.read_bytes())
    for entry, (params, result) in zip(entries, runs):
        if not record_run(wb, entry, params or {}, result):
            raise ConfigurationError(f"Cannot write {name}: {wb.read(entry.sheet, ROW_MESSAGE, 2, 1, 1)[0][0]}")
    wb.save(target)
    if analyses:
        write_analysis_sheets(target, [(a, sheet, {s.name: entries[i] for s, i in zip(a.sources, indexes)})
                                       for a, indexes, sheet in analyses])


def write_workbook(path: str | os.PathLike, runs: Iterable[tuple[Mapping[str, Any], Any]], *,
                   analyses: Iterable[tuple[Any, list[int]]] = ()) -> Path:
    """:func:`write_runs` into a temporary file that takes ``path``'s place once complete."""
    path = Path(path)
    with replacing(path) as tmp:
        write_runs(tmp, runs, name=path.name, analyses=analyses)
    return path
