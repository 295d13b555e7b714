"""The JSON API of court work: the courts, suitability assessments and a court's duty list.

Thin shells over booking.court, registered like every route with `operation`; refusals are
mapped by the blueprint's handlers in routes.py.
"""

from __future__ import annotations

import datetime as dt

from .. import audit, clock, permissions, places, settings
from ..court import queries, suitability
from ..errors import NotFound
from ..extensions import db
from . import responses
from .access import api_user
from .idempotency import commit_once
from .operations import operation
from .schemas import (
    AdjournIn,
    CourtListQuery,
    NotCompletedIn,
    SentenceIn,
    SuitabilityIn,
    SuitabilityResultIn,
)

UNKNOWN_COURT = {404: "Unknown court"}
UNKNOWN_REFERENCE = {404: "Unknown reference"}


@operation(
    "GET",
    "/courts",
    operation_id="listCourts",
    tag="courts",
    summary="The magistrates' courts",
    roles=permissions.PLACES,
    response=list[responses.Court],
)
def list_courts():
    """The courts where workers do court duty, by code."""
    return [responses.Court.of(court) for court in places.courts_by_code()]


@operation(
    "GET",
    "/courts/<code>/list",
    operation_id="getCourtList",
    tag="courts",
    summary="A court's duty list for a day, by session",
    roles=permissions.COURT_WORK,
    query=CourtListQuery,
    response=responses.CourtList,
    answers=UNKNOWN_COURT,
)
def court_list(code: str, query: CourtListQuery):
    """The assessments whose hearing, or latest adjourned hearing, is that day; each one shown
    is audited."""
    court = places.court_with_code(code)
    if court is None:
        raise NotFound("No court has that code.")
    now = clock.now()
    day = query.date or now.astimezone(clock.LONDON).date()
    sessions = queries.court_list(court, day)
    shown = [record for records in sessions.values() for record in records]
    audit.suitability_viewed(
        shown, f"court duty list {court.code} {day.isoformat()}", now, api_user()
    )
    answer = responses.CourtList(
        court=court.code,
        date=day,
        **{
            str(session): [responses.Suitability.of(record) for record in records]
            for session, records in sessions.items()
        },
    )
    db.session.commit()
    return answer


@operation(
    "POST",
    "/suitability",
    operation_id="requestSuitability",
    tag="suitability",
    summary="Request a DRR/ATR suitability assessment for a hearing",
    roles=permissions.COURT_WORK,
    body=SuitabilityIn,
    response=responses.Suitability,
    status=201,
    idempotent=True,
)
def request_suitability(body: SuitabilityIn):
    """Record the request; 201 with the record and its Location."""
    user = api_user()

    def perform():
        record = suitability.request(
            suitability.SuitabilityRequest(
                court=body.court,
                hearing_date=body.hearing_date,
                session=body.session,
                requested_by=body.requested_by,
                setting=body.setting,
                arrest_block=body.arrest_block,
                custody_record=body.custody_record,
                person_name=body.person_name,
                mobile=body.mobile,
                sms_consent=body.sms_consent,
            ),
            by=user,
            now=clock.now(),
            allow_test_numbers=settings.allow_test_numbers(),
        )
        return responses.Suitability.of(record)

    return commit_once(user, perform, 201)


@operation(
    "GET",
    "/suitability/<reference>",
    operation_id="getSuitability",
    tag="suitability",
    summary="A suitability assessment",
    roles=permissions.COURT_WORK,
    response=responses.Suitability,
    answers=UNKNOWN_REFERENCE,
)
def get_suitability(reference: str):
    """The record; the view is audited."""
    record = queries.assessment(reference)
    audit.suitability_viewed([record], "suitability record", clock.now(), api_user())
    answer = responses.Suitability.of(record)
    db.session.commit()
    return answer


@operation(
    "POST",
    "/suitability/<reference>/result",
    operation_id="recordSuitabilityResult",
    tag="suitability",
    summary="What the assessment found: the assessment is completed",
    roles=permissions.COURT_WORK,
    body=SuitabilityResultIn,
    response=responses.Suitability,
    answers=UNKNOWN_REFERENCE,
    idempotent=True,
)
def suitability_result(reference: str, body: SuitabilityResultIn):
    """Record the findings for a DRR and an ATR."""
    record = queries.assessment(reference)
    user = api_user()

    def perform():
        suitability.record_result(
            record,
            drr=body.drr,
            atr=body.atr,
            willing=body.willing,
            completed_at=body.completed_at.astimezone(dt.UTC),
            by=user,
            now=clock.now(),
        )
        return responses.Suitability.of(record)

    return commit_once(user, perform)


@operation(
    "POST",
    "/suitability/<reference>/not-completed",
    operation_id="recordSuitabilityNotCompleted",
    tag="suitability",
    summary="The assessment was not completed, and why",
    roles=permissions.COURT_WORK,
    body=NotCompletedIn,
    response=responses.Suitability,
    answers=UNKNOWN_REFERENCE,
    idempotent=True,
)
def suitability_not_completed(reference: str, body: NotCompletedIn):
    """Record the coded reason the assessment was not done."""
    record = queries.assessment(reference)
    user = api_user()

    def perform():
        suitability.record_not_completed(record, body.reason, by=user, now=clock.now())
        return responses.Suitability.of(record)

    return commit_once(user, perform)


@operation(
    "POST",
    "/suitability/<reference>/adjourn",
    operation_id="adjournSuitability",
    tag="suitability",
    summary="The court adjourned for the assessment, perhaps with an appointment before it",
    roles=permissions.COURT_WORK,
    body=AdjournIn,
    response=responses.Suitability,
    answers=UNKNOWN_REFERENCE | {409: "Slot no longer free"},
    idempotent=True,
)
def adjourn_suitability(reference: str, body: AdjournIn):
    """Record the adjournment; an appointment is booked through the one booking path."""
    record = queries.assessment(reference)
    user = api_user()
    appointment = None
    if body.appointment is not None:
        appointment = suitability.Appointment(
            body.appointment.block, body.appointment.starts_at.astimezone(dt.UTC)
        )

    def perform():
        suitability.adjourn(
            record,
            body.adjourned_to,
            appointment,
            by=user,
            now=clock.now(),
            rules=settings.slot_rules(),
            lead_working_days=settings.suitability_lead_working_days(),
            allow_test_numbers=settings.allow_test_numbers(),
        )
        return responses.Suitability.of(record)

    return commit_once(user, perform)


@operation(
    "POST",
    "/suitability/<reference>/sentence",
    operation_id="recordSuitabilitySentence",
    tag="suitability",
    summary="The sentence the court passed",
    roles=permissions.COURT_WORK,
    body=SentenceIn,
    response=responses.Suitability,
    answers=UNKNOWN_REFERENCE,
    idempotent=True,
)
def suitability_sentence(reference: str, body: SentenceIn):
    """Record the sentence (a later one corrects it)."""
    record = queries.assessment(reference)
    user = api_user()

    def perform():
        suitability.record_sentence(
            record, body.outcome, body.sentenced_on, by=user, now=clock.now()
        )
        return responses.Suitability.of(record)

    return commit_once(user, perform)
