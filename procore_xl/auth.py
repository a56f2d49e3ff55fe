"""Signing in to Procore (OAuth 2.0 with requests-oauthlib) and keeping the access token fresh.

* :func:`login`: authorization-code flow with PKCE (S256) and ``state``; the code comes back
  to a loopback listener on the registered redirect URI (localhost, 127.0.0.1 or [::1] only;
  :mod:`procore_xl.loopback`), or (out-of-band) is pasted by the user. The store is checked before
  the browser opens, and a token that cannot be stored is revoked.
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
import logging
import threading
import time
import webbrowser
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import requests
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error
import filelock
from requests_oauthlib import OAuth2Session

from .environments import OOB_REDIRECT_URI, Settings
from .errors import (ConfigurationError, ProcoreConnectionError, ProcoreServerError, SignedOutError, how_often,
                     status_words)
from .loopback import CallbackListener, LoopbackHttp, check_listener_uri, check_sign_in_host
from .tokens import TokenStore, sign_in_lock

log = logging.getLogger("procore_xl")

SIGNED_OUT_MESSAGE = "Your Procore sign-in has expired - sign in again (procore-xl login / Procore > Connect)"
NOT_SIGNED_IN_MESSAGE = "You are not signed in to Procore - sign in (procore-xl login / Procore > Connect)"
REFRESH_MARGIN_SECONDS = 120  # renew this long before the token expires
TOKEN_REQUEST_TIMEOUT = 30
TOKEN_REQUEST_ATTEMPTS = 3  # connection errors / 5xx on the token endpoint


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

class _TransientTokenError(Exception):
    """The token endpoint answered 5xx: worth another try."""


class _TokenEndpoint:
    """Counts requests to the token endpoint and turns its failures into our errors."""

    def __init__(self, settings: Settings, on_request: Callable[[], None] | None = None):
        self.settings = settings
        self._on_request = on_request
        self._loopback = LoopbackHttp(settings.login_url)   # the built-in sandbox's plain http

    def session(self, **kwargs: Any) -> OAuth2Session:
        session = OAuth2Session(self.settings.require_client_id(), **kwargs)
        self._loopback.mount(session)
        for hook in ("access_token_response", "refresh_token_response"):
            session.register_compliance_hook(hook, self._check_response)
        return session

    @property
    def oauthlib_token_url(self) -> str:
        """The token endpoint as oauthlib is given it (for the sandbox, its https alias)."""
        return self._loopback.url(token_url(self.settings))

    def authorization_url(self, session: OAuth2Session) -> tuple[str, str]:
        """Procore's consent page for the browser, and the ``state`` it will send back."""
        url, state = session.authorization_url(self._loopback.url(authorize_url(self.settings)))
        return self._loopback.shown(url), state

    def _check_response(self, response: requests.Response) -> requests.Response:
        if self._on_request:
            self._on_request()
        if response.status_code >= 500:
            raise _TransientTokenError(response.status_code)
        return response

    def call(self, what: str, fetch: Callable[[], dict]) -> dict:
        """Run ``fetch`` (one token request), retrying connection errors and 5xx a few times; the
        final error says which of the two it was, how often and for how long."""
        started = time.monotonic()
        for attempt in range(1, TOKEN_REQUEST_ATTEMPTS + 1):
            try:
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
    url, state = endpoint.authorization_url(session)

    if oob:
        _show(open_browser, url)
        code = _code_from_paste((read_code or _ask_for_code)())
    else:
        with CallbackListener(redirect_uri, state) as listener:
            _show(open_browser, url)
            code = listener.wait_for_code(timeout)

    try:
        token = endpoint.call("finish signing in", lambda: session.fetch_token(
            endpoint.oauthlib_token_url, code=code, include_client_id=True,
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
            endpoint.oauthlib_token_url, include_client_id=True, client_secret=settings.client_secret,
            timeout=TOKEN_REQUEST_TIMEOUT))
    except (OAuth2Error, ValueError) as exc:
        raise SignedOutError(f"Procore refused the client credentials ({_oauth_error(exc)}): check "
                             "PROCORE_CLIENT_ID / PROCORE_CLIENT_SECRET, or sign in (procore-xl login)") from None


SIGNED_OUT, DAMAGED_FORGOTTEN = "signed out", "damaged sign-in forgotten"     # what logout() did


def logout(settings: Settings, store: TokenStore) -> str | None:
    """Revoke the stored sign-in at Procore (kills access and refresh token) and forget it.
    Returns :data:`SIGNED_OUT`, :data:`DAMAGED_FORGOTTEN` (an entry that does not read as a
    sign-in: nothing to revoke, forgotten all the same) or None (no sign-in to forget)."""
    damaged = False
    with _locked(settings):
        try:
            token = store.load(settings.key)
        except ConfigurationError:
            token, damaged = None, True
        if token and token.get("access_token"):
            _revoke(settings, token)
        store.delete(settings.key)
    log.info("Signed out of Procore (%s)", settings.env)
    return SIGNED_OUT if token else DAMAGED_FORGOTTEN if damaged else None


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
                endpoint.oauthlib_token_url, refresh_token=refresh_token, timeout=TOKEN_REQUEST_TIMEOUT, **extra))
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
