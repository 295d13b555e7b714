"""Sending the outbox through the real twilio client, against a stand-in Twilio on loopback.

Each message goes once: when due, to a person who agreed, for an appointment still as it was;
transient failures are retried with a doubling delay; dispatchers racing or dying mid-batch
never send a message twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, update

from booking.appointments import bookings
from booking.appointments.slots import SlotRules, free_slots
from booking.extensions import db
from booking.models import Booking, BookingStatus, Message, MessageKind, MessageStatus, OptOut, Role
from booking.sms import backends as sms
from booking.sms import dispatch
from booking.sms.outbox import OPTED_OUT
from booking.sms.reminders import ReminderPolicy
from tests.sms.notify_standin import notify_fixture  # noqa: F401  (the `notify` fixture)
from tests.sms.twilio_standin import (
    FROM_NUMBER,
    INVALID_NUMBER,
    PUBLIC_BASE_URL,
    SERVER_ERROR,
    TOO_MANY_REQUESTS,
    UNSUBSCRIBED,
    slow,
    standin_fixture,  # noqa: F401  (the `standin` fixture)
)
from tests.support import auth, fill_rota, local

RULES = SlotRules()
MOBILE = "+447700900123"
PLACE = "Station Road reception, Stechford B33 8QR"
PHONE = "0121 496 0000"  # the service's number in the tests' settings
STOP = "Reply STOP to stop these texts."
REFERENCE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b")


# The clock starts on Wednesday 13 January 2027 at 21:00 (GMT, so local = UTC).
FRIDAY_TEN = local(2027, 1, 15, 10, 0)


@pytest.fixture(name="book")
def book_at_stechford(book, team):
    """Book (as the sergeant, at the clock's time) and commit; the rota runs for the week."""
    fill_rota(dt.date(2027, 1, 13), 7)  # Wednesday 13 to Tuesday 19 January

    def make(starts_at=FRIDAY_TEN, block="stechford", **changes) -> Booking:
        return book(starts_at, block, **changes)

    return make


def run(clock, **kw) -> dispatch.DispatchReport:
    """One dispatcher pass in the test's app context, then a fresh look at the rows."""
    report = dispatch.dispatch(clock, **kw)
    db.session.expire_all()
    return report


def of_kind(booking: Booking, kind: MessageKind) -> list[Message]:
    return [m for m in booking.messages if m.kind == kind]


def only(booking: Booking, kind: MessageKind) -> Message:
    (message,) = of_kind(booking, kind)
    return message


def references_sent(standin) -> Counter:
    """How many accepted requests named each booking reference."""
    return Counter(REFERENCE.search(body)[0] for body in standin.bodies())


# When messages go


def test_the_confirmation_goes_at_once_even_at_two_in_the_morning(standin, book, clock):
    clock.set_local(2027, 1, 14, 2, 0)
    booking = book(starts_at=local(2027, 1, 14, 10, 0))

    report = run(clock)

    assert report.sent == 1
    (request,) = standin.requests
    assert request.authorised
    assert request.path == f"/2010-04-01/Accounts/{standin.account_sid}/Messages.json"
    assert request.form["To"] == MOBILE
    assert request.form["From"] == FROM_NUMBER
    assert request.form["StatusCallback"] == f"{PUBLIC_BASE_URL}/sms/status"
    assert request.body.startswith("Appointment booked: Thu 14 Jan 10:00, Station Road")
    assert booking.reference in request.body
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert confirmation.status == MessageStatus.SENT
    assert confirmation.provider_id == request.sid  # the provider's id is kept
    assert confirmation.provider_id.startswith("SM") and len(confirmation.provider_id) == 34
    assert (confirmation.sent_at, confirmation.attempts) == (clock(), 1)
    assert confirmation.lease_until is None
    # The day-before time (18:00 yesterday) had passed; 08:00 is still to come.
    assert only(booking, MessageKind.DAY_BEFORE).status == MessageStatus.SKIPPED
    assert only(booking, MessageKind.SAME_DAY).status == MessageStatus.PENDING


@pytest.fixture(params=["twilio", "notify"])
def provider(request):
    """Each text provider's stand-in in turn (the app configured to send through it): for the
    outbox's guarantees, which hold whichever provider sends."""
    return request.getfixturevalue("standin" if request.param == "twilio" else "notify")


def test_reminders_go_only_when_due_and_each_exactly_once(provider, book, clock):
    booking = book()  # Friday 10:00, booked on Wednesday at 21:00
    ref = booking.reference

    assert run(clock).sent == 1  # the confirmation
    assert run(clock).sent == 0  # a second pass sends nothing

    clock.set_local(2027, 1, 14, 17, 59)
    assert run(clock).claimed == []
    clock.set_local(2027, 1, 14, 18, 0)
    assert run(clock).sent == 1
    assert run(clock).sent == 0

    clock.set_local(2027, 1, 15, 7, 59)
    assert run(clock).claimed == []
    clock.set_local(2027, 1, 15, 8, 0)
    assert run(clock).sent == 1
    clock.set_local(2027, 1, 15, 9, 0)
    assert run(clock).sent == 0

    assert provider.bodies() == [
        f"Appointment booked: Fri 15 Jan 10:00, {PLACE}. Ref {ref}. Call {PHONE}. {STOP}",
        f"Appointment tomorrow: Fri 15 Jan 10:00, {PLACE}. Ref {ref}. Call {PHONE}. {STOP}",
        f"Appointment today: Fri 15 Jan 10:00, {PLACE}. Ref {ref}. Call {PHONE}. {STOP}",
    ]
    assert len(provider.requests) == 3
    assert {m.provider_id for m in booking.messages} == {r.provider_id for r in provider.requests}
    assert [(m.kind, m.status, m.attempts) for m in booking.messages] == [
        (MessageKind.CONFIRMATION, MessageStatus.SENT, 1),
        (MessageKind.DAY_BEFORE, MessageStatus.SENT, 1),
        (MessageKind.SAME_DAY, MessageStatus.SENT, 1),
    ]
    assert only(booking, MessageKind.DAY_BEFORE).sent_at == local(2027, 1, 14, 18, 0)


def test_the_reminders_dispatch_command_runs_one_pass(app, standin, book, clock):
    booking = book()
    db.session.commit()  # the command runs in its own app context (and session)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["reminders", "dispatch"])
    assert result.exit_code == 0, result.output
    assert "Sent 1, skipped 0, cancelled 0, retrying 0, failed 0." in result.output

    again = runner.invoke(args=["reminders", "dispatch"])
    assert again.exit_code == 0
    assert "Sent 0," in again.output
    assert len(standin.requests) == 1
    db.session.expire_all()
    assert only(booking, MessageKind.CONFIRMATION).status == MessageStatus.SENT


def test_the_console_backend_sends_nothing_off_the_machine_and_marks_the_message_sent(
    app, book, clock, monkeypatch, caplog
):
    assert app.config["SMS_BACKEND"] == "console"
    booking = book()

    def no_network(*args, **kwargs):
        raise AssertionError("the console backend opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    with caplog.at_level(logging.INFO, logger="booking.sms"):
        report = run(clock)

    assert report.sent == 1
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert confirmation.status == MessageStatus.SENT
    assert confirmation.provider_id.startswith("console-")
    # The log keeps the words (for the demo) but never the number.
    logged = [r for r in caplog.records if confirmation.provider_id in str(vars(r))]
    assert len(logged) == 1
    assert booking.reference in str(vars(logged[0]))
    assert all("900123" not in str(vars(r)) for r in caplog.records)


def test_a_twilio_backend_without_credentials_is_refused(app):
    app.config.update(SMS_BACKEND="twilio", TWILIO_AUTH_TOKEN=None)
    with pytest.raises(RuntimeError, match="TWILIO_"):
        sms.backend_for(app)
    app.config.update(SMS_BACKEND="carrier-pigeon")
    with pytest.raises(RuntimeError, match="console, twilio or notify"):
        sms.backend_for(app)


# Who may be texted


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"sms_consent": False}, "did not agree"),
        ({"mobile": None, "sms_consent": False}, "No mobile number"),
    ],
    ids=["no-consent", "no-mobile"],
)
def test_without_consent_or_a_mobile_every_message_is_skipped_with_its_reason(
    standin, book, clock, changes, reason
):
    booking = book(**changes)
    assert run(clock).claimed == []
    clock.set_local(2027, 1, 15, 9, 0)
    assert run(clock).claimed == []
    assert standin.requests == []
    assert {m.status for m in booking.messages} == {MessageStatus.SKIPPED}
    assert all(reason in m.skip_reason for m in booking.messages)


def test_an_opted_out_number_gets_nothing_and_the_sergeant_is_shown_why(
    standin, book, clock, client, login, tokens
):
    db.session.add(OptOut(mobile=MOBILE, opted_out_at=clock() - dt.timedelta(days=3)))
    db.session.commit()
    booking = book()

    assert run(clock).claimed == []
    assert standin.requests == []
    assert {m.status for m in booking.messages} == {MessageStatus.SKIPPED}
    assert {m.skip_reason for m in booking.messages} == {OPTED_OUT}

    api = client.get(f"/api/v1/bookings/{booking.reference}", headers=auth(tokens["sergeant"]))
    assert {m["status"] for m in api.get_json()["messages"]} == {"skipped"}
    login(Role.SERGEANT)
    page = client.get(f"/bookings/{booking.reference}")
    assert page.status_code == 200
    assert OPTED_OUT in page.get_data(as_text=True)


def test_a_number_that_opts_out_after_booking_is_skipped_at_send_time(standin, book, clock):
    booking = book()
    run(clock)
    db.session.add(OptOut(mobile=MOBILE, opted_out_at=clock()))  # recorded directly
    db.session.commit()

    clock.set_local(2027, 1, 14, 18, 0)
    report = run(clock)

    assert (report.sent, report.skipped) == (0, 1)
    day_before = only(booking, MessageKind.DAY_BEFORE)
    assert (day_before.status, day_before.skip_reason) == (MessageStatus.SKIPPED, OPTED_OUT)
    assert len(standin.requests) == 1  # the confirmation, before the opt-out


# Rearranging, cancelling, and changes the sender must notice


def test_rearranging_stops_the_old_reminders_and_sends_the_change_and_new_reminders(
    standin, book, users, clock
):
    booking = book()
    run(clock)
    clock.set_local(2027, 1, 14, 12, 0)
    bookings.rearrange(
        booking,
        "bloxwich",
        local(2027, 1, 18, 11, 0),
        by=users[Role.SERGEANT],
        now=clock(),
        rules=RULES,
    )
    db.session.commit()
    old_day_before, new_day_before = of_kind(booking, MessageKind.DAY_BEFORE)
    old_same_day, new_same_day = of_kind(booking, MessageKind.SAME_DAY)
    assert old_day_before.status == old_same_day.status == MessageStatus.CANCELLED

    assert run(clock).sent == 1
    changed = only(booking, MessageKind.CHANGED)
    assert changed.status == MessageStatus.SENT
    assert standin.bodies()[-1].startswith(
        "Appointment changed to Mon 18 Jan 11:00, Station Street reception"
    )

    # The old reminder times pass with nothing sent.
    for moment in [(2027, 1, 14, 18, 0), (2027, 1, 15, 8, 0), (2027, 1, 15, 10, 0)]:
        clock.set_local(*moment)
        assert run(clock).claimed == []

    clock.set_local(2027, 1, 17, 18, 0)
    assert run(clock).sent == 1
    clock.set_local(2027, 1, 18, 9, 0)
    assert run(clock).sent == 1
    assert run(clock).sent == 0

    bodies = standin.bodies()
    assert len(bodies) == len(standin.requests) == 4
    assert bodies[2].startswith("Appointment tomorrow: Mon 18 Jan 11:00, Station St")
    assert bodies[3].startswith("Appointment today: Mon 18 Jan 11:00, Station St")
    assert not any("Fri 15 Jan" in body for body in bodies[1:])
    assert new_day_before.status == new_same_day.status == MessageStatus.SENT
    assert old_day_before.status == old_same_day.status == MessageStatus.CANCELLED
    assert old_day_before.provider_id is None and old_same_day.provider_id is None


def test_cancelling_stops_the_reminders_and_sends_the_cancellation(standin, book, users, clock):
    booking = book()
    run(clock)
    clock.set_local(2027, 1, 14, 9, 0)
    bookings.cancel(booking, "Released, no further action", by=users[Role.SERGEANT], now=clock())
    db.session.commit()

    assert run(clock).sent == 1
    cancelled = only(booking, MessageKind.CANCELLED)
    assert cancelled.status == MessageStatus.SENT
    assert standin.bodies()[-1].startswith(
        "Appointment cancelled: Fri 15 Jan 10:00, Station Road reception"
    )

    for moment in [(2027, 1, 14, 18, 0), (2027, 1, 15, 8, 0)]:
        clock.set_local(*moment)
        assert run(clock).claimed == []
    assert len(standin.requests) == 2
    assert only(booking, MessageKind.DAY_BEFORE).status == MessageStatus.CANCELLED
    assert only(booking, MessageKind.SAME_DAY).status == MessageStatus.CANCELLED


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"status": BookingStatus.DID_NOT_ATTEND},
            "The appointment is over: its outcome is recorded",
        ),
        ({"status": BookingStatus.ATTENDED}, "The appointment is over: its outcome is recorded"),
        ({"status": BookingStatus.CANCELLED}, "The appointment was cancelled"),
        ({"starts_at": FRIDAY_TEN + dt.timedelta(hours=2)}, "The appointment was moved"),
    ],
    ids=["did-not-attend", "attended", "cancelled", "moved"],
)
def test_the_sender_re_reads_the_booking_and_does_not_send_a_reminder_that_no_longer_fits(
    standin, book, clock, change, reason
):
    booking = book()
    run(clock)
    # Changed behind the outbox's back: no cancel_pending, the reminders still pending.
    values = dict(change)
    if "starts_at" in values:
        values["ends_at"] = values["starts_at"] + dt.timedelta(minutes=30)
    db.session.execute(update(Booking).where(Booking.id == booking.id).values(**values))
    db.session.commit()
    assert only(booking, MessageKind.DAY_BEFORE).status == MessageStatus.PENDING

    clock.set_local(2027, 1, 14, 18, 0)
    report = run(clock)

    assert (report.sent, report.cancelled) == (0, 1)
    day_before = only(booking, MessageKind.DAY_BEFORE)
    assert day_before.status == MessageStatus.CANCELLED
    assert day_before.skip_reason == reason
    assert day_before.provider_id is None
    assert len(standin.requests) == 1  # the confirmation only


def test_a_reminder_whose_appointment_has_started_is_not_sent(standin, book, clock):
    booking = book()
    run(clock)
    clock.set_local(2027, 1, 15, 10, 5)  # the dispatcher was down until after the start
    report = run(clock)
    assert report.sent == 0
    for kind in (MessageKind.DAY_BEFORE, MessageKind.SAME_DAY):
        message = only(booking, kind)
        assert message.status == MessageStatus.CANCELLED
        assert message.skip_reason == "The appointment has already started"
    assert len(standin.requests) == 1


def test_reminders_that_fell_due_before_the_quiet_hours_are_not_sent_in_them(standin, book, clock):
    booking = book(starts_at=local(2027, 1, 15, 9, 0))  # day-before reminder at 18:00 Thursday
    run(clock)
    clock.set_local(2027, 1, 14, 21, 30)  # the dispatcher was down from 18:00 to 21:30
    report = run(clock)
    assert (report.sent, report.skipped) == (0, 1)
    assert "no texts could be sent" in only(booking, MessageKind.DAY_BEFORE).skip_reason
    assert len(standin.requests) == 1


# Failures, through the real twilio client


@pytest.mark.parametrize(
    "failure",
    [SERVER_ERROR, TOO_MANY_REQUESTS, "timeout"],
    ids=["http-500", "http-429", "timeout"],
)
def test_a_transient_failure_puts_the_message_back_with_a_delay(
    app, standin, book, clock, monkeypatch, failure
):
    if failure == "timeout":
        monkeypatch.setattr(sms, "TIMEOUT_SECONDS", 0.2)
        failure = slow(2.0)  # answered only after the client has given up
    booking = book()
    standin.fail_next(failure)
    now = clock()

    report = run(clock)

    assert report.retrying == 1
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert confirmation.status == MessageStatus.PENDING
    assert confirmation.attempts == 1
    assert confirmation.due_at == now + dt.timedelta(seconds=app.config["SMS_RETRY_BASE_SECONDS"])
    assert confirmation.send_at == now  # the planned time is kept
    assert confirmation.provider_id is None and confirmation.lease_until is None

    clock.set(confirmation.due_at - dt.timedelta(seconds=1))
    assert run(clock).claimed == []
    clock.set(confirmation.due_at)
    assert run(clock).sent == 1
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.SENT, 2)
    assert confirmation.provider_id == standin.requests[-1].sid


def test_transient_failures_back_off_doubling_and_fail_after_the_last_attempt(
    app, standin, book, clock, client, tokens
):
    assert app.config["SMS_MAX_ATTEMPTS"] == 5
    assert app.config["SMS_RETRY_BASE_SECONDS"] == 60
    booking = book()
    standin.fail_next(SERVER_ERROR, TOO_MANY_REQUESTS, SERVER_ERROR, TOO_MANY_REQUESTS)
    standin.fail_next(SERVER_ERROR)

    for attempt, delay in [(1, 60), (2, 120), (3, 240), (4, 480)]:
        now = clock()
        assert run(clock).retrying == 1
        confirmation = only(booking, MessageKind.CONFIRMATION)
        assert (confirmation.status, confirmation.attempts) == (MessageStatus.PENDING, attempt)
        assert confirmation.due_at == now + dt.timedelta(seconds=delay)
        clock.set(confirmation.due_at)

    report = run(clock)
    assert report.failed == 1
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.FAILED, 5)
    assert confirmation.skip_reason == "Text not delivered: phone them"
    assert confirmation.error_code == "20500"
    assert len(standin.requests) == 5
    clock.set(clock() + dt.timedelta(hours=1))
    assert run(clock).claimed == []  # never tried again
    assert len(standin.requests) == 5

    api = client.get(f"/api/v1/bookings/{booking.reference}", headers=auth(tokens["sergeant"]))
    first = api.get_json()["messages"][0]
    assert (first["kind"], first["status"], first["attempts"]) == ("confirmation", "failed", 5)


def test_a_smaller_attempt_limit_is_honoured(app, standin, book, clock):
    app.config.update(SMS_MAX_ATTEMPTS=2, SMS_RETRY_BASE_SECONDS=10)
    booking = book()
    standin.fail_next(SERVER_ERROR, SERVER_ERROR)
    now = clock()
    run(clock)
    assert only(booking, MessageKind.CONFIRMATION).due_at == now + dt.timedelta(seconds=10)
    clock.set(now + dt.timedelta(seconds=10))
    assert run(clock).failed == 1
    assert only(booking, MessageKind.CONFIRMATION).status == MessageStatus.FAILED


def test_an_invalid_number_21211_fails_at_once(standin, book, clock):
    booking = book()
    standin.fail_next(INVALID_NUMBER)

    report = run(clock)

    assert (report.failed, report.retrying) == (1, 0)
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.FAILED, 1)
    assert confirmation.error_code == "21211"
    assert confirmation.status_at == clock()
    clock.set(clock() + dt.timedelta(hours=1))
    assert run(clock).claimed == []
    assert len(standin.requests) == 1


def test_an_unsubscribed_recipient_21610_is_skipped_and_recorded_as_opted_out(standin, book, clock):
    booking = book()
    standin.fail_next(UNSUBSCRIBED)

    report = run(clock)

    assert (report.skipped, report.failed, report.retrying) == (1, 0, 0)
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert confirmation.status == MessageStatus.SKIPPED
    assert (confirmation.skip_reason, confirmation.error_code) == (OPTED_OUT, "21610")
    opt_out = db.session.scalar(select(OptOut).where(OptOut.mobile == MOBILE))
    assert opt_out is not None and opt_out.active
    assert opt_out.opted_out_at == clock()
    # Its pending reminders are stopped, and later bookings to that number send nothing.
    for kind in (MessageKind.DAY_BEFORE, MessageKind.SAME_DAY):
        assert only(booking, kind).status == MessageStatus.SKIPPED
        assert only(booking, kind).skip_reason == OPTED_OUT
    later = book(starts_at=local(2027, 1, 18, 10, 0), custody_record="20/999/27")
    assert {m.status for m in later.messages} == {MessageStatus.SKIPPED}
    clock.set_local(2027, 1, 18, 9, 0)
    assert run(clock).claimed == []
    assert len(standin.requests) == 1


def test_wrong_twilio_credentials_are_retried_so_an_operator_can_put_them_right(
    app, standin, book, clock
):
    app.config["TWILIO_AUTH_TOKEN"] = "not-the-token"
    booking = book()
    run(clock)
    (request,) = standin.requests
    assert not request.authorised and request.answered == 401
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.PENDING, 1)


# Several dispatchers


def book_many(book, clock, count: int) -> list[Booking]:
    slots = free_slots(RULES, clock(), limit=count)
    assert len(slots) == count
    return [
        book(starts_at=slot.starts_at, block=slot.block.code, custody_record=f"20/{n:04d}/27")
        for n, slot in enumerate(slots)
    ]


def test_three_dispatchers_racing_send_every_message_exactly_once(app, standin, book, clock):
    booked = book_many(book, clock, 60)
    due = db.session.scalars(
        select(Message.id).where(Message.status == MessageStatus.PENDING, Message.due_at <= clock())
    ).all()
    assert len(due) == 60
    standin.latency = 0.002  # a little time at Twilio, so that the dispatchers interleave
    db.session.commit()  # hold no transaction (SQLite's write lock) while they run
    barrier = threading.Barrier(3)

    def dispatcher(_):
        with app.app_context():
            barrier.wait()
            return dispatch.dispatch(clock, limit=5)

    with ThreadPoolExecutor(max_workers=3) as pool:
        reports = list(pool.map(dispatcher, range(3)))

    db.session.expire_all()
    unsent = db.session.execute(
        select(Message.id, Message.status, Message.error_code).where(
            Message.id.in_(due), Message.status != MessageStatus.SENT
        )
    ).all()
    assert sum(r.sent for r in reports) == 60, (unsent, standin.errors)
    claimed = [i for r in reports for i in r.claimed]
    assert sorted(claimed) == sorted(due)  # each claimed by one dispatcher only
    assert len(standin.requests) == 60
    per_reference = references_sent(standin)
    assert set(per_reference) == {b.reference for b in booked}
    assert set(per_reference.values()) == {1}
    messages = db.session.scalars(select(Message).where(Message.id.in_(due))).all()
    assert {m.status for m in messages} == {MessageStatus.SENT}
    assert {m.attempts for m in messages} == {1}
    assert {m.provider_id for m in messages} == {r.sid for r in standin.requests}
    assert run(clock).claimed == []


def test_a_dispatcher_killed_mid_batch_leaves_its_claims_until_the_lease_runs_out(
    standin, book, clock
):
    booked = book_many(book, clock, 4)
    started = clock()
    dead = dispatch.claim(clock(), limit=2)  # ... and then it died before sending
    assert len(dead) == 2
    dead_refs = {db.session.get(Message, i).booking.reference for i in dead}

    report = run(clock)  # another dispatcher, at the same time
    assert report.sent == 2
    assert not set(report.claimed) & set(dead)
    assert not set(references_sent(standin)) & dead_refs

    clock.set(started + dispatch.LEASE)
    assert run(clock).claimed == []  # the lease holds to its last instant
    clock.set(started + dispatch.LEASE + dt.timedelta(seconds=1))
    report = run(clock)
    assert sorted(report.claimed) == sorted(dead)
    assert report.sent == 2
    assert run(clock).claimed == []

    assert references_sent(standin) == Counter({b.reference: 1 for b in booked})
    for message_id in dead:
        message = db.session.get(Message, message_id)
        assert message.status == MessageStatus.SENT
        assert message.attempts == 2  # claimed twice, sent once


def test_a_message_holding_a_provider_id_is_never_sent_again(standin, book, clock):
    booking = book()
    confirmation = only(booking, MessageKind.CONFIRMATION)
    # Twilio accepted it and its id was stored, yet it still looks claimed with a stale lease.
    confirmation.status = MessageStatus.SENDING
    confirmation.provider_id = "SM" + "f" * 32
    confirmation.attempts = 1
    confirmation.lease_until = clock() - dt.timedelta(minutes=10)
    db.session.commit()

    report = run(clock)
    clock.set(clock() + dt.timedelta(hours=1))
    report2 = run(clock)

    assert confirmation.id not in report.claimed + report2.claimed
    assert standin.requests == []
    assert confirmation.provider_id == "SM" + "f" * 32
    assert confirmation.attempts == 1


def test_a_message_that_is_not_claimed_is_not_sent(app, standin, book, clock):
    booking = book()
    confirmation = only(booking, MessageKind.CONFIRMATION)
    twilio = sms.backend_for(app)
    assert dispatch.send_one(confirmation.id, twilio, clock(), ReminderPolicy()) == "gone"
    assert standin.requests == []
    assert only(booking, MessageKind.CONFIRMATION).status == MessageStatus.PENDING


def test_a_dispatcher_whose_lease_ran_out_mid_batch_leaves_alone_what_another_has_claimed(
    app, standin, book, clock
):
    """A batch can outlast its lease (slow answers from Twilio). Meanwhile another dispatcher
    claims the rest and starts sending: the first must not send those too."""
    booked = book_many(book, clock, 3)
    last = only(booked[-1], MessageKind.CONFIRMATION).id
    policy = ReminderPolicy.from_config(app.config)
    twilio = sms.backend_for(app)
    other: dict = {"ids": [], "lease": None, "outcomes": []}

    def other_dispatcher_claims():
        with app.app_context():
            other["lease"] = clock() + dispatch.LEASE
            other["ids"] = dispatch.claim(clock())

    def other_dispatcher_sends():
        if other["outcomes"]:
            return
        with app.app_context():
            for message_id in other["ids"]:
                outcome = dispatch.send_one(message_id, twilio, clock(), policy, other["lease"])
                other["outcomes"].append(outcome)

    class SlowTwilio:
        calls = 0

        def send(self, to, body, status_callback, reference=None):
            self.calls += 1
            clock.set(clock() + dt.timedelta(seconds=70))  # each answer takes 70 s
            if self.calls == 2:
                # The batch's lease (2 minutes) has run out: the other dispatcher claims.
                other_dispatcher_claims()
            elif self.calls == 3:
                other_dispatcher_sends()  # it is sending what it claimed, right now
            return twilio.send(to, body, status_callback, reference)

    report = run(clock, backend=SlowTwilio())
    other_dispatcher_sends()
    db.session.expire_all()

    assert references_sent(standin) == Counter({b.reference: 1 for b in booked})
    assert len(standin.requests) == 3
    # The message being sent had its lease renewed; only the last one was taken over.
    assert other["ids"] == [last]
    assert other["outcomes"] == [MessageStatus.SENT]
    assert report.sent == 2
    assert db.session.get(Message, last).provider_id == standin.requests[-1].sid


def test_a_batch_that_outlasts_its_lease_still_sends_what_nobody_else_claimed(
    app, standin, book, clock
):
    booked = book_many(book, clock, 3)
    twilio = sms.backend_for(app)

    class SlowTwilio:
        def send(self, to, body, status_callback, reference=None):
            clock.set(clock() + dispatch.LEASE)  # each answer takes a whole lease
            return twilio.send(to, body, status_callback, reference)

    report = run(clock, backend=SlowTwilio())
    assert report.sent == 3
    assert references_sent(standin) == Counter({b.reference: 1 for b in booked})


# Several messages in flight at once, within one dispatcher


def sent_by_reference(standin) -> dict[str, str]:
    """The sid the stand-in gave each booking reference it accepted."""
    return {REFERENCE.search(r.body)[0]: r.sid for r in standin.accepted}


def test_one_dispatcher_has_several_messages_in_flight_and_stores_each_provider_id(
    standin, book, clock
):
    booked = book_many(book, clock, 12)
    standin.latency = 0.2  # Twilio's answers take a while: the senders wait on them together

    report = run(clock)

    assert report.sent == 12
    assert 1 < standin.most_at_once <= dispatch.SENDERS
    assert references_sent(standin) == Counter({b.reference: 1 for b in booked})
    sids = sent_by_reference(standin)
    for booking in booked:
        confirmation = only(booking, MessageKind.CONFIRMATION)
        assert confirmation.status == MessageStatus.SENT
        assert confirmation.provider_id == sids[booking.reference]
        assert (confirmation.attempts, confirmation.lease_until) == (1, None)
    assert run(clock).claimed == []


def test_the_console_backend_sends_one_message_at_a_time(app, book, clock):
    assert not sms.ConsoleBackend.concurrent  # nothing to wait for, and its log stays in order
    assert sms.TwilioBackend.concurrent
    booked = book_many(book, clock, 3)
    assert run(clock).sent == 3
    assert all(only(b, MessageKind.CONFIRMATION).status == MessageStatus.SENT for b in booked)


class Stopped(BaseException):
    """The dispatcher's process being stopped (Ctrl-C, a deploy) in the middle of a batch."""


def test_a_dispatcher_stopped_mid_batch_stores_what_went_and_leaves_the_rest_to_its_lease(
    app, standin, book, clock
):
    booked = book_many(book, clock, 10)
    started = clock()
    twilio = sms.backend_for(app)
    standin.latency = 0.05
    calls = Counter()
    lock = threading.Lock()

    class StoppedOnTheFourthText:
        concurrent = True

        def send(self, to, body, status_callback, reference=None):
            with lock:
                calls["sends"] += 1
                stop = calls["sends"] == 4
            if stop:
                raise Stopped
            return twilio.send(to, body, status_callback, reference)

    with pytest.raises(Stopped):
        dispatch.dispatch(clock, backend=StoppedOnTheFourthText())
    db.session.expire_all()

    # Every text Twilio accepted has its id stored; nothing more went after the stop.
    sids = sent_by_reference(standin)
    assert 3 <= len(sids) < 10
    for booking in booked:
        confirmation = only(booking, MessageKind.CONFIRMATION)
        if booking.reference in sids:
            assert confirmation.status == MessageStatus.SENT
            assert confirmation.provider_id == sids[booking.reference]
        else:  # still claimed by the stopped dispatcher
            assert confirmation.status == MessageStatus.SENDING
            assert confirmation.provider_id is None

    assert run(clock).claimed == []  # the lease holds
    clock.set(started + dispatch.LEASE + dt.timedelta(seconds=1))
    report = run(clock)
    assert report.sent == 10 - len(sids)
    assert references_sent(standin) == Counter({b.reference: 1 for b in booked})
    assert {only(b, MessageKind.CONFIRMATION).status for b in booked} == {MessageStatus.SENT}


def test_a_claim_that_has_grown_old_is_checked_against_its_booking_again_before_sending(
    app, standin, book, clock
):
    """A batch is checked against its bookings when claimed. Once a claim is older than a few
    seconds (Twilio slow to answer), each message is checked again just before it goes."""
    first, second = book_many(book, clock, 2)
    twilio = sms.backend_for(app)

    class SlowTwilio:
        def send(self, to, body, status_callback, reference=None):
            clock.set(clock() + dispatch.FRESH)  # the answer takes a while
            if second.reference not in body:
                # Meanwhile the second appointment is cancelled behind the outbox's back.
                db.session.execute(
                    update(Booking)
                    .where(Booking.id == second.id)
                    .values(status=BookingStatus.CANCELLED)
                )
                db.session.commit()
            return twilio.send(to, body, status_callback, reference)

    report = run(clock, backend=SlowTwilio())

    assert (report.sent, report.cancelled) == (1, 1)
    assert references_sent(standin) == Counter({first.reference: 1})
    cancelled = only(second, MessageKind.CONFIRMATION)
    assert cancelled.status == MessageStatus.CANCELLED
    assert cancelled.skip_reason == "The appointment was cancelled"


def test_two_dispatchers_with_several_senders_each_send_every_message_exactly_once(
    app, standin, book, clock
):
    booked = book_many(book, clock, 40)
    standin.latency = 0.01
    db.session.commit()
    barrier = threading.Barrier(2)

    def dispatcher(_):
        with app.app_context():
            barrier.wait()
            return dispatch.dispatch(clock, limit=7)  # batches of 7, the next claimed early

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(dispatcher, range(2)))

    db.session.expire_all()
    assert sum(r.sent for r in reports) == 40
    assert not set(reports[0].claimed) & set(reports[1].claimed)
    assert references_sent(standin) == Counter({b.reference: 1 for b in booked})
    assert len(standin.requests) == 40
    sids = sent_by_reference(standin)
    for booking in booked:
        confirmation = only(booking, MessageKind.CONFIRMATION)
        assert (confirmation.status, confirmation.attempts) == (MessageStatus.SENT, 1)
        assert confirmation.provider_id == sids[booking.reference]


def test_texts_to_one_person_due_together_still_go_one_after_the_other_in_order(
    standin, book, clock
):
    booking = book()  # Friday 10:00
    run(clock)
    # The dispatchers were down from Thursday 17:00 until Friday 08:30: both reminders are due.
    clock.set_local(2027, 1, 15, 8, 30)
    standin.most_at_once = 0
    standin.fail_next(slow(0.3))  # the first answer is slow: the second text waits for it

    report = run(clock)

    assert report.sent == 2
    assert standin.most_at_once == 1
    first, second = standin.bodies()[1:]
    # Sent late, on the day itself: it says "today", as the person reads it.
    assert first.startswith("Appointment today: Fri 15 Jan 10:00")
    assert second.startswith("Appointment today: Fri 15 Jan 10:00")
    assert only(booking, MessageKind.DAY_BEFORE).provider_id == standin.requests[1].sid
    assert only(booking, MessageKind.SAME_DAY).provider_id == standin.requests[2].sid
