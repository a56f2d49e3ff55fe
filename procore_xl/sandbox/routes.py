"""The endpoint table of the sandbox API (``ROUTES``: path pattern -> handler): every path the report
catalog reads, as Procore serves it, with the handlers specific to one endpoint (the generic ones and
the path matching are in ``handlers``)."""
from __future__ import annotations

from itertools import groupby

from .entities import CONTRACTS, folder_parent_index, project_users, project_vendors
from .handlers import (ApiError, ApiRequest, Body, Listing, Route, child_listing, filtered, listing, not_found,
                       recycle_bin, show)


# ---------------------------------------------------------------- identity, companies, projects
def me(req: ApiRequest) -> Body:
    return Body({"id": req.user["id"], "login": req.user["login"], "name": req.user["name"]})


def companies(req: ApiRequest) -> Listing:
    return Listing(req.world.member_companies())


def _projects_by_status(req: ApiRequest, company_id: int) -> list[dict]:
    status = req.params.get("filters[by_status]", "Active")
    projects = req.world.company_projects(company_id)
    if status == "All":
        return projects
    if status not in ("Active", "Inactive"):
        raise ApiError(400, "filters[by_status] must be Active, Inactive or All")
    return [p for p in projects if p["active"] == (status == "Active")]


def projects(req: ApiRequest) -> Listing:
    if req.company is None:
        raise ApiError(400, "company_id is missing")
    return listing_of(req, _projects_by_status(req, req.company["id"]))


def company_projects(req: ApiRequest) -> Listing:
    return Listing(req.world.company_projects(req.company["id"]), paged=False)


def listing_of(req: ApiRequest, records: list[dict]) -> Listing:
    return Listing(filtered(req, records, (), False))


def project_show(req: ApiRequest) -> Body:
    p = req.project
    return Body({**p, "logo_url": None, "template": False, "tz_name": "America/Los_Angeles",
                 "description": f"{p['name']} — new construction and fit-out.", "square_feet": 120000 + p["id"] % 100,
                 "warranty_start_date": None, "warranty_end_date": None, "flag": None, "public_notes": None,
                 "actual_start_date": p["start_date"], "projected_finish_date": p["completion_date"],
                 "estimated_start_date": p["start_date"], "estimated_completion_date": p["completion_date"],
                 "standard_cost_code_list_id": None, "is_erp_integrated": False,
                 "inbound_email": f"project-{p['id']}@inbound.procore.example", "code": p["project_number"],
                 "persistent_message": {"title": None, "message": None},
                 "office": {"id": 4001, "name": "San Francisco Office", "address": "1 Harbor Way", "city": "San Francisco",
                            "state_code": "CA", "country_code": "US", "zip": "94105", "phone": None, "fax": None,
                            "division": "West", "logo": None},
                 "project_bid_type": None, "project_owner_type": {"id": 11, "name": "Private"},
                 "project_region": {"id": 21, "name": "Bay Area"}, "project_type": {"id": 31, "name": "Commercial"},
                 "program": None, "departments": [{"id": 41, "name": "Operations"}, {"id": 42, "name": "Préconstruction"}]})


# ---------------------------------------------------------------- RFIs
def rfi_show(req: ApiRequest, rfi: dict) -> dict:
    replies = req.world.records("rfi_replies", rfi)
    questions = []
    for j, q in enumerate(rfi["questions"]):
        answers = [reply_shape(r) for r in replies] if j == 0 else []
        questions.append({"id": q["id"], "question_date": rfi["initiated_at"][:10], "plain_text_body": q["body"],
                          "rich_text_body": f"<p>{q['body']}</p>", "created_by": rfi["created_by"]["name"],
                          "attachments": [], "answers": answers})
    return {**rfi, "questions": questions, "distribution_list": rfi["assignees"][:1],
            "specification_section": {"id": 3100 + rfi["id"] % 7, "number": "03 30 00", "description": "Cast-in-Place Concrete"},
            "drawing_ids": [], "drawing_number": None, "accepted": rfi["status"] == "closed", "draft": rfi["status"] == "draft",
            "ball_in_court_role": "rfi_manager" if rfi["ball_in_courts"] else None,
            "custom_textfield_1": {"label": "Discipline", "value": None}, "custom_textfield_2": {"label": "Zone", "value": None}}


def reply_shape(r: dict) -> dict:
    """A reply as Procore documents it (the replies list and the answers of Show RFI)."""
    return {"id": r["id"], "official": r["official"], "answer_date": r["answer_date"],
            "plain_text_body": r["plain_text_body"], "rich_text_body": f"<p>{r['plain_text_body']}</p>",
            "created_by": r["created_by"], "created_by_id": r["created_by_id"], "attachments": r["attachments"]}


def rfi_replies(req: ApiRequest) -> Listing:
    rfi = req.world.find("rfis", req.project, req.int_arg("rfi_id"))
    if rfi is None:
        raise ApiError(404, "404 Not Found")
    return Listing([reply_shape(r) for r in req.world.records("rfi_replies", rfi)])


# ---------------------------------------------------------------- project directory and settings
def users_of_project(req: ApiRequest) -> Listing:
    return listing_of(req, project_users(req.world, req.project))


def vendors_of_project(req: ApiRequest) -> Listing:
    return listing_of(req, project_vendors(req.world, req.project))


def project_dates(req: ApiRequest) -> Listing:
    """Paged; each page is ``{schedule_dates, project_dates: [this page's dates]}``."""
    p = req.project
    schedule = {"substantial_completion_date": p["completion_date"], "finish_variance": 4, "percentage_complete": 37.5}
    return Listing(req.world.records("project_dates", p),
                   shape=lambda page: {"schedule_dates": schedule, "project_dates": page})


def calendar_items(req: ApiRequest) -> Listing:
    """The schedule's calendar items (successor of the deprecated /calendar_events to-dos)."""
    items = [{"id": t["id"], "name": t["name"], "task_name": t["task_name"], "description": t["description"],
              "start": t["start_datetime"][:10], "finish": t["finish_datetime"][:10], "percentage": t["percentage"],
              "milestone": t["milestone"], "private": t["private"], "color": "#2D9CDB",
              "full_outline_path": t["name"], "assigned": t["created_by"], "created_by": t["created_by"],
              "updated_at": t["updated_at"]} for t in req.world.records("todos", req.project)]
    return listing_of(req, items)


def inspectors(req: ApiRequest) -> Listing:
    """v2.0 inspectors of the project's checklists (successor of /checklist/possible_inspectors)."""
    company = req.project["company"]
    return Listing([{"id": u["id"], "login": u["email_address"], "name": u["name"], "company_name": company["name"]}
                    for u in project_users(req.world, req.project)])


def calendar_events(req: ApiRequest) -> Body:
    tasks = req.world.records("schedule_tasks", req.project)
    return Body({"schedule_tasks_last_updated_at": max(t["finish_datetime"] for t in tasks) if tasks else None,
                 "tasks": tasks, "todos": req.world.records("todos", req.project)})


def possible_inspectors(req: ApiRequest) -> Body:
    company = req.project["company"]
    return Body({"people": [{"id": u["id"], "login": u["email_address"], "name": u["name"],
                             "company": {"id": company["id"], "name": company["name"]}}
                            for u in project_users(req.world, req.project)]})


def folder(req: ApiRequest) -> Body:
    """``/folders`` (the root) or ``/folders/{id}``: the folder with its sub-folders and files."""
    folders = req.world.records("folders", req.project)
    folder_id = req.int_arg("id", required=False) if "id" in req.args else None
    if folder_id is None:
        index = 0
    else:
        index = next((k for k, f in enumerate(folders) if f["id"] == folder_id), None)
        if index is None:
            raise not_found()
    return Body(folder_body(req, folders, index, deep=True))


def folder_body(req: ApiRequest, folders: list[dict], index: int, *, deep: bool) -> dict:
    record = folders[index]
    children = [k for k in range(len(folders)) if folder_parent_index(k) == index]
    files = req.world.records("files", record)
    parent = folder_parent_index(index)
    body = {**record, "parent_id": folders[parent]["id"] if parent is not None else None,
            "has_children": bool(children or files), "has_children_files": bool(files),
            "has_children_folders": bool(children)}
    if deep:
        body["folders"] = [folder_body(req, folders, k, deep=False) for k in children]
        body["files"] = files
    return body


def meeting_groups(meetings: list[dict]) -> list[dict]:
    """v1.0 meetings: ``[{group_title, meetings: [...]}]`` (records keep their order within a group)."""
    ordered = sorted(meetings, key=lambda m: m["group_title"])
    return [{"group_title": title, "meetings": [{k: v for k, v in m.items() if k != "group_title"} for m in group]}
            for title, group in groupby(ordered, key=lambda m: m["group_title"])]


def meetings_grouped(req: ApiRequest) -> Listing:
    return Listing(filtered(req, req.world.records("meetings", req.project), (), False), shape=meeting_groups)


def company_timecard_entries(req: ApiRequest) -> Listing:
    records = [r for p in req.world.readable_projects(req.company["id"]) for r in req.world.records("timecard_entries", p)]
    return Listing(filtered(req, records, ("party_id",), True))


# ---------------------------------------------------------------- financials
def commitments(req: ApiRequest) -> Listing:
    records = [r for kind in CONTRACTS[1:] for r in req.world.records(kind, req.project)]
    return listing_of(req, records)


def first_prime_contract(req: ApiRequest) -> Body:
    contracts = req.world.records("prime_contracts", req.project)
    if not contracts:
        raise not_found()
    return Body(contracts[0])


def change_order_request(req: ApiRequest) -> Body:
    cor_id, contract_id = req.int_arg("cor_id"), req.int_arg("contract_id", required=False)
    for cor in req.world.within("change_order_requests", req.project):
        if cor["id"] == cor_id and contract_id in (None, cor["contract_id"]):
            return Body(cor)
    raise not_found()


def prime_change_orders(req: ApiRequest) -> Listing:
    """Documented without paging; only ``view=extended`` includes each change order's change events."""
    records = filtered(req, req.world.within("prime_change_orders", req.project), (), False)
    if req.params.get("view") != "extended":
        records = [{k: v for k, v in r.items() if k != "change_events"} for r in records]
    return Listing(records, paged=False)


DAILY_LOGS = ("manpower_logs", "notes_logs", "plan_revision_logs", "quantity_logs", "visitor_logs", "waste_logs",
              "work_logs", "timecard_entries")
V = "/rest/v1.0"

ROUTES: list[Route] = [
    # identity, companies, projects
    Route(f"{V}/me", me, company_header=False),
    Route(f"{V}/companies", companies, company_header=False),
    Route(f"{V}/projects", projects),
    Route("/rest/v1.1/projects", projects),
    Route(f"{V}/projects/{{project_id}}", project_show),
    Route(f"{V}/companies/{{company_id}}/projects", company_projects),
    # company level
    *[Route(f"/rest/v1.{n}/companies/{{company_id}}/users", listing("company_users", "company")) for n in range(4)],
    *[Route(f"/rest/v1.{n}/users", listing("company_users", "company")) for n in range(4)],
    Route(f"{V}/vendors", listing("vendors", "company")),
    Route(f"{V}/companies/{{company_id}}/insurances", listing("company_insurances", "company")),
    Route(f"{V}/companies/{{company_id}}/vendors/{{vendor_id}}/insurances",
          child_listing("vendor_insurances", "vendor_id", scope="company")),
    Route(f"{V}/companies/{{company_id}}/trades", listing("trades", "company")),
    Route(f"{V}/companies/{{company_id}}/programs", listing("programs", "company")),
    Route(f"{V}/companies/{{company_id}}/incidents/harm_sources", listing("harm_sources", "company")),
    Route(f"{V}/line_item_types", listing("line_item_types", "company")),
    Route(f"{V}/change_order_change_reasons", listing("change_reasons", "company")),
    Route("/rest/v2.0/companies/{company_id}/change_order_change_reasons", listing("change_reasons", "company")),
    Route(f"{V}/standard_cost_code_lists", listing("standard_cost_code_lists", "company")),
    Route(f"{V}/standard_cost_codes", child_listing("standard_cost_codes", "standard_cost_code_list_id", scope="company")),
    Route("/rest/v1.1/companies/{company_id}/custom_field_definitions", listing("custom_field_definitions", "company")),
    Route(f"{V}/companies/{{company_id}}/timecard_time_types",
          listing("company_timecard_time_types", "company", paged=False)),
    Route(f"{V}/companies/{{company_id}}/timecard_entries", company_timecard_entries),
    # project level
    Route(f"{V}/projects/{{project_id}}/users", users_of_project),
    Route(f"{V}/projects/{{project_id}}/vendors", vendors_of_project),
    Route("/rest/v1.1/projects/{project_id}/vendors", vendors_of_project),
    Route(f"{V}/projects/{{project_id}}/insurances", listing("project_insurances")),
    Route(f"{V}/project_roles", listing("project_roles")),
    Route(f"{V}/projects/{{project_id}}/project_dates", project_dates),
    Route(f"{V}/project_dates", project_dates),
    Route(f"{V}/projects/{{project_id}}/locations", listing("locations")),
    Route(f"{V}/locations", listing("locations")),
    Route(f"{V}/cost_codes", listing("cost_codes")),
    Route(f"{V}/projects/{{project_id}}/managed_equipment", listing("managed_equipment")),
    Route(f"{V}/calendar_events", calendar_events),
    Route(f"{V}/projects/{{project_id}}/schedule/calendar_items", calendar_items),
    Route(f"{V}/punch_item_types", listing("punch_item_types")),
    Route(f"{V}/timecard_time_types", listing("timecard_time_types")),
    Route(f"{V}/folders", folder),
    Route(f"{V}/folders/{{id}}", folder),
    Route(f"{V}/budget_views", listing("budget_views")),
    Route(f"{V}/budget_views/{{budget_view_id}}/detail_rows", child_listing("budget_detail_rows", "budget_view_id")),
    Route("/rest/v2.0/companies/{company_id}/projects/{project_id}/budget_line_items", listing("budget_line_items")),
    # project management
    Route(f"{V}/projects/{{project_id}}/rfis", listing("rfis")),
    Route(f"{V}/projects/{{project_id}}/rfis/recycle_bin", recycle_bin("rfis")),      # before rfis/{id}
    Route(f"{V}/projects/{{project_id}}/rfis/{{id}}", show("rfis", shape=rfi_show)),
    Route(f"{V}/projects/{{project_id}}/rfis/{{rfi_id}}/replies", rfi_replies),
    Route(f"{V}/projects/{{project_id}}/submittals", listing("submittals")),
    Route("/rest/v1.1/projects/{project_id}/submittals", listing("submittals")),
    *[Route(f"/rest/v1.{n}/projects/{{project_id}}/submittals/recycle_bin", recycle_bin("submittals")) for n in (0, 1)],
    Route(f"{V}/projects/{{project_id}}/recycle_bin/checklist/lists", recycle_bin("checklists")),
    Route(f"{V}/projects/{{project_id}}/recycle_bin/incidents", recycle_bin("incidents")),
    Route(f"{V}/meetings", meetings_grouped),
    Route("/rest/v1.1/projects/{project_id}/meetings", meetings_grouped),
    Route(f"{V}/meeting_categories", child_listing("meeting_categories", "meeting_id")),
    Route(f"{V}/projects/{{project_id}}/drawing_areas", listing("drawing_areas")),
    Route("/rest/v1.1/projects/{project_id}/drawing_areas", listing("drawing_areas")),
    Route(f"{V}/drawing_areas/{{drawing_area_id}}/drawings", child_listing("drawings", "drawing_area_id")),
    Route("/rest/v1.1/drawing_areas/{drawing_area_id}/drawings", child_listing("drawings", "drawing_area_id")),
    Route(f"{V}/projects/{{project_id}}/checklist/lists", listing("checklists")),
    Route(f"{V}/checklist/lists", listing("checklists", paged=False)),
    Route(f"{V}/projects/{{project_id}}/checklist/list_templates", listing("checklist_templates")),
    Route("/rest/v1.1/projects/{project_id}/checklist/list_templates", listing("checklist_templates")),
    Route(f"{V}/checklist/list_templates", listing("checklist_templates")),
    Route(f"{V}/projects/{{project_id}}/checklist/list_templates/{{id}}", show("checklist_templates")),
    Route(f"{V}/checklist/possible_inspectors", possible_inspectors),
    Route("/rest/v2.0/companies/{company_id}/projects/{project_id}/inspections/inspectors", inspectors),
    Route(f"{V}/image_categories", listing("image_categories")),
    Route(f"{V}/images", child_listing("images", "image_category_id", optional=True)),
    # safety
    Route(f"{V}/projects/{{project_id}}/incidents", listing("incidents")),
    *[Route(f"{V}/projects/{{project_id}}/incidents/{kind}", child_listing(kind, "incident_id", optional=True))
      for kind in ("injuries", "near_misses", "property_damages", "environmentals")],
    # daily logs: log_date, or start_date/end_date; none = today only
    *[Route(f"{V}/projects/{{project_id}}/{kind}", listing(kind, dated=True, paged=kind != "plan_revision_logs"))
      for kind in DAILY_LOGS],
    Route(f"{V}/timecard_entries", listing("timecard_entries", dated=True)),
    # financials
    Route(f"{V}/projects/{{project_id}}/direct_costs", listing("direct_costs")),
    Route("/rest/v1.1/projects/{project_id}/direct_costs", listing("direct_costs")),
    Route(f"{V}/projects/{{project_id}}/direct_costs/line_items",
          child_listing("direct_cost_line_items", "direct_cost_id", optional=True)),
    Route(f"{V}/projects/{{project_id}}/direct_costs/{{id}}/line_items", child_listing("direct_cost_line_items", "id")),
    Route(f"{V}/prime_contracts", listing("prime_contracts")),
    Route(f"{V}/prime_contract", first_prime_contract),
    Route(f"{V}/work_order_contracts", listing("work_order_contracts")),
    Route(f"{V}/purchase_order_contracts", listing("purchase_order_contracts")),
    Route(f"{V}/commitments", commitments),
    *[Route(f"{V}/{kind}/{{id}}/line_items", child_listing("contract_line_items", "id", parents=(kind,)))
      for kind in CONTRACTS],
    Route(f"{V}/contract_payments", child_listing("contract_payments", "contract_id")),
    Route(f"{V}/change_order_packages", child_listing("change_order_packages", "contract_id", optional=True)),
    Route(f"{V}/change_order_requests", child_listing("change_order_requests", "contract_id")),
    Route(f"{V}/change_order_requests/{{cor_id}}", change_order_request),
    Route(f"{V}/potential_change_orders", child_listing("potential_change_orders", "contract_id", optional=True)),
    Route(f"{V}/potential_change_orders/{{pco_id}}", show("potential_change_orders", "pco_id")),
    Route(f"{V}/potential_change_orders/{{pco_id}}/line_items", child_listing("pco_line_items", "pco_id")),
    Route(f"{V}/projects/{{project_id}}/prime_change_orders", prime_change_orders),
]
