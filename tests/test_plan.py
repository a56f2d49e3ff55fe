"""`procore-xl refresh BOOK --plan`: the requests a full refresh will make, counted from the record
store and the kept lists without sending any, against the requests the full refresh then makes."""
from __future__ import annotations

import re

from cli_run import point_at, run


def test_the_plan_sends_nothing_and_counts_what_a_full_refresh_then_makes(sandbox, monkeypatch, capsys, tmp_path):
    point_at(sandbox, monkeypatch)
    monkeypatch.setattr(sandbox.config, "service_account_needs_company_header", False)
    book = str(tmp_path / "book.xlsx")
    code, _, err = run(capsys, "new-workbook", book, "--report", "Change Orders", "--company", "8001",
                       "--project", "91001", "--contract", "all")
    assert code == 0, err
    assert run(capsys, "refresh", book, "--quiet")[0] == 0
    before = open(book, "rb").read()

    sandbox.reset_counts()
    code, out, err = run(capsys, "refresh", book, "--plan")
    assert code == 0, err
    assert sandbox.requests == 0 and open(book, "rb").read() == before      # nothing sent, nothing written
    planned = int(re.search(r"will make about ([\d,]+) requests", out).group(1).replace(",", ""))
    assert re.search(r"Change Orders\s+[\d,]+ requests", out), out

    sandbox.reset_counts()
    assert run(capsys, "refresh", book, "--full", "--quiet")[0] == 0
    assert planned == sandbox.requests - 1                # the full refresh also asked for a token
    assert planned > 3                                    # the contracts lists, their change orders...


def test_a_workbook_never_refreshed_here_is_planned_as_at_least(sandbox, monkeypatch, capsys, tmp_path):
    point_at(sandbox, monkeypatch)
    monkeypatch.setattr(sandbox.config, "service_account_needs_company_header", False)
    book = str(tmp_path / "book.xlsx")
    assert run(capsys, "new-workbook", book, "--report", "RFIs", "--company", "8001", "--project", "91001")[0] == 0
    for name in ("records.sqlite3", "lists.sqlite3"):           # another computer: nothing stored
        for path in (tmp_path / "procore-xl-home").rglob(name + "*"):
            path.unlink()
    sandbox.reset_counts()
    code, out, err = run(capsys, "refresh", book, "--dry-run")
    assert code == 0, err
    assert sandbox.requests == 0
    assert "will make at least" in out and "never made before" in out


def test_a_body_read_page_by_page_is_planned_page_by_page(sandbox, monkeypatch, capsys, tmp_path):
    """Project Dates: each page is an object, read until one is shorter than the Per-Page Procore
    states (here the first: 5 dates): the plan counts the pages as the full refresh makes them."""
    point_at(sandbox, monkeypatch)
    monkeypatch.setattr(sandbox.config, "service_account_needs_company_header", False)
    book = str(tmp_path / "dates.xlsx")
    code, _, err = run(capsys, "new-workbook", book, "--report", "Project Dates", "--company", "8001",
                       "--project", "91001")
    assert code == 0, err
    assert run(capsys, "refresh", book, "--quiet")[0] == 0
    code, out, err = run(capsys, "refresh", book, "--plan")
    assert code == 0, err
    planned = int(re.search(r"will make about ([\d,]+) requests", out).group(1).replace(",", ""))
    sandbox.reset_counts()
    assert run(capsys, "refresh", book, "--full", "--quiet")[0] == 0
    assert sandbox.path_counts["/rest/v1.0/projects/91001/project_dates"] == 1
    assert planned == sandbox.requests - 1                # the full refresh also asked for a token
