#!/usr/bin/env python3
"""Render the Start sheet of procore.xlsm with headless LibreOffice into docs/workbook.png.

    python workbook/screenshot.py [--xlsm procore.xlsm] [-o docs/workbook.png]

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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xlsm", default=str(ROOT / "procore.xlsm"))
    ap.add_argument("-o", "--out", default=str(ROOT / "docs" / "workbook.png"))
    args = ap.parse_args(argv)
    print(screenshot(Path(args.xlsm), Path(args.out)))


if __name__ == "__main__":
    main()
