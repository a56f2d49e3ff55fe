"""A first pull at the floor: nothing heavy imported before the first request is sent (pandas is
imported while Procore answers, lazy_pandas.py)."""
from __future__ import annotations

import subprocess
import sys


def test_the_modules_a_pull_starts_with_import_no_pandas():
    code = ("import sys; from procore_xl import cli, output, service, runner, flatten; "
            "print(sorted(m for m in ('pandas', 'numpy', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"            # before: pandas, numpy and pyarrow, 0.4 to 0.8 s before any request


def test_pandas_comes_when_a_table_is_needed():
    code = ("import sys; from procore_xl.flatten import to_frame; "
            "f = to_frame([{'id': 1, 'created_at': '2026-01-02T03:04:05Z'}]); "
            "print(type(f).__module__.split('.')[0], str(f['created_at'].dtype))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    module, dtype = out.split()
    assert module == "pandas" and dtype.startswith("datetime64")
