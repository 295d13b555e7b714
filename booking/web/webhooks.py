"""The text providers' webhooks: Twilio's status callbacks and incoming replies (STOP and
START), and GOV.UK Notify's delivery receipts and received texts.

Twilio signs its requests with the auth token over PUBLIC_BASE_URL + path; anything unsigned or
wrongly signed is refused with 403. Notify sends NOTIFY_CALLBACK_TOKEN as a bearer token;
anything without it is refused with 401. Both repeat themselves and come out of order, so a
status only ever moves forward (receipts.py, for both).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from .. import clock, settings
from ..extensions import csrf, db
from ..models import Message, MessageStatus
from ..monitoring import metrics
from ..phones import InvalidMobile, normalise_mobile
from ..sms import outbox, receipts
from ..sms.backends import NOTIFY_ID, OPTED_OUT_CODE
from .bearer import bearer_matches

bp = Blueprint("sms", __name__, url_prefix="/sms")
csrf.exempt(bp)

# Twilio's own keywords: https://help.twilio.com (opt-out and opt-in keywords)
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "YES", "UNSTOP"}

TWILIO_STATUS = {
    "accepted": MessageStatus.SENT,
    "scheduled": MessageStatus.SENT,
    "queued": MessageStatus.SENT,
    "sending": MessageStatus.SENT,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
}
# Notify's final SMS statuses. A permanent failure is a number that is not a working mobile;
# a temporary one a phone off or full all the while Notify kept trying (Twilio's undelivered);
# a technical one Notify's own trouble (Twilio's failed). None is sent again: phone them.
NOTIFY_STATUS = {
    "delivered": MessageStatus.DELIVERED,
    "permanent-failure": MessageStatus.FAILED,
    "temporary-failure": MessageStatus.FAILED,
    "technical-failure": MessageStatus.FAILED,
}


def _require_twilio_signature() -> None:
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    url = settings.public_base_url() + request.full_path.rstrip("?")
    if not token or not RequestValidator(token).validate(url, request.form, signature):
        abort(403)


def _empty_twiml():
    return str(MessagingResponse()), 200, {"Content-Type": "text/xml"}


@bp.post("/status")
def status_callback():
    _require_twilio_signature()
    sid = request.form.get("MessageSid", "")
    new_status = TWILIO_STATUS.get(request.form.get("MessageStatus", "").lower())
    message = db.session.scalar(select(Message).where(Message.provider_id == sid))
    if message is None or new_status is None:
        return "", 204  # not ours, or a status we do not track: acknowledged all the same
    now = clock.now()
    error_code = request.form.get("ErrorCode")
    if receipts.record(message, new_status, now, error_code):
        if new_status == MessageStatus.FAILED and error_code == OPTED_OUT_CODE:
            outbox.set_opt_out(message.booking.mobile, True, now)
        db.session.commit()
        metrics.sms_message(new_status, backend="twilio")
    return "", 204


def _require_notify_token() -> None:
    if not bearer_matches(current_app.config.get("NOTIFY_CALLBACK_TOKEN")):
        abort(Response("", 401, {"WWW-Authenticate": "Bearer"}))


@bp.post("/notify-status")
def notify_status():
    """Notify's delivery receipt: {id, reference, to, status, …}; `to` is never read."""
    _require_notify_token()
    receipt = request.get_json(silent=True)
    if not isinstance(receipt, dict) or not all(
        isinstance(receipt.get(field), str) for field in ("id", "status")
    ):
        return jsonify(error="A receipt is a JSON object with an id and a status."), 400
    new_status = NOTIFY_STATUS.get(receipt["status"])
    if new_status is None or not NOTIFY_ID.fullmatch(receipt["id"]):
        return "", 204  # not a status we track, or not a Notify id: acknowledged all the same
    now = clock.now()
    message = receipts.message_for(receipt["id"], receipt.get("reference"), now)
    moved = message is not None and receipts.record(
        message, new_status, now, error_code=receipt["status"]
    )
    db.session.commit()  # also a Notify id the receipt gave a message (message_for)
    if moved:
        metrics.sms_message(new_status, backend="notify")
    return "", 204


def _act_on_reply(provider_id: str, sender: str, body: str) -> None:
    """STOP (or another opt-out word) opts the sender's number out, START back in; anything
    else, or a reply acted on before (a provider's retry), changes nothing."""
    words = body.strip().upper().split()
    keyword = words[0].strip(".!") if words else ""
    if keyword not in STOP_WORDS | START_WORDS:
        return
    try:
        mobile = normalise_mobile(sender, settings.allow_test_numbers())
    except InvalidMobile:
        return
    now = clock.now()
    if not outbox.first_receipt(provider_id, now):
        return
    outbox.set_opt_out(mobile, keyword in STOP_WORDS, now)
    db.session.commit()


@bp.post("/inbound")
def inbound():
    _require_twilio_signature()
    _act_on_reply(
        request.form.get("MessageSid", ""),
        request.form.get("From", ""),
        request.form.get("Body", ""),
    )
    return _empty_twiml()


@bp.post("/notify-inbound")
def notify_inbound():
    """Notify's received-text callback ({id, source_number, message, …}), for a service with
    an inbound number: a reply of STOP to our texts opts the number out, as with Twilio."""
    _require_notify_token()
    received = request.get_json(silent=True)
    if not isinstance(received, dict) or not all(
        isinstance(received.get(field), str) for field in ("id", "source_number", "message")
    ):
        return jsonify(
            error="A received text is a JSON object with an id, a number and words."
        ), 400
    # Notify gives the sender as digits with the country code (447700900123).
    sender = received["source_number"]
    if sender.isdigit():
        sender = "+" + sender
    _act_on_reply(received["id"], sender, received["message"])
    return "", 204
