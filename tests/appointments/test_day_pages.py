"""The worker's day and what follows an appointment, through the web pages: the day on a phone,
recording the outcome, the follow-up assessment, the police list of non-attendances, and the
coordinator's list of outcomes still awaited.

The clock starts on Wednesday 13 January 2027, 21:00 in London. The worker signed in as
"Test worker" is on site at Stechford on Thursday 14 and Friday 15; a colleague is at Perry Barr.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.appointments import bookings, outcomes
from booking.appointments.slots import SlotRules
from booking.extensions import db
from booking.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    MessageStatus,
    Role,
    Worker,
)
from tests.support import Page, add_worker, at, on_site, signed_in

THURSDAY = dt.date(2027, 1, 14)
FRIDAY = dt.date(2027, 1, 15)
RULES = SlotRules()


@pytest.fixture
def colleague(blocks) -> Worker:
    return add_worker("Ellie Barnes", blocks["perry-barr"])


@pytest.fixture
def week(me, colleague, blocks):
    """Thursday and Friday, 07:00 to 20:00: the worker at Stechford, the colleague at Perry Barr."""
    for day in (THURSDAY, FRIDAY):
        on_site(me, blocks["stechford"], at(day, 7), at(day, 20))
        on_site(colleague, blocks["perry-barr"], at(day, 7), at(day, 20))


class Browser(FlaskClient):
    """A test client whose every request has an application context of its own, as in service.

    Otherwise requests share the test's context, and with it the signed-in user cached in `g`:
    a second browser would act as the first one's user. What the test wrote is committed first,
    as another user's work would be, so that the request's own session sees it.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def browser(app, users):
    """A new browser signed in as the test user of a role."""

    def sign_in(role: Role):
        return signed_in(Browser(app, app.response_class, use_cookies=True), role)

    return sign_in


def html_of(response) -> str:
    return response.get_data(as_text=True)


def table_of(html: str) -> str:
    """The body of the page's first table."""
    return html.split("<tbody", 1)[1].split("</tbody>", 1)[0]


def day_lines(html: str) -> list[str]:
    """The line of each appointment on the day (what shows before it is opened), in order."""
    lines = re.findall(r"<summary[^>]*>(.*?)</summary>", html, flags=re.S)
    return [Page(line).text for line in lines]


def viewed(booking: Booking) -> list[str | None]:
    return list(
        db.session.scalars(
            select(AuditEvent.detail)
            .where(AuditEvent.booking_id == booking.id, AuditEvent.action == "viewed")
            .order_by(AuditEvent.id)
        )
    )


def actions_on(booking: Booking) -> list[tuple[str, str | None]]:
    return [
        (event.action, event.detail)
        for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.booking_id == booking.id).order_by(AuditEvent.id)
        )
    ]


def reload(booking: Booking) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking.id)


# Who may see what --------------------------------------------------------------------------------

PAGES = [
    ("GET", "/day", {Role.WORKER, Role.COORDINATOR}),
    ("GET", "/bookings/{ref}/outcome", {Role.WORKER, Role.COORDINATOR}),
    ("POST", "/bookings/{ref}/outcome", {Role.WORKER, Role.COORDINATOR}),
    ("GET", "/bookings/{ref}/follow-up", {Role.WORKER, Role.COORDINATOR}),
    ("POST", "/bookings/{ref}/follow-up", {Role.WORKER, Role.COORDINATOR}),
    ("GET", "/bookings/{ref}/follow-up/slot", {Role.WORKER, Role.COORDINATOR}),
    ("POST", "/bookings/{ref}/follow-up/slot", {Role.WORKER, Role.COORDINATOR}),
    ("GET", "/police-to-inform", {Role.SERGEANT, Role.WORKER, Role.COORDINATOR}),
    ("POST", "/bookings/{ref}/police-informed", {Role.SERGEANT, Role.WORKER, Role.COORDINATOR}),
    ("GET", "/outcomes/awaiting", {Role.COORDINATOR}),
]


@pytest.mark.parametrize("role", list(Role))
def test_each_page_is_for_its_roles_only(week, book, browser, clock, role):
    booking = book(at(THURSDAY, 10))
    clock.set(at(THURSDAY, 10, 30))
    client = browser(role)
    for method, page, allowed in PAGES:
        response = client.open(page.format(ref=booking.reference), method=method)
        if role in allowed:
            assert response.status_code in (200, 302, 400), f"{method} {page}"
            assert not response.headers.get("Location", "").startswith("/login"), page
        else:
            assert response.status_code == 403, f"{method} {page}"
    if role in (Role.SERGEANT, Role.ANALYST):
        assert reload(booking).status == BookingStatus.BOOKED


def test_an_analyst_sees_no_personal_data_anywhere(week, book, browser, clock):
    booking = book(at(THURSDAY, 10))
    analyst = browser(Role.ANALYST)
    for path in ("/day", "/police-to-inform", f"/bookings/{booking.reference}/outcome"):
        response = analyst.get(path)
        assert response.status_code == 403
        assert "Jamie Testperson" not in html_of(response)
    assert viewed(booking) == []


def test_a_worker_cannot_see_another_workers_day_but_a_coordinator_can(
    week, book, browser, me, colleague
):
    theirs = book(at(THURSDAY, 10), block="perry-barr", person_name="Colleague Person")
    worker = browser(Role.WORKER)
    assert worker.get(f"/day?date=2027-01-14&worker={colleague.id}").status_code == 403
    assert worker.get(f"/day?date=2027-01-14&worker={me.id}").status_code == 200
    assert "Colleague Person" not in html_of(worker.get("/day?date=2027-01-14"))
    assert viewed(theirs) == []

    coordinator = browser(Role.COORDINATOR)
    chooser = Page(html_of(coordinator.get("/day?date=2027-01-14")))
    assert "worker" in chooser.ids and chooser.ids["worker"]["tag"] == "select"
    shown = html_of(coordinator.get(f"/day?date=2027-01-14&worker={colleague.id}"))
    assert "Ellie Barnes’s day" in shown
    assert "Colleague Person" in shown and theirs.reference in shown
    assert viewed(theirs) == ["worker's day"]
    assert coordinator.get("/day?worker=99999").status_code == 404


@pytest.mark.parametrize("date", ["2027-02-30", "14/01/2027", "0001-01-01", "9999-12-31"])
def test_a_day_that_is_not_a_date_with_days_either_side_is_not_found(week, browser, date):
    assert browser(Role.WORKER).get(f"/day?date={date}").status_code == 404


@pytest.mark.parametrize("worker", ["x", "²", "-1", "99999999999999999999"])
def test_a_worker_that_does_not_exist_is_not_found(week, browser, worker):
    assert browser(Role.COORDINATOR).get("/day", query_string={"worker": worker}).status_code == 404


# The worker's day --------------------------------------------------------------------------------


def test_my_day_lists_the_shifts_then_the_appointments_in_time_order_with_what_a_worker_needs(
    me, colleague, blocks, book, browser, clock
):
    on_site(me, blocks["stechford"], at(THURSDAY, 7), at(THURSDAY, 13))
    on_site(me, blocks["bloxwich"], at(THURSDAY, 14), at(THURSDAY, 20))
    on_site(me, blocks["stechford"], at(FRIDAY, 7), at(FRIDAY, 20))
    on_site(colleague, blocks["perry-barr"], at(THURSDAY, 7), at(THURSDAY, 20))
    # Booked out of time order, as sergeants would.
    late = book(at(THURSDAY, 15), block="bloxwich", person_name="Late Person")
    mid = book(
        at(THURSDAY, 11, 30),
        person_name="Voluntary Person",
        requirement="voluntary",
        test_result="negative",
        sms_consent=False,
        mobile="07700 900456",
    )
    early = book(at(THURSDAY, 9), person_name="Early Person")
    cancelled = book(at(THURSDAY, 10), person_name="Cancelled Person")
    bookings.cancel(cancelled, "Remanded in custody", by=cancelled.created_by, now=clock())
    failed = early.messages[0]
    failed.status = MessageStatus.FAILED
    failed.skip_reason = "The number is not in service"
    db.session.commit()
    friday = book(at(FRIDAY, 10), person_name="Friday Person")
    theirs = book(at(THURSDAY, 10), block="perry-barr", person_name="Colleague Person")

    response = browser(Role.WORKER).get("/day?date=2027-01-14")
    assert response.status_code == 200
    html = html_of(response)
    words = Page(html).text
    assert "Your day" in words and "Thursday 14 January 2027" in words
    assert "Stechford , 07:00 to 13:00" in words
    assert "Bloxwich , 14:00 to 20:00" in words
    assert words.index("07:00 to 13:00") < words.index("14:00 to 20:00")

    shown = [early, cancelled, mid, late]
    positions = [html.index(f'href="/bookings/{b.reference}"') for b in shown]
    assert positions == sorted(positions), "appointments in time order"
    assert day_lines(html) == [
        "09:00 Early Person Booked",
        "10:00 Cancelled Person Cancelled",
        "11:30 Voluntary Person Booked",
        "15:00 Late Person Booked",
    ]
    assert "Place Bloxwich" in words and "Place Stechford" in words
    for absent in (friday, theirs):
        assert absent.reference not in html
    assert "Friday Person" not in html and "Colleague Person" not in html

    for name in ("Early Person", "Cancelled Person", "Voluntary Person", "Late Person"):
        assert name in words
    assert "Initial assessment" in words and "Voluntary assessment" in words
    assert 'href="tel:+447700900123"' in html and "07700 900123" in words
    assert 'href="tel:+447700900456"' in html and "07700 900456" in words
    assert "Confirmation: Text not delivered: phone them" in words
    assert "The number is not in service" in words
    assert "Confirmation: Not sent The person did not agree to text messages" in words
    assert "Confirmation: Waiting to send" in words
    assert "Remanded in custody" in words

    for booking in shown:
        assert viewed(booking) == ["worker's day"], booking.person_name
    assert viewed(friday) == viewed(theirs) == []


def test_the_appointment_actions_follow_the_clock_and_the_outcome(week, book, browser, clock):
    first = book(at(THURSDAY, 10))
    later = book(at(THURSDAY, 14), person_name="Later Person")
    clock.set(at(THURSDAY, 10, 5))
    worker = browser(Role.WORKER)
    html = html_of(worker.get("/day?date=2027-01-14"))
    assert f'href="/bookings/{first.reference}/outcome"' in html
    assert f'href="/bookings/{later.reference}/outcome"' not in html, "not started yet"

    worker.post(f"/bookings/{first.reference}/outcome", data={"outcome": "attended"})
    words = Page(html_of(worker.get("/day?date=2027-01-14"))).text
    assert "Change outcome" in words and "Decide the follow-up" in words
    assert "Attended" in words


def test_previous_and_next_day_are_one_tap_away(week, book, browser, colleague):
    book(at(FRIDAY, 10), person_name="Friday Person")
    worker = browser(Role.WORKER)
    today = Page(html_of(worker.get("/day")))
    assert today.title.startswith("Your day: Wednesday 13 January 2027")

    html = html_of(worker.get("/day?date=2027-01-14"))
    assert 'href="/day?date=2027-01-13" rel="prev"' in html
    assert 'href="/day?date=2027-01-15" rel="next"' in html
    words = Page(html).text
    assert "Previous day : Wednesday 13 January 2027" in words
    assert "Next day : Friday 15 January 2027" in words
    assert "Friday Person" in html_of(worker.get("/day?date=2027-01-15"))

    coordinator = browser(Role.COORDINATOR)
    theirs = html_of(coordinator.get(f"/day?date=2027-01-14&worker={colleague.id}"))
    assert f'href="/day?date=2027-01-15&amp;worker={colleague.id}" rel="next"' in theirs


def test_on_a_clock_change_day_the_times_are_local(me, blocks, book, browser, clock):
    """Sunday 28 March 2027: the clocks go forward at 01:00, and the day is 23 hours long."""
    clock.set_local(2027, 3, 27, 12, 0)
    sunday, monday = dt.date(2027, 3, 28), dt.date(2027, 3, 29)
    on_site(me, blocks["stechford"], at(sunday, 7), at(sunday, 20))
    on_site(me, blocks["stechford"], at(monday, 0), at(monday, 2))
    morning = book(at(sunday, 10), person_name="Morning Person")
    after_midnight = book(at(monday, 0, 30), person_name="Night Person")
    assert morning.starts_at == dt.datetime(2027, 3, 28, 9, 0, tzinfo=dt.UTC)
    assert after_midnight.starts_at == dt.datetime(2027, 3, 28, 23, 30, tzinfo=dt.UTC)

    worker = browser(Role.WORKER)
    words = Page(html_of(worker.get("/day?date=2027-03-28"))).text
    assert "Stechford , 07:00 to 20:00" in words
    assert "10:00 Morning Person" in day_lines(html_of(worker.get("/day?date=2027-03-28")))[0]
    assert "Night Person" not in words, "00:30 on Monday is not on Sunday, whatever UTC says"
    monday_words = Page(html_of(worker.get("/day?date=2027-03-29"))).text
    assert "Night Person" in monday_words
    assert day_lines(html_of(worker.get("/day?date=2027-03-29"))) == ["00:30 Night Person Booked"]
    assert "Morning Person" not in monday_words


# Recording the outcome ---------------------------------------------------------------------------


def test_an_outcome_is_refused_before_the_appointment_starts_and_recorded_after(
    week, book, browser, clock, users
):
    booking = book(at(THURSDAY, 10))
    clock.set(at(THURSDAY, 9, 59))
    worker = browser(Role.WORKER)
    page = html_of(worker.get(f"/bookings/{booking.reference}/outcome"))
    assert "The outcome cannot be recorded yet" in page
    assert "outcome" not in Page(page).radios, "nothing to choose before it starts"

    refused = worker.post(
        f"/bookings/{booking.reference}/outcome", data={"outcome": "did_not_attend"}
    )
    assert refused.status_code == 400
    assert Page(html_of(refused)).error_links == [
        ("#outcome", "Record the outcome once the appointment has started")
    ]
    booking = reload(booking)
    assert booking.status == BookingStatus.BOOKED and booking.outcome_at is None
    assert "outcome" not in [action for action, _ in actions_on(booking)]

    clock.set(at(THURSDAY, 10, 5))
    page = Page(html_of(worker.get(f"/bookings/{booking.reference}/outcome")))
    assert page.radios["outcome"] == ["attended", "left_early", "did_not_attend"]
    recorded = worker.post(f"/bookings/{booking.reference}/outcome", data={"outcome": "attended"})
    assert recorded.status_code == 302
    assert recorded.headers["Location"] == f"/bookings/{booking.reference}/follow-up"
    booking = reload(booking)
    assert booking.status == BookingStatus.ATTENDED
    assert booking.outcome_at == clock()
    assert booking.outcome_by_id == users[Role.WORKER].id
    follow_up = Page(html_of(worker.get(recorded.headers["Location"]))).text
    assert f"Outcome of {booking.reference} recorded: attended." in follow_up


def test_an_outcome_left_blank_is_asked_for(week, book, browser, clock):
    booking = book(at(THURSDAY, 10))
    clock.set(at(THURSDAY, 10, 30))
    response = browser(Role.WORKER).post(f"/bookings/{booking.reference}/outcome", data={})
    assert response.status_code == 400
    assert Page(html_of(response)).error_links == [
        ("#outcome", "Select attended, left early or did not attend")
    ]


def test_a_correction_starts_from_the_current_outcome_and_is_audited(week, book, browser, clock):
    booking = book(at(THURSDAY, 10))
    clock.set(at(THURSDAY, 10, 30))
    worker = browser(Role.WORKER)
    worker.post(f"/bookings/{booking.reference}/outcome", data={"outcome": "attended"})

    html = html_of(worker.get(f"/bookings/{booking.reference}/outcome"))
    assert "Correct the outcome" in html
    assert re.search(r'value="attended"\s+checked', html)
    clock.set(at(THURSDAY, 11))
    corrected = worker.post(
        f"/bookings/{booking.reference}/outcome", data={"outcome": "did_not_attend"}
    )
    assert corrected.status_code == 302
    assert reload(booking).status == BookingStatus.DID_NOT_ATTEND
    outcome_events = [detail for action, detail in actions_on(booking) if action == "outcome"]
    assert outcome_events == ["attended", "did_not_attend, corrected from attended"]
    day = Page(html_of(worker.get(corrected.headers["Location"]))).text
    assert "corrected to did not attend (was attended)" in day
    assert "The police must be told" in day
    assert viewed(booking) == ["outcome page", "worker's day"]


def test_a_cancelled_appointment_has_no_outcome(week, book, browser, clock):
    booking = book(at(THURSDAY, 10))
    bookings.cancel(booking, "Released without charge", by=booking.created_by, now=clock())
    db.session.commit()
    clock.set(at(THURSDAY, 10, 30))
    worker = browser(Role.WORKER)
    page = html_of(worker.get(f"/bookings/{booking.reference}/outcome"))
    assert "This appointment was cancelled: it has no outcome." in page
    refused = worker.post(f"/bookings/{booking.reference}/outcome", data={"outcome": "attended"})
    assert refused.status_code == 400
    assert reload(booking).status == BookingStatus.CANCELLED


def test_a_coordinator_records_from_the_awaiting_list_and_returns_to_it(
    week, book, browser, clock, colleague
):
    theirs = book(at(THURSDAY, 9), block="perry-barr")
    waiting = book(at(THURSDAY, 10))
    recorded = book(at(THURSDAY, 11))
    recent = book(at(FRIDAY, 10))
    clock.set(at(FRIDAY, 12))
    coordinator = browser(Role.COORDINATOR)
    coordinator.post(f"/bookings/{recorded.reference}/outcome", data={"outcome": "attended"})

    page = html_of(coordinator.get("/outcomes/awaiting"))
    listed = re.findall(r'href="/bookings/([A-Z0-9-]+)/outcome\?back=awaiting"', page)
    assert listed == [theirs.reference, waiting.reference], "over a day old, earliest first"
    assert recent.reference not in table_of(page) and recorded.reference not in table_of(page)
    assert "Jamie Testperson" not in page, "references and workers only"
    assert "Ellie Barnes" in page and "Test worker" in page
    assert f'href="/day?date=2027-01-14&amp;worker={colleague.id}"' in page

    done = coordinator.post(
        f"/bookings/{waiting.reference}/outcome?back=awaiting", data={"outcome": "did_not_attend"}
    )
    assert done.headers["Location"] == "/outcomes/awaiting"
    page = html_of(coordinator.get("/outcomes/awaiting"))
    assert re.findall(r'href="/bookings/([A-Z0-9-]+)/outcome\?back=awaiting"', page) == [
        theirs.reference
    ]
    assert f"Outcome of {waiting.reference} recorded: did not attend." in Page(page).text


def test_a_worker_is_not_sent_to_the_coordinators_list(week, book, browser, clock):
    booking = book(at(THURSDAY, 10))
    clock.set(at(FRIDAY, 12))
    done = browser(Role.WORKER).post(
        f"/bookings/{booking.reference}/outcome?back=awaiting", data={"outcome": "left_early"}
    )
    assert done.headers["Location"] == "/day?date=2027-01-14"


@pytest.mark.parametrize("role", [Role.WORKER, Role.COORDINATOR])
def test_attended_initial_assessment_goes_straight_to_its_follow_up(
    week, book, browser, clock, role
):
    booking = book(at(THURSDAY, 10))
    clock.set(at(THURSDAY, 10, 50))
    client = browser(role)

    done = client.post(f"/bookings/{booking.reference}/outcome", data={"outcome": "attended"})

    assert done.headers["Location"] == f"/bookings/{booking.reference}/follow-up"
    page = Page(html_of(client.get(done.headers["Location"])))
    assert page.radios["decision"] == ["booked", "not_needed"]
    assert "Now book the follow-up assessment, or record that none is needed." in page.text


def test_only_an_open_follow_up_is_gone_to_after_an_outcome(week, book, browser, clock, users):
    voluntary = book(at(THURSDAY, 9), requirement="voluntary", test_result="negative")
    missed = book(at(THURSDAY, 10))
    decided = book(at(THURSDAY, 11))
    clock.set(at(THURSDAY, 11, 50))
    outcomes.record_outcome(decided, "attended", by=users[Role.WORKER], now=clock())
    outcomes.record_no_follow_up(decided, by=users[Role.WORKER], now=clock())
    worker = browser(Role.WORKER)

    came = worker.post(f"/bookings/{voluntary.reference}/outcome", data={"outcome": "attended"})
    assert came.headers["Location"] == f"/pathway/{voluntary.reference}", "what followed, next"
    done = worker.post(f"/bookings/{missed.reference}/outcome", data={"outcome": "did_not_attend"})
    assert done.headers["Location"] == "/day?date=2027-01-14"
    again = worker.post(f"/bookings/{decided.reference}/outcome", data={"outcome": "attended"})
    assert again.headers["Location"] == "/day?date=2027-01-14", "follow-up already decided"


# Telling the police ------------------------------------------------------------------------------


@pytest.fixture
def missed(week, book, users, clock):
    """Thursday: one arrested at Stechford did not attend, one from Oldbury left early, one came."""
    stechford = book(at(THURSDAY, 10), person_name="Stechford Person", custody_record="ST/1/27")
    oldbury = book(
        at(THURSDAY, 11),
        person_name="Oldbury Person",
        custody_record="OL/2/27",
        arrest_block="oldbury",
    )
    came = book(at(THURSDAY, 12), person_name="Attending Person")
    clock.set(at(THURSDAY, 12, 30))
    worker = users[Role.WORKER]
    outcomes.record_outcome(stechford, "did_not_attend", by=worker, now=clock())
    outcomes.record_outcome(oldbury, "left_early", by=worker, now=clock())
    outcomes.record_outcome(came, "attended", by=worker, now=clock())
    db.session.commit()
    return stechford, oldbury, came


def pending_part(html: str) -> str:
    """The list still to be told, without the recently told below it."""
    return html.split("Still to be told")[1].split("Told in the last")[0]


def test_a_sergeant_sees_the_non_attendances_of_their_own_block_and_may_see_all(missed, browser):
    stechford, oldbury, came = missed
    sergeant = browser(Role.SERGEANT)
    html = html_of(sergeant.get("/police-to-inform"))
    words = Page(pending_part(html)).text
    assert stechford.reference in words
    for expected in ("Stechford Person", "ST/1/27", "Stechford", "Thu 14 Jan 10:00"):
        assert expected in words
    assert "Did not attend" in words
    assert oldbury.reference not in html and came.reference not in html
    assert "Mark as informed" in html, "the sergeant at the arresting block may record it"
    assert viewed(stechford) == ["police to inform"]
    assert viewed(oldbury) == []

    everything = Page(pending_part(html_of(sergeant.get("/police-to-inform?all=1")))).text
    assert stechford.reference in everything and oldbury.reference in everything
    assert "Oldbury Person" in everything and "OL/2/27" in everything and "Left early" in everything
    assert came.reference not in everything
    assert sergeant.post(f"/bookings/{stechford.reference}/police-informed").status_code == 302
    db.session.refresh(stechford)
    assert stechford.police_informed_at is not None


def test_marking_one_as_informed_records_who_and_when_and_takes_it_off_the_list(
    missed, browser, clock, users
):
    stechford, oldbury, _ = missed
    clock.set(at(THURSDAY, 13))
    worker = browser(Role.WORKER)
    html = html_of(worker.get("/police-to-inform"))
    assert stechford.reference in pending_part(html) and oldbury.reference in pending_part(html)
    assert Page(html).text.count("Mark as informed") == 2

    marked = worker.post(f"/bookings/{stechford.reference}/police-informed")
    assert marked.status_code == 302
    assert marked.headers["Location"] == "/police-to-inform"
    stechford = reload(stechford)
    assert stechford.police_informed_at == clock()
    assert stechford.police_informed_by_id == users[Role.WORKER].id
    assert ("police_informed", None) in actions_on(stechford)

    html = html_of(worker.get("/police-to-inform"))
    assert stechford.reference not in pending_part(html)
    assert oldbury.reference in pending_part(html)
    told = Page(html.split("Told in the last")[1]).text
    assert stechford.reference in told and "Test worker" in told and "Thu 14 Jan 13:00" in told
    assert f"Recorded that the police were told about {stechford.reference}" in Page(html).text
    assert outcomes.police_to_be_informed() == [reload(oldbury)]

    sergeant = Page(pending_part(html_of(browser(Role.SERGEANT).get("/police-to-inform")))).text
    assert stechford.reference not in sergeant


def test_marking_twice_keeps_who_told_them_first(missed, browser, clock, users):
    stechford, _, _ = missed
    first_told = at(THURSDAY, 13)
    clock.set(first_told)
    browser(Role.WORKER).post(f"/bookings/{stechford.reference}/police-informed")
    clock.set(at(THURSDAY, 14))
    again = browser(Role.COORDINATOR).post(f"/bookings/{stechford.reference}/police-informed")
    assert again.status_code == 302
    stechford = reload(stechford)
    assert stechford.police_informed_at == first_told
    assert stechford.police_informed_by_id == users[Role.WORKER].id


def test_an_attendance_is_not_reported_to_the_police(missed, browser):
    _, _, came = missed
    refused = browser(Role.WORKER).post(f"/bookings/{came.reference}/police-informed")
    assert refused.status_code == 302
    assert reload(came).police_informed_at is None


# The follow-up assessment ------------------------------------------------------------------------


@pytest.fixture
def attended(week, book, users, clock):
    """An initial assessment on Thursday at 10:00, recorded as attended at 10:50."""
    booking = book(at(THURSDAY, 10))
    clock.set(at(THURSDAY, 10, 50))
    outcomes.record_outcome(booking, "attended", by=users[Role.WORKER], now=clock())
    db.session.commit()
    return booking


def test_the_follow_up_slot_page_records_that_it_showed_the_person(attended, browser):
    worker = browser(Role.WORKER)
    worker.get(f"/bookings/{attended.reference}/follow-up/slot")
    assert "follow-up slot page" in viewed(attended)


def test_booking_the_follow_up_creates_a_linked_appointment_with_notice_version_1(
    attended, browser
):
    worker = browser(Role.WORKER)
    page = Page(html_of(worker.get(f"/bookings/{attended.reference}/follow-up")))
    assert page.radios["decision"] == ["booked", "not_needed"]
    chose = worker.post(f"/bookings/{attended.reference}/follow-up", data={"decision": "booked"})
    assert chose.headers["Location"] == f"/bookings/{attended.reference}/follow-up/slot"
    assert reload(attended).follow_up_decision is None, "choosing to book writes nothing yet"

    slots = Page(html_of(worker.get(chose.headers["Location"])))
    assert slots.radios["slot"][:2] == [
        "perry-barr|2027-01-14T12:00:00+00:00",
        "stechford|2027-01-14T12:00:00+00:00",
    ], "the earliest free slots at any block, an hour's lead from 10:50"
    assert slots.radio_labels("slot")[1] == "Thursday 14 January, 12:00 – Stechford"
    first = slots.radios["slot"][1]
    filtered = Page(html_of(worker.get(f"{chose.headers['Location']}?block=perry-barr")))
    assert {value.split("|")[0] for value in filtered.radios["slot"]} == {"perry-barr"}

    booked = worker.post(chose.headers["Location"], data={"slot": first})
    assert booked.status_code == 302
    follow_up = db.session.scalar(select(Booking).where(Booking.requirement == "follow_up"))
    assert booked.headers["Location"] == f"/bookings/{follow_up.reference}"
    assert follow_up.follow_up_of_id == attended.id
    assert follow_up.person_name == "Jamie Testperson"
    assert follow_up.starts_at == dt.datetime(2027, 1, 14, 12, 0, tzinfo=dt.UTC)
    assert follow_up.notice_version == 1
    assert [notice.version for notice in follow_up.notices] == [1]
    initial = reload(attended)
    assert initial.follow_up_decision == outcomes.FOLLOW_UP_BOOKED

    shown = Page(html_of(worker.get(booked.headers["Location"]))).text
    assert "Appointment booked" in shown and follow_up.reference in shown
    assert "Follow-up assessment" in shown
    notice = html_of(worker.get(f"/bookings/{follow_up.reference}/notice"))
    assert "Version 1" in notice and "Drugs Act 2005" in notice

    day = html_of(worker.get("/day?date=2027-01-14"))
    assert f"Follow-up booked: {follow_up.reference}" in Page(day).text
    assert f'href="/bookings/{follow_up.reference}"' in day
    assert "Decide the follow-up" not in day


def test_a_decided_follow_up_is_refused_with_the_reason(attended, browser, users, clock):
    worker = browser(Role.WORKER)
    worker.post(f"/bookings/{attended.reference}/follow-up", data={"decision": "not_needed"})

    page = html_of(worker.get(f"/bookings/{attended.reference}/follow-up"))
    assert "Recorded that no follow-up assessment is needed" in page
    assert "decision" not in Page(page).radios
    for decision in ("not_needed", "booked"):
        refused = worker.post(
            f"/bookings/{attended.reference}/follow-up", data={"decision": decision}
        )
        assert refused.status_code == 400
        assert Page(html_of(refused)).error_links == [
            ("#decision", "A follow-up was already booked or recorded as not needed")
        ]
    slot = worker.post(
        f"/bookings/{attended.reference}/follow-up/slot",
        data={"slot": "stechford|2027-01-14T12:00:00+00:00"},
    )
    assert slot.status_code == 400
    assert Page(html_of(slot)).error_links == [
        ("#slot", "A follow-up was already booked or recorded as not needed")
    ]
    assert worker.get(f"/bookings/{attended.reference}/follow-up/slot").headers["Location"] == (
        f"/bookings/{attended.reference}/follow-up"
    )
    assert db.session.scalar(select(Booking).where(Booking.requirement == "follow_up")) is None


def test_no_follow_up_needed_is_recorded(attended, browser, clock):
    coordinator = browser(Role.COORDINATOR)
    done = coordinator.post(
        f"/bookings/{attended.reference}/follow-up", data={"decision": "not_needed"}
    )
    assert done.status_code == 302
    assert done.headers["Location"] == f"/pathway/{attended.reference}", "what followed, next"
    initial = reload(attended)
    assert initial.follow_up_decision == outcomes.FOLLOW_UP_NOT_NEEDED
    assert initial.follow_up_decided_at == clock()
    assert ("follow_up_not_needed", None) in actions_on(initial)
    next_page = Page(html_of(coordinator.get(done.headers["Location"]))).text
    assert f"Recorded for {initial.reference}: no follow-up assessment is needed." in next_page
    day = Page(html_of(coordinator.get(f"/day?date=2027-01-14&worker={attended.worker_id}"))).text
    assert "No follow-up needed" in day


def test_a_follow_up_comes_only_from_an_attended_initial_assessment(week, book, browser, clock):
    booking = book(at(THURSDAY, 10))
    clock.set(at(THURSDAY, 10, 30))
    worker = browser(Role.WORKER)
    page = html_of(worker.get(f"/bookings/{booking.reference}/follow-up"))
    assert "A follow-up comes from an attended initial assessment." in page
    assert f'href="/bookings/{booking.reference}/outcome"' in page
    assert "decision" not in Page(page).radios
    refused = worker.post(
        f"/bookings/{booking.reference}/follow-up", data={"decision": "not_needed"}
    )
    assert refused.status_code == 400
    assert Page(html_of(refused)).error_links == [
        ("#decision", "Record the initial assessment as attended first")
    ]
    assert reload(booking).follow_up_decision is None
