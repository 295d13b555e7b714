"""The cover picture: when a worker was on site at each block, where the gaps were, and how
many out-of-hours bookings each gap produced.

Days are local days: 07:00-20:00 stays 07:00-20:00 on the wall clock when the clocks change,
and the day itself lasts 23 or 25 hours. The clock is Wednesday 13 January 2027, 21:00 unless
a test moves it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from booking.appointments import bookings
from booking.extensions import db
from booking.models import Block, Booking, Role, Shift
from booking.rota.changes import record_absence, remove_shift
from booking.rota.picture import DAYTIME, block_day, cover_picture, monday_of, week_dates
from tests import support
from tests.support import fill_rota, local

WEEK = dt.date(2027, 1, 11)  # Monday
WEDNESDAY = dt.date(2027, 1, 13)
THURSDAY = dt.date(2027, 1, 14)
# Good Friday is 26 March 2027; the clocks go forward on Sunday 28 March.
SPRING_WEEK = dt.date(2027, 3, 22)
GOOD_FRIDAY = dt.date(2027, 3, 26)
SPRING_SUNDAY = dt.date(2027, 3, 28)
# The clocks go back on Sunday 31 October 2027.
AUTUMN_WEEK = dt.date(2027, 10, 25)
AUTUMN_SUNDAY = dt.date(2027, 10, 31)


def walls(intervals) -> list[tuple[str, str]]:
    """Intervals as local wall-clock times; the next midnight reads 24:00."""
    return [
        (
            f"{interval.starts:%H:%M}",
            "24:00" if interval.ends.date() > interval.starts.date() else f"{interval.ends:%H:%M}",
        )
        for interval in intervals
    ]


def book(user, block: str, starts_at: dt.datetime, now: dt.datetime, **changes) -> Booking:
    """A booking through the one write path; the test's time and place are what count here."""
    person = dict(
        custody_record="20/555555/27",
        person_name="Casey Example",
        mobile=None,
        sms_consent=False,
        tested_at=now - dt.timedelta(hours=1),
    )
    return support.book(user, block, starts_at, now, **{**person, **changes})


@pytest.fixture
def coordinator(users):
    return users[Role.COORDINATOR]


def test_the_week_runs_monday_to_sunday_whatever_day_is_asked_for():
    assert monday_of(dt.date(2027, 1, 17)) == WEEK
    assert monday_of(WEEK) == WEEK
    assert week_dates(WEEK)[-1] == dt.date(2027, 1, 17)


def test_a_rostered_weekday_is_covered_07_to_20_and_its_nights_are_out_of_hours(rostered):
    picture = cover_picture(WEEK)
    thursday = picture.day("stechford", THURSDAY)

    assert walls(thursday.covered) == [("07:00", "20:00")]
    assert walls(thursday.gaps) == [("00:00", "07:00"), ("20:00", "24:00")]
    assert [gap.unfilled for gap in thursday.gaps] == [False, False]
    assert thursday.hours_covered == 13
    assert thursday.hours_of_gap == 11
    assert thursday.hours_unfilled == 0
    assert thursday.day_hours == 24 and not thursday.clocks_change


def test_a_block_without_weekend_rules_has_no_planned_cover_on_saturday(rostered):
    picture = cover_picture(WEEK)
    assert picture.day("stechford", dt.date(2027, 1, 16)).covered == []
    assert picture.day("stechford", dt.date(2027, 1, 16)).hours_unfilled == 0
    assert walls(picture.day("perry-barr", dt.date(2027, 1, 16)).covered) == [("07:00", "20:00")]


def test_planned_cover_with_nobody_rostered_is_an_unfilled_gap(team):
    # No rota at all this week: every cover window is a gap in planned cover.
    monday = cover_picture(WEEK).day("coventry", WEEK)

    assert walls(monday.gaps) == [("00:00", "07:00"), ("07:00", "20:00"), ("20:00", "24:00")]
    assert [gap.unfilled for gap in monday.gaps] == [False, True, False]
    assert walls(monday.unfilled) == [("07:00", "20:00")]
    assert monday.hours_unfilled == 13


def test_a_removed_shift_leaves_an_unfilled_gap(rostered, coordinator, clock):
    shift = db.session.scalar(
        select(Shift)
        .join(Block)
        .where(Block.code == "oldbury", Shift.starts_at == local(2027, 1, 14, 7))
    )
    remove_shift(shift, now=clock(), by=coordinator)
    db.session.commit()

    thursday = cover_picture(WEEK).day("oldbury", THURSDAY)
    assert thursday.covered == []
    assert walls(thursday.unfilled) == [("07:00", "20:00")]


def test_a_part_day_absence_leaves_a_gap_between_what_is_left_of_the_shift(
    rostered, coordinator, clock
):
    worker = db.session.scalar(
        select(Shift)
        .join(Block)
        .where(Block.code == "bloxwich", Shift.starts_at == local(2027, 1, 14, 7))
    ).worker
    record_absence(
        worker,
        "leave",
        local(2027, 1, 14, 10),
        local(2027, 1, 14, 12, 30),
        now=clock(),
        by=coordinator,
    )
    db.session.commit()

    thursday = cover_picture(WEEK).day("bloxwich", THURSDAY)
    assert walls(thursday.covered) == [("07:00", "10:00"), ("12:30", "20:00")]
    assert walls(thursday.unfilled) == [("10:00", "12:30")]
    assert thursday.hours_unfilled == 2.5
    assert thursday.hours_covered == 10.5


def test_overlapping_and_touching_shifts_count_once(blocks):
    block = blocks["perry-barr"]
    shifts = [
        (local(2027, 1, 14, 7), local(2027, 1, 14, 14)),
        (local(2027, 1, 14, 12), local(2027, 1, 14, 16)),
        (local(2027, 1, 14, 16), local(2027, 1, 14, 20)),
    ]
    thursday = block_day(block, THURSDAY, shifts, [])
    assert walls(thursday.covered) == [("07:00", "20:00")]
    assert thursday.hours_covered == 13


def test_each_gap_counts_the_bookings_for_people_tested_there_while_nobody_was_on_site(
    rostered, coordinator, clock
):
    now = clock()
    slot = local(2027, 1, 14, 10)
    # Tested at Stechford after cover ended on Wednesday evening, and in the night before.
    book(coordinator, "stechford", slot, now, tested_at=local(2027, 1, 13, 20, 30))
    cancelled = book(coordinator, "oldbury", slot, now, tested_at=local(2027, 1, 13, 20, 45))
    bookings.cancel(cancelled, "Remanded in custody", by=coordinator, now=now)
    db.session.commit()
    book(coordinator, "bloxwich", slot, now, tested_at=local(2027, 1, 13, 3, 15))
    # Tested while a worker was on site: not produced by a gap.
    book(coordinator, "coventry", slot, now, tested_at=local(2027, 1, 13, 12, 0))
    # Arrested elsewhere: counts there, not at Stechford.
    book(
        coordinator,
        "perry-barr",
        slot,
        now,
        tested_at=local(2027, 1, 13, 20, 0),  # the moment cover ended
        arrest_block="perry-barr",
    )
    # A follow-up is booked by the worker at the initial assessment, not because of a gap.
    book(
        coordinator,
        "wolverhampton",
        slot,
        now,
        tested_at=local(2027, 1, 13, 20, 10),
        requirement="follow_up",
    )

    picture = cover_picture(WEEK)
    wednesday = picture.day("stechford", WEDNESDAY)
    assert [(gap.bookings, gap.unfilled) for gap in wednesday.gaps] == [(1, False), (2, False)]
    assert wednesday.bookings == 3
    assert picture.day("perry-barr", WEDNESDAY).bookings == 1
    assert picture.day("stechford", THURSDAY).bookings == 0
    stechford = next(week for week in picture.blocks if week.block.code == "stechford")
    assert stechford.bookings == 3


def test_the_daytime_view_looks_at_07_to_20_only(rostered, coordinator, clock):
    book(
        coordinator,
        "stechford",
        local(2027, 1, 14, 10),
        clock(),
        tested_at=local(2027, 1, 13, 20, 30),
    )
    picture = cover_picture(WEEK, view=DAYTIME)
    wednesday = picture.day("stechford", WEDNESDAY)

    assert wednesday.hours == 13
    assert walls(wednesday.covered) == [("07:00", "20:00")]
    assert wednesday.gaps == []
    assert wednesday.bookings == 0  # the evening gap is outside the hours looked at
    assert walls(picture.day("stechford", dt.date(2027, 1, 16)).gaps) == [("07:00", "20:00")]


@pytest.fixture
def spring_rota(team, users, clock):
    clock.set_local(2027, 3, 15, 12, 0)
    fill_rota(SPRING_WEEK, 7)


def test_cover_stays_07_to_20_local_on_the_23_hour_day_the_clocks_go_forward(spring_rota):
    sunday = cover_picture(SPRING_WEEK).day("perry-barr", SPRING_SUNDAY)

    assert sunday.day_hours == 23 and sunday.clocks_change
    assert walls(sunday.covered) == [("07:00", "20:00")]
    assert sunday.covered[0].starts_at == dt.datetime(2027, 3, 28, 6, 0, tzinfo=dt.UTC)
    assert sunday.hours_covered == 13
    assert walls(sunday.gaps) == [("00:00", "07:00"), ("20:00", "24:00")]
    assert [gap.hours for gap in sunday.gaps] == [6, 4]
    assert sunday.hours_of_gap == 10


def test_good_friday_is_marked_and_follows_the_sunday_rules(spring_rota):
    picture = cover_picture(SPRING_WEEK)
    good_friday = picture.day("perry-barr", GOOD_FRIDAY)

    assert good_friday.bank_holiday == "Good Friday"
    assert walls(good_friday.covered) == [("07:00", "20:00")]
    # Stechford has no weekend cover, so none is planned on a bank holiday either.
    stechford = picture.day("stechford", GOOD_FRIDAY)
    assert stechford.covered == [] and stechford.hours_unfilled == 0
    assert picture.day("stechford", SPRING_WEEK).bank_holiday is None


def test_a_test_in_the_night_the_clocks_go_forward_counts_in_that_nights_gap(
    spring_rota, coordinator, clock
):
    clock.set_local(2027, 3, 28, 5, 0)
    book(
        coordinator,
        "perry-barr",
        local(2027, 3, 28, 9),
        clock(),
        tested_at=local(2027, 3, 28, 0, 30),
        arrest_block="perry-barr",
    )
    sunday = cover_picture(SPRING_WEEK).day("perry-barr", SPRING_SUNDAY)
    assert [(walls([gap]), gap.bookings) for gap in sunday.gaps] == [
        ([("00:00", "07:00")], 1),
        ([("20:00", "24:00")], 0),
    ]


def test_cover_stays_07_to_20_local_on_the_25_hour_day_the_clocks_go_back(team, users, clock):
    clock.set_local(2027, 10, 18, 12, 0)
    fill_rota(AUTUMN_WEEK, 7)
    sunday = cover_picture(AUTUMN_WEEK).day("coventry", AUTUMN_SUNDAY)

    assert sunday.day_hours == 25
    assert walls(sunday.covered) == [("07:00", "20:00")]
    assert sunday.covered[0].starts_at == dt.datetime(2027, 10, 31, 7, 0, tzinfo=dt.UTC)
    assert sunday.hours_covered == 13
    assert [gap.hours for gap in sunday.gaps] == [8, 4]
