"""Twilio's webhooks: message status callbacks and incoming replies (STOP and START).

Both are signed by Twilio with the auth token over PUBLIC_BASE_URL + path; anything unsigned or
wrongly signed is refused with 403. Twilio repeats callbacks and sends them out of order, so a
status only ever moves forward.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from .. import clock, settings
from ..extensions import csrf, db
from ..models import Message, MessageStatus
from ..monitoring import metrics
from ..phones import InvalidMobile, normalise_mobile
from ..sms import outbox
from ..sms.backends import OPTED_OUT_CODE

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
# How far along a message is; delivered and failed are both final.
PROGRESS = {
    MessageStatus.PENDING: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.FAILED: 3,
    MessageStatus.SKIPPED: 3,
    MessageStatus.CANCELLED: 3,
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
    if PROGRESS[new_status] > PROGRESS[MessageStatus(message.status)]:
        message.status = new_status
        message.status_at = now
        error_code = request.form.get("ErrorCode")
        if new_status == MessageStatus.FAILED:
            message.error_code = error_code
            message.skip_reason = "Text not delivered: phone them"
            if error_code == OPTED_OUT_CODE:
                outbox.set_opt_out(message.booking.mobile, True, now)
        db.session.commit()
        metrics.sms_message(new_status, backend="twilio")
    return "", 204


@bp.post("/inbound")
def inbound():
    _require_twilio_signature()
    words = request.form.get("Body", "").strip().upper().split()
    keyword = words[0].strip(".!") if words else ""
    try:
        mobile = normalise_mobile(request.form.get("From", ""), settings.allow_test_numbers())
    except InvalidMobile:
        return _empty_twiml()
    if keyword not in STOP_WORDS | START_WORDS:
        return _empty_twiml()
    now = clock.now()
    if not outbox.first_receipt(request.form.get("MessageSid", ""), now):
        return _empty_twiml()  # a replay, or Twilio's retry: acted on already
    outbox.set_opt_out(mobile, keyword in STOP_WORDS, now)
    db.session.commit()
    return _empty_twiml()
