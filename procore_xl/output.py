"""Write a report result to a file (or stdout): CSV, Excel workbook or JSON.

- CSV: UTF-8 with a header row, one row per record (dates in ISO form). Text starting with
  ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) gets a leading apostrophe, so a
  spreadsheet opening the file shows it as text instead of running it as a formula
  (``raw_csv=True`` writes it unchanged).
- .xlsx: a real workbook, the report on a sheet named after it as an Excel Table (the same
  report-sheet writer the add-in uses).
- JSON: the raw records as Procore returned them.
"""
from __future__ import annotations

import glob
import io
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .errors import ConfigurationError
from .runner import ReportResult

FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json"}


def output_format(target: str) -> str:
    """The format for an --out target (by extension; '-' is CSV on stdout), checked before any
    request is made: a known extension, an existing folder."""
    if target == "-":
        return "csv"
    fmt = FORMATS.get(Path(target).suffix.lower())
    if fmt is None:
        raise ConfigurationError(
            f'Cannot write "{target}": use a file name ending in .csv, .xlsx or .json, or - for stdout')
    check_folder(target)
    return fmt


def check_folder(path: str | os.PathLike) -> None:
    """ConfigurationError when the folder ``path`` is to be saved in does not exist."""
    folder = Path(path).absolute().parent
    if not folder.exists():
        raise ConfigurationError(f"Folder {folder} does not exist - create it first or choose another "
                                 f"folder for {Path(path).name}")
    if not folder.is_dir():
        raise ConfigurationError(f"{folder} is not a folder - cannot save {Path(path).name} in it")


def write_result(result: ReportResult, target: str, params: dict | None = None, *,
                 raw_csv: bool = False) -> None:
    """Write ``result`` to ``target`` (a path or '-'), atomically for files. ``params`` (as the
    user gave them) go on the report sheet of an .xlsx, so `procore-xl refresh` can rerun it."""
    fmt = output_format(target)
    if target == "-":
        sys.stdout.write(_csv_text(result, raw_csv))
        sys.stdout.flush()
        return
    path = Path(target)
    if fmt == "xlsx":
        from .excel.refresh import write_results_workbook  # the add-in's report-sheet writer
        write_results_workbook(path, [(params or {}, result)])
        return
    text = _csv_text(result, raw_csv) if fmt == "csv" else _json_text(result)
    with replacing(path) as tmp:
        tmp.write_bytes(text.encode("utf-8"))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_only(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _csv_text(result: ReportResult, raw: bool = False) -> str:
    frame = result.frame.copy()
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values) and (values.dropna() == values.dropna().dt.normalize()).all():
            frame[column] = values.dt.strftime("%Y-%m-%d")     # a date column: no T00:00:00
    if not raw:
        for column in frame.columns:
            if pd.api.types.is_object_dtype(frame[column]) or pd.api.types.is_string_dtype(frame[column]):
                frame[column] = frame[column].map(_text_only)
    buf = io.StringIO()
    frame.to_csv(buf, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    return buf.getvalue()


def _json_text(result: ReportResult) -> str:
    return json.dumps(result.records, ensure_ascii=False, indent=1, default=str) + "\n"


def keep_mode(target: Path, tmp: Path) -> None:
    """Give the temporary file the permissions the file it replaces had (or the usual ones for a
    new file), not mkstemp's private 0600: a shared workbook stays shared."""
    if target.exists():
        shutil.copymode(target, tmp)
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)


# -- never replacing a user's file silently ------------------------------------------------------
# A file is replaced by writing a temporary file beside it, ``.~<stem>.<pid>-<random><suffix>``
# (helpers may add ``.<ext>`` companions such as ``.parts``), then renaming it over the target.
# Renaming only needs the folder's permission, so a read-only target is refused explicitly.
# Temporary files are removed when the block fails, when the process is interrupted or
# terminated (the CLI's signal handlers call :func:`remove_temporary_files`), and, if the
# process was killed outright, by the next run that writes the same file.
STALE_AFTER = 3600.0        # seconds: a temporary file untouched this long belongs to a dead run
DEAD_OWNER_AFTER = 60.0     # seconds: ... or this long, when the process named in it is gone
_live_temporary: set[Path] = set()
_live_lock = threading.RLock()      # re-entrant: a signal handler may run while the main thread holds it


def check_target(path: str | os.PathLike) -> None:
    """Before any request: ``path`` can be written. Its folder exists and accepts new files, and
    an existing file there is not read-only. Raises ConfigurationError."""
    check_folder(path)
    path = Path(path)
    folder = path.absolute().parent
    if not os.access(folder, os.W_OK):
        raise ConfigurationError(f"Cannot save {path.name} in {folder}: you may not create files in that "
                                 f"folder - choose another one")
    check_not_read_only(path)


def check_not_read_only(path: str | os.PathLike) -> None:
    """ConfigurationError when ``path`` exists and is read-only (no write permission bit, or not
    writable by this user): refused even for an administrator, who could rename over it."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        raise ConfigurationError(f"{path} is a folder, not a file - choose a file name")
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise ConfigurationError(f"{path.name} is read-only - make it writable or choose another file "
                                 f"name; the file was not changed")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; when the block ends without an error it takes
    ``path``'s place (with ``path``'s permissions), else it is removed: ``path`` is never left
    half-written. A read-only ``path`` is refused (ConfigurationError) before anything is written."""
    path = Path(path)
    check_folder(path)
    check_not_read_only(path)
    remove_stale_temporary_files(path)
    fd, name = tempfile.mkstemp(prefix=f"{_temporary_prefix(path)}{os.getpid()}-", suffix=path.suffix,
                                dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    with _live_lock:
        _live_temporary.add(tmp)
    try:
        yield tmp
        keep_mode(path, tmp)
        check_not_read_only(path)        # made read-only while we were busy?
        os.replace(tmp, path)
    except PermissionError:
        raise ConfigurationError(f"Cannot replace {path.name}: it is open in another program (Excel?) or "
                                 f"read-only - close it and try again; the file was not changed") from None
    finally:
        with _live_lock:
            _live_temporary.discard(tmp)
        _remove_with_companions(tmp)


def remove_temporary_files() -> None:
    """Remove the temporary files this process is writing (Ctrl+C, termination): the targets
    keep their previous content. Safe to call from a signal handler."""
    with _live_lock:
        live = list(_live_temporary)
        _live_temporary.clear()
    for tmp in live:
        _remove_with_companions(tmp)


def remove_stale_temporary_files(path: str | os.PathLike) -> list[Path]:
    """Remove temporary files of ``path`` left by runs that were killed: only names of our own
    pattern, only when untouched for :data:`STALE_AFTER` seconds, or for :data:`DEAD_OWNER_AFTER`
    seconds when the process that made them is gone. Returns what was removed."""
    path = Path(path)
    pattern = re.compile(re.escape(_temporary_prefix(path)) + r"(?:(\d+)-)?[a-z0-9_]{8}"
                         + re.escape(path.suffix) + r"(?:\.[A-Za-z0-9]+)?")
    now = time.time()
    removed = []
    try:
        candidates = [p for p in path.absolute().parent.iterdir() if p.name.startswith(_temporary_prefix(path))]
    except OSError:
        return removed
    with _live_lock:
        live = {t.name for t in _live_temporary}
    for candidate in candidates:
        match = pattern.fullmatch(candidate.name)
        if match is None or any(candidate.name.startswith(name) for name in live):
            continue
        try:
            age = now - candidate.stat().st_mtime
            owner = int(match.group(1)) if match.group(1) else None
            if age >= STALE_AFTER or (age >= DEAD_OWNER_AFTER and owner is not None and not _running(owner)):
                candidate.unlink()
                removed.append(candidate)
        except OSError:             # gone already, or still open (Windows): not ours to force
            continue
    return removed


def _temporary_prefix(path: Path) -> str:
    return f".~{path.stem}."


def _remove_with_companions(tmp: Path) -> None:
    """``tmp`` and the ``tmp.<ext>`` files a writer made beside it."""
    for candidate in (tmp, *tmp.parent.glob(glob.escape(tmp.name) + ".*")):
        try:
            candidate.unlink()
        except OSError:
            pass


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (True when that cannot be told: Windows)."""
    if os.name != "posix":
        return True             # os.kill would end the process there, not probe it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True             # exists, owned by someone else
    return True
