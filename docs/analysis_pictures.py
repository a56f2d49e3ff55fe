#!/usr/bin/env python3
"""Render every analysis sheet of the demo workbook with headless LibreOffice into docs/analysis_*.png.

    make demo && .venv/bin/python docs/analysis_pictures.py demo.xlsx

One soffice run (``tests/lo_calc.py``, with recalculation forced) exports each analysis sheet's
range to a one-page PDF; ``pdftoppm`` (apt: poppler-utils) makes the PNG. Needs ``soffice`` and
the system Python with ``uno`` (apt: libreoffice-calc python3-uno).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNO_PYTHON = "/usr/bin/python3"


def picture_name(sheet: str) -> str:
    return "analysis_" + re.sub(r"[^a-z0-9]+", "_", sheet.lower()).strip("_") + ".png"


def shown_range(analysis) -> str:
    """The cells the sheet shows (figures, breakdowns, charts; not the hidden helper columns)."""
    from openpyxl.utils import get_column_letter

    from procore_xl.excel.analysis_layout import HELPER_FIRST_COL, TableInfo, lay_out

    layout = lay_out(analysis, analysis.sheet, {s.name: TableInfo(s.report, "t", s.fields) for s in analysis.sources})
    cells = [k for k in layout.cells if k[1] < HELPER_FIRST_COL and k[0] > 3] + \
        [(c.anchor[2], c.anchor[3]) for c in layout.charts]
    return f"A1:{get_column_letter(max(c for _, c in cells))}{max(r for r, _ in cells) + 1}"


def render(book: Path, out: Path, dpi: int = 80) -> list[Path]:
    from procore_xl.analyses import ANALYSES

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as td:
        pdfs = [(a.sheet, shown_range(a), str(Path(td) / f"{i}.pdf")) for i, a in enumerate(ANALYSES.values())]
        spec = Path(td) / "spec.json"
        spec.write_text(json.dumps([{"path": str(book.resolve()), "sheets": {}, "pdf": pdfs}]))
        subprocess.run([UNO_PYTHON, str(ROOT / "tests" / "lo_calc.py"), str(spec)], check=True,
                       capture_output=True, timeout=600)
        made = []
        for sheet, _, pdf in pdfs:
            png = out / picture_name(sheet)
            subprocess.run(["pdftoppm", "-png", "-singlefile", "-r", str(dpi), pdf, str(png.with_suffix(""))],
                           check=True, timeout=60)
            made.append(png)
    return made


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("book", nargs="?", default=str(ROOT / "demo.xlsx"))
    ap.add_argument("-o", "--out", default=str(ROOT / "docs"))
    args = ap.parse_args(argv)
    for png in render(Path(args.book), Path(args.out)):
        print(png)


if __name__ == "__main__":
    main()
