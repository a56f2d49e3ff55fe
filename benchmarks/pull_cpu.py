"""Where the CPU of a pull to CSV goes, phase by phase, the pages read from memory (no network).

Fetches the RFI pages of project 91001 from the built-in sandbox once (0 ms latency), then, in a
process of its own for each run, times in CPU seconds: the imports (procore_xl's; pandas is
counted where the code first imports it, if it does: the last column says whether it did), JSON
decoding, the depth check, flattening into the FrameBuilder, typing the columns, writing the CSV.
``--compare-with DIR`` also runs the `procore_xl` package found in DIR (e.g. an older commit:
``git archive <commit> procore_xl | tar -x -C DIR``), alternating with this one, and checks that
both wrote the same file byte for byte.

    python benchmarks/pull_cpu.py [--rfis 20000] [--repeat 3] [--compare-with DIR]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pull_speed import SandboxProcess, cpu_pages

PHASES = ("imports", "json", "depth", "flatten", "typing", "write")
CHILD = """
import pickle, sys, time, json
pages = pickle.load(open(sys.argv[1], "rb"))
clock = time.process_time
marks = [clock()]
from procore_xl.answers import check_depth
from procore_xl.flatten import FrameBuilder
from procore_xl.output import write_csv
try:
    from procore_xl.runner import collector_paused       # a pull's own collector setting, where the code has one
except ImportError:
    from contextlib import nullcontext as collector_paused
marks.append(clock())
paused = collector_paused()
paused.__enter__()
bodies = [json.loads(page) for page in pages]
marks.append(clock())
for body in bodies:
    check_depth(body, "a page")
marks.append(clock())
builder = FrameBuilder()
for body in bodies:
    builder.add(body)
marks.append(clock())
table = builder.table(lead=["project."], keys=["id"])
table.moments()
marks.append(clock())
with open(sys.argv[2], "wb") as fh:
    write_csv(table, lambda text: fh.write(text.encode("utf-8")))
marks.append(clock())
print(" ".join(f"{b - a:.3f}" for a, b in zip(marks, marks[1:])), int("pandas" in sys.modules))
"""


def run(source: str | None, pages: Path, out: Path) -> tuple[list[float], bool]:
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    child = subprocess.run([sys.executable, "-c", CHILD, str(pages), str(out)], env=env, cwd=source or None,
                           capture_output=True, text=True, check=True)
    *times, pandas = child.stdout.split()
    return [float(x) for x in times], pandas == "1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rfis", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the least CPU per phase is printed")
    parser.add_argument("--compare-with", metavar="DIR", help="also run the procore_xl package in DIR")
    args = parser.parse_args()
    sources = [("this", None)] + ([("compared", args.compare_with)] if args.compare_with else [])
    sb = SandboxProcess(args.rfis, 0)
    try:
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            pages = cpu_pages(sb, folder)
            best: dict[str, list[float]] = {}
            pandas: dict[str, bool] = {}
            for _ in range(args.repeat):
                for name, source in sources:
                    times, pandas[name] = run(source, pages, folder / f"{name}.csv")
                    best[name] = [min(a, b) for a, b in zip(best.get(name, times), times)]
            same = (len(sources) == 1 or (folder / "this.csv").read_bytes() == (folder / "compared.csv").read_bytes())
    finally:
        sb.close()
    print(f"{args.rfis:,} RFIs to CSV, pages from memory; CPU seconds, least of {args.repeat}")
    print(f"{'code':<10}" + "".join(f"{p:>9}" for p in PHASES) + f"{'total':>9}  pandas imported")
    for name, _ in sources:
        print(f"{name:<10}" + "".join(f"{t:>9.2f}" for t in best[name]) + f"{sum(best[name]):>9.2f}"
              f"  {'yes' if pandas[name] else 'no'}")
    if len(sources) > 1:
        print("the same CSV, byte for byte" if same else "THE CSV FILES DIFFER")


if __name__ == "__main__":
    main()
