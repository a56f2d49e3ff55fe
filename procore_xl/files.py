"""File safety, the one way procore-xl writes a file: check a target, replace it atomically,
clean temporary files.

Every file procore-xl writes (pull's .csv, .xlsx and .json, new-workbook, demo, refresh, the
sandbox's token file, a workbook's parts rewritten while it is built) is written to a temporary
file beside it that takes its place only when complete (:func:`replaced`); :func:`replacing`
adds the rules for a person's file (not read-only, not open in Excel or LibreOffice, checked
before anything is written and again before the rename) and :func:`check_target` the rule run
before any request (an existing file needs --force). Nothing here knows of reports or Procore:
it imports only :mod:`~procore_xl.errors`.
"""
from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ConfigurationError


def check_folder(path: str | os.PathLike) -> None:
    """ConfigurationError when the folder ``path`` is to be saved in does not exist."""
    folder = Path(path).absolute().parent
    if not folder.exists():
        raise ConfigurationError(f"Folder {folder} does not exist - create it first or choose another "
                                 f"folder for {Path(path).name}")
    if not folder.is_dir():
        raise ConfigurationError(f"{folder} is not a folder - cannot save {Path(path).name} in it")


def keep_mode(target: Path, tmp: Path) -> None:
    """Give the temporary file the permissions the file it replaces had (or the usual ones for a
    new file), not the temporary file's private 0600: a shared workbook stays shared."""
    if target.exists():
        shutil.copymode(target, tmp)
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)


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
_NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"      # tempfile's, so the pattern below holds


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
def replaced(path: str | os.PathLike, *, mode: int | None = None, companion: str | None = None,
             before: Callable[[], None] | None = None) -> Iterator[Path]:
    """The one atomic write: a temporary file beside ``path`` to write; when the block ends without
    an error it is given its permissions and renamed over ``path``, else it is removed (with the
    ``<tmp>.<ext>`` files a writer made beside it), and so on Ctrl+C (:func:`remove_temporary_files`).
    ``mode``: the new file's permissions (None: those ``path`` had, or the usual ones for a new
    file, :func:`keep_mode`). ``companion``: the temporary file is ``<path>.<companion>``, for
    rewriting a file that is itself a temporary file of :func:`replacing` (removed with it).
    ``before``: called just before the rename (a last check)."""
    path = Path(path)
    tmp = _new_temporary(path) if companion is None else path.with_name(f"{path.name}.{companion}")
    if companion is not None:
        with _live_lock:
            _live_temporary.add(tmp)
    try:
        yield tmp
        if mode is None:
            keep_mode(path, tmp)
        else:
            os.chmod(tmp, mode)
        if before is not None:
            before()
        os.replace(tmp, path)
    finally:
        with _live_lock:
            _live_temporary.discard(tmp)
        _remove_with_companions(tmp)


def _new_temporary(path: Path) -> Path:
    """A new empty file ``.~<stem>.<pid>-<random><suffix>`` beside ``path`` (0600, as tempfile makes
    it), named in :data:`_live_temporary` before it exists: a signal that comes the moment it
    appears finds it there (:func:`remove_temporary_files`)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    while True:
        random = "".join(secrets.choice(_NAME_CHARACTERS) for _ in range(8))
        tmp = path.parent / f"{_temporary_prefix(path)}{os.getpid()}-{random}{path.suffix}"
        with _live_lock:
            _live_temporary.add(tmp)
        try:
            os.close(os.open(tmp, flags, 0o600))
            return tmp
        except FileExistsError:
            with _live_lock:
                _live_temporary.discard(tmp)
        except BaseException:
            with _live_lock:
                _live_temporary.discard(tmp)
            raise


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; when the block ends without an error it takes
    ``path``'s place (with ``path``'s permissions), else it is removed: ``path`` is never left
    half-written. A read-only ``path``, or one a lock file says is open in Excel or LibreOffice,
    is refused (ConfigurationError) before anything is written, and checked again before the rename.
    A symbolic link is followed, as a shell's ``>`` follows it: the file it names is the one
    replaced, and the link stays a link (renaming over the link would leave that file as it was);
    a lock file beside either name says the file is open."""
    given = Path(path)
    path = Path(os.path.realpath(given)) if given.is_symlink() else given
    names = list(dict.fromkeys((given, path)))       # the link's name and the file's: a program opened one

    def still_free() -> None:                # made read-only, or opened, while we were busy?
        check_not_read_only(path)
        for name in names:
            check_not_open(name)

    check_folder(path)
    still_free()
    remove_stale_temporary_files(path)

    try:
        with replaced(path, before=still_free) as tmp:
            yield tmp
    except PermissionError:
        raise ConfigurationError(f"Cannot replace {path.name}: it is open in another program (Excel?) or "
                                 f"read-only - close it and try again; the file was not changed") from None


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
