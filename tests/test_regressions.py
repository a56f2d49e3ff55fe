"""Behaviour a mutation probe could break without any other test noticing (issue 8, section 7).

Each test here fails when its behaviour is removed: a service-account token renewed once for
all threads, CSV and JSON written atomically, the --force guard of an existing .xlsx, the
contract dropdowns, date-only CSV columns as YYYY-MM-DD, the live progress line on a terminal.
"""
from __future__ import annotations

import csv
import os
import pickle
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import openpyxl
import pytest
from test_cli import env, one_error_line, run  # noqa: F401  (env is a fixture)
from test_macros import caller, service, start_book  # noqa: F401  (caller, service are fixtures)

from procore_xl.addin import macros
from procore_xl.auth import TokenManager
from procore_xl.excel import layout
from procore_xl.excel.registry import find_entry
from procore_xl.excel.report_sheet import PARAM_FIRST_ROW
from procore_xl.runner import run_report
from procore_xl.sandbox.entities import CONTRACTS
from procore_xl.tokens import MemoryTokenStore

ROOT = Path(__file__).resolve().parent.parent


def cli_env(sandbox, home: Path) -> dict[str, str]:
    """The environment of a `procore-xl` child process on the sandbox's service account."""
    return {**os.environ, "PROCORE_LOGIN_URL": sandbox.url, "PROCORE_API_URL": sandbox.url,
            "PROCORE_CLIENT_ID": sandbox.client_id, "PROCORE_CLIENT_SECRET": sandbox.client_secret,
            "PROCORE_XL_HOME": str(home)}


# -- a service-account token is renewed once, however many threads got a 401 -------------------
def test_service_account_token_is_renewed_once_for_all_threads(settings, sandbox):
    tokens = TokenManager(settings, MemoryTokenStore())
    failed = tokens.access_token()
    assert tokens.uses_client_credentials
    sandbox.reset_counts()
    start = threading.Barrier(8)
    renewed: list[str] = []

    def worker():
        start.wait()
        renewed.append(tokens.refresh(failed))     # each thread saw the same token answer 401

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(renewed) == 8 and set(renewed) == {renewed[0]} and renewed[0] != failed
    assert sandbox.path_counts == {"/oauth/token": 1}


# -- CSV and JSON: a write failing midway leaves the old file, or no file ----------------------
# The write runs in a child process whose files may not grow past FILE_LIMIT bytes (RLIMIT_FSIZE):
# a real "file too large" error partway through, as a full disk or a quota gives.
FILE_LIMIT = 16_384
WRITE_UNDER_LIMIT = f"""
import pickle, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # EFBIG as an OSError, not a killed process
with open(sys.argv[1], "rb") as f:
    result = pickle.load(f)
resource.setrlimit(resource.RLIMIT_FSIZE, ({FILE_LIMIT}, {FILE_LIMIT}))
from procore_xl.output import write_result
write_result(result, sys.argv[2])
"""


@pytest.fixture
def big_result(signed_in_client, sandbox, tmp_path) -> Path:
    """A real RFIs pull from the sandbox, pickled for the child process (far over FILE_LIMIT as
    CSV and as JSON)."""
    result = run_report(signed_in_client, "RFIs", {"company": 8001, "project": 91001})
    path = tmp_path / "result.pickle"
    path.write_bytes(pickle.dumps(result))
    return path


def write_with_limit(result: Path, target: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WRITE_UNDER_LIMIT, str(result), str(target)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_a_write_failing_midway_leaves_the_previous_file_or_none(big_result, tmp_path, suffix):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / f"rfis{suffix}"
    old = b"the previous pull\n"
    target.write_bytes(old)
    done = write_with_limit(big_result, target)
    assert done.returncode != 0 and "too large" in done.stderr.lower(), done.stderr
    assert target.read_bytes() == old
    assert sorted(p.name for p in folder.iterdir()) == [target.name]   # no temporary file left
    target.unlink()
    done = write_with_limit(big_result, target)                        # a new file: none at all
    assert done.returncode != 0 and "too large" in done.stderr.lower(), done.stderr
    assert list(folder.iterdir()) == []


# -- pull --out an existing .xlsx needs --force ----------------------------------------------
def test_pull_refuses_to_replace_an_existing_xlsx_without_force(env, capsys, tmp_path):  # noqa: F811
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


# -- contract dropdowns ------------------------------------------------------------------------
def list_labels(book, list_name: str) -> list[str]:
    wb = macros.XlwingsWorkbook(book)
    sheet, (r1, c1, r2, _) = wb.name_target(layout.LIST_NAMES[list_name])
    return [row[0] for row in wb.read(sheet, r1, c1, r2 - r1 + 1, 1) if row[0] not in (None, "")]


def test_contract_dropdowns_list_the_projects_contracts_then_the_cors_of_the_one_picked(service, sandbox,  # noqa: F811
                                                                                       caller):  # noqa: F811
    world = sandbox.world
    project = world.project(91001)
    book = caller(start_book(report="Change Order Request Details"))
    macros.insert_report()           # needs a contract: the sheet waits for one, its dropdowns filled
    contracts = [c for kind in CONTRACTS for c in world.records(kind, project)]
    labels = list_labels(book, "contracts")
    assert len(labels) == len(contracts)
    for contract in contracts:       # every contract of the project (prime and commitments) by its title
        assert any(contract["title"] in label for label in labels), contract["title"]
    assert list_labels(book, "cors") == []          # no contract picked yet

    sheet_name = "Change Order Request Details"
    entry = find_entry(macros.XlwingsWorkbook(book), sheet_name)
    row = PARAM_FIRST_ROW + list(entry.params).index("contract")
    assert book.sheets[sheet_name].validations[(row, 2)] == layout.LIST_NAMES["contracts"]
    commitment = world.records("work_order_contracts", project)[0]
    picked = next(label for label in labels if commitment["title"] in label and commitment["number"] in label)
    book.sheets[sheet_name].range((row, 2)).value = picked          # the person picks the contract
    macros.update_dropdowns()                                       # with the report sheet active
    cors = world.records("change_order_requests", commitment)
    assert cors
    assert sorted(list_labels(book, "cors")) == sorted(f"{c['number']} - {c['title']}" for c in cors)


# -- date-only CSV columns -------------------------------------------------------------------
def test_csv_date_only_columns_are_yyyy_mm_dd_and_timestamps_keep_their_time(env, capsys, tmp_path):  # noqa: F811
    target = tmp_path / "rfis.csv"
    code, _, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(target))
    assert code == 0, err
    with target.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    due = [r["due_date"] for r in rows if r["due_date"]]
    created = [r["created_at"] for r in rows if r["created_at"]]
    assert due and created
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in due), due[:3]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", c) for c in created), created[:3]


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
    environ = cli_env(sandbox, tmp_path / "home")

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
