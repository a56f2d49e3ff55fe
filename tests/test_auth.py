"""Settings, token stores, sign-in flows and the TokenManager, against the sandbox over loopback."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import socket
import stat
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from keyrings.alt.file import PlaintextKeyring

import keyring
from procore_xl.auth import (DAMAGED_FORGOTTEN, SIGNED_OUT, SIGNED_OUT_MESSAGE, TokenManager, login,
                             login_client_credentials, logout)
from procore_xl.client import ProcoreClient
from procore_xl.environments import (DEFAULT_REDIRECT_URI, ENVIRONMENTS, OOB_REDIRECT_URI, Settings, load_settings,
                                     settings_path)
from procore_xl.errors import ConfigurationError, ProcoreServerError, SignedOutError
from procore_xl.loopback import CallbackListener, LoopbackHttp
from procore_xl.tokens import (SERVICE_NAME, KeyringTokenStore, MemoryTokenStore, NoKeyringStore, SandboxFileTokenStore,
                               default_token_store, save_client_secret, stored_client_secret)

from procore_xl.sandbox import free_port
from procore_xl.sandbox.browser import ConsentBrowser
from stand_in import LoopbackServer, QuietHandler

# --------------------------------------------------------------------------- settings


def test_presets_match_procore_hosts():
    assert {name: (e.login_url, e.api_url) for name, e in ENVIRONMENTS.items()} == {
        "production": ("https://login.procore.com", "https://api.procore.com"),
        "sandbox": ("https://login-sandbox.procore.com", "https://sandbox.procore.com"),
        "monthly": ("https://login-sandbox-monthly.procore.com", "https://api-monthly.procore.com"),
        "federal": ("https://login.procoregov.com", "https://api.procoregov.com"),
    }


def test_flags_beat_environment_variables_beat_settings_file(tmp_path):
    file = tmp_path / "settings.json"
    file.write_text(json.dumps({"env": "federal", "client_id": "from-file",
                                "redirect_uri": "http://localhost:9000/cb"}))
    environ = {"PROCORE_ENV": "sandbox", "PROCORE_CLIENT_ID": "from-env", "PROCORE_CLIENT_SECRET": "env-secret"}

    s = load_settings(settings_file=file, environ=environ)
    assert (s.env, s.login_url, s.client_id, s.client_secret, s.redirect_uri) == (
        "sandbox", "https://login-sandbox.procore.com", "from-env", "env-secret", "http://localhost:9000/cb")

    s = load_settings(env="monthly", client_id="from-flag", settings_file=file, environ=environ)
    assert (s.env, s.api_url, s.client_id) == ("monthly", "https://api-monthly.procore.com", "from-flag")

    s = load_settings(settings_file=file, environ={})
    assert (s.env, s.api_url, s.client_id) == ("federal", "https://api.procoregov.com", "from-file")


def test_settings_file_refuses_a_client_secret(tmp_path):
    file = tmp_path / "settings.json"
    file.write_text(json.dumps({"client_id": "abc", "client_secret": "do-not-keep-me-here"}))
    with pytest.raises(ConfigurationError) as err:
        load_settings(settings_file=file, environ={})
    assert "procore-xl setup" in str(err.value) and "do-not-keep-me-here" not in str(err.value)


def test_defaults_are_production_and_the_fixed_loopback_redirect(tmp_path):
    s = load_settings(client_id="abc", settings_file=tmp_path / "none.json", environ={})
    assert (s.env, s.api_url, s.redirect_uri, s.client_secret) == (
        "production", "https://api.procore.com", DEFAULT_REDIRECT_URI, None)
    assert s.key == "production|abc"


def test_explicit_urls_make_the_environment_custom(tmp_path):
    environ = {"PROCORE_ENV": "production", "PROCORE_CLIENT_ID": "abc"}
    s = load_settings(login_url="https://login.example.com/", api_url="https://api.example.com",
                      settings_file=tmp_path / "none.json", environ=environ)
    assert (s.env, s.login_url, s.api_url) == ("custom", "https://login.example.com", "https://api.example.com")
    assert s.key == "custom https://login.example.com|abc"
    # an environment flag above URLs from a lower layer wins
    environ |= {"PROCORE_LOGIN_URL": "https://login.example.com", "PROCORE_API_URL": "https://api.example.com"}
    assert load_settings(env="sandbox", settings_file=tmp_path / "none.json", environ=environ).env == "sandbox"


def test_settings_path_follows_procore_xl_home(tmp_path):
    assert settings_path({"PROCORE_XL_HOME": str(tmp_path)}) == tmp_path / "settings.json"
    (tmp_path / "settings.json").write_text('{"client_id": "home-id"}')
    assert load_settings(environ={"PROCORE_XL_HOME": str(tmp_path)}).client_id == "home-id"


@pytest.mark.parametrize("kwargs, words", [
    ({}, ["PROCORE_CLIENT_ID", "--client-id"]),
    ({"client_id": "x", "env": "staging"}, ["'staging'", "production", "federal", "custom"]),
    ({"client_id": "x", "api_url": "api.procore.com", "login_url": "https://login.procore.com"},
     ["--api-url", "'api.procore.com'", "https://"]),
    ({"client_id": "x", "api_url": "http://api.example.com", "login_url": "https://login.example.com"},
     ["--api-url", "https://"]),
    ({"client_id": "x", "api_url": "https://api.example.com/rest/v1.0", "login_url": "https://l.example.com"},
     ["no path"]),
    ({"client_id": "x", "api_url": "https://api.example.com"}, ["--api-url", "PROCORE_LOGIN_URL"]),
    ({"client_id": "x", "redirect_uri": "localhost:8765"}, ["--redirect-uri", OOB_REDIRECT_URI]),
])
def test_bad_settings_give_one_clear_line(tmp_path, kwargs, words):
    with pytest.raises(ConfigurationError) as err:
        load_settings(settings_file=tmp_path / "none.json", environ={}, **kwargs)
    text = str(err.value)
    assert "\n" not in text
    for word in words:
        assert word in text


def test_broken_settings_file_is_named(tmp_path):
    file = tmp_path / "settings.json"
    file.write_text('{"client_id": "x",\n "env": }')
    with pytest.raises(ConfigurationError, match=r"settings.json is not valid JSON \(line 2\)"):
        load_settings(settings_file=file, environ={})
    file.write_text('{"clientid": "x"}')
    with pytest.raises(ConfigurationError, match="unknown key.*clientid"):
        load_settings(settings_file=file, environ={})


def test_garbled_settings_file_is_named_in_one_line(tmp_path):
    """A settings file of garbled bytes or nested past Python's limit is a ConfigurationError
    naming it (was an internal UnicodeDecodeError / RecursionError)."""
    file = tmp_path / "settings.json"
    file.write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(ConfigurationError, match=r"settings.json is not valid JSON \(not UTF-8 text\): fix or delete"):
        load_settings(settings_file=file, environ={})
    file.write_text("[" * 100_000)
    with pytest.raises(ConfigurationError, match=r"settings.json is not valid JSON \(nested too deep\): fix or delete"):
        load_settings(settings_file=file, environ={})


def test_settings_repr_hides_the_secret():
    s = Settings("production", "https://l", "https://a", "id", "very-secret-value")
    assert "very-secret-value" not in repr(s)


# --------------------------------------------------------------------------- token stores


def test_keyring_store_round_trip_in_a_real_file_backend(keyring_backend):
    store = KeyringTokenStore()
    store.save("production|abc", {"access_token": "a1", "refresh_token": "r1"})
    assert KeyringTokenStore().load("production|abc") == {"access_token": "a1", "refresh_token": "r1"}
    assert json.loads(_same_file(keyring_backend).get_password("procore-xl", "production|abc"))["refresh_token"] == "r1"
    store.delete("production|abc")
    store.delete("production|abc")  # deleting twice is fine
    assert store.load("production|abc") is None


def test_real_procore_keeps_secrets_in_a_plaintext_keyring_file_only_when_allowed(keyring_backend, tmp_path):
    s = load_settings(client_id="x", settings_file=tmp_path / "none.json", environ={})
    for refuse in (lambda: default_token_store(s), lambda: save_client_secret(s, "app-secret")):
        with pytest.raises(ConfigurationError) as err:
            refuse()
        text = str(err.value)
        assert "PlaintextKeyring" in text and keyring_backend.file_path in text and "not encrypted" in text
        assert "--allow-plaintext-keyring" in text and "PROCORE_ALLOW_PLAINTEXT_KEYRING=1" in text
    assert stored_client_secret(s) is None

    for allowed in (load_settings(client_id="x", allow_plaintext_keyring=True, settings_file=tmp_path / "none.json",
                                  environ={}),
                    load_settings(client_id="x", settings_file=tmp_path / "none.json",
                                  environ={"PROCORE_ALLOW_PLAINTEXT_KEYRING": "1"})):
        assert isinstance(default_token_store(allowed), KeyringTokenStore)
    where = save_client_secret(allowed, "app-secret")
    assert where == f"the keyrings.alt PlaintextKeyring file {keyring_backend.file_path} " \
                    "(base64, not encrypted; readable by you only)"
    assert "OS keyring" not in where
    os.chmod(keyring_backend.file_path, 0o644)
    KeyringTokenStore().save(allowed.key, {"access_token": "a"})
    assert stat.S_IMODE(os.stat(keyring_backend.file_path).st_mode) == 0o600   # kept private after every write
    assert stored_client_secret(allowed) == "app-secret"


def test_the_sandbox_uses_a_plaintext_keyring_without_being_asked(keyring_backend, settings):
    assert not settings.allow_plaintext_keyring
    assert isinstance(default_token_store(settings), KeyringTokenStore)
    assert "PlaintextKeyring" in save_client_secret(settings, "sandbox-secret")


def test_no_keyring_sandbox_uses_a_private_file(no_keyring, settings, isolated_home):
    store = default_token_store(settings)
    assert isinstance(store, SandboxFileTokenStore)
    assert store.path.parent == isolated_home
    store.save(settings.key, {"access_token": "a"})
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert SandboxFileTokenStore(store.path).load(settings.key) == {"access_token": "a"}


@pytest.mark.parametrize("content", ["[1, 2]", '{"a": ', '{"KEY": "not a sign-in"}'])
def test_no_keyring_sandbox_file_damaged_is_said_never_the_service_account(no_keyring, settings, sandbox, content):
    """The sandbox's token file is written whole, so one that does not read is damaged: said in one
    line, not taken as signed out (the service account's data instead of the person's)."""
    store = default_token_store(settings)
    store.path.parent.mkdir(parents=True, exist_ok=True)
    store.path.write_text(content.replace("KEY", settings.key))
    sandbox.reset_counts()
    with pytest.raises(ConfigurationError, match=r"^The Procore sign-in kept in .* is damaged .*sign in again"):
        TokenManager(settings, store).access_token()
    assert not sandbox.path_counts.get("/oauth/token")
    assert logout(settings, store) == DAMAGED_FORGOTTEN and store.load(settings.key) is None
    store.path.write_text(content.replace("KEY", settings.key))
    login(settings, store, open_browser=ConsentBrowser(), timeout=20)
    assert TokenManager(settings, store).access_token()


def test_no_keyring_real_procore_refuses_to_write_tokens_to_disk(no_keyring, tmp_path, isolated_home):
    s = load_settings(client_id="x", settings_file=tmp_path / "none.json", environ={})
    with pytest.raises(ConfigurationError) as err:
        default_token_store(s)
    assert "keyrings.alt" in str(err.value) and "PROCORE_CLIENT_SECRET" in str(err.value)
    with_secret = load_settings(client_id="x", client_secret="s", settings_file=tmp_path / "none.json", environ={})
    store = default_token_store(with_secret)
    assert isinstance(store, NoKeyringStore)
    with pytest.raises(ConfigurationError, match="keyrings.alt"):
        store.save(with_secret.key, {"access_token": "a", "refresh_token": "r"})
    assert not isinstance(store, SandboxFileTokenStore) and not isolated_home.exists()


# --------------------------------------------------------------------------- sign-in flows


def test_code_flow_sends_state_and_pkce_and_stores_the_token(settings, keyring_backend, browser, sandbox):
    token = login(settings, KeyringTokenStore(), open_browser=browser, timeout=20)
    query = parse_qs(urlsplit(browser.opened[0]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["redirect_uri"] == [settings.redirect_uri]
    assert browser.final_status == 200  # the listener's "you can close this tab" page
    stored = KeyringTokenStore().load(settings.key)
    assert stored["access_token"] == token["access_token"] and stored["refresh_token"] == token["refresh_token"]
    me = requests.get(f"{sandbox.url}/rest/v1.0/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json()["login"] == sandbox.world.demo_user["login"]


def _listener_get(url: str, **query: str) -> int:
    """One request to the sign-in listener, as a browser (or anyone on this machine) could send it."""
    return requests.get(url, params=query, timeout=10, allow_redirects=False).status_code


def _redirect_and_state(authorize_url: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(authorize_url).query)
    return query["redirect_uri"][0], query["state"][0]


def test_answers_without_this_sign_ins_state_are_ignored_until_the_real_one(settings, sandbox):
    browser = ConsentBrowser()
    statuses: list[int] = []

    def forger_first(url: str) -> bool:
        redirect, state = _redirect_and_state(url)
        statuses.append(_listener_get(redirect, code="forged", state="forged-state"))
        statuses.append(_listener_get(redirect, code="forged"))                    # no state at all
        statuses.append(_listener_get(redirect, error="access_denied", state=state[:-1]))
        return browser(url)

    store = MemoryTokenStore()
    token = login(settings, store, open_browser=forger_first, timeout=20)
    assert statuses == [400, 400, 400] and browser.final_status == 200
    assert store.load(settings.key)["access_token"] == token["access_token"]


def test_only_forged_answers_end_in_a_timeout_that_says_so(settings, sandbox):
    def forged(url: str) -> bool:
        redirect, _ = _redirect_and_state(url)
        return _listener_get(redirect, code="forged", state="forged-state") == 400

    with pytest.raises(SignedOutError, match=r"within 2 s \(1 answer\(s\) for another sign-in were ignored\)"):
        login(settings, MemoryTokenStore(), open_browser=forged, timeout=2)


def test_an_idle_connection_does_not_hold_up_the_sign_in(settings, sandbox):
    browser = ConsentBrowser()
    idle: list[socket.socket] = []

    def idle_first(url: str) -> bool:
        parts = urlsplit(_redirect_and_state(url)[0])
        conn = socket.create_connection((parts.hostname, parts.port), timeout=10)
        conn.sendall(b"GET /callback?co")          # a request that never finishes
        idle.append(conn)
        threading.Timer(30, conn.close).start()     # without per-connection threads this would hang
        return browser(url)

    try:
        login(settings, MemoryTokenStore(), open_browser=idle_first, timeout=10)
    finally:
        idle[0].close()
    assert browser.final_status == 200


def test_a_silent_connection_is_closed_after_the_read_timeout(settings):
    with CallbackListener(settings.redirect_uri, "state", read_timeout=0.3):
        parts = urlsplit(settings.redirect_uri)
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
            assert conn.recv(100) == b""            # closed by the listener, not by our 10 s


def test_error_text_from_the_callback_is_printed_sanitised(settings, sandbox):
    def hostile(url: str) -> bool:
        redirect, state = _redirect_and_state(url)
        return _listener_get(redirect, error="\x1b[2J\x1b]0;owned\x07denied\r\nforged line", state=state) == 400

    with pytest.raises(SignedOutError) as err:
        login(settings, MemoryTokenStore(), open_browser=hostile, timeout=20)
    text = str(err.value)
    assert "denied" in text and all(c >= " " and c <= "~" for c in text)


@pytest.mark.parametrize("redirect_uri", ["https://0.0.0.0:8765/callback", "https://example.com/callback",
                                          "http://127.0.0.2:8765/callback", "https://localhost:8765/callback"])
def test_the_listener_runs_only_on_loopback_names(settings, sandbox, redirect_uri):
    opened: list[str] = []
    with pytest.raises(ConfigurationError, match="--oob"):
        login(dataclasses.replace(settings, redirect_uri=redirect_uri), MemoryTokenStore(),
              open_browser=opened.append, timeout=2)
    assert opened == []


def test_sign_in_through_an_ipv6_loopback_listener(settings, sandbox):
    settings = dataclasses.replace(settings, redirect_uri=f"http://[::1]:{free_port()}/callback")
    browser = ConsentBrowser()
    token = login(settings, MemoryTokenStore(), open_browser=browser, timeout=20)
    assert browser.final_status == 200 and token["access_token"]


def test_no_store_for_the_sign_in_is_found_out_before_the_browser_opens(settings, sandbox, browser):
    sandbox.reset_counts()
    with pytest.raises(ConfigurationError, match="keyrings.alt"):
        login(settings, NoKeyringStore(), open_browser=browser, timeout=5)
    assert browser.opened == [] and sandbox.path_counts == {}


def test_a_sign_in_that_cannot_be_stored_is_revoked(settings, sandbox, keyring_backend, browser, tmp_path):
    os.makedirs(keyring_backend.file_path)          # the keyring file cannot be written: a directory
    live_before = {t.value for t in sandbox.oauth.live_tokens()}
    with pytest.raises(ConfigurationError, match="Cannot save the Procore sign-in"):
        login(settings, KeyringTokenStore(), open_browser=browser, timeout=20)
    assert browser.final_status == 200                               # Procore did issue a token ...
    assert {t.value for t in sandbox.oauth.live_tokens()} <= live_before  # ... and it is dead again


def test_denied_consent_is_reported(settings, sandbox):
    with pytest.raises(SignedOutError, match=r"not approved \(access_denied\)"):
        login(settings, MemoryTokenStore(), open_browser=ConsentBrowser(approve=False), timeout=20)


def test_out_of_band_flow(settings, sandbox):
    browser = ConsentBrowser()
    store = MemoryTokenStore()
    token = login(settings, store, oob=True, open_browser=browser, read_code=lambda: browser.shown_code)
    assert parse_qs(urlsplit(browser.opened[0]).query)["redirect_uri"] == [OOB_REDIRECT_URI]
    assert store.load(settings.key)["refresh_token"] == token["refresh_token"]


def test_busy_redirect_port_is_a_clear_error(settings):
    with CallbackListener(settings.redirect_uri, "state"):
        with pytest.raises(ConfigurationError, match="PROCORE_REDIRECT_URI"):
            login(settings, MemoryTokenStore(), open_browser=lambda url: True, timeout=1)


def test_client_credentials_work_with_no_keyring_and_stay_in_memory(no_keyring, settings, sandbox, isolated_home):
    tokens = TokenManager(settings, NoKeyringStore())
    with ProcoreClient(settings.api_url, tokens) as client:
        me = client.get("/rest/v1.0/me", company_id=8001)    # a service account names its company
    assert tokens.uses_client_credentials
    assert me["id"] == sandbox.world.service_account["id"]
    assert sandbox.path_counts.get("/oauth/token") == 1
    assert not isolated_home.exists()  # nothing written anywhere


def test_client_credentials_need_a_secret(settings):
    settings.client_secret = None
    with pytest.raises(ConfigurationError, match="PROCORE_CLIENT_SECRET"):
        login_client_credentials(settings)
    with pytest.raises(SignedOutError, match="not signed in"):
        TokenManager(settings, MemoryTokenStore()).access_token()


def test_wrong_client_secret_is_a_clear_error(settings, sandbox):
    settings.client_secret = "wrong"
    with pytest.raises(SignedOutError, match=r"refused the client credentials \(invalid_client\)"):
        TokenManager(settings, MemoryTokenStore()).access_token()


# --------------------------------------------------------------------------- plain http: the sandbox only


def test_a_sandbox_sign_in_and_refresh_leave_the_process_environment_alone(settings, keyring_backend, browser,
                                                                            sandbox, monkeypatch):
    """oauthlib allows plain http only with OAUTHLIB_INSECURE_TRANSPORT, which holds for every thread
    and session of the process: the sandbox's http goes through its own session instead."""
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    seen, done = [], threading.Event()

    def watch() -> None:        # another thread of the process, looking while the sign-in runs
        while not done.is_set():
            if "OAUTHLIB_INSECURE_TRANSPORT" in os.environ:
                seen.append(os.environ.get("OAUTHLIB_INSECURE_TRANSPORT"))
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        store = KeyringTokenStore()
        token = login(settings, store, open_browser=browser, timeout=20)
        assert TokenManager(settings, store).refresh(token["access_token"]) != token["access_token"]
        assert login_client_credentials(settings)["access_token"]
    finally:
        done.set()
        watcher.join()
    assert seen == []
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_plain_http_is_only_for_a_login_host_on_this_machine(settings):
    real = LoopbackHttp("https://login.procore.com")          # a real Procore: given to oauthlib as it is
    session = requests.Session()
    real.mount(session)
    assert not real.active
    assert real.url("https://login.procore.com/oauth/token") == "https://login.procore.com/oauth/token"
    assert type(session.get_adapter("https://login.procore.com/oauth/token")) is requests.adapters.HTTPAdapter
    sandbox_login = LoopbackHttp(settings.login_url)
    assert sandbox_login.active and settings.login_url.startswith("http://")
    assert sandbox_login.url(f"{settings.login_url}/oauth/token").startswith("https://")
    assert sandbox_login.shown(sandbox_login.url(f"{settings.login_url}/oauth/authorize?a=1")) == \
        f"{settings.login_url}/oauth/authorize?a=1"
    elsewhere = dataclasses.replace(settings, login_url="http://192.0.2.1")    # plain http, not this machine
    with pytest.raises(SignedOutError, match=r"\(insecure_transport\)"):
        login_client_credentials(elsewhere)                   # oauthlib still refuses it, before connecting
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ


# --------------------------------------------------------------------------- refresh


def _refresh_with(sandbox, refresh_token: str) -> requests.Response:
    return requests.post(f"{sandbox.url}/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token,
        "client_id": sandbox.client_id, "client_secret": sandbox.client_secret}, timeout=10)


def test_rotated_refresh_token_is_persisted_in_the_keyring_file(settings, signed_in_tokens, keyring_backend, sandbox):
    old = KeyringTokenStore().load(settings.key)
    new_access = signed_in_tokens.refresh(old["access_token"])
    assert new_access != old["access_token"]
    # a fresh backend on the same file, as another process would see it
    keyring.set_keyring(_same_file(keyring_backend))
    reloaded = KeyringTokenStore().load(settings.key)
    assert reloaded["access_token"] == new_access
    assert reloaded["refresh_token"] not in (None, old["refresh_token"])
    assert _refresh_with(sandbox, old["refresh_token"]).json()["error"] == "invalid_grant"  # single use
    assert _refresh_with(sandbox, reloaded["refresh_token"]).status_code == 200  # the stored one works


def _same_file(backend: PlaintextKeyring) -> PlaintextKeyring:
    fresh = PlaintextKeyring()
    fresh.file_path = backend.file_path
    return fresh


def test_eight_threads_hitting_401_refresh_once(settings, signed_in_tokens, sandbox):
    failed = signed_in_tokens.access_token()
    sandbox.reset_counts()
    start = threading.Barrier(8)
    results: list[str] = []

    def worker():
        start.wait()
        results.append(signed_in_tokens.refresh(failed))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and len(set(results)) == 1 and results[0] != failed
    assert sandbox.path_counts == {"/oauth/token": 1}


def test_refresh_done_by_another_process_is_adopted(settings, signed_in_tokens, sandbox):
    other_process = TokenManager(settings, KeyringTokenStore())
    failed = signed_in_tokens.access_token()
    renewed = other_process.refresh(failed)
    sandbox.reset_counts()
    assert signed_in_tokens.refresh(failed) == renewed
    assert sandbox.path_counts == {}


def test_dead_refresh_token_means_sign_in_again(settings, signed_in_tokens, sandbox):
    stored = KeyringTokenStore().load(settings.key)
    assert _refresh_with(sandbox, stored["refresh_token"]).status_code == 200  # used elsewhere, result lost
    with pytest.raises(SignedOutError) as err:
        signed_in_tokens.refresh(stored["access_token"])
    assert str(err.value) == SIGNED_OUT_MESSAGE
    sandbox.reset_counts()
    with pytest.raises(SignedOutError):
        signed_in_tokens.refresh(stored["access_token"])  # no second hopeless request
    assert sandbox.path_counts == {}


def test_token_close_to_expiry_is_refreshed_before_use(settings, signed_in_tokens, sandbox):
    store = KeyringTokenStore()
    token = store.load(settings.key)
    store.save(settings.key, token | {"created_at": token["created_at"] - token["expires_in"] + 60})
    tokens = TokenManager(settings, store)
    sandbox.reset_counts()
    fresh = tokens.access_token()
    assert fresh != token["access_token"]
    assert sandbox.path_counts == {"/oauth/token": 1}
    assert store.load(settings.key)["access_token"] == fresh


def test_logout_revokes_and_forgets(settings, signed_in_tokens, sandbox):
    access = signed_in_tokens.access_token()
    assert logout(settings, KeyringTokenStore()) == SIGNED_OUT
    assert KeyringTokenStore().load(settings.key) is None
    me = requests.get(f"{sandbox.url}/rest/v1.0/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 401


# --------------------------------------------------------------------------- secrets


def test_no_token_or_secret_in_logs_or_errors(settings, keyring_backend, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    store = KeyringTokenStore()
    seen_tokens: set[str] = set()

    token = login(settings, store, open_browser=ConsentBrowser(), timeout=20)
    seen_tokens |= {token["access_token"], token["refresh_token"]}
    tokens = TokenManager(settings, store)
    sandbox.faults.token_dies_after = 2
    with ProcoreClient(settings.api_url, tokens, backoff=0.01) as client:
        for _ in range(4):
            client.get("/rest/v1.0/me")
            current = store.load(settings.key)
            seen_tokens |= {current["access_token"], current["refresh_token"]}
        _refresh_with(sandbox, current["refresh_token"])  # kill the refresh token behind our back
        sandbox.faults.token_dies_after = 1
        for call in (lambda: [client.get("/rest/v1.0/me") for _ in range(3)],
                     lambda: client.get("/rest/v1.0/projects/1/rfis", company_id=999)):
            try:
                call()
            except Exception as exc:  # noqa: BLE001 - we want every error text
                texts.append(str(exc))
    cc = login_client_credentials(settings)
    seen_tokens.add(cc["access_token"])
    assert any("sign in again" in t for t in texts)
    haystack = caplog.text + "\n".join(texts)
    assert "Refreshing the Procore access token" in caplog.text
    for secret in seen_tokens | {settings.client_secret}:
        assert secret not in haystack


def test_setup_says_which_keyring_backend_holds_the_secret_and_where(sandbox, keyring_backend, capsys, monkeypatch):
    import io

    from procore_xl.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("sandbox-app-secret\n"))
    code = main(["setup", "--login-url", sandbox.url, "--api-url", sandbox.url, "--client-id", sandbox.client_id,
                 "--client-secret-stdin"])
    out = capsys.readouterr().out
    assert code == 0
    assert (f"Client secret saved in the keyrings.alt PlaintextKeyring file {keyring_backend.file_path} "
            "(base64, not encrypted; readable by you only).") in out
    assert "OS keyring" not in out


class _SignInServerDown(QuietHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send(503, b'{"error": "unavailable"}')


def test_a_sign_in_server_answering_503_is_named_as_such(settings, sandbox):
    store = MemoryTokenStore()
    with LoopbackServer(_SignInServerDown) as down:
        down_settings = dataclasses.replace(settings, login_url=down.url)
        store.save(down_settings.key, {"access_token": "old", "refresh_token": "r", "created_at": 0,
                                       "expires_in": 5400})
        tokens = TokenManager(down_settings, store)
        with pytest.raises(ProcoreServerError) as err:
            tokens.access_token()
    assert re.fullmatch(r"Procore's sign-in server answered 503 Service Unavailable \(last of 3 times in [\w. ]+\) "
                        r"when asked to refresh the sign-in; try again later", str(err.value))


# -- a service-account token is renewed once, however many threads got a 401 -------------------
def test_service_account_token_is_renewed_once_for_all_threads(settings, sandbox):
    tokens = TokenManager(settings, MemoryTokenStore())
    failed = tokens.access_token()
    assert tokens.uses_client_credentials
    sandbox.reset_counts()
    start = threading.Barrier(8)
    renewed: list[str] = []

    def worker():
        start.wait()
        renewed.append(tokens.refresh(failed))     # each thread saw the same token answer 401

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(renewed) == 8 and set(renewed) == {renewed[0]} and renewed[0] != failed
    assert sandbox.path_counts == {"/oauth/token": 1}


@pytest.mark.parametrize("entry", ['[1, 2]', '"a sign-in"', '{"access_token": "x"', "not json at all"])
def test_a_damaged_keyring_entry_is_said_never_the_service_account(settings, sandbox, keyring_backend, entry):
    """A keyring entry that is not a sign-in procore-xl wrote is not "nobody signed in": with a client
    secret configured that would run the person's reports as the app's service account (other projects,
    other data). It says so in one line; logout forgets it; login replaces it."""
    assert settings.client_secret and settings.service_account
    keyring.set_password(SERVICE_NAME, settings.key, entry)
    sandbox.reset_counts()
    with pytest.raises(ConfigurationError, match=r"^The Procore sign-in kept in the keyring is damaged .*sign in again"):
        TokenManager(settings, KeyringTokenStore()).access_token()
    assert not sandbox.path_counts.get("/oauth/token")          # no service-account token asked for
    assert logout(settings, KeyringTokenStore()) == DAMAGED_FORGOTTEN
    assert keyring.get_password(SERVICE_NAME, settings.key) is None
    assert logout(settings, KeyringTokenStore()) is None           # nothing left to forget
    keyring.set_password(SERVICE_NAME, settings.key, entry)
    login(settings, KeyringTokenStore(), open_browser=ConsentBrowser(), timeout=20)
    assert TokenManager(settings, KeyringTokenStore()).access_token()


def test_logout_of_a_damaged_sign_in_says_it_was_removed(settings, sandbox, keyring_backend, monkeypatch, capsys):
    """`procore-xl logout` with a damaged keyring entry removes it and says so, rather than "Not
    signed in; nothing to do" (which left a person wondering why the next command still failed)."""
    from procore_xl.cli import main
    for name, value in (("PROCORE_LOGIN_URL", settings.login_url), ("PROCORE_API_URL", settings.api_url),
                        ("PROCORE_CLIENT_ID", settings.client_id), ("PROCORE_CLIENT_SECRET", settings.client_secret)):
        monkeypatch.setenv(name, value)
    key = load_settings().key
    keyring.set_password(SERVICE_NAME, key, "not json at all")
    assert main(["logout"]) == 0
    out = capsys.readouterr().out
    assert "damaged sign-in" in out and "was removed" in out and "nothing to do" not in out
    assert keyring.get_password(SERVICE_NAME, key) is None
    assert main(["logout"]) == 0
    assert "nothing to do" in capsys.readouterr().out
