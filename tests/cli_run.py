"""Running `procore-xl` in tests: in-process (``run``) or as a real process (``process_environ``),
against a sandbox over loopback, and the one-line error shape every failure must have."""
from __future__ import annotations

import os
from pathlib import Path

from procore_xl.cli import main


def point_at(sandbox, monkeypatch):
    """PROCORE_* variables for the sandbox (a service account: client id + secret)."""
    for name, value in sandbox_variables(sandbox).items():
        monkeypatch.setenv(name, value)
    return sandbox


def sandbox_variables(sandbox) -> dict[str, str]:
    return {"PROCORE_LOGIN_URL": sandbox.url, "PROCORE_API_URL": sandbox.url,
            "PROCORE_CLIENT_ID": sandbox.client_id, "PROCORE_CLIENT_SECRET": sandbox.client_secret}


def process_environ(sandbox, home: Path) -> dict[str, str]:
    """The environment of a `python -m procore_xl` process using ``sandbox``, settings in ``home``."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PROCORE_")},
            **(sandbox_variables(sandbox) if sandbox is not None else {}), "PROCORE_XL_HOME": str(home)}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("procore-xl: error: ")
    return lines[0]
