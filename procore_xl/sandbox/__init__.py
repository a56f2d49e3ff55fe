"""The built-in Procore sandbox: a real HTTP server on loopback speaking Procore's OAuth and REST rules.

    from procore_xl.sandbox import SandboxServer, SandboxConfig, Faults
    with SandboxServer(SandboxConfig(port=0, seed=7)) as sb:
        sb.url, sb.client_id, sb.client_secret, sb.world, sb.faults, sb.requests
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import Faults, SandboxConfig
    from .server import CLIENT_ID, CLIENT_SECRET, SandboxServer, free_port, serve_forever
    from .world import BIG_ID, DEMO_USER, World

# each name imported from its module when first asked for: the CLI reads sandbox.config's defaults to
# build its arguments, and that must not import the server (0.14 s before every command's first request)
_HOMES = {"Faults": "config", "SandboxConfig": "config", "CLIENT_ID": "server", "CLIENT_SECRET": "server",
          "SandboxServer": "server", "free_port": "server", "serve_forever": "server", "BIG_ID": "world",
          "DEMO_USER": "world", "World": "world"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = ["SandboxServer", "SandboxConfig", "Faults", "serve_forever", "World", "CLIENT_ID", "CLIENT_SECRET",
           "DEMO_USER", "BIG_ID", "free_port"]
