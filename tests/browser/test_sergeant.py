"""The custody sergeant's journey in a real browser: record a positive test when no worker is on
site, choose a slot, confirm, print the notice, rearrange, cancel; the same with JavaScript
switched off; the form's errors; a slot taken while the sergeant was choosing.

The clock is Wednesday 13 January 2027, 21:00 in London: weekday cover ended at 20:00, so no
worker is on site at any block.
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from booking.errors import SlotTaken
from booking.extensions import db
from booking.models import Booking, BookingStatus, Role
from booking.web.forms.fields import parse_slot
from tests.browser.conftest import axe_violations, count_bookings, describe_violations, settle
from tests.browser.journeys import (
    CUSTODY_RECORD,
    PERSON,
    fill_details,
    reference_from_url,
    slot_radios,
    start_booking,
)
from tests.support import ANOTHER_PERSON, book

pytestmark = pytest.mark.browser


def stored(reference: str) -> SimpleNamespace:
    """What the database holds about the booking now, read in a transaction of its own (an ORM
    object would reload itself later, and hold the database while the browser waits)."""
    db.session.expire_all()
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    facts = SimpleNamespace(
        status=booking.status,
        block_code=booking.block.code,
        starts_at=booking.starts_at,
        notice_version=booking.notice_version,
        notice_versions=sorted(notice.version for notice in booking.notices),
        cancel_reason=booking.cancel_reason,
    )
    settle()
    return facts


def no_violations(page) -> None:
    found = describe_violations(page.url, axe_violations(page))
    assert found == [], "\n".join(found)


def test_sergeant_books_when_no_worker_is_on_site_prints_rearranges_and_cancels(
    open_page, shoot, users, rostered
):
    page = open_page(Role.SERGEANT)
    start_booking(page)
    shoot(page, "details")
    fill_details(page)
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/bookings/new/slot$"))
    expect(page.locator(".app-cover")).to_contain_text("No worker on site at Stechford")
    expect(page.locator(".app-cover")).to_contain_text(
        "A worker is next on site there at 07:00 on Thursday 14 January 2027"
    )
    radios = slot_radios(page)
    expect(radios).to_have_count(10)
    first = page.get_by_label("Thursday 14 January, 07:00 – Stechford")
    shoot(page, "slot")
    first.check()
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/bookings/new/check$"))
    main = page.locator("main")
    expect(main).to_contain_text("07:00 on Thursday 14 January 2027")
    expect(main).to_contain_text(PERSON)
    expect(main).to_contain_text(CUSTODY_RECORD)
    shoot(page, "check")
    assert count_bookings() == 0, "nothing is booked before it is confirmed"
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.locator(".govuk-panel")).to_contain_text("Appointment booked")
    reference = reference_from_url(page)
    expect(page.locator(".govuk-panel")).to_contain_text(reference)
    shoot(page, "booked")
    assert stored(reference).status == BookingStatus.BOOKED

    # The notice: on screen with its print button (script is on), on paper without the site.
    page.get_by_role("button", name="Print notice").click()
    expect(page).to_have_url(re.compile(rf"/bookings/{reference}/notice$"))
    notice = page.locator("article.app-notice")
    expect(notice).to_contain_text("Notice to attend an initial assessment")
    expect(notice).to_contain_text("Version 1")
    expect(page.get_by_role("button", name="Print this notice")).to_be_visible()
    shoot(page, "notice")
    page.emulate_media(media="print")
    for chrome in (".govuk-template__header", ".govuk-footer", ".govuk-skip-link", ".app-no-print"):
        for element in page.locator(chrome).all():
            expect(element).to_be_hidden()
    expect(page.get_by_role("button", name="Print this notice")).to_be_hidden()
    expect(page.get_by_role("link", name="Back to the appointment")).to_be_hidden()
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("You must attend: this is required by law")
    shoot(page, "notice-print")
    page.pdf(path=str(shoot.folder / "notice.pdf"), format="A4")
    page.emulate_media(media="screen")
    expect(page.locator(".govuk-template__header")).to_be_visible()

    # Rearranging issues notice version 2.
    page.get_by_role("link", name="Back to the appointment").click()
    page.get_by_role("button", name="Rearrange").click()
    expect(page.locator("h1")).to_have_text("Rearrange the appointment")
    expect(page.locator("main")).to_contain_text("Moving it issues notice version 2")
    new_time = slot_radios(page).nth(2)
    new_value = new_time.get_attribute("value")
    new_time.check()
    shoot(page, "rearrange")
    page.get_by_role("button", name="Move the appointment").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Appointment moved: notice version 2"
    )
    expect(page.locator("main")).to_contain_text("Version 2, issued at")
    moved = stored(reference)
    assert moved.notice_version == 2
    assert (moved.block_code, moved.starts_at) == parse_slot(new_value)
    shoot(page, "rearranged")
    page.get_by_role("button", name="Print notice").click()
    expect(page.locator("article.app-notice")).to_contain_text("Version 2")
    expect(page.locator("article.app-notice")).to_contain_text(
        "This notice replaces all earlier notices"
    )
    page.go_back()

    # Cancelling.
    page.get_by_role("button", name="Cancel appointment").click()
    expect(page.locator("h1")).to_have_text("Cancel the appointment")
    page.get_by_label("Why is the appointment cancelled?").fill("Charged and remanded in custody")
    shoot(page, "cancel")
    page.get_by_role("button", name="Cancel appointment").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Appointment {reference} cancelled"
    )
    expect(page.locator(".govuk-tag")).to_have_text("Cancelled")
    expect(page.get_by_role("button", name="Rearrange")).to_have_count(0)
    shoot(page, "cancelled")
    cancelled = stored(reference)
    assert cancelled.status == BookingStatus.CANCELLED
    assert cancelled.cancel_reason == "Charged and remanded in custody"
    assert cancelled.notice_versions == [1, 2]


def test_booking_journey_works_with_javascript_switched_off(open_page, shoot, users, rostered):
    page = open_page(Role.SERGEANT, java_script_enabled=False)
    start_booking(page)
    fill_details(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".app-cover")).to_contain_text("No worker on site at Stechford")

    # The filter by block is a plain form: it works without script too.
    page.locator(".app-slot-filter summary").click()
    page.get_by_role("group", name="Blocks").get_by_label("Oldbury").check()
    page.get_by_role("button", name="Show slots").click()
    expect(page).to_have_url(re.compile(r"block=oldbury"))
    labels = slot_radios(page).evaluate_all("(inputs) => inputs.map((i) => i.labels[0].innerText)")
    assert labels and all(label.endswith("– Oldbury") for label in labels), labels
    shoot(page, "slot-filtered")
    slot_radios(page).first.check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.locator(".govuk-panel")).to_contain_text("Appointment booked")
    reference = reference_from_url(page)
    assert stored(reference).block_code == "oldbury"
    shoot(page, "booked")

    page.get_by_role("button", name="Print notice").click()
    # No script, no print button: the page says how to print instead.
    expect(page.get_by_role("button", name="Print this notice")).to_be_hidden()
    expect(page.locator("main")).to_contain_text("Use your browser’s print command")
    expect(page.locator("article.app-notice")).to_contain_text("Version 1")
    shoot(page, "notice")
    page.get_by_role("link", name="Back to the appointment").click()

    page.get_by_role("button", name="Rearrange").click()
    slot_radios(page).nth(1).check()
    page.get_by_role("button", name="Move the appointment").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("notice version 2")

    page.get_by_role("button", name="Cancel appointment").click()
    page.get_by_label("Why is the appointment cancelled?").fill("Released without charge")
    page.get_by_role("button", name="Cancel appointment").click()
    expect(page.locator(".govuk-tag")).to_have_text("Cancelled")
    shoot(page, "cancelled")
    assert stored(reference).status == BookingStatus.CANCELLED


def summary_links(page) -> list[tuple[str, str]]:
    links = page.locator(".govuk-error-summary__list a")
    return [
        (link.get_attribute("href"), " ".join(link.inner_text().split())) for link in links.all()
    ]


def assert_each_summary_link_focuses_its_field(page) -> None:
    for href, message in summary_links(page):
        page.locator(".govuk-error-summary__list a", has_text=message).click()
        target = href.removeprefix("#")
        assert page.evaluate("() => document.activeElement.id") == target, (href, message)
        # The field shows the same message beside it.
        group = page.locator(f".govuk-form-group--error:has([id='{target}'])")
        expect(group.locator(".govuk-error-message").first).to_contain_text(message)


def test_details_form_errors_are_summarised_linked_to_their_fields_and_book_nothing(
    open_page, shoot, users, rostered
):
    page = open_page(Role.SERGEANT)
    start_booking(page)

    # Submitted empty: every prefilled answer a sergeant could clear is cleared too.
    page.get_by_label("Custody block").select_option("")
    for box in ("Day", "Month", "Year"):
        page.get_by_role("group", name="Date of the test").get_by_label(box).fill("")
    page.get_by_label("Time of the test").fill("")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    links = summary_links(page)
    assert links == [
        ("#arrest_block", "Choose the block where the person was arrested"),
        ("#custody_record", "Enter the custody record number"),
        ("#person_name", "Enter the person's full name"),
        ("#test_result", "Select the test result"),
        ("#tested_on-day", "Enter the date of the test"),
        ("#tested_time", "Enter the time of the test"),
        ("#disputed", "Select yes if the person disputes the result"),
        ("#sms_consent", "Select yes if the person agrees to text messages"),
    ]
    shoot(page, "empty")
    no_violations(page)
    assert_each_summary_link_focuses_its_field(page)

    # A mobile number that is not a UK mobile.
    page.goto("/bookings/new")
    fill_details(page, mobile="0121 496 0000")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    links = summary_links(page)
    assert [href for href, _ in links] == ["#mobile"], links
    assert "mobile" in links[0][1].lower()
    expect(page.get_by_label("Mobile number (optional)")).to_have_value("0121 496 0000")
    expect(page.get_by_label("Full name")).to_have_value(PERSON)
    shoot(page, "bad-mobile")
    no_violations(page)
    assert_each_summary_link_focuses_its_field(page)

    assert count_bookings() == 0


def test_slot_taken_while_choosing_gets_a_clear_message_and_fresh_choices(
    open_page, shoot, users, rostered, clock
):
    page = open_page(Role.SERGEANT)
    start_booking(page)
    fill_details(page)
    page.get_by_role("button", name="Continue").click()
    first = slot_radios(page).first
    wanted = first.get_attribute("value")
    first.check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Confirm booking")).to_be_visible()

    # Meanwhile other sergeants take every place in that slot.
    block_code, starts_at = parse_slot(wanted)
    taken = 0
    while True:
        try:
            book(
                users[Role.SERGEANT],
                block_code,
                starts_at,
                clock(),
                **{**ANOTHER_PERSON, "custody_record": f"20/99999{taken}/27"},
                tested_at=clock() - dt.timedelta(hours=1),
            )
            taken += 1
        except SlotTaken:
            db.session.rollback()
            break
    assert taken >= 1
    settle()

    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator("h1")).to_have_text("Choose an appointment")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("That slot has just been taken. Choose another.")
    values = slot_radios(page).evaluate_all("(inputs) => inputs.map((i) => i.value)")
    assert values and wanted not in values
    assert slot_radios(page).evaluate_all("(inputs) => inputs.every((i) => !i.checked)")
    shoot(page, "slot-taken")
    no_violations(page)
    assert count_bookings() == taken

    slot_radios(page).first.check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Appointment booked")
    assert count_bookings() == taken + 1
