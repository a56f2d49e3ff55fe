"""The second refresh of the demo workbook: full versus incremental (requests and seconds).

    python benchmarks/refresh_incremental.py [--rfis-per-project 25] [--latency-ms 0]

Builds the demo workbook (every report of the catalog, the demo's parameters) against an
in-process sandbox with Procore's rate limits, then refreshes it with ``procore-xl refresh``'s
code three times: ``--full`` (every record again, as before the record store), incremental with
nothing changed, and incremental after one RFI edited, two added and one deleted. The default run
takes a minute or two, mostly waiting for the sandbox's spike limit (100 requests per 10 s, as
Procore). The hourly budget is raised (``--hourly``): at 200 RFIs per project two full runs of the
demo already spend Procore's 3,600 requests of an hour, and the refreshes after them would fail.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from procore_xl.catalog import REPORTS
from procore_xl.demo import demo_params, sandbox_settings
from procore_xl.errors import ProcoreError
from procore_xl.excel.refresh import refresh_workbook, write_results_workbook
from procore_xl.sandbox import SandboxConfig, SandboxServer
from procore_xl.sandbox.browser import ConsentBrowser
from procore_xl.service import ProcoreService
from procore_xl.store import RecordStore
from procore_xl.tokens import MemoryTokenStore


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rfis-per-project", type=int, default=25)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--hourly", type=int, default=100_000, help="the sandbox's requests per hour per token")
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="procore-xl-bench-"))
    book = folder / "demo.xlsx"
    config = SandboxConfig(port=0, rfis_per_project=args.rfis_per_project, latency_ms=args.latency_ms,
                           rate_limit_hourly=args.hourly)
    with SandboxServer(config) as sandbox, \
            ProcoreService(sandbox_settings(sandbox), MemoryTokenStore(),
                           record_store=RecordStore(folder / "records.sqlite3")) as service:
        service.login(open_browser=ConsentBrowser())
        started = time.perf_counter()
        runs = []
        for report in REPORTS.values():
            try:
                params = demo_params(report, service)
                runs.append((params, service.run(report, params)))
            except ProcoreError as err:
                print(f"skipped {report.name}: {err}")
        write_results_workbook(book, runs)
        print(f"demo workbook: {len(runs)} report sheets, {sandbox.requests:,} requests, "
              f"{time.perf_counter() - started:.1f} s (first run: full)")

        def refresh(label: str, full: bool = False) -> None:
            service.invalidate()
            sandbox.reset_counts()
            t0 = time.perf_counter()
            if full:
                with service.full_refresh():
                    outcome = refresh_workbook(book, service, progress=False)
            else:
                outcome = refresh_workbook(book, service, progress=False)
            print(f"{label:<44} {sandbox.requests:>9,} {time.perf_counter() - t0:>9.1f} "
                  f"{len(outcome.refreshed):>7} {len(outcome.failed):>7}")

        print(f"\n{'second refresh':<44} {'requests':>9} {'seconds':>9} {'sheets':>7} {'failed':>7}")
        refresh("full (--full)", full=True)
        refresh("incremental, nothing changed")
        world = sandbox.world
        rfis = world.records("rfis", world.project(91001))
        world.edit_record("rfis", rfis[1]["id"], subject="Changed for the benchmark")
        world.add_record("rfis", 91001)
        world.add_record("rfis", 91001)
        world.delete_record("rfis", rfis[2]["id"])
        refresh("incremental, 1 RFI edited, 2 added, 1 deleted")
        info = service.records_info()
        print(f"\nrecord store: {info.entries} endpoint calls, {info.records:,} records, "
              f"{info.size_bytes / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
