"""Sending the outbox: each due message claimed by one dispatcher, sent once, recorded at once.

Several dispatchers may run together (several `flask scheduler run` processes). A claim marks
messages `sending` with a lease, atomically: `FOR UPDATE SKIP LOCKED` on PostgreSQL, a
conditional update on SQLite (whose writes are serialised). A dispatcher killed mid-batch leaves
its claims, which others take over once the lease has run out. A slow batch can outlast its
lease too, so just before each message goes its lease is renewed, and only if it is still this
dispatcher's claim (the lease value is the claim's token). The provider's id is stored the
moment it answers, and a message holding one is never sent again.

The one window that no design closes: a dispatcher killed after Twilio accepted a message but
before its id was committed. After the lease that message is sent a second time. The window is
one HTTP answer and one small commit long, per message; nothing else is done in between.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import and_, or_, select, update

from . import outbox, texts
from .extensions import db
from .models import Booking, BookingStatus, Message, MessageKind, MessageStatus
from .reminders import ReminderPolicy
from .sms import SendFailed, backend_for

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)
BATCH = 50
REMINDERS = (MessageKind.DAY_BEFORE, MessageKind.SAME_DAY)
FOR_A_LIVE_APPOINTMENT = (MessageKind.CONFIRMATION, MessageKind.CHANGED, *REMINDERS)


@dataclass
class DispatchReport:
    sent: int = 0
    skipped: int = 0
    cancelled: int = 0
    retrying: int = 0
    failed: int = 0
    claimed: list[int] = field(default_factory=list)


def _due(now: dt.datetime):
    return or_(
        and_(Message.status == MessageStatus.PENDING, Message.due_at <= now),
        and_(Message.status == MessageStatus.SENDING, Message.lease_until < now),
    )


def claim(now: dt.datetime, limit: int = BATCH, lease: dt.timedelta = LEASE) -> list[int]:
    """Claim up to `limit` due messages for this dispatcher; their ids, earliest due first."""
    claimed_values = {"status": MessageStatus.SENDING, "lease_until": now + lease}
    if db.engine.dialect.name == "postgresql":
        candidates = (
            select(Message.id)
            .where(_due(now), Message.provider_id.is_(None))
            .order_by(Message.due_at, Message.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = db.session.scalars(
            update(Message)
            .where(Message.id.in_(candidates.scalar_subquery()))
            .values(attempts=Message.attempts + 1, **claimed_values)
            .returning(Message.id)
        ).all()
    else:
        ids = []
        candidates = db.session.scalars(
            select(Message.id)
            .where(_due(now), Message.provider_id.is_(None))
            .order_by(Message.due_at, Message.id)
            .limit(limit)
        ).all()
        for message_id in candidates:
            result = db.session.execute(
                update(Message)
                .where(Message.id == message_id, _due(now), Message.provider_id.is_(None))
                .values(attempts=Message.attempts + 1, **claimed_values)
            )
            if result.rowcount == 1:
                ids.append(message_id)
    db.session.commit()
    return sorted(ids)


def _stale(message: Message, booking: Booking, now: dt.datetime) -> str | None:
    """Why a message no longer fits its booking (moved, cancelled, concluded), if it doesn't."""
    if message.kind in FOR_A_LIVE_APPOINTMENT:
        if booking.status == BookingStatus.CANCELLED:
            return "The appointment was cancelled"
        if booking.status != BookingStatus.BOOKED:
            return "The appointment is over: its outcome is recorded"
        if booking.starts_at != message.appointment_at:
            return "The appointment was moved"
        if message.kind in REMINDERS and now >= booking.starts_at:
            return "The appointment has already started"
    elif message.kind == MessageKind.CANCELLED and booking.status != BookingStatus.CANCELLED:
        return "The appointment is no longer cancelled"
    return None


def _finish(message_id: int, change: Callable[[Message], None]) -> None:
    message = db.session.get(Message, message_id)
    change(message)
    db.session.commit()


def send_one(
    message_id: int,
    backend,
    now: dt.datetime,
    policy: ReminderPolicy,
    lease_until: dt.datetime | None = None,
) -> str:
    """Send one claimed message; the status it ends in.

    `lease_until` is the lease this dispatcher's claim set: if the message now holds another,
    the lease ran out and another dispatcher has claimed it since, so it is left to them.
    """
    config = current_app.config
    message = db.session.get(Message, message_id)
    if (
        message is None
        or message.status != MessageStatus.SENDING
        or message.provider_id
        or (lease_until is not None and message.lease_until != lease_until)
    ):
        db.session.rollback()
        return "gone"
    lease_until = message.lease_until
    booking = message.booking  # re-read now, not trusted from when it was queued

    stale = _stale(message, booking, now)
    reason = None if stale else outbox.skip_reason(booking)
    if not stale and not reason and message.kind in REMINDERS and policy.is_quiet(now):
        reason = "The reminder's time passed while no texts could be sent"
    if stale or reason:
        message.status = MessageStatus.CANCELLED if stale else MessageStatus.SKIPPED
        message.skip_reason = stale or reason
        message.lease_until = None
        message.status_at = now
        db.session.commit()
        return message.status

    to, body = booking.mobile, texts.render(message.kind, booking)
    callback = f"{config['PUBLIC_BASE_URL']}/sms/status"
    attempts = message.attempts
    # Renew the lease for the time Twilio takes, if it is still ours: a batch may outlast the
    # lease it was claimed with, and another dispatcher may then have claimed this message.
    renewed = db.session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            Message.status == MessageStatus.SENDING,
            Message.lease_until == lease_until,
            Message.provider_id.is_(None),
        )
        .values(lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()  # hold no transaction (nor SQLite's write lock) while Twilio answers
    if renewed.rowcount != 1:
        return "gone"

    try:
        provider_id = backend.send(to, body, callback)
    except SendFailed as failure:
        return _failed(message_id, failure, attempts, to, now)

    def sent(m: Message) -> None:
        m.status = MessageStatus.SENT
        m.provider_id = provider_id
        m.sent_at = m.status_at = now
        m.lease_until = None
        m.error_code = None

    _finish(message_id, sent)
    return MessageStatus.SENT


def _failed(message_id: int, failure: SendFailed, attempts: int, to: str, now: dt.datetime) -> str:
    config = current_app.config
    if failure.opted_out:
        outbox.set_opt_out(to, True, now)

        def opted_out(m: Message) -> None:
            m.status = MessageStatus.SKIPPED
            m.skip_reason = outbox.OPTED_OUT
            m.error_code = failure.code
            m.lease_until = None
            m.status_at = now

        _finish(message_id, opted_out)
        return MessageStatus.SKIPPED

    if failure.transient and attempts < config["SMS_MAX_ATTEMPTS"]:
        delay = dt.timedelta(seconds=config["SMS_RETRY_BASE_SECONDS"] * 2 ** (attempts - 1))

        def retry(m: Message) -> None:
            m.status = MessageStatus.PENDING
            m.due_at = now + delay
            m.lease_until = None
            m.error_code = failure.code

        _finish(message_id, retry)
        log.warning("sms.retry", extra={"message_id": message_id, "attempts": attempts})
        return "retrying"

    def failed(m: Message) -> None:
        m.status = MessageStatus.FAILED
        m.skip_reason = "Text not delivered: phone them"
        m.error_code = failure.code
        m.lease_until = None
        m.status_at = now

    _finish(message_id, failed)
    log.warning("sms.failed", extra={"message_id": message_id, "code": failure.code})
    return MessageStatus.FAILED


def dispatch(now_fn: Callable[[], dt.datetime], backend=None, limit: int = BATCH) -> DispatchReport:
    """One pass: claim and send batches until nothing is due."""
    backend = backend or backend_for(current_app)
    policy = ReminderPolicy.from_config(current_app.config)
    report = DispatchReport()
    while True:
        claimed_at = now_fn()
        ids = claim(claimed_at, limit)
        if not ids:
            return report
        report.claimed.extend(ids)
        for message_id in ids:
            try:
                outcome = send_one(message_id, backend, now_fn(), policy, claimed_at + LEASE)
            except Exception:  # one bad message must not stop the others; its lease runs out
                db.session.rollback()
                log.exception("sms.dispatch_error", extra={"message_id": message_id})
                continue
            if outcome == MessageStatus.SENT:
                report.sent += 1
            elif outcome == MessageStatus.SKIPPED:
                report.skipped += 1
            elif outcome == MessageStatus.CANCELLED:
                report.cancelled += 1
            elif outcome == "retrying":
                report.retrying += 1
            elif outcome == MessageStatus.FAILED:
                report.failed += 1
