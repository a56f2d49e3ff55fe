"""The built-in Procore sandbox, exercised with plain HTTP (requests) over loopback."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from procore_xl.sandbox import BIG_ID, SandboxServer

REDIRECT = "http://127.0.0.1:8765/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"


# ---------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def sb(make_sandbox):
    with make_sandbox.serving(seed=7, rate_limit_spike=100_000, rate_limit_hourly=100_000) as server:
        yield server


def client_token(sb: SandboxServer) -> str:
    r = requests.post(f"{sb.url}/oauth/token", data={"grant_type": "client_credentials"},
                      auth=(sb.client_id, sb.client_secret))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def api(sb: SandboxServer, token: str | None = None, company: int | None = 8001) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token or client_token(sb)}"
    if company is not None:
        s.headers["Procore-Company-Id"] = str(company)
    return s


@pytest.fixture(scope="module")
def session(sb):
    with api(sb) as s:
        yield s


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def approve(sb: SandboxServer, redirect_uri: str, state: str = "st4te", challenge: str | None = None) -> requests.Response:
    """Open the consent page, then submit its form with approve=1, as a browser would."""
    params = {"response_type": "code", "client_id": sb.client_id, "redirect_uri": redirect_uri, "state": state}
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    page = requests.get(f"{sb.url}/oauth/authorize", params=params)
    assert page.status_code == 200 and 'id="consent"' in page.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    assert fields["state"] == state
    return requests.post(f"{sb.url}/oauth/authorize", data={**fields, "approve": "1"}, allow_redirects=False)


def code_from_redirect(response: requests.Response, state: str = "st4te") -> str:
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


def exchange(sb: SandboxServer, code: str, redirect_uri: str = REDIRECT, **extra) -> requests.Response:
    return requests.post(f"{sb.url}/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "client_id": sb.client_id, "client_secret": sb.client_secret, **extra})


def user_token(sb: SandboxServer) -> dict:
    verifier, challenge = pkce_pair()
    r = exchange(sb, code_from_redirect(approve(sb, REDIRECT, challenge=challenge)), code_verifier=verifier)
    assert r.status_code == 200, r.text
    return r.json()


def refresh(sb: SandboxServer, refresh_token: str) -> requests.Response:
    return requests.post(f"{sb.url}/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token, "redirect_uri": REDIRECT,
        "client_id": sb.client_id, "client_secret": sb.client_secret})


def links(response: requests.Response) -> dict[str, str]:
    return {m.group(2): m.group(1) for m in re.finditer(r'<([^>]+)>; rel="(\w+)"', response.headers.get("Link", ""))}


# ---------------------------------------------------------------- OAuth
def test_code_flow_with_state_and_pkce_and_single_use_code(sb):
    verifier, challenge = pkce_pair()
    code = code_from_redirect(approve(sb, REDIRECT, challenge=challenge))
    r = exchange(sb, code, code_verifier=verifier)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 5400
    assert body["access_token"] and body["refresh_token"] and isinstance(body["created_at"], int)
    me = api(sb, body["access_token"], company=None).get(f"{sb.url}/rest/v1.0/me").json()
    assert me == {"id": 100001, "login": "dana.reyes@harbortower.example", "name": "Dana Reyes"}

    replay = exchange(sb, code, code_verifier=verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_code_exchange_rejects_wrong_verifier_and_redirect_uri(sb):
    _, challenge = pkce_pair()
    code = code_from_redirect(approve(sb, REDIRECT, challenge=challenge))
    assert exchange(sb, code, code_verifier="not-the-verifier").json()["error"] == "invalid_grant"
    code = code_from_redirect(approve(sb, REDIRECT))
    assert exchange(sb, code, redirect_uri="http://127.0.0.1:9999/other").json()["error"] == "invalid_grant"


def test_oob_approval_shows_code_on_page(sb):
    page = approve(sb, OOB)
    assert page.status_code == 200
    code = re.search(r'id="code">([^<]+)<', page.text).group(1)
    assert exchange(sb, code, redirect_uri=OOB).status_code == 200


def test_unregistered_redirect_uri_is_refused(sb):
    r = requests.get(f"{sb.url}/oauth/authorize", params={
        "response_type": "code", "client_id": sb.client_id, "redirect_uri": "https://evil.example/cb"},
        allow_redirects=False)
    assert r.status_code == 400


def test_refresh_rotates_and_old_refresh_token_dies(sb):
    first = user_token(sb)
    r = refresh(sb, first["refresh_token"])
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    again = refresh(sb, first["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert refresh(sb, second["refresh_token"]).status_code == 200


def test_client_credentials_basic_form_and_multipart(sb):
    basic = requests.post(f"{sb.url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(sb.client_id, sb.client_secret))
    form = requests.post(f"{sb.url}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret})
    multipart = requests.post(f"{sb.url}/oauth/token", files={
        "grant_type": (None, "client_credentials"), "client_id": (None, sb.client_id),
        "client_secret": (None, sb.client_secret)})
    for r in (basic, form, multipart):
        assert r.status_code == 200, r.text
        assert "refresh_token" not in r.json() and r.json()["expires_in"] == 5400
    wrong = requests.post(f"{sb.url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(sb.client_id, "wrong-secret"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert "wrong-secret" not in wrong.text and sb.client_secret not in wrong.text


def test_revoke_kills_access_and_refresh_token_and_token_info(sb):
    token = user_token(sb)
    info = requests.get(f"{sb.url}/oauth/token/info", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert info.status_code == 200 and info.json()["resource_owner_id"] == 100001
    assert requests.post(f"{sb.url}/oauth/revoke", data={"token": token["access_token"]}).status_code == 200
    assert requests.post(f"{sb.url}/oauth/revoke", data={"token": "unknown"}).status_code == 200
    r = api(sb, token["access_token"], company=None).get(f"{sb.url}/rest/v1.0/me")
    assert r.status_code == 401 and r.json() == {"errors": "The access token is invalid"}
    assert refresh(sb, token["refresh_token"]).status_code == 400


def test_api_requires_bearer_token(sb):
    r = requests.get(f"{sb.url}/rest/v1.0/me")
    assert r.status_code == 401 and r.json() == {"errors": "The access token is invalid"}
    assert requests.get(f"{sb.url}/rest/v1.0/me", headers={"Authorization": "Bearer nope"}).status_code == 401


# ---------------------------------------------------------------- company header rule
def test_company_header_rule(sb):
    bare = api(sb, user_token(sb)["access_token"], company=None)
    assert bare.get(f"{sb.url}/rest/v1.0/me").status_code == 200
    companies = bare.get(f"{sb.url}/rest/v1.0/companies").json()
    assert [c["id"] for c in companies] == [8001, 8002]
    assert companies[0]["name"] == "Harbor Tower Builders"
    missing = bare.get(f"{sb.url}/rest/v1.0/projects", params={"company_id": 8001})
    assert missing.status_code == 400 and missing.json() == {"errors": "Missing Procore-Company-Id header!"}
    assert api(sb, company=8003).get(f"{sb.url}/rest/v1.0/projects", params={"company_id": 8003}).status_code == 403
    s = api(sb, company=8001)
    assert s.get(f"{sb.url}/rest/v1.0/projects/92001/rfis").status_code == 404      # project of 8002
    assert s.get(f"{sb.url}/rest/v1.0/projects/91001/rfis").status_code == 200


def test_unreadable_project_is_listed_but_404(session, sb):
    listed = session.get(f"{sb.url}/rest/v1.0/projects", params={"company_id": 8001}).json()
    assert 91007 in [p["id"] for p in listed]
    assert session.get(f"{sb.url}/rest/v1.0/projects/91007", params={"company_id": 8001}).status_code == 404
    assert session.get(f"{sb.url}/rest/v1.0/projects/91007/rfis").status_code == 404


def test_projects_active_by_default_and_status_filter(session, sb):
    def ids(**params):
        r = session.get(f"{sb.url}/rest/v1.0/projects", params={"company_id": 8001, **params})
        assert r.status_code == 200
        return {p["id"]: p["active"] for p in r.json()}
    active, inactive, every = ids(), ids(**{"filters[by_status]": "Inactive"}), ids(**{"filters[by_status]": "All"})
    assert 91001 in active and all(active.values())
    assert len(inactive) >= 2 and not any(inactive.values())
    assert every.keys() == active.keys() | inactive.keys()
    assert {p["id"] for p in sb.world.company_projects(8001)} == set(every)


# ---------------------------------------------------------------- paging
def test_paging_headers_and_links(session, sb):
    url = f"{sb.url}/rest/v1.0/projects/91001/rfis"
    first = session.get(url, params={"per_page": 30})
    total = len(sb.world.records("rfis", sb.world.project(91001)))
    assert first.headers["Total"] == str(total) and first.headers["Per-Page"] == "30"
    assert set(links(first)) == {"next", "last"}
    rows, response = list(first.json()), first
    while "next" in links(response):
        response = session.get(links(response)["next"])
        rows += response.json()
    assert set(links(response)) == {"first", "prev"}
    assert [r["id"] for r in rows] == [r["id"] for r in sb.world.records("rfis", sb.world.project(91001))]
    assert session.get(url).headers["Per-Page"] == "100"              # default page size


def test_per_page_is_capped_at_1000_on_v1(sb, make_sandbox):
    with make_sandbox.serving(seed=7, rfis_per_project=1500) as big:
        r = api(big).get(f"{big.url}/rest/v1.0/projects/91001/rfis", params={"per_page": 5000})
        assert r.headers["Per-Page"] == "1000" and r.headers["Total"] == "1500" and len(r.json()) == 1000
        assert links(r)["next"].endswith("page=2&per_page=1000")


def test_twenty_thousand_rfis(sb, make_sandbox):
    with make_sandbox.serving(seed=7, rfis_per_project=20000) as big:
        s = api(big)
        last = s.get(f"{big.url}/rest/v1.0/projects/91001/rfis", params={"per_page": 1000, "page": 20})
        assert last.headers["Total"] == "20000" and len(last.json()) == 1000 and "next" not in links(last)
        assert last.json()[-1]["id"] == BIG_ID                            # id above 2**53 survives JSON
        assert big.world.rfi_count() == 20000                            # every readable project


# ---------------------------------------------------------------- data
def test_rfi_list_show_and_replies(session, sb):
    rfis = session.get(f"{sb.url}/rest/v1.0/projects/91001/rfis", params={"per_page": 1000}).json()
    assert any(r["subject"].startswith(("=", "+", "-", "@")) for r in rfis)
    assert all({"questions", "assignees", "ball_in_courts"} <= r.keys() for r in rfis)
    rfi = next(r for r in rfis if r["id"] % 4 == 3)
    shown = session.get(f"{sb.url}/rest/v1.0/projects/91001/rfis/{rfi['id']}").json()
    replies = session.get(f"{sb.url}/rest/v1.0/projects/91001/rfis/{rfi['id']}/replies").json()
    assert len(replies) == 3
    assert [a["id"] for a in shown["questions"][0]["answers"]] == [r["id"] for r in replies]
    assert session.get(f"{sb.url}/rest/v1.0/projects/91001/rfis/123").status_code == 404


def test_same_seed_same_data_other_seed_other_data(make_sandbox):
    def fetch(seed):
        with make_sandbox.serving(seed=seed) as server:
            return api(server).get(f"{server.url}/rest/v1.0/projects/91002/rfis", params={"per_page": 50}).text
    assert fetch(11) == fetch(11)
    assert fetch(11) != fetch(12)


def test_every_response_has_request_id_and_date(sb, session):
    for r in (session.get(f"{sb.url}/rest/v1.0/me"), requests.get(f"{sb.url}/oauth/authorize"),
              session.get(f"{sb.url}/rest/v1.0/nowhere")):
        assert r.headers["x-request-id"] and r.headers["Date"]


# ---------------------------------------------------------------- rate limits
def test_rate_limit_headers_count_down_then_429(make_sandbox):
    with make_sandbox.serving(rate_limit_spike=5, rate_limit_hourly=1000) as small:
        s = api(small)
        seen = [s.get(f"{small.url}/rest/v1.0/me") for _ in range(5)]
        remaining = [int(r.headers["X-Rate-Limit-Remaining"]) for r in seen]
        assert remaining == [4, 3, 2, 1, 0]
        assert all(r.headers["X-Rate-Limit-Limit"] == "5" for r in seen)
        over = s.get(f"{small.url}/rest/v1.0/me")
        assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
        assert int(over.headers["X-Rate-Limit-Reset"]) >= int(time.time())
        assert "surpassed" in over.json()["errors"]
        other = api(small)                                   # budgets are per access token
        assert other.get(f"{small.url}/rest/v1.0/me").status_code == 200


def test_hourly_window_shown_when_closer_to_exhaustion(make_sandbox):
    with make_sandbox.serving(rate_limit_spike=50, rate_limit_hourly=10) as small:
        r = api(small).get(f"{small.url}/rest/v1.0/me")
        assert r.headers["X-Rate-Limit-Limit"] == "10" and r.headers["X-Rate-Limit-Remaining"] == "9"
        assert int(r.headers["X-Rate-Limit-Reset"]) > time.time() + 3000


# ---------------------------------------------------------------- faults
@pytest.fixture
def faulty(make_sandbox):
    with make_sandbox.serving(seed=7) as server:
        yield server


def statuses(session: requests.Session, url: str, n: int) -> list[int]:
    return [session.get(url).status_code for _ in range(n)]


def test_fault_rate_limit_every(faulty):
    s = api(faulty)
    faulty.faults.rate_limit_every = 3
    r = [s.get(f"{faulty.url}/rest/v1.0/me") for _ in range(6)]
    assert [x.status_code for x in r] == [200, 200, 429, 200, 200, 429]
    assert r[2].headers["Retry-After"] == "1" and "X-Rate-Limit-Reset" in r[2].headers


def test_fault_unavailable_bursts(faulty):
    s = api(faulty)
    faulty.faults.unavailable_every, faulty.faults.unavailable_burst = 4, 2
    r = [s.get(f"{faulty.url}/rest/v1.0/me") for _ in range(8)]
    assert [x.status_code for x in r] == [200, 200, 200, 503, 503, 200, 200, 503]
    assert r[3].headers["Retry-After"] == "1"


def test_fault_drop_every(faulty):
    s = api(faulty)
    faulty.faults.drop_every = 2
    assert s.get(f"{faulty.url}/rest/v1.0/me").status_code == 200
    with pytest.raises(requests.ConnectionError):
        s.get(f"{faulty.url}/rest/v1.0/me")
    assert s.get(f"{faulty.url}/rest/v1.0/me").status_code == 200


def test_fault_token_dies_after(faulty):
    token = user_token(faulty)
    faulty.faults.token_dies_after = 2
    s = api(faulty, token["access_token"])
    assert statuses(s, f"{faulty.url}/rest/v1.0/me", 3) == [200, 200, 401]
    fresh = refresh(faulty, token["refresh_token"]).json()["access_token"]
    assert api(faulty, fresh).get(f"{faulty.url}/rest/v1.0/me").status_code == 200


def test_fault_malformed_every(faulty):
    s = api(faulty)
    faulty.faults.malformed_every = 2
    good, bad = s.get(f"{faulty.url}/rest/v1.0/companies"), s.get(f"{faulty.url}/rest/v1.0/companies")
    assert good.json() and bad.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad.text)


def test_fault_latency_and_oauth_unaffected(faulty):
    faulty.faults.drop_every = 1                       # every API request dropped, OAuth still works
    token = client_token(faulty)
    with pytest.raises(requests.ConnectionError):
        api(faulty, token).get(f"{faulty.url}/rest/v1.0/me")
    faulty.faults.drop_every = None
    faulty.faults.latency_ms = 30                      # slower, still answered (its effect: benchmarks/)
    assert api(faulty, token).get(f"{faulty.url}/rest/v1.0/me").status_code == 200


def test_request_counts(faulty):
    s = api(faulty)
    faulty.reset_counts()
    s.get(f"{faulty.url}/rest/v1.0/me")
    s.get(f"{faulty.url}/rest/v1.0/me")
    assert faulty.requests == 2 and faulty.path_counts == {"/rest/v1.0/me": 2}


# ---------------------------------------------------------------- the report catalog's endpoints
def catalog_values(sb: SandboxServer) -> dict:
    """Real ids from the generated world for every placeholder the catalog uses (project 91001)."""
    w = sb.world
    project, company = w.project(91001), w.company(8001)
    work_order = w.records("work_order_contracts", project)[0]
    return dict(company_id=8001, project_id=91001, by_status="Active", vendor_id=w.records("vendors", company)[0]["id"],
                cost_code_list_id=w.records("standard_cost_code_lists", company)[0]["id"],
                rfi_id=next(r["id"] for r in w.records("rfis", project) if r["id"] % 4 == 3), budget_view_id=w.records("budget_views", project)[0]["id"],
                meeting_id=w.records("meetings", project)[0]["id"],
                drawing_area_id=w.records("drawing_areas", project)[0]["id"],
                album_id=w.records("image_categories", project)[0]["id"], contract_id=work_order["id"],
                cor_id=w.records("change_order_requests", work_order)[0]["id"],
                pco_id=w.within("potential_change_orders", project)[0]["id"],
                prime_contract_id=w.records("prime_contracts", project)[0]["id"])


def test_every_catalog_endpoint_is_served_with_records(session, sb):
    from procore_xl.catalog import REPORTS
    values = catalog_values(sb)
    for report in REPORTS.values():
        path, query = report.endpoint.render(values)
        if report.dates:
            query["start_date"], query["end_date"] = str(sb.world.day(30)), str(sb.world.today)
        r = session.get(f"{sb.url}{path}", params=query)
        assert r.status_code == 200, (report.name, r.status_code, r.text[:200])
        body = r.json()
        records = body["data"] if isinstance(body, dict) and "data" in body else body
        if report.endpoint.record_path:
            groups = records if isinstance(records, list) else [records]
            records = [x for group in groups for key in report.endpoint.record_path for x in group[key]]
        assert records, report.name
        first = records[0] if isinstance(records, list) else records
        for sub in report.sub_lists:
            if sub.fetch:
                sub_path, sub_query = sub.fetch.render({**values, "id": first["id"]})
                assert session.get(f"{sb.url}{sub_path}", params=sub_query).status_code == 200, (report.name, sub.name)


def test_daily_logs_are_date_scoped(session, sb):
    url = f"{sb.url}/rest/v1.0/projects/91001/notes_logs"
    today, w = str(sb.world.today), sb.world
    assert {r["date"] for r in session.get(url).json()} == {today}                   # no date: today only
    day = str(w.day(17))
    assert {r["date"] for r in session.get(url, params={"log_date": day}).json()} == {day}
    ranged = session.get(url, params={"start_date": str(w.day(40)), "end_date": str(w.day(11)), "per_page": 1000}).json()
    expected = [r["id"] for r in w.records("notes_logs", w.project(91001)) if str(w.day(40)) <= r["date"] <= str(w.day(11))]
    assert [r["id"] for r in ranged] == expected and len({r["date"] for r in ranged}) == 30
    assert session.get(url, params={"log_date": "yesterday"}).status_code == 400


def test_folders_nest_recursively(session, sb):
    root = session.get(f"{sb.url}/rest/v1.0/folders", params={"project_id": 91001})
    assert root.status_code == 200 and "Total" not in root.headers
    seen, files, pending = [], 0, [root.json()]
    while pending:
        folder = pending.pop()
        seen.append(folder["id"])
        files += len(folder["files"])
        for child in folder["folders"]:
            assert child["parent_id"] == folder["id"]
            pending.append(session.get(f"{sb.url}/rest/v1.0/folders/{child['id']}", params={"project_id": 91001}).json())
    folders = sb.world.records("folders", sb.world.project(91001))
    assert sorted(seen) == sorted(f["id"] for f in folders)
    assert files == sum(len(sb.world.records("files", f)) for f in folders) > 0


def test_photos_by_album_and_recently_updated(session, sb):
    project = sb.world.project(91001)
    album = sb.world.records("image_categories", project)[1]
    photos = session.get(f"{sb.url}/rest/v1.0/images", params={"project_id": 91001, "image_category_id": album["id"]}).json()
    assert len(photos) == album["count"] and {p["image_category_id"] for p in photos} == {album["id"]}
    recent = session.get(f"{sb.url}/rest/v1.0/images", params={"project_id": 91001, "sort": "-taken_at", "per_page": 5}).json()
    everything = sorted(sb.world.within("images", project), key=lambda p: p["taken_at"], reverse=True)
    assert [p["taken_at"] for p in recent] == [p["taken_at"] for p in everything[:5]]


def test_v2_budget_line_items_wrap_data_string_ids_and_cap_100(make_sandbox):
    with make_sandbox.serving(seed=7, scale=3) as big:
        url = f"{big.url}/rest/v2.0/companies/8001/projects/91001/budget_line_items"
        s = api(big)
        default = s.get(url)
        assert default.headers["Per-Page"] == "10" and len(default.json()["data"]) == 10
        capped = s.get(url, params={"per_page": 1000})
        assert capped.headers["Per-Page"] == "100" and capped.headers["Total"] == "120"
        assert all(isinstance(r["id"], str) and isinstance(r["wbs_code"]["id"], str) for r in capped.json()["data"])
        assert s.get(f"{big.url}/rest/v2.0/companies/8002/projects/91001/budget_line_items").status_code == 404


def test_updated_at_range_filter(session, sb):
    start, end = str(sb.world.day(90)), str(sb.world.day(30))
    got = session.get(f"{sb.url}/rest/v1.0/projects/91001/rfis",
                      params={"filters[updated_at]": f"{start}...{end}", "per_page": 1000}).json()
    expected = [r["id"] for r in sb.world.records("rfis", sb.world.project(91001)) if start <= r["updated_at"][:10] <= end]
    assert [r["id"] for r in got] == expected and 0 < len(expected) < 200


def test_financial_records_belong_to_their_parents(session, sb):
    p = {"project_id": 91001}
    for contract in session.get(f"{sb.url}/rest/v1.0/work_order_contracts", params=p).json():
        cors = session.get(f"{sb.url}/rest/v1.0/change_order_requests", params={**p, "contract_id": contract["id"]}).json()
        packages = session.get(f"{sb.url}/rest/v1.0/change_order_packages", params={**p, "contract_id": contract["id"]}).json()
        generated = sb.world.records("change_order_requests", sb.world.find("work_order_contracts", sb.world.project(91001),
                                                                             contract["id"]))
        assert cors and [c["id"] for c in cors] == [c["id"] for c in generated]
        assert {c["change_order_package_id"] for c in cors} <= {k["id"] for k in packages}
    pcos = session.get(f"{sb.url}/rest/v1.0/potential_change_orders", params=p).json()
    for pco in pcos[:3]:
        items = session.get(f"{sb.url}/rest/v1.0/potential_change_orders/{pco['id']}/line_items", params=p).json()
        assert items and {i["holder"]["id"] for i in items} == {pco["id"]}
    area = session.get(f"{sb.url}/rest/v1.1/projects/91001/drawing_areas").json()[0]
    drawings = session.get(f"{sb.url}/rest/v1.1/drawing_areas/{area['id']}/drawings", params=p).json()
    assert len(drawings) == area["drawings_count"]
    assert session.get(f"{sb.url}/rest/v1.1/drawing_areas/123/drawings", params=p).status_code == 404
    prime = session.get(f"{sb.url}/rest/v1.0/projects/91001/prime_change_orders")
    assert "Total" not in prime.headers and "Link" not in prime.headers and prime.json()


def test_meetings_grouped_and_categories_need_meeting(session, sb):
    groups = session.get(f"{sb.url}/rest/v1.0/meetings", params={"project_id": 91001}).json()
    assert all({"group_title", "meetings"} == g.keys() for g in groups)
    assert sum(len(g["meetings"]) for g in groups) == len(sb.world.records("meetings", sb.world.project(91001)))
    assert session.get(f"{sb.url}/rest/v1.0/meeting_categories", params={"project_id": 91001}).status_code == 400


def test_data_is_realistic(session, sb):
    project = sb.world.project(91001)
    rfis = sb.world.records("rfis", project)
    text = json.dumps(rfis, ensure_ascii=False)
    assert all(ch in text for ch in "éü日") and any(e in text for e in ("🏗️", "✅", "⚠️", "🔧", "📐"))
    assert any(r["received_from"] is None for r in rfis)
    contract = sb.world.records("work_order_contracts", project)[0]
    assert re.fullmatch(r"-?\d+\.\d{2}", contract["grand_total"])
    assert any(r["custom_fields"]["custom_field_5002"]["value"] for r in rfis)


# ---------------------------------------------------------------- Procore as published (the reference)
@pytest.fixture(scope="module")
def lenient(make_sandbox):
    with make_sandbox.serving(seed=7, strict=False, rate_limit_spike=100_000, rate_limit_hourly=100_000) as server:
        yield server


def test_every_served_route_is_in_the_reference():
    from procore_xl.sandbox.published import documented
    from procore_xl.sandbox.routes import ROUTES
    undocumented = [r.pattern for r in ROUTES if documented(r.pattern) is None]
    assert undocumented == []


@pytest.mark.parametrize("path,params,problem", [
    ("/rest/v1.0/projects/91001/rfi_things", {}, "not in Procore's published reference"),
    ("/rest/v1.0/line_item_types", {"company_id": 8001}, "project_id is missing"),
    ("/rest/v1.0/images", {"project_id": 91001, "sort": "-updated_at"}, "sort=-updated_at is not a documented sort"),
    ("/rest/v1.0/projects/91001/checklist/list_templates", {"filters[updated_at]": "2024-01-01...2024-02-01"},
     "filters[updated_at] is not a documented filter"),
    ("/rest/v1.0/projects/91001/prime_change_orders", {"view": "full"}, "view=full is not a documented view"),
    ("/rest/v1.0/projects/91001/plan_revision_logs", {"page": 1}, "documented without paging"),
    ("/rest/v1.0/projects/91001/rfis", {"color": "red"}, "color is not a documented parameter"),
])
def test_strict_mode_refuses_what_the_reference_does_not_document(session, sb, path, params, problem):
    r = session.get(f"{sb.url}{path}", params=params)
    assert r.status_code == 400 and problem in r.json()["errors"], r.text


def test_lenient_mode_ignores_undocumented_filters_and_sorts(lenient):
    s = api(lenient)
    url = f"{lenient.url}/rest/v1.0/projects/91001/checklist/list_templates"
    everything = s.get(url).json()
    assert s.get(url, params={"filters[updated_at]": "2000-01-01...2000-01-02"}).json() == everything
    assert s.get(url, params={"sort": "-updated_at"}).json() == everything   # not applied
    names = s.get(url, params={"sort": "-name"}).json()                     # documented: applied
    assert [t["name"] for t in names] == sorted((t["name"] for t in everything), reverse=True)
    missing = api(lenient, company=None).get(f"{lenient.url}/rest/v1.0/projects", params={"company_id": 8001})
    assert missing.status_code == 403


def test_service_accounts_send_the_company_header_even_on_me_and_companies(sb):
    bare = api(sb, company=None)                   # client credentials: the service account
    for path in ("/rest/v1.0/me", "/rest/v1.0/companies"):
        r = bare.get(f"{sb.url}{path}")
        assert r.status_code == 400 and r.json() == {"errors": "Missing Procore-Company-Id header!"}
    assert api(sb).get(f"{sb.url}/rest/v1.0/me").status_code == 200


@pytest.mark.parametrize("bounds", ["{a}...{b}", "{a}T00:00:00Z...{b}T23:59:59Z"])
def test_updated_at_ranges_are_applied_where_documented(session, sb, bounds):
    w = sb.world
    a, b = str(w.day(90)), str(w.day(30))
    for path, entity in (("/rest/v1.0/projects/91001/rfis", "rfis"), ("/rest/v1.0/projects/91001/locations", "locations")):
        got = session.get(f"{sb.url}{path}", params={"filters[updated_at]": bounds.format(a=a, b=b), "per_page": 1000}).json()
        expected = [r["id"] for r in w.records(entity, w.project(91001)) if a <= r["updated_at"][:10] <= b]
        assert [r["id"] for r in got] == expected


def test_updated_at_is_served_wherever_the_reference_documents_it(session, sb):
    from procore_xl.fidelity import all_calls
    values = {**catalog_values(sb), "rfi_id": sb.world.records("rfis", sb.world.project(91001))[0]["id"]}
    checked, missing = 0, []
    for call in all_calls():
        doc = call.documented
        fields = doc.record_fields or ()
        if call.endpoint.record_path:
            fields = doc.nested.get(call.endpoint.record_path[0], ())
        if "updated_at" not in fields or "{id}" in call.endpoint.path:
            continue
        path, query = call.endpoint.render({**values, "id": 1})
        body = api(sb, user_token(sb)["access_token"], 8001).get(f"{sb.url}{path}", params=query).json() \
            if path == "/rest/v1.0/companies" else session.get(f"{sb.url}{path}", params=query).json()
        records = body["data"] if isinstance(body, dict) and "data" in body else body
        records = records if isinstance(records, list) else [records]
        if call.endpoint.record_path:
            records = [m for g in records for m in g[call.endpoint.record_path[0]]]
        if not records or not all("updated_at" in r for r in records):
            missing.append(path)
        checked += 1
    assert missing == [] and checked > 30


def test_lists_carry_only_documented_fields_show_endpoints_the_rest(session, sb):
    p = sb.url + "/rest/v1.0/projects/91001"
    templates = session.get(f"{p}/checklist/list_templates").json()
    assert templates and all("sections" not in t for t in templates)
    shown = session.get(f"{p}/checklist/list_templates/{templates[0]['id']}").json()
    assert shown["sections"] and all("items" in sec for sec in shown["sections"])
    v11 = session.get(f"{sb.url}/rest/v1.1/projects/91001/drawing_areas").json()
    v10 = session.get(f"{p}/drawing_areas").json()
    assert all("drawing_sets" not in a for a in v11) and all(a["drawing_sets"] and a["drawing_disciplines"] for a in v10)
    rfi = session.get(f"{p}/rfis").json()[0]
    assert all(set(q) <= {"id", "body", "errors"} for q in rfi["questions"])
    logs = session.get(f"{p}/visitor_logs").json()
    assert logs and all("attachments" not in log for log in logs)
    default = session.get(f"{p}/prime_change_orders").json()
    extended = session.get(f"{p}/prime_change_orders", params={"view": "extended"}).json()
    assert all("change_events" not in c for c in default) and any(c["change_events"] for c in extended)


def test_rfi_replies_have_the_documented_shape(session, sb):
    rfi = next(r for r in sb.world.records("rfis", sb.world.project(91001)) if r["id"] % 4)
    documented = {"id", "official", "answer_date", "plain_text_body", "rich_text_body", "created_by", "created_by_id",
                  "attachments"}
    replies = session.get(f"{sb.url}/rest/v1.0/projects/91001/rfis/{rfi['id']}/replies").json()
    answers = session.get(f"{sb.url}/rest/v1.0/projects/91001/rfis/{rfi['id']}").json()["questions"][0]["answers"]
    assert replies and {frozenset(r) for r in replies} == {frozenset(documented)}
    assert answers == replies


def test_project_dates_are_paged(session, sb):
    url = f"{sb.url}/rest/v1.0/projects/91001/project_dates"
    first = session.get(url, params={"per_page": 2})
    assert first.headers["Total"] == "5" and len(first.json()["project_dates"]) == 2
    last = session.get(url, params={"per_page": 2, "page": 3}).json()
    assert len(last["project_dates"]) == 1 and "schedule_dates" in last


def test_list_answers_made_from_records_encoded_once_follow_every_change(make_sandbox):
    """A list answer's body is joined from each record's JSON kept from earlier answers: it is
    what encoding the documented records at once gives, after edits, adds, deletions and a
    withheld field too (the world replaces records, never changes one in place)."""
    from procore_xl.sandbox.published import documented, documented_fields
    sb = make_sandbox(rfis_per_project=40)
    session = api(sb)
    url = sb.url + "/rest/v1.0/projects/91001/rfis"
    doc = documented("/rest/v1.0/projects/{project_id}/rfis")

    def check() -> list:
        expected = documented_fields(doc, sb.world.records("rfis", sb.world.project(91001)))
        for _ in range(2):                                # encoded now, then from what was kept
            answer = session.get(url, params={"per_page": 1000})
            assert answer.status_code == 200 and answer.json() == expected
        return expected

    check()
    records = sb.world.records("rfis", sb.world.project(91001))
    sb.world.edit_record("rfis", records[3]["id"], subject="Edited \ud800 with a lone surrogate")
    assert check()[3]["subject"].startswith("Edited")
    sb.world.add_record("rfis", 91001)
    sb.world.delete_record("rfis", records[5]["id"])
    assert len(check()) == 40
    sb.world.withhold("rfis", "subject")
    assert all("subject" not in r for r in check())
    sb.world.release("rfis", "subject")
    assert all("subject" in r for r in check())
    sb.world.records("rfis", sb.world.project(91001))[0]["subject"] = "Set in place by a test"
    assert check()[0]["subject"] == "Set in place by a test"
