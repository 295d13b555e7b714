"""The figures the database works out, against the same figures worked out the plain way.

A seeded, varied set of appointments over October 2027 to March 2028 (both clock changes, a
New Year, appointments minutes either side of local midnight at month ends, waits to the
microsecond, and many equal waits in whole and half hours and twentieths of an hour, whose
medians and percentiles fall on or half-way between tenths of an hour), their messages, and
overlapping shifts. Every figure
of `booking.reports.build` must equal what a straightforward pass over the rows in Python
gives: counts one appointment at a time, medians and percentiles from the statistics module,
cover from the union of the shifts.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections import defaultdict

import pytest
from sqlalchemy import select

from booking.clock import LONDON
from booking.extensions import db
from booking.models import Block, Booking, Message, Shift, Worker
from booking.reports import figures as reports
from booking.sms.outbox import OPTED_OUT

START, END = dt.date(2027, 10, 1), dt.date(2028, 3, 31)
NOW = dt.datetime(2028, 2, 15, 12, 0, tzinfo=LONDON).astimezone(dt.UTC)
STATUSES = ["booked", "attended", "left_early", "did_not_attend", "cancelled"]
REQUIREMENTS = ["initial", "follow_up", "voluntary"]
MESSAGE_STATUSES = ["pending", "sent", "delivered", "failed", "cancelled", "skipped"]


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON).astimezone(dt.UTC)


def appointment_times(rng: random.Random) -> list[dt.datetime]:
    """Mostly anywhere in (and just outside) the period; some a minute either side of local
    midnight at the start of a month, and some in the hours the clocks change."""
    edges = [
        local(2027, 10, 1),
        local(2027, 11, 1),
        local(2027, 12, 1),
        local(2028, 1, 1),
        local(2028, 2, 1),
        local(2028, 3, 1),
        local(2028, 4, 1),
    ]
    changes = [local(2027, 10, 31, 0, 30), local(2028, 3, 26, 0, 30)]
    first, last = local(2027, 9, 28), local(2028, 4, 3)
    times = []
    for _ in range(360):
        kind = rng.random()
        if kind < 0.15:
            times.append(rng.choice(edges) + dt.timedelta(minutes=rng.choice([-30, -1, 0, 1, 30])))
        elif kind < 0.25:
            times.append(rng.choice(changes) + dt.timedelta(minutes=30 * rng.randrange(8)))
        else:
            span = (last - first).total_seconds()
            times.append(first + dt.timedelta(seconds=rng.randrange(int(span))))
    return times


def wait(rng: random.Random) -> dt.timedelta:
    """Whole hours and half hours often (equal waits, exact halves), else any length to the
    microsecond."""
    kind = rng.random()
    if kind < 0.4:
        return dt.timedelta(minutes=30 * rng.randint(1, 200))
    if kind < 0.6:
        return dt.timedelta(minutes=3 * rng.randint(1, 2000))  # a twentieth of an hour
    return dt.timedelta(seconds=rng.randint(60, 40 * 24 * 3600), microseconds=rng.randrange(10**6))


def make_generated_set(seed: int) -> None:
    rng = random.Random(seed)
    blocks = list(db.session.scalars(select(Block).order_by(Block.code)))
    workers = list(db.session.scalars(select(Worker).order_by(Worker.id)))
    for n, starts_at in enumerate(appointment_times(rng), start=1):
        status = rng.choice(STATUSES)
        booking = Booking(
            reference=f"GEN{n:05d}",
            status=status,
            block=rng.choice(blocks),
            arrest_block=rng.choice(blocks),
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=30),
            sms_consent=True,
            requirement=rng.choice(REQUIREMENTS),
            test_result="cocaine",
            tested_at=starts_at - wait(rng),
            notice_version=rng.choice([1, 1, 1, 2, 3]),
            created_at=starts_at - dt.timedelta(days=2),
            updated_at=starts_at - dt.timedelta(days=2),
        )
        if status in ("left_early", "did_not_attend") and rng.random() < 0.5:
            booking.police_informed_at = starts_at + dt.timedelta(hours=2)
        db.session.add(booking)
        for i in range(rng.randrange(5)):
            message_status = rng.choice(MESSAGE_STATUSES)
            accepted = message_status in ("sent", "delivered") or (
                message_status == "failed" and rng.random() < 0.5
            )
            reason = None
            if message_status == "skipped":
                reason = rng.choice([OPTED_OUT, "The person did not agree to text messages"])
            db.session.add(
                Message(
                    booking=booking,
                    kind="confirmation",
                    send_at=booking.created_at,
                    due_at=booking.created_at,
                    appointment_at=starts_at,
                    status=message_status,
                    skip_reason=reason,
                    provider_id=f"SMGEN{n:05d}{i}" if accepted else None,
                    created_at=booking.created_at,
                )
            )
    # Shifts that overlap one another, cross midnight, a month's end and the clock changes.
    day = local(2027, 9, 30, 0, 0)
    while day < local(2028, 4, 2):
        for worker in rng.sample(workers, 3):
            starts_at = day + dt.timedelta(minutes=30 * rng.randrange(48))
            db.session.add(
                Shift(
                    worker=worker,
                    block=worker.home_block,
                    starts_at=starts_at,
                    ends_at=starts_at + dt.timedelta(minutes=30 * rng.randint(2, 26)),
                    generated=False,
                )
            )
        day += dt.timedelta(days=1)
    db.session.commit()


# The plain way -------------------------------------------------------------------------------


def expected(block_code: str | None, block_by: str) -> dict:
    """{"total": ..., "by_block": {...}, "by_month": {...}, "rows": {...}}, each as_dict()."""
    first = local(START.year, START.month, START.day)
    after = local(2028, 4, 1)
    codes = {b.id: b.code for b in db.session.scalars(select(Block))}
    included = sorted(code for code in codes.values() if not block_code or code == block_code)
    months = ["2027-10", "2027-11", "2027-12", "2028-01", "2028-02", "2028-03"]
    keys = {"total": [()], "by_block": included, "by_month": months}
    keys["rows"] = [(code, month) for code in included for month in months]
    counts = {group: {key: defaultdict(int) for key in keys[group]} for group in keys}
    waits = {group: {key: [] for key in keys[group]} for group in keys}

    def groups_of(code: str, month: str):
        return [("total", ()), ("by_block", code), ("by_month", month), ("rows", (code, month))]

    for booking in db.session.scalars(select(Booking)):
        if not first <= booking.starts_at < after:
            continue
        grouped = booking.arrest_block if block_by == reports.BY_ARREST_BLOCK else booking.block
        if grouped.code not in included:
            continue
        month = booking.starts_at.astimezone(LONDON).strftime("%Y-%m")
        for group, key in groups_of(grouped.code, month):
            figures = counts[group][key]
            figures["bookings"] += 1
            figures[booking.requirement] += 1
            if booking.status == "booked":
                figures["awaiting_outcome"] += booking.starts_at < NOW
            else:
                figures[booking.status] += 1
            if booking.status in ("left_early", "did_not_attend"):
                figures["police_to_inform"] += 1
                figures["police_informed"] += booking.police_informed_at is not None
            figures["rearranged"] += booking.notice_version > 1
            required = booking.requirement in ("initial", "follow_up")
            figures["required_requested"] += required and booking.status != "cancelled"
            figures["required_completed"] += required and booking.status == "attended"
            figures["voluntary_assessments"] += (
                booking.requirement == "voluntary" and booking.status == "attended"
            )
            figures["engaged"] += booking.status in ("attended", "left_early")
            if booking.status != "cancelled":
                figures["other_block"] += booking.block_id != booking.arrest_block_id
                if booking.requirement != "follow_up":
                    hours = (booking.starts_at - booking.tested_at).total_seconds() / 3600
                    waits[group][key].append(hours)
            for message in booking.messages:
                figures["sms_sent"] += message.provider_id is not None
                figures["sms_delivered"] += message.status == "delivered"
                figures["sms_failed"] += message.status == "failed"
                figures["sms_opted_out"] += message.skip_reason == OPTED_OUT

    cover = covered_hours(included, months, first, after)
    result = {}
    for group in keys:
        result[group] = {}
        for key in keys[group]:
            figures = counts[group][key]
            concluded = figures["attended"] + figures["left_early"] + figures["did_not_attend"]
            live = figures["bookings"] - figures["cancelled"]
            values = sorted(waits[group][key])
            covered = sum(
                hours
                for (code, month), hours in cover.items()
                if group == "total"
                or (group == "by_block" and code == key)
                or (group == "by_month" and month == key)
                or (group == "rows" and (code, month) == key)
            )
            whole = sum(
                hours
                for (code, month), hours in month_hours(included, months).items()
                if group == "total"
                or (group == "by_block" and code == key)
                or (group == "by_month" and month == key)
                or (group == "rows" and (code, month) == key)
            )
            result[group][key] = {
                **{name: figures[name] for name in COUNTS},
                "attendance_rate": round(figures["attended"] / concluded, 3) if concluded else None,
                "other_block_share": round(figures["other_block"] / live, 3) if live else None,
                "median_hours_to_appointment": (
                    round(statistics.median(values), 1) if values else None
                ),
                "p90_hours_to_appointment": p90(values),
                "cover_hours": round(covered, 1),
                "gap_hours": round(whole - covered, 1),
                # No court work, nothing on site and no pathways here: their own tests count
                # them (tests/reports/test_court_figures.py for the court work).
                **dict.fromkeys(COURT_WORK + ON_SITE + PATHWAY, 0),
                "non_conversion": dict.fromkeys(NON_CONVERSION_REASONS, 0),
                "drr_granted_share": None,
                "atr_granted_share": None,
            }
    result["total"] = result["total"][()]
    return result


COURT_WORK = [
    "suitability_requested",
    "suitability_completed",
    "suitability_adjournments",
    "suitable_drr",
    "suitable_atr",
    "drr_made",
    "atr_made",
    "drr_granted",
    "atr_granted",
]
ON_SITE = ["on_site_required", "on_site_voluntary", "contacts"]
PATHWAY = ["referrals", "entries", "cases_closed", "naloxone_issued", "harm_reduction_given"]
NON_CONVERSION_REASONS = [
    "did_not_attend",
    "declined",
    "unable_to_contact",
    "moved_away",
    "custody",
    "provider_declined",
    "died",
    "already_in_treatment",
    "other",
]
COUNTS = [
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
    "police_to_inform",
    "police_informed",
    "other_block",
    "sms_sent",
    "sms_delivered",
    "sms_failed",
    "sms_opted_out",
    "required_requested",
    "required_completed",
    "voluntary_assessments",
    "engaged",
]


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=10, method="inclusive")[-1], 1)


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    year, number = map(int, month.split("-"))
    following = (year + number // 12, number % 12 + 1)
    return local(year, number, 1), local(*following, 1)


def month_hours(included: list[str], months: list[str]) -> dict[tuple, float]:
    hours = {}
    for month in months:
        starts_at, ends_at = month_bounds(month)
        for code in included:
            hours[(code, month)] = (ends_at - starts_at).total_seconds() / 3600
    return hours


def covered_hours(included, months, first, after) -> dict[tuple, float]:
    """Hours of each month in the union of each block's shifts, counted minute by minute."""
    minutes = defaultdict(set)
    for shift in db.session.scalars(select(Shift)):
        if shift.block.code not in included:
            continue
        instant = max(shift.starts_at, first)
        while instant < min(shift.ends_at, after):
            minutes[shift.block.code].add(instant)
            instant += dt.timedelta(minutes=1)
    hours = {(code, month): 0.0 for code in included for month in months}
    for code, covered in minutes.items():
        for instant in covered:
            hours[(code, instant.astimezone(LONDON).strftime("%Y-%m"))] += 1 / 60
    return hours


def as_dicts(report: reports.Report) -> dict:
    return {
        "total": report.total.as_dict(),
        "by_block": {key: f.as_dict() for key, f in report.by_block.items()},
        "by_month": {key: f.as_dict() for key, f in report.by_month.items()},
        "rows": {key: f.as_dict() for key, f in report.rows.items()},
    }


@pytest.fixture
def generated(team):
    make_generated_set(seed=2027)


@pytest.mark.parametrize(
    "block_code, block_by",
    [
        (None, reports.BY_APPOINTMENT_BLOCK),
        (None, reports.BY_ARREST_BLOCK),
        ("perry-barr", reports.BY_APPOINTMENT_BLOCK),
        ("oldbury", reports.BY_ARREST_BLOCK),
    ],
)
def test_every_figure_equals_the_plain_computation_over_a_varied_set(
    generated, block_code, block_by
):
    report = reports.build(START, END, NOW, block_code, block_by)
    assert as_dicts(report) == expected(block_code, block_by)


def test_the_generated_set_has_the_cases_it_is_for(generated):
    """Equal waits and waits to the microsecond: without them the comparison above would
    prove less."""
    report = reports.build(START, END, NOW)
    waits = [
        (b.starts_at - b.tested_at)
        for b in db.session.scalars(select(Booking))
        if b.status != "cancelled" and b.requirement != "follow_up"
    ]
    assert len(waits) != len(set(waits))
    assert any(w.microseconds for w in waits)
    assert report.total.bookings > 250
    # Every requirement meets every outcome, so the assessment figures leave some out.
    total = report.total
    required = total.initial + total.follow_up
    assert 0 < total.required_completed < total.required_requested < required
    assert 0 < total.voluntary_assessments < total.voluntary
    assert sum(f.bookings for f in report.by_month.values()) == report.total.bookings
