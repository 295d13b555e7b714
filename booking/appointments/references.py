"""Booking references: short, and easy to read out over the phone."""

import secrets

from sqlalchemy import exists, select

from ..extensions import db
from ..models import Booking, OnSiteAssessment, SuitabilityAssessment

# No 0/O or 1/I, which are misheard and misread.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 8


def new_reference(choice=secrets.choice) -> str:
    """Like "K7PM-3QXR": 32^8 (about 10^12) possibilities, in two groups of four. `choice`
    picks each character: a seeded generator's for the demo, which is the same each time."""
    chars = "".join(choice(ALPHABET) for _ in range(LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


def normalise_reference(raw: str) -> str:
    """What someone typed or read out, in canonical form."""
    chars = "".join(c for c in raw.upper() if c.isalnum())
    if len(chars) == LENGTH:
        return f"{chars[:4]}-{chars[4:]}"
    return raw.strip().upper()


def unused_reference() -> str:
    """A new reference that no booking, suitability assessment or on-site assessment has: one
    reference names one thing, wherever it is looked up."""
    while True:
        reference = new_reference()
        taken = db.session.scalar(
            select(
                exists().where(Booking.reference == reference)
                | exists().where(SuitabilityAssessment.reference == reference)
                | exists().where(OnSiteAssessment.reference == reference)
            )
        )
        if not taken:
            return reference
