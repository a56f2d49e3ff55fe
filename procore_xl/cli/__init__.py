"""The ``procore-xl`` command line: a thin layer over :class:`procore_xl.service.ProcoreService`.

Every failure a user can cause ends as one line on stderr and a non-zero exit status. This module
holds :func:`main`, the :data:`COMMANDS` table and the parser built from it; the commands live by
group beside it (``sign_in``, ``reports``, ``workbooks``, ``sandbox_cmds``, ``store_cmds``,
``sync``), what they share in ``common`` and the progress lines and signal handling in ``progress``.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import __version__
from ..errors import ProcoreError
from .common import (EXIT_ERROR, EXIT_INTERRUPTED, _add_connection_options, _add_verbose, _company_arguments,
                     _Parser, _PrintableFormatter, print)
from .progress import _stop_at_once_on_signals
from .reports import (_lists_arguments, _params_arguments, _projects_arguments, _pull_arguments, cmd_analyses,
                      cmd_companies, cmd_lists, cmd_params, cmd_projects, cmd_pull, cmd_reports)
from .sandbox_cmds import _demo_arguments, _sandbox_arguments, cmd_demo, cmd_sandbox
from .sign_in import _login_arguments, _setup_arguments, cmd_login, cmd_logout, cmd_setup, cmd_whoami
from .store_cmds import _cache_arguments
from .sync import _sync_arguments, cmd_sync
from .workbooks import _new_workbook_arguments, _refresh_arguments, cmd_new_workbook, cmd_refresh


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
    for name in ("stdout", "stderr"):     # closed by the caller (`>&-`) or absent (pythonw): Python has None
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))
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
        from ..excel.report_sheet import safe_message
        print(f"procore-xl: internal error: {safe_message(err)} (run with -v for details)", file=sys.stderr)
        return EXIT_ERROR
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

