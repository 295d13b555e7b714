"""Calendar files: an appointment's .ics, a worker's feed and a block's feed, as clients read them.

Every file is checked on the wire (CRLF lines folded to 75 octets, VERSION, PRODID, a VTIMEZONE
for every TZID) and parsed back with the icalendar library.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar, vText
from sqlalchemy import select

from booking.appointments import bookings
from booking.appointments.slots import SlotRules
from booking.calendars import feeds as calendars
from booking.clock import LONDON
from booking.extensions import db
from booking.models import AuditEvent, Block, Booking, BookingStatus, Role, Shift, Worker
from booking.rota import changes as rota_changes
from booking.rota import generate as rota
from tests.support import add_worker, auth, booking_body, fill_rota, local, on_site

RULES = SlotRules()
CRLF = b"\r\n"
PERSONAL = ["Jamie", "Testperson", "20/123456/27", "+447700900123", "07700 900123", "900123"]


def unfold(body: bytes) -> str:
    return body.replace(b"\r\n ", b"").replace(b"\r\n\t", b"").decode()


def parse_ics(body: bytes) -> Calendar:
    """Check an iCalendar file as bytes on the wire, then parse it back."""
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert body.endswith(b"END:VCALENDAR\r\n")
    lines = body[: -len(CRLF)].split(CRLF)
    assert not [line for line in lines if b"\n" in line or b"\r" in line], "bare CR or LF"
    assert not [line for line in lines if len(line) > 75], "a line over 75 octets"
    text = unfold(body)
    assert "\r\nVERSION:2.0\r\n" in text
    assert re.search(r"\r\nPRODID:\S", text)

    calendar = Calendar.from_ical(body)
    assert calendar.to_ical() == body  # nothing lost or changed on the way through
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"])
    used = set(re.findall(r";TZID=([^;:]+)", text))
    defined = {str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")}
    assert used <= defined, f"TZID without a VTIMEZONE: {used - defined}"
    for event in calendar.walk("VEVENT"):
        for name in ("DTSTART", "DTEND"):
            assert event[name].params["TZID"] == "Europe/London"
            assert event.decoded(name).utcoffset() is not None
    return calendar


def assert_no_personal_data(body: bytes) -> None:
    text = unfold(body).lower()
    for value in PERSONAL:
        assert value.lower() not in text
    assert "drug" not in text


def events(calendar: Calendar, uid_prefix: str = "") -> list:
    return [e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith(uid_prefix)]


def event_with_uid(calendar: Calendar, uid: str):
    (event,) = [e for e in calendar.walk("VEVENT") if str(e["UID"]) == uid]
    return event


def exports() -> list[AuditEvent]:
    """The audit trail's calendar_exported events."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "calendar_exported")
    ).all()


def uid_of(booking) -> str:
    return f"appointment-{booking.reference}@127.0.0.1"


@pytest.fixture
def other(blocks) -> Worker:
    return add_worker("Sam Hollis", blocks["oldbury"])


@pytest.fixture
def roster(blocks, clock):
    """Put a worker on a block's cover window of a local date, as the rota would."""

    def put(worker: Worker, code: str, day: dt.date) -> Shift:
        (window,) = rota.cover_windows(blocks[code], day)
        return on_site(worker, blocks[code], window.starts_at, window.ends_at, updated_at=clock())

    return put


def feed_path(owner) -> str:
    path = urlsplit(calendars.feed_url(owner, "http://127.0.0.1:5000")).path
    db.session.commit()
    return path


@pytest.fixture
def get_feed(client):
    """GET a feed as a calendar app would (no login); check and parse a 200."""

    def get(path: str, **headers):
        response = client.get(path, headers=headers)
        if response.status_code == 200:
            assert response.mimetype == "text/calendar"
            response.calendar = parse_ics(response.data)
        return response

    return get


# The appointment as a file (API)

THURSDAY = dt.date(2027, 1, 14)  # the clock: Wednesday 13 January 2027, 21:00


@pytest.fixture
def sergeant_api(client, tokens, team):
    fill_rota(THURSDAY, 2)

    def call(method: str, path: str, body=None):
        return client.open(
            f"/api/v1{path}", method=method, json=body, headers=auth(tokens[Role.SERGEANT])
        )

    return call


def ics_via_api(call, reference: str) -> tuple[bytes, Calendar]:
    response = call("GET", f"/bookings/{reference}/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return response.data, parse_ics(response.data)


def test_booking_file_is_one_neutral_event_at_the_block_and_is_audited(sergeant_api, blocks):
    slot = sergeant_api("GET", "/slots?block=stechford&limit=1").get_json()[0]
    booked = sergeant_api("POST", "/bookings", booking_body(slot)).get_json()

    body, calendar = ics_via_api(sergeant_api, booked["reference"])

    assert b"\r\nMETHOD:REQUEST\r\n" in body
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{booked['reference']}@127.0.0.1"
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == dt.datetime.fromisoformat(booked["starts_at"])
    assert event.decoded("DTEND") == dt.datetime.fromisoformat(booked["ends_at"])
    assert blocks["stechford"].address in str(event["LOCATION"])
    summary = str(event["SUMMARY"])
    assert booked["reference"] in summary
    assert_no_personal_data(body)

    assert [(e.reference, e.user.role) for e in exports()] == [(booked["reference"], Role.SERGEANT)]


def test_booking_file_keeps_its_uid_and_raises_its_sequence_on_rearrange_and_cancel(
    sergeant_api,
):
    first, second = sergeant_api("GET", "/slots?block=stechford&limit=2").get_json()
    reference = sergeant_api("POST", "/bookings", booking_body(first)).get_json()["reference"]
    _, booked = ics_via_api(sergeant_api, reference)

    moved = sergeant_api(
        "POST",
        f"/bookings/{reference}/rearrange",
        {"block": second["block"], "starts_at": second["starts_at"]},
    )
    assert moved.status_code == 200
    _, rearranged = ics_via_api(sergeant_api, reference)

    cancel = sergeant_api("POST", f"/bookings/{reference}/cancel", {"reason": "Released"})
    assert cancel.status_code == 200
    body, cancelled = ics_via_api(sergeant_api, reference)

    files = [booked, rearranged, cancelled]
    (uid,) = {str(event["UID"]) for f in files for event in f.walk("VEVENT")}
    assert uid == f"appointment-{reference}@127.0.0.1"
    assert [f.walk("VEVENT")[0]["SEQUENCE"] for f in files] == [0, 1, 2]
    assert [str(f["METHOD"]) for f in files] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [str(f.walk("VEVENT")[0]["STATUS"]) for f in files] == [
        "CONFIRMED",
        "CONFIRMED",
        "CANCELLED",
    ]
    moved_start = rearranged.walk("VEVENT")[0].decoded("DTSTART")
    assert moved_start == dt.datetime.fromisoformat(second["starts_at"])
    assert b"\r\nMETHOD:CANCEL\r\n" in body
    assert b"\r\nSTATUS:CANCELLED\r\n" in body
    assert b"\r\nSEQUENCE:2\r\n" in body


def test_booking_file_of_an_unknown_reference_is_404(sergeant_api):
    assert sergeant_api("GET", "/bookings/ABCD-EFGH/calendar.ics").status_code == 404


def test_booking_file_is_refused_to_analysts(sergeant_api, client, tokens):
    slot = sergeant_api("GET", "/slots?limit=1").get_json()[0]
    reference = sergeant_api("POST", "/bookings", booking_body(slot)).get_json()["reference"]

    response = client.get(
        f"/api/v1/bookings/{reference}/calendar.ics", headers=auth(tokens[Role.ANALYST])
    )

    assert response.status_code == 403
    assert response.get_json()["error"]
    assert not exports()


# Instants across the 2027 clock changes

CLOCK_CHANGES = {
    # Clocks go forward on Sunday 28 March 2027: Monday is BST (UTC+1). It is Easter Monday, a
    # bank holiday, so appointments are at Perry Barr, one of the blocks with weekend cover.
    "spring": (dt.datetime(2027, 3, 23, 21, 0), dt.date(2027, 3, 29), dt.timedelta(hours=1)),
    # Clocks go back on Sunday 31 October 2027: Monday 1 November is GMT (UTC+0).
    "autumn": (dt.datetime(2027, 10, 28, 21, 0), dt.date(2027, 11, 1), dt.timedelta(0)),
}


@pytest.mark.parametrize("change", CLOCK_CHANGES)
def test_booking_file_times_are_the_booked_instants_after_a_clock_change(
    change, clock, team, users, tokens, book, client
):
    clock_at, monday, offset = CLOCK_CHANGES[change]
    clock.set_local(*clock_at.timetuple()[:5])
    fill_rota(monday, 1)
    booking = book(local(monday.year, monday.month, monday.day, 10, 0), "perry-barr")

    response = client.get(
        f"/api/v1/bookings/{booking.reference}/calendar.ics", headers=auth(tokens[Role.SERGEANT])
    )
    calendar = parse_ics(response.data)

    (event,) = calendar.walk("VEVENT")
    starts, ends = event.decoded("DTSTART"), event.decoded("DTEND")
    assert starts == booking.starts_at
    assert ends == booking.ends_at
    assert starts.astimezone(LONDON).time() == dt.time(10, 0)
    assert ends.astimezone(LONDON).time() == dt.time(10, 30)
    assert starts.astimezone(LONDON).utcoffset() == offset
    assert f"DTSTART;TZID=Europe/London:{monday:%Y%m%d}T100000\r\n" in unfold(response.data)
    assert f"DTEND;TZID=Europe/London:{monday:%Y%m%d}T103000\r\n" in unfold(response.data)


@pytest.mark.parametrize("change", CLOCK_CHANGES)
def test_the_files_own_vtimezone_agrees_with_the_tz_database_around_the_change(
    change, clock, me, roster, book, get_feed
):
    """A client that reads the VTIMEZONE rather than its own tz database gets the same times."""
    clock_at, monday, _ = CLOCK_CHANGES[change]
    clock.set_local(*clock_at.timetuple()[:5])
    roster(me, "stechford", monday - dt.timedelta(days=4))
    roster(me, "perry-barr", monday)
    book(local(monday.year, monday.month, monday.day, 10, 0), "perry-barr")

    calendar = get_feed(feed_path(me)).calendar

    (vtimezone,) = calendar.walk("VTIMEZONE")
    own_zone = vtimezone.to_tz()
    for event in calendar.walk("VEVENT"):
        for name in ("DTSTART", "DTEND"):
            wall = event.decoded(name).replace(tzinfo=None)
            assert (
                wall.replace(tzinfo=own_zone).utcoffset() == wall.replace(tzinfo=LONDON).utcoffset()
            )


# The worker's feed


def test_my_calendar_gives_the_worker_the_url_of_their_feed(client, tokens, me, get_feed):
    response = client.get("/api/v1/me/calendar", headers=auth(tokens[Role.WORKER]))

    assert response.status_code == 200
    url = response.get_json()["url"]
    db.session.refresh(me)
    assert url == f"http://127.0.0.1:5000/calendar/{me.calendar_token}.ics"
    assert len(me.calendar_token) >= 32
    # Asking again gives the same address: subscriptions keep working.
    again = client.get("/api/v1/me/calendar", headers=auth(tokens[Role.WORKER]))
    assert again.get_json()["url"] == url
    assert get_feed(urlsplit(url).path).status_code == 200


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.COORDINATOR, Role.ANALYST])
def test_my_calendar_is_for_workers_only(client, tokens, role):
    response = client.get("/api/v1/me/calendar", headers=auth(tokens[role]))
    assert response.status_code == 403
    assert response.get_json()["error"]


def test_my_calendar_needs_a_token(client, tokens):
    assert client.get("/api/v1/me/calendar").status_code == 401
    bad = client.get("/api/v1/me/calendar", headers=auth("not-a-token"))
    assert bad.status_code == 401


def test_worker_feed_lists_shifts_and_appointments_by_reference_and_place_only(
    me, roster, book, get_feed, blocks
):
    thursday = roster(me, "stechford", THURSDAY)
    roster(me, "stechford", THURSDAY + dt.timedelta(days=1))
    booking = book(local(2027, 1, 14, 10, 0))

    response = get_feed(feed_path(me))

    assert response.status_code == 200
    calendar = response.calendar
    shifts = events(calendar, "shift-")
    assert [str(s["SUMMARY"]) for s in shifts] == ["On site at Stechford"] * 2
    assert shifts[0].decoded("DTSTART") == thursday.starts_at
    assert shifts[0].decoded("DTEND") == thursday.ends_at
    (appointment,) = events(calendar, "appointment-")
    assert str(appointment["UID"]) == uid_of(booking)
    assert booking.reference in str(appointment["SUMMARY"])
    assert "Stechford" in str(appointment["SUMMARY"])
    assert blocks["stechford"].address in str(appointment["LOCATION"])
    assert appointment.decoded("DTSTART") == booking.starts_at
    assert str(appointment["STATUS"]) == "CONFIRMED"
    assert "METHOD" not in calendar  # a published feed, not an invitation
    assert_no_personal_data(response.data)


def test_worker_feed_is_named_and_asks_for_an_hourly_refresh(me, get_feed):
    response = get_feed(feed_path(me))

    text = unfold(response.data)
    assert str(response.calendar["X-WR-CALNAME"]) == "On site: Test worker"
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in text
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in text
    assert response.calendar.decoded("REFRESH-INTERVAL") == dt.timedelta(hours=1)


@pytest.mark.parametrize(
    "name",
    ["Sam\r\nBEGIN:VEVENT\r\nSUMMARY:Forged", "Sam\nX-FORGED:1", "Sam; Lee, Jr"],
)
def test_a_name_that_holds_a_line_break_cannot_add_lines_to_the_feed(me, get_feed, name):
    # An old row: names are refused with control characters now, but the feed must not trust it.
    me.name = name
    db.session.commit()
    response = get_feed(feed_path(me))

    assert response.status_code == 200
    lines = unfold(response.data).split("\r\n")
    assert [line for line in lines if line.startswith("X-WR-CALNAME")] == [
        "X-WR-CALNAME:On site: " + vText(name).to_ical().decode()
    ]
    assert not [line for line in lines if line.startswith(("SUMMARY:Forged", "X-FORGED"))]
    assert response.calendar.walk("VEVENT") == []


def test_worker_feed_covers_two_weeks_back_to_eight_weeks_ahead(me, roster, book, clock, get_feed):
    # The clock: Wednesday 13 January 2027 21:00 UTC. Two weeks back is 30 December 21:00,
    # eight weeks ahead is 10 March 21:00.
    days = {
        dt.date(2026, 12, 30): False,  # ended 20:00, before the window opens
        dt.date(2026, 12, 31): True,
        dt.date(2027, 3, 10): True,
        dt.date(2027, 3, 11): False,
    }
    shifts = {roster(me, "stechford", day).id: inside for day, inside in days.items()}
    roster(me, "stechford", THURSDAY)
    booking = book(local(2027, 1, 14, 10, 0))
    path = feed_path(me)

    shown = {str(e["UID"]) for e in get_feed(path).calendar.walk("VEVENT")}
    for shift_id, inside in shifts.items():
        assert (f"shift-{shift_id}@127.0.0.1" in shown) is inside

    # The appointment stays until two weeks after it started, then leaves.
    clock.set(booking.starts_at + dt.timedelta(weeks=2, minutes=-1))
    assert events(get_feed(path).calendar, "appointment-")
    clock.set(booking.starts_at + dt.timedelta(weeks=2, minutes=1))
    assert not events(get_feed(path).calendar, "appointment-")


SHIFT_DAYS = {
    # Thursday (GMT), Sunday of the change and Easter Monday (BST) where there is weekend cover.
    "spring": [
        (dt.date(2027, 3, 25), "stechford", 7),
        (dt.date(2027, 3, 28), "perry-barr", 6),
        (dt.date(2027, 3, 29), "perry-barr", 6),
    ],
    # Friday (BST), Sunday of the change (GMT from 02:00), Monday (GMT).
    "autumn": [
        (dt.date(2027, 10, 29), "stechford", 6),
        (dt.date(2027, 10, 31), "perry-barr", 7),
        (dt.date(2027, 11, 1), "perry-barr", 7),
    ],
}


@pytest.mark.parametrize("change", CLOCK_CHANGES)
def test_worker_feed_shifts_stay_seven_to_eight_local_across_a_clock_change(
    change, clock, me, roster, book, get_feed
):
    clock_at, monday, offset = CLOCK_CHANGES[change]
    clock.set_local(*clock_at.timetuple()[:5])
    shifts = [roster(me, code, day) for day, code, _ in SHIFT_DAYS[change]]
    booking = book(local(monday.year, monday.month, monday.day, 10, 0), "perry-barr")

    calendar = get_feed(feed_path(me)).calendar

    for shift, (_, _, utc_hour) in zip(shifts, SHIFT_DAYS[change], strict=True):
        event = event_with_uid(calendar, f"shift-{shift.id}@127.0.0.1")
        starts, ends = event.decoded("DTSTART"), event.decoded("DTEND")
        assert (starts, ends) == (shift.starts_at, shift.ends_at)
        assert starts.astimezone(LONDON).time() == dt.time(7, 0)
        assert ends.astimezone(LONDON).time() == dt.time(20, 0)
        assert starts.astimezone(dt.UTC).hour == utc_hour
        # The clocks change at 01:00, before the shift: still thirteen hours on site.
        assert ends - starts == dt.timedelta(hours=13)
    appointment = event_with_uid(calendar, uid_of(booking))
    assert appointment.decoded("DTSTART") == booking.starts_at
    assert appointment.decoded("DTSTART").astimezone(LONDON).time() == dt.time(10, 0)
    assert appointment.decoded("DTSTART").astimezone(LONDON).utcoffset() == offset


FEBRUARY_NINTH = dt.date(2027, 2, 9)  # 27 days after the clock: as far ahead as one can book


def test_cancelled_appointment_stays_marked_cancelled_for_30_days_then_goes(
    me, roster, book, clock, users, get_feed
):
    roster(me, "stechford", FEBRUARY_NINTH)
    booking = book(local(2027, 2, 9, 10, 0))
    bookings.cancel(booking, "Released without charge", by=users[Role.SERGEANT], now=clock())
    db.session.commit()
    cancelled_at = clock()
    path = feed_path(me)

    response = get_feed(path)
    event = event_with_uid(response.calendar, uid_of(booking))
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 1
    assert b"\r\nSTATUS:CANCELLED\r\n" in response.data

    clock.set(cancelled_at + dt.timedelta(days=30, minutes=-1))
    kept = get_feed(path, **{"If-Modified-Since": response.headers["Last-Modified"]})
    assert str(event_with_uid(kept.calendar, uid_of(booking))["STATUS"]) == "CANCELLED"

    clock.set(cancelled_at + dt.timedelta(days=30, minutes=1))
    gone = get_feed(path, **{"If-Modified-Since": kept.headers["Last-Modified"]})
    assert gone.status_code == 200
    assert not events(gone.calendar, "appointment-")


def test_rearranged_appointment_moves_in_the_feed_with_a_higher_sequence(
    me, roster, book, clock, users, get_feed
):
    roster(me, "stechford", THURSDAY)
    roster(me, "stechford", THURSDAY + dt.timedelta(days=1))
    booking = book(local(2027, 1, 14, 10, 0))
    path = feed_path(me)
    before = event_with_uid(get_feed(path).calendar, uid_of(booking))

    clock.set(clock() + dt.timedelta(minutes=5))
    new_start = local(2027, 1, 15, 11, 30)
    bookings.rearrange(
        booking, "stechford", new_start, by=users[Role.SERGEANT], now=clock(), rules=RULES
    )
    db.session.commit()

    after = get_feed(path).calendar
    moved = event_with_uid(after, uid_of(booking))  # one event: moved, not duplicated
    assert len(events(after, "appointment-")) == 1
    assert (before["SEQUENCE"], moved["SEQUENCE"]) == (0, 1)
    assert moved.decoded("DTSTART") == new_start
    assert moved.decoded("LAST-MODIFIED") > before.decoded("LAST-MODIFIED")


def test_appointment_moved_to_another_worker_leaves_this_workers_feed(
    me, other, roster, book, clock, users, get_feed
):
    roster(me, "stechford", THURSDAY)
    roster(other, "oldbury", THURSDAY)
    booking = book(local(2027, 1, 14, 10, 0))
    path = feed_path(me)
    first = get_feed(path)
    assert events(first.calendar, "appointment-")

    clock.set(clock() + dt.timedelta(minutes=5))
    bookings.rearrange(
        booking, "oldbury", booking.starts_at, by=users[Role.SERGEANT], now=clock(), rules=RULES
    )
    db.session.commit()
    assert booking.worker_id == other.id

    # A calendar app that revalidates with either validator is told the feed changed.
    for validator in (
        {"If-None-Match": first.headers["ETag"]},
        {"If-Modified-Since": first.headers["Last-Modified"]},
    ):
        mine = get_feed(path, **validator)
        assert mine.status_code == 200
        assert not events(mine.calendar, "appointment-")
    theirs = get_feed(feed_path(other)).calendar
    assert event_with_uid(theirs, uid_of(booking))["SEQUENCE"] == 1


def test_feed_answers_304_to_a_client_that_is_current(me, roster, book, get_feed):
    roster(me, "stechford", THURSDAY)
    book(local(2027, 1, 14, 10, 0))
    path = feed_path(me)

    first = get_feed(path)
    assert first.headers["ETag"]
    assert first.headers["Last-Modified"]

    same_etag = get_feed(path, **{"If-None-Match": first.headers["ETag"]})
    assert same_etag.status_code == 304
    assert same_etag.data == b""
    same_date = get_feed(path, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert same_date.status_code == 304
    assert same_date.data == b""


def test_feed_answers_200_with_a_new_etag_after_a_new_booking(me, roster, book, clock, get_feed):
    roster(me, "stechford", THURSDAY)
    book(local(2027, 1, 14, 10, 0))
    path = feed_path(me)
    first = get_feed(path)

    clock.set(clock() + dt.timedelta(minutes=1))
    book(local(2027, 1, 14, 11, 0))

    for validator in (
        {"If-None-Match": first.headers["ETag"]},
        {"If-Modified-Since": first.headers["Last-Modified"]},
    ):
        changed = get_feed(path, **validator)
        assert changed.status_code == 200
        assert changed.headers["ETag"] != first.headers["ETag"]
        assert len(events(changed.calendar, "appointment-")) == 2


def test_feed_needs_no_login_but_an_unknown_token_is_404(app, me, get_feed):
    path = feed_path(me)
    anonymous = app.test_client()

    assert anonymous.get(path).status_code == 200
    assert anonymous.get("/calendar/not-a-real-token.ics").status_code == 404
    assert anonymous.get(path.replace(me.calendar_token, me.calendar_token[:-1])).status_code == (
        404
    )


def test_feed_of_a_worker_who_has_left_is_404(me, get_feed):
    path = feed_path(me)
    me.active = False
    db.session.commit()
    assert get_feed(path).status_code == 404


def test_regenerating_a_token_revokes_the_old_feed_url(me, get_feed):
    old = feed_path(me)
    calendars.regenerate_token(me)
    db.session.commit()

    assert get_feed(old).status_code == 404
    assert get_feed(feed_path(me)).status_code == 200


# The block's feed


def test_block_feed_shows_who_is_on_site_and_how_many_are_booked_per_slot(
    me, other, roster, book, blocks, users, clock, get_feed
):
    roster(me, "stechford", THURSDAY)
    roster(other, "stechford", THURSDAY)
    booked = [
        book(local(2027, 1, 14, 10, 0)),
        book(local(2027, 1, 14, 10, 0)),
        book(local(2027, 1, 14, 10, 30)),
        book(local(2027, 1, 14, 11, 0)),
    ]
    dropped = booked[-1]
    bookings.cancel(dropped, "Charged and remanded", by=users[Role.SERGEANT], now=clock())
    db.session.commit()

    response = get_feed(feed_path(blocks["stechford"]))

    calendar = response.calendar
    assert str(calendar["X-WR-CALNAME"]) == "Stechford custody block: cover and appointments"
    on_site = sorted(str(e["SUMMARY"]) for e in events(calendar, "shift-"))
    assert on_site == ["Sam Hollis on site", "Test worker on site"]
    load = {
        e.decoded("DTSTART").astimezone(LONDON).time(): (str(e["SUMMARY"]), str(e["STATUS"]))
        for e in events(calendar, "load-")
    }
    assert load == {
        dt.time(10, 0): ("2 appointments booked", "CONFIRMED"),
        dt.time(10, 30): ("1 appointment booked", "CONFIRMED"),
        dt.time(11, 0): ("0 appointments booked", "CANCELLED"),
    }
    # Counts only: not even the references of the appointments.
    assert_no_personal_data(response.data)
    assert not [b.reference for b in booked if b.reference in unfold(response.data)]


def test_block_feed_answers_304_to_its_etag(blocks, get_feed):
    path = feed_path(blocks["oldbury"])
    first = get_feed(path)
    again = get_feed(path, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


# Feeds at scale: slot loads counted by the database, each event written once and kept by its
# content, so that a feed polled again shows every change


def expected_load(block_code: str) -> dict[str, tuple]:
    """A block feed's load events worked out one booking at a time: per slot, the live count
    and the latest change, cancelled bookings included (the tests' bookings are all in the
    feed's window)."""
    slots: dict[dt.datetime, list] = {}
    for booking in db.session.scalars(
        select(Booking).join(Booking.block).where(Block.code == block_code)
    ):
        slots.setdefault(booking.starts_at, []).append(booking)
    expected = {}
    for starts_at, held in slots.items():
        live = sum(b.status != BookingStatus.CANCELLED for b in held)
        uid = f"load-{block_code}-{starts_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}@127.0.0.1"
        expected[uid] = (
            starts_at,
            held[0].ends_at,
            f"{live} appointment{'s' if live != 1 else ''} booked",
            "CONFIRMED" if live else "CANCELLED",
            max(b.updated_at for b in held).replace(microsecond=0),
        )
    return expected


def shown_load(calendar: Calendar) -> dict[str, tuple]:
    return {
        str(e["UID"]): (
            e.decoded("DTSTART"),
            e.decoded("DTEND"),
            str(e["SUMMARY"]),
            str(e["STATUS"]),
            e.decoded("LAST-MODIFIED"),
        )
        for e in events(calendar, "load-")
    }


@pytest.mark.parametrize("change", CLOCK_CHANGES)
def test_block_feed_counts_each_slot_as_its_bookings_do_across_a_clock_change(
    change, clock, me, other, roster, book, users, blocks, get_feed
):
    clock_at, monday, offset = CLOCK_CHANGES[change]
    clock.set_local(*clock_at.timetuple()[:5])
    sunday = monday - dt.timedelta(days=1)
    for day in (sunday, monday):
        roster(me, "perry-barr", day)
        roster(other, "perry-barr", day)
    made = []
    for day, hour, minute in [(sunday, 10, 0), (sunday, 10, 0), (sunday, 10, 30), (monday, 10, 0)]:
        clock.set(clock() + dt.timedelta(minutes=7))
        made.append(book(local(day.year, day.month, day.day, hour, minute), "perry-barr"))
    clock.set(clock() + dt.timedelta(minutes=7))
    bookings.cancel(made[1], "Released", by=users[Role.SERGEANT], now=clock())
    bookings.cancel(made[3], "Released", by=users[Role.SERGEANT], now=clock())
    db.session.commit()

    calendar = get_feed(feed_path(blocks["perry-barr"])).calendar

    shown = shown_load(calendar)
    assert shown == expected_load("perry-barr")
    by_start = {starts.astimezone(LONDON): rest for starts, *rest in shown.values()}
    sunday_ten = dt.datetime(sunday.year, sunday.month, sunday.day, 10, tzinfo=LONDON)
    monday_ten = dt.datetime(monday.year, monday.month, monday.day, 10, tzinfo=LONDON)
    assert [(s.time(), s.utcoffset()) for s in sorted(by_start)] == [
        (dt.time(10, 0), offset),
        (dt.time(10, 30), offset),
        (dt.time(10, 0), offset),
    ]
    assert by_start[sunday_ten][1:3] == ["1 appointment booked", "CONFIRMED"]
    assert by_start[monday_ten][1:3] == ["0 appointments booked", "CANCELLED"]
    # The slot whose second booking was cancelled last changed at the cancellation.
    assert by_start[sunday_ten][3] == made[1].cancelled_at.replace(microsecond=0)


def test_feeds_already_served_show_a_moved_shift_and_a_cancelled_appointment(
    me, roster, book, clock, users, blocks, get_feed
):
    shift = roster(me, "stechford", THURSDAY)
    booking = book(local(2027, 1, 14, 10, 0))
    mine, theirs = feed_path(me), feed_path(blocks["stechford"])
    before = {path: get_feed(path) for path in (mine, theirs)}

    clock.set(clock() + dt.timedelta(minutes=5))
    bookings.cancel(booking, "Released", by=users[Role.SERGEANT], now=clock())
    friday = THURSDAY + dt.timedelta(days=1)
    (window,) = rota.cover_windows(blocks["stechford"], friday)
    rota_changes.change_shift(
        shift,
        worker=me,
        block=blocks["stechford"],
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        now=clock(),
        by=users[Role.COORDINATOR],
    )
    db.session.commit()

    after = {
        path: get_feed(path, **{"If-None-Match": before[path].headers["ETag"]}) for path in before
    }
    for path in before:
        assert after[path].status_code == 200
        moved = event_with_uid(after[path].calendar, f"shift-{shift.id}@127.0.0.1")
        assert moved.decoded("DTSTART") == window.starts_at
        assert moved["SEQUENCE"] == 1
    appointment = event_with_uid(after[mine].calendar, uid_of(booking))
    assert (str(appointment["STATUS"]), appointment["SEQUENCE"]) == ("CANCELLED", 1)
    (load,) = events(after[theirs].calendar, "load-")
    assert (str(load["SUMMARY"]), str(load["STATUS"])) == ("0 appointments booked", "CANCELLED")


def test_feeds_already_served_show_a_renamed_block_and_worker(me, roster, book, blocks, get_feed):
    roster(me, "stechford", THURSDAY)
    book(local(2027, 1, 14, 10, 0))
    mine, theirs = feed_path(me), feed_path(blocks["stechford"])
    get_feed(mine), get_feed(theirs)

    blocks["stechford"].name = "Stechford Green"
    blocks["stechford"].address = "1 New Road, Birmingham"
    me.name = "Alex Renamed"
    db.session.commit()

    worker_events = get_feed(mine).calendar.walk("VEVENT")
    assert {str(e["LOCATION"]) for e in worker_events} == {
        "Stechford Green custody block, 1 New Road, Birmingham"
    }
    assert [str(e["SUMMARY"]) for e in events(get_feed(mine).calendar, "shift-")] == [
        "On site at Stechford Green"
    ]
    (on_site,) = events(get_feed(theirs).calendar, "shift-")
    assert str(on_site["SUMMARY"]) == "Alex Renamed on site"
    assert str(on_site["LOCATION"]) == "Stechford Green custody block, 1 New Road, Birmingham"


def test_a_feed_written_afresh_is_the_feed_kept_and_has_icalendars_own_vtimezone(
    me, other, roster, book, blocks, get_feed
):
    roster(me, "stechford", THURSDAY)
    roster(other, "stechford", THURSDAY)
    book(local(2027, 1, 14, 10, 0))
    for path in (feed_path(me), feed_path(blocks["stechford"])):
        kept = get_feed(path).data
        calendars.forget_written_events()
        afresh = get_feed(path).data
        assert afresh == kept

        # The VTIMEZONE written once per process is the one icalendar would add to this file.
        calendar = Calendar.from_ical(afresh)
        calendar.subcomponents = [c for c in calendar.subcomponents if c.name != "VTIMEZONE"]
        calendar.add_missing_timezones()
        assert calendar.to_ical() == afresh


def test_a_feed_with_no_events_has_no_vtimezone(me, blocks, get_feed):
    for path in (feed_path(me), feed_path(blocks["oldbury"])):
        response = get_feed(path)
        assert not response.calendar.walk("VEVENT")
        assert b"VTIMEZONE" not in response.data
