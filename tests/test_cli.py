"""The `procore-xl` command line, run in-process against the sandbox over loopback.

Bad input must end as ONE line on stderr and a non-zero exit; good input writes real files.
"""
from __future__ import annotations

import csv
import json
import webbrowser

import openpyxl
import pytest

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
    monkeypatch.setenv("PROCORE_LOGIN_URL", sandbox.url)
    monkeypatch.setenv("PROCORE_API_URL", sandbox.url)
    monkeypatch.setenv("PROCORE_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("PROCORE_CLIENT_SECRET", sandbox.client_secret)
    return sandbox


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("procore-xl: error: ")
    return lines[0]


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
    code, out, err = run(capsys, "setup", "--env", "sandbox", "--client-id", "my-app", "--client-secret-stdin")
    assert code == 0, err
    saved = settings_path().read_text(encoding="utf-8")
    assert "my-app" in saved and "s3cret-value" not in saved and "s3cret-value" not in out
    service = ProcoreService(load_settings())
    assert (service.settings.env, service.settings.client_id, service.settings.client_secret) == (
        "sandbox", "my-app", "s3cret-value")
    with pytest.raises(SignedOutError):     # a person's app secret never signs in as the service account
        service.whoami()


def test_a_service_account_that_cannot_list_companies_pulls_by_company_id(capsys, monkeypatch, tmp_path):
    """procore_api.md 1.5: a DMSA needs Procore-Company-Id even on /companies."""
    from procore_xl.sandbox import SandboxConfig, SandboxServer

    with SandboxServer(SandboxConfig(port=0, rfis_per_project=3, service_account_needs_company_header=True)) as sb:
        for name, value in (("PROCORE_LOGIN_URL", sb.url), ("PROCORE_API_URL", sb.url),
                            ("PROCORE_CLIENT_ID", sb.client_id), ("PROCORE_CLIENT_SECRET", sb.client_secret)):
            monkeypatch.setenv(name, value)
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
    code, _, _ = run(capsys, "pull", "Trades", "--company", "8001", "--out", str(target))
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
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "PROCORE_LOGIN_URL": sandbox.url, "PROCORE_API_URL": sandbox.url,
           "PROCORE_CLIENT_ID": sandbox.client_id, "PROCORE_CLIENT_SECRET": sandbox.client_secret,
           "PROCORE_XL_HOME": str(tmp_path / "home")}
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
