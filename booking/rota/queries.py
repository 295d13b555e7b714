"""The rota as the pages list it: workers, a worker's shifts on a day, a week's shifts and
absences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..clock import local_day_span
from ..extensions import db
from ..models import Absence, Shift, Worker


def active_workers() -> list[Worker]:
    """The team as it is now, by name."""
    return list(
        db.session.scalars(select(Worker).where(Worker.active.is_(True)).order_by(Worker.name))
    )


def workers_active_or(worker_ids: Iterable[int]) -> list[Worker]:
    """The team now, with those of `worker_ids` who have since left it, by name."""
    return list(
        db.session.scalars(
            select(Worker)
            .where(or_(Worker.active.is_(True), Worker.id.in_(worker_ids)))
            .order_by(Worker.name)
        )
    )


def shifts_on(worker: Worker, day: dt.date) -> list[Shift]:
    """The worker's shifts that touch the local day, in time order."""
    starts, ends = local_day_span(day)
    return list(
        db.session.scalars(
            select(Shift)
            .options(selectinload(Shift.block))
            .where(Shift.worker_id == worker.id, *Shift.overlapping(starts, ends))
            .order_by(Shift.starts_at)
        )
    )


def shifts_starting(starts: dt.datetime, ends: dt.datetime) -> list[Shift]:
    """Every shift starting from `starts` until `ends`, with its worker and block."""
    return list(
        db.session.scalars(
            select(Shift)
            .options(selectinload(Shift.worker), selectinload(Shift.block))
            .where(Shift.starts_at >= starts, Shift.starts_at < ends)
            .order_by(Shift.starts_at, Shift.id)
        )
    )


def absences_overlapping(starts: dt.datetime, ends: dt.datetime) -> list[Absence]:
    """Every absence that overlaps the span, earliest first."""
    return list(
        db.session.scalars(
            select(Absence)
            .where(Absence.starts_at < ends, Absence.ends_at > starts)
            .order_by(Absence.starts_at)
        )
    )
