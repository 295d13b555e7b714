"""The rota: cover windows expanded from each block's local rules, and shifts that fill them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..clock import LONDON, local_instant, local_midnight
from ..extensions import db
from ..models import BANK_HOLIDAY, Absence, Block, CoverRule, RotaRemoval, Shift, Worker
from ..workdays import is_bank_holiday

SUNDAY = 6
# How far back weekend duty is counted when choosing whose turn it is: far enough that
# generating the rota a week at a time still takes turns (not only the previous week).
WEEKEND_HISTORY = dt.timedelta(weeks=8)


@dataclass(frozen=True)
class CoverWindow:
    """On-site hours at a block on one local date, as UTC instants."""

    block_id: int
    day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    workers: int

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


def rules_for_day(block: Block, day: dt.date) -> list[CoverRule]:
    """The block's rules for a date: bank holidays follow Sunday's unless the block has its own."""
    if is_bank_holiday(day):
        own = [rule for rule in block.cover_rules if rule.weekday == BANK_HOLIDAY]
        if own:
            return own
        return [rule for rule in block.cover_rules if rule.weekday == SUNDAY]
    return [rule for rule in block.cover_rules if rule.weekday == day.weekday()]


def cover_windows(block: Block, day: dt.date) -> list[CoverWindow]:
    """The block's cover windows on a local date, each expanded in the block's own time zone.

    A rule stays on local time on clock-change days: the clocks change at 01:00, so 07:00-20:00
    is still 13 hours then, while a rule spanning 01:00-02:00 lasts an hour less or more.
    """
    tz = ZoneInfo(block.timezone)
    windows = []
    for rule in rules_for_day(block, day):
        starts_at = local_instant(day, rule.starts, tz)
        ends_at = local_instant(day, rule.ends, tz)
        if starts_at is None or ends_at is None:
            continue  # a rule that begins or ends in the spring gap has no window that day
        windows.append(CoverWindow(block.id, day, starts_at, ends_at, rule.workers))
    return windows


def dates(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Every date from start to end inclusive."""
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def _is_weekend_duty(day: dt.date) -> bool:
    return day.weekday() >= 5 or is_bank_holiday(day)


def _week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def generate(
    start: dt.date,
    end: dt.date,
    *,
    now: dt.datetime,
    max_hours_per_week: float = 40.0,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fill every cover window from start to end (inclusive) with rostered workers.

    A window already holding any shift at its block (generated or entered by hand), or time a
    coordinator took away, is left as it is: running this again changes nothing and keeps
    manual changes. Weekend and bank-holiday duty goes round the team in turn; otherwise the
    block's own team comes first; then whoever has the fewest hours that week. Nobody is put
    on two blocks at once, in an absence, or over `max_hours_per_week`.
    New shifts are stamped `now`; the caller commits. Returns the number of shifts created.
    """
    # Every place: custody cover and court duty are rostered alike.
    blocks = db.session.scalars(select(Block).order_by(Block.code)).all()
    workers = db.session.scalars(
        select(Worker).where(Worker.active.is_(True)).order_by(Worker.id)
    ).all()
    range_start = local_midnight(start) - WEEKEND_HISTORY
    range_end = local_midnight(end) + dt.timedelta(days=8)
    existing = db.session.scalars(
        select(Shift).where(*Shift.overlapping(range_start, range_end))
    ).all()
    # Time a coordinator took away stays empty; absent workers are not rostered.
    removals = db.session.scalars(
        select(RotaRemoval).where(
            RotaRemoval.starts_at < range_end, RotaRemoval.ends_at > range_start
        )
    ).all()
    absences = db.session.scalars(
        select(Absence).where(Absence.starts_at < range_end, Absence.ends_at > range_start)
    ).all()

    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    hours: dict[tuple[int, dt.date], float] = defaultdict(float)
    weekend_duties: dict[int, int] = defaultdict(int)
    by_block: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for shift in existing:
        busy[shift.worker_id].append((shift.starts_at, shift.ends_at))
        local_day = shift.starts_at.astimezone(LONDON).date()
        hours[(shift.worker_id, _week_of(local_day))] += (
            shift.ends_at - shift.starts_at
        ).total_seconds() / 3600
        if _is_weekend_duty(local_day):
            weekend_duties[shift.worker_id] += 1
        by_block[shift.block_id].append((shift.starts_at, shift.ends_at))
    for removal in removals:
        by_block[removal.block_id].append((removal.starts_at, removal.ends_at))
    for absence in absences:
        busy[absence.worker_id].append((absence.starts_at, absence.ends_at))

    def overlaps(a_start, a_end, b_start, b_end) -> bool:
        return a_start < b_end and b_start < a_end

    created = 0
    for day in dates(start, end):
        for block in blocks:
            for window in cover_windows(block, day):
                if any(
                    overlaps(taken_from, taken_to, window.starts_at, window.ends_at)
                    for taken_from, taken_to in by_block[block.id]
                ):
                    continue
                week = _week_of(day)
                candidates = [
                    w
                    for w in workers
                    if hours[(w.id, week)] + window.hours <= max_hours_per_week
                    and not any(
                        overlaps(b_start, b_end, window.starts_at, window.ends_at)
                        for b_start, b_end in busy[w.id]
                    )
                ]
                weekend = _is_weekend_duty(day)
                # Weekend and bank-holiday duty goes round in turn; otherwise the block's own
                # team first; then the fewest hours this week; then, on a weekday, whoever has
                # done more weekend duty (so the others keep hours under the cap for the
                # weekend, rather than the same workers being full every week); then a stable
                # order.
                candidates.sort(
                    key=lambda w: (
                        weekend_duties[w.id] if weekend else 0,
                        w.home_block_id != block.id,
                        hours[(w.id, week)],
                        0 if weekend else -weekend_duties[w.id],
                        w.id,
                    )
                )
                for worker in candidates[: window.workers]:
                    shift = Shift(
                        worker_id=worker.id,
                        block_id=block.id,
                        starts_at=window.starts_at,
                        ends_at=window.ends_at,
                        generated=True,
                        updated_at=now,
                    )
                    db.session.add(shift)
                    by_block[block.id].append((window.starts_at, window.ends_at))
                    busy[worker.id].append((window.starts_at, window.ends_at))
                    hours[(worker.id, week)] += window.hours
                    weekend_duties[worker.id] += weekend
                    created += 1
        if progress:
            progress(1)
    return created
