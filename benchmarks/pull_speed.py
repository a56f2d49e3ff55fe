"""Pull speed: procore-xl against ProPyCore 0.8 on the built-in sandbox.

Starts the sandbox in its own process (20,000 RFIs on project 91001, 100 ms latency per API
request), pulls every RFI with each library and prints the requests the sandbox served and the
wall seconds, next to the ideal for procore-xl (latency x pages / requests in flight).

    pip install -r benchmarks/requirements.txt
    python benchmarks/pull_speed.py [--rfis 20000] [--latency-ms 100] [--workers 8]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import requests

from procore_xl.auth import TokenManager
from procore_xl.client import ProcoreClient
from procore_xl.environments import load_settings
from procore_xl.sandbox import CLIENT_ID, CLIENT_SECRET, free_port
from procore_xl.sandbox.server import STATS_PATH
from procore_xl.tokens import MemoryTokenStore

COMPANY, PROJECT = 8001, 91001
RFIS = f"/rest/v1.0/projects/{PROJECT}/rfis"


class SandboxProcess:
    """`procore-xl sandbox` in a child process, so its JSON work does not share our CPU (GIL)."""

    def __init__(self, rfis: int, latency_ms: int, source: str | None = None):
        """``source``: a folder holding the `procore_xl` package to serve instead of the installed one."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        if source:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "procore_xl", "sandbox", "--port", str(self.port),
             "--rfis-per-project", str(rfis), "--latency-ms", str(latency_ms)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=source or None)
        for _ in range(100):
            try:
                requests.get(self.url + STATS_PATH, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise SystemExit("the sandbox did not start")

    @property
    def requests(self) -> int:
        return requests.get(self.url + STATS_PATH, timeout=5).json()["requests"]

    def reset_counts(self) -> None:
        requests.post(self.url + STATS_PATH, timeout=5)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def pull_with_procore_xl(sb: SandboxProcess, workers: int) -> dict:
    settings = load_settings(login_url=sb.url, api_url=sb.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                             environ={}, settings_file="/nonexistent/settings.json")
    sb.reset_counts()
    start = time.perf_counter()
    tokens = TokenManager(settings, MemoryTokenStore())  # client credentials, in memory
    with ProcoreClient(settings.api_url, tokens, max_workers=workers) as client:
        rows = client.get_all(RFIS, company_id=COMPANY)
        stats = client.stats.snapshot()
    seconds = time.perf_counter() - start
    return {"rows": len(rows), "unique": len({r["id"] for r in rows}), "requests": sb.requests,
            "pages": stats["pages"], "seconds": seconds, "error": None}


def pull_with_propycore(sb: SandboxProcess) -> dict:
    try:
        from ProPyCore.procore import Procore
    except ImportError:
        return {"error": "ProPyCore is not installed: pip install -r benchmarks/requirements.txt"}
    sb.reset_counts()
    start = time.perf_counter()
    rows: list = []
    error = None
    try:
        connection = Procore(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri="",
                             base_url=sb.url, oauth_url=sb.url)
        rows = connection.rfis.get(company_id=COMPANY, project_id=PROJECT)
    except Exception as exc:  # noqa: BLE001 - report whatever the peer library raised
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    seconds = time.perf_counter() - start
    return {"rows": len(rows), "unique": len({r["id"] for r in rows}), "requests": sb.requests,
            "pages": None, "seconds": seconds, "error": error}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rfis", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()

    slow, fast = SandboxProcess(args.rfis, args.latency_ms), SandboxProcess(args.rfis, 0)
    try:
        pull_with_procore_xl(slow, args.workers)          # warm-up: the sandbox generates its data
        pull_with_procore_xl(fast, args.workers)
        ours = pull_with_procore_xl(slow, args.workers)
        peer = pull_with_propycore(slow)
        floor = pull_with_procore_xl(fast, args.workers)  # no latency: the CPU cost of the JSON, both ends
    finally:
        slow.close()
        fast.close()

    pages = ours["pages"]
    ideal = args.latency_ms / 1000 * pages / args.workers
    print(f"Sandbox (own process): {args.rfis:,} RFIs on project {PROJECT}, {args.latency_ms} ms latency "
          f"per API request")
    print(f"{'library':<22}{'rows':>8}{'unique':>8}{'requests':>10}{'seconds':>9}  note")
    for name, r in (("procore-xl", ours), ("ProPyCore 0.8.0", peer)):
        if "rows" not in r:
            print(f"{name:<22}{'-':>8}{'-':>8}{'-':>10}{'-':>9}  {r['error']}")
            continue
        note = r["error"] or ("all rows" if r["unique"] == args.rfis else f"MISSING {args.rfis - r['unique']} rows")
        print(f"{name:<22}{r['rows']:>8,}{r['unique']:>8,}{r['requests']:>10}{r['seconds']:>9.2f}  {note}")
    print(f"{'ideal (procore-xl)':<22}{'':>8}{'':>8}{pages:>10}{ideal:>9.2f}  "
          f"latency x {pages} pages / {args.workers} in flight (+1 token request)")
    print(f"{'procore-xl, 0 ms':<22}{floor['rows']:>8,}{floor['unique']:>8,}{floor['requests']:>10}"
          f"{floor['seconds']:>9.2f}  same pull without latency: the CPU floor (JSON both ends) here")


if __name__ == "__main__":
    main()
