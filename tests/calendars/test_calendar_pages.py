"""Calendar pages: an appointment's .ics from the web, the worker's feed address and its
revocation, and the coordinators' block feeds."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from booking.appointments import bookings
from booking.extensions import db
from booking.models import Block, Role
from tests.calendars.test_ics import assert_no_personal_data, exports, parse_ics
from tests.support import Page, auth, fill_rota, local

BASE = "http://127.0.0.1:5000"
FEED = re.compile(r"http://127\.0\.0\.1:5000/calendar/([A-Za-z0-9_-]+)\.ics")


@pytest.fixture
def booking(team, book):
    """An appointment on Thursday 14 January 2027 at 10:00 at Stechford, booked by a sergeant."""
    fill_rota(dt.date(2027, 1, 14), 1)
    return book(local(2027, 1, 14, 10, 0))


def as_calendar_app(app, path: str):
    """GET with no login, as a calendar app subscribing to the feed.

    In its own app context: the fixtures keep one open, so requests would share `g`, where
    Flask-Login caches the user signed in by an earlier request. The test's own transaction
    ends first: on SQLite every transaction holds the write lock.
    """
    db.session.commit()
    with app.app_context():
        return app.test_client().get(path)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# An appointment's calendar file, from the web


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.WORKER, Role.COORDINATOR])
def test_signed_in_user_downloads_the_appointment_and_the_download_is_audited(
    client, login, booking, users, blocks, role
):
    login(role)

    response = client.get(f"/bookings/{booking.reference}/calendar.ics")

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="appointment-{booking.reference}.ics"'
    )
    calendar = parse_ics(response.data)
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{booking.reference}@127.0.0.1"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == booking.starts_at
    assert event.decoded("DTEND") == booking.ends_at
    assert blocks["stechford"].address in str(event["LOCATION"])
    assert_no_personal_data(response.data)
    (exported,) = exports()
    assert (exported.reference, exported.user_id) == (booking.reference, users[role].id)


def test_downloaded_appointment_after_cancelling_is_a_cancellation(
    client, login, booking, users, clock
):
    bookings.cancel(booking, "Released", by=users[Role.SERGEANT], now=clock())
    db.session.commit()
    login(Role.SERGEANT)

    response = client.get(f"/bookings/{booking.reference}/calendar.ics")

    calendar = parse_ics(response.data)
    assert str(calendar["METHOD"]) == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert (event["SEQUENCE"], str(event["STATUS"])) == (1, "CANCELLED")


def test_analyst_cannot_download_an_appointment(client, login, booking):
    login(Role.ANALYST)
    response = client.get(f"/bookings/{booking.reference}/calendar.ics")
    assert response.status_code == 403
    assert not exports()


def test_appointment_download_needs_a_login(client, booking):
    response = client.get(f"/bookings/{booking.reference}/calendar.ics")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_download_of_an_unknown_reference_is_404(client, login, users):
    login(Role.SERGEANT)
    assert client.get("/bookings/ABCD-EFGH/calendar.ics").status_code == 404


# The worker's own feed


def test_worker_page_gives_the_https_address_and_a_webcal_link(app, client, login, users, tokens):
    app.config["PUBLIC_BASE_URL"] = "https://bookings.example.org"
    login(Role.WORKER)

    response = client.get("/calendar")

    assert response.status_code == 200
    text = page_text(response)
    worker = users[Role.WORKER].worker
    db.session.refresh(worker)
    path = f"/calendar/{worker.calendar_token}.ics"
    assert f'value="https://bookings.example.org{path}"' in text
    assert f'href="webcal://bookings.example.org{path}"' in text
    assert "Get a new address" in text
    # The API gives the same address.
    api = client.get("/api/v1/me/calendar", headers=auth(tokens[Role.WORKER]))
    assert api.get_json() == {"url": f"https://bookings.example.org{path}"}


def test_worker_page_address_is_a_working_feed(app, client, login, users):
    login(Role.WORKER)
    url = FEED.search(page_text(client.get("/calendar"))).group(0)

    response = as_calendar_app(app, url.removeprefix(BASE))

    assert response.status_code == 200
    assert str(parse_ics(response.data)["X-WR-CALNAME"]) == "On site: Test worker"


def test_get_a_new_address_revokes_the_old_one(app, client, login, users):
    login(Role.WORKER)
    old = FEED.search(page_text(client.get("/calendar"))).group(0).removeprefix(BASE)

    response = client.post("/calendar/new-address")

    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "The old one no longer works" in page_text(page)
    new = FEED.search(page_text(page)).group(0).removeprefix(BASE)
    assert new != old
    assert as_calendar_app(app, old).status_code == 404
    assert as_calendar_app(app, new).status_code == 200
    db.session.refresh(users[Role.WORKER].worker)
    assert new == f"/calendar/{users[Role.WORKER].worker.calendar_token}.ics"


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.COORDINATOR, Role.ANALYST])
def test_the_feed_page_is_for_workers_only(client, login, users, role):
    login(role)
    assert client.get("/calendar").status_code == 403
    assert client.get("/calendar/new-address").status_code == 403
    assert client.post("/calendar/new-address").status_code == 403


def test_get_a_new_address_asks_first_and_only_the_confirmation_changes_it(client, login, users):
    login(Role.WORKER)
    feed = page_text(client.get("/calendar"))
    old = FEED.search(feed).group(1)
    assert 'href="/calendar/new-address"' in feed, "the button asks, it does not act"

    asked = client.get("/calendar/new-address")
    assert client.post("/calendar").status_code == 405, "the feed page changes nothing"

    page = Page(page_text(asked))
    assert asked.status_code == 200
    assert "Existing subscriptions will stop working" in page.text
    assert page.href("Cancel") == "/calendar"
    assert '<form method="post"' in page.html and "Get a new address</button>" in page.html
    db.session.refresh(users[Role.WORKER].worker)
    assert users[Role.WORKER].worker.calendar_token == old, "asking changes nothing"


# Block feeds, for coordinators


def test_coordinator_sees_each_blocks_feed_address(client, login, users, blocks):
    login(Role.COORDINATOR)

    response = client.get("/calendar/blocks")

    assert response.status_code == 200
    text = page_text(response)
    for block in blocks.values():
        db.session.refresh(block)
        assert block.calendar_token
        assert f"{BASE}/calendar/{block.calendar_token}.ics" in text
        assert f"webcal://127.0.0.1:5000/calendar/{block.calendar_token}.ics" in text
    assert len(set(FEED.findall(text))) == 6


def test_new_address_for_a_block_revokes_only_that_blocks_old_one(
    app, client, login, users, blocks
):
    login(Role.COORDINATOR)
    client.get("/calendar/blocks")
    before = {
        code: db.session.scalar(select(Block.calendar_token).where(Block.code == code))
        for code in blocks
    }

    asked = client.get("/calendar/blocks/stechford/new-address")
    assert "Existing subscriptions will stop working" in page_text(asked)
    assert Page(page_text(asked)).href("Cancel") == "/calendar/blocks"
    db.session.expire_all()
    assert blocks["stechford"].calendar_token == before["stechford"], "asking changes nothing"

    response = client.post("/calendar/blocks/stechford/new-address")

    assert response.status_code == 302
    db.session.expire_all()
    after = {code: block.calendar_token for code, block in blocks.items()}
    assert after["stechford"] != before["stechford"]
    assert {c: t for c, t in after.items() if c != "stechford"} == {
        c: t for c, t in before.items() if c != "stechford"
    }
    assert as_calendar_app(app, f"/calendar/{before['stechford']}.ics").status_code == 404
    assert as_calendar_app(app, f"/calendar/{after['stechford']}.ics").status_code == 200
    assert as_calendar_app(app, f"/calendar/{after['oldbury']}.ics").status_code == 200


def test_new_address_for_an_unknown_block_is_404(client, login, users):
    login(Role.COORDINATOR)
    assert client.get("/calendar/blocks/nowhere/new-address").status_code == 404
    assert client.post("/calendar/blocks/nowhere/new-address").status_code == 404


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.WORKER, Role.ANALYST])
def test_block_feeds_page_is_for_coordinators_only(client, login, users, role):
    login(role)
    assert client.get("/calendar/blocks").status_code == 403
    assert client.get("/calendar/blocks/stechford/new-address").status_code == 403
    assert client.post("/calendar/blocks/stechford/new-address").status_code == 403
