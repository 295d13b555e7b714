"""Cover: is a rostered worker on site at a block at a given instant, and when is one next."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import MAX_SHIFT_LENGTH, Block, Shift


@dataclass(frozen=True)
class Cover:
    block: Block
    at: dt.datetime
    workers_on_site: int
    # When cover next starts; None while a worker is on site (or none is rostered ahead).
    next_on_site_at: dt.datetime | None
    # While a worker is on site: when the last of them leaves, shifts that hand over to one
    # another counted as one stretch of cover. None when nobody is on site.
    on_site_until: dt.datetime | None = None

    @property
    def on_site(self) -> bool:
        return self.workers_on_site > 0


def cover_at(block: Block, at: dt.datetime) -> Cover:
    """Who is on site at `block` at the instant `at`: a shift covers [starts_at, ends_at)."""
    on_site = db.session.scalar(
        select(func.count(func.distinct(Shift.worker_id))).where(
            Shift.block_id == block.id,
            Shift.starts_at > at - MAX_SHIFT_LENGTH,
            Shift.starts_at <= at,
            Shift.ends_at > at,
        )
    )
    next_start = until = None
    if on_site:
        until = _cover_ends(block, at)
    else:
        next_start = db.session.scalar(
            select(func.min(Shift.starts_at)).where(
                Shift.block_id == block.id, Shift.starts_at > at
            )
        )
    return Cover(
        block=block,
        at=at,
        workers_on_site=on_site or 0,
        next_on_site_at=next_start,
        on_site_until=until,
    )


# Handovers followed before the answer is given as it stands: a week of back-to-back shifts.
MAX_HANDOVERS = 14


def _cover_ends(block: Block, at: dt.datetime) -> dt.datetime | None:
    """When unbroken cover at `block` that includes the instant `at` ends."""
    until = at
    for _ in range(MAX_HANDOVERS):
        later = db.session.scalar(
            select(func.max(Shift.ends_at)).where(
                Shift.block_id == block.id,
                Shift.starts_at > until - MAX_SHIFT_LENGTH,
                Shift.starts_at <= until,
                Shift.ends_at > until,
            )
        )
        if later is None:
            break
        until = later
    return until if until > at else None
