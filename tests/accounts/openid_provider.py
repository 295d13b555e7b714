"""A real OpenID Connect provider on loopback for the single sign-on tests: the certified
`oidc-provider` package from npm (package.json), run by node from `openid_provider.mjs`.

The `openid_provider` fixture starts one per test run on a free port and stops it at the end.
Tests add the people they sign in as, and take the browser's part at the provider with
`requests`: the app's side of the journey goes through the Flask test client, and the app
itself talks to the provider over HTTP (discovery, keys, the token endpoint), as in service.
"""

from __future__ import annotations

import json
import select
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from config import Config

SCRIPT = Path(__file__).with_suffix(".mjs")
ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "booking-service"
CLIENT_SECRET = "a-client-secret-for-the-test-provider"
ROLE_CLAIM = "roles"
ID_TOKEN_SECONDS = 600
PUBLIC_BASE_URL = Config.PUBLIC_BASE_URL
STARTUP_SECONDS = 20


class OpenIDProvider:
    def __init__(self):
        self.process: subprocess.Popen | None = None
        self.issuer = ""

    def start(self) -> OpenIDProvider:
        if shutil.which("node") is None or not (ROOT / "node_modules/oidc-provider").is_dir():
            raise RuntimeError("The OpenID provider needs node and `npm ci` (make test runs it)")
        client = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": PUBLIC_BASE_URL + "/login/oidc/callback",
            "post_logout_redirect_uri": PUBLIC_BASE_URL + "/login",
            "role_claim": ROLE_CLAIM,
            "id_token_seconds": ID_TOKEN_SECONDS,
        }
        self.process = subprocess.Popen(
            ["node", str(SCRIPT), json.dumps(client)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # its warnings about in-memory storage and dev keys
            text=True,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], STARTUP_SECONDS)
        line = self.process.stdout.readline().strip() if ready else ""
        if not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError("The OpenID provider did not start")
        self.issuer = line
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process.stdout.close()
            self.process = None

    def settings(self, role_claim: bool = False) -> dict:
        """The app's settings for signing in with this provider."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_ROLE_CLAIM": ROLE_CLAIM if role_claim else None,
        }

    def add_person(self, sub: str | None = None, **claims) -> str:
        """Someone who can sign in at the provider, with these claims; their subject."""
        sub = sub or f"person-{uuid.uuid4()}"
        added = requests.post(
            self.issuer + "/test/people", json={"sub": sub, "claims": claims}, timeout=10
        )
        added.raise_for_status()
        return sub

    def sign_in(self, authorization_url: str, sub: str, browser=None) -> str:
        """The browser at the provider: sign in as `sub`; the path (and query) of the app's
        page the provider sends the browser back to."""
        browser = browser or requests.Session()
        answer = browser.get(authorization_url, allow_redirects=False, timeout=10)
        form = self._url(answer.headers["Location"])
        answer = browser.post(form, data={"sub": sub}, allow_redirects=False, timeout=10)
        return self._back_to_app(browser, answer)

    def cancel(self, authorization_url: str) -> str:
        """The browser at the provider: cancel signing in; the app's page it is sent back to."""
        browser = requests.Session()
        answer = browser.get(authorization_url, allow_redirects=False, timeout=10)
        form = self._url(answer.headers["Location"])
        answer = browser.post(form, data={"refuse": "yes"}, allow_redirects=False, timeout=10)
        return self._back_to_app(browser, answer)

    def _back_to_app(self, browser, answer) -> str:
        for _ in range(10):
            location = answer.headers["Location"]
            if location.startswith(PUBLIC_BASE_URL + "/"):
                parts = urlsplit(location)
                return f"{parts.path}?{parts.query}"
            answer = browser.get(self._url(location), allow_redirects=False, timeout=10)
        raise AssertionError("The provider never sent the browser back to the app")

    def _url(self, location: str) -> str:
        return location if location.startswith("http") else self.issuer + location


@pytest.fixture(scope="session", name="openid_provider")
def openid_provider_fixture():
    provider = OpenIDProvider().start()
    try:
        yield provider
    finally:
        provider.stop()
