"""A first pull at the floor: nothing heavy imported before the first request is sent (pandas is
imported while Procore answers, lazy_pandas.py); the rate-limit budget Procore reports, visible."""
from __future__ import annotations

import re
import subprocess
import sys

import openpyxl


def test_the_modules_a_pull_starts_with_import_no_pandas_until_a_table_is_needed():
    code = ("import sys; from procore_xl import cli, output, service, runner, flatten; "
            "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"            # before: pandas, numpy and pyarrow, 0.4 to 0.8 s before any request
    code = ("import sys; from procore_xl.flatten import to_frame; "
            "f = to_frame([{'id': 1, 'created_at': '2026-01-02T03:04:05Z'}]); "
            "print(type(f).__module__.split('.')[0], str(f['created_at'].dtype))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    module, dtype = out.split()
    assert module == "pandas" and dtype.startswith("datetime64")


def test_the_budget_procore_reports_left_is_shown_after_a_pull_and_on_the_sheet(sandbox, monkeypatch, capsys,
                                                                                 tmp_path):
    from cli_run import point_at, run

    point_at(sandbox, monkeypatch)
    code, _, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001",
                       "--out", str(tmp_path / "rfis.csv"))
    assert code == 0, err
    assert re.search(r"Procore rate limit: [\d,]+ of [\d,]+ requests left (until \d\d:\d\d|for \d+ s)", err), err
    code, _, err = run(capsys, "new-workbook", str(tmp_path / "book.xlsx"), "--report", "RFIs",
                       "--company", "8001", "--project", "91001")
    assert code == 0, err
    message = openpyxl.load_workbook(tmp_path / "book.xlsx")["RFIs"]["B7"].value
    assert re.search(r"Procore rate limit: [\d,]+ of [\d,]+ requests left", message), message


def test_a_pull_commits_the_record_store_while_the_file_is_written(sandbox, make_service, tmp_path):
    """run(commit_later=True): the list read in full is committed by the writer's thread while the
    caller writes its output; settle() waits for it (close() does too), and the next run finds
    the records stored (two requests: changes and Total)."""
    from procore_xl.store import RecordStore

    store = RecordStore(tmp_path / "records.sqlite3")
    service = make_service(sandbox, records=tmp_path / "records.sqlite3", per_page=10)
    result = service.run("RFIs", {"company": 8001, "project": 91001}, commit_later=True)
    assert result.refresh == "full" and len(result.table) > 20
    assert service.settle() == []
    assert store.info().records >= len(result.table)        # the RFIs (and a small list beside)
    assert service.settle() == []                        # nothing left to wait for
    sandbox.reset_counts()
    again = service.run("RFIs", {"company": 8001, "project": 91001})
    assert again.refresh.startswith("incremental: 0 changed, 0 deleted")
    assert sandbox.path_counts["/rest/v1.0/projects/91001/rfis"] == 2
    store.close()
