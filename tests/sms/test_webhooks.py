"""Twilio's webhooks: signed status callbacks that only move forward, and STOP / START replies.

Requests are signed as Twilio signs them: HMAC-SHA1 with the auth token over PUBLIC_BASE_URL +
path and the sorted form parameters (twilio's own RequestValidator computes them here).
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from booking.extensions import db
from booking.models import Booking, Message, MessageKind, MessageStatus, OptOut
from booking.sms import dispatch
from booking.sms.outbox import OPTED_OUT
from tests.sms.twilio_standin import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    PUBLIC_BASE_URL,
    standin_fixture,  # noqa: F401  (the `standin` fixture)
)
from tests.support import count, fill_rota, local

MOBILE = "+447700900123"


FRIDAY_TEN = local(2027, 1, 15, 10, 0)


@pytest.fixture
def book(book, team):
    """Book as the sergeant at Stechford, and commit; the rota runs for the week."""
    fill_rota(dt.date(2027, 1, 13), 7)  # Wednesday 13 to Tuesday 19 January

    def make(starts_at=FRIDAY_TEN, mobile="07700 900123") -> Booking:
        return book(starts_at, mobile=mobile, test_result="opiates")

    return make


def sign(path: str, params: dict, token: str = AUTH_TOKEN, base: str = PUBLIC_BASE_URL) -> str:
    return RequestValidator(token).compute_signature(base + path, params)


def post(client, path: str, params: dict, signature: str | None = "sign"):
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = sign(path, params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(path, data=params, headers=headers)


def status_params(message: Message, status: str, **extra) -> dict:
    return {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": message.provider_id,
        "SmsSid": message.provider_id,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": MOBILE,
        "From": FROM_NUMBER,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def inbound_params(body: str, sender: str = MOBILE, sid: str | None = None) -> dict:
    """A text received from `sender`, with a message sid of its own unless one is given."""
    return {
        "AccountSid": ACCOUNT_SID,
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "From": sender,
        "To": FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
    }


@pytest.fixture
def sent(standin, book, clock) -> Message:
    """A confirmation sent through the stand-in, holding Twilio's message sid."""
    booking = book()
    assert dispatch.dispatch(clock).sent == 1
    db.session.expire_all()
    message = next(m for m in booking.messages if m.kind == MessageKind.CONFIRMATION)
    assert message.status == MessageStatus.SENT and message.provider_id
    return message


def opt_outs() -> int:
    return count(OptOut)


# Signatures

BAD_SIGNATURES = {
    "missing": None,
    "empty": "",
    "garbage": "not-a-signature",
    "other-token": "other-token",
    "other-url": "other-url",
    "tampered": "tampered",
}


def bad_signature(kind: str, path: str, params: dict) -> tuple[dict, str | None]:
    """(params to send, signature header) for one kind of bad signature."""
    if kind == "other-token":
        return params, sign(path, params, token="not-our-token")
    if kind == "other-url":
        return params, sign(path, params, base="https://elsewhere.example")
    if kind == "tampered":  # signed for one body, sent with another
        return params | {"Extra": "1"}, sign(path, params)
    return params, BAD_SIGNATURES[kind]


@pytest.mark.parametrize("kind", list(BAD_SIGNATURES))
def test_a_status_callback_without_a_valid_signature_is_refused_and_changes_nothing(
    client, sent, kind
):
    params, signature = bad_signature(kind, "/sms/status", status_params(sent, "delivered"))
    response = post(client, "/sms/status", params, signature)
    assert response.status_code == 403
    db.session.expire_all()
    assert sent.status == MessageStatus.SENT
    assert sent.status_at is not None and sent.status_at == sent.sent_at


@pytest.mark.parametrize("kind", list(BAD_SIGNATURES))
def test_an_inbound_stop_without_a_valid_signature_is_refused_and_changes_nothing(
    client, sent, kind
):
    params, signature = bad_signature(kind, "/sms/inbound", inbound_params("STOP"))
    response = post(client, "/sms/inbound", params, signature)
    assert response.status_code == 403
    db.session.expire_all()
    assert opt_outs() == 0
    pending = [m for m in sent.booking.messages if m.status == MessageStatus.PENDING]
    assert len(pending) == 2  # the reminders are still to go


def test_without_an_auth_token_configured_every_webhook_is_refused(app, client, sent):
    params = status_params(sent, "delivered")
    signature = sign("/sms/status", params)
    app.config["TWILIO_AUTH_TOKEN"] = None
    assert post(client, "/sms/status", params, signature).status_code == 403
    db.session.expire_all()
    assert sent.status == MessageStatus.SENT


def test_a_webhook_is_not_a_get(client, standin):
    assert client.get("/sms/status").status_code == 405
    assert client.get("/sms/inbound").status_code == 405


# Status callbacks


def test_a_signed_delivered_callback_marks_the_message_delivered(client, sent, clock):
    clock.set(clock() + dt.timedelta(seconds=20))
    response = post(client, "/sms/status", status_params(sent, "delivered"))
    assert response.status_code == 204
    db.session.expire_all()
    assert sent.status == MessageStatus.DELIVERED
    assert sent.status_at == clock()


def test_status_only_moves_forward_and_repeats_are_harmless(client, sent, clock):
    delivered_at = clock() + dt.timedelta(seconds=20)
    clock.set(delivered_at)
    assert post(client, "/sms/status", status_params(sent, "delivered")).status_code == 204
    clock.set(delivered_at + dt.timedelta(seconds=5))
    for late in ["sent", "queued", "sending", "delivered", "delivered"]:
        assert post(client, "/sms/status", status_params(sent, late)).status_code == 204
    db.session.expire_all()
    assert sent.status == MessageStatus.DELIVERED
    assert sent.status_at == delivered_at  # untouched by the repeats


def test_a_sent_callback_after_sending_changes_nothing(client, sent):
    assert post(client, "/sms/status", status_params(sent, "sent")).status_code == 204
    db.session.expire_all()
    assert sent.status == MessageStatus.SENT


@pytest.mark.parametrize("status", ["failed", "undelivered"])
def test_a_failed_or_undelivered_callback_marks_the_message_failed(client, sent, clock, status):
    response = post(client, "/sms/status", status_params(sent, status, ErrorCode="30003"))
    assert response.status_code == 204
    db.session.expire_all()
    assert sent.status == MessageStatus.FAILED
    assert sent.error_code == "30003"
    assert sent.skip_reason == "Text not delivered: phone them"
    # Final: a late 'delivered' or a repeat does not undo it.
    post(client, "/sms/status", status_params(sent, "delivered"))
    post(client, "/sms/status", status_params(sent, status, ErrorCode="30003"))
    db.session.expire_all()
    assert sent.status == MessageStatus.FAILED
    assert opt_outs() == 0


def test_an_undelivered_callback_for_an_unsubscribed_number_records_the_opt_out(
    client, sent, clock
):
    response = post(client, "/sms/status", status_params(sent, "undelivered", ErrorCode="21610"))
    assert response.status_code == 204
    db.session.expire_all()
    assert sent.status == MessageStatus.FAILED
    opt_out = db.session.scalar(select(OptOut).where(OptOut.mobile == MOBILE))
    assert opt_out.active and opt_out.opted_out_at == clock()
    assert {m.status for m in sent.booking.messages if m.kind != MessageKind.CONFIRMATION} == {
        MessageStatus.SKIPPED
    }


def test_a_callback_for_an_unknown_message_or_status_is_acknowledged_and_ignored(client, sent):
    unknown = status_params(sent, "delivered") | {"MessageSid": "SM" + "0" * 32}
    assert post(client, "/sms/status", unknown).status_code == 204
    assert post(client, "/sms/status", status_params(sent, "receiving")).status_code == 204
    db.session.expire_all()
    assert sent.status == MessageStatus.SENT


# STOP and START


@pytest.mark.parametrize("body", ["STOP", "stop", "Stop please", "UNSUBSCRIBE", " stop. ", "End"])
def test_stop_opts_the_number_out_and_skips_its_pending_messages(client, sent, clock, body):
    clock.set(clock() + dt.timedelta(minutes=5))
    response = post(client, "/sms/inbound", inbound_params(body))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert "<Response" in response.get_data(as_text=True)

    db.session.expire_all()
    opt_out = db.session.scalar(select(OptOut).where(OptOut.mobile == MOBILE))
    assert opt_out is not None and opt_out.active
    assert opt_out.opted_out_at == clock()
    assert opt_out.opted_in_at is None
    reminders = [m for m in sent.booking.messages if m.kind != MessageKind.CONFIRMATION]
    assert len(reminders) == 2
    for message in reminders:
        assert message.status == MessageStatus.SKIPPED
        assert message.skip_reason == OPTED_OUT
        assert message.status_at == clock()
    assert sent.status == MessageStatus.SENT  # what already went stays as it was


def test_after_stop_nothing_more_is_sent_to_that_number(standin, client, sent, book, clock):
    post(client, "/sms/inbound", inbound_params("STOP"))
    later = book(starts_at=local(2027, 1, 18, 10, 0))
    assert {m.status for m in later.messages} == {MessageStatus.SKIPPED}
    for moment in [(2027, 1, 14, 18, 0), (2027, 1, 15, 8, 0), (2027, 1, 18, 8, 0)]:
        clock.set_local(*moment)
        assert dispatch.dispatch(clock).sent == 0
    assert len(standin.requests) == 1  # the confirmation sent before the STOP


def test_start_opts_back_in_with_its_time_and_later_messages_are_sent(
    standin, client, sent, book, clock
):
    stop_at = clock() + dt.timedelta(minutes=5)
    clock.set(stop_at)
    post(client, "/sms/inbound", inbound_params("STOP"))
    start_at = stop_at + dt.timedelta(hours=1)
    clock.set(start_at)
    response = post(client, "/sms/inbound", inbound_params("Start"))
    assert response.status_code == 200

    db.session.expire_all()
    opt_out = db.session.scalar(select(OptOut).where(OptOut.mobile == MOBILE))
    assert (opt_out.opted_out_at, opt_out.opted_in_at) == (stop_at, start_at)
    assert not opt_out.active

    later = book(starts_at=local(2027, 1, 18, 10, 0))
    assert dispatch.dispatch(clock).sent == 1
    clock.set_local(2027, 1, 17, 18, 0)
    assert dispatch.dispatch(clock).sent == 1
    db.session.expire_all()
    assert [m.status for m in later.messages[:2]] == [MessageStatus.SENT, MessageStatus.SENT]
    assert len(standin.requests) == 3
    assert later.reference in standin.bodies()[-1]
    # The reminders skipped while opted out stay skipped: they are not sent late.
    assert {m.status for m in sent.booking.messages if m.kind != MessageKind.CONFIRMATION} == {
        MessageStatus.SKIPPED
    }


def test_stop_again_after_start_opts_out_again(client, sent, clock):
    post(client, "/sms/inbound", inbound_params("STOP"))
    clock.set(clock() + dt.timedelta(hours=1))
    post(client, "/sms/inbound", inbound_params("START"))
    clock.set(clock() + dt.timedelta(hours=1))
    post(client, "/sms/inbound", inbound_params("stop"))
    db.session.expire_all()
    opt_out = db.session.scalar(select(OptOut).where(OptOut.mobile == MOBILE))
    assert opt_out.active and opt_out.opted_out_at == clock()
    assert opt_outs() == 1


def test_a_replayed_stop_after_start_does_not_opt_the_number_out_again(client, sent, clock):
    stop = inbound_params("STOP", sid="SM" + "5" * 32)
    post(client, "/sms/inbound", stop)
    clock.set(clock() + dt.timedelta(hours=1))
    post(client, "/sms/inbound", inbound_params("START"))
    clock.set(clock() + dt.timedelta(hours=1))

    replayed = post(client, "/sms/inbound", stop)  # the same signed request, sent again

    assert replayed.status_code == 200
    db.session.expire_all()
    opt_out = db.session.scalar(select(OptOut).where(OptOut.mobile == MOBILE))
    assert not opt_out.active, "START still holds"


@pytest.mark.parametrize("body", ["Thanks, see you then", "", "Can I stop by later?"])
def test_other_replies_change_nothing(client, sent, body):
    response = post(client, "/sms/inbound", inbound_params(body))
    assert response.status_code == 200
    db.session.expire_all()
    assert opt_outs() == 0
    assert sum(m.status == MessageStatus.PENDING for m in sent.booking.messages) == 2


def test_stop_from_a_number_that_is_not_a_uk_mobile_is_acknowledged_and_ignored(client, sent):
    response = post(client, "/sms/inbound", inbound_params("STOP", sender="+12025550123"))
    assert response.status_code == 200
    assert opt_outs() == 0


def test_stop_from_a_number_we_never_texted_is_still_recorded(client, standin, clock):
    response = post(client, "/sms/inbound", inbound_params("STOP", sender="+447700900999"))
    assert response.status_code == 200
    opt_out = db.session.scalar(select(OptOut).where(OptOut.mobile == "+447700900999"))
    assert opt_out is not None and opt_out.opted_out_at == clock()
