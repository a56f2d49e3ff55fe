"""Where sign-in tokens are kept.

A token is the dict Procore's token endpoint returns (``access_token``, ``refresh_token``,
``expires_in``, ``created_at`` ...). Stores keep one token per :attr:`Settings.key`.

* :class:`KeyringTokenStore`: the OS keyring (Windows Credential Manager, macOS Keychain,
  Secret Service...) through ``keyring``; the normal home of a user's sign-in. A read that
  finds nothing, or something unreadable, is tried again for a moment: the keyrings.alt file
  backend empties its file before it rewrites it, so another process may be mid-write.
* :class:`MemoryTokenStore`: this process only.
* :class:`SandboxFileTokenStore`: a 0600 JSON file, used only for the built-in sandbox on a
  machine without a keyring backend.
* :class:`NoKeyringStore`: a real Procore environment on a machine without a keyring when a
  client secret is configured: client-credentials tokens (kept in memory by the
  TokenManager) still work, saving a user sign-in raises a clear error.

:func:`default_token_store` picks one. Tokens are never written to disk silently for a real
Procore environment: a file or plaintext keyring backend (keyrings.alt) counts as no keyring
unless the user allows it (``--allow-plaintext-keyring`` / ``PROCORE_ALLOW_PLAINTEXT_KEYRING=1``),
and then its file is kept 0600. :func:`keyring_description` says where secrets go.

:func:`sign_in_lock` is the cross-process lock around "read token -> refresh -> save the rotated
pair": a lock file beside the settings, one per environment and app.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Protocol

import filelock
import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from .environments import ALLOW_PLAINTEXT_KEYRING_VARIABLE, Settings, config_dir, data_dir
from .errors import ConfigurationError
from .files import replaced

log = logging.getLogger("procore_xl")

SERVICE_NAME = "procore-xl"
SANDBOX_TOKEN_FILE = "sandbox-tokens.json"
LOCK_FOLDER = "locks"
SIGN_IN_LOCK_TIMEOUT = 120.0   # seconds: a refresh is 3 tries of at most 30 s
READ_ATTEMPTS = 6              # an empty or unreadable read of a keyring file is tried this often ...
READ_RETRY_PAUSE = 0.01        # ... this far apart, twice as far each time (0.3 s in all) ...
SETTLED_SECONDS = 10.0         # ... unless the file was not written for this long and not during the read

NO_KEYRING_HELP = (
    "No keyring backend is available to keep your Procore sign-in safe: install one (Secret Service, "
    "e.g. GNOME Keyring or KWallet), or on a bare server keep it in a file: `pip install keyrings.alt`, "
    "PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring and PROCORE_ALLOW_PLAINTEXT_KEYRING=1, "
    "or use a service account via PROCORE_CLIENT_ID and PROCORE_CLIENT_SECRET (client credentials)"
)


class TokenStore(Protocol):
    def load(self, key: str) -> dict | None: ...
    def save(self, key: str, token: dict) -> None: ...
    def delete(self, key: str) -> None: ...
    def check_can_save(self) -> None:
        """Raise :class:`ConfigurationError` now if :meth:`save` is bound to fail (before a sign-in)."""


def sign_in_lock(settings: Settings) -> filelock.FileLock:
    """The cross-process lock of one stored sign-in (environment + app), beside the settings file.

    Hold it around "read the stored token -> refresh -> save the rotated pair": refresh tokens
    are single-use, so two processes must never spend the same one."""
    digest = hashlib.sha256(settings.key.encode()).hexdigest()[:16]
    folder = config_dir() / LOCK_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"Cannot create the sign-in lock folder {folder} ({exc.strerror}): make it "
                                 "writable, or set PROCORE_XL_HOME to a folder you can write") from None
    return filelock.FileLock(folder / f"sign-in-{settings.env}-{digest}.lock", timeout=SIGN_IN_LOCK_TIMEOUT)


class MemoryTokenStore:
    """Tokens in this process only (tests, client credentials, throw-away sessions)."""

    def __init__(self) -> None:
        self._tokens: dict[str, dict] = {}
        self._lock = threading.Lock()

    def load(self, key: str) -> dict | None:
        with self._lock:
            token = self._tokens.get(key)
            return dict(token) if token else None

    def save(self, key: str, token: dict) -> None:
        with self._lock:
            self._tokens[key] = dict(token)

    def delete(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def check_can_save(self) -> None:
        return None


DAMAGED_ENTRY = ("The Procore sign-in kept {where} is damaged (not a sign-in procore-xl wrote): "
                 "sign in again (procore-xl login / Procore > Connect)")


class KeyringTokenStore:
    """One keyring entry per environment + app; the secret is the JSON-encoded token.

    The backend is looked up on every call, so ``keyring.set_keyring`` takes effect at once.
    A file backend's file is kept readable by this user only (0600) after every write.
    """

    def __init__(self, service: str = SERVICE_NAME) -> None:
        self.service = service
        self._lock = threading.Lock()

    def load(self, key: str) -> dict | None:
        """The stored token, or None. With a file backend, nothing (or an unreadable entry) is
        read again a few times before it counts when the file may be in the middle of a write:
        keyrings.alt empties its file before rewriting it, so another process may be writing it.
        A file that did not change during the read and was last written more than
        :data:`SETTLED_SECONDS` ago is not being written: its answer counts at once (no wait
        when nobody is signed in). OS keyrings write atomically."""
        path = _file_of(_writing_backend(keyring.get_keyring()))
        attempts = READ_ATTEMPTS if path else 1
        pause = READ_RETRY_PAUSE
        for attempt in range(1, attempts + 1):
            before = _file_state(path) if path else None
            token = self._load_once(key, last=attempt == attempts)
            if token is not None or attempt == attempts:
                return token
            if _settled(before, _file_state(path)):
                return self._load_once(key, last=True)     # nothing stored (or damaged: said so)
            time.sleep(pause)
            pause *= 2
        return None

    def _load_once(self, key: str, *, last: bool) -> dict | None:
        with self._lock:
            try:
                secret = keyring.get_password(self.service, key)
            except keyring.errors.KeyringError as exc:
                raise ConfigurationError(f"Cannot read the Procore sign-in from the keyring ({type(exc).__name__}): "
                                         "unlock the keyring or sign in again") from None
            except Exception as exc:  # noqa: BLE001 - a half-written keyring file fails to parse in many ways
                if last:
                    raise ConfigurationError(f"Cannot read the Procore sign-in from the keyring "
                                             f"({type(exc).__name__}): sign in again") from None
                return None
        try:
            token = json.loads(secret) if secret else None
        except (ValueError, RecursionError):
            token = secret                  # damaged or half-written: read again, then said so
        if token is None or isinstance(token, dict):
            return token
        if last:    # a damaged entry is not "nobody signed in": that would sign the app's service account in
            raise ConfigurationError(DAMAGED_ENTRY.format(where="in the keyring"))
        return None

    def save(self, key: str, token: dict) -> None:
        with self._lock:
            try:
                keyring.set_password(self.service, key, json.dumps(token))
            except (keyring.errors.KeyringError, OSError) as exc:
                raise ConfigurationError(f"Cannot save the Procore sign-in to the keyring ({type(exc).__name__}): "
                                         "unlock the keyring and sign in again") from None
            keep_private(keyring.get_keyring())

    def delete(self, key: str) -> None:
        with self._lock:
            try:
                keyring.delete_password(self.service, key)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored
            except (keyring.errors.KeyringError, OSError) as exc:
                raise ConfigurationError(f"Cannot remove the Procore sign-in from the keyring "
                                         f"({type(exc).__name__}): unlock the keyring and try again") from None

    def check_can_save(self) -> None:
        if not keyring_usable():
            raise ConfigurationError(NO_KEYRING_HELP)


def _file_state(path: str) -> tuple[int, int, int] | None:
    """(inode, size, last write in ns) of a keyring file; None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _settled(before: tuple | None, after: tuple | None) -> bool:
    """A keyring file nobody is writing: the same before and after a read (or absent both
    times), and last changed more than :data:`SETTLED_SECONDS` ago by this computer's clock (a
    time in the future counts as recent)."""
    if before != after:
        return False
    if before is None:
        return True
    age = time.time() - before[2] / 1e9
    return age > SETTLED_SECONDS


class SandboxFileTokenStore:
    """Tokens for the built-in sandbox in a JSON file readable by this user only (mode 0600)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def load(self, key: str) -> dict | None:
        with self._lock:
            tokens = self._read()           # written whole (files.replaced): unreadable is damaged
            token = tokens.get(key) if tokens is not None else "damaged"
            if token is None or isinstance(token, dict):
                return token
            raise ConfigurationError(DAMAGED_ENTRY.format(where=f"in {self.path}"))

    def save(self, key: str, token: dict) -> None:
        with self._lock:
            tokens = self._read() or {}         # a damaged file is replaced by the new sign-in
            tokens[key] = token
            self._write(tokens)

    def delete(self, key: str) -> None:
        with self._lock:
            tokens = self._read()
            if tokens is None:
                self._write({})
            elif tokens.pop(key, None) is not None:
                self._write(tokens)

    def check_can_save(self) -> None:
        return None

    def _read(self) -> dict | None:
        """The file's sign-ins ({} when there is no file); None when it does not read as ours."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    def _write(self, tokens: dict) -> None:
        """Write atomically: a temporary file created 0600 in the same folder, then renamed (files.replaced)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with replaced(self.path, mode=0o600) as tmp:          # created 0600, and so it stays
            tmp.write_text(json.dumps(tokens), encoding="utf-8")


class NoKeyringStore:
    """Real Procore, no keyring: holds nothing; saving a user sign-in explains how to get a keyring."""

    def __init__(self, reason: str = "") -> None:
        self.reason = reason or NO_KEYRING_HELP

    def load(self, key: str) -> dict | None:
        return None

    def save(self, key: str, token: dict) -> None:
        raise ConfigurationError(self.reason)

    def delete(self, key: str) -> None:
        return None

    def check_can_save(self) -> None:
        raise ConfigurationError(self.reason)


# --------------------------------------------------------------------------- the keyring backend

def _secret_entry(settings: Settings) -> str:
    return f"client-secret|{settings.key}"


def stored_client_secret(settings: Settings) -> str | None:
    """The app's client secret saved by `procore-xl setup` in the keyring, if any (and if that
    keyring may hold this environment's secrets, see :func:`keyring_allowed`)."""
    if not settings.client_id or not keyring_allowed(settings):
        return None
    try:
        return keyring.get_password(SERVICE_NAME, _secret_entry(settings))
    except keyring.errors.KeyringError:
        return None


def save_client_secret(settings: Settings, secret: str | None) -> str:
    """Keep (or with None forget) the app's client secret in the keyring; returns where it went
    (:func:`keyring_description`)."""
    if not keyring_allowed(settings):
        raise ConfigurationError(no_keyring_reason(settings))
    try:
        if secret:
            keyring.set_password(SERVICE_NAME, _secret_entry(settings), secret)
            keep_private(keyring.get_keyring())
        else:
            keyring.delete_password(SERVICE_NAME, _secret_entry(settings))
    except keyring.errors.PasswordDeleteError:
        pass
    except (keyring.errors.KeyringError, OSError) as exc:
        raise ConfigurationError(f"The keyring refused the client secret ({type(exc).__name__})") from None
    return keyring_description()


def keyring_usable() -> bool:
    """False on a machine with no real keyring backend (keyring's fail/null backend, empty chainer)."""
    return _writing_backend(keyring.get_keyring()) is not None


def _writing_backend(backend: KeyringBackend) -> KeyringBackend | None:
    """The backend that actually keeps what is saved: a chainer writes to the first of its
    backends (highest priority) that accepts it."""
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return None
    if isinstance(backend, chainer.ChainerBackend):
        return next((b for b in backend.backends if not isinstance(b, (fail.Keyring, null.Keyring))), None)
    return backend


def _file_of(backend: KeyringBackend | None) -> str | None:
    path = getattr(backend, "file_path", None)
    return str(path) if path else None


def plaintext_backend() -> bool:
    """True when secrets would land in a file or unencrypted (the keyrings.alt backends, or any
    backend that keeps a file of its own) rather than in an OS keyring."""
    backend = _writing_backend(keyring.get_keyring())
    if backend is None:
        return False
    return type(backend).__module__.startswith("keyrings.alt") or _file_of(backend) is not None


def keyring_description() -> str:
    """Where a secret saved now goes, in words for a person: 'the OS keyring (SecretService
    Keyring)' or 'the keyrings.alt PlaintextKeyring file /home/u/.local/share/python_keyring/
    keyring_pass.cfg (base64, not encrypted; readable by you only)'."""
    backend = _writing_backend(keyring.get_keyring())
    if backend is None:
        return "no keyring (none is installed)"
    if not plaintext_backend():
        return f"the OS keyring ({backend.name})"
    kind, path = type(backend).__name__, _file_of(backend)
    how = "base64, not encrypted" if "Plaintext" in kind else "not in an OS keyring"
    where = f" file {path}" if path else ""
    private = "; readable by you only" if path else ""
    package = "keyrings.alt" if type(backend).__module__.startswith("keyrings.alt") else type(backend).__module__
    return f"the {package} {kind}{where} ({how}{private})"


def keyring_allowed(settings: Settings) -> bool:
    """May the keyring hold this environment's sign-in and secret? An OS keyring: yes. A file
    or plaintext backend: for the built-in sandbox, or when the user allowed it."""
    if not keyring_usable():
        return False
    return not plaintext_backend() or settings.is_loopback or settings.allow_plaintext_keyring


def no_keyring_reason(settings: Settings) -> str:
    """Why the keyring may not hold this environment's secrets, and what to do (one line)."""
    if keyring_usable() and plaintext_backend():
        return (f"The only keyring here is {keyring_description()}: procore-xl keeps a Procore sign-in "
                f"or secret there only if you allow it (--allow-plaintext-keyring or "
                f"{ALLOW_PLAINTEXT_KEYRING_VARIABLE}=1), or install an OS keyring backend, or use a service "
                "account via PROCORE_CLIENT_ID and PROCORE_CLIENT_SECRET")
    return NO_KEYRING_HELP


def keep_private(backend: KeyringBackend) -> None:
    """A file backend's file: readable and writable by this user only."""
    path = _file_of(_writing_backend(backend))
    if path and os.path.isfile(path):
        try:
            os.chmod(path, 0o600)
        except OSError as exc:  # not ours to change: say so, the secret is saved all the same
            log.warning("Could not make %s private (%s)", path, exc.strerror)


def default_token_store(settings: Settings) -> TokenStore:
    """The keyring if it may hold this environment's sign-in; else a 0600 file for the built-in
    sandbox; else a clear error.

    With no (allowed) keyring but a client secret configured, returns a :class:`NoKeyringStore`
    so the client-credentials grant (tokens in memory only) keeps working.
    """
    if keyring_allowed(settings):
        return KeyringTokenStore()
    if settings.is_loopback:
        return SandboxFileTokenStore(data_dir() / SANDBOX_TOKEN_FILE)
    if settings.client_secret:
        return NoKeyringStore(no_keyring_reason(settings))
    raise ConfigurationError(no_keyring_reason(settings))
