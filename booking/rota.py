"""The rota: cover windows expanded from each block's local rules, and shifts that fill them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from . import clock
from .clock import LONDON, local_instant
from .extensions import db
from .models import BANK_HOLIDAY, Block, CoverRule, Shift, Worker
from .workdays import is_bank_holiday

SUNDAY = 6


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


def _week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def generate(
    start: dt.date,
    end: dt.date,
    max_hours_per_week: float = 40.0,
    progress: Callable[[int], None] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Fill every cover window from start to end (inclusive) with rostered workers.

    A window already holding any shift at its block (generated or entered by hand) is left as
    it is, so running this again changes nothing and keeps manual changes. Workers are chosen
    from the block's own team first, then anyone free, always the one with the fewest hours
    that week; nobody is put on two blocks at once or over `max_hours_per_week`.
    Returns the number of shifts created.
    """
    stamp = now or clock.now()
    blocks = db.session.scalars(select(Block).order_by(Block.code)).all()
    workers = db.session.scalars(
        select(Worker).where(Worker.active.is_(True)).order_by(Worker.id)
    ).all()
    range_start = local_instant(start, dt.time(0), LONDON) - dt.timedelta(days=7)
    range_end = local_instant(end, dt.time(0), LONDON) + dt.timedelta(days=8)
    existing = db.session.scalars(
        select(Shift).where(Shift.starts_at < range_end, Shift.ends_at > range_start)
    ).all()

    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    hours: dict[tuple[int, dt.date], float] = defaultdict(float)
    by_block: dict[int, list[Shift]] = defaultdict(list)
    for shift in existing:
        busy[shift.worker_id].append((shift.starts_at, shift.ends_at))
        week = _week_of(shift.starts_at.astimezone(LONDON).date())
        hours[(shift.worker_id, week)] += (shift.ends_at - shift.starts_at).total_seconds() / 3600
        by_block[shift.block_id].append(shift)

    def overlaps(a_start, a_end, b_start, b_end) -> bool:
        return a_start < b_end and b_start < a_end

    created = 0
    for day in dates(start, end):
        for block in blocks:
            for window in cover_windows(block, day):
                already = [
                    s
                    for s in by_block[block.id]
                    if overlaps(s.starts_at, s.ends_at, window.starts_at, window.ends_at)
                ]
                if already:
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
                # Own team first, then the fewest hours this week, then a stable order.
                candidates.sort(
                    key=lambda w: (w.home_block_id != block.id, hours[(w.id, week)], w.id)
                )
                for worker in candidates[: window.workers]:
                    shift = Shift(
                        worker_id=worker.id,
                        block_id=block.id,
                        starts_at=window.starts_at,
                        ends_at=window.ends_at,
                        generated=True,
                        updated_at=stamp,
                    )
                    db.session.add(shift)
                    by_block[block.id].append(shift)
                    busy[worker.id].append((window.starts_at, window.ends_at))
                    hours[(worker.id, week)] += window.hours
                    created += 1
        if progress:
            progress(1)
    db.session.commit()
    return created
