"""Sending the outbox through GOV.UK Notify's real client, against a stand-in Notify on loopback
that checks the client's signed token as Notify does.

The dispatcher does not know which provider it sends through, so Notify gets the guarantees
test_dispatch.py proves with Twilio: each text goes once, when due and never in the quiet hours;
transient failures (5xx, 429, a refused key, a time-out, no connection) are retried with a
doubling delay; a refusal of the message itself (400) fails at once; racing dispatchers never
send a text twice. Notify's own: the words travel as the one template's ((body)), each text
carries its outbox id as Notify's `reference`, and a receipt that names a text whose answer was
lost stops it being sent again.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests
from sqlalchemy import select

from booking.extensions import db
from booking.models import Message, MessageKind, MessageStatus
from booking.sms import backends as sms
from booking.sms import dispatch
from booking.sms.outbox import NOT_DELIVERED
from tests.sms.notify_standin import (
    API_KEY,
    DAILY_LIMIT,
    NOT_A_MOBILE,
    RATE_LIMITED,
    SECRET,
    SERVER_ERROR,
    SERVICE_ID,
    SMS_PATH,
    TEMPLATE_ID,
    TRIAL_MODE,
    notify_fixture,  # noqa: F401  (the `notify` fixture)
    post_receipt,
    slow,
)
from tests.sms.test_dispatch import (  # the same bookings, the same passes, as with Twilio
    MOBILE,
    book_at_stechford,  # noqa: F401  (the `book` fixture: Friday 10:00, the week's rota)
    book_many,
    only,
    references_sent,
    run,
)
from tests.support import local

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
OTHER_UUID = "5d7f2a8e-0b3c-4c1e-9f6a-2e8d4b7c1a90"


def closed_port_url() -> str:
    """An address on loopback where nothing listens: the connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# What goes to Notify, and when


def test_the_confirmation_goes_through_notify_as_the_templates_body_with_its_outbox_id(
    notify, book, clock
):
    clock.set_local(2027, 1, 14, 2, 0)
    booking = book(starts_at=local(2027, 1, 14, 10, 0))

    report = run(clock)

    assert report.sent == 1
    (request,) = notify.requests
    assert request.authorised and request.issuer == SERVICE_ID  # the client's signed token
    assert request.path == SMS_PATH
    assert request.headers["Content-type"] == "application/json"
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert request.data == {
        "phone_number": MOBILE,
        "template_id": TEMPLATE_ID,
        "personalisation": {"body": request.body},
        "reference": str(confirmation.id),
    }
    assert request.body.startswith("Appointment booked: Thu 14 Jan 10:00, Station Road")
    assert booking.reference in request.body
    assert confirmation.status == MessageStatus.SENT
    assert confirmation.provider_id == request.notification_id  # Notify's id is kept
    assert UUID.fullmatch(confirmation.provider_id)
    assert (confirmation.sent_at, confirmation.attempts) == (clock(), 1)
    assert confirmation.lease_until is None


def test_a_reminder_that_fell_due_before_the_quiet_hours_is_not_sent_in_them(notify, book, clock):
    booking = book(starts_at=local(2027, 1, 15, 9, 0))  # day-before reminder at 18:00 Thursday
    run(clock)
    clock.set_local(2027, 1, 14, 21, 30)  # the dispatcher was down from 18:00 to 21:30
    report = run(clock)
    assert (report.sent, report.skipped) == (0, 1)
    assert "no texts could be sent" in only(booking, MessageKind.DAY_BEFORE).skip_reason
    assert len(notify.requests) == 1


def test_the_reminders_dispatch_command_sends_through_notify(app, notify, book, clock):
    booking = book()
    db.session.commit()  # the command runs in its own app context (and session)

    result = app.test_cli_runner().invoke(args=["reminders", "dispatch"])

    assert result.exit_code == 0, result.output
    assert "Sent 1, skipped 0, cancelled 0, retrying 0, failed 0." in result.output
    db.session.expire_all()
    (request,) = notify.accepted
    assert only(booking, MessageKind.CONFIRMATION).provider_id == request.notification_id


# Settings


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"NOTIFY_API_KEY": None}, "SMS_BACKEND=notify needs NOTIFY_API_KEY"),
        ({"NOTIFY_TEMPLATE_ID": ""}, "SMS_BACKEND=notify needs NOTIFY_TEMPLATE_ID"),
        ({"NOTIFY_CALLBACK_TOKEN": None}, "SMS_BACKEND=notify needs NOTIFY_CALLBACK_TOKEN"),
        ({"NOTIFY_API_KEY": f"{SERVICE_ID}-{SECRET}"}, "NOTIFY_API_KEY is not a Notify API key"),
        ({"NOTIFY_API_KEY": "hunter2-very-secret"}, "NOTIFY_API_KEY is not a Notify API key"),
        ({"NOTIFY_TEMPLATE_ID": "welcome-text"}, "NOTIFY_TEMPLATE_ID is not a Notify template"),
    ],
    ids=["no-key", "no-template", "no-callback-token", "key-without-name", "not-a-key", "template"],
)
def test_a_notify_backend_with_a_setting_missing_or_malformed_is_refused(
    app, notify, changes, said
):
    assert isinstance(sms.backend_for(app), sms.NotifyBackend)
    app.config.update(changes)
    with pytest.raises(RuntimeError, match=said) as refused:
        sms.backend_for(app)
    assert SECRET not in str(refused.value) and "hunter2" not in str(refused.value)


def test_notify_takes_several_texts_at_once_each_on_a_client_of_its_own(notify, book, clock):
    assert sms.NotifyBackend.concurrent
    booked = book_many(book, clock, 12)
    notify.latency = 0.2  # Notify's answers take a while: the senders wait on them together

    report = run(clock)

    assert report.sent == 12
    assert 1 < notify.most_at_once <= dispatch.SENDERS
    assert references_sent(notify) == Counter({b.reference: 1 for b in booked})
    ids = {r.reference: r.notification_id for r in notify.requests}
    for booking in booked:
        confirmation = only(booking, MessageKind.CONFIRMATION)
        assert confirmation.provider_id == ids[str(confirmation.id)]


# Failures, through the real Notify client


def wrong_secret(app, notify):
    app.config["NOTIFY_API_KEY"] = f"booking_stand_in-{SERVICE_ID}-{OTHER_UUID}"


def wrong_service(app, notify):
    app.config["NOTIFY_API_KEY"] = f"booking_stand_in-{OTHER_UUID}-{SECRET}"


def unreachable(app, notify):
    app.config["NOTIFY_BASE_URL"] = closed_port_url()


def timeout(app, notify):
    notify.fail_next(slow(2.0))  # answered only after the client has given up


TRANSIENT = {
    "http-500": (SERVER_ERROR, "500"),
    "http-429-rate-limit": (RATE_LIMITED, "RateLimitError"),
    "http-429-daily-limit": (DAILY_LIMIT, "TooManyRequestsError"),
    # A refused key is ours to put right, as with Twilio's 401: the texts wait for it.
    "http-403-wrong-secret": (wrong_secret, "AuthError"),
    "http-403-wrong-service": (wrong_service, "AuthError"),
    "timeout": (timeout, None),
    "unreachable": (unreachable, None),
}


@pytest.mark.parametrize("case", list(TRANSIENT))
def test_a_transient_failure_puts_the_message_back_with_a_delay_then_it_goes(
    app, notify, book, clock, monkeypatch, case
):
    failure, code = TRANSIENT[case]
    monkeypatch.setattr(sms, "TIMEOUT_SECONDS", 0.2)
    booking = book()
    if callable(failure):
        failure(app, notify)
    else:
        notify.fail_next(failure)
    now = clock()

    report = run(clock)

    assert (report.retrying, report.failed) == (1, 0)
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.PENDING, 1)
    assert confirmation.error_code == code
    assert confirmation.due_at == now + dt.timedelta(seconds=app.config["SMS_RETRY_BASE_SECONDS"])
    assert confirmation.provider_id is None and confirmation.lease_until is None
    if case.startswith("http-403"):
        (refused,) = notify.requests
        assert not refused.authorised and refused.answered == 403

    # The next attempt, once due (and once an operator has put the key right).
    app.config.update(NOTIFY_API_KEY=API_KEY, NOTIFY_BASE_URL=notify.url)
    clock.set(confirmation.due_at - dt.timedelta(seconds=1))
    assert run(clock).claimed == []
    clock.set(confirmation.due_at)
    assert run(clock).sent == 1
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.SENT, 2)
    accepted = notify.requests[-1]
    assert accepted.accepted and confirmation.provider_id == accepted.notification_id
    assert accepted.reference == str(confirmation.id)


def test_transient_failures_back_off_doubling_and_fail_after_the_last_attempt(
    app, notify, book, clock
):
    assert (app.config["SMS_MAX_ATTEMPTS"], app.config["SMS_RETRY_BASE_SECONDS"]) == (5, 60)
    booking = book()
    notify.fail_next(SERVER_ERROR, RATE_LIMITED, SERVER_ERROR, DAILY_LIMIT, SERVER_ERROR)

    for attempt, delay in [(1, 60), (2, 120), (3, 240), (4, 480)]:
        now = clock()
        assert run(clock).retrying == 1
        confirmation = only(booking, MessageKind.CONFIRMATION)
        assert (confirmation.status, confirmation.attempts) == (MessageStatus.PENDING, attempt)
        assert confirmation.due_at == now + dt.timedelta(seconds=delay)
        clock.set(confirmation.due_at)

    assert run(clock).failed == 1
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.FAILED, 5)
    assert (confirmation.skip_reason, confirmation.error_code) == (NOT_DELIVERED, "500")
    clock.set(clock() + dt.timedelta(hours=1))
    assert run(clock).claimed == []  # never tried again
    assert len(notify.requests) == 5


def wrong_template(app, notify):
    app.config["NOTIFY_TEMPLATE_ID"] = OTHER_UUID  # Notify's own answer: "Template not found"


PERMANENT = {
    "not-a-mobile": (NOT_A_MOBILE, "ValidationError"),
    "trial-mode": (TRIAL_MODE, "BadRequestError"),
    "wrong-template": (wrong_template, "BadRequestError"),
}


@pytest.mark.parametrize("case", list(PERMANENT))
def test_a_refusal_of_the_message_itself_fails_at_once_and_is_never_retried(
    app, notify, book, clock, case
):
    failure, code = PERMANENT[case]
    booking = book()
    if callable(failure):
        failure(app, notify)
    else:
        notify.fail_next(failure)

    report = run(clock)

    assert (report.failed, report.retrying) == (1, 0)
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.FAILED, 1)
    assert (confirmation.skip_reason, confirmation.error_code) == (NOT_DELIVERED, code)
    assert confirmation.status_at == clock()
    assert confirmation.provider_id is None
    (refused,) = notify.requests
    assert refused.authorised and refused.answered == 400
    clock.set(clock() + dt.timedelta(hours=1))
    assert run(clock).claimed == []
    assert len(notify.requests) == 1


def test_neither_the_number_nor_notifys_words_reach_a_log_when_notify_refuses(
    notify, book, clock, caplog
):
    booking = book()
    notify.fail_next(NOT_A_MOBILE, SERVER_ERROR)
    with caplog.at_level(logging.DEBUG):
        run(clock)  # the confirmation, refused
        book(starts_at=local(2027, 1, 15, 11, 0), custody_record="20/777/27")
        run(clock)  # another, retrying
    db.session.expire_all()
    assert only(booking, MessageKind.CONFIRMATION).status == MessageStatus.FAILED
    logged = [str(vars(record)) for record in caplog.records]
    assert any("sms.failed" in entry for entry in logged)  # our own line, with the code alone
    for entry in logged:
        assert "900123" not in entry
        assert NOT_A_MOBILE.message not in entry and SERVER_ERROR.message not in entry


# Sent once, with several dispatchers and with Notify's receipts


def test_three_dispatchers_racing_through_notify_send_every_message_exactly_once(
    app, notify, book, clock
):
    booked = book_many(book, clock, 45)
    notify.latency = 0.002  # a little time at Notify, so that the dispatchers interleave
    db.session.commit()  # hold no transaction (SQLite's write lock) while they run
    barrier = threading.Barrier(3)

    def dispatcher(_):
        with app.app_context():
            barrier.wait()
            return dispatch.dispatch(clock, limit=5)

    with ThreadPoolExecutor(max_workers=3) as pool:
        reports = list(pool.map(dispatcher, range(3)))

    db.session.expire_all()
    assert sum(r.sent for r in reports) == 45, notify.errors
    claimed = [i for r in reports for i in r.claimed]
    assert len(claimed) == len(set(claimed)) == 45  # each claimed by one dispatcher only
    assert len(notify.requests) == 45
    assert references_sent(notify) == Counter({b.reference: 1 for b in booked})
    messages = db.session.scalars(select(Message).where(Message.id.in_(claimed))).all()
    assert {(m.status, m.attempts) for m in messages} == {(MessageStatus.SENT, 1)}
    assert {str(m.id): m.provider_id for m in messages} == {
        r.reference: r.notification_id for r in notify.requests
    }
    assert run(clock).claimed == []


def test_a_text_whose_answer_was_lost_is_not_sent_again_once_notifys_receipt_names_it(
    app, notify, book, client, clock, monkeypatch
):
    monkeypatch.setattr(sms, "TIMEOUT_SECONDS", 0.2)
    booking = book()
    notify.fail_next(slow(2.0))  # Notify takes it, but answers after the client gave up
    assert run(clock).retrying == 1
    (lost,) = notify.requests
    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert (confirmation.status, confirmation.provider_id) == (MessageStatus.PENDING, None)

    clock.set(clock() + dt.timedelta(seconds=20))
    assert post_receipt(client, notify.receipt(lost, "delivered")).status_code == 204

    db.session.expire_all()
    assert confirmation.provider_id == lost.notification_id  # found by its reference
    assert (confirmation.status, confirmation.status_at) == (MessageStatus.DELIVERED, clock())
    assert confirmation.lease_until is None
    clock.set(clock() + dt.timedelta(hours=1))
    assert run(clock).claimed == []  # the retry is off: it holds Notify's id
    assert len(notify.requests) == 1


@pytest.mark.parametrize(
    ("receipt_status", "answer", "kept"),
    [
        ("delivered", "stored", MessageStatus.DELIVERED),
        ("permanent-failure", "stored", MessageStatus.FAILED),
        ("delivered", "lost", MessageStatus.DELIVERED),  # no retry for a text Notify took
    ],
)
def test_a_receipt_that_comes_before_the_dispatcher_stored_notifys_answer_is_kept(
    app, notify, book, client, clock, receipt_status, answer, kept
):
    booking = book()
    notify_backend = sms.backend_for(app)

    class ReceiptFirst:
        """Notify's receipt arrives while the dispatcher still waits for Notify's answer."""

        concurrent = False

        def send(self, to, body, status_callback, reference=None):
            notification_id = notify_backend.send(to, body, status_callback, reference)
            (request,) = notify.requests
            assert post_receipt(client, notify.receipt(request, receipt_status)).status_code == 204
            if answer == "lost":
                raise sms.SendFailed("Notify could not be reached", transient=True)
            return notification_id

    run(clock, backend=ReceiptFirst())

    confirmation = only(booking, MessageKind.CONFIRMATION)
    assert confirmation.status == kept  # what the dispatcher makes of its answer changes nothing
    assert confirmation.provider_id == notify.requests[0].notification_id
    assert (confirmation.attempts, confirmation.lease_until) == (1, None)
    clock.set(clock() + dt.timedelta(hours=1))
    assert run(clock).claimed == []
    assert len(notify.requests) == 1


# The stand-in checks the token as Notify does, so a client that signed wrongly would fail.


def token(**changes) -> str:
    claims = {"iss": SERVICE_ID, "iat": int(dt.datetime.now(dt.UTC).timestamp())}
    claims.update(changes.pop("claims", {}))
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, changes.get("secret", SECRET), algorithm="HS256")


def old_token() -> str:
    return token(claims={"iat": int(dt.datetime.now(dt.UTC).timestamp()) - 3600})


BAD_TOKENS = {
    "none": (None, 401, "authentication token must be provided"),
    "basic": ("Basic " + SECRET, 401, "bearer scheme must be used"),
    "garbage": ("Bearer not-a-token", 403, "api token is not valid"),
    "other-secret": (lambda: "Bearer " + token(secret=OTHER_UUID), 403, "api token is not valid"),
    "other-service": (lambda: "Bearer " + token(claims={"iss": OTHER_UUID}), 403, "not found"),
    "no-issuer": (lambda: "Bearer " + token(claims={"iss": None}), 403, "iss field"),
    "stale": (lambda: "Bearer " + old_token(), 403, "expired"),
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_the_stand_in_refuses_a_token_notify_would_refuse(notify, kind):
    header, status, said = BAD_TOKENS[kind]
    headers = {} if header is None else {"Authorization": header() if callable(header) else header}
    body = {"phone_number": MOBILE, "template_id": TEMPLATE_ID, "personalisation": {"body": "Hi"}}

    response = requests.post(notify.url + SMS_PATH, json=body, headers=headers, timeout=5)

    assert response.status_code == status
    (error,) = response.json()["errors"]
    assert error["error"] == "AuthError" and said in error["message"]
    assert response.json()["status_code"] == status
    assert notify.accepted == []
    good = requests.post(
        notify.url + SMS_PATH, json=body, headers={"Authorization": "Bearer " + token()}, timeout=5
    )
    assert good.status_code == 201 and UUID.fullmatch(good.json()["id"])
