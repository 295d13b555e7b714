"""What every stand-in text provider on loopback shares: the server and its threads, scripted
failures, a record of what it received and the most requests it was answering at once.

A provider's stand-in (twilio_standin, notify_standin) says how a request reads (`receive`)
and how the provider answers it (`reply`); the rest is here. Each runs in threads of its own
and is stopped cleanly, every handler thread joined.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One request as the stand-in saw it. `known` says it was sent to the provider's path."""

    path: str
    headers: dict[str, str]
    known: bool
    authorised: bool
    data: dict = field(default_factory=dict)
    answered: int = 0
    provider_id: str | None = None

    @property
    def accepted(self) -> bool:
        return self.answered == 201


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # HTTP/1.0: one request per connection, closed after the answer, so no idle keep-alive
    # socket outlives a test (filterwarnings=error turns a ResourceWarning into a failure).
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        pass  # quiet: the tests read `requests` instead

    def do_GET(self):
        self._answer(*self.server.standin.not_found())

    def do_POST(self):
        standin = self.server.standin
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8")
        received = standin.receive(self.path, dict(self.headers.items()), raw)
        failure = standin._next_failure() if received.known and received.authorised else None
        standin._record(received)
        standin._arrived()
        try:
            status, payload = standin.reply(received, failure)
            delay = max(standin.latency, failure.delay if failure is not None else 0.0)
            if delay:
                # Woken early when the stand-in stops, so that no thread outlives the test.
                standin.stopping.wait(delay)
            received.answered = status
            with contextlib.suppress(OSError):  # the client may have given up (timeout)
                self._answer(status, payload)
        finally:
            standin._left()

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
    # A provider never turns a connection away: with the default backlog (5), dispatchers
    # sending at once on a busy machine could find the stand-in's queue full and see a failure
    # that the real service never gives.
    request_queue_size = 128

    def __init__(self, standin: StandIn):
        self.standin = standin
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request, client_address):
        # A client that hung up (timeout) is expected; anything else fails the test.
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            self.standin.errors.append(error)


class StandIn:
    """The provider-neutral part of a stand-in; a subclass gives `receive`, `reply` and
    `not_found`. A failure is any object with `status`, `delay` (seconds) and what the
    subclass's `reply` reads of it."""

    def __init__(self):
        self.stopping = threading.Event()
        self.latency = 0.0  # seconds each request takes, to let concurrent senders interleave
        self.most_at_once = 0  # the most requests it was answering at the same time
        self._at_once = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._received: list = []
        self._script: deque = deque()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # The provider's own part.

    def receive(self, path: str, headers: dict[str, str], raw: str) -> Received:
        raise NotImplementedError

    def reply(self, received: Received, failure) -> tuple[int, dict]:
        raise NotImplementedError

    def not_found(self) -> tuple[int, dict]:
        raise NotImplementedError

    # Running it.

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()  # joins the handler threads
        self._thread.join()

    # Scripting and inspection, from the test's thread.

    def fail_next(self, *failures) -> None:
        """Answer the next requests with these, in order; then accept again."""
        with self._lock:
            self._script.extend(failures)

    @property
    def requests(self) -> list:
        with self._lock:
            return list(self._received)

    @property
    def accepted(self) -> list:
        return [r for r in self.requests if r.accepted]

    def bodies(self) -> list[str]:
        return [r.body for r in self.accepted]

    # Called from the handler threads.

    def _next_failure(self):
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
