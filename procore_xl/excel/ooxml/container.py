"""The zip container of a workbook, written the way Excel writes it.

Readers differ in what they forgive; Excel is strict. The rules here:

- **ZIP64 only for an entry that needs it.** Python's ``force_zip64=True`` puts a ZIP64 extra
  field (sizes ``0xFFFFFFFF``, version 4.5) in the local header of every entry streamed with it,
  which the central directory then lacks: SheetJS refuses such a file ("Bad compressed size")
  and Excel's ZIP64 reader is known to be strict (Apache POI bug 57342). An entry is written
  without ZIP64 (its size is not known before it is streamed); one that turns out larger than
  4 GiB raises :class:`EntryTooLarge`, and the caller writes the package again with ZIP64 for
  that entry (:func:`write_entry`), in its local header and central directory alike, as the
  zip format has it. More than 65,535 entries: ``zipfile`` writes the ZIP64 end records itself.
- **Parts written at one deflate level** (:data:`COMPRESS_LEVEL`), copied parts with their names,
  dates and attributes (:func:`copy_info`). Relationship targets: :mod:`.relationships`.
"""
from __future__ import annotations

import time
import zipfile
from collections.abc import Iterable

# Deflate level for the parts we write, chosen by measurement (benchmarks/write_speed.py --level N,
# 100,000 x 30 mixed cells, one run each on the shared 2-core machine): level 1 29.1 MiB in 9.7 s,
# level 3 24.8 MiB in 11.6 s, level 6 (zlib's default) 21.7 MiB in 19.8 s. Writing is what a
# refresh waits for; a third more file is cheap next to twice the time: level 1.
COMPRESS_LEVEL = 1


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


def copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    new.compress_type = zipfile.ZIP_DEFLATED if info.compress_type == zipfile.ZIP_STORED and info.file_size > 1024 \
        else info.compress_type
    new.external_attr = info.external_attr
    for name in ("compress_level", "_compresslevel"):          # its Python 3.13 and 3.11 names
        try:
            setattr(new, name, COMPRESS_LEVEL)
            break
        except AttributeError:
            continue
    return new


def new_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return copy_info(info)
