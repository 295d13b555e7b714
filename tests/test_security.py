"""Security requirements: every route declares who may use it, pages by role, signing in and
out, throttling, CSRF, the security headers and the size of a request body.

The clock is Wednesday 13 January 2027, 21:00 in London.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import re

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator
from werkzeug.security import check_password_hash

import config
from booking import create_app
from booking.accounts.users import create_user, hash_password
from booking.extensions import db, limiter
from booking.models import Booking, BookingDraft, Pathway, Role, SuitabilityAssessment
from booking.pathway import on_site
from booking.web.refused_forms import EXPIRED
from tests.court.test_court_pages import request_form
from tests.support import (
    PASSWORD,
    Page,
    add_courts,
    auth,
    booking_body,
    count,
    details_form,
    email_of,
    record_test,
    sign_in,
    signed_in,
    trail,
)

BOOKING_ROLES = {Role.SERGEANT, Role.WORKER, Role.COORDINATOR}
REDIS_URL = "redis://127.0.0.1:6379/15"
KIB = 1024


# Helpers -----------------------------------------------------------------------------------------


@pytest.fixture
def production_app(monkeypatch):
    """The app as the service builds it (config.Config), on a throw-away database."""
    monkeypatch.setattr(config.Config, "SECRET_KEY", "a-production-like-secret")
    monkeypatch.setattr(config.Config, "SERVICE_PHONE", config.DEMO_SERVICE_PHONE)
    monkeypatch.setattr(config.Config, "SQLALCHEMY_DATABASE_URI", "sqlite://")
    service_logger = logging.getLogger("booking")
    saved = (service_logger.handlers[:], service_logger.level, service_logger.propagate)
    production = create_app()
    yield production
    with production.app_context():
        db.engine.dispose()
    service_logger.handlers[:], service_logger.level, service_logger.propagate = saved


def book(client, token: str, index: int = 0, **changes) -> dict:
    """A booking made through the API, in the index-th earliest free slot."""
    slots = client.get("/api/v1/slots", query_string={"limit": index + 1}, headers=auth(token))
    response = client.post(
        "/api/v1/bookings",
        json=booking_body(slots.get_json()[index], **changes),
        headers=auth(token),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def csrf_token(html: str) -> str:
    return Page(html).values["csrf_token"]


def booking_status(reference: str) -> str:
    status = db.session.scalar(select(Booking.status).where(Booking.reference == reference))
    db.session.commit()  # end the read: another app's requests need the database
    return status


# Every route has an explicit rule ----------------------------------------------------------------

# Path arguments, filled with values that name nothing real.
DUMMY_ARGUMENTS = {"reference": "ABCD-EFGH", "token": "token", "code": "perry-barr"}
# The only routes an anonymous caller may reach, and what each answers to one.
PUBLIC = {
    "auth.login": {"GET": 200, "POST": 400},  # the form; an empty form is refused
    "auth.logout": {"GET": 302, "POST": 302},  # back to /login
    # Signing in with the force's provider: not found here, with no OIDC_ISSUER set
    # (tests/accounts/test_single_sign_on.py signs in with one).
    "auth.provider_sign_in": {"GET": 404},
    "auth.provider_callback": {"GET": 404},
    "monitoring.healthz": {"GET": 200},
    "monitoring.readyz": {"GET": 200},
    "monitoring.metrics": {"GET": 200},  # the test client asks from 127.0.0.1
    "api.openapi": {"GET": 200},
    "static": {"GET": 200},
    "sms.status_callback": {"POST": 403},  # Twilio signs these; unsigned is refused
    "sms.inbound": {"POST": 403},
    "sms.notify_status": {"POST": 401},  # Notify sends a bearer token; none is refused
    "sms.notify_inbound": {"POST": 401},
    "feeds.feed": {"GET": 404},  # behind a secret token; an unknown token finds nothing
}


CONVERTER_DUMMIES = {"int": "1", "float": "1.5", "uuid": "00000000-0000-4000-8000-000000000000"}


def fill(rule, **values) -> str:
    """The rule's path with each argument filled in (a dummy unless given)."""
    if rule.endpoint == "static":
        return "/static/app.css"

    def argument(match) -> str:
        converter, name = match[1], match[2]
        if name in values:
            return values[name]
        return CONVERTER_DUMMIES.get(converter) or DUMMY_ARGUMENTS.get(name, "ABCD-EFGH")

    return re.sub(r"<(?:([^:<>()]+)(?:\([^)]*\))?:)?([^<>]+)>", argument, rule.rule)


def test_every_route_refuses_an_anonymous_caller_unless_it_is_on_the_public_list(app, client):
    """Walks the whole URL map: a new route without a login or token rule fails here."""
    problems = []
    checked = 0
    for rule in app.url_map.iter_rules():
        path = fill(rule)
        # HEAD and OPTIONS are Flask's own companions of the methods below.
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            checked += 1
            response = client.open(path, method=method)
            response.close()  # a static file stays open until then
            status, location = response.status_code, response.headers.get("Location", "")
            if rule.endpoint in PUBLIC:
                expected = PUBLIC[rule.endpoint][method]
                if status != expected:
                    problems.append(f"{method} {path}: {status}, expected {expected}")
                elif status == 302 and not location.startswith("/login"):
                    problems.append(f"{method} {path}: redirects to {location}")
            elif path.startswith("/api/"):
                body = response.get_json(silent=True) or {}
                if status != 401 or "error" not in body:
                    problems.append(f"{method} {path}: {status}, expected 401 with an error")
            elif status != 302 or not location.startswith("/login"):
                problems.append(f"{method} {path}: {status} {location}, expected /login")
    assert checked > 30
    assert not problems, "routes open to anyone:\n" + "\n".join(problems)


def test_the_public_list_names_only_routes_that_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(PUBLIC) <= endpoints


# Pages by role -----------------------------------------------------------------------------------

PAGE_ROLES = {
    "/": set(Role),
    "/bookings": BOOKING_ROLES,
    "/bookings/new": BOOKING_ROLES,
    "/bookings/new/slot": BOOKING_ROLES,
    "/bookings/new/check": BOOKING_ROLES,
    "/bookings/{ref}": BOOKING_ROLES,
    "/bookings/{ref}/notice": BOOKING_ROLES,
    "/bookings/{ref}/rearrange": BOOKING_ROLES,
    "/bookings/{ref}/cancel": BOOKING_ROLES,
    "/bookings/{ref}/calendar.ics": BOOKING_ROLES,
    "/outbox": {Role.COORDINATOR},
    "/calendar/blocks": {Role.COORDINATOR},
    "/calendar": {Role.WORKER},
}


@pytest.fixture
def a_booking(app, client, tokens, rostered) -> str:
    return book(client, tokens[Role.SERGEANT])["reference"]


@pytest.mark.parametrize("role", list(Role))
def test_each_page_is_for_its_roles_only(app, a_booking, role):
    browser = signed_in(app.test_client(), role)
    for page, allowed in PAGE_ROLES.items():
        response = browser.get(page.format(ref=a_booking))
        if role in allowed:
            assert response.status_code in (200, 302), page
            assert not response.headers.get("Location", "").startswith("/login"), page
        else:
            assert response.status_code == 403, page


def test_analysts_get_403_on_every_booking_page_and_form(app, a_booking):
    """Every /bookings page in the URL map, pages added later included."""
    analyst = signed_in(app.test_client(), Role.ANALYST)
    pages = [r for r in app.url_map.iter_rules() if r.rule.startswith("/bookings")]
    assert len(pages) >= 8
    for rule in pages:
        path = fill(rule, reference=a_booking)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = analyst.open(path, method=method, data={"reason": "Analyst was here"})
            assert response.status_code == 403, f"{method} {path}"
    assert booking_status(a_booking) == "booked"
    assert "Jamie Testperson" not in analyst.get(f"/bookings/{a_booking}").get_data(as_text=True)


# Signing in --------------------------------------------------------------------------------------


def _normalised(response, email: str) -> str:
    """The page without what legitimately differs: the email typed back and the nonce."""
    html = response.get_data(as_text=True).replace(email, "EMAIL")
    return re.sub(r'nonce="[^"]+"', 'nonce="N"', html)


def test_unknown_email_wrong_password_and_disabled_account_get_the_same_answer(client, users):
    users[Role.WORKER].active = False
    db.session.commit()
    attempts = [
        ("nobody@test.example", PASSWORD),
        ("sergeant@test.example", "not the password"),
        ("worker@test.example", PASSWORD),  # right password, disabled account
    ]
    answers = [client.post("/login", data={"email": e, "password": p}) for e, p in attempts]
    assert {a.status_code for a in answers} == {400}
    pages = {
        _normalised(answer, email) for answer, (email, _) in zip(answers, attempts, strict=True)
    }
    assert len(pages) == 1
    assert "Enter a correct email address and password" in pages.pop()
    assert client.get("/bookings").status_code == 302


def test_passwords_are_stored_as_salted_hashes(app, users):
    stored = users[Role.SERGEANT].password_hash
    assert PASSWORD not in stored
    assert check_password_hash(stored, PASSWORD)
    assert hash_password(PASSWORD) != hash_password(PASSWORD)  # salted


def test_the_service_hashes_passwords_with_scrypt(production_app):
    with production_app.app_context():
        hashed = hash_password(PASSWORD)
    assert hashed.startswith("scrypt:")
    assert check_password_hash(hashed, PASSWORD)


def test_the_service_config_keeps_the_controls_on(production_app):
    """What the tests switch off (CSRF, throttling, idle time-out) is on in the service."""
    settings = production_app.config
    assert settings["WTF_CSRF_ENABLED"] is True
    assert getattr(config.Config, "RATELIMIT_ENABLED", True) is True  # Flask-Limiter's default
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
    assert settings["MAX_CONTENT_LENGTH"] == 64 * KIB
    assert settings["IDLE_TIMEOUT_MINUTES"] == 30
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert settings["PROXY_FIX_HOPS"] == 0


def test_signing_in_starts_a_fresh_session(client, users, login):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    before = client.get_cookie("session").value
    assert login(Role.SERGEANT).status_code == 302
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session


def test_signing_out_ends_the_session(client, users, login):
    login(Role.SERGEANT)
    assert client.get("/bookings").status_code == 200
    assert client.post("/logout").headers["Location"].startswith("/login")
    response = client.get("/bookings")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.fixture
def idle_time_out(app):
    """The service's idle time-out (the test config stretches it: tests move the clock)."""
    app.config["IDLE_TIMEOUT_MINUTES"] = 30


def test_a_session_idle_for_31_minutes_is_signed_out(client, users, login, clock, idle_time_out):
    login(Role.SERGEANT)
    clock.set(clock() + dt.timedelta(minutes=31))
    response = client.get("/bookings")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/bookings"
    clock.set(clock() - dt.timedelta(minutes=31))
    assert client.get("/bookings").status_code == 302, "the session itself is gone"


def test_a_session_idle_for_29_minutes_stays_and_activity_keeps_it(
    client, users, login, clock, idle_time_out
):
    login(Role.SERGEANT)
    for _ in range(3):  # 87 minutes in all, never 30 idle
        clock.set(clock() + dt.timedelta(minutes=29))
        assert client.get("/bookings").status_code == 200


def test_the_idle_time_out_is_configurable(app, client, users, login, clock):
    app.config["IDLE_TIMEOUT_MINUTES"] = 10
    login(Role.SERGEANT)
    clock.set(clock() + dt.timedelta(minutes=9))
    assert client.get("/bookings").status_code == 200
    clock.set(clock() + dt.timedelta(minutes=11))
    assert client.get("/bookings").status_code == 302


def sign_in_at(client, timed_out, role: Role = Role.SERGEANT):
    """Sign in on the page the time-out sent the client to (it says where to go back to)."""
    location = timed_out.headers["Location"]
    assert location.startswith("/login?next=")
    return client.post(location, data={"email": email_of(role), "password": PASSWORD})


def test_a_form_sent_after_the_time_out_is_there_filled_in_after_signing_in_again(
    client, users, rostered, login, clock, idle_time_out
):
    login(Role.SERGEANT)
    clock.set(clock() + dt.timedelta(minutes=31))

    sent = client.post("/bookings/new", data=details_form(person_name="Jamie Late"))

    assert sent.headers["Location"] == "/login?next=/bookings/new"
    assert count(Booking) == 0
    assert sign_in_at(client, sent).headers["Location"] == "/bookings/new"
    html = client.get("/bookings/new").get_data(as_text=True)
    page = Page(html)
    for field, value in [
        ("person_name", "Jamie Late"),
        ("custody_record", "20/123456/27"),
        ("mobile", "07700 900123"),
        ("tested_time", "20:15"),
    ]:
        assert page.values[field] == value, field
    assert page.selected["arrest_block"] == "stechford"
    assert 'value="cocaine" checked' in html
    assert "You were signed out before this was sent" in page.text
    assert client.get("/bookings/new").status_code == 200, "a reload shows it too"
    assert "Jamie Late" in client.get("/bookings/new").get_data(as_text=True)
    # Sent again, it goes on as if nothing had happened.
    assert record_test(client, person_name="Jamie Late").headers["Location"] == (
        "/bookings/new/slot"
    )


def test_the_booking_draft_outlives_the_time_out_for_the_same_person(
    client, users, rostered, login, clock, idle_time_out
):
    login(Role.SERGEANT)
    record_test(client, person_name="Jamie Kept")
    chosen = Page(client.get("/bookings/new/slot").get_data(as_text=True)).radios["slot"][0]
    client.post("/bookings/new/slot", data={"slot": chosen})
    clock.set(clock() + dt.timedelta(minutes=31))

    timed_out = client.get("/bookings/new/check")
    assert sign_in_at(client, timed_out).headers["Location"] == "/bookings/new/check"

    check = client.get("/bookings/new/check")
    assert check.status_code == 200
    assert "Jamie Kept" in check.get_data(as_text=True)
    assert client.post("/bookings/new/check").status_code == 302
    assert count(Booking) == 1


def test_nobody_else_signing_in_on_that_browser_sees_the_draft(
    client, users, rostered, login, clock, idle_time_out
):
    login(Role.SERGEANT)
    client.post("/bookings/new", data=details_form(person_name="Jamie Private"))
    clock.set(clock() + dt.timedelta(minutes=31))
    assert client.get("/bookings/new").status_code == 302  # signed out

    assert sign_in(client, Role.WORKER).status_code == 302
    assert "Jamie Private" not in client.get("/bookings/new").get_data(as_text=True)
    assert client.get("/bookings/new/slot").headers["Location"] == "/bookings/new"


def test_a_draft_past_its_day_is_not_taken_up_after_signing_in(
    client, users, rostered, login, clock, idle_time_out
):
    login(Role.SERGEANT)
    record_test(client, person_name="Jamie Stale")
    clock.set(clock() + dt.timedelta(days=1, minutes=1))
    assert client.get("/bookings/new/slot").status_code == 302  # signed out
    sign_in(client, Role.SERGEANT)
    assert client.get("/bookings/new/slot").headers["Location"] == "/bookings/new"
    assert "Jamie Stale" not in client.get("/bookings/new").get_data(as_text=True)


def test_a_form_refused_by_its_csrf_check_after_the_time_out_keeps_nothing(
    make_app, users, rostered, clock
):
    browser = signed_in_with_token(
        make_app(WTF_CSRF_ENABLED=True, IDLE_TIMEOUT_MINUTES=30).test_client()
    )
    clock.set(clock() + dt.timedelta(minutes=31))

    sent = browser.post("/bookings/new", data=details_form(person_name="Jamie Forged"))

    assert sent.headers["Location"].startswith("/login")
    assert count(BookingDraft) == 0
    db.session.commit()


def test_staying_signed_in_restarts_the_idle_time(client, users, login, clock, idle_time_out):
    login(Role.SERGEANT)
    clock.set(clock() + dt.timedelta(minutes=25))
    assert client.post("/session/keep-alive").status_code == 204
    clock.set(clock() + dt.timedelta(minutes=25))
    assert client.get("/bookings").status_code == 200
    clock.set(clock() + dt.timedelta(minutes=31))
    assert client.post("/session/keep-alive").headers["Location"].startswith("/login")


def test_signed_in_pages_carry_the_time_out_warning_with_the_idle_time(
    client, users, login, idle_time_out
):
    assert "data-app-timeout" not in client.get("/login").get_data(as_text=True)
    login(Role.SERGEANT)
    page = Page(client.get("/").get_data(as_text=True))
    dialog = page.ids["app-timeout"]
    assert dialog["tag"] == "dialog"
    assert dialog["data-idle-timeout-seconds"] == "1800"
    assert (dialog["role"], dialog["aria-modal"]) == ("dialog", "true")
    assert page.ids[dialog["aria-labelledby"]]["tag"] == "h2"
    assert "Stay signed in" in page.text


# Throttling --------------------------------------------------------------------------------------


def _sign_in_from(browser, address: str, email: str, password: str = "not the password"):
    return browser.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _five_failures_lock_the_account(limited):
    browser = limited.test_client()
    for n in range(5):  # from five addresses: the account's own limit, not the address's
        assert _sign_in_from(browser, f"10.0.0.{n}", "sergeant@test.example").status_code == 400
    # Then not even the right password gets in, however the address is written.
    locked = _sign_in_from(browser, "10.0.0.99", " Sergeant@Test.Example", PASSWORD)
    assert locked.status_code == 429
    # Another account is not held up, from the same address.
    assert _sign_in_from(browser, "10.0.0.99", "worker@test.example", PASSWORD).status_code == 302


def test_five_failed_sign_ins_lock_that_account_for_a_minute(make_app, users):
    _five_failures_lock_the_account(
        make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    )


def test_twenty_sign_ins_from_one_address_in_a_minute_are_the_most(make_app, users, clock):
    create_user("fifth@test.example", Role.SERGEANT, PASSWORD, now=clock())
    browser = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://").test_client()
    for role in Role:  # four accounts, five tries each: no account reaches its own limit
        for _ in range(5):
            assert _sign_in_from(browser, "10.1.1.1", f"{role}@test.example").status_code == 400
    fifth = "fifth@test.example"
    assert _sign_in_from(browser, "10.1.1.1", fifth, PASSWORD).status_code == 429
    assert _sign_in_from(browser, "10.1.1.2", fifth, PASSWORD).status_code == 302


def test_successful_sign_ins_do_not_count_towards_the_limits(make_app, users):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    for _ in range(8):  # a sergeant signing in on several screens through a shift
        browser = limited.test_client()
        signed_in = _sign_in_from(browser, "10.2.2.2", "sergeant@test.example", PASSWORD)
        assert signed_in.status_code == 302
    wrong = _sign_in_from(limited.test_client(), "10.2.2.2", "sergeant@test.example")
    assert wrong.status_code == 400, "a mistyped password is a form error, not a lock-out"


def test_a_locked_sign_in_is_a_page_that_says_what_to_do(make_app, users):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    browser = limited.test_client()
    for _ in range(5):
        _sign_in_from(browser, "10.3.3.3", "sergeant@test.example")
    locked = _sign_in_from(browser, "10.3.3.3", "sergeant@test.example", PASSWORD)
    assert locked.status_code == 429
    assert locked.mimetype == "text/html"
    page = Page(locked.get_data(as_text=True))
    assert page.title.startswith("Too many attempts")
    assert "Wait a minute, then try again" in locked.get_data(as_text=True)


def test_a_forwarded_for_header_is_not_trusted_without_a_proxy(make_app, users, clock):
    """With PROXY_FIX_HOPS=0 any client could write X-Forwarded-For: the limit per address
    counts the connection's own address whatever the header says."""
    create_user("fifth@test.example", Role.SERGEANT, PASSWORD, now=clock())
    browser = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", PROXY_FIX_HOPS=0
    ).test_client()
    tries = 0
    for role in Role:
        for _ in range(5):
            tries += 1
            refused = browser.post(
                "/login",
                data={"email": f"{role}@test.example", "password": "not the password"},
                headers={"X-Forwarded-For": f"192.0.2.{tries}"},
                environ_base={"REMOTE_ADDR": "10.4.4.4"},
            )
            assert refused.status_code == 400
    last = browser.post(
        "/login",
        data={"email": "fifth@test.example", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7"},
        environ_base={"REMOTE_ADDR": "10.4.4.4"},
    )
    assert last.status_code == 429


@pytest.fixture
def redis_db():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.flushdb()
    except redis.ConnectionError:
        connection.close()
        pytest.skip("no Redis server on 127.0.0.1:6379")
    yield connection
    connection.flushdb()
    connection.close()


def test_throttling_works_with_a_redis_storage(make_app, users, redis_db):
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL)
    try:
        _five_failures_lock_the_account(limited)
        assert redis_db.dbsize() > 0, "the counts are kept in Redis"
    finally:
        limiter.storage.storage.connection_pool.disconnect()


# CSRF --------------------------------------------------------------------------------------------


def test_a_sign_in_without_the_csrf_token_is_refused(make_app, users):
    browser = make_app(WTF_CSRF_ENABLED=True).test_client()
    form = {"email": "sergeant@test.example", "password": PASSWORD}
    assert browser.post("/login", data=form).status_code == 400
    assert browser.get("/bookings").status_code == 302, "nobody is signed in"
    token = csrf_token(browser.get("/login").get_data(as_text=True))
    assert browser.post("/login", data=form | {"csrf_token": token}).status_code == 302
    assert browser.get("/bookings").status_code == 200


def test_a_booking_form_without_the_csrf_token_changes_nothing(make_app, tokens, rostered):
    browser = make_app(WTF_CSRF_ENABLED=True).test_client()
    reference = book(browser, tokens[Role.SERGEANT])["reference"]
    token = csrf_token(browser.get("/login").get_data(as_text=True))
    browser.post(
        "/login",
        data={"email": "sergeant@test.example", "password": PASSWORD, "csrf_token": token},
    )
    cancel = f"/bookings/{reference}/cancel"
    assert browser.post(cancel, data={"reason": "Forged request"}).status_code == 400
    assert booking_status(reference) == "booked"
    token = csrf_token(browser.get(cancel).get_data(as_text=True))
    response = browser.post(cancel, data={"reason": "Remanded", "csrf_token": token})
    assert response.status_code == 302
    assert booking_status(reference) == "cancelled"


def summary_items(html: str) -> list[str]:
    """The items of the page's error summary, as read."""
    listed = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    items = re.findall(r"<li>(.*?)</li>", listed[1], re.S) if listed else []
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def signed_in_with_token(browser, role: Role = Role.SERGEANT):
    """A client of an app with the CSRF check on, signed in through the form."""
    token = csrf_token(browser.get("/login").get_data(as_text=True))
    response = browser.post(
        "/login", data={"email": email_of(role), "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return browser


def test_a_form_refused_by_its_csrf_check_comes_back_filled_in_and_saves_nothing(
    make_app, users, rostered
):
    browser = signed_in_with_token(make_app(WTF_CSRF_ENABLED=True).test_client())
    sent = details_form(person_name="Jamie Expired") | {"csrf_token": "a-stale-token"}

    refused = browser.post("/bookings/new", data=sent)

    assert refused.status_code == 400
    page = Page(refused.get_data(as_text=True))
    assert page.title.startswith("Error: Record the test")
    assert summary_items(page.html) == [EXPIRED], "the token's own message is not shown"
    assert page.values["person_name"] == "Jamie Expired"
    assert page.values["custody_record"] == "20/123456/27"
    assert page.values["tested_time"] == "20:15"
    assert count(BookingDraft) == 0, "nothing of the refused request is kept"
    db.session.commit()
    # The page carries a fresh token: sent again as it stands, the form goes through.
    again = browser.post("/bookings/new", data=sent | {"csrf_token": page.values["csrf_token"]})
    assert again.headers["Location"] == "/bookings/new/slot"


def test_a_sign_in_refused_by_its_csrf_check_keeps_the_email_but_never_the_password(
    make_app, users
):
    browser = make_app(WTF_CSRF_ENABLED=True).test_client()
    refused = browser.post("/login", data={"email": email_of(Role.SERGEANT), "password": PASSWORD})
    assert refused.status_code == 400
    page = Page(refused.get_data(as_text=True))
    assert summary_items(page.html)[0] == EXPIRED
    assert page.values["email"] == email_of(Role.SERGEANT)
    assert page.values["password"] == ""
    assert PASSWORD not in refused.get_data(as_text=True)


def test_a_confirmation_refused_by_its_csrf_check_books_nothing(make_app, users, rostered):
    browser = signed_in_with_token(make_app(WTF_CSRF_ENABLED=True).test_client())
    token = csrf_token(browser.get("/bookings/new").get_data(as_text=True))
    browser.post("/bookings/new", data=details_form() | {"csrf_token": token})
    slot = Page(browser.get("/bookings/new/slot").get_data(as_text=True)).radios["slot"][0]
    browser.post("/bookings/new/slot", data={"slot": slot, "csrf_token": token})

    refused = browser.post("/bookings/new/check", data={"csrf_token": "forged"})

    assert refused.status_code == 400
    page = Page(refused.get_data(as_text=True))
    assert summary_items(page.html) == [EXPIRED]
    assert "Confirm booking" in page.text
    assert count(Booking) == 0
    db.session.commit()


def test_a_request_refused_by_the_csrf_check_saves_nothing_even_when_its_form_would_pass(
    make_app, users, rostered
):
    """Over HTTPS the check also wants a Referer from this site: a request without one is refused
    though its token is good. Its view would book; the refusal keeps every commit out."""
    browser = signed_in_with_token(make_app(WTF_CSRF_ENABLED=True).test_client())
    https = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/"}}
    token = csrf_token(browser.get("/bookings/new", **https).get_data(as_text=True))
    browser.post("/bookings/new", data=details_form() | {"csrf_token": token}, **https)
    slot = Page(browser.get("/bookings/new/slot", **https).get_data(as_text=True)).radios["slot"]
    browser.post("/bookings/new/slot", data={"slot": slot[0], "csrf_token": token}, **https)
    db.session.commit()

    refused = browser.post(
        "/bookings/new/check", data={"csrf_token": token}, base_url="https://localhost"
    )

    assert refused.status_code == 400
    assert "This page had expired" in refused.get_data(as_text=True)
    assert count(Booking) == 0
    db.session.commit()


def test_the_api_and_the_twilio_webhooks_need_no_csrf_token(make_app, tokens, rostered):
    guarded = make_app(WTF_CSRF_ENABLED=True, TWILIO_AUTH_TOKEN="twilio-test-auth-token")
    browser = guarded.test_client()
    assert book(browser, tokens[Role.SERGEANT])["status"] == "booked"
    validator = RequestValidator("twilio-test-auth-token")
    base = guarded.config["PUBLIC_BASE_URL"]
    for path, form, status in [
        ("/sms/inbound", {"From": "+447700900123", "Body": "STOP"}, 200),
        ("/sms/status", {"MessageSid": "SM-unknown", "MessageStatus": "delivered"}, 204),
    ]:
        signature = validator.compute_signature(base + path, form)
        response = browser.post(path, data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == status, path


# Security headers --------------------------------------------------------------------------------

RESPONSES = ["sign-in page", "booking page", "API answer", "API booking", "error page", "healthz"]


@pytest.fixture
def fetch(client, tokens, rostered, login):
    """One kind of answer; a test asks for one kind, so signed-in and anonymous never mix."""
    reference = book(client, tokens[Role.SERGEANT])["reference"]
    sergeant = auth(tokens[Role.SERGEANT])

    def signed_in(path):
        if not client.get_cookie("session"):
            login(Role.SERGEANT)
        return client.get(path)

    requests = {
        "sign-in page": lambda: client.get("/login"),
        "booking page": lambda: signed_in(f"/bookings/{reference}"),
        "API answer": lambda: client.get("/api/v1/blocks", headers=sergeant),
        "API booking": lambda: client.get(f"/api/v1/bookings/{reference}", headers=sergeant),
        "error page": lambda: client.get("/no-such-page"),
        "healthz": lambda: client.get("/healthz"),
    }
    return lambda kind: requests[kind]()


def csp(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in directives}


def csp_nonce(response) -> str:
    nonces = [v for v in csp(response)["script-src"] if v.startswith("'nonce-")]
    assert len(nonces) == 1
    return nonces[0].removeprefix("'nonce-").removesuffix("'")


@pytest.mark.parametrize("kind", RESPONSES)
def test_every_answer_carries_the_security_headers(fetch, kind):
    response = fetch(kind)
    assert response.status_code in (200, 404)
    policy = csp(response)
    assert len(csp_nonce(response)) >= 16
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer"}
    assert "no-store" in response.headers["Cache-Control"]
    assert "Strict-Transport-Security" not in response.headers  # plain http


@pytest.mark.parametrize("kind", ["sign-in page", "booking page", "error page"])
def test_the_pages_inline_script_carries_the_nonce_of_its_answer(fetch, kind):
    first, second = fetch(kind), fetch(kind)
    for response in (first, second):
        html = response.get_data(as_text=True)
        inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
        assert inline, "GOV.UK's js-enabled script"
        assert all(f'nonce="{csp_nonce(response)}"' in attributes for attributes in inline)
    assert csp_nonce(first) != csp_nonce(second)


def test_answers_given_before_any_view_carry_a_nonce_too(make_app, users, clock):
    """The CSRF refusal and the idle time-out answer from hooks that run before the view.

    Apps of their own here: the test app's context, shared by its requests, would carry the
    nonce over from the request before.
    """
    refused = make_app(WTF_CSRF_ENABLED=True).test_client().post("/login", data={})
    assert refused.status_code == 400
    assert len(csp_nonce(refused)) >= 16
    browser = signed_in(make_app(IDLE_TIMEOUT_MINUTES=30).test_client(), Role.SERGEANT)
    clock.set(clock() + dt.timedelta(minutes=31))
    timed_out = browser.get("/bookings")
    assert timed_out.headers["Location"].startswith("/login")
    assert len(csp_nonce(timed_out)) >= 16


def test_hsts_only_over_https(client):
    secure = client.get("/healthz", base_url="https://localhost")
    max_age = re.search(r"max-age=(\d+)", secure.headers["Strict-Transport-Security"])[1]
    assert int(max_age) >= 365 * 24 * 3600
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_behind_one_proxy_its_forwarded_https_counts(make_app):
    proxied = make_app(PROXY_FIX_HOPS=1).test_client()
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Strict-Transport-Security" in proxied.get("/healthz", headers=forwarded).headers


def test_without_a_proxy_forwarded_headers_are_ignored(client):
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Strict-Transport-Security" not in client.get("/healthz", headers=forwarded).headers


def test_the_session_cookie_is_http_only_and_same_site_lax(client, users, login):
    cookie = login(Role.SERGEANT).headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the default PUBLIC_BASE_URL is plain http


@pytest.fixture
def https_config(monkeypatch):
    """config.py as read with PUBLIC_BASE_URL on https."""
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://booking.example.org")
    importlib.reload(config)
    yield
    monkeypatch.undo()
    importlib.reload(config)


def test_the_session_cookie_is_secure_when_the_service_is_on_https(make_app, users, https_config):
    browser = make_app().test_client()
    response = sign_in(browser, Role.SERGEANT)
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


# Body size ---------------------------------------------------------------------------------------


def test_a_page_post_over_64_kib_is_refused_with_413(client, users, login):
    response = client.post("/login", data={"email": "x" * (65 * KIB), "password": "x"})
    assert response.status_code == 413
    assert "text/html" in response.headers["Content-Type"]


def test_a_booking_form_over_64_kib_is_refused_and_keeps_nothing(client, users, login):
    login(Role.SERGEANT)
    response = client.post("/bookings/new", data={"person_name": "x" * (65 * KIB)})
    assert response.status_code == 413
    assert count(BookingDraft) == 0


def test_an_api_post_over_64_kib_is_refused_with_413(client, tokens):
    response = client.post(
        "/api/v1/bookings",
        data=b'{"person_name": "' + b"x" * (65 * KIB) + b'"}',
        headers=auth(tokens[Role.SERGEANT]) | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]
    assert count(Booking) == 0


def test_signing_out_ends_every_copy_of_the_session_cookie(app, users):
    """A copied cookie is worthless after sign-out: the session is ended on the server too."""
    desk = app.test_client()
    sign_in(desk, Role.SERGEANT)
    cookie = desk.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", cookie)
    assert copy.get("/bookings").status_code == 200

    desk.post("/logout")
    assert copy.get("/bookings").status_code == 302


def test_resetting_a_password_ends_the_users_sessions(app, users, clock):
    from booking.accounts.users import reset_password

    client = app.test_client()
    sign_in(client, Role.WORKER)
    assert client.get("/bookings").status_code == 200
    reset_password(users[Role.WORKER], "another long password", by=None, now=clock())
    db.session.commit()
    assert client.get("/bookings").status_code == 302


def test_the_court_forms_work_with_the_csrf_check_on(make_app, users):
    add_courts()
    browser = signed_in_with_token(make_app(WTF_CSRF_ENABLED=True).test_client(), Role.WORKER)
    new = "/court/suitability/new"
    token = csrf_token(browser.get(new).get_data(as_text=True))
    assert browser.post(new, data=request_form()).status_code == 400, "no token, no record"
    assert count(SuitabilityAssessment) == 0
    db.session.commit()  # end the read: the other app's requests need the database
    made = browser.post(new, data=request_form() | {"csrf_token": token})
    assert made.status_code == 302
    not_completed = made.headers["Location"] + "/not-completed"
    token = csrf_token(browser.get(not_completed).get_data(as_text=True))
    done = browser.post(not_completed, data={"reason": "declined", "csrf_token": token})
    assert done.status_code == 302
    assert db.session.scalar(select(SuitabilityAssessment.status)) == "not_completed"
    db.session.commit()  # end the read: the other app's requests need the database


def test_a_pathway_refused_by_its_csrf_check_comes_back_filled_in_and_records_only_the_look(
    make_app, users, clock
):
    """The pathway page records each look at it: shown again after a refusal, the look is
    recorded (the page was seen), and nothing of the refused pathway is."""
    record = on_site.record("stechford", "voluntary", clock(), by=users[Role.WORKER], now=clock())
    reference = record.reference
    db.session.commit()
    browser = signed_in_with_token(make_app(WTF_CSRF_ENABLED=True).test_client(), Role.WORKER)
    looks_before = count_looks(reference)
    db.session.commit()  # end the read: the other app's requests need the database

    refused = browser.post(
        f"/pathway/{reference}",
        data={"naloxone": "issued", "referred": "no", "csrf_token": "a-stale-token"},
    )

    assert refused.status_code == 400
    page = Page(refused.get_data(as_text=True))
    assert summary_items(page.html) == [EXPIRED]
    assert page.radios["naloxone"][0] == "issued"
    assert 'value="issued" checked' in page.html, "what was sent is shown again"
    assert count(Pathway) == 0
    assert count_looks(reference) == looks_before + 1
    db.session.commit()  # end the read
    again = browser.post(
        f"/pathway/{reference}",
        data={"naloxone": "issued", "referred": "no", "csrf_token": page.values["csrf_token"]},
    )
    assert again.status_code == 302
    assert db.session.scalar(select(Pathway.naloxone)) == "issued"
    db.session.commit()


def count_looks(reference: str) -> int:
    return len([e for e in trail() if e.reference == reference and e.action == "viewed"])


def test_a_court_action_refused_by_its_csrf_check_comes_back_filled_in(make_app, users):
    """Court pages record the look at the person's details before showing the form: the form
    still comes back, and the refused reason is not saved."""
    add_courts()
    browser = signed_in_with_token(make_app(WTF_CSRF_ENABLED=True).test_client(), Role.WORKER)
    new = "/court/suitability/new"
    token = csrf_token(browser.get(new).get_data(as_text=True))
    made = browser.post(new, data=request_form() | {"csrf_token": token})
    not_completed = made.headers["Location"] + "/not-completed"

    refused = browser.post(not_completed, data={"reason": "declined", "csrf_token": "stale"})

    assert refused.status_code == 400
    page = Page(refused.get_data(as_text=True))
    assert summary_items(page.html) == [EXPIRED]
    assert 'value="declined" checked' in page.html
    assert db.session.scalar(select(SuitabilityAssessment.status)) == "requested"
    db.session.commit()  # end the read
