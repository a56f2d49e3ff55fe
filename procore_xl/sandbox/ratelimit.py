"""Per-access-token rate limits with Procore's two windows (hourly and spike).

Every API response carries ``X-Rate-Limit-Limit/Remaining/Reset`` describing the window closer to
exhaustion. Each request (failed ones too) spends one unit of both windows.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

SPIKE_SECONDS = 10             # Procore's spike window
DOCUMENTED_SPIKE_LIMIT = 25    # the example spike limit in Procore's rate-limit documentation (per 10 s)
OVER_LIMIT_MESSAGE = ("You have surpassed the max number of requests for an hour. "
                      "Please wait until your limit resets.")


@dataclass
class Window:
    limit: int
    seconds: int
    started: float = 0.0
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.started + self.seconds:
            self.started, self.used = now, 0

    @property
    def reset_at(self) -> float:
        return self.started + self.seconds

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    headers: dict[str, str]
    retry_after: int

    def refusal_headers(self, retry_after: bool = True) -> dict[str, str]:
        """Headers of the 429 for a refused request: the X-Rate-Limit-* headers, and
        ``Retry-After`` unless ``retry_after`` is False (Procore documents only the reset)."""
        return {**self.headers, "Retry-After": str(self.retry_after)} if retry_after else dict(self.headers)


class RateLimiter:
    """Counts requests per key (the access token, or the caller's address when there is none)."""

    def __init__(self, hourly: int, spike: int, spike_seconds: int, clock=time.time):
        self.hourly, self.spike, self.spike_seconds = hourly, spike, spike_seconds
        self._clock = clock
        self._windows: dict[str, tuple[Window, Window]] = {}
        self._lock = threading.Lock()

    def spend(self, key: str) -> Decision:
        now = self._clock()
        with self._lock:
            windows = self._windows.get(key)
            if windows is None:
                windows = (Window(self.hourly, 3600, now), Window(self.spike, self.spike_seconds, now))
                self._windows[key] = windows
            for window in windows:
                window.roll(now)
            exhausted = [w for w in windows if w.remaining == 0]
            if not exhausted:
                for window in windows:
                    window.used += 1
            shown = exhausted[0] if exhausted else min(windows, key=lambda w: w.remaining / w.limit)
            headers = {"X-Rate-Limit-Limit": str(shown.limit), "X-Rate-Limit-Remaining": str(shown.remaining),
                       "X-Rate-Limit-Reset": str(math.ceil(shown.reset_at))}
            retry_after = max(math.ceil(shown.reset_at - now), 1)
            return Decision(not exhausted, headers, retry_after)
