"""The 70 reports as data.

Each :class:`Report` says WHERE its records live (an :class:`Endpoint` path template with
``{company_id}``, ``{project_id}``, ``{contract_id}``... placeholders and query parameters), WHICH
parent records it must enumerate first (:class:`Each`, resolved by reference to a named list in
:data:`LISTS`), how dates are sent (:class:`Dates`), which nested lists can become rows
(:class:`SubList`), and which columns identify a record. The generic runner (``runner.py``) reads
nothing but this data, so adding report 71 is a few lines here.

Placeholders the runner fills from parameters: ``company_id``, ``project_id`` and ``by_status``
(Procore's ``filters[by_status]`` value for the Project Filter: Active / Inactive / All). Any other
placeholder (``{contract_id}``, ``{rfi_id}``...) is filled by an :class:`Each` (one request per
parent record, in the order the Each entries are listed, so a later parent list may use an earlier
one's placeholder), and ``{id}`` by the record a :class:`SubList` or :class:`Tree` fetches for.
"""
from __future__ import annotations

import difflib
import enum
import re
import string
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from .errors import UnknownReportError, brief
from .reference import FULL, INCREMENTAL, asks_for_changes, versions_children

GROUPS = ("Company", "Company-wide roll-ups", "Project", "Project management", "Safety",
          "Daily logs", "Financials")

# scopes
USER = "user"              # no company needed (Companies)
COMPANY = "company"        # one company
PROJECT = "project"        # one project, or project=all -> every project passing project_filter
ALL_PROJECTS = "all_projects"  # company-wide roll-up: always every project passing project_filter


def _frozen(d: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(d or {}))


class Paging(enum.Enum):
    """How an :class:`Endpoint` is read (:mod:`procore_xl.fetch` does it)."""
    LIST = "list"           # a list with page/per_page: every page (Per-Page, Total, Link)
    ENVELOPE = "envelope"   # each page one object holding the records under record_path (Project
                            # Dates): pages read one after the other until a short one
    SINGLE = "single"       # one GET, whatever comes back (Procore's reference documents no paging)
    SHARED = "shared"       # one GET of a show endpoint several reports read (an RFI with its
                            # answers): fetched once per Discovery, whichever report asks first

    @property
    def paginated(self) -> bool:
        """Sent with page/per_page."""
        return self in (Paging.LIST, Paging.ENVELOPE)


@dataclass(frozen=True)
class Endpoint:
    """One GET. ``query`` values may hold placeholders too (``{"project_id": "{project_id}"}``).

    ``record_path``: keys whose lists hold the records when the body (or each element of it) is an
    object, e.g. ``("people",)``; with several keys the records of each are tagged ``record_type``.
    ``carry``: fields of that enclosing object copied onto each record (meeting ``group_title``).
    ``company_header``: send ``Procore-Company-Id`` (every call except /me and /companies).
    ``paging``: how it is read (:class:`Paging`: a paged list, pages of one object each, one GET,
    one GET shared by the reports of a run).
    """
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    record_path: tuple[str, ...] = ()
    carry: tuple[str, ...] = ()
    company_header: bool = True
    paging: Paging = Paging.LIST

    def __post_init__(self):
        object.__setattr__(self, "query", _frozen(self.query))

    @property
    def version(self) -> str:
        m = re.match(r"/rest/v(\d+\.\d+)/", self.path)
        return m.group(1) if m else ""

    @property
    def placeholders(self) -> set[str]:
        names = {f for _, f, _, _ in string.Formatter().parse(self.path) if f}
        for v in self.query.values():
            names |= {f for _, f, _, _ in string.Formatter().parse(str(v)) if f}
        return names

    def render(self, values: Mapping[str, object]) -> tuple[str, dict[str, str]]:
        """-> (path, query) with placeholders filled from ``values``."""
        missing = self.placeholders - set(values)
        if missing:
            raise KeyError(f"{self.path}: no value for {', '.join(sorted(missing))}")
        vals = {k: _id_text(v) for k, v in values.items()}
        return self.path.format(**vals), {k: str(v).format(**vals) for k, v in self.query.items()}


def _id_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


@dataclass(frozen=True)
class Each:
    """Run the report's endpoint once per record of the list ``source`` (a key of :data:`LISTS`),
    putting the record's ``field`` into ``{placeholder}``. Rows get the parent's ``keys`` as leading
    columns ``<prefix>.<key>``. With ``parameter`` the user picks one parent (name or id) or ``all``;
    without, every parent record is used."""
    placeholder: str
    source: str
    prefix: str
    keys: tuple[str, ...] = ("id",)
    parameter: str | None = None
    field: str = "id"


@dataclass(frozen=True)
class Dates:
    """Date-scoped reports (Procore daily logs): ``log_date`` for one day, else
    ``start_date``/``end_date``; ranges longer than ``chunk_days`` are split. Procore returns only
    today's logs when no date is sent, so the runner always sends one (default: today)."""
    single: str = "log_date"
    start: str = "start_date"
    end: str = "end_date"
    chunk_days: int = 31


@dataclass(frozen=True)
class SubList:
    """A nested list whose elements can become the rows (Sub Report).

    ``path``: dotted path inside the record (``questions.answers`` goes two levels; each level's
    parent keys are carried). ``fetch``: when the list is not in the list response, the endpoint
    fetched per record (``{id}`` = the record's id); ``path`` is then read inside that response
    (empty path: the response itself is the list)."""
    name: str
    path: str
    label: str = ""
    fetch: Endpoint | None = None
    keys: tuple[str, ...] = ("id",)


@dataclass(frozen=True)
class Tree:
    """Recursive resources (folders): each record's ``children`` list holds child records whose
    full content comes from ``fetch`` (``{id}`` = child id). A child whose ``empty_when_false``
    field is ``False`` (a folder's documented ``has_children``) holds nothing: it is not fetched,
    its record is the child as listed with each of ``contents`` an empty list."""
    children: str
    fetch: Endpoint
    empty_when_false: str | None = None
    contents: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    """A named list used for parents and discovery (dropdowns). ``label``: fields tried in order
    for the display label; ``number`` is prefixed when present (``"003 - Foundations"``); the
    bare name, the number and ``aliases`` fields are accepted when typed."""
    endpoints: tuple[Endpoint, ...]
    label: tuple[str, ...] = ("name",)
    number: str | None = None
    scope: str = PROJECT
    aliases: tuple[str, ...] = ()   # other fields a person may type to pick a record


@dataclass(frozen=True)
class Report:
    name: str
    group: str
    endpoint: Endpoint
    scope: str = PROJECT
    entity: str = "record"                     # prefix of parent columns in sub-report rows
    keys: tuple[str, ...] = ("id", "name")     # identity columns, first in the sheet
    each: tuple[Each, ...] = ()
    dates: Dates | None = None
    sub_lists: tuple[SubList, ...] = ()
    default_sub_report: str | None = None      # rows come from this sub-list unless one is chosen
    limit: str | None = None                   # parameter capping the rows (most recent N photos)
    tree: Tree | None = None
    order: tuple[str, ...] = ()                # column order hints after the keys
    newest_by: str | None = None               # with ``limit``: keep the N records newest by this field
    description: str = ""
    note: str = ""                             # why this endpoint, what differs from Procore's data

    @property
    def version(self) -> str:
        return self.endpoint.version

    @property
    def parameters(self) -> tuple[str, ...]:
        """Canonical names of the parameters this report takes, in the order a person fills them."""
        p: list[str] = []
        if self.scope != USER:
            p.append("company")
        if self.scope in (PROJECT, ALL_PROJECTS) or "by_status" in self.endpoint.placeholders:
            p.append("project_filter")
        if self.scope == PROJECT:
            p.append("project")
        for e in self.each:
            if e.parameter:
                p += ["contract", "contract_id"] if e.parameter == "contract" else [e.parameter]
        if self.dates:
            p += ["report_date", "days_back", "start_date", "end_date", "start_days_back",
                  "end_days_back"]
        if self.limit:
            p.append(self.limit)
        if self.sub_lists:
            p.append("sub_report")
        return tuple(p)

    @property
    def refresh(self) -> str:
        """"incremental" when a refresh asks Procore only for what changed: the report's list
        documents ``filters[updated_at]``, or it is a per-parent report whose parents carry
        ``updated_at`` (only new or changed parents are asked again); else "full"."""
        if self.dates or self.limit or self.tree:
            return FULL
        parents = [ep for e in self.each for ep in LISTS[e.source].endpoints]
        if self.endpoint.paging is Paging.LIST and asks_for_changes(self.endpoint.path, self.endpoint.query):
            return INCREMENTAL
        return INCREMENTAL if any((p.paging is Paging.LIST and asks_for_changes(p.path, p.query)) or versions_children(p.path, p.record_path)
                                  for p in parents) else FULL

    def sub_list(self, name: str | None) -> SubList | None:
        if not name:
            return None
        for s in self.sub_lists:
            if s.name == name:
                return s
        return None


# ---------------------------------------------------------------------------------------------
# Named lists: parents of per-parent reports and discovery dropdowns.

def _p(path: str, **query: str) -> Endpoint:
    """Project-scoped endpoint: ``project_id`` query added when the path does not carry it."""
    if "{project_id}" not in path:
        query = {"project_id": "{project_id}", **query}
    return Endpoint(path, query)


def _c(path: str, **query: str) -> Endpoint:
    """Company-scoped endpoint: ``company_id`` query added when the path does not carry it."""
    if "{company_id}" not in path:
        query = {"company_id": "{company_id}", **query}
    return Endpoint(path, query)


# v1.1 successor of the deprecated /rest/v1.0/meetings (same groups [{group_title, meetings}])
MEETINGS_PATH = "/rest/v1.1/projects/{project_id}/meetings"
# Show RFI: the questions with their answers (list records carry questions without answers)
RFI_SHOW = Endpoint("/rest/v1.0/projects/{project_id}/rfis/{id}", paging=Paging.SHARED)
# who signed in, and the companies they read: no Procore-Company-Id unless a service account names one
ME = Endpoint("/rest/v1.0/me", company_header=False, paging=Paging.SINGLE)
COMPANIES = Endpoint("/rest/v1.0/companies", company_header=False)

LISTS: Mapping[str, Source] = MappingProxyType({
    "companies": Source((COMPANIES,), scope=USER),
    # filters[by_status] is set from project_filter by discovery/runner
    "projects": Source((_c("/rest/v1.0/projects", **{"filters[by_status]": "{by_status}"}),),
                       label=("name", "display_name"), aliases=("project_number", "display_name"),
                       scope=COMPANY),
    # commitments = purchase orders + work orders (/rest/v1.0/commitments is deprecated)
    "contracts": Source((_p("/rest/v1.0/prime_contracts"), _p("/rest/v1.0/purchase_order_contracts"),
                         _p("/rest/v1.0/work_order_contracts")),
                        label=("title", "name"), number="number"),
    "prime_contracts": Source((_p("/rest/v1.0/prime_contracts"),), label=("title", "name"),
                              number="number"),
    "pcos": Source((_p("/rest/v1.0/potential_change_orders"),), label=("title",), number="number"),
    "cors": Source((_p("/rest/v1.0/change_order_requests", contract_id="{contract_id}"),),
                   label=("title",), number="number"),
    "vendors": Source((_c("/rest/v1.0/vendors"),), scope=COMPANY),
    "drawing_areas": Source((Endpoint("/rest/v1.1/projects/{project_id}/drawing_areas"),)),
    "meetings": Source((Endpoint(MEETINGS_PATH, record_path=("meetings",), carry=("group_title",)),),
                       label=("title",)),
    "albums": Source((_p("/rest/v1.0/image_categories"),)),
    "cost_code_lists": Source((_c("/rest/v1.0/standard_cost_code_lists"),), scope=COMPANY),
    "rfis": Source((Endpoint("/rest/v1.0/projects/{project_id}/rfis"),), label=("subject",),
                   number="number"),
    "budget_views": Source((_p("/rest/v1.0/budget_views"),)),
})

# Custom field labels (company-wide; records {id, label, data_type}). Read once per run when records
# carry custom_fields; v1.0 /custom_field_definitions is deprecated in favour of this v1.1 path.
CUSTOM_FIELD_DEFINITIONS = Endpoint("/rest/v1.1/companies/{company_id}/custom_field_definitions")

# ---------------------------------------------------------------------------------------------
# The catalog.

_LINE_ITEM_ORDER = ("position", "description", "cost_code.full_code", "cost_code.name", "amount",
                    "quantity", "uom", "unit_cost", "total_amount")
_DAILY = Dates()


def _line_items(path: str) -> SubList:
    return SubList("line_items", "", "Line items", fetch=_p(path))


_TEMPLATE_SHOW = Endpoint("/rest/v1.0/projects/{project_id}/checklist/list_templates/{id}", paging=Paging.SHARED)


_R = [
    # ---- Company --------------------------------------------------------------------------
    Report("Companies", "Company", COMPANIES,
           scope=USER, entity="company", description="Companies the signed-in user can read"),
    Report("Company Users", "Company", Endpoint("/rest/v1.3/companies/{company_id}/users"),
           scope=COMPANY, entity="user", keys=("id", "name", "email_address"),
           order=("first_name", "last_name", "job_title", "is_active", "is_employee", "vendor.name")),
    Report("Company Vendors", "Company", _c("/rest/v1.0/vendors"), scope=COMPANY, entity="vendor",
           keys=("id", "name", "abbreviated_name"),
           sub_lists=(SubList("trades", "trades", "Trades"),
                      SubList("standard_cost_codes", "standard_cost_codes", "Standard cost codes"),
                      SubList("attachments", "attachments", "Attachments"))),
    Report("Company Insurances", "Company", Endpoint("/rest/v1.0/companies/{company_id}/insurances"),
           scope=COMPANY, entity="insurance", keys=("id", "vendor_id", "insurance_type", "policy_number")),
    Report("Company Vendor Insurances", "Company",
           Endpoint("/rest/v1.0/companies/{company_id}/vendors/{vendor_id}/insurances"),
           scope=COMPANY, entity="insurance", keys=("id", "insurance_type", "policy_number"),
           each=(Each("vendor_id", "vendors", "vendor", ("id", "name"), parameter="vendor"),)),
    Report("Trades", "Company", Endpoint("/rest/v1.0/companies/{company_id}/trades"),
           scope=COMPANY, entity="trade"),
    Report("Programs", "Company", Endpoint("/rest/v1.0/companies/{company_id}/programs"),
           scope=COMPANY, entity="program"),
    Report("Harm Sources", "Company", Endpoint("/rest/v1.0/companies/{company_id}/incidents/harm_sources"),
           scope=COMPANY, entity="harm_source"),
    Report("Line Item Types", "Company", _c("/rest/v1.0/line_item_types", project_id="{project_id}"),
           entity="line_item_type", keys=("id", "code", "name"),
           note="Procore documents company_id and project_id as required: line item types are "
                "company settings read through one project (pick any project of the company)."),
    Report("Change Reason Templates", "Company",
           Endpoint("/rest/v2.0/companies/{company_id}/change_order_change_reasons"),
           scope=COMPANY, entity="change_reason", keys=("id", "change_reason"),
           order=("show_in_select", "deletable"),
           note="Name mapping (M): Procore's change-order change reasons are the company's "
                "templates of reasons offered on change orders. Reads the v2.0 list (the v1.0 "
                "one is an older version): ids come as text, company_id is no longer a column, "
                "deletable is new."),
    Report("Standard Cost Code Lists", "Company", _c("/rest/v1.0/standard_cost_code_lists"),
           scope=COMPANY, entity="cost_code_list",
           note="/rest/v1.0/standard_cost_code_lists is deprecated (to be replaced by the WBS "
                "segment item lists) and kept: the successor needs the cost code segment and "
                "does not document its list ids as the standard_cost_code_list_id that Standard "
                "Cost Codes sends."),
    Report("Standard Cost Codes", "Company",
           _c("/rest/v1.0/standard_cost_codes", standard_cost_code_list_id="{cost_code_list_id}"),
           scope=COMPANY, entity="cost_code", keys=("id", "full_code", "code", "name"),
           each=(Each("cost_code_list_id", "cost_code_lists", "cost_code_list", ("id", "name"),
                      parameter="cost_code_list"),),
           note="The lists come from the deprecated /rest/v1.0/standard_cost_code_lists (see "
                "Standard Cost Code Lists)."),
    Report("Projects", "Company", _c("/rest/v1.0/projects", **{"filters[by_status]": "{by_status}"}),
           scope=COMPANY, entity="project",
           keys=("id", "project_number", "name"),
           order=("display_name", "active", "stage", "start_date", "completion_date", "city",
                  "state_code"),
           description="Projects of the company (Project Filter applies; active by default)"),

    # ---- Company-wide roll-ups ------------------------------------------------------------
    Report("All RFI Replies", "Company-wide roll-ups",
           Endpoint("/rest/v1.0/projects/{project_id}/rfis/{rfi_id}/replies"),
           scope=ALL_PROJECTS, entity="reply", keys=("id",),
           each=(Each("rfi_id", "rfis", "rfi", ("id", "number", "subject")),),
           sub_lists=(SubList("attachments", "attachments", "Attachments"),),
           description="Replies of every RFI of every project (one request per RFI)"),
    Report("All Activity Details", "Company-wide roll-ups",
           Endpoint("/rest/v1.0/projects/{project_id}/rfis/{rfi_id}", paging=Paging.SHARED),
           scope=ALL_PROJECTS, entity="rfi", keys=("id", "number", "subject"),
           each=(Each("rfi_id", "rfis", "rfi", ("id",)),),
           sub_lists=(SubList("questions", "questions", "Questions"),
                      SubList("answers", "questions.answers", "Answers"),
                      SubList("distribution_list", "distribution_list", "Distribution list")),
           default_sub_report="questions",
           description="Activity (questions and answers) of every RFI of every project",
           note="No company-wide RFI activity endpoint exists (procore_api.md 3.1, L). The RFI "
                "show endpoint carries each RFI's questions with their answers, which is the "
                "RFI's activity; project recent_activity mixes every tool and was not chosen. "
                "One show request per RFI, shared with the RFIs report's Answers in one run."),

    # ---- Project ---------------------------------------------------------------------------
    Report("Project Details", "Project",
           Endpoint("/rest/v1.0/projects/{project_id}", {"company_id": "{company_id}"}, paging=Paging.SINGLE),
           entity="project", keys=("id", "project_number", "name"),
           sub_lists=(SubList("departments", "departments", "Departments"),)),
    Report("Project Details (Budget)", "Project",
           Endpoint("/rest/v1.0/budget_views/{budget_view_id}/detail_rows",
                    {"project_id": "{project_id}"}),
           entity="budget_row", keys=("id", "cost_code", "category"),
           each=(Each("budget_view_id", "budget_views", "budget_view", ("id", "name")),),
           order=("original_budget_amount", "budget_modifications", "budget_forecast.amount"),
           note="Mapping M: /projects/{id}/budget returns only {locked}; the budget detail data "
                "is the budget views' detail rows (one row per budget line, every view)."),
    Report("Project Dates", "Project",
           Endpoint("/rest/v1.0/projects/{project_id}/project_dates", record_path=("project_dates",),
                    paging=Paging.ENVELOPE),
           entity="project_date", keys=("id", "name", "date"),
           note="Each page is {schedule_dates, project_dates}: every page is read, the "
                "project_dates become the rows."),
    Report("Project Folders", "Project",
           Endpoint("/rest/v1.0/folders", {"project_id": "{project_id}"}, paging=Paging.SINGLE),
           entity="folder", keys=("id", "name_with_path", "name"),
           tree=Tree("folders", Endpoint("/rest/v1.0/folders/{id}", {"project_id": "{project_id}"},
                                         paging=Paging.SINGLE),
                     empty_when_false="has_children", contents=("folders", "files")),
           sub_lists=(SubList("files", "files", "Files"),
                      SubList("file_versions", "files.file_versions", "File versions")),
           description="Every folder of the project, recursively (sub report Files: one row per file)"),
    Report("Project Insurances", "Project", Endpoint("/rest/v1.0/projects/{project_id}/insurances"),
           entity="insurance", keys=("id", "vendor_id", "insurance_type", "policy_number")),
    Report("Project Roles", "Project", _p("/rest/v1.0/project_roles"), entity="role",
           keys=("id", "role", "user_id", "name")),
    Report("Project Users", "Project", Endpoint("/rest/v1.0/projects/{project_id}/users"),
           entity="user", keys=("id", "name", "email_address")),
    Report("Project Vendors", "Project", Endpoint("/rest/v1.1/projects/{project_id}/vendors"),
           entity="vendor", keys=("id", "name", "abbreviated_name"),
           sub_lists=(SubList("trades", "trades", "Trades"),
                      SubList("attachments", "attachments", "Attachments"))),
    Report("Locations", "Project", Endpoint("/rest/v1.0/projects/{project_id}/locations"),
           entity="location", keys=("id", "code", "name", "node_name")),
    Report("Cost Codes", "Project", _p("/rest/v1.0/cost_codes"), entity="cost_code",
           keys=("id", "full_code", "code", "name"),
           sub_lists=(SubList("line_item_types", "line_item_types", "Line item types"),)),
    Report("Equipment", "Project", Endpoint("/rest/v1.0/projects/{project_id}/managed_equipment"),
           entity="equipment",
           note="Mapping M: the project's managed equipment (the current Equipment tool) rather "
                "than the legacy daily-log /equipment list that has only id and name."),
    Report("Calendar Events", "Project",
           Endpoint("/rest/v1.0/projects/{project_id}/schedule/calendar_items"),
           entity="event", keys=("id", "name", "task_name"),
           order=("start", "finish", "percentage", "milestone", "assigned.name"),
           note="Mapping M: the project's schedule calendar items. /rest/v1.0/calendar_events "
                "(tasks + todos) is deprecated (not accurate across time zones); its successor "
                "lists calendar items with start/finish instead of start_datetime/"
                "finish_datetime, and no record_type column (schedule tasks are not included)."),
    Report("Punch Item Types", "Project", _p("/rest/v1.0/punch_item_types"), entity="punch_item_type"),
    Report("TimeCard Time Types", "Project", _p("/rest/v1.0/timecard_time_types"),
           entity="time_type", keys=("id", "time_type", "abbreviated_time_type")),

    # ---- Project management ----------------------------------------------------------------
    Report("RFIs", "Project management", Endpoint("/rest/v1.0/projects/{project_id}/rfis"),
           entity="rfi", keys=("id", "number", "subject"),
           order=("status", "due_date", "assignee.name", "rfi_manager.name", "created_at"),
           sub_lists=(
               SubList("questions", "questions", "Questions"),
               SubList("answers", "questions.answers", "Answers", fetch=RFI_SHOW),
               SubList("assignees", "assignees", "Assignees"),
               SubList("ball_in_courts", "ball_in_courts", "Ball in court"))),
    Report("Submittals", "Project management", Endpoint("/rest/v1.1/projects/{project_id}/submittals"),
           entity="submittal", keys=("id", "number", "title"),
           order=("formatted_number", "revision", "status.name", "type.name", "due_date"),
           sub_lists=(SubList("approvers", "approvers", "Approvers"),
                      SubList("ball_in_court", "ball_in_court", "Ball in court"),
                      SubList("distribution_members", "distribution_members", "Distribution members"),
                      SubList("attachments", "associated_attachments", "Attachments"))),
    Report("Meetings", "Project management",
           Endpoint(MEETINGS_PATH, record_path=("meetings",), carry=("group_title",)),
           entity="meeting", keys=("id", "title", "group_title"),
           order=("starts_at", "ends_at", "location", "occurred", "position"),
           note="Meeting groups [{group_title, meetings}]; each meeting is a row carrying its "
                "group_title. Reads v1.1 (/rest/v1.0/meetings is deprecated): starts_at/ends_at "
                "replace meeting_date."),
    Report("Meetings Categories", "Project management",
           _p("/rest/v1.0/meeting_categories", meeting_id="{meeting_id}"),
           entity="category", keys=("id", "title", "position"),
           each=(Each("meeting_id", "meetings", "meeting", ("id", "title"), parameter="meeting"),)),
    Report("Drawing Areas", "Project management",
           Endpoint("/rest/v1.0/projects/{project_id}/drawing_areas"), entity="drawing_area",
           sub_lists=(SubList("drawing_sets", "drawing_sets", "Drawing sets"),
                      SubList("drawing_disciplines", "drawing_disciplines", "Disciplines")),
           note="Reads the v1.0 list: only it returns each area's drawing_sets and "
                "drawing_disciplines (the v1.1 list does not)."),
    Report("Drawings", "Project management",
           _p("/rest/v1.1/drawing_areas/{drawing_area_id}/drawings"),
           entity="drawing", keys=("id", "number", "title"),
           order=("discipline", "obsolete", "current_revision.revision_number"),
           each=(Each("drawing_area_id", "drawing_areas", "drawing_area", ("id", "name"),
                      parameter="drawing_area"),)),
    Report("Checklists", "Project management",
           Endpoint("/rest/v1.0/projects/{project_id}/checklist/lists"), entity="checklist",
           keys=("id", "number", "name"),
           order=("status", "inspection_date", "due_at", "list_template_name"),
           sub_lists=(SubList("inspectors", "inspectors", "Inspectors"),
                      SubList("distribution_members", "distribution_members", "Distribution members"),
                      SubList("attachments", "attachments", "Attachments"))),
    Report("Checklist Templates", "Project management",
           Endpoint("/rest/v1.0/projects/{project_id}/checklist/list_templates"),
           entity="template",
           sub_lists=(SubList("sections", "sections", "Sections", fetch=_TEMPLATE_SHOW),
                      SubList("items", "sections.items", "Section items", fetch=_TEMPLATE_SHOW)),
           note="Sections and their items come from the template's show endpoint (one request "
                "per template, shared by both sub reports); the list does not return them."),
    Report("Inspectors (checklists)", "Project management",
           Endpoint("/rest/v2.0/companies/{company_id}/projects/{project_id}/inspections/inspectors"),
           entity="inspector", keys=("id", "name", "login"), order=("company_name",),
           note="Reads the v2.0 inspector list (/rest/v1.0/checklist/possible_inspectors is "
                "deprecated): ids come as text and company_name replaces the company object."),
    Report("Photo Albums", "Project management", _p("/rest/v1.0/image_categories"), entity="album",
           order=("count", "private", "position")),
    Report("Photos", "Project management", _p("/rest/v1.0/images", image_category_id="{album_id}"),
           entity="photo", keys=("id", "filename", "description"),
           order=("taken_at", "created_at", "image_category_name", "url"),
           each=(Each("album_id", "albums", "album", ("id", "name"), parameter="album"),),
           sub_lists=(SubList("trades", "trades", "Trades"),)),
    Report("Recently Updated Photos", "Project management",
           _p("/rest/v1.0/images"), entity="photo",
           keys=("id", "filename", "description"),
           order=("updated_at", "taken_at", "image_category_name", "url"), limit="photos",
           newest_by="updated_at",
           note="Mapping M: the N most recently updated images (Number of photos). Procore "
                "documents no updated_at sort for images, so every image of the project is read "
                "and the newest N are kept."),

    # ---- Safety ----------------------------------------------------------------------------
    Report("Incidents", "Safety", Endpoint("/rest/v1.0/projects/{project_id}/incidents"),
           entity="incident", keys=("id", "number", "title"),
           order=("status", "event_date", "recordable")),
    Report("Injuries", "Safety", Endpoint("/rest/v1.0/projects/{project_id}/incidents/injuries"),
           entity="injury", keys=("id", "incident_id")),
    Report("Near Misses", "Safety", Endpoint("/rest/v1.0/projects/{project_id}/incidents/near_misses"),
           entity="near_miss", keys=("id", "incident_id")),
    Report("Property Damages", "Safety",
           Endpoint("/rest/v1.0/projects/{project_id}/incidents/property_damages"),
           entity="property_damage", keys=("id", "incident_id")),
    Report("Environmentals", "Safety",
           Endpoint("/rest/v1.0/projects/{project_id}/incidents/environmentals"),
           entity="environmental", keys=("id", "incident_id")),
]

_DAILY_LOGS = [
    ("Manpower Logs", "manpower_logs", "manpower_log", ("id", "date"),
     ("vendor.name", "num_workers", "num_hours", "man_hours", "status"), {"filters[status]": "approved"}),
    ("Notes Logs", "notes_logs", "notes_log", ("id", "date"), ("comment", "is_issue_day"), {}),
    ("Plan Revision Logs", "plan_revision_logs", "plan_revision_log", ("id", "date"), (), {}),
    ("Quantity Logs", "quantity_logs", "quantity_log", ("id", "date"), ("cost_code.name", "quantity"), {}),
    ("Visitor Logs", "visitor_logs", "visitor_log", ("id", "date"), ("subject", "details"), {}),
    ("Waste Logs", "waste_logs", "waste_log", ("id", "date"), ("vendor.name",), {}),
    ("Work Logs", "work_logs", "work_log", ("id", "date"), ("resource_name", "workers", "hours"), {}),
    ("TimeCard Entries", "timecard_entries", "timecard_entry", ("id", "date"),
     ("party.name", "hours", "timecard_time_type.time_type", "approval_status"), {}),
]
# documented without attachments in their list records (no Attachments sub report)
_NO_ATTACHMENTS = ("visitor_logs", "timecard_entries")
_DAILY_NOTES = {
    "manpower_logs": "reports.md: Manpower Logs are the approved logs.",
    "plan_revision_logs": "Procore documents this list without paging: one request per date chunk.",
    "visitor_logs": "No Attachments sub report: Procore's visitor log records carry no attachments.",
    "timecard_entries": "No Attachments sub report: Procore's timecard entry records carry no "
                        "attachments.",
}
for _name, _res, _entity, _keys, _order, _q in _DAILY_LOGS:
    _R.append(Report(
        _name, "Daily logs",
        Endpoint(f"/rest/v1.0/projects/{{project_id}}/{_res}", _q,
                 paging=Paging.SINGLE if _res == "plan_revision_logs" else Paging.LIST),
        entity=_entity, keys=_keys, order=_order, dates=_DAILY,
        sub_lists=(() if _res in _NO_ATTACHMENTS else (SubList("attachments", "attachments", "Attachments"),))
        + ((SubList("scheduled_tasks", "scheduled_tasks", "Scheduled tasks"),) if _res == "work_logs" else ()),
        description="Approved manpower logs only (Procore's filters[status]=approved)"
        if _res == "manpower_logs" else "",
        note=_DAILY_NOTES.get(_res, "")))

_CONTRACT_KEYS = ("id", "number", "title")
# Contract (from the discovered list, name or id, or `all`) or Contract ID typed by hand.
_CONTRACT = Each("contract_id", "contracts", "contract", ("id", "number", "title"), parameter="contract")
_R += [
    # ---- Financials ------------------------------------------------------------------------
    Report("Budget Items", "Financials",
           Endpoint("/rest/v2.0/companies/{company_id}/projects/{project_id}/budget_line_items"),
           entity="budget_item", keys=("id", "wbs_code.flat_code", "wbs_code.description"),
           order=("original_budget_amount", "quantity", "uom", "unit_cost"),
           note="Mapping M: v1 has no list of budget line items; v2.0 budget_line_items (beta, "
                "string ids, max 100/page) lists them. Budget view rows are Project Details (Budget)."),
    Report("Direct Costs", "Financials", Endpoint("/rest/v1.1/projects/{project_id}/direct_costs"),
           entity="direct_cost", keys=("id", "invoice_number", "description"),
           order=("direct_cost_type", "direct_cost_date", "status", "vendor_name", "grand_total"),
           sub_lists=(SubList("line_items", "", "Line items", fetch=Endpoint(
               "/rest/v1.0/projects/{project_id}/direct_costs/{id}/line_items")),)),
    Report("Purchase Order Contract", "Financials", _p("/rest/v1.0/purchase_order_contracts"),
           entity="contract", keys=_CONTRACT_KEYS,
           order=("status", "executed", "vendor.company", "grand_total", "revised_contract"),
           sub_lists=(_line_items("/rest/v1.0/purchase_order_contracts/{id}/line_items"),)),
    Report("Work Order Contract", "Financials", _p("/rest/v1.0/work_order_contracts"),
           entity="contract", keys=_CONTRACT_KEYS,
           order=("status", "executed", "vendor.company", "grand_total", "revised_contract"),
           sub_lists=(_line_items("/rest/v1.0/work_order_contracts/{id}/line_items"),)),
    Report("Contract Payments", "Financials",
           _p("/rest/v1.0/contract_payments", contract_id="{contract_id}"),
           entity="payment", keys=("id", "payment_number", "invoice_number"),
           order=("date", "amount", "status", "check_number"), each=(_CONTRACT,),
           sub_lists=(SubList("attachments", "attachments", "Attachments"),)),
    Report("Change Orders", "Financials",
           _p("/rest/v1.0/change_order_packages", contract_id="{contract_id}"),
           entity="change_order", keys=_CONTRACT_KEYS, order=("status", "revision", "grand_total"),
           each=(_CONTRACT,),
           note="Mapping M: change_order_packages with contract_id works for any contract (prime "
                "or commitment); the newer prime/commitment change order lists are per kind."),
    Report("Change Orders Requests", "Financials",
           _p("/rest/v1.0/change_order_requests", contract_id="{contract_id}"),
           entity="cor", keys=_CONTRACT_KEYS, order=("status", "revision", "grand_total"),
           each=(_CONTRACT,)),
    Report("Change Order Request Details", "Financials",
           Endpoint("/rest/v1.0/change_order_requests/{cor_id}",
                    {"project_id": "{project_id}", "contract_id": "{contract_id}"}, paging=Paging.SINGLE),
           entity="cor", keys=_CONTRACT_KEYS,
           each=(_CONTRACT, Each("cor_id", "cors", "cor", ("id",), parameter="cor")),
           order=("status", "description", "grand_total"),
           sub_lists=(SubList("attachments", "attachments", "Attachments"),)),
    Report("Potential Change Orders", "Financials", _p("/rest/v1.0/potential_change_orders"),
           entity="pco", keys=_CONTRACT_KEYS,
           order=("contract_id", "status", "change_reason", "grand_total")),
    Report("Potential Change Order Details", "Financials",
           _p("/rest/v1.0/potential_change_orders/{pco_id}/line_items"),
           entity="line_item", keys=("id", "position", "description"), order=_LINE_ITEM_ORDER,
           each=(Each("pco_id", "pcos", "pco", ("id", "number", "title"), parameter="pco"),),
           description="Line items of each potential change order (All or Manual)"),
    Report("Prime Contract (Attachment)", "Financials", _p("/rest/v1.0/prime_contracts"),
           entity="prime_contract", keys=_CONTRACT_KEYS,
           sub_lists=(SubList("attachments", "attachments", "Attachments"),),
           default_sub_report="attachments",
           description="Attachments of the project's prime contracts"),
    Report("Prime Contract (Change Orders)", "Financials",
           Endpoint("/rest/v1.0/projects/{project_id}/prime_change_orders", {"view": "extended"},
                    paging=Paging.SINGLE),
           entity="change_order", keys=_CONTRACT_KEYS,
           order=("contract_id", "status", "revision", "grand_total", "executed"),
           sub_lists=(SubList("change_events", "change_events", "Change events"),),
           note="Mapping M: project-scoped prime change orders (every prime contract), with "
                "view=extended: only that view includes their change events. Documented without "
                "paging: one request per project."),
    Report("Prime Contract (Line Items)", "Financials",
           _p("/rest/v1.0/prime_contracts/{prime_contract_id}/line_items"),
           entity="line_item", keys=("id", "position", "description"), order=_LINE_ITEM_ORDER,
           each=(Each("prime_contract_id", "prime_contracts", "prime_contract", _CONTRACT_KEYS),)),
    Report("Prime Contract (Order Packages)", "Financials",
           _p("/rest/v1.0/change_order_packages", contract_id="{prime_contract_id}"),
           entity="package", keys=_CONTRACT_KEYS, order=("status", "revision", "grand_total"),
           each=(Each("prime_contract_id", "prime_contracts", "prime_contract", ("id", "number")),)),
    Report("Prime Contract (Order Requests)", "Financials",
           _p("/rest/v1.0/change_order_requests", contract_id="{prime_contract_id}"),
           entity="cor", keys=_CONTRACT_KEYS, order=("status", "revision", "grand_total"),
           each=(Each("prime_contract_id", "prime_contracts", "prime_contract", ("id", "number")),)),
    Report("Prime Contract (Payment Received)", "Financials",
           _p("/rest/v1.0/contract_payments", contract_id="{prime_contract_id}"),
           entity="payment", keys=("id", "payment_number", "invoice_number"),
           order=("date", "amount", "status", "check_number"),
           each=(Each("prime_contract_id", "prime_contracts", "prime_contract", ("id", "number")),),
           note="Mapping L: payments received from the owner = contract payments of each prime "
                "contract (contract_payments?contract_id=<prime id>), not owner invoices "
                "(payment_applications), which are billed, not received."),
]

REPORTS: Mapping[str, Report] = MappingProxyType({r.name: r for r in _R})
assert len(REPORTS) == len(_R), "duplicate report name"


def _norm(s: str) -> str:
    return " ".join(str(s).split()).casefold()


def find_report(name: str) -> Report:
    """The report named ``name``, forgiving case and extra spaces; else UnknownReportError that
    suggests the closest names."""
    if isinstance(name, Report):
        return name
    wanted = _norm(name or "")
    if not wanted:
        raise UnknownReportError('No report named - give a report name, e.g. "RFIs" (`procore-xl reports` '
                                 "lists them)", parameter="report", choices=list(REPORTS))
    for r in REPORTS.values():
        if _norm(r.name) == wanted:
            return r
    by_norm = {_norm(n): n for n in REPORTS}
    close = [by_norm[n] for n in difflib.get_close_matches(wanted, by_norm, n=3, cutoff=0.6)]
    if not close:
        close = [n for k, n in by_norm.items() if wanted and (wanted in k or k in wanted)][:3]
    hint = (" - did you mean " + " or ".join(f'"{c}"' for c in close) + "?") if close \
        else " - run `procore-xl reports` for the list of reports"
    raise UnknownReportError(f'Unknown report "{brief(name)}"{hint}', parameter="report",
                             choices=list(REPORTS))
