"""Commands over workbooks: refresh (and refresh --plan), new-workbook."""
from __future__ import annotations

import argparse
import contextlib
import sys

from ..errors import ConfigurationError, ParameterError
from ..lazy_pandas import frames_not_needed
from .common import (_add_full_option, _add_report_parameters, _check_exists, _check_output, print,
                     _report_params, _service)


def cmd_refresh(args: argparse.Namespace) -> int:
    from ..excel.refresh import plan_workbook, refresh_workbook

    _check_exists(args.workbook, "Workbook")
    if args.plan:
        return _print_plan(plan_workbook, args)
    _check_output(args.workbook, force=True)    # before any request: not read-only, not open in Excel
    # report sheets are written from the tables' plain values (shown.Shown): pandas is not imported ahead
    with _service(args) as service, (service.full_refresh() if args.full else contextlib.nullcontext()), \
            frames_not_needed():
        outcome = refresh_workbook(args.workbook, service, progress=not args.quiet)
    print(f"Refreshed {len(outcome.refreshed)} sheet(s) of {args.workbook}{_how(outcome.statuses)}", file=sys.stderr)
    for sheet, note in outcome.notes.items():       # what a sheet could not keep as sent, Procore's notes
        print(f"procore-xl: warning: {sheet}: {note}", file=sys.stderr)
    if outcome.dropped_parts:
        print(f"procore-xl: warning: openpyxl could not carry these parts of the workbook over: "
              f"{', '.join(outcome.dropped_parts)} (charts, shapes or images on your own sheets)",
              file=sys.stderr)
    if outcome.failed:
        print(f"procore-xl: error: {len(outcome.failed)} sheet(s) failed and kept their previous data: "
              + "; ".join(f"{s} ({outcome.reasons.get(s) or 'see its Message cell'})" for s in outcome.failed),
              file=sys.stderr)
    return 1 if outcome.failed else 0


def _print_plan(plan_workbook, args: argparse.Namespace) -> int:
    """``refresh --plan``: the requests a full refresh would make, sheet by sheet; none is sent."""
    with _service(args) as service:
        plan = plan_workbook(args.workbook, service)
    for report in plan.reports:
        note = f"  ({report.error})" if report.error else ""
        more = "at least " if report.unknown else ""
        print(f"{report.sheet or report.report:<40} {more}{report.requests:>6,} requests{note}")
    unknown = (f"; {plan.unknown} call(s) never made before count as one request each (what they lead to "
               f"is not known yet)") if plan.unknown else ""
    print(f"A full refresh of {args.workbook} will make {'at least ' if plan.unknown else 'about '}"
          f"{plan.requests:,} requests{unknown}. Nothing was sent to Procore.")
    return 0


def cmd_new_workbook(args: argparse.Namespace) -> int:
    from ..excel.refresh import check_workbook_target, new_workbook

    from ..analyses import find_analysis
    from ..catalog import find_report
    from ..runner import check_report

    if not args.report and not args.analysis:
        raise ConfigurationError("new-workbook needs --report NAME or --analysis NAME (see `procore-xl analyses`)")
    params = _report_params(args)
    if args.report:
        find_report(args.report)
        try:                                # a value given but mistyped: said before the sign-in
            check_report(args.report, params)
        except ParameterError as err:       # (one left out may be filled in on the sheet later)
            if err.parameter in params:
                raise
    analyses = [find_analysis(name) for name in args.analysis or ()]
    if args.template is not None:
        _check_exists(args.template, "Template")
    check_workbook_target(args.out, args.template)   # before any request
    _check_output(args.out, force=args.force)
    # report sheets from the tables' plain values (shown.Shown); an analysis sheet reads frames
    with _service(args) as service, (frames_not_needed() if not analyses else contextlib.nullcontext()):
        outcome = new_workbook(args.out, [(args.report, params)] if args.report else [], service,
                               template=args.template, progress=False,
                               analyses=[(a, params) for a in analyses])
    for layout in outcome.analyses:
        for note in layout.notes:
            print(f"procore-xl: warning: {layout.sheet}: {note}", file=sys.stderr)
    if outcome.failed:
        sheet = outcome.failed[0]
        print(f"procore-xl: error: {args.out} was written, but {sheet} failed: {outcome.reasons.get(sheet)}",
              file=sys.stderr)
        return 1
    for sheet, note in outcome.notes.items():
        print(f"procore-xl: warning: {sheet}: {note}", file=sys.stderr)
    print(f"Wrote {args.out}{_how(outcome.statuses)}", file=sys.stderr)
    return 0


def _how(statuses: dict[str, str]) -> str:
    """How the sheets were fetched, for the closing line: " (1 full, 2 incremental)" - a normal
    status, not a warning."""
    kinds = [status.split(":")[0] for status in statuses.values()]
    counts = {kind: kinds.count(kind) for kind in dict.fromkeys(kinds)}
    if len(statuses) == 1:
        return f" ({next(iter(statuses.values()))})"
    return f" ({', '.join(f'{n} {kind}' for kind, n in counts.items())})" if counts else ""


def _refresh_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("workbook", help="the .xlsx/.xlsm with report sheets, replaced when done")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--plan", "--dry-run", action="store_true",
                   help="say how many requests a full refresh will make (from what earlier runs stored), "
                        "sheet by sheet, without sending any or changing the workbook")
    _add_full_option(p)


def _new_workbook_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", metavar="FILE", help="the workbook to write (.xlsx, or .xlsm with a macro template)")
    p.add_argument("--report", help='report name, e.g. RFIs or "Manpower Logs"')
    p.add_argument("--analysis", action="append", metavar="NAME",
                   help='add an analysis sheet and the report sheets it reads, e.g. RFIs or "Company view" '
                        "(see `procore-xl analyses`; may be repeated)")
    p.add_argument("--template", help="start from this workbook (e.g. procore.xlsm) instead of a blank one")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    _add_report_parameters(p)

