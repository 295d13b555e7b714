"""Signing in with the force's account, in Chromium, as the service runs (CSRF check, rate
limits, its own idle time-out), against the real OpenID provider on loopback: the sign-in page
offering it, a newcomer waiting for a role, a coordinator giving one, and the sign-in page that
offers to sign out at the provider too. Every page passes axe-core's checks."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from booking import create_app
from booking.extensions import db
from booking.models import Role
from tests.accounts.openid_provider import (
    openid_provider_fixture,  # noqa: F401  (the `openid_provider` fixture)
)
from tests.browser.conftest import (
    QuietHandler,
    axe_violations,
    describe_violations,
    settle,
    sign_in,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def service(app, schema, clock, openid_provider, users) -> Iterator[str]:
    """The service with the force's provider beside passwords, on the test database: its URL.
    The provider stamps its tokens with the real time, so the service's clock starts there."""
    clock.set(dt.datetime.now(dt.UTC).replace(microsecond=0))
    settle()
    served = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": schema,
            "CLOCK": clock,
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": True,
            "IDLE_TIMEOUT_MINUTES": 30,
            **openid_provider.settings(),
        }
    )
    server = make_server("127.0.0.1", 0, served, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="service", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    with served.app_context():
        db.engine.dispose()


def at_provider(page, openid_provider, sub: str) -> None:
    """Choose the force's account, sign in at the provider as `sub`, and come back: the
    provider's own pages are its business, so its part is played over HTTP, with the state
    the service put in this browser's session."""
    expect(page.get_by_role("button", name="Sign in with your force account")).to_be_visible()
    started = page.context.request.get(page.url.split("/login")[0] + "/login/oidc", max_redirects=0)
    assert started.status == 302
    back = openid_provider.sign_in(started.headers["location"], sub)
    page.goto(back)


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], "\n".join(describe_violations(page.url, violations))


def test_a_newcomer_signs_in_waits_for_a_role_and_is_given_one(service, open_page, openid_provider):
    sub = openid_provider.add_person(name="Jordan Newcomer", email="jordan@force.example")
    newcomer = open_page(base_url=service)
    newcomer.goto("/login")
    assert_accessible(newcomer)
    at_provider(newcomer, openid_provider, sub)
    expect(newcomer.get_by_text("Ask a coordinator to give you a role")).to_be_visible()
    assert_accessible(newcomer)

    coordinator = open_page(base_url=service)
    sign_in(coordinator, Role.COORDINATOR)
    coordinator.goto("/users")
    coordinator.get_by_role("link", name="Jordan Newcomer").click()
    assert_accessible(coordinator)
    coordinator.get_by_label("Role", exact=True).select_option(label="Custody sergeant")
    coordinator.get_by_role("button", name="Give this role").click()
    expect(
        coordinator.get_by_text("Gave Jordan Newcomer the role of custody sergeant")
    ).to_be_visible()

    newcomer.goto("/login")
    at_provider(newcomer, openid_provider, sub)
    expect(newcomer).to_have_url(service + "/")
    newcomer.get_by_role("link", name="Sign out").click()
    newcomer.get_by_role("button", name="Sign out").click()  # with the CSRF token
    expect(newcomer.get_by_role("link", name="Sign out of your force account too")).to_be_visible()
    assert_accessible(newcomer)
