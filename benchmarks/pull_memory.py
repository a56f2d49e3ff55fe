"""Pull time and peak memory: `procore-xl pull RFIs` to CSV and JSON, as a user runs it.

Starts the sandbox in its own process (N RFIs on project 91001, no latency unless asked), warms
it up (it generates its records on first use), then runs `procore-xl pull` as a child process
for each size and format and prints the wall seconds and the child's peak resident memory
(``ru_maxrss`` of that one child from ``os.wait4``) and CPU seconds (user + system: steadier
than wall time on a shared machine), next to the file size.

    python benchmarks/pull_memory.py [--rfis 20000 100000] [--formats csv json] [--latency-ms 0]
                                     [--compare-with DIR]

``--compare-with DIR`` also runs the `procore_xl` package found in DIR (e.g. an older commit:
``git archive <commit> procore_xl | tar -x -C DIR``) in the same run, for a before/after on
the same machine load; the sandbox then serves DIR's data to both (same records).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pull_speed import COMPANY, PROJECT, SandboxProcess, pull_with_procore_xl

from procore_xl.sandbox import CLIENT_ID, CLIENT_SECRET


def pull(sb: SandboxProcess, out: Path, home: str, source: str | None = None) -> dict:
    """One `procore-xl pull RFIs` in a child process: seconds, peak RSS (MiB), exit status.
    ``source``: a folder holding the `procore_xl` package to run instead of the installed one."""
    env = {**os.environ, "PROCORE_XL_HOME": home, "PROCORE_LOGIN_URL": sb.url, "PROCORE_API_URL": sb.url,
           "PROCORE_CLIENT_ID": CLIENT_ID, "PROCORE_CLIENT_SECRET": CLIENT_SECRET}
    env.pop("PROCORE_ENV", None)
    if source:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "procore_xl", "pull", "RFIs", "--company", str(COMPANY),
               "--project", str(PROJECT), "--out", str(out), "--force"]
    start = time.perf_counter()
    # Started by a small launcher, not by this process: a child's ru_maxrss starts from its
    # parent's peak (fork/vfork before exec), and this one holds the warm-up's records.
    child = subprocess.run([sys.executable, "-c", LAUNCHER, *command], env=env, cwd=home,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - start
    status, cpu, maxrss_kib = child.stdout.split()[-3:]
    stderr = child.stderr.decode("utf-8", "replace").strip()
    return {"seconds": seconds, "cpu": float(cpu), "peak_mib": int(maxrss_kib) / 1024, "status": int(status),
            "size_mib": out.stat().st_size / 2**20 if out.exists() else 0.0,
            "message": stderr.splitlines()[-1] if stderr else ""}


LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rfis", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "json"], choices=["csv", "json", "xlsx"])
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best is printed")
    parser.add_argument("--compare-with", metavar="DIR", help="also run the procore_xl package in DIR")
    args = parser.parse_args()

    print(f"`procore-xl pull RFIs` of project {PROJECT} in a child process; sandbox in its own process, "
          f"{args.latency_ms} ms latency per API request")
    print(f"{'RFIs':>8}  {'format':<7}{'code':<10}{'seconds':>9}{'CPU s':>8}{'peak MiB':>10}{'file MiB':>10}  note")
    sources = [("this", None)] + ([("compared", args.compare_with)] if args.compare_with else [])
    with tempfile.TemporaryDirectory() as home:
        for rfis in args.rfis:
            sb = SandboxProcess(rfis, args.latency_ms, source=args.compare_with)
            try:
                pull_with_procore_xl(sb, 8)          # warm-up: the sandbox generates its data
                for fmt in args.formats:
                    for name, source in sources:
                        # a record store per source: the compared code makes the same sequence of
                        # first and later pulls as this one, not later pulls from this one's store
                        own = Path(home) / name
                        own.mkdir(exist_ok=True)
                        out = own / f"rfis.{fmt}"
                        runs = []
                        for _ in range(args.repeat):
                            out.unlink(missing_ok=True)
                            runs.append(pull(sb, out, str(own), source))
                        best = min(runs, key=lambda r: r["seconds"])
                        peak = min(r["peak_mib"] for r in runs)
                        note = "ok" if best["status"] == 0 else f"exit {best['status']}: {best['message']}"
                        print(f"{rfis:>8,}  {fmt:<7}{name:<10}{best['seconds']:>9.2f}{best['cpu']:>8.2f}{peak:>10,.0f}"
                              f"{best['size_mib']:>10.1f}  {note}", flush=True)
            finally:
                sb.close()


if __name__ == "__main__":
    main()
