"""Every report of the catalog against the sandbox with network latency: requests and wall time.

    python benchmarks/catalog_speed.py [--latency-ms 100] [--scale 1]

Runs the 70 reports one after the other (each report fetches its pages, projects and parents
concurrently inside the rate budget), as `procore-xl demo` does, and prints per-report and total
figures. The sandbox adds the latency to every API request, like a real network round trip.
"""
from __future__ import annotations

import argparse
import time

from procore_xl.catalog import REPORTS
from procore_xl.demo import demo_params, sandbox_settings
from procore_xl.sandbox import SandboxConfig, SandboxServer
from procore_xl.sandbox.browser import ConsentBrowser
from procore_xl.service import ProcoreService
from procore_xl.tokens import MemoryTokenStore


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency-ms", type=int, default=100)
    ap.add_argument("--scale", type=float, default=1)
    ap.add_argument("--quiet", action="store_true", help="totals only")
    args = ap.parse_args()

    with SandboxServer(SandboxConfig(port=0, scale=args.scale, latency_ms=args.latency_ms)) as sandbox:
        with ProcoreService(sandbox_settings(sandbox), MemoryTokenStore()) as service:
            service.login(open_browser=ConsentBrowser())
            params = {name: demo_params(report, service) for name, report in REPORTS.items()}
            service.invalidate()          # discovery lists are fetched again inside the timed run
            sandbox.reset_counts()
            started = time.perf_counter()
            rows = 0
            for name, report in REPORTS.items():
                result = service.run(report, params[name])
                rows += len(result.frame)
                if not args.quiet:
                    print(f"{name:<36} {len(result.frame):>7,} rows {result.requests:>5} requests "
                          f"{result.seconds:>6.2f} s")
            wall = time.perf_counter() - started
            served = sandbox.requests
    print(f"\ncatalog: {len(REPORTS)} reports, {rows:,} rows, {served:,} requests, {wall:.1f} s wall "
          f"({args.latency_ms} ms latency per request, scale {args.scale:g})")


if __name__ == "__main__":
    main()
