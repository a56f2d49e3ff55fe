"""ProcoreClient and RateBudget: paging, concurrency, retries, errors, against real HTTP servers on loopback."""
from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from email.utils import formatdate
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

from procore_xl.auth import SIGNED_OUT_MESSAGE, TokenManager
from procore_xl.client import ProcoreClient, error_detail
from procore_xl.errors import (NotFoundError, PermissionDeniedError, ProcoreConnectionError, ProcoreServerError,
                               RateLimitedError, SignedOutError)
from procore_xl.ratelimit import RateBudget
from procore_xl.sandbox import free_port
from procore_xl.tokens import MemoryTokenStore
from stand_in import LoopbackServer, QuietHandler, Scripted

RFIS = "/rest/v1.0/projects/91001/rfis"
COMPANY = 8001
RFI_COUNT = 5000


@pytest.fixture(scope="module")
def sandbox_server(make_sandbox):
    """Overrides the session sandbox for this module: 5,000 RFIs on every readable project."""
    return make_sandbox(rfis_per_project=RFI_COUNT)


def expected_rfi_ids(sandbox, **filters) -> list[int]:
    records = sandbox.world.records("rfis", sandbox.world.project(91001))
    return [r["id"] for r in records if all(r.get(k) == v for k, v in filters.items())]


# --------------------------------------------------------------------------- paging


def test_pulls_thousands_of_rows_with_one_request_per_page(client, sandbox):
    sandbox.reset_counts()
    rows = client.get_all(RFIS, {"per_page": 5000}, company_id=COMPANY)  # the sandbox caps it at 1,000
    assert [r["id"] for r in rows] == expected_rfi_ids(sandbox)
    assert len(rows) == RFI_COUNT and len({r["id"] for r in rows}) == RFI_COUNT
    assert sandbox.requests == 5 == client.stats.snapshot()["pages"]


def test_pages_come_in_order_and_a_slow_reader_bounds_the_pages_asked_for(settings, signed_in_tokens, sandbox):
    """`pages()` hands each page over as it arrives; a reader slower than the network holds at
    most ``max_workers`` unread pages (a 100,000-row pull is not all in memory at once)."""
    with ProcoreClient(settings.api_url, signed_in_tokens, max_workers=2) as client:
        client.get("/rest/v1.0/me")                 # the token, before counting
        sandbox.reset_counts()
        pages = client.pages(RFIS, {"per_page": 100}, company_id=COMPANY)      # 50 pages
        read = next(pages) + next(pages)
        time.sleep(0.5)                             # unbounded workers would fetch all 50 meanwhile
        assert sandbox.requests <= 1 + 2 + 1       # page 1, two ahead, one more after page 2
        read += [row for page in pages for row in page]
    assert [r["id"] for r in read] == expected_rfi_ids(sandbox)
    assert sandbox.requests == 50


def test_every_page_keeps_the_query_of_page_one(client, sandbox):
    sandbox.reset_counts()
    rows = client.get_all(RFIS, {"filters[status]": "open", "per_page": 97}, company_id=COMPANY)
    wanted = expected_rfi_ids(sandbox, status="open")
    assert 0 < len(wanted) < RFI_COUNT
    assert [r["id"] for r in rows] == wanted
    assert sandbox.requests == math.ceil(len(wanted) / 97)


def test_non_list_body_comes_back_as_one_row(client):
    path = "/rest/v1.0/projects/91001/project_dates"      # one object per page
    assert client.get_all(path, company_id=8001) == [client.get(path, {"page": 1}, company_id=8001)]


FAULTS = {
    "rate limited (429)": {"rate_limit_every": 4},
    "unavailable (503 bursts)": {"unavailable_every": 4, "unavailable_burst": 2},
    "dropped connections": {"drop_every": 3},
    "malformed bodies": {"malformed_every": 3},
    "token dies mid-pull": {"token_dies_after": 6},
}


@pytest.mark.parametrize("knobs", FAULTS.values(), ids=FAULTS.keys())
def test_faults_are_survived_with_identical_output(client, sandbox, knobs):
    clean = client.get_all(RFIS, company_id=COMPANY)
    for name, value in knobs.items():
        setattr(sandbox.faults, name, value)
    sandbox.reset_counts()
    faulty = client.get_all(RFIS, company_id=COMPANY)
    assert faulty == clean and len(clean) == RFI_COUNT
    stats = client.stats.snapshot()
    assert stats["retries"] + stats["refreshes"] > 0


def test_requests_are_counted_including_retries_and_refreshes(client, sandbox):
    sandbox.faults.token_dies_after = 12
    sandbox.faults.drop_every = 5
    before = client.stats.snapshot()["requests"]
    sandbox.reset_counts()
    client.get_all(RFIS, {"per_page": 250}, company_id=COMPANY)
    assert client.stats.snapshot()["requests"] - before == sandbox.requests


# --------------------------------------------------------------------------- errors


def test_unknown_company_is_a_clean_permission_error(client):
    with pytest.raises(PermissionDeniedError) as err:
        client.get_all(RFIS, company_id=999)
    assert str(err.value).startswith("No permission to read rfis of project 91001 in company 999 (ask your Procore admin")
    assert err.value.request_id and err.value.status == 403


def test_unreadable_project_is_not_found(client, sandbox):
    hidden = next(p for p in sandbox.world.company_projects(COMPANY) if not sandbox.world.can_read(p))
    with pytest.raises(NotFoundError) as err:
        client.get_all(f"/rest/v1.0/projects/{hidden['id']}/rfis", company_id=COMPANY)
    assert str(err.value).startswith(f"Project {hidden['id']} not found, or you have no access to it (request id ")


def stored_token_manager(settings, access_token: str) -> TokenManager:
    store = MemoryTokenStore()
    store.save(settings.key, {"access_token": access_token, "refresh_token": "r", "created_at": int(time.time()),
                              "expires_in": 5400})
    return TokenManager(settings, store)


def test_unreachable_host_is_one_clear_error(settings):
    url = f"http://127.0.0.1:{free_port()}"
    tokens = stored_token_manager(settings, "x")  # no sign-in needed
    with ProcoreClient(url, tokens, backoff=0.01) as client:
        with pytest.raises(ProcoreConnectionError) as err:
            client.get("/rest/v1.0/me")
        assert str(err.value) == (f"Cannot reach {url} (could not connect 3 times in under a second): "
                                  "check the URL / your connection")
        assert client.stats.snapshot()["api_requests"] == 3  # a refused connection is not retried forever


def test_server_errors_that_persist_stop_after_max_retries(settings, signed_in_tokens, sandbox):
    sandbox.faults.unavailable_every = 1
    with ProcoreClient(settings.api_url, signed_in_tokens, max_retries=2, backoff=0.01) as client:
        with pytest.raises(ProcoreServerError, match=r"^Procore answered 503 Service Unavailable twice in "):
            client.get(RFIS, company_id=COMPANY)
        assert client.stats.snapshot()["api_requests"] == 2


def test_revoked_sign_in_is_signed_out(client, settings, sandbox):
    token = client.tokens.access_token()
    requests.post(f"{sandbox.url}/oauth/revoke", data={"token": token, "client_id": settings.client_id})
    with pytest.raises(SignedOutError) as err:
        client.get("/rest/v1.0/me")
    assert str(err.value) == SIGNED_OUT_MESSAGE


@pytest.mark.parametrize("body, text", [
    ({"errors": "Missing Procore-Company-Id header!"}, "Missing Procore-Company-Id header!"),
    ({"error": {"code": "x", "message": "Bad date", "details": []}}, "Bad date"),
    ({"error": "invalid"}, "invalid"),
    ({"message": "Nope"}, "Nope"),
    ({"errors": {"due_date": ["is not a date"]}}, "due_date: is not a date"),
    ({"base": ["Too many"], "fields": {}}, "Too many"),
    ("plain text", "plain text"),
])
def test_error_bodies_of_every_shape_are_read(body, text):
    response = requests.Response()
    response.status_code = 422
    response._content = (json.dumps(body) if not isinstance(body, str) else body).encode()
    response.headers["Content-Type"] = "application/json" if not isinstance(body, str) else "text/plain"
    assert error_detail(response) == text


# --------------------------------------------------------------------------- a Procore stand-in of our own
# Serves one list in the ways the published docs allow: Total + Per-Page + Link, Link only, or nothing.

class StandIn(LoopbackServer):
    def __init__(self, rows: int, mode: str, latency: float = 0.0, rate_headers=None):
        self.rows, self.mode, self.latency, self.rate_headers = rows, mode, latency, rate_headers
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = self.count = 0
        super().__init__(StandInHandler)


class StandInHandler(QuietHandler):
    def do_GET(self):
        srv: StandIn = self.server
        with srv.lock:
            srv.in_flight += 1
            srv.count += 1
            srv.max_in_flight = max(srv.max_in_flight, srv.in_flight)
        try:
            time.sleep(srv.latency)
            query = dict(parse_qsl(urlsplit(self.path).query))
            per_page = min(int(query.get("per_page", 10)), 50)
            page = int(query.get("page", 1))
            ids = list(range(1, srv.rows + 1))[(page - 1) * per_page: page * per_page]
            if srv.mode == "unpaged":                     # an endpoint that ignores page/per_page
                ids = list(range(1, srv.rows + 1))
            body = json.dumps([{"id": i, "tag": query.get("tag")} for i in ids]).encode()
            headers = {}
            if srv.mode == "total":
                headers |= {"Total": str(srv.rows), "Per-Page": str(per_page)}
            last = math.ceil(srv.rows / per_page)
            if srv.mode in ("total", "link") and page < last:
                nxt = urlencode({**query, "page": page + 1})
                headers["Link"] = f'<http://elsewhere.invalid/things?{nxt}>; rel="next", <x>; rel="last"'
            if srv.rate_headers:
                headers |= srv.rate_headers(srv.count)
            self.send(200, body, headers)
        finally:
            with srv.lock:
                srv.in_flight -= 1


@pytest.fixture
def stand_in_tokens(settings):
    return stored_token_manager(settings, "stand-in")


@pytest.mark.parametrize("mode, expected_rows", [("total", 123), ("link", 123), ("none", 50)])
def test_paging_by_total_by_link_or_single_page(stand_in_tokens, mode, expected_rows):
    with StandIn(rows=123, mode=mode) as server:
        with ProcoreClient(server.url, stand_in_tokens, per_page=1000) as client:
            rows = client.get_all("/things", {"tag": "t"})
        assert [r["id"] for r in rows] == list(range(1, expected_rows + 1))
        assert all(r["tag"] == "t" for r in rows)  # Link URLs (foreign host) were re-rooted on our host
        assert server.count == math.ceil(expected_rows / 50)


def test_full_pages_without_headers_are_followed_until_a_short_page(stand_in_tokens):
    with StandIn(rows=123, mode="none") as server:
        with ProcoreClient(server.url, stand_in_tokens, per_page=50) as client:
            rows = client.get_all("/things")
        assert [r["id"] for r in rows] == list(range(1, 124))
        assert server.count == 3                          # 50 + 50 + 23


def test_an_endpoint_that_ignores_paging_is_not_read_twice(stand_in_tokens):
    with StandIn(rows=40, mode="unpaged") as server:
        with ProcoreClient(server.url, stand_in_tokens, per_page=40) as client:
            rows = client.get_all("/things")
        assert [r["id"] for r in rows] == list(range(1, 41))    # page 2 repeated page 1: dropped
        assert server.count == 2


@pytest.mark.parametrize("mode", ["total", "link"])
def test_get_first_reads_only_the_pages_it_needs(stand_in_tokens, mode):
    with StandIn(rows=500, mode=mode) as server:                 # the stand-in caps pages at 50 rows
        with ProcoreClient(server.url, stand_in_tokens) as client:
            rows = client.get_first("/things", 120)
        assert [r["id"] for r in rows] == list(range(1, 121))
        assert server.count == 3


def test_in_flight_requests_never_exceed_max_workers_across_threads(stand_in_tokens):
    with StandIn(rows=1000, mode="total", latency=0.02) as server:
        with ProcoreClient(server.url, stand_in_tokens, max_workers=4) as client:
            results = []
            threads = [threading.Thread(target=lambda: results.append(client.get_all("/things"))) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert len(results) == 3 and all(len(r) == 1000 for r in results)
        assert 2 <= server.max_in_flight <= 4


def test_client_paces_itself_by_the_rate_limit_headers(stand_in_tokens, caplog):
    caplog.set_level(logging.INFO, logger="procore_xl")
    window = {"start": time.time(), "used": 0}

    def rate_headers(count):  # 6 requests per 1-second window, as Procore's headers describe it
        now = time.time()
        if now >= window["start"] + 1:
            window.update(start=now, used=0)
        window["used"] += 1
        return {"X-Rate-Limit-Limit": "6", "X-Rate-Limit-Remaining": str(max(6 - window["used"], 0)),
                "X-Rate-Limit-Reset": str(math.ceil(window["start"] + 1)), "Date": formatdate(now, usegmt=True)}

    with StandIn(rows=300, mode="total", rate_headers=rate_headers) as server:
        with ProcoreClient(server.url, stand_in_tokens) as client:
            rows = client.get_all("/things")
        assert len(rows) == 300
        assert "Procore rate limit nearly used up" in caplog.text
        assert client.budget.waits >= 1


# --------------------------------------------------------------------------- RateBudget


class FakeClock:
    def __init__(self, now: float):
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_budget_waits_for_the_reset_measured_on_the_servers_clock():
    clock = FakeClock(1_000_000.0)
    budget = RateBudget(reserve=2, clock=clock, sleep=clock.sleep)
    server_now = clock.now - 300  # the server's clock is 5 minutes behind ours
    budget.observe({"X-Rate-Limit-Limit": "25", "X-Rate-Limit-Remaining": "3",
                    "X-Rate-Limit-Reset": str(int(server_now) + 8), "Date": formatdate(server_now, usegmt=True)})
    budget.acquire()  # 3 left > reserve: goes, counted locally
    assert clock.slept == []
    budget.acquire()  # 2 left = reserve: waits until the reset (8 s on the server's clock)
    assert len(clock.slept) == 1 and 8 <= clock.slept[0] <= 8.3


def test_budget_keeps_the_lowest_figure_of_out_of_order_responses():
    clock = FakeClock(2_000_000.0)
    budget = RateBudget(clock=clock, sleep=clock.sleep)
    reset = str(int(clock.now) + 10)
    budget.observe({"X-Rate-Limit-Remaining": "5", "X-Rate-Limit-Reset": reset})
    budget.observe({"X-Rate-Limit-Remaining": "9", "X-Rate-Limit-Reset": reset})
    assert budget.remaining == 5


def test_budget_refuses_to_wait_an_hour():
    clock = FakeClock(3_000_000.0)
    budget = RateBudget(max_wait=60, clock=clock, sleep=clock.sleep)
    budget.observe({"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(int(clock.now) + 1800)})
    with pytest.raises(RateLimitedError, match=r"Procore rate limit reached; it resets at \d\d:\d\d"):
        budget.acquire()
    assert clock.slept == []


# --------------------------------------------------------------------------- retries, per kind of failure
# stand_in.Scripted answers from a script: each entry is one answer (status and headers, or "drop").

def test_each_kind_of_failure_has_its_own_budget(stand_in_tokens):
    script = [(503, {})] * 4 + ["drop"] * 4 + [(500, {})] * 4 + [(429, {"Retry-After": "0"})] * 4
    with Scripted(script) as server:
        with ProcoreClient(server.url, stand_in_tokens, max_retries=6, backoff=0.01, max_backoff=0.02) as client:
            assert client.get("/things") == {"ok": True}     # 16 failures, at most 4 of each kind
        assert len(server.arrivals) == 17


def test_the_final_error_says_what_happened(stand_in_tokens):
    with Scripted([], then=(503, {})) as server:
        with ProcoreClient(server.url, stand_in_tokens, max_retries=6, backoff=0.01, max_backoff=0.02) as client:
            with pytest.raises(ProcoreServerError) as err:
                client.get("/rest/v1.0/projects/7/rfis")
        assert len(server.arrivals) == 6
    assert re.fullmatch(r"Procore answered 503 Service Unavailable 6 times in (under a second|[\d.]+ s) for rfis "
                        r"of project 7; try again later", str(err.value))
    with Scripted(["drop"] * 10) as server:
        with ProcoreClient(server.url, stand_in_tokens, max_retries=3, backoff=0.01, max_backoff=0.02) as client:
            with pytest.raises(ProcoreConnectionError, match=r"\(the connection dropped 3 times in "):
                client.get("/things")


def test_a_server_given_wait_is_honoured_on_any_retried_status(stand_in_tokens):
    with Scripted([(502, {"Retry-After": "1"})]) as server:
        with ProcoreClient(server.url, stand_in_tokens, backoff=0.01, max_backoff=0.02) as client:
            assert client.get("/things") == {"ok": True}
        first, second = server.arrivals
    assert second - first >= 1.0                       # never sooner than asked (jitter only adds)


def test_429_with_only_x_rate_limit_reset_waits_for_that_reset(stand_in_tokens):
    now = time.time()
    reset = math.ceil(now) + 1
    rate_limited = (429, {"X-Rate-Limit-Limit": "100", "X-Rate-Limit-Remaining": "0",
                          "X-Rate-Limit-Reset": str(reset), "Date": formatdate(now, usegmt=True)})
    with Scripted([rate_limited]) as server:
        with ProcoreClient(server.url, stand_in_tokens, backoff=0.01, max_backoff=0.02) as client:
            assert client.get("/things") == {"ok": True}
    assert len(server.arrivals) == 2 and server.arrivals[1] >= reset
