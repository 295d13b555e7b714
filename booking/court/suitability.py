"""Suitability assessments for the magistrates' courts: a court asks whether a person suits a
drug rehabilitation requirement (DRR) or an alcohol treatment requirement (ATR), and the court
duty worker records what was found, why it was not done, an adjournment for it, and the
sentence passed.

Coded facts only: the assessment itself stays in the provider's case-management system. Every
change is audited under the record's reference. An appointment for an adjourned assessment is
booked through the one booking path (appointments.bookings), so it is as race-safe as any
other booking; it has the requirement `suitability`, no Drugs Act notice, and the ordinary
texts. The functions here flush but never commit: the caller commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .. import audit, permissions, places
from ..appointments import bookings
from ..appointments.references import unused_reference
from ..appointments.slots import Slot, SlotRules, free_slots
from ..clock import LONDON, local_midnight
from ..errors import InvalidField, NotAllowed
from ..extensions import db
from ..models import (
    Booking,
    Finding,
    NotCompletedReason,
    RequestedBy,
    Requirement,
    SentenceOutcome,
    Session,
    Setting,
    SuitabilityAdjournment,
    SuitabilityAssessment,
    SuitabilityStatus,
    TestResult,
    User,
)
from ..sms.reminders import ReminderPolicy
from ..workdays import is_working_day, nth_working_day_after, nth_working_day_before

# An assessment still to be done: its result, its not being done, or an adjournment may follow.
OPEN = (SuitabilityStatus.REQUESTED, SuitabilityStatus.ADJOURNED)
NOT_A_SITTING_DAY = "Choose a sitting day: Monday to Friday, not a bank holiday"


@dataclass
class SuitabilityRequest:
    """What the court asked for, and who the person is."""

    court: str
    hearing_date: dt.date
    session: str
    requested_by: str
    setting: str
    arrest_block: str | None
    custody_record: str
    person_name: str
    mobile: str | None
    sms_consent: bool


@dataclass(frozen=True)
class Appointment:
    """The slot asked for an adjourned assessment."""

    block: str
    starts_at: dt.datetime


def may_act_on(user: User) -> None:
    """Court work is for workers and coordinators only."""
    if not permissions.may(user, permissions.COURT_WORK):
        raise NotAllowed("Your role cannot see or record court work.")


def is_sitting_day(day: dt.date) -> bool:
    """The magistrates' courts sit Monday to Friday, not on bank holidays in England and Wales."""
    return is_working_day(day)


def sitting_day_after(day: dt.date) -> dt.date:
    """The next day the courts sit."""
    return nth_working_day_after(day, 1)


def sitting_day_before(day: dt.date) -> dt.date:
    """The last day the courts sat before this one."""
    return nth_working_day_before(day, 1)


def request(
    details: SuitabilityRequest, *, by: User, now: dt.datetime, allow_test_numbers: bool
) -> SuitabilityAssessment:
    """Record a court's request for a suitability assessment, or InvalidField naming every
    field that is wrong."""
    may_act_on(by)
    errors: dict[str, str] = {}
    court = places.court_with_code(details.court)
    if court is None:
        errors["court"] = "Choose a magistrates' court from the list"
    today = now.astimezone(LONDON).date()
    if not is_sitting_day(details.hearing_date):
        errors["hearing_date"] = NOT_A_SITTING_DAY
    elif details.hearing_date < today:
        errors["hearing_date"] = "The hearing must be today or later"
    if details.session not in set(Session):
        errors["session"] = "Choose am or pm"
    if details.requested_by not in set(RequestedBy):
        errors["requested_by"] = "Choose probation, bench, defence or worker"
    if details.setting not in set(Setting):
        errors["setting"] = "Choose custody or court"
    arrest_block = None
    if details.arrest_block:
        arrest_block = places.block_with_code(details.arrest_block)
        if arrest_block is None:
            errors["arrest_block"] = "Choose the custody block where the person is held"
    elif details.setting == Setting.CUSTODY:
        errors["arrest_block"] = "Choose the custody block where the person is held"
    person = bookings.validate_person(
        bookings.Person(
            details.custody_record, details.person_name, details.mobile, details.sms_consent
        ),
        allow_test_numbers,
        errors,
    )
    if errors:
        raise InvalidField("There is a problem with the request.", errors)

    assessment = SuitabilityAssessment(
        reference=unused_reference(),
        status=SuitabilityStatus.REQUESTED,
        court=court,
        hearing_date=details.hearing_date,
        listed_for=details.hearing_date,
        session=details.session,
        requested_by=details.requested_by,
        setting=details.setting,
        arrest_block=arrest_block,
        custody_record=person.custody_record,
        person_name=person.person_name,
        mobile=person.mobile,
        sms_consent=person.sms_consent,
        adjournments=[],
        requested_at=now,
        created_by_id=by.id,
        updated_at=now,
    )
    db.session.add(assessment)
    audit.suitability(audit.Action.CREATED, now, by, assessment)
    db.session.flush()
    return assessment


def _require_open(assessment: SuitabilityAssessment) -> None:
    if assessment.status not in OPEN:
        raise InvalidField(
            "This assessment is already concluded.",
            {"reference": f"The assessment is {assessment.status.replace('_', ' ')}"},
        )


def record_result(
    assessment: SuitabilityAssessment,
    *,
    drr: str,
    atr: str,
    willing: bool,
    completed_at: dt.datetime,
    by: User,
    now: dt.datetime,
) -> SuitabilityAssessment:
    """What the assessment found for each requirement; the assessment is then completed."""
    may_act_on(by)
    _require_open(assessment)
    errors: dict[str, str] = {}
    findings = {"drr": drr, "atr": atr}
    for name, finding in findings.items():
        if finding not in set(Finding):
            errors[name] = "Choose suitable, not_suitable or not_assessed"
    if not errors:
        if set(findings.values()) == {Finding.NOT_ASSESSED}:
            errors["drr"] = "Record a finding for a DRR or an ATR, or that it was not completed"
        elif Finding.SUITABLE in findings.values() and willing is not True:
            # The court may make a treatment requirement only with the person's consent.
            errors["willing"] = "A suitable finding needs the person to be willing"
    if completed_at > now:
        errors["completed_at"] = "The assessment cannot be completed in the future"
    elif completed_at < assessment.requested_at:
        errors["completed_at"] = "The assessment cannot be completed before it was requested"
    if errors:
        raise InvalidField("There is a problem with the result.", errors)

    assessment.drr = drr
    assessment.atr = atr
    assessment.willing = willing
    assessment.completed_at = completed_at
    assessment.status = SuitabilityStatus.COMPLETED
    assessment.concluded_at = now
    assessment.updated_at = now
    audit.suitability(audit.Action.SUITABILITY_RESULT, now, by, assessment)
    db.session.flush()
    return assessment


def record_not_completed(
    assessment: SuitabilityAssessment, reason: str, *, by: User, now: dt.datetime
) -> SuitabilityAssessment:
    """The assessment could not be done, and the coded reason why."""
    may_act_on(by)
    _require_open(assessment)
    if reason not in set(NotCompletedReason):
        raise InvalidField(
            "Give the reason the assessment was not completed.",
            {"reason": "Choose declined, not_produced, unfit, no_time or other"},
        )
    assessment.not_completed_reason = reason
    assessment.status = SuitabilityStatus.NOT_COMPLETED
    assessment.concluded_at = now
    assessment.updated_at = now
    audit.suitability(audit.Action.NOT_COMPLETED, now, by, assessment, detail=reason)
    db.session.flush()
    return assessment


def check_adjourned_to(assessment: SuitabilityAssessment, adjourned_to: dt.date) -> None:
    """InvalidField unless the day is one the assessment's hearing may be adjourned to: a
    sitting day after the hearing it is listed for now."""
    if not is_sitting_day(adjourned_to):
        raise InvalidField("The court does not sit then.", {"adjourned_to": NOT_A_SITTING_DAY})
    if adjourned_to <= assessment.listed_for:
        raise InvalidField(
            "An adjournment is to a later hearing.",
            {"adjourned_to": "Choose a sitting day after the hearing"},
        )


def appointment_slots(
    assessment: SuitabilityAssessment,
    adjourned_to: dt.date,
    *,
    now: dt.datetime,
    rules: SlotRules,
    lead_working_days: int,
    after: dt.datetime | None = None,
    limit: int = 10,
) -> list[Slot]:
    """The earliest free slots (from `after`, when given) that an appointment for the
    assessment adjourned to that day may take: those that end in time for the hearing."""
    latest_end = latest_appointment_end(adjourned_to, lead_working_days)
    near = assessment.arrest_block.code if assessment.arrest_block else None
    return free_slots(
        rules,
        now,
        after=after,
        # A slot may start no later than its length before the latest end.
        before=latest_end - rules.length + dt.timedelta(microseconds=1),
        limit=limit,
        # As the booking is recorded (see _book_appointment): no test, counted from the request.
        tested_at=assessment.requested_at,
        near=near,
    )


def latest_appointment_end(adjourned_to: dt.date, lead_working_days: int) -> dt.datetime:
    """The latest instant an appointment for an assessment adjourned to that day may end: the
    end of the local day `lead_working_days` working days before it."""
    last_day = nth_working_day_before(adjourned_to, lead_working_days)
    return local_midnight(last_day + dt.timedelta(days=1))


def adjourn(
    assessment: SuitabilityAssessment,
    adjourned_to: dt.date,
    appointment: Appointment | None,
    *,
    by: User,
    now: dt.datetime,
    rules: SlotRules,
    lead_working_days: int,
    allow_test_numbers: bool,
    reminders: ReminderPolicy | None = None,
) -> SuitabilityAdjournment:
    """The court adjourned for the assessment: the record moves to the later hearing, with an
    appointment before it if one is asked for (SlotTaken when another booking took the slot
    first)."""
    may_act_on(by)
    _require_open(assessment)
    hearing = assessment.listed_for
    check_adjourned_to(assessment, adjourned_to)

    booking = None
    if appointment is not None:
        booking = _book_appointment(
            assessment,
            adjourned_to,
            appointment,
            by=by,
            now=now,
            rules=rules,
            lead_working_days=lead_working_days,
            allow_test_numbers=allow_test_numbers,
            reminders=reminders,
        )
    adjournment = SuitabilityAdjournment(
        hearing_date=hearing,
        adjourned_to=adjourned_to,
        booking=booking,
        recorded_at=now,
        recorded_by_id=by.id,
    )
    assessment.adjournments.append(adjournment)
    assessment.listed_for = adjourned_to
    assessment.status = SuitabilityStatus.ADJOURNED
    assessment.updated_at = now
    audit.suitability(
        audit.Action.ADJOURNED,
        now,
        by,
        assessment,
        detail=f"to {adjourned_to.isoformat()}"
        + (f", appointment {booking.reference}" if booking else ""),
    )
    db.session.flush()
    return adjournment


def _book_appointment(
    assessment: SuitabilityAssessment,
    adjourned_to: dt.date,
    appointment: Appointment,
    *,
    by: User,
    now: dt.datetime,
    rules: SlotRules,
    lead_working_days: int,
    allow_test_numbers: bool,
    reminders: ReminderPolicy | None,
) -> Booking:
    if assessment.purged_at is not None:
        raise InvalidField(
            "The person's details have been removed.",
            {"appointment": "Book the appointment as a new booking instead"},
        )
    latest_end = latest_appointment_end(adjourned_to, lead_working_days)
    if appointment.starts_at + rules.length > latest_end:
        raise InvalidField(
            "The appointment is too close to the adjourned hearing.",
            {
                "appointment": "Choose an appointment that ends at least "
                f"{lead_working_days} working day{'s' if lead_working_days != 1 else ''} "
                "before the adjourned hearing"
            },
        )
    arrest_block = assessment.arrest_block.code if assessment.arrest_block else appointment.block
    return bookings.book(
        bookings.BookingDetails(
            custody_record=assessment.custody_record,
            person_name=assessment.person_name,
            mobile=assessment.mobile,
            sms_consent=assessment.sms_consent,
            requirement=Requirement.SUITABILITY,
            # No test goes with a suitability assessment: recorded as for a voluntary
            # assessment without one, and counted from the court's request.
            test_result=TestResult.NEGATIVE,
            tested_at=assessment.requested_at,
            disputed=False,
            arrest_block=arrest_block,
        ),
        appointment.block,
        appointment.starts_at,
        by=by,
        now=now,
        rules=rules,
        allow_test_numbers=allow_test_numbers,
        reminders=reminders,
        suitability=True,
    )


def record_sentence(
    assessment: SuitabilityAssessment,
    outcome: str,
    sentenced_on: dt.date,
    *,
    by: User,
    now: dt.datetime,
) -> SuitabilityAssessment:
    """The sentence the court passed (a later entry corrects an earlier one)."""
    may_act_on(by)
    errors: dict[str, str] = {}
    if outcome not in set(SentenceOutcome):
        errors["outcome"] = "Choose the sentence from the list"
    if sentenced_on > now.astimezone(LONDON).date():
        errors["sentenced_on"] = "The date of sentence cannot be in the future"
    elif sentenced_on < assessment.hearing_date:
        errors["sentenced_on"] = "The date of sentence cannot be before the hearing"
    if errors:
        raise InvalidField("There is a problem with the sentence.", errors)
    assessment.sentence = outcome
    assessment.sentenced_on = sentenced_on
    assessment.updated_at = now
    audit.suitability(audit.Action.SENTENCE, now, by, assessment, detail=outcome)
    db.session.flush()
    return assessment
