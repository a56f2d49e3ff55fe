"""The sandbox HTTP server: one loopback host serving both the OAuth login host and the REST API host."""
from __future__ import annotations

import socket
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .. import reference
from .admin import RECORDS_PATH, handle_change, is_loopback
from .config import Faults, SandboxConfig
from .encoded import EncodedRecords
from .entities import SPECS
from .faults import Fault, FaultInjector, hostile, rate_limited_headers
from .httputil import Response, bearer_token, json_response, parse_form
from .oauth import OAuthProvider
from .paging import PagingError, paginate
from .published import Refused, checked_query, documented, documented_fields
from .ratelimit import OVER_LIMIT_MESSAGE, RateLimiter
from .routes import ROUTES
from .handlers import ApiError, ApiRequest, Body, Listing, Router
from .world import World

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret-5f2c9e"     # fixed, public: the sandbox protects nothing
INVALID_TOKEN = "The access token is invalid"
MISSING_COMPANY = "Missing Procore-Company-Id header!"


class SandboxServer:
    """A Procore look-alike on loopback. Use as a context manager or with start()/stop()."""

    client_id = CLIENT_ID
    client_secret = CLIENT_SECRET

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.world = World(self.config, SPECS)
        self.encoded = EncodedRecords()            # list answers' records, each encoded once
        self._faults = self.config.faults
        if self.config.latency_ms and not self._faults.latency_ms:
            self._faults.latency_ms = self.config.latency_ms
        self._injector = FaultInjector(self._faults)
        self.oauth = OAuthProvider(CLIENT_ID, CLIENT_SECRET, self.world.demo_user, self.world.service_account,
                                   self.config.access_token_ttl, self.config.code_ttl)
        self.rate_limiter = RateLimiter(self.config.rate_limit_hourly, self.config.rate_limit_spike,
                                        self.config.rate_limit_spike_seconds)
        self.router = Router(ROUTES)
        self._counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stop_requested = threading.Event()   # set by POST /_sandbox/stop; serve_forever then stops

    # -- faults are mutable at run time; assigning a new Faults object also works
    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._faults = value
        self._injector.faults = value

    # -- request counting
    @property
    def requests(self) -> int:
        with self._count_lock:
            return sum(self._counts.values())

    @property
    def path_counts(self) -> dict[str, int]:
        with self._count_lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._count_lock:
            self._counts.clear()
        self._injector.reset()

    def count(self, path: str) -> None:
        with self._count_lock:
            self._counts[path] += 1

    # -- lifecycle
    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "SandboxServer":
        handler = type("BoundSandboxHandler", (SandboxHandler,), {"sandbox": self})
        self._httpd = _Server((self.config.host, self.config.port), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="procore-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()
            self._httpd = None

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


STATS_PATH = "/_sandbox/stats"
STOP_PATH = "/_sandbox/stop"     # `procore-xl sandbox --stop`: POST, from this computer only


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (for a redirect listener, a sandbox, a closed port)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:
        """A client that hung up (Ctrl+C, a timeout) is not an error of the sandbox: no traceback."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            return
        super().handle_error(request, client_address)


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # headers and body go out at once: no 40 ms delayed-ACK stall
    server_version = "ProcoreSandbox/1.0"
    sandbox: SandboxServer

    def log_message(self, format: str, *args) -> None:
        if not self.sandbox.config.quiet:
            super().log_message(format, *args)   # request line only: paths carry no secrets

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header: the sandbox clock that stamps ``updated_at`` (World.now), skewed by
        ``Faults.clock_skew_seconds`` (a server clock ahead of or behind its stamps)."""
        if timestamp is None:
            timestamp = self.sandbox.world.now().timestamp() + (self.sandbox.faults.clock_skew_seconds or 0)
        return super().date_time_string(timestamp)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = parse_qsl(url.query, keep_blank_values=True)
        body = self._read_body()
        if url.path == STATS_PATH:           # for benchmarks running the sandbox in another process
            self._send(self._stats(method))
            return
        if url.path == STOP_PATH:            # sandbox only: `procore-xl sandbox --stop`
            self._send(self._stop(method))
            return
        if url.path == RECORDS_PATH:         # sandbox only: edit/add/delete records from another process
            self._send(handle_change(self.sandbox.world, method, self.client_address[0], body))
            return
        self.sandbox.count(url.path)
        if url.path.startswith("/oauth/"):
            response = self._oauth(method, url.path, query, body)
        elif url.path.startswith("/rest/"):
            try:
                response = ApiCall(self.sandbox, self, method, url.path, query).run()
            except Exception:                  # a sandbox bug: answer 500 as a server would, and say where
                traceback.print_exc(file=sys.stderr)
                response = json_response(500, {"errors": "Internal Server Error"})
        else:
            response = json_response(404, {"errors": "404 Not Found"})
        if response is None:                 # injected fault: drop the connection without answering
            self.close_connection = True
            return
        self._send(response)

    def _stats(self, method: str) -> Response:
        """GET: requests served so far (this path is not counted); POST: reset the counts."""
        if method == "POST":
            self.sandbox.reset_counts()
        return json_response(200, {"requests": self.sandbox.requests})

    def _stop(self, method: str) -> Response:
        if not is_loopback(self.client_address[0]):
            return json_response(403, {"errors": "the sandbox is stopped from this computer only"})
        if method != "POST":
            return json_response(405, {"errors": "POST to stop the sandbox"})
        self.sandbox.stop_requested.set()
        return json_response(200, {"stopping": True})

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _oauth(self, method: str, path: str, query: list[tuple[str, str]], body: bytes) -> Response:
        oauth = self.sandbox.oauth
        params = dict(query)
        form = parse_form(self.headers.get("Content-Type"), body) if method == "POST" else {}
        if path == "/oauth/authorize":
            return oauth.authorize_page(params) if method == "GET" else oauth.approve({**params, **form})
        if path == "/oauth/token" and method == "POST":
            return oauth.token(form, self.headers.get("Authorization"))
        if path == "/oauth/revoke" and method == "POST":
            return oauth.revoke(form)
        if path == "/oauth/token/info" and method == "GET":
            return oauth.token_info(self.headers.get("Authorization"))
        return json_response(404, {"error": "not_found"})

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("x-request-id", uuid.uuid4().hex)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)


class ApiCall:
    """One /rest/ request: latency, rate limit, faults, token, company rule, route, paging."""

    def __init__(self, sandbox: SandboxServer, handler: SandboxHandler, method: str, path: str,
                 query: list[tuple[str, str]]):
        self.sandbox, self.handler, self.method, self.path, self.query = sandbox, handler, method, path, query

    def run(self) -> Response | None:
        sb = self.sandbox
        faults = sb.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        token_value = bearer_token(self.handler.headers.get("Authorization"))
        decision = sb.rate_limiter.spend(token_value or f"anonymous:{self.handler.client_address[0]}")
        if not decision.allowed:
            return json_response(429, {"errors": OVER_LIMIT_MESSAGE}, decision.refusal_headers(faults.retry_after))
        response = self._faulted_or_served(token_value)
        if response is not None:
            response.headers = {**decision.headers, **response.headers}
        return response

    def _faulted_or_served(self, token_value: str | None) -> Response | None:
        fault = self.sandbox._injector.next_fault()
        if fault is Fault.DROP:
            return None
        if fault is Fault.UNAVAILABLE:
            return json_response(503, {"errors": "Service Unavailable"}, {"Retry-After": "1"})
        if fault is Fault.RATE_LIMITED:
            return json_response(429, {"errors": OVER_LIMIT_MESSAGE}, rate_limited_headers(self.sandbox.faults))
        if self.path in self.sandbox.faults.gone_paths:
            return json_response(404, {"errors": "404 Not Found"})
        response = self._serve(token_value)
        if fault is Fault.MALFORMED and response.status == 200:
            response.body = response.body[: max(len(response.body) // 2, 1)]
        elif fault is not None:
            response.body, response.headers = hostile(fault, response.status, response.body, response.headers,
                                                      self.sandbox.faults)
        return response

    def _serve(self, token_value: str | None) -> Response:
        sb = self.sandbox
        token = sb.oauth.use(token_value, sb.faults.token_dies_after)
        if token is None:
            return json_response(401, {"errors": INVALID_TOKEN},
                                 {"WWW-Authenticate": f'Bearer realm="Doorkeeper", error="invalid_token", '
                                                      f'error_description="{INVALID_TOKEN}"'})
        if self.method != "GET":
            return json_response(405, {"errors": "Method Not Allowed"})
        strict = sb.config.strict
        matched = sb.router.match(self.path)
        if matched is None:
            if strict and reference.lookup(self.path) is None:
                return json_response(400, {"errors": f"GET {self.path} is not in Procore's published reference"})
            return json_response(404, {"errors": "404 Not Found"})
        route, args = matched
        doc = documented(route.pattern)
        query = self.query
        try:
            if doc is None and strict:
                raise Refused(f"GET {route.pattern} is not in Procore's published reference")
            if doc is not None:
                query = checked_query(doc, self.query, strict=strict)
        except Refused as exc:
            return json_response(400, {"errors": str(exc)})
        req = ApiRequest(sb.world, self.path, query, dict(query), args, token.user)
        try:
            if route.company_header or (token.user["id"] == sb.world.service_account["id"]
                                        and sb.config.service_account_needs_company_header):
                self._resolve_scope(req)
            result = route.handler(req)
            return self._render(result, doc)
        except ApiError as exc:
            return json_response(exc.status, {"errors": exc.errors})
        except PagingError as exc:
            return json_response(400, {"errors": str(exc)})

    def _resolve_scope(self, req: ApiRequest) -> None:
        """Procore-Company-Id rule, company in path/query, project ownership and read access."""
        world = req.world
        header = self.handler.headers.get("Procore-Company-Id")
        if not header:
            raise ApiError(400 if self.sandbox.config.strict else 403, MISSING_COMPANY)
        company_id = _int_or(header, -1)
        if not world.is_member(company_id):
            raise ApiError(403, "You do not have access to this company.")
        req.company = world.company(company_id)
        named_company = req.args.get("company_id") or req.params.get("company_id")
        if named_company is not None and _int_or(named_company, -1) != company_id:
            if not world.is_member(_int_or(named_company, -1)):
                raise ApiError(403, "You do not have access to this company.")
            raise ApiError(404, "404 Not Found")
        project_id = req.args.get("project_id") or req.params.get("project_id")
        if project_id is not None:
            project = world.project(_int_or(project_id, -1))
            if project is None or project["company"]["id"] != company_id or not world.can_read(project):
                raise ApiError(404, "404 Not Found")
            req.project = project

    def _render(self, result: Listing | Body, doc) -> Response:
        """The handler's records as Procore documents them: paged, documented fields only."""
        if isinstance(result, Body):
            payload, headers = result.payload, {}
        else:
            headers, items = {}, result.items
            if result.paged:
                page = paginate(items, base_url=self._base_url(), path=self.path, query=self.query)
                headers, items = page.headers, page.items
            if result.shape is None and doc is not None and not self.path.startswith("/rest/v2") \
                    and isinstance(items, list):        # records encoded once each, the body joined from them
                return Response(200, self.sandbox.encoded.list_body(doc, items), headers)
            payload = result.shape(items) if result.shape else items
        if doc is not None:
            payload = documented_fields(doc, payload)
        return json_response(200, self._wrap(payload), headers)

    def _wrap(self, payload: object) -> object:
        """v2.x: ``{"data": ...}`` with string ids; v1.x: the payload as is."""
        if not self.path.startswith("/rest/v2"):
            return payload
        return {"data": stringify_ids(payload)}

    def _base_url(self) -> str:
        host = self.handler.headers.get("Host")
        return f"http://{host}" if host else self.sandbox.url


def stringify_ids(value: object) -> object:
    """v2.x bodies carry ids as strings: ``id`` and ``*_id`` integers become text, at any depth."""
    if isinstance(value, list):
        return [stringify_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) and (k == "id" or k.endswith("_id"))
                    else stringify_ids(v)) for k, v in value.items()}
    return value


def _int_or(text: str, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def serve_forever(config: SandboxConfig | None = None, out=sys.stdout) -> None:
    """Run the sandbox in the foreground until Ctrl+C or a POST to /_sandbox/stop (for the CLI)."""
    sandbox = SandboxServer(config).start()
    print(f"Procore sandbox running at {sandbox.url}", file=out)
    print(f"  login host and API host: {sandbox.url}", file=out)
    print(f"  client id:     {sandbox.client_id}", file=out)
    print(f"  client secret: {sandbox.client_secret}", file=out)
    print(f"  demo user:     {sandbox.world.demo_user['name']} <{sandbox.world.demo_user['login']}>", file=out)
    print("Press Ctrl+C to stop.", file=out, flush=True)
    try:
        while not sandbox.stop_requested.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        print("Sandbox stopped.", file=out)
