"""The reads of court work: a suitability assessment by reference, a court's duty list, and
the court where a worker is on court duty."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..appointments.references import normalise_reference
from ..errors import NotFound
from ..extensions import db
from ..models import (
    Block,
    PlaceKind,
    Session,
    SuitabilityAdjournment,
    SuitabilityAssessment,
    Worker,
)
from ..rota.queries import shifts_on


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


def duty_court(worker: Worker, day: dt.date) -> Block | None:
    """The court where the worker is rostered for court duty on that local day (the first, if
    several), or None."""
    for shift in shifts_on(worker, day):
        if shift.block.kind == PlaceKind.COURT:
            return shift.block
    return None
