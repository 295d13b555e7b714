"""The outbox: every text message and its words, for coordinators to see what went, what did
not, and why. The words name a person's appointment: each view is recorded, booking by booking.
"""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import audit, clock, permissions, settings
from ..extensions import db
from ..models import Message, MessageStatus
from ..sms.outbox import wording
from . import web
from .auth import roles_required

PAGE_SIZE = 100
NEEDS_ACTION = (MessageStatus.FAILED, MessageStatus.SKIPPED)
# Still to go: what the scheduler will send (or is sending) next.
TO_GO = (MessageStatus.PENDING, MessageStatus.SENDING)


@web.get("/outbox")
@roles_required(permissions.COORDINATION)
def outbox():
    """Messages still to go, the next due first; then the others, the latest to happen first
    (sent, delivered, failed or skipped; or, for one stopped before it went, queued)."""
    status = request.args.get("status", "")
    shown = select(Message).options(joinedload(Message.booking)).limit(PAGE_SIZE)
    if status == "problems":
        shown = shown.where(Message.status.in_(NEEDS_ACTION))
    elif status in set(MessageStatus):
        shown = shown.where(Message.status == status)
    to_go = db.session.scalars(
        shown.where(Message.status.in_(TO_GO)).order_by(Message.due_at, Message.id)
    ).all()
    last_happened = func.coalesce(Message.status_at, Message.created_at)
    done = db.session.scalars(
        shown.where(Message.status.not_in(TO_GO)).order_by(last_happened.desc(), Message.id.desc())
    ).all()
    phone = settings.service_phone()
    words = {message.id: wording(message, phone=phone) for message in [*to_go, *done]}
    bookings = list({message.booking_id: message.booking for message in [*to_go, *done]}.values())
    audit.viewed_in_list(bookings, "outbox", clock.now(), current_user)
    db.session.commit()
    return render_template(
        "outbox.html",
        title="Text messages",
        to_go=to_go,
        done=done,
        words=words,
        status=status,
        statuses=list(MessageStatus),
    )
