"""A module-scoped sandbox + signed-in client for the report tests (catalog, parameters, runner).

The shared ``client`` fixture signs in once per test; report tests run dozens of reports, so they
share one sandbox (small: 3 RFIs per project, a fixed "today", a spike budget that never paces)
and one real authorization-code sign-in per module.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from procore_xl.auth import TokenManager, login
from procore_xl.client import ProcoreClient
from procore_xl.demo import sandbox_settings
from procore_xl.tokens import MemoryTokenStore

TODAY = date(2024, 6, 14)


@contextmanager
def report_env(make_sandbox, **config):
    """``make_sandbox``: the conftest fixture; ``config``: SandboxConfig knobs over these tests' own."""
    from procore_xl.sandbox.browser import ConsentBrowser
    cfg = dict(seed=7, rfis_per_project=3, today=TODAY, rate_limit_spike=100000, rate_limit_hourly=1000000)
    cfg.update(config)
    with make_sandbox.serving(**cfg) as sb:
        settings = sandbox_settings(sb)
        store = MemoryTokenStore()
        login(settings, store, open_browser=ConsentBrowser(), timeout=20)
        with ProcoreClient(settings.api_url, TokenManager(settings, store), backoff=0.01,
                           max_backoff=0.05) as client:
            yield sb, client
