"""Sending a text: the console backend (nothing leaves the machine), Twilio and GOV.UK Notify.

A backend answers with the provider's message id, or raises SendFailed saying whether trying
again could help. `reference` is the outbox message's own id, for a provider that hands it back
in its delivery receipts (Notify does).
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from dataclasses import dataclass

import requests
from flask import Flask
from notifications_python_client import NotificationsAPIClient
from notifications_python_client.errors import APIError
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)

OPTED_OUT_CODE = "21610"  # Twilio: the recipient replied STOP
TIMEOUT_SECONDS = 10

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# Notify's API key: "{key name}-{service id}-{secret}", the last two UUIDs.
NOTIFY_API_KEY = re.compile(rf".+-{UUID}-{UUID}")
NOTIFY_ID = re.compile(UUID)

# The Notify client logs a warning with Notify's own words on every refusal: ours says the
# same with the code alone, and nothing the provider wrote may carry a number into a log.
logging.getLogger("notifications_python_client").setLevel(logging.ERROR)


class SendFailed(Exception):
    def __init__(self, message: str, *, transient: bool, code: str | None = None):
        super().__init__(message)
        self.transient = transient
        self.code = code

    @property
    def opted_out(self) -> bool:
        return self.code == OPTED_OUT_CODE


@dataclass
class ConsoleBackend:
    """Logs each message (never the number) and keeps it in the outbox."""

    concurrent = False  # nothing to wait for: one at a time, logged in order

    def send(
        self, to: str, body: str, status_callback: str | None, reference: str | None = None
    ) -> str:
        provider_id = f"console-{uuid.uuid4().hex}"
        # The text itself carries no personal data (see texts.py); the number is never logged.
        log.info("SMS (console backend, not sent) %s: %s", provider_id, body)
        return provider_id


class TwilioBackend:
    """Sends through the twilio client; several threads may send at once."""

    concurrent = True

    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_base_url: str):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.api_base_url = api_base_url.rstrip("/")
        self.from_number = from_number
        self.timeout = TIMEOUT_SECONDS
        # A client per thread: the twilio client and its HTTP session are not made to be shared.
        self._local = threading.local()

    @property
    def client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            http_client = TwilioHttpClient(timeout=self.timeout)
            client = Client(self.account_sid, self.auth_token, http_client=http_client)
            # Point the client at TWILIO_API_BASE_URL (a stand-in on loopback in tests).
            client.api.base_url = self.api_base_url
            self._local.client = client
        return client

    def send(
        self, to: str, body: str, status_callback: str | None, reference: str | None = None
    ) -> str:
        try:
            message = self.client.messages.create(
                to=to, from_=self.from_number, body=body, status_callback=status_callback
            )
        except TwilioRestException as error:
            # 5xx and 429 pass; 401 is our credentials, which an operator can put right in time.
            transient = error.status >= 500 or error.status in (401, 429)
            raise SendFailed(
                f"Twilio refused the message (HTTP {error.status}, code {error.code})",
                transient=transient,
                code=str(error.code) if error.code else None,
            ) from None
        except requests.RequestException as error:
            raise SendFailed(
                f"Twilio could not be reached ({type(error).__name__})", transient=True
            ) from None
        return message.sid


class NotifyBackend:
    """Sends through GOV.UK Notify's client, with one SMS template whose content is ((body)):
    the words are ours (texts.py), Notify only carries them. Several threads may send at once."""

    concurrent = True

    def __init__(self, api_key: str, template_id: str, base_url: str):
        self.api_key, self.template_id = api_key, template_id
        self.base_url = base_url.rstrip("/")
        self.timeout = TIMEOUT_SECONDS
        # The client keeps an HTTP session and says it is not thread-safe: one per thread.
        self._local = threading.local()

    @property
    def client(self) -> NotificationsAPIClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = NotificationsAPIClient(
                self.api_key, base_url=self.base_url, timeout=self.timeout
            )
            self._local.client = client
        return client

    def send(
        self, to: str, body: str, status_callback: str | None, reference: str | None = None
    ) -> str:
        # No status_callback: Notify posts its receipts to the callback set in its own settings.
        try:
            notification = self.client.send_sms_notification(
                phone_number=to,
                template_id=self.template_id,
                personalisation={"body": body},
                reference=reference,
            )
        except APIError as error:
            raise _notify_refusal(error) from None
        return notification["id"]


def _notify_refusal(error: APIError) -> SendFailed:
    if error.response is None:  # the client's own 503 for a refused connection or a timeout
        return SendFailed("Notify could not be reached", transient=True)
    status = error.status_code
    name = _notify_error_name(error)
    # 5xx and 429 pass; 401 and 403 are our API key, which an operator can put right in time.
    # A 400 is this message itself (not a mobile, trial mode, a wrong template): it fails.
    transient = status >= 500 or status in (401, 403, 429)
    return SendFailed(
        f"Notify refused the message (HTTP {status}, {name or 'no error named'})",
        transient=transient,
        # Notify's own name for a refusal ("ValidationError"); a 5xx by its status, as its
        # name says nothing ("Exception") and a proxy's error page has none.
        code=name[:20] if name and status < 500 else str(status),
    )


def _notify_error_name(error: APIError) -> str | None:
    """The first error's name in Notify's answer ("ValidationError", "RateLimitError", …)."""
    try:
        name = error.response.json()["errors"][0]["error"]
    except (ValueError, LookupError, TypeError):
        return None
    return name if isinstance(name, str) else None


def _require(config, backend: str, names: tuple[str, ...]) -> None:
    missing = [name for name in names if not config.get(name)]
    if missing:
        raise RuntimeError(f"SMS_BACKEND={backend} needs " + ", ".join(missing))


def backend_for(app: Flask):
    config = app.config
    if config["SMS_BACKEND"] == "twilio":
        _require(
            config, "twilio", ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
        )
        return TwilioBackend(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            config["TWILIO_FROM_NUMBER"],
            config["TWILIO_API_BASE_URL"],
        )
    if config["SMS_BACKEND"] == "notify":
        _require(
            config, "notify", ("NOTIFY_API_KEY", "NOTIFY_TEMPLATE_ID", "NOTIFY_CALLBACK_TOKEN")
        )
        # Said without the key itself: it is a secret.
        if not NOTIFY_API_KEY.fullmatch(config["NOTIFY_API_KEY"]):
            raise RuntimeError(
                "NOTIFY_API_KEY is not a Notify API key (its name, the service id, the secret)"
            )
        if not NOTIFY_ID.fullmatch(config["NOTIFY_TEMPLATE_ID"]):
            raise RuntimeError("NOTIFY_TEMPLATE_ID is not a Notify template id (a UUID)")
        return NotifyBackend(
            config["NOTIFY_API_KEY"], config["NOTIFY_TEMPLATE_ID"], config["NOTIFY_BASE_URL"]
        )
    if config["SMS_BACKEND"] != "console":
        raise RuntimeError("SMS_BACKEND must be console, twilio or notify")
    return ConsoleBackend()
