"""Application logs: JSON lines with a request id, and never a detainee's personal data.

The clock is Wednesday 13 January 2027, 21:00 in London.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re

import pytest
from twilio.request_validator import RequestValidator

import config
from booking import create_app
from booking.extensions import db
from booking.logs import STANDARD_ATTRIBUTES, WITHHELD, JsonFormatter, ScalarsOnly
from booking.models import Booking, Role
from booking.sms import dispatch
from booking.sms.backends import SendFailed
from tests.support import PASSWORD, auth, book_through_pages, booking_body

NAME = "Jamie Testperson"
CUSTODY_RECORD = "20/482913/27"
MOBILE_FORMS = ["+447700900123", "07700 900123", "07700900123"]


def leaks(text: str) -> list[str]:
    """The personal data found in a text: the name, the custody record, the mobile in any form."""
    found = []
    if "testperson" in text.lower():
        found.append("name")
    if "482913" in text:
        found.append("custody record")
    if "7700900123" in re.sub(r"[\s().-]", "", text):
        found.append("mobile")
    return found


def texts_of(record: logging.LogRecord) -> list[str]:
    """Everything of a record a handler could write: message, msg, args and extra fields."""
    extras = [repr(v) for k, v in vars(record).items() if k not in STANDARD_ATTRIBUTES]
    return [record.getMessage(), str(record.msg), repr(record.args), *extras, record.exc_text or ""]


@pytest.fixture
def captured(caplog):
    """Every record at DEBUG, and the "booking" logs as the service's JSON handler writes them."""
    caplog.set_level(logging.DEBUG)
    service = logging.getLogger("booking")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ScalarsOnly())  # as on the service's own handler
    service.addHandler(handler)
    level = service.level
    service.setLevel(logging.DEBUG)
    yield caplog, stream
    service.removeHandler(handler)
    service.setLevel(level)


class FailingBackend:
    """A provider that fails: first a transient error, then for good."""

    def __init__(self):
        self.calls = 0

    def send(
        self, to: str, body: str, status_callback: str | None, reference: str | None = None
    ) -> str:
        self.calls += 1
        raise SendFailed("provider down", transient=self.calls == 1, code="30003")


def _book_through_the_pages(client) -> str:
    reference = book_through_pages(client, custody_record=CUSTODY_RECORD, person_name=NAME)
    assert NAME in client.get(f"/bookings/{reference}").get_data(as_text=True)
    assert client.get(f"/bookings/{reference}/notice").status_code == 200
    return reference


def test_no_personal_data_in_any_log_while_booking_refusing_and_texting(
    app, client, tokens, rostered, login, clock, captured
):
    caplog, stream = captured
    sergeant = auth(tokens[Role.SERGEANT])
    # Friday's slots: their reminders fall due on Thursday evening and Friday morning.
    friday = {"limit": 4, "after": "2027-01-15T10:00:00+00:00"}
    slots = client.get("/api/v1/slots", query_string=friday, headers=sergeant).get_json()
    # Booked through the API, with each way of writing the mobile.
    references = []
    for slot, mobile in zip(slots[:3], MOBILE_FORMS, strict=True):
        body = booking_body(slot, person_name=NAME, custody_record=CUSTODY_RECORD, mobile=mobile)
        response = client.post("/api/v1/bookings", json=body, headers=sergeant)
        assert response.status_code == 201
        references.append(response.get_json()["reference"])
    # Refused: a field that fails (422) and a slot already taken (409).
    refused = booking_body(slots[0], person_name=NAME, custody_record=CUSTODY_RECORD)
    bad = client.post(
        "/api/v1/bookings", json=refused | {"mobile": "0121 496 0000"}, headers=sergeant
    )
    assert bad.status_code == 422
    assert client.post("/api/v1/bookings", json=refused, headers=sergeant).status_code == 409
    # Rearranged and cancelled.
    moved = client.post(
        f"/api/v1/bookings/{references[0]}/rearrange",
        json={"block": slots[3]["block"], "starts_at": slots[3]["starts_at"]},
        headers=sergeant,
    )
    assert moved.status_code == 200
    cancel = {"reason": f"{NAME} remanded"}
    assert client.post(f"/api/v1/bookings/{references[1]}/cancel", json=cancel, headers=sergeant)
    # Booked through the web pages.
    login(Role.SERGEANT)
    references.append(_book_through_the_pages(client))
    # The texts go (console backend), and a provider fails some.
    sent = dispatch.dispatch(clock)
    clock.set_local(2027, 1, 14, 18, 0)  # the day-before reminders
    failing = dispatch.dispatch(clock, backend=FailingBackend())
    assert failing.retrying and failing.failed
    # The person replies STOP.
    app.config["TWILIO_AUTH_TOKEN"] = "twilio-test-auth-token"
    stop = {"From": "+447700900123", "Body": "STOP"}
    signature = RequestValidator("twilio-test-auth-token").compute_signature(
        app.config["PUBLIC_BASE_URL"] + "/sms/inbound", stop
    )
    client.post("/sms/inbound", data=stop, headers={"X-Twilio-Signature": signature})

    # The capture is real: the texts and the failures were logged.
    messages = [record.getMessage() for record in caplog.records]
    assert sent.sent >= 1
    assert any(references[-1] in message for message in messages), "the console SMS"
    assert {"sms.retry", "sms.failed"} <= set(messages)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= sent.sent + 1
    for record in caplog.records:
        for text in texts_of(record):
            assert not leaks(text), (leaks(text), record.name, text)
    for line in lines:
        json.loads(line)
        assert not leaks(line), line


# The guard ---------------------------------------------------------------------------------------

PERSONAL = [
    pytest.param({"person_name": NAME}, id="dict"),
    pytest.param([NAME, "+447700900123"], id="list"),
    pytest.param((NAME,), id="tuple"),
    pytest.param(Booking(person_name=NAME, custody_record=CUSTODY_RECORD), id="model"),
]


@pytest.mark.parametrize("value", PERSONAL)
def test_a_structured_argument_is_withheld(app, caplog, value):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("booking").info("booked %s", value)
    assert caplog.records[-1].getMessage() == f"booked {WITHHELD}"


@pytest.mark.parametrize("value", PERSONAL)
def test_a_structured_extra_field_is_withheld(app, caplog, value):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("booking").info("booked", extra={"booking": value})
    assert caplog.records[-1].booking == WITHHELD


def test_a_structured_argument_among_scalars_is_withheld(app, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("booking").info("%s booked %s", "ABCD-EFGH", {"person_name": NAME})
    assert caplog.records[-1].getMessage() == f"ABCD-EFGH booked {WITHHELD}"


def test_named_arguments_keep_scalars_and_withhold_the_rest(app, caplog):
    caplog.set_level(logging.DEBUG)
    booking = Booking(person_name=NAME)
    logging.getLogger("booking").info("%(ref)s for %(who)s", {"ref": "ABCD-EFGH", "who": booking})
    assert caplog.records[-1].getMessage() == f"ABCD-EFGH for {WITHHELD}"


def test_a_model_object_as_the_message_is_withheld(app, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("booking").info(Booking(person_name=NAME))
    assert caplog.records[-1].getMessage() == WITHHELD


def test_scalars_pass_unchanged(app, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("booking").info(
        "%s %d %.1f %s %s",
        "ABCD-EFGH",
        3,
        2.5,
        True,
        None,
        extra={"message_id": 7, "code": "30003", "retry": False},
    )
    record = caplog.records[-1]
    assert record.getMessage() == "ABCD-EFGH 3 2.5 True None"
    assert (record.message_id, record.code, record.retry) == (7, "30003", False)


# JSON lines and the request id -------------------------------------------------------------------


@pytest.fixture
def json_log(app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    service = logging.getLogger("booking")
    service.addHandler(handler)
    level = service.level
    service.setLevel(logging.DEBUG)
    yield stream
    service.removeHandler(handler)
    service.setLevel(level)


def test_each_record_is_one_json_object_on_one_line(json_log):
    log = logging.getLogger("booking")
    log.info("first line\nsecond line", extra={"message_id": 7})
    log.warning("another")
    lines = json_log.getvalue().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["message"] == "first line\nsecond line"
    assert first["level"] == "INFO"
    assert first["logger"] == "booking"
    assert first["message_id"] == 7
    assert dt.datetime.strptime(first["time"], "%Y-%m-%dT%H:%M:%S%z")


def test_a_record_inside_a_request_carries_its_request_id(app, json_log):
    with app.test_request_context(headers={"X-Request-Id": "custody-req-42"}):
        app.preprocess_request()
        logging.getLogger("booking").info("inside")
    logging.getLogger("booking").info("outside")
    inside, outside = (json.loads(line) for line in json_log.getvalue().splitlines())
    assert inside["request_id"] == "custody-req-42"
    assert outside.get("request_id") is None


def test_the_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-Id": "custody-req-42"})
    assert response.headers["X-Request-Id"] == "custody-req-42"


@pytest.mark.parametrize(
    "incoming",
    [
        "",
        "has spaces",
        "<script>alert(1)</script>",
        "x" * 65,
        'quote"and\\backslash',
        "line\u2028separator",
    ],
)
def test_a_missing_or_malformed_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-Id": incoming} if incoming else {})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


def test_answers_given_before_any_view_carry_a_request_id(app, users, schema, clock):
    """The CSRF refusal answers from a hook that runs before the view (an app of its own: its
    request gets its own context, as in the service)."""
    db.session.commit()
    guarded = create_app({"SQLALCHEMY_DATABASE_URI": schema, "WTF_CSRF_ENABLED": True})
    try:
        refused = guarded.test_client().post(
            "/login",
            data={"email": "sergeant@test.example", "password": PASSWORD},
            headers={"X-Request-Id": "custody-req-43"},
        )
    finally:
        with guarded.app_context():
            db.engine.dispose()
    assert refused.status_code == 400
    assert refused.headers["X-Request-Id"] == "custody-req-43"


# The service's own logging -----------------------------------------------------------------------


@pytest.fixture
def service_app(monkeypatch):
    """The app as the service builds it (config.Config), with logging as in its own process:
    nothing on the root logger (pytest's capture handlers are set aside while it is built)."""
    monkeypatch.setattr(config.Config, "SECRET_KEY", "a-production-like-secret")
    monkeypatch.setattr(config.Config, "SERVICE_PHONE", config.DEMO_SERVICE_PHONE)
    monkeypatch.setattr(config.Config, "SQLALCHEMY_DATABASE_URI", "sqlite://")
    service = logging.getLogger("booking")
    saved = (service.handlers[:], service.level, service.propagate)
    root_handlers = logging.root.handlers[:]
    service.handlers.clear()
    logging.root.handlers.clear()
    try:
        built = create_app()
    finally:
        logging.root.handlers[:] = root_handlers
    stream = io.StringIO()
    for handler in service.handlers:
        handler.setStream(stream)
    yield built, stream
    with built.app_context():
        db.engine.dispose()
    service.handlers[:], service.level, service.propagate = saved


def test_the_service_writes_guarded_json_lines(service_app):
    built, stream = service_app
    with built.test_request_context(headers={"X-Request-Id": "custody-req-7"}):
        built.preprocess_request()
        logging.getLogger("booking.sms.dispatch").warning(
            "sms.failed %s",
            {"person_name": NAME},
            extra={"message_id": 3, "booking": ["07700 900123"]},
        )
        built.logger.info("booked %s", {"custody_record": CUSTODY_RECORD})
        logging.getLogger("booking.sms.dispatch").debug("below the service's level")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    failed, booked = (json.loads(line) for line in lines)
    assert failed["logger"] == "booking.sms.dispatch"
    assert failed["message"] == f"sms.failed {WITHHELD}"
    assert failed["booking"] == WITHHELD
    assert failed["message_id"] == 3
    assert failed["request_id"] == "custody-req-7"
    assert booked["message"] == f"booked {WITHHELD}"
    assert not leaks(stream.getvalue())


def test_the_development_servers_access_line_masks_a_feed_token(app, caplog):
    """`make run` serves through Werkzeug, whose access line holds the request line."""
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info(
            '127.0.0.1 - - [13/Jan/2027 21:00:00] "%s" %s %s',
            "GET /calendar/a-secret-feed-token-0123456789.ics HTTP/1.1",
            "200",
            "-",
        )
    assert "a-secret-feed-token" not in caplog.text
    assert '"GET /calendar/[token].ics HTTP/1.1" 200 -' in caplog.text
