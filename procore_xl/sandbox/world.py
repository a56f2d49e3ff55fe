"""The sandbox's data: fixed companies and projects, plus records generated lazily from the seed.

Every record is built from its own ``random.Random`` keyed by (seed, entity, parent id, index), so a
record never changes when other entities or counts change. Records of one parent are generated on
first use and cached (thread-safe).

Records change only through :meth:`World.edit_record`, :meth:`World.add_record` and
:meth:`World.delete_record` (tests, the demo's ``/_sandbox/records`` endpoint): each stamps
``updated_at`` with the sandbox clock :meth:`World.now` (also the ``Date`` response header) and
replaces the parent's cached list, so a listing being served keeps its consistent snapshot.

What Procore's own clocks and deploys can do is rehearsed here too: ``stamp_shift`` stamps a change
back-dated or in the future (replication lag, a drifting clock); a deleted record moves to its
parent's recycle bin (:meth:`World.deleted`, stamped ``updated_at``/``deleted_at`` when it went),
which the recycle-bin routes and ``filters[include_deleted]`` read; :meth:`World.withhold` keeps a
documented field out of every answer until :meth:`World.release` (a field Procore starts sending,
on every record at once, without touching ``updated_at``). The ``Date`` header's skew from the
stamps is ``Faults.clock_skew_seconds``.

Ids: ``BASE[entity] + parent_key * cap + index + 1``; ``parent_key`` is the parent's position (companies,
projects) or the parent's own key, so ids are unique per entity and stable. One RFI of project 91001
has an id above 2**53 (``BIG_ID``) so consumers must keep ids exact (text in Excel).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from .config import SandboxConfig
from .fakedata import Gen, iso_date, iso_ts

PARENT_KIND_STRIDE = 10**5  # keys of a second (third) parent kind start here (see World._parent_key)
BIG_ID = 2**53 + 1          # 9007199254740993: not exactly representable as a float
DEMO_USER = {"id": 100001, "login": "dana.reyes@harbortower.example", "name": "Dana Reyes"}
SERVICE_ACCOUNT = {"id": 100002, "login": "sandbox-dmsa@procore-xl.example", "name": "Sandbox Service Account"}

# id, name, member (the demo user can see it)
COMPANIES = [
    (8001, "Harbor Tower Builders", True),
    (8002, "Coastal Civil Group", True),
    (8003, "Summit Ridge Developers", False),
]
# id, company id, name, active, readable by the demo user
PROJECTS = [
    (91001, 8001, "Harbor Tower", True, True),
    (91002, 8001, "Pier 39 Retrofit", True, True),
    (91003, 8001, "Mission Bay Lab Building", True, True),
    (91004, 8001, "Oakland Transit Hub", True, True),
    (91005, 8001, "Sunset Library Renovation", False, True),
    (91006, 8001, "Old Mint Restoration", False, True),
    (91007, 8001, "Confidential Data Center", True, False),
    (92001, 8002, "Coastal Highway 1 Widening", True, True),
    (92002, 8002, "Marina Seawall", True, True),
    (92003, 8002, "Bridge Deck Replacement", False, True),
    (93001, 8003, "Summit Ridge Tower", True, True),
]
STAGES = [(301, "Course of Construction"), (302, "Pre-Construction"), (303, "Bidding"), (304, "Warranty")]
CUSTOM_FIELDS = {   # definition id -> (label, data_type)
    5001: ("Priority", "lov_entry"),
    5002: ("Owner Reference", "string"),
    5003: ("Cost Estimate", "decimal"),
}


@dataclass(frozen=True)
class EntitySpec:
    """One generated entity: its parent kind, its id range and how to build record ``index``."""

    name: str
    parent: str | tuple[str, ...]     # "company", "project" or other entity name(s)
    code: int                         # unique id prefix: ids start at code * 10**10
    cap: int                          # max records per parent
    count: Callable[["World", dict], int]
    make: Callable[["World", dict, int, Gen, dict], dict]   # (world, parent, index, gen, project)
    own_ids: bool = False             # the maker sets "id" (e.g. project users are company users)


class World:
    """All sandbox data. ``records(entity, parent)`` is the one way to read generated lists."""

    def __init__(self, config: SandboxConfig, specs: dict[str, EntitySpec]):
        self.config = config
        self.seed = config.seed
        self.scale = max(int(config.scale), 1)
        self.today: date = config.today or date.today()
        self.specs = specs
        self.demo_user = dict(DEMO_USER)
        self.service_account = dict(SERVICE_ACCOUNT)
        self.companies = [self._company(i, *row) for i, row in enumerate(COMPANIES, start=1)]
        self.projects = [self._project(i, *row) for i, row in enumerate(PROJECTS, start=1)]
        self._company_by_id = {c["id"]: c for c in self.companies}
        self._project_by_id = {p["id"]: p for p in self.projects}
        self._member_ids = {cid for cid, _, member in COMPANIES if member}
        self._unreadable = {pid for pid, *_, readable in PROJECTS if not readable}
        self._keys: dict[tuple[str, int], int] = {("company", c["id"]): i for i, c in enumerate(self.companies, 1)}
        self._keys.update({("project", p["id"]): i for i, p in enumerate(self.projects, 1)})
        self._project_of: dict[tuple[str, int], dict] = {}
        self._cache: dict[tuple[str, int], list[dict]] = {}
        self._index: dict[tuple[str, int], dict[int, dict]] = {}
        self._added: dict[tuple[str, int], int] = {}      # records added per (entity, parent id)
        self._deleted: dict[tuple[str, int], list[dict]] = {}   # the recycle bin per (entity, parent id)
        self._withheld: dict[str, frozenset[str]] = {}     # entity -> fields not sent (yet)
        self._last_change: datetime | None = None
        # generated data is stamped within working hours of its day; when the world's "today" is
        # (UTC) today or later, a stamp after the start of today is moved back to it, so no record was
        # "updated in the future" of the Date header and World.now(), and the same seed still gives
        # the same data all day (a world dated in the past needs no such move)
        utc_today = datetime.now(timezone.utc).date()
        self._latest_stamp = f"{utc_today.isoformat()}T00:00:00" if self.today >= utc_today else None
        self._lock = threading.RLock()
        for name in config.withheld_fields:
            entity, _, field_name = name.partition(".")
            self.withhold(entity, field_name)

    # -- the server clock
    def now(self) -> datetime:
        """The sandbox's current time (UTC, whole seconds): never before the last change it made."""
        current = datetime.now(timezone.utc).replace(microsecond=0)
        with self._lock:
            last = self._last_change
        return max(current, last) if last else current

    def _tick(self) -> datetime:
        """The time of a new change: now, and strictly after the previous change."""
        with self._lock:
            moment = datetime.now(timezone.utc).replace(microsecond=0)
            if self._last_change is not None and moment <= self._last_change:
                moment = self._last_change + timedelta(seconds=1)
            self._last_change = moment
            return moment

    # -- fixed entities
    def _company(self, key: int, cid: int, name: str, member: bool) -> dict:
        return {"id": cid, "name": name, "is_active": True, "logo_url": None, "my_company": cid == 8001,
                "pcn_business_experience": key == 1}

    def _project(self, key: int, pid: int, cid: int, name: str, active: bool, readable: bool) -> dict:
        g = Gen(self.seed, "project", pid)
        start = self.today - timedelta(days=g.int(200, 900))
        stage_id, stage = g.pick(STAGES) if active else (304, "Warranty")
        addr = g.address()
        created = self.today - timedelta(days=(self.today - start).days + 30)
        return {
            "id": pid, "name": name, "display_name": f"{pid}-{key:02d} {name}", "project_number": f"{pid}-{key:02d}",
            **addr, "county": g.maybe("San Francisco County"), "time_zone": "US/Pacific",
            "latitude": round(37.7 + g.rng.random() / 10, 6), "longitude": round(-122.4 - g.rng.random() / 10, 6),
            "stage": stage, "project_stage": {"id": stage_id, "name": stage},
            "project_template": None, "phone": g.maybe("+1 415 555 0100"), "fax": None,
            "active": active, "is_demo": False, "parent_job_id": None, "origin_id": None, "origin_data": None,
            "origin_code": None, "owners_project_id": None, "total_value": g.amount(1e6, 9e7),
            "estimated_value": g.amount(1e6, 9e7), "store_number": None, "accounting_project_number": None,
            "designated_market_area": None, "project_region_id": None, "project_bid_type_id": None,
            "project_owner_type_id": None, "photo_id": None,
            "start_date": iso_date(start), "completion_date": iso_date(start + timedelta(days=g.int(400, 1200))),
            "created_at": iso_ts(g.moment(created)), "updated_at": iso_ts(g.moment(self.today - timedelta(days=g.int(0, 30)))),
            "company": {"id": cid, "name": next(n for i, n, _ in COMPANIES if i == cid)},
            "custom_fields": {"custom_field_5002": {"data_type": "string", "value": f"OWN-{pid}"}},
        }

    # -- lookups
    def company(self, company_id: int) -> dict | None:
        return self._company_by_id.get(company_id)

    def project(self, project_id: int) -> dict | None:
        return self._project_by_id.get(project_id)

    def is_member(self, company_id: int) -> bool:
        return company_id in self._member_ids

    def can_read(self, project: dict) -> bool:
        return project["id"] not in self._unreadable

    def member_companies(self) -> list[dict]:
        return [c for c in self.companies if self.is_member(c["id"])]

    def company_projects(self, company_id: int) -> list[dict]:
        return [p for p in self.projects if p["company"]["id"] == company_id]

    def readable_projects(self, company_id: int) -> list[dict]:
        return [p for p in self.company_projects(company_id) if self.can_read(p)]

    def rfi_count(self) -> int:
        if self.config.rfis_per_project is not None:
            return self.config.rfis_per_project
        return 200 * self.scale

    # -- generated records
    def records(self, entity: str, parent: dict) -> list[dict]:
        """The records of ``entity`` under ``parent`` (a company, project or record), generated once,
        without the fields withheld (:meth:`withhold`)."""
        return self._shown(entity, self._held(entity, parent))

    def _held(self, entity: str, parent: dict) -> list[dict]:
        spec = self.specs[entity]
        cache_key = (entity, parent["id"])
        found = self._cache.get(cache_key)
        if found is not None:
            return found
        with self._lock:
            found = self._cache.get(cache_key)
            if found is None:
                found = self._generate(spec, parent)
                self._index[cache_key] = {r["id"]: r for r in found}
                self._cache[cache_key] = found
        return found

    def _shown(self, entity: str, records: list[dict]) -> list[dict]:
        withheld = self._withheld.get(entity)
        if not withheld:
            return records
        return [{k: v for k, v in r.items() if k not in withheld} for r in records]

    def deleted(self, entity: str, parent: dict) -> list[dict]:
        """The recycle bin: records of ``entity`` deleted under ``parent``, in the order they went."""
        self._held(entity, parent)
        return self._shown(entity, list(self._deleted.get((entity, parent["id"]), ())))

    def withhold(self, entity: str, field_name: str) -> None:
        """Send no ``field_name`` in records of ``entity`` (until :meth:`release`)."""
        if entity not in self.specs:
            raise KeyError(f"no entity {entity!r}")
        with self._lock:
            self._withheld[entity] = self._withheld.get(entity, frozenset()) | {field_name}

    def release(self, entity: str, field_name: str) -> None:
        """Procore starts sending ``field_name`` on every record of ``entity`` (no ``updated_at`` change)."""
        with self._lock:
            self._withheld[entity] = self._withheld.get(entity, frozenset()) - {field_name}

    def find(self, entity: str, parent: dict, record_id: int) -> dict | None:
        self._held(entity, parent)
        found = self._index[(entity, parent["id"])].get(record_id)
        return self._shown(entity, [found])[0] if found is not None else None

    def within(self, entity: str, holder: dict) -> list[dict]:
        """Every record of ``entity`` under ``holder`` (a company or project), through intermediate parents."""
        holder_kind = "project" if holder["id"] in self._project_by_id else "company"
        spec = self.specs[entity]
        kinds = (spec.parent,) if isinstance(spec.parent, str) else spec.parent
        if holder_kind in kinds:
            return self.records(entity, holder)
        return [r for kind in kinds if kind not in ("company", "project")
                for parent in self.within(kind, holder) for r in self.records(entity, parent)]

    def key(self, kind: str, record_id: int) -> int:
        """The small stable number a record's children ids are built from."""
        return self._keys[(kind, record_id)]

    def project_of(self, kind: str, record: dict) -> dict:
        if kind == "project":
            return record
        if kind == "company":
            return {}
        return self._project_of.get((kind, record["id"]), {})     # {}: a company-level record

    def _parent_kind(self, spec: EntitySpec, parent: dict) -> str:
        kinds = (spec.parent,) if isinstance(spec.parent, str) else spec.parent
        for kind in kinds:
            if (kind, parent["id"]) in self._keys:
                return kind
        raise KeyError(f"{spec.name}: parent {parent['id']} is not a generated {kinds}")

    def _parent_key(self, spec: EntitySpec, kind: str, parent_id: int) -> int:
        """The parent's key, apart per parent kind: the PCOs of work order #1 and of purchase
        order #1 (same key within their own kinds) must not get the same ids."""
        kinds = (spec.parent,) if isinstance(spec.parent, str) else spec.parent
        return self._keys[(kind, parent_id)] + kinds.index(kind) * PARENT_KIND_STRIDE

    def _generate(self, spec: EntitySpec, parent: dict) -> list[dict]:
        kind = self._parent_kind(spec, parent)
        project = self.project_of(kind, parent)
        parent_key = self._parent_key(spec, kind, parent["id"])
        count = min(spec.count(self, parent), spec.cap)
        base = spec.code * 10**10 + parent_key * spec.cap + 1
        out = []
        for i in range(count):
            gen = Gen(self.seed, spec.name, parent["id"], i)
            record = spec.make(self, parent, i, gen, project)
            if not spec.own_ids:
                record = {"id": base + i, **record}
                if spec.name == "rfis" and parent["id"] == 91001 and i == count - 1:
                    record["id"] = BIG_ID
            self._keys.setdefault((spec.name, record["id"]), parent_key * spec.cap + i + 1)
            if project:
                self._project_of[(spec.name, record["id"])] = project
            out.append(self._not_in_the_future(record))
        return out

    def _not_in_the_future(self, record: dict) -> dict:
        """The record with any top-level ``*_at`` timestamp later than the start of today moved back
        to it (Procore never shows a change later than its own clock)."""
        if self._latest_stamp is None:
            return record
        for name, value in record.items():
            if name.endswith("_at") and isinstance(value, str) and len(value) >= 19 and value[10] == "T" \
                    and value[:19] > self._latest_stamp:
                record[name] = self._latest_stamp + "Z"
        return record

    # -- changes (tests and the demo move the data between runs)
    def edit_record(self, entity: str, record_id: int, *, stamp_shift: timedelta | None = None, **changes) -> dict:
        """Change fields of one record; ``updated_at`` becomes the sandbox's current time
        (``stamp_shift`` later: negative for a back-dated stamp, positive for one in the future)."""
        with self._lock:
            key, position = self._locate(entity, record_id)
            records = list(self._cache[key])
            record = {**records[position], **changes, "updated_at": iso_ts(self._tick() + (stamp_shift or timedelta()))}
            records[position] = record
            self._replace(key, records)
            return record

    def add_record(self, entity: str, parent_id: int, *, stamp_shift: timedelta | None = None, **fields) -> dict:
        """A new record of ``entity`` under ``parent_id``, generated like the others (new id),
        created and updated now (``stamp_shift`` later, as in :meth:`edit_record`); ``fields``
        override generated values."""
        spec = self.specs[entity]
        with self._lock:
            parent = self._parent_record(spec, parent_id)
            kind = self._parent_kind(spec, parent)
            records = list(self._held(entity, parent))
            key = (entity, parent["id"])
            index = min(spec.count(self, parent), spec.cap) + self._added.get(key, 0)
            if index >= spec.cap:
                raise ValueError(f"{entity}: parent {parent_id} holds the most records it can ({spec.cap})")
            parent_key = self._parent_key(spec, kind, parent["id"])
            record = spec.make(self, parent, index, Gen(self.seed, spec.name, parent["id"], index),
                               self.project_of(kind, parent))
            if not spec.own_ids:
                record = {"id": spec.code * 10**10 + parent_key * spec.cap + index + 1, **record}
            if any(r["id"] == record["id"] for r in records):
                raise ValueError(f"{entity}: a record with id {record['id']} exists already")
            stamp = iso_ts(self._tick() + (stamp_shift or timedelta()))
            record = {**record, **fields, "created_at": stamp, "updated_at": stamp}
            self._keys.setdefault((entity, record["id"]), parent_key * spec.cap + index + 1)
            project = self.project_of(kind, parent)
            if project:
                self._project_of[(entity, record["id"])] = project
            self._added[key] = self._added.get(key, 0) + 1
            self._replace(key, records + [record])
            return record

    def delete_record(self, entity: str, record_id: int, *, stamp_shift: timedelta | None = None) -> None:
        """Move one record to its parent's recycle bin, stamped ``updated_at`` and ``deleted_at``
        (and ``deleted``, where the record has it) now; its children become unreachable with it."""
        with self._lock:
            key, position = self._locate(entity, record_id)
            records = list(self._cache[key])
            gone = records.pop(position)
            stamp = iso_ts(self._tick() + (stamp_shift or timedelta()))
            gone = {**gone, "updated_at": stamp, "deleted_at": stamp, **({"deleted": True} if "deleted" in gone else {})}
            self._deleted[key] = [*self._deleted.get(key, ()), gone]
            self._replace(key, records)

    def _replace(self, key: tuple[str, int], records: list[dict]) -> None:
        self._index[key] = {r["id"]: r for r in records}
        self._cache[key] = records

    def _locate(self, entity: str, record_id: int) -> tuple[tuple[str, int], int]:
        """(cache key, position) of a record, generating its entity's lists when needed."""
        if entity not in self.specs:
            raise KeyError(f"no entity {entity!r}")
        for attempt in range(2):
            for key, index in list(self._index.items()):
                if key[0] == entity and record_id in index:
                    return key, next(i for i, r in enumerate(self._cache[key]) if r["id"] == record_id)
            if attempt == 0:
                for holder in self.companies + self.projects:
                    self.within(entity, holder)
        raise KeyError(f"no {entity} record {record_id}")

    def _parent_record(self, spec: EntitySpec, parent_id: int) -> dict:
        kinds = (spec.parent,) if isinstance(spec.parent, str) else spec.parent
        for kind in kinds:
            if kind == "company" and self.company(parent_id):
                return self.company(parent_id)
            if kind == "project" and self.project(parent_id):
                return self.project(parent_id)
            if kind not in ("company", "project"):
                try:
                    key, position = self._locate(kind, parent_id)
                except KeyError:
                    continue
                return self._cache[key][position]
        raise KeyError(f"{spec.name}: no parent {parent_id} ({', '.join(kinds)})")

    # -- helpers used by record makers
    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    def person(self, g: Gen, company_id: int) -> dict:
        users = self.records("company_users", self.company(company_id))
        u = g.pick(users)
        return {"id": u["id"], "login": u["email_address"], "name": u["name"]}
