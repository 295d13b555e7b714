"""The commissioner's figures: counts over appointments, per block and month.

Only non-identifying fields are read (status, times, blocks, requirement, message statuses),
so the figures stay the same after the retention purge, and no row carries personal data.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from sqlalchemy import case, func, select

from .clock import LONDON
from .extensions import db
from .models import Block, Booking, BookingStatus, Message, MessageStatus, Requirement, Shift
from .outbox import OPTED_OUT

OUTCOME_STATUSES = (BookingStatus.ATTENDED, BookingStatus.LEFT_EARLY, BookingStatus.DID_NOT_ATTEND)
BY_APPOINTMENT_BLOCK = "appointment"
BY_ARREST_BLOCK = "arrest"


@dataclass
class Figures:
    """The figures for one set of appointments (a block, a month, or everything)."""

    bookings: int = 0
    initial: int = 0
    follow_up: int = 0
    voluntary: int = 0
    attended: int = 0
    left_early: int = 0
    did_not_attend: int = 0
    cancelled: int = 0
    rearranged: int = 0
    awaiting_outcome: int = 0
    police_to_inform: int = 0
    police_informed: int = 0
    other_block: int = 0
    sms_sent: int = 0
    sms_delivered: int = 0
    sms_failed: int = 0
    sms_opted_out: int = 0
    cover_hours: float = 0.0
    gap_hours: float = 0.0
    hours_to_appointment: list[float] = field(default_factory=list, repr=False)

    @property
    def attendance_rate(self) -> float | None:
        concluded = self.attended + self.left_early + self.did_not_attend
        return round(self.attended / concluded, 3) if concluded else None

    @property
    def other_block_share(self) -> float | None:
        live = self.bookings - self.cancelled
        return round(self.other_block / live, 3) if live else None

    @property
    def median_hours_to_appointment(self) -> float | None:
        if not self.hours_to_appointment:
            return None
        return round(statistics.median(self.hours_to_appointment), 1)

    @property
    def p90_hours_to_appointment(self) -> float | None:
        values = sorted(self.hours_to_appointment)
        if not values:
            return None
        if len(values) == 1:
            return round(values[0], 1)
        return round(statistics.quantiles(values, n=10, method="inclusive")[-1], 1)

    def as_dict(self) -> dict:
        figures = asdict(self)
        figures.pop("hours_to_appointment")
        figures["cover_hours"] = round(self.cover_hours, 1)
        figures["gap_hours"] = round(self.gap_hours, 1)
        figures["attendance_rate"] = self.attendance_rate
        figures["other_block_share"] = self.other_block_share
        figures["median_hours_to_appointment"] = self.median_hours_to_appointment
        figures["p90_hours_to_appointment"] = self.p90_hours_to_appointment
        return figures


@dataclass
class Report:
    start: dt.date
    end: dt.date
    block_code: str | None
    block_by: str
    total: Figures
    by_block: dict[str, Figures]
    by_month: dict[str, Figures]
    # One row per block and month, for the CSV.
    rows: dict[tuple[str, str], Figures]


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Local midnight at the start of `start` to local midnight after `end`, in UTC."""
    first = dt.datetime.combine(start, dt.time(0), tzinfo=LONDON).astimezone(dt.UTC)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON)
    return first, after.astimezone(dt.UTC)


def _month(instant: dt.datetime) -> str:
    return instant.astimezone(LONDON).strftime("%Y-%m")


def build(
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    block_code: str | None = None,
    block_by: str = BY_APPOINTMENT_BLOCK,
) -> Report:
    """Figures over appointments starting between `start` and `end` (inclusive, local dates)."""
    first, after = _bounds(start, end)
    blocks = {b.id: b for b in db.session.scalars(select(Block).order_by(Block.code))}
    block_column = Booking.arrest_block_id if block_by == BY_ARREST_BLOCK else Booking.block_id
    chosen = [b.id for b in blocks.values() if b.code == block_code] if block_code else None

    conditions = [Booking.starts_at >= first, Booking.starts_at < after]
    if chosen is not None:
        conditions.append(block_column.in_(chosen))

    total = Figures()
    by_block: dict[str, Figures] = defaultdict(Figures)
    by_month: dict[str, Figures] = defaultdict(Figures)
    rows: dict[tuple[str, str], Figures] = defaultdict(Figures)

    bookings = db.session.execute(
        select(
            Booking.id,
            block_column,
            Booking.block_id,
            Booking.arrest_block_id,
            Booking.status,
            Booking.requirement,
            Booking.notice_version,
            Booking.starts_at,
            Booking.tested_at,
            Booking.police_informed_at.is_not(None),
        ).where(*conditions)
    ).all()
    group_of: dict[int, list[Figures]] = {}
    for (
        booking_id,
        grouped_block_id,
        block_id,
        arrest_block_id,
        status,
        requirement,
        notice_version,
        starts_at,
        tested_at,
        informed,
    ) in bookings:
        code = blocks[grouped_block_id].code
        month = _month(starts_at)
        groups = [total, by_block[code], by_month[month], rows[(code, month)]]
        group_of[booking_id] = groups
        for figures in groups:
            figures.bookings += 1
            if requirement == Requirement.INITIAL:
                figures.initial += 1
            elif requirement == Requirement.FOLLOW_UP:
                figures.follow_up += 1
            else:
                figures.voluntary += 1
            if status == BookingStatus.CANCELLED:
                figures.cancelled += 1
            elif status == BookingStatus.BOOKED:
                if starts_at < now:
                    figures.awaiting_outcome += 1
            else:
                setattr(figures, status, getattr(figures, status) + 1)
            if status in (BookingStatus.LEFT_EARLY, BookingStatus.DID_NOT_ATTEND):
                figures.police_to_inform += 1
                figures.police_informed += bool(informed)
            if notice_version > 1:
                figures.rearranged += 1
            if status != BookingStatus.CANCELLED:
                figures.other_block += block_id != arrest_block_id
                # A follow-up keeps its initial assessment's test time: its wait is not one.
                if requirement != Requirement.FOLLOW_UP:
                    figures.hours_to_appointment.append(
                        (starts_at - tested_at).total_seconds() / 3600
                    )

    if group_of:
        _add_messages(group_of, conditions)
    _add_cover(blocks, chosen, first, after, total, by_block, by_month, rows)
    return Report(
        start, end, block_code, block_by, total, dict(by_block), dict(by_month), dict(rows)
    )


def _add_messages(group_of: dict[int, list[Figures]], conditions) -> None:
    sent = Message.provider_id.is_not(None)
    counts = db.session.execute(
        select(
            Message.booking_id,
            func.sum(case((sent, 1), else_=0)),
            func.sum(case((Message.status == MessageStatus.DELIVERED, 1), else_=0)),
            func.sum(case((Message.status == MessageStatus.FAILED, 1), else_=0)),
            func.sum(case((Message.skip_reason == OPTED_OUT, 1), else_=0)),
        )
        .join(Booking)
        .where(*conditions)
        .group_by(Message.booking_id)
    ).all()
    for booking_id, n_sent, delivered, failed, opted_out in counts:
        for figures in group_of[booking_id]:
            figures.sms_sent += n_sent or 0
            figures.sms_delivered += delivered or 0
            figures.sms_failed += failed or 0
            figures.sms_opted_out += opted_out or 0


def _add_cover(blocks, chosen, first, after, total, by_block, by_month, rows) -> None:
    """Hours with a worker on site, and hours without (the out-of-hours gaps), per block."""
    included = chosen if chosen is not None else list(blocks)
    shifts = db.session.execute(
        select(Shift.block_id, Shift.starts_at, Shift.ends_at)
        .where(Shift.block_id.in_(included), Shift.starts_at < after, Shift.ends_at > first)
        .order_by(Shift.block_id, Shift.starts_at)
    ).all()
    intervals: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for block_id, starts_at, ends_at in shifts:
        intervals[block_id].append((max(starts_at, first), min(ends_at, after)))
    for block_id in included:
        code = blocks[block_id].code
        for month, covered, whole in _hours_by_month(intervals[block_id], first, after):
            gap = whole - covered
            for figures in (total, by_block[code], by_month[month], rows[(code, month)]):
                figures.cover_hours += covered
                figures.gap_hours += gap


def _hours_by_month(intervals, first: dt.datetime, after: dt.datetime):
    """(month, hours covered by the union of intervals, hours in the month) for each month."""
    merged: list[list[dt.datetime]] = []
    for starts_at, ends_at in sorted(intervals):
        if merged and starts_at <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], ends_at)
        else:
            merged.append([starts_at, ends_at])
    month_start = first
    while month_start < after:
        local = month_start.astimezone(LONDON)
        next_local = (local.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        month_end = min(
            dt.datetime.combine(next_local.date(), dt.time(0), tzinfo=LONDON).astimezone(dt.UTC),
            after,
        )
        covered = sum(
            (min(e, month_end) - max(s, month_start)).total_seconds()
            for s, e in merged
            if s < month_end and e > month_start
        )
        whole = (month_end - month_start).total_seconds()
        yield _month(month_start), covered / 3600, whole / 3600
        month_start = month_end


CSV_COLUMNS = [
    "block",
    "month",
    "bookings",
    "initial",
    "follow_up",
    "voluntary",
    "attended",
    "left_early",
    "did_not_attend",
    "cancelled",
    "rearranged",
    "awaiting_outcome",
    "attendance_rate",
    "police_to_inform",
    "police_informed",
    "median_hours_to_appointment",
    "p90_hours_to_appointment",
    "other_block",
    "other_block_share",
    "sms_sent",
    "sms_delivered",
    "sms_failed",
    "sms_opted_out",
    "cover_hours",
    "gap_hours",
]


def csv_rows(report: Report) -> list[dict]:
    """One row per block and month, in the CSV's column order."""
    rows = []
    for (code, month), figures in sorted(report.rows.items()):
        values = figures.as_dict() | {"block": code, "month": month}
        rows.append({column: values[column] for column in CSV_COLUMNS})
    return rows
