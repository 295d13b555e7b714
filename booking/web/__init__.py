"""The pages people use: booking, the appointment, the written notice."""

from flask import Blueprint

web = Blueprint("web", __name__)

from . import (  # noqa: E402,F401  (routes register on import)
    booking_pages,
    calendar_pages,
    court_pages,
    day_pages,
    outbox_pages,
    pathway_pages,
    report_pages,
    rota_pages,
    user_pages,
)
