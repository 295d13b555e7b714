"""Delivery receipts: a provider's word on a message it accepted, for every provider alike.

Providers repeat receipts and send them out of order, so a status only ever moves forward.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from ..extensions import db
from ..models import Message, MessageStatus
from ..monitoring import metrics
from . import outbox

# How far along a message is; delivered and failed are both final.
PROGRESS = {
    MessageStatus.PENDING: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.SKIPPED: 3,
    MessageStatus.CANCELLED: 3,
}
LONGEST_REFERENCE = 18  # digits: a message id, and no number the database would refuse


def record(
    message: Message, status: MessageStatus, now: dt.datetime, error_code: str | None = None
) -> bool:
    """Move the message on to `status` if that is forward; whether it moved.

    One conditional UPDATE, not a change to the loaded row: two receipts for one message at
    once (delivered and failed, say) cannot both move it, nor the later undo the earlier."""
    behind = [earlier for earlier, step in PROGRESS.items() if step < PROGRESS[status]]
    values = {"status": status, "status_at": now}
    if status == MessageStatus.FAILED:
        values |= {"error_code": error_code, "skip_reason": outbox.NOT_DELIVERED}
    moved = db.session.execute(
        update(Message)
        .where(Message.id == message.id, Message.status.in_(behind))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(message)
    return moved.rowcount == 1


def message_for(provider_id: str, reference: str | None, now: dt.datetime) -> Message | None:
    """The message a receipt speaks of: by the provider's id, or else by our reference.

    A receipt can name by our reference a message still without the provider's id: its answer
    was lost (a time-out), or not yet stored (the dispatcher is storing it, or died first). The
    receipt shows the provider accepted it, so the id is stored now, in one conditional
    statement, and a message holding one is never sent again. The dispatcher stores its own
    answer only where no id is held, so it never writes over what a receipt has recorded.
    """
    message = db.session.scalar(select(Message).where(Message.provider_id == provider_id))
    if message is not None or not _is_message_id(reference):
        return message
    adopted = db.session.execute(
        update(Message)
        .where(
            Message.id == int(reference),
            Message.provider_id.is_(None),
            Message.status.in_((MessageStatus.PENDING, MessageStatus.SENDING)),
            Message.attempts > 0,  # it has been handed to the provider at least once
        )
        .values(
            provider_id=provider_id,
            status=MessageStatus.SENT,
            sent_at=now,
            status_at=now,
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    if adopted.rowcount != 1:
        return None
    # The dispatcher will count nothing for it (its own answer was lost, or finds the id held).
    metrics.sms_message(MessageStatus.SENT)
    return db.session.get(Message, int(reference), populate_existing=True)


def _is_message_id(reference: str | None) -> bool:
    return (
        isinstance(reference, str)
        and 0 < len(reference) <= LONGEST_REFERENCE
        and reference.isascii()
        and reference.isdigit()
    )
