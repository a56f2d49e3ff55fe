"""The engine against a strict Procore stand-in built only from /work/shared/procore_api.md §1-§3.

The built-in sandbox is friendlier than Procore may be; :class:`StrictProcore` is not. It
enforces what the notes document and records every breach in ``violations`` instead of
quietly answering:

* §1.2 token endpoint: form fields ``grant_type``, ``client_id``, ``client_secret`` and, on the
  code *and* refresh grants, the ``redirect_uri`` the code was issued for; single-use codes and
  rotating single-use refresh tokens; revoke needs ``token`` + ``client_id`` + ``client_secret``.
* §2.2 ``Procore-Company-Id`` on every API call except ``/rest/v1.0/me`` and ``/rest/v1.0/companies``.
* §3 required query parameters (``company_id`` on the company-scoped v1.0 lists and project show,
  ``project_id`` where the path does not carry the project, both for standard cost codes...).
* §2.3 paging: ``page``/``per_page``; v1 capped at 1,000, v2 at 100 (``{"data": [...]}``, string
  ids); ``Total``/``Per-Page``/``Link`` (absolute URLs on another host) - or no headers at all.
* §2.4 daily logs: a request with no ``log_date`` / ``start_date``+``end_date`` is a breach.
* §2.4 ``filters[by_status]`` only ``Active`` / ``Inactive`` / ``All``.
"""
from __future__ import annotations

import json
import math
import re
import threading
import time
from datetime import date
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from procore_xl.auth import TokenManager, login, login_client_credentials, logout
from procore_xl.catalog import ALL_PROJECTS, PROJECT, REPORTS
from procore_xl.client import ProcoreClient
from procore_xl.discovery import Discovery
from procore_xl.environments import OOB_REDIRECT_URI, load_settings
from procore_xl.errors import NotFoundError
from procore_xl.runner import run_report
from procore_xl.tokens import MemoryTokenStore
from stand_in import LoopbackServer, QuietHandler, Scripted

CLIENT_ID, CLIENT_SECRET = "strict-client", "strict-secret"
COMPANY = 7001
PROJECTS = [{"id": 70001, "name": "Alpha", "active": True}, {"id": 70002, "name": "Bravo", "active": True},
            {"id": 70003, "name": "Hidden", "active": True}, {"id": 70004, "name": "Old", "active": False}]
HIDDEN_PROJECT = 70003                    # the user cannot see it: Procore answers 404 (§2.6)
TODAY = date(2024, 6, 14)

DAILY_LOGS = ("manpower_logs", "notes_logs", "plan_revision_logs", "quantity_logs", "visitor_logs",
              "waste_logs", "work_logs", "timecard_entries", "accident_logs", "call_logs", "delay_logs",
              "delivery_logs", "dumpster_logs", "equipment_logs", "inspection_logs", "productivity_logs",
              "safety_violation_logs", "weather_logs", "daily_construction_report_logs")
NO_COMPANY_HEADER = ("/rest/v1.0/me", "/rest/v1.0/companies")
# §3 "Required" column: query parameters a path needs besides the company header.
REQUIRED_QUERY = [
    (r"/rest/v1\.[01]/projects", {"company_id"}),
    (r"/rest/v1\.0/projects/\d+", {"company_id"}),
    (r"/rest/v1\.\d/users", {"company_id"}),
    (r"/rest/v1\.0/vendors", {"company_id"}),
    (r"/rest/v1\.0/standard_cost_code_lists", {"company_id"}),
    (r"/rest/v1\.0/standard_cost_codes", {"company_id", "standard_cost_code_list_id"}),
    (r"/rest/v1\.0/change_order_change_reasons", {"company_id"}),
    (r"/rest/v1\.0/line_item_types", {"company_id"}),
    (r"/rest/v1\.0/meeting_categories", {"project_id", "meeting_id"}),
    (r"/rest/v1\.0/(contract_payments|change_order_requests)", {"project_id", "contract_id"}),
    (r"/rest/v1\.0/change_order_requests/\d+", {"project_id", "contract_id"}),
    (r"/rest/v1\.[01]/(?!projects/|companies/|me$|companies$|standard_cost|change_order_change|vendors$|"
     r"line_item_types$|users$)[a-z_]+(/\d+(/[a-z_]+)?)?", {"project_id"}),
]


class StrictProcore(LoopbackServer):
    """Login host and API host in one loopback server (as the built-in sandbox does)."""

    def __init__(self, *, paging: str = "total", created_at_offset: float = 0.0, v2_rows: int = 3,
                 list_rows: int = 3):
        self.paging = paging                    # "total": Total+Per-Page+Link, "link": Link only, "none"
        self.created_at_offset = created_at_offset   # server clock minus ours, in created_at
        self.v2_rows, self.list_rows = v2_rows, list_rows
        self.lock = threading.Lock()
        self.violations: list[str] = []
        self.requests: list[tuple[str, dict, dict]] = []   # (path, query, headers) of API calls
        self.token_forms: list[dict] = []
        self.revoke_forms: list[dict] = []
        self.codes: dict[str, str] = {}         # code -> redirect_uri it was issued for
        self.refresh_tokens: dict[str, str] = {}   # live refresh token -> redirect_uri of the sign-in
        self.access_tokens: set[str] = set()
        self.serial = 0
        super().__init__(_Handler)

    def breach(self, text: str) -> None:
        with self.lock:
            self.violations.append(text)

    def issue_code(self, redirect_uri: str) -> str:
        with self.lock:
            self.serial += 1
            code = f"code-{self.serial}"
            self.codes[code] = redirect_uri
        return code

    def _issue(self, redirect_uri: str | None, refresh: bool = True) -> dict:
        with self.lock:
            self.serial += 1
            access, rt = f"access-{self.serial}", f"refresh-{self.serial}"
            self.access_tokens.add(access)
            if refresh:
                self.refresh_tokens[rt] = redirect_uri
        body = {"access_token": access, "token_type": "bearer", "expires_in": 5400,
                "created_at": int(time.time() + self.created_at_offset)}
        if refresh:
            body["refresh_token"] = rt
        return body

    # ---------------------------------------------------------------- OAuth (§1.2)
    def token(self, form: dict) -> tuple[int, dict]:
        with self.lock:
            self.token_forms.append(dict(form))
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            with self.lock:
                issued_for = self.codes.pop(form.get("code", ""), None)   # single use
            if issued_for is None or form.get("redirect_uri") != issued_for:
                return 400, {"error": "invalid_grant"}
            return 200, self._issue(issued_for)
        if grant == "refresh_token":
            with self.lock:
                issued_for = self.refresh_tokens.pop(form.get("refresh_token", ""), None)   # dies now
            if issued_for is None:
                return 400, {"error": "invalid_grant"}
            if form.get("redirect_uri") != issued_for:
                self.breach(f"refresh redirect_uri {form.get('redirect_uri')!r} != sign-in's {issued_for!r}")
                return 400, {"error": "invalid_grant"}
            return 200, self._issue(issued_for)
        if grant == "client_credentials":
            return 200, self._issue(None, refresh=False)
        return 400, {"error": "unsupported_grant_type"}

    # ---------------------------------------------------------------- API (§2, §3)
    def api(self, path: str, query: dict, headers) -> tuple[int, object, dict]:
        with self.lock:
            self.requests.append((path, dict(query), dict(headers)))
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or auth[7:] not in self.access_tokens:
            return 401, {"errors": "The access token is invalid"}, {}
        company = headers.get("Procore-Company-Id")
        if path not in NO_COMPANY_HEADER:
            if not company:
                self.breach(f"no Procore-Company-Id on {path}")
                return 403, {"errors": "Missing Procore-Company-Id header!"}, {}
            if company != str(COMPANY):
                return 403, {"errors": "App is not connected to this company"}, {}
        for pattern, needed in REQUIRED_QUERY:
            if re.fullmatch(pattern, path):
                missing = sorted(n for n in needed if not query.get(n))
                if missing:
                    self.breach(f"{path} without {', '.join(missing)}")
                    return 400, {"errors": f"missing {', '.join(missing)}"}, {}
                break
        if "filters[by_status]" in query and query["filters[by_status]"] not in ("Active", "Inactive", "All"):
            self.breach(f"filters[by_status]={query['filters[by_status]']!r}")
        leaf = path.rstrip("/").split("/")[-1]
        if leaf in DAILY_LOGS:
            has_date = bool(query.get("log_date")) or (bool(query.get("start_date")) and bool(query.get("end_date")))
            if not has_date:
                self.breach(f"{path} without log_date or start_date/end_date")
            for k in ("log_date", "start_date", "end_date"):
                if k in query and not re.fullmatch(r"\d{4}-\d\d-\d\d", query[k]):
                    self.breach(f"{path} {k}={query[k]!r} is not YYYY-MM-DD")
        project = _project_of(path, query)
        if project == str(HIDDEN_PROJECT):
            return 404, {"error": "Not Found"}, {}
        return self._list_or_show(path, query)

    def _list_or_show(self, path: str, query: dict) -> tuple[int, object, dict]:
        v2 = path.startswith("/rest/v2.")
        if path == "/rest/v1.0/me":
            return 200, {"id": 1, "login": "strict@example.com", "name": "Strict User"}, {}
        if path == "/rest/v1.0/companies":
            rows = [{"id": COMPANY, "name": "Strict Co", "is_active": True}]
        elif re.fullmatch(r"/rest/v1\.[01]/projects", path):
            status = query.get("filters[by_status]", "Active")
            rows = [p for p in PROJECTS if status == "All" or p["active"] == (status == "Active")]
        elif path.endswith("/project_dates"):
            return 200, {"schedule_dates": {}, "project_dates": [{"id": 6, "name": "NTP", "date": "2024-01-02"}]}, {}
        elif re.fullmatch(r"/rest/v1\.1/projects/\d+/meetings", path):
            rows = [{"group_title": "Weekly", "meetings": [{"id": 9, "title": "OAC"}]}]
        elif re.search(r"/folders(/\d+)?$", path):
            return 200, {"id": 10, "name": "Root", "folders": [], "files": [{"id": 11, "name": "a.pdf"}]}, {}
        elif re.search(r"/(projects|rfis|change_order_requests)/\d+$", path):
            return 200, {"id": int(path.rsplit("/", 1)[1]), "name": "one", "attachments": [{"id": 13}],
                         "questions": [{"id": 14, "body": "q?", "answers": [{"id": 15, "official": True}]}]}, {}
        elif path.endswith("/prime_change_orders"):
            return 200, [{"id": 12, "number": "1", "title": "PCO", "change_events": []}], {}
        else:
            rows = [{"id": 100 + i, "name": f"row {i}", "title": f"row {i}", "number": str(i),
                     "date": TODAY.isoformat(), "updated_at": f"2024-06-{10 + i:02d}T00:00:00Z",
                     "attachments": [{"id": 200 + i, "filename": f"f{i}.pdf"}],
                     "custom_fields": {"custom_field_300": {"data_type": "string", "value": "x"}}}
                    for i in range(1, (self.v2_rows if v2 else self.list_rows) + 1)]
        if "page" not in query:
            return 200, rows, {}
        cap = 100 if v2 else 1000
        per_page = int(query.get("per_page") or 10)
        if per_page > cap:
            if v2:
                self.breach(f"{path} per_page={per_page} above the v2 maximum of 100")
            per_page = cap
        page = int(query["page"])
        chunk = rows[(page - 1) * per_page: page * per_page]
        if v2:
            chunk = [{**r, "id": str(r["id"])} for r in chunk]
        headers = {}
        last = max(1, math.ceil(len(rows) / per_page))
        if self.paging == "total":
            headers |= {"Total": str(len(rows)), "Per-Page": str(per_page)}
        if self.paging in ("total", "link"):
            def link(p):
                return f"<https://api.procore.example{path}?{urlencode({**query, 'page': p}, safe=',[]')}>"
            parts = [f'{link(1)}; rel="first"', f'{link(last)}; rel="last"']
            if page < last:
                parts.append(f'{link(page + 1)}; rel="next"')
            if page > 1:
                parts.append(f'{link(page - 1)}; rel="prev"')
            headers["Link"] = ", ".join(parts)
        return 200, ({"data": chunk} if v2 else chunk), headers


def _project_of(path: str, query: dict) -> str | None:
    m = re.search(r"/projects/(\d+)", path)
    return m.group(1) if m else query.get("project_id")


def _form(handler: BaseHTTPRequestHandler) -> dict:
    raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    ctype = handler.headers.get("Content-Type") or ""
    if ctype.startswith("multipart/form-data"):       # §1.2: curl -F examples; both accepted
        boundary = ctype.split("boundary=", 1)[1].encode()
        out = {}
        for part in raw.split(b"--" + boundary):
            head, _, value = part.partition(b"\r\n\r\n")
            m = re.search(rb'name="([^"]+)"', head)
            if m:
                out[m.group(1).decode()] = value.rstrip(b"\r\n").decode()
        return out
    return dict(parse_qsl(raw.decode()))


class _Handler(QuietHandler):
    def _send(self, status: int, body: object, headers: dict | None = None) -> None:
        srv: StrictProcore = self.server
        rate = {"X-Rate-Limit-Limit": "3600", "X-Rate-Limit-Remaining": "3500",
                "X-Rate-Limit-Reset": str(int(time.time()) + 3000), "Date": formatdate(usegmt=True),
                "X-Request-Id": f"req-{len(srv.requests)}"}
        self.send(status, json.dumps(body).encode(), {**rate, **(headers or {})})

    def do_POST(self):
        srv: StrictProcore = self.server
        form = _form(self)
        path = urlsplit(self.path).path
        if path == "/oauth/token":
            self._send(*srv.token(form))
        elif path == "/oauth/revoke":
            with srv.lock:
                srv.revoke_forms.append(form)
            if not (form.get("token") and form.get("client_id") == CLIENT_ID
                    and form.get("client_secret") == CLIENT_SECRET):
                srv.breach("revoke without token + client_id + client_secret")
            srv.access_tokens.discard(form.get("token"))
            self._send(200, {})
        else:
            self._send(404, {"error": "Not Found"})

    def do_GET(self):
        srv: StrictProcore = self.server
        parts = urlsplit(self.path)
        self._send(*srv.api(parts.path, dict(parse_qsl(parts.query)), self.headers))


# ---------------------------------------------------------------------------------- fixtures

@pytest.fixture
def strict():
    server = StrictProcore()
    yield server
    server.close()


def strict_settings(server: StrictProcore, tmp_path, redirect_uri: str = "http://localhost:8765/callback"):
    return load_settings(login_url=server.url, api_url=server.url, client_id=CLIENT_ID,
                         client_secret=CLIENT_SECRET, redirect_uri=redirect_uri,
                         settings_file=tmp_path / "none.json", environ={})


def signed_in(server: StrictProcore, tmp_path, *, oob: bool = True, redirect_uri: str | None = None):
    """A real code-flow sign-in on the stand-in (out of band: the 'user' pastes the code)."""
    settings = strict_settings(server, tmp_path, **({"redirect_uri": redirect_uri} if redirect_uri else {}))
    store = MemoryTokenStore()
    issued_for = OOB_REDIRECT_URI if oob or settings.redirect_uri == OOB_REDIRECT_URI else settings.redirect_uri
    login(settings, store, oob=oob, open_browser=lambda url: True,
          read_code=lambda: server.issue_code(issued_for))
    return settings, store


# ---------------------------------------------------------------------------------- §1 OAuth

def test_code_exchange_sends_the_documented_form_fields(strict, tmp_path):
    settings, store = signed_in(strict, tmp_path)
    form = strict.token_forms[-1]
    assert {k: form[k] for k in ("grant_type", "client_id", "client_secret", "redirect_uri")} == {
        "grant_type": "authorization_code", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "redirect_uri": OOB_REDIRECT_URI}
    assert form["code"].startswith("code-") and store.load(settings.key)["access_token"]


def test_oob_sign_in_refreshes_with_the_oob_redirect_uri(strict, tmp_path):
    """§1.4: the same redirect_uri on exchange and refresh, even when the settings name a loopback
    URI and the user signed in with --oob."""
    settings, store = signed_in(strict, tmp_path, oob=True)
    assert settings.redirect_uri != OOB_REDIRECT_URI
    first = store.load(settings.key)
    tokens = TokenManager(settings, store)
    new_access = tokens.refresh(first["access_token"])
    form = strict.token_forms[-1]
    assert form["grant_type"] == "refresh_token" and form["redirect_uri"] == OOB_REDIRECT_URI
    assert {form["client_id"], form["client_secret"]} == {CLIENT_ID, CLIENT_SECRET}
    assert strict.violations == []
    saved = store.load(settings.key)
    assert saved["access_token"] == new_access and saved["refresh_token"] != first["refresh_token"]
    # and the next refresh (a new process reading the store) still uses the sign-in's redirect URI
    TokenManager(settings, store).refresh(new_access)
    assert strict.token_forms[-1]["redirect_uri"] == OOB_REDIRECT_URI and strict.violations == []


def test_oob_settings_sign_in_refreshes_with_the_oob_redirect_uri(strict, tmp_path):
    settings, store = signed_in(strict, tmp_path, oob=False, redirect_uri=OOB_REDIRECT_URI)
    tokens = TokenManager(settings, store)
    tokens.refresh(store.load(settings.key)["access_token"])
    assert strict.token_forms[-1]["redirect_uri"] == OOB_REDIRECT_URI and strict.violations == []


def test_rotated_refresh_token_is_saved_and_the_old_one_never_reused(strict, tmp_path):
    settings, store = signed_in(strict, tmp_path)
    tokens = TokenManager(settings, store)
    used = []
    for _ in range(3):
        token = store.load(settings.key)
        used.append(token["refresh_token"])
        tokens.refresh(token["access_token"])
        assert store.load(settings.key)["refresh_token"] not in used
    sent = [f["refresh_token"] for f in strict.token_forms if f["grant_type"] == "refresh_token"]
    assert sent == used and len(set(sent)) == 3


def test_token_expiry_is_measured_on_our_clock_not_the_servers(strict, tmp_path):
    """created_at is the server's clock: a server two hours behind must not make every call refresh."""
    strict.created_at_offset = -7200
    settings, store = signed_in(strict, tmp_path)
    tokens = TokenManager(settings, store)
    first = tokens.access_token()
    for _ in range(3):
        assert tokens.access_token() == first
    assert [f["grant_type"] for f in strict.token_forms] == ["authorization_code"]


def test_token_without_created_at_gets_one(strict, tmp_path):
    settings, store = signed_in(strict, tmp_path)
    token = store.load(settings.key)
    assert abs(float(token["created_at"]) - time.time()) < 600 and token["expires_in"] == 5400


def test_revoke_sends_token_client_id_and_secret(strict, tmp_path):
    settings, store = signed_in(strict, tmp_path)
    access = store.load(settings.key)["access_token"]
    logout(settings, store)
    assert strict.revoke_forms == [{"token": access, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}]
    assert store.load(settings.key) is None and strict.violations == []


def test_client_credentials_send_id_and_secret_in_the_form(strict, tmp_path):
    token = login_client_credentials(strict_settings(strict, tmp_path))
    form = strict.token_forms[-1]
    assert form["grant_type"] == "client_credentials"
    assert (form["client_id"], form["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    assert "refresh_token" not in token


# ---------------------------------------------------------------------------------- §2, §3 every report

@pytest.fixture(scope="module")
def strict_env(tmp_path_factory):
    server = StrictProcore()
    settings, store = signed_in(server, tmp_path_factory.mktemp("strict"))
    with ProcoreClient(settings.api_url, TokenManager(settings, store), backoff=0.01, max_backoff=0.05,
                       max_retries=2) as client:
        yield server, client
    server.close()


def strict_params(report) -> dict:
    p: dict = {"company": COMPANY}
    if report.scope == PROJECT:
        p["project"] = "all"
    for e in report.each:
        if e.parameter:
            p[e.parameter] = "all"
    return p


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_follows_the_documented_request_rules(strict_env, name):
    """Company header everywhere but /me and /companies, §3's required query parameters, a date on
    every daily-log call, documented project filters; the hidden project (404) is skipped."""
    server, client = strict_env
    report = REPORTS[name]
    with server.lock:
        server.violations.clear()
        server.requests.clear()
    result = run_report(client, name, strict_params(report), discovery=Discovery(client), today=TODAY)
    assert server.violations == []
    assert server.requests, "no request made"
    if report.scope in (PROJECT, ALL_PROJECTS):
        assert len(result.frame) > 0
        assert any(f"({HIDDEN_PROJECT}): no access" in w for w in result.warnings)
        assert set(result.frame["project.id"]) <= {70001, 70002}
    if report.dates:
        logs = [q for p, q, _ in server.requests if p.split("/")[-1] == report.endpoint.path.split("/")[-1]]
        assert logs and all(q.get("log_date") == TODAY.isoformat() for q in logs)


def test_daily_log_ranges_go_in_dated_chunks(strict_env):
    server, client = strict_env
    with server.lock:
        server.requests.clear()
    run_report(client, "Work Logs", {"company": COMPANY, "project": 70001, "start_date": "2024-03-01",
                                     "end_date": "2024-04-15"}, today=TODAY)
    calls = [(q.get("start_date"), q.get("end_date")) for p, q, _ in server.requests if p.endswith("/work_logs")]
    assert calls == [("2024-03-01", "2024-03-31"), ("2024-04-01", "2024-04-15")]
    assert server.violations == []


def test_single_hidden_project_is_not_found(strict_env):
    _, client = strict_env
    with pytest.raises(NotFoundError, match=f"Project {HIDDEN_PROJECT} not found, or you have no access"):
        run_report(client, "RFIs", {"company": COMPANY, "project": HIDDEN_PROJECT}, today=TODAY)


@pytest.mark.parametrize("project_filter, expected", [("active", {70001, 70002, 70003}),
                                                      ("inactive", {70004}), ("all", {70001, 70002, 70003, 70004})])
def test_projects_filter_by_status_values(strict_env, project_filter, expected):
    server, client = strict_env
    with server.lock:
        server.requests.clear()
    result = run_report(client, "Projects", {"company": COMPANY, "project_filter": project_filter}, today=TODAY)
    assert set(result.frame["id"]) == expected
    (path, query, headers), = [r for r in server.requests if r[0] == "/rest/v1.0/projects"]
    assert query["company_id"] == str(COMPANY) and headers["Procore-Company-Id"] == str(COMPANY)
    assert query["filters[by_status]"] == {"active": "Active", "inactive": "Inactive", "all": "All"}[project_filter]


@pytest.mark.parametrize("project_filter, expected", [(" Active ", {70001, 70002, 70003}), ("INACTIVE", {70004}),
                                                      ("", {70001, 70002, 70003})])
def test_the_projects_list_takes_a_filter_as_a_person_types_it(strict_env, project_filter, expected):
    """The dropdowns' projects list (Discovery) reads a filter with spaces or capitals as the one it
    names (" Active " once asked Procore for active projects and then kept only inactive ones)."""
    server, client = strict_env
    choices = Discovery(client).choices("projects", company_id=COMPANY, project_filter=project_filter)
    assert {c.id for c in choices} == expected


def test_me_and_companies_go_without_the_company_header(strict_env):
    server, client = strict_env
    with server.lock:
        server.requests.clear()
    client.get("/rest/v1.0/me")
    run_report(client, "Companies", {}, today=TODAY)
    assert [(p, "Procore-Company-Id" in h) for p, _, h in server.requests] == [
        ("/rest/v1.0/me", False), ("/rest/v1.0/companies", False)]


# ---------------------------------------------------------------------------------- §2.3 paging

def test_v2_lists_ask_for_at_most_100_rows_and_get_every_page_without_headers(strict, tmp_path):
    """v2 max 100 per page: asking for 1,000 and getting 100 back with no Total/Link looked like
    a short (last) page, and 150 of 250 budget line items were lost."""
    strict.paging, strict.v2_rows = "none", 250
    settings, store = signed_in(strict, tmp_path)
    path = f"/rest/v2.0/companies/{COMPANY}/projects/70001/budget_line_items"
    with ProcoreClient(settings.api_url, TokenManager(settings, store), per_page=1000) as client:
        rows = client.get_all(path, company_id=COMPANY)
        first = client.get_first(path, 150, company_id=COMPANY)
    assert [r["id"] for r in rows] == [str(100 + i) for i in range(1, 251)]
    assert len(first) == 150
    assert strict.violations == []
    assert {q["per_page"] for p, q, _ in strict.requests if p == path} == {"100"}


@pytest.mark.parametrize("paging", ["total", "link"])
def test_link_urls_keep_commas_in_their_query(strict, tmp_path, paging):
    """Link holds absolute URLs, comma separated; a URL's own query may hold commas too."""
    strict.paging, strict.list_rows = paging, 30
    settings, store = signed_in(strict, tmp_path)
    with ProcoreClient(settings.api_url, TokenManager(settings, store)) as client:
        rows = client.get_all("/rest/v1.0/projects/70001/rfis", {"per_page": 10, "sort": "number,-created_at",
                                                                "filters[id]": "1,2,3"}, company_id=COMPANY)
    assert [r["id"] for r in rows] == list(range(101, 131))
    pages = [q for p, q, _ in strict.requests if p.endswith("/rfis")]
    assert sorted(q["page"] for q in pages) == ["1", "2", "3"]   # (concurrent pages: any order) no 4th call
    assert all(q["sort"] == "number,-created_at" and q["filters[id]"] == "1,2,3" for q in pages)


# ---------------------------------------------------------------------------------- §2.5 rate limits, §2.6 errors

@pytest.fixture
def scripted(tmp_path):
    servers = []

    def make(script, **client_kw):
        server = Scripted(script, then=(200, {}, [{"id": 1}]))
        servers.append(server)
        store = MemoryTokenStore()
        settings = load_settings(login_url=server.url, api_url=server.url, client_id="c", settings_file=tmp_path / "n",
                                 environ={})
        store.save(settings.key, {"access_token": "t", "refresh_token": "r", "created_at": int(time.time()),
                                  "expires_in": 5400})
        # a huge backoff: a retry that waited by backoff instead of the headers would give up at once
        kw = {"backoff": 1000.0, "max_backoff": 1000.0, "max_rate_wait": 60} | client_kw
        return server, ProcoreClient(server.url, TokenManager(settings, store), **kw)

    yield make
    for s in servers:
        s.close()


RATE_MSG = {"errors": "You have surpassed the max number of requests for an hour. Please wait until your limit resets."}


@pytest.mark.parametrize("headers", [
    {"Retry-After": "0"},
    {"X-Rate-Limit-Limit": "25", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(int(time.time()) - 5)},
], ids=["retry-after", "reset only"])
def test_429_waits_by_retry_after_else_by_the_reset(scripted, headers):
    server, client = scripted([(429, headers, RATE_MSG)])
    with client:
        assert client.get("/rest/v1.0/projects/1/rfis", company_id=1) == [{"id": 1}]
    assert server.count == 2


def test_429_without_any_header_backs_off(scripted):
    server, client = scripted([(429, {}, RATE_MSG)], backoff=0.01, max_backoff=0.02)
    with client:
        assert client.get("/rest/v1.0/projects/1/rfis", company_id=1) == [{"id": 1}]
    assert server.count == 2


def test_429_with_a_reset_an_hour_away_says_when(scripted):
    from procore_xl.errors import RateLimitedError
    reset = int(time.time()) + 3000
    server, client = scripted([(429, {"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(reset)}, RATE_MSG)])
    with client, pytest.raises(RateLimitedError) as err:
        client.get("/rest/v1.0/projects/1/rfis", company_id=1)
    assert server.count == 1 and abs(err.value.reset_at - reset) < 5


@pytest.mark.parametrize("retry_after", ["0", formatdate(time.time() - 30, usegmt=True)], ids=["seconds", "http-date"])
def test_503_honours_retry_after_in_seconds_or_as_a_date(scripted, retry_after):
    server, client = scripted([(503, {"Retry-After": retry_after}, {"message": "busy"})])
    with client:
        assert client.get("/rest/v1.0/projects/1/rfis", company_id=1) == [{"id": 1}]
    assert server.count == 2


def test_failed_calls_count_against_the_budget(scripted):
    """Rate headers come on every response, errors included: a 404 that spends the last request
    of the hour stops the next call before it is sent."""
    from procore_xl.errors import RateLimitedError
    reset = str(int(time.time()) + 3000)
    server, client = scripted([(404, {"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": reset},
                                {"error": "Not Found"})])
    with client:
        with pytest.raises(NotFoundError):
            client.get("/rest/v1.0/projects/1/rfis", company_id=1)
        with pytest.raises(RateLimitedError):
            client.get("/rest/v1.0/projects/2/rfis", company_id=1)
    assert server.count == 1


@pytest.mark.parametrize("name", ["X-Request-Id", "x-request-id"])
def test_request_id_is_kept_whatever_its_case(scripted, name):
    from procore_xl.errors import PermissionDeniedError
    server, client = scripted([(403, {name: "abc-123"}, {"errors": "App is not connected to this company"})])
    with client, pytest.raises(PermissionDeniedError) as err:
        client.get("/rest/v1.0/projects/1/rfis", company_id=1)
    assert err.value.request_id == "abc-123" and "App is not connected to this company" in str(err.value)


def test_404_on_a_project_given_as_a_query_parameter_names_the_project(scripted):
    server, client = scripted([(404, {}, {"error": "Not Found"})])
    with client, pytest.raises(NotFoundError, match=r"^Project 55 not found, or you have no access to it"):
        client.get_all("/rest/v1.0/images", {"project_id": 55}, company_id=1)
