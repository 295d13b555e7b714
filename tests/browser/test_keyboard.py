"""The sergeant's booking with the keyboard alone: Tab, Space, Enter and the arrow keys, no
clicks; every element reached shows GOV.UK's focus style (yellow, #ffdd00).

The clock is Wednesday 13 January 2027, 21:00 in London: nobody is on site.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from booking.models import Role
from tests.browser.conftest import count_bookings, focused
from tests.browser.journeys import CUSTODY_RECORD, MOBILE, PERSON, reference_from_url
from tests.support import PASSWORD, email_of

pytestmark = pytest.mark.browser

MOST_TABS = 80


class Keyboard:
    """Tabs through a page to an element, noting every element that showed no visible focus."""

    def __init__(self, page: Page):
        self.page = page
        self.unseen: list[str] = []
        self.reached = 0

    def tab_to(self, *, id: str | None = None, name: str | None = None) -> dict:
        for _ in range(MOST_TABS):
            self.page.keyboard.press("Tab")
            state = focused(self.page)
            self.reached += 1
            where = f"{self.page.url} {state['tag']}#{state['id']} {state['name'][:40]!r}"
            if not state["visible"]:
                self.unseen.append(where)
            if (id is not None and state["id"] == id) or (
                name is not None and state["name"] == name
            ):
                return state
        raise AssertionError(
            f"no element {id or name!r} within {MOST_TABS} tabs on {self.page.url}"
        )

    def type(self, text: str) -> None:
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(text)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def follow(self, key: str = "Enter") -> None:
        """Press a key that opens another page, and wait for it."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)


def test_booking_by_keyboard_alone_with_visible_focus_throughout(open_page, shoot, users, rostered):
    page = open_page()
    keys = Keyboard(page)
    page.goto("/login")
    keys.tab_to(id="email")
    keys.type(email_of(Role.SERGEANT))
    keys.tab_to(id="password")
    keys.type(PASSWORD)
    keys.tab_to(name="Sign in")
    keys.follow()
    expect(page).to_have_title(re.compile(r"^Home"))

    keys.tab_to(name="Record a positive test and book")
    keys.follow()
    expect(page).to_have_title(re.compile(r"^Record the test"))

    # The skip link is the first stop, and takes the focus to the main content.
    state = keys.tab_to(name="Skip to main content")
    assert state["tag"] == "a"
    shoot(page, "skip-link")
    keys.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main-content"

    expect(page.locator("#arrest_block")).to_have_value("stechford")
    keys.tab_to(id="custody_record")
    shoot(page, "focus-on-input")
    keys.type(CUSTODY_RECORD)
    keys.tab_to(id="person_name")
    keys.type(PERSON)
    # Into a radio group with nothing chosen: the first option; an arrow moves and chooses.
    state = keys.tab_to(id="test_result")
    assert state["name"] == "Positive for opiates" and not state["checked"]
    keys.press("ArrowDown")
    state = focused(page)
    assert state["name"] == "Positive for cocaine" and state["checked"], state
    shoot(page, "focus-on-radio")
    keys.tab_to(id="tested_time")
    keys.type("20:15")
    keys.tab_to(id="disputed")
    keys.press("ArrowRight")
    assert focused(page)["name"] == "No" and focused(page)["checked"]
    state = keys.tab_to(id="mobile")
    keys.type(MOBILE)
    keys.tab_to(id="sms_consent")
    keys.press("Space")
    assert focused(page)["name"] == "Yes" and focused(page)["checked"]
    keys.tab_to(name="Continue")
    shoot(page, "focus-on-button")
    keys.follow()

    expect(page).to_have_url(re.compile(r"/bookings/new/slot$"))
    expect(page.locator(".app-cover")).to_contain_text("No worker on site at Stechford")
    state = keys.tab_to(id="slot")
    wanted = state["name"]
    keys.press("Space")
    assert focused(page)["checked"]
    keys.tab_to(name="Continue")
    keys.follow()

    expect(page).to_have_url(re.compile(r"/bookings/new/check$"))
    expect(page.locator("main")).to_contain_text(wanted.split(",")[0])
    keys.tab_to(name="Confirm booking")
    keys.follow()

    expect(page.locator(".govuk-panel")).to_contain_text("Appointment booked")
    reference = reference_from_url(page)
    assert count_bookings() == 1
    shoot(page, "booked")

    # A link styled as a button answers Space too (GOV.UK Frontend's button script).
    keys.tab_to(name="Print notice")
    keys.follow("Space")
    expect(page).to_have_url(re.compile(rf"/bookings/{reference}/notice$"))
    keys.tab_to(name="Back to the appointment")
    keys.follow()

    keys.tab_to(name="Rearrange")
    keys.follow()
    keys.tab_to(id="slot")
    keys.press("ArrowDown")
    keys.tab_to(name="Move the appointment")
    keys.follow()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("notice version 2")

    keys.tab_to(name="Cancel appointment")
    keys.follow()
    keys.tab_to(id="reason")
    keys.type("Released on bail to a later date")
    keys.tab_to(name="Cancel appointment")
    keys.follow()
    expect(page.locator(".govuk-tag")).to_have_text("Cancelled")
    shoot(page, "cancelled")

    assert keys.reached > 20
    assert keys.unseen == [], "focused without a visible focus style:\n" + "\n".join(keys.unseen)
