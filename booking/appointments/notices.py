"""The written notice: what the law requires the person to be given, as a printable page.

The notice is rendered from the booking's latest notice version, the one that counts; the web
page and the JSON API return the same HTML.
"""

from __future__ import annotations

from flask import render_template

from ..models import Booking, Requirement

# Drugs Act 2005: section 9 (initial assessment) and section 10 (follow-up assessment).
SECTIONS = {Requirement.INITIAL: "section 9", Requirement.FOLLOW_UP: "section 10"}


def render_notice(booking: Booking) -> str:
    """The HTML of the booking's current written notice."""
    notice = booking.notices[-1]
    return render_template(
        "notice.html",
        title=f"Written notice {booking.reference}, version {notice.version}",
        booking=booking,
        notice=notice,
        required=booking.requirement in SECTIONS,
        section=SECTIONS.get(booking.requirement),
    )
