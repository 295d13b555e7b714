"""The session cookie is written by pages, never by static files.

A static answer that arrives after a page's could otherwise put back an older session (with an
older CSRF token) and make the next form fail.
"""

from __future__ import annotations

import datetime as dt

import pytest

from booking.models import Role


@pytest.fixture
def signed_in(client, users, login):
    assert login(Role.SERGEANT).status_code == 302
    return client


@pytest.mark.parametrize(
    "path", ["/static/app.css", "/static/favicon.svg", "/static/js/timeout.js"]
)
def test_static_files_leave_the_session_cookie_alone(signed_in, path):
    with signed_in.get(path) as response:
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers


def test_a_request_no_route_answers_leaves_the_session_cookie_alone(signed_in):
    with signed_in.get("/favicon.ico") as response:
        assert response.status_code == 404
        assert "Set-Cookie" not in response.headers


def test_a_page_still_renews_the_session_cookie(signed_in):
    response = signed_in.get("/")

    assert response.status_code == 200
    assert "session=" in response.headers.get("Set-Cookie", "")


def test_a_static_file_does_not_count_as_activity(signed_in, app, clock):
    """The idle time-out counts what the person does: a stylesheet the browser fetches is not
    the person coming back."""
    app.config["IDLE_TIMEOUT_MINUTES"] = 30
    clock.set(clock() + dt.timedelta(minutes=20))
    signed_in.get("/static/app.css").close()
    clock.set(clock() + dt.timedelta(minutes=20))

    response = signed_in.get("/")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
