"""A command run with stdout or stderr closed (`>&-`, `2>&-` in a script, a scheduler that gives
none): Python then has no sys.stdout / sys.stderr, and the command still does its work - a pull
to a file writes the file - instead of ending in an internal error before the first request."""
from __future__ import annotations

import subprocess
import sys

from cli_run import process_environ


def _run(sandbox, tmp_path, redirect: str, *argv: str) -> subprocess.CompletedProcess:
    command = " ".join(["exec", sys.executable, "-m", "procore_xl", *argv, redirect])
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env=process_environ(sandbox, tmp_path / "home"))


def test_a_pull_with_stderr_closed_writes_its_file(sandbox, tmp_path):
    done = _run(sandbox, tmp_path, "2>&-", "pull", "RFIs", "--company", "8001", "--project", "91001", "--out", "r.csv")
    assert done.returncode == 0 and not done.stdout
    assert (tmp_path / "r.csv").read_text(encoding="utf-8").startswith("id,number,subject")


def test_a_pull_with_stdout_closed_ends_as_if_read_by_head(sandbox, tmp_path):
    done = _run(sandbox, tmp_path, ">&-", "pull", "RFIs", "--company", "8001", "--project", "91001")
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr


def test_bad_input_with_stdout_closed_is_still_one_line(sandbox, tmp_path):
    done = _run(sandbox, tmp_path, ">&-", "pull", "Nope")
    assert done.returncode == 2 and done.stderr.startswith('procore-xl: error: Unknown report "Nope"')
