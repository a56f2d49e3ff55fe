"""Requests of a refresh that finds nothing changed: a one-report workbook and the demo workbook.

    python benchmarks/refresh_requests.py [--rfis 3000] [--demo-rfis-per-project 25] [--paths]

Each refresh runs as ``procore-xl refresh`` runs it in a new process: a new service (its own
client and in-memory caches) over the same record store, list store and sign-in. The one-report
workbook is ``new-workbook book.xlsx --report RFIs --company 8001 --project 91001`` on a
sandbox with ``--rfis`` RFIs (more than two pages, so the record store asks for changes); it
is refreshed twice and the second refresh is counted. The demo workbook (every report of the
catalog, the demo's parameters) is built, refreshed once, then refreshed again and counted,
report by report. ``--paths`` also prints the paths each report of the last refresh asked for.
Last, ``refresh --plan`` of the demo workbook against the requests of the full refresh it plans.
"""
from __future__ import annotations

import argparse
import collections
import logging
import re
import tempfile
from pathlib import Path

from procore_xl.catalog import REPORTS
from procore_xl.demo import demo_params, sandbox_settings
from procore_xl.errors import ProcoreError
from procore_xl.excel.refresh import new_workbook, plan_workbook, refresh_workbook, write_results_workbook
from procore_xl.sandbox import SandboxConfig, SandboxServer
from procore_xl.sandbox.browser import ConsentBrowser
from procore_xl.service import ProcoreService
from procore_xl.store import RecordStore
from procore_xl.tokens import MemoryTokenStore

GET = re.compile(r"GET (\S+)")


class Requests(logging.Handler):
    """The paths the client asks for (its DEBUG lines), by report being run."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.report = "(outside a report)"
        self.paths: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

    def emit(self, record: logging.LogRecord) -> None:
        found = GET.search(record.getMessage())
        if found:
            self.paths[self.report][re.sub(r"/\d+", "/N", found.group(1))] += 1


class Counting(ProcoreService):
    """A service that notes each report run's requests (what ``procore-xl refresh`` runs)."""

    def __init__(self, *args, log: Requests, **kwargs):
        super().__init__(*args, **kwargs)
        self.log = log
        self.per_report: dict[str, int] = {}

    def run(self, report, params, **kwargs):
        name = getattr(report, "name", report)
        self.log.report = name
        before = self.client.stats.snapshot()["requests"]
        try:
            return super().run(report, params, **kwargs)
        finally:
            self.per_report[name] = self.per_report.get(name, 0) + self.client.stats.snapshot()["requests"] - before
            self.log.report = "(outside a report)"


def refresh(book: Path, sandbox: SandboxServer, tokens, records: Path, log: Requests) -> tuple[int, Counting]:
    log.paths.clear()
    with Counting(sandbox_settings(sandbox), tokens, record_store=RecordStore(records),
                  log=log) as service:
        sandbox.reset_counts()
        refresh_workbook(book, service, progress=False)
        return sandbox.requests, service


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rfis", type=int, default=3000, help="RFIs of project 91001 for the one-report workbook")
    ap.add_argument("--demo-rfis-per-project", type=int, default=25)
    ap.add_argument("--paths", action="store_true", help="print the paths each report asked for")
    args = ap.parse_args()
    log = Requests()
    logger = logging.getLogger("procore_xl")
    logger.addHandler(log)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    folder = Path(tempfile.mkdtemp(prefix="procore-xl-bench-"))
    config = SandboxConfig(port=0, rfis_per_project=args.rfis, rate_limit_hourly=1_000_000,
                           rate_limit_spike=1_000_000)
    with SandboxServer(config) as sandbox:
        tokens = MemoryTokenStore()
        book = folder / "rfis.xlsx"
        with ProcoreService(sandbox_settings(sandbox), tokens,
                            record_store=RecordStore(folder / "records.sqlite3")) as service:
            service.login(open_browser=ConsentBrowser())
            sandbox.reset_counts()
            new_workbook(book, [("RFIs", {"company": 8001, "project": 91001})], service, progress=False)
            built = sandbox.requests
        first, _ = refresh(book, sandbox, tokens, folder / "records.sqlite3", log)
        second, service = refresh(book, sandbox, tokens, folder / "records.sqlite3", log)
        print(f"one-report workbook (RFIs of project 91001, {args.rfis:,} RFIs): new-workbook {built} requests, "
              f"first refresh {first}, second refresh (nothing changed) {second}")
        for name, paths in log.paths.items():
            print(f"    {name}: " + ", ".join(f"{p} x{n}" if n > 1 else p for p, n in paths.items()))

    demo = folder / "demo.xlsx"
    config = SandboxConfig(port=0, rfis_per_project=args.demo_rfis_per_project, rate_limit_hourly=1_000_000,
                           rate_limit_spike=1_000_000)
    with SandboxServer(config) as sandbox:
        tokens = MemoryTokenStore()
        with ProcoreService(sandbox_settings(sandbox), tokens,
                            record_store=RecordStore(folder / "demo-records.sqlite3")) as service:
            service.login(open_browser=ConsentBrowser())
            runs = []
            for report in REPORTS.values():
                try:
                    runs.append((demo_params(report, service), service.run(report, demo_params(report, service))))
                except ProcoreError as err:
                    print(f"skipped {report.name}: {err}")
            write_results_workbook(demo, runs)
        first, _ = refresh(demo, sandbox, tokens, folder / "demo-records.sqlite3", log)
        second, service = refresh(demo, sandbox, tokens, folder / "demo-records.sqlite3", log)
        over_one = {name: n for name, n in service.per_report.items() if n > 1}
        print(f"demo workbook ({len(runs)} report sheets, {args.demo_rfis_per_project} RFIs per project): "
              f"first refresh {first} requests, second refresh (nothing changed) {second} requests "
              f"({second - sum(service.per_report.values())} outside the reports' runs)")
        print(f"  requests per report in the second refresh: "
              + ", ".join(f"{n} x{c}" for n, c in sorted(collections.Counter(service.per_report.values()).items()))
              + " (requests x reports)")
        for name, n in sorted(over_one.items(), key=lambda item: -item[1]):
            print(f"    {n:>4}  {name}")
        if args.paths:
            for name, paths in log.paths.items():
                print(f"    {name}: " + ", ".join(f"{p} x{n}" if n > 1 else p for p, n in paths.items()))
        with ProcoreService(sandbox_settings(sandbox), tokens,
                            record_store=RecordStore(folder / "demo-records.sqlite3")) as service:
            sandbox.reset_counts()
            plan = plan_workbook(demo, service)
            sent = sandbox.requests
        with Counting(sandbox_settings(sandbox), tokens, record_store=RecordStore(folder / "demo-records.sqlite3"),
                      log=log) as service, service.full_refresh():
            sandbox.reset_counts()
            log.paths.clear()
            refresh_workbook(demo, service, progress=False)
            full = sandbox.requests
        print(f"refresh --plan of the demo workbook: {'at least ' if plan.unknown else ''}{plan.requests} requests "
              f"({sent} sent to make the plan); the full refresh then made {full}")
        off = {r.sheet: (r.requests, service.per_report.get(r.report, 0)) for r in plan.reports
               if r.requests != service.per_report.get(r.report, 0)}
        for sheet, (planned, made) in off.items():
            print(f"    {sheet}: planned {planned}, made {made} (a call shared with an earlier sheet counts there)")
            if args.paths:
                print("        " + ", ".join(f"{p} x{n}" for p, n in log.paths.get(sheet, {}).items()))


if __name__ == "__main__":
    main()
