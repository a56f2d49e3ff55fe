"""pandas, imported when a table is first needed rather than when procore-xl starts.

Importing pandas (and numpy, and pyarrow when installed) takes about half a second, more than a
whole first page of a pull takes to arrive. The modules that build tables (``flatten``,
``runner``, ``output``) use :data:`pd`, which imports pandas at its first use; a run calls
:func:`prewarm` once its first requests are on their way, so the import happens while
Procore answers instead of before the first request is sent. Nothing else changes: ``pd.X`` is
pandas' ``X``.
"""
from __future__ import annotations

import importlib
import threading
from typing import Any

_lock = threading.Lock()
_thread: threading.Thread | None = None


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


def prewarm() -> None:
    """Import pandas in a thread of its own (once per process), so that it is ready when the
    run needs its first table. The thread is not a daemon: a process that ends meanwhile waits
    for the import to finish rather than stop it half-way."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=importlib.import_module, args=("pandas",),
                                       name="procore-xl-import-pandas")
            _thread.start()
