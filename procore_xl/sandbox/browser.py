"""The demo user's browser: approves the sandbox's consent page with plain HTTP.

The demo and the tests sign in through the real authorization-code flow (state, PKCE, the
loopback redirect listener); only the person clicking "Approve" is replaced by this class.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class _FormReader(HTMLParser):
    """Collects the first form's action and its hidden inputs, and the text of <code id="code">."""

    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.code: str | None = None
        self._in_code = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action") or ""
        elif tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif tag == "code" and attrs.get("id") == "code":
            self._in_code = True

    def handle_endtag(self, tag):
        if tag == "code":
            self._in_code = False

    def handle_data(self, data):
        if self._in_code:
            self.code = (self.code or "") + data.strip()


class ConsentBrowser:
    """Stands in for the user's browser on the sandbox's consent page (plain HTTP, no JS).

    Call it with the authorize URL (it is an ``open_browser``). ``approve=False`` presses Deny.
    After an out-of-band sign-in, ``shown_code`` is the code the page displays.
    """

    def __init__(self, approve: bool = True):
        self.approve = approve
        self.shown_code: str | None = None
        self.opened: list[str] = []
        self.final_status: int | None = None

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        with requests.Session() as http:
            page = http.get(url, timeout=10)
            page.raise_for_status()
            form = _FormReader()
            form.feed(page.text)
            decision = {**form.fields, "approve": "1" if self.approve else "0"}
            answer = http.post(urljoin(url, form.action), data=decision, timeout=10, allow_redirects=False)
        if answer.is_redirect:
            # to our loopback listener, with the code: fetched with the standard library, which
            # logs nothing (a browser's traffic is not in our logs)
            try:
                with urllib.request.urlopen(answer.headers["Location"], timeout=10) as landing:
                    self.final_status = landing.status
            except urllib.error.HTTPError as page:     # e.g. the listener's "sign-in denied" page
                self.final_status = page.code
            return True
        self.final_status = answer.status_code    # the out-of-band page shows the code
        shown = _FormReader()
        shown.feed(answer.text)
        self.shown_code = shown.code
        return True
