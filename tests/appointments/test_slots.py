"""Free slots: a local grid inside rostered time, the booking window and the disputed rule."""

from __future__ import annotations

import datetime as dt

import pytest

from booking.appointments.slots import (
    SlotRules,
    earliest_allowed,
    find_slot,
    free_slots,
    grid_starts,
)
from booking.clock import LONDON
from booking.extensions import db
from booking.models import CoverRule, Role, Shift
from booking.places import distance_km
from booking.workdays import is_working_day, nth_working_day_after
from tests.support import book, fill_rota, local, on_site, utc

RULES = SlotRules()
HALF_AN_HOUR = dt.timedelta(minutes=30)
HOUR = dt.timedelta(hours=1)
BLOCK_CODES = ["bloxwich", "coventry", "oldbury", "perry-barr", "stechford", "wolverhampton"]


def wall(instant: dt.datetime) -> tuple[dt.date, dt.time]:
    there = instant.astimezone(LONDON)
    return there.date(), there.time()


@pytest.fixture
def week(team):
    """The rota from Thursday 14 to Wednesday 20 January 2027 (the clock: Wed 13, 21:00)."""
    fill_rota(dt.date(2027, 1, 14), 7)


def stechford_on(day: dt.date, rules: SlotRules, now: dt.datetime):
    start = local(day.year, day.month, day.day)
    return free_slots(
        rules,
        now,
        after=start,
        before=start + dt.timedelta(days=1),
        block_codes=["stechford"],
        limit=100,
    )


def test_the_rules_default_to_the_interface_contract(app):
    assert SlotRules.from_config(app.config) == SlotRules(
        slot_minutes=30, min_lead_minutes=60, max_days_ahead=28, disputed_working_days=5
    )


def test_slots_are_earliest_first_then_by_block_code(week, clock):
    slots = free_slots(RULES, clock(), limit=8)
    assert [(s.starts_at, s.block.code) for s in slots] == [
        *((utc(2027, 1, 14, 7), code) for code in BLOCK_CODES),
        (utc(2027, 1, 14, 7, 30), "bloxwich"),
        (utc(2027, 1, 14, 7, 30), "coventry"),
    ]
    for slot in slots:
        assert slot.ends_at - slot.starts_at == HALF_AN_HOUR
        assert slot.free == 1


def test_slots_starting_together_come_nearest_to_the_arrest_block_first(team, clock):
    clock.set_local(2027, 1, 16, 2, 0)  # Saturday, 2 a.m.: only the busy blocks have cover
    fill_rota(dt.date(2027, 1, 16), 1)
    slots = free_slots(RULES, clock(), limit=3, near="stechford")
    # Perry Barr is about 6 km from Stechford, Oldbury 13 km and Coventry 22 km.
    assert [(wall(s.starts_at), s.block.code) for s in slots] == [
        ((dt.date(2027, 1, 16), dt.time(7)), "perry-barr"),
        ((dt.date(2027, 1, 16), dt.time(7)), "oldbury"),
        ((dt.date(2027, 1, 16), dt.time(7)), "coventry"),
    ]
    from_coventry = free_slots(RULES, clock(), limit=3, near="coventry")
    assert [s.block.code for s in from_coventry] == ["coventry", "perry-barr", "oldbury"]


def test_a_limit_that_cuts_a_tie_keeps_the_nearest(week, clock):
    slots = free_slots(RULES, clock(), limit=2, near="wolverhampton")
    # Thursday 07:00 at all six blocks: Wolverhampton itself, then Bloxwich (10 km).
    assert [s.block.code for s in slots] == ["wolverhampton", "bloxwich"]
    assert {s.starts_at for s in slots} == {utc(2027, 1, 14, 7)}


def test_without_an_arrest_block_ties_stay_in_block_code_order(team, clock):
    clock.set_local(2027, 1, 16, 2, 0)
    fill_rota(dt.date(2027, 1, 16), 1)
    assert [s.block.code for s in free_slots(RULES, clock(), limit=3)] == [
        "coventry",
        "oldbury",
        "perry-barr",
    ]


def test_the_block_distances_are_the_real_ones():
    assert distance_km("stechford", "stechford") == 0
    assert 5 < distance_km("stechford", "perry-barr") < 8
    assert 20 < distance_km("stechford", "coventry") < 25
    assert distance_km("stechford", "perry-barr") == distance_km("perry-barr", "stechford")
    assert distance_km("stechford", "nowhere") is None


def test_no_slot_starts_sooner_than_the_minimum_lead(week, clock):
    clock.set_local(2027, 1, 14, 10, 10)
    assert free_slots(RULES, clock(), limit=1)[0].starts_at == local(2027, 1, 14, 11, 30)
    clock.set_local(2027, 1, 14, 10, 0)
    assert free_slots(RULES, clock(), limit=1)[0].starts_at == local(2027, 1, 14, 11, 0)


def test_the_minimum_lead_comes_from_the_rules(week, clock):
    clock.set_local(2027, 1, 14, 10, 0)
    three_hours = SlotRules(min_lead_minutes=180)
    assert free_slots(three_hours, clock(), limit=1)[0].starts_at == local(2027, 1, 14, 13, 0)


def test_no_slot_is_offered_beyond_the_maximum_days_ahead(team, clock):
    clock.set_local(2027, 1, 13, 10, 0)
    fill_rota(dt.date(2027, 2, 10), 2)
    slots = free_slots(
        RULES, clock(), after=local(2027, 2, 10), block_codes=["stechford"], limit=100
    )
    # Exactly 28 days ahead is the last start offered.
    assert [s.starts_at for s in slots] == [
        local(2027, 2, 10, 7) + i * HALF_AN_HOUR for i in range(7)
    ]
    assert slots[-1].starts_at == local(2027, 2, 10, 10, 0)
    assert free_slots(SlotRules(max_days_ahead=7), clock(), after=local(2027, 2, 10)) == []


@pytest.mark.parametrize(("minutes", "count", "last"), [(20, 39, (19, 40)), (60, 13, (19, 0))])
def test_slot_length_follows_the_rules(week, clock, minutes, count, last):
    rules = SlotRules(slot_minutes=minutes)
    slots = stechford_on(dt.date(2027, 1, 14), rules, clock())
    assert len(slots) == count
    assert slots[0].starts_at == local(2027, 1, 14, 7)
    assert slots[-1].starts_at == local(2027, 1, 14, *last)
    for slot in slots:
        assert slot.ends_at - slot.starts_at == dt.timedelta(minutes=minutes)


def test_a_slot_must_fit_inside_a_shift(blocks, team, clock):
    on_site(team[0], blocks["stechford"], local(2027, 1, 14, 10), local(2027, 1, 14, 10, 45))
    assert [s.starts_at for s in stechford_on(dt.date(2027, 1, 14), RULES, clock())] == [
        local(2027, 1, 14, 10)
    ]


def test_slots_can_be_limited_to_some_blocks(week, clock):
    slots = free_slots(RULES, clock(), block_codes=["stechford", "oldbury"], limit=6)
    assert [s.block.code for s in slots] == ["oldbury", "stechford"] * 3
    assert free_slots(RULES, clock(), block_codes=["nowhere"]) == []


def test_after_is_inclusive_and_before_exclusive(week, clock):
    slots = free_slots(
        RULES,
        clock(),
        after=local(2027, 1, 14, 12, 10),
        before=local(2027, 1, 14, 13, 30),
        block_codes=["stechford"],
        limit=100,
    )
    assert [s.starts_at for s in slots] == [local(2027, 1, 14, 12, 30), local(2027, 1, 14, 13)]
    exactly = free_slots(RULES, clock(), after=local(2027, 1, 14, 13), block_codes=["stechford"])
    assert exactly[0].starts_at == local(2027, 1, 14, 13)


def test_after_cannot_bring_a_slot_inside_the_minimum_lead(week, clock):
    clock.set_local(2027, 1, 14, 10, 0)
    slots = free_slots(RULES, clock(), after=local(2027, 1, 14, 7), limit=1)
    assert slots[0].starts_at == local(2027, 1, 14, 11)


def test_limit_caps_the_answer_and_a_long_search_stays_in_order(week, clock):
    assert len(free_slots(RULES, clock(), limit=3)) == 3
    # 100 slots at one block need four weekdays: the search spans days and keeps the order.
    slots = free_slots(RULES, clock(), block_codes=["stechford"], limit=100)
    starts = [s.starts_at for s in slots]
    assert len(starts) == 100
    assert starts == sorted(set(starts))
    assert {wall(start)[0] for start in starts} == {
        dt.date(2027, 1, 14),
        dt.date(2027, 1, 15),
        dt.date(2027, 1, 18),
        dt.date(2027, 1, 19),
    }


@pytest.mark.parametrize(
    ("now", "saturday", "sunday", "saturday_utc", "sunday_utc"),
    [
        (
            (2027, 3, 26, 12),
            dt.date(2027, 3, 27),
            dt.date(2027, 3, 28),
            (utc(2027, 3, 27, 7), utc(2027, 3, 27, 19, 30)),
            (utc(2027, 3, 28, 6), utc(2027, 3, 28, 18, 30)),
        ),
        (
            (2027, 10, 29, 12),
            dt.date(2027, 10, 30),
            dt.date(2027, 10, 31),
            (utc(2027, 10, 30, 6), utc(2027, 10, 30, 18, 30)),
            (utc(2027, 10, 31, 7), utc(2027, 10, 31, 19, 30)),
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_slots_stay_on_the_local_grid_across_the_clock_changes(
    team, clock, now, saturday, sunday, saturday_utc, sunday_utc
):
    clock.set_local(*now)
    fill_rota(saturday, 2)
    for day, (first_utc, last_utc) in ((saturday, saturday_utc), (sunday, sunday_utc)):
        start = local(day.year, day.month, day.day)
        slots = free_slots(
            RULES,
            clock(),
            after=start,
            before=start + dt.timedelta(days=1),
            block_codes=["perry-barr"],
            limit=100,
        )
        assert len(slots) == 26
        assert (slots[0].starts_at, slots[-1].starts_at) == (first_utc, last_utc)
        expected = [
            (day, (dt.datetime(2000, 1, 1, 7) + i * HALF_AN_HOUR).time()) for i in range(26)
        ]
        assert [wall(s.starts_at) for s in slots] == expected
        for slot in slots:
            assert slot.ends_at - slot.starts_at == HALF_AN_HOUR


def every_grid_start(starts_at, ends_at, minutes):
    """The grid the slow way: every minute of the span, kept if it is on the local grid."""
    found, instant = [], starts_at
    while instant + dt.timedelta(minutes=minutes) <= ends_at:
        there = instant.astimezone(LONDON)
        if (there.hour * 60 + there.minute) % minutes == 0:
            found.append(instant)
        instant += dt.timedelta(minutes=1)
    return found


@pytest.mark.parametrize("minutes", [15, 30, 45, 60])
@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [
        pytest.param(local(2027, 3, 27, 22, 7), local(2027, 3, 28, 9, 0), id="spring-change"),
        pytest.param(utc(2027, 10, 30, 22, 50), utc(2027, 10, 31, 8, 5), id="autumn-change"),
        pytest.param(local(2027, 1, 14, 7, 0), local(2027, 1, 16, 19, 0), id="three-days"),
        pytest.param(local(2027, 6, 1, 23, 45), local(2027, 6, 2, 0, 15), id="over-midnight"),
    ],
)
def test_the_grid_is_every_local_slot_start_inside_the_span(starts_at, ends_at, minutes):
    assert list(grid_starts(starts_at, ends_at, minutes, LONDON)) == every_grid_start(
        starts_at, ends_at, minutes
    )


def test_no_slot_falls_in_the_hour_that_does_not_exist(blocks, team, clock):
    clock.set_local(2027, 3, 26, 12)
    blocks["perry-barr"].cover_rules.append(
        CoverRule(weekday=6, starts=dt.time(0), ends=dt.time(6))
    )
    db.session.commit()
    fill_rota(dt.date(2027, 3, 28), 1)
    slots = free_slots(
        RULES, clock(), before=local(2027, 3, 28, 7), block_codes=["perry-barr"], limit=100
    )
    # 00:00-06:00 local is five real hours on the spring Sunday: ten slots, none at 01:xx.
    assert [wall(s.starts_at)[1] for s in slots] == [
        dt.time(0),
        dt.time(0, 30),
        *(dt.time(hour, minute) for hour in range(2, 6) for minute in (0, 30)),
    ]
    for slot in slots:
        assert slot.ends_at - slot.starts_at == HALF_AN_HOUR


def test_the_repeated_autumn_hour_has_slots_in_both_of_its_occurrences(blocks, team, clock):
    clock.set_local(2027, 10, 29, 12)
    blocks["perry-barr"].cover_rules.append(
        CoverRule(weekday=6, starts=dt.time(0), ends=dt.time(6))
    )
    db.session.commit()
    fill_rota(dt.date(2027, 10, 31), 1)
    slots = free_slots(
        RULES, clock(), before=local(2027, 10, 31, 7), block_codes=["perry-barr"], limit=100
    )
    # 00:00-06:00 local is seven real hours on the autumn Sunday: a slot every half hour.
    assert [s.starts_at for s in slots] == [
        utc(2027, 10, 30, 23) + i * HALF_AN_HOUR for i in range(14)
    ]
    walls = [wall(s.starts_at)[1] for s in slots]
    assert walls.count(dt.time(1)) == walls.count(dt.time(1, 30)) == 2


@pytest.mark.parametrize(
    ("now", "last"),
    [((2027, 3, 13, 10), (2027, 4, 10, 10)), ((2027, 10, 10, 10), (2027, 11, 7, 10))],
    ids=["spring-forward-between", "fall-back-between"],
)
def test_the_booking_window_counts_local_days_across_a_clock_change(team, clock, now, last):
    clock.set_local(*now)
    fill_rota(dt.date(*last[:3]), 1)
    slots = free_slots(
        RULES, clock(), after=local(*last[:3]), block_codes=["perry-barr"], limit=100
    )
    # 28 days on at the same local time, not 28 x 24 hours (an hour more or less).
    assert slots[-1].starts_at == local(*last)


def test_a_slot_holds_as_many_bookings_as_workers_on_site(blocks, team, users, clock):
    fill_rota(dt.date(2027, 1, 14), 1)
    generated = db.session.scalars(db.select(Shift)).all()
    spare = next(w for w in team if w.id not in {s.worker_id for s in generated})
    on_site(spare, blocks["stechford"], local(2027, 1, 14, 7), local(2027, 1, 14, 20))
    starts_at = local(2027, 1, 14, 10)

    def slot():
        return find_slot(RULES, clock(), blocks["stechford"], starts_at)

    assert slot().free == 2
    for free_after in (1, None):
        book(users[Role.SERGEANT], "stechford", starts_at, clock(), tested_at=clock() - HOUR)
        assert (slot().free if slot() else None) == free_after
    next_slots = free_slots(RULES, clock(), after=starts_at, block_codes=["stechford"], limit=1)
    assert next_slots[0].starts_at == local(2027, 1, 14, 10, 30)
    assert next_slots[0].free == 2


def test_find_slot_answers_only_for_a_slot_start(week, blocks, clock):
    slot = find_slot(RULES, clock(), blocks["stechford"], local(2027, 1, 14, 9, 30))
    assert slot.starts_at == local(2027, 1, 14, 9, 30)
    assert find_slot(RULES, clock(), blocks["stechford"], local(2027, 1, 14, 9, 40)) is None
    assert find_slot(RULES, clock(), blocks["stechford"], local(2027, 1, 16, 9, 30)) is None


# The disputed-result rule: no slot before the start of the fifth working day after the test.


def test_disputed_result_gets_no_slot_before_five_working_days(team, clock):
    # Wednesday 24 March 2027: Good Friday (26th), the clock-change weekend and Easter Monday
    # (29th) follow. Working days after the test: Thu 25, Tue 30, Wed 31, Thu 1 and Fri 2 April.
    clock.set_local(2027, 3, 24, 10, 0)
    fill_rota(dt.date(2027, 3, 24), 10)
    tested_at = local(2027, 3, 24, 8, 0)

    assert free_slots(RULES, clock(), limit=1)[0].starts_at == local(2027, 3, 24, 11)
    (first,) = free_slots(RULES, clock(), limit=1, disputed=True, tested_at=tested_at)
    assert first.starts_at == local(2027, 4, 2, 7)
    assert first.starts_at == utc(2027, 4, 2, 6)
    assert first.block.code == "bloxwich"
    assert earliest_allowed(RULES, clock(), True, tested_at) == local(2027, 4, 2, 0)


def test_a_disputed_result_counts_working_days_from_the_local_date_of_the_test(app):
    # 23:30 UTC on Tuesday 1 June is 00:30 on Wednesday 2 June in London.
    tested_at = utc(2027, 6, 1, 23, 30)
    earliest = earliest_allowed(RULES, utc(2027, 6, 2, 8), True, tested_at)
    assert earliest == local(2027, 6, 9)


def test_a_disputed_result_without_a_test_time_counts_from_now(app):
    now = local(2027, 1, 13, 10)
    assert earliest_allowed(RULES, now, True) == local(2027, 1, 20)


def test_the_number_of_working_days_comes_from_the_rules(app):
    now = local(2027, 1, 13, 10)
    assert earliest_allowed(SlotRules(disputed_working_days=3), now, True, now) == local(
        2027, 1, 18
    )


def test_an_old_disputed_test_is_limited_only_by_the_minimum_lead(app):
    now = local(2027, 1, 25, 10)
    tested_at = local(2027, 1, 11, 10)
    assert earliest_allowed(RULES, now, True, tested_at) == now + dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("tested", "fifth"),
    [
        (dt.date(2027, 1, 13), dt.date(2027, 1, 20)),  # Wednesday: a plain week
        (dt.date(2027, 1, 16), dt.date(2027, 1, 22)),  # Saturday: counting starts Monday
        (dt.date(2027, 3, 24), dt.date(2027, 4, 2)),  # Easter
        (dt.date(2027, 12, 23), dt.date(2028, 1, 4)),  # Christmas, Boxing Day, New Year moved
        (dt.date(2027, 5, 28), dt.date(2027, 6, 7)),  # Spring bank holiday Monday 31 May
    ],
)
def test_weekends_and_bank_holidays_are_not_working_days(tested, fifth):
    assert nth_working_day_after(tested, 5) == fifth


def test_substitute_bank_holidays_are_not_working_days():
    # Christmas 2027 falls at a weekend: Monday 27 and Tuesday 28 December are the holidays.
    assert not is_working_day(dt.date(2027, 12, 27))
    assert not is_working_day(dt.date(2027, 12, 28))
    assert is_working_day(dt.date(2027, 12, 29))
