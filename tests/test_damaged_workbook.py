"""`procore-xl refresh` of a damaged workbook (a copy or a download that stopped half-way, a part
missing): one line saying the workbook is damaged and that it was not changed - never an
"internal error", never a rewritten file that is still broken. Real files, the command line
in-process, the sandbox over loopback."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from cli_run import one_error_line, point_at, run


@pytest.fixture(scope="module")
def book(tmp_path_factory, sandbox_server):
    """One report workbook written by `new-workbook` (parts: workbook.xml, sheet1..3, a table)."""
    import os
    folder = tmp_path_factory.mktemp("damaged")
    path = folder / "book.xlsx"
    mp = pytest.MonkeyPatch()
    try:
        for name in list(os.environ):
            if name.startswith("PROCORE_"):
                mp.delenv(name)
        mp.setenv("PROCORE_XL_HOME", str(folder / "home"))
        point_at(sandbox_server, mp)
        from procore_xl.cli import main
        assert main(["new-workbook", str(path), "--report", "RFIs", "--company", "8001", "--project", "91001"]) == 0
    finally:
        mp.undo()
    return path


def _copy(book: Path, target: Path, change) -> Path:
    with zipfile.ZipFile(book) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
    return target


def _part(book: Path, title: str) -> str:
    """The part that holds the sheet titled ``title``."""
    from procore_xl.excel.ooxml.workbook import PackageWorkbook
    wb = PackageWorkbook(book)
    try:
        return wb.sheets[title]
    finally:
        wb.close()


def _damages(book: Path):
    report, registry = _part(book, "RFIs"), _part(book, "_procore")
    half = lambda wanted: lambda name, data: data[: len(data) // 2] if name == wanted else data  # noqa: E731
    gone = lambda wanted: lambda name, data: None if name == wanted else data                    # noqa: E731
    return {
        "report sheet cut short": (half(report), f'sheet "RFIs" ({report}) is cut short'),
        "registry sheet missing": (gone(registry), f'sheet "_procore" has no part ({registry})'),
        "registry sheet cut short": (half(registry), "is cut short"),
        "workbook part cut short": (half("xl/workbook.xml"), "xl/workbook.xml is cut short"),
        "content types cut short": (half("[Content_Types].xml"), "[Content_Types].xml is cut short"),
    }


@pytest.mark.parametrize("damage", ["report sheet cut short", "registry sheet missing", "registry sheet cut short",
                                    "workbook part cut short", "content types cut short"])
def test_a_damaged_workbook_is_named_and_left_as_it_was(book, damage, sandbox, monkeypatch, capsys, tmp_path):
    point_at(sandbox, monkeypatch)
    change, words = _damages(book)[damage]
    folder = tmp_path / "books"
    folder.mkdir()
    target = _copy(book, folder / "copy.xlsx", change)
    before = target.read_bytes()
    code, out, err = run(capsys, "refresh", str(target))
    line = one_error_line(err)
    assert code == 2 and not out
    assert f"{target.name} is damaged: " in line and words in line, line
    assert "the file was not changed" in line and "internal error" not in line
    assert target.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["copy.xlsx"]     # no temporary file left


def test_the_workbook_itself_refreshes(book, sandbox, monkeypatch, capsys, tmp_path):
    point_at(sandbox, monkeypatch)
    target = _copy(book, tmp_path / "copy.xlsx", lambda name, data: data)
    code, _, err = run(capsys, "refresh", str(target))
    assert code == 0, err


def test_a_damaged_template_is_named(book, sandbox, monkeypatch, capsys, tmp_path):
    """new-workbook --template with a sheet part cut short: one line, not openpyxl's ParseError."""
    point_at(sandbox, monkeypatch)
    template = _copy(book, tmp_path / "template.xlsx", _damages(book)["report sheet cut short"][0])
    target = tmp_path / "new.xlsx"
    code, out, err = run(capsys, "new-workbook", str(target), "--report", "RFIs", "--company", "8001",
                         "--project", "91001", "--template", str(template))
    line = one_error_line(err)
    assert code == 2 and not out and "template.xlsx is damaged: " in line and "internal error" not in line, line
    assert not target.exists()
