"""The lists of appointments the pages show: upcoming, a worker's day, lately told to the
police, and those a shift holds."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..clock import local_day_span
from ..extensions import db
from ..models import Booking, BookingStatus, Shift, Worker


def upcoming(now: dt.datetime, limit: int) -> list[Booking]:
    """Live appointments from `now`, earliest first, at most `limit` of them."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.status == BookingStatus.BOOKED, Booking.starts_at >= now)
            .order_by(Booking.starts_at, Booking.reference)
            .limit(limit)
        )
    )


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
