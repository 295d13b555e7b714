"""Coordinators manage users and tokens, and browse the audit trail."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from booking.accounts.users import issue_token
from booking.extensions import db
from booking.models import ApiToken, AuditEvent, Role, User
from tests.support import PASSWORD, auth, count


@pytest.fixture
def coordinator(client, users, login):
    login(Role.COORDINATOR)
    return client


def test_a_coordinator_creates_a_worker_with_a_home_block(coordinator):
    response = coordinator.post(
        "/users",
        data={
            "email": "New.Worker@example.test",
            "name": "Kim Newcombe",
            "role": "worker",
            "block": "oldbury",
            "password": "a long first password",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.worker@example.test"))
    assert user.worker.home_block.code == "oldbury"
    assert user.password_hash.startswith("pbkdf2")  # hashed (scrypt outside tests)


def test_a_refused_user_shows_the_error_and_writes_nothing(coordinator):
    before = count(User)
    response = coordinator.post(
        "/users",
        data={
            "email": "x@example.test",
            "name": "X",
            "role": "worker",
            "block": "",
            "password": "short",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert "Passwords must be at least 10 characters" in html
    assert "A worker needs a home block" in html
    assert count(User) == before


def test_disabling_a_user_stops_their_sign_in_and_ends_their_tokens(
    app, coordinator, users, tokens
):
    sergeant = users[Role.SERGEANT]
    assert (
        coordinator.post(f"/users/{sergeant.id}/active", data={"active": "no"}).status_code == 302
    )
    other = app.test_client()
    refused = other.post("/login", data={"email": sergeant.email, "password": PASSWORD})
    assert refused.status_code == 400
    assert other.get("/api/v1/blocks", headers=auth(tokens[Role.SERGEANT])).status_code == 401
    coordinator.post(f"/users/{sergeant.id}/active", data={"active": "yes"})
    signed_in = other.post("/login", data={"email": sergeant.email, "password": PASSWORD})
    assert signed_in.status_code == 302, "enabled again, the user signs in"
    assert other.get("/api/v1/blocks", headers=auth(tokens[Role.SERGEANT])).status_code == 401, (
        "but an old token never comes back"
    )


def test_a_coordinator_cannot_disable_themselves(coordinator, users):
    me = users[Role.COORDINATOR]
    coordinator.post(f"/users/{me.id}/active", data={"active": "no"})
    db.session.refresh(me)
    assert me.active


def test_resetting_a_password(app, coordinator, users):
    worker = users[Role.WORKER]
    coordinator.post(f"/users/{worker.id}", data={"password": "a brand new password"})
    other = app.test_client()
    assert (
        other.post(
            "/login", data={"email": worker.email, "password": "a brand new password"}
        ).status_code
        == 302
    )


def test_an_api_token_is_shown_once_works_and_can_be_revoked(app, coordinator, users):
    me = users[Role.COORDINATOR]
    page = coordinator.post(f"/users/{me.id}/tokens").get_data(as_text=True)
    token = re.search(r'<code class="app-token">([^<]+)</code>', page).group(1)
    api = app.test_client()
    assert api.get("/api/v1/blocks", headers=auth(token)).status_code == 200
    assert token not in coordinator.get(f"/users/{me.id}").get_data(as_text=True)
    stored = db.session.scalar(select(ApiToken).where(ApiToken.user_id == me.id))
    assert stored.token_hash != token
    coordinator.post(f"/users/{me.id}/tokens/{stored.id}/revoke")
    assert api.get("/api/v1/blocks", headers=auth(token)).status_code == 401


def test_a_coordinator_cannot_issue_a_token_that_acts_as_someone_else(coordinator, users):
    sergeant = users[Role.SERGEANT]
    assert coordinator.post(f"/users/{sergeant.id}/tokens").status_code == 403
    assert count(ApiToken) == 0
    assert "Issue a new API token" not in coordinator.get(f"/users/{sergeant.id}").get_data(
        as_text=True
    )


def test_a_coordinator_revokes_anyones_token(app, coordinator, users, tokens):
    sergeant = users[Role.SERGEANT]
    stored = db.session.scalar(select(ApiToken).where(ApiToken.user_id == sergeant.id))
    coordinator.post(f"/users/{sergeant.id}/tokens/{stored.id}/revoke")
    api = app.test_client()
    assert api.get("/api/v1/blocks", headers=auth(tokens[Role.SERGEANT])).status_code == 401


def test_a_password_reset_ends_the_users_tokens(app, coordinator, users, tokens):
    worker = users[Role.WORKER]
    coordinator.post(f"/users/{worker.id}", data={"password": "a brand new password"})
    api = app.test_client()
    assert api.get("/api/v1/blocks", headers=auth(tokens[Role.WORKER])).status_code == 401
    assert api.get("/api/v1/blocks", headers=auth(tokens[Role.SERGEANT])).status_code == 200


def test_a_token_stops_working_after_api_token_days(app, users, tokens, clock):
    app.config["API_TOKEN_DAYS"] = 90
    api = app.test_client()
    clock.set(clock() + dt.timedelta(days=89, hours=23))
    assert api.get("/api/v1/blocks", headers=auth(tokens[Role.SERGEANT])).status_code == 200
    clock.set(clock() + dt.timedelta(hours=2))
    assert api.get("/api/v1/blocks", headers=auth(tokens[Role.SERGEANT])).status_code == 401


def test_every_change_to_users_and_tokens_is_in_the_audit_trail(app, coordinator, users):
    me, sergeant = users[Role.COORDINATOR], users[Role.SERGEANT]
    before = max((e.id for e in db.session.scalars(select(AuditEvent))), default=0)
    coordinator.post(
        "/users",
        data={
            "email": "kim.newcombe@example.test",
            "name": "Kim Newcombe",
            "role": "sergeant",
            "block": "oldbury",
            "password": "a long first password",
        },
    )
    coordinator.post(f"/users/{sergeant.id}", data={"password": "a brand new password"})
    coordinator.post(f"/users/{sergeant.id}/active", data={"active": "no"})
    coordinator.post(f"/users/{sergeant.id}/active", data={"active": "yes"})
    coordinator.post(f"/users/{me.id}/tokens")
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == me.id))
    coordinator.post(f"/users/{me.id}/tokens/{token.id}/revoke")

    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.user_id) for e in events] == [
        ("user_created", me.id),
        ("password_reset", me.id),
        ("user_disabled", me.id),
        ("user_enabled", me.id),
        ("token_issued", me.id),
        ("token_revoked", me.id),
    ]
    assert events[1].detail == f"user {sergeant.id} (sergeant)"
    assert all("@" not in (e.detail or "") for e in events), "no email in the trail"


def test_tokens_ended_by_a_password_reset_name_who_reset_it(app, coordinator, users, clock):
    me, sergeant = users[Role.COORDINATOR], users[Role.SERGEANT]
    issue_token(sergeant, clock())
    db.session.commit()
    coordinator.post(f"/users/{sergeant.id}", data={"password": "a brand new password"})
    revoked = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "token_revoked")
    ).all()
    assert [(e.user_id, e.detail) for e in revoked] == [(me.id, f"user {sergeant.id} (sergeant)")]


def test_the_audit_trail_filters_by_reference_and_action(coordinator, users, clock):
    db.session.add_all(
        [
            AuditEvent(
                at=clock(), user_id=users[Role.SERGEANT].id, action="created", reference="ABCD-EFGH"
            ),
            AuditEvent(
                at=clock(), user_id=users[Role.SERGEANT].id, action="viewed", reference="WXYZ-2345"
            ),
        ]
    )
    db.session.commit()
    page = coordinator.get("/audit?reference=abcdefgh").get_data(as_text=True)
    assert "ABCD-EFGH" in page and "WXYZ-2345" not in page
    page = coordinator.get("/audit?action=viewed").get_data(as_text=True)
    assert "WXYZ-2345" in page and "ABCD-EFGH" not in page
    assert "Enter the date as YYYY-MM-DD" in coordinator.get("/audit?date=13/01").get_data(
        as_text=True
    )


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.WORKER, Role.ANALYST])
@pytest.mark.parametrize("path", ["/users", "/audit"])
def test_user_management_and_audit_are_for_coordinators(client, users, login, role, path):
    login(role)
    assert client.get(path).status_code == 403
