"""Write a report result to a file (or stdout): CSV, Excel workbook or JSON.

- CSV: UTF-8, RFC 4180 (CRLF line ends; a text holding a line break or a carriage return is
  quoted), a header row, one row per record (dates in ISO form), written in blocks. Text and
  headers starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) get a leading
  apostrophe, so a spreadsheet opening the file shows them as text instead of running them as
  formulas (``raw_csv=True`` writes them unchanged).
- .xlsx: a real workbook, the report on a sheet named after it as an Excel Table (the same
  report-sheet writer the add-in uses).
- JSON: the raw records as Procore returned them, streamed into the file as they arrive.

Text that UTF-8 cannot hold (a lone surrogate such as ``"\\ud800"``, which JSON can carry) is
written as U+FFFD and counted in the run's warnings.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .columns import COLUMNS_ALL, HEADERS_FIELDS, HEADERS_LABELS
from .errors import ConfigurationError
from .flatten import Table
from .lazy_pandas import pd
from .parameters import VIEW_PARAMS
from .runner import ReportResult, drop_records
from .view import report_view

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
    with report_output(target, params, raw_csv=raw_csv) as out:
        out.records(result.records)
        out.write(result)


class ReportOutput:
    """One report's output, opened before the run. :attr:`records` takes the raw records batch
    by batch as they arrive (pass it to ``service.run(..., on_records=out.records)``): JSON writes
    them to its file at once, the other formats let them go, so they are never all held;
    :meth:`write` writes the rest when the run is done."""

    def __init__(self, fmt: str, target: str, tmp: Path | None, params: dict | None, raw_csv: bool):
        self.fmt, self.target, self.tmp, self.params, self.raw_csv = fmt, target, tmp, params, raw_csv
        self._json: _JsonRecords | None = _JsonRecords(tmp) if fmt == "json" and tmp is not None else None
        # only JSON writes the raw records; every other format needs the table alone
        self.records: Callable[[list[dict]], None] = self._json.add if self._json else drop_records

    def write(self, result: ReportResult) -> None:
        """Write ``result`` (its table; for JSON the records that went to :attr:`records`). Text
        that UTF-8 cannot hold (a lone surrogate, which JSON can carry) is written as U+FFFD and
        counted in ``result.warnings``."""
        if self.fmt == "xlsx":
            from .excel.results import write_runs  # the add-in's report-sheet writer (imports no output)
            path = Path(self.target)
            with replacing(path) as tmp:
                write_runs(tmp, [(self.params or {}, result)], name=path.name)
            return
        table = csv_table(result) if self._json is None else None
        if self._json is not None:
            replaced = self._json.close()
        elif self.tmp is None:                       # '-': CSV on stdout, as UTF-8 bytes when it can
            sys.stdout.flush()
            raw_out = getattr(sys.stdout, "buffer", None)
            write = (lambda text: raw_out.write(text.encode("utf-8"))) if raw_out is not None else sys.stdout.write
            replaced = write_csv(table, write, raw=self.raw_csv)
            (raw_out or sys.stdout).flush()
        else:
            with open(self.tmp, "wb") as fh:
                replaced = write_csv(table, lambda text: fh.write(text.encode("utf-8")), raw=self.raw_csv)
        if replaced:
            result.warnings.append(f"{replaced} character(s) that UTF-8 cannot hold (lone surrogates in "
                                   f"Procore's text) written as U+FFFD, the replacement character")


def csv_table(result: ReportResult) -> Table | pd.DataFrame:
    """What a CSV holds: every column under its field name (lists as compact JSON), streamed;
    with ``headers``/``columns`` among the run's parameters, the report as :func:`view.view`
    shows it (labels and lists as words with ``labels``; ``default`` columns)."""
    if not any(k in result.params for k in VIEW_PARAMS):
        return result.table
    shown = report_view(result, headers=HEADERS_FIELDS, columns=COLUMNS_ALL,
                        readable_lists=result.params.get("headers") == HEADERS_LABELS)
    return shown.labelled()


@contextmanager
def report_output(target: str, params: dict | None = None, *, raw_csv: bool = False) -> Iterator[ReportOutput]:
    """A :class:`ReportOutput` for ``target`` (a path or '-'). A file takes its place only when
    the block ends without an error (``replacing``): a failed run leaves the old file as it was.
    JSON holds Procore's records as sent: the display options (headers, columns) are refused."""
    fmt = output_format(target)
    given = [k for k in VIEW_PARAMS if (params or {}).get(k) not in (None, "")]
    if fmt == "json" and given:
        raise ConfigurationError(f"JSON output holds Procore's records as sent: --{given[0]} applies to "
                                 f".csv and .xlsx only")
    if target == "-" or fmt == "xlsx":             # stdout; a workbook is written whole by write()
        yield ReportOutput(fmt, target, None, params, raw_csv)
        return
    with replacing(Path(target)) as tmp:
        out = ReportOutput(fmt, target, tmp, params, raw_csv)
        try:
            yield out
        finally:
            if out._json is not None:
                out._json.abort()


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_BLOCK_ROWS = 2_000      # rows converted to CSV text at a time: memory of one block, not the report
_SURROGATES = re.compile("[\ud800-\udfff]")


def _text_only(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def encodable(text: str) -> tuple[str, int]:
    """``text`` with every lone surrogate (the only thing UTF-8 cannot encode) as U+FFFD, and how many."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.subn("\ufffd", text)
    return text, 0


def _guard_text(values: pd.Series) -> pd.Series:
    """An apostrophe before text starting like a formula. One pass in plain Python, and no copy
    when there is none (most columns): at a block's size that is several times quicker than
    pandas' ``str.startswith``."""
    items = values.tolist()
    risky = [i for i, v in enumerate(items) if type(v) is str and v.startswith(FORMULA_START)]
    if not risky:
        return values
    for i in risky:
        items[i] = "'" + items[i]
    return pd.Series(items, index=values.index, dtype=values.dtype)


def write_csv(table: Table | pd.DataFrame, write: Callable[[str], Any], *, raw: bool = False,
              block_rows: int = CSV_BLOCK_ROWS) -> int:
    """``table`` as CSV text, block by block, through ``write`` (a report's table is read a page
    at a time, never whole): UTF-8 text, RFC 4180 (CRLF line ends, so a carriage return inside
    a text is quoted like a line feed), date-only columns as ``YYYY-MM-DD``, timestamps as
    ``YYYY-MM-DDTHH:MM:SS``. Unless ``raw``, text and headers starting like a formula get an
    apostrophe. Returns how many lone surrogates became U+FFFD."""
    if isinstance(table, pd.DataFrame):
        table = Table.of(table)
    moments, date_only, texts = table.moments(), table.dates_only(), table.texts()
    header = [str(c) for c in table.columns]
    if not raw:
        header = [_text_only(c) for c in header]
    replaced = 0
    first = True
    for batch in table.blocks(block_rows):
        for start in range(0, max(len(batch), first), block_rows):   # an empty first: the header
            block = batch.iloc[start:start + block_rows]
            if moments or (texts and not raw):
                block = block.copy()
                for c in moments:  # formatted here: to_csv's date_format would scan every text column
                    block[c] = block[c].dt.strftime("%Y-%m-%d" if c in date_only else "%Y-%m-%dT%H:%M:%S")
                if not raw:
                    for c in texts:
                        block[c] = _guard_text(block[c])
            buf = io.StringIO()
            block.to_csv(buf, index=False, header=header if first else False, lineterminator="\r\n")
            first = False
            text, n = encodable(buf.getvalue())
            replaced += n
            write(text)
    if first:                                      # a table of no blocks: the header alone
        buf = io.StringIO()
        pd.DataFrame(columns=header).to_csv(buf, index=False, lineterminator="\r\n")
        write(buf.getvalue())
    return replaced


class _JsonRecords:
    """The records as one JSON array (the layout of ``json.dumps(records, indent=1)``), written
    to ``path`` record by record as batches arrive."""

    def __init__(self, path: Path):
        self._fh = open(path, "wb")
        self._count = 0
        self.replaced = 0

    def add(self, records: list[dict]) -> None:
        if not records:
            return
        parts = []
        for rec in records:
            one = json.dumps(rec, ensure_ascii=False, indent=1, default=str)
            parts.append((",\n " if self._count else "[\n ") + one.replace("\n", "\n "))
            self._count += 1
        text, n = encodable("".join(parts))
        self.replaced += n
        self._fh.write(text.encode("utf-8"))

    def close(self) -> int:
        self._fh.write(b"\n]\n" if self._count else b"[]\n")
        self._fh.close()
        return self.replaced

    def abort(self) -> None:
        self._fh.close()


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


def check_target(path: str | os.PathLike, *, force: bool,
                 hint: str = "add --force to replace it, or choose another name") -> None:
    """Before any request, the one rule for every file procore-xl writes (pull's .csv, .xlsx and
    .json, new-workbook, demo, refresh): ``path``'s folder exists and accepts new files; an
    existing file is replaced only with ``force`` (``hint`` says how); it is not read-only; and no
    lock file says Excel or LibreOffice has it open. Raises ConfigurationError."""
    check_folder(path)
    path = Path(path)
    folder = path.absolute().parent
    if not os.access(folder, os.W_OK):
        raise ConfigurationError(f"Cannot save {path.name} in {folder}: you may not create files in that "
                                 f"folder - choose another one")
    if not force and (path.exists() or path.is_symlink()):
        raise ConfigurationError(f"{path.name} exists: {hint}")
    check_not_read_only(path)
    check_not_open(path)


# Lock files an office program keeps beside a file it has open: Excel's owner file ``~$book.xlsx``
# (for long names Word-style ``~$`` over the first two characters, seen with some versions) and
# LibreOffice's ``.~lock.book.xlsx#``.
def lock_files(path: str | os.PathLike) -> list[Path]:
    """The lock files beside ``path`` that say another program has it open."""
    path = Path(path)
    names = [f"~${path.name}", f".~lock.{path.name}#"]
    if len(path.stem) > 2:
        names.append(f"~${path.name[2:]}")
    return [path.parent / n for n in dict.fromkeys(names) if (path.parent / n).exists()]


def check_not_open(path: str | os.PathLike) -> None:
    """ConfigurationError when a lock file says Excel or LibreOffice has ``path`` open: writing it
    now would conflict with the work unsaved there."""
    found = lock_files(path)
    if found:
        program = "LibreOffice" if found[0].name.startswith(".~lock.") else "Excel"
        raise ConfigurationError(f"{Path(path).name} is open in {program} ({found[0].name} beside it): close it "
                                 f"there and try again (if it is not open, delete {found[0].name}); the file "
                                 f"was not changed")


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
    half-written. A read-only ``path``, or one a lock file says is open in Excel or LibreOffice,
    is refused (ConfigurationError) before anything is written, and checked again before the rename."""
    path = Path(path)
    check_folder(path)
    check_not_read_only(path)
    check_not_open(path)
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
        check_not_read_only(path)        # made read-only, or opened, while we were busy?
        check_not_open(path)
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
