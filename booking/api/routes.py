"""The JSON API routes: thin shells over the domain functions.

Each route is registered with `operation` (operations.py), which names its request and
response models; those models, not the routes, decide the JSON in and out.
"""

from __future__ import annotations

import datetime as dt

from flask import jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import audit, clock, permissions, places, settings
from ..appointments import bookings, outcomes
from ..appointments.references import normalise_reference
from ..appointments.slots import free_slots
from ..calendars import feeds, ics
from ..errors import BookingError, NotFound, SlotTaken
from ..extensions import db
from ..models import AuditEvent, Block, Booking
from ..reports import figures as reports
from ..rota.cover import cover_at
from . import api, responses
from .access import api_user
from .idempotency import commit_once
from .openapi import document
from .operations import operation
from .responses import error_response
from .schemas import (
    AuditQuery,
    BadParameter,
    BookingIn,
    CancelIn,
    CoverQuery,
    InvalidFields,
    KpiQuery,
    MalformedBody,
    OutcomeIn,
    RearrangeIn,
    SlotsQuery,
)

MAX_REPORT_DAYS = 731
UNKNOWN_BLOCK = {404: "Unknown block"}
UNKNOWN_REFERENCE = {404: "Unknown reference"}
SLOT_TAKEN = {409: "Slot no longer free"}


@api.errorhandler(BadParameter)
def bad_parameter(error: BadParameter):
    return error_response(f"Bad parameter: {error.name}.", 400, {error.name: error.message})


@api.errorhandler(MalformedBody)
def malformed_body(error: MalformedBody):
    return error_response(str(error), 400)


@api.errorhandler(InvalidFields)
def invalid_body(error: InvalidFields):
    return error_response(str(error), 422, error.errors)


@api.errorhandler(BookingError)
def refused(error: BookingError):
    db.session.rollback()
    if isinstance(error, SlotTaken):
        taken = responses.SlotTaken(
            error=error.message,
            errors=error.errors or {},
            alternatives=[responses.Slot.of(slot) for slot in error.alternatives],
        )
        return jsonify(taken.model_dump(mode="json")), error.status
    return error_response(error.message, error.status, error.errors)


def _block_or_404(code: str) -> Block:
    block = places.block_with_code(code)
    if block is None:
        raise NotFound("No block has that code.")
    return block


@operation(
    "GET",
    "/openapi.json",
    operation_id="getOpenApiDocument",
    tag="meta",
    summary="This document",
    roles=None,
    response=dict,
)
def openapi():
    """The OpenAPI document of this API."""
    return document()


@operation(
    "GET",
    "/blocks",
    operation_id="listBlocks",
    tag="blocks",
    summary="The custody blocks",
    roles=permissions.PLACES,
    response=list[responses.Block],
)
def list_blocks():
    """The custody blocks, by code."""
    return [responses.Block.of(block) for block in places.blocks_by_code()]


@operation(
    "GET",
    "/blocks/<code>/cover",
    operation_id="getCover",
    tag="blocks",
    summary="Whether a rostered worker is on site at an instant",
    roles=permissions.PLACES,
    query=CoverQuery,
    response=responses.Cover,
    answers=UNKNOWN_BLOCK,
)
def block_cover(code: str, query: CoverQuery):
    """Whether the block has a worker on site, and when cover next starts."""
    block = _block_or_404(code)
    return responses.Cover.of(cover_at(block, query.at or clock.now()))


@operation(
    "GET",
    "/slots",
    operation_id="listSlots",
    tag="slots",
    summary="Free slots, earliest first (then by block code)",
    roles=permissions.PLACES,
    query=SlotsQuery,
    response=list[responses.Slot],
    answers=UNKNOWN_BLOCK,
)
def list_slots(query: SlotsQuery):
    """The free slots that honour the booking rules."""
    for code in query.block:
        _block_or_404(code)
    slots = free_slots(
        settings.slot_rules(),
        clock.now(),
        after=query.after,
        before=query.before,
        block_codes=query.block,
        limit=query.limit,
        disputed=query.disputed,
        tested_at=query.tested_at,
    )
    return [responses.Slot.of(slot) for slot in slots]


@operation(
    "POST",
    "/bookings",
    operation_id="createBooking",
    tag="bookings",
    summary="Book an appointment in a free slot",
    roles=permissions.BOOKING,
    body=BookingIn,
    response=responses.Booking,
    status=201,
    answers=SLOT_TAKEN,
    idempotent=True,
)
def create_booking(body: BookingIn):
    """Book; 201 with the booking and its Location."""
    user = api_user()

    def perform():
        booking = bookings.book(
            bookings.BookingDetails(
                custody_record=body.custody_record,
                person_name=body.person_name,
                mobile=body.mobile,
                sms_consent=body.sms_consent,
                requirement=body.requirement,
                test_result=body.test_result,
                tested_at=body.tested_at.astimezone(dt.UTC),
                disputed=body.disputed,
                arrest_block=body.arrest_block,
            ),
            body.block,
            body.starts_at.astimezone(dt.UTC),
            by=user,
            now=clock.now(),
            rules=settings.slot_rules(),
            allow_test_numbers=settings.allow_test_numbers(),
        )
        return responses.Booking.of(booking)

    return commit_once(user, perform, 201)


def _booking(reference: str) -> Booking:
    booking = bookings.get_booking(reference)
    bookings.may_act_on(api_user(), booking)
    return booking


@operation(
    "GET",
    "/bookings/<reference>",
    operation_id="getBooking",
    tag="bookings",
    summary="A booking",
    roles=permissions.BOOKING,
    response=responses.Booking,
    answers=UNKNOWN_REFERENCE,
)
def get_booking(reference: str):
    """The booking; the view is audited."""
    booking = _booking(reference)
    audit.record(audit.Action.VIEWED, clock.now(), api_user(), booking)
    answer = responses.Booking.of(booking)
    db.session.commit()
    return answer


@operation(
    "POST",
    "/bookings/<reference>/rearrange",
    operation_id="rearrangeBooking",
    tag="bookings",
    summary="Move the appointment: the next notice version",
    roles=permissions.BOOKING,
    body=RearrangeIn,
    response=responses.Booking,
    answers=UNKNOWN_REFERENCE | SLOT_TAKEN,
    idempotent=True,
)
def rearrange_booking(reference: str, body: RearrangeIn):
    """Move the appointment to another free slot."""
    booking = _booking(reference)
    user = api_user()

    def perform():
        bookings.rearrange(
            booking,
            body.block,
            body.starts_at.astimezone(dt.UTC),
            by=user,
            now=clock.now(),
            rules=settings.slot_rules(),
        )
        return responses.Booking.of(booking)

    return commit_once(user, perform)


@operation(
    "POST",
    "/bookings/<reference>/cancel",
    operation_id="cancelBooking",
    tag="bookings",
    summary="Cancel the appointment",
    roles=permissions.BOOKING,
    body=CancelIn,
    response=responses.Booking,
    answers=UNKNOWN_REFERENCE,
    idempotent=True,
)
def cancel_booking(reference: str, body: CancelIn):
    """Cancel the appointment and its pending reminders."""
    booking = _booking(reference)
    user = api_user()

    def perform():
        bookings.cancel(booking, body.reason, by=user, now=clock.now())
        return responses.Booking.of(booking)

    return commit_once(user, perform)


@operation(
    "POST",
    "/bookings/<reference>/outcome",
    operation_id="recordOutcome",
    tag="bookings",
    summary="Record the outcome (once the appointment has started)",
    roles=permissions.OUTCOMES,
    body=OutcomeIn,
    response=responses.Booking,
    answers=UNKNOWN_REFERENCE,
    idempotent=True,
)
def booking_outcome(reference: str, body: OutcomeIn):
    """Record whether the person attended."""
    booking = _booking(reference)
    user = api_user()

    def perform():
        outcomes.record_outcome(booking, body.outcome, by=user, now=clock.now())
        return responses.Booking.of(booking)

    return commit_once(user, perform)


@operation(
    "GET",
    "/bookings/<reference>/calendar.ics",
    operation_id="getBookingCalendar",
    tag="calendars",
    summary="The appointment as iCalendar (REQUEST, or CANCEL once cancelled)",
    roles=permissions.BOOKING,
    response=str,
    media_type="text/calendar",
    answers={304: "Not modified since the ETag or date given"} | UNKNOWN_REFERENCE,
)
def booking_calendar(reference: str):
    """The appointment as an iCalendar file; the export is audited."""
    booking = _booking(reference)
    calendar_file = ics.booking_file(booking, settings.public_base_url())
    audit.record(audit.Action.CALENDAR_EXPORTED, clock.now(), api_user(), booking)
    db.session.commit()
    return calendar_file.as_response(f"appointment-{booking.reference}.ics", request)


@operation(
    "GET",
    "/me/calendar",
    operation_id="getMyCalendar",
    tag="calendars",
    summary="The signed-in worker's own calendar feed URL",
    roles=permissions.OWN_CALENDAR,
    response=responses.CalendarFeed,
    answers={404: "This login has no place on the rota"},
)
def my_calendar():
    """The worker's own calendar feed URL."""
    worker = api_user().worker
    if worker is None:
        raise NotFound("Your login is not linked to a place on the rota.")
    url = feeds.feed_url(worker, settings.public_base_url())
    db.session.commit()
    return responses.CalendarFeed(url=url)


@operation(
    "GET",
    "/audit",
    operation_id="listAuditEvents",
    tag="audit",
    summary="The audit trail, oldest first",
    roles=permissions.COORDINATION,
    query=AuditQuery,
    response=list[responses.AuditEvent],
)
def audit_trail(query: AuditQuery):
    """The audit trail, oldest first, of one booking or all."""
    select_events = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.user))
        .order_by(AuditEvent.at, AuditEvent.id)
        .limit(query.limit)
    )
    if query.reference:
        select_events = select_events.where(
            AuditEvent.reference == normalise_reference(query.reference)
        )
    return [responses.AuditEvent.of(event) for event in db.session.scalars(select_events)]


@operation(
    "GET",
    "/reports/kpi",
    operation_id="getKpiReport",
    tag="reports",
    summary="The commissioner's figures over appointments in a date range",
    roles=permissions.REPORTS,
    query=KpiQuery,
    response=responses.Kpi,
    answers=UNKNOWN_BLOCK,
)
def kpi(query: KpiQuery):
    """The figures over the range, by block and by month."""
    today = clock.now().astimezone(clock.LONDON).date()
    start = query.start or today.replace(day=1)
    end = query.end or today
    if end < start:
        raise BadParameter("end", "The end date must not be before the start date")
    if (end - start).days > MAX_REPORT_DAYS:
        raise BadParameter("end", f"Ask for at most {MAX_REPORT_DAYS} days at a time")
    block_code = query.block or None
    if block_code and places.place_with_code(block_code) is None:
        raise NotFound("No block or court has that code.")
    report = reports.build(start, end, clock.now(), block_code, query.block_by)
    return responses.Kpi.of(report)


@operation(
    "GET",
    "/bookings/<reference>/notice",
    operation_id="getBookingNotice",
    tag="bookings",
    summary="The printable written notice (HTML) of the current version",
    roles=permissions.BOOKING,
    response=str,
    media_type="text/html",
    answers=UNKNOWN_REFERENCE,
)
def booking_notice(reference: str):
    """The written notice to print; the printing is audited."""
    from ..appointments.notices import render_notice

    booking = _booking(reference)
    if not booking.has_notice:
        raise NotFound("No written notice goes with a suitability appointment.")
    html = render_notice(booking)
    audit.record(audit.Action.NOTICE_PRINTED, clock.now(), api_user(), booking)
    db.session.commit()
    return html, 200, {"Content-Type": "text/html; charset=utf-8"}
