"""Decides, per API request, which fault (if any) the server injects.

The knobs live in a mutable :class:`~procore_xl.sandbox.config.Faults`; this module keeps the counters.
"""
from __future__ import annotations

import threading
from enum import Enum

from .config import Faults


class Fault(Enum):
    DROP = "drop"                  # close the connection without a response
    UNAVAILABLE = "unavailable"    # 503 + Retry-After
    RATE_LIMITED = "rate_limited"  # 429 + Retry-After: 1
    MALFORMED = "malformed"        # 200 with a truncated JSON body


def _hits(n: int, every: int | None) -> bool:
    return bool(every) and every > 0 and n % every == 0


class FaultInjector:
    """Counts API requests and answers which fault request number ``n`` gets."""

    def __init__(self, faults: Faults):
        self.faults = faults
        self._count = 0
        self._burst_left = 0
        self._lock = threading.Lock()

    def next_fault(self) -> Fault | None:
        f = self.faults
        with self._lock:
            self._count += 1
            n = self._count
            if _hits(n, f.unavailable_every):
                self._burst_left = max(f.unavailable_burst or 1, 1)
            if self._burst_left > 0:
                self._burst_left -= 1
                return Fault.UNAVAILABLE
        if _hits(n, f.drop_every):
            return Fault.DROP
        if _hits(n, f.rate_limit_every):
            return Fault.RATE_LIMITED
        if _hits(n, f.malformed_every):
            return Fault.MALFORMED
        return None

    def reset(self) -> None:
        with self._lock:
            self._count = 0
            self._burst_left = 0
