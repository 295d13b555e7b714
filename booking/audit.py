"""The audit trail: every creation, consultation, change and disclosure of a booking or a
suitability assessment (a suitability assessment is found by its reference alone).

Events are added to the caller's session, so they commit (or roll back) with the change
they record.
"""

from __future__ import annotations

import datetime as dt

from flask import has_request_context, request

from .extensions import db
from .models import AuditEvent, Booking, SuitabilityAssessment, User


class Action:
    CREATED = "created"
    VIEWED = "viewed"
    REARRANGED = "rearranged"
    CANCELLED = "cancelled"
    OUTCOME = "outcome"
    NOTICE_PRINTED = "notice_printed"
    CALENDAR_EXPORTED = "calendar_exported"
    PURGED = "purged"
    REASSIGNED = "reassigned"
    NEEDS_REARRANGING = "needs_rearranging"
    ROTA_CHANGED = "rota_changed"
    POLICE_INFORMED = "police_informed"
    FOLLOW_UP_NOT_NEEDED = "follow_up_not_needed"
    CSV_EXPORTED = "csv_exported"
    # Changes to users and their tokens; the detail names the user by id and role only.
    USER_CREATED = "user_created"
    PASSWORD_RESET = "password_reset"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    TOKEN_ISSUED = "token_issued"
    TOKEN_REVOKED = "token_revoked"
    ROLE_CHANGED = "role_changed"
    # Suitability assessments; `created`, `viewed` and `purged` serve them too.
    SUITABILITY_RESULT = "suitability_result"
    NOT_COMPLETED = "not_completed"
    ADJOURNED = "adjourned"
    SENTENCE = "sentence"
    # What followed an assessment; the detail names the fields changed, never their values.
    PATHWAY = "pathway"


ACCOUNT_ACTIONS = frozenset(
    {
        Action.USER_CREATED,
        Action.PASSWORD_RESET,
        Action.USER_DISABLED,
        Action.USER_ENABLED,
        Action.TOKEN_ISSUED,
        Action.TOKEN_REVOKED,
        Action.ROLE_CHANGED,
    }
)


def viewed_in_list(bookings: list[Booking], where: str, at: dt.datetime, user: User) -> None:
    """A list of appointments shown to someone: one "viewed" event per booking whose personal
    data it showed, so that the trail of each booking says who saw it, and where."""
    for booking in bookings:
        viewed(booking, where, at, user)


def viewed(booking: Booking, where: str, at: dt.datetime, user: User) -> None:
    """A page showed this booking's personal data (none is left to see once it is purged)."""
    if booking.purged_at is None:
        record(Action.VIEWED, at, user, booking, detail=where)


def suitability(
    action: str,
    at: dt.datetime,
    user: User | None,
    assessment: SuitabilityAssessment,
    detail: str | None = None,
) -> AuditEvent:
    """An event about a suitability assessment, under its reference."""
    return record(action, at, user, detail=detail, reference=assessment.reference)


def suitability_viewed(
    assessments: list[SuitabilityAssessment], where: str, at: dt.datetime, user: User
) -> None:
    """Suitability assessments shown to someone: one "viewed" event for each whose personal
    data was shown (none is left once purged)."""
    for assessment in assessments:
        if assessment.purged_at is None:
            suitability(Action.VIEWED, at, user, assessment, detail=where)


def about_user(user: User) -> str:
    """How the trail names a user whose account changed: by id and role, nothing personal."""
    return f"user {user.id} ({user.role or 'no role'})"


def role_change(user: User, was: str | None) -> str:
    """How the trail names a change of role: the user, as `about_user`, and the role before."""
    return f"{about_user(user)}, was {was or 'no role'}"


def record(
    action: str,
    at: dt.datetime,
    user: User | None,
    booking: Booking | None = None,
    detail: str | None = None,
    reference: str | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=at,
        user_id=user.id if user else None,
        action=action,
        booking=booking,
        reference=booking.reference if booking else reference,
        detail=detail,
        remote_addr=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
