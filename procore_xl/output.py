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

import io
import json
import os
import shutil
import sys
import tempfile
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
        from .excel.results import write_runs  # the add-in's report-sheet writer (imports no output)
        with replacing(path) as tmp:
            write_runs(tmp, [(params or {}, result)], name=path.name)
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


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; when the block ends without an error it takes
    ``path``'s place (with ``path``'s permissions), else it is removed: ``path`` is never left
    half-written."""
    check_folder(path)
    fd, name = tempfile.mkstemp(prefix=f".~{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        keep_mode(path, tmp)
        os.replace(tmp, path)
    except PermissionError:
        tmp.unlink(missing_ok=True)
        raise ConfigurationError(f"Cannot replace {path.name}: it is open in another program (Excel?) or "
                                 f"read-only - close it and try again; the file was not changed") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
