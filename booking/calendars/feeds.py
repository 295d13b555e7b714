"""Calendar feeds: a worker's shifts and appointments, and a block's cover and bookings, at a
URL of their own, behind a secret token.

Cancelled appointments stay in feeds for 30 days marked STATUS:CANCELLED, so calendar clients
strike events instead of forgetting them. Feeds carry no detainee details: a reference and a
place only.

Feeds are polled hourly and most of their events have not changed since the last poll, while
icalendar takes a fraction of a millisecond to write each one. So each event is written once and
kept, keyed by everything it shows: a changed shift or appointment (its times, SEQUENCE,
LAST-MODIFIED, status, place, name) has a new key and is written afresh; nothing needs evicting
for being stale. The VTIMEZONE depends only on the zone, and is written once per process.
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Event
from sqlalchemy import func, or_, select

from .. import places
from ..extensions import db
from ..models import Block, Booking, BookingStatus, PlaceKind, Shift, Worker
from .ics import (
    CalendarFile,
    _appointment_event,
    _appointment_summary,
    _calendar_head,
    _file,
    _host,
    _place,
)

FEED_PAST = dt.timedelta(weeks=2)
FEED_AHEAD = dt.timedelta(weeks=8)
KEEP_CANCELLED = dt.timedelta(days=30)
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
# Written events kept per process, for each of the three kinds (shift, appointment, slot load):
# a busy block's feed holds about a thousand, a worker's about a hundred. At about 850 bytes
# each (the text and its key), the three together hold at most about 13 MB. Enough for the
# feeds a process serves again and again (a block's, a worker's several devices), not for
# every feed in the country: a feed seen first in a process is written in full.
EVENTS_KEPT = 5_000


def new_token() -> str:
    return secrets.token_urlsafe(24)


# Each key below holds instants in UTC (as the models give them) and the zone they are shown
# in, and each text is written from those, so two keys are equal only if their texts are.
# Keys must be UTC: two local times an hour apart in the repeated autumn hour compare equal
# when they share a ZoneInfo (fold is ignored), and would share a text.


@lru_cache(maxsize=EVENTS_KEPT)
def _appointment_text(*content) -> bytes:
    return _appointment_event(*content).to_ical()


@lru_cache(maxsize=EVENTS_KEPT)
def _shift_text(
    host: str,
    shift_id: int,
    sequence: int | None,
    updated_at: dt.datetime | None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    tzid: str,
    summary: str,
    location: str,
) -> bytes:
    tz = ZoneInfo(tzid)
    modified = (updated_at or EPOCH).astimezone(dt.UTC).replace(microsecond=0)
    event = Event()
    event.add("uid", f"shift-{shift_id}@{host}")
    event.add("sequence", sequence or 0)
    event.add("dtstamp", modified)
    event.add("last-modified", modified)
    event.add("dtstart", starts_at.astimezone(tz))
    event.add("dtend", ends_at.astimezone(tz))
    event.add("summary", summary)
    event.add("location", location)
    event.add("status", "CONFIRMED")
    return event.to_ical()


@lru_cache(maxsize=EVENTS_KEPT)
def _load_text(
    host: str,
    block_code: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    tzid: str,
    booked: int,
    changed_at: dt.datetime,
) -> bytes:
    tz = ZoneInfo(tzid)
    stamp = changed_at.astimezone(dt.UTC).replace(microsecond=0)
    event = Event()
    event.add("uid", f"load-{block_code}-{starts_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}@{host}")
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("dtstart", starts_at.astimezone(tz))
    event.add("dtend", ends_at.astimezone(tz))
    event.add("summary", f"{booked} appointment{'s' if booked != 1 else ''} booked")
    event.add("status", "CONFIRMED" if booked else "CANCELLED")
    event.add("transp", "TRANSPARENT")
    return event.to_ical()


def forget_written_events() -> None:
    """Drop every kept text: none is ever stale, so this only frees the memory."""
    for cached in (_calendar_head, _appointment_text, _shift_text, _load_text):
        cached.cache_clear()


def _appointments_in_window(now: dt.datetime):
    """Appointments in the feed window: live ones, and ones cancelled in the last 30 days."""
    return (
        Booking.starts_at >= now - FEED_PAST,
        Booking.starts_at < now + FEED_AHEAD,
        or_(
            Booking.status != BookingStatus.CANCELLED,
            Booking.cancelled_at >= now - KEEP_CANCELLED,
        ),
    )


def _shifts_in_window(now: dt.datetime):
    return Shift.overlapping(now - FEED_PAST, now + FEED_AHEAD)


def worker_feed(worker: Worker, now: dt.datetime, public_base_url: str) -> CalendarFile:
    """A worker's shifts and appointments, two weeks back to eight weeks ahead."""
    host = _host(public_base_url)
    head = _calendar_head(name=f"On site: {worker.name}")
    events, tzids = [], set()
    shifts = db.session.execute(
        select(
            Shift.id,
            Shift.sequence,
            Shift.updated_at,
            Shift.starts_at,
            Shift.ends_at,
            Block.timezone,
            Block.name,
            Block.address,
            Block.kind,
        )
        .join(Block, Shift.block_id == Block.id)
        .where(Shift.worker_id == worker.id, *_shifts_in_window(now))
        .order_by(Shift.starts_at, Shift.id)
    )
    for shift_id, sequence, updated_at, starts_at, ends_at, tzid, name, address, kind in shifts:
        tzids.add(tzid)
        events.append(
            _shift_text(
                host,
                shift_id,
                sequence,
                updated_at,
                starts_at,
                ends_at,
                tzid,
                f"Court duty at {name}" if kind == PlaceKind.COURT else f"On site at {name}",
                _place(name, address),
            )
        )
    appointments = db.session.execute(
        select(
            Booking.reference,
            Booking.sequence,
            Booking.updated_at,
            Booking.starts_at,
            Booking.ends_at,
            Block.timezone,
            Block.name,
            Block.address,
            Booking.status,
        )
        .join(Block, Booking.block_id == Block.id)
        .where(Booking.worker_id == worker.id, *_appointments_in_window(now))
        .order_by(Booking.starts_at, Booking.id)
    )
    for (
        reference,
        sequence,
        updated_at,
        starts_at,
        ends_at,
        tzid,
        name,
        address,
        status,
    ) in appointments:
        tzids.add(tzid)
        events.append(
            _appointment_text(
                host,
                reference,
                sequence,
                updated_at,
                starts_at,
                ends_at,
                tzid,
                f"{_appointment_summary(reference)} at {name}",
                _place(name, address),
                status == BookingStatus.CANCELLED,
            )
        )
    # Last-Modified is the time the feed is made, not its newest event's change: an event that
    # leaves (moved to another worker, cancelled over 30 days ago, out of the window) leaves no
    # timestamp, and a client showing it would be told 304. The ETag (a content hash) is exact.
    return _file(head, tzids, events, now)


def block_feed(block: Block, now: dt.datetime, public_base_url: str) -> CalendarFile:
    """Who is on site at a block, and how many appointments each slot holds."""
    host = _host(public_base_url)
    head = _calendar_head(name=f"{block.name} custody block: cover and appointments")
    place = _place(block.name, block.address)
    events = []
    shifts = db.session.execute(
        select(
            Shift.id,
            Shift.sequence,
            Shift.updated_at,
            Shift.starts_at,
            Shift.ends_at,
            Worker.name,
        )
        .join(Worker, Shift.worker_id == Worker.id)
        .where(Shift.block_id == block.id, *_shifts_in_window(now))
        .order_by(Shift.starts_at, Shift.id)
    )
    for shift_id, sequence, updated_at, starts_at, ends_at, worker_name in shifts:
        events.append(
            _shift_text(
                host,
                shift_id,
                sequence,
                updated_at,
                starts_at,
                ends_at,
                block.timezone,
                f"{worker_name} on site",
                place,
            )
        )
    # One event per slot that holds or held an appointment: its live count, and its latest
    # change (a cancellation too), counted by the database rather than row by row here.
    live = Booking.status != BookingStatus.CANCELLED
    slots = db.session.execute(
        select(
            Booking.starts_at,
            func.max(Booking.ends_at),
            func.count().filter(live),
            func.max(Booking.updated_at),
        )
        .where(Booking.block_id == block.id, *_appointments_in_window(now))
        .group_by(Booking.starts_at)
        .order_by(Booking.starts_at)
    )
    for starts_at, ends_at, booked, changed_at in slots:
        events.append(
            _load_text(host, block.code, starts_at, ends_at, block.timezone, booked, changed_at)
        )
    tzids = {block.timezone} if events else set()
    return _file(head, tzids, events, now)  # as in worker_feed: made now, the ETag tells changes


def worker_for_token(token: str) -> Worker | None:
    if not token:
        return None
    return db.session.scalar(select(Worker).where(Worker.calendar_token == token))


def block_for_token(token: str) -> Block | None:
    if not token:
        return None
    return db.session.scalar(select(Block).where(places.CUSTODY, Block.calendar_token == token))


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
