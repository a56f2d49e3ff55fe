"""Never replacing a user's file silently: existing and read-only outputs are refused before any
request, and the temporary files of an interrupted, terminated or killed run do not stay behind.

Real processes against the sandbox over loopback; real files. The tests run as root in CI, where
renaming over a read-only file would succeed: the permission bits are what refuses it.
"""
from __future__ import annotations

import os
import pickle
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from cli_run import one_error_line, point_at, process_environ, run
from procore_xl.errors import ConfigurationError
from procore_xl.files import DEAD_OWNER_AFTER, STALE_AFTER, replacing
from procore_xl.runner import run_report

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(sandbox, monkeypatch):
    return point_at(sandbox, monkeypatch)


def leftovers(folder: Path, stem: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".~{stem}."))


RFIS = ("--report", "RFIs", "--company", "8001", "--project", "91001")


# -- new-workbook over an existing file --------------------------------------------------------------
def test_new_workbook_refuses_an_existing_file_without_force(env, capsys, tmp_path):
    book = tmp_path / "costs.xlsx"
    assert run(capsys, "new-workbook", str(book), *RFIS)[0] == 0
    before = book.read_bytes()
    env.reset_counts()
    code, out, err = run(capsys, "new-workbook", str(book), "--report", "Trades", "--company", "8001")
    assert code == 2 and not out
    line = one_error_line(err)
    assert "exists" in line and "--force" in line
    assert book.read_bytes() == before and env.requests == 0      # refused before any request
    code, _, err = run(capsys, "new-workbook", str(book), "--report", "Trades", "--company", "8001", "--force")
    assert code == 0, err
    assert [s for s in openpyxl.load_workbook(book).sheetnames if not s.startswith("_")] == ["Trades"]


def test_pull_refuses_any_existing_file_without_force(env, capsys, tmp_path):
    """One rule for every format (it used to replace a CSV silently)."""
    book, table = tmp_path / "rfis.xlsx", tmp_path / "rfis.csv"
    mine = openpyxl.Workbook()
    mine.active.title = "My numbers"
    mine.save(book)
    before = book.read_bytes()
    table.write_text("old\n")
    code, out, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(book))
    assert code == 2 and not out and "--force" in one_error_line(err)
    assert book.read_bytes() == before and env.requests == 0
    code, _, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(book),
                       "--force")
    assert code == 0, err
    assert "RFIs" in openpyxl.load_workbook(book).sheetnames
    code, _, err = run(capsys, "pull", "Trades", "--company", "8001", "--out", str(table))
    assert code == 2 and "--force" in one_error_line(err) and table.read_text() == "old\n"
    code, _, err = run(capsys, "pull", "Trades", "--company", "8001", "--out", str(table), "--force")
    assert code == 0 and table.read_text(encoding="utf-8").startswith("id,")


# -- read-only outputs: refused before any request, even for root ---------------------------------------
def _read_only(path: Path) -> bytes:
    os.chmod(path, 0o444)
    return path.read_bytes()


@pytest.mark.parametrize("name, extra", [("rfis.csv", ("--force",)), ("rfis.json", ("--force",)),
                                         ("rfis.xlsx", ("--force",))])
def test_pull_refuses_a_read_only_output(env, capsys, tmp_path, name, extra):
    target = tmp_path / name
    target.write_text("keep me\n")
    before = _read_only(target)
    code, out, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(target),
                         *extra)
    assert code == 2 and not out
    assert "read-only" in one_error_line(err) and name in err
    assert target.read_bytes() == before and env.requests == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o444 and not leftovers(tmp_path, "rfis")


def test_new_workbook_and_refresh_refuse_a_read_only_workbook(env, capsys, tmp_path):
    book = tmp_path / "book.xlsx"
    assert run(capsys, "new-workbook", str(book), *RFIS)[0] == 0
    before = _read_only(book)
    env.reset_counts()
    for argv in (["refresh", str(book), "-q"], ["new-workbook", str(book), *RFIS, "--force"]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and "read-only" in one_error_line(err), argv
    assert book.read_bytes() == before and env.requests == 0


def test_replacing_refuses_a_read_only_target_itself(tmp_path):
    """The last line of defence, for every writer (CSV, JSON, workbooks): nothing is renamed over
    a file that lost its write permission while the run was busy."""
    target = tmp_path / "shared.csv"
    target.write_text("old\n")
    with pytest.raises(ConfigurationError, match="read-only"):
        with replacing(target) as tmp:
            tmp.write_text("new\n")
            os.chmod(target, 0o444)
    assert target.read_text() == "old\n" and not leftovers(tmp_path, "shared")


# -- output paths are checked before the work ------------------------------------------------------------
@pytest.mark.parametrize("where", ["missing folder", "read-only file", "not a workbook"])
def test_demo_checks_its_output_before_starting(capsys, tmp_path, where):
    target = {"missing folder": tmp_path / "nowhere" / "demo.xlsx", "read-only file": tmp_path / "demo.xlsx",
              "not a workbook": tmp_path / "demo.csv"}[where]
    if where == "read-only file":
        target.write_bytes(b"a user's file")
        _read_only(target)
    code, out, err = run(capsys, "demo", "--out", str(target))
    assert code == 2
    one_error_line(err)
    assert "Sandbox running" not in out     # no sandbox started, no report pulled


# -- temporary files ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def big_sandbox(make_sandbox):
    """Enough RFIs that saving the workbook takes a while: the signal lands during the save."""
    return make_sandbox(rfis_per_project=2000)


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_the_save_leaves_no_temporary_file(big_sandbox, tmp_path, signum, status):
    target = tmp_path / "big.xlsx"
    target.write_bytes(b"the previous workbook")
    proc = subprocess.Popen([sys.executable, "-m", "procore_xl", "pull", "RFIs", "--company", "8001",
                             "--project", "91001", "--out", str(target), "--force"],
                            env=process_environ(big_sandbox, tmp_path / "home"), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not leftovers(tmp_path, "big") and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert leftovers(tmp_path, "big"), "the pull never started writing its temporary file"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == status, err
    assert "Traceback" not in err
    assert leftovers(tmp_path, "big") == []
    assert target.read_bytes() == b"the previous workbook"


def test_the_next_run_removes_only_stale_temporary_files_of_its_own_name(env, capsys, tmp_path):
    """A run killed outright (SIGKILL, power cut) cannot clean up; the next run that writes the
    same file removes what that run left, and nothing else."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    a_while_ago = time.time() - DEAD_OWNER_AFTER - 5
    long_ago = time.time() - STALE_AFTER - 5
    files = {
        f".~rfis.{dead_pid}-abcd1234.csv": a_while_ago,        # its process is gone: removed
        f".~rfis.{dead_pid}-abcd1234.csv.parts": a_while_ago,  # a writer's companion of it: removed
        ".~rfis.k2j4h5g6.csv": long_ago,                      # an older run's name, untouched for long: removed
        f".~rfis.{os.getpid()}-zzzz9999.csv": a_while_ago,     # its process runs: kept
        f".~rfis.{dead_pid}-efgh5678.csv": time.time(),        # just written (another machine?): kept
        f".~other.{dead_pid}-abcd1234.csv": long_ago,          # another file's: kept
        ".~rfis.notes.txt": long_ago,                         # not our pattern: kept
    }
    for name, mtime in files.items():
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (mtime, mtime))
    code, _, err = run(capsys, "pull", "Trades", "--company", "8001", "--out", str(tmp_path / "rfis.csv"))
    assert code == 0, err
    assert leftovers(tmp_path, "rfis") == sorted([
        f".~rfis.{os.getpid()}-zzzz9999.csv", f".~rfis.{dead_pid}-efgh5678.csv", ".~rfis.notes.txt"])
    assert (tmp_path / f".~other.{dead_pid}-abcd1234.csv").exists()


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


# -- one atomic write ---------------------------------------------------------------------------------
def test_a_file_rewritten_in_place_is_whole_or_as_it_was(tmp_path):
    """``files.replaced``, the write under every other (tokens, a workbook's parts): a block that
    fails leaves the file and no temporary file; one that ends gives the new content and the mode asked."""
    from procore_xl.files import replaced

    target = tmp_path / "tokens.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with replaced(target, mode=0o600) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed half-way")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json"]
    with replaced(target, mode=0o600) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o600
    with replaced(target, companion="parts") as tmp:            # beside a temporary file of replacing()
        assert tmp.name == "tokens.json.parts"
        tmp.write_text("newer")
    assert target.read_text() == "newer" and sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json"]


def test_the_excel_package_writes_files_through_files_and_imports_nothing_of_output():
    """One way: ``output`` calls ``excel.results.write_workbook`` for .xlsx; no module of ``excel``
    imports ``output``, at the top or inside a function."""
    import ast

    import procore_xl

    root = Path(procore_xl.__file__).parent / "excel"
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "output" or n.endswith(".output") or n == "procore_xl.output" for n in names) or (
                    isinstance(node, ast.ImportFrom) and node.level and node.module is None
                    and any(a.name == "output" for a in node.names)):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
