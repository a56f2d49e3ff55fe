"""The one ProcoreService of an Excel process, shared by the UDFs and the ribbon macros.

xlwings runs UDFs and RunPython calls in one long-lived Python process (the COM server), so a
module-level service keeps its token manager, HTTP connections and discovery cache between
calls. ``set_service`` swaps it (tests, Choose environment).
"""
from __future__ import annotations

import threading

from ..service import ProcoreService

_lock = threading.Lock()
_service: ProcoreService | None = None


def get_service() -> ProcoreService:
    global _service
    with _lock:
        if _service is None:
            _service = ProcoreService()
        return _service


def set_service(service: ProcoreService | None) -> None:
    """Use ``service`` from now on (None: build a fresh one from the settings on next use)."""
    global _service
    with _lock:
        old, _service = _service, service
    if old is not None and old is not service:
        old.close()
