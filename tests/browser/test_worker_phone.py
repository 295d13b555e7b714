"""The worker on a phone (375 by 812, touch): their calendar feed address, copied to the
clipboard; their day, where they record an outcome once the appointment has started and book
the follow-up assessment. No page scrolls sideways.

The clock starts on Wednesday 13 January 2027, 21:00 in London.
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from booking.extensions import db
from booking.models import Booking, BookingStatus, Requirement, Role
from tests.browser.conftest import no_horizontal_scroll, settle
from tests.browser.journeys import reference_from_url, slot_radios
from tests.support import at, book, on_site

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
THURSDAY = dt.date(2027, 1, 14)
FRIDAY = dt.date(2027, 1, 15)


def fits_the_phone(page) -> None:
    assert no_horizontal_scroll(page), f"{page.url} scrolls sideways on a phone"


def open_menu_item(page, name: str) -> None:
    """GOV.UK's service navigation folds into a Menu button on a narrow screen."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.tap()
    page.get_by_role("link", name=name, exact=True).tap()


def test_worker_on_a_phone_copies_their_calendar_feed_address(open_page, shoot, users):
    page = open_page(Role.WORKER, permissions=["clipboard-read", "clipboard-write"], **PHONE)
    fits_the_phone(page)
    open_menu_item(page, "Calendar")
    expect(page.locator("h1")).to_have_text("Your calendar feed")
    fits_the_phone(page)
    shoot(page, "calendar")

    address = page.get_by_label("Calendar address")
    url = address.input_value()
    db.session.expire_all()
    token = users[Role.WORKER].worker.calendar_token
    settle()
    assert url == f"http://127.0.0.1:5000/calendar/{token}.ics"

    # Copied as a person would: tap the box, select all, copy.
    address.tap()
    page.keyboard.press("Control+A")
    page.keyboard.press("Control+C")
    assert page.evaluate("() => navigator.clipboard.readText()") == url

    feed = page.request.get(f"/calendar/{token}.ics")
    assert feed.status == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    assert feed.text().startswith("BEGIN:VCALENDAR")
    feed.dispose()
    expect(page.get_by_role("link", name="subscribe with webcal")).to_have_attribute(
        "href", f"webcal://127.0.0.1:5000/calendar/{token}.ics"
    )


def facts(booking_id: int) -> SimpleNamespace:
    db.session.expire_all()
    booking = db.session.get(Booking, booking_id)
    follow_ups = db.session.scalars(select(Booking).where(Booking.follow_up_of_id == booking_id))
    found = SimpleNamespace(
        status=booking.status,
        follow_up_decision=booking.follow_up_decision,
        follow_ups=[(b.reference, b.requirement, b.notice_version) for b in follow_ups],
    )
    settle()
    return found


def test_worker_on_a_phone_records_an_outcome_and_books_the_follow_up(
    open_page, shoot, users, blocks, clock
):
    me = users[Role.WORKER].worker
    for day in (THURSDAY, FRIDAY):
        on_site(me, blocks["stechford"], at(day, 7), at(day, 20))
    booking = book(users[Role.SERGEANT], "stechford", at(THURSDAY, 10), clock())
    reference, booking_id = booking.reference, booking.id
    settle()
    clock.set(at(THURSDAY, 10, 30))  # the appointment has started

    page = open_page(Role.WORKER, **PHONE)
    expect(page.locator("h1")).to_have_text("Thursday 14 January 2027"), "signing in leads here"
    row = page.locator(".app-day-item", has_text="Jamie Testperson")
    expect(row.locator("summary")).to_contain_text("10:00 Jamie Testperson")
    fits_the_phone(page)
    shoot(page, "day")

    row.get_by_role("link", name=re.compile(r"^Record outcome")).tap()
    expect(page.locator("h1")).to_have_text("Record the outcome")
    page.get_by_label("Attended", exact=True).check()
    fits_the_phone(page)
    shoot(page, "outcome")
    page.get_by_role("button", name="Save the outcome").tap()

    # Straight on to the follow-up: it is what an attended initial assessment needs next.
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Outcome of {reference} recorded: attended"
    )
    assert facts(booking_id).status == BookingStatus.ATTENDED
    expect(page.locator("h1")).to_have_text("Follow-up assessment")
    page.get_by_label("Book the follow-up assessment").check()
    fits_the_phone(page)
    shoot(page, "follow-up")
    page.get_by_role("button", name="Continue").tap()

    expect(page.locator("h1")).to_have_text("Book the follow-up assessment")
    slot_radios(page).first.check()
    fits_the_phone(page)
    shoot(page, "follow-up-slot")
    page.get_by_role("button", name="Book the follow-up").tap()

    expect(page.locator(".govuk-panel")).to_contain_text("Appointment booked")
    follow_up = reference_from_url(page)
    expect(page.locator("main")).to_contain_text("Follow-up assessment")
    fits_the_phone(page)
    shoot(page, "follow-up-booked")

    page.get_by_role("button", name="Print notice").tap()
    prints_from_the_phone(page, "Notice to attend a follow-up assessment")
    shoot(page, "follow-up-notice-printed")

    after = facts(booking_id)
    assert after.follow_up_decision == "booked"
    assert after.follow_ups == [(follow_up, Requirement.FOLLOW_UP, 1)]


def test_the_appointments_list_fits_a_phone(open_page, shoot, users, blocks, clock):
    me = users[Role.WORKER].worker
    on_site(me, blocks["wolverhampton"], at(THURSDAY, 7), at(THURSDAY, 12))
    on_site(me, blocks["stechford"], at(THURSDAY, 13), at(THURSDAY, 20))
    long_name = "Maximilian Alexander Featherstonehaugh-Worthington"
    references = [
        book(
            users[Role.SERGEANT],
            code,
            at(THURSDAY, hour),
            clock(),
            person_name=long_name,
            custody_record=f"20/{hour:06d}/27",
            arrest_block="wolverhampton",
        ).reference
        for code, hour in (("wolverhampton", 9), ("stechford", 14))
    ]
    settle()

    page = open_page(Role.WORKER, **PHONE)
    page.goto("/bookings?block=all")
    expect(page.locator("h1")).to_have_text("Appointments")
    for reference in references:
        expect(page.get_by_role("link", name=reference)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Arrested at: Wolverhampton")
    size = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    # A mobile viewport widens to wide content, so the screen's own width is checked too.
    assert size["scroll"] <= min(size["inner"], PHONE["viewport"]["width"]), (
        f"the list scrolls sideways on a phone: {size}"
    )
    fits_the_phone(page)
    shoot(page, "appointments")


def prints_from_the_phone(page, title: str) -> None:
    """The notice's own button prints it (no keyboard on a phone), and the print has no menu,
    links back or buttons: only the notice, as wide as the screen."""
    expect(page.locator("h1")).to_have_text(title)
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1 } }")
    expect(page.get_by_text("Ctrl and P")).to_be_hidden()
    expect(page.get_by_text("give it to the person before they leave")).to_be_visible()
    fits_the_phone(page)
    page.get_by_role("button", name="Print this notice").tap()
    assert page.evaluate("() => window.printed") == 1

    page.emulate_media(media="print")
    for chrome in (
        page.get_by_role("navigation"),
        page.get_by_role("button"),
        page.get_by_role("link", name="Back to the appointment"),
        page.get_by_role("contentinfo"),
        page.locator(".govuk-header, .govuk-service-navigation"),
    ):
        for element in chrome.all():
            expect(element).to_be_hidden()
    expect(page.locator("h1")).to_be_visible()
    expect(page.get_by_text("You must attend: this is required by law")).to_be_visible()
    fits_the_phone(page)


def test_a_day_of_appointments_is_scannable_on_a_phone(open_page, shoot, users, blocks, clock):
    me = users[Role.WORKER].worker
    on_site(me, blocks["stechford"], at(THURSDAY, 7), at(THURSDAY, 20))
    people = ["Alex Example", "Sam Example", "Jo Example", "Kim Example", "Lee Example"]
    for hour, person in enumerate([*people, "Max Example"], start=9):
        book(users[Role.SERGEANT], "stechford", at(THURSDAY, hour), clock(), person_name=person)
    clock.set(at(THURSDAY, 9, 5))  # the first has started: its outcome is due
    settle()

    page = open_page(Role.WORKER, **PHONE)
    page.goto("/day")
    rows = page.locator(".app-day-item")
    expect(rows).to_have_count(6)
    shoot(page, "day-of-six")
    for index, person in enumerate(people):
        row = rows.nth(index)
        expect(row.locator("summary")).to_contain_text(f"{9 + index:02d}:00 {person} Booked")
        box = row.bounding_box()
        assert box["y"] + box["height"] <= 812, f"{person} is below the first screen: {box}"
    fits_the_phone(page)

    # The rest on a tap: the number to call, the texts, the reference.
    details = rows.nth(1).locator(".govuk-details__text")
    expect(details).to_be_hidden()
    rows.nth(1).locator("summary").tap()
    expect(details.get_by_role("link", name="07700 900123")).to_be_visible()
    expect(details).to_contain_text("Confirmation")
    fits_the_phone(page)
    expect(rows.nth(0).get_by_role("link", name=re.compile(r"^Record outcome"))).to_be_visible()
