"""`procore-xl sync` of the sandbox company into DuckDB: the full sync, then incremental ones.

    pip install -e ".[warehouse]"
    python benchmarks/sync_speed.py [--rfis-per-project 25] [--latency-ms 0] [--paced]
    python benchmarks/sync_speed.py --rfis-per-project 10000 --project 91001 --reports RFIs

Every report (or ``--reports``) over every active project (or ``--project``) into a DuckDB file
in a temporary folder, three times, each with a fresh sign-in and discovery (as three scheduled
runs would be), sharing one record store (the per-user one, in the temporary folder):

1. full: the first sync (no state);
2. incremental, nothing changed;
3. incremental after the sandbox edited one RFI and added two on project 91001.

Prints rows loaded, requests the sandbox served and wall seconds for each. By default the
sandbox's rate limits are lifted, to show the CPU and latency cost alone (about two minutes);
``--paced`` keeps its Procore-like spike limit (100 requests per 10 s), which then bounds each
run (about three minutes each).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

from procore_xl import warehouse
from procore_xl.demo import sandbox_settings
from procore_xl.sandbox import SandboxConfig, SandboxServer
from procore_xl.sandbox.browser import ConsentBrowser
from procore_xl.service import ProcoreService
from procore_xl.tokens import MemoryTokenStore

COMPANY, PROJECT = 8001, 91001
WINDOW = {"start_days_back": 30}     # daily logs: the last 30 days


def one_sync(sandbox: SandboxServer, folder: str, label: str, projects, reports: str) -> None:
    with ProcoreService(sandbox_settings(sandbox), MemoryTokenStore()) as service:
        service.login(open_browser=ConsentBrowser())
        sandbox.reset_counts()
        started = time.perf_counter()
        summary = warehouse.sync(service, COMPANY, projects=projects, reports=reports, **WINDOW)
        seconds = time.perf_counter() - started
    failed = f", {len(summary.failures)} failed" if summary.failures else ""
    print(f"{label:<44} {summary.rows:>8,} {sandbox.requests:>9,} {seconds:>8.1f}   "
          f"{len(summary.tables)} tables{failed}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rfis-per-project", type=int, default=25)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--paced", action="store_true", help="keep the sandbox's Procore-like rate limits")
    ap.add_argument("--project", nargs="+", default="all", help="project ids (default: every active project)")
    ap.add_argument("--reports", default="all", help="report names, comma-separated (default: all)")
    args = ap.parse_args()
    chosen = (args.project, args.reports)
    limits = {} if args.paced else dict(rate_limit_spike=10**6, rate_limit_hourly=10**8)
    config = SandboxConfig(port=0, rfis_per_project=args.rfis_per_project, latency_ms=args.latency_ms, **limits)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    with tempfile.TemporaryDirectory() as folder, SandboxServer(config) as sandbox:
        os.chdir(folder)                                    # procore.duckdb lands here
        os.environ["PROCORE_XL_HOME"] = os.path.join(folder, "home")      # the record store
        print(f"sandbox: {args.rfis_per_project} RFIs a project, {args.latency_ms} ms latency, "
              f"{'spike limit 100 requests / 10 s' if args.paced else 'unpaced'}")
        print(f"{'sync':<44} {'rows':>8} {'requests':>9} {'seconds':>8}")
        one_sync(sandbox, folder, "1. full (first sync)", *chosen)
        one_sync(sandbox, folder, "2. incremental, nothing changed", *chosen)
        world = sandbox.world
        rfi = world.records("rfis", world.project(PROJECT))[0]["id"]
        world.edit_record("rfis", rfi, subject="Edited for the benchmark")
        world.add_record("rfis", PROJECT)
        world.add_record("rfis", PROJECT)
        one_sync(sandbox, folder, "3. incremental, 1 RFI edited + 2 added", *chosen)
        os.chdir(os.path.dirname(folder))


if __name__ == "__main__":
    main()
