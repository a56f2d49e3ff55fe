#!/usr/bin/env python3
"""Render the first visible sheet of a workbook with headless LibreOffice into a PNG.

    python workbook/screenshot.py [--xlsm procore.xlsm] [-o docs/workbook.png]   # the Start sheet
    python workbook/screenshot.py --report-sheet -o docs/report_sheet.png       # the RFIs sheet of the
                                                                                  # demo workbook
    python workbook/screenshot.py --report-sheet --demo demo.xlsx -o docs/report_sheet.png   # of this one

Needs ``soffice`` (apt: libreoffice-calc) and ``pdftoppm`` (apt: poppler-utils).
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def screenshot(xlsm: Path, png: Path, dpi: int = 100) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as td:
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{td}/profile",
                        "--convert-to", "pdf", "--outdir", td, str(xlsm)],
                       check=True, capture_output=True, timeout=120)
        pdf = Path(td) / (xlsm.stem + ".pdf")
        # first page only (the Start sheet: the only visible sheet), landscape A4/Letter top part
        w, h = int(11 * dpi * 0.92), int(8.5 * dpi * 0.62)
        subprocess.run(["pdftoppm", "-png", "-singlefile", "-f", "1", "-l", "1", "-r", str(dpi),
                        "-x", str(int(0.55 * dpi)), "-y", str(int(0.7 * dpi)), "-W", str(w), "-H", str(h),
                        str(pdf), str(png.with_suffix(""))], check=True, timeout=60)
    return png


def report_sheet_workbook(folder: Path, demo: Path | None = None) -> Path:
    """The RFIs sheet of the demo workbook (``demo``, else a fresh ``procore-xl demo`` run),
    alone in a workbook, landscape, its first columns on the page."""
    import io

    import openpyxl

    from procore_xl.demo import run_demo

    if demo is None:
        demo = folder / "demo.xlsx"
        if run_demo(str(demo), stream=io.StringIO()) != 0:
            raise SystemExit("the demo failed: see its output")
    book = openpyxl.load_workbook(demo)
    for ws in list(book.worksheets):
        if ws.title != "RFIs":
            book.remove(ws)
    ws = book["RFIs"]
    ws.sheet_state = "visible"
    ws.page_setup.orientation = "landscape"
    ws.print_area = "A1:I40"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 1
    path = folder / "rfis.xlsx"
    book.save(path)
    return path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xlsm", default=str(ROOT / "procore.xlsm"))
    ap.add_argument("--report-sheet", action="store_true", help="render the demo workbook's RFIs sheet instead")
    ap.add_argument("--demo", help="with --report-sheet: the demo workbook to render (default: run the demo)")
    ap.add_argument("-o", "--out", default=str(ROOT / "docs" / "workbook.png"))
    args = ap.parse_args(argv)
    if args.report_sheet:
        with tempfile.TemporaryDirectory() as td:
            demo = Path(args.demo) if args.demo else None
            print(screenshot(report_sheet_workbook(Path(td), demo), Path(args.out)))
        return
    print(screenshot(Path(args.xlsm), Path(args.out)))


if __name__ == "__main__":
    main()
