"""Free appointment slots: a grid of SLOT_MINUTES inside rostered time, earliest first.

A slot's capacity is the number of workers whose shift at that block covers it; it is free
while fewer live bookings than that hold it. The grid is aligned to local midnight, so slots
start at the same wall-clock times every day, clock changes included.
"""

from __future__ import annotations

import datetime as dt
import functools
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select

from .. import places
from ..clock import LONDON, local_instant
from ..extensions import db
from ..models import Block, Booking, BookingStatus, Shift
from ..workdays import nth_working_day_after


@dataclass(frozen=True)
class SlotRules:
    """The booking window settings, read once from the app config."""

    slot_minutes: int = 30
    min_lead_minutes: int = 60
    max_days_ahead: int = 28
    disputed_working_days: int = 5

    @classmethod
    def from_config(cls, config) -> SlotRules:
        return cls(
            slot_minutes=config["SLOT_MINUTES"],
            min_lead_minutes=config["BOOKING_MIN_LEAD_MINUTES"],
            max_days_ahead=config["BOOKING_MAX_DAYS_AHEAD"],
            disputed_working_days=config["DISPUTED_RESULT_WORKING_DAYS"],
        )

    @property
    def length(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.slot_minutes)


@dataclass(frozen=True)
class Slot:
    block: Block
    starts_at: dt.datetime
    ends_at: dt.datetime
    free: int
    # The workers on site and not yet booked, in shift order.
    free_worker_ids: tuple[int, ...] = field(default=(), compare=False, repr=False)


@functools.lru_cache(maxsize=1024)
def day_grid(day: dt.date, minutes: int, tz_name: str) -> tuple[dt.datetime, ...]:
    """Every slot start (UTC) on the local date `day`, in order: the wall times 00:00,
    00:00 + minutes, ... that happen that day.

    The spring gap's wall times do not happen, so they have no slot. The autumn hour
    01:00-02:00 happens twice: a worker on site then has slots in both, as is_on_grid (and so
    booking) accepts either. Cached: every search over the same days asks for the same grid.
    """
    tz = ZoneInfo(tz_name)
    starts = set()
    for minute in range(0, 24 * 60, minutes):
        wall = dt.time(minute // 60, minute % 60)
        first = local_instant(day, wall, tz)
        if first is None:
            continue
        again = dt.datetime.combine(day, wall, tzinfo=tz).replace(fold=1).astimezone(dt.UTC)
        starts.update((first, again))
    return tuple(sorted(starts))


def grid_starts(
    starts_at: dt.datetime, ends_at: dt.datetime, minutes: int, tz: ZoneInfo
) -> Iterator[dt.datetime]:
    """Slot starts aligned to local midnight whose whole slot lies in [starts_at, ends_at)."""
    last_start = ends_at - dt.timedelta(minutes=minutes)
    day = starts_at.astimezone(tz).date()
    last_day = last_start.astimezone(tz).date()
    while day <= last_day:
        grid = day_grid(day, minutes, tz.key)
        yield from grid[bisect_left(grid, starts_at) : bisect_right(grid, last_start)]
        day += dt.timedelta(days=1)


def is_on_grid(instant: dt.datetime, minutes: int, tz: ZoneInfo) -> bool:
    local = instant.astimezone(tz)
    minute_of_day = local.hour * 60 + local.minute
    return local.second == 0 and local.microsecond == 0 and minute_of_day % minutes == 0


def earliest_allowed(
    rules: SlotRules,
    now: dt.datetime,
    disputed: bool = False,
    tested_at: dt.datetime | None = None,
    tz: ZoneInfo = LONDON,
) -> dt.datetime:
    """The earliest instant a slot may start: the minimum lead, and for a disputed result the
    start of the n-th working day after the test (weekends and bank holidays not counted)."""
    earliest = now + dt.timedelta(minutes=rules.min_lead_minutes)
    if disputed:
        tested_day = (tested_at or now).astimezone(tz).date()
        first_day = nth_working_day_after(tested_day, rules.disputed_working_days)
        earliest = max(earliest, dt.datetime.combine(first_day, dt.time(0), tzinfo=tz))
    return earliest.astimezone(dt.UTC)


def latest_allowed(rules: SlotRules, now: dt.datetime, tz: ZoneInfo = LONDON) -> dt.datetime:
    """No slot may start later than this: the same local time, `max_days_ahead` dates on.

    Counted in local days, not 24-hour periods, so a clock change in between neither adds
    nor removes an hour of slots.
    """
    there = now.astimezone(tz)
    return (there + dt.timedelta(days=rules.max_days_ahead)).astimezone(dt.UTC)


# The first span searched: long enough to hold the next free slots at national scale, short
# enough that it reads few bookings.
FIRST_SPAN = dt.timedelta(hours=2)
# Up to this many workers on shift, the bookings read are only theirs: a short list of ids
# narrows the read to their index entries; a long one costs more to send than it saves.
FEW_WORKERS = 20


def _free_in(
    blocks: dict[int, Row],
    window_start: dt.datetime,
    window_end: dt.datetime,
    rules: SlotRules,
    limit: int,
    tie_order: dict[int, tuple] | None = None,
) -> list[tuple[int, dt.datetime, tuple[int, ...]]]:
    """The first `limit` slots with room that start in [window_start, window_end), as
    (block id, start, free worker ids); slots starting together in `tie_order` of their blocks
    (by block code when not given)."""
    length = rules.length
    shifts = db.session.execute(
        select(Shift.block_id, Shift.worker_id, Shift.starts_at, Shift.ends_at)
        .where(
            Shift.block_id.in_(blocks),
            *Shift.overlapping(window_start, window_end + length),
        )
        .order_by(Shift.starts_at, Shift.worker_id)
    ).all()
    if not shifts:
        return []
    on_shift = {worker_id for _, worker_id, _, _ in shifts}
    live_bookings = select(Booking.worker_id, Booking.starts_at).where(
        Booking.status != BookingStatus.CANCELLED,
        Booking.worker_id.is_not(None),
        Booking.starts_at >= window_start,
        Booking.starts_at < window_end,
    )
    if len(on_shift) <= FEW_WORKERS:
        # A booking checking one slot reads only its workers' bookings, not every booking
        # in the country that starts then (about 200 rows at national scale).
        live_bookings = live_bookings.where(Booking.worker_id.in_(on_shift))
    booked = {(worker_id, starts_at) for worker_id, starts_at in db.session.execute(live_bookings)}

    # (block, slot start) -> the workers on site and free then, in shift order.
    free_workers: dict[tuple[int, dt.datetime], list[int]] = defaultdict(list)
    for block_id, worker_id, starts_at, ends_at in shifts:
        tz = ZoneInfo(blocks[block_id].timezone)
        clipped_start = max(starts_at, window_start)
        clipped_end = min(ends_at, window_end + length)
        for start in grid_starts(clipped_start, clipped_end, rules.slot_minutes, tz):
            if start >= window_end:
                break
            workers = free_workers[(block_id, start)]
            if (worker_id, start) not in booked and worker_id not in workers:
                workers.append(worker_id)

    ties = tie_order or {block_id: (row.code,) for block_id, row in blocks.items()}
    open_slots = sorted(
        (slot for slot, workers in free_workers.items() if workers),
        key=lambda slot: (slot[1], ties[slot[0]]),
    )[:limit]
    return [
        (block_id, start, tuple(free_workers[(block_id, start)])) for block_id, start in open_slots
    ]


def _earliest(
    blocks: dict[int, Block | Row],
    rules: SlotRules,
    now: dt.datetime,
    *,
    after: dt.datetime | None,
    before: dt.datetime | None,
    limit: int,
    disputed: bool,
    tested_at: dt.datetime | None,
    tie_order: dict[int, tuple] | None = None,
) -> list[tuple[int, dt.datetime, tuple[int, ...]]]:
    """The earliest free slots at `blocks` (anything with id, code and timezone), as
    (block id, start, free worker ids).

    Searches the first few hours, then spans twice as long each time, and stops as soon as
    it has enough: at national scale the common answer (the next hour or two) costs two small
    queries, and an empty 28-day window about a dozen.
    """
    window_start = earliest_allowed(rules, now, disputed, tested_at)
    if after is not None:
        window_start = max(window_start, after)
    # A slot may start no later than the maximum days ahead (and before `before`, if given).
    window_end = latest_allowed(rules, now) + dt.timedelta(microseconds=1)
    if before is not None:
        window_end = min(window_end, before)

    found: list[tuple[int, dt.datetime, tuple[int, ...]]] = []
    span = FIRST_SPAN
    chunk_start = window_start
    while chunk_start < window_end and len(found) < limit:
        chunk_end = min(chunk_start + span, window_end)
        found.extend(_free_in(blocks, chunk_start, chunk_end, rules, limit - len(found), tie_order))
        chunk_start = chunk_end
        span *= 2
    return found


def free_slots(
    rules: SlotRules,
    now: dt.datetime,
    *,
    after: dt.datetime | None = None,
    before: dt.datetime | None = None,
    block_codes: Iterable[str] | None = None,
    limit: int = 10,
    disputed: bool = False,
    tested_at: dt.datetime | None = None,
    near: str | None = None,
) -> list[Slot]:
    """The earliest free slots, earliest first; slots that start together nearest first to the
    block coded `near` when given, then by block code."""
    # Custody blocks only: no appointment is ever offered at a court.
    query = select(Block.id, Block.code, Block.timezone).where(places.CUSTODY)
    codes = list(block_codes or [])
    if codes:
        query = query.where(Block.code.in_(codes))
    blocks = {row.id: row for row in db.session.execute(query)}
    if not blocks:
        return []
    found = _earliest(
        blocks,
        rules,
        now,
        after=after,
        before=before,
        limit=limit,
        disputed=disputed,
        tested_at=tested_at,
        tie_order=_nearest_first(blocks, near) if near else None,
    )
    # Whole blocks only for the slots found, not for every block searched.
    found_ids = {block_id for block_id, *_ in found}
    whole = {
        block.id: block
        for block in db.session.scalars(select(Block).where(Block.id.in_(found_ids)))
    }
    return [
        Slot(whole[block_id], start, start + rules.length, len(workers), workers)
        for block_id, start, workers in found
    ]


def _nearest_first(blocks: dict[int, Row], near: str) -> dict[int, tuple]:
    """Each block's place among slots that start together: nearest to `near` first, blocks of
    unknown position last, then by code."""
    order = {}
    for block_id, row in blocks.items():
        distance = places.distance_km(near, row.code)
        order[block_id] = (distance is None, distance or 0.0, row.code)
    return order


def find_slot(
    rules: SlotRules,
    now: dt.datetime,
    block: Block,
    starts_at: dt.datetime,
    *,
    disputed: bool = False,
    tested_at: dt.datetime | None = None,
) -> Slot | None:
    """The slot at `block` starting exactly at `starts_at`, if it is open and free now."""
    found = _earliest(
        {block.id: block},
        rules,
        now,
        after=starts_at,
        before=starts_at + dt.timedelta(microseconds=1),
        limit=1,
        disputed=disputed,
        tested_at=tested_at,
    )
    if not found:
        return None
    _, start, workers = found[0]
    return Slot(block, start, start + rules.length, len(workers), workers)
