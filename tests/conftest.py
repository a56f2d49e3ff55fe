"""Shared pytest fixtures: a real sandbox over loopback, a real keyring file backend, real sign-in.

Fixtures (use them by name in any test):

``isolated_home`` (autouse)
    PROCORE_XL_HOME points at a temp folder and every PROCORE_* variable is cleared, so no test
    reads or writes the real per-user settings or token files.
``sandbox_server`` (session)
    One :class:`procore_xl.sandbox.SandboxServer` on 127.0.0.1:<free port>, default config.
``sandbox``
    The same server, with faults and request counts reset before the test and faults restored
    after it: tests may set ``sandbox.faults.<knob>`` freely.
``keyring_backend``
    A keyrings.alt ``PlaintextKeyring`` writing to a file in tmp_path, installed with
    ``keyring.set_keyring`` and the previous backend restored afterwards. ``.file_path`` is the file.
``no_keyring``
    keyring's ``fail.Keyring`` installed (a fresh Linux machine with no backend), restored after.
``settings``
    :class:`Settings` for the sandbox (custom environment, the sandbox's client id and secret,
    redirect URI on a free loopback port), built by ``load_settings`` from flags.
``browser``
    :class:`ConsentBrowser`: an ``open_browser`` callable that drives the sandbox's consent page
    with plain HTTP (GET the authorize URL, POST "Approve", follow the redirect to the listener).
``signed_in_tokens``
    A :class:`TokenManager` over a :class:`KeyringTokenStore` after a real authorization-code
    sign-in (state + PKCE + loopback listener) in the ``keyring_backend``.
``excel_service``
    A signed-in :class:`ProcoreService` installed as the Excel process's shared service (what the
    UDFs and ribbon macros use), with the UDF cache cleared before and after.
``client`` / ``signed_in_client``
    A :class:`ProcoreClient` on the sandbox using ``signed_in_tokens`` (short retry backoff so
    fault tests stay fast). Closed after the test.
"""
from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail
from keyrings.alt.file import PlaintextKeyring

from procore_xl.auth import TokenManager, login
from procore_xl.client import ProcoreClient
from procore_xl.demo import sandbox_settings
from procore_xl.environments import Settings
from procore_xl.sandbox.browser import ConsentBrowser
from procore_xl.tokens import KeyringTokenStore


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    import os
    for name in list(os.environ):
        if name.startswith("PROCORE_") or name == "PYTHON_KEYRING_BACKEND":
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "procore-xl-home"
    monkeypatch.setenv("PROCORE_XL_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def sandbox_server():
    from procore_xl.sandbox import SandboxConfig, SandboxServer
    with SandboxServer(SandboxConfig(port=0)) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server):
    from procore_xl.sandbox import Faults
    original = sandbox_server.faults.copy()
    _set_faults(sandbox_server.faults, Faults())
    sandbox_server.reset_counts()
    yield sandbox_server
    _set_faults(sandbox_server.faults, original)


def _set_faults(target, source) -> None:
    import dataclasses
    for f in dataclasses.fields(source):
        setattr(target, f.name, getattr(source, f.name))


@pytest.fixture
def keyring_backend(tmp_path):
    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def settings(sandbox) -> Settings:
    return sandbox_settings(sandbox)


@pytest.fixture
def browser() -> ConsentBrowser:
    return ConsentBrowser()


@pytest.fixture
def signed_in_tokens(settings, keyring_backend, browser) -> TokenManager:
    store = KeyringTokenStore()
    login(settings, store, open_browser=browser, timeout=20)
    return TokenManager(settings, store)


@pytest.fixture
def client(settings, signed_in_tokens):
    with ProcoreClient(settings.api_url, signed_in_tokens, backoff=0.01, max_backoff=0.05) as c:
        yield c


@pytest.fixture
def signed_in_client(client):
    return client


@pytest.fixture
def excel_service(settings, signed_in_tokens):
    from procore_xl.addin import udfs
    from procore_xl.addin.session import set_service
    from procore_xl.service import ProcoreService

    service = ProcoreService(settings, KeyringTokenStore())
    set_service(service)
    udfs.clear_cache()
    yield service
    set_service(None)
    udfs.clear_cache()
