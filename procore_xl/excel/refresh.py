"""Headless refresh of workbook files (no Excel): the CLI's ``procore-xl refresh book.xlsm``.

The workbook is read with openpyxl (``keep_vba=True`` for macro files), every report sheet of
the ``_procore`` registry is refreshed, and the result is written to a temporary file in the
same folder that replaces the original (``os.replace``) only once it is complete: a refresh
that fails or is killed half-way leaves the original file untouched.

openpyxl keeps the VBA project but forgets the relationship of the Office 2010 ribbon part
(``customUI/customUI14.xml``); :func:`restore_parts` puts back every ``customUI`` part and
root relationship the original had. Parts openpyxl cannot carry (e.g. charts or shapes on
the user's own sheets) are reported in ``dropped_parts``.
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
from xml.etree import ElementTree as ET

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException
from tqdm import tqdm

from ..errors import ConfigurationError, ProcoreError
from ..output import check_folder, replacing
from . import actions
from .dropdowns import compute_lists, write_lists
from .openpyxl_writer import OpenpyxlWorkbook
from .registry import read_registry
from .report_sheet import ROW_MESSAGE, create_report_sheet, record_run, refresh_report_sheet

MACRO_SUFFIXES = {".xlsm", ".xltm", ".xlam"}
OUTPUT_SUFFIXES = (".xlsx", ".xlsm")
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"


@dataclass
class WorkbookRefresh:
    path: Path
    refreshed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dropped_parts: list[str] = field(default_factory=list)   # in the original, not in the result
    reasons: dict[str, str] = field(default_factory=dict)    # failed sheet -> its Message cell

    def note_failures(self, wb: OpenpyxlWorkbook) -> "WorkbookRefresh":
        """Why each failed sheet failed, as its Message cell says."""
        for sheet in self.failed:
            if sheet in wb.sheet_names():
                self.reasons[sheet] = str(wb.read(sheet, ROW_MESSAGE, 2, 1, 1)[0][0] or "")
        return self


def _load(path: Path) -> openpyxl.Workbook:
    if not path.exists():
        raise ConfigurationError(f"No workbook at {path}")
    try:
        return openpyxl.load_workbook(path, keep_vba=path.suffix.lower() in MACRO_SUFFIXES, keep_links=True)
    except (zipfile.BadZipFile, KeyError, OSError, InvalidFileException) as exc:
        raise ConfigurationError(f"{path.name} is not an Excel workbook openpyxl can read ({exc})") from None


def _show_progress(progress: bool) -> bool:
    """The progress bar only for a person watching a terminal: redraws (``\\r``) in a log
    file or a cron mail are noise."""
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(progress and isatty is not None and isatty())
    except (ValueError, OSError):          # a closed or odd stream
        return False



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


def refresh_workbook(path: str | os.PathLike, service: Any, progress: bool = True) -> WorkbookRefresh:
    """Refresh every report sheet of ``path`` in place (see module doc)."""
    path = Path(path)
    book = _load(path)
    wb = OpenpyxlWorkbook(book)
    entries = read_registry(wb)
    if not entries:
        raise ConfigurationError(f"{path.name} has no Procore report sheets - add one with Insert report "
                                 f"or `procore-xl new-workbook`")
    with tqdm(total=len(entries), desc=f"Refreshing {path.name}", unit="sheet",
              disable=not _show_progress(progress), file=sys.stderr) as bar:
        def tick(entry, good):
            bar.set_postfix_str(f"{entry.sheet}: {'OK' if good else 'failed'}")
            bar.update(1)
        ok, failed = actions.refresh_all(wb, service, on_sheet=tick)
    dropped = save_atomically(book, path)
    return WorkbookRefresh(path, ok, failed, dropped).note_failures(wb)


def new_workbook(path: str | os.PathLike, reports: Iterable[tuple[str, Mapping[str, Any]]], service: Any,
                 *, template: str | os.PathLike | None = None, progress: bool = True) -> WorkbookRefresh:
    """Build a workbook with one filled report sheet per ``(report, params)``; start from
    ``template`` (e.g. procore.xlsm) when given. Dropdown lists follow the first report's
    company and project. The output must match the template (see :func:`check_workbook_target`);
    that is checked before any request."""
    path = Path(path)
    check_workbook_target(path, template)
    reports = list(reports)
    if template is not None:
        book = _load(Path(template))
        book.template = False        # an .xltx/.xltm template gives a workbook, not another template
    else:
        book = openpyxl.Workbook()
    blank = book.active if template is None else None
    wb = OpenpyxlWorkbook(book)
    out = WorkbookRefresh(path)
    for report, params in tqdm(reports, desc=f"Building {path.name}", unit="sheet",
                               disable=not _show_progress(progress), file=sys.stderr):
        entry = create_report_sheet(wb, report, params)
        (out.refreshed if refresh_report_sheet(wb, entry, service) else out.failed).append(entry.sheet)
    if blank is not None and len(book.worksheets) > 1:
        book.remove(blank)
    if reports:
        try:
            lists, _ = compute_lists(service, dict(reports[0][1]))
            write_lists(wb, lists)
        except ProcoreError:         # dropdowns are a convenience; the data is written either way
            pass
        first = next(s for s in book.sheetnames if s not in ("_procore", "_lists"))
        wb.activate(first)
    out.dropped_parts = save_atomically(book, path, original=Path(template) if template else None)
    return out.note_failures(wb)


def write_results_workbook(path: str | os.PathLike,
                           runs: Iterable[tuple[Mapping[str, Any], Any]]) -> Path:
    """A new workbook from report runs already made: one report sheet per ``(params, result)``
    (``result`` a ReportResult), registered so that ``procore-xl refresh`` can refresh it later.
    Used by ``procore-xl pull --out file.xlsx`` and the demo. The sheets look exactly as after
    a refresh (names and applied defaults in the parameter cells: :func:`record_run`)."""
    path = Path(path)
    check_workbook_target(path)
    book = openpyxl.Workbook()
    blank = book.active
    wb = OpenpyxlWorkbook(book)
    for params, result in runs:
        entry = create_report_sheet(wb, result.report, params)
        record_run(wb, entry, params or {}, result)
    if len(book.worksheets) > 1:
        book.remove(blank)
        wb.activate(next(s for s in book.sheetnames if not s.startswith("_")))
    save_atomically(book, path)
    return path


def save_atomically(book: openpyxl.Workbook, path: Path, original: Path | None = None) -> list[str]:
    """Save next to ``path`` and move into place only when complete. Returns the parts of the
    original that the result does not have."""
    original = original or (path if path.exists() else None)
    with replacing(path) as tmp:
        book.save(tmp)
        dropped = restore_parts(original, tmp) if original is not None else []
    return dropped


def _rels(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)


def restore_parts(original: Path, written: Path) -> list[str]:
    """Copy back ``customUI/*`` parts and root relationships openpyxl did not keep, and the
    content-type defaults they need. Returns the original's parts still missing afterwards."""
    with zipfile.ZipFile(original) as src:
        src_names = set(src.namelist())
        src_parts = {n: src.read(n) for n in src_names if n.startswith("customUI/")}
        src_rels = src.read("_rels/.rels") if "_rels/.rels" in src_names else None
        src_ct = src.read("[Content_Types].xml")
    with zipfile.ZipFile(written) as out:
        out_names = set(out.namelist())
        contents = {n: out.read(n) for n in out.namelist()}
        infos = {i.filename: i for i in out.infolist()}
    added = {n: data for n, data in src_parts.items() if n not in out_names}
    names = out_names | set(added)
    changed = dict(added)
    if src_rels is not None:
        ET.register_namespace("", REL_NS)
        have = _rels(contents["_rels/.rels"])
        targets = {r.get("Target", "").lstrip("/") for r in have}
        ids = {r.get("Id") for r in have}
        grew = False
        for rel in _rels(src_rels):
            target = rel.get("Target", "").lstrip("/")
            if target in targets or target not in names or rel.get("TargetMode") == "External":
                continue
            new = ET.SubElement(have, f"{{{REL_NS}}}Relationship", dict(rel.attrib))
            n = 1
            while new.get("Id") in ids:
                new.set("Id", f"rIdProcore{n}")
                n += 1
            ids.add(new.get("Id"))
            grew = True
        if grew:
            changed["_rels/.rels"] = ET.tostring(have, xml_declaration=True, encoding="UTF-8")
    ET.register_namespace("", CT_NS)
    ct = ET.fromstring(contents["[Content_Types].xml"])
    defaults = {d.get("Extension", "").lower() for d in ct if d.tag.endswith("Default")}
    ct_grew = False
    for d in ET.fromstring(src_ct):
        ext = d.get("Extension", "").lower()
        if d.tag.endswith("Default") and ext not in defaults and any(n.lower().endswith("." + ext) for n in added):
            ET.SubElement(ct, f"{{{CT_NS}}}Default", dict(d.attrib))
            defaults.add(ext)
            ct_grew = True
    if ct_grew:
        changed["[Content_Types].xml"] = ET.tostring(ct, xml_declaration=True, encoding="UTF-8")
    if changed:
        tmp = written.with_name(written.name + ".parts")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in contents.items():
                z.writestr(infos[name], changed.pop(name, data))
            for name, data in changed.items():
                z.writestr(name, data)
        os.replace(tmp, written)
    return sorted(n for n in src_names - names if not posixpath.basename(n) == "" and _worth_reporting(n))


def _worth_reporting(name: str) -> bool:
    # parts openpyxl rewrites under other names are not losses
    return not (name.startswith(("xl/worksheets/", "xl/theme/", "docProps/", "xl/tables/", "xl/printerSettings/"))
                or name in ("xl/sharedStrings.xml", "xl/calcChain.xml", "xl/styles.xml"))
