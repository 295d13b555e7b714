"""Booking drafts of the web journey: kept server-side, the session holds only a random key.

The details of a person in custody never travel in the (signed, not encrypted) cookie. Drafts
are discarded once booked, when a new booking is started, and by the nightly purge after a day.

A draft outlives the session that made it for its own user only: signed out for inactivity and
signed in again, the same person finds it where they left it (`adopt`); anyone else signing in
on that browser starts without it. What was typed into a form sent after the session had ended
is kept in the draft too (`keep_typed`), to be shown again once they have signed in.
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
TYPED = "typed"


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
    """Keep the draft's data, stamped `now` (the caller commits). What was typed into a form
    that could not be sent is dropped, unless `data` carries it."""
    draft = _current(user)
    if draft is None:
        draft = BookingDraft(id=secrets.token_urlsafe(32), user_id=user.id)
        db.session.add(draft)
        session[SESSION_KEY] = draft.id
    draft.data = json.dumps(data)
    draft.updated_at = now


def keep_typed(user: User, path: str, fields: list[tuple[str, str]], now: dt.datetime) -> None:
    """Keep what was typed into the form at `path`, which arrived after the session had ended,
    beside the rest of the draft (the caller commits)."""
    data = load(user) or {}
    data[TYPED] = {"path": path, "fields": [list(pair) for pair in fields]}
    save(user, data, now)


def typed(user: User, path: str) -> list[tuple[str, str]] | None:
    """What was typed into the form at `path` and not yet sent again, if anything."""
    data = load(user) or {}
    kept = data.get(TYPED)
    if not isinstance(kept, dict) or kept.get("path") != path:
        return None
    try:
        return [(str(name), str(value)) for name, value in kept["fields"]]
    except (KeyError, TypeError, ValueError):
        return None


def held() -> str | None:
    """The key of the draft this browser's session holds, whoever's it is."""
    return session.get(SESSION_KEY)


def hold(draft_id: str | None) -> None:
    """Keep a draft's key in a session just emptied (signed out for inactivity)."""
    if draft_id:
        session[SESSION_KEY] = draft_id


def adopt(user: User, draft_id: str | None, now: dt.datetime) -> bool:
    """Just signed in: take up the draft the browser held before, if it is this user's and
    still live. Anyone else's is left alone, and never shown."""
    if not draft_id:
        return False
    draft = db.session.get(BookingDraft, draft_id)
    if draft is None or draft.user_id != user.id or draft.updated_at < now - KEEP:
        return False
    session[SESSION_KEY] = draft.id
    return True


def discard(user: User) -> None:
    """Forget the draft (the caller commits)."""
    draft = _current(user)
    if draft is not None:
        db.session.delete(draft)
    session.pop(SESSION_KEY, None)


def purge(now: dt.datetime) -> None:
    """Delete drafts left untouched for a day (the caller commits)."""
    db.session.execute(delete(BookingDraft).where(BookingDraft.updated_at < now - KEEP))
