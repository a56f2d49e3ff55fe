"""Signing in to Procore (OAuth 2.0 with requests-oauthlib) and keeping the access token fresh.

* :func:`login`: authorization-code flow with PKCE (S256) and ``state``; the code comes back
  to a loopback listener on the registered redirect URI (localhost, 127.0.0.1 or [::1] only),
  or (out-of-band) is pasted by the user. The store is checked before the browser opens, and a
  token that cannot be stored is revoked.
* :func:`login_client_credentials`: service-account token (no user, no refresh token).
* :func:`logout`: revoke and forget.
* :class:`TokenManager`: thread- and process-safe access token for the API client; refreshes
  shortly before expiry and once per failed token, persisting Procore's single-use rotated
  refresh token *before* the new access token is used. Across processes the refresh runs under
  :func:`~procore_xl.tokens.sign_in_lock` and re-reads the store first: a pair another process
  rotated is adopted, never refreshed twice.

No token, code or client secret is ever logged or put in an exception message.
"""
from __future__ import annotations

import contextlib
import hmac
import html
import logging
import os
import socket
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import requests
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error
import filelock
from requests_oauthlib import OAuth2Session

from .environments import OOB_REDIRECT_URI, Settings, is_loopback_host
from .errors import (ConfigurationError, ProcoreConnectionError, ProcoreServerError, SignedOutError, how_often,
                     status_words)
from .tokens import TokenStore, sign_in_lock

log = logging.getLogger("procore_xl")

SIGNED_OUT_MESSAGE = "Your Procore sign-in has expired - sign in again (procore-xl login / Procore > Connect)"
NOT_SIGNED_IN_MESSAGE = "You are not signed in to Procore - sign in (procore-xl login / Procore > Connect)"
REFRESH_MARGIN_SECONDS = 120  # renew this long before the token expires
TOKEN_REQUEST_TIMEOUT = 30
TOKEN_REQUEST_ATTEMPTS = 3  # connection errors / 5xx on the token endpoint
LISTENER_HOSTS = ("localhost", "127.0.0.1", "::1")  # the only hosts the sign-in listener binds
LISTENER_READ_TIMEOUT = 10.0  # seconds a connection to the listener may stay silent
SIGN_IN_HOST_TIMEOUT = 5.0    # seconds the login host has to accept a connection before a sign-in starts


class _DropOAuthLibDebug(logging.Filter):
    """requests-oauthlib logs token bodies and headers at DEBUG: never let those through."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


for _name in ("requests_oauthlib.oauth2_session", "oauthlib"):
    logging.getLogger(_name).addFilter(_DropOAuthLibDebug())


def authorize_url(settings: Settings) -> str:
    return f"{settings.login_url}/oauth/authorize"


def token_url(settings: Settings) -> str:
    return f"{settings.login_url}/oauth/token"


def revoke_url(settings: Settings) -> str:
    return f"{settings.login_url}/oauth/revoke"


# --------------------------------------------------------------------------- token endpoint

_insecure_lock = threading.Lock()
_insecure_users = 0
_insecure_original: str | None = None


@contextlib.contextmanager
def _allow_loopback_http(url: str) -> Iterator[None]:
    """oauthlib insists on https; allow plain http only for this machine (the built-in sandbox)."""
    global _insecure_users, _insecure_original
    parts = urlsplit(url)
    if parts.scheme != "http" or not is_loopback_host(parts.hostname or ""):
        yield
        return
    with _insecure_lock:
        if _insecure_users == 0:
            _insecure_original = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
            os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
        _insecure_users += 1
    try:
        yield
    finally:
        with _insecure_lock:
            _insecure_users -= 1
            if _insecure_users == 0 and _insecure_original is None:
                os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)


class _TransientTokenError(Exception):
    """The token endpoint answered 5xx: worth another try."""


class _TokenEndpoint:
    """Counts requests to the token endpoint and turns its failures into our errors."""

    def __init__(self, settings: Settings, on_request: Callable[[], None] | None = None):
        self.settings = settings
        self._on_request = on_request

    def session(self, **kwargs: Any) -> OAuth2Session:
        session = OAuth2Session(self.settings.require_client_id(), **kwargs)
        for hook in ("access_token_response", "refresh_token_response"):
            session.register_compliance_hook(hook, self._check_response)
        return session

    def _check_response(self, response: requests.Response) -> requests.Response:
        if self._on_request:
            self._on_request()
        if response.status_code >= 500:
            raise _TransientTokenError(response.status_code)
        return response

    def call(self, what: str, fetch: Callable[[], dict]) -> dict:
        """Run ``fetch`` (one token request), retrying connection errors and 5xx a few times; the
        final error says which of the two it was, how often and for how long."""
        url = token_url(self.settings)
        started = time.monotonic()
        for attempt in range(1, TOKEN_REQUEST_ATTEMPTS + 1):
            try:
                with _allow_loopback_http(url):
                    return _normalise(fetch())
            except (requests.ConnectionError, requests.Timeout, _TransientTokenError) as exc:
                if attempt == TOKEN_REQUEST_ATTEMPTS:
                    tries = how_often(attempt, time.monotonic() - started)
                    if isinstance(exc, _TransientTokenError):
                        raise ProcoreServerError(
                            f"Procore's sign-in server answered {status_words(exc.args[0])} (last of {tries}) "
                            f"when asked to {what}; try again later", status=exc.args[0]) from None
                    raise ProcoreConnectionError(
                        f"Cannot reach {self.settings.login_url} to {what} ({tries}): check the URL / your "
                        "connection") from None
                log.warning("Procore sign-in server did not answer (%s) while trying to %s; retrying (%d/%d)",
                            _describe(exc), what, attempt, TOKEN_REQUEST_ATTEMPTS)
                time.sleep(0.5 * attempt)
        raise AssertionError("unreachable")


def _describe(exc: Exception) -> str:
    if isinstance(exc, _TransientTokenError):
        return f"HTTP {exc.args[0]}"
    return type(exc).__name__


def _normalise(token: dict) -> dict:
    """Keep Procore's fields; make sure ``created_at`` (server seconds) and ``expires_in`` exist.

    ``created_at`` is on Procore's clock; ``clock_offset`` (our clock minus it, taken when the
    token arrives) converts it, so a skewed local clock neither refreshes on every call nor keeps
    using a dead token."""
    now = time.time()
    token = {k: v for k, v in dict(token).items() if k != "expires_at"}
    token.setdefault("created_at", int(now))
    token.setdefault("expires_in", 5400)
    try:
        token["clock_offset"] = now - float(token["created_at"])
    except (TypeError, ValueError):
        token["created_at"], token["clock_offset"] = int(now), 0.0
    return token


def expires_at(token: dict) -> float:
    """When the access token expires, on this machine's clock."""
    try:
        return (float(token.get("created_at", 0)) + float(token.get("clock_offset", 0))
                + float(token.get("expires_in", 0)))
    except (TypeError, ValueError):
        return 0.0  # unreadable: treat as expired (refresh)


def _oauth_error(exc: OAuth2Error | ValueError) -> str:
    return getattr(exc, "error", None) or type(exc).__name__


# --------------------------------------------------------------------------- code flow

def login(settings: Settings, store: TokenStore, *, oob: bool = False,
          open_browser: Callable[[str], Any] | None = None,
          read_code: Callable[[], str] | None = None, timeout: float = 300) -> dict:
    """Sign a user in with the authorization-code flow (PKCE S256 + state); store and return the token.

    ``open_browser(url)`` shows Procore's consent page (default :func:`webbrowser.open`). The code
    comes back to a one-shot listener on ``settings.redirect_uri``; with ``oob=True`` (or an OOB
    redirect URI) the user pastes it and ``read_code()`` returns it (default :func:`input`).
    """
    settings.require_client_id()
    store.check_can_save()  # a sign-in that cannot be kept is not started
    open_browser = open_browser or webbrowser.open
    oob = oob or settings.redirect_uri == OOB_REDIRECT_URI
    redirect_uri = OOB_REDIRECT_URI if oob else settings.redirect_uri
    if not oob:
        check_listener_uri(redirect_uri)
    check_sign_in_host(settings, None if oob else redirect_uri)   # before the browser opens
    endpoint = _TokenEndpoint(settings)
    session = endpoint.session(redirect_uri=redirect_uri, pkce="S256")
    with _allow_loopback_http(authorize_url(settings)):
        url, state = session.authorization_url(authorize_url(settings))

    if oob:
        _show(open_browser, url)
        code = _code_from_paste((read_code or _ask_for_code)())
    else:
        with CallbackListener(redirect_uri, state) as listener:
            _show(open_browser, url)
            code = listener.wait_for_code(timeout)

    try:
        token = endpoint.call("finish signing in", lambda: session.fetch_token(
            token_url(settings), code=code, include_client_id=True,
            client_secret=settings.client_secret, timeout=TOKEN_REQUEST_TIMEOUT))
    except (OAuth2Error, ValueError) as exc:
        raise SignedOutError(f"Procore did not accept the sign-in ({_oauth_error(exc)}): sign in again") from None
    token["redirect_uri"] = redirect_uri  # refreshes must send the same one (procore_api.md 1.4)
    try:
        with _locked(settings):
            store.save(settings.key, token)
    except BaseException:
        _revoke(settings, token)  # nothing issued stays alive unstored
        raise
    log.info("Signed in to Procore (%s)", settings.env)
    return token


@contextlib.contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    """Hold the sign-in's cross-process lock; a lock held too long is a clear error."""
    lock = sign_in_lock(settings)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise ConfigurationError(
            f"Another procore-xl process has held the Procore sign-in ({settings.env}) for over "
            f"{int(lock.timeout)} s (lock file {lock.lock_file}): wait for it to finish and try again") from None
    try:
        yield
    finally:
        lock.release()


def _show(open_browser: Callable[[str], Any], url: str) -> None:
    if open_browser(url) is False:
        log.warning("Could not open a browser: open this address in a browser on this computer to sign in to "
                    "Procore (no browser here: Ctrl+C, then `procore-xl login --oob`, or for the built-in "
                    "sandbox `procore-xl login --sandbox-approve`): %s", url)


def _ask_for_code() -> str:
    return input("Paste the code Procore shows after you approve procore-xl: ")


def _code_from_paste(text: str) -> str:
    """Accept the bare code or a pasted URL that contains ``code=``."""
    text = (text or "").strip()
    if "code=" in text:
        text = parse_qs(urlsplit(text).query or text).get("code", [""])[0]
    if not text:
        raise SignedOutError("No sign-in code was entered: sign in again and paste the code Procore shows")
    return text


_DONE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>procore-xl</title></head>
<body style="font-family:sans-serif;margin:3em"><h2>{title}</h2><p>{text}</p></body></html>"""


def check_listener_uri(redirect_uri: str) -> None:
    """The sign-in listener serves plain HTTP: only on this machine's loopback names."""
    parts = urlsplit(redirect_uri)
    if parts.scheme != "http" or (parts.hostname or "") not in LISTENER_HOSTS:
        raise ConfigurationError(
            f"Redirect URI {redirect_uri!r} is not http on localhost, 127.0.0.1 or [::1], the only places "
            "procore-xl listens for the sign-in answer: register such a redirect URI for your app "
            "(e.g. http://localhost:8765/callback), or sign in with `procore-xl login --oob`")


def check_sign_in_host(settings: Settings, redirect_uri: str | None = None,
                       timeout: float = SIGN_IN_HOST_TIMEOUT) -> None:
    """Before the browser opens: the login host accepts a connection, so a host that is down,
    misspelt or unreachable fails within seconds, naming it, instead of a browser page that never
    loads and a sign-in that times out. Only a TCP connection is made: no request is sent. The
    login host may not be the address the sign-in listener takes (``redirect_uri``): the browser
    would be sent to procore-xl's own listener."""
    login = urlsplit(settings.login_url)
    host = login.hostname or ""
    port = login.port or (443 if login.scheme == "https" else 80)
    if redirect_uri:
        listener = urlsplit(redirect_uri)
        same_host = host == listener.hostname or (is_loopback_host(host) and is_loopback_host(listener.hostname or ""))
        if same_host and port == (listener.port or 80):
            raise ConfigurationError(
                f"The login host {settings.login_url} is the address of the sign-in listener ({redirect_uri}): "
                f"give the login host's own address, or another redirect URI (--redirect-uri)")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        reason = ("no answer within " f"{timeout:.0f} s" if isinstance(exc, socket.timeout)
                  else "unknown host" if isinstance(exc, socket.gaierror) else
                  "connection refused" if isinstance(exc, ConnectionRefusedError) else exc.strerror or str(exc))
        raise ProcoreConnectionError(
            f"The sign-in host {settings.login_url} does not answer ({reason}): check the login host "
            f"(--login-url, PROCORE_LOGIN_URL or --env), your network, or that the sandbox is running") from None


def printable(text: str, limit: int = 100) -> str:
    """Text from outside (a callback's ``error=``) fit for a terminal: printable ASCII only, short."""
    clean = "".join(c for c in str(text) if " " <= c <= "~").strip()
    return (clean[:limit] + ("..." if len(clean) > limit else "")) or "no reason given"


class _ListenerServer(ThreadingHTTPServer):
    daemon_threads = True      # an idle connection never holds up the sign-in or its end
    block_on_close = False


class _ListenerServerV6(_ListenerServer):
    address_family = socket.AF_INET6


class CallbackListener:
    """HTTP listener on the redirect URI's loopback host and port, served from background threads
    (one per connection, each with a read timeout), waiting for the answer that carries this
    sign-in's ``state``. Answers with a missing or wrong state get 400 and are ignored."""

    def __init__(self, redirect_uri: str, state: str, *, read_timeout: float = LISTENER_READ_TIMEOUT):
        check_listener_uri(redirect_uri)
        parts = urlsplit(redirect_uri)
        self.path = parts.path or "/"
        self._state = state.encode()
        self._read_timeout = read_timeout
        self._result: dict[str, str] = {}
        self._done = threading.Event()
        self._lock = threading.Lock()
        self.ignored = 0  # answers that did not carry this sign-in's state
        host = parts.hostname or "localhost"
        port = parts.port or 80
        server_class = _ListenerServerV6 if ":" in host else _ListenerServer
        try:
            self._server = server_class((host, port), self._handler_class())
        except OSError:
            raise ConfigurationError(
                f"Cannot listen on {host}:{port} for the sign-in answer (is another sign-in running?): "
                "close it, or set PROCORE_REDIRECT_URI to another redirect URI registered for your app") from None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="procore-xl-callback", daemon=True)

    def __enter__(self) -> "CallbackListener":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait_for_code(self, timeout: float) -> str:
        if not self._done.wait(timeout):
            ignored = (f" ({self.ignored} answer(s) for another sign-in were ignored)" if self.ignored else "")
            raise SignedOutError(f"No answer from the Procore sign-in page within {int(timeout)} s{ignored}: "
                                 "sign in again")
        if self._result.get("error"):
            raise SignedOutError(f"Procore sign-in was not approved ({printable(self._result['error'])}): "
                                 "sign in again")
        return self._result["code"]

    def _accept(self, query: dict[str, str]) -> bool:
        """Take the answer if it is this sign-in's (its state, and the first such); else ignore it."""
        ours = hmac.compare_digest(query.get("state", "").encode(), self._state)
        with self._lock:
            if not ours or self._done.is_set():
                self.ignored += 1
                return False
            self._result = query
            self._done.set()
            return True

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            timeout = listener._read_timeout  # a connection that sends nothing is closed

            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path != listener.path or not ("code" in query or "error" in query):
                    self._answer(404, "Not the sign-in answer", "This is procore-xl's sign-in listener, which "
                                 f"waits here for Procore's answer to a sign-in at {listener.path}; this address "
                                 "is not that answer. If your browser came here to sign in, the login host "
                                 "(--login-url, PROCORE_LOGIN_URL) points at this listener's port instead of "
                                 "Procore's sign-in page: fix it and sign in again.")
                    return
                if not listener._accept(query):
                    self._answer(400, "Not this sign-in", "This answer does not belong to the sign-in procore-xl "
                                 "is waiting for; it was ignored. You can close this tab.")
                elif "code" in query:
                    self._answer(200, "Signed in to Procore", "You can close this tab and go back to Excel.")
                else:
                    self._answer(400, "Sign-in cancelled", "procore-xl was not approved. You can close this tab.")

            def _answer(self, status: int, title: str, text: str) -> None:
                body = _DONE_PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # the URL holds the code: never print it
                return

        return Handler


# --------------------------------------------------------------------------- client credentials, logout

def login_client_credentials(settings: Settings, *, on_request: Callable[[], None] | None = None) -> dict:
    """A service-account token (``grant_type=client_credentials``). Never stored: keep it in memory."""
    client_id = settings.require_client_id()
    if not settings.client_secret:
        raise ConfigurationError("Client credentials need a client secret: set PROCORE_CLIENT_SECRET")
    endpoint = _TokenEndpoint(settings, on_request)
    session = endpoint.session(client=BackendApplicationClient(client_id=client_id))
    try:
        return endpoint.call("get a service-account token", lambda: session.fetch_token(
            token_url(settings), include_client_id=True, client_secret=settings.client_secret,
            timeout=TOKEN_REQUEST_TIMEOUT))
    except (OAuth2Error, ValueError) as exc:
        raise SignedOutError(f"Procore refused the client credentials ({_oauth_error(exc)}): check "
                             "PROCORE_CLIENT_ID / PROCORE_CLIENT_SECRET, or sign in (procore-xl login)") from None


def logout(settings: Settings, store: TokenStore) -> bool:
    """Revoke the stored sign-in at Procore (kills access and refresh token) and forget it.
    Returns False when there was no sign-in to forget."""
    with _locked(settings):
        token = store.load(settings.key)
        if token and token.get("access_token"):
            _revoke(settings, token)
        store.delete(settings.key)
    log.info("Signed out of Procore (%s)", settings.env)
    return bool(token)


def _revoke(settings: Settings, token: dict) -> None:
    """Revoke a token at Procore (its refresh token dies with it); a network failure is logged."""
    data = {"token": token["access_token"], "client_id": settings.require_client_id()}
    if settings.client_secret:
        data["client_secret"] = settings.client_secret
    try:
        requests.post(revoke_url(settings), data=data, timeout=TOKEN_REQUEST_TIMEOUT)
    except requests.RequestException as exc:
        log.warning("Could not reach Procore to revoke the sign-in (%s)", type(exc).__name__)


# --------------------------------------------------------------------------- token manager

class TokenManager:
    """Thread- and process-safe source of the current access token.

    A user's token comes from the store and is refreshed with its single-use refresh token; the
    rotated pair is saved to the store before the new access token is handed out. The refresh
    holds the sign-in's cross-process lock and reads the store again first, so processes sharing
    a sign-in refresh it once between them. With no user token stored and a client secret
    configured for unattended runs, a client-credentials token is fetched and kept in memory only
    (re-requested, never refreshed); a manager that started with a user's sign-in never turns
    into the service account.
    """

    def __init__(self, settings: Settings, store: TokenStore, *,
                 refresh_margin: float = REFRESH_MARGIN_SECONDS):
        self.settings = settings
        self.store = store
        self.refresh_margin = refresh_margin
        self._lock = threading.RLock()
        self._token: dict | None = None
        self._client_credentials = False
        self._dead_token: str | None = None  # access token whose refresh already failed
        self._token_requests = 0

    @property
    def token_requests(self) -> int:
        """HTTP requests made to the token endpoint (refreshes, client-credentials grants)."""
        return self._token_requests

    @property
    def uses_client_credentials(self) -> bool:
        return self._client_credentials

    def access_token(self) -> str:
        with self._lock:
            if self._token is None:
                self._token = self._load_or_fetch()
            elif self._expiring(self._token):
                self._renew(self._token["access_token"])
            return self._token["access_token"]

    def refresh(self, failed_token: str) -> str:
        """New access token after ``failed_token`` got a 401. One refresh however many threads ask."""
        with self._lock:
            if self._token is not None and self._token.get("access_token") != failed_token:
                return self._token["access_token"]  # another thread already renewed it
            self._renew(failed_token)
            return self._token["access_token"]

    def forget(self) -> None:
        with self._lock:
            self._token = None
            self._client_credentials = False
            self._dead_token = None

    # -- internals (call with the lock held)

    def _count_request(self) -> None:
        self._token_requests += 1

    def _expiring(self, token: dict) -> bool:
        """Due for renewal: within the margin of its expiry (at most a quarter of its lifetime,
        so a short-lived token is not renewed on every call)."""
        try:
            lifetime = float(token.get("expires_in", 0))
        except (TypeError, ValueError):
            lifetime = 0.0
        return time.time() >= expires_at(token) - min(self.refresh_margin, lifetime / 4)

    def _load_or_fetch(self) -> dict:
        token = self.store.load(self.settings.key)  # the store reads again if it finds nothing at first
        if token and token.get("access_token"):
            self._client_credentials = False
            if self._expiring(token):
                self._token = token
                self._renew(token["access_token"])
                return self._token
            return token
        if self.settings.client_secret and self.settings.service_account:
            log.info("No Procore sign-in stored for %s: using the app's service account (client credentials)",
                     self.settings.env)
            self._client_credentials = True
            return login_client_credentials(self.settings, on_request=self._count_request)
        raise SignedOutError(NOT_SIGNED_IN_MESSAGE)

    def _renew(self, failed_token: str) -> None:
        if self._client_credentials:
            log.info("Requesting a new Procore service-account token")
            self._token = login_client_credentials(self.settings, on_request=self._count_request)
            return
        if failed_token == self._dead_token:
            raise SignedOutError(SIGNED_OUT_MESSAGE)
        with _locked(self.settings):  # read -> refresh -> save, one process at a time
            stored = self.store.load(self.settings.key)
            if stored and stored.get("access_token") not in (None, failed_token) and not self._expiring(stored):
                log.info("Using the Procore sign-in renewed by another procore-xl process")
                self._token = stored
                return
            current = stored if stored and stored.get("refresh_token") else self._token
            if not current or not current.get("refresh_token"):
                self._dead_token = failed_token
                raise SignedOutError(SIGNED_OUT_MESSAGE)
            try:
                self._token = self._refresh_with(current["refresh_token"], failed_token,
                                                 current.get("redirect_uri") or self.settings.redirect_uri)
            except SignedOutError:
                # refused: expired only if no other process stored a newer pair meanwhile (a keyring
                # that lagged behind its own last write, a process that renewed without our lock)
                again = self.store.load(self.settings.key)
                if not again or again.get("refresh_token") in (None, current["refresh_token"]) \
                        or not again.get("access_token"):
                    raise
                log.info("Using the Procore sign-in renewed by another procore-xl process")
                self._token, self._dead_token = again, None

    def _refresh_with(self, refresh_token: str, failed_token: str, redirect_uri: str) -> dict:
        """Refresh with the redirect URI the sign-in used (OOB or loopback, procore_api.md 1.4)."""
        log.info("Refreshing the Procore access token")
        endpoint = _TokenEndpoint(self.settings, self._count_request)
        session = endpoint.session(redirect_uri=redirect_uri)
        extra = {"client_id": self.settings.client_id, "redirect_uri": redirect_uri}
        if self.settings.client_secret:
            extra["client_secret"] = self.settings.client_secret
        try:
            token = endpoint.call("refresh the sign-in", lambda: session.refresh_token(
                token_url(self.settings), refresh_token=refresh_token, timeout=TOKEN_REQUEST_TIMEOUT, **extra))
        except (OAuth2Error, ValueError) as exc:
            self._dead_token = failed_token
            log.warning("Procore refused the refresh token (%s): the user must sign in again", _oauth_error(exc))
            raise SignedOutError(SIGNED_OUT_MESSAGE) from None
        token["redirect_uri"] = redirect_uri
        try:
            self.store.save(self.settings.key, token)  # single-use refresh token: persist before use
        except Exception as exc:  # noqa: BLE001 - the keyring's own errors vary by backend
            # The old refresh token is spent: keep the new pair for this run rather than lose both.
            log.warning("Procore renewed the sign-in but it could not be saved (%s): this run goes on; "
                        "the next one will ask you to sign in again", type(exc).__name__)
        return token
