"""The places the service works at, as the pages, the API and the domain look them up.

Custody blocks and magistrates' courts are rows of one table (a court is a place of kind
`court`), so court duty is rostered, shown and fed to calendars like custody cover. "Blocks"
here always means custody blocks: appointments, slots and out-of-hours cover are theirs
alone. Courts are asked for by name, and every place only where a list is about the rota.
"""

from __future__ import annotations

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
