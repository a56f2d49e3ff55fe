"""What a report's columns are called and which ones a sheet shows by default, as data.

* :func:`label_for` ``(report, field_path)``: the column name a person reads. Procore's own
  field name where its reference or its tool's log gives one ("Number", "Ball In Court",
  "Cost Impact"), else a readable form of the field path (``cost_impact.value`` ->
  "Cost Impact Value", ``ball_in_court.login`` -> "Ball In Court Login", ``assignee.name`` ->
  "Assignee"). A custom field column (already named after its label) keeps its name. The label
  depends on nothing but the report and the path, so it is the same on every refresh and
  formulas such as ``=COUNTIFS(tbl_RFIs[Status],"open")`` keep working.
* :data:`DEFAULT_COLUMNS` (data in ``column_sets.py``): per report, the field paths a sheet shows
  by default, in the order Procore's log shows them (``procore-xl params REPORT`` lists them).
  Every report has one; a report without an entry would show its identity columns, its order
  hints, then the rest. :data:`REPORT_LABELS` (there too): a tool's own names for its fields.
* :data:`ITEM_TEXT`: how the elements of a nested list read in one cell ("Q1: ...; Q2: ...").

Nothing here looks at data; ``view.py`` applies it to a report's table.
"""
from __future__ import annotations

import re
from types import MappingProxyType
from typing import Mapping

from .column_sets import DEFAULT_COLUMNS, REPORT_LABELS  # noqa: F401  (per-report data, re-exported)

# the two display options every report takes (a parameter cell on a sheet, a CLI flag, a UDF pair)
HEADERS_LABELS, HEADERS_FIELDS = "labels", "fields"
COLUMNS_DEFAULT, COLUMNS_ALL = "default", "all"
HEADER_CHOICES = (HEADERS_LABELS, HEADERS_FIELDS)
COLUMN_CHOICES = (COLUMNS_DEFAULT, COLUMNS_ALL)

# words written in capitals in a readable path
_ACRONYMS = {"id": "ID", "ids": "IDs", "rfi": "RFI", "rfis": "RFIs", "url": "URL", "uom": "UOM",
             "pco": "PCO", "cor": "COR", "wbs": "WBS", "gps": "GPS", "erp": "ERP", "iso": "ISO",
             "po": "PO", "tz": "TZ", "api": "API", "pdf": "PDF", "sku": "SKU", "utc": "UTC"}
_PATH = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
_SUFFIX = re.compile(r"(.*?)( \([0-9]+\))$")       # flatten's " (2)" for a second field of one name

# Procore's names for fields that read differently from their path, in every report.
LABELS: Mapping[str, str] = MappingProxyType({
    "ball_in_courts": "Ball In Court",
    "ball_in_court.name": "Ball In Court",
    "rfi_manager.name": "RFI Manager",
    "cost_impact.status": "Cost Impact",
    "schedule_impact.status": "Schedule Impact",
    "schedule_impact.value": "Schedule Impact Days",
    "initiated_at": "Date Initiated",
    "time_resolved": "Date Resolved",
    "created_by.name": "Created By",
    "updated_at": "Last Updated",
    "created_at": "Date Created",
    "distribution_members": "Distribution",
    "distribution_list": "Distribution",
    "associated_attachments": "Attachments",
    "specification_section.label": "Spec Section",
    "submittal_package.title": "Submittal Package",
    "state_code": "State",
    "country_code": "Country",
    "zip": "Zip",
    "project_stage.name": "Stage",
    "project_type.name": "Type",
    "project_region.name": "Region",
    "project_owner_type.name": "Owner Type",
    "office.name": "Office",
    "company.name": "Company",
    "vendor.company": "Vendor",
    "gps_lat": "Latitude",
    "gps_long": "Longitude",
    "image_category_name": "Album",
    "wbs_code.flat_code": "Budget Code",
    "wbs_code.description": "Budget Code Description",
    "currency_configuration.currency_iso_code": "Currency",
    "email_address": "Email",
    "is_active": "Active",
    "is_employee": "Employee",
    "num_workers": "Workers",
    "num_hours": "Hours",
})

# How one element of a nested list reads (tried in order; ``{n}`` counts from 1). An element no
# template fits reads as its name (or label, title, body...; see view.item_text).
ITEM_TEXT: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "questions": ("Q{n}: {body}", "Q{n}: {plain_text_body}"),
    "answers": ("A{n}: {body}", "A{n}: {plain_text_body}"),
    "approvers": ("{user.name} ({response.name})", "{user.name}"),
})


def readable(path: str) -> str:
    """A field path as words: ``cost_impact.value`` -> "Cost Impact Value", ``location_id`` ->
    "Location ID", ``assignee.name`` -> "Assignee" (an object's name is the object)."""
    m = _SUFFIX.fullmatch(path)
    if m:
        return readable(m.group(1)) + m.group(2)
    parts = path.split(".")
    if len(parts) > 1 and parts[-1] == "name":
        parts = parts[:-1]
    words = [w for part in parts for w in part.split("_") if w]
    return " ".join(_ACRONYMS.get(w, w[:1].upper() + w[1:]) for w in words) or path


def is_field_path(name: str) -> bool:
    """A column named after a field path (``cost_impact.value``, ``location_id (2)``), not a
    custom field's label ("Owner Reference")."""
    m = _SUFFIX.fullmatch(name)
    return bool(_PATH.fullmatch(m.group(1) if m else name))


def label_for(report: str, path: str) -> str:
    """The label of column ``path`` of ``report`` (see the module doc)."""
    if not is_field_path(path):
        return path                          # a custom field: already its label
    m = _SUFFIX.fullmatch(path)
    if m:
        return label_for(report, m.group(1)) + m.group(2)
    own = REPORT_LABELS.get(report, {})
    return own.get(path) or LABELS.get(path) or readable(path)


def default_columns(report: str) -> tuple[str, ...]:
    """The report's default column set (field paths, Procore's log order); () when the report
    has none of its own (its identity columns and order hints lead instead)."""
    return DEFAULT_COLUMNS.get(report, ())


def default_column_rows(report) -> list[tuple[str, str]]:
    """(field path, label) of the columns a sheet of ``report`` (a catalog Report) shows by
    default, in order: its default set, or its identity columns and order hints."""
    paths = default_columns(report.name) or tuple(dict.fromkeys((*report.keys, *report.order)))
    return [(p, label_for(report.name, p)) for p in paths]
