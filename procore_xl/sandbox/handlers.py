"""The handler kit of the sandbox API: what a handler gets and returns, matching a path to its
:class:`Route` (:class:`Router`), and the generic handlers most endpoints share (``listing``,
``child_listing``, ``show``, ``recycle_bin``). The endpoint table itself is ``routes.ROUTES``.

A handler gets an :class:`ApiRequest` whose company and project were already resolved and checked
(company header rule, project ownership and read access) and returns either :class:`Listing`
(records; paged unless ``paged=False``) or :class:`Body` (any JSON value, sent as is).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from .filters import FilterError, apply_filters, apply_sort, date_scope
from .world import World


class ApiError(Exception):
    def __init__(self, status: int, errors: str):
        super().__init__(errors)
        self.status = status
        self.errors = errors


def not_found() -> ApiError:
    return ApiError(404, "404 Not Found")


@dataclass
class ApiRequest:
    world: World
    path: str
    query: list[tuple[str, str]]
    params: dict[str, str]
    args: dict[str, str]                   # named path segments
    user: dict
    company: dict | None = None
    project: dict | None = None

    def int_arg(self, name: str, *, required: bool = True) -> int | None:
        raw = self.args.get(name) or self.params.get(name)
        if raw is None or raw == "":
            if required:
                raise ApiError(400, f"{name} is missing")
            return None
        try:
            return int(raw)
        except ValueError:
            raise ApiError(400 if name not in self.args else 404, f"{name} is invalid") from None


@dataclass
class Listing:
    items: list
    paged: bool = True
    shape: Callable[[list], object] | None = None    # applied to the (page of) items before sending


@dataclass
class Body:
    payload: object


@dataclass(frozen=True)
class Route:
    pattern: str                            # e.g. "/rest/v1.0/projects/{project_id}/rfis"
    handler: Callable[[ApiRequest], Listing | Body]
    company_header: bool = True             # Procore-Company-Id required
    regex: re.Pattern = field(init=False, compare=False)

    def __post_init__(self):
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern)
        object.__setattr__(self, "regex", re.compile(f"^{regex}$"))


class Router:
    def __init__(self, routes: list[Route]):
        self.routes = routes

    def match(self, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            m = route.regex.match(path)
            if m:
                return route, m.groupdict()
        return None


# ---------------------------------------------------------------- generic handler builders
def scope_of(req: ApiRequest, parent: str) -> dict:
    scope = req.project if parent == "project" else req.company
    if scope is None:
        raise ApiError(400, f"{parent}_id is missing")
    return scope


def filtered(req: ApiRequest, records: list[dict], plain: tuple[str, ...], dated: bool) -> list[dict]:
    try:
        if dated:
            start, end = date_scope(req.params, req.world.today)
            records = [r for r in records if start <= r["date"] <= end]
        records = apply_filters(records, req.query, plain)
    except FilterError as exc:
        raise ApiError(400, str(exc)) from None
    return apply_sort(records, req.params.get("sort"))


def listing(entity: str, parent: str = "project", *, plain: tuple[str, ...] = (), dated: bool = False,
            paged: bool = True):
    """List ``entity`` of the request's project (or company)."""
    def handle(req: ApiRequest) -> Listing:
        holder = scope_of(req, parent)
        records = with_deleted(req, req.world.records(entity, holder), lambda: req.world.deleted(entity, holder))
        return Listing(filtered(req, records, plain, dated), paged)
    return handle


def with_deleted(req: ApiRequest, records: list[dict], deleted: Callable[[], list[dict]]) -> list[dict]:
    """``filters[include_deleted]`` (documented ``only`` or ``with``): the deleted records instead
    of, or after, the live ones."""
    mode = req.params.get("filters[include_deleted]")
    if mode is None:
        return records
    if mode not in ("only", "with"):
        raise ApiError(400, "filters[include_deleted] must be only or with")
    return deleted() if mode == "only" else [*records, *deleted()]


def recycle_bin(entity: str, parent: str = "project"):
    """The recycle bin of ``entity`` in the request's project (or company): the records deleted
    there, with the documented filters (``filters[updated_at]``: when they were deleted)."""
    def handle(req: ApiRequest) -> Listing:
        return Listing(filtered(req, req.world.deleted(entity, scope_of(req, parent)), (), False))
    return handle


def child_listing(entity: str, parent_arg: str, *, parents: tuple[str, ...] | None = None, optional: bool = False,
                  plain: tuple[str, ...] = (), dated: bool = False, paged: bool = True, scope: str = "project"):
    """List ``entity`` under the parent record named by ``parent_arg`` (a path segment or query param).

    The parent is looked up among the scope's records of the entity's parent kind(s) (or ``parents``);
    404 when it is not there. With ``optional=True`` and no parent given, list the children of every parent.
    """
    def handle(req: ApiRequest) -> Listing:
        world = req.world
        spec = world.specs[entity]
        kinds = parents or ((spec.parent,) if isinstance(spec.parent, str) else spec.parent)
        parent_id = req.int_arg(parent_arg, required=not optional)
        holder = scope_of(req, scope)
        candidates = [p for kind in kinds for p in world.within(kind, holder)]
        if parent_id is not None:
            candidates = [p for p in candidates if p["id"] == parent_id]
            if not candidates:
                raise not_found()
        records = with_deleted(req, [r for p in candidates for r in world.records(entity, p)],
                               lambda: [r for p in candidates for r in world.deleted(entity, p)])
        return Listing(filtered(req, records, plain, dated), paged)
    return handle


def show(entity: str, id_arg: str = "id", parent: str = "project", shape: Callable | None = None):
    """One record of ``entity`` by id within the project (or company), through intermediate parents."""
    def handle(req: ApiRequest) -> Body:
        record_id, holder = req.int_arg(id_arg), scope_of(req, parent)
        if req.world.specs[entity].parent == parent:
            record = req.world.find(entity, holder, record_id)
        else:
            record = next((r for r in req.world.within(entity, holder) if r["id"] == record_id), None)
        if record is None:
            raise not_found()
        return Body(shape(req, record) if shape else record)
    return handle
