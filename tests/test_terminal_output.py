"""Names from Procore with terminal control sequences in them (ESC colour codes, a bell, a line
break, a right-to-left override) are printed escaped by every CLI command that shows them: the
terminal is never driven by data, and each printed line stays one line."""
from __future__ import annotations

import logging

import pytest

from cli_run import one_error_line, point_at, run
from procore_xl.cli import main
from procore_xl.errors import printable
from procore_xl.sandbox import SandboxConfig, SandboxServer

EVIL = "Tower \x1b[2J\x1b]0;pwned\x07 B\nlock\u202eC"
SHOWN = "Tower \\x1b[2J\\x1b]0;pwned\\x07 B\\nlock\\u202eC"
RAW = ("\x1b", "\x07", "\u202e")


@pytest.fixture(scope="module")
def hostile_names():
    with SandboxServer(SandboxConfig(port=0, rfis_per_project=5, service_account_needs_company_header=False)) as server:
        server.world.project(91002)["name"] = f"Project {EVIL}"
        server.world.company(8001)["name"] = f"Company {EVIL}"
        server.world.service_account["name"] = f"Robot {EVIL}"
        yield server


@pytest.fixture
def env(hostile_names, monkeypatch, isolated_home):
    return point_at(hostile_names, monkeypatch)


def clean(text: str) -> None:
    assert not any(char in text for char in RAW), repr(text)


def test_printable_escapes_control_characters_only():
    assert printable(EVIL) == SHOWN
    assert printable("Zoë's 日本語 C:\\Users\\me") == "Zoë's 日本語 C:\\Users\\me"
    assert printable("lone \ud800") == "lone \\ud800"


@pytest.mark.parametrize("argv, shown", [
    (("projects", "--company", "8001"), f"Project {SHOWN}"),
    (("companies",), f"Company {SHOWN}"),
    (("lists", "projects", "--company", "8001"), f"Project {SHOWN}"),
    (("whoami",), f"Robot {SHOWN}"),
])
def test_listing_commands_print_names_escaped(env, capsys, argv, shown):
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    clean(out + err)
    assert shown in out
    line = next(line for line in out.splitlines() if shown in line)
    assert "Tower" in line and "lock" in line               # one line, the line break shown as \n


def test_an_error_that_names_projects_prints_them_escaped(env, capsys):
    code, out, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "Project Tower")
    line = one_error_line(err)
    assert code == 2
    clean(out + err)
    assert SHOWN in line


def test_log_warnings_print_escaped(env, capsys):
    root = logging.getLogger()
    kept = root.handlers[:]
    root.handlers = []                                      # as in a real run: main() sets the handler
    try:
        def warn(args):
            logging.getLogger("procore_xl").warning("odd answer for %s", EVIL)
            return 0
        from procore_xl import cli
        parser = cli.build_parser()
        args = parser.parse_args(["reports"])
        args.func = warn
        original = cli.build_parser
        cli.build_parser = lambda: type("P", (), {"parse_args": lambda self, argv: args})()
        try:
            assert main(["reports"]) == 0
        finally:
            cli.build_parser = original
        err = capsys.readouterr().err
    finally:
        for handler in root.handlers:
            root.removeHandler(handler)
        root.handlers = kept
    clean(err)
    assert f"procore-xl: odd answer for {SHOWN}" in err
