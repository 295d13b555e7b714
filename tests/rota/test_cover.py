"""Cover: is a rostered worker on site at a block at an instant, and when is one next."""

from __future__ import annotations

import datetime as dt

import pytest

from booking.clock import LONDON
from booking.extensions import db
from booking.models import Shift
from booking.rota.cover import cover_at
from tests.support import fill_rota, local, on_site, utc


@pytest.fixture
def week(team):
    """The rota from Thursday 14 to Wednesday 20 January 2027."""
    fill_rota(dt.date(2027, 1, 14), 7)


def test_a_worker_is_on_site_during_a_shift(blocks, week):
    cover = cover_at(blocks["stechford"], local(2027, 1, 14, 12))
    assert cover.on_site
    assert cover.workers_on_site == 1
    assert cover.next_on_site_at is None


def test_cover_starts_at_seven_exactly(blocks, week):
    assert cover_at(blocks["stechford"], local(2027, 1, 14, 7)).on_site
    assert not cover_at(blocks["stechford"], local(2027, 1, 14, 6, 59)).on_site


def test_nobody_is_on_site_at_eight_exactly_and_cover_resumes_next_morning(blocks, week):
    assert cover_at(blocks["stechford"], local(2027, 1, 14, 19, 59)).on_site
    cover = cover_at(blocks["stechford"], local(2027, 1, 14, 20))
    assert not cover.on_site
    assert cover.workers_on_site == 0
    assert cover.next_on_site_at == local(2027, 1, 15, 7)


def test_nobody_is_on_site_at_night(blocks, week):
    cover = cover_at(blocks["oldbury"], local(2027, 1, 15, 2, 30))
    assert not cover.on_site
    assert cover.next_on_site_at == local(2027, 1, 15, 7)


def test_a_block_without_weekend_cover_is_next_covered_on_monday_morning(blocks, week):
    saturday_night = local(2027, 1, 16, 22)
    cover = cover_at(blocks["stechford"], saturday_night)
    assert not cover.on_site
    assert cover.next_on_site_at == local(2027, 1, 18, 7)


def test_a_high_activity_block_is_covered_again_on_sunday_morning(blocks, week):
    cover = cover_at(blocks["perry-barr"], local(2027, 1, 16, 22))
    assert cover.next_on_site_at == local(2027, 1, 17, 7)
    assert cover_at(blocks["perry-barr"], local(2027, 1, 17, 10)).on_site


def test_every_worker_on_site_is_counted(blocks, week, team):
    thursday = db.select(Shift).where(Shift.starts_at == local(2027, 1, 14, 7))
    rostered = {s.worker_id for s in db.session.scalars(thursday)}
    spare = next(w for w in team if w.id not in rostered)
    on_site(spare, blocks["stechford"], local(2027, 1, 14, 10), local(2027, 1, 14, 14))
    assert cover_at(blocks["stechford"], local(2027, 1, 14, 9, 59)).workers_on_site == 1
    assert cover_at(blocks["stechford"], local(2027, 1, 14, 10)).workers_on_site == 2
    assert cover_at(blocks["stechford"], local(2027, 1, 14, 14)).workers_on_site == 1


def test_with_nothing_rostered_ahead_there_is_no_next_cover(blocks, week):
    cover = cover_at(blocks["stechford"], local(2027, 1, 20, 21))
    assert not cover.on_site
    assert cover.next_on_site_at is None


def test_the_same_instant_in_any_offset_gets_the_same_answer(blocks, week):
    instant = local(2027, 1, 14, 7, 30)
    in_london = instant.astimezone(LONDON)
    in_paris = instant.astimezone(dt.timezone(dt.timedelta(hours=1)))
    answers = {cover_at(blocks["coventry"], at).workers_on_site for at in (in_london, in_paris)}
    assert answers == {1}


def test_cover_follows_the_local_clock_on_the_spring_sunday(blocks, team):
    fill_rota(dt.date(2027, 3, 27), 3)
    perry_barr = blocks["perry-barr"]
    # 06:30 UTC is 06:30 on Saturday (GMT) but 07:30 on Sunday (BST).
    assert not cover_at(perry_barr, utc(2027, 3, 27, 6, 30)).on_site
    assert cover_at(perry_barr, utc(2027, 3, 28, 6, 30)).on_site
    # 19:30 UTC is 19:30 on Saturday but 20:30 on Sunday.
    assert cover_at(perry_barr, utc(2027, 3, 27, 19, 30)).on_site
    sunday_evening = cover_at(perry_barr, utc(2027, 3, 28, 19, 30))
    assert not sunday_evening.on_site
    assert sunday_evening.next_on_site_at == local(2027, 3, 29, 7)


def test_cover_follows_the_local_clock_on_the_autumn_sunday(blocks, team):
    fill_rota(dt.date(2027, 10, 30), 2)
    perry_barr = blocks["perry-barr"]
    saturday_night = cover_at(perry_barr, local(2027, 10, 30, 21))
    assert saturday_night.next_on_site_at == utc(2027, 10, 31, 7)
    assert not cover_at(perry_barr, utc(2027, 10, 31, 6, 30)).on_site
    assert cover_at(perry_barr, utc(2027, 10, 31, 19, 30)).on_site


def test_while_a_worker_is_on_site_cover_lasts_until_their_shift_ends(blocks, week):
    cover = cover_at(blocks["stechford"], local(2027, 1, 14, 10))
    assert cover.on_site_until == local(2027, 1, 14, 20)
    assert cover_at(blocks["stechford"], local(2027, 1, 14, 21)).on_site_until is None


def test_cover_lasts_through_shifts_that_hand_over(blocks, team):
    stechford = blocks["stechford"]
    on_site(team[0], stechford, local(2027, 1, 14, 7), local(2027, 1, 14, 13))
    on_site(team[1], stechford, local(2027, 1, 14, 12), local(2027, 1, 14, 16))
    on_site(team[2], stechford, local(2027, 1, 14, 16), local(2027, 1, 14, 22))
    on_site(team[3], stechford, local(2027, 1, 14, 23), local(2027, 1, 15, 2))  # a gap first
    assert cover_at(stechford, local(2027, 1, 14, 8)).on_site_until == local(2027, 1, 14, 22)


def test_cover_until_is_local_on_the_spring_sunday(blocks, team):
    fill_rota(dt.date(2027, 3, 28), 1)
    # 07:00-20:00 local on the Sunday the clocks go forward: 06:00-19:00 UTC.
    cover = cover_at(blocks["perry-barr"], local(2027, 3, 28, 7, 30))
    assert cover.on_site_until == utc(2027, 3, 28, 19)
