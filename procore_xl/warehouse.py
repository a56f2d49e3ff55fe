"""The reports as a dlt source, for a warehouse: ``procore_source(...)`` for anyone's dlt pipeline,
:func:`sync` for ``procore-xl sync``.

Each report is a table named after it in snake_case (``RFIs`` -> ``rfis``, ``Change Orders
Requests`` -> ``change_orders_requests``) holding the rows the product flattens for a sheet, with
``project_id`` / ``project_name`` first for project reports, each record once (:func:`primary_key`:
the record's ``id`` under its project and parents). Column names are the sheet's in lower case
with ``_`` for anything but letters and digits, in any script (``assignee.name`` ->
``assignee_name``, a custom field labelled ``日本語の列`` keeps its label), loaded with dlt's
``direct`` naming convention, which changes nothing further. A project report is one dlt resource
per project (``rfis_91001``, run in parallel with the others); a company report or a company-wide
roll-up is one resource.

The warehouse has no incremental protocol of its own: every report is read through the service's
record store (:meth:`~procore_xl.service.ProcoreService.run`), which asks Procore only for what
changed and hands back the whole list, equal to a full read. Each sync then loads what a full read
gives:

* a project report replaces its project's slice of the table (dlt's ``merge`` with ``merge_key``
  ``project_id``, and ``project_id, date`` for daily logs, so a date window replaces only its
  days); a slice the read found empty gets a marker row that empties it (dlt's ``hard_delete``);
* company reports and roll-ups, and every table of a destination that cannot merge (Parquet
  files), replace their table.

So after any sync a table holds what a full sync of the same Procore data gives, whatever the
syncs before it did or where they stopped; the requests are the record store's increments.

:func:`sync` gives each destination its own dlt working folder (beside a DuckDB file, else in the
per-user data folder keyed by the destination), so a sync in one folder never loads into another
folder's database; a load a stopped sync left there is dropped with a warning, never loaded late.
Files it creates (the DuckDB file, dlt's working folder) are readable by the user only.

Sub-reports (an RFI's questions, a direct cost's line items) are their own resources when asked for
(``sub_reports=True``): ``rfis_questions``, ``direct_costs_line_items``...

All resources share one :class:`~procore_xl.service.ProcoreService`: one client, one sign-in (a
service account for unattended runs), one rate budget, one discovery cache, one record store.
"""
from __future__ import annotations

import os
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple

import dlt
import pandas as pd
from dlt.common.exceptions import DltException

from .catalog import ALL_PROJECTS, PROJECT, REPORTS, Report, SubList, find_report
from .errors import NotFoundError, ParameterError, PermissionDeniedError, ProcoreError
from .flatten import singular
from .parameters import ALL, SPECS, is_blank, resolve, select
from .runner import ReportResult
from .text import encodable
from .warehouse_target import PIPELINE_NAME, load_error, pipeline_in, private_files, target_of  # noqa: F401

SCHEMA_NAME = "procore_xl"         # the dlt schema (and source): direct naming, no primary-key hints
DEFAULT_DATASET = "procore_data"   # not "procore": DuckDB cannot tell a dataset from its database file's name
DELETED = "_procore_deleted"       # hard-delete marker: a row with it set empties its slice
NAMING = "direct"                  # dlt's naming convention that keeps names as given (any script)
_PARQUET_LOADS = ("duckdb", "motherduck")   # load Parquet files: far faster than INSERT statements


def table_name(report: str | Report) -> str:
    """``"Change Orders Requests"`` -> ``"change_orders_requests"``."""
    name = report.name if isinstance(report, Report) else find_report(report).name
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def column_name(column: str) -> str:
    """A sheet column as a warehouse column: ``assignee.name`` -> ``assignee_name``,
    ``Due Date (2)`` -> ``due_date_2``; letters and digits of any script are kept
    (``日本語の列``, ``ünïcødé``), anything else becomes ``_``."""
    name = re.sub(r"[\W_]+", "_", unicodedata.normalize("NFC", column)).strip("_").lower()
    return name or "_"


def primary_key(report: Report, sub: SubList | None = None) -> tuple[str, ...]:
    """The columns identifying a row: the project, the parent records, the record, and for a
    sub-report the nested element (``project_id, rfi_id, question_id, id``)."""
    cols = ["project.id"] if report.scope in (PROJECT, ALL_PROJECTS) else []
    cols += [f"{e.prefix}.id" for e in report.each]
    if sub is not None:
        cols.append(f"{report.entity}.id")
        cols += [f"{singular(p)}.id" for p in sub.path.split(".")[:-1] if p]
    cols.append("id")
    if len(report.endpoint.record_path) > 1:
        cols.append("record_type")
    return tuple(dict.fromkeys(column_name(c) for c in cols))


# ---------------------------------------------------------------------------------------------
# What one sync did

@dataclass
class SyncStats:
    """Counters every resource of one sync adds to (thread-safe)."""
    loads: int = 0                                     # resources planned
    done: int = 0                                      # resources finished
    rows: dict[str, int] = field(default_factory=dict)           # table -> rows sent to dlt
    changed: dict[str, int] = field(default_factory=dict)        # table -> records Procore changed (store)
    deleted: dict[str, int] = field(default_factory=dict)        # table -> records Procore deleted (store)
    markers: dict[str, int] = field(default_factory=dict)        # table -> slice-emptying markers sent
    failures: list[tuple[str, str]] = field(default_factory=list)  # (report, reason)
    warnings: list[str] = field(default_factory=list)
    no_access: dict[Any, tuple[str, list[str]]] = field(default_factory=dict)  # project -> (reason, reports)
    progress: Callable[["SyncStats"], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def finished(self, table: str, rows: int, changed: int = 0, deleted: int = 0, markers: int = 0) -> None:
        with self._lock:
            self.done += 1
            for counts, n in ((self.rows, rows), (self.changed, changed), (self.deleted, deleted),
                              (self.markers, markers)):
                counts[table] = counts.get(table, 0) + n
        if self.progress:
            self.progress(self)

    def failed(self, report: str, reason: str) -> None:
        with self._lock:
            self.done += 1
            self.failures.append((report, reason))
        if self.progress:
            self.progress(self)

    def warn(self, text: str) -> None:
        with self._lock:
            self.warnings.append(text)

    def skipped(self, project: "Project", report: str, reason: str) -> None:
        """A project this sign-in cannot read (one warning per project, not per report)."""
        with self._lock:
            self.no_access.setdefault(project, (reason, []))[1].append(report)

    def all_warnings(self) -> list[str]:
        with self._lock:
            return self.warnings + [
                f'Skipped project "{p.name}" ({p.id}) in {len(reports)} report(s): {reason}'
                for p, (reason, reports) in self.no_access.items()]


@dataclass
class SyncSummary:
    """``procore-xl sync``'s result: rows loaded per table, what changed, where it went, failures."""
    destination: str                       # the dlt destination (duckdb, postgres, filesystem...)
    location: str                          # the DuckDB file's path, or dlt's description (no password)
    dataset: str
    tables: dict[str, int]                 # table -> rows loaded this sync (dlt's normalize counts)
    changed: dict[str, int]                # table -> records Procore changed since the store's copy
    deleted: dict[str, int]                # table -> records Procore deleted since the store's copy
    requests: int
    seconds: float
    failures: list[tuple[str, str]]
    warnings: list[str]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


# ---------------------------------------------------------------------------------------------
# One resource's work

class _Load:
    """One report for one project (or the company): run it through the service (the record
    store), turn its frame into warehouse rows, and markers for the slices it found empty."""

    def __init__(self, service, report: Report, params: dict[str, Any], stats: SyncStats, *,
                 project: Project | None = None, sub: SubList | None = None, full: bool = False,
                 replace: bool = False):
        self.service, self.report, self.params, self.stats = service, report, params, stats
        self.project, self.sub, self.full = project, sub, full
        self.table = table_name(report) + (f"_{sub.name}" if sub else "")
        self.key = primary_key(report, sub)
        # the rows of one project (and log date) replace that slice of the table; without a
        # slice (company reports, roll-ups, destinations that cannot merge) the table is replaced
        self.slice = () if replace or project is None else \
            ("project_id", "date") if report.dates and sub is None else ("project_id",)

    @property
    def name(self) -> str:
        """The dlt resource name: the table, plus the project for a project report."""
        return f"{self.table}_{self.project.id}" if self.project is not None else self.table

    @property
    def what(self) -> str:
        where = f" in project {self.project.name} ({self.project.id})" if self.project is not None else ""
        return f"{self.report.name}" + (f" ({self.sub.label or self.sub.name})" if self.sub else "") + where

    def rows(self) -> tuple[list[dict], list[dict]]:
        """Every row of the slice (or table), and the markers of the slices found empty. A report
        that fails gives nothing, so the destination keeps its previous rows."""
        try:
            result = self._run()
            rows = self._frame_rows(result)
        except (NotFoundError, PermissionDeniedError, ParameterError) as exc:
            if self.project is not None and not isinstance(exc, ParameterError):
                self.stats.skipped(self.project, self.report.name, exc.message)
            else:
                self.stats.warn(f"Skipped {self.what}: {exc}")
            self.stats.finished(self.table, 0)
            return [], []
        except ProcoreError as exc:
            self.stats.failed(self.report.name, f"{self.what}: {exc}")
            return [], []
        markers = self._emptied(rows, result)
        self.stats.finished(self.table, len(rows), result.changed, result.deleted, len(markers))
        return rows, markers

    def _emptied(self, rows: list[dict], result: ReportResult) -> list[dict]:
        """A marker for each slice the run covered and found empty (the project; for daily logs
        each day of the window without a log): dlt removes that slice's rows (``hard_delete``)."""
        if not self.slice:
            return []
        if "date" not in self.slice:
            return [] if rows else [{"project_id": self.project.id, DELETED: True}]
        start, end = (date.fromisoformat(d) for d in _window(result))
        filled = {r["date"].date() for r in rows if isinstance(r.get("date"), datetime)}
        days = (start + timedelta(days=n) for n in range((end - start).days + 1))
        return [{"project_id": self.project.id, "date": datetime(d.year, d.month, d.day, tzinfo=timezone.utc),
                 DELETED: True} for d in days if d not in filled]

    def _run(self) -> ReportResult:
        params = dict(self.params)
        if self.project is not None:
            params["project"] = self.project.id
        if self.sub is not None:
            params["sub_report"] = self.sub.name
        result = self.service.run(self.report, params, full=self.full)    # records let go as flattened
        for warning in result.warnings:
            self.stats.warn(f"{self.what}: {warning}")
        return result

    def _frame_rows(self, result: ReportResult) -> list[dict]:
        lead = {}
        if self.project is not None:
            lead = {"project_id": self.project.id, "project_name": self.project.name}
        replaced = [0]
        rows = (_put_all(dict(lead), row) for row in _records(result.frame, replaced))
        unique = list({self._key_of(r): r for r in rows}.values())     # each record once
        if replaced[0]:
            self.stats.warn(f"{self.what}: {replaced[0]} character(s) that UTF-8 cannot hold (lone surrogates "
                            f"in Procore's text) loaded as U+FFFD, the replacement character")
        return unique

    def _key_of(self, row: Mapping[str, Any]) -> tuple:
        return tuple(row.get(c) for c in self.key)


def _put_all(row: dict, columns: Mapping[str, Any]) -> dict:
    """Frame columns into ``row`` under warehouse names; a name taken by an equal value is
    dropped, by a different value gets ``_2`` (as :func:`procore_xl.flatten.flatten_record`)."""
    for col, value in columns.items():
        name = column_name(col)
        if name in row:
            if row[name] == value or value is None:
                continue
            n = 2
            while f"{name}_{n}" in row:
                n += 1
            name = f"{name}_{n}"
        row[name] = value
    return row


def _records(frame: pd.DataFrame, replaced: list[int]) -> Iterator[dict[str, Any]]:
    """Frame rows as plain Python values (None for blanks, UTC datetimes, ints, floats; text UTF-8
    cannot hold with U+FFFD for each lone surrogate, counted in ``replaced[0]``)."""
    columns = {}
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            columns[col] = [None if pd.isna(v) else v.to_pydatetime().replace(tzinfo=timezone.utc)
                            for v in series]
        else:
            columns[col] = [_plain(v, replaced) for v in series]
    for i in range(len(frame)):
        yield {col: values[i] for col, values in columns.items() if values[i] is not None}


def _plain(value: Any, replaced: list[int]) -> Any:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, str):
        text, n = encodable(value)
        replaced[0] += n
        return text
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def _window(result: ReportResult) -> tuple[str, str]:
    """The dates a daily-log run covered, as ISO text."""
    p = result.params
    return (p["report_date"], p["report_date"]) if "report_date" in p else (p["start_date"], p["end_date"])


# ---------------------------------------------------------------------------------------------
# The source

def _resource(load: _Load):
    def rows():
        yield from _items(load)
    if load.slice:   # delete-insert by the slice alone: rows are unique already, and a primary key
        # would make dlt delete by it too (ten times slower on DuckDB)
        hints = dict(write_disposition={"disposition": "merge", "strategy": "delete-insert"},
                     merge_key=list(load.slice))
    else:
        hints = dict(write_disposition="replace")
    return dlt.resource(rows, name=load.name, table_name=load.table, parallelized=True, **hints)


def _items(load: _Load) -> Iterator[Any]:
    """The rows, then the markers with the ``hard_delete`` hint on their column (declared only
    when needed, so the marker column comes last in a table, after the data)."""
    rows, markers = load.rows()
    if rows:
        yield rows
    if markers:
        yield dlt.mark.with_hints(markers, dlt.mark.make_hints(
            columns={DELETED: {"hard_delete": True, "data_type": "bool"}}))


def report_parameters(report: Report, company: Any, project_filter: str,
                      params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a sync runs ``report`` with: the company and project filter, every parent
    (contract, vendor, drawing area...) set to ``all`` unless given, and the given parameters the
    report takes (daily-log dates...)."""
    out: dict[str, Any] = {"company": company}
    if "project_filter" in report.parameters:
        out["project_filter"] = project_filter
    for each in report.each:
        if each.parameter and SPECS[each.parameter].allows_all:
            out[each.parameter] = ALL
    out.update({k: v for k, v in params.items()
                if k in report.parameters and k not in ("company", "project", "project_filter")
                and not is_blank(v)})
    if "contract_id" in out:
        out.pop("contract", None)
    return out


def reports_named(reports: str | Iterable[str]) -> list[Report]:
    """The reports of ``--reports`` ("RFIs,Manpower Logs" or all), each once; an unknown name is an
    UnknownReportError (checked before any sign-in)."""
    if isinstance(reports, str):
        if reports.strip().casefold() == ALL:
            return list(REPORTS.values())
        reports = [r for r in reports.split(",") if r.strip()]
    names = dict.fromkeys(find_report(r.strip()).name for r in reports)
    return [REPORTS[n] for n in names]


class Project(NamedTuple):
    id: int
    name: str


def _projects(service, company: Any, projects: Any, project_filter: str) -> list[Project]:
    """The projects a sync covers: ``all`` (passing ``project_filter``) or the ones named."""
    company_id = resolve(REPORTS["Projects"], {"company": company}, service.discovery).company.id
    records = service.discovery.records("projects", company_id=company_id, project_filter=ALL)
    names = {str(r["id"]): str(r.get("name") or r.get("display_name") or r["id"]) for r in records}
    projects = [projects] if isinstance(projects, (str, int)) else list(projects)
    if any(isinstance(p, str) and p.strip().casefold() == ALL for p in projects):
        chosen = service.discovery.choices("projects", company_id=company_id, project_filter=project_filter)
    else:
        everyone = service.discovery.choices("projects", company_id=company_id, project_filter=ALL)
        chosen = [c for p in projects for c in select("project", p, everyone, where=f"in company {company_id}")]
    return list(dict.fromkeys(Project(c.id, names.get(str(c.id), c.label)) for c in chosen))


def procore_source(company: Any, projects: Any = ALL, reports: str | Iterable[str] = ALL,
                   project_filter: str = "active", *, service=None, sub_reports: bool = False,
                   full: bool = False, replace: bool = False, stats: SyncStats | None = None,
                   **params: Any):
    """A dlt source of Procore reports.

    ``company``: name or id. ``projects``: ``"all"`` (those passing ``project_filter``) or a list
    of ids/names. ``reports``: ``"all"``, a list of report names or one comma-separated text.
    ``params``: report parameters (``start_days_back=30`` for daily logs...), given to the reports
    that take them. ``service``: a signed-in :class:`~procore_xl.service.ProcoreService` (default:
    one from the settings file, environment variables and the keyring). ``full``: read every
    report in full from Procore, not through the record store's increments. ``replace``: rewrite
    every table whole (destinations that cannot merge, such as Parquet files: sync every project
    there). ``sub_reports``: also every sub-report as its own table. ``stats``: counters to follow
    progress and collect failures.
    """
    if service is None:
        from .service import ProcoreService
        service = ProcoreService()
    stats = stats if stats is not None else SyncStats()
    service.discovery.fresh_labels = True      # labels name the columns (the schema): read once per sync
    chosen = reports_named(reports)
    needs_projects = any(r.scope == PROJECT for r in chosen)
    project_list = _projects(service, company, projects, project_filter) if needs_projects else []
    loads: list[_Load] = []
    for report in chosen:
        base = report_parameters(report, company, project_filter, params)
        subs = [None] + ([s for s in report.sub_lists if s.name != report.default_sub_report]
                         if sub_reports else [])
        for sub in subs:
            scopes = project_list if report.scope == PROJECT else [None]
            loads += [_Load(service, report, base, stats, project=p, sub=sub, full=full,
                            replace=replace) for p in scopes]
    stats.loads = len(loads)

    @dlt.source(schema=dlt.Schema(SCHEMA_NAME, normalizers={"names": NAMING}), max_table_nesting=0)
    def procore():
        return [_resource(load) for load in loads]

    return procore()


# ---------------------------------------------------------------------------------------------
# `procore-xl sync`

def sync(service, company: Any, *, projects: Any = ALL, reports: str | Iterable[str] = ALL,
         project_filter: str = "active", destination: str = "duckdb", dataset: str = DEFAULT_DATASET,
         full: bool = False, sub_reports: bool = False, pipelines_dir: str | os.PathLike | None = None,
         progress: Callable[[SyncStats], None] | None = None, **params: Any) -> SyncSummary:
    """Load the reports into ``destination`` (a dlt destination name; credentials from dlt's own
    configuration: environment variables or ``.dlt/secrets.toml``) with the pipeline ``procore``,
    in the destination's own working folder (``pipelines_dir`` overrides it)."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")   # no usage reports to dltHub
    started = time.perf_counter()
    before = service.client.stats.snapshot()["requests"]
    stats = SyncStats(progress=progress)
    files = destination == "filesystem"      # plain Parquet files: dlt cannot merge into them
    try:
        target = target_of(destination, dataset, pipelines_dir)
    except DltException as exc:
        raise load_error(exc, destination) from None
    source = procore_source(company, projects, reports, project_filter, service=service,
                            sub_reports=sub_reports, full=full, replace=files, stats=stats, **params)
    with private_files():
        try:
            pipeline = pipeline_in(target, dataset, stats.warn)
            pipeline.run(source, loader_file_format="parquet" if files or target.name in _PARQUET_LOADS else None)
        except DltException as exc:
            raise load_error(exc, destination) from None
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace.last_normalize_info \
        else {}
    # dlt counts the markers among the rows it normalized
    tables = {t: n - stats.markers.get(t, 0) for t, n in counts.items() if not t.startswith("_dlt")}
    for table in stats.rows:
        tables.setdefault(table, 0)
    return SyncSummary(destination=target.name, location=target.location, dataset=dataset,
                       tables=dict(sorted(tables.items())),
                       changed={t: n for t, n in sorted(stats.changed.items()) if n},
                       deleted={t: n for t, n in sorted(stats.deleted.items()) if n},
                       requests=service.client.stats.snapshot()["requests"] - before,
                       seconds=time.perf_counter() - started, failures=stats.failures,
                       warnings=stats.all_warnings())
