"""procore_xl.spill: bytes kept until a pull's end move from memory to an unnamed temporary file."""
from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from procore_xl.spill import Spill


def test_blobs_read_back_before_and_after_moving_to_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    blobs = [bytes([i % 256]) * (100 + i) for i in range(60)]
    with Spill(max_memory=2_000) as spill:
        handles = []
        for blob in blobs:
            handles.append(spill.put(blob))
            if not spill.on_disk:
                assert sum(map(len, blobs[:len(handles)])) <= 2_000
        assert spill.on_disk
        assert [spill.get(h) for h in reversed(handles)] == blobs[::-1]
        if os.name == "posix":            # unnamed: nothing to find, nothing left if killed
            assert list(tmp_path.iterdir()) == []
    assert list(tmp_path.iterdir()) == []


def test_threads_share_one_spill():
    with Spill(max_memory=1_000) as spill:
        def put_and_get(i: int) -> bool:
            blob = str(i).encode() * 50
            return spill.get(spill.put(blob)) == blob

        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(put_and_get, range(400)))


def test_a_closed_spill_cannot_be_read():
    spill = Spill()
    handle = spill.put(b"abc")
    spill.close()
    with pytest.raises(ValueError):
        spill.get(handle)
