"""Every kind of file procore-xl writes, opened by readers we did not write.

The files: ``pull --out x.xlsx``, ``new-workbook`` from scratch and from the procore.xlsm
template, a workbook refreshed twice (made first in the form the code before issue 19 wrote:
absolute relationship targets, ZIP64 local headers; the refresh must read it and normalise it)
and the demo workbook. The readers: openpyxl, python-calamine, LibreOffice headless (UNO,
tests/lo_read.py), SheetJS and exceljs (Node.js, tests/js/read.js; npm packages from
tests/js/package-lock.json, installed by ``.ci/run`` with ``npm ci``), and the openxml-audit
schema validator. Each reader is first shown to fail on a deliberately broken file, so its
"ok" means something. Then: the report table each reader sees has the CSV's row count and
matches the CSV of the same data cell for cell (the demo, from its own sandbox: every reader
sees the same cells as openpyxl and the row count its sheet states), and the zip container is
as Excel writes it (ZIP64 nowhere, local headers and central directory agreeing, relative
relationship targets).

The readers are batched (one node process and one LibreOffice for all files): the module takes
about a minute. Where a reader is missing the tests skip, except in CI (``CI=true`` or
``PROCORE_XL_EXPECT_READERS=1``, set by .ci/run), where they fail.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import math
import os
import posixpath
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.escape import unescape as openpyxl_unescape

from procore_xl.catalog import REPORTS
from procore_xl.cli import main
from procore_xl.demo import run_demo
from procore_xl.excel.openpyxl_writer import OpenpyxlWorkbook
from procore_xl.excel.registry import read_registry
from procore_xl.parameters import SPECS

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "tests" / "js"
UNO_PYTHON = "/usr/bin/python3"
EXPECTED = (os.environ.get("CI", "").lower() == "true" or os.environ.get("PROCORE_XL_EXPECT_READERS") == "1"
            or os.environ.get("PROCORE_XL_EXPECT_LIBREOFFICE") == "1")
READERS = ["openpyxl", "calamine", "libreoffice", "sheetjs", "exceljs"]
KINDS = ["pull", "new", "template", "refreshed"]          # compared with the CSV; the demo separately
# Text Excel would change if written raw (_x0041_ is "A" to Excel), XML's own specials, spaces
# at both ends and a lone surrogate (U+FFFD in CSV and xlsx alike).
TRICKY = " Literal _x0041_, _x005F_ and _x0041_x0042_ & <b>\"q\"</b> lone \ud800 "
ARGS = ["--report", "RFIs", "--company", "8001", "--project", "91001"]
PULL = ["pull", "RFIs", "--company", "8001", "--project", "91001"]
# The CSV with what a sheet shows: once sheets show labels and a default column set (issue 19,
# items 3-4: the "headers"/"columns" parameters), the CSV is asked for the same.
AS_SHEETS = ["--headers", "labels", "--columns", "default"] if {"headers", "columns"} <= set(SPECS) else []


def missing_readers() -> list[str]:
    out = []
    if shutil.which("node") is None:
        out.append("node is not on PATH (apt-get install nodejs npm)")
    for package in ("xlsx", "exceljs"):
        if not (JS / "node_modules" / package / "package.json").exists():
            out.append(f"npm package {package} is not installed (cd tests/js && npm ci)")
    if shutil.which("soffice") is None:
        out.append("soffice is not on PATH (apt-get install libreoffice-calc)")
    elif subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True).returncode != 0:
        out.append(f"{UNO_PYTHON} cannot import uno (apt-get install python3-uno)")
    for module in ("python_calamine", "openxml_audit"):
        try:
            __import__(module)
        except ImportError:
            out.append(f"Python package {module} is missing (pip install -e '.[test]')")
    return out


# -- making the files ------------------------------------------------------------------------------
def old_form(source: Path, target: Path, *, absolute: bool = True, zip64: bool = True) -> Path:
    """``source`` re-zipped the way the code before issue 19 wrote packages: relationship targets
    absolute, every entry streamed with ``force_zip64`` (a ZIP64 extra in the local header that
    the central directory lacks)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if absolute and info.filename.endswith(".rels"):
                folder = posixpath.dirname(posixpath.dirname(info.filename))
                data = re.sub(rb'Target="(?!/)([^"]+)"(?![^>]*External)', lambda m: b'Target="/' + (
                    posixpath.normpath(posixpath.join(folder, m.group(1).decode())).encode()) + b'"', data)
            new = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            new.compress_type = zipfile.ZIP_DEFLATED
            with out.open(new, "w", force_zip64=zip64) as dst:
                dst.write(data)
    return target


@pytest.fixture(scope="module")
def files(tmp_path_factory, make_sandbox):
    missing = missing_readers()
    if missing and EXPECTED:
        pytest.fail("independent readers are expected here (CI) but: " + "; ".join(missing), pytrace=False)
    if missing:
        pytest.skip("; ".join(missing))
    tmp = tmp_path_factory.mktemp("readers")
    out = {}
    with pytest.MonkeyPatch.context() as mp, make_sandbox.serving() as sandbox:
        for name in [n for n in os.environ if n.startswith("PROCORE_")]:
            mp.delenv(name)
        mp.setenv("PROCORE_XL_HOME", str(tmp / "home"))
        for name, value in (("PROCORE_LOGIN_URL", sandbox.url), ("PROCORE_API_URL", sandbox.url),
                            ("PROCORE_CLIENT_ID", sandbox.client_id),
                            ("PROCORE_CLIENT_SECRET", sandbox.client_secret)):
            mp.setenv(name, value)
        rfi = sandbox.world.records("rfis", sandbox.world.project(91001))[0]
        sandbox.world.edit_record("rfis", rfi["id"], subject=TRICKY)
        assert main([*PULL, "--out", str(tmp / "pull.csv"), "--raw-csv", *AS_SHEETS]) == 0
        assert main([*PULL, "--out", str(tmp / "pull.xlsx")]) == 0
        assert main(["new-workbook", str(tmp / "new.xlsx"), *ARGS]) == 0
        assert main(["new-workbook", str(tmp / "template.xlsm"), "--template", str(ROOT / "procore.xlsm"), *ARGS]) == 0
        old_form(tmp / "new.xlsx", tmp / "refreshed.xlsx")
        for _ in range(2):
            assert main(["refresh", str(tmp / "refreshed.xlsx"), "-q"]) == 0
        out = {kind: tmp / f"{kind}.{'xlsm' if kind == 'template' else 'xlsx'}" for kind in KINDS}
        out["csv"] = tmp / "pull.csv"
    assert run_demo(str(tmp / "demo.xlsx"), rfis_per_project=2, stream=io.StringIO(), rate_limit_spike=1000) == 0
    out["demo"] = tmp / "demo.xlsx"
    # deliberately broken copies, one per way a reader can fail
    good = out["pull"].read_bytes()
    (tmp / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    out["truncated"] = tmp / "truncated.xlsx"
    out["zip64_local"] = old_form(out["pull"], tmp / "zip64_local.xlsx", absolute=False)
    out["absolute"] = old_form(out["pull"], tmp / "absolute.xlsx", zip64=False)
    with zipfile.ZipFile(out["pull"]) as src, zipfile.ZipFile(tmp / "invalid.xlsx", "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"<sheetData>", b"<sheetData><notAnElement/>", 1)
            z.writestr(info, data)
    out["invalid"] = tmp / "invalid.xlsx"
    return out


# -- reading them ----------------------------------------------------------------------------------
def read_openpyxl(path: Path) -> dict:
    try:
        book = openpyxl.load_workbook(path, read_only=False, data_only=True)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    # openpyxl hands back an inline string as stored; Excel (and the other readers) read
    # _xHHHH_ in it as U+HHHH: decoded here with openpyxl's own helper, as Excel would
    return {"sheets": {ws.title: [[openpyxl_unescape(v) if isinstance(v, str) else v for v in row]
                                  for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}}


def read_calamine(path: Path) -> dict:
    from python_calamine import CalamineWorkbook
    try:
        book = CalamineWorkbook.from_path(str(path))
        return {"sheets": {n: book.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in book.sheet_names}}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


@pytest.fixture(scope="module")
def seen(files):
    """reader -> file kind -> {"sheets": {name: rows}} or {"error": text}."""
    kinds = [k for k in files if k != "csv"]
    paths = [str(files[k]) for k in kinds]
    js = subprocess.run(["node", str(JS / "read.js"), *paths], capture_output=True, text=True, timeout=300,
                        cwd=JS)
    assert js.returncode == 0, js.stderr
    js_out = json.loads(js.stdout)
    lo = subprocess.run([UNO_PYTHON, str(ROOT / "tests" / "lo_read.py"), *paths], capture_output=True, text=True,
                        timeout=300)
    assert lo.returncode == 0, lo.stderr
    lo_out = json.loads(lo.stdout)
    return {
        "openpyxl": {k: read_openpyxl(files[k]) for k in kinds},
        "calamine": {k: read_calamine(files[k]) for k in kinds},
        "libreoffice": {k: lo_out[str(files[k])] for k in kinds},
        "sheetjs": {k: js_out[str(files[k])]["sheetjs"] for k in kinds},
        "exceljs": {k: excel_decoded(js_out[str(files[k])]["exceljs"]) for k in kinds},
    }


def excel_decoded(read: dict) -> dict:
    """exceljs, like openpyxl, hands back a cell's text as stored: _xHHHH_ decoded as Excel would."""
    if "sheets" in read:
        read["sheets"] = {n: [[openpyxl_unescape(v) if isinstance(v, str) else v for v in row] for row in rows]
                          for n, rows in read["sheets"].items()}
    return read


# -- comparing -------------------------------------------------------------------------------------
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?")
_EPOCH = dt.datetime(1899, 12, 30)


def serial(v) -> float:
    if isinstance(v, dt.datetime):
        return (v - _EPOCH).total_seconds() / 86400
    if isinstance(v, dt.date):
        return float((v - _EPOCH.date()).days)
    if isinstance(v, dt.time):
        return (v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) / 86400
    return float(v)


def same(csv_text: str, v) -> bool:
    """Whether a reader's value ``v`` is the CSV's ``csv_text`` (CSV: dates ISO, booleans
    True/False, numbers as Python writes them)."""
    if v is None or v == "":
        return csv_text == ""
    if isinstance(v, str):
        return v == csv_text
    if isinstance(v, bool):
        return csv_text == str(v)
    if _DATE.fullmatch(csv_text):
        return abs(serial(v) - serial(dt.datetime.fromisoformat(csv_text))) < 1e-5     # < 1 s
    if csv_text in ("True", "False"):                 # LibreOffice: a boolean cell is 1 or 0
        return float(v) == (csv_text == "True")
    try:
        return math.isclose(float(csv_text), serial(v), rel_tol=1e-12, abs_tol=1e-9)
    except ValueError:
        return False


def canon(v) -> str | float:
    """A value as every reader should agree on it (dates as serial numbers, booleans as 1/0)."""
    if v is None or v == "":
        return ""
    if isinstance(v, str):
        return v
    return serial(v)


def disagreements(want: list[list], got: list[list]) -> list[tuple]:
    """Cells where two readers' :func:`canon` values differ (numbers: by more than 0.01 s of a
    date's serial number: exceljs rounds times to the millisecond)."""
    out = []
    for i, (a, b) in enumerate(zip(want, got)):
        for j, (x, y) in enumerate(zip(a, b)):
            if isinstance(x, float) and isinstance(y, float):
                if not math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-7):
                    out.append((i, j, x, y))
            elif x != y:
                out.append((i, j, x, y))
    if len(want) != len(got) or any(len(a) != len(b) for a, b in zip(want, got)):
        out.append(("shape", len(want), len(got)))
    return out


@functools.lru_cache(maxsize=None)
def table_refs(path: Path) -> dict[str, tuple[int, int, int, int]]:
    """sheet -> (first row, first column, last row, last column) of its report table (1-based)."""
    book = openpyxl.load_workbook(path)
    out = {}
    for ws in book.worksheets:
        for table in ws.tables.values():
            a, _, b = table.ref.partition(":")
            (c1, r1), (c2, r2) = (openpyxl.utils.cell.coordinate_from_string(x) for x in (a, b))
            out[ws.title] = (r1, openpyxl.utils.column_index_from_string(c1), r2,
                             openpyxl.utils.column_index_from_string(c2))
    return out


def region(rows: list[list], ref: tuple[int, int, int, int]) -> list[list]:
    r1, c1, r2, c2 = ref
    out = []
    for r in range(r1 - 1, r2):
        row = rows[r] if r < len(rows) else []
        out.append([row[c] if c < len(row) else None for c in range(c1 - 1, c2)])
    return out


# -- the readers fail on broken files first ----------------------------------------------------------
BROKEN = {"openpyxl": ["truncated"], "calamine": ["truncated"], "libreoffice": ["truncated"],
          "sheetjs": ["truncated", "zip64_local"], "exceljs": ["truncated", "absolute"]}


@pytest.mark.parametrize("reader", READERS)
def test_each_reader_fails_on_a_broken_file(seen, reader):
    for kind in BROKEN[reader]:
        assert "error" in seen[reader][kind], f"{reader} read the broken file {kind}"
    assert "error" not in seen[reader]["pull"], seen[reader]["pull"].get("error")


def audit(paths: list[Path], folder: Path) -> dict[str, list[dict]]:
    """openxml-audit's errors (warnings left out) per file name: one run over a folder of copies."""
    folder.mkdir()
    for path in paths:
        shutil.copyfile(path, folder / path.name)
    run = subprocess.run([str(Path(sys.executable).parent / "openxml-audit"), "-o", "json", "-m", "0", "-r",
                          str(folder)], capture_output=True, text=True, timeout=600)
    report = json.loads(run.stdout)
    assert sorted(Path(r["file"]).name for r in report) == sorted(p.name for p in paths), run.stderr
    return {Path(r["file"]).name: [e for e in r["errors"] if e["severity"] != "warning"] for r in report}


# The schema declares a font's children (b, i, sz, color, name...) as a repeated choice: any
# order is valid, but openxml-audit 0.8 checks them as a fixed sequence and flags openpyxl's
# order in styles.xml. Only that is forgiven: that exact message on a font of styles.xml.
_FONT_CHILD = re.compile(r"Unexpected element '(b|i|strike|condense|extend|outline|shadow|u|vertAlign|sz|color|"
                         r"name|family|charset|scheme)' found")


def real_errors(errors: list[dict]) -> list[dict]:
    return [e for e in errors if not (e["part_uri"] == "/xl/styles.xml" and e["type"] == "schema"
                                      and re.fullmatch(r"/styleSheet\[1\]/fonts\[1\]/font\[\d+\]", e["path"])
                                      and _FONT_CHILD.fullmatch(e["description"]))]


def test_openxml_audit_finds_no_error_in_any_file(files, tmp_path):
    found = audit([files[k] for k in [*KINDS, "demo", "invalid"]], tmp_path / "audit")
    assert real_errors(found.pop("invalid.xlsx")), "openxml-audit found nothing in a file with a bad element"
    assert {name: real_errors(errors) for name, errors in found.items()} == {name: [] for name in found}


# -- every reader, every file: the CSV's rows, cell for cell ------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reader", READERS)
def test_every_reader_sees_the_csv_in_every_file(files, seen, reader, kind):
    with open(files["csv"], newline="", encoding="utf-8") as fh:
        expected = list(csv.reader(fh))
    got = seen[reader][kind]
    assert "error" not in got, got.get("error")
    ref = table_refs(files[kind])["RFIs"]
    table = region(got["sheets"]["RFIs"], ref)
    assert len(table) - 1 == len(expected) - 1 == 200
    assert [canon(v) for v in table[0]] == expected[0]
    wrong = [(i, j, expected[i][j], table[i][j]) for i in range(1, len(expected))
             for j in range(len(expected[0])) if not same(expected[i][j], table[i][j])]
    assert wrong == [], f"{len(wrong)} cells differ, first: {wrong[:5]}"
    subject = next(j for j, name in enumerate(expected[0]) if name.lower() == "subject")
    subjects = [row[subject] for row in table[1:]]
    assert TRICKY.replace("\ud800", "\ufffd") in subjects


def test_every_reader_sees_the_same_demo_workbook(files, seen):
    refs = table_refs(files["demo"])
    entries = read_registry(OpenpyxlWorkbook(openpyxl.load_workbook(files["demo"])))   # the report sheets
    assert {e.report for e in entries} == set(REPORTS)       # (with analyses, a report may have two sheets)
    base = seen["openpyxl"]["demo"]["sheets"]
    for sheet, ref in ((e.sheet, refs[e.sheet]) for e in entries):
        rows_label = [r for r in base[sheet][: ref[0]] if r and r[0] == "Rows"]
        stated = rows_label[0][1]
        assert ref[2] - ref[0] == max(stated, 1), sheet
        want = [[canon(v) for v in row] for row in region(base[sheet], ref)]
        for reader in READERS[1:]:
            got = seen[reader]["demo"]
            assert "error" not in got, (reader, got.get("error"))
            wrong = disagreements(want, [[canon(v) for v in row] for row in region(got["sheets"][sheet], ref)])
            assert wrong == [], (reader, sheet, wrong[:5])


# -- the zip container as Excel writes it ------------------------------------------------------------
def zip_entries(path: Path) -> list[dict]:
    """Each entry's central-directory record and local header, read from the bytes (not zipfile)."""
    data = path.read_bytes()
    end = data.rindex(b"PK\x05\x06")
    count, size, offset = struct.unpack("<HII", data[end + 10: end + 20])
    if offset == 0xFFFFFFFF:                                    # the ZIP64 end record holds them
        record = struct.unpack("<Q", data[end - 12: end - 4])[0]
        count, offset = struct.unpack("<Q", data[record + 32: record + 40])[0], \
            struct.unpack("<Q", data[record + 48: record + 56])[0]
    entries, pos = [], offset
    for _ in range(count):
        (sig, _, need, flags, method, _, _, crc, csize, usize, nlen, xlen, clen, _, _, _,
         local) = struct.unpack("<IHHHHHHIIIHHHHHII", data[pos: pos + 46])
        assert sig == 0x02014B50
        name = data[pos + 46: pos + 46 + nlen].decode()
        cextra = data[pos + 46 + nlen: pos + 46 + nlen + xlen]
        pos += 46 + nlen + xlen + clen
        if local == 0xFFFFFFFF:                                 # in the ZIP64 extra, after any sizes
            big = extra_field(cextra, 0x0001)
            skip = 8 * ((usize == 0xFFFFFFFF) + (csize == 0xFFFFFFFF))
            local = struct.unpack("<Q", big[skip: skip + 8])[0]
        (lsig, lneed, lflags, lmethod, _, _, lcrc, lcsize, lusize, lnlen, lxlen) = struct.unpack(
            "<IHHHHHIIIHH", data[local: local + 30])
        assert lsig == 0x04034B50
        lextra = data[local + 30 + lnlen: local + 30 + lnlen + lxlen]
        entries.append({"name": name, "central": (need, flags, method, crc, csize, usize, extra_ids(cextra)),
                        "local": (lneed, lflags, lmethod, lcrc, lcsize, lusize, extra_ids(lextra))})
    return entries


def extra_field(extra: bytes, wanted: int) -> bytes:
    i = 0
    while i + 4 <= len(extra):
        kind, size = struct.unpack("<HH", extra[i: i + 4])
        if kind == wanted:
            return extra[i + 4: i + 4 + size]
        i += 4 + size
    return b""


def extra_ids(extra: bytes) -> list[int]:
    ids, i = [], 0
    while i + 4 <= len(extra):
        kind, size = struct.unpack("<HH", extra[i: i + 4])
        ids.append(kind)
        i += 4 + size
    return ids


@pytest.mark.parametrize("kind", [*KINDS, "demo"])
def test_zip_headers_agree_and_need_no_zip64(files, kind):
    entries = zip_entries(files[kind])
    assert entries
    for e in entries:
        assert e["local"] == e["central"], e["name"]
        assert 0x0001 not in e["central"][-1] and e["central"][0] <= 20, e["name"]    # no ZIP64, version 2.0


def test_the_old_form_is_what_this_suite_rejects(files):
    """The check above fails on the form the code before issue 19 wrote."""
    entries = zip_entries(files["zip64_local"])
    assert any(e["local"] != e["central"] for e in entries)


@pytest.mark.parametrize("kind", [*KINDS, "demo"])
def test_relationship_targets_are_relative(files, kind):
    with zipfile.ZipFile(files[kind]) as z:
        rels = {n: z.read(n).decode() for n in z.namelist() if n.endswith(".rels")}
    assert rels
    for name, xml in rels.items():
        assert 'Target="/' not in xml, name
    assert 'Target="xl/workbook.xml"' in rels["_rels/.rels"]
    assert 'Target="worksheets/sheet1.xml"' in rels["xl/_rels/workbook.xml.rels"]
    tables = [xml for n, xml in rels.items() if n.startswith("xl/worksheets/_rels/")]
    assert any('Target="../tables/table1.xml"' in xml for xml in tables)


def test_the_committed_template_is_excel_exact():
    entries = zip_entries(ROOT / "procore.xlsm")
    assert all(e["local"] == e["central"] and 0x0001 not in e["central"][-1] for e in entries)
    with zipfile.ZipFile(ROOT / "procore.xlsm") as z:
        assert not [n for n in z.namelist() if n.endswith(".rels") and b'Target="/' in z.read(n)]
