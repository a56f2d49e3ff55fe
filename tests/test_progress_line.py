"""On a terminal, the line that shows a long command is alive is taken away before the command's
last line: Ctrl+C's "interrupted" starts a line of its own, not the end of "RFIs: 3 requests, 2 s".
A child process with stderr a pseudo-terminal, against the sandbox over loopback."""
from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time

from cli_run import process_environ


def test_ctrl_c_on_a_terminal_clears_the_progress_line_first(sandbox, tmp_path):
    sandbox.faults.latency_ms = 400                 # a pull of seconds: the line ticks
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    try:
        child = subprocess.Popen([sys.executable, "-m", "procore_xl", "pull", "RFIs", "--company", "8001",
                                  "--project", "all", "--out", str(tmp_path / "rfis.csv")],
                                 env=process_environ(sandbox, tmp_path / "home"), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        shown = b""
        deadline = time.monotonic() + 60
        while b"requests" not in shown and time.monotonic() < deadline:     # the ticker has drawn its line
            time.sleep(0.1)
            try:
                shown += os.read(master, 4096)
            except BlockingIOError:
                pass
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=60) == 130
        while True:
            try:
                chunk = os.read(master, 4096)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    text = shown.decode("utf-8", "replace")
    assert "requests" in text, repr(text)
    assert "\r\x1b[Kprocore-xl: interrupted\r\n" in text, repr(text)
    assert not (tmp_path / "rfis.csv").exists()
