"""A court duty worker on a phone (375 by 812, touch) at Birmingham Magistrates' Court: today's
list opens at their court, and they record one suitable-and-willing result, one assessment not
completed, and one adjournment that books an appointment before the adjourned hearing, after an
appointment that would end too late is refused with the reason. No page scrolls sideways, and
the list prints without the menu and the buttons.

The clock is Thursday 14 January 2027, 10:30 in London.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from booking.court import suitability
from booking.court.suitability import SuitabilityRequest, latest_appointment_end
from booking.extensions import db
from booking.models import Role, SuitabilityAssessment
from tests.browser.conftest import no_horizontal_scroll, settle
from tests.browser.test_worker_phone import PHONE, open_menu_item
from tests.support import add_courts, add_team, at, fill_rota, on_site

pytestmark = pytest.mark.browser

THURSDAY = dt.date(2027, 1, 14)
MONDAY = dt.date(2027, 1, 18)
TUESDAY = dt.date(2027, 1, 19)
TOO_LATE = "Choose an appointment that ends at least 1 working day before the adjourned hearing"


def fits_the_phone(page) -> None:
    assert no_horizontal_scroll(page), f"{page.url} scrolls sideways on a phone"


def fill_date(page, legend: str, day: dt.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def choose(page, legend: str, option: str) -> None:
    page.get_by_role("group", name=legend).get_by_label(option, exact=True).check()


@pytest.fixture
def birmingham_today(users, blocks, clock):
    """Three cases on Birmingham's list today, the worker on court duty there, and a rota."""
    courts = add_courts()
    add_team(blocks)
    on_site(
        users[Role.WORKER].worker,
        courts["birmingham-magistrates"],
        at(THURSDAY, 9),
        at(THURSDAY, 17),
    )
    fill_rota(THURSDAY, 7)
    clock.set(at(THURSDAY, 9, 30))
    cases = {}
    for name, session, setting, asked in [
        ("Jamie Testperson", "am", "custody", "probation"),
        ("Robin Examplename", "am", "court", "defence"),
        ("Casey Sampleton", "pm", "custody", "bench"),
    ]:
        cases[name] = suitability.request(
            SuitabilityRequest(
                court="birmingham-magistrates",
                hearing_date=THURSDAY,
                session=session,
                requested_by=asked,
                setting=setting,
                arrest_block="stechford" if setting == "custody" else None,
                custody_record=f"20/{len(cases) + 1}00000/27",
                person_name=name,
                mobile="07700 900456",
                sms_consent=True,
            ),
            by=users[Role.WORKER],
            now=clock(),
            allow_test_numbers=True,
        )
    db.session.commit()
    clock.set(at(THURSDAY, 10, 30))
    references = {name: case.reference for name, case in cases.items()}
    settle()
    return references


def test_a_court_duty_worker_records_todays_list_on_a_phone(open_page, shoot, birmingham_today):
    page = open_page(Role.WORKER, **PHONE)
    open_menu_item(page, "Court")
    expect(page.locator("h1")).to_have_text("Thursday 14 January 2027")
    expect(page.locator(".govuk-caption-l")).to_have_text(
        "Court duty list: Birmingham Magistrates' Court"
    )
    expect(page.get_by_role("heading", name="Morning list")).to_be_visible()
    fits_the_phone(page)
    shoot(page, "list")

    # A suitable-and-willing result, for a person assessed in custody.
    page.get_by_role("link", name="Record result for Jamie Testperson").tap()
    expect(page.get_by_text("Goes to Birmingham Magistrates' Court, morning list")).to_be_visible()
    choose(page, "Drug rehabilitation requirement (DRR)", "Suitable")
    choose(page, "Alcohol treatment requirement (ATR)", "Not assessed")
    choose(page, "Is the person willing to comply with the requirement?", "Yes")
    expect(page.get_by_label("Time the assessment was completed")).to_have_value("10:30")
    page.get_by_label("Time the assessment was completed").fill("10:15")
    fits_the_phone(page)
    shoot(page, "result")
    page.get_by_role("button", name="Save the result").tap()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "saved for Jamie Testperson: DRR suitable, ATR not assessed"
    )
    # What followed the assessment is offered next; back to the list for the other cases.
    expect(page.get_by_role("heading", name="What followed the assessment")).to_be_visible()
    page.get_by_role("link", name="Back").tap()
    expect(
        page.get_by_text("DRR suitable, ATR not assessed; willing; completed at 10:15")
    ).to_be_visible()

    # Not completed: the person declined.
    page.get_by_role("link", name="Not completed for Robin Examplename").tap()
    choose(page, "Why was the assessment not completed?", "The person declined")
    page.get_by_role("button", name="Save the reason").tap()
    expect(page.get_by_text("Not completed: the person declined", exact=True)).to_be_visible()

    # Adjourned to Tuesday, with an appointment on Monday.
    page.get_by_role("link", name="Adjourned for Casey Sampleton").tap()
    fill_date(page, "Date of the adjourned hearing", TUESDAY)
    fill_date(page, "Show appointments from (optional)", MONDAY)
    page.get_by_role("button", name="Show appointments before this hearing").tap()
    expect(page.get_by_text("by the end of Monday 18 January 2027")).to_be_visible()
    appointments = page.get_by_role("group", name="Book an appointment for the assessment")
    monday_first = appointments.get_by_role("radio", name=re.compile(r"^Monday 18 January, 07:00"))
    expect(monday_first.first).to_be_visible()
    appointments.get_by_role("radio").first.check()
    # The hearing was in fact adjourned to Monday: that appointment would end too late.
    fill_date(page, "Date of the adjourned hearing", MONDAY)
    page.get_by_role("button", name="Record the adjournment").tap()
    expect(page.locator(".govuk-error-summary")).to_contain_text(TOO_LATE)
    expect(page).to_have_title(re.compile(r"^Error: "))
    # Fresh choices: none from Monday ends by the end of Friday, so only "none" is offered.
    expect(appointments.get_by_role("radio")).to_have_count(1)
    fits_the_phone(page)
    shoot(page, "too-late")
    db.session.expire_all()
    assert (
        db.session.get(SuitabilityAssessment, _id(birmingham_today["Casey Sampleton"])).status
        == "requested"
    )
    settle()

    fill_date(page, "Date of the adjourned hearing", TUESDAY)
    page.get_by_role("button", name="Show appointments before this hearing").tap()
    # Wait for the new choices: until the page answers, the old page's only radio is "none".
    expect(monday_first.first).to_be_visible()
    chosen = appointments.get_by_role("radio").first
    chosen_label = page.locator(f"label[for='{chosen.get_attribute('id')}']").inner_text()
    assert chosen_label.startswith("Monday 18 January")
    chosen.check()
    page.get_by_role("button", name="Record the adjournment").tap()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "adjourned to Tuesday 19 January 2027"
    )
    expect(page.locator(".govuk-notification-banner")).to_contain_text("on Monday 18 January 2027")
    fits_the_phone(page)
    shoot(page, "recorded")

    db.session.expire_all()
    records = {
        name: db.session.get(SuitabilityAssessment, _id(reference))
        for name, reference in birmingham_today.items()
    }
    assert records["Jamie Testperson"].status == "completed"
    assert (records["Jamie Testperson"].drr, records["Jamie Testperson"].willing) == (
        "suitable",
        True,
    )
    assert records["Robin Examplename"].not_completed_reason == "declined"
    adjourned = records["Casey Sampleton"]
    assert (adjourned.status, adjourned.listed_for) == ("adjourned", TUESDAY)
    booking = adjourned.adjournments[-1].booking
    assert booking.requirement == "suitability"
    assert booking.ends_at <= latest_appointment_end(TUESDAY, 1)
    settle()

    # On paper: the cases, without the menu, the chooser and the buttons.
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Show the list")).to_be_hidden()
    expect(page.get_by_role("button", name="Request an assessment")).to_be_hidden()
    expect(page.locator(".govuk-service-navigation")).to_be_hidden()
    expect(
        page.get_by_text("DRR suitable, ATR not assessed; willing; completed at 10:15")
    ).to_be_visible()


def _id(reference: str) -> int:
    return db.session.scalar(
        db.select(SuitabilityAssessment.id).where(SuitabilityAssessment.reference == reference)
    )
