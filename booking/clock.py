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


def local_midnight(day: dt.date, tz: ZoneInfo = LONDON) -> dt.datetime:
    """The instant `day` begins in `tz` (UTC), however long the night before was."""
    # A zone whose clocks change at midnight skips it: fold=0 reads the skipped midnight with
    # the offset before the change, which is the instant of the change itself.
    return dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)


def local_day_span(day: dt.date, tz: ZoneInfo = LONDON) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight at the start of `day` to local midnight after it, as UTC instants.

    23 hours on the day the clocks go forward, 25 on the day they go back.
    """
    return local_midnight(day, tz), local_midnight(day + dt.timedelta(days=1), tz)


# The years a time may name: far enough inside datetime's own limits that a year either side
# (a report's span, the rota's look-ahead, a local day) can still be worked out.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
OUT_OF_RANGE = f"Use a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}"


def in_range(value: dt.date | dt.datetime) -> bool:
    """Whether a date or instant (in whatever offset it came) falls in the years the service
    can work with."""
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def parse_iso_instant(value: str) -> dt.datetime:
    """An ISO 8601 instant with a UTC offset (or Z), as an aware UTC datetime."""
    parsed = dt.datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("a time needs a UTC offset, such as +00:00 or Z")
    if not in_range(parsed):
        raise ValueError(OUT_OF_RANGE)
    return parsed.astimezone(dt.UTC)


def isoformat_local(instant: dt.datetime, tz: ZoneInfo = LONDON) -> str:
    """An instant in local time with its offset, as the API returns times."""
    return instant.astimezone(tz).isoformat(timespec="seconds")
