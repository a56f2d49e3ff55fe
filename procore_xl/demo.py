"""`procore-xl demo`: the whole product against the built-in sandbox, no Procore account needed.

1. starts the built-in Procore sandbox on a free loopback port, with the data `procore-xl sandbox`
   serves by default (:func:`demo_sandbox_config`), so the workbook refreshes against that one
   without its data changing;
2. signs in through the real OAuth authorization-code flow (state, PKCE, loopback redirect
   listener); the demo user's "Approve" click on the consent page is made with plain HTTP;
3. runs every report of the catalog for the demo company and project;
4. writes them into one workbook, one report sheet each, and prints what each one cost;
5. adds every analysis (``analyses.py``) with the report sheets it reads.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from .catalog import REPORTS, Report
from .environments import Settings, load_settings
from .errors import ProcoreError
from .parameters import SPECS
from .runner import ReportResult
from .sandbox import SandboxConfig, SandboxServer, free_port
from .sandbox.config import DEMO_RFIS_PER_PROJECT
from .sandbox.browser import ConsentBrowser
from .service import ProcoreService
from .tokens import MemoryTokenStore

DEMO_COMPANY = "Harbor Tower Builders"
DEMO_PROJECT = 91001
DEMO_RANGE = {"start_days_back": 30, "end_days_back": 0}   # daily logs: the last 30 days


def sandbox_settings(sandbox: SandboxServer) -> Settings:
    """Settings for the built-in sandbox's demo app (nothing read from the user's environment)."""
    return load_settings(login_url=sandbox.url, api_url=sandbox.url, client_id=sandbox.client_id,
                         client_secret=sandbox.client_secret,
                         redirect_uri=f"http://127.0.0.1:{free_port()}/callback",
                         environ={}, settings_file=Path(os.devnull))


def demo_params(report: Report, service: ProcoreService) -> dict[str, Any]:
    """Parameters a person would pick for ``report`` in the demo company and project: list
    parameters take the first entry of their dropdown; daily logs cover the last 30 days."""
    params: dict[str, Any] = {}
    context = {"company": DEMO_COMPANY, "project": DEMO_PROJECT}
    for name in report.parameters:
        spec = SPECS[name]
        if name in context:
            params[name] = context[name]
        elif name == "contract":
            params[name] = service.choices("contracts", **context)[0].label
            context["contract"] = params[name]
        elif spec.list_name and spec.default is None:
            params[name] = service.choices(spec.list_name, **context)[0].label
    if report.dates:
        params.update(DEMO_RANGE)
    return params


def demo_sandbox_config(**options: Any) -> SandboxConfig:
    """The demo's sandbox: :class:`SandboxConfig`'s defaults (seed 7, strict) with the demo's
    RFI count, as `procore-xl sandbox` runs it with no options; ``options`` override."""
    return SandboxConfig(**{"port": 0, "rfis_per_project": DEMO_RFIS_PER_PROJECT, **options})


def run_demo(out: str = "demo.xlsx", *, force: bool = False, rfis_per_project: int | None = DEMO_RFIS_PER_PROJECT,
             latency_ms: int = 0, stream: TextIO = sys.stdout, **sandbox_options: Any) -> int:
    """Run the demo; ``sandbox_options`` go to :class:`SandboxConfig` (e.g. ``rate_limit_spike``).
    An existing ``out`` is replaced only with ``force``."""
    from .excel.refresh import check_workbook_target, write_results_workbook  # openpyxl: off the CLI's path
    from .files import check_target

    check_workbook_target(out)        # before the sandbox starts: a bad --out fails now, not after the run
    check_target(out, force=force)
    started = time.perf_counter()
    with SandboxServer(demo_sandbox_config(rfis_per_project=rfis_per_project, latency_ms=latency_ms,
                                           **sandbox_options)) as sandbox:
        print(f"Sandbox running at {sandbox.url}", file=stream)
        with ProcoreService(sandbox_settings(sandbox), MemoryTokenStore()) as service:
            me = service.login(open_browser=ConsentBrowser())
            print(f"Signed in as {me.get('name')} <{me.get('login')}> (authorization code + PKCE)",
                  file=stream)
            runs, failures = _run_all(service, stream)
            reports = len(runs)
            analyses = _run_analyses(service, runs, failures)
            waited = service.client.budget.waited_seconds
            service.clear_records()      # this sandbox goes away with the demo: so do its stored records
        write_results_workbook(Path(out), runs, analyses)
        total_requests = sandbox.requests
    total_rows = sum(len(result.table) for _, result in runs)
    print(f"\n{reports} of {len(REPORTS)} reports and {len(analyses)} analyses, {total_rows:,} rows, {total_requests:,} "
          f"requests to the sandbox, {time.perf_counter() - started:.1f} s -> {out}", file=stream)
    if waited:
        print(f"({waited:.0f} s of it spent waiting for the rate limit's reset, as Procore asks)", file=stream)
    for name, err in failures:
        print(f"FAILED {name}: {err}", file=sys.stderr)
    return 1 if failures else 0


def _run_analyses(service: ProcoreService, runs: list, failures: list) -> list[tuple[Any, list[int]]]:
    """The report runs each analysis reads (added to ``runs``) -> [(analysis, their indexes)]."""
    from .analyses import ANALYSES, report_params

    out = []
    for analysis in ANALYSES.values():
        indexes = []
        try:
            for source in analysis.sources:
                params = report_params(source, {"company": DEMO_COMPANY, "project": DEMO_PROJECT})
                runs.append((params, service.run(source.report, params)))
                indexes.append(len(runs) - 1)
        except ProcoreError as err:
            failures.append((analysis.name, str(err)))
            del runs[len(runs) - len(indexes):]
            continue
        out.append((analysis, indexes))
    return out


def _run_all(service: ProcoreService, stream: TextIO
             ) -> tuple[list[tuple[dict, ReportResult]], list[tuple[str, str]]]:
    runs: list[tuple[dict, ReportResult]] = []
    failures: list[tuple[str, str]] = []
    print(f"\n{'report':<36} {'rows':>7} {'requests':>9} {'seconds':>8}", file=stream)
    for report in REPORTS.values():
        try:
            params = demo_params(report, service)
            result = service.run(report, params)
        except ProcoreError as err:
            failures.append((report.name, str(err)))
            print(f"{report.name:<36} {'failed':>7}", file=stream)
            continue
        runs.append((params, result))
        print(f"{result.report:<36} {len(result.table):>7,} {result.requests:>9,} "
              f"{result.seconds:>8.2f}", file=stream)
    return runs, failures
