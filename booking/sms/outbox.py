"""Text messages to the person, planned as outbox rows when a booking is made or changed.

The confirmation goes at once; the reminders at their local times (see `reminders`). Rows are
never deleted: a stopped message is `cancelled`, one that may not go is `skipped` with a reason.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    Booking,
    BookingStatus,
    InboundMessage,
    Message,
    MessageKind,
    MessageStatus,
    OptOut,
)
from . import texts
from .reminders import ReminderPolicy, plan_reminders

OPTED_OUT = "The person replied STOP to our texts: phone them instead"
NOT_DELIVERED = "Text not delivered: phone them"


def is_opted_out(mobile: str) -> bool:
    opt_out = db.session.scalar(select(OptOut).where(OptOut.mobile == mobile))
    return opt_out is not None and opt_out.active


def skip_reason(booking: Booking) -> str | None:
    """Why no message may go to this person, or None when one may."""
    if not booking.mobile:
        return "No mobile number was given: tell the person in person or by phone"
    if not booking.sms_consent:
        return "The person did not agree to text messages"
    if is_opted_out(booking.mobile):
        return OPTED_OUT
    return None


def _add(
    booking: Booking,
    kind: MessageKind,
    send_at: dt.datetime,
    now: dt.datetime,
    reason: str | None,
) -> Message:
    message = Message(
        booking=booking,
        kind=kind,
        send_at=send_at,
        due_at=send_at,
        appointment_at=booking.starts_at,
        status=MessageStatus.SKIPPED if reason else MessageStatus.PENDING,
        skip_reason=reason,
        created_at=now,
    )
    db.session.add(message)
    return message


def queue(
    booking: Booking, kind: MessageKind, now: dt.datetime, policy: ReminderPolicy | None = None
) -> list[Message]:
    """The message of `kind` now, and for a new or moved appointment its reminders.

    Without a policy, the app's configured one is used.
    """
    policy = policy or ReminderPolicy.from_config(current_app.config)
    reason = skip_reason(booking)
    messages = [_add(booking, kind, now, now, reason)]
    if kind in (MessageKind.CONFIRMATION, MessageKind.CHANGED):
        for reminder in plan_reminders(booking.starts_at, now, policy):
            messages.append(
                _add(booking, reminder.kind, reminder.send_at, now, reason or reminder.skip_reason)
            )
    return messages


def wording(message: Message, *, phone: str) -> str:
    """The words of a message: as sent, or as they will be (or would have been) when due.

    About the appointment the message spoke of: a booking moved since keeps its old texts'
    time, and their place is the one the notice for that time gave.
    """
    booking = message.booking
    block = booking.block
    if message.appointment_at != booking.starts_at:
        spoke_of = [n for n in booking.notices if n.starts_at == message.appointment_at]
        if spoke_of:
            block = spoke_of[-1].block
    return texts.render(
        message.kind,
        booking,
        message.sent_at or message.due_at,
        phone=phone,
        starts_at=message.appointment_at,
        block=block,
    )


def cancel_pending(booking: Booking) -> int:
    """Stop every message not yet sent (on rearrangement or cancellation).

    A conditional UPDATE, not a change to loaded rows: a message a dispatcher has just sent
    (or claimed) in another transaction keeps its status.
    """
    result = db.session.execute(
        update(Message)
        .where(Message.booking_id == booking.id, Message.status == MessageStatus.PENDING)
        .values(status=MessageStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(booking, ["messages"])
    return result.rowcount


def first_receipt(provider_id: str, now) -> bool:
    """Record a received text by the provider's id; False if it was received before (a retry
    or a replay). A text without an id is taken as new."""
    if not provider_id:
        return True
    try:
        with db.session.begin_nested():
            db.session.add(InboundMessage(provider_id=provider_id[:64], received_at=now))
            db.session.flush()
    except IntegrityError:
        return False
    return True


def set_opt_out(mobile: str | None, opted_out: bool, now) -> None:
    """Record STOP (or START) for a number; STOP also stops its pending messages."""
    if not mobile:
        return
    record = db.session.scalar(select(OptOut).where(OptOut.mobile == mobile))
    if opted_out:
        if record is None:
            db.session.add(OptOut(mobile=mobile, opted_out_at=now))
        else:
            record.opted_out_at = now
        pending = db.session.scalars(
            select(Message)
            .join(Booking)
            .where(
                Booking.mobile == mobile,
                Booking.status == BookingStatus.BOOKED,
                Message.status == MessageStatus.PENDING,
            )
        )
        for message in pending:
            message.status = MessageStatus.SKIPPED
            message.skip_reason = OPTED_OUT
            message.status_at = now
    elif record is not None:
        record.opted_in_at = now
