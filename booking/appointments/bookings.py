"""Booking, rearranging and cancelling: the one write path for appointments.

Every change of who holds which slot goes through `claims.claim`, which relies on the database's
unique index on (worker, slot start) among live bookings. Two sergeants racing for the last
place in a slot cannot both win: the loser's insert fails on the index and they are offered the
next free slots instead. The functions here flush but never commit; the caller commits, so an
audit event or idempotency record lands in the same transaction as the change.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select

from .. import audit, permissions, places
from ..errors import InvalidField, NotAllowed, NotFound, SlotTaken
from ..extensions import db
from ..models import (
    Block,
    Booking,
    BookingStatus,
    MessageKind,
    Notice,
    Requirement,
    Shift,
    TestResult,
    User,
)
from ..monitoring import metrics
from ..phones import InvalidMobile, normalise_mobile
from ..rota import changes as rota_changes
from ..sms import outbox
from ..sms.reminders import ReminderPolicy
from ..text_fields import has_control_characters, one_line
from . import claims
from .references import normalise_reference, unused_reference
from .slots import SlotRules, earliest_allowed, find_slot, free_slots, is_on_grid, latest_allowed

POSITIVE_RESULTS = {TestResult.OPIATES, TestResult.COCAINE, TestResult.BOTH}
# The assessments the Drugs Act requires after a positive test.
REQUIRED = {Requirement.INITIAL, Requirement.FOLLOW_UP}
ALTERNATIVES = 5


@dataclass
class BookingDetails:
    """What a sergeant records about the person and the test, before a slot is chosen."""

    custody_record: str
    person_name: str
    mobile: str | None
    sms_consent: bool
    requirement: str
    test_result: str
    tested_at: dt.datetime
    disputed: bool
    arrest_block: str


def get_block(code: str, field: str = "block") -> Block:
    block = places.block_with_code(code)
    if block is None:
        raise InvalidField("Choose a custody block from the list.", {field: "Unknown block"})
    return block


def get_booking(reference: str) -> Booking:
    booking = db.session.scalar(
        select(Booking).where(Booking.reference == normalise_reference(reference))
    )
    if booking is None:
        raise NotFound("No booking has that reference.")
    return booking


@dataclass
class Person:
    """Who the appointment (or court record) is for, and how to text them."""

    custody_record: str
    person_name: str
    mobile: str | None
    sms_consent: bool


def validate_person(person: Person, allow_test_numbers: bool, errors: dict[str, str]) -> Person:
    """The person's fields cleaned up; what is wrong with them is added to `errors`."""
    custody_record = one_line(person.custody_record)
    person_name = one_line(person.person_name)
    if has_control_characters(custody_record):
        errors["custody_record"] = "Enter the custody record number on one line, as printed"
    elif not 1 <= len(custody_record) <= 40:
        errors["custody_record"] = "Enter the custody record number (up to 40 characters)"
    if has_control_characters(person_name):
        errors["person_name"] = "Enter the person's full name on one line"
    elif not 1 <= len(person_name) <= 100:
        errors["person_name"] = "Enter the person's full name (up to 100 characters)"

    mobile = None
    if person.mobile and person.mobile.strip():
        try:
            mobile = normalise_mobile(person.mobile, allow_test_numbers)
        except InvalidMobile as refusal:
            errors["mobile"] = str(refusal)
    if person.sms_consent and mobile is None and "mobile" not in errors:
        errors["mobile"] = "Enter a mobile number, or record that the person does not want texts"
    return Person(custody_record, person_name, mobile, bool(person.sms_consent))


def validate_details(
    details: BookingDetails,
    by: User,
    now: dt.datetime,
    allow_test_numbers: bool,
    *,
    suitability: bool = False,
    custody_block: Block | None = None,
) -> BookingDetails:
    """The details cleaned up, or InvalidField naming every field that is wrong.

    A `suitability` appointment comes only from adjourning a suitability assessment
    (booking.court), which says so; no test goes with it. `custody_block`, a custody block the
    caller has already read, needs no query when it is the arrest block."""
    errors: dict[str, str] = {}
    person = validate_person(
        Person(details.custody_record, details.person_name, details.mobile, details.sms_consent),
        allow_test_numbers,
        errors,
    )
    custody_record, person_name, mobile = person.custody_record, person.person_name, person.mobile

    if details.requirement not in set(Requirement):
        errors["requirement"] = "Choose initial, follow-up or voluntary"
    elif (details.requirement == Requirement.SUITABILITY) != suitability:
        errors["requirement"] = (
            "A suitability appointment is booked by adjourning the suitability assessment"
            if not suitability
            else "A suitability assessment's appointment has the requirement suitability"
        )
    elif details.requirement == Requirement.FOLLOW_UP and not permissions.may(
        by, permissions.FOLLOW_UP
    ):
        errors["requirement"] = "Only a worker or coordinator can book a follow-up assessment"

    if details.test_result not in set(TestResult):
        errors["test_result"] = "Choose the test result"
    elif details.requirement in REQUIRED and details.test_result not in POSITIVE_RESULTS:
        errors["test_result"] = (
            "A required assessment needs a positive test: book a voluntary assessment instead"
        )
    if details.disputed and details.test_result == TestResult.NEGATIVE:
        errors["disputed"] = "Only a positive result can be disputed"

    if details.tested_at > now + dt.timedelta(minutes=5):
        errors["tested_at"] = "The time of the test must be in the past"
    elif details.requirement in (
        Requirement.INITIAL,
        Requirement.VOLUNTARY,
    ) and details.tested_at < now - dt.timedelta(days=28):
        errors["tested_at"] = "The test must have been taken in the last 28 days"

    if not (
        custody_block is not None and custody_block.code == details.arrest_block
    ) and not db.session.scalar(
        select(exists().where(places.CUSTODY, Block.code == details.arrest_block))
    ):
        errors["arrest_block"] = "Choose the block where the person was arrested"

    if errors:
        raise InvalidField("There is a problem with the details given.", errors)
    return BookingDetails(
        custody_record=custody_record,
        person_name=person_name,
        mobile=mobile,
        sms_consent=bool(details.sms_consent),
        requirement=details.requirement,
        test_result=details.test_result,
        tested_at=details.tested_at,
        disputed=bool(details.disputed),
        arrest_block=details.arrest_block,
    )


def _check_slot_time(
    rules: SlotRules,
    now: dt.datetime,
    block: Block,
    starts_at: dt.datetime,
    disputed: bool,
    tested_at: dt.datetime,
) -> None:
    """Refuse a time that is not a slot the service could ever offer here (422)."""
    tz = ZoneInfo(block.timezone)
    if not is_on_grid(starts_at, rules.slot_minutes, tz):
        raise InvalidField(
            "That time is not the start of a slot.",
            {"starts_at": f"Choose a slot start: slots are {rules.slot_minutes} minutes long"},
        )
    if starts_at < now + dt.timedelta(minutes=rules.min_lead_minutes):
        raise InvalidField(
            "That time is too soon.",
            {"starts_at": f"Choose a slot at least {rules.min_lead_minutes} minutes from now"},
        )
    if disputed and starts_at < earliest_allowed(rules, now, True, tested_at, tz):
        raise InvalidField(
            "A disputed result needs a later appointment.",
            {
                "starts_at": "A disputed result needs an appointment at least "
                f"{rules.disputed_working_days} working days after the test"
            },
        )
    if starts_at > latest_allowed(rules, now):
        raise InvalidField(
            "That time is too far ahead.",
            {"starts_at": f"Choose a slot within {rules.max_days_ahead} days"},
        )


def _is_rostered(block: Block, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    return bool(
        db.session.scalar(
            select(exists().where(Shift.block_id == block.id, *Shift.covering(starts_at, ends_at)))
        )
    )


def _claim_slot(
    booking: Booking,
    rules: SlotRules,
    now: dt.datetime,
    block: Block,
    starts_at: dt.datetime,
) -> None:
    """Put the booking in the slot with one of its free workers, or raise SlotTaken.

    Bookings racing for one slot start from different free workers, so they seldom wait on
    each other's uncommitted rows (which the unique index makes them do for the same worker).
    """
    slot = find_slot(
        rules, now, block, starts_at, disputed=booking.disputed, tested_at=booking.tested_at
    )
    candidates = list(slot.free_worker_ids) if slot else []
    first = random.randrange(len(candidates)) if candidates else 0
    workers = candidates[first:] + candidates[:first]
    claimed = claims.claim(
        booking, workers, block=block, starts_at=starts_at, ends_at=starts_at + rules.length
    )
    if claimed is not None:
        return
    # Checked only now, as the happy path needs no extra query: a time nobody is rostered
    # for is a mistake in the request (422), a full slot a race lost (409).
    if not _is_rostered(block, starts_at, starts_at + rules.length):
        raise InvalidField(
            "No worker is rostered then.",
            {"starts_at": "No worker is rostered at that block at that time: choose a listed slot"},
        )
    raise SlotTaken(
        free_slots(
            rules,
            now,
            after=starts_at,
            limit=ALTERNATIVES,
            disputed=booking.disputed,
            tested_at=booking.tested_at,
        )
    )


def _issue_notice(booking: Booking, now: dt.datetime, by: User) -> Notice:
    notice = Notice(
        booking=booking,
        version=booking.notice_version,
        block_id=booking.block_id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        issued_at=now,
        issued_by_id=by.id,
    )
    db.session.add(notice)
    return notice


@metrics.counts_booking_attempts
def book(
    details: BookingDetails,
    block_code: str,
    starts_at: dt.datetime,
    *,
    by: User,
    now: dt.datetime,
    rules: SlotRules,
    allow_test_numbers: bool,
    reminders: ReminderPolicy | None = None,
    suitability: bool = False,
) -> Booking:
    """Book an appointment in a free slot and issue notice version 1 (none for a
    `suitability` appointment, which booking.court books: the Drugs Act has no part in it)."""
    block = places.block_with_code(block_code)
    try:
        details = validate_details(
            details, by, now, allow_test_numbers, suitability=suitability, custody_block=block
        )
    except InvalidField as refusal:
        if block is None:  # name every wrong field at once
            refusal.errors = {"block": "Unknown block"} | refusal.errors
        raise
    if block is None:
        raise InvalidField("Choose a custody block from the list.", {"block": "Unknown block"})

    _check_slot_time(rules, now, block, starts_at, details.disputed, details.tested_at)
    if details.arrest_block == block.code:
        arrest_block = block
    else:
        arrest_block = get_block(details.arrest_block, "arrest_block")
    booking = Booking(
        reference=unused_reference(),
        status=BookingStatus.BOOKED,
        custody_record=details.custody_record,
        person_name=details.person_name,
        mobile=details.mobile,
        sms_consent=details.sms_consent,
        requirement=details.requirement,
        test_result=details.test_result,
        tested_at=details.tested_at,
        disputed=details.disputed,
        arrest_block=arrest_block,
        notice_version=1,
        # Empty, not unloaded: the rows added below join them, and the answer lists them
        # without reading them back.
        notices=[],
        messages=[],
        created_at=now,
        created_by_id=by.id,
        updated_at=now,
    )
    _claim_slot(booking, rules, now, block, starts_at)
    # The messages first: their opt-out check then finds nothing waiting to be flushed, and
    # the rest is written in one flush.
    outbox.queue(booking, MessageKind.CONFIRMATION, now, reminders)
    if booking.has_notice:
        _issue_notice(booking, now, by)
    audit.record(audit.Action.CREATED, now, by, booking)
    db.session.flush()
    return booking


def _require_live(booking: Booking) -> None:
    if booking.status != BookingStatus.BOOKED:
        raise InvalidField(
            "This appointment can no longer be changed.",
            {"reference": f"The appointment is {booking.status.replace('_', ' ')}"},
        )


def rearrange(
    booking: Booking,
    block_code: str,
    starts_at: dt.datetime,
    *,
    by: User,
    now: dt.datetime,
    rules: SlotRules,
    reminders: ReminderPolicy | None = None,
) -> Booking:
    """Move the appointment to another free slot: a new notice version, new messages."""
    _require_live(booking)
    block = get_block(block_code)
    # The same slot is a move only for a booking that lost its worker (needs rearranging).
    if block.id == booking.block_id and starts_at == booking.starts_at and booking.worker_id:
        raise InvalidField(
            "The appointment is already at that time and place.",
            {"starts_at": "Choose a different slot"},
        )
    _check_slot_time(rules, now, block, starts_at, booking.disputed, booking.tested_at)
    before = f"{booking.block.code} {booking.starts_at.isoformat()}"
    _claim_slot(booking, rules, now, block, starts_at)
    booking.sequence += 1
    booking.updated_at = now
    if booking.has_notice:
        booking.notice_version += 1
        _issue_notice(booking, now, by)
    outbox.cancel_pending(booking)
    outbox.queue(booking, MessageKind.CHANGED, now, reminders)
    audit.record(audit.Action.REARRANGED, now, by, booking, detail=f"from {before}")
    db.session.flush()
    return booking


def cancel(
    booking: Booking,
    reason: str,
    *,
    by: User,
    now: dt.datetime,
    reminders: ReminderPolicy | None = None,
) -> Booking:
    """Cancel the appointment, freeing its slot and stopping its reminders."""
    _require_live(booking)
    reason = one_line(reason)
    if has_control_characters(reason) or not 1 <= len(reason) <= 500:
        raise InvalidField(
            "Give a reason for cancelling.",
            {"reason": "Enter why the appointment is cancelled (up to 500 characters)"},
        )
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancel_reason = reason
    booking.sequence += 1
    booking.updated_at = now
    outbox.cancel_pending(booking)
    outbox.queue(booking, MessageKind.CANCELLED, now, reminders)
    audit.record(audit.Action.CANCELLED, now, by, booking)
    db.session.flush()
    # The freed worker may rescue an appointment waiting on the "needs rearranging" list.
    rota_changes.place_unassigned(
        booking.block_id, booking.starts_at, booking.ends_at, now=now, by=by
    )
    return booking


def may_act_on(user: User, booking: Booking) -> None:
    """Booking records are for the roles that act on them; analysts never see them."""
    if not permissions.may(user, permissions.BOOKING):
        raise NotAllowed("Your role cannot see bookings.")
