"""The built-in Procore sandbox: a real HTTP server on loopback speaking Procore's OAuth and REST rules.

    from procore_xl.sandbox import SandboxServer, SandboxConfig, Faults
    with SandboxServer(SandboxConfig(port=0, seed=7)) as sb:
        sb.url, sb.client_id, sb.client_secret, sb.world, sb.faults, sb.requests
"""
from .config import Faults, SandboxConfig
from .server import CLIENT_ID, CLIENT_SECRET, SandboxServer, free_port, serve_forever
from .world import BIG_ID, DEMO_USER, World

__all__ = ["SandboxServer", "SandboxConfig", "Faults", "serve_forever", "World", "CLIENT_ID", "CLIENT_SECRET",
           "DEMO_USER", "BIG_ID", "free_port"]
