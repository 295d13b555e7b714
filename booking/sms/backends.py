"""Sending a text: the console backend (nothing leaves the machine) and Twilio.

A backend answers with the provider's message id, or raises SendFailed saying whether trying
again could help.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

import requests
from flask import Flask
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

log = logging.getLogger(__name__)

OPTED_OUT_CODE = "21610"  # Twilio: the recipient replied STOP
TIMEOUT_SECONDS = 10


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

    def send(self, to: str, body: str, status_callback: str | None) -> str:
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

    def send(self, to: str, body: str, status_callback: str | None) -> str:
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


def backend_for(app: Flask):
    config = app.config
    if config["SMS_BACKEND"] == "twilio":
        missing = [
            name
            for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
            if not config.get(name)
        ]
        if missing:
            raise RuntimeError("SMS_BACKEND=twilio needs " + ", ".join(missing))
        return TwilioBackend(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            config["TWILIO_FROM_NUMBER"],
            config["TWILIO_API_BASE_URL"],
        )
    if config["SMS_BACKEND"] != "console":
        raise RuntimeError("SMS_BACKEND must be console or twilio")
    return ConsoleBackend()
