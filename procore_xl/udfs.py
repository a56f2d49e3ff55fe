"""Excel worksheet functions (=PROCORE_REPORT(...) etc.), exposed through xlwings.

Skeleton: names and signatures are fixed (the workbook build generates VBA wrappers from
``UDFS``); bodies are being written.
"""
from __future__ import annotations

import xlwings as xw


@xw.func
def PROCORE_REPORT(report, company, project, *name_value_pairs):
    """Run a Procore report; returns a table (header row first)."""
    raise NotImplementedError


@xw.func
def PROCORE_REPORTS():
    """The report catalog: name, level, parameters."""
    raise NotImplementedError


@xw.func
def PROCORE_COMPANIES():
    """Companies the signed-in user can read: name, id."""
    raise NotImplementedError


@xw.func
def PROCORE_PROJECTS(company, project_filter="active"):
    """Projects of a company (active / inactive / all): name, id."""
    raise NotImplementedError


@xw.func
def PROCORE_LIST(list_name, company=None, project=None, *name_value_pairs):
    """Any discovery list (companies, projects, contracts, vendors, ...): name, id."""
    raise NotImplementedError


UDFS = [PROCORE_REPORT, PROCORE_REPORTS, PROCORE_COMPANIES, PROCORE_PROJECTS, PROCORE_LIST]
