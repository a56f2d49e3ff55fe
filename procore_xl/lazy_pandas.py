"""pandas, imported when a table is first needed rather than when procore-xl starts.

Importing pandas (and numpy, and pyarrow when installed) takes about half a second, more than a
whole first page of a pull takes to arrive. The modules that build tables (``flatten``,
``runner``, ``output``) use :data:`pd`, which imports pandas at its first use; a run calls
:func:`prewarm` once its first requests are on their way, so the import happens while
Procore answers instead of before the first request is sent. Nothing else changes: ``pd.X`` is
pandas' ``X``. An output that needs no frame (a pull to CSV or JSON: its rows are written from
the pages' values) runs inside :func:`frames_not_needed`, where :func:`prewarm` imports nothing.
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib
import threading
from typing import Any, Iterator

_lock = threading.Lock()
_thread: threading.Thread | None = None
_wanted: contextvars.ContextVar[bool] = contextvars.ContextVar("procore_xl_frames_wanted", default=True)


class _Pandas:
    """The pandas module, imported at the first attribute read. Each attribute read is kept on
    the proxy, so ``pd.X`` goes through :meth:`__getattr__` (and the import machinery) once per
    name, not once per use: a pull reads ``pd.NA`` and others hundreds of thousands of times."""

    def __getattr__(self, name: str) -> Any:
        value = getattr(importlib.import_module("pandas"), name)
        if not name.startswith("__"):
            self.__dict__[name] = value         # later reads find it without calling here
        return value

    def __repr__(self) -> str:
        return "<pandas, imported on first use>"


pd: Any = _Pandas()


@contextlib.contextmanager
def frames_not_needed() -> Iterator[None]:
    """Runs in this block (this thread or task) write an output that needs no DataFrame: their
    :func:`prewarm` imports nothing (pandas is still imported at a first use of :data:`pd`)."""
    token = _wanted.set(False)
    try:
        yield
    finally:
        _wanted.reset(token)


def prewarm() -> None:
    """Import pandas in a thread of its own (once per process), so that it is ready when the
    run needs its first table; nothing inside :func:`frames_not_needed`. The thread is not a
    daemon: a process that ends meanwhile waits for the import to finish rather than stop it
    half-way."""
    global _thread
    if not _wanted.get():
        return
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=importlib.import_module, args=("pandas",),
                                       name="procore-xl-import-pandas")
            _thread.start()
