"""A stand-in Twilio on loopback, for driving the real twilio client in tests.

It answers `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` as Twilio does (201 with the
message resource, status "queued"), checks the basic auth, records every request it receives
(thread-safely) and the most it was answering at once (see standin.py), and can be told to fail
the next requests: HTTP 500, 429, 400 with a Twilio error code (21211 invalid number, 21610
unsubscribed recipient), or an answer slower than the client's timeout.

The `standin` fixture starts one per test, points the app at it (SMS_BACKEND=twilio) and shuts
it down cleanly afterwards, joining every handler thread.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

import pytest

from tests.sms.standin import Received, StandIn

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "stand-in-auth-token-0123456789ab"
FROM_NUMBER = "+447700900001"
PUBLIC_BASE_URL = "https://booking.example.test"

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")


@dataclass(frozen=True)
class Failure:
    """How the stand-in answers one request instead of accepting it."""

    status: int = 201
    code: int | None = None
    message: str = ""
    delay: float = 0.0  # seconds before answering (longer than the client's timeout)

    def payload(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


SERVER_ERROR = Failure(500, 20500, "Internal Server Error")
TOO_MANY_REQUESTS = Failure(429, 20429, "Too Many Requests")
INVALID_NUMBER = Failure(400, 21211, "The 'To' number is not a valid phone number.")
UNSUBSCRIBED = Failure(400, 21610, "Attempt to send to unsubscribed recipient")


def slow(seconds: float) -> Failure:
    """An answer (an accepted message) that comes after `seconds`."""
    return Failure(delay=seconds)


@dataclass
class TwilioRequest(Received):
    """One request as the stand-in saw it, in Twilio's terms."""

    account_sid: str | None = None

    @property
    def form(self) -> dict[str, str]:
        return self.data

    @property
    def sid(self) -> str | None:
        return self.provider_id

    @property
    def body(self) -> str:
        return self.form.get("Body", "")


NOT_FOUND = {"code": 20404, "message": "Not found", "status": 404}


class TwilioStandIn(StandIn):
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        self.account_sid = account_sid
        self.auth_token = auth_token
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.expected_authorization = f"Basic {credentials}"
        super().__init__()

    def not_found(self) -> tuple[int, dict]:
        return 404, NOT_FOUND

    def receive(self, path: str, headers: dict[str, str], raw: str) -> TwilioRequest:
        form = {name: values[-1] for name, values in parse_qs(raw, keep_blank_values=True).items()}
        match = MESSAGES_PATH.match(path)
        return TwilioRequest(
            path=path,
            headers=headers,
            known=match is not None,
            authorised=headers.get("Authorization") == self.expected_authorization,
            data=form,
            account_sid=match["sid"] if match else None,
        )

    def reply(self, received: TwilioRequest, failure: Failure | None) -> tuple[int, dict]:
        form = received.form
        if not received.known:
            return self.not_found()
        if not received.authorised or received.account_sid != self.account_sid:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        if failure is not None and failure.status != 201:
            return failure.status, failure.payload()
        if not form.get("To") or not form.get("From") or not form.get("Body"):
            return 400, {"code": 21604, "message": "To, From, Body", "status": 400}
        return 201, self._resource(received)

    def _resource(self, received: TwilioRequest) -> dict:
        sid = "SM" + secrets.token_hex(16)
        received.provider_id = sid
        now = email.utils.format_datetime(dt.datetime.now(dt.UTC), usegmt=True)
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": received.form["Body"],
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": received.form["From"],
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "GBP",
            "status": "queued",
            "subresource_uris": {},
            "to": received.form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }


def configure_twilio(app, standin: TwilioStandIn) -> None:
    """Point the app's SMS at the stand-in, through the real twilio client."""
    app.config.update(
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=standin.account_sid,
        TWILIO_AUTH_TOKEN=standin.auth_token,
        TWILIO_FROM_NUMBER=FROM_NUMBER,
        TWILIO_API_BASE_URL=standin.url,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
    )


@pytest.fixture(name="standin")
def standin_fixture(app):
    """A running stand-in Twilio, with the app configured to send through it."""
    standin = TwilioStandIn().start()
    configure_twilio(app, standin)
    try:
        yield standin
    finally:
        standin.stop()
    assert not standin.errors, standin.errors
