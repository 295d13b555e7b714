"""A stand-in Twilio on loopback, for driving the real twilio client in tests.

It answers `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` as Twilio does (201 with the
message resource, status "queued"), checks the basic auth, records every request it receives
(thread-safely) and the most it was answering at once, and can be told to fail the next
requests: HTTP 500, 429, 400 with a Twilio error code (21211 invalid number, 21610 unsubscribed
recipient), or an answer slower than the client's timeout.

The `standin` fixture starts one per test, points the app at it (SMS_BACKEND=twilio) and shuts
it down cleanly afterwards, joining every handler thread.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import email.utils
import json
import re
import secrets
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

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
class Received:
    """One request as the stand-in saw it."""

    method: str
    path: str
    account_sid: str | None
    authorised: bool
    form: dict[str, str]
    answered: int = 0
    sid: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.answered == 201

    @property
    def body(self) -> str:
        return self.form.get("Body", "")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # HTTP/1.0: one request per connection, closed after the answer, so no idle keep-alive
    # socket outlives a test (filterwarnings=error turns a ResourceWarning into a failure).
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        pass  # quiet: the tests read `requests` instead

    def do_GET(self):
        self._answer(404, {"code": 20404, "message": "Not found", "status": 404})

    def do_POST(self):
        standin = self.server.standin
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8")
        form = {name: values[-1] for name, values in parse_qs(raw, keep_blank_values=True).items()}
        match = MESSAGES_PATH.match(self.path)
        received = Received(
            method="POST",
            path=self.path,
            account_sid=match["sid"] if match else None,
            authorised=self.headers.get("Authorization") == standin.expected_authorization,
            form=form,
            headers=dict(self.headers.items()),
        )
        failure = standin._next_failure() if match and received.authorised else None
        standin._record(received)
        standin._arrived()
        try:
            self._reply(standin, received, match, form, failure)
        finally:
            standin._left()

    def _reply(self, standin, received, match, form, failure) -> None:
        if match is None:
            status, payload = 404, {"code": 20404, "message": "Not found", "status": 404}
        elif not received.authorised or received.account_sid != standin.account_sid:
            status, payload = 401, {"code": 20003, "message": "Authenticate", "status": 401}
        elif failure is not None and failure.status != 201:
            status, payload = failure.status, failure.payload()
        elif not form.get("To") or not form.get("From") or not form.get("Body"):
            status, payload = 400, {"code": 21604, "message": "To, From, Body", "status": 400}
        else:
            status, payload = 201, standin._resource(received)
        delay = max(standin.latency, failure.delay if failure is not None else 0.0)
        if delay:
            # Woken early when the stand-in stops, so that no thread outlives the test.
            standin.stopping.wait(delay)
        received.answered = status
        with contextlib.suppress(OSError):  # the client may have given up (timeout)
            self._answer(status, payload)

    def _answer(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # joined by server_close()
    block_on_close = True
    # Twilio never turns a connection away: with the default backlog (5), dispatchers sending
    # at once on a busy machine could find the stand-in's queue full and see a failure that
    # the real service never gives.
    request_queue_size = 128

    def __init__(self, standin: TwilioStandIn):
        self.standin = standin
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request, client_address):
        # A client that hung up (timeout) is expected; anything else fails the test.
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            self.standin.errors.append(error)


class TwilioStandIn:
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        self.account_sid = account_sid
        self.auth_token = auth_token
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self.expected_authorization = f"Basic {credentials}"
        self.stopping = threading.Event()
        self.latency = 0.0  # seconds each request takes, to let concurrent senders interleave
        self.most_at_once = 0  # the most requests it was answering at the same time
        self._at_once = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._script: deque[Failure] = deque()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> TwilioStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads
        self._thread.join()

    # Scripting and inspection, from the test's thread.

    def fail_next(self, *failures: Failure) -> None:
        """Answer the next requests with these, in order; then accept again."""
        with self._lock:
            self._script.extend(failures)

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if r.accepted]

    def bodies(self) -> list[str]:
        return [r.body for r in self.accepted]

    # Called from the handler threads.

    def _next_failure(self) -> Failure | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _record(self, received: Received) -> None:
        with self._lock:
            self._received.append(received)

    def _arrived(self) -> None:
        with self._lock:
            self._at_once += 1
            self.most_at_once = max(self.most_at_once, self._at_once)

    def _left(self) -> None:
        with self._lock:
            self._at_once -= 1

    def _resource(self, received: Received) -> dict:
        sid = "SM" + secrets.token_hex(16)
        received.sid = sid
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
