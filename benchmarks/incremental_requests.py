"""What an incremental refresh of one report costs in data requests, case by case.

    python benchmarks/incremental_requests.py [--rfis 20000] [--per-page 1000]

Against an in-process sandbox: RFIs (deletions from the documented recycle bin) and Potential
Change Orders (deletions through ``filters[include_deleted]``), each first read in full, then
refreshed after each kind of change the sandbox can make. Prints, per case, the data requests the
sandbox served (everything but the sign-in and ``/me``) and the run's refresh line.
"""
from __future__ import annotations

import argparse
import tempfile
from datetime import timedelta
from pathlib import Path

from procore_xl.demo import sandbox_settings
from procore_xl.sandbox import SandboxConfig, SandboxServer
from procore_xl.sandbox.browser import ConsentBrowser
from procore_xl.service import ProcoreService
from procore_xl.store import RecordStore
from procore_xl.tokens import MemoryTokenStore

PROJECT = 91001
PARAMS = {"company": 8001, "project": PROJECT}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rfis", type=int, default=20_000, help="RFIs per project (default 20,000)")
    ap.add_argument("--per-page", type=int, default=1000, help="records per page asked (Procore's v1 cap: 1,000)")
    args = ap.parse_args()
    config = SandboxConfig(port=0, rfis_per_project=args.rfis, rate_limit_spike=10**6, rate_limit_hourly=10**7,
                           withheld_fields=("rfis.reference",))
    with tempfile.TemporaryDirectory() as folder, SandboxServer(config) as sb, \
            ProcoreService(sandbox_settings(sb), MemoryTokenStore(), per_page=args.per_page,
                           record_store=RecordStore(Path(folder) / "records.sqlite3")) as service:
        service.login(open_browser=ConsentBrowser())
        world = sb.world
        live = lambda: world.records("rfis", world.project(PROJECT))     # noqa: E731

        def run(label: str, report: str = "RFIs", full: bool = False) -> None:
            sb.reset_counts()
            result = service.run(report, PARAMS, full=full)
            data = sum(n for path, n in sb.path_counts.items() if path.startswith("/rest/") and path != "/rest/v1.0/me")
            print(f"{label:<48} {data:>8,}  {result.refresh}")

        print(f"{'RFIs (' + format(args.rfis, ',') + ', recycle bin)':<48} {'requests':>8}  refresh line")
        run("first read (full)")
        run("nothing changed")
        world.edit_record("rfis", live()[10]["id"], subject="Edited")
        run("1 edited")
        world.delete_record("rfis", live()[11]["id"])
        run("1 deleted")
        world.add_record("rfis", PROJECT, stamp_shift=-timedelta(days=3))
        run("1 added stamped 3 days back")
        world.delete_record("rfis", live()[12]["id"])
        world.add_record("rfis", PROJECT, stamp_shift=-timedelta(hours=20))
        run("1 deleted + 1 added stamped 20 h back")
        world.delete_record("rfis", live()[15]["id"])
        world.add_record("rfis", PROJECT, stamp_shift=-timedelta(days=3))
        run("1 deleted + 1 added 3 days back (the limit)")
        run("the same, --full (the weekly full read)", full=True)
        world.edit_record("rfis", live()[13]["id"], subject="Late", stamp_shift=-timedelta(hours=1))
        run("1 edited, stamped 1 h before the last refresh")
        world.edit_record("rfis", live()[14]["id"], subject="Ahead", stamp_shift=timedelta(days=3))
        run("1 edited, stamped 3 days in the future")
        world.release("rfis", "reference")
        run("Procore starts sending a field")
        print()
        pcos = world.within("potential_change_orders", world.project(PROJECT))
        print(f"{'Potential Change Orders (' + str(len(pcos)) + ', include_deleted)':<48} {'requests':>8}  refresh line")
        run("first read (full)", "Potential Change Orders")
        run("nothing changed", "Potential Change Orders")
        world.delete_record("potential_change_orders", pcos[0]["id"])
        run("1 deleted", "Potential Change Orders")


if __name__ == "__main__":
    main()
