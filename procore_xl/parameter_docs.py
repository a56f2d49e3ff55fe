"""The report parameters and the catalog written for a person: the parameters of one report as rows
(``procore-xl params``, Insert report) and the Markdown tables of the README (every parameter: flag,
label, values, default; every report: group, parameters, refresh, notes).

What the parameters are and how a typed value is resolved is :mod:`procore_xl.parameters`.
"""
from __future__ import annotations

from typing import Any

from .catalog import GROUPS, REPORTS, Report
from .parameters import SPECS, VIEW_PARAMS, sub_report_choices


def describe(report: Report) -> list[dict[str, Any]]:
    """The parameters of ``report`` as rows a person reads: name, label, required, choices,
    default (``procore-xl params``, the README, Insert report)."""
    rows = []
    for name in (*report.parameters, *VIEW_PARAMS):
        spec = SPECS[name]
        if name == "sub_report":
            choices = sub_report_choices(report)
            default = report.default_sub_report or "none"
        else:
            choices = list(spec.choices) or ([f"{spec.list_name} list" + (" or all" if spec.allows_all else "")]
                                             if spec.list_name else [])
            default = spec.default
        required = (name == "project" or (name == "company")
                    or (spec.list_name is not None and name not in ("company", "project")
                        and spec.default is None))
        if name == "contract":
            choices = [f"{choices[0]} (or give --contract-id)"]
        rows.append({"name": name, "label": spec.label, "required": required,
                     "choices": choices, "default": default, "help": spec.help})
    return rows


def parameters_markdown() -> str:
    """The parameter model as a Markdown table (for the README): CLI flag, label, values."""
    lines = ["| Parameter (CLI flag / formula name) | Label in Excel | Values | Default |", "|---|---|---|---|"]
    for spec in SPECS.values():
        if spec.choices:
            values = " / ".join(spec.choices)
        elif spec.list_name:
            values = f"name or id from the {spec.list_name} list" + (", or `all`" if spec.allows_all else "")
        else:
            values = {"int": "whole number", "date": "date YYYY-MM-DD", "text": "text"}.get(spec.kind, spec.kind)
        if spec.name == "sub_report":
            values = "`none` or one of the report's sub-lists"
        lines.append(f"| `--{spec.name.replace('_', '-')}` / `\"{spec.name}\"` | {spec.label} | {values}"
                     + (f" ({spec.help})" if spec.help else "") + f" | {spec.default if spec.default is not None else ''} |")
    return "\n".join(lines) + "\n"


def catalog_markdown() -> str:
    """The catalog as a Markdown table (for the README): report, group, parameters, refresh
    (incremental or full, see :attr:`Report.refresh`), notes."""
    lines = ["| Report | Group | Parameters | Refresh | Notes |", "|---|---|---|---|---|"]
    for group in GROUPS:
        for r in REPORTS.values():
            if r.group != group:
                continue
            labels = [SPECS[p].label for p in r.parameters if p not in _HIDDEN_IN_DOCS]
            if r.dates:
                labels.insert(len(labels) - (1 if r.sub_lists else 0), "Duration (Report Date or Start/End Date)")
            subs = ", ".join(s.name for s in r.sub_lists)
            lines.append(f"| {r.name} | {group} | {', '.join(labels)}"
                         + (f" (sub reports: {subs})" if subs else "") + f" | {r.refresh} | {r.description} |")
    return "\n".join(lines) + "\n"


_HIDDEN_IN_DOCS = {"days_back", "start_date", "end_date", "start_days_back", "end_days_back",
                   "report_date"}
