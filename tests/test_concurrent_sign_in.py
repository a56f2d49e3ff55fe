"""One stored user sign-in shared by many processes at once (Excel's UDF server, a scheduled refresh,
a person at a terminal): real `procore-xl pull` processes against one sandbox whose access tokens
live one second (and die after 10 uses), with the keyrings.alt file backend as the shared store."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring

from procore_xl.auth import TokenManager, login
from procore_xl.demo import sandbox_settings
from procore_xl.sandbox import SandboxServer
from procore_xl.sandbox.browser import ConsentBrowser
from procore_xl.tokens import KeyringTokenStore

PROCESSES = 8
TOKEN_SECONDS = 1


@pytest.fixture
def short_lived_sandbox(make_sandbox):
    with make_sandbox.serving(access_token_ttl=TOKEN_SECONDS, rfis_per_project=300) as server:
        server.faults.latency_ms = 20
        server.faults.token_dies_after = 10    # and 10 uses at most: the pulls outlive many tokens, however fast
        yield server


@pytest.fixture
def shared_keyring(tmp_path):
    """The keyrings.alt file backend at the place a child process finds it through XDG_DATA_HOME."""
    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "data" / "python_keyring" / "keyring_pass.cfg")
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def child_environment(sandbox: SandboxServer, tmp_path: Path, isolated_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCORE_")}
    return env | {
        "PROCORE_XL_HOME": str(isolated_home), "XDG_DATA_HOME": str(tmp_path / "data"),
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "PROCORE_LOGIN_URL": sandbox.url, "PROCORE_API_URL": sandbox.url,
        "PROCORE_CLIENT_ID": sandbox.client_id,
        "PROCORE_CLIENT_SECRET": sandbox.client_secret,   # a service account is there to fall back to: none may
    }


def test_eight_processes_share_one_sign_in_through_many_expiries(short_lived_sandbox, shared_keyring, tmp_path,
                                                                 isolated_home):
    sandbox = short_lived_sandbox
    login(sandbox_settings(sandbox), KeyringTokenStore(), open_browser=ConsentBrowser(), timeout=20)
    env = child_environment(sandbox, tmp_path, isolated_home)
    procore_xl = str(Path(sys.executable).with_name("procore-xl"))
    commands = [[procore_xl, "pull", "RFIs", "--company", "8001", "--project", "all",
                 "--out", str(tmp_path / f"rfis-{i}.csv")] for i in range(PROCESSES)]
    children = [subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for c in commands]
    results = [(*child.communicate(timeout=300), child.returncode) for child in children]

    failures = [err.strip() for _, err, code in results if code != 0]
    assert failures == []
    outputs = {(tmp_path / f"rfis-{i}.csv").read_bytes() for i in range(PROCESSES)}
    assert len(outputs) == 1                                   # every process read the same data, as the user
    oauth = sandbox.oauth
    assert oauth.reused_refresh_tokens == 0                    # no refresh token was spent twice
    assert oauth.grants["refresh_token"] >= 3                  # the pulls lived through several expiries
    assert oauth.grants["client_credentials"] == 0             # and never turned into the service account
    stored = KeyringTokenStore().load(sandbox_settings(sandbox).key)
    assert stored["refresh_token"] in oauth._refresh           # the stored pair is the live one


def test_a_keyring_file_caught_mid_rewrite_is_read_again_not_taken_for_signed_out(sandbox, shared_keyring,
                                                                                   browser):
    settings = sandbox_settings(sandbox)
    token = login(settings, KeyringTokenStore(), open_browser=browser, timeout=20)
    path = Path(shared_keyring.file_path)
    content = path.read_bytes()
    path.write_bytes(b"")            # what keyrings.alt does first when it rewrites its file ...
    threading.Timer(0.05, path.write_bytes, args=(content,)).start()   # ... another process finishing the write
    grants_before = sandbox.oauth.grants["client_credentials"]

    tokens = TokenManager(settings, KeyringTokenStore())     # PROCORE_CLIENT_SECRET-style service account set
    assert settings.client_secret and settings.service_account
    assert tokens.access_token() == token["access_token"] and not tokens.uses_client_credentials
    assert sandbox.oauth.grants["client_credentials"] == grants_before


def test_a_half_written_keyring_file_is_read_again(sandbox, shared_keyring, browser):
    settings = sandbox_settings(sandbox)
    token = login(settings, KeyringTokenStore(), open_browser=browser, timeout=20)
    path = Path(shared_keyring.file_path)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) * 2 // 3])      # cut mid-value: unreadable for a moment
    threading.Timer(0.05, path.write_bytes, args=(content,)).start()
    assert KeyringTokenStore().load(settings.key)["access_token"] == token["access_token"]


STORM_ROUNDS = 2


def test_a_token_storm_never_says_expired_while_the_sign_in_is_good(shared_keyring, tmp_path, isolated_home, make_sandbox):
    """Eight pulls at once, twice, sharing one sign-in while every access token dies after 3 uses:
    requests keep losing their token to the other pulls' uses and renewals. Each pull retries
    with the token another process stored; none says the sign-in expired (its refresh token is
    good all along), and none turns into the service account."""
    with make_sandbox.serving(rfis_per_project=300) as sandbox:
        sandbox.faults.latency_ms = 5
        sandbox.faults.token_dies_after = 3
        login(sandbox_settings(sandbox), KeyringTokenStore(), open_browser=ConsentBrowser(), timeout=20)
        env = child_environment(sandbox, tmp_path, isolated_home)
        procore_xl = str(Path(sys.executable).with_name("procore-xl"))
        failures = []
        for round_ in range(STORM_ROUNDS):
            outs = [tmp_path / f"storm-{round_}-{i}.csv" for i in range(PROCESSES)]
            children = [subprocess.Popen([procore_xl, "pull", "RFIs", "--company", "8001", "--project", "all",
                                          "--full", "--out", str(out)], env=env, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True) for out in outs]
            results = [(*child.communicate(timeout=300), child.returncode) for child in children]
            failures += [err.strip() for _, err, code in results if code != 0]
            assert all(out.exists() for out, (_, _, code) in zip(outs, results) if code == 0)
        assert failures == []
        assert sandbox.oauth.reused_refresh_tokens == 0
        assert sandbox.oauth.grants["client_credentials"] == 0
        assert sandbox.oauth.grants["refresh_token"] >= PROCESSES


def test_nobody_signed_in_is_known_at_once_from_a_keyring_file_nobody_is_writing(keyring_backend, monkeypatch):
    """The common case of a service account (nothing stored for the user): no pause. Before, every
    such read waited 0.3 s (five pauses) in case another process was rewriting the file."""
    import time
    KeyringTokenStore().save("production|another-app", {"access_token": "a", "refresh_token": "r"})
    path = Path(keyring_backend.file_path)
    written_long_ago = time.time() - 60
    os.utime(path, (written_long_ago, written_long_ago))
    pauses = []
    real_sleep, this_thread = time.sleep, threading.current_thread()
    monkeypatch.setattr(time, "sleep", lambda s: (pauses.append(s) if threading.current_thread() is this_thread
                                                  else None, real_sleep(s))[1])
    assert KeyringTokenStore().load("production|abc") is None        # the file holds another entry only
    path.unlink()
    assert KeyringTokenStore().load("production|abc") is None        # no file at all
    assert pauses == []
    path.write_text("")                       # emptied just now: maybe mid-rewrite, so read again first
    assert KeyringTokenStore().load("production|abc") is None
    assert len(pauses) == 5
