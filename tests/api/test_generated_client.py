"""A client generated from /api/v1/openapi.json by openapi-python-client drives a whole booking.

The generator runs on the document the app serves (no network), and the generated package
talks HTTP to the real app served on loopback, so the names, shapes and status codes a custody
system's generated client relies on are the ones the API keeps.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from booking.extensions import db
from booking.models import Role

PACKAGE = "booking_api_client"


@pytest.fixture
def served(app):
    """The test app on a loopback port of its own, for as long as the test runs."""
    db.session.commit()  # the server's requests need the database, not the test's session
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def generated(client, tmp_path, monkeypatch):
    """The client package generated from the served document, imported."""
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(client.get("/api/v1/openapi.json").get_json()))
    config = tmp_path / "generator.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run over the generated code
    subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(tmp_path / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
        del sys.modules[name]


def generated_module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_generated_client_books_reads_rearranges_and_cancels(tokens, rostered, generated, served):
    # Modules by the operations' tags and ids: api/<tag>/<operationId in snake case>.
    list_slots = generated_module("api.slots.list_slots")
    create = generated_module("api.bookings.create_booking")
    read = generated_module("api.bookings.get_booking")
    rearrange = generated_module("api.bookings.rearrange_booking")
    cancel = generated_module("api.bookings.cancel_booking")
    models = generated_module("models")

    with generated.AuthenticatedClient(
        base_url=f"{served}/api/v1", token=tokens[Role.SERGEANT], raise_on_unexpected_status=True
    ) as custody_system:
        slots = list_slots.sync(client=custody_system, limit=7)
        assert [type(slot) for slot in slots] == [models.Slot] * 7
        first, later = slots[0], slots[6]

        booked = create.sync_detailed(
            client=custody_system,
            idempotency_key="custody-system-1",
            body=models.BookingIn(
                block=first.block,
                starts_at=first.starts_at,
                custody_record="20/123456/27",
                person_name="Jamie Testperson",
                mobile="07700 900123",
                sms_consent=True,
                requirement="initial",
                test_result="cocaine",
                tested_at=dt.datetime(2027, 1, 13, 20, 15, tzinfo=dt.UTC),
                arrest_block="stechford",
            ),
        )
        assert booked.status_code == 201
        booking = booked.parsed
        assert isinstance(booking, models.Booking)
        assert booked.headers["Location"] == f"/api/v1/bookings/{booking.reference}"
        assert booking.status == models.BookingStatus.BOOKED
        assert booking.requirement == models.Requirement.INITIAL
        assert (booking.block, booking.starts_at) == (first.block, first.starts_at)
        assert booking.starts_at.utcoffset() == dt.timedelta(0)  # London in January
        assert booking.mobile == "+447700900123"
        assert booking.messages[0].kind == models.MessageKind.CONFIRMATION

        again = read.sync(booking.reference, client=custody_system)
        assert isinstance(again, models.Booking)
        assert again.to_dict() == booking.to_dict()

        moved = rearrange.sync(
            booking.reference,
            client=custody_system,
            body=models.RearrangeIn(block=later.block, starts_at=later.starts_at),
        )
        assert isinstance(moved, models.Booking)
        assert (moved.block, moved.starts_at) == (later.block, later.starts_at)
        assert moved.notice_version == 2

        cancelled = cancel.sync(
            booking.reference,
            client=custody_system,
            body=models.CancelIn(reason="Released without charge"),
        )
        assert isinstance(cancelled, models.Booking)
        assert cancelled.status == models.BookingStatus.CANCELLED

        refused = cancel.sync(
            booking.reference, client=custody_system, body=models.CancelIn(reason="Twice")
        )
        assert isinstance(refused, models.Error)
        assert refused.error
