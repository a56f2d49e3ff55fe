"""The `procore-xl` command line, run in-process against the sandbox over loopback.

Bad input must end as ONE line on stderr and a non-zero exit; good input writes real files.
"""
from __future__ import annotations

import csv
import json
import re
import webbrowser

import openpyxl
import pytest

from cli_run import one_error_line, point_at, process_environ, run
from procore_xl.catalog import REPORTS
from procore_xl.cli import main
from procore_xl.errors import SignedOutError
from procore_xl.sandbox import free_port
from procore_xl.sandbox.browser import ConsentBrowser



@pytest.fixture
def env(sandbox, monkeypatch):
    """PROCORE_* variables pointing at the sandbox (a service account: client id + secret). The
    service account may list its companies here without a company header (the documented rule,
    on by default, has its own test below), so these tests can pick companies by name."""
    monkeypatch.setattr(sandbox.config, "service_account_needs_company_header", False)
    return point_at(sandbox, monkeypatch)


# -- pulls -------------------------------------------------------------------------------------
def test_pull_rfis_to_csv(env, capsys, tmp_path):
    target = tmp_path / "rfis.csv"
    code, _, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(target))
    assert code == 0, err
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = env.world.records("rfis", env.world.project(91001))
    assert sorted(int(r["id"]) for r in rows) == sorted(r["id"] for r in expected)
    assert list(rows[0])[:3] == ["id", "number", "subject"]
    assert "rows" in err and "requests" in err


def test_pull_by_names_to_xlsx_keeps_formula_like_text_as_text(env, capsys, tmp_path):
    target = tmp_path / "rfis.xlsx"
    code, _, err = run(capsys, "pull", "rfis", "--company", "Harbor Tower Builders", "--project", "Harbor Tower",
                       "--out", str(target))
    assert code == 0, err
    book = openpyxl.load_workbook(target)
    sheet = book["RFIs"]
    assert len(sheet.tables) == 1
    formula_like = [c for row in sheet.iter_rows() for c in row
                    if isinstance(c.value, str) and c.value[:1] in "=+-@" and c.row > 1]
    assert formula_like, "the sandbox has RFI text starting with = + - @"
    assert all(c.data_type == "s" for c in formula_like)


def test_pull_json_is_the_raw_records_and_stdout_is_csv(env, capsys, tmp_path):
    target = tmp_path / "areas.json"
    code, _, _ = run(capsys, "pull", "Drawing Areas", "--company", "8001", "--project", "91001", "--out", str(target))
    assert code == 0
    records = json.loads(target.read_text(encoding="utf-8"))
    assert records and isinstance(records[0]["drawing_sets"], list)   # nested lists as Procore sent them
    code, out, _ = run(capsys, "pull", "Trades", "--company", "8001")
    assert code == 0 and out.splitlines()[0].startswith("id,name")


def test_pull_over_all_active_projects_reports_the_unreadable_one(env, capsys, tmp_path):
    target = tmp_path / "all.csv"
    code, _, err = run(capsys, "pull", "Locations", "--company", "8001", "--project", "all",
                       "--project-filter", "active", "--out", str(target))
    assert code == 0
    with target.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header[:2] == ["project.id", "project.name"]
    assert "warning: Skipped project" in err


# -- discovery and the catalog -------------------------------------------------------------------
def test_companies_projects_and_lists(env, capsys):
    code, out, _ = run(capsys, "companies")
    assert code == 0 and "8001\tHarbor Tower Builders" in out
    code, out, _ = run(capsys, "projects", "--company", "Harbor Tower Builders", "--filter", "inactive")
    inactive = [p for p in env.world.company_projects(8001) if not p["active"]]
    assert code == 0 and {int(line.split("\t")[0]) for line in out.splitlines()} == {p["id"] for p in inactive}
    code, out, _ = run(capsys, "lists", "contracts", "--company", "8001", "--project", "91001")
    assert code == 0 and out.strip()


def test_reports_and_params(capsys):
    code, out, _ = run(capsys, "reports")
    assert code == 0
    assert all(name in out for name in REPORTS)
    code, out, _ = run(capsys, "params", "change orders requests")
    assert code == 0 and "--contract" in out and "required" in out


# -- sign-in -------------------------------------------------------------------------------------
def test_login_whoami_logout_with_the_keyring(sandbox, capsys, monkeypatch, keyring_backend):
    browser = ConsentBrowser()
    monkeypatch.setattr(webbrowser, "open", browser)
    flags = ["--login-url", sandbox.url, "--api-url", sandbox.url, "--client-id", sandbox.client_id,
             "--redirect-uri", f"http://127.0.0.1:{free_port()}/callback"]
    monkeypatch.setenv("PROCORE_CLIENT_SECRET", sandbox.client_secret)
    code, out, err = run(capsys, "login", *flags)
    assert code == 0, err
    assert browser.opened and "Dana Reyes" in out
    stored = open(keyring_backend.file_path, encoding="utf-8").read()
    code, out, _ = run(capsys, "whoami", *flags)
    assert code == 0 and "Dana Reyes" in out
    code, out, _ = run(capsys, "logout", *flags)
    assert code == 0 and "Signed out" in out
    for secret in (sandbox.client_secret,):
        assert secret not in out + err + stored


# -- bad input: one line on stderr, non-zero exit ---------------------------------------------------
@pytest.mark.parametrize("argv, words", [
    (["pull", "RFIs", "--company", "9999", "--project", "91001"], ["company", "9999"]),
    (["pull", "RFIs", "--company", "8001", "--project", "Nowhere Tower"], ["project", "Nowhere Tower"]),
    (["pull", "RFIs", "--company", "8001"], ["Project is required"]),
    (["pull", "RFI", "--company", "8001", "--project", "91001"], ["RFIs"]),
    (["pull", "Photos", "--company", "8001", "--project", "91001", "--photos", "many"], ["Number of photos"]),
    (["pull", "Manpower Logs", "--company", "8001", "--project", "91001", "--start-date", "yesterday"],
     ["Start Date"]),
    (["pull", "RFIs", "--company", "8001", "--project", "91001", "--sub-report", "minutes"], ["sub report"]),
    (["pull", "RFIs", "--company", "8001", "--project", "91001", "--out", "rfis.txt"], [".csv", ".xlsx"]),
])
def test_bad_input_is_one_clear_line(env, capsys, argv, words):
    code, out, err = run(capsys, *argv)
    assert code != 0 and not out
    line = one_error_line(err)
    for word in words:
        assert word.lower() in line.lower(), line


def test_missing_client_id(capsys):
    code, _, err = run(capsys, "whoami")
    assert code != 0
    assert "PROCORE_CLIENT_ID" in one_error_line(err)


def test_unreachable_host(env, capsys, monkeypatch):
    monkeypatch.setenv("PROCORE_API_URL", f"http://127.0.0.1:{free_port()}")
    code, _, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001")
    assert code != 0
    assert "Cannot reach" in one_error_line(err)


def test_no_secret_in_any_output(env, capsys, tmp_path, caplog):
    caplog.set_level("DEBUG")
    run(capsys, "whoami", "-v")
    code, out, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "-v",
                         "--out", str(tmp_path / "r.json"))
    assert code == 0
    text = out + err + caplog.text + (tmp_path / "r.json").read_text(encoding="utf-8")
    assert env.client_secret not in text
    assert "Bearer" not in text and "access_token" not in text


def test_setup_keeps_the_secret_in_the_keyring_not_the_settings_file(isolated_home, capsys, monkeypatch,
                                                                      keyring_backend):
    import io

    from procore_xl.environments import load_settings, settings_path
    from procore_xl.service import ProcoreService

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-value\n"))
    monkeypatch.setenv("PROCORE_ALLOW_PLAINTEXT_KEYRING", "1")   # the test keyring is a plaintext file
    code, out, err = run(capsys, "setup", "--env", "sandbox", "--client-id", "my-app", "--client-secret-stdin")
    assert code == 0, err
    saved = settings_path().read_text(encoding="utf-8")
    assert "my-app" in saved and "s3cret-value" not in saved and "s3cret-value" not in out
    service = ProcoreService(load_settings())
    assert (service.settings.env, service.settings.client_id, service.settings.client_secret) == (
        "sandbox", "my-app", "s3cret-value")
    with pytest.raises(SignedOutError):     # a person's app secret never signs in as the service account
        service.whoami()


def test_a_service_account_that_cannot_list_companies_pulls_by_company_id(capsys, monkeypatch, tmp_path, make_sandbox):
    """procore_api.md 1.5: a DMSA needs Procore-Company-Id even on /companies."""
    with make_sandbox.serving(rfis_per_project=3, service_account_needs_company_header=True) as sb:
        point_at(sb, monkeypatch)
        code, _, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001",
                           "--out", str(tmp_path / "rfis.csv"))
        assert code == 0, err
        assert len((tmp_path / "rfis.csv").read_text(encoding="utf-8").splitlines()) == 1 + 3
        code, _, err = run(capsys, "pull", "RFIs", "--company", "Harbor Tower Builders", "--project", "91001")
        assert code != 0 and "give the Company as its id" in one_error_line(err)


def test_setup_switches_from_a_custom_host_pair_back_to_a_preset(isolated_home, capsys, keyring_backend):
    from procore_xl.environments import load_settings

    assert run(capsys, "setup", "--login-url", "http://127.0.0.1:9", "--api-url", "http://127.0.0.1:9",
               "--client-id", "my-app", "--no-secret")[0] == 0
    assert load_settings().env == "custom"
    code, out, _ = run(capsys, "setup", "--env", "production", "--no-secret")
    assert code == 0 and "production (https://api.procore.com)" in out
    settings = load_settings()
    assert (settings.env, settings.api_url, settings.client_id) == ("production", "https://api.procore.com", "my-app")


def test_outputs_keep_the_permissions_of_the_file_they_replace(env, capsys, tmp_path):
    import os
    import stat

    target = tmp_path / "shared.csv"
    target.write_text("old\n")
    os.chmod(target, 0o664)
    code, _, _ = run(capsys, "pull", "Trades", "--company", "8001", "--out", str(target), "--force")
    assert code == 0 and "old" not in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o664


def test_csv_text_that_looks_like_a_formula_stays_text_in_a_spreadsheet(env, capsys, tmp_path):
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    args = ["pull", "RFIs", "--company", "8001", "--project", "91001"]
    assert run(capsys, *args, "--out", str(safe))[0] == 0
    assert run(capsys, *args, "--raw-csv", "--out", str(raw))[0] == 0
    with safe.open(encoding="utf-8", newline="") as a, raw.open(encoding="utf-8", newline="") as b:
        pairs = [(s["subject"], r["subject"]) for s, r in zip(csv.DictReader(a), csv.DictReader(b))]
    risky = [(s, r) for s, r in pairs if r[:1] in "=+-@"]
    assert risky, "the sandbox has subjects starting with = + - @"
    assert all(s == "'" + r for s, r in risky)
    assert all(s == r for s, r in pairs if r[:1] not in "=+-@")


def test_ctrl_c_stops_a_long_pull_at_once(sandbox, tmp_path):
    """The pull runs in its own process against a slow sandbox; SIGINT ends it with 130 while
    its worker threads are still waiting on requests, and no output file appears."""
    import signal
    import subprocess
    import sys
    import time

    env = process_environ(sandbox, tmp_path / "home")
    sandbox.faults.latency_ms = 2000
    out = tmp_path / "replies.csv"
    proc = subprocess.Popen([sys.executable, "-m", "procore_xl", "pull", "All RFI Replies", "--company", "8001",
                             "--out", str(out)], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while sandbox.path_counts.get("/rest/v1.0/companies", 0) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)        # well before the slow requests could finish
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert not out.exists()


def test_unexpected_input_never_shows_a_traceback(env, capsys, tmp_path):
    code, _, err = run(capsys, "pull", "Manpower Logs", "--company", "8001", "--project", "91001",
                       "--days-back", "9999999")
    assert code != 0 and "Traceback" not in err
    one_error_line(err)
    with pytest.raises(SystemExit) as exited:                # argparse's own errors: one line too
        main(["sandbox", "--port", "99999"])
    assert exited.value.code == 2 and "65535" in one_error_line(capsys.readouterr().err)


def test_new_workbook_and_refresh_say_why_a_sheet_failed(env, capsys, tmp_path):
    book = tmp_path / "co.xlsx"
    code, _, err = run(capsys, "new-workbook", str(book), "--report", "Change Orders", "--company", "8001",
                       "--project", "91001")
    assert code == 1 and book.exists()
    assert "Contract (or Contract ID) is required for Change Orders" in one_error_line(err)
    code, _, err = run(capsys, "refresh", str(book), "-q")
    assert code == 1 and "Change Orders (Refresh failed at" in err and "Contract" in err


# -- -v, prompts with stdin closed, help -------------------------------------------------------------
@pytest.fixture
def restore_log_level():
    import logging

    logger = logging.getLogger("procore_xl")
    level = logger.level
    yield
    logger.setLevel(level)


@pytest.mark.parametrize("argv", [["-v", "whoami"], ["whoami", "-v"]])
def test_verbose_before_or_after_the_command(env, capsys, caplog, restore_log_level, argv):
    caplog.set_level("DEBUG", logger="procore_xl")
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert any("/rest/v1.0/me" in r.getMessage() and r.levelname == "DEBUG" for r in caplog.records)


def test_setup_with_stdin_closed_says_so_and_writes_nothing(tmp_path):
    """A real process with no terminal and stdin at end of file, as under a scheduler."""
    import subprocess
    import sys

    home = tmp_path / "home"
    env = {**process_environ(None, home), "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
           "XDG_DATA_HOME": str(tmp_path / "data")}
    for extra in ([], ["--client-secret-stdin"]):
        done = subprocess.run([sys.executable, "-m", "procore_xl", "setup", "--env", "sandbox", "--client-id",
                               "my-app", *extra], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              env=env, start_new_session=True, timeout=60)
        assert done.returncode == 2 and not done.stdout
        line = one_error_line(done.stderr)
        assert "standard input" in line and "nothing was saved" in line
        assert not home.exists() and not (tmp_path / "data").exists()


def test_login_oob_with_stdin_closed_says_so_and_stores_nothing(sandbox, capsys, monkeypatch, keyring_backend):
    import io
    import os

    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: True)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setenv("PROCORE_CLIENT_SECRET", sandbox.client_secret)
    code, _, err = run(capsys, "login", "--oob", "--login-url", sandbox.url, "--api-url", sandbox.url,
                       "--client-id", sandbox.client_id)
    assert code == 2
    assert "standard input ended" in one_error_line(err) and "nothing was signed in" in err
    assert not os.path.exists(keyring_backend.file_path)


def _commands():
    import argparse

    from procore_xl.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, sub.choices


def test_every_option_of_every_command_has_help_text():
    import argparse

    parser, commands = _commands()
    missing = [f"{name} {action.dest}" for name, p in [("procore-xl", parser), *commands.items()]
               for action in p._actions
               if not isinstance(action, argparse._SubParsersAction) and action.help in (None, "", argparse.SUPPRESS)]
    assert not missing


def test_help_placeholders_say_what_to_type(capsys):
    _, commands = _commands()
    text = commands["pull"].format_help()
    for expected in ("--company NAME|ID", "--project NAME|ID", "--sub-report NAME", "--photos N",
                     "--start-date YYYY-MM-DD", "--project-filter {active,inactive,all}"):
        assert expected in text, expected
    assert not re.search(r"--[a-z-]+ (LIST|FIXED|INT|DATE)\b", text)


def test_lists_offers_only_what_a_list_depends_on(env, capsys):
    _, commands = _commands()
    text = commands["lists"].format_help()
    assert all(flag in text for flag in ("--company", "--project", "--contract", "--filter", "--report"))
    assert not any(flag in text for flag in ("--photos", "--start-date", "--sub-report", "--project-filter", "--pco"))
    with pytest.raises(SystemExit):
        main(["lists", "contracts", "--company", "8001", "--project", "91001", "--photos", "5"])
    assert "--photos" in one_error_line(capsys.readouterr().err)
    code, out, _ = run(capsys, "lists", "sub_reports", "--report", "RFIs")
    assert code == 0 and "questions" in out


def test_a_429_with_only_x_rate_limit_reset_is_waited_out(env, capsys, tmp_path):
    """Procore's rate-limit page documents only X-Rate-Limit-Reset on a 429 (issue 7)."""
    import requests

    env.faults.rate_limit_every, env.faults.retry_after = 3, False
    access = requests.post(f"{env.url}/oauth/token", data={"grant_type": "client_credentials", "client_id":
                           env.client_id, "client_secret": env.client_secret}, timeout=10).json()["access_token"]
    answers = [requests.get(f"{env.url}/rest/v1.0/companies", headers={"Authorization": f"Bearer {access}"},
                            timeout=10) for _ in range(3)]
    assert answers[2].status_code == 429 and "X-Rate-Limit-Reset" in answers[2].headers
    assert "Retry-After" not in answers[2].headers
    env.reset_counts()
    target = tmp_path / "trades.csv"
    code, _, err = run(capsys, "pull", "Trades", "--company", "8001", "--out", str(target))
    assert code == 0, err
    assert env.requests >= 3 and target.read_text(encoding="utf-8").startswith("id,")


def test_the_progress_line_says_when_it_waits_for_the_rate_limit(tmp_path, make_sandbox):
    """On a terminal (a pty here), a pull held back by the spike window says so."""
    import os
    import pty
    import select
    import subprocess
    import sys

    with make_sandbox.serving(rfis_per_project=3, rate_limit_spike=5, rate_limit_spike_seconds=3) as sb:
        env = process_environ(sb, tmp_path / "home")
        parent, child = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "procore_xl", "pull", "All RFI Replies", "--company",
                                 "8001", "--out", str(tmp_path / "replies.csv")],
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=child)
        os.close(child)
        seen = b""
        while True:
            ready, _, _ = select.select([parent], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(parent, 4096)
            except OSError:          # the pull ended and closed its side of the terminal
                break
            if not chunk:
                break
            seen += chunk
            if WAITING.search(seen):
                break
        proc.terminate()             # seen what we came for: no need to wait for the whole pull
        proc.wait(timeout=30)
        os.close(parent)
    assert WAITING.search(seen), seen
    assert seen.startswith(b"\r\x1b[Kprocore-xl: All RFI Replies: ")    # redrawn in place


WAITING = re.compile(rb"requests, \d+ s, waiting \d+ s for Procore's rate limit")


def test_the_readme_says_what_whoami_and_companies_do_for_a_service_account(capsys, monkeypatch, make_sandbox):
    """procore_api.md 1.5: a DMSA needs Procore-Company-Id on /me and /companies too."""
    from pathlib import Path

    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").split())
    with make_sandbox.serving(rfis_per_project=3, service_account_needs_company_header=True) as sb:
        point_at(sb, monkeypatch)
        for command in ("whoami", "companies"):
            code, out, err = run(capsys, command)
            assert code == 2 and not out
            said = one_error_line(err)
            assert "a service account" in said.lower() and f"`procore-xl {command} --company ID`" in said
            assert f"procore-xl {command} --company 8001" in readme and "must name its company" in readme
        code, out, _ = run(capsys, "projects", "--company", "8001")
        assert code == 0 and "91001\tHarbor Tower" in out


# -- pull --out an existing .xlsx needs --force ----------------------------------------------
def test_pull_refuses_to_replace_an_existing_xlsx_without_force(env, capsys, tmp_path):
    target = tmp_path / "mine.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "My numbers"
    wb.active["A1"] = "keep me"
    wb.save(target)
    before = target.read_bytes()
    env.reset_counts()
    args = ["pull", "Trades", "--company", "8001", "--out", str(target)]
    code, _, err = run(capsys, *args)
    assert code != 0 and "--force" in one_error_line(err)
    assert target.read_bytes() == before
    assert env.path_counts == {}                    # refused before any request
    code, _, err = run(capsys, *args, "--force")
    assert code == 0, err
    assert "Trades" in openpyxl.load_workbook(target).sheetnames
