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
``make_sandbox`` (module)
    A sandbox of a test's own: ``make_sandbox(rfis_per_project=3, ...)`` (SandboxConfig knobs, over
    ``config`` when one is given: ``make_sandbox(config, seed=7)``) starts one on a free port and
    stops it when the module's tests are done; ``with make_sandbox.serving(...) as sb:`` stops it
    at the end of the block instead.
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
``service``
    A :class:`ProcoreService` on the sandbox over the ``signed_in_tokens`` sign-in (a
    :class:`KeyringTokenStore`), closed after the test.
``make_service`` (module)
    A signed-in service of a test's own: ``make_service(sandbox, records=path, per_page=10, **kw)``
    signs in to that sandbox (tokens in memory, the consent page approved over HTTP) with the
    record store at ``records`` (a path: the store is opened, and closed with the service) and any
    other ProcoreService option; closed when the module's tests are done, or at the end of
    ``with make_service.serving(...) as svc:``.
``client`` / ``signed_in_client``
    A :class:`ProcoreClient` on the sandbox using ``signed_in_tokens`` (short retry backoff so
    fault tests stay fast). Closed after the test.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

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
    sandboxes = Sandboxes()
    yield sandboxes()
    sandboxes.stop_all()


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


class Sandboxes:
    """Sandbox servers started for one scope of tests, each stopped at its end (or earlier)."""

    def __init__(self):
        self.running = []

    def __call__(self, config=None, **knobs):
        import dataclasses

        from procore_xl.sandbox import SandboxConfig, SandboxServer
        if config is None or knobs:
            config = dataclasses.replace(config, **knobs) if config is not None else SandboxConfig(**knobs)
        server = SandboxServer(config).start()
        self.running.append(server)
        return server

    @contextmanager
    def serving(self, config=None, **knobs):
        server = self(config, **knobs)
        try:
            yield server
        finally:
            self.stop(server)

    def stop(self, server) -> None:
        server.stop()
        self.running.remove(server)

    def stop_all(self) -> None:
        while self.running:
            self.stop(self.running[-1])


@pytest.fixture(scope="module")
def make_sandbox():
    sandboxes = Sandboxes()
    yield sandboxes
    sandboxes.stop_all()


class Services:
    """Signed-in services on a sandbox, made for one scope of tests and closed at its end."""

    def __init__(self):
        self.open = []

    def __call__(self, sandbox, *, records: Path | None = None, **options):
        from procore_xl.service import ProcoreService
        from procore_xl.store import RecordStore
        from procore_xl.tokens import MemoryTokenStore
        store = RecordStore(records) if records is not None else None
        service = ProcoreService(sandbox_settings(sandbox), token_store=MemoryTokenStore(), record_store=store, **options)
        self.open.append((service, store))
        service.login(open_browser=ConsentBrowser())
        return service

    @contextmanager
    def serving(self, sandbox, **options):
        service = self(sandbox, **options)
        try:
            yield service
        finally:
            self.close(service)

    def close(self, service) -> None:
        made = next(pair for pair in self.open if pair[0] is service)
        self.open.remove(made)
        service.close()
        if made[1] is not None:
            made[1].close()

    def close_all(self) -> None:
        while self.open:
            self.close(self.open[-1][0])


@pytest.fixture(scope="module")
def make_service():
    services = Services()
    yield services
    services.close_all()


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
def service(settings, signed_in_tokens):
    from procore_xl.service import ProcoreService

    with ProcoreService(settings, KeyringTokenStore()) as svc:
        yield svc


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
