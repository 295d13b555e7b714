"""The worker on a phone (375 by 812, touch) records what followed an assessment: one made on
site with no appointment, and one by appointment just recorded as attended. The service's own
controls are on (the CSRF check, the rate limits, the real idle time-out).

"Under a minute of taps" is shown by counting what the worker does from their day, once signed
in (each tap, choice from a list or typed field is one action), never by timing it. No page
scrolls sideways, and the pages pass axe-core's WCAG A and AA rules at this width, with the
conditional parts open and with errors shown. The keyboard test runs at a desktop's width.

The clock is Thursday 14 January 2027, 11:20 in London.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from booking import audit, create_app
from booking.extensions import db
from booking.models import Booking, OnSiteAssessment, Pathway, Requirement, Role
from booking.pathway import on_site, pathways
from tests.browser.conftest import (
    QuietHandler,
    axe_violations,
    describe_violations,
    focused,
    no_horizontal_scroll,
    settle,
    sign_in,
)
from tests.browser.journeys import reference_from_url
from tests.browser.test_keyboard import Keyboard
from tests.support import at, book, count, trail
from tests.support import on_site as rostered_at

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 375, "height": 812},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
THURSDAY = dt.date(2027, 1, 14)
# Each journey below is ten actions as designed; a little room, and no more.
MOST_ACTIONS = 12


@pytest.fixture
def service(app, schema, clock) -> Iterator[str]:
    """The app as the service runs it (CSRF check, rate limits and its own idle time-out), on
    the test database and clock, served on loopback: its base URL."""
    settle()
    served = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": schema,
            "CLOCK": clock,
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": True,
            "IDLE_TIMEOUT_MINUTES": 30,
            "SEND_FILE_MAX_AGE_DEFAULT": dt.timedelta(hours=1),
        }
    )
    assert served.config["WTF_CSRF_ENABLED"] and served.config["RATELIMIT_ENABLED"]
    server = make_server("127.0.0.1", 0, served, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="service", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    with served.app_context():
        db.engine.dispose()


@pytest.fixture
def on_shift(users, me, blocks, clock):
    """The worker on site at Perry Barr on Thursday from 09:00 to 17:00; it is 11:20."""
    rostered_at(me, blocks["perry-barr"], at(THURSDAY, 9), at(THURSDAY, 17))
    clock.set(at(THURSDAY, 11, 20))
    settle()
    return users[Role.WORKER]


@pytest.fixture
def phone(service, open_page, on_shift) -> Page:
    """The worker signed in to the service on their phone. The service comes first so that it
    stops after the browser has closed its pages."""
    page = open_page(base_url=service, **PHONE)
    sign_in(page, Role.WORKER)
    return page


class Actions:
    """What the worker does, one entry an action: a tap, a choice from a list, a typed field."""

    def __init__(self, page: Page):
        self.page = page
        self.done: list[str] = []

    def tap(self, target: Locator, what: str) -> None:
        target.tap()
        self.done.append(f"tap {what}")

    def choose(self, select: Locator, label: str) -> None:
        select.select_option(label=label)
        self.done.append(f"choose {label}")

    def open_menu_item(self, name: str) -> None:
        """GOV.UK's service navigation folds into a Menu button on a narrow screen."""
        menu = self.page.get_by_role("button", name="Menu")
        if menu.is_visible():
            self.tap(menu, "Menu")
        self.tap(self.page.get_by_role("link", name=name, exact=True), name)

    def assert_few(self) -> None:
        assert len(self.done) <= MOST_ACTIONS, (
            f"{len(self.done)} actions, more than {MOST_ACTIONS}:\n" + "\n".join(self.done)
        )


def group(page: Page, legend: str) -> Locator:
    return page.get_by_role("group", name=legend, exact=True)


def fits_the_phone(page: Page) -> None:
    assert no_horizontal_scroll(page), f"{page.url} scrolls sideways on a phone"
    # A mobile viewport widens to wide content, so the screen's own width is checked too.
    size = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert size["scroll"] <= min(size["inner"], PHONE["viewport"]["width"]), (
        f"{page.url} is wider than the phone: {size}"
    )


def accessible(page: Page) -> None:
    found = describe_violations(page.url, axe_violations(page))
    assert found == [], "\n".join(found)


def check_page(page: Page, shoot, name: str, axe: bool = False) -> None:
    fits_the_phone(page)
    shoot(page, name)
    if axe:
        accessible(page)


def facts_of(reference: str) -> SimpleNamespace:
    """The pathway with that reference, as stored."""
    db.session.expire_all()
    row = db.session.scalar(select(Pathway).where(Pathway.reference == reference))
    found = SimpleNamespace(
        subject=(row.booking_id, row.on_site_assessment_id, row.suitability_assessment_id),
        place=row.place.code,
        assessed_on=row.assessed_on,
        naloxone=row.naloxone,
        harm_reduction=row.harm_reduction,
        referred=row.referred,
        referral_area=row.referral_area,
        referred_on=row.referred_on,
        entry=row.entry,
        entered_on=row.entered_on,
        non_conversion_reason=row.non_conversion_reason,
        closed_on=row.closed_on,
        closure_reason=row.closure_reason,
    )
    settle()
    return found


def pathway_events() -> int:
    found = len([event for event in trail() if event.action == audit.Action.PATHWAY])
    settle()
    return found


def test_an_assessment_on_site_and_what_followed_take_ten_actions_on_a_phone(phone, shoot, users):
    page = phone
    actions = Actions(page)
    expect(page.locator("h1")).to_have_text("Thursday 14 January 2027")
    expect(page.locator("main")).to_contain_text("No assessments or contacts recorded on site")

    actions.open_menu_item("Record an assessment")
    expect(page.locator("h1")).to_have_text("Record an assessment or contact")
    # Where the worker is on site, today, now: filled in.
    expect(page.get_by_label("Where")).to_have_value("perry-barr")
    expect(page.locator("#assessed_on-day")).to_have_value("14")
    expect(page.get_by_label("Time")).to_have_value("11:20")
    check_page(page, shoot, "on-site", axe=True)
    actions.tap(page.get_by_label("Voluntary assessment"), "Voluntary assessment")
    actions.tap(page.get_by_role("button", name="Save and continue"), "Save and continue")

    expect(page.locator("h1")).to_have_text("What followed the assessment")
    reference = reference_from_url(page)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Voluntary assessment {reference} saved"
    )
    area = page.get_by_label("Area of the treatment service")
    expect(area).to_be_hidden()
    check_page(page, shoot, "pathway")

    actions.tap(group(page, "Naloxone").get_by_label("Issued"), "naloxone issued")
    actions.tap(
        group(page, "Was other harm reduction given?").get_by_label("Yes"), "harm reduction"
    )
    actions.tap(group(page, "Was the person referred into treatment?").get_by_label("Yes"), "ref")
    # The referral's details open under the answer, its date already today.
    expect(area).to_be_visible()
    referred_on = group(page, "Date of the referral")
    expect(referred_on.get_by_label("Day")).to_have_value("14")
    expect(referred_on.get_by_label("Month")).to_have_value("01")
    expect(referred_on.get_by_label("Year")).to_have_value("2027")
    actions.choose(area, "Sandwell")
    entry = group(page, "Did the person enter treatment?")
    actions.tap(entry.get_by_label("Awaiting word of an entry"), "awaiting")
    check_page(page, shoot, "pathway-referred", axe=True)
    actions.tap(page.get_by_role("button", name="Save", exact=True), "Save")

    expect(page).to_have_url(re.compile(r"/day\?date=2027-01-14$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"What followed {reference} is saved."
    )
    seen = page.locator(".app-day-item", has_text="Voluntary assessment")
    expect(seen).to_contain_text("11:20 Voluntary assessment, Perry Barr")
    # Chromium puts a space before the visually hidden part of a link's name.
    what_followed = re.compile(rf"^What followed\s?: {reference}$")
    expect(seen.get_by_role("link", name=what_followed)).to_be_visible()
    check_page(page, shoot, "day", axe=True)
    actions.assert_few()
    assert len(actions.done) == 10, actions.done

    db.session.expire_all()
    assessment = db.session.scalars(select(OnSiteAssessment)).one()
    assert (assessment.reference, assessment.kind, assessment.place.code) == (
        reference,
        "voluntary",
        "perry-barr",
    )
    assert assessment.assessed_at == at(THURSDAY, 11, 20)
    assert assessment.recorded_by_id == users[Role.WORKER].id
    settle()
    assert count(Pathway) == 1
    assert vars(facts_of(reference)) == dict(
        subject=(None, assessment.id, None),
        place="perry-barr",
        assessed_on=THURSDAY,
        naloxone="issued",
        harm_reduction=True,
        referred=True,
        referral_area="sandwell",
        referred_on=THURSDAY,
        entry="awaiting",
        entered_on=None,
        non_conversion_reason=None,
        closed_on=None,
        closure_reason=None,
    )


def test_after_recording_an_attended_appointment_the_worker_records_the_referral_on_a_phone(
    service, open_page, shoot, users, me, blocks, clock
):
    rostered_at(me, blocks["stechford"], at(THURSDAY, 7), at(THURSDAY, 20))
    booking = book(
        users[Role.SERGEANT],
        "stechford",
        at(THURSDAY, 10),
        clock(),
        requirement=Requirement.VOLUNTARY,
        test_result="negative",
    )
    reference, booking_id = booking.reference, booking.id
    clock.set(at(THURSDAY, 10, 30))  # the appointment has started
    settle()

    page = open_page(base_url=service, **PHONE)
    sign_in(page, Role.WORKER)
    actions = Actions(page)
    row = page.locator(".app-day-item", has_text="Jamie Testperson")
    actions.tap(row.get_by_role("link", name=re.compile(r"^Record outcome")), "Record outcome")
    expect(page.locator("h1")).to_have_text("Record the outcome")
    actions.tap(page.get_by_label("Attended", exact=True), "Attended")
    actions.tap(page.get_by_role("button", name="Save the outcome"), "Save the outcome")

    expect(page).to_have_url(re.compile(rf"/pathway/{reference}$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Outcome of {reference} recorded: attended. Now record what followed"
    )
    expect(page.locator(".app-pathway-facts")).to_contain_text(
        "Voluntary assessment, by appointment"
    )
    check_page(page, shoot, "pathway")
    actions.tap(group(page, "Was the person referred into treatment?").get_by_label("Yes"), "ref")
    actions.choose(page.get_by_label("Area of the treatment service"), "Birmingham")
    check_page(page, shoot, "pathway-referred")
    actions.tap(page.get_by_role("button", name="Save", exact=True), "Save")

    expect(page).to_have_url(re.compile(r"/day\?date=2027-01-14$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"What followed {reference} is saved."
    )
    # Nothing is due on the appointment's line now; what followed is a tap away.
    expect(row.locator(".app-day-item__due")).to_have_count(0)
    row.locator("summary").tap()
    expect(row.get_by_role("link", name=f"What followed {reference}")).to_be_visible()
    check_page(page, shoot, "day")
    actions.assert_few()

    assert vars(facts_of(reference)) == dict(
        subject=(booking_id, None, None),
        place="stechford",
        assessed_on=THURSDAY,
        naloxone=None,
        harm_reduction=None,
        referred=True,
        referral_area="birmingham",
        referred_on=THURSDAY,
        entry=None,
        entered_on=None,
        non_conversion_reason=None,
        closed_on=None,
        closure_reason=None,
    )
    db.session.expire_all()
    assert db.session.get(Booking, booking_id).status == "attended"
    settle()


def seen_on_site(user, clock, kind: str = "voluntary") -> str:
    record = on_site.record("perry-barr", kind, at(THURSDAY, 10, 5), by=user, now=clock())
    db.session.commit()
    reference = record.reference
    settle()
    return reference


def test_closing_a_case_before_the_referral_is_known_is_refused_and_nothing_is_written(
    phone, shoot, on_shift, clock
):
    reference = seen_on_site(on_shift, clock)
    page = phone
    page.goto(f"/pathway/{reference}")
    group(page, "Was the person referred into treatment?").get_by_label("Yes").tap()
    page.get_by_label("Area of the treatment service").select_option(label="Walsall")
    group(page, "Did the person enter treatment?").get_by_label("Awaiting word of an entry").tap()
    closed = group(page, "Is the case closed?")
    closure = page.get_by_label("Reason for closing")
    expect(closure).to_be_hidden()
    closed.get_by_label("Yes").tap()
    expect(closure).to_be_visible()
    expect(group(page, "Date the case closed").get_by_label("Day")).to_have_value("14")
    closure.select_option(label="Disengaged")
    page.get_by_role("button", name="Save", exact=True).tap()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    problem = (
        "Record whether the referral led into treatment first, or close the case with no "
        "further action"
    )
    expect(summary.get_by_role("link", name=problem)).to_have_attribute("href", "#closure_reason")
    expect(page.locator("#closure_reason-error")).to_contain_text(problem)
    # What was chosen is still there, the parts it opened still open.
    expect(closed.get_by_label("Yes")).to_be_checked()
    expect(closure).to_be_visible()
    expect(closure).to_have_value("disengaged")
    expect(page.get_by_label("Area of the treatment service")).to_have_value("walsall")
    check_page(page, shoot, "refused", axe=True)

    # The summary's link takes the worker to the answer to change.
    summary.get_by_role("link", name=problem).tap()
    expect(closure).to_be_focused()

    assert count(Pathway) == 0
    assert pathway_events() == 0


def test_what_followed_can_be_recorded_by_keyboard_alone(open_page, shoot, on_shift, clock):
    reference = seen_on_site(on_shift, clock)
    page = open_page(Role.WORKER)
    page.goto(f"/pathway/{reference}")
    keys = Keyboard(page)

    # Into a radio group with nothing chosen: its first option; Space chooses it.
    state = keys.tab_to(id="naloxone")
    assert state["name"] == "Issued" and not state["checked"]
    keys.press("Space")
    assert focused(page)["checked"]
    keys.tab_to(id="harm_reduction")
    keys.press("Space")
    assert focused(page)["name"] == "Yes" and focused(page)["checked"]
    keys.tab_to(id="referred")
    keys.press("Space")
    # The referral's details open, next in the tab order.
    state = keys.tab_to(id="referral_area")
    assert state["tag"] == "select"
    keys.page.keyboard.type("Dudley")
    expect(page.locator("#referral_area")).to_have_value("dudley")
    state = keys.tab_to(id="entry")
    assert state["name"] == "Awaiting word of an entry"
    keys.press("ArrowDown")  # entered treatment: its date opens
    assert focused(page)["name"] == "Entered treatment" and focused(page)["checked"]
    keys.tab_to(id="entered_on-day")
    keys.type("14")
    keys.tab_to(id="entered_on-month")
    keys.type("1")
    keys.tab_to(id="entered_on-year")
    keys.type("2027")
    shoot(page, "filled")
    keys.tab_to(name="Save")
    keys.follow()

    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"What followed {reference} is saved."
    )
    assert keys.unseen == [], "focused without a visible focus style:\n" + "\n".join(keys.unseen)
    found = facts_of(reference)
    assert (found.naloxone, found.harm_reduction, found.referred) == ("issued", True, True)
    assert (found.referral_area, found.referred_on) == ("dudley", THURSDAY)
    assert (found.entry, found.entered_on) == ("entered", THURSDAY)


def test_the_follow_through_list_fits_a_phone(phone, shoot, on_shift, clock):
    december = at(dt.date(2026, 12, 14), 11)
    for place, kind, changes in (
        ("perry-barr", "required_initial", {"referred": True, "referral_area": "out_of_area"}),
        ("oldbury", "contact_only", {"naloxone": "already_has"}),
    ):
        record = on_site.record(place, kind, december, by=on_shift, now=december)
        if changes.get("referred"):
            changes |= {"referred_on": december.date(), "entry": "awaiting"}
        pathways.record(pathways.assessment(record.reference), changes, by=on_shift, now=december)
    db.session.commit()
    settle()

    page = phone
    page.goto("/follow-through")
    expect(page.locator("#awaiting-entry")).to_contain_text("Out of area")
    expect(page.locator("#awaiting-entry")).to_contain_text("Overdue")
    expect(page.locator("#quiet-cases")).to_contain_text("Oldbury")
    check_page(page, shoot, "follow-through", axe=True)
