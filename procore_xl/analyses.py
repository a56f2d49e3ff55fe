"""The analyses as data: key figures, breakdown tables and charts over report tables.

An analysis sheet is laid out from one :class:`Analysis`: the report sheets it reads
(:class:`Source`: report, fixed parameters and the field paths it needs, so the report sheets it
creates carry those columns), its key figures (:class:`Figure`), then its breakdown tables
(:class:`Breakdown`), each with at most one chart. Nothing here computes a value: every figure is
a formula template that ``excel.analysis_sheet`` turns into an Excel formula over the report
tables' structured references, and Excel (or any spreadsheet) recalculates it.

Formula templates:

* ``{rfis:status}`` - the column of source ``rfis`` that holds field path ``status``
  (``tbl_RFIs[[Status]]``: the header is looked up as the table was written);
* ``{key}`` - this row's category cell of a breakdown (a name, a week's first day, a month...);
* ``{from}`` / ``{to}`` - a bucket row's bounds (days), written beside the label;
* ``{col:Label}`` - this row's cell of the breakdown's column "Label";
* ``{fig:Label}`` - the value cell of the key figure "Label".

Row kinds, all of a fixed size whatever the data: :class:`Top` (the N values of a column ranked by
a formula, found by formulas, so a refresh that brings new names shows them), :class:`Buckets`
(fixed ranges of days), :class:`Periods` (the last N days, weeks or months up to today).
Only functions Excel 2010+ and LibreOffice share (COUNTIFS, SUMIFS, SUMPRODUCT, INDEX/MATCH,
LARGE, TODAY, EDATE) are used: no FILTER, UNIQUE or LET.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from .catalog import find_report
from .columns import COLUMNS_ALL, HEADERS_FIELDS
from .errors import ProcoreError

MONEY = '#,##0.00;[Red]-#,##0.00'
COUNT = "0"
DAYS = "0.0"
DATE = "yyyy-mm-dd"
MONTH = "mmm yyyy"


@dataclass(frozen=True)
class Source:
    """A report sheet the analysis reads. ``params``: parameters fixed by the analysis (merged
    over the person's company/project); ``fields``: the field paths the formulas use - the
    report sheet is created with these columns (see :attr:`Analysis.columns_for`)."""
    name: str
    report: str
    fields: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


@dataclass(frozen=True)
class Figure:
    """A key figure: ``label`` in one cell, the formula's value in the cell to its right.
    ``flag``: conditional formatting of the value ("late": red when above 0; "over": red when
    below 0)."""
    label: str
    formula: str
    format: str = COUNT
    flag: str | None = None


@dataclass(frozen=True)
class Top:
    """The ``n`` values of ``source``'s ``field`` ranked by ``rank`` (a template with ``{key}``;
    default: how many rows hold the value), ties by first appearance. Found by formulas among the
    first ``distinct`` different values of the column."""
    source: str
    field: str
    n: int = 10
    rank: str = ""
    distinct: int = 60
    label: str = ""


@dataclass(frozen=True)
class Buckets:
    """Fixed rows ``(label, from, to)``: ``{from}``/``{to}`` in the column templates."""
    rows: tuple[tuple[str, int, int], ...]
    label: str = "Bucket"


@dataclass(frozen=True)
class Periods:
    """The last ``n`` days, weeks (starting Monday) or months up to today, oldest first;
    ``{key}`` is the period's first day, ``{next}`` the day after it ends."""
    unit: str          # "day" | "week" | "month"
    n: int
    label: str = ""


@dataclass(frozen=True)
class Column(Figure):
    """A column of a breakdown: a header (``label``) and a formula template per row, with the same
    format and flag as a key figure's."""


@dataclass(frozen=True)
class Chart:
    """A native chart over the breakdown: ``kind`` column / bar / stacked / line / pie; one
    series per column label in ``series``."""
    kind: str
    title: str
    series: tuple[str, ...]


@dataclass(frozen=True)
class Breakdown:
    """A table of fixed size: ``rows`` down, ``columns`` across. With ``split`` (a :class:`Top`)
    the one column template is repeated for each of the split's values, named in the header row
    by a formula (``{split}`` in the template: that header cell); the chart then shows them all."""
    title: str
    rows: Top | Buckets | Periods
    columns: tuple[Column, ...]
    chart: Chart | None = None
    total: bool = False
    split: Top | None = None


@dataclass(frozen=True)
class Analysis:
    name: str
    sheet: str
    description: str
    sources: tuple[Source, ...]
    figures: tuple[Figure, ...]
    breakdowns: tuple[Breakdown, ...]
    parameters: tuple[str, ...] = ("company", "project")
    note: str = ""

    def source(self, name: str) -> Source:
        return next(s for s in self.sources if s.name == name)

    def columns_for(self, source: str) -> tuple[str, ...]:
        """The field paths the report sheet of ``source`` must keep."""
        return self.source(source).fields


_OPEN = '{rfis:status},"open"'
_OVERDUE_RFI = _OPEN + ',{rfis:due_date},"<"&TODAY()'
_SUB_OPEN = '{subs:status.status},"open"'

RFIS = Analysis(
    "RFIs", "RFI Analysis", "Open, overdue and closed RFIs, days open, ball in court, aging, opened vs closed",
    sources=(Source("rfis", "RFIs", ("status", "due_date", "created_at", "time_resolved", "ball_in_court.name")),),
    figures=(
        Figure("Open RFIs", f"COUNTIFS({_OPEN})"),
        Figure("Overdue RFIs", f"COUNTIFS({_OVERDUE_RFI})", flag="late"),
        Figure("Closed RFIs", 'COUNTIFS({rfis:status},"closed")'),
        Figure("Draft RFIs", 'COUNTIFS({rfis:status},"draft")'),
        Figure("Average days open (open RFIs)",
               'IF(COUNTIFS({rfis:status},"open")=0,0,SUMPRODUCT(({rfis:status}="open")*(TODAY()-INT({rfis:created_at})))'
               '/COUNTIFS({rfis:status},"open"))', DAYS),
    ),
    breakdowns=(
        Breakdown("Open RFIs by ball in court", Top("rfis", "ball_in_court.name", 10, label="Ball in court"),
                  (Column("Open", 'COUNTIFS({rfis:ball_in_court.name},{key},' + _OPEN + ')'),
                   Column("Overdue", 'COUNTIFS({rfis:ball_in_court.name},{key},' + _OVERDUE_RFI + ')', flag="late")),
                  Chart("bar", "Open RFIs by ball in court", ("Open", "Overdue"))),
        Breakdown("Open RFIs by age (days open)",
                  Buckets((("0-7 days", 0, 7), ("8-14 days", 8, 14), ("15-30 days", 15, 30),
                           ("Over 30 days", 31, 99999)), "Age"),
                  (Column("Open RFIs", 'COUNTIFS(' + _OPEN + ',{rfis:created_at},">="&(TODAY()-{to}),'
                                       '{rfis:created_at},"<"&(TODAY()-{from}+1))'),),
                  Chart("column", "Open RFIs by age", ("Open RFIs",))),
        Breakdown("RFIs opened and closed per week", Periods("week", 12, "Week of"),
                  (Column("Opened", 'COUNTIFS({rfis:created_at},">="&{key},{rfis:created_at},"<"&{next})'),
                   Column("Closed", 'COUNTIFS({rfis:time_resolved},">="&{key},{rfis:time_resolved},"<"&{next})')),
                  Chart("line", "RFIs opened vs closed per week", ("Opened", "Closed"))),
    ))

SUBMITTALS = Analysis(
    "Submittals", "Submittal Analysis", "Submittals by status, overdue, by responsible contractor",
    sources=(Source("subs", "Submittals", ("status.name", "status.status", "due_date",
                                           "responsible_contractor.name")),),
    figures=(
        Figure("Submittals", 'ROWS({subs:status.name})-COUNTBLANK({subs:status.name})'),
        Figure("Open submittals", f"COUNTIFS({_SUB_OPEN})"),
        Figure("Overdue submittals", f'COUNTIFS({_SUB_OPEN},{{subs:due_date}},"<"&TODAY())', flag="late"),
        Figure("Closed submittals", 'COUNTIFS({subs:status.status},"closed")'),
    ),
    breakdowns=(
        Breakdown("Submittals by status", Top("subs", "status.name", 8, label="Status"),
                  (Column("Submittals", "COUNTIFS({subs:status.name},{key})"),),
                  Chart("pie", "Submittals by status", ("Submittals",))),
        Breakdown("Submittals by responsible contractor",
                  Top("subs", "responsible_contractor.name", 10, label="Responsible contractor"),
                  (Column("Submittals", "COUNTIFS({subs:responsible_contractor.name},{key})"),
                   Column("Open", "COUNTIFS({subs:responsible_contractor.name},{key}," + _SUB_OPEN + ")"),
                   Column("Overdue", "COUNTIFS({subs:responsible_contractor.name},{key}," + _SUB_OPEN
                          + ',{subs:due_date},"<"&TODAY())', flag="late")),
                  Chart("bar", "Submittals by responsible contractor", ("Open", "Overdue"))),
    ))

_B = "budget"
_VIEW = "{budget:budget_view.name},{fig:Budget view}"
_REVISED = ("SUMIFS({budget:original_budget_amount},%s,{budget:cost_code},{key})"
            "+SUMIFS({budget:budget_modifications},%s,{budget:cost_code},{key})") % (_VIEW, _VIEW)
BUDGET = Analysis(
    "Budget", "Budget Analysis",
    "Original budget, approved changes, revised budget, committed, direct and projected costs, over/under by cost code",
    sources=(Source(_B, "Project Details (Budget)", ("budget_view.name", "cost_code", "original_budget_amount",
                                                     "budget_modifications", "budget_forecast.amount")),
             Source("po", "Purchase Order Contract", ("grand_total",)),
             Source("wo", "Work Order Contract", ("grand_total",)),
             Source("dc", "Direct Costs", ("grand_total",))),
    figures=(
        Figure("Budget view", "INDEX({budget:budget_view.name},1)", "@"),
        Figure("Original budget", "SUMIFS({budget:original_budget_amount},%s)" % _VIEW, MONEY),
        Figure("Approved changes", "SUMIFS({budget:budget_modifications},%s)" % _VIEW, MONEY),
        Figure("Revised budget", "{fig:Original budget}+{fig:Approved changes}", MONEY),
        Figure("Committed costs", "SUM({po:grand_total})+SUM({wo:grand_total})", MONEY),
        Figure("Direct costs", "SUM({dc:grand_total})", MONEY),
        Figure("Projected costs", "SUMIFS({budget:budget_forecast.amount},%s)" % _VIEW, MONEY),
        Figure("Projected over/under", "{fig:Revised budget}-{fig:Projected costs}", MONEY, flag="over"),
        Figure("Budget lines over", "SUMPRODUCT(({budget:budget_view.name}={fig:Budget view})*({budget:budget_forecast.amount}"
                                    ">{budget:original_budget_amount}+{budget:budget_modifications}))", flag="late"),
    ),
    breakdowns=(
        Breakdown("Budget by cost code (largest revised budgets)",
                  Top(_B, "cost_code", 12, rank=_REVISED, label="Cost code"),
                  (Column("Revised budget", _REVISED, MONEY),
                   Column("Projected costs", "SUMIFS({budget:budget_forecast.amount},%s,{budget:cost_code},{key})"
                          % _VIEW, MONEY),
                   Column("Over/under", "{col:Revised budget}-{col:Projected costs}", MONEY, flag="over")),
                  Chart("column", "Revised budget vs projected costs", ("Revised budget", "Projected costs")),
                  total=True),
    ),
    note="The budget view is the first one of the report (type another view's name in its cell); projected "
         "costs are the view's forecast; committed costs are the purchase and work orders' totals.")

_AMOUNT = "SUMIFS({%s:grand_total},{%s:status},{key})"
CHANGES = Analysis(
    "Change management", "Change Analysis",
    "Potential change orders, change order requests and change orders by status and amount",
    sources=(Source("pco", "Potential Change Orders", ("status", "grand_total")),
             Source("cor", "Change Orders Requests", ("status", "grand_total"), {"contract": "all"}),
             Source("co", "Change Orders", ("status", "grand_total"), {"contract": "all"})),
    figures=(
        Figure("Approved change orders", 'SUMIFS({co:grand_total},{co:status},"approved")', MONEY),
        Figure("Pending change orders", 'SUMIFS({co:grand_total},{co:status},"pending")', MONEY),
        Figure("Pending change order requests", 'SUMIFS({cor:grand_total},{cor:status},"pending")', MONEY),
        Figure("Pending potential change orders", 'SUMIFS({pco:grand_total},{pco:status},"pending")', MONEY),
        Figure("Pending exposure", "{fig:Pending change orders}+{fig:Pending change order requests}"
                                   "+{fig:Pending potential change orders}", MONEY, flag="late"),
    ),
    breakdowns=tuple(
        Breakdown(f"{title} by status", Top(src, "status", 6, label="Status"),
                  (Column("Count", f"COUNTIFS({{{src}:status}},{{key}})"),
                   Column("Amount", _AMOUNT % (src, src), MONEY)),
                  Chart("column", f"{title}: amount by status", ("Amount",)))
        for src, title in (("pco", "Potential change orders"), ("cor", "Change order requests"),
                           ("co", "Change orders"))),
    note="Pending exposure adds the pending amounts of the three logs; a PCO already in a pending COR "
         "counts in both.")

_MONTH = '{%s:%s},">="&{key},{%s:%s},"<"&{next}'
SAFETY = Analysis(
    "Safety", "Safety Analysis", "Incidents, injuries and near misses per month",
    sources=(Source("inc", "Incidents", ("event_date", "recordable")),
             Source("inj", "Injuries", ("created_at",)),
             Source("nm", "Near Misses", ("created_at",))),
    figures=(
        Figure("Incidents", "ROWS({inc:event_date})-COUNTBLANK({inc:event_date})"),
        Figure("Recordable incidents", "COUNTIFS({inc:recordable},TRUE)", flag="late"),
        Figure("Incidents in the last 30 days", 'COUNTIFS({inc:event_date},">="&(TODAY()-29))', flag="late"),
        Figure("Injuries", "ROWS({inj:created_at})-COUNTBLANK({inj:created_at})"),
        Figure("Near misses", "ROWS({nm:created_at})-COUNTBLANK({nm:created_at})"),
    ),
    breakdowns=(
        Breakdown("Per month", Periods("month", 12, "Month"),
                  (Column("Incidents", "COUNTIFS(" + _MONTH % ("inc", "event_date", "inc", "event_date") + ")"),
                   Column("Injuries", "COUNTIFS(" + _MONTH % ("inj", "created_at", "inj", "created_at") + ")"),
                   Column("Near misses", "COUNTIFS(" + _MONTH % ("nm", "created_at", "nm", "created_at") + ")")),
                  Chart("column", "Incidents, injuries and near misses per month",
                        ("Incidents", "Injuries", "Near misses"))),
    ),
    note="Incidents count by event date; injuries and near misses by the date they were recorded.")

_DAYS = 14
MANPOWER = Analysis(
    "Daily manpower", "Manpower Analysis", f"Workers and hours per day by company over the last {_DAYS} days",
    sources=(Source("mp", "Manpower Logs", ("date", "vendor.name", "num_workers", "man_hours"),
                    {"start_days_back": _DAYS - 1, "end_days_back": 0}),),
    figures=(
        Figure("Workers today", 'SUMIFS({mp:num_workers},{mp:date},TODAY())'),
        Figure(f"Worker-days, last {_DAYS} days", 'SUMIFS({mp:num_workers},{mp:date},">="&(TODAY()-%d))' % (_DAYS - 1)),
        Figure(f"Hours, last {_DAYS} days", 'SUMIFS({mp:man_hours},{mp:date},">="&(TODAY()-%d))' % (_DAYS - 1),
               "#,##0.0"),
        Figure("Average workers a day", "{fig:Worker-days, last %d days}/%d" % (_DAYS, _DAYS), DAYS),
    ),
    breakdowns=(
        Breakdown("Workers per day", Periods("day", _DAYS, "Day"),
                  (Column("Workers", 'SUMIFS({mp:num_workers},{mp:date},{key})'),
                   Column("Hours", 'SUMIFS({mp:man_hours},{mp:date},{key})', "#,##0.0")),
                  Chart("column", "Workers per day", ("Workers",))),
        Breakdown("Workers per day by company (5 largest)", Periods("day", _DAYS, "Day"),
                  (Column("Workers", "SUMIFS({mp:num_workers},{mp:date},{key},{mp:vendor.name},{split})"),),
                  Chart("stacked", "Workers per day by company", ()),
                  split=Top("mp", "vendor.name", 5, rank="SUMIFS({mp:num_workers},{mp:vendor.name},{key})")),
        Breakdown("By company", Top("mp", "vendor.name", 8, rank="SUMIFS({mp:num_workers},{mp:vendor.name},{key})",
                                    label="Company"),
                  (Column("Worker-days", "SUMIFS({mp:num_workers},{mp:vendor.name},{key})"),
                   Column("Hours", "SUMIFS({mp:man_hours},{mp:vendor.name},{key})", "#,##0.0")),
                  Chart("bar", "Worker-days by company", ("Worker-days",))),
    ),
    note="Approved manpower logs of the last 14 days (the report's Days Back).")

_CO_OPEN = '{rfis:project.name},{key},{rfis:status},"open"'
_CO_SUB = '{subs:project.name},{key},{subs:status.status},"open"'
COMPANY = Analysis(
    "Company view", "Company Analysis", "Open and overdue RFIs and submittals per project",
    sources=(Source("rfis", "RFIs", ("project.name", "status", "due_date"), {"project": "all"}),
             Source("subs", "Submittals", ("project.name", "status.status", "due_date"), {"project": "all"})),
    figures=(
        Figure("Open RFIs", 'COUNTIFS({rfis:status},"open")'),
        Figure("Overdue RFIs", 'COUNTIFS({rfis:status},"open",{rfis:due_date},"<"&TODAY())', flag="late"),
        Figure("Open submittals", f"COUNTIFS({_SUB_OPEN})"),
        Figure("Overdue submittals", f'COUNTIFS({_SUB_OPEN},{{subs:due_date}},"<"&TODAY())', flag="late"),
    ),
    breakdowns=(
        Breakdown("Per project", Top("rfis", "project.name", 15,
                                     rank='COUNTIFS({rfis:project.name},{key},{rfis:status},"open")',
                                     label="Project"),
                  (Column("Open RFIs", f"COUNTIFS({_CO_OPEN})"),
                   Column("Overdue RFIs", f'COUNTIFS({_CO_OPEN},{{rfis:due_date}},"<"&TODAY())', flag="late"),
                   Column("Open submittals", f"COUNTIFS({_CO_SUB})"),
                   Column("Overdue submittals", f'COUNTIFS({_CO_SUB},{{subs:due_date}},"<"&TODAY())', flag="late")),
                  Chart("bar", "Open and overdue per project", ("Open RFIs", "Overdue RFIs", "Open submittals",
                                                                  "Overdue submittals"))),
    ),
    parameters=("company", "project_filter"),
    note="Projects are those with RFIs (the RFIs report of every project).")

ANALYSES: Mapping[str, Analysis] = MappingProxyType(
    {a.name: a for a in (RFIS, SUBMITTALS, BUDGET, CHANGES, SAFETY, MANPOWER, COMPANY)})


def find_analysis(name: str) -> Analysis:
    """The analysis called ``name`` (case and spaces forgiven); ProcoreError naming the choices."""
    key = " ".join(str(name).split()).lower()
    for a in ANALYSES.values():
        if key in (a.name.lower(), a.sheet.lower()):
            return a
    close = difflib.get_close_matches(key, [a.name.lower() for a in ANALYSES.values()], n=1)
    hint = f' - did you mean "{next(a.name for a in ANALYSES.values() if a.name.lower() == close[0])}"?' if close else ""
    raise ProcoreError(f'No analysis "{name}"{hint} (analyses: {", ".join(ANALYSES)})')


def report_params(source: Source, given: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of ``source``'s report sheet: the person's values its report takes
    (company, project...), then the analysis's own (contract "all", the date range).
    An analysis's report sheets show every column under its field name (Columns "all", Headers
    "fields"): the fields an analysis reads (``source.fields``) may lie outside a report's default
    set or share a label with another field, and a field name is the one header that names exactly
    one field, so every structured reference is exact and stays so from one refresh to the next."""
    wanted = find_report(source.report).parameters
    params = {k: v for k, v in given.items() if k in wanted and v not in (None, "")}
    params.update(source.params)
    params.update(columns=COLUMNS_ALL, headers=HEADERS_FIELDS)
    return params
