"""`procore-xl sandbox` exposes the fault knobs, so anyone can rehearse failures from the command
line: each test starts the real command in its own process and talks HTTP to it."""
from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from procore_xl.sandbox import CLIENT_ID, CLIENT_SECRET

COMPANIES = "/rest/v1.0/companies"


@contextlib.contextmanager
def sandbox_command(*flags: str) -> Iterator[tuple[str, str]]:
    """Run `procore-xl sandbox --port 0 FLAGS`; yields (url, banner) and stops it with Ctrl+C."""
    proc = subprocess.Popen([sys.executable, "-m", "procore_xl", "sandbox", "--port", "0", "--scale", "1", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={k: v for k, v in os.environ.items() if not k.startswith("PROCORE_")})
    banner = []
    try:
        for line in proc.stdout:
            banner.append(line)
            found = re.search(r"running at (http://\S+)", line)
            if found:
                break
        else:
            pytest.fail("the sandbox did not start: " + "".join(banner) + proc.stderr.read())
        yield found.group(1), "".join(banner)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)


def token(url: str) -> tuple[str, dict]:
    body = requests.post(f"{url}/oauth/token", data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                                      "client_secret": CLIENT_SECRET}, timeout=10).json()
    return body["access_token"], body


def get(url: str, access_token: str) -> requests.Response | None:
    """One API request; None when the sandbox closed the connection without an answer."""
    try:
        return requests.get(url + COMPANIES, timeout=10, headers={   # a service account names its company
            "Authorization": f"Bearer {access_token}", "Procore-Company-Id": "8001"})
    except requests.ConnectionError:
        return None


def test_rate_limit_knobs_documented_spike_limit_and_429_without_retry_after():
    with sandbox_command("--documented-spike-limit", "--no-retry-after", "--rate-limit-every", "3",
                         "--hourly-limit", "500", "--token-lifetime", "60") as (url, banner):
        assert "25 per 10 s" in banner and "429 every 3 requests" in banner and "without Retry-After" in banner
        access, body = token(url)
        assert body["expires_in"] == 60
        answers = [get(url, access) for _ in range(26)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 429]
    injected = answers[2]
    assert "X-Rate-Limit-Reset" in injected.headers and "Retry-After" not in injected.headers
    assert answers[0].headers["X-Rate-Limit-Limit"] == "25"          # the spike window is the closer one
    assert all(a.status_code == 200 for i, a in enumerate(answers[:25]) if (i + 1) % 3)
    over = answers[25]                       # the 26th request within 10 s: the spike window is spent
    assert over.status_code == 429 and over.headers["X-Rate-Limit-Remaining"] == "0"
    assert "X-Rate-Limit-Reset" in over.headers and "Retry-After" not in over.headers


def test_default_limits_keep_retry_after_and_todays_spike_window():
    with sandbox_command("--rate-limit-every", "2") as (url, banner):
        assert "100 per 10 s" in banner
        access, body = token(url)
        assert body["expires_in"] == 5400
        first, second = get(url, access), get(url, access)
    assert first.headers["X-Rate-Limit-Limit"] == "100"
    assert second.status_code == 429 and second.headers["Retry-After"] == "1"


def test_fault_knobs_503_bursts_dropped_connections_malformed_bodies_and_dying_tokens():
    with sandbox_command("--unavailable-every", "10", "--unavailable-burst", "2", "--drop-every", "7",
                         "--malformed-every", "4", "--token-uses", "2") as (url, banner):
        assert "503 every 10 requests in bursts of 2" in banner and "access tokens die after 2 uses" in banner
        reused, _ = token(url)
        answers = [get(url, reused) for _ in range(3)]                  # requests 1-3, one token
        answers += [get(url, token(url)[0]) for _ in range(9)]         # requests 4-12, a fresh token each
    statuses = [a.status_code if a is not None else "dropped" for a in answers]
    assert statuses == [200, 200, 401, 200, 200, 200, "dropped", 200, 200, 503, 503, 200]
    for n in (4, 8, 12):                                               # truncated JSON bodies
        with pytest.raises(ValueError):
            answers[n - 1].json()
    answers[4].json()


def test_sandbox_command_is_strict_unless_lenient():
    undocumented = "?filters[colour]=blue"
    with sandbox_command() as (url, banner):
        assert "Strict" in banner
        refused = requests.get(url + COMPANIES + undocumented, timeout=10, headers={
            "Authorization": f"Bearer {token(url)[0]}", "Procore-Company-Id": "8001"})
    assert refused.status_code == 400 and "colour" in refused.text
    with sandbox_command("--lenient") as (url, banner):
        assert "Lenient" in banner
        ignored = requests.get(url + COMPANIES + undocumented, timeout=10, headers={
            "Authorization": f"Bearer {token(url)[0]}", "Procore-Company-Id": "8001"})
    assert ignored.status_code == 200 and ignored.json()


def test_clock_skew_moves_the_date_header_ahead_of_the_stamps():
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime
    with sandbox_command("--clock-skew", "600") as (url, banner):
        assert "Date header +600 s from the stamps" in banner
        served = parsedate_to_datetime(requests.get(url + "/rest/v1.0/me").headers["Date"])
        assert (served - datetime.now(timezone.utc)).total_seconds() > 500
