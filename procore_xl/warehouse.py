"""The reports as a dlt source, for a warehouse: ``procore_source(...)`` for anyone's dlt pipeline,
:func:`sync` for ``procore-xl sync``.

Each report is a table named after it in snake_case (``RFIs`` -> ``rfis``, ``Change Orders
Requests`` -> ``change_orders_requests``) holding the rows the product flattens for a sheet, with
``project_id`` / ``project_name`` first for project reports, keyed by :func:`primary_key` (the
record's ``id`` under its project and parents). A project report is one dlt resource per project
(``rfis_91001``: its own state, run in parallel with the others); a company report or a
company-wide roll-up is one resource.

How a resource loads (:class:`_Load`):

* endpoints whose published reference documents ``filters[updated_at]`` (RFIs, submittals, direct
  costs...), merged on the primary key: the first sync reads everything; later syncs ask only for
  the records updated since ``dlt.sources.incremental("updated_at")``'s last value, plus one
  ``per_page=1`` request whose ``Total`` says whether records were deleted. When it differs from
  the keys loaded (kept in the resource's dlt state), the project is read in full again and each
  key gone gets a deletion marker (dlt's ``hard_delete`` hint). A list that fitted in one page is
  simply read again (one request instead of two; the cursor keeps its unchanged rows out);
* other project reports are read in full and replace their project's slice of the table (dlt's
  ``merge_key``: ``project_id``, and ``project_id, date`` for daily logs, so a date window replaces
  only its days); a slice that had rows and has none now gets a marker that empties it;
* company reports and roll-ups are read in full and replace their table.

dlt keeps the state (cursors, keys, slices) with the destination, so any machine can run the
next sync. ``full=True`` reads everything again.

Sub-reports (an RFI's questions, a direct cost's line items) are their own resources when asked for
(``sub_reports=True``): ``rfis_questions``, ``direct_costs_line_items``..., read in full each sync.

All resources share one :class:`~procore_xl.service.ProcoreService`: one client, one sign-in (a
service account for unattended runs), one rate budget, one discovery cache.
"""
from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple

import dlt
import pandas as pd
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.destination.exceptions import UnknownDestinationModule
from dlt.common.exceptions import DltException

from .catalog import ALL_PROJECTS, PROJECT, REPORTS, Report, SubList, find_report
from .client import page_size_for
from .discovery import BY_STATUS
from .incremental import refreshes_incrementally
from .errors import ConfigurationError, NotFoundError, ParameterError, PermissionDeniedError, ProcoreError
from .flatten import singular
from .output import encodable
from .parameters import ALL, SPECS, is_blank, resolve, select
from .runner import ReportResult, drop_records, run_report
from .store import iso_time

PIPELINE_NAME = "procore"          # procore.duckdb in the current folder with the default destination
DEFAULT_DATASET = "procore_data"   # not "procore": DuckDB cannot tell a dataset from its database file's name
DELETED = "_procore_deleted"       # hard-delete marker: a row with it set is removed from the table
CURSOR = "updated_at"
_PARQUET_LOADS = ("duckdb", "motherduck")   # load Parquet files: far faster than INSERT statements
_CLOCK_MARGIN = timedelta(days=1)  # the end of the updated_at range: a slow local clock hides nothing


def table_name(report: str | Report) -> str:
    """``"Change Orders Requests"`` -> ``"change_orders_requests"``."""
    name = report.name if isinstance(report, Report) else find_report(report).name
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def column_name(column: str) -> str:
    """A sheet column as a warehouse column: ``assignee.name`` -> ``assignee_name``,
    ``Due Date (2)`` -> ``due_date_2``."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", column).strip("_").lower()
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


def incremental(report: Report) -> bool:
    """True when the report's rows are its endpoint's records and the reference documents
    ``filters[updated_at]`` for that endpoint (a delta, then a ``Total`` check, per project)."""
    if report.each or report.dates or report.tree or report.limit or report.default_sub_report \
            or not report.endpoint.paged:
        return False
    return refreshes_incrementally(report.endpoint.path)


# ---------------------------------------------------------------------------------------------
# What one sync did

@dataclass
class SyncStats:
    """Counters every resource of one sync adds to (thread-safe)."""
    loads: int = 0                                     # resources planned
    done: int = 0                                      # resources finished
    rows: dict[str, int] = field(default_factory=dict)           # table -> rows sent to dlt
    deleted: dict[str, int] = field(default_factory=dict)        # table -> records found deleted
    markers: dict[str, int] = field(default_factory=dict)        # table -> deletion markers sent
    failures: list[tuple[str, str]] = field(default_factory=list)  # (report, reason)
    warnings: list[str] = field(default_factory=list)
    no_access: dict[Any, tuple[str, list[str]]] = field(default_factory=dict)  # project -> (reason, reports)
    progress: Callable[["SyncStats"], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def finished(self, table: str, rows: int, deleted: int = 0, markers: int = 0) -> None:
        with self._lock:
            self.done += 1
            self.rows[table] = self.rows.get(table, 0) + rows
            self.deleted[table] = self.deleted.get(table, 0) + deleted
            self.markers[table] = self.markers.get(table, 0) + markers
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
    """``procore-xl sync``'s result: rows loaded per table, deletions, requests, seconds, failures."""
    destination: str
    dataset: str
    tables: dict[str, int]                 # table -> rows loaded this sync (dlt's normalize counts)
    deleted: dict[str, int]
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
    """One report for one project (or the company): run it through the product's runner, turn its
    frame into warehouse rows, find what was deleted."""

    def __init__(self, service, report: Report, params: dict[str, Any], stats: SyncStats, *,
                 project: Project | None = None, sub: SubList | None = None, full: bool = False,
                 replace: bool = False):
        self.service, self.report, self.params, self.stats = service, report, params, stats
        self.project, self.sub = project, sub
        self.full = full or replace
        self.replace = replace          # the table is rewritten whole: no deletion markers
        self.table = table_name(report) + (f"_{sub.name}" if sub else "")
        self.key = primary_key(report, sub)
        self.incremental = sub is None and incremental(report)
        # read in full, the rows of one project (and log date) replace that slice of the table
        self.slice = () if self.incremental or project is None else \
            ("project_id", "date") if report.dates and sub is None else ("project_id",)

    @property
    def name(self) -> str:
        """The dlt resource name: the table, plus the project for a project report."""
        return f"{self.table}_{self.project.id}" if self.project is not None else self.table

    @property
    def what(self) -> str:
        where = f" in project {self.project.name} ({self.project.id})" if self.project is not None else ""
        return f"{self.report.name}" + (f" ({self.sub.label or self.sub.name})" if self.sub else "") + where

    def rows(self, state: dict, since: datetime | None) -> list[dict]:
        """The rows to hand to dlt, deletion markers last; updates ``state``. A report that fails
        gives nothing and keeps its state, so the next sync starts from the same place."""
        try:
            rows, markers, deleted = self._incremental_rows(state, since) if self.incremental \
                else self._slice_rows(state)
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
        self.stats.finished(self.table, len(rows), deleted, len(markers))
        return rows, markers

    def _incremental_rows(self, state: dict, since: datetime | None) -> tuple[list[dict], list[dict], int]:
        """The records updated since the cursor, checked against ``Total``; else every record,
        with a marker for each key loaded before and gone now. The keys live in ``state``."""
        known = {tuple(k) for k in state["keys"]} if "keys" in state else None
        if since is not None and known is not None and not self.full and len(known) >= self._page_size():
            result = self._run(filters={CURSOR: _time_range(since)})
            delta = self._frame_rows(result)
            merged = known | {self._key_of(r) for r in delta}
            if self._total(result.params["company_id"]) == len(merged):
                state["keys"] = sorted(merged, key=repr)
                return delta, [], 0
        rows = self._frame_rows(self._run())
        current = {self._key_of(r) for r in rows}
        state["keys"] = sorted(current, key=repr)
        gone = sorted(known - current, key=repr) if known is not None and not self.replace else []
        if since is not None and known is not None:
            # a full read writes the rows new to the table (whatever their updated_at: moved in,
            # restored) and those updated since the cursor; the unchanged ones stay out
            rows = [r for r in rows if self._key_of(r) not in known or _at_or_after(r.get(CURSOR), since)]
        return rows, [{**dict(zip(self.key, k)), DELETED: True} for k in gone], len(gone)

    def _slice_rows(self, state: dict) -> tuple[list[dict], list[dict], int]:
        """Every row: dlt replaces the project's slice of the table with them (``merge_key``).
        A slice that held rows last time and has none now gets a marker that empties it."""
        result = self._run()
        rows = self._frame_rows(result)
        if not self.slice or self.replace:
            return rows, [], 0
        filled = {tuple(_slice_text(r.get(c)) for c in self.slice) for r in rows}
        before = {tuple(s) for s in state.get("slices", [])}
        covered = before
        if self.report.dates:                  # (project, day): only the days this run covered
            start, end = _window(result)
            covered = {s for s in before if start <= s[1] <= end}
        state["slices"] = sorted((before - covered) | filled)
        return rows, [self._marker(dict(zip(self.slice, s))) for s in sorted(covered - filled)], 0

    def _marker(self, slice_values: Mapping[str, Any]) -> dict:
        """A row that empties one slice: its merge key is the slice; dlt drops it (``hard_delete``)."""
        filler = {c: 0 if c == "id" or c.endswith("_id") else "" for c in self.key}
        values = {c: datetime.fromisoformat(v).replace(tzinfo=timezone.utc) if c == "date" else v
                  for c, v in slice_values.items()}
        return {**filler, **values, DELETED: True}

    def _run(self, filters: Mapping[str, str] | None = None) -> ReportResult:
        params = dict(self.params)
        if self.project is not None:
            params["project"] = self.project.id
        if self.sub is not None:
            params["sub_report"] = self.sub.name
        result = run_report(self.service.client, self.report, params, discovery=self.service.discovery,
                            filters=filters, records=drop_records)     # rows come from the table
        for warning in result.warnings:
            self.stats.warn(f"{self.what}: {warning}")
        return result

    def _page_size(self) -> int:
        """Rows in one page of the endpoint. A list that fitted in one page is read again whole:
        one request, where the changes and the ``Total`` check would take two (dlt's incremental
        cursor still keeps the unchanged rows out of the load)."""
        return page_size_for(self.report.endpoint.path, self.service.client.per_page)

    def _total(self, company_id: int) -> int | None:
        """Records the report's endpoint holds for the project now (one ``per_page=1`` request)."""
        ctx = {"company_id": company_id, "by_status": BY_STATUS[self.params.get("project_filter", "active")]}
        if self.project is not None:
            ctx["project_id"] = self.project.id
        path, query = self.report.endpoint.render(ctx)
        company_header = company_id if self.report.endpoint.company_header else None
        return self.service.client.count(path, query, company_id=company_header)

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


def _time_range(since: datetime) -> str:
    """``filters[updated_at]`` from ``since`` (rounded down to the second) to a day past now."""
    start = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
    return f"{iso_time(start)}...{iso_time(datetime.now(timezone.utc) + _CLOCK_MARGIN)}"


def _window(result: ReportResult) -> tuple[str, str]:
    """The dates a daily-log run covered, as ISO text."""
    p = result.params
    return (p["report_date"], p["report_date"]) if "report_date" in p else (p["start_date"], p["end_date"])


def _at_or_after(value: Any, since: datetime) -> bool:
    """True for a missing cursor value too: a record without ``updated_at`` is always written."""
    if not isinstance(value, datetime):
        return True
    since = since if since.tzinfo else since.replace(tzinfo=timezone.utc)
    return value >= since


def _slice_text(value: Any) -> Any:
    """A slice value as JSON-able state (a log date as ISO text)."""
    return value.date().isoformat() if isinstance(value, datetime) else value


# ---------------------------------------------------------------------------------------------
# The source

def _resource(load: _Load):
    if load.incremental and not load.full:
        def rows(updated_at=dlt.sources.incremental(CURSOR, on_cursor_value_missing="include")):
            since = updated_at.start_value
            # the cursor's own filter would drop a record new to the table whose updated_at is
            # older than the cursor; _Load chooses the rows itself (changes, or new and updated)
            updated_at.start_value = None
            yield from _items(load, since)
    else:
        def rows():
            yield from _items(load, None)
    whole_table = load.replace or (not load.incremental and not load.slice)
    return dlt.resource(rows, name=load.name, table_name=load.table,
                        write_disposition="replace" if whole_table else "merge",
                        primary_key=load.key, merge_key=list(load.slice) or None, parallelized=True)


def _items(load: _Load, since: datetime | None) -> Iterator[Any]:
    """The rows, then the deletion markers with the ``hard_delete`` hint on their column (declared
    only when needed, so the marker column comes last in a table, after the data)."""
    rows, markers = load.rows(dlt.current.resource_state(), since)
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


def _reports(reports: str | Iterable[str]) -> list[Report]:
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
    report in full, ignoring the incremental cursors. ``replace``: rewrite every table whole
    (destinations that cannot merge, such as Parquet files: sync every project there).
    ``sub_reports``: also every sub-report as its own table. ``stats``: counters to follow
    progress and collect failures.
    """
    if service is None:
        from .service import ProcoreService
        service = ProcoreService()
    stats = stats if stats is not None else SyncStats()
    chosen = _reports(reports)
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

    @dlt.source(name=PIPELINE_NAME, max_table_nesting=0)
    def procore():
        return [_resource(load) for load in loads]

    return procore()


# ---------------------------------------------------------------------------------------------
# `procore-xl sync`

def _load_error(exc: DltException, destination: str) -> ProcoreError:
    """dlt's failure as one line a person can act on (dlt's own text runs over many lines)."""
    if isinstance(exc, UnknownDestinationModule):
        return ConfigurationError(f'Unknown dlt destination "{destination}" - use duckdb, motherduck, postgres, '
                                  f"snowflake, bigquery, databricks, mssql, clickhouse, filesystem... "
                                  f"(https://dlthub.com/docs/dlt-ecosystem/destinations/)")
    cause = getattr(exc, "exception", None) or exc
    first = next((line.strip() for line in str(cause).splitlines() if line.strip()), type(cause).__name__)
    if isinstance(cause, ConfigFieldMissingException):
        return ConfigurationError(f"{destination} is not configured: {first} - set it in .dlt/secrets.toml "
                                  f"(or .dlt/config.toml) or DESTINATION__{destination.upper()}__... "
                                  f"environment variables")
    return ProcoreError(f"dlt could not load into {destination}: {first}")


def sync(service, company: Any, *, projects: Any = ALL, reports: str | Iterable[str] = ALL,
         project_filter: str = "active", destination: str = "duckdb", dataset: str = DEFAULT_DATASET,
         full: bool = False, sub_reports: bool = False, pipelines_dir: str | None = None,
         progress: Callable[[SyncStats], None] | None = None, **params: Any) -> SyncSummary:
    """Load the reports into ``destination`` (a dlt destination name; credentials from dlt's own
    configuration: environment variables or ``.dlt/secrets.toml``) with the pipeline ``procore``."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")   # no usage reports to dltHub
    started = time.perf_counter()
    before = service.client.stats.snapshot()["requests"]
    stats = SyncStats(progress=progress)
    files = destination == "filesystem"      # plain Parquet files: dlt cannot merge into them
    source = procore_source(company, projects, reports, project_filter, service=service,
                            sub_reports=sub_reports, full=full, replace=files, stats=stats, **params)
    try:
        pipeline = dlt.pipeline(pipeline_name=PIPELINE_NAME, destination=destination, dataset_name=dataset,
                                pipelines_dir=pipelines_dir)
        pipeline.run(source, loader_file_format="parquet" if files or destination in _PARQUET_LOADS else None)
    except DltException as exc:
        raise _load_error(exc, destination) from None
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace.last_normalize_info \
        else {}
    # dlt counts the deletion markers among the rows it normalized
    tables = {t: n - stats.markers.get(t, 0) for t, n in counts.items() if not t.startswith("_dlt")}
    for table in stats.rows:
        tables.setdefault(table, 0)
    return SyncSummary(destination=destination, dataset=dataset, tables=dict(sorted(tables.items())),
                       deleted={t: n for t, n in sorted(stats.deleted.items()) if n},
                       requests=service.client.stats.snapshot()["requests"] - before,
                       seconds=time.perf_counter() - started, failures=stats.failures,
                       warnings=stats.all_warnings())
