"""The lists of appointments the pages show: upcoming, a worker's day, lately told to the
police, those a shift holds, and the live ones that may already be the person being booked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, func, literal_column, or_, select
from sqlalchemy.orm import selectinload

from ..clock import local_day_span
from ..extensions import db
from ..models import Booking, BookingStatus, Shift, Worker


def find(
    now: dt.datetime,
    limit: int,
    *,
    text: str | None = None,
    block_id: int | None = None,
    day: dt.date | None = None,
) -> list[Booking]:
    """Appointments as the appointments list finds them, earliest first, at most `limit`.

    Without a day: live appointments from `now`. With a day: every appointment that London
    day, whatever its status. `text` matches a custody record number exactly (spaces and case
    aside) or any part of the person's name (any case); `block_id` keeps the appointments at
    that block or of people arrested there.
    """
    query = select(Booking).options(selectinload(Booking.block), selectinload(Booking.arrest_block))
    if day is None:
        query = query.where(Booking.status == BookingStatus.BOOKED, Booking.starts_at >= now)
    else:
        starts, ends = local_day_span(day)
        query = query.where(Booking.starts_at >= starts, Booking.starts_at < ends)
    if text and text.strip():
        query = query.where(
            or_(
                _custody_record_column_key() == custody_record_key(text),
                Booking.person_name.ilike(f"%{_like_escaped(text.strip())}%", escape="\\"),
            )
        )
    if block_id is not None:
        query = query.where(or_(Booking.block_id == block_id, Booking.arrest_block_id == block_id))
    return list(
        db.session.scalars(query.order_by(Booking.starts_at, Booking.reference).limit(limit))
    )


def _like_escaped(text: str) -> str:
    """The text as a LIKE pattern matching it literally: its wildcards escaped."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def worker_day(worker: Worker, day: dt.date) -> list[Booking]:
    """The worker's appointments that local day, cancelled ones included, in time order."""
    starts, ends = local_day_span(day)
    return list(
        db.session.scalars(
            select(Booking)
            .options(
                selectinload(Booking.block),
                selectinload(Booking.messages),
                selectinload(Booking.follow_ups),
                selectinload(Booking.follow_up_of),
                selectinload(Booking.police_informed_by),
            )
            .where(
                Booking.worker_id == worker.id,
                Booking.starts_at >= starts,
                Booking.starts_at < ends,
            )
            .order_by(Booking.starts_at, Booking.status == BookingStatus.CANCELLED, Booking.id)
        )
    )


def recently_informed(
    block_ids: list[int] | None, now: dt.datetime, within: dt.timedelta, limit: int
) -> list[Booking]:
    """Appointments the police were told about in the last `within`, latest first, from the
    given arrest blocks (all when None)."""
    query = (
        select(Booking)
        .options(selectinload(Booking.police_informed_by), selectinload(Booking.arrest_block))
        .where(
            Booking.police_informed_at.is_not(None),
            Booking.police_informed_at >= now - within,
        )
        .order_by(Booking.police_informed_at.desc(), Booking.id.desc())
        .limit(limit)
    )
    if block_ids:
        query = query.where(Booking.arrest_block_id.in_(block_ids))
    return list(db.session.scalars(query))


def held_in(shift: Shift) -> list[Booking]:
    """Live appointments held by the shift's worker at its block during the shift."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.worker_id == shift.worker_id,
                Booking.block_id == shift.block_id,
                Booking.status == BookingStatus.BOOKED,
                Booking.starts_at >= shift.starts_at,
                Booking.starts_at < shift.ends_at,
            )
            .order_by(Booking.starts_at)
        )
    )


def custody_record_key(custody_record: str) -> str:
    """A custody record number as it is compared: without spaces, in lower case."""
    return "".join(custody_record.split()).lower()


def _custody_record_column_key():
    """models.CUSTODY_RECORD_KEY_SQL, with literal words rather than bound parameters: only
    then does the database see that it is its index's expression."""
    return func.lower(
        func.replace(Booking.custody_record, literal_column("' '"), literal_column("''"))
    )


def live_duplicates(
    now: dt.datetime, custody_record: str, person_name: str, mobile: str | None
) -> list[Booking]:
    """Live appointments not yet over that may be the same person's: the same custody record
    number (however spaced or cased), or the same name (any case) and the same mobile (E.164).
    Earliest first."""
    return list(db.session.scalars(live_duplicates_query(now, custody_record, person_name, mobile)))


def live_duplicates_query(
    now: dt.datetime, custody_record: str, person_name: str, mobile: str | None
) -> Select:
    """The statement of `live_duplicates`: each way of matching is served by an index of its
    own (models: ix_bookings_custody_record_key, ix_bookings_mobile)."""
    same_person = [_custody_record_column_key() == custody_record_key(custody_record)]
    if mobile:
        same_person.append(
            (Booking.mobile == mobile)
            & (func.lower(Booking.person_name) == person_name.strip().lower())
        )
    return (
        select(Booking)
        .options(selectinload(Booking.block))
        .where(
            Booking.status == BookingStatus.BOOKED,
            Booking.ends_at > now,
            or_(*same_person),
        )
        .order_by(Booking.starts_at, Booking.reference)
    )
