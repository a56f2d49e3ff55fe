"""Rows per second into a report sheet, and peak memory: the streaming writer (what the product
uses) or the openpyxl writer (the reference it replaced), with CSV of the same frame for scale.

    .venv/bin/python benchmarks/write_speed.py [--rows 100000] [--cols 30] [--writer stream|openpyxl]
                                               [--level 1] [--csv] [--tracemalloc]

Builds a frame of mixed types (ints, big ids, floats with gaps, money, text incl. formula-like
text, timestamps, dates, booleans), writes it into a new workbook the way ``procore-xl pull --out
x.xlsx`` does, and prints the time of each step and the peak memory (resident set size from
getrusage; --tracemalloc adds the Python-heap peak, but slows the run). ``--level`` sets the
deflate level of the streamed parts (the product uses ``container.COMPRESS_LEVEL``). Run one
writer per process: the peak RSS is the process's.
"""
from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from procore_xl.excel.ooxml import container
from procore_xl.excel.openpyxl_writer import OpenpyxlWorkbook
from procore_xl.excel.refresh import write_results_workbook
from procore_xl.excel.report_sheet import create_report_sheet, write_result
from procore_xl.excel.plans import table_data
from procore_xl.runner import ReportResult


def mixed_frame(rows: int, cols: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    kinds = ["int", "bigid", "float", "text", "ts", "date", "bool", "formula_text", "amount"]
    data = {}
    for c in range(cols):
        kind = kinds[c % len(kinds)]
        name = f"{kind}_{c}"
        if kind == "int":
            data[name] = rng.integers(0, 10**9, rows)
        elif kind == "bigid":
            data[name] = [str(2**53 + i) for i in range(rows)]
        elif kind == "float":
            v = rng.normal(1000, 300, rows)
            v[::7] = np.nan
            data[name] = v
        elif kind == "text":
            data[name] = [f"Subject line {i} of the record" for i in range(rows)]
        elif kind == "ts":
            data[name] = pd.Timestamp("2024-01-01T08:00:00Z") + pd.to_timedelta(rng.integers(0, 10**7, rows), "s")
        elif kind == "date":
            base = dt.date(2024, 1, 1)
            data[name] = [base + dt.timedelta(days=int(d)) if d % 5 else None for d in rng.integers(0, 400, rows)]
        elif kind == "amount":
            data[name] = np.round(rng.normal(25_000, 9_000, rows), 2)
        elif kind == "bool":
            data[name] = rng.integers(0, 2, rows).astype(bool)
        else:
            data[name] = [f"=not a formula {i}" if i % 3 == 0 else f"-{i}" for i in range(rows)]
    return pd.DataFrame(data)


def peak_rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--cols", type=int, default=30)
    ap.add_argument("--writer", choices=["stream", "openpyxl"], default="stream")
    ap.add_argument("--level", type=int, default=container.COMPRESS_LEVEL, help="deflate level (stream)")
    ap.add_argument("--csv", action="store_true", help="also time CSV of the same frame (pandas to_csv)")
    ap.add_argument("--tracemalloc", action="store_true")
    args = ap.parse_args()
    container.COMPRESS_LEVEL = args.level

    frame = mixed_frame(args.rows, args.cols)
    rss_frame = peak_rss_mb()
    if args.tracemalloc:
        tracemalloc.start()
    t0 = time.perf_counter()
    table_data(frame)                           # conversion alone, for the breakdown
    t_convert = time.perf_counter() - t0
    result = ReportResult(report="RFIs", params={}, table=frame, requests=0, seconds=0.0, warnings=[])
    params = {"company": 8001, "project": 91001, "columns": "all"}   # every column of the frame, not the RFIs default set
    cells = args.rows * args.cols
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.xlsx"
        t1 = time.perf_counter()
        if args.writer == "stream":
            write_results_workbook(path, [(params, result)])
        else:
            book = openpyxl.Workbook()
            wb = OpenpyxlWorkbook(book)
            entry = create_report_sheet(wb, "RFIs", params)
            write_result(wb, entry, result)
            book.save(path)
        total = time.perf_counter() - t1
        size = path.stat().st_size
        if args.csv:
            t2 = time.perf_counter()
            frame.to_csv(Path(tmp) / "bench.csv", index=False)
            t_csv = time.perf_counter() - t2
    heap = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
    print(f"rows x cols          : {args.rows:,} x {args.cols} ({cells:,} cells), writer {args.writer}"
          + (f", deflate level {args.level}" if args.writer == "stream" else ""))
    print(f"convert (values.py)  : {t_convert:6.2f} s")
    print(f"write .xlsx          : {total:6.2f} s  ({args.rows / total:,.0f} rows/s, {cells / total:,.0f} cells/s), "
          f"{size / 2**20:.1f} MiB file")
    if args.csv:
        print(f"CSV (pandas to_csv)  : {t_csv:6.2f} s")
    print(f"peak RSS             : {peak_rss_mb():,.0f} MiB (after building the frame: {rss_frame:,.0f} MiB)")
    if heap is not None:
        print(f"peak Python heap     : {heap:,.0f} MiB (tracemalloc; timings above are slowed by it)")


if __name__ == "__main__":
    main()
