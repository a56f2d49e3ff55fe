"""Pull speed against the floor and against ProPyCore 0.8, on the built-in sandbox, in one run.

Starts the sandbox in its own process (20,000 RFIs on project 91001, 100 ms latency per API
request) and measures, each in a process of its own:

* ``procore-xl pull RFIs --company 8001 --project 91001 --out rfis.csv``, a first pull (nothing
  stored, nothing kept), as a person runs it, with the service account (client credentials);
* the same pull again (lists and labels kept by the first);
* ProPyCore (``rfis.get``, installed by benchmarks/requirements.txt), the same RFIs;

and prints each run's requests, seconds, and for procore-xl the floor of that run and
measured / floor. The floor is what no client can beat on this machine: the round trips (a
token, the first page, then the remaining pages ``--workers`` at a time) times the latency,
plus the CPU cost of decoding the pages and writing the CSV measured alone (the same pages,
read from memory, through the same code, in a process of its own), plus the interpreter's
start (``python -c pass``). A ratio of 1.0 would be the floor itself.

    pip install -r benchmarks/requirements.txt
    python benchmarks/pull_speed.py [--rfis 20000] [--latency-ms 100] [--workers 16] [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

try:
    import resource
except ImportError:          # Windows: no CPU figures
    resource = None

from procore_xl.auth import TokenManager
from procore_xl.client import MAX_WORKERS, ProcoreClient
from procore_xl.environments import load_settings
from procore_xl.sandbox import CLIENT_ID, CLIENT_SECRET, free_port
from procore_xl.sandbox.server import STATS_PATH
from procore_xl.tokens import MemoryTokenStore

COMPANY, PROJECT = 8001, 91001
RFIS = f"/rest/v1.0/projects/{PROJECT}/rfis"


class SandboxProcess:
    """`procore-xl sandbox` in a child process, so its JSON work does not share our CPU (GIL)."""

    def __init__(self, rfis: int, latency_ms: int, source: str | None = None):
        """``source``: a folder holding the `procore_xl` package to serve instead of the installed one."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        if source:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "procore_xl", "sandbox", "--port", str(self.port),
             "--rfis-per-project", str(rfis), "--latency-ms", str(latency_ms)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=source or None)
        for _ in range(100):
            try:
                requests.get(self.url + STATS_PATH, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise SystemExit("the sandbox did not start")

    @property
    def requests(self) -> int:
        return requests.get(self.url + STATS_PATH, timeout=5).json()["requests"]

    def reset_counts(self) -> None:
        requests.post(self.url + STATS_PATH, timeout=5)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def pull_with_procore_xl(sb: SandboxProcess, workers: int) -> dict:
    settings = load_settings(login_url=sb.url, api_url=sb.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                             environ={}, settings_file="/nonexistent/settings.json")
    sb.reset_counts()
    start = time.perf_counter()
    tokens = TokenManager(settings, MemoryTokenStore())  # client credentials, in memory
    with ProcoreClient(settings.api_url, tokens, max_workers=workers) as client:
        rows = client.get_all(RFIS, company_id=COMPANY)
        stats = client.stats.snapshot()
    seconds = time.perf_counter() - start
    return {"rows": len(rows), "unique": len({r["id"] for r in rows}), "requests": sb.requests,
            "pages": stats["pages"], "seconds": seconds, "error": None}


def cli_pull(sb: SandboxProcess, home: Path, out: Path) -> dict:
    """`procore-xl pull RFIs ... --out rfis.csv` in a process of its own: seconds and requests."""
    env = {**os.environ, "PROCORE_XL_HOME": str(home), "PROCORE_LOGIN_URL": sb.url, "PROCORE_API_URL": sb.url,
           "PROCORE_CLIENT_ID": CLIENT_ID, "PROCORE_CLIENT_SECRET": CLIENT_SECRET}
    env.pop("PROCORE_ENV", None)
    sb.reset_counts()
    start, cpu = time.perf_counter(), _children_cpu()
    child = subprocess.run([sys.executable, "-m", "procore_xl", "pull", "RFIs", "--company", str(COMPANY),
                            "--project", str(PROJECT), "--out", str(out)], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "cpu": _children_cpu() - cpu, "requests": sb.requests,
            "error": child.stderr.strip() if child.returncode else None}


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children: steadier than wall seconds
    on a shared machine."""
    if resource is None:
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


PROPYCORE_CHILD = """
import sys, time
start = time.perf_counter()
from ProPyCore.procore import Procore
url, client_id, secret, company, project = sys.argv[1:]
connection = Procore(client_id=client_id, client_secret=secret, redirect_uri="", base_url=url, oauth_url=url)
rows = connection.rfis.get(company_id=int(company), project_id=int(project))
print(len(rows), len({r["id"] for r in rows}))
"""


def propycore_pull(sb: SandboxProcess) -> dict:
    """ProPyCore's ``rfis.get`` in a process of its own (its imports and start counted, as ours are)."""
    try:
        import ProPyCore  # noqa: F401
    except ImportError:
        return {"error": "ProPyCore is not installed: pip install -r benchmarks/requirements.txt"}
    sb.reset_counts()
    start, cpu = time.perf_counter(), _children_cpu()
    child = subprocess.run([sys.executable, "-c", PROPYCORE_CHILD, sb.url, CLIENT_ID, CLIENT_SECRET, str(COMPANY),
                            str(PROJECT)], capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if child.returncode:
        return {"seconds": seconds, "cpu": cpu, "requests": sb.requests,
                "error": " ".join(child.stderr.strip().splitlines()[-1:])[:200]}
    rows, unique = map(int, child.stdout.split())
    return {"seconds": seconds, "cpu": cpu, "requests": sb.requests, "rows": rows, "unique": unique, "error": None}


CPU_CHILD = """
import pickle, sys, time
pages = pickle.load(open(sys.argv[1], "rb"))
start = time.perf_counter()
from procore_xl.client import ProcoreClient
from procore_xl.flatten import FrameBuilder
from procore_xl.output import write_csv
builder = FrameBuilder()
for raw in pages:
    builder.add(ProcoreClient._decode(None, raw, "", None))
with open(sys.argv[2], "wb") as fh:
    write_csv(builder.table(lead=["project."], keys=["id"]), lambda text: fh.write(text.encode("utf-8")))
print(time.perf_counter() - start)
"""


def cpu_floor(sb: SandboxProcess, folder: Path, per_page: int = 1000) -> float:
    """Seconds to decode the pull's pages and write its CSV, the pages read from memory (no network),
    in a process of its own (imports of procore_xl and pandas included: a pull needs them too)."""
    dump = cpu_pages(sb, folder, per_page)
    child = subprocess.run([sys.executable, "-c", CPU_CHILD, str(dump), str(folder / "cpu.csv")],
                           capture_output=True, text=True, check=True)
    return float(child.stdout.split()[-1])


def cpu_pages(sb: SandboxProcess, folder: Path, per_page: int = 1000) -> Path:
    """The RFI pages as the sandbox sends them, pickled into a file in ``folder`` (its path)."""
    session = requests.Session()
    token = session.post(sb.url + "/oauth/token", data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                                         "client_secret": CLIENT_SECRET}, timeout=30).json()
    headers = {"Authorization": f"Bearer {token['access_token']}", "Procore-Company-Id": str(COMPANY)}
    pages, page = [], 1
    while True:
        body = session.get(sb.url + RFIS, params={"page": page, "per_page": per_page}, headers=headers, timeout=60)
        if not body.json():
            break
        pages.append(body.content)
        page += 1
    dump = folder / "pages.pickle"
    dump.write_bytes(pickle.dumps(pages))
    return dump


def interpreter_start() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rfis", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--workers", type=int, default=MAX_WORKERS, help="pages in flight (the client's default)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is printed")
    args = parser.parse_args()
    latency = args.latency_ms / 1000

    sb, fast = SandboxProcess(args.rfis, args.latency_ms), SandboxProcess(args.rfis, 0)
    try:
        pull_with_procore_xl(sb, args.workers)            # warm-up: the sandbox generates its data
        pull_with_procore_xl(fast, args.workers)
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            firsts, seconds_, peers = [], [], []
            for i in range(args.repeat):
                home = folder / f"home-{i}"                # nothing stored, nothing kept: a first pull
                firsts.append(cli_pull(sb, home, folder / f"first-{i}.csv"))      # a new file each run:
                seconds_.append(cli_pull(sb, home, folder / f"second-{i}.csv"))   # pull never replaces one
                peers.append(propycore_pull(sb))
            cpu = min(cpu_floor(fast, folder) for _ in range(args.repeat))
            start = min(interpreter_start() for _ in range(args.repeat))
    finally:
        sb.close()
        fast.close()

    pages = -(-args.rfis // 1000)
    rounds = 2 + -(-(pages - 1) // args.workers)             # token, first page, the rest
    floor = start + rounds * latency + cpu
    first, second = (min(runs, key=lambda r: (bool(r["error"]), r["seconds"])) for runs in (firsts, seconds_))
    ok_peers = [p for p in peers if not p.get("error")]
    peer = min(ok_peers, key=lambda r: r["seconds"]) if ok_peers else peers[0]
    print(f"Sandbox (own process): {args.rfis:,} RFIs on project {PROJECT} ({pages} pages of 1,000), "
          f"{args.latency_ms} ms latency per API request; best of {args.repeat}")
    print(f"floor = interpreter start {start:.2f} s + {rounds} round trips x {latency:.2f} s (token, first page, "
          f"{pages - 1} pages {args.workers} at a time) + decoding and writing the CSV alone {cpu:.2f} s "
          f"= {floor:.2f} s")
    print(f"{'run':<40}{'requests':>9}{'seconds':>9}{'floor':>7}{'x floor':>9}{'CPU s':>7}  note")
    for name, r in (("procore-xl pull, first (nothing stored)", first), ("procore-xl pull, second", second)):
        print(f"{name:<40}{r['requests']:>9}{r['seconds']:>9.2f}{floor:>7.2f}{r['seconds'] / floor:>9.2f}"
              f"{r['cpu']:>7.2f}  {r['error'] or 'ok'}")
    if "seconds" in peer:
        note = peer["error"] or ("all rows" if peer["unique"] == args.rfis else
                                 f"MISSING {args.rfis - peer['unique']} rows")
        print(f"{'ProPyCore 0.8.0 rfis.get':<40}{peer['requests']:>9}{peer['seconds']:>9.2f}{'':>7}"
              f"{peer['seconds'] / floor:>9.2f}{peer['cpu']:>7.2f}  {note}")
        print(f"ProPyCore / procore-xl first pull: {peer['seconds'] / first['seconds']:.1f}x the time, "
              f"{peer['requests'] / first['requests']:.1f}x the requests")
    else:
        print(f"ProPyCore: {peer['error']}")


if __name__ == "__main__":
    main()
