"""The everyday mistakes of a newcomer, each answered in one line: a service account that must name
its company, the sandbox and the sign-in listener on different ports, a sign-in host that does not
answer, files that are replaced or open elsewhere, a flag given twice, a missing template or
workbook, a date in the future, a normal refresh status that is not a warning.

Real parts: the sandbox over loopback, the CLI in-process (``run``) or as a process, real files.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pytest
import requests

from cli_run import one_error_line, point_at, process_environ, run
from procore_xl.auth import login
from procore_xl.cli import build_parser
from procore_xl.environments import DEFAULT_REDIRECT_URI, load_settings
from procore_xl.errors import ConfigurationError
from procore_xl.loopback import CallbackListener
from procore_xl.files import replacing
from procore_xl.sandbox import free_port
from procore_xl.tokens import MemoryTokenStore

RFIS = ("--report", "RFIs", "--company", "8001", "--project", "91001")


@pytest.fixture
def env(sandbox, monkeypatch):
    return point_at(sandbox, monkeypatch)


# -- 2. a service account explains itself ---------------------------------------------------------------
@pytest.mark.parametrize("command", ["whoami", "companies"])
def test_a_service_account_is_told_to_name_its_company_and_can(env, capsys, command):
    code, out, err = run(capsys, command)
    line = one_error_line(err)
    assert code == 2 and not out
    assert "service account" in line and f"`procore-xl {command} --company ID`" in line
    code, out, err = run(capsys, command, "--company", "8001")
    assert code == 0, err
    if command == "whoami":
        assert out.startswith(env.world.service_account["name"])
    else:
        assert "8001\tHarbor Tower Builders" in out.splitlines()


# -- 3. the sandbox and the sign-in listener side by side, with defaults -------------------------------------
def test_the_sandbox_and_the_sign_in_listener_take_different_default_ports():
    sandbox_port = build_parser().parse_args(["sandbox"]).port
    assert sandbox_port != urlsplit(DEFAULT_REDIRECT_URI).port
    assert build_parser().parse_args(["sandbox"]).port == 8766     # as the README and the Makefile say


# -- 4. fast failure when sign-in cannot work ---------------------------------------------------------------
def test_login_fails_within_seconds_naming_a_sign_in_host_that_does_not_answer(tmp_path):
    """Before the browser opens. Before, the browser was sent to the dead host and login waited
    for five minutes."""
    dead = f"http://127.0.0.1:{free_port()}"
    browser = tmp_path / "browser.py"            # a 'browser' that leaves a mark when it is opened
    browser.write_text("import pathlib, sys\npathlib.Path(sys.argv[1]).write_text(sys.argv[2])\n")
    environ = {**process_environ(None, tmp_path / "home"), "PROCORE_LOGIN_URL": dead, "PROCORE_API_URL": dead,
               "PROCORE_CLIENT_ID": "sandbox-client-id", "XDG_DATA_HOME": str(tmp_path / "data"),
               "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
               "BROWSER": f"{sys.executable} {browser} {tmp_path / 'opened'} %s"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "procore_xl", "login", "--redirect-uri",
                           f"http://127.0.0.1:{free_port()}/callback"],
                          env=environ, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 30
    line = one_error_line(done.stderr)
    assert done.returncode == 2 and dead in line and "does not answer" in line
    assert not (tmp_path / "opened").exists()


def test_a_login_host_on_the_listeners_own_address_is_refused_before_anything(sandbox):
    port = free_port()
    settings = load_settings(login_url=f"http://127.0.0.1:{port}", api_url=sandbox.url, client_id="x",
                             redirect_uri=f"http://localhost:{port}/callback", environ={},
                             settings_file=Path(os.devnull))
    opened = []
    with pytest.raises(ConfigurationError, match="address of the sign-in listener"):
        login(settings, MemoryTokenStore(), open_browser=opened.append, timeout=2)
    assert opened == []


def test_the_listeners_not_found_page_says_what_went_wrong():
    port = free_port()
    with CallbackListener(f"http://127.0.0.1:{port}/callback", "state"):
        page = requests.get(f"http://127.0.0.1:{port}/oauth/authorize?client_id=x", timeout=10)
    assert page.status_code == 404
    assert "login host" in page.text and "/callback" in page.text


def test_login_sandbox_approve_signs_the_demo_user_in_without_a_browser(env, capsys, keyring_backend):
    """The service account's variables are set (as in the README's sandbox section), yet the
    sign-in is the demo user's, through the consent page."""
    code, out, err = run(capsys, "login", "--sandbox-approve", "--redirect-uri",
                         f"http://127.0.0.1:{free_port()}/callback")
    assert code == 0, err
    assert "Dana Reyes" in out
    code, out, err = run(capsys, "whoami")
    assert code == 0 and out.startswith("Dana Reyes"), err
    code, out, err = run(capsys, "login", "--sandbox-approve", "--login-url", "https://login.procore.com")
    assert code == 2 and "built-in sandbox" in one_error_line(err)


# -- 5. one file-safety rule ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["rfis.csv", "rfis.json", "rfis.xlsx"])
def test_pull_replaces_any_existing_file_only_with_force(env, capsys, tmp_path, name):
    target = tmp_path / name
    target.write_text("a user's file\n")
    code, out, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(target))
    line = one_error_line(err)
    assert code == 2 and "exists" in line and "--force" in line
    assert target.read_text() == "a user's file\n" and env.requests == 0
    code, _, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(target),
                       "--force")
    assert code == 0, err
    assert target.read_bytes() != b"a user's file\n"


def test_demo_replaces_an_existing_workbook_only_with_force(capsys, tmp_path):
    target = tmp_path / "demo.xlsx"
    target.write_bytes(b"a user's workbook")
    code, out, err = run(capsys, "demo", "--out", str(target))
    line = one_error_line(err)
    assert code == 2 and "exists" in line and "--force" in line
    assert "Sandbox running" not in out and target.read_bytes() == b"a user's workbook"


@pytest.mark.parametrize("lock, program", [("~$book.xlsx", "Excel"), (".~lock.book.xlsx#", "LibreOffice")])
def test_a_workbook_open_in_excel_or_libreoffice_is_not_written(env, capsys, tmp_path, lock, program):
    book = tmp_path / "book.xlsx"
    assert run(capsys, "new-workbook", str(book), *RFIS)[0] == 0
    before = book.read_bytes()
    (tmp_path / lock).write_bytes(b"owner")
    env.reset_counts()
    for argv in (["refresh", str(book), "-q"], ["new-workbook", str(book), *RFIS, "--force"],
                 ["pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(book), "--force"]):
        code, _, err = run(capsys, *argv)
        line = one_error_line(err)
        assert code == 2 and f"open in {program}" in line and lock in line, argv
    assert book.read_bytes() == before and env.requests == 0
    os.remove(tmp_path / lock)
    assert run(capsys, "refresh", str(book), "-q")[0] == 0


def test_replacing_refuses_a_workbook_opened_while_it_was_written(tmp_path):
    """The last line of defence, for every writer: Excel opened the file during the run."""
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(ConfigurationError, match="open in Excel"):
        with replacing(target) as tmp:
            tmp.write_bytes(b"new")
            (tmp_path / "~$book.xlsx").write_bytes(b"owner")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "~$book.xlsx"]


# -- 6. arguments -----------------------------------------------------------------------------------------
def test_a_flag_given_twice_is_an_error_naming_it(env, capsys, tmp_path):
    with pytest.raises(SystemExit) as stopped:        # argparse's way out, with our one line
        run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "--project", "91002",
            "--out", str(tmp_path / "r.csv"))
    line = one_error_line(capsys.readouterr().err)
    assert stopped.value.code == 2 and "--project" in line and "twice" in line and "91001" in line and "91002" in line
    assert env.requests == 0 and not (tmp_path / "r.csv").exists()


def test_a_missing_template_or_workbook_says_it_does_not_exist(env, capsys, tmp_path):
    code, _, err = run(capsys, "new-workbook", str(tmp_path / "b.xlsx"), *RFIS, "--template",
                       str(tmp_path / "nosuch.xlsm"))
    line = one_error_line(err)
    assert code == 2 and "nosuch.xlsm" in line and "does not exist" in line
    code, _, err = run(capsys, "refresh", str(tmp_path / "nosuch.xlsx"))
    line = one_error_line(err)
    assert code == 2 and "nosuch.xlsx" in line and "does not exist" in line
    assert env.requests == 0


def test_a_date_in_the_future_is_noted_in_the_output_line(env, capsys, tmp_path):
    code, _, err = run(capsys, "pull", "Manpower Logs", "--company", "8001", "--project", "91001",
                       "--report-date", "2030-01-01", "--out", str(tmp_path / "logs.csv"))
    assert code == 0, err
    assert "Report Date 2030-01-01 is in the future" in err.splitlines()[-1]
    code, _, err = run(capsys, "pull", "Manpower Logs", "--company", "8001", "--project", "91001",
                       "--report-date", "2020-01-01", "--out", str(tmp_path / "old.csv"))
    assert code == 0 and "in the future" not in err


def test_a_normal_refresh_status_is_not_a_warning(env, capsys, tmp_path):
    book = tmp_path / "book.xlsx"
    code, _, err = run(capsys, "new-workbook", str(book), "--report", "Trades", "--company", "8001")
    assert code == 0 and "warning" not in err, err
    code, _, err = run(capsys, "refresh", str(book), "-q")
    assert code == 0 and "warning" not in err, err
    last = err.splitlines()[-1]
    # 2 requests: the kept lists name the company (issue 21); the sheet also shows the rate-limit budget
    assert last.startswith("Refreshed 1 sheet(s)") and last.endswith("(incremental: 0 changed, 0 deleted, 2 requests)")
    message = openpyxl.load_workbook(book)["Trades"]["B7"].value       # said once, plainly, and kept on the sheet
    status, *rest = message.split("; ")
    assert status == "Refresh: incremental: 0 changed, 0 deleted, 2 requests"
    assert all(part.startswith("Procore rate limit: ") for part in rest), message


def test_a_real_warning_is_still_a_warning(env, capsys, tmp_path):
    """A report over every project skips the one this sign-in cannot read, and says so."""
    book = tmp_path / "book.xlsx"
    code, _, err = run(capsys, "new-workbook", str(book), "--report", "RFIs", "--company", "8001",
                       "--project", "all", "--project-filter", "all")
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("procore-xl: warning: ")]
    assert warnings and all("Refresh:" not in line for line in warnings), err
