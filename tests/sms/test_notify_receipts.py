"""GOV.UK Notify's delivery receipts at /sms/notify-status: bearer-token checked, statuses only
moving forward, Notify's failures mapped as Twilio's are.

Each receipt is the one the stand-in Notify writes for a text it accepted from the real client
(notify_standin.py), posted as Notify posts it: JSON, with NOTIFY_CALLBACK_TOKEN as the bearer.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import Message, MessageKind, MessageStatus, OptOut
from booking.sms.outbox import NOT_DELIVERED
from tests.sms.notify_standin import (
    CALLBACK_TOKEN,
    notify_fixture,  # noqa: F401  (the `notify` fixture)
    post_receipt,
)
from tests.sms.test_dispatch import (
    book_at_stechford,  # noqa: F401  (the `book` fixture: Friday 10:00, the week's rota)
    only,
    run,
)
from tests.support import count, local

UNKNOWN_ID = "7a1d6c3e-4b2f-4e8a-9c5d-0f6e3b2a1d48"


@pytest.fixture
def sent(notify, book, clock) -> Message:
    """A confirmation sent through the stand-in Notify, holding Notify's id."""
    booking = book()
    assert run(clock).sent == 1
    message = only(booking, MessageKind.CONFIRMATION)
    assert message.status == MessageStatus.SENT and message.provider_id
    return message


@pytest.fixture
def receipt(notify, sent):
    """The receipt Notify would post for the sent confirmation, with a status of choice."""
    (request,) = notify.requests

    def make(status: str, /, **changes) -> dict:
        return notify.receipt(request, status) | changes

    return make


def unchanged(message: Message) -> None:
    db.session.expire_all()
    assert message.status == MessageStatus.SENT
    assert message.status_at == message.sent_at
    assert message.error_code is None


# The bearer token

BAD_AUTHORISATIONS = {
    "missing": None,
    "empty": "",
    "bearer-alone": "Bearer",
    "bearer-empty": "Bearer ",
    "other-token": "Bearer not-the-callback-token",
    "token-and-more": f"Bearer {CALLBACK_TOKEN}x",
    "token-cut-short": f"Bearer {CALLBACK_TOKEN[:-1]}",
    "basic-scheme": f"Basic {CALLBACK_TOKEN}",
    "token-alone": CALLBACK_TOKEN,
    "not-ascii": "Bearer jeton-de-rappel-é",
}


@pytest.mark.parametrize("kind", list(BAD_AUTHORISATIONS))
def test_a_receipt_without_the_callback_token_is_refused_and_changes_nothing(
    client, sent, receipt, kind
):
    authorisation = BAD_AUTHORISATIONS[kind]
    headers = {} if authorisation is None else {"Authorization": authorisation}
    response = post_receipt(client, receipt("delivered"), token=None, **headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    unchanged(sent)


def test_without_a_callback_token_configured_every_receipt_is_refused(app, client, sent, receipt):
    for configured in (None, ""):
        app.config["NOTIFY_CALLBACK_TOKEN"] = configured
        assert post_receipt(client, receipt("delivered")).status_code == 401
        assert post_receipt(client, receipt("delivered"), token="").status_code == 401
    unchanged(sent)


def test_the_scheme_is_read_as_http_says_whatever_its_case(client, sent, receipt):
    response = post_receipt(client, receipt("delivered"), Authorization=f"bearer {CALLBACK_TOKEN}")
    assert response.status_code == 204
    db.session.expire_all()
    assert sent.status == MessageStatus.DELIVERED


def test_the_receipt_endpoint_takes_no_get_and_needs_no_csrf_token(app, client, sent, receipt):
    assert client.get("/sms/notify-status").status_code == 405
    app.config["WTF_CSRF_ENABLED"] = True  # on, as in service: Notify has no form to get one
    assert post_receipt(client, receipt("delivered")).status_code == 204
    db.session.expire_all()
    assert sent.status == MessageStatus.DELIVERED


# Statuses


def test_a_delivered_receipt_marks_the_message_delivered(client, sent, receipt, clock):
    clock.set(clock() + dt.timedelta(seconds=20))
    assert post_receipt(client, receipt("delivered")).status_code == 204
    db.session.expire_all()
    assert (sent.status, sent.status_at) == (MessageStatus.DELIVERED, clock())
    assert sent.error_code is None and sent.skip_reason is None


@pytest.mark.parametrize("status", ["permanent-failure", "temporary-failure", "technical-failure"])
def test_a_failure_receipt_marks_the_message_failed_for_good(client, sent, receipt, clock, status):
    clock.set(clock() + dt.timedelta(minutes=5))
    assert post_receipt(client, receipt(status)).status_code == 204
    db.session.expire_all()
    assert (sent.status, sent.status_at) == (MessageStatus.FAILED, clock())
    assert (sent.error_code, sent.skip_reason) == (status, NOT_DELIVERED)
    failed_at = clock()
    # Final: a late 'delivered' or a repeat does not undo it, and nothing is sent again.
    clock.set(clock() + dt.timedelta(hours=1))
    post_receipt(client, receipt("delivered"))
    post_receipt(client, receipt(status))
    db.session.expire_all()
    assert (sent.status, sent.status_at) == (MessageStatus.FAILED, failed_at)
    assert count(OptOut) == 0  # Notify has no opt-out code: a failure is not a STOP
    assert run(clock).sent == 0


def test_statuses_only_move_forward_and_repeats_are_harmless(client, sent, receipt, clock):
    delivered_at = clock() + dt.timedelta(seconds=20)
    clock.set(delivered_at)
    assert post_receipt(client, receipt("delivered")).status_code == 204
    clock.set(delivered_at + dt.timedelta(seconds=5))
    for late in ["temporary-failure", "delivered", "technical-failure", "permanent-failure"]:
        assert post_receipt(client, receipt(late)).status_code == 204
    db.session.expire_all()
    assert (sent.status, sent.status_at) == (MessageStatus.DELIVERED, delivered_at)
    assert sent.error_code is None


@pytest.mark.parametrize(
    "changes",
    [
        {"id": UNKNOWN_ID, "reference": None},
        {"id": UNKNOWN_ID, "reference": "not-ours"},
        {"status": "sending"},
        {"status": "created"},
        {"status": "DELIVERED"},
        {"id": "not-a-notify-id"},
        {"id": "\x00"},
    ],
    ids=["unknown-id", "unknown-reference", "sending", "created", "upper-case", "bad-id", "nul"],
)
def test_a_receipt_for_no_message_of_ours_or_no_status_we_track_is_acknowledged_and_ignored(
    client, sent, receipt, changes
):
    assert post_receipt(client, receipt("delivered", **changes)).status_code == 204
    unchanged(sent)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '"delivered"',
        '{"status": "delivered"}',
        '{"id": 12, "status": "delivered"}',
        '{"id": "7a1d6c3e-4b2f-4e8a-9c5d-0f6e3b2a1d48"}',
    ],
    ids=["not-json", "a-list", "a-string", "no-id", "id-not-a-string", "no-status"],
)
def test_a_malformed_receipt_is_refused_with_400_and_changes_nothing(client, sent, body):
    response = client.post(
        "/sms/notify-status",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {CALLBACK_TOKEN}"},
    )
    assert response.status_code == 400
    assert "id and a status" in response.get_json()["error"]
    unchanged(sent)


# Our reference: the outbox id, which finds a text only while it holds no provider id


def test_a_reference_does_not_move_a_message_that_holds_another_id(
    client, sent, receipt, notify, book, clock
):
    later = book(starts_at=local(2027, 1, 15, 11, 0), custody_record="20/888/27")
    other = only(later, MessageKind.CONFIRMATION)
    assert run(clock).sent == 1
    # A receipt with an id we do not know, naming by reference a message sent under another.
    forged = receipt("permanent-failure", id=UNKNOWN_ID, reference=str(other.id))
    assert post_receipt(client, forged).status_code == 204
    db.session.expire_all()
    assert other.status == MessageStatus.SENT
    assert other.provider_id == notify.requests[-1].notification_id


def test_a_reference_to_a_message_never_handed_to_notify_is_ignored(
    client, sent, receipt, notify, clock
):
    day_before = only(sent.booking, MessageKind.DAY_BEFORE)
    assert (day_before.status, day_before.attempts) == (MessageStatus.PENDING, 0)
    stray = receipt("delivered", id=UNKNOWN_ID, reference=str(day_before.id))
    assert post_receipt(client, stray).status_code == 204
    db.session.expire_all()
    assert (day_before.status, day_before.provider_id) == (MessageStatus.PENDING, None)
    clock.set_local(2027, 1, 14, 18, 0)
    assert run(clock).sent == 1  # it still goes, when due
    assert day_before.provider_id == notify.requests[-1].notification_id


@pytest.mark.parametrize("reference", ["", "-1", "1.0", " 1", "١", "9" * 40, ["1"], 1])
def test_a_reference_that_is_not_a_message_id_is_ignored(client, sent, receipt, reference):
    stray = receipt("delivered", id=UNKNOWN_ID, reference=reference)
    assert post_receipt(client, stray).status_code == 204
    unchanged(sent)
    assert db.session.scalar(select(Message).where(Message.provider_id == UNKNOWN_ID)) is None


# Received texts (Notify's inbound number): STOP and START, as with Twilio


def received_text(words: str, sender: str, received_id: str = UNKNOWN_ID) -> dict:
    """What Notify posts for a text its inbound number received: the sender in digits."""
    return {
        "id": received_id,
        "source_number": sender.lstrip("+"),
        "destination_number": "07700900999",
        "message": words,
        "date_received": "2027-01-14T10:05:00.000000Z",
    }


def post_received(client, body, token: str | None = CALLBACK_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post("/sms/notify-inbound", json=body, headers=headers)


def opt_out_of(mobile: str) -> OptOut | None:
    db.session.expire_all()
    return db.session.scalar(select(OptOut).where(OptOut.mobile == mobile))


def test_a_stop_received_through_notify_opts_the_number_out_and_stops_its_reminders(
    client, sent, clock
):
    mobile = sent.booking.mobile
    response = post_received(client, received_text("Stop", mobile))
    assert response.status_code == 204
    opt_out = opt_out_of(mobile)
    assert opt_out is not None and opt_out.active and opt_out.opted_out_at == clock()
    pending = [m for m in sent.booking.messages if m.kind != MessageKind.CONFIRMATION]
    assert pending and {m.status for m in pending} == {MessageStatus.SKIPPED}


def test_start_through_notify_opts_back_in_and_a_repeated_text_is_acted_on_once(
    client, sent, clock
):
    mobile = sent.booking.mobile
    post_received(client, received_text("STOP", mobile))
    clock.set(clock() + dt.timedelta(hours=1))
    start = received_text("START", mobile, "5b2e7c1d-3a4f-4d8b-8e6c-1f2a3b4c5d6e")
    assert post_received(client, start).status_code == 204
    assert not opt_out_of(mobile).active
    # Notify retries a callback it thinks failed: the same STOP again changes nothing.
    clock.set(clock() + dt.timedelta(hours=1))
    assert post_received(client, received_text("STOP", mobile)).status_code == 204
    assert not opt_out_of(mobile).active


@pytest.mark.parametrize("token", [None, "not-the-callback-token"])
def test_a_received_text_without_the_callback_token_is_refused_and_changes_nothing(
    client, sent, token
):
    response = post_received(client, received_text("STOP", sent.booking.mobile), token)
    assert response.status_code == 401
    assert opt_out_of(sent.booking.mobile) is None


@pytest.mark.parametrize(
    "body",
    [
        ["STOP"],
        {"id": UNKNOWN_ID, "message": "STOP"},
        {"id": 1, "source_number": "1", "message": ""},
    ],
)
def test_a_malformed_received_text_is_refused_with_400(client, sent, body):
    assert post_received(client, body).status_code == 400
    assert count(OptOut) == 0


def test_other_words_or_a_number_that_is_not_a_mobile_change_nothing(client, sent):
    assert (
        post_received(
            client, received_text("Thanks, see you then", sent.booking.mobile)
        ).status_code
        == 204
    )
    assert post_received(client, received_text("STOP", "441214960000")).status_code == 204
    assert count(OptOut) == 0
