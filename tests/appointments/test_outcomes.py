"""After the appointment: its outcome, telling the police of a non-attendance, the follow-up.

The assessor must tell the police when the person fails to attend or leaves early (Drugs Act
2005); a follow-up assessment is required unless the initial assessor decides it is not needed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from booking.accounts.users import create_user, issue_token
from booking.appointments import bookings, outcomes
from booking.appointments.slots import SlotRules
from booking.errors import InvalidField, NotAllowed
from booking.extensions import db
from booking.models import AuditEvent, Booking, BookingStatus, Notice, Role, Shift
from tests.support import auth, count, fill_rota, local, on_site, signed_in

RULES = SlotRules()
# The clock: Wednesday 13 January 2027, 21:00. The rota runs Thursday 14 and Friday 15.
THURSDAY = dt.date(2027, 1, 14)


def thursday(hour: int, minute: int = 0) -> dt.datetime:
    return local(2027, 1, 14, hour, minute)


def friday(hour: int, minute: int = 0) -> dt.datetime:
    return local(2027, 1, 15, hour, minute)


@pytest.fixture
def days(team, users, blocks):
    """The rota on Thursday and Friday, with the signed-in worker on it at Stechford: an
    outcome is for a worker on that day's rota at that block."""
    fill_rota(THURSDAY, 2)
    for day in (14, 15):
        on_site(
            users[Role.WORKER].worker,
            blocks["stechford"],
            local(2027, 1, day, 7),
            local(2027, 1, day, 20),
        )


@pytest.fixture
def worker(users):
    return users[Role.WORKER]


@pytest.fixture
def book(book):
    """Book as a sergeant would (on Thursday at 10:00 unless told), and commit."""

    def make(starts_at=None, block="stechford", **changes):
        return book(starts_at or thursday(10), block, **changes)

    return make


@pytest.fixture
def attended(days, book, worker, clock):
    """An initial assessment on Thursday at 10:00, recorded as attended at 10:50."""
    booking = book()
    clock.set(thursday(10, 50))
    outcomes.record_outcome(booking, "attended", by=worker, now=clock())
    db.session.commit()
    return booking


def events_of(booking: Booking) -> list[tuple[str, str | None]]:
    return [
        (event.action, event.detail)
        for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.booking_id == booking.id).order_by(AuditEvent.id)
        )
    ]


def counts() -> dict[str, int]:
    return {model.__tablename__: count(model) for model in (Booking, Notice, AuditEvent)}


def follow_up_state(booking: Booking) -> tuple:
    return (booking.follow_up_decision, booking.follow_up_decided_at, len(booking.follow_ups))


def book_follow_up(initial, by, clock, starts_at=None, block="stechford") -> Booking:
    return outcomes.book_follow_up(
        initial,
        block,
        starts_at or friday(10),
        by=by,
        now=clock(),
        rules=RULES,
        allow_test_numbers=True,
    )


# Recording the outcome


def test_an_outcome_is_refused_before_the_appointment_starts(days, book, worker, clock):
    booking = book()
    clock.set(thursday(9, 59))
    with pytest.raises(InvalidField) as refused:
        outcomes.record_outcome(booking, "did_not_attend", by=worker, now=clock())
    assert set(refused.value.errors) == {"outcome"}
    db.session.rollback()
    assert booking.status == BookingStatus.BOOKED
    assert booking.outcome_at is None
    assert events_of(booking) == [("created", None)]

    clock.set(thursday(10))
    outcomes.record_outcome(booking, "did_not_attend", by=worker, now=clock())
    assert booking.status == BookingStatus.DID_NOT_ATTEND


@pytest.mark.parametrize("outcome", ["attended", "left_early", "did_not_attend"])
@pytest.mark.parametrize("role", [Role.WORKER, Role.COORDINATOR])
def test_each_outcome_is_recorded_with_when_and_by_whom(days, book, users, clock, outcome, role):
    booking = book()
    clock.set(thursday(10, 40))
    outcomes.record_outcome(booking, outcome, by=users[role], now=clock())
    db.session.commit()

    assert booking.status == outcome
    assert (booking.outcome_at, booking.outcome_by_id) == (thursday(10, 40), users[role].id)
    assert booking.updated_at == thursday(10, 40)
    assert events_of(booking) == [("created", None), ("outcome", outcome)]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "outcome")).one()
    assert (event.user_id, event.at, event.reference) == (
        users[role].id,
        thursday(10, 40),
        booking.reference,
    )


@pytest.mark.parametrize("outcome", ["booked", "cancelled", "maybe", ""])
def test_only_attended_left_early_or_did_not_attend_is_an_outcome(
    days, book, worker, clock, outcome
):
    booking = book()
    clock.set(thursday(11))
    with pytest.raises(InvalidField) as refused:
        outcomes.record_outcome(booking, outcome, by=worker, now=clock())
    assert set(refused.value.errors) == {"outcome"}
    db.session.rollback()
    assert booking.status == BookingStatus.BOOKED


def test_an_outcome_can_be_corrected_and_the_correction_is_audited(days, book, users, clock):
    booking = book()
    clock.set(thursday(10, 40))
    outcomes.record_outcome(booking, "did_not_attend", by=users[Role.WORKER], now=clock())
    db.session.commit()
    clock.set(thursday(16))
    outcomes.record_outcome(booking, "attended", by=users[Role.COORDINATOR], now=clock())
    db.session.commit()
    clock.set(friday(9))
    outcomes.record_outcome(booking, "left_early", by=users[Role.WORKER], now=clock())
    db.session.commit()

    assert booking.status == BookingStatus.LEFT_EARLY
    assert (booking.outcome_at, booking.outcome_by_id) == (friday(9), users[Role.WORKER].id)
    assert events_of(booking) == [
        ("created", None),
        ("outcome", "did_not_attend"),
        ("outcome", "attended, corrected from did_not_attend"),
        ("outcome", "left_early, corrected from attended"),
    ]


def test_recording_the_same_outcome_again_changes_nothing(days, book, users, clock):
    booking = book()
    clock.set(thursday(10, 40))
    outcomes.record_outcome(booking, "attended", by=users[Role.WORKER], now=clock())
    db.session.commit()
    clock.set(thursday(12))
    outcomes.record_outcome(booking, "attended", by=users[Role.COORDINATOR], now=clock())
    db.session.commit()

    assert (booking.outcome_at, booking.outcome_by_id) == (thursday(10, 40), users[Role.WORKER].id)
    assert events_of(booking) == [("created", None), ("outcome", "attended")]


def test_a_cancelled_appointment_has_no_outcome(days, book, users, worker, clock):
    booking = book()
    bookings.cancel(booking, "Released without charge", by=users[Role.SERGEANT], now=clock())
    db.session.commit()
    clock.set(thursday(11))
    before = counts()
    with pytest.raises(InvalidField) as refused:
        outcomes.record_outcome(booking, "did_not_attend", by=worker, now=clock())
    assert "cancelled" in refused.value.errors["outcome"]
    db.session.rollback()
    assert booking.status == BookingStatus.CANCELLED
    assert counts() == before
    assert outcomes.police_to_be_informed() == []


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.ANALYST])
def test_sergeants_and_analysts_do_not_record_outcomes(days, book, users, clock, role):
    booking = book()
    clock.set(thursday(11))
    before = counts()
    with pytest.raises(NotAllowed):
        outcomes.record_outcome(booking, "did_not_attend", by=users[role], now=clock())
    db.session.rollback()
    assert booking.status == BookingStatus.BOOKED
    assert counts() == before


# Telling the police


@pytest.fixture
def three_outcomes(days, book, blocks, worker, clock):
    """At Stechford on Thursday: did not attend (arrested at Stechford), left early (arrested
    at Oldbury), attended (arrested at Coventry)."""
    missed = book(thursday(10), arrest_block="stechford")
    left = book(thursday(10, 30), arrest_block="oldbury")
    came = book(thursday(11), arrest_block="coventry")
    clock.set(thursday(12))
    outcomes.record_outcome(missed, "did_not_attend", by=worker, now=clock())
    outcomes.record_outcome(left, "left_early", by=worker, now=clock())
    outcomes.record_outcome(came, "attended", by=worker, now=clock())
    db.session.commit()
    return missed, left, came


def test_non_attendance_and_leaving_early_are_listed_for_the_police(three_outcomes, blocks):
    missed, left, came = three_outcomes
    assert outcomes.police_to_be_informed() == [missed, left]
    assert outcomes.police_to_be_informed([blocks["oldbury"].id]) == [left]
    assert outcomes.police_to_be_informed([blocks["stechford"].id, blocks["oldbury"].id]) == [
        missed,
        left,
    ]
    assert outcomes.police_to_be_informed([blocks["coventry"].id]) == []


def test_telling_the_police_is_recorded_with_who_and_when_and_leaves_the_list(
    three_outcomes, users, clock
):
    missed, left, _ = three_outcomes
    clock.set(thursday(13))
    outcomes.mark_police_informed(missed, by=users[Role.COORDINATOR], now=clock())
    db.session.commit()

    assert (missed.police_informed_at, missed.police_informed_by_id) == (
        thursday(13),
        users[Role.COORDINATOR].id,
    )
    assert outcomes.police_to_be_informed() == [left]
    assert events_of(missed)[-1] == ("police_informed", None)

    # Marking it again keeps the first record.
    clock.set(thursday(14))
    outcomes.mark_police_informed(missed, by=users[Role.WORKER], now=clock())
    db.session.commit()
    assert (missed.police_informed_at, missed.police_informed_by_id) == (
        thursday(13),
        users[Role.COORDINATOR].id,
    )
    assert [e for e in events_of(missed) if e[0] == "police_informed"] == [
        ("police_informed", None)
    ]


def test_there_is_nothing_to_tell_the_police_of_an_attendance_or_a_pending_appointment(
    three_outcomes, book, worker, clock
):
    _, _, came = three_outcomes
    pending = book(friday(10))
    for booking in (came, pending):
        with pytest.raises(InvalidField) as refused:
            outcomes.mark_police_informed(booking, by=worker, now=clock())
        assert set(refused.value.errors) == {"reference"}
        db.session.rollback()
        assert booking.police_informed_at is None


def test_correcting_a_non_attendance_to_attended_takes_it_off_the_police_list(
    three_outcomes, worker, clock
):
    missed, left, _ = three_outcomes
    outcomes.mark_police_informed(left, by=worker, now=clock())
    db.session.commit()
    clock.set(thursday(15))
    outcomes.record_outcome(missed, "attended", by=worker, now=clock())
    outcomes.record_outcome(left, "attended", by=worker, now=clock())
    db.session.commit()

    assert outcomes.police_to_be_informed() == []
    assert (left.police_informed_at, left.police_informed_by_id) == (None, None)


def test_correcting_an_attendance_to_a_non_attendance_puts_it_on_the_police_list(
    three_outcomes, worker, clock
):
    missed, left, came = three_outcomes
    clock.set(thursday(15))
    outcomes.record_outcome(came, "did_not_attend", by=worker, now=clock())
    db.session.commit()
    assert outcomes.police_to_be_informed() == [missed, left, came]


def test_analysts_cannot_record_that_the_police_were_told(three_outcomes, users, clock):
    missed, _, _ = three_outcomes
    role = Role.ANALYST
    with pytest.raises(NotAllowed):
        outcomes.mark_police_informed(missed, by=users[role], now=clock())
    db.session.rollback()
    assert missed.police_informed_at is None
    assert missed in outcomes.police_to_be_informed()


def test_a_sergeant_records_that_the_police_were_told(three_outcomes, users, clock):
    missed, _, _ = three_outcomes
    outcomes.mark_police_informed(missed, by=users[Role.SERGEANT], now=clock())
    db.session.commit()
    assert missed.police_informed_by_id == users[Role.SERGEANT].id
    assert missed not in outcomes.police_to_be_informed()


def test_correcting_an_outcome_the_police_were_told_of_puts_it_back_on_their_list(
    three_outcomes, users, clock
):
    missed, _, _ = three_outcomes
    outcomes.mark_police_informed(missed, by=users[Role.WORKER], now=clock())
    outcomes.record_outcome(missed, "left_early", by=users[Role.WORKER], now=clock())
    db.session.commit()
    assert missed in outcomes.police_to_be_informed()
    detail = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "outcome").order_by(AuditEvent.id)
    ).all()[-1]
    assert (
        detail
        == "left_early (the police had been told: did_not_attend), corrected from did_not_attend"
    )


# The follow-up assessment


def test_a_follow_up_from_an_attended_initial_has_its_own_first_notice_and_is_linked(
    attended, worker, clock
):
    follow_up = book_follow_up(attended, worker, clock)
    db.session.commit()

    assert follow_up.id != attended.id
    assert follow_up.requirement == "follow_up"
    assert follow_up.status == BookingStatus.BOOKED
    assert (follow_up.block.code, follow_up.starts_at) == ("stechford", friday(10))
    assert follow_up.worker_id is not None
    assert follow_up.notice_version == 1
    assert [n.version for n in follow_up.notices] == [1]
    assert follow_up.follow_up_of == attended
    assert attended.follow_ups == [follow_up]
    assert (follow_up.person_name, follow_up.custody_record, follow_up.arrest_block_id) == (
        attended.person_name,
        attended.custody_record,
        attended.arrest_block_id,
    )
    assert (follow_up.test_result, follow_up.tested_at) == (
        attended.test_result,
        attended.tested_at,
    )
    assert follow_up.created_by_id == worker.id
    assert (attended.follow_up_decision, attended.follow_up_decided_at) == (
        "booked",
        thursday(10, 50),
    )
    assert events_of(follow_up) == [("created", None)]
    # The initial appointment itself is unchanged.
    assert (attended.notice_version, attended.status) == (1, BookingStatus.ATTENDED)


def test_no_follow_up_needed_is_recorded_as_the_assessors_decision(attended, worker, clock):
    clock.set(thursday(11))
    outcomes.record_no_follow_up(attended, by=worker, now=clock())
    db.session.commit()

    assert (attended.follow_up_decision, attended.follow_up_decided_at) == (
        "not_needed",
        thursday(11),
    )
    assert attended.follow_ups == []
    assert events_of(attended)[-1] == ("follow_up_not_needed", None)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "follow_up_not_needed")
    ).one()
    assert event.user_id == worker.id


def _book_it(initial, worker, clock):
    book_follow_up(initial, worker, clock, starts_at=friday(14))


def _not_needed(initial, worker, clock):
    outcomes.record_no_follow_up(initial, by=worker, now=clock())


@pytest.mark.parametrize("first", [_book_it, _not_needed], ids=["booked", "not-needed"])
@pytest.mark.parametrize("then", [_book_it, _not_needed], ids=["book", "not-needed"])
def test_the_follow_up_is_decided_once(attended, worker, clock, first, then):
    first(attended, worker, clock)
    db.session.commit()
    decided = follow_up_state(attended)
    before = counts()

    with pytest.raises(InvalidField) as refused:
        then(attended, worker, clock)
    assert "already" in refused.value.message
    db.session.rollback()

    assert follow_up_state(attended) == decided
    assert counts() == before


@pytest.mark.parametrize(
    ("outcome", "changes"),
    [
        (None, {}),
        ("did_not_attend", {}),
        ("left_early", {}),
        ("attended", {"requirement": "voluntary", "test_result": "negative"}),
    ],
    ids=["no-outcome-yet", "did-not-attend", "left-early", "voluntary"],
)
@pytest.mark.parametrize("decide", [_book_it, _not_needed], ids=["book", "not-needed"])
def test_a_follow_up_is_decided_only_after_an_attended_initial_assessment(
    days, book, worker, clock, outcome, changes, decide
):
    booking = book(**changes)
    clock.set(thursday(11))
    if outcome:
        outcomes.record_outcome(booking, outcome, by=worker, now=clock())
        db.session.commit()
    before = counts()

    with pytest.raises(InvalidField) as refused:
        decide(booking, worker, clock)
    assert set(refused.value.errors) == {"reference"}
    db.session.rollback()

    assert follow_up_state(booking) == (None, None, 0)
    assert counts() == before


@pytest.mark.parametrize("decide", [_book_it, _not_needed], ids=["book", "not-needed"])
def test_a_follow_up_assessment_has_no_follow_up_of_its_own(attended, worker, clock, decide):
    follow_up = book_follow_up(attended, worker, clock)
    db.session.commit()
    clock.set(friday(10, 40))
    outcomes.record_outcome(follow_up, "attended", by=worker, now=clock())
    db.session.commit()

    with pytest.raises(InvalidField):
        decide(follow_up, worker, clock)
    db.session.rollback()
    assert follow_up_state(follow_up) == (None, None, 0)


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.ANALYST])
@pytest.mark.parametrize("decide", [_book_it, _not_needed], ids=["book", "not-needed"])
def test_only_a_worker_or_coordinator_decides_the_follow_up(attended, users, clock, role, decide):
    before = counts()
    with pytest.raises(NotAllowed):
        decide(attended, users[role], clock)
    db.session.rollback()
    assert follow_up_state(attended) == (None, None, 0)
    assert counts() == before


def test_a_follow_up_may_be_booked_when_the_test_was_over_28_days_ago(
    team, users, book, worker, clock
):
    # Tested on Sunday 10 January; the initial assessment is on Wednesday 10 February.
    fill_rota(dt.date(2027, 2, 10), 2)
    initial = book(starts_at=local(2027, 2, 10, 10), tested_at=clock() - dt.timedelta(days=3))
    clock.set(local(2027, 2, 10, 11))
    outcomes.record_outcome(initial, "attended", by=users[Role.COORDINATOR], now=clock())
    db.session.commit()
    assert clock() - initial.tested_at > dt.timedelta(days=28)

    follow_up = book_follow_up(initial, worker, clock, starts_at=local(2027, 2, 11, 10))
    db.session.commit()

    assert follow_up.follow_up_of == initial
    assert follow_up.starts_at == local(2027, 2, 11, 10)
    assert follow_up.starts_at - follow_up.tested_at > dt.timedelta(days=28)


def test_a_follow_up_goes_through_the_same_slot_rules_as_any_booking(attended, worker, clock):
    before = counts()
    with pytest.raises(InvalidField) as refused:
        # Saturday at Stechford: nobody is rostered.
        book_follow_up(attended, worker, clock, starts_at=local(2027, 1, 16, 10))
    assert "No worker is rostered" in refused.value.errors["starts_at"]
    db.session.rollback()
    assert follow_up_state(attended) == (None, None, 0)
    assert counts() == before


# Appointments still awaiting an outcome


def test_appointments_started_over_a_day_ago_without_an_outcome_await_one(
    days, book, users, worker, clock
):
    waiting = book(thursday(10))
    recorded = book(thursday(10, 30))
    cancelled = book(thursday(9))
    later = book(friday(10))
    bookings.cancel(cancelled, "Released", by=users[Role.SERGEANT], now=clock())
    db.session.commit()
    clock.set(thursday(11))
    outcomes.record_outcome(recorded, "did_not_attend", by=worker, now=clock())
    db.session.commit()

    assert outcomes.awaiting_outcome(friday(9, 59)) == []
    assert outcomes.awaiting_outcome(friday(10, 1)) == [waiting]
    assert outcomes.awaiting_outcome(local(2027, 1, 16, 10, 1)) == [waiting, later]
    assert outcomes.awaiting_outcome(friday(10, 1), older_than=dt.timedelta(hours=1)) == [waiting]

    clock.set(friday(10, 5))
    outcomes.record_outcome(waiting, "attended", by=worker, now=clock())
    db.session.commit()
    assert outcomes.awaiting_outcome(local(2027, 1, 16, 10, 1)) == [later]


# Who may record an outcome -------------------------------------------------------------------


@pytest.fixture
def perry_barr_worker(blocks, clock):
    """A worker who signs in, rostered at Perry Barr, not at Stechford."""
    user = create_user(
        "perry.barr.worker@test.example",
        Role.WORKER,
        "a long enough password",
        now=clock(),
        name="Robin Perrin",
        block_code="perry-barr",
    )
    on_site(user.worker, blocks["perry-barr"], thursday(7), thursday(20))
    return user


def test_a_worker_at_another_block_cannot_record_an_outcome(days, book, perry_barr_worker, clock):
    booking = book()
    clock.set(thursday(10, 50))
    with pytest.raises(NotAllowed):
        outcomes.record_outcome(booking, "did_not_attend", by=perry_barr_worker, now=clock())
    db.session.rollback()
    assert booking.status == BookingStatus.BOOKED
    assert outcomes.police_to_be_informed() == []


def test_the_appointments_own_worker_records_its_outcome(days, book, users, blocks, clock):
    booking = book()
    own = create_user(
        "own.worker@test.example",
        Role.WORKER,
        "a long enough password",
        now=clock(),
        block_code="oldbury",
    )
    booking.worker_id = own.worker.id  # as if the rota had given it to them
    db.session.commit()
    clock.set(thursday(10, 50))
    outcomes.record_outcome(booking, "attended", by=own, now=clock())
    assert booking.status == BookingStatus.ATTENDED


def test_a_worker_rostered_at_the_block_that_day_records_an_outcome(days, book, worker, clock):
    booking = book()
    colleague = db.session.scalar(
        select(Shift.worker_id).where(
            Shift.block_id == booking.block_id, Shift.worker_id != worker.worker.id
        )
    )
    booking.worker_id = colleague  # the appointment is a colleague's
    db.session.commit()
    clock.set(thursday(10, 50))
    outcomes.record_outcome(booking, "left_early", by=worker, now=clock())
    assert booking.status == BookingStatus.LEFT_EARLY


def test_after_24_hours_only_a_coordinator_corrects_an_outcome(days, book, worker, users, clock):
    booking = book()
    clock.set(thursday(10, 50))
    outcomes.record_outcome(booking, "did_not_attend", by=worker, now=clock())
    db.session.commit()

    clock.set(thursday(10, 50) + dt.timedelta(hours=23))
    outcomes.record_outcome(booking, "left_early", by=worker, now=clock())
    db.session.commit()

    clock.set(clock() + dt.timedelta(hours=25))
    with pytest.raises(NotAllowed):
        outcomes.record_outcome(booking, "attended", by=worker, now=clock())
    db.session.rollback()
    outcomes.record_outcome(booking, "attended", by=users[Role.COORDINATOR], now=clock())
    assert booking.status == BookingStatus.ATTENDED


def test_corrections_do_not_extend_the_24_hours(days, book, worker, clock):
    booking = book()
    first = thursday(10, 50)
    clock.set(first)
    outcomes.record_outcome(booking, "did_not_attend", by=worker, now=clock())
    db.session.commit()
    clock.set(first + dt.timedelta(hours=20))
    outcomes.record_outcome(booking, "left_early", by=worker, now=clock())
    db.session.commit()

    # 20 hours after the correction, but 40 after the outcome was first recorded.
    clock.set(first + dt.timedelta(hours=40))
    with pytest.raises(NotAllowed):
        outcomes.record_outcome(booking, "attended", by=worker, now=clock())
    db.session.rollback()


def test_the_outcome_page_says_why_a_late_correction_is_refused(app, days, book, worker, clock):
    booking = book()
    clock.set(thursday(10, 50))
    outcomes.record_outcome(booking, "did_not_attend", by=worker, now=clock())
    db.session.commit()
    clock.set(clock() + dt.timedelta(hours=25))
    browser = signed_in(app.test_client(), Role.WORKER)
    page = browser.post(f"/bookings/{booking.reference}/outcome", data={"outcome": "attended"})
    assert page.status_code == 403
    assert "corrected by a coordinator" in page.get_data(as_text=True)
    db.session.refresh(booking)
    assert booking.status == BookingStatus.DID_NOT_ATTEND


def test_a_worker_at_another_block_is_refused_by_the_page_and_the_api(
    app, days, book, perry_barr_worker, clock
):
    booking = book()
    clock.set(thursday(10, 50))
    token = issue_token(perry_barr_worker, clock())
    db.session.commit()
    api = app.test_client().post(
        f"/api/v1/bookings/{booking.reference}/outcome",
        json={"outcome": "did_not_attend"},
        headers=auth(token),
    )
    assert api.status_code == 403
    browser = app.test_client()
    browser.post(
        "/login",
        data={"email": "perry.barr.worker@test.example", "password": "a long enough password"},
    )
    page = browser.post(
        f"/bookings/{booking.reference}/outcome", data={"outcome": "did_not_attend"}
    )
    assert page.status_code == 403
    db.session.refresh(booking)
    assert booking.status == BookingStatus.BOOKED
