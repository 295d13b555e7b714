"""Courts are places beside the custody blocks: court duty is rostered Monday to Friday (never
on a bank holiday) through the same rota, and shows on the rota, a worker's day and calendar
feed; every list of blocks (slots, bookings, reports, block feeds) still means custody blocks."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar
from sqlalchemy import select

from booking import places
from booking.appointments.slots import SlotRules, free_slots
from booking.calendars import feeds
from booking.clock import LONDON
from booking.errors import InvalidField
from booking.extensions import db
from booking.models import Booking, Role, Shift
from booking.reports import figures
from booking.rota import generate as rota
from tests.support import add_worker, at, book, count, fill_rota, local, page_of

BIRMINGHAM = "birmingham-magistrates"


@pytest.fixture
def court_team(courts):
    return {
        code: add_worker(f"Court Worker {n}", court)
        for n, (code, court) in enumerate(courts.items())
    }


def court_shifts(code: str = BIRMINGHAM) -> list[Shift]:
    return list(
        db.session.scalars(
            select(Shift).where(Shift.block.has(code=code)).order_by(Shift.starts_at)
        )
    )


def test_the_courts_are_listed_apart_from_the_custody_blocks(blocks, courts):
    assert [b.code for b in places.blocks_by_code()] == sorted(blocks)
    assert [c.code for c in places.courts_by_code()] == sorted(courts)
    assert places.block_with_code(BIRMINGHAM) is None
    assert places.court_with_code("stechford") is None
    assert places.court_with_code(BIRMINGHAM).address == (
        "Victoria Law Courts, Corporation Street, Birmingham B4 6QA"
    )
    # The rota's list has every place: the custody blocks first, then the courts.
    every = [p.code for p in places.places_by_name()]
    assert set(every) == set(blocks) | set(courts)
    assert every.index(BIRMINGHAM) > max(every.index(code) for code in blocks)


def test_court_duty_is_rostered_monday_to_friday_and_never_on_a_bank_holiday(
    courts, court_team, clock
):
    # 22 March to 4 April 2027: Good Friday (26th), the clocks go forward (28th), Easter Monday
    # (29th).
    rota.generate(dt.date(2027, 3, 22), dt.date(2027, 4, 4), now=clock())
    db.session.commit()

    days = [shift.starts_at.astimezone(LONDON).date() for shift in court_shifts()]
    assert days == [
        dt.date(2027, 3, 22),
        dt.date(2027, 3, 23),
        dt.date(2027, 3, 24),
        dt.date(2027, 3, 25),
        dt.date(2027, 3, 30),
        dt.date(2027, 3, 31),
        dt.date(2027, 4, 1),
        dt.date(2027, 4, 2),
    ]
    assert {shift.worker_id for shift in court_shifts()} == {court_team[BIRMINGHAM].id}


def test_court_duty_stays_09_to_17_on_the_wall_clock_across_the_clock_change(
    courts, court_team, clock
):
    rota.generate(dt.date(2027, 3, 25), dt.date(2027, 3, 30), now=clock())
    db.session.commit()
    before, after = court_shifts()
    # Thursday in GMT, Tuesday in BST: 09:00 local is 09:00 UTC, then 08:00 UTC.
    assert (before.starts_at, before.ends_at) == (
        local(2027, 3, 25, 9),
        local(2027, 3, 25, 17),
    )
    assert before.starts_at.hour == 9
    assert after.starts_at == local(2027, 3, 30, 9)
    assert after.starts_at.astimezone(dt.UTC).hour == 8
    assert after.ends_at - after.starts_at == dt.timedelta(hours=8)


def test_no_slot_is_ever_offered_at_a_court(blocks, courts, court_team, team, clock):
    fill_rota(clock().astimezone(LONDON).date(), 7)
    assert court_shifts()  # the court is rostered

    everywhere = free_slots(SlotRules(), clock(), limit=100)
    assert everywhere
    assert not [slot for slot in everywhere if slot.block.kind == "court"]
    assert free_slots(SlotRules(), clock(), block_codes=[BIRMINGHAM]) == []


def test_a_booking_at_a_court_or_arrested_at_a_court_is_refused(
    blocks, courts, court_team, users, clock
):
    fill_rota(clock().astimezone(LONDON).date(), 7)
    duty = court_shifts()[0]

    with pytest.raises(InvalidField) as refused:
        book(users[Role.SERGEANT], BIRMINGHAM, duty.starts_at, clock())
    assert "block" in refused.value.errors
    db.session.rollback()
    with pytest.raises(InvalidField) as refused:
        book(
            users[Role.SERGEANT],
            "stechford",
            at(dt.date(2027, 1, 14), 9),
            clock(),
            arrest_block=BIRMINGHAM,
        )
    assert "arrest_block" in refused.value.errors
    db.session.rollback()
    assert count(Booking) == 0


def test_a_worker_on_court_duty_sees_it_on_their_day_and_in_their_calendar_feed(
    client, login, users, courts, clock
):
    me = users[Role.WORKER].worker
    db.session.add(
        Shift(
            worker=me,
            block=courts[BIRMINGHAM],
            starts_at=local(2027, 1, 14, 9),
            ends_at=local(2027, 1, 14, 17),
            generated=False,
        )
    )
    db.session.commit()

    login(Role.WORKER)
    day = page_of(client.get("/day?date=2027-01-14"))
    assert "Birmingham Magistrates' Court (court duty), 09:00 to 17:00" in day.text

    calendar = Calendar.from_ical(feeds.worker_feed(me, clock(), "http://127.0.0.1:5000").body)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Court duty at Birmingham Magistrates' Court"
    assert "Corporation Street" in str(event["LOCATION"])
    assert event.decoded("DTSTART") == local(2027, 1, 14, 9).astimezone(LONDON)


def test_the_rota_shows_court_duty_below_the_custody_blocks(
    client, login, users, blocks, courts, court_team, team, clock
):
    fill_rota(dt.date(2027, 1, 11), 7)
    login(Role.COORDINATOR)

    text = page_of(client.get("/rota?week=2027-01-11")).text

    assert "Court Worker 0" in text
    assert text.index("Birmingham Magistrates' Court") > text.index("Stechford")


def test_cover_figures_and_block_feeds_know_only_the_custody_blocks(
    client, login, users, blocks, courts, court_team, team, clock
):
    fill_rota(dt.date(2027, 1, 11), 7)
    report = figures.build(dt.date(2027, 1, 1), dt.date(2027, 1, 31), clock())
    # The courts are in the report for their court work, with no hours of cover or gap.
    assert set(report.by_block) == set(blocks) | set(courts)
    assert all(report.by_block[code].cover_hours == 0 for code in courts)
    assert all(report.by_block[code].gap_hours == 0 for code in courts)
    assert report.by_block["stechford"].cover_hours > 0

    court = courts[BIRMINGHAM]
    court.calendar_token = "a-court-token-nobody-was-given"
    db.session.commit()
    assert feeds.block_for_token(court.calendar_token) is None
    login(Role.COORDINATOR)
    assert "Magistrates" not in page_of(client.get("/calendar/blocks")).text
