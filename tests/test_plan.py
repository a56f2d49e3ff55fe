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


def test_a_plan_keeps_no_list_it_made_up(sandbox, monkeypatch, capsys, tmp_path):
    """A plan sends nothing: a list it has not got stands in as empty, and must not be kept as
    Procore's. Kept, the empty companies list of an analysis workbook's plan made every command
    of a service account fail for a day ("must name its company", with --company 8001 given)."""
    point_at(sandbox, monkeypatch)          # a service account, which cannot list companies
    book = str(tmp_path / "analysis.xlsx")
    code, _, err = run(capsys, "new-workbook", book, "--analysis", "RFIs", "--company", "8001", "--project", "91001")
    assert code == 0, err
    assert run(capsys, "cache", "clear")[0] == 0
    lists = tmp_path / "procore-xl-home" / "lists.sqlite3"
    before = _kept_keys(lists)
    code, _, err = run(capsys, "refresh", book, "--plan")
    assert code == 0, err
    assert _kept_keys(lists) == before
    for argv in (["pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(tmp_path / "r.csv")],
                 ["refresh", book, "--quiet"]):
        code, _, err = run(capsys, *argv)
        assert code == 0, err


def test_a_kept_companies_list_without_the_company_gives_way_to_its_id(sandbox, monkeypatch, capsys, tmp_path):
    """However a companies list without the company came to be kept (another sign-in of the same
    app), a service account that cannot list companies takes the company id it was given."""
    import sqlite3

    point_at(sandbox, monkeypatch)
    target = str(tmp_path / "r.csv")
    argv = ["pull", "RFIs", "--company", "8001", "--project", "91001", "--out", target, "--force"]
    assert run(capsys, *argv)[0] == 0
    lists = tmp_path / "procore-xl-home" / "lists.sqlite3"
    with sqlite3.connect(lists) as db:       # the kept companies list: empty, as a day's answer
        row = db.execute("select * from discovery where key like '%refused%'").fetchone()
        columns = [d[1] for d in db.execute("pragma table_info(discovery)")]
        fresh = dict(zip(columns, row), key='["companies"]', value="[]")
        db.execute("delete from discovery where key like '%refused%'")
        db.execute(f"insert into discovery ({', '.join(fresh)}) values ({', '.join('?' for _ in fresh)})",
                   list(fresh.values()))
    code, _, err = run(capsys, *argv)
    assert code == 0, err


def _kept_keys(path) -> set[str]:
    import sqlite3

    if not path.exists():
        return set()
    with sqlite3.connect(path) as db:
        return {key for (key,) in db.execute("select key from discovery")}


def test_a_plan_without_the_lists_does_not_call_a_project_unknown(sandbox, monkeypatch, capsys, tmp_path):
    """Another computer, nothing kept: the names in the cells ("Harbor Tower Builders", "Harbor
    Tower", as a refresh leaves them) cannot be looked up without a request. The plan says so -
    not 'Unknown company "Harbor Tower Builders" - there is no company to choose from', which
    reads as a broken workbook."""
    point_at(sandbox, monkeypatch)
    monkeypatch.setattr(sandbox.config, "service_account_needs_company_header", False)
    book = str(tmp_path / "book.xlsx")
    assert run(capsys, "new-workbook", book, "--report", "RFIs", "--company", "8001", "--project", "91001")[0] == 0
    assert run(capsys, "cache", "clear")[0] == 0
    code, out, err = run(capsys, "refresh", book, "--plan")
    assert code == 0, err
    assert "Unknown" not in out, out
    assert "list was never fetched on this computer" in out and "will make at least" in out, out
