"""Pacing requests by Procore's rate-limit headers.

Every Procore response carries ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and
``X-Rate-Limit-Reset`` (Unix seconds, server clock) for whichever window (hourly or 10-second
spike) is closer to running out. :class:`RateBudget` reads them on every response and, before
each request, waits for the reset once fewer than ``reserve`` requests are left. Requests sent
but not yet answered are counted against the budget locally, so a pool of concurrent requests
cannot overshoot it. Reset times are converted to this machine's clock through the response's
``Date`` header, so a skewed local clock does not matter.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Callable, Mapping

from .errors import RateLimitedError

log = logging.getLogger("procore_xl")

DEFAULT_RESERVE = 2
DEFAULT_MAX_WAIT = 90.0  # seconds; longer waits (an exhausted hourly budget) fail with RateLimitedError


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def server_offset(headers: Mapping[str, str], now: float) -> float:
    """Local clock minus server clock, from the ``Date`` header (0 when missing/unparseable)."""
    date = headers.get("Date")
    if not date:
        return 0.0
    try:
        return now - parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return 0.0


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def clock_time(timestamp: float) -> str:
    """Local HH:MM for messages."""
    return datetime.fromtimestamp(timestamp).strftime("%H:%M")


class RateBudget:
    """Thread-safe view of the current rate-limit window, shared by all requests of one client."""

    def __init__(self, *, reserve: int = DEFAULT_RESERVE, max_wait: float = DEFAULT_MAX_WAIT,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self.reserve = reserve
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.limit: int | None = None
        self.remaining: int | None = None
        self.reset_at: float | None = None  # local clock
        self.waits = 0
        self.waited_seconds = 0.0

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the X-Rate-Limit-* headers of a response (any status)."""
        remaining = _int(headers.get("X-Rate-Limit-Remaining"))
        reset = _int(headers.get("X-Rate-Limit-Reset"))
        if remaining is None or reset is None:
            return
        now = self._clock()
        reset_local = reset + server_offset(headers, now)
        with self._lock:
            self.limit = _int(headers.get("X-Rate-Limit-Limit")) or self.limit
            # A new window once the old one has passed; within a window keep the lowest figure,
            # as responses of concurrent requests arrive out of order.
            if self.reset_at is None or now >= self.reset_at or remaining < self.remaining:
                self._set(remaining, reset_local)

    def _set(self, remaining: int, reset_local: float) -> None:
        self.remaining = remaining
        self.reset_at = reset_local

    def exhausted_until(self, reset_local: float) -> None:
        """A 429 said the budget is gone until ``reset_local`` (local clock)."""
        with self._lock:
            self._set(0, reset_local)

    def acquire(self) -> None:
        """Call before sending a request: waits for the reset when the budget is (nearly) spent."""
        while True:
            with self._lock:
                now = self._clock()
                if self.remaining is None or self.reset_at is None or now >= self.reset_at:
                    return
                if self.remaining > self.reserve:
                    self.remaining -= 1  # this request, until its response says otherwise
                    return
                wait = self.reset_at - now + random.uniform(0.05, 0.25)
                reset_at = self.reset_at
            if wait > self.max_wait:
                raise RateLimitedError(f"Procore rate limit reached; it resets at {clock_time(reset_at)}",
                                       reset_at=reset_at)
            log.info("Procore rate limit nearly used up (%s left of %s): waiting %.1f s for the reset",
                     self.remaining, self.limit, wait)
            with self._lock:
                self.waits += 1
                self.waited_seconds += wait
            self._sleep(wait)
