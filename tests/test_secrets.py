"""No token, code or client secret in any log line, message, cell or file: a whole session against
the sandbox (browser sign-in, forced refreshes, errors, every output format, a headless workbook
refresh) is recorded, then searched for every secret the sandbox issued."""
from __future__ import annotations

import dataclasses
import logging

import pytest

from procore_xl.errors import ProcoreError
from procore_xl.excel.refresh import new_workbook, refresh_workbook
from procore_xl.output import write_result
from procore_xl.service import ProcoreService
from procore_xl.tokens import KeyringTokenStore


def test_no_secret_anywhere(sandbox, settings, keyring_backend, browser, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    service = ProcoreService(settings, KeyringTokenStore())
    service.login(open_browser=browser)

    sandbox.faults.token_dies_after = 40                # 401s mid-run: refresh with rotation
    records: list[dict] = []                          # the raw records, for the JSON output
    result = service.run("RFIs", {"company": 8001, "project": 91001, "sub_report": "answers"},
                         on_records=records.extend)
    result.records = records
    assert records
    for name in ("r.csv", "r.json", "r.xlsx"):
        write_result(result, str(tmp_path / name), {"company": 8001, "project": 91001})
    sandbox.faults.token_dies_after = None

    for bad in ({"company": 8003, "project": 91001}, {"company": 8001, "project": 91007}):
        with pytest.raises(ProcoreError) as err:
            service.run("RFIs", bad)
        messages.append(str(err.value))
    book = tmp_path / "book.xlsx"
    new_workbook(book, [("Trades", {"company": 8001}), ("RFIs", {"company": 8001, "project": 91001})],
                 service, progress=False)
    refresh_workbook(book, service, progress=False)
    service.logout()
    with pytest.raises(ProcoreError, match="Procore-Company-Id") as err:   # the user token is gone: the
        service.whoami()                                  # service account, which must name its company
    messages.append(str(err.value))
    no_secret = dataclasses.replace(settings, client_secret=None)
    with pytest.raises(ProcoreError) as err:                # signed out, no service account: a plain message
        ProcoreService(no_secret, KeyringTokenStore()).whoami()
    messages.append(str(err.value))

    out, errors = capsys.readouterr()
    recorded = "\n".join([caplog.text, out, errors, *messages])
    files = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and "keyring" not in p.parts]
    issued = sandbox.oauth.issued_secrets()
    assert len(issued) >= 5                              # a code, several access and refresh tokens
    for secret in issued:
        assert secret not in recorded
        assert all(secret.encode() not in blob for blob in files)
