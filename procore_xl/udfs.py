"""Compatibility face of :mod:`procore_xl.addin.udfs` (the worksheet functions live there).

Workbooks built before the add-in package name this module in their xlwings settings
("UDF Modules") and their generated ``xlwings_udfs`` VBA wrappers; it re-exports the same
function objects, so their cells and the UDF cache stay one.
"""
from .addin.udfs import (HEAVY_MESSAGE, NOT_SIGNED_IN, PROCORE_COMPANIES, PROCORE_LIST, PROCORE_PROJECTS,
                         PROCORE_REPORT, PROCORE_REPORTS, UDFS, clear_cache)

__all__ = ["HEAVY_MESSAGE", "NOT_SIGNED_IN", "PROCORE_COMPANIES", "PROCORE_LIST", "PROCORE_PROJECTS",
           "PROCORE_REPORT", "PROCORE_REPORTS", "UDFS", "clear_cache"]
