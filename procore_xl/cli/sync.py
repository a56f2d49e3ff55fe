"""sync: the reports into a warehouse through dlt (``procore_xl.warehouse``)."""
from __future__ import annotations

import argparse
import re
import sys

from ..errors import ConfigurationError, is_terminal
from .common import _add_report_parameters, _report_params, _service, print
from .progress import CLEAR_LINE, _sync_progress


def cmd_sync(args: argparse.Namespace) -> int:
    """The reports into a warehouse through dlt (``procore_xl.warehouse``)."""
    try:
        from .. import warehouse
    except ImportError as err:
        if (err.name or "").split(".")[0] not in ("dlt", "duckdb", "pyarrow"):
            raise
        raise ConfigurationError('procore-xl sync needs dlt: pip install "procore-xl[warehouse]"') from None
    params = {k: v for k, v in _report_params(args).items() if k not in ("company", "project", "project_filter")}
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.dataset):
        raise ConfigurationError(f"--dataset {args.dataset!r}: use lowercase letters, digits and _ (not a digit "
                                 f"first), e.g. procore_data - dlt would change the name, and load into "
                                 f"another dataset than the one named")
    if args.destination == "duckdb" and args.dataset.casefold() == warehouse.PIPELINE_NAME:
        raise ConfigurationError(f"--dataset {args.dataset} is the name of the DuckDB file "
                                 f"({warehouse.PIPELINE_NAME}.duckdb): choose another dataset name")
    if not warehouse.reports_named(args.reports):      # (a mistyped name: before the sign-in)
        raise ConfigurationError(f"--reports {args.reports!r} names no report: give report names "
                                 f'("RFIs,Manpower Logs") or all')
    projects = [p for p in args.project if p.strip()]
    if not projects:       # `--project "$PROJECTS"` with the variable unset: not "no project, done"
        raise ConfigurationError("--project names no project: give project ids or names, or all (the default)")
    progress = _sync_progress() if is_terminal(sys.stderr) else None
    try:
        with _service(args) as service:
            summary = warehouse.sync(service, args.company, projects=projects, reports=args.reports,
                                     project_filter=args.project_filter or "active",
                                     destination=args.destination, dataset=args.dataset, full=args.full,
                                     sub_reports=args.sub_reports, progress=progress, **params)
    finally:
        if progress:          # the progress line gone before the closing line, or an error's
            sys.stderr.write(CLEAR_LINE)
    for warning in summary.warnings:
        print(f"procore-xl: warning: {warning}", file=sys.stderr)
    changed, deleted = sum(summary.changed.values()), sum(summary.deleted.values())
    print(f"{len(summary.tables)} tables, {summary.rows:,} rows loaded"
          + (f" ({changed:,} changed, {deleted:,} deleted in Procore)" if changed or deleted else "")
          + f", {summary.requests:,} requests, {summary.seconds:.1f} s -> {summary.destination} "
          f"{summary.location}, dataset {summary.dataset}", file=sys.stderr)
    if summary.failures:
        failed = sorted({report for report, _ in summary.failures})
        print(f"procore-xl: error: {len(failed)} report(s) failed and kept their previous rows: "
              + "; ".join(reason for _, reason in summary.failures), file=sys.stderr)
        return 1
    return 0


def _sync_arguments(p: argparse.ArgumentParser) -> None:
    from ..parameters import SPECS

    p.add_argument("--company", required=True, metavar="NAME|ID", help="company name or id")
    p.add_argument("--project", nargs="+", default=["all"], metavar="PROJECT",
                   help="all (default: every project passing --project-filter), or project ids/names")
    p.add_argument("--reports", default="all", metavar="NAMES", help='comma-separated report names ("RFIs,Manpower Logs") or all')
    p.add_argument("--destination", default="duckdb", metavar="NAME",
                   help="a dlt destination (duckdb: procore.duckdb here; postgres, snowflake, bigquery, "
                        "filesystem...); credentials from dlt's config: environment variables or "
                        ".dlt/secrets.toml")
    p.add_argument("--dataset", default="procore_data", metavar="NAME",   # warehouse.DEFAULT_DATASET (dlt may be absent here)
                   help="dataset (schema) name [default: procore_data]")
    p.add_argument("--full", action="store_true",
                   help="read every report from Procore in full (not only what changed since the record store's copy)")
    p.add_argument("--sub-reports", action="store_true",
                   help="also each report's sub-reports as their own tables (rfis_questions...)")
    _add_report_parameters(p, [n for n in SPECS if n not in ("company", "project", "sub_report")],
                           title="report parameters, given to the reports that take them")

