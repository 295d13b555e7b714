"""Calendar files, built with the icalendar library: one appointment, a worker's feed, a block's.

Each event has a stable UID and a stored SEQUENCE that rises with every change, times are given
with TZID=Europe/London and a matching VTIMEZONE, and cancelled appointments stay in feeds for
30 days marked STATUS:CANCELLED, so calendar clients move or strike events instead of
duplicating or forgetting them. Feeds carry no detainee details: a reference and a place only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import Block, Booking, BookingStatus, Shift, Worker

PRODID = "-//Arrest referral service//Out-of-hours assessments//EN"
FEED_PAST = dt.timedelta(weeks=2)
FEED_AHEAD = dt.timedelta(weeks=8)
KEEP_CANCELLED = dt.timedelta(days=30)
REFRESH = dt.timedelta(hours=1)
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class CalendarFile:
    body: bytes
    last_modified: dt.datetime

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:32]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _host(public_base_url: str) -> str:
    return urlsplit(public_base_url).hostname or "localhost"


def _calendar(method: str | None = None, name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", "Europe/London")
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        # An X- property is text unless typed: a bare timedelta would be written "1:00:00".
        calendar.add("x-published-ttl", vDuration(REFRESH))
    return calendar


def _finish(calendar: Calendar, last_modified: dt.datetime) -> CalendarFile:
    # A VTIMEZONE for every TZID used, covering the events' dates.
    calendar.add_missing_timezones()
    return CalendarFile(calendar.to_ical(), last_modified.replace(microsecond=0))


def booking_uid(booking: Booking, host: str) -> str:
    return f"appointment-{booking.reference}@{host}"


def _appointment_event(booking: Booking, host: str, summary: str) -> Event:
    tz = ZoneInfo(booking.block.timezone)
    modified = booking.updated_at.replace(microsecond=0)
    event = Event()
    event.add("uid", booking_uid(booking, host))
    event.add("sequence", booking.sequence or 0)
    event.add("dtstamp", modified)
    event.add("last-modified", modified)
    event.add("dtstart", booking.starts_at.astimezone(tz))
    event.add("dtend", booking.ends_at.astimezone(tz))
    event.add("summary", summary)
    event.add("location", f"{booking.block.name} custody block, {booking.block.address}")
    cancelled = booking.status == BookingStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def _appointment_summary(booking: Booking) -> str:
    return f"Assessment appointment {booking.reference}"


def booking_file(booking: Booking, public_base_url: str) -> CalendarFile:
    """The appointment as a file to import: REQUEST while booked, CANCEL once cancelled."""
    cancelled = booking.status == BookingStatus.CANCELLED
    calendar = _calendar("CANCEL" if cancelled else "REQUEST")
    event = _appointment_event(booking, _host(public_base_url), _appointment_summary(booking))
    # METHOD:REQUEST needs an organizer; the service itself organises the appointment.
    event.add("organizer", f"mailto:noreply@{_host(public_base_url)}")
    calendar.add_component(event)
    return _finish(calendar, booking.updated_at)


def _shift_event(shift: Shift, host: str, summary: str) -> Event:
    tz = ZoneInfo(shift.block.timezone)
    modified = (shift.updated_at or EPOCH).replace(microsecond=0)
    event = Event()
    event.add("uid", f"shift-{shift.id}@{host}")
    event.add("sequence", shift.sequence or 0)
    event.add("dtstamp", modified)
    event.add("last-modified", modified)
    event.add("dtstart", shift.starts_at.astimezone(tz))
    event.add("dtend", shift.ends_at.astimezone(tz))
    event.add("summary", summary)
    event.add("location", f"{shift.block.name} custody block, {shift.block.address}")
    event.add("status", "CONFIRMED")
    return event


def _feed_bookings(now: dt.datetime, *conditions) -> list[Booking]:
    """Appointments in the feed window: live ones, and ones cancelled in the last 30 days."""
    return db.session.scalars(
        select(Booking)
        .options(joinedload(Booking.block))
        .where(
            *conditions,
            Booking.starts_at >= now - FEED_PAST,
            Booking.starts_at < now + FEED_AHEAD,
            or_(
                Booking.status != BookingStatus.CANCELLED,
                Booking.cancelled_at >= now - KEEP_CANCELLED,
            ),
        )
        .order_by(Booking.starts_at)
    ).all()


def _feed_shifts(now: dt.datetime, *conditions) -> list[Shift]:
    return db.session.scalars(
        select(Shift)
        .options(joinedload(Shift.block), joinedload(Shift.worker))
        .where(
            *conditions,
            Shift.ends_at > now - FEED_PAST,
            Shift.starts_at < now + FEED_AHEAD,
        )
        .order_by(Shift.starts_at)
    ).all()


def worker_feed(worker: Worker, now: dt.datetime, public_base_url: str) -> CalendarFile:
    """A worker's shifts and appointments, two weeks back to eight weeks ahead."""
    host = _host(public_base_url)
    calendar = _calendar(name=f"On site: {worker.name}")
    for shift in _feed_shifts(now, Shift.worker_id == worker.id):
        calendar.add_component(_shift_event(shift, host, f"On site at {shift.block.name}"))
    for booking in _feed_bookings(now, Booking.worker_id == worker.id):
        summary = f"{_appointment_summary(booking)} at {booking.block.name}"
        calendar.add_component(_appointment_event(booking, host, summary))
    # Last-Modified is the time the feed is made, not its newest event's change: an event that
    # leaves (moved to another worker, cancelled over 30 days ago, out of the window) leaves no
    # timestamp, and a client showing it would be told 304. The ETag (a content hash) is exact.
    return _finish(calendar, now)


def block_feed(block: Block, now: dt.datetime, public_base_url: str) -> CalendarFile:
    """Who is on site at a block, and how many appointments each slot holds."""
    host = _host(public_base_url)
    tz = ZoneInfo(block.timezone)
    calendar = _calendar(name=f"{block.name} custody block: cover and appointments")
    for shift in _feed_shifts(now, Shift.block_id == block.id):
        calendar.add_component(_shift_event(shift, host, f"{shift.worker.name} on site"))

    bookings = _feed_bookings(now, Booking.block_id == block.id)
    load = Counter(b.starts_at for b in bookings if b.status != BookingStatus.CANCELLED)
    ends = {b.starts_at: b.ends_at for b in bookings}
    changed = {}
    for booking in bookings:
        changed[booking.starts_at] = max(changed.get(booking.starts_at, EPOCH), booking.updated_at)
    for starts_at, when_changed in sorted(changed.items()):
        count = load[starts_at]
        event = Event()
        stamp = when_changed.replace(microsecond=0)
        event.add("uid", f"load-{block.code}-{starts_at:%Y%m%dT%H%M%SZ}@{host}")
        event.add("dtstamp", stamp)
        event.add("last-modified", stamp)
        event.add("dtstart", starts_at.astimezone(tz))
        event.add("dtend", ends[starts_at].astimezone(tz))
        event.add("summary", f"{count} appointment{'s' if count != 1 else ''} booked")
        event.add("status", "CONFIRMED" if count else "CANCELLED")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return _finish(calendar, now)  # as in worker_feed: made now, the ETag tells changes


def worker_for_token(token: str) -> Worker | None:
    if not token:
        return None
    return db.session.scalar(select(Worker).where(Worker.calendar_token == token))


def block_for_token(token: str) -> Block | None:
    if not token:
        return None
    return db.session.scalar(select(Block).where(Block.calendar_token == token))


def feed_token(owner: Worker | Block) -> str:
    """The owner's feed token, made on first use."""
    if not owner.calendar_token:
        owner.calendar_token = new_token()
        db.session.flush()
    return owner.calendar_token


def feed_url(owner: Worker | Block, public_base_url: str) -> str:
    return f"{public_base_url}/calendar/{feed_token(owner)}.ics"


def webcal_url(https_url: str) -> str:
    """The same feed for calendar apps that subscribe to webcal:// links."""
    return "webcal://" + https_url.split("://", 1)[1]


def regenerate_token(owner: Worker | Block) -> str:
    """A new token: the old feed URL stops working at once."""
    owner.calendar_token = new_token()
    db.session.flush()
    return owner.calendar_token
