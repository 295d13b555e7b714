"""Booking drafts of the web journey: kept server-side, the session holds only a random key.

The details of a person in custody never travel in the (signed, not encrypted) cookie. Drafts
are discarded once booked, when a new booking is started, and by the nightly purge after a day.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets

from flask import session
from sqlalchemy import delete

from ..extensions import db
from ..models import BookingDraft, User

SESSION_KEY = "booking_draft_id"
KEEP = dt.timedelta(days=1)


def _current(user: User) -> BookingDraft | None:
    draft_id = session.get(SESSION_KEY)
    if not draft_id:
        return None
    draft = db.session.get(BookingDraft, draft_id)
    if draft is None or draft.user_id != user.id:
        return None
    return draft


def load(user: User) -> dict | None:
    """The signed-in user's draft, if the session holds one of theirs."""
    draft = _current(user)
    return json.loads(draft.data) if draft else None


def save(user: User, data: dict, now: dt.datetime) -> None:
    """Keep the draft's data, stamped `now` (the caller commits)."""
    draft = _current(user)
    if draft is None:
        draft = BookingDraft(id=secrets.token_urlsafe(32), user_id=user.id)
        db.session.add(draft)
        session[SESSION_KEY] = draft.id
    draft.data = json.dumps(data)
    draft.updated_at = now


def discard(user: User) -> None:
    """Forget the draft (the caller commits)."""
    draft = _current(user)
    if draft is not None:
        db.session.delete(draft)
    session.pop(SESSION_KEY, None)


def purge(now: dt.datetime) -> None:
    """Delete drafts left untouched for a day (the caller commits)."""
    db.session.execute(delete(BookingDraft).where(BookingDraft.updated_at < now - KEEP))
