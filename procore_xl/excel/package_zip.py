"""The zip container of a workbook, written the way Excel writes it.

Readers differ in what they forgive; Excel is strict. Two rules here:

- **ZIP64 only for an entry that needs it.** Python's ``force_zip64=True`` puts a ZIP64 extra
  field (sizes ``0xFFFFFFFF``, version 4.5) in the local header of every entry streamed with it,
  which the central directory then lacks: SheetJS refuses such a file ("Bad compressed size")
  and Excel's ZIP64 reader is known to be strict (Apache POI bug 57342). An entry is written
  without ZIP64 (its size is not known before it is streamed); one that turns out larger than
  4 GiB raises :class:`EntryTooLarge`, and the caller writes the package again with ZIP64 for
  that entry (:func:`write_entry`), in its local header and central directory alike, as the
  zip format has it. More than 65,535 entries: ``zipfile`` writes the ZIP64 end records itself.
- **Relationship targets relative to their source part**, as Excel writes them:
  ``xl/_rels/workbook.xml.rels`` -> ``worksheets/sheet1.xml``, a sheet's rels ->
  ``../tables/table1.xml``, the package's ``_rels/.rels`` -> ``xl/workbook.xml``. Absolute
  targets (``/xl/tables/table1.xml``, what openpyxl writes) are valid Open XML, but exceljs
  fails on them; :func:`relative_targets` rewrites them (a refresh normalises an older file).
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterable

_RELATIONSHIP = re.compile(r"<Relationship\b[^>]*>")
_TARGET = re.compile(r'(\bTarget=")([^"]*)(")')


class EntryTooLarge(Exception):
    """An entry streamed without ZIP64 turned out to need it: write the package again with
    ``name`` among the ZIP64 entries."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def write_entry(out: zipfile.ZipFile, info: zipfile.ZipInfo, chunks: Iterable[bytes], zip64: set[str]) -> None:
    """Stream ``chunks`` into ``out`` as the entry ``info``: with ZIP64 only when its name is in
    ``zip64``; :class:`EntryTooLarge` when it needs ZIP64 and was written without."""
    info.file_size = 0                    # unknown: zipfile decides ZIP64 from force_zip64 alone
    try:
        with out.open(info, "w", force_zip64=info.filename in zip64) as dst:
            for chunk in chunks:
                dst.write(chunk)
    except RuntimeError as exc:           # zipfile: "File size too large, try using force_zip64"
        if "force_zip64" in str(exc) and info.filename not in zip64:
            raise EntryTooLarge(info.filename) from None
        raise


def rels_source_folder(rels_path: str) -> str:
    """The folder of the part whose relationships ``rels_path`` holds (``xl/_rels/workbook.xml.rels``
    -> ``xl``; ``_rels/.rels`` -> the package root, ``""``)."""
    return posixpath.dirname(posixpath.dirname(rels_path))


def relative_target(rels_path: str, part: str) -> str:
    """The target of ``part`` (a package path without the leading slash) as written in ``rels_path``."""
    return posixpath.relpath(part, rels_source_folder(rels_path) or ".")


def relative_targets(rels_path: str, xml: str) -> str:
    """``xml`` (a ``.rels`` part) with every absolute internal target relative to its source
    part's folder; external targets (hyperlinks, linked files) and relative ones as they were."""
    def fix(m: re.Match) -> str:
        tag = m.group(0)
        if 'TargetMode="External"' in tag:
            return tag
        return _TARGET.sub(lambda t: t.group(1) + (relative_target(rels_path, t.group(2)[1:])
                                                   if t.group(2).startswith("/") else t.group(2)) + t.group(3),
                           tag, count=1)
    return _RELATIONSHIP.sub(fix, xml) if 'Target="/' in xml else xml
