"""The declarative table of generated entities: name -> (parent, id range, count, record maker).

Record shapes follow Procore's list responses (see the project's Procore notes, section 4).
"""
from __future__ import annotations

from datetime import timedelta

from .fakedata import TRADES, Gen, iso_date, iso_ts
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
        "standard_cost_codes": [], "attachments": attachments(g, 11 * 10**6 + i),
        "project_ids": [p["id"] for p in w.readable_projects(company["id"]) if g.chance(0.6)],
    }


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
        "due_date": iso_date(created + timedelta(days=g.int(5, 21))), "initiated_at": g.ts(created),
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
