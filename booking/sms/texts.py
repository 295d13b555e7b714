"""The words of every text message, in one place.

Each fits one GSM-7 segment (160 characters) and says nothing about drugs, tests, police,
custody, arrest or offences: texts show on lock screens and shared phones.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

from ..models import Booking, MessageKind

SEGMENT = 160
OPT_OUT = "Reply STOP to opt out."

PLACE = "{when} at {venue}, {address}. Ref {ref}. {opt_out}"
TEMPLATES = {
    MessageKind.CONFIRMATION: "Appointment booked: " + PLACE,
    MessageKind.DAY_BEFORE: "Reminder: appointment tomorrow " + PLACE,
    MessageKind.SAME_DAY: "Reminder: appointment today " + PLACE,
    MessageKind.CHANGED: "Your appointment has changed. Now " + PLACE,
    MessageKind.CANCELLED: (
        "Your appointment on {when} at {venue}, {address} (ref {ref}) is cancelled. {opt_out}"
    ),
}


def when(instant: dt.datetime, tz: ZoneInfo) -> str:
    """Mon 29 Mar 10:00, in local time."""
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def render(kind: str, booking: Booking) -> str:
    block = booking.block
    return TEMPLATES[MessageKind(kind)].format(
        when=when(booking.starts_at, ZoneInfo(block.timezone)),
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
