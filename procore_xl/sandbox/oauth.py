"""The sandbox's OAuth 2.0 login host: authorize (consent page), token, revoke, token info.

Follows Procore (Doorkeeper): single-use authorization codes valid 10 minutes, optional PKCE (S256 or
plain), access tokens valid 5,400 s, single-use rotating refresh tokens (the old one dies as soon as it
is presented, even if the response is lost), client credentials (no refresh token), revoke always 200.

Redirect URIs: real Procore accepts only the exact URIs registered for the app. The sandbox accepts
``urn:ietf:wg:oauth:2.0:oob`` and any ``http://localhost:<port>/...``, ``http://127.0.0.1:<port>/...`` or
``http://[::1]:<port>/...`` so that loopback listeners on any port work.

For tests of concurrent use, :attr:`OAuthProvider.grants` counts the tokens issued per grant type and
:attr:`OAuthProvider.reused_refresh_tokens` counts refresh tokens presented again after they were spent
(each is refused, as Procore does); the token lifetime is ``SandboxConfig.access_token_ttl``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from .httputil import Response, basic_credentials, bearer_token, html_response, json_response, redirect

OOB = "urn:ietf:wg:oauth:2.0:oob"
AUTHORIZE_FIELDS = ("response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method")
INVALID_CLIENT = ("Client authentication failed due to unknown client, no client authentication included, "
                  "or unsupported authentication method.")
INVALID_GRANT = ("The provided authorization grant is invalid, expired, revoked, does not match the redirection "
                 "URI used in the authorization request, or was issued to another client.")


@dataclass
class AccessToken:
    value: str
    user: dict
    client_id: str
    created_at: int
    expires_at: float
    refresh_token: str | None = None
    uses: int = 0
    revoked: bool = False

    def live(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at


@dataclass
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    expires_at: float
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    used: bool = False


@dataclass
class OAuthProvider:
    client_id: str
    client_secret: str
    user: dict
    service_account: dict
    access_ttl: int = 5400
    code_ttl: int = 600
    clock: object = time.time
    _codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    _tokens: dict[str, AccessToken] = field(default_factory=dict)
    _refresh: dict[str, str] = field(default_factory=dict)     # refresh token -> access token value
    _spent_refresh: set[str] = field(default_factory=set)      # refresh tokens already presented
    _lock: threading.Lock = field(default_factory=threading.Lock)
    grants: Counter = field(default_factory=Counter)           # tokens issued per grant type
    reused_refresh_tokens: int = 0                              # spent refresh tokens presented again

    # ------------------------------------------------------------------ authorize
    def authorize_page(self, query: dict[str, str]) -> Response:
        problem = self._authorize_problem(query)
        if problem:
            return problem
        hidden = "".join(f'<input type="hidden" name="{f}" value="{html.escape(query[f])}">'
                         for f in AUTHORIZE_FIELDS if query.get(f) is not None)
        body = (f"<p>The app <b>{html.escape(query['client_id'])}</b> asks to access Procore as "
                f"<b>{html.escape(self.user['name'])}</b> ({html.escape(self.user['login'])}).</p>"
                f'<form id="consent" method="post" action="/oauth/authorize">{hidden}'
                '<button type="submit" name="approve" value="1">Approve</button> '
                '<button type="submit" name="approve" value="0">Deny</button></form>')
        return html_response(200, "Authorize procore-xl sandbox app", body)

    def approve(self, form: dict[str, str]) -> Response:
        problem = self._authorize_problem(form)
        if problem:
            return problem
        redirect_uri, state = form["redirect_uri"], form.get("state")
        if form.get("approve") != "1":
            return self._redirect_with(redirect_uri, {"error": "access_denied", "state": state})
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = AuthorizationCode(
                form["client_id"], redirect_uri, self.clock() + self.code_ttl,
                form.get("code_challenge") or None, (form.get("code_challenge_method") or "plain")
                if form.get("code_challenge") else None)
        if redirect_uri == OOB:
            return html_response(200, "Authorization code",
                                 "<p>Copy this code and paste it into the app:</p>"
                                 f'<p><code id="code">{html.escape(code)}</code></p>')
        return self._redirect_with(redirect_uri, {"code": code, "state": state})

    def _authorize_problem(self, params: dict[str, str]) -> Response | None:
        if params.get("client_id") != self.client_id:
            return html_response(401, "Unknown client", "<p>Client authentication failed: unknown client id.</p>")
        redirect_uri = params.get("redirect_uri") or ""
        if not redirect_uri_allowed(redirect_uri):
            return html_response(400, "Invalid redirect URI",
                                 "<p>The redirect uri included is not valid for this app.</p>")
        if params.get("response_type") != "code":
            return self._redirect_with(redirect_uri, {"error": "unsupported_response_type", "state": params.get("state")})
        method = params.get("code_challenge_method")
        if params.get("code_challenge") and method not in (None, "", "S256", "plain"):
            return self._redirect_with(redirect_uri, {"error": "invalid_request", "state": params.get("state")})
        return None

    @staticmethod
    def _redirect_with(redirect_uri: str, params: dict) -> Response:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        if redirect_uri == OOB:
            return html_response(400, "Authorization failed", f"<p>{html.escape(query)}</p>")
        return redirect(redirect_uri + ("&" if "?" in redirect_uri else "?") + query)

    # ------------------------------------------------------------------ token
    def token(self, form: dict[str, str], authorization: str | None) -> Response:
        client = basic_credentials(authorization) or (form.get("client_id"), form.get("client_secret"))
        if not self._client_ok(*client):
            return oauth_error(401, "invalid_client", INVALID_CLIENT)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._code_grant(form)
        if grant_type == "refresh_token":
            return self._refresh_grant(form)
        if grant_type == "client_credentials":
            return token_response(self._issue(self.service_account, with_refresh=False, grant=grant_type))
        return oauth_error(400, "unsupported_grant_type",
                           "The authorization grant type is not supported by the authorization server.")

    def _client_ok(self, client_id: str | None, client_secret: str | None) -> bool:
        return (client_id == self.client_id and client_secret is not None
                and hmac.compare_digest(client_secret.encode(), self.client_secret.encode()))

    def _code_grant(self, form: dict[str, str]) -> Response:
        now = self.clock()
        with self._lock:
            grant = self._codes.get(form.get("code") or "")
            if grant is None or grant.used or now >= grant.expires_at:
                return oauth_error(400, "invalid_grant", INVALID_GRANT)
            grant.used = True            # single use, whatever happens next
        if grant.redirect_uri != form.get("redirect_uri"):
            return oauth_error(400, "invalid_grant", INVALID_GRANT)
        if grant.code_challenge and not pkce_matches(grant.code_challenge, grant.code_challenge_method,
                                                     form.get("code_verifier")):
            return oauth_error(400, "invalid_grant", "The code verifier does not match the code challenge.")
        return token_response(self._issue(self.user, with_refresh=True, grant="authorization_code"))

    def _refresh_grant(self, form: dict[str, str]) -> Response:
        presented = form.get("refresh_token") or ""
        with self._lock:
            old_access = self._refresh.pop(presented, None)   # dies now, even if we fail later
            if old_access is None and presented in self._spent_refresh:
                self.reused_refresh_tokens += 1
            self._spent_refresh.add(presented)
        if old_access is None:
            return oauth_error(400, "invalid_grant", INVALID_GRANT)
        user = self._tokens[old_access].user
        return token_response(self._issue(user, with_refresh=True, grant="refresh_token"))

    def _issue(self, user: dict, *, with_refresh: bool, grant: str) -> AccessToken:
        now = self.clock()
        token = AccessToken(secrets.token_urlsafe(32), user, self.client_id, int(now), now + self.access_ttl,
                            secrets.token_urlsafe(32) if with_refresh else None)
        with self._lock:
            self._tokens[token.value] = token
            if token.refresh_token:
                self._refresh[token.refresh_token] = token.value
            self.grants[grant] += 1
        return token

    def live_tokens(self) -> list[AccessToken]:
        """Access tokens issued and neither expired nor revoked."""
        now = self.clock()
        with self._lock:
            return [t for t in self._tokens.values() if t.live(now)]

    def issued_secrets(self) -> list[str]:
        """Every authorization code, access token and refresh token issued so far, and the client
        secret: what must never show up in a log, a message or a file (tests search for them)."""
        with self._lock:
            tokens = list(self._tokens.values())
            codes = list(self._codes)
        return codes + [t.value for t in tokens] + [t.refresh_token for t in tokens if t.refresh_token] \
            + [self.client_secret]

    # ------------------------------------------------------------------ revoke / info / API check
    def revoke(self, form: dict[str, str]) -> Response:
        value = form.get("token") or ""
        with self._lock:
            access_value = self._refresh.pop(value, None) or value
            token = self._tokens.get(access_value)
            if token:
                token.revoked = True
                if token.refresh_token:
                    self._refresh.pop(token.refresh_token, None)
        return json_response(200, {})

    def token_info(self, authorization: str | None) -> Response:
        token = self.lookup(bearer_token(authorization))
        if token is None:
            return json_response(401, {"error": "invalid_token", "error_description": "The access token is invalid"})
        return json_response(200, {
            "resource_owner_id": token.user["id"], "scope": [], "expires_in": int(token.expires_at - self.clock()),
            "application": {"uid": token.client_id}, "created_at": token.created_at})

    def lookup(self, value: str | None) -> AccessToken | None:
        """The live access token with this value, or None."""
        token = self._tokens.get(value or "")
        if token is None or not token.live(self.clock()):
            return None
        return token

    def use(self, value: str | None, dies_after: int | None) -> AccessToken | None:
        """Count one API use of the token; None if it is invalid (or has just died of the fault knob)."""
        with self._lock:
            token = self.lookup(value)
            if token is None:
                return None
            token.uses += 1
            if dies_after and token.uses > dies_after:
                token.revoked = True
                return None
            return token


def redirect_uri_allowed(uri: str) -> bool:
    if uri == OOB:
        return True
    parts = urlsplit(uri)
    return parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1") and not parts.fragment


def pkce_matches(challenge: str, method: str | None, verifier: str | None) -> bool:
    if not verifier:
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        expected = verifier
    return hmac.compare_digest(expected, challenge)


def oauth_error(status: int, error: str, description: str) -> Response:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = f'Basic realm="Doorkeeper", error="{error}"'
    return json_response(status, {"error": error, "error_description": description}, headers)


def token_response(token: AccessToken) -> Response:
    body = {"access_token": token.value, "token_type": "bearer", "expires_in": int(token.expires_at - token.created_at),
            "created_at": token.created_at}
    if token.refresh_token:
        body["refresh_token"] = token.refresh_token
    return json_response(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})
