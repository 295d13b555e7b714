"""Who may call which API route: 401 without a valid token, 403 for a role not allowed."""

from __future__ import annotations

import pytest

from booking.models import Role
from tests.api_helpers import auth

ROUTES = [
    ("GET", "/api/v1/blocks"),
    ("GET", "/api/v1/blocks/oldbury/cover"),
    ("GET", "/api/v1/slots"),
    ("POST", "/api/v1/bookings"),
    ("GET", "/api/v1/bookings/ABCD-EFGH"),
    ("POST", "/api/v1/bookings/ABCD-EFGH/rearrange"),
    ("POST", "/api/v1/bookings/ABCD-EFGH/cancel"),
    ("GET", "/api/v1/bookings/ABCD-EFGH/notice"),
    ("GET", "/api/v1/bookings/ABCD-EFGH/calendar.ics"),
]
# Analysts see figures only: no route of the booking API is theirs.
ALLOWED = {Role.SERGEANT, Role.WORKER, Role.COORDINATOR}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_no_token_is_401(client, blocks, method, path):
    response = client.open(path, method=method, json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert set(response.get_json()) == {"error", "errors"}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_wrong_token_is_401(client, tokens, method, path):
    response = client.open(path, method=method, json={}, headers=auth("not-a-token"))
    assert response.status_code == 401


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_role_matrix(client, tokens, role, method, path):
    response = client.open(path, method=method, json={}, headers=auth(tokens[role]))
    if role in ALLOWED:
        assert response.status_code not in (401, 403)
    else:
        assert response.status_code == 403


def test_a_disabled_users_token_stops_working(client, tokens, users):
    from booking.extensions import db

    users[Role.SERGEANT].active = False
    db.session.commit()
    response = client.get("/api/v1/blocks", headers=auth(tokens[Role.SERGEANT]))
    assert response.status_code == 401


def test_the_openapi_document_and_health_need_no_token(client, app):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_audit_trail_is_for_coordinators(client, tokens, role):
    response = client.get("/api/v1/audit", headers=auth(tokens[role]))
    assert response.status_code == (200 if role == Role.COORDINATOR else 403)


@pytest.mark.parametrize("role", list(Role))
def test_my_calendar_is_for_workers(client, tokens, role):
    response = client.get("/api/v1/me/calendar", headers=auth(tokens[role]))
    assert response.status_code == (200 if role == Role.WORKER else 403)


@pytest.mark.parametrize("role", list(Role))
def test_outcomes_are_recorded_by_workers_and_coordinators(client, tokens, role):
    response = client.post(
        "/api/v1/bookings/ABCD-EFGH/outcome",
        json={"outcome": "attended"},
        headers=auth(tokens[role]),
    )
    # Allowed roles reach the lookup (404 for this unknown reference); others are refused.
    assert response.status_code == (404 if role in (Role.WORKER, Role.COORDINATOR) else 403)
