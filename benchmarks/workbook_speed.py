"""Workbooks against CSV, same run: time and peak memory of each `procore-xl` command, by itself.

Starts the sandbox in its own process (N RFIs on project 91001, no latency), then runs, each as
its own `procore-xl` process signed in as the sandbox's service account:

    pull --out rfis.csv      (the yardstick)
    pull --out rfis.xlsx
    new-workbook book.xlsx --report RFIs
    refresh book.xlsx        (the workbook new-workbook wrote: its table replaced by splicing)

and prints wall seconds and peak resident memory of each process (``os.wait4``), and each
workbook command as a multiple of CSV's (target: at most 1.5x the time, 1.3x the memory).

    .venv/bin/python benchmarks/workbook_speed.py [--rfis 20000] [--repeat 1]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from pull_speed import SandboxProcess  # noqa: E402  (the sandbox in a child process)

from procore_xl.sandbox import CLIENT_ID, CLIENT_SECRET  # noqa: E402

REPORT = ["--company", "8001", "--project", "91001"]


def run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one `procore-xl` process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "procore_xl", *command], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"procore-xl {' '.join(command)} failed: {err.strip()}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rfis", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each command; the best is shown")
    args = parser.parse_args()

    sandbox = SandboxProcess(args.rfis, 0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "PROCORE_LOGIN_URL": sandbox.url, "PROCORE_API_URL": sandbox.url,
                   "PROCORE_CLIENT_ID": CLIENT_ID, "PROCORE_CLIENT_SECRET": CLIENT_SECRET,
                   "PROCORE_XL_HOME": str(Path(tmp) / "home")}
            out = Path(tmp)
            commands = {
                "pull --out .csv": ["pull", "RFIs", *REPORT, "--out", str(out / "rfis.csv"), "--force"],
                "pull --out .xlsx": ["pull", "RFIs", *REPORT, "--out", str(out / "rfis.xlsx"), "--force"],
                "new-workbook": ["new-workbook", str(out / "book.xlsx"), "--report", "RFIs", *REPORT],
                "refresh": ["refresh", str(out / "book.xlsx"), "-q"],
            }
            run(commands["pull --out .csv"], env)          # warm-up: the sandbox generates its data
            best: dict[str, tuple[float, float]] = {}
            for _ in range(args.repeat):
                for name, command in commands.items():
                    if name == "new-workbook":
                        (out / "book.xlsx").unlink(missing_ok=True)
                    seconds, mib = run(command, env)
                    old = best.get(name)
                    best[name] = (min(seconds, old[0]), min(mib, old[1])) if old else (seconds, mib)
            size = {n: (out / f).stat().st_size / 2**20 for n, f in
                    (("pull --out .csv", "rfis.csv"), ("pull --out .xlsx", "rfis.xlsx"), ("refresh", "book.xlsx"))}
    finally:
        sandbox.close()

    csv_s, csv_m = best["pull --out .csv"]
    print(f"{args.rfis:,} RFIs (project 91001, sandbox in its own process, 0 ms latency), best of {args.repeat}")
    print(f"{'command':<20}{'seconds':>9}{'peak MiB':>10}{'x CSV time':>12}{'x CSV mem':>11}{'file MiB':>10}")
    for name, (seconds, mib) in best.items():
        file_mib = f"{size[name]:.1f}" if name in size else ""
        print(f"{name:<20}{seconds:>9.2f}{mib:>10.0f}{seconds / csv_s:>12.2f}{mib / csv_m:>11.2f}{file_mib:>10}")


if __name__ == "__main__":
    main()
