"""Discovery lists: companies, projects, contracts, PCOs, CORs, vendors, drawing areas, meetings,
albums, cost code lists (from Procore, per the catalog's :data:`~procore_xl.catalog.LISTS`) and
the fixed lists sub_reports / project_filter. The same lists fill Excel dropdowns.

``Discovery(client).choices(name, **context)`` -> ``[Choice(label, id)]`` sorted by label
(case-insensitive), labels unique (``"Main St (91002)"`` when two share a name). Results are
cached per Discovery instance (one per run or per service until ``invalidate()``).
Context: ``company_id``, ``project_id``, ``contract_id`` (``company``/``project``/``contract``
are accepted too), ``project_filter`` for projects, ``report`` for sub_reports.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from .api_client import ApiClient
from .catalog import LISTS, REPORTS, Source, find_report
from .errors import BadRequestError, ParameterError, PermissionDeniedError, brief
from .fetch import Fetch
from .parameters import ALL, LIST_OF_PARAM, PROJECT_FILTERS, Choice, as_id, pick, sub_report_choices

FIXED = ("sub_reports", "project_filter")
KEPT_AGE = 24 * 3600.0     # seconds a list kept by an earlier run is used (kept_lists.MAX_AGE)
BY_STATUS = {"active": "Active", "inactive": "Inactive", "all": "All"}


class Discovery:
    """``kept`` (a :class:`~procore_xl.kept_lists.KeptLists`) with ``scope``: lists are kept
    between runs and used while younger than ``kept_age`` seconds (see :meth:`records`);
    ``use_kept=False``: fetched again (and kept) once per Discovery. ``fresh_labels``: the custom
    field labels (column names) are read from Procore once per Discovery, never taken from an
    earlier run (the warehouse, whose column names are its tables' schema)."""

    fresh_labels = False

    def __init__(self, client: ApiClient, *, kept=None, scope=None, kept_age: float | None = None,
                 use_kept: bool = True):
        self.client = client
        self.fetch = Fetch(client)
        self.kept, self.scope = (kept, scope) if kept is not None and scope is not None else (None, None)
        self.kept_age = KEPT_AGE if kept_age is None else kept_age
        self.use_kept = use_kept
        self._cache: dict[tuple, list] = {}
        self._from_kept: set[tuple] = set()     # cached keys whose value came from the kept lists
        self._lock = threading.Lock()

    def cached(self, key: tuple, fetch, *, max_age: float | None = None, keep: bool = False,
               fresh: bool = False):
        """``fetch()`` once per key for the life of this Discovery (e.g. custom field labels), or
        for ``max_age`` seconds (record bodies several reports of one refresh read). ``keep``:
        also kept between runs, as the lists are (a JSON value); ``fresh``: fetched now unless
        this Discovery fetched it already."""
        with self._lock:
            if key in self._cache and not (fresh and key in self._from_kept):
                if max_age is None:
                    return self._cache[key]
                fetched_at, value = self._cache[key]
                if time.monotonic() - fetched_at <= max_age:
                    return value
        if keep and not fresh:
            found = self._kept(key)
            if found is not None:
                return found
        value = fetch()
        with self._lock:
            self._cache[key] = value if max_age is None else (time.monotonic(), value)
            self._from_kept.discard(key)
        if keep and self.kept is not None:
            self.kept.save(self.scope, key, value)
        return value

    def came_from_kept(self, key: tuple) -> bool:
        """Whether the value this Discovery holds for ``key`` was kept by an earlier run (not
        fetched by this one): then a name or id not found in it is worth one fetch."""
        with self._lock:
            return key in self._from_kept

    def _kept(self, key: tuple) -> Any:
        """A kept value young enough (now cached here), or None."""
        if self.kept is None or not self.use_kept:
            return None
        found = self.kept.load(self.scope, key)
        if found is None or found.age > self.kept_age:
            return None
        with self._lock:
            self._cache[key] = found.value
            self._from_kept.add(key)
        return found.value

    def forget_kept(self) -> None:
        """From now on, lists are fetched (once) rather than taken from earlier runs (a full refresh)."""
        with self._lock:
            self.use_kept = False
            for key in self._from_kept:
                self._cache.pop(key, None)
            self._from_kept.clear()

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()
            self._from_kept.clear()

    # -- raw records ---------------------------------------------------------------------------
    def records(self, list_name: str, *, fresh: bool = False, **context: Any) -> list[dict]:
        """The records behind a list (cached; kept between runs, see :meth:`key`). Contracts carry
        ``contract_type`` (prime/commitment). ``fresh``: fetched now unless this Discovery
        fetched it already (a name not found in a kept list)."""
        key, ctx = self._key_and_context(list_name, context)
        with self._lock:
            if key in self._cache and not (fresh and key in self._from_kept):
                return self._cache[key]
        refused_key = ("refused",) + key
        if not fresh:
            found = self._kept(key)
            if found is not None:
                return found
            refused = self._kept(refused_key)     # this sign-in may not read the list (a service account
            if refused is not None:               # and the companies list): no need to ask every run
                error = PermissionDeniedError if refused.get("status") == 403 else BadRequestError
                raise error(str(refused.get("message")), status=refused.get("status"))
        try:
            recs = self._fetch(key[0], LISTS[key[0]], ctx)
        except (PermissionDeniedError, BadRequestError) as exc:
            if self.kept is not None:
                self.kept.save(self.scope, refused_key, {"status": exc.status, "message": str(exc)})
            raise
        with self._lock:
            self._cache[key] = recs
            self._from_kept.discard(key)
        if self.kept is not None:
            self.kept.save(self.scope, key, recs)
        return recs

    def key(self, list_name: str, **context: Any) -> tuple:
        """The cache key of a list: its name and the context values it depends on."""
        return self._key_and_context(list_name, context)[0]

    def _key_and_context(self, list_name: str, context: dict) -> tuple[tuple, dict]:
        list_name = LIST_OF_PARAM.get(list_name, list_name)
        source = LISTS.get(list_name)
        if source is None:
            raise ParameterError(f'Unknown list "{list_name}" - choose one of: '
                                 + ", ".join(sorted(LISTS) + list(FIXED) + ["reports"]), parameter="list")
        project_filter = project_filter_of(context.get("project_filter"))    # before the names are looked up
        ctx = self._context(context)
        needed = set().union(*(e.placeholders for e in source.endpoints))
        ctx["project_filter"] = project_filter          # as _fetch reads it: " Active " kept nothing
        ctx["by_status"] = BY_STATUS[project_filter]
        if list_name == "projects":
            needed.add("project_filter")
        missing = needed - set(ctx)
        if missing:
            raise _needs(list_name, missing)
        return (list_name,) + tuple(sorted((k, str(ctx[k])) for k in needed)), ctx

    def _fetch(self, list_name: str, source: Source, ctx: dict) -> list[dict]:
        out: list[dict] = []
        for ep in source.endpoints:
            recs = self.fetch.records(ep, ctx)
            if list_name == "contracts":
                kind = "prime" if "prime_contracts" in ep.path else "commitment"
                recs = [{**r, "contract_type": r.get("contract_type") or kind} for r in recs]
            out.extend(recs)
        if list_name == "projects":
            pf = str(ctx["project_filter"]).casefold()
            if pf != "all":   # the API filters by status already; keep it exact if it did not
                want = pf == "active"
                out = [r for r in out if bool(r.get("active", want)) == want]
        return out

    # -- context -------------------------------------------------------------------------------
    def _context(self, context: dict) -> dict:
        """``company``/``project``/``contract`` given as a name, label, id or Choice -> ``*_id``."""
        ctx: dict[str, Any] = {}
        for k, v in context.items():
            if isinstance(v, Choice):
                v = v.id
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            ctx[k] = v
        for name, lookup in (("company", self._company_choices), ("project", self._project_choices),
                             ("contract", self._contract_choices)):
            if name in ctx:
                value = ctx.pop(name)
                if isinstance(value, str) and value.strip().casefold() == ALL:
                    continue
                ctx[f"{name}_id"] = self._pick(name, value, lookup, ctx)
        return ctx

    def _pick(self, name: str, value: Any, lookup, ctx: dict) -> Any:
        """A name looked up in its list (ambiguous or unknown -> ParameterError); an id as it is,
        except a company id, checked against the companies list when this sign-in can read it."""
        number = as_id(value)
        if number is not None and name != "company":
            return number
        list_name, context, where = lookup(ctx)
        try:
            return pick(self, name, value, list_name, where=where, **context).id
        except (PermissionDeniedError, BadRequestError):
            if number is None:          # a service account cannot list companies: ids only
                raise
            return number

    def _company_choices(self, ctx: dict):
        return "companies", {}, ""

    def _project_choices(self, ctx: dict):
        if "company_id" not in ctx:
            raise ParameterError("Company is required to look up a project by name", parameter="company")
        return "projects", {"company_id": ctx["company_id"], "project_filter": ALL}, f"in company {ctx['company_id']}"

    def _contract_choices(self, ctx: dict):
        if "project_id" not in ctx:
            raise ParameterError("Project is required to look up a contract by name", parameter="project")
        return ("contracts", {"company_id": ctx.get("company_id"), "project_id": ctx["project_id"]},
                f"in project {ctx['project_id']}")

    # -- choices -------------------------------------------------------------------------------
    def choices(self, list_name: str, *, fresh: bool = False, **context: Any) -> list[Choice]:
        """A list as a person picks from it. ``list_name`` forgives case, spaces and the plural
        ("Projects", "project filters"); ``reports`` is the catalog."""
        list_name = list_name_of(list_name)
        fixed = fixed_choices(list_name, **context)
        if fixed is not None:
            return fixed
        source = LISTS.get(list_name)
        recs = self.records(list_name, fresh=fresh, **context)
        return make_choices(recs, source)


def list_name_of(list_name: Any) -> str:
    """The list ``list_name`` names, forgiving case, spaces, the plural and a parameter's name
    ("Projects", "project filters", "contract"); an unknown one is a ParameterError naming the
    lists, raised before any sign-in or request."""
    name = str(list_name if list_name is not None else "").strip().casefold().replace(" ", "_").replace("-", "_")
    name = {"project_filters": "project_filter"}.get(name, name)
    name = LIST_OF_PARAM.get(name, name)
    if name not in LISTS and name not in FIXED and name != "reports":
        raise ParameterError((f'Unknown list "{brief(list_name)}"' if name else "No list named") + " - choose one of: "
                             + ", ".join(sorted(LISTS) + list(FIXED) + ["reports"]), parameter="list")
    return name


def project_filter_of(value: Any) -> str:
    """A projects list's status filter: active, inactive or all, forgiving case and spaces (blank:
    active); anything else is a ParameterError naming the choices, raised before any request."""
    text = "" if value is None else str(value).strip().casefold()
    if not text:
        return "active"
    if text not in BY_STATUS:
        raise ParameterError(f'Unknown project filter "{brief(value)}" - choose one of: ' + ", ".join(BY_STATUS),
                             parameter="project_filter", choices=list(BY_STATUS))
    return text


def _needs(list_name: str, missing: set[str]) -> ParameterError:
    return ParameterError(f"The {list_name} list needs one "
                          + " and one ".join(sorted(m.replace('_id', '') for m in missing))
                          + " (a name or an id, not all)", parameter=sorted(missing)[0].replace("_id", ""))


_SET_BY_THE_LIST = {"project_filter", "by_status"}      # a projects list's status: active unless given


def check_list_context(list_name: str, **context: Any) -> None:
    """A list Procore holds (``list_name`` as :func:`list_name_of` gives it) named with what it
    belongs to - company, project, contract, as a name or an id (``project=`` or ``project_id=``),
    not all - checked before any sign-in or request: the ParameterError :meth:`Discovery.records`
    would raise once signed in, said first."""
    source = LISTS.get(LIST_OF_PARAM.get(list_name, list_name))
    if source is None:
        return
    given = set()
    for name in ("company", "project", "contract"):
        for key in (name, f"{name}_id"):
            value = context.get(key)
            value = value.id if isinstance(value, Choice) else value
            if value is not None and not (isinstance(value, str) and value.strip().casefold() in ("", ALL)):
                given.add(f"{name}_id")
    missing = set().union(*(e.placeholders for e in source.endpoints)) - given - _SET_BY_THE_LIST
    if missing:
        raise _needs(list_name, missing)


def fixed_choices(list_name: str, **context: Any) -> list[Choice] | None:
    """The lists that need no Procore (``project_filter``, ``reports``, ``sub_reports`` of the
    ``report`` in ``context``); None for a list Procore holds."""
    if list_name == "project_filter":
        return [Choice(p, p) for p in PROJECT_FILTERS]
    if list_name == "reports":
        return [Choice(name, name) for name in REPORTS]
    if list_name == "sub_reports":
        if not context.get("report"):
            raise ParameterError("The sub_reports list needs a report (e.g. --report RFIs)",
                                 parameter="report")
        report = find_report(context["report"])
        return [Choice(n, n) for n in sub_report_choices(report)]
    return None


def make_choices(records: list[dict], source: Source) -> list[Choice]:
    """Unique, human labels sorted case-insensitively; duplicates get `` (id)``."""
    rows = []
    for r in records:
        if r.get("id") is None:
            continue
        name = next((str(r[f]) for f in source.label if r.get(f) not in (None, "")), str(r["id"]))
        num = r.get(source.number) if source.number else None
        label = f"{num} - {name}" if num not in (None, "") and str(num) != name else name
        extra = [str(r[f]) for f in source.aliases if r.get(f) not in (None, "")]
        aliases = tuple(dict.fromkeys(a for a in [name, str(num), *extra] if a not in ("", "None", label)))
        rows.append((label, r["id"], aliases))
    counts = Counter(lbl.casefold() for lbl, _, _ in rows)
    out = []
    for label, id_, aliases in rows:
        if counts[label.casefold()] > 1:
            aliases = aliases + (label,)
            label = f"{label} ({id_})"
        out.append(Choice(label, id_, aliases))
    out.sort(key=lambda c: (c.label.casefold(), str(c.id)))
    return out


