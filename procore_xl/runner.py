"""One generic runner for every report of the catalog.

``run_report(client, report, params)``: resolve the parameters, pick the project(s), expand the
report's parents (:class:`~procore_xl.catalog.Each`), send dates (chunked), walk trees, fetch
sub-lists, flatten to a DataFrame. Nothing here knows a report by name, nor how an endpoint is
called: every request goes through :class:`~procore_xl.fetch.Fetch`.
"""
from __future__ import annotations

import collections.abc
import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterator, Mapping

from .api_client import ApiClient
from .catalog import ALL_PROJECTS, CUSTOM_FIELD_DEFINITIONS, LISTS, PROJECT, Endpoint, Paging, Report, find_report
from .discovery import BY_STATUS, Discovery, make_choices
from .errors import NotFoundError, ParameterError, PermissionDeniedError, ProcoreError
from .fetch import PARENT_VERSION, SHARED_MAX_AGE, Fetch
from .flatten import FrameBuilder, Table, explode, parent_columns, singular
from .lazy_pandas import pd, prewarm
from .parameters import ALL, Resolved, date_chunks, is_blank, resolve, select

PROJECT_WORKERS = 4     # projects fetched at once (the client bounds in-flight requests anyway)
FANOUT_WORKERS = 8      # parent records / sub-list fetches at once within one project


@dataclass
class ReportResult:
    """A report run: the table, the records it came from, and what it cost."""
    report: str
    params: dict[str, Any]          # resolved, display form (labels and ids)
    table: Table                    # clean columns, one row per record or sub-list element (a
                                    # DataFrame given here is taken as the table)
    requests: int                   # HTTP requests this run made
    seconds: float
    warnings: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list, repr=False)   # the records as Procore sent them
    refresh: str = ""               # through the record store: "full" or "incremental: 3 changed, ..."
    rate_limit: str = ""            # Procore's budget left after the run: "3,581 of 3,600 requests left until 17:00"
    changed: int = 0                # through the record store: records new or changed since the stored copy
    deleted: int = 0                # ... and stored records Procore no longer lists

    def __post_init__(self) -> None:
        if not isinstance(self.table, Table):      # a DataFrame (without asking pandas: a CSV needs none)
            self.table = Table.of(self.table)

    @property
    def frame(self) -> pd.DataFrame:
        """The whole table as a DataFrame (made on first use; a streamed output reads
        ``table.blocks()`` instead and never holds it)."""
        return self.table.frame()


def drop_records(records: list[dict]) -> None:
    """An ``on_records`` sink for :func:`run_report` that keeps nothing (the table is all that is needed)."""


_collector_lock = threading.Lock()
_collector_users = 0
_collector_before: tuple[int, int, int] = (700, 10, 10)
COLLECT_EVERY = 200_000       # allocations between the cycle collector's passes during a run (Python's: 700)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector run rarely while a run's records are decoded, flattened and
    written (also a decorator): every :data:`COLLECT_EVERY` allocations instead of 700. JSON makes
    trees, freed as soon as their last reference goes: with pages of them alive, the collector's
    frequent passes over them found nothing and cost about a fifth of a pull's CPU; rare passes
    still free what does hold a cycle (pandas' temporaries). The first run in makes the change,
    the last one out puts the threshold back (runs on several threads share the setting)."""
    global _collector_users, _collector_before
    with _collector_lock:
        if not _collector_users:
            _collector_before = gc.get_threshold()
            gc.set_threshold(max(COLLECT_EVERY, _collector_before[0]), *_collector_before[1:])
        _collector_users += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_users -= 1
            if not _collector_users:
                gc.set_threshold(*_collector_before)


def check_report(report: str | Report, params: Mapping[str, Any] | None = None, *,
                 today: date | None = None) -> Report:
    """The report named, after the checks of ``params`` that need no Procore (unknown or
    repeated names, what the report takes and requires, choices, numbers, dates): each surface
    makes them before it signs in or sends a request, so that a mistyped name is what a person
    hears about first. A company and a project are looked up by the run (here any stands in)."""
    rep = find_report(report) if not isinstance(report, Report) else report
    given = {**(params or {}), "company": 1}
    if not is_blank(given.get("project")) and str(given["project"]).strip().casefold() != ALL:
        given["project"] = 1
    resolve(rep, given, None, today=today, later=[])
    return rep


@collector_paused()
def run_report(client: ApiClient, report: str | Report, params: Mapping[str, Any] | None = None, *,
               discovery: Discovery | None = None, today: date | None = None,
               on_records: Callable[[list[dict]], None] | None = None) -> ReportResult:
    """Run one report. The records are flattened batch by batch as they arrive (a page at a time
    for a plain paged list), so memory holds the table and a page, not every record twice.
    ``on_records``: called with each batch of records as Procore sent them, in report order (the
    JSON output streams them to its file); without it they are kept on ``result.records``."""
    t0 = time.perf_counter()
    before = client.stats.requests
    rep = find_report(report) if not isinstance(report, Report) else report
    disc = discovery or Discovery(client)
    checks: list[Callable[[], None]] = []      # a company and a project given as ids: named meanwhile
    res = resolve(rep, params or {}, disc, today=today, later=checks)
    run = _Run(client, rep, res, disc)
    prewarm()                   # the table needs pandas: imported while the first requests are answered
    builder = FrameBuilder(custom_labels=run.custom_labels)
    kept: list[dict] = []
    with _Meanwhile(checks) as names:
        for batch in run.batches():
            builder.add(batch)
            if on_records is not None:
                on_records(batch)
            else:
                kept.extend(batch)
        names.wait()
    lead = ["project."] + [f"{e.prefix}." for e in rep.each]
    if res.sub_list:
        lead += [f"{rep.entity}."] + [f"{p}." for p in _levels(res.sub_list.path)]
    keys = rep.keys if not res.sub_list else res.sub_list.keys
    order = rep.order if not res.sub_list else ()
    table = builder.table(lead=lead, keys=keys, order=order)
    requests = client.stats.requests - before
    tally = client.tally          # through the record store: what came from it
    return ReportResult(report=rep.name, params=res.display, table=table,
                        requests=requests, seconds=time.perf_counter() - t0,
                        warnings=run.warnings, records=kept, refresh=tally.describe(requests) if tally else "",
                        changed=tally.changed if tally else 0, deleted=tally.deleted if tally else 0,
                        rate_limit=client.budget.left() or "")


class _Meanwhile:
    """Functions run in a thread of their own while the report's data is fetched (the checks that
    a company and a project given as ids exist, which also name them: two list requests that
    need not come before the first page). A failure of the data (say a 404 for a project id that
    does not exist) gives way to the checks' clearer ParameterError; :meth:`wait` raises theirs."""

    def __init__(self, functions: list[Callable[[], None]]):
        self._thread = None
        self._error: BaseException | None = None
        if functions:
            def run_all() -> None:
                try:
                    for fn in functions:
                        fn()
                except BaseException as exc:   # noqa: BLE001 - raised again in the run's thread
                    self._error = exc
            self._thread = threading.Thread(target=run_all, name="procore-xl-names", daemon=True)
            self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __enter__(self) -> _Meanwhile:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and issubclass(exc_type, ProcoreError):
            try:
                self.wait()
            except ParameterError as names_error:
                raise names_error from exc
            except ProcoreError:
                pass                        # the data's own error says more


def _version(ctx: Mapping[str, Any], parent: Mapping[str, Any]) -> str | None:
    """The version of a parent's children: its ``updated_at`` (after those of outer parents);
    None when a parent has none (its children are then always fetched)."""
    outer, own = ctx.get(PARENT_VERSION, ""), parent.get("updated_at")
    if outer is None or own is None:
        return None
    return f"{outer}|{own}" if outer else str(own)


def _levels(path: str) -> list[str]:
    return [singular(p) for p in path.split(".")[:-1]] if path else []


class _Run:
    def __init__(self, client: ApiClient, rep: Report, res: Resolved, disc: Discovery):
        self.client, self.rep, self.res, self.disc = client, rep, res, disc
        self.warnings: list[str] = []
        self.fetch = Fetch(client, shared=lambda key, fetch: disc.cached(key, fetch, max_age=SHARED_MAX_AGE))
        # with the record store, parent lists go through it too (only changed parents are re-read)
        self.parent_lists = Discovery(client) if client.stores_records else disc
        self.base = {"by_status": BY_STATUS[res.project_filter]}
        if res.company:
            self.base["company_id"] = res.company.id

    # -- top level -----------------------------------------------------------------------------
    def batches(self) -> Iterator[list[dict]]:
        """The report's rows in order: page by page when the report is one plain paged list of
        one project or the company (nothing combines its pages), else in one batch (:meth:`rows`)."""
        rep, res = self.rep, self.res
        ep = rep.endpoint
        page_by_page = (ep.paging is Paging.LIST and not rep.each and not rep.tree and res.sub_list is None
                        and not rep.dates and not rep.limit and not rep.newest_by
                        and not (rep.scope in (PROJECT, ALL_PROJECTS) and res.all_projects))
        if not page_by_page:
            yield self.rows()
            return
        ctx = {**self.base, "project_id": res.project.id} if rep.scope in (PROJECT, ALL_PROJECTS) \
            else dict(self.base)
        yield from self.fetch.pages(ep, ctx)

    def rows(self) -> list[dict]:
        rep, res = self.rep, self.res
        if rep.scope not in (PROJECT, ALL_PROJECTS):
            return self._rows_in(dict(self.base), {})
        if not res.all_projects:
            return self._rows_in({**self.base, "project_id": res.project.id}, {})
        projects = self.disc.records("projects", company_id=res.company.id,
                                     project_filter=res.project_filter)
        projects = sorted(projects, key=lambda p: (str(p.get("name") or "").casefold(), str(p["id"])))

        def one(p: dict):
            lead = {"project.id": p["id"], "project.name": p.get("name")}
            try:
                return self._rows_in({**self.base, "project_id": p["id"]}, lead), None
            except (NotFoundError, PermissionDeniedError) as e:
                return [], f'Skipped project "{p.get("name")}" ({p["id"]}): no access ({e})'
            except ParameterError as e:
                return e, f'Skipped project "{p.get("name")}" ({p["id"]}): {e}'

        out: list[dict] = []
        param_errors = []
        with ThreadPoolExecutor(max_workers=max(1, min(PROJECT_WORKERS, len(projects)))) as pool:
            for rows, warning in pool.map(one, projects):
                if isinstance(rows, ParameterError):
                    param_errors.append(rows)
                    rows = []
                if warning:
                    self.warnings.append(warning)
                out.extend(rows)
        if projects and len(param_errors) == len(projects):
            raise param_errors[0]
        return out

    # -- one project (or the company) ------------------------------------------------------------
    def _rows_in(self, ctx: dict, lead: dict) -> list[dict]:
        contexts = self._expand_parents(ctx, lead)
        rep = self.rep
        with ThreadPoolExecutor(max_workers=max(1, min(FANOUT_WORKERS, len(contexts)))) as pool:
            results = list(pool.map(lambda cl: self._records_of_parent(*cl), contexts)) if contexts else []
        missing = [exc for _, exc in results if exc is not None]
        if missing and len(missing) == len(results):
            raise missing[0]               # nothing readable at all: say so, not an empty sheet
        self.warnings.extend(f"Skipped {exc}" for exc in missing)
        batches = [records for records, _ in results]
        records = [r for b in batches for r in b]
        if rep.tree:
            records = self._walk_tree(records, ctx)
        return self._sub_rows(records, ctx)

    def _expand_parents(self, ctx: dict, lead: dict) -> list[tuple[dict, dict]]:
        """One (context, leading columns) per combination of parent records."""
        contexts = [(ctx, lead)]
        for each in self.rep.each:
            nxt = []
            for c, ld in contexts:
                if each.parameter == "contract" and self.res.contract_id is not None:
                    nxt.append(({**c, each.placeholder: self.res.contract_id, PARENT_VERSION: None},
                                {**ld, f"{each.prefix}.id": self.res.contract_id}))
                    continue
                recs = self.parent_lists.records(each.source, **{k: v for k, v in c.items() if k != PARENT_VERSION})
                if each.parameter:
                    where = f"in project {c['project_id']}" if "project_id" in c else \
                        f"in company {c.get('company_id')}"
                    chosen = select(each.parameter, self.res.parents[each.parameter],
                                    make_choices(recs, LISTS[each.source]), where=where)
                    ids = {str(ch.id) for ch in chosen}
                    recs = [r for r in recs if str(r.get("id")) in ids]
                for r in recs:
                    nxt.append(({**c, each.placeholder: r.get(each.field), PARENT_VERSION: _version(c, r)},
                                {**ld, **parent_columns(r, each.prefix, each.keys)}))
            contexts = nxt
        return contexts

    def _records_of_parent(self, ctx: dict, lead: dict) -> tuple[list[dict], NotFoundError | None]:
        """One parent's records (an RFI's replies...). A parent deleted or hidden since the parent
        list was read (404) is skipped with a warning instead of failing the whole report."""
        try:
            return self._records(ctx, lead), None
        except NotFoundError as exc:
            if not self.rep.each:
                raise
            return [], exc

    def _records(self, ctx: dict, lead: dict) -> list[dict]:
        rep, res = self.rep, self.res
        ep = rep.endpoint
        if rep.dates:
            start, end = res.dates
            seen: set = set()
            recs = []
            if res.single_date:
                queries = [{rep.dates.single: start.isoformat()}]
            else:
                queries = [{rep.dates.start: a.isoformat(), rep.dates.end: b.isoformat()}
                           for a, b in date_chunks(start, end, rep.dates.chunk_days)]
            for q in queries:
                for r in self.fetch.records(ep, ctx, q):
                    key = r.get("id")
                    if key is not None and key in seen:
                        continue
                    seen.add(key)
                    recs.append(r)
        elif rep.limit:
            recs = self._newest(ep, ctx, res.limit)
        else:
            recs = self.fetch.records(ep, ctx)
        return [{**lead, **r} for r in recs]

    def _newest(self, ep: Endpoint, ctx: dict, n: int) -> list[dict]:
        """The ``n`` records newest by the report's ``newest_by`` field (Procore documents no
        sort on it, so the whole list is read), ties in Procore's order."""
        field_name = self.rep.newest_by
        records = self.fetch.records(ep, ctx)
        dated = sorted((r for r in records if r.get(field_name)), key=lambda r: str(r[field_name]), reverse=True)
        undated = [r for r in records if not r.get(field_name)]
        return (dated + undated)[:n]

    def _walk_tree(self, roots: list[dict], ctx: dict) -> list[dict]:
        tree = self.rep.tree
        out: list[dict] = []
        level = roots
        while level:
            nxt: list[tuple[dict, dict]] = []
            for rec in level:
                children = rec.get(tree.children) or []
                lead = {k: v for k, v in rec.items() if "." in k}
                nxt += [(c, lead) for c in children if isinstance(c, dict) and c.get("id") is not None]
                out.append({k: v for k, v in rec.items() if k != tree.children})

            def fetch(item):
                child, lead = item
                if tree.empty_when_false and child.get(tree.empty_when_false) is False:   # nothing under it
                    return [{**lead, **child, **{name: [] for name in tree.contents}}]
                return [{**lead, **r} for r in self.fetch.records(tree.fetch, {**ctx, "id": child["id"]})]

            with ThreadPoolExecutor(max_workers=max(1, min(FANOUT_WORKERS, len(nxt)))) as pool:
                level = [r for batch in pool.map(fetch, nxt) for r in batch] if nxt else []
        return out

    def _sub_rows(self, records: list[dict], ctx: dict) -> list[dict]:
        sub = self.res.sub_list
        if sub is None:
            return records
        rep = self.rep
        if sub.fetch is None:
            return explode(records, sub.path, entity=rep.entity, keys=rep.keys)

        def one(rec: dict) -> list[dict]:
            fetched = self.fetch.records(sub.fetch, {**ctx, "id": rec.get("id"), PARENT_VERSION: _version(ctx, rec)})
            if not sub.path:
                carried = {k: v for k, v in rec.items() if "." in k}
                carried.update(parent_columns(rec, rep.entity, rep.keys))
                return [{**carried, **e} for e in fetched]
            lead = {k: v for k, v in rec.items() if "." in k}
            return explode([{**lead, **d} for d in fetched], sub.path, entity=rep.entity, keys=rep.keys)

        with ThreadPoolExecutor(max_workers=max(1, min(FANOUT_WORKERS, len(records)))) as pool:
            return [r for batch in pool.map(one, records) for r in batch] if records else []

    # -- custom fields -------------------------------------------------------------------------
    def custom_labels(self) -> dict[str, str]:
        """Custom field definition id -> label (called at the first record with custom fields)."""
        if not self.res.company:
            return {}

        def fetch() -> dict[str, str]:
            try:
                defs = self.fetch.records(CUSTOM_FIELD_DEFINITIONS, dict(self.base))
            except (NotFoundError, PermissionDeniedError):
                return {}     # only company admins may read definitions: columns keep their ids
            # any other failure (after the client's retries) fails the report: columns are never
            # renamed because a request had a bad moment
            return {str(d["id"]): str(d.get("label") or d.get("name")) for d in defs
                    if d.get("id") is not None and (d.get("label") or d.get("name"))}

        # kept between runs for a day, like the discovery lists (read again when older, on a full
        # refresh, on Update dropdowns, and when a record carries a field id they do not know); a
        # label renamed in Procore keeps its id, so its column shows the new name within that day
        key = ("custom_field_definitions", self.res.company.id)
        labels = self.disc.cached(key, fetch, keep=True, fresh=self.disc.fresh_labels)
        if not self.disc.came_from_kept(key):
            return labels
        return _KeptLabels(labels, lambda: self.disc.cached(key, fetch, keep=True, fresh=True))


class _KeptLabels(collections.abc.Mapping):
    """Custom field labels an earlier run kept: a field id not among them (a field defined
    since) has the definitions read again, once. Always true, even when empty (the table
    builder takes a false value for no labels at all)."""

    def __init__(self, labels: Mapping[str, str], fetch: Callable[[], Mapping[str, str]]):
        self._labels, self._fetch = dict(labels), fetch
        self._lock = threading.Lock()

    def __getitem__(self, key: Any) -> str:
        with self._lock:
            if key not in self._labels and self._fetch is not None:
                fetch, self._fetch = self._fetch, None
                self._labels = dict(fetch())
            return self._labels[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)

    def __bool__(self) -> bool:
        return True


