"""The tries of one request: what failed, how often and for how long, and how long to wait
before the next try.

A failed attempt worth another try raises :class:`Retry`, naming its kind of failure ("HTTP 503",
"cannot connect", ...), the wait the server asked for, and the error to raise once that kind has no
try left. :class:`Failures` counts one request's failed attempts per kind; :func:`backoff` is our
own wait (bounded exponential, with jitter), :func:`jittered` a server's (never less than asked).
The client (:mod:`procore_xl.client`) decides what counts as which kind and how many tries each has.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from .errors import ProcoreError, how_often

CANNOT_CONNECT = "cannot connect"
CONNECT_FAILURE_ATTEMPTS = 3  # a host that refuses or does not resolve: fail sooner
RETRY_STATUSES = {500, 502, 503, 504}


class Retry(Exception):
    """This attempt failed in a way worth another try.

    ``kind`` names the failure for its budget of tries ("HTTP 503", "cannot connect", ...);
    ``wait`` is what the server asked for (Retry-After), None for our own backoff; ``final(what)``
    builds the error raised when that kind has no try left, ``what`` saying how often and how
    long ("6 times in 40 s")."""

    def __init__(self, kind: str, *, wait: float | None = None, final: Callable[[str], ProcoreError]):
        super().__init__(kind)
        self.kind = kind
        self.wait = wait
        self.final = final


@dataclass
class Failures:
    """The failed attempts of one request, counted per kind."""

    started: float = field(default_factory=time.monotonic)
    counts: Counter = field(default_factory=Counter)

    def add(self, kind: str) -> int:
        self.counts[kind] += 1
        return self.counts[kind]

    def what(self, kind: str) -> str:
        """'6 times in 40 s' for the failures of ``kind`` so far."""
        return how_often(self.counts[kind], time.monotonic() - self.started)


def backoff(failures: int, first: float, most: float) -> float:
    """Our own wait after the ``failures``-th failure of a kind: ``first`` doubled each time, at
    most ``most``, then a random half to all of it (clients failing together do not come back together)."""
    return min(most, first * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)


def jittered(wait: float) -> float:
    """A server-given wait plus up to 10% (at most 1 s): clients told the same time do not all
    come back at once. Never less than asked."""
    return wait + random.uniform(0, min(1.0, 0.1 * wait)) if wait > 0 else 0.0
