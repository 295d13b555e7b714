"""Suitability assessments in the domain: each rule, and each refusal, which writes nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from booking import retention
from booking.appointments.slots import SlotRules
from booking.court import queries, suitability
from booking.court.suitability import Appointment, latest_appointment_end
from booking.errors import InvalidField, NotAllowed, SlotTaken
from booking.extensions import db
from booking.models import (
    AuditEvent,
    Booking,
    MessageKind,
    Notice,
    Role,
    SuitabilityAdjournment,
    SuitabilityAssessment,
)
from booking.sms.texts import render
from tests.court.conftest import BIRMINGHAM, HEARING, request_details
from tests.sms.test_texts import PHONE, TELLING
from tests.support import at, count, local, on_site, trail, utc

RULES = SlotRules()
# What a text about a suitability appointment must never say either.
COURT_WORDS = re.compile(r"\b(court|magistrat|sentenc|suitab|DRR|ATR|probation|bench)", re.I)


def nothing_written() -> bool:
    db.session.rollback()
    return (
        count(SuitabilityAssessment) == 0
        and count(SuitabilityAdjournment) == 0
        and count(Booking) == 0
        and trail() == []
    )


def refusal(call, *args, **kwargs) -> dict[str, str]:
    with pytest.raises(InvalidField) as refused:
        call(*args, **kwargs)
    db.session.rollback()
    return refused.value.errors


def request(users, clock, by=Role.WORKER, **changes):
    return suitability.request(
        request_details(**changes), by=users[by], now=clock(), allow_test_numbers=True
    )


def adjourn(record, users, clock, to, appointment=None, lead=1, by=Role.WORKER):
    return suitability.adjourn(
        record,
        to,
        appointment,
        by=users[by],
        now=clock(),
        rules=RULES,
        lead_working_days=lead,
        allow_test_numbers=True,
    )


# The request ---------------------------------------------------------------------------------


def test_a_request_is_recorded_with_a_booking_style_reference_and_audited(requested):
    record = requested()

    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", record.reference)
    assert record.status == "requested"
    assert record.court.code == BIRMINGHAM
    assert (record.hearing_date, record.listed_for) == (HEARING, HEARING)
    assert record.mobile == "+447700900123"
    assert [(e.action, e.reference) for e in trail()] == [("created", record.reference)]


@pytest.mark.parametrize(
    "day",
    [
        dt.date(2027, 1, 16),  # a Saturday
        dt.date(2027, 1, 17),  # a Sunday
        dt.date(2027, 5, 3),  # the early May bank holiday
        dt.date(2027, 12, 27),  # the Christmas bank holiday in lieu
    ],
)
def test_the_hearing_must_be_a_sitting_day(users, courts, clock, day):
    errors = refusal(request, users, clock, hearing_date=day)
    assert errors == {"hearing_date": suitability.NOT_A_SITTING_DAY}
    assert nothing_written()


def test_a_hearing_already_past_is_refused(users, courts, clock):
    errors = refusal(request, users, clock, hearing_date=dt.date(2027, 1, 12))
    assert errors == {"hearing_date": "The hearing must be today or later"}
    assert nothing_written()


def test_a_request_for_someone_in_custody_names_the_custody_block(users, courts, blocks, clock):
    assert "arrest_block" in refusal(request, users, clock, arrest_block=None)
    # A court is not a custody block.
    assert "arrest_block" in refusal(request, users, clock, arrest_block=BIRMINGHAM)
    assert nothing_written()
    # Seen at court, no custody block is needed.
    record = request(users, clock, setting="court", arrest_block=None)
    assert record.arrest_block is None


def test_each_wrong_field_of_a_request_is_named_at_once(users, courts, clock):
    errors = refusal(
        request,
        users,
        clock,
        court="stechford",
        session="evening",
        requested_by="police",
        setting="home",
        custody_record="x" * 41,
        person_name="Jamie\nTestperson",
        mobile="0121 496 0000",
    )
    assert set(errors) == {
        "court",
        "session",
        "requested_by",
        "setting",
        "custody_record",
        "person_name",
        "mobile",
    }
    assert nothing_written()


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.ANALYST])
def test_sergeants_and_analysts_do_no_court_work(users, courts, requested, clock, role):
    with pytest.raises(NotAllowed):
        request(users, clock, by=role)
    record = requested()
    with pytest.raises(NotAllowed):
        suitability.record_not_completed(record, "declined", by=users[role], now=clock())


# The result ----------------------------------------------------------------------------------


def result(record, users, clock, by=Role.WORKER, **changes):
    values = dict(drr="suitable", atr="not_assessed", willing=True, completed_at=clock())
    return suitability.record_result(record, by=users[by], now=clock(), **(values | changes))


def test_a_result_completes_the_assessment(requested, users, clock):
    record = requested()
    clock.set(clock() + dt.timedelta(hours=13))
    result(record, users, clock, completed_at=clock() - dt.timedelta(minutes=30))
    db.session.commit()

    assert (record.status, record.drr, record.atr, record.willing) == (
        "completed",
        "suitable",
        "not_assessed",
        True,
    )
    assert trail()[-1].action == "suitability_result"


def test_a_suitable_finding_needs_the_person_willing(requested, users, clock):
    record = requested()
    assert refusal(result, record, users, clock, atr="suitable", willing=False) == {
        "willing": "A suitable finding needs the person to be willing"
    }
    # Not suitable for either: willing or not does not matter.
    result(record, users, clock, drr="not_suitable", atr="not_suitable", willing=False)
    assert record.status == "completed"


def test_a_result_cannot_be_in_the_future_or_before_the_request(requested, users, clock):
    record = requested()
    errors = refusal(result, record, users, clock, completed_at=clock() + dt.timedelta(minutes=1))
    assert errors == {"completed_at": "The assessment cannot be completed in the future"}
    errors = refusal(result, record, users, clock, completed_at=clock() - dt.timedelta(minutes=1))
    assert errors == {"completed_at": "The assessment cannot be completed before it was requested"}
    db.session.refresh(record)
    assert record.status == "requested" and record.completed_at is None
    assert [e.action for e in trail()] == ["created"]


def test_a_result_finds_something_and_is_recorded_once(requested, users, clock):
    record = requested()
    assert "drr" in refusal(result, record, users, clock, drr="not_assessed")
    assert "atr" in refusal(result, record, users, clock, atr="maybe")
    result(record, users, clock)
    db.session.commit()
    assert refusal(result, record, users, clock) == {"reference": "The assessment is completed"}


def test_not_completed_takes_a_coded_reason(requested, users, clock):
    record = requested()
    assert "reason" in refusal(
        suitability.record_not_completed,
        record,
        "he was asleep",
        by=users[Role.WORKER],
        now=clock(),
    )
    suitability.record_not_completed(record, "not_produced", by=users[Role.WORKER], now=clock())
    db.session.commit()
    assert (record.status, record.not_completed_reason) == ("not_completed", "not_produced")
    assert trail()[-1].action == "not_completed"
    # Concluded: no result after it.
    assert "reference" in refusal(result, record, users, clock)


# Adjournments --------------------------------------------------------------------------------


def test_each_adjournment_is_kept_and_the_latest_sets_the_hearing(requested, users, clock):
    record = requested()
    adjourn(record, users, clock, dt.date(2027, 1, 28))
    adjourn(record, users, clock, dt.date(2027, 2, 11))
    db.session.commit()

    assert record.status == "adjourned"
    assert record.hearing_date == HEARING
    assert record.listed_for == dt.date(2027, 2, 11)
    assert [(a.hearing_date, a.adjourned_to) for a in record.adjournments] == [
        (HEARING, dt.date(2027, 1, 28)),
        (dt.date(2027, 1, 28), dt.date(2027, 2, 11)),
    ]
    # The duty list of each day shows the record where it is listed now.
    court = record.court
    assert queries.court_list(court, HEARING)["am"] == []
    assert queries.court_list(court, dt.date(2027, 2, 11))["am"] == [record]
    # An adjourned assessment may still be completed.
    result(record, users, clock)
    assert record.status == "completed"


def test_an_adjournment_is_to_a_later_sitting_day(requested, users, clock):
    record = requested()
    assert refusal(adjourn, record, users, clock, dt.date(2027, 1, 23)) == {
        "adjourned_to": suitability.NOT_A_SITTING_DAY
    }
    assert refusal(adjourn, record, users, clock, HEARING) == {
        "adjourned_to": "Choose a sitting day after the hearing"
    }
    db.session.refresh(record)
    assert record.status == "requested" and count(SuitabilityAdjournment) == 0


def test_an_adjournment_can_book_a_suitability_appointment_with_no_notice(
    requested, users, clock, rostered
):
    record = requested()
    adjournment = adjourn(
        record, users, clock, dt.date(2027, 1, 29), Appointment("stechford", local(2027, 1, 21, 10))
    )
    db.session.commit()

    booking = adjournment.booking
    assert booking.requirement == "suitability"
    assert (booking.block.code, booking.starts_at) == ("stechford", local(2027, 1, 21, 10))
    assert (booking.person_name, booking.mobile) == ("Jamie Testperson", "+447700900123")
    assert booking.notices == [] and count(Notice) == 0
    assert [m.kind for m in booking.messages][0] == MessageKind.CONFIRMATION
    actions = [(e.action, e.reference) for e in trail()]
    assert ("created", booking.reference) in actions
    assert actions[-1] == ("adjourned", record.reference)


def test_the_texts_about_a_suitability_appointment_say_nothing_telling(
    requested, users, clock, rostered
):
    record = requested()
    booking = adjourn(
        record, users, clock, dt.date(2027, 1, 29), Appointment("stechford", local(2027, 1, 21, 10))
    ).booking
    for kind in MessageKind:
        text = render(kind, booking, phone=PHONE)
        assert TELLING.search(text) is None, text
        assert COURT_WORDS.search(text) is None, text


def test_the_appointment_must_end_a_working_day_before_the_adjourned_hearing(
    requested, users, clock, rostered
):
    record = requested()
    friday = dt.date(2027, 1, 29)
    # Ending on the hearing's own day, or (with two days' lead) the day before, is too late.
    for starts_at, lead in [(local(2027, 1, 29, 9), 1), (local(2027, 1, 28, 10), 2)]:
        errors = refusal(
            adjourn, record, users, clock, friday, Appointment("stechford", starts_at), lead
        )
        assert set(errors) == {"appointment"}
    db.session.refresh(record)
    assert record.status == "requested"
    assert count(Booking) == 0 and count(SuitabilityAdjournment) == 0
    # The day before, with one day's lead, is in time.
    adjourn(record, users, clock, friday, Appointment("stechford", local(2027, 1, 28, 19, 30)))
    assert count(Booking) == 1


def test_the_lead_counts_working_days_so_a_weekend_appointment_is_too_late_for_monday(
    requested, users, clock, rostered
):
    record = requested()
    monday = dt.date(2027, 2, 1)
    errors = refusal(
        adjourn, record, users, clock, monday, Appointment("coventry", local(2027, 1, 30, 10))
    )
    assert set(errors) == {"appointment"}
    assert count(Booking) == 0


def test_the_latest_end_is_local_midnight_across_bank_holidays_and_clock_changes():
    # Adjourned to Tuesday 30 March 2027: Easter Monday and Good Friday are not working days,
    # so the appointment ends by the end of Thursday 25 March (GMT).
    assert latest_appointment_end(dt.date(2027, 3, 30), 1) == utc(2027, 3, 26, 0)
    # Adjourned to Monday 1 November 2027: the clocks went back on Sunday 31 October, so the
    # end of Friday 29 October is 23:00 UTC (BST).
    assert latest_appointment_end(dt.date(2027, 11, 1), 1) == utc(2027, 10, 29, 23)
    assert latest_appointment_end(dt.date(2027, 11, 2), 1) == utc(2027, 11, 2, 0)


def test_a_taken_slot_is_refused_with_alternatives_and_writes_nothing(
    requested, users, clock, rostered, book
):
    record = requested()
    starts_at = at(dt.date(2027, 1, 21), 10)
    book(starts_at, block="bloxwich")  # Bloxwich has one worker on site: the slot is now full
    bookings_before = count(Booking)
    with pytest.raises(SlotTaken) as taken:
        adjourn(record, users, clock, dt.date(2027, 1, 29), Appointment("bloxwich", starts_at))
    db.session.rollback()
    assert taken.value.alternatives
    assert count(Booking) == bookings_before
    db.session.refresh(record)
    assert record.status == "requested" and record.adjournments == []


def test_a_missed_suitability_appointment_is_not_for_the_police_list(
    requested, users, clock, rostered
):
    from booking.appointments import outcomes

    record = requested()
    booking = adjourn(
        record, users, clock, dt.date(2027, 1, 29), Appointment("stechford", local(2027, 1, 21, 10))
    ).booking
    db.session.commit()
    clock.set(local(2027, 1, 21, 11))
    outcomes.record_outcome(booking, "did_not_attend", by=users[Role.COORDINATOR], now=clock())
    db.session.commit()
    assert outcomes.police_to_be_informed() == []


# Sentence ------------------------------------------------------------------------------------


def test_the_sentence_is_recorded_not_before_the_hearing_nor_in_the_future(requested, users, clock):
    record = requested()
    worker = users[Role.WORKER]
    clock.set(local(2027, 1, 20, 12))
    errors = refusal(
        suitability.record_sentence, record, "drr", dt.date(2027, 1, 13), by=worker, now=clock()
    )
    assert errors == {"sentenced_on": "The date of sentence cannot be before the hearing"}
    errors = refusal(
        suitability.record_sentence, record, "drr", dt.date(2027, 1, 21), by=worker, now=clock()
    )
    assert errors == {"sentenced_on": "The date of sentence cannot be in the future"}
    assert "outcome" in refusal(
        suitability.record_sentence, record, "probation", HEARING, by=worker, now=clock()
    )
    suitability.record_sentence(record, "drr_and_atr", HEARING, by=worker, now=clock())
    db.session.commit()
    assert (record.sentence, record.sentenced_on) == ("drr_and_atr", HEARING)
    assert [e.action for e in trail()] == ["created", "sentence"]


# Retention -----------------------------------------------------------------------------------


def test_the_purge_removes_the_personal_fields_and_keeps_the_coded_ones(requested, users, clock):
    record = requested()
    result(record, users, clock)
    db.session.commit()

    retention.purge(clock() + dt.timedelta(days=89), 90)
    db.session.refresh(record)
    assert record.person_name == "Jamie Testperson"

    retention.purge(clock() + dt.timedelta(days=91), 90)
    db.session.refresh(record)
    assert (record.person_name, record.mobile, record.custody_record) == (None, None, None)
    assert (record.status, record.drr, record.court.code) == ("completed", "suitable", BIRMINGHAM)
    assert db.session.scalar(
        select(AuditEvent.action).where(
            AuditEvent.reference == record.reference, AuditEvent.action == "purged"
        )
    )


def test_a_request_never_concluded_is_purged_after_its_latest_hearing(requested, users, clock):
    record = requested()
    adjourn(record, users, clock, dt.date(2027, 2, 11))
    db.session.commit()
    retention.purge(local(2027, 5, 11, 12), 90)  # 89 days after the adjourned hearing
    db.session.refresh(record)
    assert record.person_name is not None
    retention.purge(local(2027, 5, 13, 12), 90)
    db.session.refresh(record)
    assert record.person_name is None


# Choosing an appointment for an adjournment ----------------------------------------------------


def test_the_slots_offered_for_an_adjournment_all_end_in_time_for_the_hearing(
    requested, users, clock, rostered
):
    record = requested()
    monday = dt.date(2027, 1, 18)
    # The last day in time: Friday with one working day's lead, Thursday with two.
    for lead, last_day in [(1, dt.date(2027, 1, 15)), (2, dt.date(2027, 1, 14))]:
        offered = suitability.appointment_slots(
            record,
            monday,
            now=clock(),
            rules=RULES,
            lead_working_days=lead,
            after=at(last_day, 18),
            limit=50,
        )
        assert offered, "the rota has free slots before the hearing"
        assert all(slot.ends_at <= latest_appointment_end(monday, lead) for slot in offered)
        # Up to the end of that day's cover, and nothing from a later day.
        assert max(slot.ends_at for slot in offered) == at(last_day, 20)
    # Each one offered is accepted by the adjournment itself.
    last = offered[-1]
    adjourn(record, users, clock, monday, Appointment(last.block.code, last.starts_at), lead=2)
    assert count(Booking) == 1


def test_no_slot_is_offered_when_none_can_end_in_time(requested, clock, rostered):
    record = requested()
    friday = dt.date(2027, 1, 15)
    # Two working days before Friday is Wednesday, which has passed: nothing ends in time.
    assert (
        suitability.appointment_slots(record, friday, now=clock(), rules=RULES, lead_working_days=2)
        == []
    )


# The court duty list ---------------------------------------------------------------------------


def test_a_worker_on_court_duty_is_at_that_court_that_day(users, courts, blocks, clock):
    me = users[Role.WORKER].worker
    on_site(me, blocks["stechford"], at(HEARING, 7), at(HEARING, 9))
    on_site(me, courts["coventry-magistrates"], at(HEARING, 9), at(HEARING, 17))
    assert queries.duty_court(me, HEARING).code == "coventry-magistrates"
    assert queries.duty_court(me, HEARING + dt.timedelta(days=1)) is None
