"""Where a pull's memory goes: peak resident memory within each phase of one `procore-xl pull`.

Starts the sandbox in its own process (N RFIs on project 91001, no latency), warms it up, then
runs `procore-xl pull RFIs --out FILE` in a child process whose sampler thread reads its own
resident memory every 5 ms and notes the peak of each phase: imports, fetch (pages arriving and
flattened), output (CSV written block by block, or the workbook written).

    python benchmarks/pull_phases.py [--rfis 100000] [--out csv|xlsx]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pull_speed import COMPANY, PROJECT, SandboxProcess, pull_with_procore_xl

from procore_xl.sandbox import CLIENT_ID, CLIENT_SECRET

CHILD = """
import json, sys, threading, time
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
phase, peaks = ["imports"], {}
def sample():
    while True:
        peaks[phase[0]] = max(peaks.get(phase[0], 0), rss())
        time.sleep(0.005)
threading.Thread(target=sample, daemon=True).start()
from procore_xl import cli, output
def phased(name, fn):
    def run(*a, **kw):
        phase[0] = name
        try:
            return fn(*a, **kw)
        finally:
            phase[0] = "after output"
    return run
output.ReportOutput.write = phased("output", output.ReportOutput.write)
phase[0] = "fetch"
try:
    code = cli.main(sys.argv[1:])
except SystemExit as e:
    code = e.code
time.sleep(0.02)
print(json.dumps({"code": code, "peaks": peaks}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rfis", type=int, default=100_000)
    parser.add_argument("--out", choices=["csv", "xlsx"], default="csv")
    args = parser.parse_args()
    sb = SandboxProcess(args.rfis, 0)
    try:
        pull_with_procore_xl(sb, 8)                  # warm-up: the sandbox generates its data
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "PROCORE_XL_HOME": home, "PROCORE_LOGIN_URL": sb.url,
                   "PROCORE_API_URL": sb.url, "PROCORE_CLIENT_ID": CLIENT_ID,
                   "PROCORE_CLIENT_SECRET": CLIENT_SECRET}
            env.pop("PROCORE_ENV", None)
            target = Path(home) / f"rfis.{args.out}"
            child = subprocess.run([sys.executable, "-c", CHILD, "pull", "RFIs", "--company", str(COMPANY),
                                    "--project", str(PROJECT), "--out", str(target)],
                                   env=env, cwd=home, capture_output=True, text=True)
    finally:
        sb.close()
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if child.returncode or not lines:
        raise SystemExit(f"the pull failed: {child.stderr.strip().splitlines()[-1:]}")
    result = json.loads(lines[-1])
    print(f"`procore-xl pull RFIs --out rfis.{args.out}`, {args.rfis:,} RFIs: peak MiB within each phase")
    for name in ("imports", "fetch", "output", "after output"):
        if name in result["peaks"]:
            print(f"  {name:<13} {result['peaks'][name]:7.0f}")


if __name__ == "__main__":
    main()
