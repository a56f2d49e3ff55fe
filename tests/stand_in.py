"""The tests' own Procore stand-ins, one way: an HTTP server on 127.0.0.1:<free port> serving from a
background thread (a context manager; ``close()`` outside one), a quiet HTTP/1.1 handler that sends
JSON, and ``Scripted``: canned answers from a script.

A stand-in of a test's own subclasses :class:`LoopbackServer` (its state set before
``super().__init__(handler)``, which starts serving) and :class:`QuietHandler`.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Mapping


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        super().__init__(("127.0.0.1", 0), handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()

    def __exit__(self, *exc) -> None:
        self.close()


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        return

    def send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        """One whole answer; JSON unless ``headers`` say otherwise."""
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", **(headers or {}), "Content-Length": str(len(body))}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


class Scripted(LoopbackServer):
    """Answers GETs from a script, one entry an answer: ``(status, headers)`` (a body of its own:
    ``{"ok": true}`` for 200, else an error), ``(status, headers, body)`` (``body`` sent as JSON) or
    ``"drop"`` (the connection closed with no answer); then ``then`` for every further GET."""

    def __init__(self, script: list, then=(200, {})):
        self.script, self.then = list(script), then
        self.arrivals: list[float] = []         # when each GET came in
        super().__init__(ScriptedHandler)

    @property
    def count(self) -> int:
        return len(self.arrivals)


class ScriptedHandler(QuietHandler):
    def do_GET(self):
        srv: Scripted = self.server
        srv.arrivals.append(time.time())
        answer = srv.script.pop(0) if srv.script else srv.then
        if answer == "drop":
            self.close_connection = True
            return
        status, headers, *body = answer
        data = json.dumps(body[0]).encode() if body else b'{"ok": true}' if status == 200 else b'{"errors": "try later"}'
        self.send(status, data, headers)
