"""Hostile or broken answers from Procore (the sandbox's faults): a gzip bomb, a Total of a billion,
JSON nested 10,000 levels deep, an object or a list of non-records where the reference documents a
list. Each is a clear error naming the endpoint, or (an overstated Total) a list read exactly once
and no further; never rows made up from it, never an internal error."""
from __future__ import annotations

import threading
import tracemalloc

import pytest

from cli_run import one_error_line, point_at, run
from procore_xl.answers import MIB
from procore_xl.client import ProcoreClient
from procore_xl.errors import ProcoreServerError

RFIS = "/rest/v1.0/projects/91001/rfis"
COMPANY = 8001


def test_a_gzip_bomb_is_given_up_at_the_limit_not_expanded_in_memory(sandbox, settings, signed_in_tokens):
    sandbox.faults.gzip_bomb_every, sandbox.faults.gzip_bomb_mib = 1, 300
    with ProcoreClient(settings.api_url, signed_in_tokens, max_body_bytes=16 * MIB) as client:
        tracemalloc.start()
        try:
            with pytest.raises(ProcoreServerError, match=r"answer for rfis of project 91001 is larger than 16 MiB "
                                                          r"once decompressed"):
                client.get_all(RFIS, company_id=COMPANY)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 100 * MIB                           # at most the limit and a chunk, never the 300 MiB
    assert sandbox.path_counts[RFIS] == 1             # not asked again: the answer is what it is


def test_an_overstated_total_reads_the_list_once_and_stops(sandbox, settings, signed_in_tokens):
    with ProcoreClient(settings.api_url, signed_in_tokens, per_page=50) as client:
        expected = client.get_all(RFIS, company_id=COMPANY)
        pages = -(-len(expected) // 50)
        sandbox.reset_counts()
        sandbox.faults.huge_total_every = 1           # every answer: Total: 1000000000
        done: dict = {}
        worker = threading.Thread(target=lambda: done.update(rows=client.get_all(RFIS, company_id=COMPANY)),
                                  daemon=True)
        worker.start()
        worker.join(60)
        if worker.is_alive():                         # the old way: a million pages; stop it
            sandbox.faults.unavailable_every = 1
            client.close()
    assert not worker.is_alive() and done.get("rows") == expected
    assert sandbox.path_counts[RFIS] <= 2 * (pages + 1)   # the pages, the empty one after, a few asked ahead


@pytest.mark.parametrize("knob, words", [
    ("deep_nesting_every", "nests deeper than 100 levels"),
    ("object_body_every", "with an object where its reference documents a list"),
    ("scalar_list_every", r"holds a number \(1\) where its reference documents records"),
])
def test_broken_answers_are_errors_naming_the_endpoint(sandbox, settings, signed_in_tokens, knob, words):
    setattr(sandbox.faults, knob, 1)
    with ProcoreClient(settings.api_url, signed_in_tokens) as client:
        with pytest.raises(ProcoreServerError, match=words) as err:
            client.get_all(RFIS, company_id=COMPANY)
    assert "rfis of project 91001" in str(err.value)


@pytest.mark.parametrize("knob", ["gzip_bomb_every", "deep_nesting_every", "object_body_every",
                                  "scalar_list_every"])
def test_pull_says_which_answer_was_broken_in_one_line(sandbox, monkeypatch, isolated_home, capsys, tmp_path, knob):
    point_at(sandbox, monkeypatch)
    sandbox.faults.gzip_bomb_mib = 300                 # past the 256 MiB limit of a real pull
    setattr(sandbox.faults, knob, 1)
    out = tmp_path / "rfis.csv"
    code, _, err = run(capsys, "pull", "RFIs", "--company", "8001", "--project", "91001", "--out", str(out))
    line = one_error_line(err)
    assert code == 2 and "internal error" not in line and "Recursion" not in line
    assert any(f"{what}" in line for what in ("companies", "projects", "rfis")), line
    assert not out.exists()
