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

# Each text names its place, its reference and the service's number, which together say who
# it is from and whom to call. For every text to fit one segment at the widest date and
# reference, a place (venue label and short address) and the number are held to these lengths.
PLACE_MAX = 48
PHONE_MAX = 16

DETAILS = "{when}, {place}. Ref {ref}. Call {phone}. {opt_out}"
TEMPLATES = {
    MessageKind.CONFIRMATION: "Appointment booked: " + DETAILS,
    MessageKind.DAY_BEFORE: "Appointment {day}: " + DETAILS,
    MessageKind.SAME_DAY: "Appointment {day}: " + DETAILS,
    MessageKind.CHANGED: "Appointment changed to " + DETAILS,
    MessageKind.CANCELLED: "Appointment cancelled: " + DETAILS,
}


def place(block: Block) -> str:
    """Where, as a text says it: the entrance to ask at, then the town and postcode."""
    return f"{block.venue_label}, {block.short_address}"


def when(instant: dt.datetime, tz: ZoneInfo) -> str:
    """Mon 29 Mar 10:00, in local time."""
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def day_word(starts_at: dt.datetime, sent_at: dt.datetime, tz: ZoneInfo) -> str:
    """ "today" or "tomorrow" as seen on the day the text is sent; "reminder" when it goes
    earlier than that, since the date that follows says when."""
    days_ahead = (starts_at.astimezone(tz).date() - sent_at.astimezone(tz).date()).days
    return {0: "today", 1: "tomorrow"}.get(days_ahead, "reminder")


# The day each reminder is meant to be read on, for a text rendered before it is sent.
MEANT_DAYS_AHEAD = {MessageKind.DAY_BEFORE: 1, MessageKind.SAME_DAY: 0}


def render(
    kind: str,
    booking: Booking,
    sent_at: dt.datetime | None = None,
    *,
    phone: str,
    starts_at: dt.datetime | None = None,
    block: Block | None = None,
) -> str:
    """The text of a message about this booking, worded for the moment it is sent (by
    default, the day its kind is meant for), with the service's phone number; about its time
    and place, unless a message written before it moved names the ones it spoke of."""
    block = block or booking.block
    starts_at = starts_at or booking.starts_at
    kind = MessageKind(kind)
    tz = ZoneInfo(block.timezone)
    if sent_at is None:
        sent_at = starts_at - dt.timedelta(days=MEANT_DAYS_AHEAD.get(kind, 0))
    return TEMPLATES[kind].format(
        day=day_word(starts_at, sent_at, tz),
        when=when(starts_at, tz),
        place=place(block),
        ref=booking.reference,
        phone=phone,
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
