"""Commands that read the catalogue or Procore: companies, projects, lists, reports, analyses,
params, pull."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from .common import (_add_full_option, _add_report_parameters, _check_output, _company_id, print, _print_choices,
                     PROJECT_FILTER_CHOICES, _report_params, _service)
from .progress import _Ticker


def cmd_companies(args: argparse.Namespace) -> int:
    with _service(args) as service:
        if args.company is None:
            _print_choices(service.choices("companies", fresh=True))
        else:
            for company in sorted(service.companies(_company_id(args.company)), key=lambda c: str(c.get("name"))):
                print(company.get('id'), company.get('name'), sep="\t")
    return 0


def cmd_projects(args: argparse.Namespace) -> int:
    with _service(args) as service:
        _print_choices(service.choices("projects", fresh=True, company=args.company, project_filter=args.filter))
    return 0


LIST_CONTEXT = ("company", "project", "contract")     # what a discovery list can depend on


def cmd_lists(args: argparse.Namespace) -> int:
    from ..discovery import check_list_context, fixed_choices, list_name_of

    name = list_name_of(args.list_name)                 # before the sign-in, which these need not
    params = {name: getattr(args, name) for name in LIST_CONTEXT if getattr(args, name) is not None}
    if args.filter:
        params["project_filter"] = args.filter
    if args.report:
        params["report"] = args.report
    fixed = fixed_choices(name, **params)
    if fixed is not None:
        _print_choices(fixed)
        return 0
    check_list_context(name, **params)                  # a missing project or company before the sign-in
    if name == "companies" and str(args.company or "").strip().isdigit():
        return cmd_companies(args)     # the company as Procore's header: what a service account must send
    with _service(args) as service:
        _print_choices(service.choices(name, fresh=True, **params))
    return 0


def cmd_reports(args: argparse.Namespace) -> int:
    from ..catalog import GROUPS, REPORTS

    for group in GROUPS:
        print(group)
        for report in REPORTS.values():
            if report.group == group:
                print(f"  {report.name:<36} {', '.join(report.parameters) or '-'}")
    return 0


def cmd_analyses(args: argparse.Namespace) -> int:
    from ..analyses import ANALYSES

    for a in ANALYSES.values():
        print(f"{a.name:<18} {a.description} (reads {', '.join(s.report for s in a.sources)})")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    from ..catalog import find_report
    from ..columns import default_column_rows
    from ..parameter_docs import describe

    report = find_report(args.report)
    print(f"{report.name} ({report.group})" + (f": {report.description}" if report.description else ""))
    for row in describe(report):
        need = "required" if row["required"] else "optional"
        choices = ", ".join(map(str, row["choices"])) or row["help"]
        default = f" [default: {row['default']}]" if row["default"] not in (None, "") else ""
        print(f"  --{row['name'].replace('_', '-'):<18} {row['label']:<26} {need:<9} {choices}{default}")
    print("Default columns (a sheet's Columns = default; empty ones are left out, custom fields follow):")
    for path, label in default_column_rows(report):
        print(f"  {label:<32} {path}")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from ..output import check_output_options, report_output
    from ..runner import check_report

    params = _report_params(args)
    check_report(args.report, params)                    # a mistyped name or value before the sign-in
    fmt = check_output_options(args.out, params, raw_csv=args.raw_csv)   # options that do not apply
    if args.out != "-" and fmt == "xlsx":
        _check_output(args.out, force=args.force,
                      hint=f"add --force to replace it, or add the report to it with Insert report / "
                           f"`procore-xl new-workbook OTHER.xlsx --template {args.out}`")
    elif args.out != "-":
        _check_output(args.out, force=args.force)
    with _service(args) as service:
        with report_output(args.out, params, raw_csv=args.raw_csv) as out:   # JSON streams as it arrives
            with _Ticker(args.report, service):       # the record store's copy committed while the file is written
                result = service.run(args.report, params, full=args.full, on_records=out.records,
                                     commit_later=True)
            try:
                out.write(result)
            finally:
                result.warnings += service.settle()
    for warning in result.warnings:
        print(f"procore-xl: warning: {warning}", file=sys.stderr)
    future = _future_dates(result.params)
    if args.out != "-":
        left = f", Procore rate limit: {result.rate_limit}" if result.rate_limit else ""
        print(f"{result.report}: {len(result.table)} rows, {result.requests} requests, "
              f"{result.seconds:.1f} s ({result.refresh}){left} -> {args.out}{future}", file=sys.stderr)
    elif future:
        print(f"{result.report}: {len(result.table)} rows{future}", file=sys.stderr)
    return 0


def _future_dates(params: dict[str, Any]) -> str:
    """A note for the closing line when a date the run used lies ahead (no records yet, likely
    a typo): " - note: Report Date 2030-01-01 is in the future"."""
    import datetime as dt

    from ..parameters import SPECS

    today = dt.date.today().isoformat()
    ahead = [f"{SPECS[name].label} {value}" for name in ("report_date", "start_date", "end_date")
             if isinstance(value := params.get(name), str) and value > today]
    return f" - note: {' and '.join(ahead)} {'is' if len(ahead) == 1 else 'are'} in the future" if ahead else ""


def _projects_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--company", required=True, metavar="NAME|ID", help="company name or id")
    p.add_argument("--filter", default="active", choices=PROJECT_FILTER_CHOICES,
                   help="active (default), inactive or all projects")


def _lists_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("list_name", metavar="LIST", help="companies, projects, contracts, pcos, cors, vendors, "
                   "drawing_areas, meetings, albums, cost_code_lists, sub_reports, project_filter, reports")
    _add_report_parameters(p, LIST_CONTEXT, title="what the list belongs to (names or ids)")
    p.add_argument("--filter", choices=PROJECT_FILTER_CHOICES, help="projects list: active, inactive or all")
    p.add_argument("--report", help="sub_reports list: the report whose sub-reports to list")


def _params_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("report", help='report name, e.g. RFIs or "Change Orders Requests"')


def _pull_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("report", help='report name, e.g. RFIs or "Manpower Logs"')
    p.add_argument("--out", "-o", default="-", metavar="FILE",
                   help="output file (.csv/.xlsx/.json) or - for CSV on stdout (the default)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.add_argument("--raw-csv", action="store_true",
                   help="CSV text exactly as Procore sent it (no apostrophe before = + - @)")
    _add_full_option(p)
    _add_report_parameters(p)

