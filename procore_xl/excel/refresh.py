"""Workbook files without Excel: the CLI's ``procore-xl refresh``, ``new-workbook`` and ``pull --out x.xlsx``.

A refresh never loads the workbook into openpyxl: :class:`~procore_xl.excel.ooxml.workbook.PackageWorkbook`
reads the ``_procore`` registry and the parameter cells from the package, runs every report,
and writes a copy of the package in which only the report sheets, their table parts, the
registry and (when a format was missing) ``styles.xml`` are new - the VBA project, the ribbon,
the person's own sheets, charts and names are copied byte for byte. The copy is written to a
temporary file in the same folder that replaces the original (``files.replacing``) only once
it is complete: a refresh that fails or is killed half-way leaves the original file untouched.

A new workbook is built in two steps: openpyxl makes the skeleton (sheets, metadata labels,
parameter cells with their dropdowns, ``_procore``, ``_lists`` and their names; from a template
such as procore.xlsm, whose ``customUI`` parts :func:`restore_parts` puts back), then the
report tables are streamed into it exactly as a refresh writes them.
"""
from __future__ import annotations

import os
import posixpath
import sys
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from tqdm import tqdm

from ..analyses import Analysis
from ..errors import ConfigurationError, ProcoreError, is_terminal
from ..files import check_folder, replaced, replacing
from ..plan import Plan
from ..store import Scope
from .analysis_sheet import add_placeholder, source_reports, write_analysis_sheets
from .dropdowns import compute_lists, write_lists
from .openpyxl_writer import OpenpyxlWorkbook
from .ooxml.relationships import add_relationships, add_types, defaults, element, relationships
from .ooxml.workbook import PackageWorkbook
from .registry import read_registry
from .report_sheet import (RATE_LIMIT_PREFIX, ROW_MESSAGE, ROW_STATUS, STATUS_OK, moved_block, read_parameters,
                           refresh_report_sheet, refresh_report_sheets)
from .results import skeleton, write_workbook

MACRO_SUFFIXES = {".xlsm", ".xltm", ".xlam"}
REFRESH_PREFIX = "Refresh: "      # how a refreshed report sheet's Message starts (report_sheet.py)
OUTPUT_SUFFIXES = (".xlsx", ".xlsm")


@dataclass
class WorkbookRefresh:
    path: Path
    refreshed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dropped_parts: list[str] = field(default_factory=list)   # of a template, not in the result
    reasons: dict[str, str] = field(default_factory=dict)    # failed sheet -> its Message cell
    notes: dict[str, str] = field(default_factory=dict)      # refreshed sheet -> its warnings (Message)
    statuses: dict[str, str] = field(default_factory=dict)   # refreshed sheet -> "full" / "incremental: ..."
    analyses: list[Any] = field(default_factory=list)       # analysis_layout.Layout of each analysis sheet

    def note_failures(self, wb: Any) -> "WorkbookRefresh":
        """Why each failed sheet failed, and the warnings of the others, as their Message cells say."""
        for sheet in [*self.failed, *self.refreshed]:
            if sheet in wb.sheet_names() and sheet not in self.reasons:   # (a moved block: its reason is set)
                status, message = (wb.read(sheet, row, 2, 1, 1)[0][0] for row in (ROW_STATUS, ROW_MESSAGE))
                if sheet in self.failed:
                    self.reasons[sheet] = str(message or "")
                elif status == STATUS_OK and message:
                    refresh, warnings = _status_and_warnings(str(message))
                    if refresh:
                        self.statuses[sheet] = refresh
                    if warnings:
                        self.notes[sheet] = warnings
        return self


def _status_and_warnings(message: str) -> tuple[str, str]:
    """A refreshed sheet's Message: its normal status (``Refresh: full``, written first) apart
    from its warnings, which alone are worth a warning line."""
    if not message.startswith(REFRESH_PREFIX):
        return "", message
    status, _, rest = message.partition("; ")
    warnings = [part for part in rest.split("; ") if part and not part.startswith(RATE_LIMIT_PREFIX)]
    return status.removeprefix(REFRESH_PREFIX), "; ".join(warnings)


def _load(path: Path) -> openpyxl.Workbook:
    if not path.exists():
        raise ConfigurationError(f"No workbook at {path}")
    try:
        return openpyxl.load_workbook(path, keep_vba=path.suffix.lower() in MACRO_SUFFIXES, keep_links=True)
    except (zipfile.BadZipFile, KeyError, OSError, InvalidFileException) as exc:
        raise ConfigurationError(f"{path.name} is not an Excel workbook openpyxl can read ({exc})") from None
    except SyntaxError as exc:       # a part that is not well-formed XML (ElementTree's or lxml's ParseError)
        raise ConfigurationError(f"{path.name} is damaged: a part of it is not well-formed XML ({exc}) - open it "
                                 f"in Excel to repair it, or use another workbook") from None


def _show_progress(progress: bool) -> bool:
    """The progress bar only for a person watching a terminal: redraws (``\\r``) in a log
    file or a cron mail are noise."""
    return progress and is_terminal(sys.stderr)


def check_workbook_target(path: str | os.PathLike, template: str | os.PathLike | None = None) -> None:
    """Before any request: the workbook to write must end in .xlsx or .xlsm, match its
    template (macros only in .xlsm; an .xlsm only from a macro template) and go into an
    existing folder. Raises ConfigurationError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ConfigurationError(f'Cannot write "{path.name}": a workbook file name must end in .xlsx '
                                 f"(or .xlsm with --template procore.xlsm)")
    macro_template = template is not None and Path(template).suffix.lower() in MACRO_SUFFIXES
    if macro_template and suffix != ".xlsm":
        raise ConfigurationError(f'Cannot write "{path.name}" from the macro template {Path(template).name}: '
                                 f"a workbook with macros must end in .xlsm (Excel refuses an .xlsx "
                                 f"with macros) - use {path.with_suffix('.xlsm').name}")
    if suffix == ".xlsm" and not macro_template:
        raise ConfigurationError(f'Cannot write "{path.name}" without a macro template: an .xlsm needs '
                                 f"macros - add --template procore.xlsm, or use "
                                 f"{path.with_suffix('.xlsx').name}")
    check_folder(path)


def _open_report_book(path: Path) -> PackageWorkbook:
    if not path.exists():
        raise ConfigurationError(f"No workbook at {path}")
    return PackageWorkbook(path)


def _report_entries(wb: PackageWorkbook, path: Path) -> list:
    """The registry's report sheets of ``wb``; none is an error saying how to add one."""
    entries = read_registry(wb)
    if not entries:
        raise ConfigurationError(f"{path.name} has no Procore report sheets - add one with Insert report "
                                 f"or `procore-xl new-workbook`")
    return entries


def refresh_workbook(path: str | os.PathLike, service: Any, progress: bool = True) -> WorkbookRefresh:
    """Refresh every report sheet of ``path`` in place (see module doc)."""
    path = Path(path)
    wb = _open_report_book(path)
    try:
        entries = _report_entries(wb, path)
        moved = {}                   # sheet -> why it was left untouched (its parameter block moved)
        with tqdm(total=len(entries), desc=f"Refreshing {path.name}", unit="sheet",
                  disable=not _show_progress(progress), file=sys.stderr) as bar:
            def tick(entry, good):
                if entry.problem:
                    moved[entry.sheet] = entry.problem
                bar.set_postfix_str(f"{entry.sheet}: {'OK' if good else 'failed'}")
                bar.update(1)
            ok, failed = refresh_report_sheets(wb, service, on_sheet=tick)
        outcome = WorkbookRefresh(path, ok, failed, reasons=moved).note_failures(wb)
        with replacing(path) as tmp:
            wb.save(tmp)
    finally:
        wb.close()                   # (Windows cannot replace a file that is still open)
    return outcome


def plan_workbook(path: str | os.PathLike, service: Any) -> Plan:
    """The requests a full refresh of ``path`` will make, per report sheet, counted from the
    record store and the kept lists without sending any (:mod:`procore_xl.plan`)."""
    path = Path(path)
    wb = _open_report_book(path)
    try:
        entries = _report_entries(wb, path)
        plan = Plan(service.record_store, service.lists, Scope.of(service.settings), per_page=service.per_page)
        for entry in entries:
            problem = moved_block(wb, entry)
            if problem:
                raise ConfigurationError(problem)
            plan.add(entry.report, read_parameters(wb, entry)).sheet = entry.sheet
    finally:
        wb.close()
    return plan


def new_workbook(path: str | os.PathLike, reports: Iterable[tuple[str, Mapping[str, Any]]], service: Any,
                 *, template: str | os.PathLike | None = None, progress: bool = True,
                 analyses: Iterable[tuple[Analysis, Mapping[str, Any]]] = ()) -> WorkbookRefresh:
    """Build a workbook with one filled report sheet per ``(report, params)``; start from
    ``template`` (e.g. procore.xlsm) when given. Dropdown lists follow the first report's
    company and project. The output must match the template (see :func:`check_workbook_target`);
    that is checked before any request. Each ``(analysis, params)`` adds the analysis sheet and
    the report sheets it reads (``analysis_sheet``)."""
    path = Path(path)
    check_workbook_target(path, template)
    reports = list(reports)
    plan = []                        # (analysis, indexes of its report sheets in reports)
    for analysis, given in analyses:
        sources = source_reports(analysis, given)
        plan.append((analysis, list(range(len(reports), len(reports) + len(sources)))))
        reports += sources
    book, entries = skeleton(reports, _load(Path(template)) if template else None)
    sheets = [add_placeholder(book, analysis, i) for i, (analysis, _) in enumerate(plan)]
    if reports:
        try:
            lists, _ = compute_lists(service, dict(reports[0][1]))
            write_lists(OpenpyxlWorkbook(book), lists)
        except ProcoreError:         # dropdowns are a convenience; the data is written either way
            pass
    out = WorkbookRefresh(path)
    with replacing(path) as tmp:
        book.save(tmp)
        if template is not None:
            out.dropped_parts = restore_parts(Path(template), tmp)
        wb = PackageWorkbook(tmp.read_bytes())
        for entry in tqdm(entries, desc=f"Building {path.name}", unit="sheet",
                          disable=not _show_progress(progress), file=sys.stderr):
            (out.refreshed if refresh_report_sheet(wb, entry, service) else out.failed).append(entry.sheet)
        out.note_failures(wb)
        wb.save(tmp)
        if plan:
            out.analyses = write_analysis_sheets(tmp, [
                (analysis, sheet, {s.name: entries[i] for s, i in zip(analysis.sources, indexes)})
                for (analysis, indexes), sheet in zip(plan, sheets)])
    return out


def write_results_workbook(path: str | os.PathLike, runs: Iterable[tuple[Mapping[str, Any], Any]],
                           analyses: Iterable[tuple[Analysis, list[int]]] = ()) -> Path:
    """A new workbook from report runs already made (:func:`~procore_xl.excel.results.write_runs`),
    written atomically. Used by the demo; ``procore-xl pull --out file.xlsx`` goes through
    ``output.write_result`` (both through :func:`~procore_xl.excel.results.write_workbook`)."""
    path = Path(path)
    check_workbook_target(path)
    return write_workbook(path, runs, analyses=analyses)


def restore_parts(original: Path, written: Path) -> list[str]:
    """Copy back ``customUI/*`` parts and root relationships openpyxl did not keep, and the
    content-type defaults they need (spliced into the parts openpyxl wrote,
    :mod:`~procore_xl.excel.ooxml.relationships`). Returns the original's parts still missing afterwards."""
    with zipfile.ZipFile(original) as src:
        src_names = set(src.namelist())
        src_parts = {n: src.read(n) for n in src_names if n.startswith("customUI/")}
        src_rels = src.read("_rels/.rels").decode("utf-8") if "_rels/.rels" in src_names else None
        src_ct = src.read("[Content_Types].xml").decode("utf-8")
    with zipfile.ZipFile(written) as out:
        out_names = set(out.namelist())
        contents = {n: out.read(n) for n in out.namelist()}
        infos = {i.filename: i for i in out.infolist()}
    added = {n: data for n, data in src_parts.items() if n not in out_names}
    names = out_names | set(added)
    changed = dict(added)
    if src_rels is not None:
        have = contents["_rels/.rels"].decode("utf-8")
        targets = {r.get("Target", "").lstrip("/") for r in relationships(have)}
        ids = {r.get("Id") for r in relationships(have)}
        new = []
        for rel in relationships(src_rels):
            target = rel.get("Target", "").lstrip("/")
            if target in targets or target not in names or rel.get("TargetMode") == "External":
                continue
            rid, n = rel.get("Id"), 1
            while rid in ids:
                rid, n = f"rIdProcore{n}", n + 1
            ids.add(rid)
            new.append(element("Relationship", {**rel, "Id": rid}))
        if new:
            changed["_rels/.rels"] = add_relationships(have, new).encode("utf-8")
    ct = contents["[Content_Types].xml"].decode("utf-8")
    have_defaults = {d.get("Extension", "").lower() for d in defaults(ct)}
    new_defaults = []
    for d in defaults(src_ct):
        ext = d.get("Extension", "").lower()
        if ext not in have_defaults and any(n.lower().endswith("." + ext) for n in added):
            new_defaults.append(element("Default", d))
            have_defaults.add(ext)
    if new_defaults:
        changed["[Content_Types].xml"] = add_types(ct, new_defaults).encode("utf-8")
    if changed:
        with replaced(written, companion="parts") as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
                for name, data in contents.items():
                    z.writestr(infos[name], changed.pop(name, data))
                for name, data in changed.items():
                    z.writestr(name, data)
    return sorted(n for n in src_names - names if not posixpath.basename(n) == "" and _worth_reporting(n))


def _worth_reporting(name: str) -> bool:
    # parts openpyxl rewrites under other names are not losses
    return not (name.startswith(("xl/worksheets/", "xl/theme/", "docProps/", "xl/tables/", "xl/printerSettings/"))
                or name in ("xl/sharedStrings.xml", "xl/calcChain.xml", "xl/styles.xml"))
