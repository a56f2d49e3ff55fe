"""Compatibility face of :mod:`procore_xl.addin.macros` (the ribbon's RunPython entry points).

The ribbon of workbooks built before the add-in package runs
``RunPython "import procore_xl.macros as m; m.<name>()"``; this module re-exports those functions.
"""
from .addin.macros import (MACROS, choose_environment, connect, insert_analysis, insert_report, refresh_all,
                           refresh_sheet, refresh_sheet_full, sign_out, update_dropdowns)

__all__ = ["MACROS", "choose_environment", "connect", "insert_analysis", "insert_report", "refresh_all",
           "refresh_sheet", "refresh_sheet_full", "sign_out", "update_dropdowns"]
