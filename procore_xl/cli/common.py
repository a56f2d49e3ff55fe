"""What the commands share: the printable ``print``, exit statuses, the argument parser class and
the option groups several commands take, the service a command talks through, file checks."""
from __future__ import annotations

import argparse
import builtins
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigurationError, printable
from .. import files

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def print(*values: object, sep: str = " ", end: str = "\n", file=None, flush: bool = False) -> None:  # noqa: A001
    """Every line the commands print: each value through :func:`errors.printable`, so that
    control characters in names from Procore (ESC sequences, line breaks) show escaped instead of
    driving the terminal. Report data never goes through here (CSV on stdout is output.py's)."""
    builtins.print(*(printable(v) for v in values), sep=sep, end=end, file=file, flush=flush)


class _PrintableFormatter(logging.Formatter):
    """Log lines (warnings, -v) with :func:`errors.printable` messages; tracebacks stay as they are."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))


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
    from ..parameters import SPECS

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
    from ..parameters import SPECS

    return {name: getattr(args, name) for name in SPECS if getattr(args, name, None) is not None}


def _service(args: argparse.Namespace):
    from ..environments import load_settings
    from ..service import ProcoreService

    settings = load_settings(env=args.env, login_url=args.login_url, api_url=args.api_url,
                             client_id=args.client_id, redirect_uri=args.redirect_uri,
                             allow_plaintext_keyring=args.allow_plaintext_keyring)
    return ProcoreService(settings)


def _check_output(target: str, *, force: bool, hint: str = "add --force to replace it, or choose another name"
                  ) -> None:
    """The one file-safety rule (``files.check_target``), before any network work: an existing
    file is replaced only with ``--force``; never a read-only file or one open in Excel/LibreOffice."""
    files.check_target(target, force=force, hint=hint)


def _check_exists(path: str, what: str) -> None:
    """A file the command reads (a workbook to refresh, a template) must be there."""
    if not path.strip():                 # `refresh "$BOOK"` with the variable unset
        raise ConfigurationError(f"{what}: the file name is empty - give the file to read")
    if not os.path.exists(path):
        raise ConfigurationError(f"{what} {path} does not exist - check the name and folder")
    if os.path.isdir(path):
        raise ConfigurationError(f"{what} {path} is a folder, not a file")


def _print_choices(choices) -> None:
    for choice in choices:
        print(choice.id, choice.label, sep="\t")


def _company_id(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise ConfigurationError(f"--company {text!r}: give the company as its id, e.g. --company 8001")
    return int(text)


def _company_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--company", metavar="ID", help="the company's id: a service account (client id + secret, no "
                   "user sign-in) must name its company")


def _add_full_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--full", action="store_true",
                   help="fetch every record again instead of only what changed since the last run")


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


PROJECT_FILTER_CHOICES = ["active", "inactive", "all"]

