"""What a report's columns are called and which ones a sheet shows by default, as data.

* :func:`label_for` ``(report, field_path)``: the column name a person reads. Procore's own
  field name where its reference or its tool's log gives one ("Number", "Ball In Court",
  "Cost Impact"), else a readable form of the field path (``cost_impact.value`` ->
  "Cost Impact Value", ``ball_in_court.login`` -> "Ball In Court Login", ``assignee.name`` ->
  "Assignee"). A custom field column (already named after its label) keeps its name. The label
  depends on nothing but the report and the path, so it is the same on every refresh and
  formulas such as ``=COUNTIFS(tbl_RFIs[Status],"open")`` keep working.
* :data:`DEFAULT_COLUMNS`: per report, the field paths a sheet shows by default, in the order
  Procore's log shows them (``procore-xl params REPORT`` lists them). A report without an entry
  shows its identity columns, its order hints, then the rest.
* :data:`ITEM_TEXT`: how the elements of a nested list read in one cell ("Q1: ...; Q2: ...").

Nothing here looks at data; ``view.py`` applies it to a report's table.
"""
from __future__ import annotations

import re
from types import MappingProxyType
from typing import Mapping

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

# a commitment's amounts as Procore's commitments log names them
_CONTRACT_LABELS = {"grand_total": "Original Contract Amount", "revised_contract": "Revised Contract Amount",
                    "billing_schedule_of_values_status": "SOV Status", "total_payments": "Payments Issued",
                    "total_requisitions_amount": "Invoiced", "draft_change_orders_amount": "Draft Change Orders"}

# Per report: labels that differ from LABELS (Procore names a field differently in that tool).
REPORT_LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "Submittals": MappingProxyType({"status.name": "Status", "type.name": "Type",
                                    "ball_in_court": "Ball In Court"}),
    "Purchase Order Contract": MappingProxyType(_CONTRACT_LABELS),
    "Work Order Contract": MappingProxyType(_CONTRACT_LABELS),
    "Drawings": MappingProxyType({"current_revision.revision_number": "Revision",
                                  "current_revision.updated_at": "Revision Date",
                                  "current_revision.pdf_url": "PDF"}),
    "Projects": MappingProxyType({"name": "Project Name"}),
    "Project Details": MappingProxyType({"name": "Project Name"}),
    "Photos": MappingProxyType({"description": "Caption", "taken_at": "Date Taken"}),
    "Recently Updated Photos": MappingProxyType({"description": "Caption", "taken_at": "Date Taken"}),
})

# The columns a sheet shows by default, in the order of Procore's log for the tool. Custom
# fields follow them; ``all`` columns brings back everything (and the empty ones).
DEFAULT_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "RFIs": ("number", "subject", "status", "responsible_contractor.name", "received_from.name",
             "ball_in_courts", "rfi_manager.name", "assignees", "due_date", "initiated_at",
             "time_resolved", "location.name", "cost_code.name", "cost_impact.status",
             "cost_impact.value", "schedule_impact.status", "schedule_impact.value", "reference",
             "private", "questions", "created_by.name", "created_at", "updated_at", "id"),
    "Submittals": ("specification_section.label", "number", "revision", "title", "type.name",
                   "status.name", "responsible_contractor.name", "received_from.name",
                   "ball_in_court", "approvers", "due_date", "submit_by", "issue_date",
                   "received_date", "distributed_at", "submittal_manager.name",
                   "submittal_package.title", "location.name", "cost_code.name", "private",
                   "description", "distribution_members", "formatted_number", "created_by.name",
                   "created_at", "updated_at", "id"),
    "Budget Items": ("wbs_code.flat_code", "wbs_code.description", "original_budget_amount",
                     "quantity", "uom", "unit_cost", "calculation_strategy",
                     "currency_configuration.currency_iso_code", "created_at", "updated_at", "id"),
    "Project Details": ("project_number", "name", "active", "project_stage.name",
                        "project_type.name", "address", "city", "state_code", "zip",
                        "country_code", "county", "phone", "start_date", "completion_date",
                        "actual_start_date", "projected_finish_date", "total_value",
                        "estimated_value", "square_feet", "office.name", "project_region.name",
                        "project_owner_type.name", "program", "departments", "description",
                        "time_zone", "latitude", "longitude", "company.name", "id"),
    "Projects": ("project_number", "name", "active", "project_stage.name", "project_type.name",
                 "address", "city", "state_code", "zip", "country_code", "start_date",
                 "completion_date", "total_value", "office.name", "project_region.name",
                 "company.name", "id"),
    "Photos": ("filename", "description", "taken_at", "location.name",
               "trades", "uploader.name", "gps_lat", "gps_long", "private", "starred",
               "comments_count", "url", "created_at", "updated_at", "id"),
    "Recently Updated Photos": ("filename", "description", "updated_at", "taken_at",
                                "image_category_name", "location.name", "trades",
                                "uploader.name", "gps_lat", "gps_long", "private", "starred",
                                "comments_count", "url", "created_at", "id"),
    "Company Vendors": ("name", "abbreviated_name", "trade_name", "trades", "business_phone",
                        "email_address", "address", "city", "state_code", "zip", "country_code",
                        "primary_contact.name", "primary_contact.email_address", "vendor_group.name",
                        "is_active", "prequalified", "authorized_bidder", "union_member",
                        "license_number", "website", "id"),
    "Project Vendors": ("name", "abbreviated_name", "trade_name", "trades", "business_phone",
                        "email_address", "address", "city", "state_code", "zip", "country_code",
                        "primary_contact.name", "primary_contact.email_address", "vendor_group.name",
                        "is_active", "prequalified", "authorized_bidder", "union_member",
                        "license_number", "website", "id"),
    "Direct Costs": ("direct_cost_date", "vendor_name", "direct_cost_type", "invoice_number",
                     "description", "status", "grand_total", "amount", "received_date",
                     "payment_date", "terms", "employee.name",
                     "currency_configuration.currency_iso_code", "created_at", "updated_at", "id"),
    "Purchase Order Contract": ("number", "title", "vendor.company", "status", "executed",
                                "billing_schedule_of_values_status", "grand_total",
                                "approved_change_orders", "revised_contract", "pending_change_orders",
                                "draft_change_orders_amount", "total_requisitions_amount",
                                "total_payments", "percentage_paid", "remaining_balance_outstanding",
                                "private", "contract_date", "delivery_date", "execution_date",
                                "description", "created_at", "updated_at", "id"),
    "Work Order Contract": ("number", "title", "vendor.company", "status", "executed",
                            "billing_schedule_of_values_status", "grand_total", "approved_change_orders",
                            "revised_contract", "pending_change_orders", "draft_change_orders_amount",
                            "total_requisitions_amount", "total_payments", "percentage_paid",
                            "remaining_balance_outstanding", "private", "contract_date",
                            "execution_date", "description", "created_at", "updated_at", "id"),
    "Change Orders": ("number", "revision", "title", "status", "due_date", "executed",
                      "designated_reviewer.name", "reviewed_at", "invoiced_date", "paid_date",
                      "grand_total", "currency_configuration.currency_iso_code", "created_at",
                      "updated_at", "id"),
    "Checklists": ("number", "name", "status", "list_template_name", "inspection_type.name",
                   "inspection_date", "due_at", "overdue", "location.name", "trade.name",
                   "responsible_contractor.name", "point_of_contact.name", "inspectors",
                   "item_count", "conforming_item_count", "deficient_item_count",
                   "not_applicable_item_count", "observations_count", "private",
                   "description", "created_by.name", "closed_by.name", "closed_at", "created_at",
                   "updated_at", "id"),
    "Incidents": ("number", "title", "status", "event_date", "recordable", "location.name",
                  "hazard.name", "contributing_condition.name", "contributing_behavior.name",
                  "description", "private", "records_count", "actions_count",
                  "witness_statements_count", "created_by.name", "created_at", "updated_at", "id"),
    "Manpower Logs": ("date", "vendor.name", "num_workers", "num_hours", "man_hours", "trade.name",
                      "location.name", "cost_code.name", "notes", "status", "created_by.name",
                      "created_at", "updated_at", "id"),
    "Meetings": ("title", "group_title", "starts_at", "ends_at", "location", "occurred", "mode",
                 "is_private", "meeting_topics_count", "description", "created_at", "updated_at", "id"),
    "Drawings": ("number", "title", "discipline", "current_revision.revision_number", "obsolete",
                 "current_revision.updated_at", "current_revision.pdf_url", "id"),
    "Company Users": ("name", "email_address", "job_title", "vendor.name", "business_phone",
                      "mobile_phone", "is_active", "is_employee", "last_login_at", "id"),
    "Project Users": ("name", "email_address", "job_title", "vendor.name", "business_phone",
                      "mobile_phone", "is_active", "is_employee", "last_login_at", "id"),
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
