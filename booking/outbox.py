"""Text messages to the person, planned as outbox rows when a booking is made or changed."""

from __future__ import annotations

import datetime as dt

from .extensions import db
from .models import Booking, Message, MessageKind, MessageStatus

PENDING_STATES = (MessageStatus.PENDING,)


def skip_reason(booking: Booking) -> str | None:
    """Why no message may go to this person, or None when one may."""
    if not booking.mobile:
        return "No mobile number was given: tell the person in person or by phone"
    if not booking.sms_consent:
        return "The person did not agree to text messages"
    return None


def queue(booking: Booking, kind: MessageKind, send_at: dt.datetime, now: dt.datetime) -> Message:
    """Add one outbox row for the booking; skipped at once when it may not be sent."""
    reason = skip_reason(booking)
    message = Message(
        booking=booking,
        kind=kind,
        send_at=send_at,
        status=MessageStatus.SKIPPED if reason else MessageStatus.PENDING,
        skip_reason=reason,
        created_at=now,
    )
    db.session.add(message)
    return message


def cancel_pending(booking: Booking) -> int:
    """Stop every message not yet sent (on rearrangement or cancellation)."""
    stopped = 0
    for message in booking.messages:
        if message.status in PENDING_STATES:
            message.status = MessageStatus.CANCELLED
            stopped += 1
    return stopped
