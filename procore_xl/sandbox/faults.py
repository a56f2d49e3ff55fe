"""Decides, per API request, which fault (if any) the server injects.

The knobs live in a mutable :class:`~procore_xl.sandbox.config.Faults`; this module keeps the counters.
"""
from __future__ import annotations

import threading
import time
from enum import Enum

from .config import Faults


class Fault(Enum):
    DROP = "drop"                  # close the connection without a response
    UNAVAILABLE = "unavailable"    # 503 + Retry-After
    RATE_LIMITED = "rate_limited"  # 429 + X-Rate-Limit-Reset in 1 s (+ Retry-After: 1 unless turned off)
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


def rate_limited_headers(faults: Faults, now: float | None = None) -> dict[str, str]:
    """Headers of an injected 429: the budget is spent until the next second; ``Retry-After``
    only when ``faults.retry_after`` (Procore's rate-limit page promises just the reset)."""
    reset = int(time.time() if now is None else now) + 1
    headers = {"X-Rate-Limit-Reset": str(reset), "X-Rate-Limit-Remaining": "0"}
    return {"Retry-After": "1", **headers} if faults.retry_after else headers


def describe(faults: Faults) -> str:
    """The faults turned on, in words (for the `procore-xl sandbox` banner)."""
    f = faults
    burst = f" in bursts of {f.unavailable_burst}" if f.unavailable_burst > 1 else ""
    parts = [text for on, text in (
        (f.latency_ms, f"{f.latency_ms} ms latency"),
        (f.rate_limit_every, f"429 every {f.rate_limit_every} requests"),
        (not f.retry_after, "429 without Retry-After"),
        (f.unavailable_every, f"503 every {f.unavailable_every} requests{burst}"),
        (f.drop_every, f"dropped connection every {f.drop_every} requests"),
        (f.malformed_every, f"malformed body every {f.malformed_every} requests"),
        (f.token_dies_after, f"access tokens die after {f.token_dies_after} uses"),
        (f.clock_skew_seconds, f"Date header {f.clock_skew_seconds:+d} s from the stamps"),
    ) if on]
    return "faults: " + (", ".join(parts) or "none")
