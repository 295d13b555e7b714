"""The one place the service reads the time, and conversions to local wall-clock time.

Domain functions take `now` as an argument; only the web, API and CLI shells call `now()`.
Tests freeze it by setting `app.config["CLOCK"]` to a callable returning an aware datetime.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

LONDON = ZoneInfo("Europe/London")


def now() -> dt.datetime:
    """The current instant, in UTC."""
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            return clock().astimezone(dt.UTC)
    return dt.datetime.now(dt.UTC)


def local_instant(day: dt.date, wall: dt.time, tz: ZoneInfo) -> dt.datetime | None:
    """The instant at which `tz` shows `wall` on `day`, or None if that time does not exist.

    Where the wall time happens twice (autumn), the first occurrence is taken.
    """
    candidate = dt.datetime.combine(day, wall, tzinfo=tz)
    utc = candidate.astimezone(dt.UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != candidate.replace(tzinfo=None):
        return None  # the gap in spring: this wall time is skipped
    return utc


def parse_iso_instant(value: str) -> dt.datetime:
    """An ISO 8601 instant with a UTC offset (or Z), as an aware UTC datetime."""
    parsed = dt.datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("a time needs a UTC offset, such as +00:00 or Z")
    return parsed.astimezone(dt.UTC)


def isoformat_local(instant: dt.datetime, tz: ZoneInfo = LONDON) -> str:
    """An instant in local time with its offset, as the API returns times."""
    return instant.astimezone(tz).isoformat(timespec="seconds")
