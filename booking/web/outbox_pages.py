"""The outbox: every text message, for coordinators to see what went, what did not, and why."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import Message, MessageStatus
from . import web
from .auth import roles_required

PAGE_SIZE = 100
NEEDS_ACTION = (MessageStatus.FAILED, MessageStatus.SKIPPED)


@web.get("/outbox")
@roles_required(permissions.COORDINATION)
def outbox():
    status = request.args.get("status", "")
    query = (
        select(Message)
        .options(joinedload(Message.booking))
        .order_by(Message.due_at.desc(), Message.id.desc())
        .limit(PAGE_SIZE)
    )
    if status == "problems":
        query = query.where(Message.status.in_(NEEDS_ACTION))
    elif status in set(MessageStatus):
        query = query.where(Message.status == status)
    messages = db.session.scalars(query).all()
    return render_template(
        "outbox.html",
        title="Text messages",
        messages=messages,
        status=status,
        statuses=list(MessageStatus),
    )
