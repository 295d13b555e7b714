"""The rota: local cover rules expanded date by date, and the shifts that fill them."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from sqlalchemy import select

from booking.clock import LONDON
from booking.extensions import db
from booking.models import BANK_HOLIDAY, CoverRule, Shift, Worker
from booking.rota import generate as rota
from tests.support import fill_rota, local, on_site, utc

HIGH_ACTIVITY = {"perry-barr", "oldbury", "coventry"}
GOOD_FRIDAY = dt.date(2027, 3, 26)
EASTER_MONDAY = dt.date(2027, 3, 29)


def shifts() -> list[Shift]:
    return list(db.session.scalars(select(Shift).order_by(Shift.starts_at, Shift.block_id)))


def lone_worker(blocks, home="stechford") -> Worker:
    worker = Worker(name="Lone Worker", home_block=blocks[home])
    db.session.add(worker)
    db.session.commit()
    return worker


@pytest.mark.parametrize(
    ("day", "starts_at", "ends_at"),
    [
        (dt.date(2027, 3, 27), utc(2027, 3, 27, 7), utc(2027, 3, 27, 20)),
        (dt.date(2027, 3, 28), utc(2027, 3, 28, 6), utc(2027, 3, 28, 19)),
        (dt.date(2027, 10, 30), utc(2027, 10, 30, 6), utc(2027, 10, 30, 19)),
        (dt.date(2027, 10, 31), utc(2027, 10, 31, 7), utc(2027, 10, 31, 20)),
    ],
    ids=["sat-before-spring", "spring-sunday", "sat-before-autumn", "autumn-sunday"],
)
def test_cover_stays_seven_to_eight_local_across_the_clock_changes(blocks, day, starts_at, ends_at):
    (window,) = rota.cover_windows(blocks["perry-barr"], day)
    assert (window.starts_at, window.ends_at) == (starts_at, ends_at)
    assert window.starts_at.astimezone(LONDON).time() == dt.time(7)
    assert window.ends_at.astimezone(LONDON).time() == dt.time(20)
    # The clocks change at 01:00-02:00, before cover starts: still 13 real hours.
    assert window.hours == 13


@pytest.mark.parametrize(
    ("sunday", "hours"),
    [(dt.date(2027, 3, 28), 5), (dt.date(2027, 10, 31), 7)],
    ids=["spring", "autumn"],
)
def test_a_night_rule_spanning_the_clock_change_is_an_hour_shorter_or_longer(blocks, sunday, hours):
    block = blocks["perry-barr"]
    block.cover_rules.append(CoverRule(weekday=6, starts=dt.time(0), ends=dt.time(6)))
    db.session.commit()
    night, day = rota.cover_windows(block, sunday)
    assert night.starts_at == local(sunday.year, sunday.month, sunday.day, 0)
    assert night.ends_at == local(sunday.year, sunday.month, sunday.day, 6)
    assert night.hours == hours
    assert day.hours == 13


def test_a_block_without_weekend_cover_has_no_window_at_the_weekend(blocks):
    assert rota.cover_windows(blocks["stechford"], dt.date(2027, 3, 27)) == []
    assert rota.cover_windows(blocks["stechford"], dt.date(2027, 3, 28)) == []
    assert len(rota.cover_windows(blocks["stechford"], dt.date(2027, 3, 25))) == 1


@pytest.mark.parametrize("holiday", [GOOD_FRIDAY, EASTER_MONDAY], ids=["good-friday", "easter-mon"])
def test_bank_holidays_have_cover_only_at_the_high_activity_blocks(team, holiday):
    assert fill_rota(holiday, 1) == 3
    assert {shift.block.code for shift in shifts()} == HIGH_ACTIVITY
    for shift in shifts():
        assert shift.starts_at.astimezone(LONDON).date() == holiday


def test_a_block_with_its_own_bank_holiday_rule_uses_it(blocks):
    blocks["stechford"].cover_rules.append(
        CoverRule(weekday=BANK_HOLIDAY, starts=dt.time(10), ends=dt.time(14))
    )
    blocks["perry-barr"].cover_rules.append(
        CoverRule(weekday=BANK_HOLIDAY, starts=dt.time(9), ends=dt.time(17))
    )
    db.session.commit()

    (stechford,) = rota.cover_windows(blocks["stechford"], GOOD_FRIDAY)
    assert (stechford.starts_at, stechford.ends_at) == (
        local(2027, 3, 26, 10),
        local(2027, 3, 26, 14),
    )
    (perry_barr,) = rota.cover_windows(blocks["perry-barr"], GOOD_FRIDAY)
    assert (perry_barr.starts_at, perry_barr.ends_at) == (
        local(2027, 3, 26, 9),
        local(2027, 3, 26, 17),
    )
    # The bank-holiday rule is for bank holidays only: an ordinary Sunday keeps Sunday's rule.
    (sunday,) = rota.cover_windows(blocks["perry-barr"], dt.date(2027, 3, 21))
    assert sunday.starts_at == local(2027, 3, 21, 7)
    assert rota.cover_windows(blocks["stechford"], dt.date(2027, 3, 21)) == []


def test_each_weekday_window_gets_one_worker_from_the_blocks_own_team(team):
    assert fill_rota(dt.date(2027, 1, 14), 1) == 6
    made = shifts()
    assert len({shift.block_id for shift in made}) == 6
    for shift in made:
        assert (shift.starts_at, shift.ends_at) == (utc(2027, 1, 14, 7), utc(2027, 1, 14, 20))
        assert shift.generated
        assert shift.worker.home_block_id == shift.block_id


def test_generated_shifts_on_the_spring_sunday_follow_the_local_clock(team):
    fill_rota(dt.date(2027, 3, 27), 2)
    by_day = defaultdict(set)
    for shift in shifts():
        by_day[shift.starts_at.astimezone(LONDON).date()].add((shift.starts_at, shift.ends_at))
    assert by_day[dt.date(2027, 3, 27)] == {(utc(2027, 3, 27, 7), utc(2027, 3, 27, 20))}
    assert by_day[dt.date(2027, 3, 28)] == {(utc(2027, 3, 28, 6), utc(2027, 3, 28, 19))}


def test_generating_twice_changes_nothing(team):
    assert fill_rota(dt.date(2027, 1, 14), 4) > 0
    before = [(s.id, s.worker_id, s.block_id, s.starts_at) for s in shifts()]
    assert fill_rota(dt.date(2027, 1, 14), 4) == 0
    assert [(s.id, s.worker_id, s.block_id, s.starts_at) for s in shifts()] == before


def test_a_manually_added_shift_is_kept_and_its_window_not_refilled(team, blocks):
    manual = on_site(team[0], blocks["stechford"], local(2027, 1, 14, 9), local(2027, 1, 14, 17))

    assert fill_rota(dt.date(2027, 1, 14), 1) == 5
    at_stechford = [s for s in shifts() if s.block_id == blocks["stechford"].id]
    assert [(s.id, s.worker_id, s.starts_at, s.ends_at, s.generated) for s in at_stechford] == [
        (manual.id, team[0].id, local(2027, 1, 14, 9), local(2027, 1, 14, 17), False)
    ]


def test_a_second_worker_added_by_hand_survives_regeneration(team, blocks):
    fill_rota(dt.date(2027, 1, 14), 1)
    rostered_ids = {s.worker_id for s in shifts()}
    spare = next(w for w in team if w.id not in rostered_ids)
    on_site(spare, blocks["stechford"], utc(2027, 1, 14, 7), utc(2027, 1, 14, 20))
    assert fill_rota(dt.date(2027, 1, 14), 1) == 0
    assert len([s for s in shifts() if s.block_id == blocks["stechford"].id]) == 2


def test_a_worker_is_never_rostered_at_two_blocks_at_once(blocks):
    worker = lone_worker(blocks)
    # Six blocks need cover on Thursday, but one worker can be at only one of them.
    assert fill_rota(dt.date(2027, 1, 14), 1) == 1
    (shift,) = shifts()
    assert shift.worker_id == worker.id


def test_a_worker_on_a_manual_shift_is_not_rostered_elsewhere_at_the_same_time(blocks):
    worker = lone_worker(blocks)
    on_site(worker, blocks["oldbury"], local(2027, 1, 14, 9), local(2027, 1, 14, 12))
    assert fill_rota(dt.date(2027, 1, 14), 1) == 0
    assert len(shifts()) == 1


def test_a_window_needing_two_workers_gets_two_different_workers(team, blocks):
    for rule in blocks["stechford"].cover_rules:
        rule.workers = 2
    db.session.commit()
    fill_rota(dt.date(2027, 1, 14), 1)
    at_stechford = {s.worker_id for s in shifts() if s.block_id == blocks["stechford"].id}
    assert len(at_stechford) == 2


def test_nobody_is_rostered_over_the_weekly_hours(blocks, clock):
    lone_worker(blocks, home="perry-barr")
    monday = dt.date(2027, 1, 18)
    # 13-hour shifts: three make 39 hours, a fourth would make 52.
    assert rota.generate(monday, monday + dt.timedelta(days=6), now=clock()) == 3
    # The next week starts afresh.
    assert (
        rota.generate(monday + dt.timedelta(days=7), monday + dt.timedelta(days=7), now=clock())
        == 1
    )


def test_a_lower_weekly_limit_is_respected(blocks, clock):
    lone_worker(blocks)
    monday = dt.date(2027, 1, 18)
    assert (
        rota.generate(monday, monday + dt.timedelta(days=4), now=clock(), max_hours_per_week=26)
        == 2
    )


def test_hours_already_worked_that_week_count_towards_the_limit(blocks, clock):
    worker = lone_worker(blocks)
    on_site(worker, blocks["stechford"], local(2027, 1, 18, 7), local(2027, 1, 18, 20))
    assert rota.generate(dt.date(2027, 1, 19), dt.date(2027, 1, 22), now=clock()) == 2


def test_the_demo_team_covers_five_weeks_without_clashes_or_overwork(rostered, blocks):
    made = shifts()
    # 30 weekday windows and 6 weekend windows a week.
    assert len(made) == 5 * 36
    windows = {(s.block_id, s.starts_at) for s in made}
    assert len(windows) == len(made)
    by_worker = defaultdict(list)
    hours = defaultdict(float)
    for shift in made:
        by_worker[shift.worker_id].append(shift)
        monday = shift.starts_at.astimezone(LONDON).date()
        monday -= dt.timedelta(days=monday.weekday())
        hours[(shift.worker_id, monday)] += (shift.ends_at - shift.starts_at).total_seconds() / 3600
    for worker_shifts in by_worker.values():
        worker_shifts.sort(key=lambda s: s.starts_at)
        for earlier, later in zip(worker_shifts, worker_shifts[1:], strict=False):
            assert earlier.ends_at <= later.starts_at
    assert max(hours.values()) <= 40
