"""Report parameters: what each one is (label, kind, choices, default) and how a value a person
typed becomes what the runner needs (ids, dates, numbers).

Values arrive from the CLI (text), from Excel (numbers as floats: ``91001.0``) or from Python.
A name or an id is accepted wherever a person would type either. Anything missing or invalid
raises :class:`ParameterError` naming the parameter and its valid values.

The parameters and the catalog written for a person (``procore-xl params``, the README) are
:mod:`procore_xl.parameter_docs`.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Mapping, NamedTuple, Sequence

from .catalog import ALL_PROJECTS, PROJECT, USER, Report, SubList
from .columns import COLUMN_CHOICES, HEADER_CHOICES
from .errors import BadRequestError, ParameterError, PermissionDeniedError, brief

ALL = "all"


class Choice(NamedTuple):
    """One entry of a discovery list: ``label`` is unique and human; ``aliases`` are other texts a
    person may type for it (the bare name when the label carries an id, a number...)."""
    label: str
    id: int | str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParamSpec:
    name: str
    label: str
    kind: str                     # list | fixed | int | date | text
    list_name: str | None = None  # discovery list for kind "list"
    choices: tuple[str, ...] = ()  # fixed choices
    default: Any = None
    allows_all: bool = False
    help: str = ""


PROJECT_FILTERS = ("active", "inactive", "all")
MAX_DAYS_BACK = 36_500            # a hundred years of daily logs is plenty

SPECS: dict[str, ParamSpec] = {s.name: s for s in [
    ParamSpec("company", "Company", "list", "companies", help="the Procore company to read"),
    ParamSpec("project_filter", "Project Filter", "fixed", choices=PROJECT_FILTERS, default="active",
              help="which projects an all-projects run covers"),
    ParamSpec("project", "Project", "list", "projects", allows_all=True,
              help="the project to read, or all"),
    ParamSpec("contract", "Contract", "list", "contracts", allows_all=True,
              help="a contract (prime or commitment) of the project, or all"),
    ParamSpec("contract_id", "Contract ID", "int", help="a contract id typed by hand"),
    ParamSpec("pco", "PCO ID", "list", "pcos", default=ALL, allows_all=True,
              help="All potential change orders, or one (name or id)"),
    ParamSpec("cor", "COR ID", "list", "cors", default=ALL, allows_all=True,
              help="All change order requests, or one (name or id)"),
    ParamSpec("vendor", "Company Vendor", "list", "vendors", allows_all=True),
    ParamSpec("drawing_area", "Drawing Area", "list", "drawing_areas", allows_all=True),
    ParamSpec("meeting", "Meeting", "list", "meetings", allows_all=True),
    ParamSpec("album", "Album", "list", "albums", allows_all=True),
    ParamSpec("cost_code_list", "Standard Cost Code List", "list", "cost_code_lists", allows_all=True),
    ParamSpec("sub_report", "Sub Report", "fixed", default="none",
              help="a nested list to flatten into rows, or none"),
    ParamSpec("photos", "Number of photos", "int", default=50, help="how many most recent photos"),
    ParamSpec("report_date", "Report Date", "date", help="one date (YYYY-MM-DD)"),
    ParamSpec("days_back", "Report Date (days back)", "int", help="one date, N days before today"),
    ParamSpec("start_date", "Start Date", "date", help="first date of a range (YYYY-MM-DD)"),
    ParamSpec("end_date", "End Date", "date", help="last date of a range (YYYY-MM-DD); default today"),
    ParamSpec("start_days_back", "Start Date (days back)", "int",
              help="first date of a range, N days before today"),
    ParamSpec("end_days_back", "End Date (days back)", "int",
              help="last date of a range, N days before today"),
    # display options every report takes (not sent to Procore): report sheets and formulas
    # default to the default columns and labels, CSV to every column and field names
    ParamSpec("columns", "Columns", "fixed", choices=COLUMN_CHOICES,
              help="default (the report's useful columns, none empty) or all; sheets: default, CSV: all"),
    ParamSpec("headers", "Headers", "fixed", choices=HEADER_CHOICES,
              help="labels (Procore's column names) or fields (API field names); sheets: labels, CSV: fields"),
]}
VIEW_PARAMS = ("columns", "headers")

# parameter -> discovery list, and list -> parameter (parents in the catalog name lists)
LIST_OF_PARAM = {s.name: s.list_name for s in SPECS.values() if s.list_name}
_DATE_PARAMS = ("report_date", "days_back", "start_date", "end_date", "start_days_back",
                "end_days_back")


@dataclass
class Resolved:
    """Parameters after validation: what the runner needs."""
    report: Report
    company: Choice | None = None
    project_filter: str = "active"
    project: Choice | None = None            # None with all_projects
    all_projects: bool = False
    parents: dict[str, Any] = field(default_factory=dict)   # parameter -> raw value or ALL
    contract_id: int | None = None           # manual contract id
    sub_list: SubList | None = None
    limit: int | None = None
    dates: tuple[date, date] | None = None   # (start, end); start == end: one date
    single_date: bool = False
    display: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Value helpers

def is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and math.isnan(v))


def as_id(v: Any) -> int | None:
    """An integer id from 91001, 91001.0, "91001", " 91001.0 "; None when ``v`` is not one."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else None
    if isinstance(v, str) and re.fullmatch(r"\s*\d+(\.0+)?\s*", v):
        return int(float(v)) if "." in v else int(v)
    return None


def as_int(name: str, v: Any, *, minimum: int = 0) -> int:
    n = as_id(v)
    if n is None and isinstance(v, str) and re.fullmatch(r"\s*-\d+\s*", v):
        n = int(v)
    if n is None or n < minimum:
        raise ParameterError(f'{SPECS[name].label} must be a whole number >= {minimum}, got "{brief(v)}"',
                             parameter=name)
    return n


def as_date(name: str, v: Any) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool) and 20000 < v < 80000:
        return date(1899, 12, 30) + timedelta(days=int(v))      # an Excel serial date
    text = str(v).strip()
    try:
        return date.fromisoformat(text[:10]) if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", text) \
            else date.fromisoformat(text)
    except ValueError:
        raise ParameterError(f'{SPECS[name].label} "{brief(v)}" is not a date - use YYYY-MM-DD, '
                             f"e.g. 2024-05-31", parameter=name) from None


def _norm(s: Any) -> str:
    return " ".join(str(s).split()).casefold()


def select(name: str, value: Any, choices: Sequence[Choice], *, where: str = "") -> list[Choice]:
    """The choices ``value`` designates: all of them for ``all`` (when the parameter allows it),
    else the one whose id, label or alias matches. ``where`` ("in project 91001") goes into errors."""
    spec = SPECS[name]
    if is_blank(value):
        raise ParameterError(f"{spec.label} is required{where and ' ' + where}"
                             + _choose(choices, spec), parameter=name, choices=_labels(choices, spec))
    if isinstance(value, str) and value.strip().casefold() == ALL:
        if spec.allows_all:
            return list(choices)
        raise ParameterError(f'{spec.label} cannot be "all"{_choose(choices, spec)}',
                             parameter=name, choices=_labels(choices, spec))
    if isinstance(value, Choice):
        value = value.id
    wanted_id = as_id(value)
    if wanted_id is not None:
        hits = [c for c in choices if as_id(c.id) == wanted_id]
        if hits:
            return hits[:1]
    else:
        hits = [c for c in choices if str(c.id) == str(value).strip()]   # string ids (v2)
        if hits:
            return hits[:1]
    text = _norm(value)
    hits = [c for c in choices if _norm(c.label) == text]
    if not hits:
        hits = [c for c in choices if text in (_norm(a) for a in c.aliases)]
    if len(hits) == 1:
        return hits
    if len(hits) > 1:
        raise ParameterError(
            f'{spec.label} "{brief(value)}" is ambiguous{where and " " + where} - it matches '
            + ", ".join(f'"{c.label}"' for c in hits) + "; use the label or the id",
            parameter=name, choices=[c.label for c in hits])
    choose = _choose(choices, spec)
    if re.fullmatch(r"[\d.,]+", text):          # an id nobody has: no look-alike names to suggest
        raise ParameterError(f'No {spec.label.lower()} with id {brief(value)}{where and " " + where}{choose}',
                             parameter=name, choices=_labels(choices, spec))
    texts = {_norm(c.label): c.label for c in choices}
    texts.update({_norm(a): c.label for c in choices for a in c.aliases if _norm(a) not in texts})
    close = difflib.get_close_matches(text, list(texts), n=1, cutoff=0.6)
    if close:
        choose = f' - did you mean "{texts[close[0]]}"? Or c' + choose.removeprefix(" - c")
    raise ParameterError(f'Unknown {spec.label.lower()} "{brief(value)}"{where and " " + where}{choose}',
                         parameter=name, choices=_labels(choices, spec))


def _labels(choices: Sequence[Choice], spec: ParamSpec) -> list[str]:
    return ([ALL] if spec.allows_all else []) + [c.label for c in choices]


def _choose(choices: Sequence[Choice], spec: ParamSpec, limit: int = 12) -> str:
    labels = _labels(choices, spec)
    if not labels:
        return f" - there is no {spec.label.lower()} to choose from"
    more = f" ... ({len(labels) - limit} more)" if len(labels) > limit else ""
    return " - choose one of: " + ", ".join(labels[:limit]) + more


def sub_report_choices(report: Report) -> list[str]:
    return ["none"] + [s.name for s in report.sub_lists]


# ---------------------------------------------------------------------------------------------
# Resolution

def resolve(report: Report, params: Mapping[str, Any], discovery, *, today: date | None = None,
            later: list[Callable[[], None]] | None = None) -> Resolved:
    """Validate ``params`` for ``report`` and resolve company, project(s), fixed choices, numbers
    and dates. Parent parameters that depend on a project (drawing area, contract...) are checked
    for presence here and matched per project by the runner with :func:`select`.

    ``later``: a company and a project given as ids are taken as they are, and the checks that
    they are in the company and project lists (which fill in their names) are appended to
    ``later`` instead of being made now: the caller runs them while the report's data is being
    fetched (they raise the same ParameterError as here)."""
    today = today or date.today()
    given = {k: v for k, v in (params or {}).items() if not is_blank(v)}
    takes = set(report.parameters)
    for k in given:
        if k not in SPECS:
            close = difflib.get_close_matches(k, list(SPECS), n=1)
            hint = f' - did you mean "{close[0]}"?' if close else ""
            raise ParameterError(f'Unknown parameter "{brief(k)}"{hint} - parameters of {report.name}: '
                                 + ", ".join(report.parameters or ["none"]), parameter=k)
        if k not in takes and k != "company" and k not in VIEW_PARAMS:
            takes_text = f"it takes: {', '.join(report.parameters)}" if report.parameters \
                else "it takes no parameters"
            raise ParameterError(f"{report.name} does not take {SPECS[k].label} ({k}); {takes_text}",
                                 parameter=k)
    res = Resolved(report=report)
    disp = res.display
    for k in VIEW_PARAMS:
        if k in given:
            text = _norm(given[k])
            if text not in SPECS[k].choices:
                raise ParameterError(f'Unknown {SPECS[k].label.lower()} choice "{brief(given[k])}" - choose one of: '
                                     + ", ".join(SPECS[k].choices), parameter=k, choices=list(SPECS[k].choices))
            disp[k] = text

    # project filter
    pf = given.get("project_filter", SPECS["project_filter"].default)
    pf_text = _norm(pf).replace(" only", "")
    if pf_text not in PROJECT_FILTERS:
        raise ParameterError(f'Unknown project filter "{brief(pf)}" - choose one of: '
                             + ", ".join(PROJECT_FILTERS), parameter="project_filter",
                             choices=list(PROJECT_FILTERS))
    res.project_filter = pf_text
    if "project_filter" in takes:
        disp["project_filter"] = pf_text

    # company
    if report.scope != USER:
        company_id = as_id(given.get("company"))
        if later is not None and company_id is not None:
            res.company = Choice(str(company_id), company_id)

            def name_company() -> None:
                res.company = _company(discovery, given.get("company"))
                disp["company"] = res.company.label
            later.append(name_company)
        else:
            res.company = _company(discovery, given.get("company"))
        disp["company"] = res.company.label
        disp["company_id"] = res.company.id

    # project(s)
    if report.scope == ALL_PROJECTS:
        res.all_projects = True
    elif report.scope == PROJECT:
        value = given.get("project")
        if is_blank(value):
            raise ParameterError(f"Project is required for {report.name} (a project name, id or all)",
                                 parameter="project")
        if isinstance(value, str) and value.strip().casefold() == ALL:
            res.all_projects = True
            disp["project"] = ALL
        else:
            company = res.company.id

            def project(value: Any = value) -> Choice:
                return pick(discovery, "project", value, "projects", where=f"in company {company}",
                               company_id=company, project_filter=ALL)
            project_id = as_id(value)
            if later is not None and project_id is not None:
                res.project = Choice(str(project_id), project_id)

                def name_project() -> None:
                    res.project = project()
                    disp["project"] = res.project.label
                later.append(name_project)
            else:
                res.project = project()
            disp["project"] = res.project.label
            disp["project_id"] = res.project.id

    # parents
    for each in report.each:
        p = each.parameter
        if not p:
            continue
        if p == "contract" and "contract_id" in given:
            if "contract" in given:
                raise ParameterError("Give Contract (from the list) or Contract ID (typed), not both",
                                     parameter="contract_id")
            res.contract_id = as_int("contract_id", given["contract_id"], minimum=1)
            disp["contract_id"] = res.contract_id
            continue
        value = given.get(p, SPECS[p].default)
        if is_blank(value):
            hint = " (or Contract ID)" if p == "contract" else ""
            raise ParameterError(f"{SPECS[p].label}{hint} is required for {report.name} - a name, "
                                 f"an id or all", parameter=p)
        res.parents[p] = value
        disp[p] = value if not isinstance(value, str) else value.strip()

    # sub report
    if report.sub_lists:
        sub = given.get("sub_report", report.default_sub_report or "none")
        text = _norm(sub).replace(" ", "_")
        if text not in ("none", ""):
            match = [s for s in report.sub_lists if text in (s.name, _norm(s.label).replace(" ", "_"))]
            if not match:
                raise ParameterError(f'Unknown sub report "{brief(sub)}" for {report.name} - choose one of: '
                                     + ", ".join(sub_report_choices(report)), parameter="sub_report",
                                     choices=sub_report_choices(report))
            res.sub_list = match[0]
        disp["sub_report"] = res.sub_list.name if res.sub_list else "none"

    # limit
    if report.limit:
        res.limit = as_int(report.limit, given.get(report.limit, SPECS[report.limit].default), minimum=1)
        disp[report.limit] = res.limit

    # dates
    if report.dates:
        res.dates, res.single_date = resolve_dates(given, today)
        start, end = res.dates
        if res.single_date:
            disp["report_date"] = start.isoformat()
        else:
            disp["start_date"], disp["end_date"] = start.isoformat(), end.isoformat()
        for k in _DATE_PARAMS:
            if k.endswith("days_back") and k in given:
                disp[k] = as_int(k, given[k])
    return res


def _company(discovery, given: Any) -> Choice:
    """The company chosen (the only one when none is given). A service account (DMSA) cannot
    list companies without a Procore-Company-Id header (procore_api.md 1.5): then a company
    given by id is taken as is, and the first call that needs it says whether it is readable."""
    try:           # (a list kept by an earlier run that lacks the company is fetched again: refused too)
        companies = discovery.choices("companies")
        if is_blank(given) and len(companies) == 1:
            return companies[0]
        return pick(discovery, "company", given, "companies", choices=companies)
    except (PermissionDeniedError, BadRequestError):
        company_id = as_id(given)
        if company_id is None:
            raise ParameterError("This sign-in cannot list companies (a service account): give the Company "
                                 "as its id, e.g. 8001", parameter="company") from None
        return Choice(str(company_id), company_id)


def pick(discovery, name: str, value: Any, list_name: str, *, where: str = "",
            choices: Sequence[Choice] | None = None, **context: Any) -> Choice:
    """The choice ``value`` designates in a discovery list; a value not found in a list an
    earlier run kept is looked for once more in the list as Procore has it now."""
    if choices is None:
        choices = discovery.choices(list_name, **context)
    try:
        return select(name, value, choices, where=where)[0]
    except ParameterError:
        if is_blank(value) or not discovery.came_from_kept(discovery.key(list_name, **context)):
            raise
    return select(name, value, discovery.choices(list_name, fresh=True, **context), where=where)[0]


def resolve_dates(given: Mapping[str, Any], today: date) -> tuple[tuple[date, date], bool]:
    """-> ((start, end), single). One date from report_date or days_back (default today); a range
    from start_date/start_days_back and end_date/end_days_back (a missing end = today)."""
    def one(name_date: str, name_back: str) -> date | None:
        if name_date in given and name_back in given:
            raise ParameterError(f"Give {SPECS[name_date].label} or {SPECS[name_back].label}, not both",
                                 parameter=name_date)
        if name_date in given:
            return as_date(name_date, given[name_date])
        if name_back in given:
            days = as_int(name_back, given[name_back])
            if days > MAX_DAYS_BACK:
                raise ParameterError(f"{SPECS[name_back].label} {days} goes back more than {MAX_DAYS_BACK:,} "
                                     f"days - give a smaller number", parameter=name_back)
            return today - timedelta(days=days)
        return None

    start = one("start_date", "start_days_back")
    end = one("end_date", "end_days_back")
    single = one("report_date", "days_back")
    if start is None and end is None:
        d = single or today
        return (d, d), True
    if single is not None:
        raise ParameterError("Give a Report Date or a Start/End Date range, not both",
                             parameter="report_date")
    if start is None:
        raise ParameterError("Start Date is required with End Date (a date or start_days_back)",
                             parameter="start_date")
    end = end or today
    if end < start:
        raise ParameterError(f"End Date {end} is before Start Date {start} - swap them",
                             parameter="end_date")
    return (start, end), False


def date_chunks(start: date, end: date, days: int) -> list[tuple[date, date]]:
    """Split [start, end] (inclusive) into consecutive ranges of at most ``days`` days."""
    out = []
    cur = start
    while cur <= end:
        stop = min(end, cur + timedelta(days=days - 1))
        out.append((cur, stop))
        cur = stop + timedelta(days=1)
    return out
