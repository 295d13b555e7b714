"""Booking, rearranging and cancelling: the one write path for appointments."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from booking.appointments import bookings
from booking.appointments.references import ALPHABET
from booking.appointments.slots import SlotRules, find_slot
from booking.errors import InvalidField, SlotTaken
from booking.extensions import db
from booking.models import (
    Booking,
    BookingStatus,
    CoverRule,
    Message,
    MessageKind,
    MessageStatus,
    Notice,
    Role,
    Shift,
)
from tests import support
from tests.support import count, fill_rota, local, trail, utc

RULES = SlotRules()


# The clock: Wednesday 13 January 2027, 21:00. Cover resumes on Thursday at 07:00.
THURSDAY_TEN = local(2027, 1, 14, 10)


@pytest.fixture
def week(team, users):
    """The rota from Thursday 14 to Wednesday 20 January 2027, and Thursday 11 February."""
    fill_rota(dt.date(2027, 1, 14), 7)
    fill_rota(dt.date(2027, 2, 11), 1)


@pytest.fixture
def book(users, clock):
    """Book as a caller would (the sergeant by default); the caller commits."""

    def make(starts_at=THURSDAY_TEN, block="stechford", role=Role.SERGEANT, **changes):
        return support.book(users[role], block, starts_at, clock(), commit=False, **changes)

    return make


def counts() -> dict[str, int]:
    return {
        "bookings": count(Booking),
        "notices": count(Notice),
        "messages": count(Message),
        "audit_events": len(trail()),
    }


def messages_of(booking, kind) -> list[Message]:
    return [m for m in booking.messages if m.kind == kind]


# Booking


def test_a_booking_holds_the_slot_with_a_rostered_worker_and_notice_version_one(
    week, book, users, clock, blocks
):
    booking = book(
        custody_record="  20/123456/27 ",
        person_name="  Jamie   Testperson ",
        mobile="07700 900 123",
    )
    db.session.commit()

    assert re.fullmatch(f"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}", booking.reference)
    assert booking.status == BookingStatus.BOOKED
    assert booking.block.code == "stechford"
    assert (booking.starts_at, booking.ends_at) == (THURSDAY_TEN, local(2027, 1, 14, 10, 30))
    assert booking.custody_record == "20/123456/27"
    assert booking.person_name == "Jamie Testperson"
    assert booking.mobile == "+447700900123"
    assert booking.arrest_block.code == "stechford"
    assert booking.created_by_id == users[Role.SERGEANT].id
    shift = db.session.scalar(
        select(Shift).where(
            Shift.worker_id == booking.worker_id,
            Shift.block_id == blocks["stechford"].id,
            Shift.starts_at <= booking.starts_at,
            Shift.ends_at >= booking.ends_at,
        )
    )
    assert shift is not None

    (notice,) = booking.notices
    assert (notice.version, booking.notice_version) == (1, 1)
    assert (notice.block_id, notice.starts_at, notice.ends_at) == (
        booking.block_id,
        booking.starts_at,
        booking.ends_at,
    )
    assert notice.issued_by_id == users[Role.SERGEANT].id


def test_a_booking_queues_a_confirmation_and_records_who_created_it(week, book, users, clock):
    booking = book()
    db.session.commit()

    (confirmation,) = messages_of(booking, MessageKind.CONFIRMATION)
    assert confirmation.status == MessageStatus.PENDING
    assert confirmation.send_at == clock()
    (event,) = trail()
    assert (event.action, event.reference, event.user_id, event.at) == (
        "created",
        booking.reference,
        users[Role.SERGEANT].id,
        clock(),
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"sms_consent": False}, "did not agree"),
        ({"mobile": None, "sms_consent": False}, "No mobile number"),
        ({"mobile": "  ", "sms_consent": False}, "No mobile number"),
    ],
    ids=["no-consent", "no-mobile", "blank-mobile"],
)
def test_no_text_is_sent_without_consent_and_a_mobile_and_the_reason_is_kept(
    week, book, changes, reason
):
    booking = book(**changes)
    db.session.commit()
    (confirmation,) = messages_of(booking, MessageKind.CONFIRMATION)
    assert confirmation.status == MessageStatus.SKIPPED
    assert reason in confirmation.skip_reason
    assert all(m.status == MessageStatus.SKIPPED for m in booking.messages)


@pytest.mark.parametrize("role", [Role.WORKER, Role.COORDINATOR])
def test_a_worker_or_coordinator_may_book_a_follow_up(week, book, role):
    booking = book(role=role, requirement="follow_up")
    assert booking.requirement == "follow_up"


def test_a_voluntary_assessment_may_follow_a_negative_test(week, book):
    booking = book(requirement="voluntary", test_result="negative")
    assert booking.test_result == "negative"


def test_a_disputed_result_may_be_booked_from_the_fifth_working_day(week, book):
    # Tested on Wednesday 13 January: Thu 14, Fri 15, Mon 18, Tue 19, Wed 20.
    booking = book(starts_at=local(2027, 1, 20, 7), disputed=True)
    assert booking.disputed
    assert booking.starts_at == local(2027, 1, 20, 7)


def test_a_booking_is_found_by_its_reference_however_it_is_typed(week, book):
    booking = book()
    db.session.commit()
    typed = booking.reference.lower().replace("-", "")
    assert bookings.get_booking(typed).id == booking.id


def test_a_slot_in_the_repeated_autumn_hour_can_be_booked(blocks, team, book, clock):
    clock.set_local(2027, 10, 30, 12)
    blocks["stechford"].cover_rules.append(CoverRule(weekday=6, starts=dt.time(0), ends=dt.time(6)))
    db.session.commit()
    fill_rota(dt.date(2027, 10, 31), 1)
    # 01:00 UTC is the second 01:00 in London that night (GMT).
    booking = book(starts_at=utc(2027, 10, 31, 1))
    assert (booking.starts_at, booking.ends_at) == (utc(2027, 10, 31, 1), utc(2027, 10, 31, 1, 30))


# Refusals: each names the field, and nothing is written.

WHEN = "starts_at"
REFUSALS = [
    pytest.param("custody_record", {"custody_record": "   "}, None, id="custody-record-empty"),
    pytest.param(
        "custody_record", {"custody_record": "X" * 41}, None, id="custody-record-too-long"
    ),
    pytest.param("person_name", {"person_name": ""}, None, id="person-name-empty"),
    pytest.param("person_name", {"person_name": "X" * 101}, None, id="person-name-too-long"),
    pytest.param("mobile", {"mobile": "0121 496 0000"}, None, id="mobile-landline"),
    pytest.param("mobile", {"mobile": "07700 FLOWER"}, None, id="mobile-letters"),
    pytest.param(
        "mobile",
        {"mobile": None, "sms_consent": True},
        "does not want texts",
        id="consent-without-mobile",
    ),
    pytest.param("requirement", {"requirement": "urgent"}, None, id="requirement-unknown"),
    pytest.param(
        "requirement",
        {"requirement": "follow_up"},
        "worker or coordinator",
        id="follow-up-by-sergeant",
    ),
    pytest.param(
        "test_result",
        {"test_result": "negative"},
        "positive test",
        id="negative-for-required-assessment",
    ),
    pytest.param("test_result", {"test_result": "inconclusive"}, None, id="test-result-unknown"),
    pytest.param(
        "disputed",
        {"requirement": "voluntary", "test_result": "negative", "disputed": True},
        None,
        id="disputed-negative",
    ),
    pytest.param(
        "tested_at", {"tested_at": dt.timedelta(hours=1)}, "in the past", id="tested-in-the-future"
    ),
    pytest.param(
        "tested_at", {"tested_at": -dt.timedelta(days=29)}, "last 28 days", id="tested-too-long-ago"
    ),
    pytest.param("arrest_block", {"arrest_block": "nowhere"}, None, id="arrest-block-unknown"),
    pytest.param("block", {"block": "nowhere"}, None, id="block-unknown"),
    pytest.param(
        "starts_at", {WHEN: local(2027, 1, 14, 10, 10)}, "slot start", id="time-off-the-grid"
    ),
    pytest.param("starts_at", {WHEN: local(2027, 1, 13, 21, 30)}, "60 minutes", id="too-soon"),
    pytest.param("starts_at", {WHEN: local(2027, 1, 13, 10)}, "60 minutes", id="in-the-past"),
    pytest.param("starts_at", {WHEN: local(2027, 2, 11, 10)}, "within 28 days", id="too-far-ahead"),
    pytest.param(
        "starts_at",
        {WHEN: local(2027, 1, 16, 10)},
        "No worker is rostered",
        id="no-worker-rostered",
    ),
    pytest.param(
        "starts_at",
        {WHEN: local(2027, 1, 19, 19, 30), "disputed": True},
        "5 working days",
        id="disputed-too-early",
    ),
]


@pytest.mark.parametrize(("field", "changes", "says"), REFUSALS)
def test_each_refusal_names_its_field_and_writes_nothing(week, book, clock, field, changes, says):
    changes = dict(changes)
    if isinstance(changes.get("tested_at"), dt.timedelta):
        changes["tested_at"] = clock() + changes["tested_at"]
    starts_at = changes.pop(WHEN, THURSDAY_TEN)
    block = changes.pop("block", "stechford")
    with pytest.raises(InvalidField) as refused:
        book(starts_at=starts_at, block=block, **changes)
    assert set(refused.value.errors) == {field}
    if says:
        assert says in refused.value.errors[field]
    db.session.rollback()
    assert counts() == {"bookings": 0, "notices": 0, "messages": 0, "audit_events": 0}


def test_every_wrong_field_is_named_at_once(week, book):
    with pytest.raises(InvalidField) as refused:
        book(block="nowhere", custody_record="", person_name="", mobile="hello")
    assert set(refused.value.errors) == {"block", "custody_record", "person_name", "mobile"}


def test_the_refused_times_are_slots_the_rota_could_serve(week, blocks, clock):
    # The refusals above are for the rule, not for a missing shift.
    for starts_at in (local(2027, 2, 11, 10), local(2027, 1, 19, 19, 30)):
        assert db.session.scalar(
            select(func.count())
            .select_from(Shift)
            .where(
                Shift.block_id == blocks["stechford"].id,
                Shift.starts_at <= starts_at,
                Shift.ends_at > starts_at,
            )
        )


# A full slot


def test_a_full_slot_is_refused_with_free_alternatives(week, book, blocks, clock):
    book()
    db.session.commit()
    before = counts()
    with pytest.raises(SlotTaken) as taken:
        book(person_name="Someone Else")
    db.session.rollback()

    alternatives = taken.value.alternatives
    assert alternatives
    assert "starts_at" in taken.value.errors
    for slot in alternatives:
        assert (slot.block.code, slot.starts_at) != ("stechford", THURSDAY_TEN)
        assert slot.starts_at >= THURSDAY_TEN
        assert find_slot(RULES, clock(), slot.block, slot.starts_at) is not None
    assert counts() == before


def test_the_database_refuses_two_live_bookings_for_one_worker_and_slot(week, blocks, clock):
    shift = db.session.scalars(
        select(Shift).where(Shift.block_id == blocks["stechford"].id).order_by(Shift.starts_at)
    ).first()

    def row(reference, status=BookingStatus.BOOKED):
        return Booking(
            reference=reference,
            status=status,
            block_id=blocks["stechford"].id,
            worker_id=shift.worker_id,
            starts_at=THURSDAY_TEN,
            ends_at=THURSDAY_TEN + dt.timedelta(minutes=30),
            requirement="initial",
            test_result="cocaine",
            tested_at=clock(),
            arrest_block_id=blocks["stechford"].id,
            created_at=clock(),
            updated_at=clock(),
        )

    db.session.add(row("AAAA-AAAA"))
    db.session.commit()
    db.session.add(row("BBBB-BBBB"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

    # A cancelled booking does not hold the slot.
    db.session.add(row("CCCC-CCCC", status=BookingStatus.CANCELLED))
    db.session.commit()
    assert count(Booking) == 2


# Rearranging


def test_rearranging_issues_notice_version_two_and_keeps_version_one(week, book, users, clock):
    booking = book()
    db.session.commit()
    clock.set(clock() + dt.timedelta(minutes=10))
    new_time = local(2027, 1, 15, 14)
    bookings.rearrange(
        booking, "oldbury", new_time, by=users[Role.WORKER], now=clock(), rules=RULES
    )
    db.session.commit()

    assert booking.notice_version == 2
    assert (booking.block.code, booking.starts_at) == ("oldbury", new_time)
    first, second = booking.notices
    assert (first.version, first.block.code, first.starts_at) == (1, "stechford", THURSDAY_TEN)
    assert (second.version, second.block.code, second.starts_at) == (2, "oldbury", new_time)
    assert (second.issued_by_id, second.issued_at) == (users[Role.WORKER].id, clock())
    actions = [event.action for event in trail()]
    assert actions == ["created", "rearranged"]


def test_rearranging_stops_pending_texts_and_sends_a_changed_one(week, book, users, clock):
    booking = book()
    db.session.commit()
    pending_before = [m for m in booking.messages if m.status == MessageStatus.PENDING]
    assert pending_before
    bookings.rearrange(
        booking,
        "stechford",
        local(2027, 1, 14, 15),
        by=users[Role.SERGEANT],
        now=clock(),
        rules=RULES,
    )
    db.session.commit()

    for message in pending_before:
        assert message.status == MessageStatus.CANCELLED
    (changed,) = messages_of(booking, MessageKind.CHANGED)
    assert changed.status == MessageStatus.PENDING


def test_rearranging_frees_the_old_slot_and_takes_the_new_one(week, book, users, blocks, clock):
    booking = book()
    db.session.commit()
    new_time = local(2027, 1, 14, 15)
    assert find_slot(RULES, clock(), blocks["stechford"], THURSDAY_TEN) is None
    bookings.rearrange(
        booking, "stechford", new_time, by=users[Role.SERGEANT], now=clock(), rules=RULES
    )
    db.session.commit()
    assert find_slot(RULES, clock(), blocks["stechford"], THURSDAY_TEN) is not None
    assert find_slot(RULES, clock(), blocks["stechford"], new_time) is None


def test_rearranging_into_a_full_slot_changes_nothing(week, book, users, clock):
    taken_time = local(2027, 1, 14, 15)
    book(starts_at=taken_time, person_name="First Person")
    booking = book()
    db.session.commit()
    with pytest.raises(SlotTaken):
        bookings.rearrange(
            booking, "stechford", taken_time, by=users[Role.SERGEANT], now=clock(), rules=RULES
        )
    db.session.rollback()
    assert booking.starts_at == THURSDAY_TEN
    assert booking.notice_version == 1
    assert [n.version for n in booking.notices] == [1]
    assert messages_of(booking, MessageKind.CHANGED) == []


@pytest.mark.parametrize(
    ("starts_at", "disputed", "says"),
    [
        (THURSDAY_TEN, False, "different slot"),
        (local(2027, 1, 14, 15, 15), False, "slot start"),
        (local(2027, 1, 16, 10), False, "No worker is rostered"),
        (local(2027, 1, 19, 10), True, "working days"),
    ],
    ids=["same-slot", "off-the-grid", "no-worker", "disputed-too-early"],
)
def test_a_refused_rearrangement_changes_nothing(
    week, book, users, clock, starts_at, disputed, says
):
    booking = book(starts_at=local(2027, 1, 20, 9) if disputed else THURSDAY_TEN, disputed=disputed)
    db.session.commit()
    before = counts()
    with pytest.raises(InvalidField) as refused:
        bookings.rearrange(
            booking,
            "stechford",
            starts_at,
            by=users[Role.SERGEANT],
            now=clock(),
            rules=RULES,
        )
    assert says in refused.value.errors["starts_at"]
    db.session.rollback()
    assert counts() == before
    assert booking.notice_version == 1


# Cancelling


def test_cancelling_frees_the_slot_for_someone_else(week, book, users, blocks, clock):
    booking = book()
    db.session.commit()
    worker_id = booking.worker_id
    bookings.cancel(booking, "  Released  without charge ", by=users[Role.SERGEANT], now=clock())
    db.session.commit()

    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancel_reason == "Released without charge"
    assert booking.cancelled_at == clock()
    assert find_slot(RULES, clock(), blocks["stechford"], THURSDAY_TEN).free == 1
    other = book(person_name="Someone Else")
    db.session.commit()
    assert (other.starts_at, other.worker_id) == (THURSDAY_TEN, worker_id)


def test_cancelling_stops_pending_texts_and_sends_a_cancelled_one(week, book, users, clock):
    booking = book()
    db.session.commit()
    pending_before = [m for m in booking.messages if m.status == MessageStatus.PENDING]
    bookings.cancel(booking, "Charged and remanded", by=users[Role.SERGEANT], now=clock())
    db.session.commit()

    for message in pending_before:
        assert message.status == MessageStatus.CANCELLED
    (cancelled,) = messages_of(booking, MessageKind.CANCELLED)
    assert cancelled.status == MessageStatus.PENDING
    actions = [event.action for event in trail()]
    assert actions == ["created", "cancelled"]


def test_cancelling_needs_a_reason(week, book, users, clock):
    booking = book()
    db.session.commit()
    with pytest.raises(InvalidField) as refused:
        bookings.cancel(booking, "   ", by=users[Role.SERGEANT], now=clock())
    assert set(refused.value.errors) == {"reason"}
    db.session.rollback()
    assert booking.status == BookingStatus.BOOKED


def test_a_cancelled_booking_cannot_be_rearranged_or_cancelled_again(week, book, users, clock):
    booking = book()
    bookings.cancel(booking, "Released", by=users[Role.SERGEANT], now=clock())
    db.session.commit()
    with pytest.raises(InvalidField) as refused:
        bookings.rearrange(
            booking,
            "stechford",
            local(2027, 1, 14, 15),
            by=users[Role.SERGEANT],
            now=clock(),
            rules=RULES,
        )
    assert set(refused.value.errors) == {"reference"}
    with pytest.raises(InvalidField):
        bookings.cancel(booking, "Again", by=users[Role.SERGEANT], now=clock())
    db.session.rollback()
