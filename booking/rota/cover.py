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
    next_start = None
    if not on_site:
        next_start = db.session.scalar(
            select(func.min(Shift.starts_at)).where(
                Shift.block_id == block.id, Shift.starts_at > at
            )
        )
    return Cover(block=block, at=at, workers_on_site=on_site or 0, next_on_site_at=next_start)
