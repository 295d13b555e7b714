"""The cover picture: for a week, when each block had a worker on site, where the gaps were,
and how many out-of-hours bookings each gap produced.

Days are local days of the block's time zone, so a clock-change day lasts 23 or 25 hours and
a 07:00-20:00 shift stays 07:00-20:00 on the wall clock. A gap is time with nobody on site; it
is *unfilled* where the block's cover rules planned a worker then (a hole in the rota) and
*out of hours* where they did not. A booking was produced by a gap when the person's test was
taken there at a time nobody was on site: that is why an appointment had to be booked.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .. import places
from ..clock import local_day_span, local_instant, local_midnight
from ..extensions import db
from ..models import Block, Booking, Requirement, Shift
from ..workdays import bank_holiday_name
from .generate import cover_windows

# The working day of the picture's daytime view: weekday cover at every block.
DAYTIME = (dt.time(7, 0), dt.time(20, 0))

Span = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Interval:
    """[starts_at, ends_at) as UTC instants, read on the wall clock of `zone`."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    zone: ZoneInfo

    @property
    def starts(self) -> dt.datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def ends(self) -> dt.datetime:
        return self.ends_at.astimezone(self.zone)

    @property
    def hours(self) -> float:
        # Between UTC instants: local datetimes sharing a tzinfo subtract as wall-clock times.
        return _hours(self.starts_at, self.ends_at)


@dataclass(frozen=True)
class Gap(Interval):
    """Time with nobody on site at the block."""

    # The cover rules planned a worker on site then: a hole in the rota.
    unfilled: bool
    # Bookings whose test at this block was taken in the gap.
    bookings: int


@dataclass(frozen=True)
class BlockDay:
    """One block on one local date, over the hours looked at (the view)."""

    block: Block
    day: dt.date
    bank_holiday: str | None
    view: Interval
    covered: list[Interval]
    gaps: list[Gap]
    # The length of the local date itself: 23 or 25 on the days the clocks change.
    day_hours: float

    @property
    def hours(self) -> float:
        return self.view.hours

    @property
    def hours_covered(self) -> float:
        return sum(interval.hours for interval in self.covered)

    @property
    def hours_of_gap(self) -> float:
        return sum(gap.hours for gap in self.gaps)

    @property
    def hours_unfilled(self) -> float:
        return sum(gap.hours for gap in self.gaps if gap.unfilled)

    @property
    def unfilled(self) -> list[Gap]:
        return [gap for gap in self.gaps if gap.unfilled]

    @property
    def bookings(self) -> int:
        return sum(gap.bookings for gap in self.gaps)

    @property
    def clocks_change(self) -> bool:
        return self.day_hours != 24


@dataclass(frozen=True)
class BlockWeek:
    block: Block
    days: list[BlockDay]

    @property
    def hours_covered(self) -> float:
        return sum(day.hours_covered for day in self.days)

    @property
    def hours_of_gap(self) -> float:
        return sum(day.hours_of_gap for day in self.days)

    @property
    def hours_unfilled(self) -> float:
        return sum(day.hours_unfilled for day in self.days)

    @property
    def bookings(self) -> int:
        return sum(day.bookings for day in self.days)


@dataclass(frozen=True)
class CoverPicture:
    week: dt.date
    dates: list[dt.date]
    # Local (start, end) wall-clock hours looked at; None for the whole day.
    view: tuple[dt.time, dt.time] | None
    blocks: list[BlockWeek]

    def day(self, block_code: str, day: dt.date) -> BlockDay:
        """The figures of one block on one date of the week."""
        for week in self.blocks:
            if week.block.code == block_code:
                for block_day in week.days:
                    if block_day.day == day:
                        return block_day
        raise KeyError((block_code, day))


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_dates(monday: dt.date) -> list[dt.date]:
    """Monday to Sunday."""
    return [monday + dt.timedelta(days=n) for n in range(7)]


def wall_instant(day: dt.date, wall: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The instant `tz` shows `wall` on `day`; a wall time skipped in spring reads as after it."""
    instant = local_instant(day, wall, tz)
    if instant is None:
        instant = dt.datetime.combine(day, wall, tzinfo=tz).astimezone(dt.UTC)
    return instant


def day_span(day: dt.date, tz: ZoneInfo, view: tuple[dt.time, dt.time] | None = None) -> Span:
    """Local midnight to the next local midnight (or the view's hours) as UTC instants."""
    if view is None:
        return local_day_span(day, tz)
    return wall_instant(day, view[0], tz), wall_instant(day, view[1], tz)


def block_day(
    block: Block,
    day: dt.date,
    shifts: Iterable[Span],
    tested_at: Iterable[dt.datetime],
    view: tuple[dt.time, dt.time] | None = None,
) -> BlockDay:
    """The cover and gaps of a block on a date, from its shifts and its bookings' test times.

    `shifts` are the block's shifts as (starts_at, ends_at); `tested_at` the test times of the
    bookings of people arrested there. Only the part inside the view counts.
    """
    tz = ZoneInfo(block.timezone)
    view_start, view_end = day_span(day, tz, view)
    whole_start, whole_end = day_span(day, tz)
    covered = _union(_clip(span, view_start, view_end) for span in shifts)
    planned = _union(
        _clip((window.starts_at, window.ends_at), view_start, view_end)
        for window in cover_windows(block, day)
    )
    tests = sorted(tested_at)
    gaps = []
    for gap_start, gap_end in _complement(covered, view_start, view_end):
        for part_start, part_end, unfilled in _split(gap_start, gap_end, planned):
            produced = sum(1 for test in tests if part_start <= test < part_end)
            gaps.append(Gap(part_start, part_end, tz, unfilled, produced))
    return BlockDay(
        block=block,
        day=day,
        bank_holiday=bank_holiday_name(day),
        view=Interval(view_start, view_end, tz),
        covered=[Interval(start, end, tz) for start, end in covered],
        gaps=gaps,
        day_hours=_hours(whole_start, whole_end),
    )


def cover_picture(
    monday: dt.date,
    *,
    view: tuple[dt.time, dt.time] | None = None,
    blocks: Sequence[Block] | None = None,
) -> CoverPicture:
    """Every place's cover, gaps and out-of-hours bookings, Monday to Sunday of a week
    (custody blocks, then the courts' court duty).

    Follow-up assessments are left out of the booking counts: a worker books them at the
    initial assessment, so the gap did not produce them. Cancelled bookings count: the gap
    produced them all the same.
    """
    monday = monday_of(monday)
    dates = week_dates(monday)
    if blocks is None:
        # The rota's own picture: court duty beside custody cover.
        blocks = places.places_by_name()
    # Wide enough for any block's time zone; each day is cut to its block's local day below.
    range_start = local_midnight(monday) - dt.timedelta(days=1)
    range_end = local_midnight(monday + dt.timedelta(days=7)) + dt.timedelta(days=1)
    block_ids = [block.id for block in blocks]
    shifts: dict[int, list[Span]] = defaultdict(list)
    for block_id, starts_at, ends_at in db.session.execute(
        select(Shift.block_id, Shift.starts_at, Shift.ends_at).where(
            Shift.block_id.in_(block_ids),
            *Shift.overlapping(range_start, range_end),
        )
    ):
        shifts[block_id].append((starts_at, ends_at))
    tests: dict[int, list[dt.datetime]] = defaultdict(list)
    for block_id, tested_at in db.session.execute(
        select(Booking.arrest_block_id, Booking.tested_at).where(
            Booking.arrest_block_id.in_(block_ids),
            # Follow-ups and suitability appointments were not produced by a gap.
            Booking.requirement.not_in((Requirement.FOLLOW_UP, Requirement.SUITABILITY)),
            Booking.tested_at >= range_start,
            Booking.tested_at < range_end,
        )
    ):
        tests[block_id].append(tested_at)
    weeks = [
        BlockWeek(
            block=block,
            days=[block_day(block, day, shifts[block.id], tests[block.id], view) for day in dates],
        )
        for block in blocks
    ]
    return CoverPicture(week=monday, dates=dates, view=view, blocks=weeks)


def _hours(starts_at: dt.datetime, ends_at: dt.datetime) -> float:
    return (ends_at.astimezone(dt.UTC) - starts_at.astimezone(dt.UTC)).total_seconds() / 3600


def _clip(span: Span, start: dt.datetime, end: dt.datetime) -> Span | None:
    clipped = (max(span[0], start), min(span[1], end))
    return clipped if clipped[0] < clipped[1] else None


def _union(spans: Iterable[Span | None]) -> list[Span]:
    """Overlapping or touching spans merged, in order."""
    merged: list[list[dt.datetime]] = []
    for start, end in sorted(span for span in spans if span is not None):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _complement(spans: list[Span], start: dt.datetime, end: dt.datetime) -> list[Span]:
    """The parts of [start, end) that no span covers (spans merged and in order)."""
    gaps = []
    cursor = start
    for span_start, span_end in spans:
        if span_start > cursor:
            gaps.append((cursor, span_start))
        cursor = max(cursor, span_end)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def _split(
    start: dt.datetime, end: dt.datetime, planned: list[Span]
) -> list[tuple[dt.datetime, dt.datetime, bool]]:
    """[start, end) cut where planned cover begins and ends; each part says if it was planned."""
    parts = []
    cursor = start
    for plan_start, plan_end in planned:
        inside = _clip((plan_start, plan_end), cursor, end)
        if inside is None:
            continue
        if inside[0] > cursor:
            parts.append((cursor, inside[0], False))
        parts.append((inside[0], inside[1], True))
        cursor = inside[1]
    if cursor < end:
        parts.append((cursor, end, False))
    return parts
