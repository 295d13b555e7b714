"""Refusals of the domain, as values; the web, API and CLI shells each map them once."""

from __future__ import annotations


class BookingError(Exception):
    """A request the domain refuses; `errors` maps field names to messages."""

    status = 422

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidField(BookingError):
    """One or more fields fail validation."""


class NotFound(BookingError):
    status = 404


class SlotTaken(BookingError):
    """The slot filled up between being offered and being booked."""

    status = 409

    def __init__(self, alternatives):
        super().__init__(
            "That slot has just been taken. Choose another.",
            {"starts_at": "That slot has just been taken. Choose another."},
        )
        self.alternatives = alternatives


class NotAllowed(BookingError):
    status = 403
