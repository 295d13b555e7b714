"""What every request gets before anything may answer it: a request id, a CSP nonce, and the
refusal of a NUL character.

Apps of their own here: the test app's requests share its context, and with it `g`, so a request
id or nonce would carry over from the request before.
"""

from __future__ import annotations

import re

import pytest

from booking import create_app
from booking.extensions import db


@pytest.fixture
def fresh_app(app, schema, clock):
    """Another app on the test database, with the CSRF check on, as in the service."""
    db.session.commit()
    built = create_app(
        {"SQLALCHEMY_DATABASE_URI": schema, "CLOCK": clock, "WTF_CSRF_ENABLED": True}
    )
    yield built
    with built.app_context():
        db.engine.dispose()


def nonce(response) -> str:
    found = re.findall(r"'nonce-([^']*)'", response.headers["Content-Security-Policy"])
    assert len(found) == 1
    return found[0]


NUL_REQUESTS = {
    "in the path": lambda client: client.get("/bookings/AB%00CD", headers=ASKED),
    "in the query": lambda client: client.get("/login?next=%2Fbookings%00", headers=ASKED),
    "in a form field": lambda client: client.post(
        "/login", data={"email": "sergeant\x00@test.example"}, headers=ASKED
    ),
    "in an API path": lambda client: client.get("/api/v1/bookings/AB%00CD", headers=ASKED),
}
ASKED = {"X-Request-Id": "custody-req-nul"}


@pytest.mark.parametrize("where", NUL_REQUESTS)
def test_a_request_refused_for_a_nul_character_still_carries_its_request_id(fresh_app, where):
    refused = NUL_REQUESTS[where](fresh_app.test_client())
    assert refused.status_code == 400
    assert refused.headers["X-Request-Id"] == "custody-req-nul"
    assert len(nonce(refused)) >= 16


def test_a_refused_request_without_an_id_gets_one_made(fresh_app):
    refused = fresh_app.test_client().get("/login?next=%00")
    assert refused.status_code == 400
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["X-Request-Id"])


def test_each_request_gets_a_nonce_of_its_own(fresh_app):
    client = fresh_app.test_client()
    first, second = client.get("/login?next=%00"), client.get("/login?next=%00")
    assert nonce(first) != nonce(second)
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
