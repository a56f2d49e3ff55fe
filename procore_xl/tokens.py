"""Where sign-in tokens are kept.

A token is the dict Procore's token endpoint returns (``access_token``, ``refresh_token``,
``expires_in``, ``created_at`` ...). Stores keep one token per :attr:`Settings.key`.

* :class:`KeyringTokenStore`: the OS keyring (Windows Credential Manager, macOS Keychain,
  Secret Service...) through ``keyring``; the normal home of a user's sign-in.
* :class:`MemoryTokenStore`: this process only.
* :class:`SandboxFileTokenStore`: a 0600 JSON file, used only for the built-in sandbox on a
  machine without a keyring backend.
* :class:`NoKeyringStore`: a real Procore environment on a machine without a keyring when a
  client secret is configured: client-credentials tokens (kept in memory by the
  TokenManager) still work, saving a user sign-in raises a clear error.

:func:`default_token_store` picks one. Tokens are never written to disk silently for a real
Procore environment.
"""
from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol

import keyring
import keyring.errors
from keyring.backends import chainer, fail, null

from .environments import Settings, data_dir
from .errors import ConfigurationError

SERVICE_NAME = "procore-xl"
SANDBOX_TOKEN_FILE = "sandbox-tokens.json"

NO_KEYRING_HELP = (
    "No keyring backend is available to keep your Procore sign-in safe: install one "
    "(e.g. `pip install keyrings.alt` and set PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring), "
    "or use a service account via PROCORE_CLIENT_ID and PROCORE_CLIENT_SECRET (client credentials)"
)


class TokenStore(Protocol):
    def load(self, key: str) -> dict | None: ...
    def save(self, key: str, token: dict) -> None: ...
    def delete(self, key: str) -> None: ...


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


class KeyringTokenStore:
    """One keyring entry per environment + app; the secret is the JSON-encoded token.

    The backend is looked up on every call, so ``keyring.set_keyring`` takes effect at once.
    """

    def __init__(self, service: str = SERVICE_NAME) -> None:
        self.service = service
        self._lock = threading.Lock()

    def load(self, key: str) -> dict | None:
        with self._lock:
            try:
                secret = keyring.get_password(self.service, key)
            except keyring.errors.KeyringError as exc:
                raise ConfigurationError(f"Cannot read the Procore sign-in from the keyring ({type(exc).__name__}): "
                                         "unlock the keyring or sign in again") from None
        if not secret:
            return None
        try:
            token = json.loads(secret)
        except ValueError:
            return None  # not ours / damaged: behave as signed out
        return token if isinstance(token, dict) else None

    def save(self, key: str, token: dict) -> None:
        with self._lock:
            try:
                keyring.set_password(self.service, key, json.dumps(token))
            except keyring.errors.KeyringError as exc:
                raise ConfigurationError(f"Cannot save the Procore sign-in to the keyring ({type(exc).__name__}): "
                                         "unlock the keyring and sign in again") from None

    def delete(self, key: str) -> None:
        with self._lock:
            try:
                keyring.delete_password(self.service, key)
            except keyring.errors.PasswordDeleteError:
                pass  # nothing stored
            except keyring.errors.KeyringError as exc:
                raise ConfigurationError(f"Cannot remove the Procore sign-in from the keyring "
                                         f"({type(exc).__name__}): unlock the keyring and try again") from None


class SandboxFileTokenStore:
    """Tokens for the built-in sandbox in a JSON file readable by this user only (mode 0600)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def load(self, key: str) -> dict | None:
        with self._lock:
            token = self._read().get(key)
            return token if isinstance(token, dict) else None

    def save(self, key: str, token: dict) -> None:
        with self._lock:
            tokens = self._read()
            tokens[key] = token
            self._write(tokens)

    def delete(self, key: str) -> None:
        with self._lock:
            tokens = self._read()
            if tokens.pop(key, None) is not None:
                self._write(tokens)

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, tokens: dict) -> None:
        """Write atomically: a temp file created 0600 in the same folder, then rename."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)  # mkstemp creates it 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(tokens, f)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class NoKeyringStore:
    """Real Procore, no keyring: holds nothing; saving a user sign-in explains how to get a keyring."""

    def load(self, key: str) -> dict | None:
        return None

    def save(self, key: str, token: dict) -> None:
        raise ConfigurationError(NO_KEYRING_HELP)

    def delete(self, key: str) -> None:
        return None


def _secret_entry(settings: Settings) -> str:
    return f"client-secret|{settings.key}"


def stored_client_secret(settings: Settings) -> str | None:
    """The app's client secret saved by `procore-xl setup` in the OS keyring, if any."""
    if not settings.client_id or not keyring_usable():
        return None
    try:
        return keyring.get_password(SERVICE_NAME, _secret_entry(settings))
    except keyring.errors.KeyringError:
        return None


def save_client_secret(settings: Settings, secret: str | None) -> None:
    """Keep (or with None forget) the app's client secret in the OS keyring."""
    if not keyring_usable():
        raise ConfigurationError(NO_KEYRING_HELP)
    try:
        if secret:
            keyring.set_password(SERVICE_NAME, _secret_entry(settings), secret)
        else:
            keyring.delete_password(SERVICE_NAME, _secret_entry(settings))
    except keyring.errors.PasswordDeleteError:
        pass
    except keyring.errors.KeyringError as exc:
        raise ConfigurationError(f"The OS keyring refused the client secret ({type(exc).__name__})") from None


def keyring_usable() -> bool:
    """False on a machine with no real keyring backend (keyring's fail/null backend, empty chainer)."""
    backend = keyring.get_keyring()
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return any(not isinstance(b, (fail.Keyring, null.Keyring)) for b in backend.backends)
    return True


def default_token_store(settings: Settings) -> TokenStore:
    """The keyring if there is one; else a 0600 file for the built-in sandbox; else a clear error.

    With no keyring but a client secret configured, returns a :class:`NoKeyringStore` so the
    client-credentials grant (tokens in memory only) keeps working.
    """
    if keyring_usable():
        return KeyringTokenStore()
    if settings.is_loopback:
        return SandboxFileTokenStore(data_dir() / SANDBOX_TOKEN_FILE)
    if settings.client_secret:
        return NoKeyringStore()
    raise ConfigurationError(NO_KEYRING_HELP)
