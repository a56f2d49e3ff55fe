"""The sign-in on this machine's loopback: the one-shot listener the authorization code comes
back to, the checks made before a browser opens, and plain http to the built-in sandbox.

* :class:`CallbackListener`: HTTP listener on the redirect URI's loopback host and port (localhost,
  127.0.0.1 or [::1] only), waiting for the answer that carries this sign-in's ``state``.
* :func:`check_listener_uri`, :func:`check_sign_in_host`: a redirect URI the listener can take, and a
  login host that answers (and is not the listener itself), before the browser opens.
* :class:`LoopbackHttp`: oauthlib refuses every address but https unless ``OAUTHLIB_INSECURE_TRANSPORT``
  is set, and that variable holds for the whole process (every thread, every session). For the
  built-in sandbox (http on a loopback host) one OAuth2 session is handed https addresses of the
  same host and port instead, which pass oauthlib's check, and a transport adapter mounted on that
  session alone sends them as http. Nothing process-wide changes; any other address is left as it
  is, so a real Procore (https) is never downgraded and http to another host is still refused.
"""
from __future__ import annotations

import hmac
import html
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import HTTPAdapter

from .environments import Settings, is_loopback_host
from .errors import ConfigurationError, ProcoreConnectionError, SignedOutError

LISTENER_HOSTS = ("localhost", "127.0.0.1", "::1")  # the only hosts the sign-in listener binds
LISTENER_READ_TIMEOUT = 10.0  # seconds a connection to the listener may stay silent
SIGN_IN_HOST_TIMEOUT = 5.0    # seconds the login host has to accept a connection before a sign-in starts


class LoopbackHttp:
    """How one OAuth2 session reaches a login host given as http on a loopback host (the built-in
    sandbox) although oauthlib accepts only https: :meth:`url` is the address to give oauthlib,
    :meth:`shown` turns an address oauthlib built back into the real one (the consent page for the
    browser), :meth:`mount` makes the session send the https aliases as http. For any other login
    host all three leave everything as it is."""

    def __init__(self, login_url: str):
        parts = urlsplit(login_url)
        self.active = parts.scheme == "http" and is_loopback_host(parts.hostname or "")
        self._plain, self._alias = f"http://{parts.netloc}/", f"https://{parts.netloc}/"

    def url(self, url: str) -> str:
        return self._alias + url[len(self._plain):] if self.active and url.startswith(self._plain) else url

    def shown(self, url: str) -> str:
        return self._plain + url[len(self._alias):] if self.active and url.startswith(self._alias) else url

    def mount(self, session: requests.Session) -> None:
        if self.active:
            session.mount(self._alias, _PlainHttpAdapter())


class _PlainHttpAdapter(HTTPAdapter):
    """Mounted for one loopback host's https alias on one session: sends its requests as http."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if request.url and request.url.lower().startswith("https://"):
            request.url = "http://" + request.url[len("https://"):]
        return super().send(request, *args, **kwargs)


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
