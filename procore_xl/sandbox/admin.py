"""Sandbox only: change records of a running sandbox from another process (the demo, benchmarks).

``POST /_sandbox/records`` with a JSON body, answered only to loopback clients. This path is not
part of Procore's API (nothing under ``/rest/``) and exists in the sandbox alone::

    {"action": "edit",   "entity": "rfis", "id": 22000000001, "fields": {"subject": "New"}}
    {"action": "add",    "entity": "rfis", "parent_id": 91001, "fields": {}}
    {"action": "delete", "entity": "rfis", "id": 22000000001}
    {"action": "withhold", "entity": "rfis", "field": "reference"}   # not sent until "release"
    {"action": "release", "entity": "rfis", "field": "reference"}    # sent on every record from now on

``"stamp_shift_seconds": -3600`` on an edit, add or delete stamps the change an hour back (a positive
number: in the future). The answer is ``{"record": {...}}`` (``null`` for a delete, withhold and
release); 400 names what is wrong.
:func:`change_records` is the client side, for scripts.
"""
from __future__ import annotations

import ipaddress
import json
from datetime import timedelta
import urllib.request
from typing import Any

from .httputil import Response, json_response
from .world import World

RECORDS_PATH = "/_sandbox/records"
ACTIONS = ("edit", "add", "delete", "withhold", "release")


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def handle_change(world: World, method: str, client_address: str, body: bytes) -> Response:
    """One change request to ``/_sandbox/records``."""
    if not is_loopback(client_address):
        return json_response(403, {"errors": "sandbox record changes are accepted from this computer only"})
    if method != "POST":
        return json_response(405, {"errors": "POST a JSON change"})
    try:
        change = json.loads(body or b"{}")
        action, entity = change.get("action"), change.get("entity")
        fields = change.get("fields") or {}
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        shift = timedelta(seconds=float(change.get("stamp_shift_seconds") or 0))
        record = None
        if action == "add":
            record = world.add_record(entity, int(change["parent_id"]), stamp_shift=shift, **fields)
        elif action == "edit":
            record = world.edit_record(entity, int(change["id"]), stamp_shift=shift, **fields)
        elif action == "delete":
            world.delete_record(entity, int(change["id"]), stamp_shift=shift)
        elif action == "withhold":
            world.withhold(entity, str(change["field"]))
        else:
            world.release(entity, str(change["field"]))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return json_response(400, {"errors": f"bad change: {exc}"})
    return json_response(200, {"record": record})


def change_records(sandbox_url: str, *changes: dict[str, Any], timeout: float = 30) -> list[dict | None]:
    """Send changes (dicts as in the module docstring) to a running sandbox; the changed records."""
    out = []
    for change in changes:
        request = urllib.request.Request(sandbox_url.rstrip("/") + RECORDS_PATH, data=json.dumps(change).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            out.append(json.loads(response.read())["record"])
    return out
