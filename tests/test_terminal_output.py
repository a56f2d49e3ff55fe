"""Names from Procore with terminal control sequences in them (ESC colour codes, a bell, a line
break, a right-to-left override) are printed escaped by every CLI command that shows them: the
terminal is never driven by data, and each printed line stays one line."""
from __future__ import annotations

import logging
import os
import pty
import re
import subprocess
import sys

import pytest

from cli_run import one_error_line, point_at, process_environ, run
from procore_xl.cli import main
from procore_xl.errors import printable

EVIL = "Tower \x1b[2J\x1b]0;pwned\x07 B\nlock\u202eC"
SHOWN = "Tower \\x1b[2J\\x1b]0;pwned\\x07 B\\nlock\\u202eC"
RAW = ("\x1b", "\x07", "\u202e")


@pytest.fixture(scope="module")
def hostile_names(make_sandbox):
    server = make_sandbox(rfis_per_project=5, service_account_needs_company_header=False)
    server.world.project(91002)["name"] = f"Project {EVIL}"
    server.world.company(8001)["name"] = f"Company {EVIL}"
    server.world.service_account["name"] = f"Robot {EVIL}"
    return server


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


# -- the live progress line, on a terminal only ------------------------------------------------
def read_terminal(master: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:              # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_line_is_live_on_a_terminal_and_absent_in_a_log(sandbox, tmp_path):
    """Two `procore-xl pull`s at once in child processes: stderr a pseudo-terminal, stderr a pipe."""
    sandbox.faults.latency_ms = 300                 # a pull of a few seconds: the line ticks
    environ = process_environ(sandbox, tmp_path / "home")

    def pull(out: str, stderr) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "procore_xl", "pull", "RFIs", "--company", "8001",
                                 "--project", "91001", "--out", str(tmp_path / out)],
                                env=environ, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    logged = pull("logged.csv", subprocess.PIPE)
    master, slave = pty.openpty()
    try:
        terminal = pull("terminal.csv", slave)
        os.close(slave)
        shown = read_terminal(master)
    finally:
        os.close(master)
    assert terminal.wait(timeout=120) == 0, shown
    log = logged.communicate(timeout=120)[1].decode("utf-8")
    assert logged.returncode == 0, log

    assert re.findall(r"\r(?:\x1b\[K)?procore-xl: RFIs: (\d+) requests", shown), repr(shown)
    assert "\r\x1b[K" in shown                      # the line is cleared before the summary
    assert "RFIs: 200 rows" in shown.rsplit("\r\x1b[K", 1)[1]
    assert "RFIs: 200 rows" in log and "\r" not in log and "\x1b" not in log


# -- a pull's CSV on stdout: shown escaped on a terminal, exact in a pipe --------------------------
@pytest.fixture(scope="module")
def hostile_subjects(make_sandbox):
    """RFIs of project 91001 whose subjects hold ESC, BEL, a line break and a bidi override (one
    edited in), and the sandbox's own lone carriage return (the 12th RFI's subject)."""
    server = make_sandbox(rfis_per_project=12, service_account_needs_company_header=False)
    first = server.world.records("rfis", server.world.project(91001))[0]
    server.world.edit_record("rfis", first["id"], subject=EVIL)
    return server


def pull_rfis_to_stdout(server, home, stdout) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "procore_xl", "pull", "RFIs", "--company", "8001",
                             "--project", "91001"], env=process_environ(server, home),
                            stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE)


def test_csv_on_a_terminal_shows_control_characters_escaped(hostile_subjects, tmp_path):
    master, slave = pty.openpty()
    try:
        terminal = pull_rfis_to_stdout(hostile_subjects, tmp_path / "home", slave)
        os.close(slave)
        shown = read_terminal(master)
    finally:
        os.close(master)
    err = terminal.communicate(timeout=120)[1].decode("utf-8")
    assert terminal.returncode == 0, err
    clean(shown)
    assert re.search("\r(?!\r*\n)", shown) is None, repr(shown)     # a CR only in the CSV's own line ends
    assert SHOWN in shown                                            # ESC, BEL, LF, RLO shown escaped
    assert "Riser clash at level 3\\rsee markup SK-4" in shown       # the lone CR too
    assert len([line for line in shown.splitlines() if line.strip()]) == 13   # header + 12 RFIs, a line each


def test_csv_in_a_pipe_keeps_the_text_exact(hostile_subjects, tmp_path):
    piped = pull_rfis_to_stdout(hostile_subjects, tmp_path / "home", subprocess.PIPE)
    out, err = piped.communicate(timeout=120)
    assert piped.returncode == 0, err.decode("utf-8")
    text = out.decode("utf-8")
    assert f'"{EVIL}"' in text                                       # quoted: it holds a line feed
    assert '"Riser clash at level 3\rsee markup SK-4"' in text
