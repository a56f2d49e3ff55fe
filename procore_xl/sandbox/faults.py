"""Decides, per API request, which fault (if any) the server injects.

The knobs live in a mutable :class:`~procore_xl.sandbox.config.Faults`; this module keeps the counters.
"""
from __future__ import annotations

import functools
import json
import threading
import time
import zlib
from enum import Enum

from .config import Faults


class Fault(Enum):
    DROP = "drop"                  # close the connection without a response
    UNAVAILABLE = "unavailable"    # 503 + Retry-After
    RATE_LIMITED = "rate_limited"  # 429 + X-Rate-Limit-Reset in 1 s (+ Retry-After: 1 unless turned off)
    MALFORMED = "malformed"        # 200 with a truncated JSON body
    GZIP_BOMB = "gzip_bomb"        # 200, Content-Encoding: gzip, expanding to Faults.gzip_bomb_mib MiB
    HUGE_TOTAL = "huge_total"      # 200 with Total: 1000000000 on a list
    DEEP_NESTING = "deep_nesting"  # 200 with a record nested DEEP_LEVELS deep
    OBJECT_BODY = "object_body"    # 200 with an object where the reference documents a list
    SCALAR_LIST = "scalar_list"    # 200 with [1, "two", null]


HUGE_TOTAL = 1_000_000_000
DEEP_LEVELS = 10_000


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
        for every, fault in ((f.gzip_bomb_every, Fault.GZIP_BOMB), (f.huge_total_every, Fault.HUGE_TOTAL),
                             (f.deep_nesting_every, Fault.DEEP_NESTING), (f.object_body_every, Fault.OBJECT_BODY),
                             (f.scalar_list_every, Fault.SCALAR_LIST)):
            if _hits(n, every):
                return fault
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


def hostile(fault: Fault, status: int, body: bytes, headers: dict[str, str], faults: Faults
            ) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a 200 answer turned hostile or broken by ``fault``."""
    if status != 200:
        return body, headers
    if fault is Fault.GZIP_BOMB:
        return gzip_bomb(faults.gzip_bomb_mib), {**headers, "Content-Encoding": "gzip"}
    if fault is Fault.HUGE_TOTAL:
        return body, ({**headers, "Total": str(HUGE_TOTAL)} if "Total" in headers else headers)
    if fault is Fault.DEEP_NESTING:
        deep = b'{"id": 1, "nested": ' + b'{"level": ' * DEEP_LEVELS + b"1" + b"}" * DEEP_LEVELS + b"}"
        return b"[" + deep + b"]", headers
    if fault is Fault.SCALAR_LIST:
        return b'[1, "two", null]', headers
    if fault is Fault.OBJECT_BODY:
        value = json.loads(body)
        if isinstance(value, dict) and isinstance(value.get("data"), list):
            value = {**value, "data": value["data"][0] if value["data"] else {}}
        elif isinstance(value, list):
            value = value[0] if value else {}
        return json.dumps(value).encode(), headers
    return body, headers


@functools.lru_cache(maxsize=2)
def gzip_bomb(mib: int) -> bytes:
    """gzip of a JSON list padded with ``mib`` MiB of spaces (about 1 KiB sent per MiB), made
    once per size, a MiB at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)          # 31: the gzip format
    spaces = b" " * (1024 * 1024)
    parts = [packer.compress(b"[")]
    for _ in range(max(mib, 1)):
        parts.append(packer.compress(spaces))
    parts.append(packer.compress(b"]"))
    parts.append(packer.flush())
    return b"".join(parts)


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
        (f.gzip_bomb_every, f"gzip bomb ({f.gzip_bomb_mib} MiB) every {f.gzip_bomb_every} requests"),
        (f.huge_total_every, f"Total: {HUGE_TOTAL:,} every {f.huge_total_every} requests"),
        (f.deep_nesting_every, f"{DEEP_LEVELS:,} levels deep every {f.deep_nesting_every} requests"),
        (f.object_body_every, f"an object for a list every {f.object_body_every} requests"),
        (f.scalar_list_every, f"a list of non-records every {f.scalar_list_every} requests"),
    ) if on]
    return "faults: " + (", ".join(parts) or "none")
