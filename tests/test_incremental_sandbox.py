"""The sandbox's moving data: edit, add and delete records; the clock behind updated_at and Date."""
from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import requests

from procore_xl.sandbox.admin import change_records
from tests.report_env import TODAY, report_env

RFIS = "/rest/v1.0/projects/91001/rfis"


@pytest.fixture(scope="module")
def env(make_sandbox):
    with report_env(make_sandbox, rfis_per_project=5) as (sb, client):
        yield sb, client


def _rfis(client, **query):
    return client.get_all(RFIS, query, company_id=8001)


def test_edit_add_delete_show_at_once_with_fresh_stamps(env):
    sb, client = env
    world = sb.world
    before = _rfis(client)
    edited = world.edit_record("rfis", before[0]["id"], subject="Changed subject")
    added = world.add_record("rfis", 91001)
    world.delete_record("rfis", before[1]["id"])
    after = {r["id"]: r for r in _rfis(client)}
    assert after[before[0]["id"]]["subject"] == "Changed subject"
    assert added["id"] in after and added["id"] not in {r["id"] for r in before}
    assert before[1]["id"] not in after
    assert len(after) == len(before)                       # one added, one deleted
    stamps = [edited["updated_at"], added["created_at"]]
    assert stamps[0] < stamps[1]                            # strictly increasing, whole seconds
    assert added["updated_at"] == added["created_at"]
    assert all(s.endswith("Z") and len(s) == 20 for s in stamps)


def test_date_header_is_the_clock_of_updated_at(env):
    sb, client = env
    record = sb.world.add_record("rfis", 91001)
    response = requests.get(sb.url + "/rest/v1.0/me")        # any answer carries Date
    served = parsedate_to_datetime(response.headers["Date"])
    stamped = datetime.fromisoformat(record["updated_at"].replace("Z", "+00:00"))
    assert served >= stamped
    assert served - stamped < timedelta(seconds=30)


def test_updated_at_filter_returns_only_recent_changes(env):
    sb, client = env
    world = sb.world
    target = _rfis(client)[2]
    changed = world.edit_record("rfis", target["id"], status="closed")      # after every earlier change
    since = datetime.fromisoformat(changed["updated_at"].replace("Z", "+00:00"))
    window = f"{changed['updated_at']}...{(since + timedelta(days=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
    recent = _rfis(client, **{"filters[updated_at]": window})
    assert [r["id"] for r in recent] == [changed["id"]]


def test_records_change_from_another_process_over_loopback(env):
    sb, client = env
    target = _rfis(client)[0]
    edited, added, deleted = change_records(
        sb.url,
        {"action": "edit", "entity": "rfis", "id": target["id"], "fields": {"subject": "From afar"}},
        {"action": "add", "entity": "rfis", "parent_id": 91001},
        {"action": "delete", "entity": "rfis", "id": target["id"]})
    assert edited["subject"] == "From afar" and added["id"] and deleted is None
    ids = {r["id"] for r in _rfis(client)}
    assert added["id"] in ids and target["id"] not in ids


def test_bad_change_is_a_400_naming_the_problem(env):
    sb, _ = env
    answer = requests.post(sb.url + "/_sandbox/records", json={"action": "edit", "entity": "rfis", "id": 1})
    assert answer.status_code == 400 and "no rfis record 1" in answer.json()["errors"]
    answer = requests.post(sb.url + "/_sandbox/records", json={"action": "explode"})
    assert answer.status_code == 400 and "action must be" in answer.json()["errors"]


def test_child_records_of_a_nested_parent_can_be_added(make_sandbox):
    with make_sandbox.serving(rfis_per_project=2, today=TODAY) as sb:
        world = sb.world
        pco = world.within("potential_change_orders", world.project(91001))[0]
        before = world.records("pco_line_items", pco)
        line = world.add_record("pco_line_items", pco["id"], description="Extra")
        assert world.records("pco_line_items", pco) == before + [line]
        assert line["description"] == "Extra"


def test_no_generated_record_is_updated_after_the_sandbox_clock():
    """A record stamped later than the server's clock would hide a later edit from any cursor kept
    on updated_at (dlt's incremental, for one): generated data never is."""
    from procore_xl.sandbox import SandboxConfig
    from procore_xl.sandbox.entities import SPECS
    from procore_xl.sandbox.world import World

    world = World(SandboxConfig(port=0, rfis_per_project=50), SPECS)
    now = world.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    stamps = [r[name] for r in world.records("rfis", world.project(91001)) for name in ("created_at", "updated_at")]
    assert stamps and all(s[:19] <= now[:19] for s in stamps if s)


def test_a_deleted_record_moves_to_the_documented_recycle_bin(env):
    sb, client = env
    world = sb.world
    target = _rfis(client)[0]
    world.delete_record("rfis", target["id"])
    binned = client.get_all(RFIS + "/recycle_bin", {}, company_id=8001)
    gone = next(r for r in binned if r["id"] == target["id"])
    assert gone["deleted"] is True and gone["deleted_at"] == gone["updated_at"]
    since = {"filters[updated_at]": f"{gone['updated_at']}...2100-01-01T00:00:00Z"}
    assert [r["id"] for r in client.get_all(RFIS + "/recycle_bin", since, company_id=8001)] == [target["id"]]
    refused = requests.get(sb.url + RFIS + "/recycle_bin", params={"filters[status]": "open"},
                           headers={"Authorization": f"Bearer {client.tokens.access_token()}",
                                    "Procore-Company-Id": "8001"})
    assert refused.status_code == 400 and "not a documented filter" in refused.json()["errors"]


def test_include_deleted_lists_deleted_records_where_documented(env):
    sb, client = env
    world = sb.world
    pcos = "/rest/v1.0/potential_change_orders"
    live = client.get_all(pcos, {"project_id": 91001}, company_id=8001)
    world.delete_record("potential_change_orders", live[0]["id"])
    only = client.get_all(pcos, {"project_id": 91001, "filters[include_deleted]": "only"}, company_id=8001)
    both = client.get_all(pcos, {"project_id": 91001, "filters[include_deleted]": "with"}, company_id=8001)
    assert [r["id"] for r in only] == [live[0]["id"]] and only[0]["deleted_at"]
    assert {r["id"] for r in both} == {r["id"] for r in live}
    assert live[0]["id"] not in {r["id"] for r in client.get_all(pcos, {"project_id": 91001}, company_id=8001)}


def test_stamps_shift_the_clock_skews_and_a_withheld_field_appears(env):
    sb, client = env
    world = sb.world
    back = world.edit_record("rfis", _rfis(client)[1]["id"], stamp_shift=timedelta(hours=-1))
    ahead = world.add_record("rfis", 91001, stamp_shift=timedelta(days=3))
    now = world.now()
    assert now - datetime.fromisoformat(back["updated_at"].replace("Z", "+00:00")) >= timedelta(minutes=59)
    assert datetime.fromisoformat(ahead["updated_at"].replace("Z", "+00:00")) - now >= timedelta(days=2, hours=23)
    sb.faults.clock_skew_seconds = 600
    try:
        served = parsedate_to_datetime(requests.get(sb.url + "/rest/v1.0/me").headers["Date"])
        assert served - world.now() >= timedelta(minutes=9)
    finally:
        sb.faults.clock_skew_seconds = 0
    change_records(sb.url, {"action": "withhold", "entity": "rfis", "field": "reference"})
    assert all("reference" not in r for r in _rfis(client))
    change_records(sb.url, {"action": "release", "entity": "rfis", "field": "reference"})
    assert all("reference" in r for r in _rfis(client))
    shifted, = change_records(sb.url, {"action": "edit", "entity": "rfis", "id": ahead["id"], "fields": {},
                                       "stamp_shift_seconds": -7200})
    assert shifted["updated_at"] < iso(world.now() - timedelta(minutes=119))


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
