"""Who may read /metrics: with METRICS_TOKEN set, whoever sends it as a bearer token; with none
set, this machine only, straight to the app and not through a proxy. /healthz, /readyz and
/metrics set no cookie and are never cached."""

from __future__ import annotations

import pytest

TOKEN = "metrics-token-for-tests-0123456789"
ELSEWHERE = {"REMOTE_ADDR": "192.0.2.10"}


@pytest.fixture
def with_token(app):
    app.config["METRICS_TOKEN"] = TOKEN


def test_without_a_token_this_machine_may_scrape(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_without_a_token_another_machine_is_refused(client):
    response = client.get("/metrics", environ_base=ELSEWHERE)
    assert response.status_code == 403
    assert "http_requests_total" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "forwarded",
    [
        {"X-Forwarded-For": "192.0.2.10"},
        {"X-Forwarded-For": "127.0.0.1"},
        {"X-Forwarded-Proto": "https"},
        {"Forwarded": "for=192.0.2.10"},
        {"X-Real-IP": "192.0.2.10"},
    ],
)
def test_without_a_token_a_request_through_a_proxy_on_this_machine_is_refused(client, forwarded):
    """nginx on this machine connects from 127.0.0.1 whoever its client is."""
    assert client.get("/metrics", headers=forwarded).status_code == 403


def test_behind_a_declared_proxy_a_forwarded_request_is_refused_too(make_app):
    proxied = make_app(PROXY_FIX_HOPS=1).test_client()
    assert proxied.get("/metrics", headers={"X-Forwarded-For": "192.0.2.10"}).status_code == 403
    assert proxied.get("/metrics").status_code == 200  # this machine, straight to the app


def test_with_a_token_the_right_bearer_token_may_scrape_from_anywhere(client, with_token):
    for bearer in (f"Bearer {TOKEN}", f"bearer {TOKEN}"):
        response = client.get("/metrics", headers={"Authorization": bearer}, environ_base=ELSEWHERE)
        assert response.status_code == 200
        assert "http_requests_total" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "authorization",
    [None, "", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer ", f"Basic {TOKEN}", TOKEN],
)
def test_with_a_token_a_missing_or_wrong_one_is_refused_even_on_this_machine(
    client, with_token, authorization
):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "http_requests_total" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_checks_and_scrapes_set_no_cookie_and_are_not_cached(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "no-store" in response.headers["Cache-Control"]
