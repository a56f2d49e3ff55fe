"""A stored call is read in one snapshot: a save or merge another process commits while a reader
is between two pages never gives the reader a mix of two versions (records skipped or repeated).

Real SQLite files; the "other process" is a second RecordStore on the same file (its own
connection), committing while the reader's generator is suspended between pages.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from procore_xl.store import CallKey, RecordStore, Scope

SCOPE = Scope("production", "https://api.procore.com", "app-1")
T0 = datetime(2026, 1, 5, 10, 0, 0, tzinfo=timezone.utc)
KEY = CallKey.of(SCOPE, 8001, "/rest/v1.0/projects/1/rfis", {})


@pytest.fixture
def stores(tmp_path):
    reader, writer = RecordStore(tmp_path / "records.sqlite3"), RecordStore(tmp_path / "records.sqlite3")
    yield reader, writer
    reader.close()
    writer.close()


def records(n: int, version: str, first_id: int = 1) -> list[dict]:
    return [{"id": first_id + i, "v": version} for i in range(n)]


def test_a_replace_between_two_pages_does_not_mix_versions(stores):
    """The reader stops after its first page; another process saves the call anew (fewer records,
    new positions); the reader's remaining pages are still the version it began with."""
    reader, writer = stores
    old = records(10, "old")
    writer.save(KEY, old, server_time=T0, version=None, paged=True)
    pages = reader.pages(KEY, 3)
    got = list(next(pages))
    writer.save(KEY, records(4, "new", first_id=100), server_time=T0 + timedelta(minutes=1),
                version=None, paged=True)
    for page in pages:
        got += page
    assert got == old
    assert [r for page in reader.pages(KEY, 3) for r in page] == records(4, "new", first_id=100)


def test_a_merge_between_two_pages_does_not_change_the_pages_still_to_come(stores):
    reader, writer = stores
    old = records(9, "old")
    writer.save(KEY, old, server_time=T0, version=None, paged=True)
    pages = reader.pages(KEY, 4)
    got = list(next(pages))
    writer.merge(KEY, [{"id": 8, "v": "changed"}, {"id": 50, "v": "added"}],
                 server_time=T0 + timedelta(minutes=1))
    got += [r for page in pages for r in page]
    assert got == old


def test_a_reader_stopped_early_lets_writers_and_later_reads_go_on(stores):
    """A consumer that stops after one page (an error, a break) ends its snapshot: the reader's
    own later writes and reads see the newest version."""
    reader, writer = stores
    writer.save(KEY, records(6, "old"), server_time=T0, version=None, paged=True)
    pages = reader.pages(KEY, 2)
    next(pages)
    pages.close()
    reader.save(KEY, records(3, "mine"), server_time=T0 + timedelta(minutes=1), version=None, paged=True)
    assert reader.load(KEY).records == records(3, "mine")
    assert writer.load(KEY).records == records(3, "mine")


def test_random_interleavings_always_give_one_committed_version_whole(stores):
    """Differential: readers suspended between pages while saves and merges are committed by
    another store; every read, whenever it was suspended, equals exactly one version the call
    held at some committed moment, and the version the call held when the read began."""
    reader, writer = stores
    rng = random.Random(20261208)
    current = records(rng.randint(0, 12), "v0")
    writer.save(KEY, current, server_time=T0, version=None, paged=True)
    clock = T0
    for step in range(150):
        size = rng.randint(1, 5)
        pages = reader.pages(KEY, size)
        began_with = list(current)
        got: list[dict] = []
        for _ in range(rng.randint(0, 6)):
            page = next(pages, None)
            if page is None:
                break
            got += page
            clock += timedelta(seconds=1)
            if rng.random() < 0.5:
                current = records(rng.randint(0, 12), f"s{step}", first_id=rng.randint(1, 20))
                writer.save(KEY, current, server_time=clock, version=None, paged=True)
            else:
                changed = [{"id": rng.randint(1, 30), "v": f"m{step}.{k}"} for k in range(rng.randint(1, 4))]
                writer.merge(KEY, changed, server_time=clock)
                current = _merged(current, changed)
        got += [r for page in pages for r in page]
        assert got == began_with, f"step {step}: a read mixed versions"
        assert writer.load(KEY).records == current


def _merged(held: list[dict], changed: list[dict]) -> list[dict]:
    """What merge() makes: changed records replace theirs in place, new ones are appended."""
    out = list(held)
    where = {r["id"]: i for i, r in enumerate(out)}
    for record in changed:
        if record["id"] in where:
            out[where[record["id"]]] = record
        else:
            where[record["id"]] = len(out)
            out.append(record)
    return out


def test_load_and_shape_read_their_statements_in_one_snapshot(stores):
    """load() and shape() each read one version: what they return agrees with one another for the
    version saved (its count, its records)."""
    reader, writer = stores
    for n in (5, 0, 7, 1):
        writer.save(KEY, records(n, f"n{n}"), server_time=T0, version=None, paged=True)
        assert reader.load(KEY).records == records(n, f"n{n}")
        assert reader.shape(KEY) == (n, False)


def test_the_reading_store_itself_can_write_between_two_pages(stores):
    """A refresh that writes (merge, save) with the same store while one of its page readers is
    between two pages: the write goes through (the pages hold a read connection of their own, and
    in WAL a reader does not hold up a writer) and the pages still to come are the reader's version."""
    reader, _ = stores
    old = records(8, "old")
    reader.save(KEY, old, server_time=T0, version=None, paged=True)
    pages = reader.pages(KEY, 3)
    got = list(next(pages))
    reader.merge(KEY, [{"id": 2, "v": "changed"}], server_time=T0 + timedelta(minutes=1))
    reader.save(KEY, records(2, "mine", first_id=40), server_time=T0 + timedelta(minutes=2),
                version=None, paged=True)
    got += [r for page in pages for r in page]
    assert got == old
    assert reader.load(KEY).records == records(2, "mine", first_id=40)
