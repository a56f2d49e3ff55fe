"""Pacing requests by Procore's rate-limit headers.

Every Procore response carries ``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining`` and
``X-Rate-Limit-Reset`` (Unix seconds, server clock) for whichever window (hourly or 10-second
spike) is closer to running out. :class:`RateBudget` reads them on every response and, before
each request, waits for the reset once fewer than ``reserve`` requests are left. It remembers
both windows, and requests sent but not yet answered are counted against the budget locally, so
a pool of concurrent requests cannot overshoot it. Reset times are converted to this machine's clock through the response's
``Date`` header, so a skewed local clock does not matter.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
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


SPIKE_WINDOW_MAX = 60.0  # a window whose reset is at most this far away is the 10-second spike window


@dataclass
class Window:
    """What we know of one rate-limit window (local clock)."""
    limit: int | None
    remaining: int
    reset_at: float


class RateBudget:
    """Thread-safe view of Procore's two rate-limit windows, shared by all requests of one client.

    The headers describe one window at a time, whichever is closer to running out; which one is
    told by how far away its reset is (the spike window resets within seconds). Both windows are
    remembered: a response that shows one still spent a unit of the other. Requests that passed
    :meth:`acquire` but whose answer has not been read yet (``in_flight``) are subtracted from
    what the last answer said, so concurrent requests cannot overshoot the budget.
    """

    def __init__(self, *, reserve: int = DEFAULT_RESERVE, max_wait: float = DEFAULT_MAX_WAIT,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep):
        self.reserve = reserve
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.windows: dict[str, Window] = {}   # "spike" / "hourly"
        self.in_flight = 0
        self.waits = 0                 # how many times a request had to wait
        self.waited_seconds = 0.0      # wall-clock time during which requests were held back
        self._held_until = 0.0

    # -- the window the last answers showed (kept for messages and tests) --------------------------
    def _shown(self) -> Window | None:
        live = [w for w in self.windows.values() if w.reset_at > self._clock()]
        return min(live, key=lambda w: w.remaining) if live else None

    @property
    def remaining(self) -> int | None:
        shown = self._shown()
        return shown.remaining if shown else None

    @property
    def reset_at(self) -> float | None:
        shown = self._shown()
        return shown.reset_at if shown else None

    @property
    def held_until(self) -> float:
        """When the current wait for a rate-limit window ends (this clock; in the past when no
        request is being held back): for progress lines."""
        return self._held_until

    @property
    def limit(self) -> int | None:
        shown = self._shown()
        return shown.limit if shown else None

    def left(self) -> str | None:
        """What Procore said is left of the window closer to running out, in words for a
        progress line or a sheet's message ("3,581 of 3,600 requests left until 17:00"); None
        before any answer carried the headers."""
        with self._lock:
            now = self._clock()
            live = [(kind, w) for kind, w in self.windows.items() if w.reset_at > now]
        if not live:
            return None
        kind, window = min(live, key=lambda item: item[1].remaining)
        of = f" of {window.limit:,}" if window.limit else ""
        until = f"until {clock_time(window.reset_at)}" if kind == "hourly" else \
            f"for {max(1, round(window.reset_at - now))} s"
        return f"{window.remaining:,}{of} requests left {until}"

    # -- reading answers ---------------------------------------------------------------------------
    def observe(self, headers: Mapping[str, str]) -> None:
        """Read the X-Rate-Limit-* headers of a response (any status)."""
        remaining = _int(headers.get("X-Rate-Limit-Remaining"))
        reset = _int(headers.get("X-Rate-Limit-Reset"))
        if remaining is None or reset is None:
            return
        now = self._clock()
        offset = server_offset(headers, now)
        reset_local = reset + offset
        kind = "spike" if reset_local - now <= SPIKE_WINDOW_MAX else "hourly"
        limit = _int(headers.get("X-Rate-Limit-Limit"))
        with self._lock:
            for other_kind, other in self.windows.items():
                if other_kind != kind and other.reset_at > now:
                    other.remaining = max(0, other.remaining - 1)   # this request spent it too
            known = self.windows.get(kind)
            # A new window once the old one has passed; within a window keep the lowest figure,
            # as responses of concurrent requests arrive out of order.
            if known is None or now >= known.reset_at or remaining < known.remaining:
                self.windows[kind] = Window(limit or (known.limit if known else None), remaining, reset_local)

    def exhausted_until(self, reset_local: float) -> None:
        """A 429 said the budget is gone until ``reset_local`` (local clock)."""
        now = self._clock()
        kind = "spike" if reset_local - now <= SPIKE_WINDOW_MAX else "hourly"
        with self._lock:
            known = self.windows.get(kind)
            self.windows[kind] = Window(known.limit if known else None, 0, reset_local)

    # -- sending -----------------------------------------------------------------------------------
    def acquire(self) -> None:
        """Call before sending a request (and :meth:`release` once its answer was observed, or it
        failed): waits for the reset while a window is (nearly) spent."""
        while True:
            with self._lock:
                now = self._clock()
                spent = [w for w in self.windows.values()
                         if now < w.reset_at and w.remaining - self.in_flight <= self.reserve]
                if not spent:
                    self.in_flight += 1
                    return
                window = max(spent, key=lambda w: w.reset_at)
                wait = window.reset_at - now + random.uniform(0.05, 0.25)
            if wait > self.max_wait:
                raise RateLimitedError(f"Procore rate limit reached; it resets at {clock_time(window.reset_at)}",
                                       reset_at=window.reset_at)
            log.info("Procore rate limit nearly used up (%s left of %s): waiting %.1f s for the reset",
                     window.remaining, window.limit, wait)
            with self._lock:
                self.waits += 1
                now, until = self._clock(), self._clock() + wait
                if until > self._held_until:   # threads waiting together count once
                    self.waited_seconds += until - max(now, self._held_until)
                    self._held_until = until
            self._sleep(wait)

    def release(self) -> None:
        """The request that :meth:`acquire` let through has been answered (and observed) or failed."""
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)
