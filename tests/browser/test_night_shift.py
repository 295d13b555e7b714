"""The sergeant's booking journey in a real browser with the service's own controls on: the CSRF
check, the rate limits and an idle time-out (two minutes here, thirty in service). Nothing typed
is lost to browser Back, Forward or reload, to a browser's icon request racing the form, or to
the idle time-out, with its warning or after it.

The server's clock (the frozen clock) and the browser's (Playwright's) are moved together.
The clock is Wednesday 13 January 2027, 21:00 in London: no worker is on site anywhere.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from booking import create_app
from booking.extensions import db
from booking.models import Booking, Role
from tests.browser.conftest import (
    QuietHandler,
    axe_violations,
    count_bookings,
    describe_violations,
    settle,
    sign_in,
)
from tests.browser.journeys import (
    CUSTODY_RECORD,
    MOBILE,
    PERSON,
    fill_details,
    slot_radios,
    start_booking,
)
from tests.support import PASSWORD, email_of

pytestmark = pytest.mark.browser

IDLE_MINUTES = 2
ICON_LATE_BY = 1.5  # seconds


class LateIcon:
    """Answers the browser's guess at /favicon.ico late: worked out at once (with the session
    as it was when asked) and delivered after the form sent meanwhile has been answered."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.worked_out = threading.Event()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/favicon.ico":
            return self.wsgi_app(environ, start_response)
        held = {}

        def hold(status, headers, exc_info=None):
            held["answer"] = (status, headers)
            return lambda data: None

        body = b"".join(self.wsgi_app(environ, hold))
        self.worked_out.set()
        time.sleep(ICON_LATE_BY)
        start_response(*held["answer"])
        return [body]


@pytest.fixture
def service(app, schema, clock) -> Iterator[SimpleNamespace]:
    """The app as the service runs it (CSRF check and rate limits on, a short idle time-out),
    on the test database and clock, served on loopback: its base `url` and its late `icon`."""
    settle()
    served = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": schema,
            "CLOCK": clock,
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": True,
            "IDLE_TIMEOUT_MINUTES": IDLE_MINUTES,
            "SEND_FILE_MAX_AGE_DEFAULT": dt.timedelta(hours=1),
        }
    )
    assert served.config["WTF_CSRF_ENABLED"] and served.config["RATELIMIT_ENABLED"]
    icon = served.wsgi_app = LateIcon(served.wsgi_app)
    server = make_server("127.0.0.1", 0, served, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="service", daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", icon=icon)
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    with served.app_context():
        db.engine.dispose()


@pytest.fixture
def sergeant_page(service, open_page, users, rostered):
    """A sergeant signed in to the service, with the browser's clock under the test's hand.
    The service comes first so that it stops last: after the browser has closed its pages,
    never under a page still loading (which the browser would report as a reset)."""
    page = open_page(base_url=service.url)
    page.clock.install()
    sign_in(page, Role.SERGEANT)
    return page


def wait(page, clock, seconds: int) -> None:
    """Time passes with nothing done: on the server and in the browser alike."""
    clock.set(clock() + dt.timedelta(seconds=seconds))
    page.clock.fast_forward(seconds * 1000)


def booked_person() -> str:
    name = db.session.scalar(select(Booking.person_name))
    settle()
    return name


def expect_details_as_filled(page, mobile: str = MOBILE) -> None:
    expect(page).to_have_title(re.compile(r"^Record the test"))
    expect(page.get_by_label("Custody block")).to_have_value("stechford")
    expect(page.get_by_label("Custody record number")).to_have_value(CUSTODY_RECORD)
    expect(page.get_by_label("Full name")).to_have_value(PERSON)
    expect(page.get_by_label("Positive for cocaine", exact=True)).to_be_checked()
    expect(page.get_by_label("Time of the test")).to_have_value("20:15")
    disputed = page.get_by_role("group", name="Does the person dispute the result?")
    expect(disputed.get_by_label("No")).to_be_checked()
    expect(page.get_by_label("Mobile number (optional)")).to_have_value(mobile)
    texts = page.get_by_role("group", name="Does the person agree to text messages?")
    expect(texts.get_by_label("Yes")).to_be_checked()


def confirm_first_slot(page) -> None:
    slot_radios(page).first.check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Appointment booked")


def test_browser_back_forward_and_reload_keep_the_booking(sergeant_page, shoot):
    page = sergeant_page
    start_booking(page)
    fill_details(page)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/bookings/new/slot$"))

    page.go_back()
    expect_details_as_filled(page, mobile="+447700900123")
    shoot(page, "back-to-details")
    page.go_forward()
    expect(page).to_have_url(re.compile(r"/bookings/new/slot$"))
    expect(slot_radios(page)).to_have_count(10)
    page.reload()
    expect(slot_radios(page)).to_have_count(10)

    chosen = slot_radios(page).nth(1)
    chosen_value = chosen.get_attribute("value")
    chosen.check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Confirm booking")).to_be_visible()
    page.reload()
    expect(page.locator("main")).to_contain_text(PERSON)
    page.go_back()
    expect(page.locator(f"input[value='{chosen_value}']")).to_be_checked()
    page.go_forward()
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.locator(".govuk-panel")).to_contain_text("Appointment booked")
    assert count_bookings() == 1
    assert booked_person() == PERSON


def test_an_icon_request_answered_after_the_form_keeps_the_booking(sergeant_page, service):
    """The browser asks for /favicon.ico (from another tab here) as the form is sent, and the
    icon's answer (a 404) arrives after the form's: it must not put back the session as it was
    before the form, without the draft."""
    page = sergeant_page
    start_booking(page)
    fill_details(page)
    other = page.context.new_page()
    other.goto("/static/favicon.svg")
    other.evaluate("() => { window.icon = fetch('/favicon.ico').then((answer) => answer.status) }")
    assert service.icon.worked_out.wait(5), "the icon was asked for before the form was sent"
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/bookings/new/slot$"))
    assert other.evaluate("() => window.icon") == 404  # answered now, after the form's

    confirm_first_slot(page)
    assert booked_person() == PERSON


def test_the_time_out_warning_lets_the_sergeant_stay_signed_in(sergeant_page, clock, shoot):
    page = sergeant_page
    start_booking(page)
    fill_details(page)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_hidden()

    wait(page, clock, 70)  # the warning comes at half of a short time-out

    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(dialog.get_by_role("heading", name="You’re about to be signed out")).to_be_focused()
    # 50 seconds are left, less the real time the browser's clock has run on since the page
    # loaded (it ticks between the test's moves, and a busy machine is slow).
    expect(dialog).to_contain_text(re.compile(r"signed out in\s+([1-4]?[0-9]|50) seconds"))
    expect(dialog.get_by_role("link", name="Sign out")).to_be_visible()
    shoot(page, "warning")
    found = describe_violations(page.url, axe_violations(page))
    assert found == [], "\n".join(found)
    dialog.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()

    wait(page, clock, 55)  # 125 seconds since the page, 55 since staying signed in
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/bookings/new/slot$"))
    confirm_first_slot(page)
    assert booked_person() == PERSON


def test_signed_out_by_the_time_out_the_sergeant_signs_in_and_finds_every_field(
    sergeant_page, clock, shoot
):
    page = sergeant_page
    start_booking(page)
    fill_details(page)

    wait(page, clock, 125)

    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="You have been signed out")).to_be_focused()
    shoot(page, "signed-out")
    dialog.get_by_role("button", name="Carry on").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_title(re.compile(r"^Sign in"))
    expect(page.locator("main")).to_contain_text("signed out after a period of inactivity")
    page.get_by_label("Email address").fill(email_of(Role.SERGEANT))
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect_details_as_filled(page)
    expect(page.locator("main")).to_contain_text("You were signed out before this was sent")
    shoot(page, "filled-again")
    assert count_bookings() == 0
    page.get_by_role("button", name="Continue").click()
    confirm_first_slot(page)
    assert booked_person() == PERSON
