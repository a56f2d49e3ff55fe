"""Showing that a long command is alive (the pull ticker, the sync line) and stopping at once on
Ctrl+C or a termination signal."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

from ..errors import is_terminal, printable
from .. import files


def _sync_progress():
    started = time.monotonic()

    def show(stats) -> None:
        sys.stderr.write(f"\rprocore-xl: sync: {stats.done}/{stats.loads} loads, "
                         f"{sum(stats.rows.values()):,} rows, {time.monotonic() - started:.0f} s ")
        sys.stderr.flush()
    return show


CLEAR_LINE = "\r\033[K"       # the progress line a terminal shows, taken away before a line of ours


class _Ticker:
    """On a terminal, a line on stderr that shows a long pull is alive: requests so far, seconds.
    Nothing when stderr is a file or a pipe (cron logs stay clean)."""

    def __init__(self, report: str, service, every: float = 0.5):
        self.report, self.service, self.every = report, service, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._active = is_terminal(sys.stderr)

    def __enter__(self) -> "_Ticker":
        if self._active:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._active:
            self._stop.set()
            self._thread.join()
            sys.stderr.write(CLEAR_LINE)

    def _run(self) -> None:
        started = time.monotonic()
        client = self.service.client
        first = client.stats.snapshot().get("requests", 0)
        while not self._stop.wait(self.every):
            done = client.stats.snapshot().get("requests", 0) - first
            line = f"procore-xl: {self.report}: {done} requests, {time.monotonic() - started:.0f} s"
            waiting = client.budget.held_until - time.time()
            if waiting >= 0.5:
                line += f", waiting {max(1, round(waiting))} s for Procore's rate limit"
            else:
                left = client.budget.left()
                line += f", {left}" if left else ""
            sys.stderr.write(f"{CLEAR_LINE}{printable(line)} ")
            sys.stderr.flush()


STOP_SIGNALS = {signal.SIGINT: "interrupted",
                **{getattr(signal, name): "terminated" for name in ("SIGTERM", "SIGHUP", "SIGBREAK")
                   if hasattr(signal, name)}}


def _stop_at_once_on_signals() -> dict:
    """Ctrl+C (and a termination signal: ``kill``, a closed terminal, a scheduler's stop) ends the
    command now, not after the worker threads finish their requests. Files are only ever written
    whole (temporary file, then rename); the temporary files being written are removed first, so
    nothing is left behind. Returns the handlers it replaced (none when not on the main thread)."""
    def stop(signum, frame):
        files.remove_temporary_files()     # the temporary files being written (a token file, an output)
        sys.stderr.write(f"{CLEAR_LINE if is_terminal(sys.stderr) else ''}procore-xl: {STOP_SIGNALS.get(signum, 'stopped')}\n")
        sys.stderr.flush()
        os._exit(128 + signum)         # 130 for Ctrl+C, 143 for SIGTERM: the shell's convention
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}

