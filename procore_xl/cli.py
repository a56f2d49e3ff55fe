"""The ``procore-xl`` command line: a thin layer over :class:`procore_xl.service.ProcoreService`.

Every failure a user can cause ends as one line on stderr and a non-zero exit status.
"""
from __future__ import annotations

import argparse
import builtins
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import __version__
from .errors import ConfigurationError, ProcoreError, printable

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def print(*values: object, sep: str = " ", end: str = "\n", file=None, flush: bool = False) -> None:  # noqa: A001
    """Every line this module prints: each value through :func:`errors.printable`, so that
    control characters in names from Procore (ESC sequences, line breaks) show escaped instead of
    driving the terminal. Report data never goes through here (CSV on stdout is output.py's)."""
    builtins.print(*(printable(v) for v in values), sep=sep, end=end, file=file, flush=flush)


class _PrintableFormatter(logging.Formatter):
    """Log lines (warnings, -v) with :func:`errors.printable` messages; tracebacks stay as they are."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))


# -- argument groups shared by several commands ------------------------------------------
def _add_connection_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection (override PROCORE_* environment variables and the settings file)")
    g.add_argument("--env", metavar="NAME", help="production, sandbox, monthly, federal or custom")
    g.add_argument("--login-url", metavar="URL",
                   help="OAuth host, e.g. https://login.procore.com (implies --env custom)")
    g.add_argument("--api-url", metavar="URL", help="API host, e.g. https://api.procore.com (implies --env custom)")
    g.add_argument("--client-id", metavar="ID", help="your Procore app's client id")
    g.add_argument("--redirect-uri", metavar="URL", help="the redirect URI registered for your app")
    g.add_argument("--allow-plaintext-keyring", action="store_true", default=None,
                   help="let a real Procore environment keep its sign-in and secret in a file keyring backend "
                        "such as keyrings.alt (bare servers; same as PROCORE_ALLOW_PLAINTEXT_KEYRING=1)")


VERBOSE_HELP = "log requests, waits and retries to stderr (never a token); before or after the command"


def _add_verbose(p: argparse.ArgumentParser, *, default: Any = argparse.SUPPRESS) -> None:
    """``-v`` on the main parser (default False) and on every command (no default, so that it
    does not undo a ``-v`` given before the command)."""
    p.add_argument("-v", "--verbose", action="store_true", default=default, help=VERBOSE_HELP)


def _add_report_parameters(p: argparse.ArgumentParser, names: Sequence[str] | None = None,
                           title: str = "report parameters (names or ids; see `procore-xl params REPORT`)"
                           ) -> None:
    from .parameters import SPECS

    g = p.add_argument_group(title)
    for spec in (SPECS[n] for n in names) if names is not None else SPECS.values():
        g.add_argument("--" + spec.name.replace("_", "-"), dest=spec.name, metavar=_placeholder(spec),
                       help=_parameter_help(spec))


def _placeholder(spec) -> str:
    """What to type for a report parameter, as the help shows it (``--company NAME|ID``)."""
    if spec.kind == "list":
        return "NAME|ID"
    if spec.kind == "fixed":
        return "{" + ",".join(spec.choices) + "}" if spec.choices else "NAME"
    return {"int": "N", "date": "YYYY-MM-DD"}.get(spec.kind, "TEXT")


def _parameter_help(spec) -> str:
    text = f"{spec.label}: {spec.help}" if spec.help else spec.label
    if spec.list_name:
        text += f" (choices: `procore-xl lists {spec.list_name}`)"
    elif spec.name == "sub_report":
        text += " (choices: `procore-xl lists sub_reports --report REPORT`)"
    if spec.default not in (None, ""):
        text += f"; default {spec.default}"
    return text


def _report_params(args: argparse.Namespace) -> dict[str, Any]:
    from .parameters import SPECS

    return {name: getattr(args, name) for name in SPECS if getattr(args, name, None) is not None}


def _service(args: argparse.Namespace):
    from .environments import load_settings
    from .service import ProcoreService

    settings = load_settings(env=args.env, login_url=args.login_url, api_url=args.api_url,
                             client_id=args.client_id, redirect_uri=args.redirect_uri,
                             allow_plaintext_keyring=args.allow_plaintext_keyring)
    return ProcoreService(settings)


# -- files: checked before any request ---------------------------------------------------------
def _check_output(target: str, *, force: bool, hint: str = "add --force to replace it, or choose another name"
                  ) -> None:
    """The one file-safety rule (``output.check_target``), before any network work: an existing
    file is replaced only with ``--force``; never a read-only file or one open in Excel/LibreOffice."""
    from .output import check_target

    check_target(target, force=force, hint=hint)


def _check_exists(path: str, what: str) -> None:
    """A file the command reads (a workbook to refresh, a template) must be there."""
    if not os.path.exists(path):
        raise ConfigurationError(f"{what} {path} does not exist - check the name and folder")
    if os.path.isdir(path):
        raise ConfigurationError(f"{what} {path} is a folder, not a file")


# -- commands ------------------------------------------------------------------------------
def cmd_setup(args: argparse.Namespace) -> int:
    """Settings to the per-user settings file, the client secret to the OS keyring. Nothing is
    written unless every step succeeds (a closed stdin at the secret prompt saves nothing)."""
    from .environments import load_settings, save_settings_file, settings_path
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
    secret = _read_client_secret(args)
    path = settings_path()
    previous = path.read_bytes() if path.exists() else None
    save_settings_file(values)
    try:
        settings = load_settings(allow_plaintext_keyring=args.allow_plaintext_keyring)
        where = save_client_secret(settings, secret) if secret else None
    except BaseException:          # setup did not finish: the settings file as it was
        if previous is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(previous)
        raise
    print(f"Settings saved to {path}: {settings.env} ({settings.api_url}), client id {settings.client_id}, "
          f"redirect URI {settings.redirect_uri}")
    if secret:
        print(f"Client secret saved in {where}.")
    return 0


def _read_client_secret(args: argparse.Namespace) -> str:
    """The secret from stdin (``--client-secret-stdin``, or stdin is not a terminal) or a hidden
    prompt; "" keeps the current one. A closed stdin is a ConfigurationError."""
    import getpass

    if args.no_secret:
        return ""
    try:
        if args.client_secret_stdin or not _stdin_is_a_terminal():
            line = sys.stdin.readline() if sys.stdin is not None else ""
            if not line:
                raise EOFError
            return line.strip()
        return getpass.getpass("Client secret of your Procore app (Enter to keep the current one): ").strip()
    except (EOFError, ValueError):          # ValueError: stdin was closed
        raise ConfigurationError("No client secret: standard input ended before one was given, so nothing "
                                 "was saved - run `procore-xl setup` in a terminal, pipe the secret in with "
                                 "--client-secret-stdin, or pass --no-secret") from None


def _stdin_is_a_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):            # closed
        return False


def cmd_login(args: argparse.Namespace) -> int:
    with _service(args) as service:
        browser = _sandbox_browser(service.settings) if args.sandbox_approve else None
        try:
            me = service.login(oob=args.oob, open_browser=browser,
                               read_code=(lambda: browser.shown_code) if browser else None)
        except EOFError:
            raise ConfigurationError("No code was pasted: standard input ended, so nothing was signed in - run "
                                     "`procore-xl login --oob` in a terminal and paste the code Procore "
                                     "shows") from None
        print(f"Signed in to {service.settings.env} as {me.get('name') or me.get('login')}.")
    return 0


def _sandbox_browser(settings):
    """``login --sandbox-approve``: the demo's stand-in browser presses Approve on the built-in
    sandbox's consent page, through the real authorization-code flow (state, PKCE, listener)."""
    from urllib.parse import urlsplit

    from .environments import is_loopback_host
    from .sandbox.browser import ConsentBrowser

    login = urlsplit(settings.login_url)
    if login.scheme != "http" or not is_loopback_host(login.hostname or ""):
        raise ConfigurationError(f"--sandbox-approve is for the built-in sandbox on this computer only; the login "
                                 f"host is {settings.login_url}: sign in in a browser, or with --oob")
    return ConsentBrowser()


def cmd_logout(args: argparse.Namespace) -> int:
    with _service(args) as service:
        if service.logout():
            print(f"Signed out of {service.settings.env}; the tokens were revoked and removed.")
        else:
            print(f"Not signed in to {service.settings.env}; nothing to do.")
    return 0


def cmd_whoami(args: argparse.Namespace) -> int:
    with _service(args) as service:
        me = service.whoami(_company_id(args.company))
        print(f"{me.get('name')} <{me.get('login')}> (user {me.get('id')}) on {service.settings.env}"
              f" [{service.settings.api_url}]")
    return 0


def _print_choices(choices) -> None:
    for choice in choices:
        print(choice.id, choice.label, sep="\t")


def cmd_companies(args: argparse.Namespace) -> int:
    with _service(args) as service:
        if args.company is None:
            _print_choices(service.choices("companies", fresh=True))
        else:
            for company in sorted(service.companies(_company_id(args.company)), key=lambda c: str(c.get("name"))):
                print(company.get('id'), company.get('name'), sep="\t")
    return 0


def _company_id(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise ConfigurationError(f"--company {text!r}: give the company as its id, e.g. --company 8001")
    return int(text)


def _company_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--company", metavar="ID", help="the company's id: a service account (client id + secret, no "
                   "user sign-in) must name its company")


MISSING_COMPANY_HEADER = "Procore-Company-Id"     # Procore's "Missing Procore-Company-Id header!"


def _service_account_hint(err: ProcoreError, argv: Sequence[str]) -> str | None:
    """The one line for a call Procore refused for want of a company: what to run instead."""
    if MISSING_COMPANY_HEADER not in str(err):
        return None
    import shlex

    command = " ".join(["procore-xl", *map(shlex.quote, argv)])
    if "--company" not in argv:
        command += " --company ID"
    return (f"A service account (PROCORE_CLIENT_ID + PROCORE_CLIENT_SECRET, no user sign-in) must name its "
            f"company: run `{command}` with the company's id, or sign in as a user with `procore-xl login` "
            f"- {err}")


def cmd_projects(args: argparse.Namespace) -> int:
    with _service(args) as service:
        _print_choices(service.choices("projects", fresh=True, company=args.company, project_filter=args.filter))
    return 0


LIST_CONTEXT = ("company", "project", "contract")     # what a discovery list can depend on


def cmd_lists(args: argparse.Namespace) -> int:
    params = {name: getattr(args, name) for name in LIST_CONTEXT if getattr(args, name) is not None}
    if args.filter:
        params["project_filter"] = args.filter
    if args.report:
        params["report"] = args.report
    with _service(args) as service:
        _print_choices(service.choices(args.list_name, fresh=True, **params))
    return 0


def cmd_reports(args: argparse.Namespace) -> int:
    from .catalog import GROUPS, REPORTS

    for group in GROUPS:
        print(group)
        for report in REPORTS.values():
            if report.group == group:
                print(f"  {report.name:<36} {', '.join(report.parameters) or '-'}")
    return 0


def cmd_analyses(args: argparse.Namespace) -> int:
    from .analyses import ANALYSES

    for a in ANALYSES.values():
        print(f"{a.name:<18} {a.description} (reads {', '.join(s.report for s in a.sources)})")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    from .catalog import find_report
    from .columns import default_column_rows
    from .parameters import describe

    report = find_report(args.report)
    print(f"{report.name} ({report.group})" + (f": {report.description}" if report.description else ""))
    for row in describe(report):
        need = "required" if row["required"] else "optional"
        choices = ", ".join(map(str, row["choices"])) or row["help"]
        default = f" [default: {row['default']}]" if row["default"] not in (None, "") else ""
        print(f"  --{row['name'].replace('_', '-'):<18} {row['label']:<26} {need:<9} {choices}{default}")
    print("Default columns (a sheet's Columns = default; empty ones are left out, custom fields follow):")
    for path, label in default_column_rows(report):
        print(f"  {label:<32} {path}")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from .output import output_format, report_output

    if args.out != "-" and output_format(args.out) == "xlsx":
        _check_output(args.out, force=args.force,
                      hint=f"add --force to replace it, or add the report to it with Insert report / "
                           f"`procore-xl new-workbook OTHER.xlsx --template {args.out}`")
    elif args.out != "-":
        _check_output(args.out, force=args.force)
    with _service(args) as service:
        params = _report_params(args)
        with report_output(args.out, params, raw_csv=args.raw_csv) as out:   # JSON streams as it arrives
            with _Ticker(args.report, service):
                result = service.run(args.report, params, full=args.full, on_records=out.records)
            out.write(result)
    for warning in result.warnings:
        print(f"procore-xl: warning: {warning}", file=sys.stderr)
    future = _future_dates(result.params)
    if args.out != "-":
        left = f", Procore rate limit: {result.rate_limit}" if result.rate_limit else ""
        print(f"{result.report}: {len(result.table)} rows, {result.requests} requests, "
              f"{result.seconds:.1f} s ({result.refresh}){left} -> {args.out}{future}", file=sys.stderr)
    elif future:
        print(f"{result.report}: {len(result.table)} rows{future}", file=sys.stderr)
    return 0


def _future_dates(params: dict[str, Any]) -> str:
    """A note for the closing line when a date the run used lies ahead (no records yet, likely
    a typo): " - note: Report Date 2030-01-01 is in the future"."""
    import datetime as dt

    from .parameters import SPECS

    today = dt.date.today().isoformat()
    ahead = [f"{SPECS[name].label} {value}" for name in ("report_date", "start_date", "end_date")
             if isinstance(value := params.get(name), str) and value > today]
    return f" - note: {' and '.join(ahead)} {'is' if len(ahead) == 1 else 'are'} in the future" if ahead else ""


def cmd_sandbox(args: argparse.Namespace) -> int:
    import errno

    from .sandbox import serve_forever
    from .sandbox import process as sandbox_process
    from .sandbox.config import DEFAULT_PORT as DEFAULT_SANDBOX_PORT
    from .sandbox.faults import describe

    url = f"http://{args.host}:{args.port}"
    if args.stop:
        sandbox_process.stop(url)
        print(f"Sandbox at {url} stopped.")
        return 0
    if args.background:
        if args.port == 0:
            raise ConfigurationError("--background needs a fixed --port, so that other commands can find it")
        argv = [a for a in _given_argv(args) if a != "--background"]
        url, pid = sandbox_process.start_in_background(argv)
        stop = "procore-xl sandbox --stop" + (f" --port {args.port}" if args.port != DEFAULT_SANDBOX_PORT else "")
        print(f"Procore sandbox running in the background at {url} (process {pid}); stop it with `{stop}`")
        return 0
    config = _sandbox_config(args)
    print(("Lenient: undocumented filters, sorts and parameters are ignored" if args.lenient else
           "Strict: any request Procore's reference does not document is answered 400"), flush=True)
    print(f"Rate limits per access token: {config.rate_limit_hourly:,} per hour, {config.rate_limit_spike} per "
          f"{config.rate_limit_spike_seconds} s; {describe(config.faults)}", flush=True)
    try:
        serve_forever(config)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise ConfigurationError(f"Port {args.port} on {args.host} is in use - stop what runs there or "
                                     f"choose another with --port") from None
        raise
    return 0


def _sandbox_config(args: argparse.Namespace):
    """The sandbox ``procore-xl sandbox ARGS`` runs; with no options, the demo's (same data)."""
    from .sandbox import Faults, SandboxConfig
    from .sandbox.config import DEMO_RFIS_PER_PROJECT
    from .sandbox.ratelimit import DOCUMENTED_SPIKE_LIMIT, SPIKE_SECONDS

    knobs = {field: getattr(args, field) for _, field, _, _ in FAULT_OPTIONS if getattr(args, field) is not None}
    faults = Faults(latency_ms=args.latency_ms, retry_after=not args.no_retry_after,
                    clock_skew_seconds=args.clock_skew, **knobs)
    spike, spike_seconds = ((DOCUMENTED_SPIKE_LIMIT, SPIKE_SECONDS) if args.documented_spike_limit
                            else (args.spike_limit, args.spike_seconds))
    rfis = args.rfis_per_project
    if rfis is None and args.scale is None:
        rfis = DEMO_RFIS_PER_PROJECT
    return SandboxConfig(host=args.host, port=args.port, scale=args.scale or 1, seed=args.seed, faults=faults,
                         rfis_per_project=rfis, rate_limit_hourly=args.hourly_limit,
                         rate_limit_spike=spike, rate_limit_spike_seconds=spike_seconds,
                         access_token_ttl=args.token_lifetime, quiet=not args.verbose, strict=not args.lenient)


def _given_argv(args: argparse.Namespace) -> list[str]:
    """The arguments this command was given (after its name), to run it again in another process."""
    argv = list(args.argv)
    return argv[argv.index(args.command) + 1:] if args.command in argv else argv


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(out=args.out, force=args.force, rfis_per_project=args.rfis_per_project,
                    latency_ms=args.latency_ms)


def cmd_refresh(args: argparse.Namespace) -> int:
    from .excel.refresh import plan_workbook, refresh_workbook

    _check_exists(args.workbook, "Workbook")
    if args.plan:
        return _print_plan(plan_workbook, args)
    _check_output(args.workbook, force=True)    # before any request: not read-only, not open in Excel
    with _service(args) as service, (service.full_refresh() if args.full else contextlib.nullcontext()):
        outcome = refresh_workbook(args.workbook, service, progress=not args.quiet)
    print(f"Refreshed {len(outcome.refreshed)} sheet(s) of {args.workbook}{_how(outcome.statuses)}", file=sys.stderr)
    for sheet, note in outcome.notes.items():       # what a sheet could not keep as sent, Procore's notes
        print(f"procore-xl: warning: {sheet}: {note}", file=sys.stderr)
    if outcome.dropped_parts:
        print(f"procore-xl: warning: openpyxl could not carry these parts of the workbook over: "
              f"{', '.join(outcome.dropped_parts)} (charts, shapes or images on your own sheets)",
              file=sys.stderr)
    if outcome.failed:
        print(f"procore-xl: error: {len(outcome.failed)} sheet(s) failed and kept their previous data: "
              + "; ".join(f"{s} ({outcome.reasons.get(s) or 'see its Message cell'})" for s in outcome.failed),
              file=sys.stderr)
    return 1 if outcome.failed else 0


def _print_plan(plan_workbook, args: argparse.Namespace) -> int:
    """``refresh --plan``: the requests a full refresh would make, sheet by sheet; none is sent."""
    with _service(args) as service:
        plan = plan_workbook(args.workbook, service)
    for report in plan.reports:
        note = f"  ({report.error})" if report.error else ""
        more = "at least " if report.unknown else ""
        print(f"{report.sheet or report.report:<40} {more}{report.requests:>6,} requests{note}")
    unknown = (f"; {plan.unknown} call(s) never made before count as one request each (what they lead to "
               f"is not known yet)") if plan.unknown else ""
    print(f"A full refresh of {args.workbook} will make {'at least ' if plan.unknown else 'about '}"
          f"{plan.requests:,} requests{unknown}. Nothing was sent to Procore.")
    return 0


def cmd_new_workbook(args: argparse.Namespace) -> int:
    from .excel.refresh import check_workbook_target, new_workbook

    from .analyses import find_analysis
    from .catalog import find_report

    if not args.report and not args.analysis:
        raise ConfigurationError("new-workbook needs --report NAME or --analysis NAME (see `procore-xl analyses`)")
    if args.report:
        find_report(args.report)
    analyses = [find_analysis(name) for name in args.analysis or ()]
    if args.template:
        _check_exists(args.template, "Template")
    check_workbook_target(args.out, args.template)   # before any request
    _check_output(args.out, force=args.force)
    params = _report_params(args)
    with _service(args) as service:
        outcome = new_workbook(args.out, [(args.report, params)] if args.report else [], service,
                               template=args.template, progress=False,
                               analyses=[(a, params) for a in analyses])
    for layout in outcome.analyses:
        for note in layout.notes:
            print(f"procore-xl: warning: {layout.sheet}: {note}", file=sys.stderr)
    if outcome.failed:
        sheet = outcome.failed[0]
        print(f"procore-xl: error: {args.out} was written, but {sheet} failed: {outcome.reasons.get(sheet)}",
              file=sys.stderr)
        return 1
    for sheet, note in outcome.notes.items():
        print(f"procore-xl: warning: {sheet}: {note}", file=sys.stderr)
    print(f"Wrote {args.out}{_how(outcome.statuses)}", file=sys.stderr)
    return 0


def _how(statuses: dict[str, str]) -> str:
    """How the sheets were fetched, for the closing line: " (1 full, 2 incremental)" - a normal
    status, not a warning."""
    kinds = [status.split(":")[0] for status in statuses.values()]
    counts = {kind: kinds.count(kind) for kind in dict.fromkeys(kinds)}
    if len(statuses) == 1:
        return f" ({next(iter(statuses.values()))})"
    return f" ({', '.join(f'{n} {kind}' for kind, n in counts.items())})" if counts else ""


# -- the record store --------------------------------------------------------------------------
def _add_full_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--full", action="store_true",
                   help="fetch every record again instead of only what changed since the last run")


def cmd_cache_info(args: argparse.Namespace) -> int:
    from .store import RecordStore

    store = RecordStore()
    info = store.info()                  # a damaged store is set aside first (one warning line)
    _warn(store.take_notices())
    oldest = info.oldest.strftime("%Y-%m-%d %H:%M UTC") if info.oldest else "-"
    print(f"Record store: {info.path}", f"  size:    {info.size_bytes / 1e6:.1f} MB",
          f"  entries: {info.entries} endpoint calls, {info.records} records",
          f"  oldest:  {oldest} (last complete fetch)", sep="\n")
    aside = store.set_aside_files()
    if aside:
        print(f"  set aside: {len(aside)} damaged store(s) beside it, safe to delete: "
              + ", ".join(p.name for p in aside))
    return 0


def cmd_cache_clear(args: argparse.Namespace) -> int:
    from .environments import CUSTOM, ENVIRONMENTS, environment_name
    from .kept_lists import LISTS_FILE_NAME, KeptLists
    from .store import RecordStore

    env = environment_name(args.env.strip()) if args.env else None
    if env is not None and env not in (*ENVIRONMENTS, CUSTOM):
        raise ConfigurationError(f"Unknown environment {args.env!r}: use one of {', '.join([*ENVIRONMENTS, CUSTOM])}")
    store = RecordStore()
    removed = store.clear(env=env)       # a damaged store is set aside (never deleted): nothing left to clear
    _warn(store.take_notices())
    lists = KeptLists(store.path.with_name(LISTS_FILE_NAME))    # the names and lists kept beside it
    lists.clear(env=env)
    lists.close()
    print(f"Removed {removed} stored endpoint call(s)" + (f" of {env}" if env else "") + ".")
    return 0


def _warn(warnings) -> None:
    for warning in warnings:
        print(f"procore-xl: warning: {warning}", file=sys.stderr)


def _cache_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="cache_command", required=True, metavar="ACTION", parser_class=_Parser)
    info = sub.add_parser("info", help="where the store is, its size, entries and oldest fetch")
    info.set_defaults(func=cmd_cache_info)
    clear = sub.add_parser("clear", help="forget stored records (of one environment with --env)")
    clear.add_argument("--env", metavar="NAME",
                       help="production, sandbox, monthly, federal or custom (default: all)")
    clear.set_defaults(func=cmd_cache_clear)
    for q in (info, clear):
        _add_verbose(q)


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
    changed, deleted = sum(summary.changed.values()), sum(summary.deleted.values())
    print(f"{len(summary.tables)} tables, {summary.rows:,} rows loaded"
          + (f" ({changed:,} changed, {deleted:,} deleted in Procore)" if changed or deleted else "")
          + f", {summary.requests:,} requests, {summary.seconds:.1f} s -> {summary.destination} "
          f"{summary.location}, dataset {summary.dataset}", file=sys.stderr)
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


def _sync_arguments(p: argparse.ArgumentParser) -> None:
    from .parameters import SPECS

    p.add_argument("--company", required=True, metavar="NAME|ID", help="company name or id")
    p.add_argument("--project", nargs="+", default=["all"], metavar="PROJECT",
                   help="all (default: every project passing --project-filter), or project ids/names")
    p.add_argument("--reports", default="all", metavar="NAMES", help='comma-separated report names ("RFIs,Manpower Logs") or all')
    p.add_argument("--destination", default="duckdb", metavar="NAME",
                   help="a dlt destination (duckdb: procore.duckdb here; postgres, snowflake, bigquery, "
                        "filesystem...); credentials from dlt's config: environment variables or "
                        ".dlt/secrets.toml")
    p.add_argument("--dataset", default="procore_data", metavar="NAME",   # warehouse.DEFAULT_DATASET (dlt may be absent here)
                   help="dataset (schema) name [default: procore_data]")
    p.add_argument("--full", action="store_true",
                   help="read every report from Procore in full (not only what changed since the record store's copy)")
    p.add_argument("--sub-reports", action="store_true",
                   help="also each report's sub-reports as their own tables (rfis_questions...)")
    _add_report_parameters(p, [n for n in SPECS if n not in ("company", "project", "sub_report")],
                           title="report parameters, given to the reports that take them")


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
        client = self.service.client
        first = client.stats.snapshot().get("requests", 0)
        while not self._stop.wait(self.every):
            done = client.stats.snapshot().get("requests", 0) - first
            line = f"procore-xl: {self.report}: {done} requests, {time.monotonic() - started:.0f} s"
            waiting = client.budget.held_until - time.time()
            if waiting >= 0.5:
                line += f", waiting {max(1, round(waiting))} s for Procore's rate limit"
            else:
                left = client.budget.left()
                line += f", {left}" if left else ""
            sys.stderr.write(f"\r\033[K{printable(line)} ")
            sys.stderr.flush()


# -- parser ----------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse with the project's error style: one line on stderr, exit status 2."""

    def error(self, message: str):
        sys.stderr.write(f"procore-xl: error: {printable(message)} (see `{self.prog} --help`)\n")
        sys.exit(EXIT_ERROR)

    def parse_known_args(self, args=None, namespace=None):
        """An option that takes a value, given twice, is an error naming it (argparse would keep
        the last one silently: ``--project 91001 --project 91002``). Each command's parser checks
        its own arguments."""
        args = list(sys.argv[1:] if args is None else args)
        if not self._subparsers:
            self._refuse_repeated(args)
        return super().parse_known_args(args, namespace)

    def _refuse_repeated(self, args: list[str]) -> None:
        valued = {s: a for a in self._actions if a.option_strings and a.nargs != 0
                  and not isinstance(a, argparse._AppendAction) for s in a.option_strings}
        seen: dict[int, str] = {}
        i = 0
        while i < len(args) and args[i] != "--":
            arg = args[i]
            i += 1
            name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
            matches = [s for s in valued if s == name] or (
                [s for s in valued if s.startswith("--") and s.startswith(name)] if name.startswith("--") else [])
            if len(matches) != 1:
                continue
            action = valued[matches[0]]
            if not eq and i < len(args):
                value = args[i]
                i += 1              # its value: not an option, even if it starts with -
            if id(action) in seen:
                flag = max(action.option_strings, key=len)
                self.error(f"{flag} was given twice ({seen[id(action)]} and {value}): give it once")
            seen[id(action)] = value


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


# -- one function per command's arguments ----------------------------------------------------------
PROJECT_FILTER_CHOICES = ["active", "inactive", "all"]


def _setup_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--client-secret-stdin", action="store_true", help="read the client secret from stdin")
    p.add_argument("--no-secret", action="store_true", help="do not ask for a client secret")


def _login_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--oob", action="store_true", help="paste the code instead of the loopback redirect")
    p.add_argument("--sandbox-approve", action="store_true",
                   help="built-in sandbox only: press Approve on its consent page for you, as its demo user "
                        "(a machine without a browser)")


def _projects_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--company", required=True, metavar="NAME|ID", help="company name or id")
    p.add_argument("--filter", default="active", choices=PROJECT_FILTER_CHOICES,
                   help="active (default), inactive or all projects")


def _lists_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("list_name", metavar="LIST", help="companies, projects, contracts, pcos, cors, vendors, "
                   "drawing_areas, meetings, albums, cost_code_lists, sub_reports, project_filter, reports")
    _add_report_parameters(p, LIST_CONTEXT, title="what the list belongs to (names or ids)")
    p.add_argument("--filter", choices=PROJECT_FILTER_CHOICES, help="projects list: active, inactive or all")
    p.add_argument("--report", help="sub_reports list: the report whose sub-reports to list")


def _params_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("report", help='report name, e.g. RFIs or "Change Orders Requests"')


def _pull_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("report", help='report name, e.g. RFIs or "Manpower Logs"')
    p.add_argument("--out", "-o", default="-", metavar="FILE",
                   help="output file (.csv/.xlsx/.json) or - for CSV on stdout (the default)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--raw-csv", action="store_true",
                   help="CSV text exactly as Procore sent it (no apostrophe before = + - @)")
    _add_full_option(p)
    _add_report_parameters(p)


# option, sandbox.Faults field, lowest value, help
FAULT_OPTIONS = (
    ("--rate-limit-every", "rate_limit_every", 0, "every Nth API request answers 429 Too Many Requests"),
    ("--unavailable-every", "unavailable_every", 0, "every Nth API request starts a burst of 503 Service Unavailable"),
    ("--unavailable-burst", "unavailable_burst", 1, "503 answers in a row per burst (default 1)"),
    ("--drop-every", "drop_every", 0, "every Nth API request: the connection closes without an answer"),
    ("--malformed-every", "malformed_every", 0, "every Nth API request: 200 with a truncated JSON body"),
    ("--token-uses", "token_dies_after", 1, "an access token stops working (401) after N API requests"),
    ("--gzip-bomb-every", "gzip_bomb_every", 0, "every Nth API request: a gzip body expanding to 1 GiB"),
    ("--huge-total-every", "huge_total_every", 0, "every Nth API request: a list whose Total says 1,000,000,000"),
    ("--deep-nesting-every", "deep_nesting_every", 0, "every Nth API request: a record nested 10,000 levels deep"),
    ("--object-body-every", "object_body_every", 0, "every Nth API request: an object where a list is documented"),
    ("--scalar-list-every", "scalar_list_every", 0, 'every Nth API request: [1, "two", null] for a list'),
)


def _sandbox_arguments(p: argparse.ArgumentParser) -> None:
    from .sandbox.config import DEFAULT_PORT as DEFAULT_SANDBOX_PORT
    from .sandbox.ratelimit import DOCUMENTED_SPIKE_LIMIT, SPIKE_SECONDS

    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_number(0, 65535), default=DEFAULT_SANDBOX_PORT,
                   help=f"port (default {DEFAULT_SANDBOX_PORT}, not the sign-in redirect's 8765; 0 picks a free one)")
    p.add_argument("--background", action="store_true",
                   help="start it in the background and return once it answers (stop it with --stop)")
    p.add_argument("--stop", action="store_true", help="stop the sandbox running on --host/--port")
    p.add_argument("--scale", type=_number(1, 1000),
                   help="multiplies record counts (200 RFIs per project each; default: the demo's data, "
                        "25 RFIs per project)")
    p.add_argument("--rfis-per-project", type=_number(0, 1_000_000), metavar="N",
                   help="exact RFI count per project (overrides --scale)")
    p.add_argument("--seed", type=int, default=7, help="same seed, same data (default 7)")
    p.add_argument("--lenient", action="store_true",
                   help="ignore undocumented filters, sorts and parameters, as Procore is reported to "
                        "(default: strict, answer 400 naming what Procore's reference does not document)")
    p.add_argument("--latency-ms", type=_number(0, 60_000), default=0, metavar="MS",
                   help="added to every API request")
    g = p.add_argument_group("rate limits, per access token (answers carry X-Rate-Limit-* headers)")
    g.add_argument("--hourly-limit", type=_number(1, 10_000_000), default=3600, metavar="N",
                   help="requests per hour (default 3600)")
    spike = g.add_mutually_exclusive_group()
    spike.add_argument("--spike-limit", type=_number(1, 10_000_000), default=100, metavar="N",
                       help="requests per spike window (default 100)")
    spike.add_argument("--documented-spike-limit", action="store_true",
                       help=f"Procore's documented example: {DOCUMENTED_SPIKE_LIMIT} requests per "
                            f"{SPIKE_SECONDS} s")
    g.add_argument("--spike-seconds", type=_number(1, 3600), default=SPIKE_SECONDS, metavar="S",
                   help=f"length of the spike window (default {SPIKE_SECONDS})")
    g.add_argument("--no-retry-after", action="store_true",
                   help="429 answers carry only X-Rate-Limit-Reset, no Retry-After (as Procore's rate-limit "
                        "page documents)")
    g = p.add_argument_group("faults to rehearse (API requests only, never OAuth; 0 = off)")
    for flag, field, low, text in FAULT_OPTIONS:
        g.add_argument(flag, dest=field, type=_number(low, 1_000_000_000), metavar="N", help=text)
    g.add_argument("--token-lifetime", type=_number(1, 1_000_000_000), default=5400, metavar="SECONDS",
                   help="access token lifetime (default 5400: Procore's 90 minutes)")
    g.add_argument("--clock-skew", type=_number(-86_400, 86_400), default=0, metavar="SECONDS",
                   help="the Date header runs this far ahead of the updated_at stamps (negative: behind)")


def _demo_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="demo.xlsx", metavar="FILE", help="the workbook to write (default demo.xlsx)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--rfis-per-project", type=_number(0, 1_000_000), default=25, metavar="N",
                   help="sandbox size (default 25, as `procore-xl sandbox` serves); the RFI roll-ups make "
                        "one request per RFI")
    p.add_argument("--latency-ms", type=_number(0, 60_000), default=0, metavar="MS",
                   help="added to every API request")


def _refresh_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("workbook", help="the .xlsx/.xlsm with report sheets, replaced when done")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--plan", "--dry-run", action="store_true",
                   help="say how many requests a full refresh will make (from what earlier runs stored), "
                        "sheet by sheet, without sending any or changing the workbook")
    _add_full_option(p)


def _new_workbook_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", metavar="FILE", help="the workbook to write (.xlsx, or .xlsm with a macro template)")
    p.add_argument("--report", help='report name, e.g. RFIs or "Manpower Logs"')
    p.add_argument("--analysis", action="append", metavar="NAME",
                   help='add an analysis sheet and the report sheets it reads, e.g. RFIs or "Company view" '
                        "(see `procore-xl analyses`; may be repeated)")
    p.add_argument("--template", help="start from this workbook (e.g. procore.xlsm) instead of a blank one")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    _add_report_parameters(p)


@dataclass(frozen=True)
class Command:
    name: str
    run: Callable[[argparse.Namespace], int]
    help: str
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    connection: bool = True          # talks to Procore: takes the connection options


COMMANDS: tuple[Command, ...] = (
    Command("setup", cmd_setup, "save your Procore app's settings (secret to the keyring)", _setup_arguments),
    Command("login", cmd_login, "sign in with your browser; tokens go to the keyring", _login_arguments),
    Command("logout", cmd_logout, "revoke and forget the stored tokens"),
    Command("whoami", cmd_whoami, "show the signed-in user", _company_arguments),
    Command("companies", cmd_companies, "list the companies you can read", _company_arguments),
    Command("projects", cmd_projects, "list the projects of a company", _projects_arguments),
    Command("lists", cmd_lists, "list the choices of a parameter (projects, contracts, vendors...)",
            _lists_arguments),
    Command("reports", cmd_reports, "the reports, grouped, with their parameters", connection=False),
    Command("analyses", cmd_analyses, "the analyses new-workbook --analysis can add, one a line",
            connection=False),
    Command("params", cmd_params, "the parameters of one report", _params_arguments, connection=False),
    Command("pull", cmd_pull, "run a report and write it to .csv, .xlsx, .json or - (stdout)", _pull_arguments),
    Command("sandbox", cmd_sandbox, "run the built-in Procore sandbox (the demo's data; --background)",
            _sandbox_arguments,
            connection=False),
    Command("demo", cmd_demo, "sandbox + real sign-in + every report into one workbook", _demo_arguments,
            connection=False),
    Command("refresh", cmd_refresh, "refresh every report sheet of a workbook in place", _refresh_arguments),
    Command("new-workbook", cmd_new_workbook, "build a workbook with a report sheet or an analysis", _new_workbook_arguments),
    Command("cache", None, "the local record store behind incremental refreshes", _cache_arguments,
            connection=False),
    Command("sync", cmd_sync, "load the reports into a warehouse through dlt (DuckDB by default)",
            _sync_arguments),
)


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="procore-xl", description="Procore data in Excel workbooks, CSV and JSON.")
    parser.add_argument("--version", action="version", version=f"procore-xl {__version__}",
                        help="show the version and exit")
    _add_verbose(parser, default=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for command in commands:
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        p.set_defaults(func=command.run)
        if command.arguments is not None:
            command.arguments(p)
        if command.connection:
            _add_connection_options(p)
        _add_verbose(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("procore-xl: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    if args.verbose:   # our own requests, waits and retries (never a token); not urllib3's chatter
        logging.getLogger("procore_xl").setLevel(logging.DEBUG)
    previous = _stop_at_once_on_signals()
    try:
        return args.func(args)
    except ProcoreError as err:
        print(f"procore-xl: error: {_service_account_hint(err, argv) or err}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # `procore-xl pull ... | head`
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print("procore-xl: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except EOFError:         # a prompt with stdin closed that no command turned into a clearer message
        print("procore-xl: error: standard input ended while procore-xl was waiting for an answer - run it "
              "in a terminal", file=sys.stderr)
        return EXIT_ERROR
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
        for signum, handler in previous.items():
            signal.signal(signum, handler)


STOP_SIGNALS = {signal.SIGINT: "interrupted",
                **{getattr(signal, name): "terminated" for name in ("SIGTERM", "SIGHUP", "SIGBREAK")
                   if hasattr(signal, name)}}


def _stop_at_once_on_signals() -> dict:
    """Ctrl+C (and a termination signal: ``kill``, a closed terminal, a scheduler's stop) ends the
    command now, not after the worker threads finish their requests. Files are only ever written
    whole (temporary file, then rename); the temporary files being written are removed first, so
    nothing is left behind. Returns the handlers it replaced (none when not on the main thread)."""
    def stop(signum, frame):
        output = sys.modules.get(f"{__package__}.output")     # loaded only if a file is being written
        if output is not None:
            output.remove_temporary_files()
        sys.stderr.write(f"procore-xl: {STOP_SIGNALS.get(signum, 'stopped')}\n")
        sys.stderr.flush()
        os._exit(128 + signum)         # 130 for Ctrl+C, 143 for SIGTERM: the shell's convention
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}


if __name__ == "__main__":
    sys.exit(main())
