#!/usr/bin/env python3
"""Render the first visible sheet of a workbook with headless LibreOffice into a PNG.

    python workbook/screenshot.py [--xlsm procore.xlsm] [-o docs/workbook.png]   # the Start sheet
    python workbook/screenshot.py --report-sheet -o docs/report_sheet.png       # an RFIs report sheet
                                                                                  # pulled from the sandbox

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


def report_sheet_workbook(folder: Path) -> Path:
    """An RFIs report sheet pulled from the built-in sandbox (landscape, for the picture)."""
    import openpyxl

    from procore_xl.demo import sandbox_settings
    from procore_xl.excel.refresh import new_workbook
    from procore_xl.sandbox import SandboxConfig, SandboxServer
    from procore_xl.service import ProcoreService
    from procore_xl.tokens import MemoryTokenStore

    path = folder / "rfis.xlsx"
    with SandboxServer(SandboxConfig(port=0)) as sandbox, \
            ProcoreService(sandbox_settings(sandbox), MemoryTokenStore()) as service:
        new_workbook(path, [("RFIs", {"company": "Harbor Tower Builders", "project": "Harbor Tower"})],
                     service, progress=False)
    book = openpyxl.load_workbook(path)
    book["RFIs"].page_setup.orientation = "landscape"
    book.save(path)
    return path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xlsm", default=str(ROOT / "procore.xlsm"))
    ap.add_argument("--report-sheet", action="store_true", help="render an RFIs report sheet instead")
    ap.add_argument("-o", "--out", default=str(ROOT / "docs" / "workbook.png"))
    args = ap.parse_args(argv)
    if args.report_sheet:
        with tempfile.TemporaryDirectory() as td:
            print(screenshot(report_sheet_workbook(Path(td)), Path(args.out)))
        return
    print(screenshot(Path(args.xlsm), Path(args.out)))


if __name__ == "__main__":
    main()
