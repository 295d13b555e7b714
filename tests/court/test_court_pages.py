"""The court duty worker's pages: the duty list, the request, the result, not completed, the
adjournment with its appointment, the sentence; who may see them, and what each view records."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    AuditEvent,
    Booking,
    Role,
    SuitabilityAdjournment,
    SuitabilityAssessment,
)
from tests.court.conftest import BIRMINGHAM, HEARING
from tests.support import at, count, local, on_site, page_of, signed_in, trail

# Thursday 14 January 2027, mid-morning: the hearing day, the courts sitting.
DURING_THE_HEARING = (2027, 1, 14, 10, 30)
TUESDAY = dt.date(2027, 1, 19)


def boxes(day: dt.date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def request_form(**changes) -> dict:
    form = {
        "court": BIRMINGHAM,
        "hearing_date": boxes(HEARING),
        "session": "am",
        "requested_by": "bench",
        "setting": "custody",
        "arrest_block": "stechford",
        "custody_record": "20/123456/27",
        "person_name": "Jamie Testperson",
        "mobile": "07700 900123",
        "sms_consent": "yes",
    }
    return form | changes


@pytest.fixture
def hearing_day(clock):
    clock.set_local(*DURING_THE_HEARING)


@pytest.fixture
def worker(login, users, courts):
    login(Role.WORKER)


def url_for_list(record: SuitabilityAssessment) -> str:
    day = record.listed_for
    return f"/court?court={record.court.code}&date={day.day}&date={day.month}&date={day.year}"


def url(record: SuitabilityAssessment, action: str = "") -> str:
    return f"/court/suitability/{record.reference}" + (f"/{action}" if action else "")


def unchanged(record: SuitabilityAssessment, status: str = "requested") -> bool:
    """The record as it was, with nothing written about it but views."""
    db.session.rollback()
    db.session.refresh(record)
    changes = [e.action for e in trail() if e.reference == record.reference]
    return record.status == status and set(changes) <= {"created", "viewed"}


# Who may see court work -----------------------------------------------------------------------


def test_workers_and_coordinators_have_court_in_their_menu_and_others_do_not(app, users, courts):
    for role in Role:
        client = signed_in(app.test_client(), role)
        links = [text for _, text in page_of(client.get("/")).links]
        assert ("Court" in links) == (role in (Role.WORKER, Role.COORDINATOR)), role
        assert ("Court duty list" in links) == ("Court" in links), "and on the home page"


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.ANALYST])
def test_sergeants_and_analysts_are_refused_every_court_page(client, login, requested, role):
    record = requested()
    login(role)
    for path in [
        "/court",
        "/court/suitability/new",
        url(record),
        url(record, "result"),
        url(record, "not-completed"),
        url(record, "adjourn"),
        url(record, "sentence"),
    ]:
        assert client.get(path).status_code == 403, path
    assert client.post(url(record, "not-completed"), data={"reason": "declined"}).status_code == 403
    assert unchanged(record)
    assert not [e for e in trail() if e.action == "viewed"]


# The court duty list --------------------------------------------------------------------------


def test_the_list_opens_today_at_the_court_where_the_worker_is_on_duty(
    client, worker, requested, courts, users, clock, hearing_day
):
    me = users[Role.WORKER].worker
    on_site(me, courts["coventry-magistrates"], at(HEARING, 9), at(HEARING, 17))
    page = page_of(client.get("/court"))
    assert page.selected["court"] == "coventry-magistrates"
    assert "Coventry Magistrates' Court" in page.title
    assert "Thursday 14 January 2027" in page.title


def test_the_list_opens_at_the_first_court_when_the_worker_is_not_on_court_duty(
    client, worker, courts, hearing_day
):
    page = page_of(client.get("/court"))
    assert page.selected["court"] == BIRMINGHAM
    assert "Birmingham Magistrates' Court, Thursday 14 January 2027" in page.title


def test_the_list_shows_each_case_by_session_with_who_asked_where_and_actions(
    client, worker, requested, users, clock
):
    from_custody = requested(requested_by="probation")
    at_court = requested(
        setting="court",
        arrest_block=None,
        session="pm",
        requested_by="defence",
        person_name="Robin Examplename",
        custody_record="20/654321/27",
    )
    requested(hearing_date=TUESDAY, person_name="Another Day")
    clock.set_local(*DURING_THE_HEARING)

    response = client.get("/court", query_string={"court": BIRMINGHAM, "date": boxes(HEARING)})
    assert response.status_code == 200
    page = page_of(response)
    text = page.text
    morning, afternoon = text.split("Afternoon list")
    assert "Jamie Testperson" in morning and "Robin Examplename" not in morning
    assert "Robin Examplename" in afternoon
    assert "Another Day" not in text
    assert "Asked by: Probation" in morning and "From custody at Stechford" in morning
    assert "Asked by: Defence" in afternoon and "Requested at court" in afternoon
    assert "To assess" in morning
    for record in (from_custody, at_court):
        hrefs = [href for href, _ in page.links]
        for action in ("result", "not-completed", "adjourn"):
            assert url(record, action) in hrefs

    viewed = [
        (e.reference, e.detail)
        for e in trail()
        if e.action == "viewed" and e.detail.startswith("court duty list")
    ]
    where = f"court duty list {BIRMINGHAM} 2027-01-14"
    assert sorted(viewed) == sorted([(from_custody.reference, where), (at_court.reference, where)])


def test_a_date_that_is_not_a_date_is_refused_with_the_error_summary(client, worker, requested):
    requested()
    response = client.get("/court", query_string={"court": BIRMINGHAM, "date": ["31", "2", "2027"]})
    assert response.status_code == 400
    page = page_of(response)
    assert page.error_links == [
        ("#date-day", "The date of the list must be a real date, like 13 1 2027")
    ]
    assert "Jamie Testperson" not in page.text
    assert not [e for e in trail() if e.action == "viewed"]


# Requesting an assessment ---------------------------------------------------------------------


def test_a_request_is_recorded_and_its_page_says_where_the_person_goes(client, worker, blocks):
    response = client.post("/court/suitability/new", data=request_form())
    assert response.status_code == 302
    record = db.session.scalar(select(SuitabilityAssessment))
    assert response.headers["Location"] == url(record)
    assert (record.court.code, record.hearing_date, record.session) == (BIRMINGHAM, HEARING, "am")
    assert (record.requested_by, record.setting, record.arrest_block.code) == (
        "bench",
        "custody",
        "stechford",
    )
    assert (record.person_name, record.mobile, record.sms_consent) == (
        "Jamie Testperson",
        "+447700900123",
        True,
    )

    page = page_of(client.get(url(record)))
    assert f"{record.reference} requested for Jamie Testperson" in page.text
    assert (
        "Goes to Birmingham Magistrates' Court, morning list, Thursday 14 January 2027" in page.text
    )
    assert "Held now at Stechford custody block" in page.text
    assert [(e.action, e.detail) for e in trail()][-1] == ("viewed", "suitability record")


def test_a_request_with_wrong_answers_names_each_and_writes_nothing(client, worker, blocks):
    saturday = dt.date(2027, 1, 16)
    response = client.post(
        "/court/suitability/new",
        data=request_form(hearing_date=boxes(saturday), arrest_block="", mobile="0121 496 0000"),
    )
    assert response.status_code == 400
    page = page_of(response)
    assert page.title.startswith("Error: ")
    assert [href for href, _ in page.error_links] == [
        "#hearing_date-day",
        "#arrest_block",
        "#mobile",
    ]
    assert count(SuitabilityAssessment) == 0 and trail() == []
    # What was typed is shown again.
    assert page.values["person_name"] == "Jamie Testperson"


def test_a_request_left_empty_is_refused_field_by_field(client, worker, blocks):
    response = client.post("/court/suitability/new", data={})
    assert response.status_code == 400
    assert len(page_of(response).error_links) >= 6
    assert count(SuitabilityAssessment) == 0 and trail() == []


# The result -----------------------------------------------------------------------------------


def test_a_suitable_and_willing_result_completes_the_assessment(client, worker, requested, clock):
    record = requested()
    clock.set_local(*DURING_THE_HEARING)
    page = page_of(client.get(url(record, "result")))
    assert "Goes to Birmingham Magistrates' Court, morning list" in page.text
    assert page.values["completed_time"] == "10:30"

    response = client.post(
        url(record, "result"),
        data={
            "drr": "suitable",
            "atr": "not_assessed",
            "willing": "yes",
            "completed_on": boxes(HEARING),
            "completed_time": "10:15",
        },
    )
    assert response.status_code == 302
    # What followed the assessment is the next thing to record.
    assert response.headers["Location"] == f"/pathway/{record.reference}"
    db.session.refresh(record)
    assert (record.status, record.drr, record.atr, record.willing) == (
        "completed",
        "suitable",
        "not_assessed",
        True,
    )
    assert record.completed_at == local(2027, 1, 14, 10, 15)
    next_page = page_of(client.get(response.headers["Location"]))
    assert f"Result of {record.reference} saved" in next_page.text
    assert ("/court?court=birmingham-magistrates&date=14&date=1&date=2027", "Back") in (
        next_page.links
    )
    listed = page_of(client.get(url_for_list(record)))
    assert "DRR suitable, ATR not assessed; willing; completed at 10:15" in listed.text


def test_a_suitable_finding_without_willingness_is_refused_and_nothing_written(
    client, worker, requested, clock
):
    record = requested()
    clock.set_local(*DURING_THE_HEARING)
    response = client.post(
        url(record, "result"),
        data={
            "drr": "suitable",
            "atr": "not_suitable",
            "willing": "no",
            "completed_on": boxes(HEARING),
            "completed_time": "10:15",
        },
    )
    assert response.status_code == 400
    page = page_of(response)
    assert page.error_links == [("#willing", "A suitable finding needs the person to be willing")]
    assert unchanged(record)


def test_a_result_in_the_future_is_refused_on_the_time(client, worker, requested, clock):
    record = requested()
    clock.set_local(*DURING_THE_HEARING)
    data = {
        "drr": "not_suitable",
        "atr": "not_suitable",
        "willing": "no",
        "completed_on": boxes(HEARING),
        "completed_time": "11:00",
    }
    response = client.post(url(record, "result"), data=data)
    assert response.status_code == 400
    assert page_of(response).error_links == [
        ("#completed_time", "The assessment cannot be completed in the future")
    ]
    assert unchanged(record)


# Not completed --------------------------------------------------------------------------------


def test_not_completed_records_the_reason(client, worker, requested, clock):
    record = requested()
    clock.set_local(*DURING_THE_HEARING)
    response = client.post(url(record, "not-completed"), data={"reason": "not_produced"})
    assert response.status_code == 302
    db.session.refresh(record)
    assert (record.status, record.not_completed_reason) == ("not_completed", "not_produced")
    assert (
        "Not completed: the person was not produced"
        in page_of(client.get(response.headers["Location"])).text
    )


def test_not_completed_without_a_reason_is_refused_and_nothing_written(
    client, worker, requested, clock
):
    record = requested()
    response = client.post(url(record, "not-completed"), data={"reason": "bored"})
    assert response.status_code == 400
    assert [href for href, _ in page_of(response).error_links] == ["#reason"]
    response = client.post(url(record, "not-completed"), data={})
    assert response.status_code == 400
    assert unchanged(record)


def test_a_concluded_assessment_offers_no_more_results(client, worker, requested, clock):
    record = requested()
    client.post(url(record, "not-completed"), data={"reason": "declined"})
    page = page_of(client.get(url(record, "result")))
    assert "This assessment is not completed" in page.text
    assert "drr" not in page.radios
    response = client.post(url(record, "not-completed"), data={"reason": "unfit"})
    assert response.status_code == 400
    db.session.refresh(record)
    assert record.not_completed_reason == "declined"


# Adjourned ------------------------------------------------------------------------------------


def adjourn_form(to: dt.date, appointment: str | None = None, show: bool = False, **changes):
    form = {"adjourned_to": boxes(to), "slots_from": ["", "", ""]}
    if appointment is not None:
        form["appointment"] = appointment
    if show:
        form["show"] = "Show appointments before this hearing"
    return form | changes


def offered(client, record, to: dt.date, **changes) -> list[str]:
    response = client.post(url(record, "adjourn"), data=adjourn_form(to, show=True, **changes))
    assert response.status_code == 200
    return page_of(response).radios["appointment"]


def test_the_appointments_offered_all_end_in_time_for_the_adjourned_hearing(
    client, worker, requested, clock, rostered
):
    record = requested()
    clock.set_local(*DURING_THE_HEARING)
    # Adjourned to Tuesday: appointments must end by the end of Monday.
    choices = offered(client, record, TUESDAY, slots_from=boxes(dt.date(2027, 1, 18)))
    assert choices[-1] == "none"
    starts = [dt.datetime.fromisoformat(value.split("|")[1]) for value in choices[:-1]]
    assert starts and all(local(2027, 1, 18) <= s <= local(2027, 1, 18, 19, 30) for s in starts)
    # Showing them writes nothing.
    assert unchanged(record) and count(Booking) == 0


def test_an_adjournment_books_an_appointment_before_the_hearing(
    client, worker, requested, clock, rostered
):
    record = requested()
    clock.set_local(*DURING_THE_HEARING)
    chosen = offered(client, record, TUESDAY)[0]
    response = client.post(url(record, "adjourn"), data=adjourn_form(TUESDAY, chosen))
    assert response.status_code == 302
    db.session.refresh(record)
    assert (record.status, record.listed_for) == ("adjourned", TUESDAY)
    booking = record.adjournments[0].booking
    assert booking.requirement == "suitability"
    assert f"{booking.block.code}|{booking.starts_at.isoformat()}" == chosen
    listed = page_of(client.get(response.headers["Location"]))
    assert f"Appointment {booking.reference} booked" in listed.text
    assert (
        "Assessment Suitability assessment"
        in page_of(client.get(f"/bookings/{booking.reference}")).text
    )
    # The record is now on Tuesday's list, with its appointment.
    tuesday = page_of(
        client.get("/court", query_string={"court": BIRMINGHAM, "date": boxes(TUESDAY)})
    )
    assert "Adjourned from Thursday 14 January 2027: appointment" in tuesday.text


def test_an_appointment_ending_too_late_is_refused_with_the_reason_and_fresh_choices(
    client, worker, requested, clock, rostered
):
    record = requested()
    clock.set_local(*DURING_THE_HEARING)
    monday = dt.date(2027, 1, 18)
    chosen = offered(client, record, TUESDAY, slots_from=boxes(monday))[0]
    # The hearing was in fact adjourned to Monday: a Monday appointment ends too late.
    response = client.post(
        url(record, "adjourn"), data=adjourn_form(monday, chosen, slots_from=boxes(monday))
    )
    assert response.status_code == 400
    page = page_of(response)
    assert page.error_links == [
        (
            "#appointment",
            "Choose an appointment that ends at least 1 working day before the adjourned hearing",
        )
    ]
    assert page.radios["appointment"] == ["none"]  # nothing from Monday on ends in time
    assert "by the end of Friday 15 January 2027" in page.text
    assert unchanged(record)
    assert count(Booking) == 0 and count(SuitabilityAdjournment) == 0


def test_a_slot_taken_meanwhile_is_refused_with_fresh_choices(
    client, worker, requested, clock, rostered, book
):
    record = requested()
    clock.set_local(*DURING_THE_HEARING)
    monday = dt.date(2027, 1, 18)
    choices = offered(client, record, TUESDAY, slots_from=boxes(monday), **{})
    bloxwich = next(value for value in choices if value.startswith("bloxwich|"))
    starts_at = dt.datetime.fromisoformat(bloxwich.split("|")[1])
    book(starts_at, block="bloxwich")  # Bloxwich has one worker on site: now full
    before = count(Booking)
    response = client.post(
        url(record, "adjourn"), data=adjourn_form(TUESDAY, bloxwich, slots_from=boxes(monday))
    )
    assert response.status_code == 409
    page = page_of(response)
    assert page.error_links == [("#appointment", "That slot has just been taken. Choose another.")]
    assert bloxwich not in page.radios["appointment"] and len(page.radios["appointment"]) > 1
    assert unchanged(record) and count(Booking) == before


def test_an_adjournment_without_an_appointment_books_none(client, worker, requested, clock):
    record = requested()
    response = client.post(url(record, "adjourn"), data=adjourn_form(TUESDAY, "none"))
    assert response.status_code == 302
    db.session.refresh(record)
    assert record.status == "adjourned" and record.adjournments[0].booking is None
    assert count(Booking) == 0


def test_an_adjournment_to_a_day_the_court_does_not_sit_is_refused(
    client, worker, requested, clock
):
    record = requested()
    response = client.post(url(record, "adjourn"), data=adjourn_form(dt.date(2027, 1, 16), "none"))
    assert response.status_code == 400
    assert page_of(response).error_links == [
        ("#adjourned_to-day", "Choose a sitting day: Monday to Friday, not a bank holiday")
    ]
    response = client.post(url(record, "adjourn"), data=adjourn_form(TUESDAY))
    assert response.status_code == 400
    assert [href for href, _ in page_of(response).error_links] == ["#appointment"]
    assert unchanged(record) and count(SuitabilityAdjournment) == 0


# The sentence ---------------------------------------------------------------------------------


def test_the_sentence_is_recorded_and_shown_on_the_record(client, worker, requested, clock):
    record = requested()
    clock.set_local(2027, 2, 1, 12)
    assert page_of(client.get(url(record, "sentence"))).values["sentenced_on-day"] == "01"
    response = client.post(
        url(record, "sentence"), data={"outcome": "drr", "sentenced_on": boxes(HEARING)}
    )
    assert response.status_code == 302 and response.headers["Location"] == url(record)
    db.session.refresh(record)
    assert (record.sentence, record.sentenced_on) == ("drr", HEARING)
    assert (
        "Drug rehabilitation requirement (DRR), Thursday 14 January 2027"
        in page_of(client.get(url(record))).text
    )


def test_a_sentence_in_the_future_is_refused_and_nothing_written(client, worker, requested, clock):
    record = requested()
    clock.set_local(*DURING_THE_HEARING)
    response = client.post(
        url(record, "sentence"), data={"outcome": "atr", "sentenced_on": boxes(TUESDAY)}
    )
    assert response.status_code == 400
    assert page_of(response).error_links == [
        ("#sentenced_on-day", "The date of sentence cannot be in the future")
    ]
    assert unchanged(record)
    assert record.sentence is None


# What each page records -----------------------------------------------------------------------


def test_every_page_showing_a_record_records_the_view(client, worker, requested):
    record = requested()
    for action, where in [
        ("", "suitability record"),
        ("result", "result page"),
        ("not-completed", "not completed page"),
        ("adjourn", "adjournment page"),
        ("sentence", "sentence page"),
    ]:
        assert client.get(url(record, action)).status_code == 200
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (event.action, event.reference, event.detail) == ("viewed", record.reference, where)


def test_an_unknown_reference_is_not_found(client, worker):
    assert client.get("/court/suitability/ZZZZ-ZZZZ").status_code == 404


def test_dates_at_the_ends_of_the_calendar_are_answered_never_failed_on(
    client, worker, requested, blocks
):
    record = requested()
    first, last = ["1", "1", "0001"], ["31", "12", "9999"]
    for date in (first, last):
        # The list of the first or last day there is, with no link to a day beyond it.
        response = client.get("/court", query_string={"court": BIRMINGHAM, "date": date})
        assert response.status_code == 200, date
    # Before the hearing, refused; far ahead, no appointment in the booking window ends in time.
    response = client.post(url(record, "adjourn"), data={"adjourned_to": first, "show": "y"})
    assert response.status_code == 400
    response = client.post(url(record, "adjourn"), data={"adjourned_to": last, "show": "y"})
    assert response.status_code == 200
    assert page_of(response).radios["appointment"] == ["none"]
    response = client.post("/court/suitability/new", data=request_form(hearing_date=first))
    assert response.status_code == 400
    response = client.post(url(record, "sentence"), data={"outcome": "drr", "sentenced_on": first})
    assert response.status_code == 400
    assert unchanged(record) and count(SuitabilityAssessment) == 1
