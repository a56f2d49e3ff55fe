"""Exceptions a person can act on.

Every error procore-xl raises on purpose is a :class:`ProcoreError`. Its ``str()`` is one
short line that says what went wrong and what to do about it; it never contains a token
or a client secret. Errors that come from an HTTP response carry Procore's request id
(``request_id``) for support tickets.
"""
from __future__ import annotations

import re
from http import HTTPStatus


class ProcoreError(Exception):
    """Base class: ``str(err)`` is a one-line, human-readable message."""

    def __init__(self, message: str, *, request_id: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.status = status

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id {self.request_id})"
        return self.message


class ConfigurationError(ProcoreError):
    """Settings are missing or wrong (no client id, unknown environment, no keyring...)."""


class SignedOutError(ProcoreError):
    """No usable token: the user has to sign in (again)."""


class PermissionDeniedError(ProcoreError):
    """HTTP 403: the signed-in user may not read this."""


class NotFoundError(ProcoreError):
    """HTTP 404: it does not exist, or Procore hides it from this user."""


class BadRequestError(ProcoreError):
    """HTTP 400/406/422: Procore rejected a parameter."""


class RateLimitedError(ProcoreError):
    """HTTP 429 that retrying could not get past; ``reset_at`` is a POSIX timestamp or None."""

    def __init__(self, message: str, *, reset_at: float | None = None, **kw):
        super().__init__(message, **kw)
        self.reset_at = reset_at


class ProcoreServerError(ProcoreError):
    """HTTP 5xx (or a malformed body) that survived the retries."""


class ProcoreConnectionError(ProcoreError):
    """The host could not be reached (DNS, refused, timed out) after the retries."""


class ParameterError(ProcoreError):
    """A report parameter is missing or invalid. ``parameter`` names it; ``choices`` lists valid values."""

    def __init__(self, message: str, *, parameter: str | None = None, choices: list[str] | None = None):
        super().__init__(message)
        self.parameter = parameter
        self.choices = choices or []


class UnknownReportError(ParameterError):
    """No report of that name; the message suggests the closest names."""


# -- words for messages ------------------------------------------------------------------------

def status_words(status: int) -> str:
    """'503 Service Unavailable'."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def how_often(times: int, seconds: float) -> str:
    """'6 times in 40 s', 'twice in under a second', 'once in 3 min'."""
    words = {1: "once", 2: "twice"}.get(times, f"{times} times")
    if seconds < 1:
        span = "under a second"
    elif seconds >= 120:
        span = f"{seconds / 60:.0f} min"
    else:
        span = f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    return f"{words} in {span}"


BRIEF_MAX = 80          # characters of a person's value an error message repeats


def brief(value: object) -> str:
    """A value a message repeats, cut when long (a cell or a file pasted by mistake): its start
    and its length, so that what the message says after it - how to fix it - stays in sight in a
    cell and on one terminal line."""
    text = str(value)
    return text if len(text) <= BRIEF_MAX else f"{text[:BRIEF_MAX - 20]}...({len(text):,} characters)"


# -- text for a terminal -------------------------------------------------------------------------
# C0 and C1 control characters (ESC, BEL, CR, LF, TAB, ...), DEL, the bidirectional overrides
# and isolates that reorder what a terminal shows, and lone surrogates (which no terminal encoding
# holds): shown as escapes, so that a name from Procore can neither drive the terminal nor break
# or disguise the line it is printed in.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def is_terminal(stream: object) -> bool:
    """Whether ``stream`` (sys.stdout, sys.stderr) is a terminal a person reads; False for a file,
    a pipe, or a stream that is closed, missing or cannot tell."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def printable(text: object) -> str:
    """``text`` for one line on a terminal: control characters shown escaped (ESC as ``\\x1b``,
    a line break as ``\\n``). The one helper every line the CLI prints goes through."""
    return _UNPRINTABLE.sub(_escape, str(text))


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
