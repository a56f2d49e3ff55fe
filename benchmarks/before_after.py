"""The benchmarks of two commits in one run: the code before a change and the code now, side by side.

    python benchmarks/before_after.py --before COMMIT [--only pull_speed refresh_requests ...]

Extracts ``procore_xl/`` and ``benchmarks/`` of COMMIT (``git archive``) into a temporary folder and
runs each benchmark twice, one after the other on the same machine: first that commit's own script
on that commit's package (``PYTHONPATH`` points at the folder, so every ``procore-xl`` process the
benchmark starts runs the old code too), then this checkout's script on this checkout's package.
Each benchmark prints its own figures; this script prints them under a "before" and a "now" heading,
with the seconds each benchmark took, so a change that makes the code slower or chattier shows.
Run it on a quiet machine: the figures of the two runs are only comparable if nothing else shares
the cores.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> arguments: the figures issue 18 asks to keep (pull, write, refresh, incremental requests).
BENCHMARKS: dict[str, list[str]] = {
    "pull_speed": ["--repeat", "1"],
    "write_speed": ["--rows", "100000"],
    "workbook_speed": [],
    "refresh_requests": [],
    "incremental_requests": ["--rfis", "5000"],
}


def extract(commit: str, into: Path) -> None:
    """``procore_xl/`` and ``benchmarks/`` of ``commit`` into ``into`` (git archive | tar)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "procore_xl", "benchmarks"],
                             capture_output=True, check=False)
    if archive.returncode:
        raise SystemExit(f"before_after: git archive {commit}: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)


def run(tree: Path, name: str, args: list[str]) -> tuple[float, str]:
    script = tree / "benchmarks" / f"{name}.py"
    if not script.exists():
        return 0.0, f"(no {name}.py in this tree)\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))}
    start = time.perf_counter()
    child = subprocess.run([sys.executable, str(script), *args], cwd=tree, env=env, capture_output=True,
                           text=True)
    seconds = time.perf_counter() - start
    text = child.stdout + (f"exit {child.returncode}: {child.stderr.strip()[-600:]}\n" if child.returncode else "")
    return seconds, text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the commit to compare with (e.g. a hash or main~5)")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these benchmarks")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="procore-xl-before-") as folder:
        before = Path(folder)
        extract(args.before, before)
        for name in args.only or list(BENCHMARKS):
            for label, tree in (("before", before), ("now", ROOT)):
                seconds, text = run(tree, name, BENCHMARKS[name])
                print(f"=== {name} {label} ({args.before if label == 'before' else 'this checkout'}), "
                      f"{seconds:.1f} s")
                print(text.rstrip())
                print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
