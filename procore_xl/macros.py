"""RunPython entry points behind the Procore ribbon buttons.

Each entry point takes no arguments and works on ``xw.Book.caller()``.
Skeleton: names are fixed (the workbook build generates VBA from ``MACROS``).
"""
from __future__ import annotations

import xlwings as xw


def connect():
    """Sign in to Procore (browser), then update the dropdown lists."""
    raise NotImplementedError


def sign_out():
    """Revoke and forget the stored token."""
    raise NotImplementedError


def choose_environment():
    """Apply the environment chosen in the workbook."""
    raise NotImplementedError


def insert_report():
    """Create (or refresh) the report sheet picked on the Start sheet."""
    raise NotImplementedError


def refresh_sheet():
    """Refresh the active report sheet."""
    raise NotImplementedError


def refresh_all():
    """Refresh every report sheet listed in the _procore registry."""
    raise NotImplementedError


def update_dropdowns():
    """Refresh the discovery lists behind the dropdowns (_lists sheet)."""
    raise NotImplementedError


MACROS = [connect, sign_out, choose_environment, insert_report, refresh_sheet, refresh_all, update_dropdowns]
