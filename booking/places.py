"""The places the service works at, as the pages, the API and the domain look them up."""

from __future__ import annotations

import math

from sqlalchemy import select

from .extensions import db
from .models import Block


def blocks_by_name() -> list[Block]:
    """Every custody block, in the order people read a list of them."""
    return list(db.session.scalars(select(Block).order_by(Block.name)))


def blocks_by_code() -> list[Block]:
    """Every custody block, in the API's stable order."""
    return list(db.session.scalars(select(Block).order_by(Block.code)))


def block_with_code(code: str) -> Block | None:
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
