"""Commands about the app and the sign-in: setup, login, logout, whoami."""
from __future__ import annotations

import argparse
import sys

from ..errors import ConfigurationError
from .common import _company_id, _service, print


def cmd_setup(args: argparse.Namespace) -> int:
    """Settings to the per-user settings file, the client secret to the OS keyring. Nothing is
    written unless every step succeeds (a closed stdin at the secret prompt saves nothing)."""
    from ..environments import load_settings, save_settings_file, settings_path
    from ..tokens import save_client_secret

    values = {k: getattr(args, k) for k in ("env", "login_url", "api_url", "client_id", "redirect_uri")
              if getattr(args, k) is not None}
    blank = [k for k, v in values.items() if not str(v).strip()]
    if blank:
        raise ConfigurationError(f"--{blank[0].replace('_', '-')} is empty: give a value or leave the option out")
    if args.login_url or args.api_url:
        values["env"] = "custom"
    elif args.env:
        values.update(login_url=None, api_url=None)   # a preset replaces an earlier custom host pair
    load_settings(**{k: v for k, v in values.items() if v is not None})   # refuse bad values first
    secret = _read_client_secret(args)
    path = settings_path()
    previous = path.read_bytes() if path.exists() else None
    save_settings_file(values)
    try:
        settings = load_settings(allow_plaintext_keyring=args.allow_plaintext_keyring)
        where = save_client_secret(settings, secret) if secret else None
    except BaseException:          # setup did not finish: the settings file as it was
        if previous is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(previous)
        raise
    print(f"Settings saved to {path}: {settings.env} ({settings.api_url}), client id {settings.client_id}, "
          f"redirect URI {settings.redirect_uri}")
    if secret:
        print(f"Client secret saved in {where}.")
    return 0


def _read_client_secret(args: argparse.Namespace) -> str:
    """The secret from stdin (``--client-secret-stdin``, or stdin is not a terminal) or a hidden
    prompt; "" keeps the current one. A closed stdin is a ConfigurationError."""
    import getpass

    if args.no_secret:
        return ""
    try:
        if args.client_secret_stdin or not _stdin_is_a_terminal():
            line = sys.stdin.readline() if sys.stdin is not None else ""
            if not line:
                raise EOFError
            return line.strip()
        return getpass.getpass("Client secret of your Procore app (Enter to keep the current one): ").strip()
    except (EOFError, ValueError):          # ValueError: stdin was closed
        raise ConfigurationError("No client secret: standard input ended before one was given, so nothing "
                                 "was saved - run `procore-xl setup` in a terminal, pipe the secret in with "
                                 "--client-secret-stdin, or pass --no-secret") from None


def _stdin_is_a_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):            # closed
        return False


def cmd_login(args: argparse.Namespace) -> int:
    with _service(args) as service:
        browser = _sandbox_browser(service.settings) if args.sandbox_approve else None
        try:
            me = service.login(oob=args.oob, open_browser=browser,
                               read_code=(lambda: browser.shown_code) if browser else None)
        except EOFError:
            raise ConfigurationError("No code was pasted: standard input ended, so nothing was signed in - run "
                                     "`procore-xl login --oob` in a terminal and paste the code Procore "
                                     "shows") from None
        print(f"Signed in to {service.settings.env} as {me.get('name') or me.get('login')}.")
    return 0


def _sandbox_browser(settings):
    """``login --sandbox-approve``: the demo's stand-in browser presses Approve on the built-in
    sandbox's consent page, through the real authorization-code flow (state, PKCE, listener)."""
    from urllib.parse import urlsplit

    from ..environments import is_loopback_host
    from ..sandbox.browser import ConsentBrowser

    login = urlsplit(settings.login_url)
    if login.scheme != "http" or not is_loopback_host(login.hostname or ""):
        raise ConfigurationError(f"--sandbox-approve is for the built-in sandbox on this computer only; the login "
                                 f"host is {settings.login_url}: sign in in a browser, or with --oob")
    return ConsentBrowser()


def cmd_logout(args: argparse.Namespace) -> int:
    from ..auth import DAMAGED_FORGOTTEN, SIGNED_OUT

    with _service(args) as service:
        done = service.logout()
        if done == SIGNED_OUT:
            print(f"Signed out of {service.settings.env}; the tokens were revoked and removed.")
        elif done == DAMAGED_FORGOTTEN:
            print(f"The damaged sign-in kept for {service.settings.env} was removed (it could not be revoked: "
                  f"it did not read as one); sign in again with `procore-xl login`.")
        else:
            print(f"Not signed in to {service.settings.env}; nothing to do.")
    return 0


def cmd_whoami(args: argparse.Namespace) -> int:
    with _service(args) as service:
        me = service.whoami(_company_id(args.company))
        print(f"{me.get('name')} <{me.get('login')}> (user {me.get('id')}) on {service.settings.env}"
              f" [{service.settings.api_url}]")
    return 0


def _setup_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--client-secret-stdin", action="store_true", help="read the client secret from stdin")
    p.add_argument("--no-secret", action="store_true", help="do not ask for a client secret")


def _login_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--oob", action="store_true", help="paste the code instead of the loopback redirect")
    p.add_argument("--sandbox-approve", action="store_true",
                   help="built-in sandbox only: press Approve on its consent page for you, as its demo user "
                        "(a machine without a browser)")

