"""The endpoint table of the sandbox API: every path the report catalog reads, as Procore serves it."""
from __future__ import annotations

from .routing import ApiError, ApiRequest, Body, Listing, Route, body, child_listing, filtered, listing, show


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
        answers = [{"id": r["id"], "official": r["official"], "answer_date": r["answer_date"],
                    "plain_text_body": r["plain_text_body"], "rich_text_body": f"<p>{r['plain_text_body']}</p>",
                    "created_by": r["created_by"], "created_by_id": r["created_by_id"], "attachments": r["attachments"]}
                   for r in replies] if j == 0 else []
        questions.append({"id": q["id"], "question_date": rfi["initiated_at"][:10], "plain_text_body": q["body"],
                          "rich_text_body": f"<p>{q['body']}</p>", "created_by": rfi["created_by"]["name"],
                          "attachments": [], "answers": answers})
    return {**rfi, "questions": questions, "distribution_list": rfi["assignees"][:1],
            "specification_section": {"id": 3100 + rfi["id"] % 7, "number": "03 30 00", "description": "Cast-in-Place Concrete"},
            "drawing_ids": [], "drawing_number": None, "accepted": rfi["status"] == "closed", "draft": rfi["status"] == "draft",
            "ball_in_court_role": "rfi_manager" if rfi["ball_in_courts"] else None,
            "custom_textfield_1": {"label": "Discipline", "value": None}, "custom_textfield_2": {"label": "Zone", "value": None}}


def reply_shape(r: dict) -> dict:
    return {k: v for k, v in r.items() if k not in ("official", "answer_date", "plain_text_body")}


def rfi_replies(req: ApiRequest) -> Listing:
    rfi = req.world.find("rfis", req.project, req.int_arg("rfi_id"))
    if rfi is None:
        raise ApiError(404, "404 Not Found")
    return Listing([reply_shape(r) for r in req.world.records("rfi_replies", rfi)])


ROUTES: list[Route] = [
    Route("/rest/v1.0/me", me, company_header=False),
    Route("/rest/v1.0/companies", companies, company_header=False),
    Route("/rest/v1.0/projects", projects),
    Route("/rest/v1.1/projects", projects),
    Route("/rest/v1.0/projects/{project_id}", body(lambda req: project_show(req).payload)),
    Route("/rest/v1.0/companies/{company_id}/projects", company_projects),
    Route("/rest/v1.0/projects/{project_id}/rfis", listing("rfis")),
    Route("/rest/v1.0/projects/{project_id}/rfis/{id}", show("rfis", shape=rfi_show)),
    Route("/rest/v1.0/projects/{project_id}/rfis/{rfi_id}/replies", rfi_replies),
]
