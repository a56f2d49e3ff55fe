"""Custom-field columns are named by their definitions: a transient failure of the definitions request
is retried, and one that persists fails the report; columns are never silently left as
``custom_fields.custom_field_5001``. Runs through a pass-through stand-in in front of the sandbox that
answers 503 for the definitions request."""
from __future__ import annotations

import dataclasses

import pytest
import requests

from procore_xl.errors import ProcoreServerError
from procore_xl.service import ProcoreService
from procore_xl.tokens import MemoryTokenStore
from stand_in import LoopbackServer, QuietHandler

RFIS = {"company": 8001, "project": 91001}
RELAYED = ("Content-Type", "Total", "Per-Page", "Link", "Date", "X-Request-Id", "X-Rate-Limit-Limit",
           "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")


class Flaky(LoopbackServer):
    """Forwards every GET to the sandbox, except the first ``failures`` custom-field definition requests."""

    def __init__(self, upstream: str, failures: int):
        self.upstream, self.failures, self.refused = upstream, failures, 0
        super().__init__(FlakyHandler)


class FlakyHandler(QuietHandler):
    def do_GET(self):
        srv: Flaky = self.server
        if "/custom_field_definitions" in self.path and srv.refused < srv.failures:
            srv.refused += 1
            status, body, headers = 503, b'{"errors": "Service Unavailable"}', {"Retry-After": "0"}
        else:
            upstream = requests.get(srv.upstream + self.path, timeout=30, headers={
                k: v for k, v in self.headers.items() if k in ("Authorization", "Accept", "Procore-Company-Id")})
            status, body = upstream.status_code, upstream.content
            headers = {k: upstream.headers[k] for k in RELAYED if k in upstream.headers}
        self.send(status, body, headers)


def rfis_through(sandbox, settings, failures: int):
    with Flaky(sandbox.url, failures) as flaky:
        behind = dataclasses.replace(settings, api_url=flaky.url)
        with ProcoreService(behind, MemoryTokenStore()) as service:
            return service.run("RFIs", RFIS), flaky.refused


def test_custom_field_columns_are_named_after_a_transient_failure(sandbox, settings):
    result, refused = rfis_through(sandbox, settings, failures=2)
    assert refused == 2
    assert "Priority" in result.frame.columns
    assert not [c for c in result.frame.columns if "custom_field_" in c] and result.warnings == []


def test_a_persistent_failure_fails_the_report_instead_of_renaming_columns(sandbox, settings):
    with pytest.raises(ProcoreServerError, match=r"^Procore answered 503 Service Unavailable 6 times .* custom field "
                                                 r"definitions"):
        rfis_through(sandbox, settings, failures=100)
