"""/metrics counts what happened: after a known sequence of bookings, texts and scheduler jobs,
each series has grown by exactly as much, and no label holds anything a request carried."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select

from booking.extensions import db
from booking.models import Message, MessageKind, MessageStatus, Role
from booking.sms import dispatch
from tests.sms.notify_standin import (
    notify_fixture,  # noqa: F401  (the `notify` fixture)
    post_receipt,
)
from tests.sms.test_webhooks import post, status_params
from tests.sms.twilio_standin import (
    INVALID_NUMBER,
    SERVER_ERROR,
    standin_fixture,  # noqa: F401  (the `standin` fixture)
)
from tests.support import auth, booking_body, local

# The clock starts on Wednesday 13 January 2027 at 21:00 (GMT, so local = UTC).
FRIDAY = [local(2027, 1, 15, 10, 0), local(2027, 1, 15, 10, 30), local(2027, 1, 15, 11, 0)]


@pytest.fixture
def book(book):
    """Book (as the sergeant, at Stechford), committed unless told not to."""
    return lambda starts_at, **changes: book(starts_at, "stechford", **changes)


def test_api_bookings_are_counted_by_result_and_requests_by_method_route_and_status(
    client, tokens, rostered, scrape
):
    sergeant = auth(tokens[Role.SERGEANT])

    def book(body: dict) -> int:
        return client.post("/api/v1/bookings", json=body, headers=sergeant).status_code

    before = scrape()
    query = {"block": "oldbury", "limit": 1}
    (slot,) = client.get("/api/v1/slots", query_string=query, headers=sergeant).get_json()
    created = client.post("/api/v1/bookings", json=booking_body(slot), headers=sergeant)
    assert created.status_code == 201
    reference = created.get_json()["reference"]
    assert book(booking_body(slot, custody_record="20/999/27")) == 409
    assert book(booking_body(slot, starts_at="2027-01-14T07:10:00+00:00")) == 422  # off the grid
    # Refused by the API's schema, before the write path: a request, not a booking attempt.
    assert book(booking_body(slot, sms_consent="yes")) == 422
    assert client.get(f"/api/v1/bookings/{reference}", headers=sergeant).status_code == 200
    assert client.get("/no-such-thing/Jamie-Testperson").status_code == 404
    after = scrape()

    changes = after - before
    assert changes.of("bookings_total", "result") == {"created": 1, "slot_taken": 1, "refused": 1}
    assert changes.of("http_requests_total", "method", "route", "status") == {
        ("GET", "/metrics", "200"): 1,  # the first scrape
        ("GET", "/api/v1/slots", "200"): 1,
        ("POST", "/api/v1/bookings", "201"): 1,
        ("POST", "/api/v1/bookings", "409"): 1,
        ("POST", "/api/v1/bookings", "422"): 2,
        ("GET", "/api/v1/bookings/<reference>", "200"): 1,
        ("GET", "<unmatched>", "404"): 1,
    }
    assert changes.of("http_request_duration_seconds_count", "method", "route") == {
        ("GET", "/metrics"): 1,
        ("GET", "/api/v1/slots"): 1,
        ("POST", "/api/v1/bookings"): 4,
        ("GET", "/api/v1/bookings/<reference>"): 1,
        ("GET", "<unmatched>"): 1,
    }
    for withheld in (reference, "Jamie", "Testperson", "20/999/27"):
        assert withheld not in after.text


def test_a_booking_counts_as_created_only_once_it_is_committed(book, rostered, scrape):
    before = scrape()
    book(FRIDAY[0], commit=False)
    db.session.rollback()
    book(FRIDAY[1])
    assert (scrape() - before).of("bookings_total", "result") == {"created": 1}


def test_a_method_no_route_answers_is_counted_as_other(client, scrape):
    before = scrape()
    assert client.open("/healthz", method="BREW").status_code == 405
    changes = (scrape() - before).of("http_requests_total", "method", "route", "status")
    assert changes[("other", "<unmatched>", "405")] == 1


def test_texts_are_counted_by_backend_and_the_status_they_reach(
    client, standin, book, rostered, clock, scrape
):
    for starts_at in FRIDAY:
        book(starts_at)
    before = scrape()
    standin.fail_next(INVALID_NUMBER, SERVER_ERROR)
    report = dispatch.dispatch(clock)
    assert (report.sent, report.failed, report.retrying) == (1, 1, 1)
    db.session.expire_all()
    sent = db.session.scalar(select(Message).where(Message.status == MessageStatus.SENT))
    assert post(client, "/sms/status", status_params(sent, "delivered")).status_code == 204
    # Twilio repeats its callbacks: a status already reached is not counted again.
    assert post(client, "/sms/status", status_params(sent, "delivered")).status_code == 204

    assert (scrape() - before).of("sms_messages_total", "backend", "status") == {
        ("twilio", "sent"): 1,
        ("twilio", "failed"): 1,
        ("twilio", "retrying"): 1,
        ("twilio", "delivered"): 1,
    }


def test_texts_sent_through_notify_are_counted_under_notify_with_their_receipts(
    client, notify, book, rostered, clock, scrape
):
    book(FRIDAY[0])
    before = scrape()
    assert dispatch.dispatch(clock).sent == 1
    (request,) = notify.requests
    assert post_receipt(client, notify.receipt(request, "delivered")).status_code == 204
    # Notify repeats its callbacks too: counted once.
    assert post_receipt(client, notify.receipt(request, "delivered")).status_code == 204

    assert (scrape() - before).of("sms_messages_total", "backend", "status") == {
        ("notify", "sent"): 1,
        ("notify", "delivered"): 1,
    }


def test_the_oldest_due_message_age_follows_the_outbox(book, rostered, clock, scrape):
    """Due and waiting, claimed by a dispatcher, due again once that claim runs out, sent."""
    assert scrape().value("sms_oldest_due_message_age_seconds") == 0
    booking = book(FRIDAY[0])
    (confirmation,) = [m for m in booking.messages if m.kind == MessageKind.CONFIRMATION]
    clock.set(confirmation.due_at + dt.timedelta(seconds=90))
    assert scrape().value("sms_oldest_due_message_age_seconds") == 90

    assert dispatch.claim(clock()) == [confirmation.id]  # and the dispatcher dies
    assert scrape().value("sms_oldest_due_message_age_seconds") == 0
    clock.set(clock() + dispatch.LEASE + dt.timedelta(seconds=30))
    assert scrape().value("sms_oldest_due_message_age_seconds") == 90 + 150

    before = scrape()
    assert dispatch.dispatch(clock).sent == 1
    after = scrape()
    assert after.value("sms_oldest_due_message_age_seconds") == 0
    changes = (after - before).of("sms_messages_total", "backend", "status")
    assert changes == {("console", "sent"): 1}


class RunsEachJobOnce(BlockingScheduler):
    """APScheduler's own scheduler, whose start runs each job once, at once, then stops."""

    def start(self, *args, **kwargs):
        jobs = self.get_jobs()
        ended = []

        def stop_when_all_ended(event):
            ended.append(event.job_id)
            if len(ended) == len(jobs):
                self.shutdown(wait=False)

        self.add_listener(stop_when_all_ended, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        for job in jobs:
            job.modify(next_run_time=dt.datetime.now(dt.UTC))
        give_up = threading.Timer(60, self.shutdown, kwargs={"wait": False})
        give_up.start()
        try:
            super().start(*args, **kwargs)
        finally:
            give_up.cancel()


def test_the_schedulers_job_runs_and_failures_are_counted_by_job(app, monkeypatch, scrape):
    def extend_rota():
        raise RuntimeError("the rota could not be extended")

    monkeypatch.setattr("booking.cli.extend_rota", extend_rota)
    monkeypatch.setattr("booking.cli.purge_personal_data", lambda: 0)
    monkeypatch.setattr("apscheduler.schedulers.blocking.BlockingScheduler", RunsEachJobOnce)
    before = scrape()
    db.session.commit()  # end the scrape's read: the jobs need the database
    result = app.test_cli_runner().invoke(args=["scheduler", "run"])
    assert result.exit_code == 0, result.output

    changes = scrape() - before
    assert changes.of("scheduler_job_runs_total", "job") == {
        "dispatch": 1,
        "rota_look_ahead": 1,
        "retention_purge": 1,
    }
    assert changes.of("scheduler_job_failures_total", "job") == {"rota_look_ahead": 1}
