"""Signing in with the force's OpenID Connect provider: a real provider on loopback
(tests/accounts/openid_provider.py), the Authorization Code flow with PKCE, people known by
the issuer's subject, roles given by a coordinator or by the provider's role claim."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from booking import create_app
from booking.extensions import db
from booking.models import AuditEvent, Role, User
from booking.web.oidc import LEEWAY_SECONDS
from tests.accounts.openid_provider import (
    CLIENT_ID,
    ID_TOKEN_SECONDS,
    PUBLIC_BASE_URL,
    openid_provider_fixture,  # noqa: F401 (a fixture)
)
from tests.support import PASSWORD, Page, email_of, signed_in


class Browser(FlaskClient):
    """A test client that first ends the test's own transaction: on SQLite a transaction,
    reads and all, holds the write lock that the request needs."""

    def open(self, *args, **kwargs):
        db.session.commit()
        return super().open(*args, **kwargs)


@pytest.fixture
def make_app(app, schema, clock, openid_provider):
    """An app signing in with the test provider, with some settings of its own. Its requests
    run in app contexts of their own, as in service."""
    # The provider stamps its tokens with the real time, and the service checks them on its
    # own clock: start that at the real time (tests move it from there).
    clock.set(dt.datetime.now(dt.UTC).replace(microsecond=0))
    made = []

    def make(role_claim: bool = False, **settings):
        db.session.commit()
        new = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": schema,
                "CLOCK": clock,
                **openid_provider.settings(role_claim),
                **settings,
            }
        )
        new.test_client_class = Browser
        made.append(new)
        return new

    yield make
    for new in made:
        with new.app_context():
            db.engine.dispose()


class RefusalLog:
    """The refusals logged so far, in order (the log names reasons, never tokens or people)."""

    def __init__(self, caplog):
        self.caplog = caplog

    def __iter__(self):
        prefix = "sign-in with the provider refused: "
        for record in self.caplog.records:
            if record.getMessage().startswith(prefix):
                yield record.getMessage().removeprefix(prefix)


@pytest.fixture
def refusals(caplog) -> RefusalLog:
    """Why the service refused the provider's answers, as its log says."""
    caplog.set_level(logging.INFO, logger="booking")
    return RefusalLog(caplog)


@pytest.fixture
def browser(make_app):
    """A browser at the service, which signs in with the force's provider."""
    return make_app().test_client()


def start(browser, next_url: str | None = None) -> str:
    """Choose "Sign in with your force account"; the provider's authorization URL."""
    started = browser.get("/login/oidc", query_string={"next": next_url} if next_url else {})
    assert started.status_code == 302
    return started.headers["Location"]


def sign_in(browser, provider, sub: str, next_url: str | None = None):
    """The whole journey: to the provider, signed in there as `sub`, and back; the service's
    answer."""
    back = provider.sign_in(start(browser, next_url), sub)
    return browser.get(back)


def is_signed_in(browser) -> bool:
    return browser.get("/").status_code == 200


def the_user(sub: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.oidc_subject == sub))


def trail_of(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


# The journey --------------------------------------------------------------------------------


def test_a_first_sign_in_waits_for_a_coordinator_to_give_a_role(
    browser, openid_provider, users, make_app
):
    sub = openid_provider.add_person(name="Robin Newcomer", email="robin.newcomer@force.example")

    authorization = start(browser)
    asked = parse_qs(urlsplit(authorization).query)
    assert authorization.startswith(openid_provider.issuer + "/auth?")
    assert asked["response_type"] == ["code"] and asked["code_challenge_method"] == ["S256"]
    assert asked["state"] and asked["nonce"] and asked["code_challenge"]
    first = browser.get(openid_provider.sign_in(authorization, sub))

    assert first.status_code == 403
    page = Page(first.get_data(as_text=True))
    assert page.title.startswith("You do not have a role yet")
    assert "Ask a coordinator to give you a role" in page.text
    assert not is_signed_in(browser)
    newcomer = the_user(sub)
    assert newcomer.oidc_issuer == openid_provider.issuer
    assert (newcomer.role, newcomer.password_hash) == (None, None)
    assert (newcomer.name, newcomer.email) == ("Robin Newcomer", "robin.newcomer@force.example")
    [created] = trail_of("user_created")[-1:]
    assert created.user_id is None and created.detail == f"user {newcomer.id} (no role)"

    coordinator = signed_in(make_app().test_client(), Role.COORDINATOR)
    shown = Page(coordinator.get(f"/users/{newcomer.id}").get_data(as_text=True))
    assert "No role yet" in shown.text and "Give a role" in shown.text
    assert "Password" not in shown.text, "no password: it would be a way round the provider"
    given = coordinator.post(
        f"/users/{newcomer.id}/role", data={"role": "sergeant", "block": "oldbury"}
    )
    assert given.status_code == 302
    [assigned] = trail_of("role_changed")
    assert assigned.user_id == users[Role.COORDINATOR].id
    assert assigned.detail == f"user {newcomer.id} (sergeant), was no role"

    again = sign_in(browser, openid_provider, sub, next_url="/bookings")
    assert again.status_code == 302 and again.headers["Location"] == "/bookings"
    assert is_signed_in(browser)
    assert the_user(sub).block.code == "oldbury"


def test_a_worker_needs_a_home_block_to_be_given_the_role(
    browser, openid_provider, make_app, users
):
    sub = openid_provider.add_person(name="Morgan Waiting")
    browser.get(openid_provider.sign_in(start(browser), sub))
    newcomer = the_user(sub)
    coordinator = signed_in(make_app().test_client(), Role.COORDINATOR)

    refused = coordinator.post(f"/users/{newcomer.id}/role", data={"role": "worker", "block": ""})
    assert refused.status_code == 400
    assert "A worker needs a home block" in Page(refused.get_data(as_text=True)).text
    assert the_user(sub).role is None

    given = coordinator.post(
        f"/users/{newcomer.id}/role", data={"role": "worker", "block": "stechford"}
    )
    assert given.status_code == 302
    worker = the_user(sub)
    assert worker.role == Role.WORKER and worker.worker.home_block.code == "stechford"
    assert sign_in(browser, openid_provider, sub).headers["Location"] == "/day"
    twice = coordinator.post(
        f"/users/{newcomer.id}/role", data={"role": "coordinator", "block": ""}
    )
    assert twice.status_code == 400 and the_user(sub).role == Role.WORKER


def test_the_role_claim_gives_the_role_at_every_sign_in(openid_provider, make_app, users):
    browser = make_app(role_claim=True).test_client()
    sub = openid_provider.add_person(name="Jo Claimed", roles=["coordinator"])

    first = sign_in(browser, openid_provider, sub)

    assert first.status_code == 302
    assert is_signed_in(browser) and browser.get("/users").status_code == 200
    joined = the_user(sub)
    assert joined.role == Role.COORDINATOR
    [claimed] = trail_of("role_changed")
    assert claimed.user_id is None
    assert claimed.detail == (
        f"user {joined.id} (coordinator), was no role, from the provider's role claim"
    )

    # The force takes the role away: the next sign-in finds none, and gets nowhere.
    openid_provider.add_person(sub, name="Jo Claimed", roles=["someone-elses-role"])
    browser.post("/logout")
    refused = sign_in(browser, openid_provider, sub)
    assert refused.status_code == 403
    assert "does not give you a role" in Page(refused.get_data(as_text=True)).text
    assert the_user(sub).role is None and not is_signed_in(browser)


def test_a_worker_by_the_role_claim_waits_for_a_home_block(openid_provider, make_app, users):
    browser = make_app(role_claim=True).test_client()
    sub = openid_provider.add_person(name="Dee Rostered", roles="worker")

    waiting = sign_in(browser, openid_provider, sub)

    assert waiting.status_code == 403
    assert "set your home block" in Page(waiting.get_data(as_text=True)).text
    newcomer = the_user(sub)
    coordinator = signed_in(make_app(role_claim=True).test_client(), Role.COORDINATOR)
    shown = Page(coordinator.get(f"/users/{newcomer.id}").get_data(as_text=True))
    assert shown.selected["role"] == "worker"
    coordinator.post(f"/users/{newcomer.id}/role", data={"role": "worker", "block": "bloxwich"})
    assert sign_in(browser, openid_provider, sub).headers["Location"] == "/day"
    assert the_user(sub).worker.home_block.code == "bloxwich"


def test_a_role_claim_naming_two_roles_gives_none(openid_provider, make_app):
    browser = make_app(role_claim=True).test_client()
    sub = openid_provider.add_person(name="Sam Twice", roles=["worker", "coordinator"])

    assert sign_in(browser, openid_provider, sub).status_code == 403
    assert the_user(sub).role is None


def test_the_role_claims_values_can_be_the_forces_own_by_a_mapping(openid_provider, make_app):
    """Entra ID app roles or group ids need not be the service's role names."""
    mapped = "sergeant=ARS.Custody, coordinator=ARS.Lead, coordinator=6f1e0c2a-group"
    browser = make_app(role_claim=True, OIDC_ROLE_VALUES=mapped).test_client()
    lead = openid_provider.add_person(name="Ray Mapped", roles=["6f1e0c2a-group", "Staff"])
    assert sign_in(browser, openid_provider, lead).status_code == 302
    assert the_user(lead).role == Role.COORDINATOR

    # With a mapping, the roles' own names are just other values: they give nothing.
    browser.post("/logout")
    named = openid_provider.add_person(name="Kit Named", roles=["sergeant"])
    assert sign_in(browser, openid_provider, named).status_code == 403
    assert the_user(named).role is None


@pytest.mark.parametrize(
    "mapping", ["sergeant", "chief=ARS.Chief", "sergeant=", "sergeant=ARS.X,worker=ARS.X"]
)
def test_a_mistyped_role_mapping_stops_the_service_at_start(schema, openid_provider, mapping):
    with pytest.raises(RuntimeError, match="OIDC_ROLE_VALUES"):
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": schema,
                "OIDC_ROLE_VALUES": mapping,
                **openid_provider.settings(True),
            }
        )


def test_a_person_is_known_by_their_subject_never_by_email_alone(
    browser, openid_provider, users, make_app
):
    """The provider's person has the sergeant's email address: they are not the sergeant."""
    sergeant = users[Role.SERGEANT]
    sub = openid_provider.add_person(name="Not The Sergeant", email=email_of(Role.SERGEANT))
    coordinator = signed_in(make_app().test_client(), Role.COORDINATOR)

    refused = sign_in(browser, openid_provider, sub)

    assert refused.status_code == 403 and not is_signed_in(browser)
    stranger = the_user(sub)
    assert stranger.id != sergeant.id and stranger.email is None
    assert stranger.role is None
    coordinator.post(f"/users/{stranger.id}/role", data={"role": "analyst", "block": ""})
    assert sign_in(browser, openid_provider, sub).status_code == 302
    assert db.session.scalar(select(User.id).where(User.oidc_subject == sub)) == stranger.id
    assert db.session.scalars(select(User).where(User.oidc_subject.is_not(None))).all() == [
        stranger
    ], "the same subject signs in as the same user"


# Answers the service refuses ----------------------------------------------------------------


def test_an_answer_with_a_state_this_browser_did_not_send_is_refused(
    browser, openid_provider, make_app, refusals
):
    sub = openid_provider.add_person(name="Alex Sergeant", roles=["sergeant"])
    back = openid_provider.sign_in(start(browser), sub)
    code = parse_qs(urlsplit(back).query)["code"][0]

    # The answer, planted in another browser (a forged sign-in), and with a changed state.
    elsewhere = make_app().test_client()
    planted = elsewhere.get(back)
    changed = browser.get("/login/oidc/callback", query_string={"code": code, "state": "x" * 30})

    for refused in (planted, changed):
        assert refused.status_code == 400
        assert Page(refused.get_data(as_text=True)).title.startswith("Signing in did not work")
    assert not is_signed_in(elsewhere) and not is_signed_in(browser)
    assert the_user(sub) is None
    assert list(refusals) == ["MismatchingStateError mismatching_state"] * 2


def test_an_answer_is_used_once(openid_provider, make_app, refusals):
    browser = make_app(role_claim=True).test_client()
    sub = openid_provider.add_person(name="Alex Sergeant", roles=["sergeant"])
    back = openid_provider.sign_in(start(browser), sub)
    assert browser.get(back).status_code == 302
    browser.post("/logout")

    replayed = browser.get(back)

    assert replayed.status_code == 400 and not is_signed_in(browser)
    assert list(refusals) == ["MismatchingStateError mismatching_state"]


def test_an_id_token_with_another_nonce_is_refused(openid_provider, make_app, refusals):
    browser = make_app(role_claim=True).test_client()
    sub = openid_provider.add_person(name="Alex Sergeant", roles=["sergeant"])
    authorization = start(browser)
    # The ID token then answers another request than the one this browser is waiting on.
    with browser.session_transaction() as session:
        [waiting] = [key for key in session if key.startswith("_state_force_")]
        session[waiting] = {**session[waiting]}
        session[waiting]["data"] = {**session[waiting]["data"], "nonce": "another-nonce"}

    refused = browser.get(openid_provider.sign_in(authorization, sub))

    assert refused.status_code == 400
    assert not is_signed_in(browser) and the_user(sub) is None
    [reason] = refusals
    assert reason.startswith("ID token: InvalidClaimError") and "nonce" in reason


def test_an_expired_id_token_is_refused(openid_provider, make_app, clock, refusals):
    browser = make_app(role_claim=True).test_client()
    sub = openid_provider.add_person(name="Alex Sergeant", roles=["sergeant"])
    back = openid_provider.sign_in(start(browser), sub)

    # The answer reaches the service after the ID token's lifetime (and the clocks' leeway).
    clock.set(clock() + dt.timedelta(seconds=ID_TOKEN_SECONDS + LEEWAY_SECONDS + 5))
    refused = browser.get(back)

    assert refused.status_code == 400
    assert not is_signed_in(browser) and the_user(sub) is None
    assert list(refusals) == ["ID token: ExpiredTokenError expired_token: The token is expired"]


def test_an_answer_naming_another_issuer_is_refused(browser, openid_provider, refusals):
    sub = openid_provider.add_person(name="Alex Sergeant")
    back = openid_provider.sign_in(start(browser), sub)

    refused = browser.get(back.replace("iss=", "iss=https%3A%2F%2Felsewhere.example&was="))

    assert refused.status_code == 400 and the_user(sub) is None
    assert list(refusals) == ["the answer names another issuer"]


def test_signing_in_cancelled_at_the_provider_signs_no_one_in(browser, openid_provider, refusals):
    refused = browser.get(openid_provider.cancel(start(browser)))

    assert refused.status_code == 400
    assert "Try signing in again" in Page(refused.get_data(as_text=True)).text
    assert not is_signed_in(browser)
    assert list(refusals) == ["OAuthError access_denied"]


def test_an_error_code_made_up_in_the_answer_is_not_logged(browser, openid_provider, refusals):
    """The answer's `error` comes from the address bar: only the standard's codes are logged."""
    start(browser)
    made_up = browser.get("/login/oidc/callback?error=Jamie+Testperson+07700900123&state=x")
    assert made_up.status_code == 400
    assert list(refusals) == ["OAuthError other"]


def test_a_role_the_claim_takes_away_ends_other_sessions_and_the_place_in_the_rota(
    openid_provider, make_app, users
):
    sub = openid_provider.add_person(name="Robin Moved", roles="worker")
    first = make_app(role_claim=True).test_client()
    sign_in(first, openid_provider, sub)
    coordinator = signed_in(make_app(role_claim=True).test_client(), Role.COORDINATOR)
    coordinator.post(
        f"/users/{the_user(sub).id}/role", data={"role": "worker", "block": "bloxwich"}
    )
    assert sign_in(first, openid_provider, sub).headers["Location"] == "/day"
    assert the_user(sub).worker.active

    # Made a coordinator at the force: the next sign-in, in another browser, says so.
    openid_provider.add_person(sub, name="Robin Moved", roles="coordinator")
    second = make_app(role_claim=True).test_client()
    assert sign_in(second, openid_provider, sub).status_code == 302
    moved = the_user(sub)
    assert moved.role == Role.COORDINATOR
    assert not moved.worker.active, "no longer offered in the rota"
    assert not is_signed_in(first), "the session as a worker ended"
    assert is_signed_in(second)


def test_a_disabled_user_cannot_be_given_a_role(openid_provider, make_app, users):
    sub = openid_provider.add_person(name="Morgan Waiting")
    sign_in(make_app().test_client(), openid_provider, sub)
    coordinator = signed_in(make_app().test_client(), Role.COORDINATOR)
    waiting = the_user(sub)
    coordinator.post(f"/users/{waiting.id}/active", data={"active": "no"})
    refused = coordinator.post(f"/users/{waiting.id}/role", data={"role": "sergeant"})
    assert refused.status_code == 400  # the page has no role form for a disabled user
    assert the_user(sub).role is None


def test_a_disabled_user_is_refused(openid_provider, make_app, users):
    browser = make_app(role_claim=True).test_client()
    sub = openid_provider.add_person(name="Casey Leaver", roles=["sergeant"])
    assert sign_in(browser, openid_provider, sub).status_code == 302
    coordinator = signed_in(make_app().test_client(), Role.COORDINATOR)
    leaver = the_user(sub)
    coordinator.post(f"/users/{leaver.id}/active", data={"active": "no"})

    assert not is_signed_in(browser), "disabling ends the session"
    refused = sign_in(browser, openid_provider, sub)

    assert refused.status_code == 403
    assert Page(refused.get_data(as_text=True)).title.startswith("Your account is disabled")
    assert not is_signed_in(browser)
    assert the_user(sub).role == Role.SERGEANT, "a disabled user's role is left as it was"


def test_a_provider_that_does_not_answer_is_a_page_that_says_so(make_app, users):
    closed = make_app(OIDC_ISSUER="http://127.0.0.1:9").test_client()

    answer = closed.get("/login/oidc")

    assert answer.status_code == 503
    assert "not answering" in Page(answer.get_data(as_text=True)).title
    assert closed.get("/login").status_code == 200


# Sessions and signing out -------------------------------------------------------------------


def test_signing_out_ends_the_session_and_offers_the_providers_sign_out(openid_provider, make_app):
    browser = make_app(role_claim=True).test_client()
    at_provider = requests.Session()
    sub = openid_provider.add_person(name="Alex Sergeant", roles=["sergeant"])
    browser.get(openid_provider.sign_in(start(browser), sub, at_provider))
    with browser.session_transaction() as session:
        copied = dict(session)

    signed_out = browser.post("/logout")

    assert signed_out.headers["Location"] == "/login"
    assert not is_signed_in(browser)
    offered = Page(browser.get("/login").get_data(as_text=True))
    end_session = offered.href("Sign out of your force account too")
    assert end_session.startswith(openid_provider.issuer + "/session/end?")
    asked = parse_qs(urlsplit(end_session).query)
    assert asked["client_id"] == [CLIENT_ID]
    assert asked["post_logout_redirect_uri"] == [PUBLIC_BASE_URL + "/login"]
    # The provider knows the request, and asks the person to confirm signing out there.
    confirm = at_provider.get(end_session, timeout=10)
    assert confirm.status_code == 200 and "<form" in confirm.text
    # Offered once, just after signing out; and the old cookie is spent.
    assert "Sign out of your force account" not in browser.get("/login").get_data(as_text=True)
    with browser.session_transaction() as session:
        session.update(copied)
    assert not is_signed_in(browser)


def test_a_provider_session_ends_when_left_idle(openid_provider, make_app, clock):
    browser = make_app(role_claim=True, IDLE_TIMEOUT_MINUTES=30).test_client()
    sub = openid_provider.add_person(name="Alex Sergeant", roles=["sergeant"])
    assert sign_in(browser, openid_provider, sub).status_code == 302

    clock.set(clock() + dt.timedelta(minutes=31))
    timed_out = browser.get("/bookings")

    assert timed_out.status_code == 302
    assert timed_out.headers["Location"].startswith("/login?next=")


def test_refused_answers_from_one_address_are_limited_as_passwords_are(openid_provider, make_app):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    browser = limited.test_client()
    for _ in range(20):
        refused = browser.get("/login/oidc/callback", query_string={"code": "x", "state": "y"})
        assert refused.status_code == 400

    assert browser.get("/login/oidc/callback").status_code == 429
    assert browser.get("/login/oidc").status_code == 429
    elsewhere = browser.get("/login/oidc", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert elsewhere.status_code == 302


# Passwords beside the provider --------------------------------------------------------------


def test_the_sign_in_page_offers_the_provider_beside_passwords(browser):
    page = Page(browser.get("/login", query_string={"next": "/rota"}).get_data(as_text=True))

    assert page.href("Sign in with your force account") == "/login/oidc?next=/rota"
    assert "Password" in page.text


def test_password_sign_in_can_be_switched_off(make_app, users):
    browser = make_app(PASSWORD_LOGIN=False).test_client()

    page = Page(browser.get("/login").get_data(as_text=True))
    refused = browser.post("/login", data={"email": email_of(Role.SERGEANT), "password": PASSWORD})

    assert page.href("Sign in with your force account") == "/login/oidc"
    assert "Password" not in page.text
    assert refused.status_code == 403 and not is_signed_in(browser)


def test_the_service_will_not_start_without_a_way_to_sign_in_or_over_plain_http(
    schema, openid_provider
):
    with pytest.raises(RuntimeError, match="PASSWORD_LOGIN=false needs OIDC_ISSUER"):
        create_app({"SQLALCHEMY_DATABASE_URI": schema, "PASSWORD_LOGIN": False})
    with pytest.raises(RuntimeError, match="https"):
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": schema,
                "OIDC_ALLOW_HTTP_ISSUER": False,
                **openid_provider.settings(),
            }
        )
