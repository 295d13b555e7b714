"""Where signing in leads: back to the page asked for, on this site only, whatever is in `next`."""

from __future__ import annotations

import pytest

from booking.models import Role
from tests.support import PASSWORD


def sign_in(client, next_url: str):
    return client.post(
        "/login",
        query_string={"next": next_url},
        data={"email": f"{Role.SERGEANT}@test.example", "password": PASSWORD},
    )


def test_signing_in_returns_to_the_page_asked_for(client, users):
    response = sign_in(client, "/bookings?block=stechford")

    assert response.status_code == 302
    assert response.headers["Location"] == "/bookings?block=stechford"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://elsewhere.example/",
        "//elsewhere.example/",
        "/\\elsewhere.example/",
        "bookings",
        "/\r\nSet-Cookie: planted=1",
        "/bookings\x7f",
    ],
)
def test_any_other_next_leads_home(client, users, next_url):
    response = sign_in(client, next_url)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "planted" not in response.headers.get("Set-Cookie", "")
