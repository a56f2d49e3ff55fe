"""Small HTTP helpers shared by the OAuth and API handlers: responses and form parsing."""
from __future__ import annotations

import base64
import binascii
import html
import json
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl, unquote_plus


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


def encode(payload) -> bytes:
    """Compact JSON as the sandbox sends it: UTF-8, or ASCII escapes for a lone surrogate (sent
    as its JSON escape, as any server must)."""
    try:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(payload, separators=(",", ":")).encode("ascii")


def json_response(status: int, payload, headers: dict[str, str] | None = None) -> Response:
    return Response(status, encode(payload), dict(headers or {}))


def html_response(status: int, title: str, body_html: str) -> Response:
    page = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1>{body_html}</body></html>")
    return Response(status, page.encode("utf-8"), {}, "text/html; charset=utf-8")


def redirect(location: str) -> Response:
    return Response(302, b"", {"Location": location}, "text/html; charset=utf-8")


def parse_form(content_type: str | None, body: bytes) -> dict[str, str]:
    """Fields of an x-www-form-urlencoded or multipart/form-data body (first value of each name)."""
    content_type = content_type or ""
    if content_type.lower().startswith("multipart/form-data"):
        return _parse_multipart(content_type, body)
    pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)
    return fields


def _parse_multipart(content_type: str, body: bytes) -> dict[str, str]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1") + body)
    fields: dict[str, str] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            fields.setdefault(str(name), payload.decode("utf-8", errors="replace"))
    return fields


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(client_id, client_secret) from an HTTP Basic Authorization header, or None."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return unquote_plus(user), unquote_plus(password)


def bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None
