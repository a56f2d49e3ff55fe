"""The sandbox as a background process: `procore-xl sandbox --background` and `--stop`.

``start_in_background(argv)`` runs ``python -m procore_xl sandbox ARGV`` detached from the terminal
(its own session, no stdin), waits until it says where it listens, and returns that address and
its process id; a sandbox that cannot start (a port in use) is one ConfigurationError with its own
error line. ``stop(url)`` asks a running sandbox to stop (``POST /_sandbox/stop``, loopback only)
and waits until the port is free.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from ..errors import ConfigurationError

STARTED = re.compile(r"running at (http://\S+)")
START_TIMEOUT = 120.0      # seconds: building a large world (--scale 100) takes a while


def start_in_background(argv: list[str], *, timeout: float = START_TIMEOUT) -> tuple[str, int]:
    """Start ``procore-xl sandbox ARGV`` in the background; -> (its URL, its process id)."""
    log = tempfile.TemporaryFile(mode="w+b")        # the child's banner and errors, gone with both
    detach: dict = ({"start_new_session": True} if os.name == "posix" else
                    {"creationflags": subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP})
    child = subprocess.Popen([sys.executable, "-m", "procore_xl", "sandbox", *argv], stdin=subprocess.DEVNULL,
                             stdout=log, stderr=log, close_fds=True, **detach)
    deadline = time.monotonic() + timeout
    while True:
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
        found = STARTED.search(text)
        if found:
            log.close()
            return found.group(1), child.pid
        if child.poll() is not None:
            log.close()
            errors = [line for line in text.splitlines() if "error" in line.lower()] or text.splitlines()[-1:]
            reason = errors[-1].removeprefix("procore-xl: error: ") if errors else f"exit status {child.returncode}"
            raise ConfigurationError(f"The sandbox did not start: {reason}")
        if time.monotonic() > deadline:
            child.kill()
            log.close()
            raise ConfigurationError(f"The sandbox did not start within {timeout:.0f} s")
        time.sleep(0.1)


def stop(url: str, *, timeout: float = 10.0) -> None:
    """Stop the sandbox at ``url``; ConfigurationError when none answers there."""
    request = urllib.request.Request(url.rstrip("/") + "/_sandbox/stop", data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            pass
    except urllib.error.HTTPError as err:
        raise ConfigurationError(f"{url} did not stop ({err.code} {err.reason}): is it procore-xl's sandbox?") from None
    except (urllib.error.URLError, OSError):
        raise ConfigurationError(f"No sandbox answers at {url} - nothing to stop") from None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:        # gone once its port no longer answers
        try:
            with urllib.request.urlopen(url.rstrip("/") + "/_sandbox/stats", timeout=1):
                pass
        except (urllib.error.URLError, OSError):
            return
        time.sleep(0.1)
    raise ConfigurationError(f"The sandbox at {url} was asked to stop but still answers after {timeout:.0f} s")
