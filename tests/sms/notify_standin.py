"""A stand-in GOV.UK Notify on loopback, for driving the real notifications-python-client in tests.

It answers `POST /v2/notifications/sms` as Notify does. First the client's signed token, checked
as Notify's own API checks it (with the functions of Notify's client library that Notify uses):
no bearer token is a 401; a token not signed with the key's secret (HS256), with another service
id as its `iss`, or with an `iat` more than 30 seconds from now is a 403, in Notify's error JSON
(`{"status_code": 403, "errors": [{"error": "AuthError", "message": …}]}`). Then the request:
the template must be the service's, the personalisation must hold `body`, the number must be a
UK mobile. It answers 201 with the notification, whose id is a UUID.

It records every request (see standin.py), can be told to fail the next ones (400 with a
ValidationError or BadRequestError, 429, 500, or an answer later than the client waits), and
writes the delivery receipt Notify would post back for a notification it accepted.

The `notify` fixture starts one per test, points the app at it (SMS_BACKEND=notify) and shuts it
down cleanly afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass

import pytest
from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.errors import (
    TokenDecodeError,
    TokenError,
    TokenExpiredError,
    TokenIssuerError,
)

from tests.sms.standin import Received, StandIn
from tests.sms.twilio_standin import PUBLIC_BASE_URL

SERVICE_ID = "cb8267ca-c2f1-4df7-ac34-93dd5eb0ca44"
SECRET = "0e3c32bf-18c5-4be8-895f-016fa5b28573"
API_KEY = f"booking_stand_in-{SERVICE_ID}-{SECRET}"  # Notify's form: name, service id, secret
TEMPLATE_ID = "03680564-cb98-40ed-8bd8-b4a17f2db28d"
CALLBACK_TOKEN = "stand-in-callback-token-5f1c9a"
SMS_PATH = "/v2/notifications/sms"
UK_MOBILE = re.compile(r"\+447\d{9}")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # Notify's, in its receipts


def _errors(status: int, error: str, message: str) -> dict:
    return {"status_code": status, "errors": [{"error": error, "message": message}]}


@dataclass(frozen=True)
class Failure:
    """How the stand-in answers one request instead of accepting it."""

    status: int = 201
    error: str = ""
    message: str = ""
    delay: float = 0.0  # seconds before answering (longer than the client's timeout)

    def payload(self) -> dict:
        return _errors(self.status, self.error, self.message)


SERVER_ERROR = Failure(500, "Exception", "Internal server error")
RATE_LIMITED = Failure(
    429, "RateLimitError", "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"
)
DAILY_LIMIT = Failure(429, "TooManyRequestsError", "Exceeded send limits (250000) for today")
NOT_A_MOBILE = Failure(400, "ValidationError", "phone_number Not a UK mobile number")
TRIAL_MODE = Failure(
    400, "BadRequestError", "Can't send to this recipient when service is in trial mode"
)


def slow(seconds: float) -> Failure:
    """An answer (an accepted notification) that comes after `seconds`."""
    return Failure(delay=seconds)


@dataclass
class NotifyRequest(Received):
    """One request as the stand-in saw it, in Notify's terms."""

    issuer: str | None = None  # the token's `iss`, whether or not the token held
    refusal: tuple[int, str] | None = None  # why the token was refused, as Notify says it

    @property
    def notification_id(self) -> str | None:
        return self.provider_id

    @property
    def phone_number(self) -> str | None:
        return self.data.get("phone_number")

    @property
    def reference(self) -> str | None:
        return self.data.get("reference")

    @property
    def body(self) -> str:
        personalisation = self.data.get("personalisation")
        return personalisation.get("body", "") if isinstance(personalisation, dict) else ""


class NotifyStandIn(StandIn):
    def __init__(
        self, service_id: str = SERVICE_ID, secret: str = SECRET, template_id: str = TEMPLATE_ID
    ):
        self.service_id, self.secret, self.template_id = service_id, secret, template_id
        super().__init__()

    def not_found(self) -> tuple[int, dict]:
        return 404, _errors(404, "NotFound", "Not Found")

    def receive(self, path: str, headers: dict[str, str], raw: str) -> NotifyRequest:
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        issuer, refusal = self._check_token(headers.get("Authorization"))
        return NotifyRequest(
            path=path,
            headers=headers,
            known=path == SMS_PATH,
            authorised=refusal is None,
            data=data if isinstance(data, dict) else {},
            issuer=issuer,
            refusal=refusal,
        )

    def _check_token(self, header: str | None) -> tuple[str | None, tuple[int, str] | None]:
        """The token's issuer, and Notify's refusal of it (None when it holds)."""
        if not header:
            return None, (401, "Unauthorized, authentication token must be provided")
        if header[:7].title() != "Bearer ":
            return None, (401, "Unauthorized, authentication bearer scheme must be used")
        token = header[7:]
        try:
            issuer = get_token_issuer(token)
        except TokenIssuerError:
            return None, (403, "Invalid token: iss field not provided")
        except TokenDecodeError:
            return None, (403, "Invalid token: signature, api token is not valid")
        if issuer != self.service_id:
            return issuer, (403, "Invalid token: service not found")
        try:
            decode_jwt_token(token, self.secret)
        except TokenExpiredError:
            return issuer, (403, "Invalid token: expired, check that your system clock is accurate")
        except TokenError:
            return issuer, (403, "Invalid token: signature, api token is not valid")
        return issuer, None

    def reply(self, received: NotifyRequest, failure: Failure | None) -> tuple[int, dict]:
        if not received.known:
            return self.not_found()
        if received.refusal is not None:
            status, message = received.refusal
            return status, _errors(status, "AuthError", message)
        if failure is not None and failure.status != 201:
            return failure.status, failure.payload()
        data = received.data
        if data.get("template_id") != self.template_id:
            return 400, _errors(400, "BadRequestError", "Template not found")
        if not received.body:
            return 400, _errors(400, "BadRequestError", "Missing personalisation: body")
        if not isinstance(data.get("phone_number"), str) or not UK_MOBILE.fullmatch(
            data["phone_number"]
        ):
            return NOT_A_MOBILE.status, NOT_A_MOBILE.payload()
        return 201, self._notification(received)

    def _notification(self, received: NotifyRequest) -> dict:
        notification_id = str(uuid.uuid4())
        received.provider_id = notification_id
        template_uri = f"{self.url}/services/{self.service_id}/templates/{self.template_id}"
        return {
            "id": notification_id,
            "reference": received.reference,
            "content": {"body": received.body, "from_number": "GOVUK"},
            "uri": f"{self.url}/v2/notifications/{notification_id}",
            "template": {"id": self.template_id, "version": 1, "uri": template_uri},
            "scheduled_for": None,
        }

    def receipt(self, received: NotifyRequest, status: str) -> dict:
        """The delivery receipt Notify posts for a notification it accepted."""
        now = dt.datetime.now(dt.UTC).strftime(TIME_FORMAT)
        return {
            "id": received.notification_id,
            "reference": received.reference,
            "to": received.phone_number,
            "status": status,
            "created_at": now,
            "completed_at": now,
            "sent_at": now,
            "notification_type": "sms",
            "template_id": self.template_id,
            "template_version": 1,
        }


def post_receipt(client, receipt, token: str | None = CALLBACK_TOKEN, **headers):
    """Post a receipt to the app as Notify does: JSON, with the callback's bearer token."""
    if token is not None:
        headers.setdefault("Authorization", f"Bearer {token}")
    return client.post("/sms/notify-status", json=receipt, headers=headers)


def configure_notify(app, standin: NotifyStandIn) -> None:
    """Point the app's SMS at the stand-in, through the real Notify client."""
    app.config.update(
        SMS_BACKEND="notify",
        NOTIFY_API_KEY=API_KEY,
        NOTIFY_TEMPLATE_ID=standin.template_id,
        NOTIFY_BASE_URL=standin.url,
        NOTIFY_CALLBACK_TOKEN=CALLBACK_TOKEN,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
    )


@pytest.fixture(name="notify")
def notify_fixture(app):
    """A running stand-in Notify, with the app configured to send through it."""
    standin = NotifyStandIn().start()
    configure_notify(app, standin)
    try:
        yield standin
    finally:
        standin.stop()
    assert not standin.errors, standin.errors
