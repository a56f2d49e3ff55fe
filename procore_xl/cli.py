"""The ``procore-xl`` command line: a thin layer over :class:`procore_xl.service.ProcoreService`.

Every failure a user can cause ends as one line on stderr and a non-zero exit status.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from . import __version__
from .errors import ConfigurationError, ProcoreError

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


# -- argument groups shared by several commands ------------------------------------------
def _add_connection_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection (override PROCORE_* environment variables and the settings file)")
    g.add_argument("--env", help="production, sandbox, monthly, federal or custom")
    g.add_argument("--login-url", help="OAuth host, e.g. https://login.procore.com (implies --env custom)")
    g.add_argument("--api-url", help="API host, e.g. https://api.procore.com (implies --env custom)")
    g.add_argument("--client-id", help="your Procore app's client id")
    g.add_argument("--redirect-uri", help="the redirect URI registered for your app")
    p.add_argument("-v", "--verbose", action="store_true", help="log requests and retries to stderr")


def _add_report_parameters(p: argparse.ArgumentParser) -> None:
    from .parameters import SPECS

    g = p.add_argument_group("report parameters (names or ids; see `procore-xl params REPORT`)")
    for spec in SPECS.values():
        g.add_argument("--" + spec.name.replace("_", "-"), dest=spec.name, metavar=spec.kind.upper(),
                       help=f"{spec.label}: {spec.help}" if spec.help else spec.label)


def _report_params(args: argparse.Namespace) -> dict[str, Any]:
    from .parameters import SPECS

    return {name: getattr(args, name) for name in SPECS if getattr(args, name, None) is not None}


def _service(args: argparse.Namespace):
    from .environments import load_settings
    from .service import ProcoreService

    settings = load_settings(env=args.env, login_url=args.login_url, api_url=args.api_url,
                             client_id=args.client_id, redirect_uri=args.redirect_uri)
    return ProcoreService(settings)


# -- commands ------------------------------------------------------------------------------
def cmd_setup(args: argparse.Namespace) -> int:
    """Settings to the per-user settings file, the client secret to the OS keyring."""
    import getpass

    from .environments import load_settings, save_settings_file
    from .tokens import save_client_secret

    values = {k: getattr(args, k) for k in ("env", "login_url", "api_url", "client_id", "redirect_uri")
              if getattr(args, k) is not None}
    blank = [k for k, v in values.items() if not str(v).strip()]
    if blank:
        raise ConfigurationError(f"--{blank[0].replace('_', '-')} is empty: give a value or leave the option out")
    if args.login_url or args.api_url:
        values["env"] = "custom"
    elif args.env:
        values.update(login_url=None, api_url=None)   # a preset replaces an earlier custom host pair
    load_settings(**{k: v for k, v in values.items() if v is not None})   # refuse bad values first
    path = save_settings_file(values)
    settings = load_settings()
    print(f"Settings saved to {path}: {settings.env} ({settings.api_url}), client id {settings.client_id}, "
          f"redirect URI {settings.redirect_uri}")
    if args.client_secret_stdin:
        secret = sys.stdin.readline().strip()
    elif args.no_secret:
        secret = ""
    else:
        secret = getpass.getpass("Client secret of your Procore app (Enter to keep the current one): ")
    if secret:
        save_client_secret(settings, secret)
        print("Client secret saved in the OS keyring.")
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    with _service(args) as service:
        me = service.login(oob=args.oob)
        print(f"Signed in to {service.settings.env} as {me.get('name') or me.get('login')}.")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    with _service(args) as service:
        if service.logout():
            print(f"Signed out of {service.settings.env}; the tokens were revoked and removed.")
        else:
            print(f"Not signed in to {service.settings.env}; nothing to do.")
    return 0


def cmd_whoami(args: argparse.Namespace) -> int:
    with _service(args) as service:
        me = service.whoami()
        print(f"{me.get('name')} <{me.get('login')}> (user {me.get('id')}) on {service.settings.env}"
              f" [{service.settings.api_url}]")
    return 0


def _print_choices(choices) -> None:
    for choice in choices:
        print(f"{choice.id}\t{choice.label}")


def cmd_companies(args: argparse.Namespace) -> int:
    with _service(args) as service:
        _print_choices(service.choices("companies"))
    return 0


def cmd_projects(args: argparse.Namespace) -> int:
    with _service(args) as service:
        _print_choices(service.choices("projects", company=args.company, project_filter=args.filter))
    return 0


def cmd_lists(args: argparse.Namespace) -> int:
    params = _report_params(args)
    if args.filter:
        params["project_filter"] = args.filter
    if args.report:
        params["report"] = args.report
    with _service(args) as service:
        _print_choices(service.choices(args.list_name, **params))
    return 0


def cmd_reports(args: argparse.Namespace) -> int:
    from .catalog import GROUPS, REPORTS

    for group in GROUPS:
        print(group)
        for report in REPORTS.values():
            if report.group == group:
                print(f"  {report.name:<36} {', '.join(report.parameters) or '-'}")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    from .catalog import find_report
    from .parameters import describe

    report = find_report(args.report)
    print(f"{report.name} ({report.group})" + (f": {report.description}" if report.description else ""))
    for row in describe(report):
        need = "required" if row["required"] else "optional"
        choices = ", ".join(map(str, row["choices"])) or row["help"]
        default = f" [default: {row['default']}]" if row["default"] not in (None, "") else ""
        print(f"  --{row['name'].replace('_', '-'):<18} {row['label']:<26} {need:<9} {choices}{default}")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from .output import output_format, write_result

    if output_format(args.out) == "xlsx" and os.path.exists(args.out) and not args.force:  # before any request
        raise ConfigurationError(f"{args.out} exists: add --force to replace it, or add the report to it "
                                 f"with Insert report / `procore-xl new-workbook --template {args.out}`")
    with _service(args) as service:
        params = _report_params(args)
        with _Ticker(args.report, service):
            result = service.run(args.report, params)
        write_result(result, args.out, params, raw_csv=args.raw_csv)
    for warning in result.warnings:
        print(f"procore-xl: warning: {warning}", file=sys.stderr)
    if args.out != "-":
        print(f"{result.report}: {len(result.frame)} rows, {result.requests} requests, "
              f"{result.seconds:.1f} s -> {args.out}", file=sys.stderr)
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    import errno

    from .sandbox import SandboxConfig, serve_forever

    try:
        serve_forever(SandboxConfig(host=args.host, port=args.port, scale=args.scale, seed=args.seed,
                                    latency_ms=args.latency_ms, rfis_per_project=args.rfis_per_project))
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise ConfigurationError(f"Port {args.port} on {args.host} is in use - stop what runs there or "
                                     f"choose another with --port") from None
        raise
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(out=args.out, rfis_per_project=args.rfis_per_project, latency_ms=args.latency_ms)


def cmd_refresh(args: argparse.Namespace) -> int:
    from .excel.refresh import refresh_workbook

    with _service(args) as service:
        outcome = refresh_workbook(args.workbook, service, progress=not args.quiet)
    print(f"Refreshed {len(outcome.refreshed)} sheet(s) of {args.workbook}", file=sys.stderr)
    if outcome.dropped_parts:
        print(f"procore-xl: warning: openpyxl could not carry these parts of the workbook over: "
              f"{', '.join(outcome.dropped_parts)} (charts, shapes or images on your own sheets)",
              file=sys.stderr)
    if outcome.failed:
        print(f"procore-xl: error: {len(outcome.failed)} sheet(s) failed and kept their previous data: "
              + "; ".join(f"{s} ({outcome.reasons.get(s) or 'see its Message cell'})" for s in outcome.failed),
              file=sys.stderr)
    return 1 if outcome.failed else 0


def cmd_new_workbook(args: argparse.Namespace) -> int:
    from .excel.refresh import check_workbook_target, new_workbook

    check_workbook_target(args.out, args.template)   # before any request
    with _service(args) as service:
        outcome = new_workbook(args.out, [(args.report, _report_params(args))], service,
                               template=args.template, progress=False)
    if outcome.failed:
        sheet = outcome.failed[0]
        print(f"procore-xl: error: {args.out} was written, but {sheet} failed: {outcome.reasons.get(sheet)}",
              file=sys.stderr)
        return 1
    print(f"Wrote {args.out}", file=sys.stderr)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    """The reports into a warehouse through dlt (``procore_xl.warehouse``)."""
    try:
        from . import warehouse
    except ImportError as err:
        if (err.name or "").split(".")[0] not in ("dlt", "duckdb", "pyarrow"):
            raise
        raise ConfigurationError('procore-xl sync needs dlt: pip install "procore-xl[warehouse]"') from None
    params = {k: v for k, v in _report_params(args).items() if k not in ("company", "project", "project_filter")}
    if args.destination == "duckdb" and args.dataset.casefold() == warehouse.PIPELINE_NAME:
        raise ConfigurationError(f"--dataset {args.dataset} is the name of the DuckDB file "
                                 f"({warehouse.PIPELINE_NAME}.duckdb): choose another dataset name")
    projects = [p for p in args.project if p.strip()]
    progress = _sync_progress() if sys.stderr.isatty() else None
    with _service(args) as service:
        summary = warehouse.sync(service, args.company, projects=projects, reports=args.reports,
                                 project_filter=args.project_filter or "active",
                                 destination=args.destination, dataset=args.dataset, full=args.full,
                                 sub_reports=args.sub_reports, progress=progress, **params)
    if progress:
        sys.stderr.write("\r\033[K")
    for warning in summary.warnings:
        print(f"procore-xl: warning: {warning}", file=sys.stderr)
    deleted = sum(summary.deleted.values())
    print(f"{len(summary.tables)} tables, {summary.rows:,} rows loaded"
          + (f", {deleted:,} deleted" if deleted else "")
          + f", {summary.requests:,} requests, {summary.seconds:.1f} s -> {summary.destination} "
          f"dataset {summary.dataset}", file=sys.stderr)
    if summary.failures:
        failed = sorted({report for report, _ in summary.failures})
        print(f"procore-xl: error: {len(failed)} report(s) failed and kept their previous rows: "
              + "; ".join(reason for _, reason in summary.failures), file=sys.stderr)
        return 1
    return 0


def _sync_progress():
    started = time.monotonic()

    def show(stats) -> None:
        sys.stderr.write(f"\rprocore-xl: sync: {stats.done}/{stats.loads} loads, "
                         f"{sum(stats.rows.values()):,} rows, {time.monotonic() - started:.0f} s ")
        sys.stderr.flush()
    return show


def _add_sync_parser(command) -> None:
    from .parameters import SPECS

    p = command("sync", cmd_sync, "load the reports into a warehouse through dlt (DuckDB by default)")
    p.add_argument("--company", required=True, help="company name or id")
    p.add_argument("--project", nargs="+", default=["all"], metavar="PROJECT",
                   help="all (default: every project passing --project-filter), or project ids/names")
    p.add_argument("--reports", default="all", help='comma-separated report names ("RFIs,Manpower Logs") or all')
    p.add_argument("--destination", default="duckdb",
                   help="a dlt destination (duckdb: procore.duckdb here; postgres, snowflake, bigquery, "
                        "filesystem...); credentials from dlt's config: environment variables or "
                        ".dlt/secrets.toml")
    p.add_argument("--dataset", default="procore_data",   # warehouse.DEFAULT_DATASET (dlt may be absent here)
                   help="dataset (schema) name [default: procore_data]")
    p.add_argument("--full", action="store_true", help="read every report in full (ignore the incremental state)")
    p.add_argument("--sub-reports", action="store_true",
                   help="also each report's sub-reports as their own tables (rfis_questions...)")
    g = p.add_argument_group("report parameters, given to the reports that take them")
    for spec in SPECS.values():
        if spec.name not in ("company", "project", "sub_report"):
            g.add_argument("--" + spec.name.replace("_", "-"), dest=spec.name, metavar=spec.kind.upper(),
                           help=f"{spec.label}: {spec.help}" if spec.help else spec.label)


class _Ticker:
    """On a terminal, a line on stderr that shows a long pull is alive: requests so far, seconds.
    Nothing when stderr is a file or a pipe (cron logs stay clean)."""

    def __init__(self, report: str, service, every: float = 0.5):
        self.report, self.service, self.every = report, service, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._active = sys.stderr.isatty()

    def __enter__(self) -> "_Ticker":
        if self._active:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._active:
            self._stop.set()
            self._thread.join()
            sys.stderr.write("\r\033[K")

    def _run(self) -> None:
        started = time.monotonic()
        first = self.service.client.stats.snapshot().get("requests", 0)
        while not self._stop.wait(self.every):
            done = self.service.client.stats.snapshot().get("requests", 0) - first
            sys.stderr.write(f"\rprocore-xl: {self.report}: {done} requests, "
                             f"{time.monotonic() - started:.0f} s ")
            sys.stderr.flush()


# -- parser ----------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse with the project's error style: one line on stderr, exit status 2."""

    def error(self, message: str):
        sys.stderr.write(f"procore-xl: error: {message} (see `{self.prog} --help`)\n")
        sys.exit(EXIT_ERROR)


def _number(low: int, high: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="procore-xl", description="Procore data in Excel workbooks, CSV and JSON.")
    parser.add_argument("--version", action="version", version=f"procore-xl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, func, help: str, *, connection: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        if connection:
            _add_connection_options(p)
        else:
            p.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
        return p

    p = command("setup", cmd_setup, "save your Procore app's settings (secret to the OS keyring)")
    p.add_argument("--client-secret-stdin", action="store_true", help="read the client secret from stdin")
    p.add_argument("--no-secret", action="store_true", help="do not ask for a client secret")

    p = command("login", cmd_login, "sign in with your browser; tokens go to the OS keyring")
    p.add_argument("--oob", action="store_true", help="paste the code instead of the loopback redirect")
    command("logout", cmd_logout, "revoke and forget the stored tokens")
    command("whoami", cmd_whoami, "show the signed-in user")
    command("companies", cmd_companies, "list the companies you can read")
    p = command("projects", cmd_projects, "list the projects of a company")
    p.add_argument("--company", required=True, help="company name or id")
    p.add_argument("--filter", default="active", choices=["active", "inactive", "all"])

    p = command("lists", cmd_lists, "list the choices of a parameter (projects, contracts, vendors...)")
    p.add_argument("list_name", help="companies, projects, contracts, pcos, cors, vendors, drawing_areas, "
                   "meetings, albums, cost_code_lists, sub_reports")
    p.add_argument("--filter", choices=["active", "inactive", "all"], help="project filter")
    p.add_argument("--report", help="the report whose sub_reports to list")
    _add_report_parameters(p)

    command("reports", cmd_reports, "the reports, grouped, with their parameters", connection=False)
    p = command("params", cmd_params, "the parameters of one report", connection=False)
    p.add_argument("report")

    p = command("pull", cmd_pull, "run a report and write it to .csv, .xlsx, .json or - (stdout)")
    p.add_argument("report", help='report name, e.g. RFIs or "Manpower Logs"')
    p.add_argument("--out", "-o", default="-", help="output file (.csv/.xlsx/.json) or - for stdout")
    p.add_argument("--force", action="store_true", help="replace an existing .xlsx")
    p.add_argument("--raw-csv", action="store_true",
                   help="CSV text exactly as Procore sent it (no apostrophe before = + - @)")
    _add_report_parameters(p)

    p = command("sandbox", cmd_sandbox, "run the built-in Procore sandbox in the foreground",
                connection=False)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_number(0, 65535), default=8765)
    p.add_argument("--scale", type=_number(1, 1000), default=1,
                   help="multiplies record counts (200 RFIs per project each)")
    p.add_argument("--rfis-per-project", type=_number(0, 1_000_000),
                   help="exact RFI count per project (overrides --scale)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--latency-ms", type=_number(0, 60_000), default=0, help="added to every API request")

    p = command("demo", cmd_demo, "sandbox + real sign-in + every report into one workbook",
                connection=False)
    p.add_argument("--out", default="demo.xlsx")
    p.add_argument("--rfis-per-project", type=_number(0, 1_000_000), default=25,
                   help="sandbox size; the RFI roll-ups make one request per RFI")
    p.add_argument("--latency-ms", type=_number(0, 60_000), default=0, help="added to every API request")

    p = command("refresh", cmd_refresh, "refresh every report sheet of a workbook in place")
    p.add_argument("workbook")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = command("new-workbook", cmd_new_workbook, "build a workbook with one report sheet")
    p.add_argument("out")
    p.add_argument("--report", required=True)
    p.add_argument("--template", help="start from this workbook (e.g. procore.xlsm) instead of a blank one")
    _add_report_parameters(p)

    _add_sync_parser(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="procore-xl: %(message)s", stream=sys.stderr)
    if args.verbose:   # our own requests, waits and retries (never a token); not urllib3's chatter
        logging.getLogger("procore_xl").setLevel(logging.DEBUG)
    previous = _exit_at_once_on_ctrl_c()
    try:
        return args.func(args)
    except ProcoreError as err:
        print(f"procore-xl: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `procore-xl pull ... | head`
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("procore-xl: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as err:  # a file we could not write, a port in use...
        print(f"procore-xl: error: {err.strerror or err}"
              + (f": {err.filename}" if getattr(err, "filename", None) else ""), file=sys.stderr)
        return EXIT_ERROR
    except Exception as err:  # a bug of ours: still one line (the traceback with -v)
        if args.verbose:
            logging.getLogger("procore_xl").exception("unexpected error")
        from .excel.report_sheet import safe_message
        print(f"procore-xl: internal error: {safe_message(err)} (run with -v for details)", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _exit_at_once_on_ctrl_c():
    """Ctrl+C stops the command now, not after the worker threads finish their requests. Safe:
    files are only ever written whole (temporary file, then rename), so nothing is left half-done.
    Returns the handler it replaced (None when not on the main thread)."""
    def stop(signum, frame):
        sys.stderr.write("procore-xl: interrupted\n")
        os._exit(EXIT_INTERRUPTED)
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, stop)


if __name__ == "__main__":
    sys.exit(main())
