"""Run xlwings' own UDF wrapper generator (xlwings/udfs.py: xlfunc + generate_vba_wrapper) on
procore_xl.addin.udfs.UDFS and print {"vba": ..., "errors": {name: message}} as JSON.

xlwings/udfs.py is Windows-only only because it imports pywin32 at the top; the generator itself
is plain Python. Run in a subprocess (it puts empty pywin32 stand-ins into sys.modules):

    python tests/xlwings_udf_vba.py
"""
import functools
import io
import json
import sys
import types

for name in ("pythoncom", "pywintypes", "win32com", "win32com.client"):
    sys.modules[name] = types.ModuleType(name)
sys.modules["pythoncom"].CoInitialize = lambda: None
sys.modules["win32com.client"].Dispatch = None

import xlwings.udfs as xlwings_udfs  # noqa: E402

from procore_xl.addin import udfs  # noqa: E402


class Workbook:  # what generate_vba_wrapper reads of the COM workbook
    Name = "procore.xlsm"


def main():
    module = types.ModuleType("procore_xl.addin.udfs")
    errors = {}
    for f in udfs.UDFS:
        @functools.wraps(f)
        def copy(*args, _f=f):  # xlfunc sets __xlfunc__ on the copy, not on procore_xl's function
            return _f(*args)
        try:
            setattr(module, f.__name__, xlwings_udfs.xlfunc(copy))  # what @xw.func does on Windows
        except Exception as e:
            errors[f.__name__] = str(e)
    out = io.StringIO()
    xlwings_udfs.generate_vba_wrapper("procore_xl.addin.udfs", module, out, Workbook())
    print(json.dumps({"vba": out.getvalue(), "errors": errors}))


if __name__ == "__main__":
    main()
