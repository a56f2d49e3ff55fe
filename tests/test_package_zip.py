"""The zip container: ZIP64 only for an entry that needs it, and then in local header and central
directory alike; `_xHHHH_` text kept literal; relationships and content types edited by splicing.
(The readers' view of every file kind is tests/test_readers.py; these are the cases that need a
file of a particular shape.)"""
from __future__ import annotations

import zipfile

import openpyxl
import pandas as pd

from procore_xl.excel.ooxml.workbook import PackageWorkbook
from procore_xl.excel.refresh import write_results_workbook
from procore_xl.runner import ReportResult
from test_readers import zip_entries


def _result(frame: pd.DataFrame) -> ReportResult:
    return ReportResult(report="RFIs", params={}, table=frame, requests=1, seconds=0.1, warnings=[])


def test_an_entry_too_large_for_32_bits_gets_zip64_in_both_headers_and_only_it(tmp_path, monkeypatch):
    """4 GiB of sheet XML takes minutes to write: the limit zipfile checks is lowered to 200 KiB
    instead, so the report sheet (about 1 MiB) is "too large" and every other part is not."""
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 200_000)
    frame = pd.DataFrame({"id": range(20_000), "subject": [f"Subject {i}" for i in range(20_000)]})
    write_results_workbook(tmp_path / "big.xlsx", [({}, _result(frame))])
    entries = {e["name"]: e for e in zip_entries(tmp_path / "big.xlsx")}
    sheet = next(n for n in entries if n.startswith("xl/worksheets/") and zipfile.ZipFile(
        tmp_path / "big.xlsx").getinfo(n).file_size > 200_000)
    big = entries[sheet]
    assert 0x0001 in big["local"][-1] and 0x0001 in big["central"][-1]
    assert big["local"][0] == big["central"][0] == 45                       # version 4.5: ZIP64
    small = [e for n, e in entries.items() if n != sheet]
    assert small and all(0x0001 not in e["local"][-1] and e["local"][0] == 20 for e in small)
    monkeypatch.undo()
    ws = openpyxl.load_workbook(tmp_path / "big.xlsx")["RFIs"]
    assert "Subject 19999" in [c.value for c in ws[ws.max_row]]


def test_text_that_excel_would_decode_is_written_escaped_and_read_back(tmp_path):
    texts = ["_x0041_", "_x0041_x0042_", "a_x005F_b", "_x00e9_ plain", "no_x_here"]
    frame = pd.DataFrame({"subject": texts, "_x0043_ column": texts})
    write_results_workbook(tmp_path / "x.xlsx", [({}, _result(frame))])
    with zipfile.ZipFile(tmp_path / "x.xlsx") as z:
        sheet = next(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")
                     and b"no_x_here" in z.read(n))
        table = next(z.read(n).decode() for n in z.namelist() if n.startswith("xl/tables/"))
    assert "<t>_x005F_x0041_x005F_x0042_</t>" in sheet and "<t>_x005F_x0041_</t>" in sheet
    assert 'name="_x005F_x0043_ column"' in table
    wb = PackageWorkbook(tmp_path / "x.xlsx")          # what a refresh reads back: as Excel shows it
    top = wb.table_rect("RFIs", wb.table_names()[0])[0]
    assert [wb.read("RFIs", top + 1 + i, 1, 1, 1)[0][0] for i in range(len(texts))] == texts
    assert [n.lower() for n, _ in wb.table_columns("RFIs", wb.table_names()[0])] == ["subject", "_x0043_ column"]
    wb.close()


def test_text_the_openpyxl_writer_stores_is_escaped_as_excel_would(tmp_path):
    """A new workbook's skeleton (parameter cells, dropdown lists) comes from openpyxl, which
    stores text raw: ``_x0041_`` there would show as "A" in Excel. The writer escapes it; the
    file holds ``_x005F_x0041_``; python-calamine, which decodes as Excel does, and the writer
    itself read the text as it was written."""
    from python_calamine import CalamineWorkbook

    from procore_xl.excel.openpyxl_writer import OpenpyxlWorkbook

    project = "Tower _x0041_ (91001)"
    book = openpyxl.Workbook()
    wb = OpenpyxlWorkbook(book)
    wb.write(book.active.title, 1, 1, [[project, "plain"]])
    assert wb.read(book.active.title, 1, 1, 1, 2) == [[project, "plain"]]
    book.save(tmp_path / "p.xlsx")
    with zipfile.ZipFile(tmp_path / "p.xlsx") as z:
        stored = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/")).decode()
    assert "Tower _x005F_x0041_ (91001)" in stored and "Tower _x0041_" not in stored
    rows = CalamineWorkbook.from_path(str(tmp_path / "p.xlsx")).get_sheet_by_name(book.active.title).to_python()
    assert rows[0][:2] == [project, "plain"]
    package = PackageWorkbook(tmp_path / "p.xlsx")          # what a refresh reads back
    assert package.read(book.active.title, 1, 1, 1, 1) == [[project]]
    package.close()


def test_relationships_and_content_types_are_spliced_keeping_every_other_byte(tmp_path):
    """ooxml.relationships, the one way rels and content types are edited: a refresh that changes a
    sheet drops the calculation chain (part, relationship, override: Excel rebuilds it) and adds a
    table's relationship and override; what it does not change keeps its bytes and order."""
    book = openpyxl.Workbook()
    book.active.title = "S"
    book.active["A1"] = 1
    book.save(tmp_path / "plain.xlsx")
    chain = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/calcChain"
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as src, zipfile.ZipFile(tmp_path / "chained.xlsx", "w") as out:
        for info in src.infolist():
            data = src.read(info).decode("utf-8") if info.filename.endswith((".rels", ".xml")) else src.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace("</Relationships>", f'<Relationship Id="rIdChain" Type="{chain}" '
                                                        f'Target="calcChain.xml"/></Relationships>')
            elif info.filename == "[Content_Types].xml":
                data = data.replace("</Types>", '<Override PartName="/xl/calcChain.xml" ContentType="application/'
                                                'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>')
            out.writestr(info, data)
        out.writestr("xl/calcChain.xml", '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                                         'main"><c r="A1" i="1"/></calcChain>')
    with zipfile.ZipFile(tmp_path / "chained.xlsx") as z:
        before = {n: z.read(n).decode("utf-8") for n in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml")}
    wb = PackageWorkbook(tmp_path / "chained.xlsx")
    wb.write("S", 3, 1, [["a", "b"], [1, 2]])
    wb.set_table("S", "Things", (3, 1, 4, 2))
    wb.save(tmp_path / "out.xlsx")
    with zipfile.ZipFile(tmp_path / "out.xlsx") as z:
        names = z.namelist()
        rels, types = z.read("xl/_rels/workbook.xml.rels").decode("utf-8"), z.read("[Content_Types].xml").decode("utf-8")
        sheet_rels = z.read("xl/worksheets/_rels/sheet1.xml.rels").decode("utf-8")
    assert "xl/calcChain.xml" not in names and "calcChain" not in rels and "calcChain" not in types
    assert rels == before["xl/_rels/workbook.xml.rels"].replace(                # targets relative, as Excel has them
        f'<Relationship Id="rIdChain" Type="{chain}" Target="calcChain.xml"/>', "").replace('Target="/xl/', 'Target="')
    assert types == before["[Content_Types].xml"].replace('<Override PartName="/xl/calcChain.xml" ContentType='
                                                          '"application/vnd.openxmlformats-officedocument.'
                                                          'spreadsheetml.calcChain+xml"/>', "").replace(
        "</Types>", '<Override PartName="/xl/tables/table1.xml" ContentType="application/vnd.openxmlformats-'
                    'officedocument.spreadsheetml.table+xml"/></Types>')
    assert 'Id="rIdProcore1"' in sheet_rels and 'Target="../tables/table1.xml"' in sheet_rels
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx")["S"]
    assert list(ws.tables) == ["Things"] and ws["A4"].value == 1 and ws["A1"].value == 1
