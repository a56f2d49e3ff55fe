"""A file given through a symbolic link (a "current" workbook linked to this month's, a shared
folder linked into the home folder) is the file the link names: refresh and pull --force replace
that file and leave the link a link. Renaming over the link instead left the person's workbook
unrefreshed and turned the link into a copy. Real files, the command line in-process, the
sandbox over loopback."""
from __future__ import annotations

import os
import sys

import pytest

from cli_run import point_at, run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need a privilege on Windows")


def _linked_workbook(sandbox, monkeypatch, capsys, tmp_path):
    """A one-report workbook in a folder of its own, and a link to it (``current.xlsx``) beside."""
    point_at(sandbox, monkeypatch)
    real = tmp_path / "books" / "2026-12.xlsx"
    real.parent.mkdir()
    code, _, err = run(capsys, "new-workbook", str(real), "--report", "RFIs", "--company", "8001", "--project", "91001")
    assert code == 0, err
    link = tmp_path / "current.xlsx"
    link.symlink_to(os.path.relpath(real, tmp_path))
    return real, link


def test_refresh_through_a_link_refreshes_the_workbook_it_names(sandbox, monkeypatch, capsys, tmp_path):
    real, link = _linked_workbook(sandbox, monkeypatch, capsys, tmp_path)
    before = real.read_bytes()
    code, _, err = run(capsys, "refresh", str(link), "--quiet")
    assert code == 0, err
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_bytes() != before                       # the workbook itself was refreshed
    assert sorted(p.name for p in real.parent.iterdir()) == ["2026-12.xlsx"]     # no temporary file left


def test_pull_force_through_a_link_replaces_the_file_it_names(sandbox, monkeypatch, capsys, tmp_path):
    point_at(sandbox, monkeypatch)
    real = tmp_path / "rfis-data.csv"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "rfis.csv"
    link.symlink_to(real.name)
    argv = ["pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(link)]
    code, _, err = run(capsys, *argv)
    assert code == 2 and "rfis.csv exists" in err                   # still refused without --force
    code, _, err = run(capsys, *argv, "--force")
    assert code == 0, err
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8").startswith("id,number,subject")


@pytest.mark.parametrize("lock_beside", ["link", "file"])
def test_a_workbook_open_through_either_name_is_not_refreshed(sandbox, monkeypatch, capsys, tmp_path, lock_beside):
    """Excel or LibreOffice may have opened the workbook by the link's name or by the file's: a lock
    file beside either says it is open, and the refresh leaves it as it was."""
    real, link = _linked_workbook(sandbox, monkeypatch, capsys, tmp_path)
    opened = link if lock_beside == "link" else real
    (opened.parent / f".~lock.{opened.name}#").write_text("someone,host,2026-12-08\n", encoding="utf-8")
    before = real.read_bytes()
    code, _, err = run(capsys, "refresh", str(link), "--quiet")
    assert code != 0 and "is open in LibreOffice" in err, err
    assert real.read_bytes() == before and link.is_symlink()
