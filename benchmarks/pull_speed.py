"""Pull speed: procore-xl against ProPyCore 0.8 on the built-in sandbox.

Starts the sandbox in-process (20,000 RFIs on project 91001, 100 ms latency per API request),
pulls every RFI with each library and prints requests made (the sandbox's own counter) and
wall seconds, next to the ideal for procore-xl (latency x pages / concurrency).

    pip install -r benchmarks/requirements.txt
    python benchmarks/pull_speed.py [--rfis 20000] [--latency-ms 100] [--workers 8]
"""
from __future__ import annotations

import argparse
import time

from procore_xl.auth import TokenManager
from procore_xl.client import ProcoreClient
from procore_xl.environments import load_settings
from procore_xl.sandbox import SandboxConfig, SandboxServer
from procore_xl.tokens import MemoryTokenStore

COMPANY, PROJECT = 8001, 91001
RFIS = f"/rest/v1.0/projects/{PROJECT}/rfis"


def pull_with_procore_xl(sb: SandboxServer, workers: int) -> dict:
    settings = load_settings(login_url=sb.url, api_url=sb.url, client_id=sb.client_id,
                             client_secret=sb.client_secret, environ={}, settings_file="/nonexistent/settings.json")
    sb.reset_counts()
    start = time.perf_counter()
    tokens = TokenManager(settings, MemoryTokenStore())  # client credentials, in memory
    with ProcoreClient(settings.api_url, tokens, max_workers=workers) as client:
        rows = client.get_all(RFIS, company_id=COMPANY)
        stats = client.stats.snapshot()
    seconds = time.perf_counter() - start
    return {"rows": len(rows), "unique": len({r["id"] for r in rows}), "requests": sb.requests,
            "pages": stats["pages"], "seconds": seconds, "error": None}


def pull_with_propycore(sb: SandboxServer) -> dict:
    try:
        from ProPyCore.procore import Procore
    except ImportError:
        return {"error": "ProPyCore is not installed: pip install -r benchmarks/requirements.txt"}
    sb.reset_counts()
    start = time.perf_counter()
    rows: list = []
    error = None
    try:
        connection = Procore(client_id=sb.client_id, client_secret=sb.client_secret, redirect_uri="",
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

    config = SandboxConfig(port=0, rfis_per_project=args.rfis, latency_ms=args.latency_ms)
    with SandboxServer(config) as sb:
        sb.world.records("rfis", sb.world.project(PROJECT))  # generate the data before timing
        ours = pull_with_procore_xl(sb, args.workers)
        peer = pull_with_propycore(sb)
        sb.faults.latency_ms = 0
        floor = pull_with_procore_xl(sb, args.workers)  # same pull without latency: CPU cost of JSON both ends

    pages = ours["pages"]
    ideal = args.latency_ms / 1000 * pages / args.workers
    print(f"Sandbox: {args.rfis:,} RFIs on project {PROJECT}, {args.latency_ms} ms latency per API request")
    print(f"{'library':<22}{'rows':>8}{'unique':>8}{'requests':>10}{'seconds':>9}  note")
    for name, r in (("procore-xl", ours), ("ProPyCore 0.8.0", peer)):
        if "rows" not in r:
            print(f"{name:<22}{'-':>8}{'-':>8}{'-':>10}{'-':>9}  {r['error']}")
            continue
        note = r["error"] or ("all rows" if r["unique"] == args.rfis else f"MISSING {args.rfis - r['unique']} rows")
        print(f"{name:<22}{r['rows']:>8,}{r['unique']:>8,}{r['requests']:>10}{r['seconds']:>9.2f}  {note}")
    print(f"{'ideal (procore-xl)':<22}{'':>8}{'':>8}{pages:>10}{ideal:>9.2f}  "
          f"latency x {pages} pages / {args.workers} in flight (requests incl. 1 token request: {pages + 1})")
    print(f"{'procore-xl, 0 ms':<22}{floor['rows']:>8,}{floor['unique']:>8,}{floor['requests']:>10}"
          f"{floor['seconds']:>9.2f}  same pull without latency: the CPU floor (sandbox JSON + parsing) here")


if __name__ == "__main__":
    main()
