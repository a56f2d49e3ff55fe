"""Dropdown sources: discovery lists on the hidden ``_lists`` sheet, one named column each.

Column i of ``_lists`` holds the list ``layout.LIST_NAMES[i]``: its name in row 1, the labels
(what a person picks; the service accepts labels or ids) from row 2, and a workbook name
(``ProcoreCompanies`` ...) over exactly those labels. Dependent lists (projects of the chosen
company, contracts of the chosen project, ...) follow the company / project / contract in the
given context: the Start sheet, or the report sheet being worked on.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..analyses import ANALYSES
from ..environments import ENVIRONMENTS
from ..errors import NotFoundError, ParameterError, PermissionDeniedError
from ..parameters import is_blank, select
from .base import WorkbookWriter
from .layout import LIST_NAMES, LISTS_SHEET, START_CELLS, START_NAMES, START_SHEET

COMPANY_LISTS = ("vendors", "cost_code_lists")
PROJECT_LISTS = ("contracts", "pcos", "meetings", "drawing_areas", "albums")
CONTRACT_LISTS = ("cors",)
_SKIPPABLE = (ParameterError, NotFoundError, PermissionDeniedError)


def _is_all(v: Any) -> bool:
    return isinstance(v, str) and v.strip().casefold() == "all"


def compute_lists(service: Any, context: Mapping[str, Any]) -> tuple[dict[str, list[str]], list[str]]:
    """Every list of LIST_NAMES -> labels, for the given context (company, project_filter,
    project, contract, report as a person typed them). Lists whose parent is missing or
    unreadable come back empty, with a note. A sign-in problem is raised."""
    lists: dict[str, list[str]] = {name: [] for name in LIST_NAMES}
    notes: list[str] = []
    lists["reports"] = [r.name for r in service.reports()]
    lists["project_filters"] = [c.label for c in service.choices("project_filter")]
    lists["environments"] = list(ENVIRONMENTS)
    lists["analyses"] = list(ANALYSES)
    companies = service.choices("companies")
    lists["companies"] = [c.label for c in companies]

    def fill(names: tuple[str, ...], **ctx: Any) -> None:
        for name in names:
            try:
                lists[name] = [c.label for c in service.choices(name, **ctx)]
            except _SKIPPABLE as exc:
                notes.append(f"{name}: {exc}")

    if context.get("report") and not is_blank(context["report"]):
        fill(("sub_reports",), report=context["report"])
    company = context.get("company")
    if is_blank(company) and len(companies) == 1:
        company = companies[0].id
    if is_blank(company):
        return lists, notes
    try:
        cid = select("company", company, companies)[0].id
    except ParameterError as exc:
        return lists, [*notes, str(exc)]
    pf = context.get("project_filter")
    pf = "active" if is_blank(pf) else str(pf).strip().casefold()
    fill(("projects",), company_id=cid, project_filter=pf)
    fill(COMPANY_LISTS, company_id=cid)
    project = context.get("project")
    if is_blank(project) or _is_all(project):
        return lists, notes
    try:
        pid = select("project", project, service.choices("projects", company_id=cid, project_filter="all"),
                     where=f"in company {cid}")[0].id
    except _SKIPPABLE as exc:
        return lists, [*notes, str(exc)]
    fill(PROJECT_LISTS, company_id=cid, project_id=pid)
    contract = context.get("contract")
    if is_blank(contract) or _is_all(contract):
        return lists, notes
    try:
        contracts = service.choices("contracts", company_id=cid, project_id=pid)
        kid = select("contract", contract, contracts)[0].id
    except _SKIPPABLE as exc:
        return lists, [*notes, str(exc)]
    fill(CONTRACT_LISTS, company_id=cid, project_id=pid, contract_id=kid)
    return lists, notes


def write_lists(wb: WorkbookWriter, lists: Mapping[str, list[str]]) -> None:
    """Replace the columns of ``_lists`` and point each workbook name at its labels."""
    if LISTS_SHEET not in wb.sheet_names():
        wb.add_sheet(LISTS_SHEET, hidden=True)
    for col, name in enumerate(LIST_NAMES, start=1):
        if name not in lists:
            continue
        labels = list(lists[name])
        old = wb.name_target(LIST_NAMES[name])
        last = max(old[1][2] if old and old[0] == LISTS_SHEET else 2, len(labels) + 1, 2)
        wb.clear(LISTS_SHEET, (1, col, last, col))
        wb.write(LISTS_SHEET, 1, col, [[name]] + [[label] for label in labels])
        wb.set_name(LIST_NAMES[name], LISTS_SHEET, (2, col, max(len(labels) + 1, 2), col))


def ensure_lists(wb: WorkbookWriter) -> None:
    """Create the ``_lists`` names that do not exist yet (empty), so validations can point at them;
    a name whose sheet is gone (``_lists`` deleted: Excel's ``#REF!``) counts as missing, and the
    sheet is made again."""
    sheets = {s.lower() for s in wb.sheet_names()}
    missing = {name: [] for name, wb_name in LIST_NAMES.items()
               if (target := wb.name_target(wb_name)) is None or target[0].lower() not in sheets}
    if missing:
        write_lists(wb, missing)


def repair_lists(wb: WorkbookWriter) -> None:
    """Before a refresh: :func:`ensure_lists` (a deleted ``_lists`` made again), the active
    sheet kept (Excel activates a sheet it adds)."""
    active = wb.active_sheet()
    ensure_lists(wb)
    if active and wb.active_sheet() != active:
        wb.activate(active)


def start_context(wb: WorkbookWriter) -> dict[str, Any]:
    """company / project_filter / project / report as picked on the Start sheet (by workbook
    name when it exists, else by layout.START_CELLS)."""
    from openpyxl.utils import coordinate_to_tuple

    ctx: dict[str, Any] = {}
    for key, name in START_NAMES.items():
        target = wb.name_target(name)
        if target is not None:
            sheet, (r, c, _, _) = target
        elif START_SHEET in wb.sheet_names():
            sheet, (r, c) = START_SHEET, coordinate_to_tuple(START_CELLS[key])
        else:
            continue
        if sheet not in wb.sheet_names():
            continue
        value = wb.read(sheet, r, c, 1, 1)[0][0]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, ""):
            ctx[key] = value
    return ctx
