"""Three months of invented past appointments for the demo: outcomes, notices and messages.

So that the reports, the cover picture and a worker's history have something to show. The
people are invented and their numbers are Ofcom's drama numbers. The rows are written directly
(the booking write path refuses the past, rightly); the unique index on (worker, slot) holds
them to the same rule as any booking.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from .. import places
from ..appointments.references import new_reference
from ..clock import LONDON, local_midnight
from ..extensions import db
from ..models import (
    Booking,
    BookingStatus,
    Message,
    MessageKind,
    MessageStatus,
    Notice,
    Requirement,
    Shift,
    User,
)
from ..rota import generate as rota
from ..sms import outbox

HISTORY_DAYS = 91
FIRST_NAMES = [
    "Alex",
    "Sam",
    "Jordan",
    "Casey",
    "Robin",
    "Charlie",
    "Jamie",
    "Morgan",
    "Riley",
    "Taylor",
    "Drew",
    "Frankie",
    "Kit",
    "Nico",
    "Ashley",
    "Lee",
]
LAST_NAMES = [
    "Ashdown",
    "Brightwell",
    "Carrow",
    "Dunmore",
    "Elsworth",
    "Fallow",
    "Gedling",
    "Hartwell",
    "Ingleby",
    "Jessop",
    "Kenward",
    "Lydiate",
    "Marlow",
    "Northam",
]
# Outcome shares, roughly as services report them.
OUTCOMES = [
    (BookingStatus.ATTENDED, 0.62),
    (BookingStatus.DID_NOT_ATTEND, 0.2),
    (BookingStatus.LEFT_EARLY, 0.06),
    (BookingStatus.CANCELLED, 0.12),
]


def _pick_outcome(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for status, share in OUTCOMES:
        total += share
        if roll < total:
            return status
    return BookingStatus.ATTENDED


def load(now: dt.datetime, sergeant: User, worker_user: User) -> int:
    """Add the past appointments once; 0 when there are already past bookings."""
    if db.session.scalar(select(Booking.id).where(Booking.starts_at < now).limit(1)):
        return 0
    rng = random.Random(2027)
    today = now.astimezone(LONDON).date()
    first_day = today - dt.timedelta(days=HISTORY_DAYS)
    rota.generate(first_day, today - dt.timedelta(days=1), now=now)
    # Appointments are at custody blocks only, never in court duty.
    shifts = db.session.scalars(
        select(Shift)
        .join(Shift.block)
        .where(places.CUSTODY, Shift.starts_at >= local_midnight(first_day), Shift.ends_at < now)
    ).all()
    blocks = {shift.block_id: shift.block for shift in shifts}
    made = 0
    for shift in shifts:
        # A few appointments per shift, on distinct half-hour slots.
        slots = int((shift.ends_at - shift.starts_at).total_seconds() // 1800)
        for index in sorted(rng.sample(range(slots), k=min(slots, rng.choice([0, 1, 1, 2, 3])))):
            starts_at = shift.starts_at + dt.timedelta(minutes=30 * index)
            arrest_block = rng.choice(list(blocks.values()))
            made += _past_booking(rng, shift, starts_at, arrest_block, sergeant, worker_user)
    db.session.flush()
    return made


def _past_booking(rng, shift, starts_at, arrest_block, sergeant, worker_user) -> int:
    tested_at = starts_at - dt.timedelta(hours=rng.randint(10, 80), minutes=rng.choice([0, 20, 40]))
    created_at = tested_at + dt.timedelta(minutes=rng.randint(20, 90))
    status = _pick_outcome(rng)
    requirement = rng.choices(
        [Requirement.INITIAL, Requirement.VOLUNTARY, Requirement.FOLLOW_UP], [8, 1, 1]
    )[0]
    consent = rng.random() < 0.85
    rearranged = rng.random() < 0.1
    booking = Booking(
        reference=new_reference(),
        status=status,
        block_id=shift.block_id,
        worker_id=shift.worker_id,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        custody_record=f"20/{rng.randint(10000, 99999)}/{starts_at:%y}",
        person_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        mobile=f"+447700900{rng.randint(0, 999):03d}",
        sms_consent=consent,
        requirement=requirement,
        test_result=rng.choice(["cocaine", "opiates", "both"]),
        tested_at=tested_at,
        disputed=False,
        arrest_block_id=arrest_block.id,
        notice_version=2 if rearranged else 1,
        sequence=1 if rearranged else 0,
        created_at=created_at,
        created_by_id=sergeant.id,
        updated_at=created_at,
    )
    if status == BookingStatus.CANCELLED:
        booking.cancelled_at = created_at + dt.timedelta(hours=rng.randint(1, 8))
        booking.cancel_reason = "Remanded in custody"
        booking.sequence += 1
    else:
        booking.outcome_at = starts_at + dt.timedelta(minutes=rng.randint(5, 90))
        booking.outcome_by_id = worker_user.id
    if status in (BookingStatus.DID_NOT_ATTEND, BookingStatus.LEFT_EARLY) and rng.random() < 0.8:
        booking.police_informed_at = booking.outcome_at + dt.timedelta(hours=rng.randint(1, 20))
        booking.police_informed_by_id = worker_user.id
    db.session.add(booking)
    for version in range(1, booking.notice_version + 1):
        db.session.add(
            Notice(
                booking=booking,
                version=version,
                block_id=booking.block_id,
                starts_at=booking.starts_at,
                ends_at=booking.ends_at,
                issued_at=created_at + dt.timedelta(minutes=5 * (version - 1)),
                issued_by_id=sergeant.id,
            )
        )
    _past_messages(rng, booking)
    return 1


def _past_messages(rng, booking: Booking) -> None:
    kinds = [(MessageKind.CONFIRMATION, booking.created_at)]
    if booking.status != BookingStatus.CANCELLED or booking.cancelled_at > booking.starts_at:
        kinds.append((MessageKind.SAME_DAY, booking.starts_at - dt.timedelta(hours=2)))
    if booking.status == BookingStatus.CANCELLED:
        kinds.append((MessageKind.CANCELLED, booking.cancelled_at))
    for kind, send_at in kinds:
        if not booking.sms_consent:
            status, reason = MessageStatus.SKIPPED, "The person did not agree to text messages"
        elif rng.random() < 0.05:
            status, reason = MessageStatus.FAILED, outbox.NOT_DELIVERED
        else:
            status, reason = MessageStatus.DELIVERED, None
        db.session.add(
            Message(
                booking=booking,
                kind=kind,
                send_at=send_at,
                due_at=send_at,
                appointment_at=booking.starts_at,
                status=status,
                attempts=0 if status == MessageStatus.SKIPPED else 1,
                skip_reason=reason,
                provider_id=None
                if status == MessageStatus.SKIPPED
                else f"SMdemo{rng.getrandbits(96):024x}",
                sent_at=None if status == MessageStatus.SKIPPED else send_at,
                status_at=send_at,
                created_at=booking.created_at,
            )
        )
