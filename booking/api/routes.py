"""The JSON API routes: thin shells over the domain functions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import jsonify, request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import audit, clock, permissions, places, settings
from ..appointments import bookings, outcomes
from ..appointments.references import normalise_reference
from ..appointments.slots import Slot, SlotRules, free_slots
from ..calendars import feeds, ics
from ..errors import BookingError, NotFound, SlotTaken
from ..extensions import db
from ..models import AuditEvent, Block, Booking
from ..reports import figures as reports
from ..rota.cover import cover_at
from ..web.calendar_feed import ics_response
from . import api
from .access import api_roles, api_user
from .idempotency import commit_once
from .openapi import document
from .responses import error_response
from .schemas import BookingIn, CancelIn, MalformedBody, OutcomeIn, RearrangeIn, field_errors, parse

MAX_SLOTS = 100
MAX_AUDIT = 10_000
MAX_REPORT_DAYS = 731


class BadParameter(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message


@api.errorhandler(BadParameter)
def bad_parameter(error: BadParameter):
    return error_response(f"Bad parameter: {error.name}.", 400, {error.name: error.message})


@api.errorhandler(MalformedBody)
def malformed_body(error: MalformedBody):
    return error_response(str(error), 400)


@api.errorhandler(ValidationError)
def invalid_body(error: ValidationError):
    return error_response("Some fields are not valid.", 422, field_errors(error))


@api.errorhandler(BookingError)
def refused(error: BookingError):
    db.session.rollback()
    extra = {}
    if isinstance(error, SlotTaken):
        extra["alternatives"] = [slot_json(slot) for slot in error.alternatives]
    return error_response(error.message, error.status, error.errors, **extra)


def _instant_param(name: str) -> dt.datetime | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        # An unescaped "+" in a query string arrives as a space.
        return clock.parse_iso_instant(raw.replace(" ", "+"))
    except ValueError:
        raise BadParameter(name, "Use an ISO 8601 time with a UTC offset") from None


def _bool_param(name: str) -> bool:
    raw = request.args.get(name, "false").strip().lower()
    if raw not in ("true", "false", "1", "0"):
        raise BadParameter(name, "Use true or false")
    return raw in ("true", "1")


def _limit_param(default: int = 10, maximum: int = MAX_SLOTS) -> int:
    raw = request.args.get("limit", str(default))
    message = f"Use a whole number from 1 to {maximum}"
    try:
        limit = int(raw)
    except ValueError:
        raise BadParameter("limit", message) from None
    if not 1 <= limit <= maximum:
        raise BadParameter("limit", message)
    return limit


def _local(instant: dt.datetime | None, block: Block) -> str | None:
    return clock.isoformat_local(instant, ZoneInfo(block.timezone)) if instant else None


def block_json(block: Block) -> dict:
    return {
        "code": block.code,
        "name": block.name,
        "address": block.address,
        "high_activity": block.high_activity,
        "timezone": block.timezone,
    }


def slot_json(slot: Slot) -> dict:
    return {
        "block": slot.block.code,
        "starts_at": _local(slot.starts_at, slot.block),
        "ends_at": _local(slot.ends_at, slot.block),
        "free": slot.free,
    }


def booking_json(booking: Booking) -> dict:
    block = booking.block
    return {
        "reference": booking.reference,
        "status": booking.status,
        "block": block.code,
        "starts_at": _local(booking.starts_at, block),
        "ends_at": _local(booking.ends_at, block),
        "custody_record": booking.custody_record,
        "person_name": booking.person_name,
        "mobile": booking.mobile,
        "sms_consent": booking.sms_consent,
        "requirement": booking.requirement,
        "test_result": booking.test_result,
        "tested_at": _local(booking.tested_at, block),
        "disputed": booking.disputed,
        "arrest_block": booking.arrest_block.code,
        "notice_version": booking.notice_version,
        "worker": {"name": booking.worker.name} if booking.worker else None,
        "messages": [
            {
                "kind": m.kind,
                "send_at": _local(m.send_at, block),
                "status": m.status,
                "attempts": m.attempts,
            }
            for m in booking.messages
        ],
    }


def _rules() -> SlotRules:
    return settings.slot_rules()


def _block_or_404(code: str) -> Block:
    block = places.block_with_code(code)
    if block is None:
        raise NotFound("No block has that code.")
    return block


@api.get("/openapi.json")
def openapi():
    return jsonify(document())


@api.get("/blocks")
@api_roles(permissions.PLACES)
def list_blocks():
    blocks = places.blocks_by_code()
    return jsonify([block_json(block) for block in blocks])


@api.get("/blocks/<code>/cover")
@api_roles(permissions.PLACES)
def block_cover(code: str):
    block = _block_or_404(code)
    at = _instant_param("at") or clock.now()
    cover = cover_at(block, at)
    return jsonify(
        {
            "block": block.code,
            "at": _local(at, block),
            "on_site": cover.on_site,
            "workers_on_site": cover.workers_on_site,
            "next_on_site_at": _local(cover.next_on_site_at, block),
        }
    )


@api.get("/slots")
@api_roles(permissions.PLACES)
def list_slots():
    codes = request.args.getlist("block")
    for code in codes:
        _block_or_404(code)
    slots = free_slots(
        _rules(),
        clock.now(),
        after=_instant_param("after"),
        before=_instant_param("before"),
        block_codes=codes,
        limit=_limit_param(),
        disputed=_bool_param("disputed"),
        tested_at=_instant_param("tested_at"),
    )
    return jsonify([slot_json(slot) for slot in slots])


@api.post("/bookings")
@api_roles(permissions.BOOKING)
def create_booking():
    body = parse(BookingIn, request.get_data())
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
            rules=_rules(),
            allow_test_numbers=settings.allow_test_numbers(),
        )
        return booking_json(booking), 201

    return commit_once(user, perform)


def _booking(reference: str) -> Booking:
    booking = bookings.get_booking(reference)
    bookings.may_act_on(api_user(), booking)
    return booking


@api.get("/bookings/<reference>")
@api_roles(permissions.BOOKING)
def get_booking(reference: str):
    booking = _booking(reference)
    audit.record(audit.Action.VIEWED, clock.now(), api_user(), booking)
    body = booking_json(booking)
    db.session.commit()
    return jsonify(body)


@api.post("/bookings/<reference>/rearrange")
@api_roles(permissions.BOOKING)
def rearrange_booking(reference: str):
    body = parse(RearrangeIn, request.get_data())
    booking = _booking(reference)
    user = api_user()

    def perform():
        bookings.rearrange(
            booking,
            body.block,
            body.starts_at.astimezone(dt.UTC),
            by=user,
            now=clock.now(),
            rules=_rules(),
        )
        return booking_json(booking), 200

    return commit_once(user, perform)


@api.post("/bookings/<reference>/cancel")
@api_roles(permissions.BOOKING)
def cancel_booking(reference: str):
    body = parse(CancelIn, request.get_data())
    booking = _booking(reference)
    user = api_user()

    def perform():
        bookings.cancel(booking, body.reason, by=user, now=clock.now())
        return booking_json(booking), 200

    return commit_once(user, perform)


@api.post("/bookings/<reference>/outcome")
@api_roles(permissions.OUTCOMES)
def booking_outcome(reference: str):
    body = parse(OutcomeIn, request.get_data())
    booking = _booking(reference)
    user = api_user()

    def perform():
        outcomes.record_outcome(booking, body.outcome, by=user, now=clock.now())
        return booking_json(booking), 200

    return commit_once(user, perform)


@api.get("/bookings/<reference>/calendar.ics")
@api_roles(permissions.BOOKING)
def booking_calendar(reference: str):
    booking = _booking(reference)
    calendar_file = ics.booking_file(booking, settings.public_base_url())
    audit.record(audit.Action.CALENDAR_EXPORTED, clock.now(), api_user(), booking)
    db.session.commit()
    return ics_response(calendar_file, f"appointment-{booking.reference}.ics")


@api.get("/me/calendar")
@api_roles(permissions.OWN_CALENDAR)
def my_calendar():
    worker = api_user().worker
    if worker is None:
        raise NotFound("Your login is not linked to a place on the rota.")
    url = feeds.feed_url(worker, settings.public_base_url())
    db.session.commit()
    return jsonify({"url": url})


@api.get("/audit")
@api_roles(permissions.COORDINATION)
def audit_trail():
    query = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.user))
        .order_by(AuditEvent.at, AuditEvent.id)
        .limit(_limit_param(default=1000, maximum=MAX_AUDIT))
    )
    reference = request.args.get("reference")
    if reference:
        query = query.where(AuditEvent.reference == normalise_reference(reference))
    events = db.session.scalars(query)
    return jsonify(
        [
            {
                "at": clock.isoformat_local(event.at),
                "user": event.user.email if event.user else None,
                "action": event.action,
                "reference": event.reference,
            }
            for event in events
        ]
    )


def _date_param(name: str, default: dt.date) -> dt.date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(name, "Use a date as YYYY-MM-DD") from None


@api.get("/reports/kpi")
@api_roles(permissions.REPORTS)
def kpi():
    today = clock.now().astimezone(clock.LONDON).date()
    start = _date_param("start", today.replace(day=1))
    end = _date_param("end", today)
    if end < start:
        raise BadParameter("end", "The end date must not be before the start date")
    if end == dt.date.max:  # the range ends at midnight after `end`, which would not exist
        raise BadParameter("end", "Use an earlier end date")
    if (end - start).days > MAX_REPORT_DAYS:
        raise BadParameter("end", f"Ask for at most {MAX_REPORT_DAYS} days at a time")
    block_code = request.args.get("block") or None
    if block_code:
        _block_or_404(block_code)
    block_by = request.args.get("block_by", reports.BY_APPOINTMENT_BLOCK)
    if block_by not in (reports.BY_APPOINTMENT_BLOCK, reports.BY_ARREST_BLOCK):
        raise BadParameter("block_by", "Use appointment or arrest")
    report = reports.build(start, end, clock.now(), block_code, block_by)
    return jsonify(
        {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "block": block_code,
            "block_by": block_by,
            **report.total.as_dict(),
            "by_block": {code: f.as_dict() for code, f in sorted(report.by_block.items())},
            "by_month": {month: f.as_dict() for month, f in sorted(report.by_month.items())},
        }
    )


@api.get("/bookings/<reference>/notice")
@api_roles(permissions.BOOKING)
def booking_notice(reference: str):
    from ..appointments.notices import render_notice

    booking = _booking(reference)
    html = render_notice(booking)
    audit.record(audit.Action.NOTICE_PRINTED, clock.now(), api_user(), booking)
    db.session.commit()
    return html, 200, {"Content-Type": "text/html; charset=utf-8"}
