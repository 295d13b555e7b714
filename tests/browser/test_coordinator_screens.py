"""The coordinator's screens on a laptop (1366 by 768): the rota by worker, wider than the
screen, scrolls in a region of its own that says so.

The clock is Wednesday 13 January 2027, 21:00 in London; the rota is generated from that day.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from booking.extensions import db
from booking.models import Role
from tests.browser.conftest import axe_violations, describe_violations, no_horizontal_scroll, settle
from tests.reports.test_outcome_report_pages import make_outcomes

pytestmark = pytest.mark.browser

LAPTOP = {"viewport": {"width": 1366, "height": 768}}
# A coordinator who reads with a larger text size set in the browser (as many do at night).
LARGER_TEXT = "() => { document.documentElement.style.fontSize = '150%' }"

REGION_STATE = """(region) => ({
  scrollWidth: region.scrollWidth,
  clientWidth: region.clientWidth,
  scrollLeft: region.scrollLeft,
  right: region.getBoundingClientRect().right,
  shadows: getComputedStyle(region).backgroundImage,
})"""


def test_the_rota_by_worker_scrolls_in_a_region_that_says_so_on_a_laptop(
    open_page, shoot, users, rostered
):
    settle()
    page = open_page(Role.COORDINATOR, **LAPTOP)
    page.goto("/rota/workers?week=2027-01-11")
    page.evaluate(LARGER_TEXT)

    region = page.get_by_role("region", name="Each worker’s shifts and absences")
    state = region.evaluate(REGION_STATE)
    assert state["scrollWidth"] > state["clientWidth"], "the week is wider than the screen"
    assert state["right"] <= 1366
    assert no_horizontal_scroll(page), "the table scrolls, not the page"
    hint = page.get_by_text("Scroll sideways to see the whole week")
    expect(hint).to_be_visible()
    expect(region).to_have_attribute("aria-describedby", hint.get_attribute("id"))
    assert "gradient" in state["shadows"], "a shadow at the edge with more beyond"
    shoot(page, "rota-by-worker")

    # From the keyboard: the region takes focus, and the arrow keys scroll it.
    region.focus()
    expect(region).to_be_focused()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    assert region.evaluate(REGION_STATE)["scrollLeft"] > 0
    assert describe_violations(page.url, axe_violations(page)) == []


def test_the_scroll_hint_is_not_shown_when_the_week_fits(open_page, users, rostered):
    settle()
    page = open_page(Role.COORDINATOR, viewport={"width": 1920, "height": 1080})
    page.goto("/rota/workers?week=2027-01-11")
    region = page.get_by_role("region", name="Each worker’s shifts and absences")
    state = region.evaluate(REGION_STATE)
    assert state["scrollWidth"] <= state["clientWidth"]
    expect(page.get_by_text("Scroll sideways to see the whole week")).to_be_hidden()


def test_the_absence_check_and_a_block_feeds_new_address_pass_the_accessibility_rules(
    open_page, users, rostered
):
    """Pages the sweep of every GET page cannot reach: one answers a form, one needs a block."""
    settle()
    page = open_page(Role.COORDINATOR, **LAPTOP)
    page.goto("/rota/absences/new")
    page.get_by_label("Worker").select_option(label="Amira Clarke")
    page.get_by_label("Sickness").check()
    for legend in ("First day away", "Last day away"):
        group = page.get_by_role("group", name=legend)
        group.get_by_label("Day").fill("14")
        group.get_by_label("Month").fill("1")
        group.get_by_label("Year").fill("2027")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Check the absence before recording it")
    assert describe_violations(page.url, axe_violations(page)) == []

    page.goto("/calendar/blocks")
    page.get_by_role("button", name="New address for Stechford").click()
    expect(page.locator("h1")).to_contain_text("Get a new address for the Stechford")
    assert describe_violations(page.url, axe_violations(page)) == []


def test_the_year_summary_prints_on_one_a4_page(open_page, team, users, blocks, clock):
    """The commissioner's summary is a single sheet: Chromium's own print to PDF says so."""
    make_outcomes(users, blocks, clock)
    db.session.commit()  # end the read: the live server needs the database
    page = open_page(Role.ANALYST)
    page.goto("/reports/year")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"{pages} pages"
