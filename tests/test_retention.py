"""Retention: RETENTION_DAYS after an outcome or a cancellation, the person's data is removed;
the figures (block, time, requirement, result, outcome, messages) stay.

The clock starts on Wednesday 13 January 2027, 21:00 in London; bookings are for Thursday.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select

from booking import cli
from booking.extensions import db
from booking.models import (
    AuditEvent,
    Booking,
    BookingDraft,
    IdempotencyRecord,
    InboundMessage,
    Role,
)
from tests.support import auth, booking_body

PERSONAL = ("person_name", "mobile", "custody_record", "cancel_reason")
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


def find(reference: str) -> Booking:
    return db.session.scalar(select(Booking).where(Booking.reference == reference))


def kept_fields(booking: Booking) -> dict:
    """What the figures need, and what must survive the purge."""
    return {
        "status": booking.status,
        "block": booking.block_id,
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "requirement": booking.requirement,
        "test_result": booking.test_result,
        "tested_at": booking.tested_at,
        "disputed": booking.disputed,
        "arrest_block": booking.arrest_block_id,
        "sms_consent": booking.sms_consent,
        "notice_version": booking.notice_version,
        "worker": booking.worker_id,
        "outcome_at": booking.outcome_at,
        "cancelled_at": booking.cancelled_at,
        "messages": sorted((m.kind, m.status, m.send_at) for m in booking.messages),
    }


def personal_fields(booking: Booking) -> dict:
    return {field: getattr(booking, field) for field in PERSONAL}


def purged_events() -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "purged")).all()


def run_purge(app) -> str:
    db.session.commit()  # nothing of the test's own session may hold the database
    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def purged_count(output: str) -> int:
    return int(re.search(r"\d+", output)[0])


@pytest.fixture
def sergeant(tokens):
    return auth(tokens[Role.SERGEANT])


@pytest.fixture
def references(client, sergeant, rostered) -> list[str]:
    """Five bookings through the API, each with its own person."""
    slots = client.get("/api/v1/slots", query_string={"limit": 5}, headers=sergeant).get_json()
    made = []
    for n, slot in enumerate(slots):
        body = booking_body(slot, person_name=f"Person {n}", custody_record=f"20/{n}0000/27")
        response = client.post("/api/v1/bookings", json=body, headers=sergeant)
        assert response.status_code == 201
        made.append(response.get_json()["reference"])
    return made


def conclude(reference: str, status: str, at: dt.datetime) -> None:
    booking = find(reference)
    booking.status = status
    if status == "cancelled":
        booking.cancelled_at = at
        booking.cancel_reason = f"{booking.person_name} was remanded"
    else:
        booking.outcome_at = at
    db.session.commit()


@pytest.fixture
def history(app, client, sergeant, references, clock):
    """100 days on: two bookings concluded long ago, two lately, one still booked."""
    booked_at = clock()
    attended_old, cancelled_old, absent_recent, cancelled_recent, live = references
    conclude(attended_old, "attended", booked_at + dt.timedelta(hours=11))
    cancel = {"reason": "Charged and remanded"}
    assert client.post(f"/api/v1/bookings/{cancelled_old}/cancel", json=cancel, headers=sergeant)
    clock.set(booked_at + 100 * DAY)
    conclude(absent_recent, "did_not_attend", clock() - 89 * DAY)
    conclude(cancelled_recent, "cancelled", clock() - 89 * DAY)
    # The live one is still to come (as if rearranged to next week).
    upcoming = find(live)
    upcoming.starts_at, upcoming.ends_at = clock() + 7 * DAY, clock() + 7 * DAY + 30 * MINUTE
    db.session.commit()
    return {"old": [attended_old, cancelled_old], "recent": [absent_recent, cancelled_recent, live]}


def test_an_appointment_whose_outcome_was_never_recorded_is_purged_after_retention(
    app, history, clock
):
    forgotten = find(history["recent"][-1])
    forgotten.starts_at, forgotten.ends_at = clock() - 91 * DAY, clock() - 91 * DAY + 30 * MINUTE
    db.session.commit()
    assert purged_count(run_purge(app)) == 3
    assert find(history["recent"][-1]).person_name is None


def test_the_purge_removes_personal_data_past_retention_and_keeps_the_figures(app, history):
    before = {ref: kept_fields(find(ref)) for ref in history["old"] + history["recent"]}
    untouched = {ref: personal_fields(find(ref)) for ref in history["recent"]}
    assert all(find(ref).person_name for ref in history["old"])

    assert purged_count(run_purge(app)) == 2

    for ref in history["old"]:
        booking = find(ref)
        assert personal_fields(booking) == dict.fromkeys(PERSONAL)
        assert kept_fields(booking) == before[ref]
        assert booking.purged_at == app.config["CLOCK"]()
    for ref in history["recent"]:
        assert personal_fields(find(ref)) == untouched[ref]
        assert kept_fields(find(ref)) == before[ref]
        assert find(ref).purged_at is None


def test_each_purge_is_audited_once_and_a_second_run_purges_nothing(app, history, clock):
    run_purge(app)
    events = purged_events()
    assert sorted(e.reference for e in events) == sorted(history["old"])
    assert all(e.user_id is None for e in events)
    first_purge = {ref: find(ref).purged_at for ref in history["old"]}

    clock.set(clock() + DAY)
    assert purged_count(run_purge(app)) == 0
    assert len(purged_events()) == len(events)
    assert {ref: find(ref).purged_at for ref in history["old"]} == first_purge


def test_after_the_purge_the_api_returns_null_for_the_persons_data(
    app, client, sergeant, history, tokens
):
    run_purge(app)
    for ref in history["old"]:
        booking = client.get(f"/api/v1/bookings/{ref}", headers=sergeant).get_json()
        assert booking["person_name"] is None
        assert booking["mobile"] is None
        assert booking["custody_record"] is None
        assert booking["status"] in ("attended", "cancelled")
        assert booking["block"] and booking["starts_at"] and booking["messages"]
    trail = client.get(
        "/api/v1/audit",
        query_string={"reference": history["old"][0]},
        headers=auth(tokens[Role.COORDINATOR]),
    ).get_json()
    assert "purged" in [event["action"] for event in trail]
    live = client.get(f"/api/v1/bookings/{history['recent'][-1]}", headers=sergeant).get_json()
    assert live["person_name"] == "Person 4"


def test_a_purged_booking_still_shows_on_its_page(app, client, login, history):
    run_purge(app)
    login(Role.SERGEANT)
    response = client.get(f"/bookings/{history['old'][0]}")
    assert response.status_code == 200
    assert "Person 0" not in response.get_data(as_text=True)


def test_retention_days_is_configurable(app, references, clock):
    app.config["RETENTION_DAYS"] = 30
    conclude(references[0], "left_early", clock() - 31 * DAY)
    conclude(references[1], "left_early", clock() - 29 * DAY)
    assert purged_count(run_purge(app)) == 1
    assert find(references[0]).person_name is None
    assert find(references[1]).person_name == "Person 1"


def test_answers_kept_for_retried_requests_are_deleted_after_a_day(app, users, clock):
    user = users[Role.SERGEANT]
    answer = json.dumps({"reference": "ABCD-EFGH", "person_name": "Person 9"})
    for key, age in (("old", 25), ("recent", 23)):
        db.session.add(
            IdempotencyRecord(
                user_id=user.id,
                key=key,
                fingerprint="f" * 64,
                status_code=201,
                response_body=answer,
                created_at=clock() - dt.timedelta(hours=age),
            )
        )
    run_purge(app)
    assert db.session.scalars(select(IdempotencyRecord.key)).all() == ["recent"]


def test_abandoned_web_drafts_are_deleted_after_a_day(app, users, clock):
    user = users[Role.SERGEANT]
    draft = json.dumps({"person_name": "Person 8", "custody_record": "20/80000/27"})
    for key, age in (("old-draft", 25), ("recent-draft", 23)):
        db.session.add(
            BookingDraft(
                id=key, user_id=user.id, data=draft, updated_at=clock() - dt.timedelta(hours=age)
            )
        )
    run_purge(app)
    assert db.session.scalars(select(BookingDraft.id)).all() == ["recent-draft"]


def test_received_texts_are_forgotten_after_retention(app, clock):
    retention = dt.timedelta(days=app.config["RETENTION_DAYS"])
    for sid, age in (("SM-old", retention + DAY), ("SM-recent", retention - DAY)):
        db.session.add(InboundMessage(provider_id=sid, received_at=clock() - age))
    db.session.commit()
    run_purge(app)
    assert db.session.scalars(select(InboundMessage.provider_id)).all() == ["SM-recent"]


class FakeScheduler:
    """Stands in for APScheduler's BlockingScheduler: records the jobs, returns at once."""

    jobs: dict = {}
    running = False

    def __init__(self, **options):
        FakeScheduler.jobs = {}

    def add_job(self, func, trigger, id, **schedule):
        FakeScheduler.jobs[id] = (func, trigger, schedule)

    def add_listener(self, callback, mask):  # the metrics' count of job runs
        return None

    def start(self):
        return None


def test_the_scheduler_runs_the_purge_every_night(app, history, monkeypatch):
    monkeypatch.setattr("apscheduler.schedulers.blocking.BlockingScheduler", FakeScheduler)
    result = app.test_cli_runner().invoke(args=["scheduler", "run"])
    assert result.exit_code == 0, result.output
    job, trigger, schedule = FakeScheduler.jobs["retention_purge"]
    assert trigger == "cron"
    assert set(schedule) >= {"hour", "minute"}, "once a day"

    db.session.commit()
    job()
    db.session.expire_all()
    assert all(find(ref).person_name is None for ref in history["old"])
    assert len(purged_events()) == 2


def test_the_purge_function_of_the_nightly_job(app, history):
    db.session.commit()
    assert cli.purge_personal_data() == 2
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "purged")
        )
        == 2
    )
