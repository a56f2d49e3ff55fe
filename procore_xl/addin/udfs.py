"""Excel worksheet functions: ``=PROCORE_REPORT("RFIs", "Harbor Tower Builders", 91001)`` etc.

Rules (see docs/ARCHITECTURE.md and excel_notes.md):

* values only: a function returns a table (header row first) or one line of text; it never
  writes other cells. Report sheets with metadata are the macros' job (Insert report / Refresh).
* names or ids everywhere (Excel passes numbers as floats: 8001.0); parameters after the
  fixed ones come as name/value pairs: ``..., "sub_report", "questions", "days_back", 7)``.
* the spill shows what a report sheet shows: labels and the default columns (``view.py``);
  ``"headers", "fields"`` and ``"columns", "all"`` switch, as on a sheet.
* results are cached per argument set for the life of the Python process, so recalculation
  does not call Procore again; Refresh (and ``clear_cache``) forget them.
* a pull that can take minutes - every project of a company - is not run from a formula:
  the cell says to use Insert report / Refresh instead (``HEAVY_MESSAGE``).
* errors come back as one readable line in the cell.
* xlwings converters stay trivial (plain values in, a 2-D list out), because the decorators
  are no-ops off Windows and the conversion is tested here, not in xlwings.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any

import xlwings as xw

from ..catalog import ALL_PROJECTS, REPORTS, find_report
from ..columns import COLUMNS_DEFAULT, HEADERS_LABELS
from ..discovery import fixed_choices, list_name_of, project_filter_of
from ..errors import BadRequestError, ParameterError, PermissionDeniedError, SignedOutError, brief
from ..excel.report_sheet import normalize_input, safe_message
from ..excel.plans import frame_to_block
from ..parameters import SPECS, is_blank, resolve
from ..runner import check_report
from ..view import report_view
from .session import get_service

NOT_SIGNED_IN = "Not signed in - use Procore > Connect"
MISSING_COMPANY_HEADER = "Procore-Company-Id"     # Procore's "Missing Procore-Company-Id header!"
SERVICE_ACCOUNT_COMPANIES = ("This sign-in cannot list companies (a service account, no user sign-in, names "
                             "its company by id): give the Company as its id, e.g. =PROCORE_PROJECTS(8001), "
                             "or sign in as a user with Procore > Connect")
HEAVY_MESSAGE = ("{report} over all projects can take minutes - use Procore > Insert report, "
                 "then Refresh, instead of a formula")
LIST_PAIRS = ("contract", "project_filter", "report", "sub_report")   # what PROCORE_LIST's lists depend on
MAX_CELLS = 500_000      # more than this is not a formula's job (slow to pass to Excel)

_cache: dict[tuple, Any] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached result (Refresh, Refresh all, Update dropdowns, sign-in/out)."""
    with _cache_lock:
        _cache.clear()


def _cached(key: tuple, compute: Callable[[], Any]) -> Any:
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    value = compute()
    with _cache_lock:
        _cache[key] = value
    return value


def _cell_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Errors -> one line of text for the cell (never a traceback, never a secret)."""
    @wraps(fn)
    def wrapper(*args: Any) -> Any:
        try:
            return fn(*args)
        except SignedOutError:
            return NOT_SIGNED_IN
        except Exception as exc:
            return safe_message(exc)
    return wrapper


# -- argument handling --------------------------------------------------------------------------
def _arg(value: Any, what: str) -> Any:
    if isinstance(value, list | tuple):
        raise ParameterError(f"{what}: pass one cell or value, not a range")
    return normalize_input(value)


def _param_name(name: Any) -> str:
    text = str(_arg(name, "Parameter name") or "").strip()
    key = text.lower().replace(" ", "_").replace("-", "_")
    if key in SPECS:
        return key
    by_label = {s.label.lower(): k for k, s in SPECS.items()}
    return by_label.get(text.lower(), key)


def _pairs(name_value_pairs: tuple[Any, ...]) -> dict[str, Any]:
    items = list(name_value_pairs)
    while items and items[-1] is None:          # trailing empty optional arguments
        items.pop()
    if len(items) % 2:
        raise ParameterError(f'Parameters come in name/value pairs - "{brief(items[-1])}" has no value')
    out = {}
    for name, value in zip(items[::2], items[1::2]):
        if is_blank(name):
            continue
        key = _param_name(name)
        if key in out:
            label = SPECS[key].label if key in SPECS else brief(name)
            raise ParameterError(f'{label} is given twice - give each parameter once')
        out[key] = _arg(value, SPECS[key].label if key in SPECS else brief(name))
    return out


def _excel_value(v: Any) -> Any:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime(v.year, v.month, v.day)
    return v


def frame_to_rows(frame, header: list[str] | None = None) -> list[list[Any]]:
    """A report frame as the 2-D list a UDF returns: header row (``header``, default the
    frame's column names), then values (dates as datetimes, missing values as None = empty
    cells, ids above 2**53 as text)."""
    block = frame_to_block(frame, header)
    return [block.header] + [[_excel_value(v) for v in row] for row in block.rows]


# -- the functions ------------------------------------------------------------------------------
@xw.func
@_cell_function
def PROCORE_REPORT(report, company, project, *name_value_pairs):
    """Run a Procore report; returns a table (header row first)."""
    rep = find_report(_arg(report, "Report"))
    params = {"company": _arg(company, "Company"), "project": _arg(project, "Project")}
    for key, value in _pairs(name_value_pairs).items():
        if params.get(key) is not None:
            raise ParameterError(f"{SPECS[key].label} is given twice (its own argument and a name/value pair) "
                                 f"- give it once")
        params[key] = value
    params = {k: v for k, v in params.items() if v is not None and (k != "project" or "project" in rep.parameters)}
    check_report(rep, params)         # a mistyped name or value before the sign-in
    if rep.scope == ALL_PROJECTS or str(params.get("project", "")).strip().lower() == "all":
        return HEAVY_MESSAGE.format(report=rep.name)
    key = ("report", rep.name, tuple(sorted((k, str(v)) for k, v in params.items())))

    def compute():
        shown = report_view(get_service().run(rep.name, params), headers=HEADERS_LABELS, columns=COLUMNS_DEFAULT)
        frame = shown.frame
        if frame.shape[0] * max(frame.shape[1], 1) > MAX_CELLS:
            return (f"{rep.name} returned {frame.shape[0]:,} rows x {frame.shape[1]} columns - too many "
                    f"for a formula; use Procore > Insert report")
        return frame_to_rows(frame, shown.header)
    return _cached(key, compute)


@xw.func
@_cell_function
def PROCORE_REPORTS():
    """The report catalog: report, group, parameters."""
    rows = [["Report", "Group", "Parameters"]]
    for rep in REPORTS.values():          # the catalog: no sign-in needed
        rows.append([rep.name, rep.group, ", ".join(SPECS[p].label for p in rep.parameters if p in SPECS)])
    return rows


def _company_id(service, company: Any) -> Any:
    """The company a list belongs to, by the rule a report's Company follows (the only one when
    blank; a service account, which cannot list companies, names it by id)."""
    return resolve(REPORTS["Projects"], {"company": company}, service.discovery).company.id


def _choices_table(header: str, choices) -> list[list[Any]]:
    return [[header, "ID"]] + [[c.label, c.id] for c in choices]


@xw.func
@_cell_function
def PROCORE_COMPANIES():
    """Companies the signed-in user can read: name, id. A service account, which Procore lets
    list companies only when it names one, is told what to do instead of Procore's words alone."""
    def compute():
        try:
            return _choices_table("Company", get_service().choices("companies"))
        except (BadRequestError, PermissionDeniedError) as exc:
            if MISSING_COMPANY_HEADER not in str(exc):
                raise
            raise ParameterError(f"{SERVICE_ACCOUNT_COMPANIES} - {exc}", parameter="company") from None
    return _cached(("companies",), compute)


@xw.func
@_cell_function
def PROCORE_PROJECTS(company, project_filter="active"):
    """Projects of a company (active / inactive / all): name, id."""
    company = _arg(company, "Company")
    pf = project_filter_of(_arg(project_filter, "Project Filter"))

    def compute():
        service = get_service()
        cid = _company_id(service, company)
        return _choices_table("Project", service.choices("projects", company_id=cid, project_filter=pf))
    return _cached(("projects", str(company), pf), compute)


@xw.func
@_cell_function
def PROCORE_LIST(list_name, company, project, *name_value_pairs):
    """Any dropdown list (companies, projects, contracts, pcos, cors, vendors, drawing_areas,
    meetings, albums, cost_code_lists, sub_reports, project_filters, reports): name, id.
    Company and project may be left empty: ``=PROCORE_LIST("vendors", B2, )``. (xlwings allows no
    optional arguments before ``*args``, so both are positional.)"""
    name = list_name_of(_arg(list_name, "List"))      # before the sign-in
    company, project = _arg(company, "Company"), _arg(project, "Project")
    extra = _pairs(name_value_pairs)
    unknown = [k for k in extra if k not in LIST_PAIRS]
    if unknown:
        raise ParameterError(f'PROCORE_LIST does not take "{brief(unknown[0])}" - after the project it takes '
                             + ", ".join(f'"{k}"' for k in LIST_PAIRS))
    if extra.get("project_filter") is not None:
        extra["project_filter"] = project_filter_of(extra["project_filter"])
    key = ("list", name, str(company), str(project), tuple(sorted((k, str(v)) for k, v in extra.items())))

    def compute():
        if name == "reports":
            return [["Report", "ID"]] + [[r.name, r.name] for r in REPORTS.values()]
        header = SPECS[name].label if name in SPECS else name.replace("_", " ").capitalize()
        if name == "sub_reports":
            report = extra.get("report") or extra.get("sub_report")
            if report is None:
                raise ParameterError('The sub_reports list needs a report: ..., "report", "RFIs")')
            return _choices_table(header, fixed_choices(name, report=report))
        if name == "project_filter":
            return _choices_table(header, fixed_choices(name))
        service = get_service()
        context = {"project": project, "contract": extra.get("contract"), "project_filter": extra.get("project_filter")}
        if name != "companies":
            context["company"] = _company_id(service, company)
        return _choices_table(header, service.choices(name, **context))
    return _cached(key, compute)


UDFS = [PROCORE_REPORT, PROCORE_REPORTS, PROCORE_COMPANIES, PROCORE_PROJECTS, PROCORE_LIST]
