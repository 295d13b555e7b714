"""The reads of court work: a suitability assessment by reference, and a court's duty list."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..appointments.references import normalise_reference
from ..errors import NotFound
from ..extensions import db
from ..models import Block, Session, SuitabilityAdjournment, SuitabilityAssessment


def assessment(reference: str) -> SuitabilityAssessment:
    """The suitability assessment with that reference, or NotFound."""
    found = db.session.scalar(
        select(SuitabilityAssessment).where(
            SuitabilityAssessment.reference == normalise_reference(reference)
        )
    )
    if found is None:
        raise NotFound("No suitability assessment has that reference.")
    return found


def court_list(court: Block, day: dt.date) -> dict[Session, list[SuitabilityAssessment]]:
    """The court's duty list for a day, by session: every assessment whose hearing, or latest
    adjourned hearing, is that day, in the order they were requested."""
    found = db.session.scalars(
        select(SuitabilityAssessment)
        .options(
            selectinload(SuitabilityAssessment.court),
            selectinload(SuitabilityAssessment.arrest_block),
            selectinload(SuitabilityAssessment.adjournments).selectinload(
                SuitabilityAdjournment.booking
            ),
        )
        .where(SuitabilityAssessment.court_id == court.id, SuitabilityAssessment.listed_for == day)
        .order_by(SuitabilityAssessment.requested_at, SuitabilityAssessment.id)
    )
    sessions: dict[Session, list[SuitabilityAssessment]] = {session: [] for session in Session}
    for record in found:
        sessions[Session(record.session)].append(record)
    return sessions
