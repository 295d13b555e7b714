"""The API helpers, kept under their old name for tests that still import them from here."""

from tests.support import auth, booking_body

__all__ = ["auth", "booking_body"]
