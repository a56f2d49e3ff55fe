"""Where Procore lives and which app signs in: environment presets and :class:`Settings`.

Settings come from four layers, highest first:

1. flags (keyword arguments of :func:`load_settings`),
2. environment variables ``PROCORE_ENV``, ``PROCORE_LOGIN_URL``, ``PROCORE_API_URL``,
   ``PROCORE_CLIENT_ID``, ``PROCORE_CLIENT_SECRET``, ``PROCORE_REDIRECT_URI``,
3. the per-user settings file (JSON, see :func:`settings_path`),
4. the environment preset (production unless told otherwise).

Explicit login/API URLs make the environment ``custom`` (the built-in sandbox uses that).

``PROCORE_ALLOW_PLAINTEXT_KEYRING=1`` (or the ``--allow-plaintext-keyring`` flag) lets a real
Procore environment keep its sign-in in a file or plaintext keyring backend (a bare server);
it is never read from the settings file.
"""
from __future__ import annotations

import ipaddress
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from .errors import ConfigurationError

DEFAULT_REDIRECT_URI = "http://localhost:8765/callback"
OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"
CUSTOM = "custom"
APP_FOLDER = "procore-xl"
SETTINGS_FILE_NAME = "settings.json"
ALLOW_PLAINTEXT_KEYRING_VARIABLE = "PROCORE_ALLOW_PLAINTEXT_KEYRING"


@dataclass(frozen=True)
class Environment:
    name: str
    login_url: str
    api_url: str


ENVIRONMENTS: dict[str, Environment] = {
    env.name: env
    for env in (
        Environment("production", "https://login.procore.com", "https://api.procore.com"),
        Environment("sandbox", "https://login-sandbox.procore.com", "https://sandbox.procore.com"),
        Environment("monthly", "https://login-sandbox-monthly.procore.com", "https://api-monthly.procore.com"),
        Environment("federal", "https://login.procoregov.com", "https://api.procoregov.com"),
    )
}

_ENV_ALIASES = {"prod": "production", "developer": "sandbox", "dev": "sandbox", "gov": "federal"}


@dataclass
class Settings:
    """Everything needed to sign in to one Procore environment with one app."""

    env: str
    login_url: str
    api_url: str
    client_id: str | None
    client_secret: str | None = field(default=None, repr=False)
    redirect_uri: str = DEFAULT_REDIRECT_URI
    # With no user sign-in, may the client secret sign in as the app's service account (client
    # credentials)? Yes for a secret given for unattended runs (PROCORE_CLIENT_SECRET, a flag); no
    # for one kept in the keyring for a person's own sign-in (`procore-xl setup`).
    service_account: bool = True
    # May a real Procore environment keep its sign-in in a file / plaintext keyring backend?
    # Only when the user says so (PROCORE_ALLOW_PLAINTEXT_KEYRING=1, --allow-plaintext-keyring).
    allow_plaintext_keyring: bool = False

    @property
    def key(self) -> str:
        """Token-store entry name: one sign-in per environment and app.

        Custom environments include the login URL, so two sandboxes never share a token.
        """
        where = f"{CUSTOM} {self.login_url}" if self.env == CUSTOM else self.env
        return f"{where}|{self.client_id}"

    @property
    def is_loopback(self) -> bool:
        """True when the API host is this machine (the built-in sandbox)."""
        return is_loopback_host(urlsplit(self.api_url).hostname or "")

    def require_client_id(self) -> str:
        if not self.client_id:
            raise ConfigurationError(_missing_client_id_message())
        return self.client_id


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------- folders

def config_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Folder of the per-user settings file (``PROCORE_XL_HOME`` overrides it)."""
    return _user_dir(environ, windows=("APPDATA", "Roaming"), xdg=("XDG_CONFIG_HOME", ".config"))


def data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Folder for per-user data such as the built-in sandbox's token file."""
    return _user_dir(environ, windows=("LOCALAPPDATA", "Local"), xdg=("XDG_DATA_HOME", ".local/share"))


def _user_dir(environ: Mapping[str, str], *, windows: tuple[str, str], xdg: tuple[str, str]) -> Path:
    """``PROCORE_XL_HOME``, else the platform's per-user folder: on Windows the variable in
    ``windows`` (or its usual place under AppData), on macOS Application Support, elsewhere the
    XDG variable in ``xdg`` (or its default under the home folder)."""
    if environ.get("PROCORE_XL_HOME"):
        return Path(environ["PROCORE_XL_HOME"]).expanduser()
    if sys.platform == "win32":
        variable, default = windows
        return Path(environ.get(variable) or Path.home() / "AppData" / default) / APP_FOLDER
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_FOLDER
    variable, default = xdg
    return Path(environ.get(variable) or Path.home() / default) / APP_FOLDER


def settings_path(environ: Mapping[str, str] = os.environ) -> Path:
    """The per-user settings file (JSON)."""
    return config_dir(environ) / SETTINGS_FILE_NAME


# --------------------------------------------------------------------------- loading

@dataclass(frozen=True)
class _Value:
    value: str
    source: str  # how the user set it, for error messages ("PROCORE_API_URL", "--api-url", ...)
    rank: int  # 0 = flag (highest) ... 2 = settings file


_FIELDS = {
    # field: (flag name, environment variable)
    "env": ("--env", "PROCORE_ENV"),
    "login_url": ("--login-url", "PROCORE_LOGIN_URL"),
    "api_url": ("--api-url", "PROCORE_API_URL"),
    "client_id": ("--client-id", "PROCORE_CLIENT_ID"),
    "client_secret": ("--client-secret", "PROCORE_CLIENT_SECRET"),
    "redirect_uri": ("--redirect-uri", "PROCORE_REDIRECT_URI"),
}
# The settings file holds no secret: the client secret lives in the OS keyring (`procore-xl setup`)
# or, for unattended runs, in PROCORE_CLIENT_SECRET.
SETTINGS_FILE_FIELDS = tuple(k for k in _FIELDS if k != "client_secret")


def load_settings(
    *,
    env: str | None = None,
    login_url: str | None = None,
    api_url: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    redirect_uri: str | None = None,
    allow_plaintext_keyring: bool | None = None,
    settings_file: str | os.PathLike | None = None,
    environ: Mapping[str, str] = os.environ,
    require_client_id: bool = True,
) -> Settings:
    """Merge flags > environment variables > settings file > preset into :class:`Settings`.

    Raises :class:`ConfigurationError` (one line saying what to fix) for an unknown
    environment, a bad URL, or (unless ``require_client_id=False``) a missing client id.
    """
    path = Path(settings_file) if settings_file else settings_path(environ)
    flags = dict(env=env, login_url=login_url, api_url=api_url, client_id=client_id,
                 client_secret=client_secret, redirect_uri=redirect_uri)
    layers = [
        {k: (v, _FIELDS[k][0]) for k, v in flags.items()},
        {k: (environ.get(var), var) for k, (_, var) in _FIELDS.items()},
        {k: (v, f'"{k}" in {path}') for k, v in _read_settings_file(path).items()},
    ]

    def pick(name: str) -> _Value | None:
        for rank, layer in enumerate(layers):
            value, source = layer.get(name, (None, ""))
            if value is not None and str(value).strip():
                return _Value(str(value).strip(), source, rank)
        return None

    environment = _resolve_environment(pick("env"), pick("login_url"), pick("api_url"))
    cid, secret, redirect = pick("client_id"), pick("client_secret"), pick("redirect_uri")
    settings = Settings(
        env=environment.name,
        login_url=environment.login_url,
        api_url=environment.api_url,
        client_id=cid.value if cid else None,
        client_secret=secret.value if secret else None,
        redirect_uri=_check_redirect_uri(redirect) if redirect else DEFAULT_REDIRECT_URI,
        allow_plaintext_keyring=bool(allow_plaintext_keyring) or _yes(environ.get(ALLOW_PLAINTEXT_KEYRING_VARIABLE)),
    )
    if require_client_id:
        settings.require_client_id()
    return settings


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _resolve_environment(env: _Value | None, login: _Value | None, api: _Value | None) -> Environment:
    urls_rank = min((v.rank for v in (login, api) if v), default=None)
    preset_wins = env is not None and env.value.lower() != CUSTOM and (urls_rank is None or env.rank < urls_rank)
    if preset_wins or (env is None and urls_rank is None):
        return _preset(env)
    if not (login and api):
        given, missing = (login, "PROCORE_API_URL / --api-url") if login else (api, "PROCORE_LOGIN_URL / --login-url")
        if given is None:
            raise ConfigurationError(
                "PROCORE_ENV is 'custom' but no URLs are set: set PROCORE_LOGIN_URL and PROCORE_API_URL")
        raise ConfigurationError(
            f"{given.source} is set but {missing} is not: a custom environment needs both the login and the API URL")
    return Environment(CUSTOM, _check_url(login), _check_url(api))


def environment_name(text: str) -> str:
    """An environment name as written (any case, or an alias such as ``prod``) as its canonical
    name; not checked against the known environments."""
    name = text.lower()
    return _ENV_ALIASES.get(name, name)


def _preset(env: _Value | None) -> Environment:
    if env is None:
        return ENVIRONMENTS["production"]
    name = environment_name(env.value)
    if name not in ENVIRONMENTS:
        choices = ", ".join([*ENVIRONMENTS, CUSTOM])
        raise ConfigurationError(f"Unknown Procore environment {env.value!r} in {env.source}: use one of {choices}")
    return ENVIRONMENTS[name]


def _check_url(value: _Value) -> str:
    url = value.value.rstrip("/")
    parts = urlsplit(url)
    example = "e.g. https://api.procore.com"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{value.source} {value.value!r} is not a web address: use a full URL, {example}")
    if parts.path or parts.query or parts.fragment:
        raise ConfigurationError(
            f"{value.source} {value.value!r} must be just scheme and host (no path): {example}")
    try:
        _ = parts.port  # urllib raises ValueError for a port that is not a number in range
    except ValueError:
        raise ConfigurationError(f"{value.source} {value.value!r} has an invalid port: {example}") from None
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigurationError(
            f"{value.source} {value.value!r} must use https:// (plain http is only allowed for this machine)")
    return url


def _check_redirect_uri(value: _Value) -> str:
    uri = value.value
    if uri == OOB_REDIRECT_URI:
        return uri
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{value.source} {uri!r} is not a redirect URI: use e.g. {DEFAULT_REDIRECT_URI} or {OOB_REDIRECT_URI}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigurationError(
            f"{value.source} {uri!r} must use https:// (plain http is only allowed for localhost)")
    return uri


def _read_settings_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigurationError(f"Cannot read settings file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:          # garbled bytes: the same one line as any unreadable JSON
        raise ConfigurationError(f"Settings file {path} is not valid JSON (not UTF-8 text): fix or delete it") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"Settings file {path} is not valid JSON (line {exc.lineno}): fix or delete it") from None
    except RecursionError:              # nested past Python's limit: no settings file is
        raise ConfigurationError(f"Settings file {path} is not valid JSON (nested too deep): fix or delete it") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"Settings file {path} must hold a JSON object like {{\"client_id\": \"...\"}}")
    if "client_secret" in data:
        raise ConfigurationError(
            f"Settings file {path} holds a client secret: remove it and run `procore-xl setup` to keep it "
            f"in the OS keyring (or set PROCORE_CLIENT_SECRET for unattended runs)")
    unknown = sorted(set(data) - set(SETTINGS_FILE_FIELDS))
    if unknown:
        raise ConfigurationError(
            f"Settings file {path} has unknown key(s) {', '.join(unknown)}: allowed are "
            f"{', '.join(SETTINGS_FILE_FIELDS)}")
    return {k: v for k, v in data.items() if v is not None}


def save_settings_file(values: Mapping[str, str | None], path: str | os.PathLike | None = None) -> Path:
    """Merge ``values`` into the per-user settings file (never a secret; None removes a key)."""
    path = Path(path) if path else settings_path()
    data = _read_settings_file(path)
    for key, value in values.items():
        if key not in SETTINGS_FILE_FIELDS:
            raise ConfigurationError(f"{key} does not belong in the settings file")
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def _missing_client_id_message() -> str:
    return ("No Procore client id: set PROCORE_CLIENT_ID (and PROCORE_CLIENT_SECRET), or add \"client_id\" "
            f"to {settings_path()}, or pass --client-id")
