"""The written notice: what the law requires the person to be given, as a printable page.

The notice is rendered from the booking's latest notice version, the one that counts; the web
page and the JSON API return the same HTML. A cancelled appointment's page is a cancellation
notice instead: the person may already hold the notice, and must be told it no longer applies.
"""

from __future__ import annotations

import datetime as dt

from flask import render_template

from .. import settings
from ..models import Booking, BookingStatus, MessageKind, MessageStatus, Requirement

# Drugs Act 2005: section 9 (initial assessment) and section 10 (follow-up assessment).
SECTIONS = {Requirement.INITIAL: "section 9", Requirement.FOLLOW_UP: "section 10"}
REMINDERS = (MessageKind.DAY_BEFORE, MessageKind.SAME_DAY)


def reminders_to_come(booking: Booking) -> list[dt.datetime]:
    """When the reminders still planned for this booking will go: none without consent, a
    mobile, or a time outside the quiet hours, so the notice promises only what will happen."""
    return sorted(
        message.send_at
        for message in booking.messages
        if message.kind in REMINDERS and message.status == MessageStatus.PENDING
    )


def render_notice(booking: Booking) -> str:
    """The HTML of the booking's current written notice (or of its cancellation)."""
    notice = booking.notices[-1]
    cancelled = booking.status == BookingStatus.CANCELLED
    return render_template(
        "notice.html",
        title=f"{'Cancellation of written notice' if cancelled else 'Written notice'} "
        f"{booking.reference}, version {notice.version}",
        booking=booking,
        notice=notice,
        cancelled=cancelled,
        required=booking.requirement in SECTIONS,
        section=SECTIONS.get(booking.requirement),
        reminders=reminders_to_come(booking) if booking.is_live else [],
        minutes=int((booking.ends_at - booking.starts_at).total_seconds() // 60),
        service_phone=settings.service_phone(),
        police_force=settings.police_force(),
    )
