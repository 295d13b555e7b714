"""Steps of the sergeant's journey as a person takes them in the browser, shared by the tests."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

PERSON = "Jamie Testperson"
CUSTODY_RECORD = "20/123456/27"
MOBILE = "07700 900123"


def fill_details(
    page: Page, *, mobile: str = MOBILE, block: str | None = None, tested_time: str = "20:15"
) -> None:
    """The details form, as a sergeant fills it: the block and the test date come filled in."""
    if block:
        page.get_by_label("Custody block").select_option(label=block)
    page.get_by_label("Custody record number").fill(CUSTODY_RECORD)
    page.get_by_label("Full name").fill(PERSON)
    page.get_by_label("Positive for cocaine", exact=True).check()
    page.get_by_label("Time of the test").fill(tested_time)
    page.get_by_role("group", name="Does the person dispute the result?").get_by_label("No").check()
    page.get_by_label("Mobile number (optional)").fill(mobile)
    page.get_by_role("group", name="Does the person agree to text messages?").get_by_label(
        "Yes"
    ).check()


def start_booking(page: Page) -> None:
    page.get_by_role("link", name="Record a positive test and book").click()
    expect(page).to_have_title(re.compile(r"^Record the test"))


def slot_radios(page: Page):
    return page.get_by_role(
        "group", name=re.compile("^(Earliest free appointments|Choose)")
    ).locator("input[type=radio]")


def reference_from_url(page: Page) -> str:
    return page.url.rstrip("/").rsplit("/", 1)[1]
