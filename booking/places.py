"""The places the service works at, as the pages, the API and the domain look them up.

Custody blocks and magistrates' courts are rows of one table (a court is a place of kind
`court`), so court duty is rostered, shown and fed to calendars like custody cover. "Blocks"
here always means custody blocks: appointments, slots and out-of-hours cover are theirs
alone. Courts are asked for by name, and every place only where a list is about the rota.
"""

from __future__ import annotations

import math

from sqlalchemy import select

from .extensions import db
from .models import Block, PlaceKind

CUSTODY = Block.kind == PlaceKind.CUSTODY
COURT = Block.kind == PlaceKind.COURT


def blocks_by_name() -> list[Block]:
    """Every custody block, in the order people read a list of them."""
    return list(db.session.scalars(select(Block).where(CUSTODY).order_by(Block.name)))


def blocks_by_code() -> list[Block]:
    """Every custody block, in the API's stable order."""
    return list(db.session.scalars(select(Block).where(CUSTODY).order_by(Block.code)))


def block_with_code(code: str) -> Block | None:
    """The custody block with that code (None for a court's)."""
    return db.session.scalar(select(Block).where(CUSTODY, Block.code == code))


def courts_by_code() -> list[Block]:
    """Every magistrates' court, in the API's stable order."""
    return list(db.session.scalars(select(Block).where(COURT).order_by(Block.code)))


def courts_by_name() -> list[Block]:
    """Every magistrates' court, in the order people read a list of them."""
    return list(db.session.scalars(select(Block).where(COURT).order_by(Block.name)))


def court_with_code(code: str) -> Block | None:
    """The court with that code (None for a custody block's)."""
    return db.session.scalar(select(Block).where(COURT, Block.code == code))


def places_by_name() -> list[Block]:
    """Every place on the rota: the custody blocks by name, then the courts by name."""
    return list(
        db.session.scalars(select(Block).order_by(Block.kind != PlaceKind.CUSTODY, Block.name))
    )


def place_with_code(code: str) -> Block | None:
    """A custody block or a court, for the rota (shifts may be at either)."""
    return db.session.scalar(select(Block).where(Block.code == code))


# Where each custody block is (latitude, longitude in degrees, WGS84): the public map position
# of its street address. Used to offer the nearest of several equally early slots first.
COORDINATES: dict[str, tuple[float, float]] = {
    "perry-barr": (52.5212, -1.8893),  # Holford Drive, Witton, Birmingham B42
    "oldbury": (52.5071, -2.0040),  # Bromford Road, Oldbury B69
    "coventry": (52.4056, -1.5080),  # Little Park Street, Coventry CV1
    "wolverhampton": (52.5840, -2.1228),  # Bilston Street, Wolverhampton WV1
    "bloxwich": (52.6176, -2.0047),  # Station Street, Bloxwich, Walsall WS3
    "stechford": (52.4853, -1.8109),  # Station Road, Stechford, Birmingham B33
}
EARTH_RADIUS_KM = 6371.0


def distance_km(from_code: str, to_code: str) -> float | None:
    """The straight-line (great-circle) distance between two blocks; None when either block's
    position is not known."""
    if from_code not in COORDINATES or to_code not in COORDINATES:
        return None
    (lat1, lon1), (lat2, lon2) = (map(math.radians, COORDINATES[c]) for c in (from_code, to_code))
    # The haversine formula.
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))
