"""The pages people use: booking, the appointment, the written notice."""

from flask import Blueprint

web = Blueprint("web", __name__)

from . import calendar_pages, outbox, views  # noqa: E402,F401  (routes register on import)
