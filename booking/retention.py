"""Forgetting personal data on time: RETENTION_DAYS after an outcome or a cancellation (or
after the appointment, if its outcome was never recorded); for a suitability assessment,
RETENTION_DAYS after its result (or the reason it was not done) was recorded, or after its
latest hearing, whichever comes first.

The purge removes the person's name, mobile and custody record (and the cancellation reason,
which may name them) and keeps the non-identifying fields that the figures need. Live
appointments are never touched. Each purge is recorded in the audit trail.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, or_, select

from . import audit
from .appointments import drafts
from .clock import LONDON
from .extensions import db
from .models import Booking, IdempotencyRecord, InboundMessage, SuitabilityAssessment

# Retries of a POST come within minutes; a day is ample, and the stored answer is personal data.
IDEMPOTENCY_KEEP = dt.timedelta(days=1)
BATCH = 500


def purge(now: dt.datetime, retention_days: int) -> int:
    """Remove personal data past retention; the number of bookings and suitability
    assessments purged."""
    cutoff = now - dt.timedelta(days=retention_days)
    purged = 0
    while True:
        due = db.session.scalars(
            select(Booking)
            .where(
                Booking.purged_at.is_(None),
                or_(
                    Booking.cancelled_at < cutoff,
                    Booking.outcome_at < cutoff,
                    # An appointment whose outcome was never recorded is over all the same.
                    and_(
                        Booking.outcome_at.is_(None),
                        Booking.cancelled_at.is_(None),
                        Booking.ends_at < cutoff,
                    ),
                ),
            )
            .limit(BATCH)
        ).all()
        if not due:
            break
        for booking in due:
            booking.person_name = None
            booking.mobile = None
            booking.custody_record = None
            booking.cancel_reason = None
            booking.purged_at = now
            audit.record(audit.Action.PURGED, now, None, booking)
        db.session.commit()
        purged += len(due)
    purged += _purge_suitability(now, cutoff)
    db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - IDEMPOTENCY_KEEP)
    )
    # Received texts are kept by provider id only, to refuse replays; after the retention
    # period no booking they could concern still holds a mobile number.
    db.session.execute(delete(InboundMessage).where(InboundMessage.received_at < cutoff))
    drafts.purge(now)
    db.session.commit()
    return purged


def _purge_suitability(now: dt.datetime, cutoff: dt.datetime) -> int:
    """The personal fields of suitability assessments past retention; the coded ones stay."""
    last_day = cutoff.astimezone(LONDON).date()
    purged = 0
    while True:
        due = db.session.scalars(
            select(SuitabilityAssessment)
            .where(
                SuitabilityAssessment.purged_at.is_(None),
                or_(
                    SuitabilityAssessment.concluded_at < cutoff,
                    SuitabilityAssessment.listed_for < last_day,
                ),
            )
            .limit(BATCH)
        ).all()
        if not due:
            return purged
        for assessment in due:
            assessment.person_name = None
            assessment.mobile = None
            assessment.custody_record = None
            assessment.purged_at = now
            audit.suitability(audit.Action.PURGED, now, None, assessment)
        db.session.commit()
        purged += len(due)
