"""Claiming a worker for a booking's slot: the one loop that booking, rearranging and the rota's
hand-over all use.

The guard against double booking is the database's partial unique index on (worker, slot start)
among live bookings (`uq_bookings_worker_slot`), not a check in code. Any list of free workers
is read from a snapshot that may be stale by the time the row is written: another sergeant may
book the same worker a moment later, in a transaction this one cannot see. The index is
checked by the database at the write itself, across every connection, so the loser of a race is
refused there and tries the next candidate. Neither `bookings` nor `rota.changes` is imported
here, as each imports this and `bookings` imports `rota.changes`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Block, Booking


def claim(
    booking: Booking,
    candidates: Sequence[int],
    *,
    block: Block,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> int | None:
    """Give the booking this slot with the first candidate worker nobody holds; None if all are.

    Each attempt runs in a savepoint: the unique index refuses a worker another booking took
    first, the savepoint rolls back and the next candidate is tried. The booking is flushed,
    not committed.
    """
    for worker_id in candidates:
        try:
            with db.session.begin_nested():
                # Set on every attempt: rolling back a savepoint expires what it changed, and
                # drops a new booking from the session.
                booking.block = block
                booking.starts_at = starts_at
                booking.ends_at = ends_at
                booking.worker_id = worker_id
                db.session.add(booking)
                db.session.flush()
            return worker_id
        except IntegrityError:
            continue
    return None
