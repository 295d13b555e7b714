"""Assessments and contacts a worker makes on site, in hours, with no appointment.

A reference and coded facts only (where, when, what kind): no name, mobile or custody record,
so the record needs no purge and its figures never change. The caller commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from .. import audit, permissions, places
from ..appointments.references import normalise_reference, unused_reference
from ..clock import in_range
from ..errors import InvalidField, NotAllowed, NotFound
from ..extensions import db
from ..models import OnSiteAssessment, OnSiteKind, User


def with_reference(reference: str) -> OnSiteAssessment:
    """The assessment or contact made on site with that reference, or NotFound."""
    found = db.session.scalar(
        select(OnSiteAssessment).where(OnSiteAssessment.reference == normalise_reference(reference))
    )
    if found is None:
        raise NotFound("No assessment made on site has that reference.")
    return found


def may_record(user: User) -> None:
    if not permissions.may(user, permissions.PATHWAY):
        raise NotAllowed("Your role cannot record assessments.")


def record(
    place_code: str | None,
    kind: str,
    assessed_at: dt.datetime,
    *,
    by: User,
    now: dt.datetime,
    place_field: str = "place",
) -> OnSiteAssessment:
    """Record an assessment or contact made on site, or InvalidField naming every field that
    is wrong. `place_field` names the place in errors: `block` or `court` when the caller
    asked for only one kind of place."""
    may_record(by)
    errors: dict[str, str] = {}
    find = {
        "block": places.block_with_code,
        "court": places.court_with_code,
    }.get(place_field, places.place_with_code)
    place = find(place_code) if place_code else None
    if place is None:
        errors[place_field] = {
            "block": "Choose a custody block from the list",
            "court": "Choose a magistrates' court from the list",
        }.get(place_field, "Choose the custody block or court where you saw the person")
    if kind not in set(OnSiteKind):
        errors["kind"] = "Choose what kind of assessment or contact it was"
    if not in_range(assessed_at):
        errors["assessed_at"] = "Enter a real date and time"
    elif assessed_at > now:
        errors["assessed_at"] = "The time cannot be in the future"
    if errors:
        raise InvalidField("There is a problem with the assessment.", errors)
    assessment = OnSiteAssessment(
        reference=unused_reference(),
        place=place,
        kind=kind,
        assessed_at=assessed_at,
        recorded_at=now,
        recorded_by_id=by.id,
    )
    db.session.add(assessment)
    audit.record(
        audit.Action.CREATED, now, by, reference=assessment.reference, detail=f"on site {kind}"
    )
    db.session.flush()
    return assessment
