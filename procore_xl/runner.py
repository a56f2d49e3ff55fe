"""One generic runner for every report of the catalog.

``run_report(client, report, params)``: resolve the parameters, pick the project(s), expand the
report's parents (:class:`~procore_xl.catalog.Each`), send dates (chunked), walk trees, fetch
sub-lists, flatten to a DataFrame. Nothing here knows a report by name.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

import pandas as pd

from .catalog import ALL_PROJECTS, CUSTOM_FIELD_DEFINITIONS, LISTS, PROJECT, Endpoint, Report, find_report
from .discovery import BY_STATUS, Discovery, extract_records, make_choices
from .errors import NotFoundError, ParameterError, PermissionDeniedError, ProcoreError
from .flatten import explode, parent_columns, singular, to_frame
from .parameters import Resolved, date_chunks, resolve, select

PROJECT_WORKERS = 4     # projects fetched at once (the client bounds in-flight requests anyway)
FANOUT_WORKERS = 8      # parent records / sub-list fetches at once within one project


@dataclass
class ReportResult:
    """A report run: the table, the records it came from, and what it cost."""
    report: str
    params: dict[str, Any]          # resolved, display form (labels and ids)
    frame: pd.DataFrame             # clean columns, one row per record or sub-list element
    requests: int                   # HTTP requests this run made
    seconds: float
    warnings: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list, repr=False)   # the records as Procore sent them


def _requests(client) -> int:
    try:
        return int(client.stats.snapshot().get("requests", 0))
    except AttributeError:
        return 0


def run_report(client, report: str | Report, params: Mapping[str, Any] | None = None, *,
               discovery: Discovery | None = None, today: date | None = None,
               filters: Mapping[str, str] | None = None) -> ReportResult:
    """Run ``report``. ``filters``: Procore list filters added to every request of the report's own
    endpoint (``{"updated_at": "2026-01-01T00:00:00Z...2026-01-02T00:00:00Z"}`` sends
    ``filters[updated_at]=...``), e.g. only the records updated since a time; the caller sends
    only filters the reference documents for that endpoint."""
    t0 = time.perf_counter()
    before = _requests(client)
    rep = find_report(report) if not isinstance(report, Report) else report
    disc = discovery or Discovery(client)
    res = resolve(rep, params or {}, disc, today=today)
    run = _Run(client, rep, res, disc, filters)
    rows = run.rows()
    lead = ["project."] + [f"{e.prefix}." for e in rep.each]
    if res.sub_list:
        lead += [f"{rep.entity}."] + [f"{p}." for p in _levels(res.sub_list.path)]
    keys = rep.keys if not res.sub_list else res.sub_list.keys
    order = rep.order if not res.sub_list else ()
    frame = to_frame(rows, lead=lead, keys=keys, order=order, custom_labels=run.custom_labels(rows))
    return ReportResult(report=rep.name, params=res.display, frame=frame,
                        requests=_requests(client) - before, seconds=time.perf_counter() - t0,
                        warnings=run.warnings, records=rows)


def _levels(path: str) -> list[str]:
    return [singular(p) for p in path.split(".")[:-1]] if path else []


class _Run:
    def __init__(self, client, rep: Report, res: Resolved, disc: Discovery,
                 filters: Mapping[str, str] | None = None):
        self.client, self.rep, self.res, self.disc = client, rep, res, disc
        self.filters = {f"filters[{name}]": value for name, value in (filters or {}).items()}
        self.warnings: list[str] = []
        self.base = {"by_status": BY_STATUS[res.project_filter]}
        if res.company:
            self.base["company_id"] = res.company.id

    # -- top level -----------------------------------------------------------------------------
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
                    nxt.append(({**c, each.placeholder: self.res.contract_id},
                                {**ld, f"{each.prefix}.id": self.res.contract_id}))
                    continue
                recs = self.disc.records(each.source, **c)
                if each.parameter:
                    where = f"in project {c['project_id']}" if "project_id" in c else \
                        f"in company {c.get('company_id')}"
                    chosen = select(each.parameter, self.res.parents[each.parameter],
                                    make_choices(recs, LISTS[each.source]), where=where)
                    ids = {str(ch.id) for ch in chosen}
                    recs = [r for r in recs if str(r.get("id")) in ids]
                for r in recs:
                    nxt.append(({**c, each.placeholder: r.get(each.field)},
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

    def _get(self, ep: Endpoint, ctx: dict, extra: Mapping[str, Any] | None = None) -> list[dict]:
        path, query = ep.render(ctx)
        query.update(extra or {})
        company = ctx.get("company_id") if ep.company_header else None
        body = self.client.get_all(path, query, company_id=company) if ep.paged \
            else self.client.get(path, query, company_id=company)
        return extract_records(body, ep)

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
                for r in self._get(ep, ctx, {**q, **self.filters}):
                    key = r.get("id")
                    if key is not None and key in seen:
                        continue
                    seen.add(key)
                    recs.append(r)
        elif rep.limit:
            recs = self._first_n(ep, ctx, res.limit)
        else:
            recs = self._get(ep, ctx, self.filters)
        return [{**lead, **r} for r in recs]

    def _first_n(self, ep: Endpoint, ctx: dict, n: int) -> list[dict]:
        """The first ``n`` records of a sorted list (not the whole list)."""
        path, query = ep.render(ctx)
        company = ctx.get("company_id") if ep.company_header else None
        return extract_records(self.client.get_first(path, n, query, company_id=company), ep)

    def _walk_tree(self, roots: list[dict], ctx: dict) -> list[dict]:
        tree = self.rep.tree
        out: list[dict] = []
        level = roots
        while level:
            nxt_ids = []
            for rec in level:
                children = rec.get(tree.children) or []
                nxt_ids += [(c["id"], {k: v for k, v in rec.items() if "." in k})
                            for c in children if isinstance(c, dict) and c.get("id") is not None]
                out.append({k: v for k, v in rec.items() if k != tree.children})

            def fetch(item):
                cid, lead = item
                return [{**lead, **r} for r in self._get(tree.fetch, {**ctx, "id": cid})]

            with ThreadPoolExecutor(max_workers=max(1, min(FANOUT_WORKERS, len(nxt_ids)))) as pool:
                level = [r for batch in pool.map(fetch, nxt_ids) for r in batch] if nxt_ids else []
        return out

    def _sub_rows(self, records: list[dict], ctx: dict) -> list[dict]:
        sub = self.res.sub_list
        if sub is None:
            return records
        rep = self.rep
        if sub.fetch is None:
            return explode(records, sub.path, entity=rep.entity, keys=rep.keys)

        def one(rec: dict) -> list[dict]:
            fetched = self._get(sub.fetch, {**ctx, "id": rec.get("id")})
            if not sub.path:
                carried = {k: v for k, v in rec.items() if "." in k}
                carried.update(parent_columns(rec, rep.entity, rep.keys))
                return [{**carried, **e} for e in fetched]
            lead = {k: v for k, v in rec.items() if "." in k}
            return explode([{**lead, **d} for d in fetched], sub.path, entity=rep.entity, keys=rep.keys)

        with ThreadPoolExecutor(max_workers=max(1, min(FANOUT_WORKERS, len(records)))) as pool:
            return [r for batch in pool.map(one, records) for r in batch] if records else []

    # -- custom fields -------------------------------------------------------------------------
    def custom_labels(self, rows: list[dict]) -> dict[str, str]:
        if not self.res.company or not any(r.get("custom_fields") for r in rows):
            return {}

        def fetch() -> dict[str, str]:
            try:
                defs = self._get(CUSTOM_FIELD_DEFINITIONS, dict(self.base))
            except (NotFoundError, PermissionDeniedError):
                return {}     # only company admins may read definitions: columns keep their ids
            except ProcoreError as e:
                self.warnings.append(f"Custom field names unavailable ({e}); columns keep their ids")
                return {}
            return {str(d["id"]): str(d.get("label") or d.get("name")) for d in defs
                    if d.get("id") is not None and (d.get("label") or d.get("name"))}

        return self.disc.cached(("custom_field_definitions", self.res.company.id), fetch)
