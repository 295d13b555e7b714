"""Changing the rota by hand: shifts added, moved, swapped or removed, and absences.

Every change re-checks the bookings it touches in the same transaction. A booking whose worker
is no longer on site is handed to another worker on site for the same slot when one is free,
through the same claim as booking (`appointments.claims`, so this cannot double-book either);
otherwise it loses its worker and appears on the "needs rearranging" list. Nothing is silently
orphaned. Time taken away is recorded, so that rota generation never refills it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from .. import audit
from ..appointments import claims
from ..errors import InvalidField
from ..extensions import db
from ..models import (
    MAX_SHIFT_LENGTH,
    Absence,
    AbsenceKind,
    Block,
    Booking,
    BookingStatus,
    RotaRemoval,
    Shift,
    User,
    Worker,
)

NEEDS_REARRANGING = audit.Action.NEEDS_REARRANGING
REASSIGNED = audit.Action.REASSIGNED
ROTA_CHANGED = audit.Action.ROTA_CHANGED


@dataclass
class Recheck:
    """What a rota change did to the bookings it touched."""

    reassigned: list[Booking] = field(default_factory=list)
    needs_rearranging: list[Booking] = field(default_factory=list)
    placed: list[Booking] = field(default_factory=list)
    # Every live booking the change re-checked, whatever became of it.
    checked: list[Booking] = field(default_factory=list)

    def merge(self, other: Recheck) -> Recheck:
        self.reassigned += other.reassigned
        self.needs_rearranging += other.needs_rearranging
        self.placed += other.placed
        self.checked += other.checked
        return self


@dataclass(frozen=True)
class Affected:
    """A booking a rota change would touch, by its reference, time and place only."""

    reference: str
    starts_at: dt.datetime
    block_name: str

    @classmethod
    def of(cls, booking: Booking) -> Affected:
        return cls(booking.reference, booking.starts_at, booking.block.name)


@dataclass(frozen=True)
class AbsencePreview:
    """What recording an absence would do to the bookings in it, before it is recorded."""

    checked: list[Affected]
    reassigned: list[Affected]
    needs_rearranging: list[Affected]


def _on_site(worker_id: int, block_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    return (
        db.session.scalar(
            select(Shift.id).where(
                Shift.worker_id == worker_id,
                Shift.block_id == block_id,
                *Shift.covering(starts_at, ends_at),
            )
        )
        is not None
    )


def _workers_on_site(block_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> list[int]:
    return list(
        db.session.scalars(
            select(Shift.worker_id)
            .where(
                Shift.block_id == block_id,
                *Shift.covering(starts_at, ends_at),
            )
            .order_by(Shift.worker_id)
        )
    )


def _hand_over(booking: Booking) -> bool:
    """Give the booking to another worker on site for its slot; False if none is free."""
    booked = set(
        db.session.scalars(
            select(Booking.worker_id).where(
                Booking.starts_at == booking.starts_at,
                Booking.status != BookingStatus.CANCELLED,
                Booking.worker_id.is_not(None),
                Booking.id != booking.id,
            )
        )
    )
    candidates = [
        worker_id
        for worker_id in _workers_on_site(booking.block_id, booking.starts_at, booking.ends_at)
        if worker_id not in booked and worker_id != booking.worker_id
    ]
    # A booking committed since `booked` was read is refused by the unique index inside the
    # claim, which then tries the next worker.
    claimed = claims.claim(
        booking,
        candidates,
        block=booking.block,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
    )
    return claimed is not None


def recheck(
    worker_ids: set[int],
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    now: dt.datetime,
    by: User | None,
) -> Recheck:
    """Re-check live future bookings of these workers in [starts_at, ends_at)."""
    result = Recheck()
    if not worker_ids:
        return result
    touched = db.session.scalars(
        select(Booking)
        .where(
            Booking.worker_id.in_(worker_ids),
            Booking.status == BookingStatus.BOOKED,
            Booking.starts_at < ends_at,
            Booking.ends_at > starts_at,
            Booking.ends_at > now,
        )
        .order_by(Booking.starts_at)
    ).all()
    result.checked += touched
    for booking in touched:
        if _on_site(booking.worker_id, booking.block_id, booking.starts_at, booking.ends_at):
            continue
        if _hand_over(booking):
            booking.updated_at = now
            audit.record(REASSIGNED, now, by, booking, detail="worker no longer on site")
            result.reassigned.append(booking)
        else:
            booking.worker_id = None
            booking.updated_at = now
            audit.record(NEEDS_REARRANGING, now, by, booking, detail="no worker on site")
            result.needs_rearranging.append(booking)
    return result


def place_unassigned(
    block_id: int, starts_at: dt.datetime, ends_at: dt.datetime, *, now: dt.datetime, by
) -> Recheck:
    """New cover may rescue bookings waiting on the "needs rearranging" list."""
    result = Recheck()
    waiting = db.session.scalars(
        select(Booking).where(
            Booking.worker_id.is_(None),
            Booking.status == BookingStatus.BOOKED,
            Booking.block_id == block_id,
            Booking.starts_at >= starts_at,
            Booking.ends_at <= ends_at,
            Booking.starts_at > now,
        )
    ).all()
    for booking in waiting:
        if _hand_over(booking):
            booking.updated_at = now
            audit.record(REASSIGNED, now, by, booking, detail="new cover")
            result.placed.append(booking)
    return result


def needs_rearranging(block_ids: list[int] | None = None) -> list[Booking]:
    """Live bookings left without a worker, earliest first."""
    query = select(Booking).where(
        Booking.worker_id.is_(None), Booking.status == BookingStatus.BOOKED
    )
    if block_ids:
        query = query.where(Booking.block_id.in_(block_ids))
    return list(db.session.scalars(query.order_by(Booking.starts_at)))


def _remember_removal(shift_like, reason: str, now: dt.datetime, by: User | None) -> None:
    db.session.add(
        RotaRemoval(
            block_id=shift_like.block_id,
            worker_id=shift_like.worker_id,
            starts_at=shift_like.starts_at,
            ends_at=shift_like.ends_at,
            reason=reason,
            created_at=now,
            created_by_id=by.id if by else None,
        )
    )


def _check_free(
    worker: Worker,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    ignore_shift: Shift | None = None,
) -> None:
    errors = {}
    if ends_at <= starts_at:
        errors["ends_at"] = "The end must be after the start"
    elif ends_at - starts_at > MAX_SHIFT_LENGTH:
        errors["ends_at"] = "A shift can last at most 24 hours"
    clash = db.session.scalar(
        select(Shift).where(
            Shift.worker_id == worker.id,
            *Shift.overlapping(starts_at, ends_at),
            *([Shift.id != ignore_shift.id] if ignore_shift else []),
        )
    )
    if clash is not None:
        errors["worker"] = f"{worker.name} is already on a shift at {clash.block.name} then"
    away = db.session.scalar(
        select(Absence).where(
            Absence.worker_id == worker.id,
            Absence.starts_at < ends_at,
            Absence.ends_at > starts_at,
        )
    )
    if away is not None:
        errors["worker"] = f"{worker.name} is recorded as away ({away.kind}) then"
    if errors:
        raise InvalidField("The shift cannot be saved.", errors)


def add_shift(
    worker: Worker,
    block: Block,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    now: dt.datetime,
    by: User,
) -> tuple[Shift, Recheck]:
    """Extra cover: a shift entered by hand."""
    _check_free(worker, starts_at, ends_at)
    shift = Shift(
        worker=worker,
        block=block,
        starts_at=starts_at,
        ends_at=ends_at,
        generated=False,
        updated_at=now,
    )
    db.session.add(shift)
    db.session.flush()
    audit.record(ROTA_CHANGED, now, by, detail=f"shift {shift.id} added")
    return shift, place_unassigned(block.id, starts_at, ends_at, now=now, by=by)


def change_shift(
    shift: Shift,
    *,
    worker: Worker,
    block: Block,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    now: dt.datetime,
    by: User,
) -> Recheck:
    """Move a shift (times, block) or swap its worker; its bookings are re-checked."""
    _check_free(worker, starts_at, ends_at, ignore_shift=shift)
    before_worker, before_start, before_end = shift.worker_id, shift.starts_at, shift.ends_at
    if (block.id, starts_at, ends_at) != (shift.block_id, shift.starts_at, shift.ends_at):
        _remember_removal(shift, "moved", now, by)
    shift.worker = worker
    shift.block = block
    shift.starts_at = starts_at
    shift.ends_at = ends_at
    shift.generated = False
    shift.sequence += 1
    shift.updated_at = now
    db.session.flush()
    audit.record(ROTA_CHANGED, now, by, detail=f"shift {shift.id} changed")
    result = recheck({before_worker}, before_start, before_end, now=now, by=by)
    return result.merge(place_unassigned(block.id, starts_at, ends_at, now=now, by=by))


def remove_shift(shift: Shift, *, now: dt.datetime, by: User) -> Recheck:
    """Take a shift off the rota; generation will not put it back."""
    _remember_removal(shift, "removed", now, by)
    worker_id, starts_at, ends_at = shift.worker_id, shift.starts_at, shift.ends_at
    audit.record(ROTA_CHANGED, now, by, detail=f"shift {shift.id} removed")
    db.session.delete(shift)
    db.session.flush()
    return recheck({worker_id}, starts_at, ends_at, now=now, by=by)


def record_absence(
    worker: Worker,
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    now: dt.datetime,
    by: User,
) -> tuple[Absence, Recheck]:
    """Leave or sickness: the worker's shifts in the span are cut, their bookings re-checked."""
    errors = {}
    if kind not in set(AbsenceKind):
        errors["kind"] = "Choose leave or sickness"
    if ends_at <= starts_at:
        errors["ends_at"] = "The end of the absence must be after its start"
    if errors:
        raise InvalidField("The absence cannot be recorded.", errors)
    absence = Absence(
        worker=worker,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=now,
        created_by_id=by.id,
    )
    db.session.add(absence)
    overlapping = db.session.scalars(
        select(Shift).where(Shift.worker_id == worker.id, *Shift.overlapping(starts_at, ends_at))
    ).all()
    for shift in overlapping:
        _cut(shift, starts_at, ends_at, now, by)
    db.session.flush()
    audit.record(ROTA_CHANGED, now, by, detail=f"absence {absence.id} recorded")
    return absence, recheck({worker.id}, starts_at, ends_at, now=now, by=by)


def preview_absence(
    worker: Worker,
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    now: dt.datetime,
    by: User,
) -> AbsencePreview:
    """What `record_absence` would do, found by doing it in a savepoint and rolling that back:
    the preview and the change are the same code, so they cannot disagree (unless the rota or
    the bookings change in between). Refuses as `record_absence` does."""
    savepoint = db.session.begin_nested()
    try:
        _absence, result = record_absence(worker, kind, starts_at, ends_at, now=now, by=by)
        preview = AbsencePreview(
            checked=[Affected.of(b) for b in result.checked],
            reassigned=[Affected.of(b) for b in result.reassigned],
            needs_rearranging=[Affected.of(b) for b in result.needs_rearranging],
        )
    finally:
        savepoint.rollback()
    return preview


def _cut(shift: Shift, away_from: dt.datetime, away_to: dt.datetime, now, by) -> None:
    """Remove [away_from, away_to) from a shift: trim it, split it, or delete it."""
    removed_from, removed_to = max(shift.starts_at, away_from), min(shift.ends_at, away_to)
    db.session.add(
        RotaRemoval(
            block_id=shift.block_id,
            worker_id=shift.worker_id,
            starts_at=removed_from,
            ends_at=removed_to,
            reason="absence",
            created_at=now,
            created_by_id=by.id if by else None,
        )
    )
    keeps_start = shift.starts_at < away_from
    keeps_end = shift.ends_at > away_to
    if keeps_start and keeps_end:
        db.session.add(
            Shift(
                worker_id=shift.worker_id,
                block_id=shift.block_id,
                starts_at=away_to,
                ends_at=shift.ends_at,
                generated=False,
                updated_at=now,
            )
        )
        shift.ends_at = away_from
    elif keeps_start:
        shift.ends_at = away_from
    elif keeps_end:
        shift.starts_at = away_to
    else:
        db.session.delete(shift)
        return
    shift.generated = False
    shift.sequence += 1
    shift.updated_at = now
