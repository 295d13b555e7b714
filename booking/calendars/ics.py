"""Calendar files, built with the icalendar library: the file itself, and one appointment's.

Each event has a stable UID and a stored SEQUENCE that rises with every change, and times are
given with TZID=Europe/London and a matching VTIMEZONE, so calendar clients move or strike
events instead of duplicating them. A worker's and a block's feeds are in `feeds`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration, vText
from werkzeug import Request, Response

from ..models import Booking, BookingStatus

PRODID = "-//Arrest referral service//Out-of-hours assessments//EN"
REFRESH = dt.timedelta(hours=1)
END_OF_CALENDAR = b"END:VCALENDAR\r\n"


@dataclass(frozen=True)
class CalendarFile:
    body: bytes
    last_modified: dt.datetime

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:32]

    def as_response(self, filename: str, request: Request) -> Response:
        """The file over HTTP, for the pages and the API alike: with ETag and Last-Modified,
        answering 304 when the client's copy is current."""
        response = Response(self.body, content_type="text/calendar; charset=utf-8")
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
        response.headers["Cache-Control"] = "private, no-cache"
        response.set_etag(self.etag)
        response.last_modified = self.last_modified
        return response.make_conditional(request)


def _host(public_base_url: str) -> str:
    return urlsplit(public_base_url).hostname or "localhost"


@lru_cache(maxsize=4096)
def _calendar_head(method: str | None = None, name: str | None = None) -> bytes:
    """The calendar's own lines, before its first component; kept by content, as events are."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        # Typed as text so that it is escaped: icalendar writes an untyped X- property as it
        # is, and a line break in a name would end the property and start a forged one.
        calendar.add("x-wr-calname", vText(name))
        calendar.add("x-wr-timezone", "Europe/London")
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        # An X- property is text unless typed: a bare timedelta would be written "1:00:00".
        calendar.add("x-published-ttl", vDuration(REFRESH))
    return calendar.to_ical().removesuffix(END_OF_CALENDAR)  # no components yet


@lru_cache(maxsize=8)
def _vtimezone(tzid: str) -> bytes:
    """The zone's VTIMEZONE, as icalendar's add_missing_timezones writes it (1970 to 2038)."""
    return Timezone.from_tzid(tzid).to_ical()


def _file(
    head: bytes, tzids: set[str], events: list[bytes], last_modified: dt.datetime
) -> CalendarFile:
    """The calendar with a VTIMEZONE for every TZID used, then its events, as icalendar writes
    a calendar: each component's lines in turn, inside the calendar's own."""
    body = b"".join(
        [
            head,
            *(_vtimezone(tzid) for tzid in sorted(tzids)),
            *events,
            END_OF_CALENDAR,
        ]
    )
    return CalendarFile(body, last_modified.replace(microsecond=0))


def _appointment_event(
    host: str,
    reference: str,
    sequence: int,
    updated_at: dt.datetime,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    tzid: str,
    summary: str,
    location: str,
    cancelled: bool,
) -> Event:
    tz = ZoneInfo(tzid)
    modified = updated_at.astimezone(dt.UTC).replace(microsecond=0)
    event = Event()
    event.add("uid", f"appointment-{reference}@{host}")
    event.add("sequence", sequence or 0)
    event.add("dtstamp", modified)
    event.add("last-modified", modified)
    event.add("dtstart", starts_at.astimezone(tz))
    event.add("dtend", ends_at.astimezone(tz))
    event.add("summary", summary)
    event.add("location", location)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def _place(name: str, address: str) -> str:
    return f"{name} custody block, {address}"


def _appointment_summary(reference: str) -> str:
    return f"Assessment appointment {reference}"


def booking_file(booking: Booking, public_base_url: str) -> CalendarFile:
    """The appointment as a file to import: REQUEST while booked, CANCEL once cancelled."""
    cancelled = booking.status == BookingStatus.CANCELLED
    host = _host(public_base_url)
    head = _calendar_head("CANCEL" if cancelled else "REQUEST")
    block = booking.block
    event = _appointment_event(
        host,
        booking.reference,
        booking.sequence,
        booking.updated_at,
        booking.starts_at,
        booking.ends_at,
        block.timezone,
        _appointment_summary(booking.reference),
        _place(block.name, block.address),
        cancelled,
    )
    # METHOD:REQUEST needs an organizer; the service itself organises the appointment.
    event.add("organizer", f"mailto:noreply@{host}")
    return _file(head, {block.timezone}, [event.to_ical()], booking.updated_at)
