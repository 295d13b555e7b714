"""The words of every text message, in one place.

Each fits one GSM-7 segment (160 characters) and says nothing about drugs, tests, police,
custody, arrest or offences: texts show on lock screens and shared phones.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

from ..models import Block, Booking, MessageKind

SEGMENT = 160
# "Opt out" alone could be read as opting out of the appointment, which is not the person's to
# drop: the words say it is the texts that stop.
OPT_OUT = "Reply STOP to stop these texts."

PLACE = "{when}, {venue}, {address}. Ref {ref}. {opt_out}"
TEMPLATES = {
    MessageKind.CONFIRMATION: "Appointment booked: " + PLACE,
    MessageKind.DAY_BEFORE: "Reminder: appointment {day}" + PLACE,
    MessageKind.SAME_DAY: "Reminder: appointment {day}" + PLACE,
    MessageKind.CHANGED: "Appointment changed. Now " + PLACE,
    MessageKind.CANCELLED: "Appointment cancelled: " + PLACE,
}


def when(instant: dt.datetime, tz: ZoneInfo) -> str:
    """Mon 29 Mar 10:00, in local time."""
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def day_word(starts_at: dt.datetime, sent_at: dt.datetime, tz: ZoneInfo) -> str:
    """ "today " or "tomorrow " as seen on the day the text is sent; nothing when it goes
    earlier than that, since the date that follows says when."""
    days_ahead = (starts_at.astimezone(tz).date() - sent_at.astimezone(tz).date()).days
    return {0: "today ", 1: "tomorrow "}.get(days_ahead, "")


# The day each reminder is meant to be read on, for a text rendered before it is sent.
MEANT_DAYS_AHEAD = {MessageKind.DAY_BEFORE: 1, MessageKind.SAME_DAY: 0}


def render(
    kind: str,
    booking: Booking,
    sent_at: dt.datetime | None = None,
    *,
    starts_at: dt.datetime | None = None,
    block: Block | None = None,
) -> str:
    """The text of a message about this booking, worded for the moment it is sent (by
    default, the day its kind is meant for); about its time and place, unless a message
    written before it moved names the ones it spoke of."""
    block = block or booking.block
    starts_at = starts_at or booking.starts_at
    kind = MessageKind(kind)
    tz = ZoneInfo(block.timezone)
    if sent_at is None:
        sent_at = starts_at - dt.timedelta(days=MEANT_DAYS_AHEAD.get(kind, 0))
    return TEMPLATES[kind].format(
        day=day_word(starts_at, sent_at, tz),
        when=when(starts_at, tz),
        venue=block.venue_label,
        address=block.short_address,
        ref=booking.reference,
        opt_out=OPT_OUT,
    )


def septets(text: str) -> int:
    """Length in GSM-7 septets; UnicodeEncodeError if a character is not in GSM-7."""
    return len(text.encode("gsm03.38"))


def fits_one_segment(text: str) -> bool:
    try:
        return septets(text) <= SEGMENT
    except UnicodeEncodeError:
        return False
