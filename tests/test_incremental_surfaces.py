"""The record store behind the Excel surfaces (ribbon macros, UDFs) and across processes."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from procore_xl.addin import macros, udfs
from procore_xl.store import RecordStore
from test_macros import caller, start_book  # noqa: F401 (caller: a fixture)


def _message(book, sheet: str) -> str:
    return str(book.sheets[sheet].cells[(7, 2)])


def test_refresh_sheet_is_incremental_and_full_refresh_fetches_everything(excel_service, sandbox, caller):
    book = caller(start_book())
    macros.insert_report()
    assert book.sheets["RFIs"].cells[(2, 2)] == "OK" and _message(book, "RFIs").startswith("Refresh: full")
    macros.refresh_sheet()
    assert _message(book, "RFIs").startswith("Refresh: incremental: 0 changed, 0 deleted")
    sandbox.reset_counts()
    macros.refresh_sheet_full()
    assert book.app.alerts == [] and _message(book, "RFIs").startswith("Refresh: full")
    assert sandbox.path_counts.get("/rest/v1.0/projects/91001/rfis") == 1      # one full read, no change query


def test_udfs_go_through_the_store(excel_service, sandbox):
    rows = udfs.PROCORE_REPORT("RFIs", "Harbor Tower Builders", "Harbor Tower")
    assert rows[0][:3] == ["Number", "Subject", "Status"]      # the spill shows labels (issue 19)
    assert RecordStore().info().entries >= 1


WORKER = textwrap.dedent("""
    import os
    import sys
    from pathlib import Path
    from procore_xl.environments import load_settings
    from procore_xl.service import ProcoreService
    from procore_xl.store import RecordStore
    from procore_xl.tokens import MemoryTokenStore
    url, store = sys.argv[1], sys.argv[2]     # a service account of the sandbox's public demo app
    settings = load_settings(login_url=url, api_url=url, client_id="sandbox-client-id",
                             client_secret="sandbox-client-secret-5f2c9e", environ={}, settings_file=Path(os.devnull))
    with ProcoreService(settings, token_store=MemoryTokenStore(), record_store=RecordStore(store)) as service:
        for project in (91001, 91002, 91003) * 3:
            result = service.run("RFIs", {"company": 8001, "project": project})
            assert len(result.frame) > 0
        print("ok")
""")


def test_two_processes_share_the_store_at_once(sandbox, tmp_path):
    store = tmp_path / "records.sqlite3"
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, sandbox.url, str(store)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err[-2000:] for _, err in outcomes]
    assert all(out.strip() == "ok" for out, _ in outcomes)
    assert RecordStore(store).info().entries == 3 + 1      # three RFI lists, the custom field labels
