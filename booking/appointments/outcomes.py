"""After the appointment: its outcome, telling the police of a non-attendance, the follow-up."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select

from .. import audit, permissions
from ..clock import local_day_span
from ..errors import InvalidField, NotAllowed
from ..extensions import db
from ..models import (
    AuditEvent,
    Block,
    Booking,
    BookingStatus,
    Pathway,
    Requirement,
    Role,
    Shift,
    User,
)
from . import bookings
from .slots import SlotRules

OUTCOMES = (BookingStatus.ATTENDED, BookingStatus.LEFT_EARLY, BookingStatus.DID_NOT_ATTEND)
# The assessor must tell the police when the person fails to attend or leaves early.
POLICE_TO_BE_TOLD = (BookingStatus.LEFT_EARLY, BookingStatus.DID_NOT_ATTEND)
FOLLOW_UP_BOOKED = "booked"
FOLLOW_UP_NOT_NEEDED = "not_needed"


def _require_assessor(by: User, refusal: str) -> None:
    """Outcomes, telling the police and the follow-up are the assessor's (or coordinator's)."""
    if not permissions.may(by, permissions.OUTCOMES):
        raise NotAllowed(refusal)


# After this long a recorded outcome is settled: a non-attendance may already have gone to
# the police, so only a coordinator corrects it.
CORRECTION_WINDOW = dt.timedelta(hours=24)


def _rostered_there_that_day(worker_id: int, booking: Booking) -> bool:
    day = booking.starts_at.astimezone(ZoneInfo(booking.block.timezone)).date()
    starts, ends = local_day_span(day, ZoneInfo(booking.block.timezone))
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Shift.worker_id == worker_id,
                    Shift.block_id == booking.block_id,
                    *Shift.overlapping(starts, ends),
                )
            )
        )
    )


def _first_recorded_at(booking: Booking) -> dt.datetime:
    """When an outcome was first recorded: each correction moves outcome_at, and the window
    must not move with it, or a worker could keep an outcome open by correcting it daily."""
    first = db.session.scalar(
        select(func.min(AuditEvent.at)).where(
            AuditEvent.booking_id == booking.id, AuditEvent.action == audit.Action.OUTCOME
        )
    )
    return first or booking.outcome_at or booking.starts_at


def may_record_outcome(by: User, booking: Booking) -> bool:
    """The appointment's own worker, a worker rostered at that block that day, or a
    coordinator: a non-attendance can be an offence, so no one else may say there was one."""
    if by.role == Role.COORDINATOR:
        return True
    if not permissions.may(by, permissions.OUTCOMES) or by.worker is None:
        return False
    return booking.worker_id == by.worker.id or _rostered_there_that_day(by.worker.id, booking)


def record_outcome(booking: Booking, outcome: str, *, by: User, now: dt.datetime) -> Booking:
    """Attended, left early or did not attend; once the appointment has started.

    A recorded outcome may be corrected, by a coordinator only once CORRECTION_WINDOW has
    passed; the correction is audited with what it replaced.
    """
    _require_assessor(by, "Only a worker or coordinator records outcomes.")
    if not may_record_outcome(by, booking):
        raise NotAllowed(
            "Only the appointment's worker, a worker on that day's rota at that block, or a "
            "coordinator records its outcome."
        )
    if (
        booking.status in set(OUTCOMES)
        and by.role != Role.COORDINATOR
        and now - _first_recorded_at(booking) > CORRECTION_WINDOW
    ):
        raise NotAllowed(
            "An outcome recorded more than 24 hours ago is corrected by a coordinator."
        )
    if outcome not in set(OUTCOMES):
        raise InvalidField(
            "Choose an outcome.",
            {"outcome": "Choose attended, left early or did not attend"},
        )
    if booking.status == BookingStatus.CANCELLED:
        raise InvalidField(
            "The appointment was cancelled.",
            {"outcome": "A cancelled appointment has no outcome"},
        )
    if now < booking.starts_at:
        raise InvalidField(
            "The appointment has not started yet.",
            {"outcome": "Record the outcome once the appointment has started"},
        )
    previous = booking.status
    if previous == outcome:
        return booking
    booking.status = outcome
    booking.outcome_at = now
    booking.outcome_by_id = by.id
    booking.updated_at = now
    detail = outcome
    if booking.police_informed_at is not None:
        # The police were told of the earlier outcome: a corrected non-attendance goes back on
        # the list (they must hear the correction), and the trail says they had been told.
        detail += f" (the police had been told: {previous})"
        booking.police_informed_at = None
        booking.police_informed_by_id = None
    if previous != BookingStatus.BOOKED:
        detail = f"{detail}, corrected from {previous}"
    audit.record(audit.Action.OUTCOME, now, by, booking, detail=detail)
    if previous == BookingStatus.ATTENDED:
        _forget_what_followed(booking, by=by, now=now)
    db.session.flush()
    return booking


def _forget_what_followed(booking: Booking, *, by: User, now: dt.datetime) -> None:
    """No assessment took place after all: what was recorded as following it goes too, so that
    no figure counts it."""
    pathway = db.session.scalar(select(Pathway).where(Pathway.booking_id == booking.id))
    if pathway is not None:
        db.session.delete(pathway)
        audit.record(
            audit.Action.PATHWAY,
            now,
            by,
            booking,
            detail="removed: the appointment was not attended after all",
        )


def police_to_be_informed(arrest_block_ids: list[int] | None = None) -> list[Booking]:
    """Non-attendances and early leavings the police have not yet been told of."""
    query = select(Booking).where(
        Booking.status.in_(POLICE_TO_BE_TOLD),
        Booking.police_informed_at.is_(None),
        # A missed suitability appointment is the court's business, not the police's.
        Booking.requirement != Requirement.SUITABILITY,
    )
    if arrest_block_ids:
        query = query.where(Booking.arrest_block_id.in_(arrest_block_ids))
    return list(db.session.scalars(query.order_by(Booking.starts_at)))


def mark_police_informed(booking: Booking, *, by: User, now: dt.datetime) -> Booking:
    """Record who told the police, and when; the sergeant at the arresting block may too."""
    if not permissions.may(by, permissions.POLICE_LIST):
        raise NotAllowed(
            "Only a sergeant, worker or coordinator records that the police were told."
        )
    if booking.status not in POLICE_TO_BE_TOLD or booking.requirement == Requirement.SUITABILITY:
        raise InvalidField(
            "There is nothing to tell the police.",
            {"reference": "Only a non-attendance or early leaving is reported"},
        )
    if booking.police_informed_at is None:
        booking.police_informed_at = now
        booking.police_informed_by_id = by.id
        booking.updated_at = now
        audit.record(audit.Action.POLICE_INFORMED, now, by, booking)
        db.session.flush()
    return booking


def _require_follow_up_decision_open(initial: Booking) -> None:
    if initial.requirement != Requirement.INITIAL or initial.status != BookingStatus.ATTENDED:
        raise InvalidField(
            "A follow-up comes from an attended initial assessment.",
            {"reference": "Record the initial assessment as attended first"},
        )
    if initial.follow_up_decision is not None:
        raise InvalidField(
            "The follow-up has already been decided.",
            {"reference": "A follow-up was already booked or recorded as not needed"},
        )


def book_follow_up(
    initial: Booking,
    block_code: str,
    starts_at: dt.datetime,
    *,
    by: User,
    now: dt.datetime,
    rules: SlotRules,
    allow_test_numbers: bool,
) -> Booking:
    """Book the follow-up assessment: its own notice version 1, linked to the initial one."""
    _require_assessor(by, "Only a worker or coordinator decides on the follow-up.")
    _require_follow_up_decision_open(initial)
    details = bookings.BookingDetails(
        custody_record=initial.custody_record or "",
        person_name=initial.person_name or "",
        mobile=initial.mobile,
        sms_consent=initial.sms_consent,
        requirement=Requirement.FOLLOW_UP,
        test_result=initial.test_result,
        tested_at=initial.tested_at,
        disputed=False,
        arrest_block=db.session.get(Block, initial.arrest_block_id).code,
    )
    follow_up = bookings.book(
        details,
        block_code,
        starts_at,
        by=by,
        now=now,
        rules=rules,
        allow_test_numbers=allow_test_numbers,
    )
    follow_up.follow_up_of = initial
    initial.follow_up_decision = FOLLOW_UP_BOOKED
    initial.follow_up_decided_at = now
    initial.updated_at = now
    db.session.flush()
    return follow_up


def record_no_follow_up(initial: Booking, *, by: User, now: dt.datetime) -> Booking:
    """The assessor decided no follow-up assessment is needed."""
    _require_assessor(by, "Only a worker or coordinator decides on the follow-up.")
    _require_follow_up_decision_open(initial)
    initial.follow_up_decision = FOLLOW_UP_NOT_NEEDED
    initial.follow_up_decided_at = now
    initial.updated_at = now
    audit.record(audit.Action.FOLLOW_UP_NOT_NEEDED, now, by, initial)
    db.session.flush()
    return initial


def awaiting_outcome(now: dt.datetime, older_than: dt.timedelta = dt.timedelta(days=1)):
    """Appointments that started over a day ago with no outcome recorded."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.status == BookingStatus.BOOKED, Booking.starts_at < now - older_than)
            .order_by(Booking.starts_at)
        )
    )
