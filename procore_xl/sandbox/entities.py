"""The declarative table of generated entities: name -> (parent, id range, count, record maker).

Record shapes follow Procore's list responses (see the project's Procore notes, section 4).
"""
from __future__ import annotations

from datetime import timedelta

from .fakedata import FORMULA_LIKE_LABEL, TRADES, Gen, iso_date
from .world import CUSTOM_FIELDS, EntitySpec, World

SPECS: dict[str, EntitySpec] = {}


def entity(name: str, parent: str, code: int, cap: int, count, *, own_ids: bool = False):
    """Register the decorated maker as entity ``name``; ``count`` is an int or f(world, parent)."""
    count_fn = count if callable(count) else (lambda w, p, n=count: n * w.scale)

    def register(make):
        assert code not in {s.code for s in SPECS.values()}, f"duplicate code {code}"
        SPECS[name] = EntitySpec(name, parent, code, cap, count_fn, make, own_ids)
        return make
    return register


def fixed(n: int):
    """A count that does not grow with the scale."""
    return lambda w, p: n


# ---------------------------------------------------------------- shared small shapes
def ref(record: dict) -> dict | None:
    return {"id": record["id"], "name": record["name"]} if record else None


def user_ref(w: World, g: Gen, project: dict, company_id: int | None = None) -> dict:
    return w.person(g, company_id or project["company"]["id"])


def currency() -> dict:
    return {"currency_iso_code": "USD", "currency_exchange_rate": "1.0", "base_currency_iso_code": "USD"}


def attachments(g: Gen, record_id: int, n_max: int = 2) -> list[dict]:
    out = []
    for j in range(g.int(0, n_max)):
        name = g.pick(["photo.jpg", "detail_A5.pdf", "Plan révisé.pdf", "図面.pdf", "spec.docx"])
        aid = record_id * 10 + j
        out.append({"id": aid, "name": name, "filename": name,
                    "url": f"https://storage.procore.example/attachments/{aid}/{name}"})
    return out


def stamps(w: World, g: Gen, oldest_days: int = 300, newest_days: int = 0) -> dict:
    created = w.day(g.int(max(newest_days, 1), oldest_days))
    updated = g.day_between(created, w.day(newest_days))
    return {"created_at": g.ts(created), "updated_at": g.ts(updated)}


PRIORITIES = [{"id": 1, "label": "High"}, {"id": 2, "label": "Low"}, None]


def custom_fields(g: Gen, index: int) -> dict:
    return {
        "custom_field_5001": {"data_type": CUSTOM_FIELDS[5001][1], "value": g.pick(PRIORITIES)},
        "custom_field_5002": {"data_type": CUSTOM_FIELDS[5002][1], "value": g.maybe(f"OR-{index:04d}")},
        "custom_field_5003": {"data_type": CUSTOM_FIELDS[5003][1], "value": g.maybe(g.money(10, 9999))},
    }


def pick_record(w: World, g: Gen, entity_name: str, parent: dict) -> dict | None:
    records = w.records(entity_name, parent)
    return g.pick(records) if records else None


# ---------------------------------------------------------------- company level
@entity("company_users", "company", 10, 10_000, 25, own_ids=True)
def make_company_user(w: World, company: dict, i: int, g: Gen, project: dict) -> dict:
    if i == 0 and w.is_member(company["id"]):
        first, last = w.demo_user["name"].split(" ", 1)
        email = w.demo_user["login"]
    else:
        first, last = g.person_name().split(" ", 1)
        email = f"{first.lower()}.{last.lower().replace(' ', '')}{i}@{company['name'].split()[0].lower()}.example"
    vendor = pick_record(w, g, "vendors", company)
    record = {
        "name": f"{first} {last}", "first_name": first, "last_name": last, "initials": first[0] + last[0],
        "email_address": email, "job_title": g.pick(["Project Manager", "Superintendent", "Project Engineer",
                                                      "Estimator", "Foreman", None]),
        "is_active": not g.chance(0.1), "is_employee": g.chance(0.7), "employee_id": g.maybe(f"E{i:05d}"),
        "business_phone": g.maybe(f"+1 415 555 {g.int(1000, 9999)}"), "business_phone_extension": None,
        "mobile_phone": g.maybe(f"+1 415 555 {g.int(1000, 9999)}"), "fax_number": None, **g.address(),
        "avatar": None, "notes": g.maybe(g.sentence(5), 0.7), "last_login_at": g.maybe(g.ts(w.day(g.int(0, 60)))),
        "welcome_email_sent_at": None, "erp_integrated_accountant": False, "contact_id": 600000 + i,
        "work_classification_id": None, "origin_id": None, "origin_data": None, **stamps(w, g),
        "vendor": ref(vendor), "permission_template": {"id": 71, "name": "Standard", "project_specific": False, "type": "project"},
        "company_permission_template": {"id": 72, "name": "Company Standard", "project_specific": False, "type": "company"},
    }
    if i == 0 and w.is_member(company["id"]):
        return {"id": w.demo_user["id"], **record}
    return {"id": 200000 + company["id"] % 100 * 10000 + i, **record}


@entity("vendors", "company", 11, 10_000, 20)
def make_vendor(w: World, company: dict, i: int, g: Gen, project: dict) -> dict:
    base = g.vendor_name()
    name = base if i < 24 else f"{base} #{i}"
    trades = w.records("trades", company)
    return {
        "name": name, "abbreviated_name": name[:6].upper(), "legal_name": f"{name} Inc.", "trade_name": g.maybe(name),
        **g.address(), "business_phone": f"+1 510 555 {g.int(1000, 9999)}", "mobile_phone": None, "fax_number": None,
        "email_address": f"office{i}@vendor.example", "website": g.maybe("https://vendor.example"),
        "license_number": g.maybe(f"LIC-{g.int(10000, 99999)}"), "labor_union": g.maybe("Local 104", 0.6),
        "union_member": g.chance(0.4), "non_union_prevailing_wage": False, "authorized_bidder": g.chance(0.8),
        "prequalified": g.chance(0.5), "is_active": not g.chance(0.1), "is_connected": False, "company_vendor": True,
        "synced_to_erp": False, "contact_count": g.int(0, 6), "children_count": 0, "notes": g.maybe(g.sentence(6), 0.6),
        "logo": None, "origin_id": None, "origin_code": None, "origin_data": None, **stamps(w, g),
        "primary_contact": {"id": 610000 + i, "name": g.person_name(), "email_address": f"pm{i}@vendor.example"},
        "vendor_group": g.maybe({"id": 41, "name": "Preferred"}, 0.5), "parent": None,
        "business_register": {"id": 51, "name": "Registered"},
        "bidding": {k: g.chance(0.3) for k in ("affirmative_action", "african_american_business", "asian_american_business",
                                               "certified_business_enterprise", "disadvantaged_business", "hispanic_business",
                                               "minority_business", "native_american_business", "small_business",
                                               "veteran_business", "womens_business", "sdvo_business", "eight_a_business")},
        "bidding_distribution": [], "trades": [{"id": t["id"], "name": t["name"]} for t in g.sample(trades, 2)],
        "standard_cost_codes": standard_cost_code_refs(w, g, company), "attachments": attachments(g, 11 * 10**6 + i),
        "project_ids": [p["id"] for p in w.readable_projects(company["id"]) if g.chance(0.6)],
    }


def standard_cost_code_refs(w: World, g: Gen, company: dict) -> list[dict]:
    """A vendor's standard cost codes (a few of the company's first list)."""
    lists = w.records("standard_cost_code_lists", company)
    return g.sample(w.records("standard_cost_codes", lists[0]), g.int(0, 2)) if lists else []


@entity("trades", "company", 12, 100, fixed(len(TRADES)))
def make_trade(w: World, company: dict, i: int, g: Gen, project: dict) -> dict:
    return {"name": TRADES[i], "active": i != 13, "updated_at": g.ts(w.day(g.int(30, 400)))}


# ---------------------------------------------------------------- project level: RFIs
def rfi_count(w: World, project: dict) -> int:
    return w.rfi_count()


def rfi_person(w: World, g: Gen, project: dict) -> dict:
    return w.person(g, project["company"]["id"])


@entity("locations", "project", 20, 1000, fixed(12))
def make_location(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    names = ["Level 1", "Level 2", "Level 3", "Roof", "Garage", "Lobby", "North Core", "South Core",
             "Mechanical Room", "Façade", "Site", "Tower Crane Pad"]
    return {"name": names[i % len(names)], "node_name": names[i % len(names)], "parent_id": None,
            "code": f"L{i:02d}", **stamps(w, g)}


@entity("cost_codes", "project", 21, 1000, fixed(20))
def make_cost_code(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    division = 1 + i // 4
    code = f"{division:02d}-{100 + (i % 4) * 10:03d}"
    name = ["General Requirements", "Concrete", "Masonry", "Metals", "Wood & Plastics"][(division - 1) % 5]
    return {"code": f"{100 + (i % 4) * 10:03d}", "full_code": code, "name": f"{name} {i % 4 + 1}",
            "sortable_code": code, "biller": project["name"], "biller_id": project["id"], "biller_type": "Project",
            "budgeted": g.chance(0.7), "standard_cost_code_id": 14 * 10**10 + i + 1, "parent": {"id": None},
            "position": i, "line_item_types": [{"id": 1, "name": "Labor", "code": "L", "base_type": "labor"}],
            "origin_id": None, **stamps(w, g), "deleted_at": None}


RFI_STATUSES = ["open", "open", "open", "closed", "draft"]


def _rfi_due(w: World, i: int, status: str, due):
    """Every third open RFI has its due date moved into the next weeks (extended), so that some
    open RFIs are overdue and some are not."""
    return w.day(-(7 + i % 21)) if status == "open" and i % 3 == 1 else due


@entity("rfis", "project", 22, 1_000_000, rfi_count)
def make_rfi(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    created = w.day(g.int(1, 400))
    status = g.pick(RFI_STATUSES)
    manager = rfi_person(w, g, project)
    assignees = [rfi_person(w, g, project) for _ in range(g.int(0, 3))]
    location = pick_record(w, g, "locations", project)
    cost_code = pick_record(w, g, "cost_codes", project)
    number = i + 1
    questions = [{"id": project["id"] * 10**7 + i * 10 + j, "body": g.sentence(12) if j else g.subject(i + 3)}
                 for j in range(1 + (i % 3 == 0))]
    return {
        "number": str(number), "full_number": f"RFI-{number:04d}", "prefix": "RFI", "subject": g.subject(i),
        "status": status, "translated_status": status.capitalize(), "private": g.chance(0.1),
        "reference": g.maybe(f"Sheet A-{g.int(100, 599)}"), "link": f"https://sandbox.procore.example/{project['id']}/rfi/{number}",
        "due_date": iso_date(_rfi_due(w, i, status, created + timedelta(days=g.int(5, 21)))), "initiated_at": g.ts(created),
        "time_resolved": g.ts(created + timedelta(days=g.int(1, 30))) if status == "closed" else None,
        "created_at": g.ts(created),
        "updated_at": g.ts(g.day_between(created, w.today)), "deleted": False, "deleted_at": None,
        "location_id": location["id"] if location else None,
        "created_by": rfi_person(w, g, project), "assignee": assignees[0] if assignees else None,
        "ball_in_court": manager if status == "open" else None, "received_from": g.maybe(rfi_person(w, g, project)),
        "rfi_manager": manager,
        "assignees": [{**a, "locale": g.pick(["en", "es", "de", "ja"]), "response_required": g.chance(0.6)} for a in assignees],
        "ball_in_courts": [manager] if status == "open" else [],
        "responsible_contractor": g.maybe(ref(pick_record(w, g, "vendors", w.company(project["company"]["id"])))),
        "cost_code": ref(cost_code) if cost_code and g.chance(0.7) else None,
        "location": ({"id": location["id"], "name": location["name"], "node_name": location["node_name"],
                      "parent_id": None, "created_at": location["created_at"], "updated_at": location["updated_at"]}
                     if location and g.chance(0.8) else None),
        "cost_impact": {"status": g.pick(["yes", "no", "tbd"]), "value": g.amount(0, 50000)},
        "schedule_impact": {"status": g.pick(["yes", "no", "tbd"]), "value": g.int(0, 20)},
        "project_stage": project["project_stage"], "sub_job": None, "questions": questions,
        "custom_fields": custom_fields(g, i),
    }


@entity("rfi_replies", "rfis", 23, 100, lambda w, rfi: rfi["id"] % 4)
def make_rfi_reply(w: World, rfi: dict, i: int, g: Gen, project: dict) -> dict:
    person = rfi_person(w, g, project)
    return {"body": g.pick([g.sentence(10), "Agreed — see sketch SK-12.", "@Dana please confirm", "Bestätigt ✅"]),
            "plain_text_body": g.sentence(10), "created_by": person["name"], "created_by_id": person["id"],
            "official": i == 0, "answer_date": iso_date(w.day(g.int(0, 60))), "attachments": attachments(g, rfi["id"] + i),
            **stamps(w, g, 60)}


# ---------------------------------------------------------------- company level: lookups and settings
@entity("programs", "company", 13, 100, fixed(4))
def make_program(w: World, company: dict, i: int, g: Gen, _p: dict) -> dict:
    names = ["Healthcare", "Transit", "Higher Education", "Mixed-Use Residential"]
    return {"name": names[i], "address_freeform": g.maybe(g.address()["address"]), "website": g.maybe("https://program.example")}


@entity("standard_cost_code_lists", "company", 14, 100, fixed(3))
def make_cost_code_list(w: World, company: dict, i: int, g: Gen, _p: dict) -> dict:
    names = ["CSI MasterFormat 2016", "Company Standard", "Heavy Civil (ERP)"]
    return {"name": names[i], "is_erp_list": i == 2, "available_to_use_on_new_projects": i != 2}


@entity("standard_cost_codes", "standard_cost_code_lists", 15, 1000, fixed(30))
def make_standard_cost_code(w: World, code_list: dict, i: int, g: Gen, _p: dict) -> dict:
    division = 1 + i // 5
    return {"standard_cost_code_list_id": code_list["id"], "parent_id": None, "code": f"{100 + i % 5 * 10:03d}",
            "full_code": f"{division:02d}-{100 + i % 5 * 10:03d}", "name": f"{g.pick(TRADES)} {i % 5 + 1}",
            "origin_id": None}


@entity("harm_sources", "company", 16, 100, fixed(8))
def make_harm_source(w: World, company: dict, i: int, g: Gen, _p: dict) -> dict:
    names = ["Fall from height", "Struck by object", "Caught in/between", "Electrical", "Chemical exposure",
             "Heat stress", "Manual handling", "Vehicle"]
    return {"name": names[i], "active": i != 7, "global": i < 4, **stamps(w, g)}


@entity("line_item_types", "company", 17, 100, fixed(6))
def make_line_item_type(w: World, company: dict, i: int, g: Gen, _p: dict) -> dict:
    rows = [("Labor", "L", "labor"), ("Material", "M", "material"), ("Equipment", "E", "equipment"),
            ("Subcontract", "S", "subcontract"), ("Other", "O", "other"), ("Professional Services", "PS", "other")]
    name, code, base = rows[i]
    return {"name": name, "code": code, "base_type": base, "origin_id": None}


@entity("change_reasons", "company", 18, 100, fixed(6))
def make_change_reason(w: World, company: dict, i: int, g: Gen, _p: dict) -> dict:
    reasons = ["Owner Request", "Design Error", "Unforeseen Condition", "Code Change", "Value Engineering", "Allowance"]
    return {"change_reason": reasons[i], "show_in_select": i != 5, "deletable": i > 2, "company_id": company["id"],
            **stamps(w, g)}


def insurance(w: World, g: Gen, i: int, vendor_id: int | None) -> dict:
    effective = w.day(g.int(30, 700))
    expires = effective + timedelta(days=365)
    return {"vendor_id": vendor_id, "insurance_type": g.pick(["General Liability", "Workers Compensation",
                                                              "Auto Liability", "Umbrella", "Builder's Risk"]),
            "insurance_provider": g.pick(["Acme Mutual", "Zürich Versicherung", "Liberty Shield", "東京海上"]),
            "policy_number": f"POL-{g.int(100000, 999999)}", "limit": g.money(500_000, 5_000_000),
            "effective_date": iso_date(effective), "expiration_date": iso_date(expires),
            "status": "expired" if expires < w.today else "compliant", "exempt": g.chance(0.05),
            "info_received": g.chance(0.8), "notes": g.maybe(g.sentence(5), 0.7), "additional_insured": g.maybe("Owner LLC"),
            "enable_expired_insurance_notifications": True, "origin_id": None}


@entity("company_insurances", "company", 19, 1000, 6)
def make_company_insurance(w: World, company: dict, i: int, g: Gen, _p: dict) -> dict:
    return insurance(w, g, i, None)


@entity("vendor_insurances", "vendors", 24, 100, lambda w, v: v["id"] % 3 + 1)
def make_vendor_insurance(w: World, vendor: dict, i: int, g: Gen, _p: dict) -> dict:
    return insurance(w, g, i, vendor["id"])


@entity("custom_field_definitions", "company", 25, 100, fixed(len(CUSTOM_FIELDS)), own_ids=True)
def make_custom_field_definition(w: World, company: dict, i: int, g: Gen, _p: dict) -> dict:
    def_id = sorted(CUSTOM_FIELDS)[i]
    label, data_type = CUSTOM_FIELDS[def_id]
    if company["id"] == 8002 and def_id == 5003:
        label = FORMULA_LIKE_LABEL
    return {"id": def_id, "label": label, "data_type": data_type, "active": True, "description": None}


# ---------------------------------------------------------------- project directory
def project_users(w: World, project: dict) -> list[dict]:
    """Project users are company users (same ids): the demo user and every few others."""
    users = w.records("company_users", w.company(project["company"]["id"]))
    step = 1 + project["id"] % 3
    return [u for k, u in enumerate(users) if k == 0 or k % step == 0]


def project_vendors(w: World, project: dict) -> list[dict]:
    return [v for v in w.records("vendors", w.company(project["company"]["id"])) if project["id"] in v["project_ids"]]


@entity("project_insurances", "project", 27, 1000, fixed(4))
def make_project_insurance(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    vendors = project_vendors(w, project)
    return insurance(w, g, i, vendors[i % len(vendors)]["id"] if vendors else None)


@entity("project_roles", "project", 28, 100, fixed(6))
def make_project_role(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    roles = ["Project Manager", "Superintendent", "Architect", "Owner's Representative", "Project Engineer", "Estimator"]
    person = None if i == 5 else w.person(g, project["company"]["id"])
    return {"role": roles[i], "user_id": person["id"] if person else None, "name": person["name"] if person else None,
            "is_active": person is not None}


@entity("managed_equipment", "project", 29, 1000, fixed(8))
def make_equipment(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    kind = g.pick([("Excavator", "Caterpillar", "320"), ("Tower Crane", "Liebherr", "280 EC-H"),
                   ("Scissor Lift", "JLG", "1930ES"), ("Generator", "Kohler", "KD800")])
    return {"name": f"{kind[0]} #{i + 1}", "serial_number": f"SN{g.int(100000, 999999)}",
            "identification_number": f"EQ-{i + 1:03d}", "year": g.int(2012, 2024), "status": g.pick(["on_site", "off_site"]),
            "ownership": g.pick(["owned", "rented"]), "category": {"id": 81, "name": "Heavy Equipment"},
            "type": {"id": 82 + i % 4, "name": kind[0]}, "make": {"id": 90 + i % 4, "name": kind[1]},
            "model": {"id": 95 + i % 4, "name": kind[2]}, "vendor": g.maybe(ref(pick_record(w, g, "vendors", w.company(project["company"]["id"])))),
            **stamps(w, g)}


@entity("punch_item_types", "project", 30, 100, fixed(6))
def make_punch_item_type(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    names = ["Cleaning", "Damage", "Incomplete", "Paint Touch-up", "Missing", "Defective"]
    return {"name": names[i], **stamps(w, g)}


@entity("timecard_time_types", "project", 31, 100, fixed(5))
def make_time_type(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    rows = [("Regular Time", "RT"), ("Overtime", "OT"), ("Double Time", "DT"), ("Holiday", "HOL"), ("Paid Time Off", "PTO")]
    return {"time_type": rows[i][0], "abbreviated_time_type": rows[i][1], "global": i < 3}


@entity("company_timecard_time_types", "company", 32, 100, fixed(3))
def make_company_time_type(w: World, company: dict, i: int, g: Gen, _p: dict) -> dict:
    rows = [("Regular Time", "RT"), ("Overtime", "OT"), ("Double Time", "DT")]
    return {"time_type": rows[i][0], "abbreviated_time_type": rows[i][1], "global": True}


@entity("schedule_tasks", "project", 33, 10_000, 12)
def make_schedule_task(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    start = w.day(g.int(-60, 90))
    return {"name": f"{g.pick(TRADES)} — {g.pick(['Level 1', 'Level 2', 'Roof', 'Façade'])}", "task_name": f"Task {i + 1}",
            "key": f"T{i + 1}", "start_datetime": g.ts(start), "finish_datetime": g.ts(start + timedelta(days=g.int(2, 30))),
            "percentage": g.int(0, 100), "color": g.pick(["#2D9CDB", "#EB5757"]), "parent_id": None, "pending": False,
            "resource_name": g.maybe(g.vendor_name()), "critical_path": g.chance(0.2)}


@entity("todos", "project", 34, 10_000, 6)
def make_todo(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    start = w.day(g.int(-30, 30))
    return {"name": g.subject(i + 11), "task_name": None, "description": g.maybe(g.sentence(8)),
            "start_datetime": g.ts(start), "finish_datetime": g.ts(start + timedelta(days=g.int(1, 5))),
            "percentage": g.int(0, 100), "milestone": g.chance(0.2), "private": False,
            "created_by": w.person(g, project["company"]["id"]), "assignment": g.maybe({"id": 1, "name": "Field Team"}),
            "updated_at": g.ts(w.day(g.int(0, 30)))}


@entity("project_dates", "project", 35, 100, fixed(5))
def make_project_date(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    names = ["Notice to Proceed", "Topping Out", "Substantial Completion", "Final Completion", "Grand Opening 🎉"]
    return {"project_membership_id": None, "name": names[i], "date": iso_date(w.day(g.int(-400, 400)))}


# ---------------------------------------------------------------- folders and files (a tree)
FOLDER_NAMES = ["Drawings", "Specifications", "Plans révisés", "図面", "Photos 📷", "Contracts", "Archive",
                "Submittals", "Safety", "Permits", "Closeout", "Meeting Minutes"]


def folder_parent_index(i: int) -> int | None:
    return None if i == 0 else (i - 1) // 3      # a ternary tree: 0 is the root


@entity("folders", "project", 36, 1000, fixed(13))
def make_folder(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    names = ["Documents"] + [FOLDER_NAMES[(k - 1) % len(FOLDER_NAMES)] for k in range(1, 13)]
    path = []
    k: int | None = i
    while k:                                          # walk up to (not including) the root
        path.append(names[k])
        k = folder_parent_index(k)
    return {"name": names[i], "name_with_path": "/".join(reversed(path)),
            "private": g.chance(0.1), "read_only": False, "is_deleted": False, "is_recycle_bin": False,
            "is_tracked": False, "updated_at": g.ts(w.day(g.int(0, 300)))}


@entity("files", "folders", 37, 100, lambda w, folder: folder["id"] % 4)
def make_file(w: World, folder: dict, i: int, g: Gen, _p: dict) -> dict:
    name = g.pick(["A-101 Floor Plan.pdf", "Spécification.docx", "現場写真.jpg", "Budget.xlsx", "=cmd.csv"])
    versions = [{"id": folder["id"] * 100 + i * 10 + v, "number": v + 1, "size": g.int(10_000, 9_000_000),
                 "notes": g.maybe("Revised per RFI"), "url": f"https://storage.procore.example/files/{folder['id']}/{i}/{v}",
                 "created_at": g.ts(w.day(g.int(0, 300)))} for v in range(g.int(1, 3))]
    return {"name": name, "name_with_path": f"{folder['name_with_path']}/{name}".lstrip("/"), "parent_id": folder["id"],
            "size": versions[-1]["size"], "description": g.maybe(g.sentence(4), 0.6), "file_type": name.rsplit(".", 1)[-1],
            "private": False, "checked_out_until": None, "checked_out_by": None, **stamps(w, g), "file_versions": versions}


# ---------------------------------------------------------------- budget
@entity("budget_views", "project", 38, 100, fixed(2))
def make_budget_view(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    return {"name": ["Procore Standard Budget", "Forecast View"][i], "description": None, **stamps(w, g)}


def _forecast(g: Gen, i: int, original: float, modifications: float) -> float:
    """A forecast within the budget, except every 8th line (from the 3rd), which runs 12% over."""
    amount = g.amount(0, original)
    return round((original + modifications) * 1.12, 2) if i % 8 == 2 else amount


@entity("budget_detail_rows", "budget_views", 39, 10_000, 25)
def make_budget_row(w: World, view: dict, i: int, g: Gen, project: dict) -> dict:
    codes = w.records("cost_codes", project)
    code = codes[i % len(codes)]
    original = g.amount(5_000, 900_000)
    modifications = g.amount(-20_000, 40_000)
    return {"company_id": project["company"]["id"], "company": project["company"]["name"], "project_id": project["id"],
            "project": project["name"], "wbs_code_id": 40 * 10**10 + i, "biller_id": project["id"], "biller": project["name"],
            "biller_type": "Project", "root_cost_code_id": code["id"], "root_cost_code": code["full_code"],
            "cost_code_id": code["id"], "cost_code": f"{code['full_code']} - {code['name']}", "cost_code_origin_id": None,
            "category_id": 1 + i % 3, "category": ["Labor", "Material", "Subcontract"][i % 3],
            "original_budget_amount": original, "budget_modifications": modifications,
            "revised_budget": round(original + modifications, 2), "committed_costs": g.amount(0, original),
            "direct_costs": g.amount(0, 50_000),
            "budget_forecast": {"id": 41 * 10**10 + view["id"] % 10**6 * 100 + i, "amount": _forecast(g, i, original,
                                                                                                   modifications),
                                "manual_amount": None, "automatic_amount": g.amount(0, original),
                                "automatically_calculated": True, "calculation_strategy": "automatic", "notes": None},
            "unbudgeted_reason": None, "deletable": False, "currency_configuration": currency()}


@entity("budget_line_items", "project", 42, 100_000, 40)
def make_budget_line_item(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    codes = w.records("cost_codes", project)
    code = codes[i % len(codes)]
    quantity = g.int(1, 500)
    unit_cost = g.amount(10, 2000)
    return {"original_budget_amount": f"{quantity * unit_cost:.2f}", "quantity": str(quantity), "uom": g.pick(["ea", "m²", "ls", "hr"]),
            "unit_cost": f"{unit_cost:.2f}", "calculation_strategy": "manual",
            "wbs_code": {"id": str(43 * 10**10 + i), "flat_code": code["full_code"], "description": code["name"]},
            "currency_configuration": currency(), **stamps(w, g)}


# ---------------------------------------------------------------- submittals, drawings, meetings, checklists
@entity("submittals", "project", 44, 100_000, 60)
def make_submittal(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    cid = project["company"]["id"]
    created = w.day(g.int(1, 300))
    status = g.pick([(1, "Open", "open"), (2, "Approved", "closed"), (3, "Revise and Resubmit", "open"), (4, "Draft", "draft")])
    approvers = [{"id": 45 * 10**10 + i * 10 + j, "approver_type": g.pick(["Approver", "Submitter"]), "comment": g.maybe(g.sentence(6)),
                  "due_date": iso_date(created + timedelta(days=14)), "response_required": True,
                  "returned_date": g.maybe(iso_date(created + timedelta(days=g.int(1, 20)))), "sent_date": iso_date(created),
                  "workflow_group_number": j, "response": {"id": 9, "name": g.pick(["Approved", "Pending", "Rejected"])},
                  "user": ref(w.person(g, cid)), "associated_attachments": []} for j in range(g.int(0, 3))]
    number = f"{g.int(1, 33):02d} {g.int(10, 99)} 00-{i + 1}"
    return {"number": str(i + 1), "formatted_number": number, "revision": str(g.int(0, 2)), "title": g.subject(i + 1),
            "description": g.maybe(g.sentence(10)), "private": False, "current_revision": True,
            "due_date": iso_date(created + timedelta(days=21)), "issue_date": iso_date(created),
            "received_date": g.maybe(iso_date(created + timedelta(days=3))), "submit_by": iso_date(created + timedelta(days=10)),
            "distributed_at": None, "created_at": g.ts(created), "updated_at": g.ts(g.day_between(created, w.today)),
            "cost_code_id": None, "location_id": None, "sub_job_id": None,
            "status": {"id": status[0], "name": status[1], "status": status[2]},
            "type": {"id": 1 + i % 3, "name": ["Shop Drawing", "Product Data", "Sample"][i % 3]},
            "specification_section": {"id": 3100 + i % 7, "number": "03 30 00", "description": "Cast-in-Place Concrete",
                                      "label": "03 30 00 - Cast-in-Place Concrete", "current_revision_id": None},
            "submittal_package": g.maybe({"id": 4600 + i % 5, "number": str(i % 5), "title": "Structural Package"}),
            "created_by": ref(w.person(g, cid)), "received_from": g.maybe(ref(w.person(g, cid))),
            "submittal_manager": ref(w.person(g, cid)),
            "responsible_contractor": g.maybe(ref(pick_record(w, g, "vendors", w.company(cid)))),
            "approvers": approvers, "ball_in_court": [{**ref(w.person(g, cid)), "initials": "BC", "vendor": None}],
            "distribution_members": [ref(w.person(g, cid)) for _ in range(g.int(0, 2))],
            "associated_attachments": [{**a, "content_type": "application/pdf"} for a in attachments(g, 44 * 10**6 + i)],
            "drawing_ids": [], "linked_drawing_ids": [], "last_distributed_submittal": None,
            "custom_fields": custom_fields(g, i)}


DISCIPLINES = ["Architectural", "Structural", "Mechanical", "Electrical", "Plumbing"]


@entity("drawing_areas", "project", 47, 100, fixed(4))
def make_drawing_area(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    area_id = 47 * 10**10 + w.key("project", project["id"]) * 100 + i + 1
    return {"name": ["Tower", "Podium", "Parking Garage", "Site Work"][i], "description": g.maybe(g.sentence(4)),
            "drawings_count": 15, **stamps(w, g), "deletable": False, "area_deletable": False,
            "drawing_sets": [{"id": area_id * 10 + s, "project_id": project["id"], "name": f"Set {s + 1}",
                              "date": iso_date(w.day(g.int(30, 300))), "position": s, "drawing_revisions_count": g.int(5, 40),
                              **stamps(w, g)} for s in range(2)],
            "drawing_disciplines": [{"id": 4800 + d, "name": DISCIPLINES[d], "position": d} for d in range(3)]}


@entity("drawings", "drawing_areas", 49, 1000, fixed(15))
def make_drawing(w: World, area: dict, i: int, g: Gen, _p: dict) -> dict:
    discipline = DISCIPLINES[i % len(DISCIPLINES)]
    revision_id = area["id"] * 100 + i
    return {"number": f"{discipline[0]}-{100 + i}", "title": f"{area['name']} {g.pick(['Plan', 'Section', 'Details', 'Elevation'])} {i + 1}",
            "discipline": discipline, "obsolete": i == 14,
            "current_revision": {"id": revision_id, "revision_number": str(g.int(0, 5)), "floorplan": i % 5 == 0,
                                 "has_drawing_sketches": False, "pdf_url": f"https://storage.procore.example/drawings/{revision_id}.pdf",
                                 "pdf_size": g.int(100_000, 9_000_000), "png_url": f"https://storage.procore.example/drawings/{revision_id}.png",
                                 "png_size": g.int(50_000, 900_000), "thumbnail_url": None, "large_thumbnail_url": None,
                                 "updated_at": g.ts(w.day(g.int(0, 200)))}}


MEETING_GROUPS = ["OAC Meetings", "Subcontractor Coordination", "Safety Meetings"]


@entity("meetings", "project", 50, 1000, 10)
def make_meeting(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    day = w.day(7 * (10 - i % 10) + 3 * (i // 10))
    starts = g.moment(day).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"title": f"{MEETING_GROUPS[i % 3].rstrip('s')} #{i // 3 + 1}", "group_title": MEETING_GROUPS[i % 3], "position": i,
            "description": g.maybe(g.sentence(6)), "mode": g.pick(["in_person", "virtual"]), "meeting_date": iso_date(day),
            "starts_at": starts, "ends_at": starts[:11] + f"{int(starts[11:13]) + 1:02d}" + starts[13:], "meeting_template_id": None,
            "location": g.pick(["Site trailer", "Zoom", "Salle de réunion B"]), "parent_id": None, "occurred": day < w.today,
            "is_private": False, "meeting_topics_count": g.int(0, 12), "created_by_id": w.demo_user["id"], **stamps(w, g)}


@entity("meeting_categories", "meetings", 51, 100, fixed(3))
def make_meeting_category(w: World, meeting: dict, i: int, g: Gen, project: dict) -> dict:
    return {"title": ["Old Business", "New Business", "Safety"][i], "position": i,
            "created_by": w.person(g, project["company"]["id"])}


@entity("checklists", "project", 52, 10_000, 25)
def make_checklist(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    cid = project["company"]["id"]
    status = g.pick(["open", "in_progress", "closed"])
    day = w.day(g.int(0, 200))
    items = g.int(5, 30)
    deficient = g.int(0, 3)
    return {"number": i + 1, "name": g.pick(["Pre-pour Inspection", "Daily Safety Walk", "Fire Stopping QA", "Façade Mock-up"]),
            "description": g.maybe(g.sentence(8)), "status": status, "private": False, "deleted": False, "overdue": g.chance(0.1),
            "list_template_id": 5300 + i % 5, "list_template_name": "Standard Inspection", "template_id": 5300 + i % 5,
            "inspection_date": iso_date(day), "due_at": g.ts(day + timedelta(days=3)),
            "closed_at": g.ts(day + timedelta(days=2)) if status == "closed" else None, **stamps(w, g, 200),
            "managed_equipment_id": None, "item_count": items, "conforming_item_count": items - deficient,
            "deficient_item_count": deficient, "not_applicable_item_count": 0, "neutral_item_count": 0,
            "inspected_item_count": items, "observations_count": deficient, "closed_observations_count": 0,
            "location": g.maybe(ref(pick_record(w, g, "locations", project))),
            "inspection_type": {"id": 5400 + i % 3, "name": ["Quality", "Safety", "Commissioning"][i % 3]},
            "trade": g.maybe({"id": 1, "name": g.pick(TRADES)}),
            "responsible_contractor": g.maybe(ref(pick_record(w, g, "vendors", w.company(cid)))),
            "point_of_contact": ref(w.person(g, cid)), "created_by": w.person(g, cid),
            "closed_by": w.person(g, cid) if status == "closed" else None, "specification_section": None,
            "default_response_phrasing": None, "inspectors": [w.person(g, cid) for _ in range(g.int(1, 2))],
            "distribution_members": [w.person(g, cid) for _ in range(g.int(0, 2))], "signature_requests": [],
            "attachments": attachments(g, 52 * 10**6 + i), "drawing_ids": [], "custom_fields": custom_fields(g, i)}


@entity("checklist_templates", "project", 53, 100, fixed(5))
def make_checklist_template(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    tid = w.key("project", project["id"]) * 100 + i
    sections = [{"id": tid * 10 + s, "name": f"Section {s + 1}", "position": s,
                 "items": [{"id": (tid * 10 + s) * 10 + k, "name": g.pick(["Rebar cover OK", "Forms braced", "Embeds placed",
                                                                           "Área limpia", "Labels applied"]),
                            "position": k, "details": None} for k in range(g.int(2, 4))]} for s in range(g.int(1, 3))]
    return {"name": ["Pre-pour Inspection", "Daily Safety Walk", "Fire Stopping QA", "Façade Mock-up", "Roof Turnover"][i],
            "description": g.maybe(g.sentence(6)), "company_description": None, **stamps(w, g),
            "inspection_type": {"id": 5400 + i % 3, "name": ["Quality", "Safety", "Commissioning"][i % 3]},
            "trade": None, "location": None, "created_by": w.person(g, project["company"]["id"]),
            "response_set": {"id": 5500, "name": "Yes / No / N/A"}, "alternative_response_set_id": None,
            "attachments": [], "sections": sections}


# ---------------------------------------------------------------- photos
@entity("image_categories", "project", 54, 1000, fixed(5))
def make_album(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    return {"name": ["Progress", "Site Conditions", "Safety Issues ⚠️", "Punch", "Drone / Luftbild"][i],
            "count": (10 + i * 3) * w.scale, "cover_photo": None, "private": i == 3, "position": i, **stamps(w, g)}


@entity("images", "image_categories", 55, 100_000, lambda w, album: album["count"])
def make_image(w: World, album: dict, i: int, g: Gen, project: dict) -> dict:
    taken = w.day(g.int(0, 300))
    filename = g.pick(["IMG_{n}.jpg", "Façade_{n}.jpeg", "写真_{n}.png", "drone-{n}.jpg"]).format(n=1000 + i)
    uploader = w.person(g, project["company"]["id"])
    return {"url": f"https://storage.procore.example/images/{album['id']}/{i}/{filename}",
            "thumbnail_url": f"https://storage.procore.example/images/{album['id']}/{i}/thumb.jpg", "filename": filename,
            "description": g.maybe(g.subject(i + 29), 0.4), "size": g.int(200_000, 8_000_000), "width": 4032, "height": 3024,
            "taken_at": g.ts(taken), "created_at": g.ts(taken), "updated_at": g.ts(g.day_between(taken, w.today)),
            "image_category_id": album["id"], "image_category_name": album["name"], "image_category_private": album["private"],
            "private": album["private"], "starred": g.chance(0.1), "permanently_deleted": False, "origin_id": None,
            "daily_log_header_id": None, "gps_lat": g.maybe(f"{37.7 + g.rng.random() / 10:.6f}"),
            "gps_long": g.maybe(f"{-122.4 - g.rng.random() / 10:.6f}"), "comments_count": g.int(0, 4),
            "location": g.maybe(ref(pick_record(w, g, "locations", project))), "uploader": uploader,
            "trades": [{"id": 1 + k, "name": t} for k, t in enumerate(g.sample(TRADES, g.int(0, 2)))],
            "links": {"self": f"/rest/v1.0/images?project_id={project['id']}&image_category_id={album['id']}"}}


# ---------------------------------------------------------------- safety
@entity("incidents", "project", 56, 10_000, 10)
def make_incident(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    cid = project["company"]["id"]
    event = w.day(g.int(1, 300))
    return {"number": i + 1, "title": g.pick(["Slip on wet deck", "Dropped tool from level 4", "Minor cut — hand",
                                              "Spill: hydraulic oil", "Near miss: crane swing"]),
            "description": g.maybe(g.sentence(12)), "status": g.pick(["open", "closed"]), "event_date": g.ts(event),
            "time_unknown": False, "private": False, "recordable": g.chance(0.3), "records_count": g.int(0, 3),
            "actions_count": g.int(0, 3), "witness_statements_count": g.int(0, 2), "open_observations_count": 0,
            "closed_observations_count": 0, "attachments_count": g.int(0, 3), "created_by": w.person(g, cid),
            "contributing_behavior": g.maybe({"id": 5700, "name": "Rushing"}),
            "contributing_condition": g.maybe({"id": 5701, "name": "Poor housekeeping"}),
            "hazard": g.maybe({"id": 5702, "name": "Fall", "active": True, "global": True}),
            "location": g.maybe(ref(pick_record(w, g, "locations", project))), **stamps(w, g), "deleted_at": None,
            "custom_fields": custom_fields(g, i)}


def incident_child(kind: str, code: int, extra):
    @entity(kind, "incidents", code, 100, lambda w, inc: (inc["id"] + code) % 3)
    def make(w: World, incident: dict, i: int, g: Gen, project: dict) -> dict:
        return {"incident_id": incident["id"], "description": g.maybe(g.sentence(8)), "recordable": incident["recordable"],
                **extra(w, g, project), **stamps(w, g)}
    return make


incident_child("injuries", 57, lambda w, g, p: {
    "affected_person": w.person(g, p["company"]["id"]), "harm_source": {"id": 5800, "name": "Struck by object"},
    "body_parts": [{"id": 1, "name": g.pick(["Hand", "Knee", "Head"])}], "days_away_from_work": g.int(0, 5)})
incident_child("near_misses", 58, lambda w, g, p: {"potential_severity": g.pick(["low", "medium", "high"])})
incident_child("property_damages", 59, lambda w, g, p: {"estimated_cost": g.money(100, 50_000),
                                                         "property_description": g.pick(["Glazing unit", "Excavator bucket"])})
incident_child("environmentals", 60, lambda w, g, p: {"environmental_type": {"id": 5900, "name": g.pick(["Spill", "Dust", "Noise"])},
                                                       "quantity": g.amount(1, 200), "unit_of_measure": "L"})


# ---------------------------------------------------------------- daily logs (dated: the last 120 days and today)
LOG_DAYS = 121          # today and the 120 days before it
LOGS_PER_DAY = 2


def daily_log(kind: str, code: int, extra):
    """A daily-log entity: ``LOGS_PER_DAY * scale`` records on each of the last ``LOG_DAYS`` days."""
    @entity(kind, "project", code, 1_000_000, lambda w, p: LOG_DAYS * LOGS_PER_DAY * w.scale)
    def make(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
        day = w.day(i // (LOGS_PER_DAY * w.scale))
        stamp = g.ts(day)
        cid = project["company"]["id"]
        return {"date": iso_date(day), "datetime": stamp, **extra(w, g, project, i), "created_at": stamp,
                "updated_at": stamp, "deleted_at": None, "created_by": w.person(g, cid), "position": i % LOGS_PER_DAY,
                "attachments": attachments(g, code * 10**7 + i, 1),
                "permissions": {"can_update": True, "can_delete": False}}
    return make


def _vendor(w: World, g: Gen, p: dict) -> dict | None:
    return ref(pick_record(w, g, "vendors", w.company(p["company"]["id"])))


daily_log("manpower_logs", 61, lambda w, g, p, i: {
    "num_workers": g.int(1, 25), "num_hours": f"{g.int(4, 10)}.0", "man_hours": f"{g.int(8, 250)}.0",
    "notes": g.maybe(g.sentence(6)), "status": g.pick(["approved", "approved", "pending"]), "vendor": _vendor(w, g, p),
    "user": None, "contact": None, "cost_code": g.maybe(ref(pick_record(w, g, "cost_codes", p))),
    "location": g.maybe(ref(pick_record(w, g, "locations", p))), "trade": {"id": 1, "name": g.pick(TRADES), "active": True,
                                                                          "updated_at": None},
    "custom_fields": custom_fields(g, i)})
daily_log("notes_logs", 62, lambda w, g, p, i: {
    "comment": g.pick([g.sentence(10), "=Rain delay, see photos", "Inspector on site — passed ✅"]),
    "daily_log_header_id": None, "is_issue_day": g.chance(0.1), "status": "approved", "created_by_collaborator": False,
    "location": g.maybe(ref(pick_record(w, g, "locations", p))), "custom_fields": custom_fields(g, i)})
daily_log("plan_revision_logs", 63, lambda w, g, p, i: {
    "comments": g.maybe(g.sentence(6)), "drawing_number": f"A-{100 + i % 50}", "revision": str(g.int(1, 6)), "status": "approved"})
daily_log("quantity_logs", 64, lambda w, g, p, i: {
    "quantity": f"{g.amount(1, 500):.2f}", "unit": g.pick(["m³", "ton", "ea", "lf"]), "description": g.sentence(5),
    "cost_code": ref(pick_record(w, g, "cost_codes", p)), "location": g.maybe(ref(pick_record(w, g, "locations", p)))})
daily_log("visitor_logs", 65, lambda w, g, p, i: {
    "subject": g.pick(["City inspector", "Owner walk-through", "Vendor delivery", "Besuch: Architekt"]),
    "details": g.maybe(g.sentence(6)), "begin_hour": g.int(6, 11), "begin_minute": g.pick([0, 15, 30, 45]),
    "end_hour": g.int(12, 17), "end_minute": g.pick([0, 15, 30, 45])})
daily_log("waste_logs", 66, lambda w, g, p, i: {
    "material": g.pick(["Concrete", "Wood", "Metal", "Drywall"]), "disposed_by": g.vendor_name(),
    "method_of_disposal": g.pick(["Recycled", "Landfill"]), "approximate_quantity": f"{g.int(1, 20)}.0",
    "vendor": _vendor(w, g, p)})
daily_log("work_logs", 67, lambda w, g, p, i: {
    "resource_name": g.pick(["Carpenters", "Electricians", "Ironworkers", "Laborers"]), "workers": g.int(1, 20),
    "hours": float(g.int(2, 10)), "hourly_rate": g.money(40, 120), "reimbursable": g.chance(0.2), "showed": True,
    "comments": g.maybe(g.sentence(5)),
    "scheduled_tasks": [{"id": 67 * 10**9 + i * 10 + k, "name": g.pick(TRADES)} for k in range(g.int(0, 2))]})
daily_log("timecard_entries", 68, lambda w, g, p, i: {
    "hours": f"{g.int(4, 10)}.0", "time_in": None, "time_out": None, "lunch_time": None, "billable": g.chance(0.8),
    "in_progress": False, "approval_status": g.pick(["approved", "pending", "rejected"]), "timecard_type": "regular",
    "description": g.maybe(g.sentence(4)), "origin_id": None, "line_item_type_id": None,
    "timesheet": {"id": 6800 + i // 10, "name": None, "status": "approved"}, "cost_code": ref(pick_record(w, g, "cost_codes", p)),
    "sub_job": None, "login_information": w.person(g, p["company"]["id"]),
    "timecard_time_type": {"id": 1, "time_type": "Regular Time", "abbreviated_time_type": "RT"},
    "party": ref(w.person(g, p["company"]["id"])), "crew": g.maybe({"id": 6900, "name": "Crew A"}),
    "project": {"id": p["id"], "name": p["name"]}, "procore_signature": None, "clock_in": None, "clock_out": None,
    "custom_fields": {}, "automatically_split_timecard_entries": []})


# ---------------------------------------------------------------- financials
CONTRACTS = ("prime_contracts", "work_order_contracts", "purchase_order_contracts")
CONTRACT_STATUSES = ["Draft", "Out For Signature", "Approved", "Complete", "Terminated"]


def contract_base(w: World, g: Gen, project: dict, i: int, prefix: str) -> dict:
    grand = g.amount(50_000, 5_000_000)
    approved = g.amount(0, grand / 10)
    paid = g.amount(0, grand / 2)
    signed = w.day(g.int(100, 600))
    vendor = pick_record(w, g, "vendors", w.company(project["company"]["id"]))
    return {"number": f"{prefix}-{i + 1:03d}", "title": f"{g.pick(TRADES)} {g.pick(['Subcontract', 'Agreement', 'Contrat'])}",
            "status": g.pick(CONTRACT_STATUSES), "executed": g.chance(0.7), "private": False,
            "description": g.maybe(g.sentence(10)), "inclusions": g.maybe(g.sentence(6)), "exclusions": g.maybe(g.sentence(6)),
            "accounting_method": g.pick(["amount", "unit"]), "grand_total": f"{grand:.2f}",
            "approved_change_orders": f"{approved:.2f}", "pending_change_orders": g.money(0, 50_000),
            "draft_change_orders_amount": "0.00", "revised_contract": f"{grand + approved:.2f}",
            "pending_revised_contract": f"{grand + approved:.2f}", "total_payments": f"{paid:.2f}",
            "percentage_paid": f"{100 * paid / (grand + approved):.2f}", "remaining_balance_outstanding": f"{grand + approved - paid:.2f}",
            "total_requisitions_amount": g.money(0, grand), "total_draw_requests_amount": "0.00", "retainage_percent": "10.0",
            "contract_date": iso_date(signed), "contract_start_date": iso_date(signed + timedelta(days=14)),
            "contract_estimated_completion_date": iso_date(signed + timedelta(days=400)), "actual_completion_date": None,
            "execution_date": g.maybe(iso_date(signed)), "issued_on_date": iso_date(signed), "letter_of_intent_date": None,
            "returned_date": None, "signed_contract_received_date": g.maybe(iso_date(signed + timedelta(days=7))),
            "requisitions_are_enabled": True, "show_line_items_to_non_admins": False,
            "vendor": {"id": vendor["id"], "company": vendor["name"]} if vendor else None,
            "project": {"id": project["id"], "name": project["name"]}, "origin_id": None, "origin_data": None,
            "origin_code": None, **stamps(w, g), "deleted_at": None, "currency_configuration": currency()}


@entity("prime_contracts", "project", 70, 100, fixed(2))
def make_prime_contract(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    record = contract_base(w, g, project, i, "PC")
    owner = {"id": 7001 + i, "name": g.pick(["Harbor Tower Owner LLC", "City of Oakland", "Müller Immobilien AG"])}
    return {**record, "architect": w.person(g, project["company"]["id"]), "contractor": owner, "vendor": owner,
            "created_by": w.person(g, project["company"]["id"]), "attachments": attachments(g, 70 * 10**6 + i, 3),
            "approval_letter_date": None, "contract_termination_date": None}


@entity("work_order_contracts", "project", 71, 1000, 6)
def make_work_order(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    return contract_base(w, g, project, i, "SC")


@entity("purchase_order_contracts", "project", 72, 1000, 6)
def make_purchase_order(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    return {**contract_base(w, g, project, i, "PO"), "assignee": w.person(g, project["company"]["id"]),
            "bill_to_address": "1 Harbor Way, San Francisco", "ship_to_address": g.maybe("Site gate 3"),
            "ship_via": g.maybe("Truck"), "payment_terms": "Net 30", "delivery_date": g.maybe(iso_date(w.day(g.int(-60, 60)))),
            "billing_schedule_of_values_status": None}


def line_item(w: World, g: Gen, project: dict, i: int, holder: dict, holder_type: str) -> dict:
    codes = w.records("cost_codes", project)
    code = codes[(holder["id"] + i) % len(codes)]
    types = w.records("line_item_types", w.company(project["company"]["id"]))
    kind = types[i % len(types)]
    quantity = g.int(1, 100)
    unit_cost = g.amount(10, 5000)
    total = round(quantity * unit_cost, 2)
    return {"position": i + 1, "description": g.pick(["Formwork", "Rebar supply", "Électricité — phase 2", "Labor", "=Allowance"]),
            "amount": f"{total:.2f}", "quantity": float(quantity), "unit_cost": unit_cost, "uom": g.pick(["ea", "ls", "m²"]),
            "total_amount": total, "extended_amount": total, "extended_type": "manual", "tax_code_id": None,
            "cost_code": {"id": code["id"], "code": code["code"], "full_code": code["full_code"], "name": code["name"]},
            "line_item_type": {"id": kind["id"], "name": kind["name"], "code": kind["code"], "base_type": kind["base_type"]},
            "wbs_code": {"id": code["id"], "flat_code": code["full_code"], "description": code["name"]},
            "holder": {"id": holder["id"], "holder_type": holder_type}, "project": {"id": project["id"], "name": project["name"]},
            "company": project["company"], "change_event_line_item": None, "origin_id": None, **stamps(w, g),
            "currency_configuration": currency()}


@entity("contract_line_items", CONTRACTS, 73, 100, lambda w, c: 2 + c["id"] % 5)
def make_contract_line_item(w: World, contract: dict, i: int, g: Gen, project: dict) -> dict:
    return line_item(w, g, project, i, contract, "Contract")


@entity("contract_payments", CONTRACTS, 74, 100, lambda w, c: c["id"] % 4)
def make_contract_payment(w: World, contract: dict, i: int, g: Gen, project: dict) -> dict:
    day = w.day(g.int(1, 300))
    return {"contract_id": contract["id"], "project_id": project["id"], "requisition_id": None,
            "amount": g.money(1000, 200_000), "date": iso_date(day), "check_number": g.maybe(f"{g.int(1000, 9999)}"),
            "invoice_number": f"INV-{g.int(10000, 99999)}", "payment_number": i + 1, "draw_request_number": i + 1,
            "date_payment_initiated": iso_date(day), "date_payment_settled": g.maybe(iso_date(day + timedelta(days=3))),
            "external_payment_id": None, "notes": g.maybe(g.sentence(5)), "status": g.pick(["paid", "pending"]),
            "attachments": attachments(g, 74 * 10**6 + i), "origin_id": None, "created_at": g.ts(day), "updated_at": g.ts(day)}


def change_amounts(w: World, g: Gen) -> dict:
    return {"grand_total": g.money(-20_000, 150_000), "due_date": g.maybe(iso_date(w.day(g.int(-60, 200)))),
            "invoiced_date": None, "paid_date": None}


@entity("change_order_packages", CONTRACTS, 75, 100, fixed(3))
def make_change_order_package(w: World, contract: dict, i: int, g: Gen, project: dict) -> dict:
    return {"contract_id": contract["id"], "number": str(i + 1), "title": f"CO Package {i + 1} — {g.pick(['Owner changes', 'Site conditions'])}",
            "status": g.pick(["approved", "pending", "draft"]), "revision": g.int(0, 2), "executed": g.chance(0.5),
            **change_amounts(w, g), "reviewed_at": None, "signed_change_order_received_date": None, **stamps(w, g),
            "deleted_at": None, "created_by_id": w.demo_user["id"], "origin_id": None, "origin_code": None, "origin_data": None,
            "designated_reviewer": w.person(g, project["company"]["id"]), "currency_configuration": {"currency_iso_code": "USD"},
            "custom_fields": custom_fields(g, i)}


@entity("change_order_requests", CONTRACTS, 76, 100, fixed(4))
def make_change_order_request(w: World, contract: dict, i: int, g: Gen, project: dict) -> dict:
    packages = w.records("change_order_packages", contract)
    return {"contract_id": contract["id"], "number": str(i + 1), "title": g.subject(i + 17), "status": g.pick(["approved", "pending"]),
            "revision": 0, **change_amounts(w, g), "schedule_impact_amount": g.int(0, 15),
            "change_order_package_id": packages[i % len(packages)]["id"], **stamps(w, g), "deleted_at": None,
            "created_by_id": w.demo_user["id"], "currency_configuration": {"currency_iso_code": "USD"},
            "description": g.maybe(g.sentence(12)), "private": False, "position": i,
            "creator": w.person(g, project["company"]["id"]), "attachments": attachments(g, 76 * 10**6 + i)}


@entity("potential_change_orders", CONTRACTS, 77, 100, lambda w, c: 2 + c["id"] % 3)
def make_pco(w: World, contract: dict, i: int, g: Gen, project: dict) -> dict:
    cors = w.records("change_order_requests", contract)
    cor = cors[i % len(cors)]
    return {"contract_id": contract["id"], "number": f"{i + 1:03d}", "title": g.subject(i + 41),
            "status": g.pick(["approved", "pending", "void"]), "revision": 0, "executed": False, **change_amounts(w, g),
            "change_reason": g.pick(["Owner Request", "Design Error", "Unforeseen Condition"]),
            "schedule_impact_amount": g.int(0, 10), "change_order_request_id": cor["id"],
            "change_order_request_title": cor["title"], "change_order_package_title": None,
            "reviewed_at": None, **stamps(w, g), "deleted_at": None, "currency_configuration": currency(),
            "custom_fields": custom_fields(g, i)}


@entity("pco_line_items", "potential_change_orders", 78, 100, lambda w, pco: 1 + pco["id"] % 4)
def make_pco_line_item(w: World, pco: dict, i: int, g: Gen, project: dict) -> dict:
    return line_item(w, g, project, i, pco, "PotentialChangeOrder")


@entity("prime_change_orders", "prime_contracts", 79, 100, fixed(3))
def make_prime_change_order(w: World, contract: dict, i: int, g: Gen, project: dict) -> dict:
    cid = project["company"]["id"]
    return {"batch_id": None, "contract_id": contract["id"], "legacy_package_id": None, "legacy_request_id": None,
            "number": str(i + 1), "title": g.subject(i + 53), "description": g.maybe(g.sentence(8)),
            "status": g.pick(["approved", "pending"]), "type": "PrimeContractChangeOrder", "revision": 0,
            "executed": g.chance(0.5), "paid": False, "private": False, "field_change": False, "signature_required": False,
            **change_amounts(w, g), "schedule_impact_amount": g.int(0, 10), "reviewed_at": None, **stamps(w, g),
            "created_by": ref(w.person(g, cid)), "designated_reviewer": ref(w.person(g, cid)), "received_from": None,
            "reviewed_by": None, "change_order_change_reason": {"id": 1, "change_reason": "Owner Request"},
            "change_events": [{"id": 7900 + i * 10 + k, "number": str(k + 1)} for k in range(g.int(0, 2))],
            "currency_configuration": currency(), "custom_fields": custom_fields(g, i)}


@entity("direct_costs", "project", 80, 10_000, 30)
def make_direct_cost(w: World, project: dict, i: int, g: Gen, _p: dict) -> dict:
    vendor = pick_record(w, g, "vendors", w.company(project["company"]["id"]))
    day = w.day(g.int(1, 300))
    amount = g.money(50, 50_000)
    return {"direct_cost_type": g.pick(["Invoice", "Expense", "Payroll"]), "direct_cost_date": iso_date(day),
            "invoice_number": f"DC-{i + 1:05d}", "description": g.pick([g.sentence(5), "+Fuel surcharge", "Café & snacks ☕"]),
            "status": g.pick(["draft", "pending", "approved"]), "terms": g.maybe("Net 30"), "amount": amount, "grand_total": amount,
            "payment_date": g.maybe(iso_date(day + timedelta(days=30))), "received_date": iso_date(day),
            "vendor": vendor["name"] if vendor else None, "vendor_id": vendor["id"] if vendor else None,
            "vendor_name": vendor["name"] if vendor else None, "employee": g.maybe(ref(w.person(g, project["company"]["id"]))),
            "origin_id": None, "origin_data": None, **stamps(w, g), "deleted_at": None, "currency_configuration": currency()}


@entity("direct_cost_line_items", "direct_costs", 81, 100, lambda w, dc: 1 + dc["id"] % 3)
def make_direct_cost_line_item(w: World, cost: dict, i: int, g: Gen, project: dict) -> dict:
    item = line_item(w, g, project, i, cost, "DirectCost")
    return {k: item[k] for k in ("position", "description", "amount", "quantity", "unit_cost", "uom", "total_amount",
                                 "extended_amount", "extended_type", "cost_code", "line_item_type", "wbs_code", "holder",
                                 "project", "created_at", "updated_at")}
