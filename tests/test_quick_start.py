"""The README's quick start, run as written: the block after the ``<!-- quick-start`` marker is read
from README.md at test time, and every command after ``make demo`` runs in bash, in a temporary
folder holding this checkout's Makefile (and its installed .venv: nothing is installed again).
``make demo`` itself (about 35 s) is covered by tests/test_demo.py; here it is checked that it
prints the commands the block runs next.

The one thing set around the block: SANDBOX_PORT (a Makefile variable) takes a free port, so that
a sandbox someone runs on the default port cannot make the test pass or fail. The data the
commands write is compared with the same commands run against the demo's own sandbox
(``demo_sandbox_config``): the README's sandbox is the demo's.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from cli_run import sandbox_variables
from procore_xl.cli import main
from procore_xl.demo import demo_sandbox_config
from procore_xl.sandbox import free_port
from procore_xl.sandbox.config import DEMO_RFIS_PER_PROJECT

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- quick-start"
SIGN_IN_MARKER = "<!-- sandbox-sign-in"


def quick_start(marker: str = MARKER) -> list[str]:
    """The commands of the README's block after ``marker`` (comments and blank lines dropped)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count(marker) == 1, f"one {marker} block in the README"
    block = re.search(r"```[^\n]*\n(.*?)```", readme[readme.index(marker):], re.S).group(1)
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines()]
    return [c for c in commands if c]


def table(book: Path, sheet: str) -> pd.DataFrame:
    ws = openpyxl.load_workbook(book)[sheet]
    (ref,) = [t.ref for t in ws.tables.values()]
    rows = [[c.value for c in row] for row in ws[ref]]
    return pd.DataFrame(rows[1:], columns=rows[0])


def run_then_stop(script: str, folder: Path, environ: dict, port: int) -> subprocess.CompletedProcess:
    """``script`` run by bash in ``folder``; the sandbox it may have started on ``port`` is stopped
    afterwards, whatever happened."""
    try:
        return subprocess.run(["bash", "-c", script], cwd=folder, env=environ, capture_output=True, text=True,
                              timeout=300)
    finally:
        subprocess.run([str(ROOT / ".venv" / "bin" / "procore-xl"), "sandbox", "--stop", "--port", str(port)],
                       capture_output=True, timeout=60)


@pytest.fixture
def folder(tmp_path):
    """A folder like a fresh clone's, with this checkout's Makefile and installed .venv."""
    if not (ROOT / ".venv" / "bin" / "procore-xl").exists() or shutil.which("make") is None:
        pytest.fail("run `make install` first: the quick start needs .venv and make")
    work = tmp_path / "clone"
    work.mkdir()
    for name in ("Makefile", "pyproject.toml", ".venv"):
        (work / name).symlink_to(ROOT / name)
    return work


def test_the_readme_quick_start_runs_as_written(folder, tmp_path, make_sandbox):
    commands = quick_start()
    assert commands[0] == "make demo", commands
    following = commands[1:]
    assert following, "the quick start shows what to run after make demo"

    # make demo ends by printing the commands to run next: exactly these
    dry = subprocess.run(["make", "--dry-run", "demo"], cwd=folder, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    for command in following:
        assert command in dry.stdout, f"make demo does not print {command!r}"

    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PROCORE_", "PYTHON_KEYRING"))}
    environ.update(SANDBOX_PORT=str(port), PROCORE_XL_HOME=str(tmp_path / "home"),
                   XDG_DATA_HOME=str(tmp_path / "data"),          # no sign-in stored on this machine counts
                   MAKEFLAGS="--assume-old=.venv/bin/procore-xl")      # never pip install again here
    script = "set -e\n" + "\n".join(following) + "\n"
    done = run_then_stop(script, folder, environ, port)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pip install" not in done.stdout          # the test reused the installed .venv

    # the same commands against the demo's own sandbox: the same data
    reference = tmp_path / "reference"
    reference.mkdir()
    with make_sandbox.serving(demo_sandbox_config()) as demo:
        saved = dict(os.environ)
        os.environ.update(sandbox_variables(demo))
        try:
            assert main(["pull", "RFIs", "--company", "8001", "--project", "91001",
                         "--out", str(reference / "rfis.csv")]) == 0
            assert main(["new-workbook", str(reference / "rfis.xlsx"), "--report", "RFIs", "--company", "8001",
                         "--project", "91001"]) == 0
        finally:
            os.environ.clear()
            os.environ.update(saved)
    csv = pd.read_csv(folder / "rfis.csv")
    assert len(csv) == DEMO_RFIS_PER_PROJECT
    pd.testing.assert_frame_equal(csv, pd.read_csv(reference / "rfis.csv"))
    pd.testing.assert_frame_equal(table(folder / "rfis.xlsx", "RFIs"), table(reference / "rfis.xlsx", "RFIs"))


def test_the_readme_sandbox_sign_in_runs_as_written(folder, tmp_path, make_sandbox):
    """The built-in sandbox section: activate, start the sandbox, the exports, `procore-xl login`
    (a user's sign-in through the consent page: $BROWSER is a stand-in that presses Approve, as a
    person would), whoami as the demo user, refresh demo.xlsx (its data unchanged), a pull by
    names. The one change to the block: the sandbox's port, 8766, becomes a free one."""
    commands = quick_start(SIGN_IN_MARKER)
    assert any(c == "procore-xl login" for c in commands), commands
    port = free_port()
    commands = [c.replace("8766", str(port)).replace("procore-xl sandbox --background",
                                                      f"procore-xl sandbox --background --port {port}")
                for c in commands]
    script = "set -e\n" + "\n".join(commands) + "\n"
    with make_sandbox.serving(demo_sandbox_config()) as demo:       # a workbook as the demo writes it (one sheet)
        saved = dict(os.environ)
        os.environ.update(sandbox_variables(demo))
        try:
            assert main(["new-workbook", str(tmp_path / "RFIs.xlsx"), "--report", "RFIs", "--company", "8001",
                         "--project", "91001"]) == 0
        finally:
            os.environ.clear()
            os.environ.update(saved)
    shutil.copy(tmp_path / "RFIs.xlsx", folder / "demo.xlsx")
    before = table(folder / "demo.xlsx", "RFIs")
    approve = tmp_path / "approve.py"
    approve.write_text("import sys\nfrom procore_xl.sandbox.browser import ConsentBrowser\n"
                       "sys.exit(0 if ConsentBrowser()(sys.argv[1]) else 1)\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PROCORE_", "PYTHON_KEYRING"))}
    environ.update(PROCORE_XL_HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"),
                   PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
                   BROWSER=f"{ROOT / '.venv' / 'bin' / 'python'} {approve} %s")
    done = run_then_stop(script, folder, environ, port)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Signed in to custom as Dana Reyes" in done.stdout
    assert "Dana Reyes <dana.reyes@harbortower.example>" in done.stdout           # whoami: the user
    assert "8001\tHarbor Tower Builders" in done.stdout                           # companies
    pd.testing.assert_frame_equal(table(folder / "demo.xlsx", "RFIs"), before)    # the same data
    assert len(pd.read_csv(folder / "harbor-rfis.csv")) == DEMO_RFIS_PER_PROJECT
