"""Where signing in leads: back to the page asked for, on this site only, whatever is in `next`."""

from __future__ import annotations

import pytest

from booking.models import Role
from tests.support import PASSWORD, Page


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


def test_a_worker_lands_on_their_day_unless_another_page_was_asked_for(client, users):
    worker = {"email": f"{Role.WORKER}@test.example", "password": PASSWORD}

    landed = client.post("/login", data=worker)
    assert landed.headers["Location"] == "/day"
    assert client.get("/login").headers["Location"] == "/day", "already signed in"

    client.post("/logout")
    asked = client.post("/login", query_string={"next": "/calendar"}, data=worker)
    assert asked.headers["Location"] == "/calendar"


def test_your_day_is_the_first_place_in_a_workers_menu_and_on_their_home_page(client, users):
    client.post("/login", data={"email": f"{Role.WORKER}@test.example", "password": PASSWORD})

    links = Page(client.get("/").get_data(as_text=True)).links

    places = [link for link in links if link[0] not in ("#main-content", "/", "/logout")]
    menu, home = places[:7], places[7:]
    assert menu[0] == ("/day", "Your day")
    assert home[0] == ("/day", "Your day")
