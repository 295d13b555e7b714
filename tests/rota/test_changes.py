"""Changing the rota by hand, and generating it: no booking is left silently without a worker.

A rota change (sickness, leave, a removed or moved shift) re-checks every booking it touches in
the same transaction: the booking goes to another worker on site for the same slot when one is
free, otherwise it loses its worker and waits on the "needs rearranging" list.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from sqlalchemy import func, select

from booking.appointments import bookings
from booking.appointments.slots import SlotRules, free_slots
from booking.clock import LONDON
from booking.errors import InvalidField
from booking.extensions import db
from booking.models import (
    Absence,
    AuditEvent,
    Block,
    Booking,
    BookingStatus,
    Notice,
    Role,
    RotaRemoval,
    Shift,
    Worker,
)
from booking.rota import generate as rota
from booking.rota.changes import (
    add_shift,
    change_shift,
    needs_rearranging,
    preview_absence,
    record_absence,
    remove_shift,
)
from booking.rota.cover import cover_at
from tests.support import count, fill_rota, local

RULES = SlotRules()

# The clock: Wednesday 13 January 2027, 21:00. The rota runs Thursday 14 to Saturday 16.
THURSDAY = dt.date(2027, 1, 14)
SATURDAY = dt.date(2027, 1, 16)


def thursday(hour: int, minute: int = 0) -> dt.datetime:
    return local(2027, 1, 14, hour, minute)


def saturday(hour: int, minute: int = 0) -> dt.datetime:
    return local(2027, 1, 16, hour, minute)


def whole_day(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """00:00 to 24:00 local."""
    return (
        dt.datetime.combine(day, dt.time(0), tzinfo=LONDON).astimezone(dt.UTC),
        dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON).astimezone(
            dt.UTC
        ),
    )


@pytest.fixture
def days(team, users):
    """The generated rota from Thursday 14 to Saturday 16 January 2027."""
    fill_rota(THURSDAY, 3)


@pytest.fixture
def coordinator(users):
    return users[Role.COORDINATOR]


@pytest.fixture
def book(book):
    """Book as a sergeant would, and commit."""

    def make(starts_at, block="stechford", name="Jamie Testperson"):
        return book(starts_at, block, person_name=name)

    return make


def shifts_at(block: Block, day: dt.date) -> list[Shift]:
    start, end = whole_day(day)
    return list(
        db.session.scalars(
            select(Shift)
            .where(Shift.block_id == block.id, Shift.starts_at >= start, Shift.starts_at < end)
            .order_by(Shift.starts_at, Shift.worker_id)
        )
    )


def only_shift_at(block: Block, day: dt.date) -> Shift:
    (shift,) = shifts_at(block, day)
    return shift


def spare_workers(day: dt.date) -> list[Worker]:
    """Workers with no shift on that local day."""
    start, end = whole_day(day)
    busy = select(Shift.worker_id).where(Shift.starts_at < end, Shift.ends_at > start)
    return list(
        db.session.scalars(select(Worker).where(Worker.id.not_in(busy)).order_by(Worker.id))
    )


def events_of(booking: Booking) -> list[tuple[str, str | None]]:
    return [
        (event.action, event.detail)
        for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.booking_id == booking.id).order_by(AuditEvent.id)
        )
    ]


def counts() -> dict[str, int]:
    return {
        model.__tablename__: count(model)
        for model in (Shift, Absence, RotaRemoval, AuditEvent, Booking, Notice)
    }


def slot_starts(block_code: str, after: dt.datetime, before: dt.datetime, clock) -> list:
    return [
        slot.starts_at
        for slot in free_slots(
            RULES, clock(), after=after, before=before, block_codes=[block_code], limit=100
        )
    ]


# Sickness on a day with bookings


def test_a_sick_workers_booking_goes_to_another_worker_on_site_for_the_same_slot(
    days, blocks, book, coordinator, clock
):
    stechford = blocks["stechford"]
    sick = only_shift_at(stechford, THURSDAY).worker
    booking = book(thursday(9))
    assert booking.worker_id == sick.id
    cover, *_ = spare_workers(THURSDAY)
    add_shift(cover, stechford, thursday(7), thursday(12), now=clock(), by=coordinator)
    db.session.commit()

    _, result = record_absence(sick, "sickness", *whole_day(THURSDAY), now=clock(), by=coordinator)
    db.session.commit()

    assert result.reassigned == [booking]
    assert result.needs_rearranging == []
    assert booking.worker_id == cover.id
    # Same time and place: the notice still holds, so no new notice version is issued.
    assert (booking.block_id, booking.starts_at) == (stechford.id, thursday(9))
    assert booking.notice_version == 1
    assert [n.version for n in booking.notices] == [1]
    assert events_of(booking)[-1] == ("reassigned", "worker no longer on site")
    assert booking not in needs_rearranging()


def test_an_absence_previewed_changes_nothing_and_foretells_what_recording_it_does(
    days, blocks, book, coordinator, clock
):
    stechford = blocks["stechford"]
    sick = only_shift_at(stechford, THURSDAY).worker
    covered, morning, afternoon = book(thursday(9)), book(thursday(10)), book(thursday(15))
    book(thursday(10), block="oldbury")  # another worker's: not in the absence
    cover, *_ = spare_workers(THURSDAY)
    add_shift(cover, stechford, thursday(7), thursday(9, 30), now=clock(), by=coordinator)
    db.session.commit()
    before = counts()
    workers = {b.id: b.worker_id for b in (covered, morning, afternoon)}
    shift_times = [(s.worker_id, s.starts_at, s.ends_at) for s in shifts_at(stechford, THURSDAY)]

    preview = preview_absence(sick, "sickness", *whole_day(THURSDAY), now=clock(), by=coordinator)
    db.session.commit()

    assert counts() == before, "nothing recorded: no absence, shift cut or audit event"
    db.session.expire_all()
    assert {b.id: b.worker_id for b in (covered, morning, afternoon)} == workers
    after = [(s.worker_id, s.starts_at, s.ends_at) for s in shifts_at(stechford, THURSDAY)]
    assert after == shift_times
    in_absence = [covered.reference, morning.reference, afternoon.reference]
    assert [a.reference for a in preview.checked] == in_absence
    assert [a.reference for a in preview.reassigned] == [covered.reference]
    assert [a.reference for a in preview.needs_rearranging] == in_absence[1:]
    assert preview.needs_rearranging[0].block_name == "Stechford"

    _, result = record_absence(sick, "sickness", *whole_day(THURSDAY), now=clock(), by=coordinator)
    db.session.commit()

    assert [b.reference for b in result.checked] == [a.reference for a in preview.checked]
    assert [b.reference for b in result.reassigned] == [a.reference for a in preview.reassigned]
    assert [b.reference for b in result.needs_rearranging] == [
        a.reference for a in preview.needs_rearranging
    ]


def test_an_absence_preview_refuses_what_recording_refuses(days, blocks, coordinator, clock):
    sick = only_shift_at(blocks["stechford"], THURSDAY).worker
    with pytest.raises(InvalidField) as refused:
        preview_absence(sick, "holiday", thursday(12), thursday(9), now=clock(), by=coordinator)
    assert set(refused.value.errors) == {"kind", "ends_at"}
    assert count(Absence) == 0


def test_a_sick_workers_booking_nobody_else_can_take_is_flagged_for_rearranging(
    days, blocks, book, coordinator, clock
):
    stechford = blocks["stechford"]
    sick = only_shift_at(stechford, THURSDAY).worker
    morning, afternoon = book(thursday(10)), book(thursday(15))
    elsewhere = book(thursday(10), block="oldbury")
    friday = book(local(2027, 1, 15, 10))
    keeps = {b.id: b.worker_id for b in (elsewhere, friday)}

    absence, result = record_absence(
        sick, "sickness", *whole_day(THURSDAY), now=clock(), by=coordinator
    )
    db.session.commit()

    assert (absence.worker_id, absence.kind, absence.created_by_id) == (
        sick.id,
        "sickness",
        coordinator.id,
    )
    rota_event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "rota_changed")
    ).one()
    assert (rota_event.detail, rota_event.user_id) == (
        f"absence {absence.id} recorded",
        coordinator.id,
    )
    assert result.reassigned == []
    assert result.needs_rearranging == [morning, afternoon]
    assert (morning.worker_id, afternoon.worker_id) == (None, None)
    # Still booked at the same time and place, until someone rearranges them.
    assert morning.status == afternoon.status == BookingStatus.BOOKED
    assert needs_rearranging() == [morning, afternoon]
    assert needs_rearranging([stechford.id]) == [morning, afternoon]
    assert needs_rearranging([blocks["oldbury"].id]) == []
    for flagged in (morning, afternoon):
        assert events_of(flagged)[-1] == ("needs_rearranging", "no worker on site")
        assert (
            db.session.scalars(
                select(AuditEvent.user_id).where(AuditEvent.booking_id == flagged.id)
            ).all()[-1]
            == coordinator.id
        )
    # Other blocks and other days are not touched.
    assert {b.id: b.worker_id for b in (elsewhere, friday)} == keeps
    assert shifts_at(stechford, THURSDAY) == []
    (removal,) = db.session.scalars(select(RotaRemoval)).all()
    assert (removal.block_id, removal.worker_id, removal.reason) == (
        stechford.id,
        sick.id,
        "absence",
    )
    assert (removal.starts_at, removal.ends_at) == (thursday(7), thursday(20))


def test_sickness_never_double_books_the_worker_left_on_site(
    days, blocks, book, coordinator, clock
):
    stechford = blocks["stechford"]
    sick = only_shift_at(stechford, THURSDAY).worker
    cover, *_ = spare_workers(THURSDAY)
    add_shift(cover, stechford, thursday(7), thursday(20), now=clock(), by=coordinator)
    db.session.commit()
    first, second = book(thursday(10)), book(thursday(10), name="Someone Else")
    assert {first.worker_id, second.worker_id} == {sick.id, cover.id}
    sicks = first if first.worker_id == sick.id else second
    covers = second if sicks is first else first

    _, result = record_absence(sick, "sickness", *whole_day(THURSDAY), now=clock(), by=coordinator)
    db.session.commit()

    assert result.needs_rearranging == [sicks]
    assert sicks.worker_id is None
    assert covers.worker_id == cover.id
    live_at_ten = db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.worker_id == cover.id, Booking.starts_at == thursday(10))
    )
    assert live_at_ten == 1


def test_after_sickness_the_absent_workers_time_is_no_longer_offered(
    days, blocks, book, coordinator, clock
):
    stechford = blocks["stechford"]
    sick = only_shift_at(stechford, THURSDAY).worker
    assert cover_at(stechford, thursday(12)).on_site
    assert slot_starts("stechford", thursday(7), thursday(20), clock)

    record_absence(sick, "sickness", *whole_day(THURSDAY), now=clock(), by=coordinator)
    db.session.commit()

    cover = cover_at(stechford, thursday(12))
    assert not cover.on_site
    assert cover.next_on_site_at == local(2027, 1, 15, 7)
    assert slot_starts("stechford", thursday(7), thursday(20), clock) == []
    # The worker is not offered anywhere else that day either.
    for slot in free_slots(RULES, clock(), before=local(2027, 1, 15, 0), limit=500):
        assert sick.id not in slot.free_worker_ids


def test_sickness_changes_nothing_until_the_transaction_commits(
    days, blocks, book, coordinator, clock
):
    stechford = blocks["stechford"]
    shift = only_shift_at(stechford, THURSDAY)
    sick_id, shift_id = shift.worker_id, shift.id
    booking = book(thursday(10))
    before = counts()

    _, result = record_absence(
        shift.worker, "sickness", *whole_day(THURSDAY), now=clock(), by=coordinator
    )
    assert result.needs_rearranging == [booking]
    db.session.rollback()

    assert counts() == before
    assert db.session.get(Booking, booking.id).worker_id == sick_id
    assert [s.id for s in shifts_at(stechford, THURSDAY)] == [shift_id]
    assert needs_rearranging() == []


# A part-day absence


def test_a_part_day_absence_splits_the_shift_and_rechecks_only_the_bookings_inside_it(
    days, blocks, book, coordinator, clock
):
    stechford = blocks["stechford"]
    worker = only_shift_at(stechford, THURSDAY).worker
    before_gap, gap_start, gap_end, after_gap = (
        book(thursday(11, 30)),
        book(thursday(12)),
        book(thursday(13, 30)),
        book(thursday(14)),
    )

    _, result = record_absence(
        worker, "leave", thursday(12), thursday(14), now=clock(), by=coordinator
    )
    db.session.commit()

    assert [(s.worker_id, s.starts_at, s.ends_at) for s in shifts_at(stechford, THURSDAY)] == [
        (worker.id, thursday(7), thursday(12)),
        (worker.id, thursday(14), thursday(20)),
    ]
    assert before_gap.worker_id == after_gap.worker_id == worker.id
    assert result.needs_rearranging == [gap_start, gap_end]
    assert gap_start.worker_id is None and gap_end.worker_id is None
    assert needs_rearranging() == [gap_start, gap_end]
    (removal,) = db.session.scalars(select(RotaRemoval)).all()
    assert (removal.starts_at, removal.ends_at, removal.reason) == (
        thursday(12),
        thursday(14),
        "absence",
    )
    offered = slot_starts("stechford", thursday(11), thursday(20), clock)
    assert not [s for s in offered if thursday(12) <= s < thursday(14)]
    assert thursday(14, 30) in offered
    # Generating the day again does not refill the gap.
    assert rota.generate(THURSDAY, THURSDAY, now=clock()) == 0
    assert len(shifts_at(stechford, THURSDAY)) == 2


def test_a_part_day_absence_hands_bookings_inside_it_to_a_worker_on_site(
    days, blocks, book, coordinator, clock
):
    stechford = blocks["stechford"]
    worker = only_shift_at(stechford, THURSDAY).worker
    inside = book(thursday(12, 30))
    cover, *_ = spare_workers(THURSDAY)
    add_shift(cover, stechford, thursday(12), thursday(13), now=clock(), by=coordinator)
    db.session.commit()

    _, result = record_absence(
        worker, "sickness", thursday(12), thursday(14), now=clock(), by=coordinator
    )
    db.session.commit()

    assert result.reassigned == [inside]
    assert (inside.worker_id, inside.starts_at) == (cover.id, thursday(12, 30))


# Removing a weekend shift


def test_removing_a_weekend_shift_flags_its_bookings(days, blocks, book, coordinator, clock):
    perry_barr = blocks["perry-barr"]
    shift = only_shift_at(perry_barr, SATURDAY)
    morning, afternoon = book(saturday(10), "perry-barr"), book(saturday(15), "perry-barr")

    result = remove_shift(shift, now=clock(), by=coordinator)
    db.session.commit()

    assert result.needs_rearranging == [morning, afternoon]
    assert needs_rearranging([perry_barr.id]) == [morning, afternoon]
    assert shifts_at(perry_barr, SATURDAY) == []
    (removal,) = db.session.scalars(select(RotaRemoval)).all()
    assert (removal.block_id, removal.starts_at, removal.ends_at, removal.reason) == (
        perry_barr.id,
        saturday(7),
        saturday(20),
        "removed",
    )
    assert not cover_at(perry_barr, saturday(12)).on_site


def test_generation_does_not_put_a_removed_shift_back_and_keeps_manual_changes(
    days, blocks, book, coordinator, clock
):
    perry_barr, coventry = blocks["perry-barr"], blocks["coventry"]
    remove_shift(only_shift_at(perry_barr, SATURDAY), now=clock(), by=coordinator)
    extra, swap_in, *_ = spare_workers(SATURDAY)
    manual, _ = add_shift(
        extra, perry_barr, saturday(12), saturday(16), now=clock(), by=coordinator
    )
    swapped = only_shift_at(coventry, SATURDAY)
    change_shift(
        swapped,
        worker=swap_in,
        block=coventry,
        starts_at=swapped.starts_at,
        ends_at=swapped.ends_at,
        now=clock(),
        by=coordinator,
    )
    db.session.commit()
    saturday_before = {
        (s.id, s.worker_id, s.block_id, s.starts_at, s.ends_at, s.generated)
        for block in blocks.values()
        for s in shifts_at(block, SATURDAY)
    }

    assert rota.generate(SATURDAY, SATURDAY, now=clock()) == 0
    # Running it over a longer span fills only the new day (Sunday), and again changes nothing.
    assert rota.generate(THURSDAY, SATURDAY + dt.timedelta(days=1), now=clock()) == 3
    assert rota.generate(THURSDAY, SATURDAY + dt.timedelta(days=1), now=clock()) == 0

    saturday_after = {
        (s.id, s.worker_id, s.block_id, s.starts_at, s.ends_at, s.generated)
        for block in blocks.values()
        for s in shifts_at(block, SATURDAY)
    }
    assert saturday_after == saturday_before
    assert shifts_at(perry_barr, SATURDAY) == [manual]
    assert manual.generated is False
    assert only_shift_at(coventry, SATURDAY).worker_id == swap_in.id


# Swapping and moving shifts


def test_swapping_a_shifts_worker_moves_its_bookings_to_the_new_worker_in_the_same_slots(
    days, blocks, book, coordinator, clock
):
    stechford = blocks["stechford"]
    shift = only_shift_at(stechford, THURSDAY)
    before_worker = shift.worker_id
    morning, afternoon = book(thursday(10)), book(thursday(15))
    new_worker, *_ = spare_workers(THURSDAY)

    result = change_shift(
        shift,
        worker=new_worker,
        block=stechford,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        now=clock(),
        by=coordinator,
    )
    db.session.commit()

    assert result.reassigned == [morning, afternoon]
    assert result.needs_rearranging == []
    for booking, starts_at in ((morning, thursday(10)), (afternoon, thursday(15))):
        assert (booking.worker_id, booking.block_id, booking.starts_at) == (
            new_worker.id,
            stechford.id,
            starts_at,
        )
        assert events_of(booking)[-1] == ("reassigned", "worker no longer on site")
    assert (shift.worker_id, shift.generated, shift.sequence) == (new_worker.id, False, 1)
    assert before_worker != new_worker.id
    assert needs_rearranging() == []


def test_a_swap_never_double_books_the_new_worker(days, blocks, book, coordinator, clock):
    stechford, oldbury = blocks["stechford"], blocks["oldbury"]
    shift = only_shift_at(stechford, THURSDAY)
    morning, afternoon = book(thursday(10)), book(thursday(15))
    new_worker, *_ = spare_workers(THURSDAY)
    # The new worker already holds a 10:00 booking (entered directly, as an override would):
    # handing them the 10:00 booking too would double-book them.
    held = Booking(
        reference="HELD-0001",
        block_id=oldbury.id,
        worker_id=new_worker.id,
        starts_at=thursday(10),
        ends_at=thursday(10, 30),
        requirement="initial",
        test_result="cocaine",
        tested_at=clock(),
        arrest_block_id=oldbury.id,
        created_at=clock(),
        updated_at=clock(),
    )
    db.session.add(held)
    db.session.commit()

    result = change_shift(
        shift,
        worker=new_worker,
        block=stechford,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        now=clock(),
        by=coordinator,
    )
    db.session.commit()

    assert result.reassigned == [afternoon]
    assert result.needs_rearranging == [morning]
    assert morning.worker_id is None
    assert afternoon.worker_id == new_worker.id
    assert held.worker_id == new_worker.id
    assert needs_rearranging() == [morning]


def test_moving_a_shift_later_hands_over_or_flags_the_bookings_it_no_longer_covers(
    days, blocks, book, coordinator, clock
):
    stechford = blocks["stechford"]
    shift = only_shift_at(stechford, THURSDAY)
    worker = shift.worker
    early, ten, late = book(thursday(8)), book(thursday(10)), book(thursday(15))
    cover, *_ = spare_workers(THURSDAY)
    add_shift(cover, stechford, thursday(7), thursday(11), now=clock(), by=coordinator)
    db.session.commit()
    covers_ten = book(thursday(10), name="Someone Else")
    assert (ten.worker_id, covers_ten.worker_id) == (worker.id, cover.id)

    result = change_shift(
        shift,
        worker=worker,
        block=stechford,
        starts_at=thursday(12),
        ends_at=thursday(20),
        now=clock(),
        by=coordinator,
    )
    db.session.commit()

    assert result.reassigned == [early]
    assert early.worker_id == cover.id
    # The worker on site already holds 10:00: flagged rather than double-booked.
    assert result.needs_rearranging == [ten]
    assert ten.worker_id is None
    assert late.worker_id == worker.id
    assert (shift.starts_at, shift.ends_at, shift.generated) == (thursday(12), thursday(20), False)
    (removal,) = db.session.scalars(select(RotaRemoval)).all()
    assert (removal.starts_at, removal.ends_at, removal.reason) == (
        thursday(7),
        thursday(20),
        "moved",
    )
    offered = slot_starts("stechford", thursday(7), thursday(20), clock)
    assert not [s for s in offered if thursday(11) <= s < thursday(12)]
    assert rota.generate(THURSDAY, THURSDAY, now=clock()) == 0


# Extra cover


def test_extra_cover_places_the_bookings_waiting_to_be_rearranged_in_its_window(
    days, blocks, book, coordinator, clock
):
    stechford = blocks["stechford"]
    sick = only_shift_at(stechford, THURSDAY).worker
    morning, afternoon = book(thursday(10)), book(thursday(15))
    record_absence(sick, "sickness", *whole_day(THURSDAY), now=clock(), by=coordinator)
    db.session.commit()
    assert needs_rearranging() == [morning, afternoon]
    cover, *_ = spare_workers(THURSDAY)

    shift, result = add_shift(
        cover, stechford, thursday(9), thursday(12), now=clock(), by=coordinator
    )
    db.session.commit()

    assert (shift.generated, shift.worker_id) == (False, cover.id)
    assert result.placed == [morning]
    assert morning.worker_id == cover.id
    assert morning.starts_at == thursday(10)
    assert events_of(morning)[-1] == ("reassigned", "new cover")
    assert afternoon.worker_id is None
    assert needs_rearranging() == [afternoon]
    assert cover_at(stechford, thursday(11)).on_site


# Rearranging a booking that lost its worker


def test_rearranging_a_booking_that_lost_its_worker_gives_it_one_and_a_new_notice(
    days, blocks, book, users, coordinator, clock
):
    stechford = blocks["stechford"]
    sick = only_shift_at(stechford, THURSDAY).worker
    booking = book(thursday(10))
    record_absence(sick, "sickness", *whole_day(THURSDAY), now=clock(), by=coordinator)
    db.session.commit()
    assert needs_rearranging() == [booking]
    friday_worker = only_shift_at(stechford, dt.date(2027, 1, 15)).worker_id

    bookings.rearrange(
        booking,
        "stechford",
        local(2027, 1, 15, 10),
        by=users[Role.SERGEANT],
        now=clock(),
        rules=RULES,
    )
    db.session.commit()

    assert booking.worker_id == friday_worker
    assert booking.notice_version == 2
    assert [(n.version, n.starts_at) for n in booking.notices] == [
        (1, thursday(10)),
        (2, local(2027, 1, 15, 10)),
    ]
    assert needs_rearranging() == []


def test_a_booking_that_lost_its_worker_gets_its_own_slot_back_when_a_worker_is_freed(
    days, blocks, book, users, coordinator, clock
):
    # Two workers at 10:00, both booked; one is off sick, so that booking is flagged. Then the
    # other 10:00 booking is cancelled: the worker left on site is free at 10:00 again, and the
    # flagged booking keeps its time and place (the person's notice): cancelling hands it over.
    stechford = blocks["stechford"]
    sick = only_shift_at(stechford, THURSDAY).worker
    cover, *_ = spare_workers(THURSDAY)
    add_shift(cover, stechford, thursday(7), thursday(20), now=clock(), by=coordinator)
    db.session.commit()
    first, second = book(thursday(10)), book(thursday(10), name="Someone Else")
    flagged = first if first.worker_id == sick.id else second
    other = second if flagged is first else first
    record_absence(sick, "sickness", *whole_day(THURSDAY), now=clock(), by=coordinator)
    assert needs_rearranging() == [flagged]
    bookings.cancel(other, "Released", by=users[Role.SERGEANT], now=clock())
    db.session.commit()

    assert flagged.worker_id == cover.id
    assert flagged.notice_version == 1
    assert needs_rearranging() == []


# Refusals: each names its field and writes nothing


# Each sets the scene (committed), then returns the change that must be refused.


def _add_overlapping_the_workers_other_shift(blocks, clock, coordinator):
    worker = only_shift_at(blocks["stechford"], THURSDAY).worker
    return lambda: add_shift(
        worker, blocks["oldbury"], thursday(12), thursday(16), now=clock(), by=coordinator
    )


def _add_in_an_absence(blocks, clock, coordinator):
    worker, *_ = spare_workers(THURSDAY)
    record_absence(worker, "leave", *whole_day(THURSDAY), now=clock(), by=coordinator)
    db.session.commit()
    return lambda: add_shift(
        worker, blocks["oldbury"], thursday(12), thursday(16), now=clock(), by=coordinator
    )


def _add_ending_before_it_starts(blocks, clock, coordinator):
    worker, *_ = spare_workers(THURSDAY)
    return lambda: add_shift(
        worker, blocks["oldbury"], thursday(16), thursday(12), now=clock(), by=coordinator
    )


def _add_longer_than_a_day(blocks, clock, coordinator):
    worker, *_ = spare_workers(THURSDAY)
    return lambda: add_shift(
        worker,
        blocks["oldbury"],
        thursday(7),
        thursday(7) + dt.timedelta(hours=24, minutes=30),
        now=clock(),
        by=coordinator,
    )


def _swap_to_a_worker_on_another_shift(blocks, clock, coordinator):
    shift = only_shift_at(blocks["stechford"], THURSDAY)
    other = only_shift_at(blocks["oldbury"], THURSDAY)
    return lambda: change_shift(
        shift,
        worker=other.worker,
        block=shift.block,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        now=clock(),
        by=coordinator,
    )


def _move_into_an_absence(blocks, clock, coordinator):
    shift = only_shift_at(blocks["stechford"], THURSDAY)
    worker, *_ = spare_workers(THURSDAY)
    record_absence(worker, "leave", thursday(18), thursday(22), now=clock(), by=coordinator)
    db.session.commit()
    return lambda: change_shift(
        shift,
        worker=worker,
        block=shift.block,
        starts_at=thursday(8),
        ends_at=thursday(20),
        now=clock(),
        by=coordinator,
    )


def _move_to_end_before_it_starts(blocks, clock, coordinator):
    shift = only_shift_at(blocks["stechford"], THURSDAY)
    return lambda: change_shift(
        shift,
        worker=shift.worker,
        block=shift.block,
        starts_at=thursday(20),
        ends_at=thursday(7),
        now=clock(),
        by=coordinator,
    )


def _absence_ending_before_it_starts(blocks, clock, coordinator):
    worker = only_shift_at(blocks["stechford"], THURSDAY).worker
    return lambda: record_absence(
        worker, "sickness", thursday(14), thursday(12), now=clock(), by=coordinator
    )


def _absence_of_an_unknown_kind(blocks, clock, coordinator):
    worker = only_shift_at(blocks["stechford"], THURSDAY).worker
    return lambda: record_absence(
        worker, "holiday", *whole_day(THURSDAY), now=clock(), by=coordinator
    )


@pytest.mark.parametrize(
    ("attempt", "field"),
    [
        pytest.param(_add_overlapping_the_workers_other_shift, "worker", id="add-overlapping"),
        pytest.param(_add_in_an_absence, "worker", id="add-in-an-absence"),
        pytest.param(_add_ending_before_it_starts, "ends_at", id="add-ends-before-start"),
        pytest.param(_add_longer_than_a_day, "ends_at", id="add-longer-than-a-day"),
        pytest.param(_swap_to_a_worker_on_another_shift, "worker", id="swap-to-busy-worker"),
        pytest.param(_move_into_an_absence, "worker", id="change-into-an-absence"),
        pytest.param(_move_to_end_before_it_starts, "ends_at", id="change-ends-before-start"),
        pytest.param(_absence_ending_before_it_starts, "ends_at", id="absence-ends-before-start"),
        pytest.param(_absence_of_an_unknown_kind, "kind", id="absence-unknown-kind"),
    ],
)
def test_an_impossible_rota_change_is_refused_and_writes_nothing(
    days, blocks, book, coordinator, clock, attempt, field
):
    book(thursday(10))
    shift = only_shift_at(blocks["stechford"], THURSDAY)
    shift_before = (shift.worker_id, shift.block_id, shift.starts_at, shift.ends_at, shift.sequence)
    change = attempt(blocks, clock, coordinator)
    before = counts()

    with pytest.raises(InvalidField) as refused:
        change()
    assert field in refused.value.errors

    assert counts() == before
    db.session.rollback()
    assert counts() == before
    shift = db.session.get(Shift, shift.id)
    assert (shift.worker_id, shift.block_id, shift.starts_at, shift.ends_at, shift.sequence) == (
        shift_before
    )
    assert needs_rearranging() == []


# Generating the rota


def all_shifts() -> list[Shift]:
    return list(db.session.scalars(select(Shift).order_by(Shift.starts_at, Shift.block_id)))


def windows(blocks, start: dt.date, end: dt.date) -> list[rota.CoverWindow]:
    return [
        window
        for day in rota.dates(start, end)
        for block in blocks.values()
        for window in rota.cover_windows(block, day)
    ]


def weekly_hours(shifts) -> Counter:
    hours: Counter = Counter()
    for shift in shifts:
        day = shift.starts_at.astimezone(LONDON).date()
        week = day - dt.timedelta(days=day.weekday())
        hours[(shift.worker_id, week)] += (shift.ends_at - shift.starts_at).total_seconds() / 3600
    return hours


def assert_nobody_in_two_places(shifts) -> None:
    by_worker = defaultdict(list)
    for shift in shifts:
        by_worker[shift.worker_id].append(shift)
    for worker_shifts in by_worker.values():
        worker_shifts.sort(key=lambda s: s.starts_at)
        for earlier, later in zip(worker_shifts, worker_shifts[1:], strict=False):
            assert earlier.ends_at <= later.starts_at


def test_generating_the_rota_twice_changes_nothing(team, blocks, clock):
    first = rota.generate(dt.date(2027, 1, 14), dt.date(2027, 1, 20), now=clock())
    before = [(s.id, s.worker_id, s.block_id, s.starts_at, s.ends_at) for s in all_shifts()]
    assert first == len(before) == len(windows(blocks, dt.date(2027, 1, 14), dt.date(2027, 1, 20)))

    assert rota.generate(dt.date(2027, 1, 14), dt.date(2027, 1, 20), now=clock()) == 0
    after = [(s.id, s.worker_id, s.block_id, s.starts_at, s.ends_at) for s in all_shifts()]
    assert after == before


@pytest.mark.parametrize(
    ("start", "end", "change_day", "utc_start_before", "utc_start_after"),
    [
        # Clocks go forward on Sunday 28 March 2027: 07:00 is 06:00 UTC from then on.
        (dt.date(2027, 3, 22), dt.date(2027, 4, 4), dt.date(2027, 3, 28), 7, 6),
        # Clocks go back on Sunday 31 October 2027: 07:00 is 07:00 UTC from then on.
        (dt.date(2027, 10, 25), dt.date(2027, 11, 7), dt.date(2027, 10, 31), 6, 7),
    ],
    ids=["spring-forward", "autumn-back"],
)
def test_shifts_stay_seven_to_eight_local_time_across_a_clock_change(
    team, blocks, start, end, change_day, utc_start_before, utc_start_after, clock
):
    created = rota.generate(start, end, now=clock())
    shifts = all_shifts()
    assert created == len(shifts) == len(windows(blocks, start, end))
    days = {s.starts_at.astimezone(LONDON).date() for s in shifts}
    assert change_day in days
    for shift in shifts:
        starts, ends = shift.starts_at.astimezone(LONDON), shift.ends_at.astimezone(LONDON)
        assert (starts.time(), ends.time()) == (dt.time(7), dt.time(20))
        assert starts.date() == ends.date()
        assert shift.ends_at - shift.starts_at == dt.timedelta(hours=13)
        expected = utc_start_after if starts.date() >= change_day else utc_start_before
        assert shift.starts_at.hour == expected


FOUR_WEEKS = (dt.date(2027, 1, 18), dt.date(2027, 2, 14))


@pytest.mark.parametrize("weeks_at_a_time", [4, 1], ids=["all-at-once", "week-by-week"])
def test_weekend_duty_goes_round_the_team_over_four_weeks(team, blocks, weeks_at_a_time, clock):
    first, last = FOUR_WEEKS
    while first <= last:
        rota.generate(first, first + dt.timedelta(weeks=weeks_at_a_time, days=-1), now=clock())
        first += dt.timedelta(weeks=weeks_at_a_time)
    weekend_blocks = {b.id for b in blocks.values() if b.high_activity}
    duties = Counter({worker.id: 0 for worker in team})
    for shift in all_shifts():
        if shift.starts_at.astimezone(LONDON).weekday() >= 5:
            assert shift.block_id in weekend_blocks
            duties[shift.worker_id] += 1
    # Four weekends at three blocks: 24 duties among 14 workers, so each does one or two.
    assert sum(duties.values()) == 4 * 2 * 3
    assert max(duties.values()) - min(duties.values()) <= 1
    assert min(duties.values()) >= 1


def test_nobody_is_rostered_at_two_blocks_at_once_or_over_the_hours_cap(team, blocks, clock):
    created = rota.generate(*FOUR_WEEKS, now=clock())
    shifts = all_shifts()
    assert created == len(shifts) == len(windows(blocks, *FOUR_WEEKS))
    assert_nobody_in_two_places(shifts)
    assert max(weekly_hours(shifts).values()) <= 40


def test_a_tight_hours_cap_leaves_windows_unfilled_rather_than_overfilled(team, blocks, clock):
    created = rota.generate(*FOUR_WEEKS, now=clock(), max_hours_per_week=26)
    shifts = all_shifts()
    open_windows = windows(blocks, *FOUR_WEEKS)
    # 14 workers can do two 13-hour shifts a week each: 28 of the 36 weekly windows.
    assert created == len(shifts) == 14 * 2 * 4 < len(open_windows)
    assert max(weekly_hours(shifts).values()) <= 26
    assert_nobody_in_two_places(shifts)
    per_window = Counter((s.block_id, s.starts_at) for s in shifts)
    assert max(per_window.values()) == 1


def test_an_absent_worker_is_not_rostered_and_the_block_is_still_covered(
    team, blocks, coordinator, clock
):
    away = next(w for w in team if w.home_block_id == blocks["perry-barr"].id)
    record_absence(
        away, "leave", local(2027, 1, 18, 0), local(2027, 1, 23, 0), now=clock(), by=coordinator
    )
    db.session.commit()

    rota.generate(dt.date(2027, 1, 18), dt.date(2027, 1, 24), now=clock())

    away_shifts = [s for s in all_shifts() if s.worker_id == away.id]
    assert all(s.starts_at >= local(2027, 1, 23, 0) for s in away_shifts)
    for day in rota.dates(dt.date(2027, 1, 18), dt.date(2027, 1, 22)):
        assert len(shifts_at(blocks["perry-barr"], day)) == 1
