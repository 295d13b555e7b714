"""The demo's court work: court duty on the rota for the court team and the demo worker, and
three months of invented suitability assessments that obey the domain's rules."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from booking.calendars import feeds
from booking.clock import LONDON
from booking.court import queries
from booking.court.suitability import latest_appointment_end
from booking.demo import load as demo
from booking.demo.history import FIRST_NAMES, LAST_NAMES
from booking.extensions import db
from booking.models import (
    AuditEvent,
    Block,
    Booking,
    Finding,
    MessageStatus,
    Notice,
    PlaceKind,
    Requirement,
    SentenceOutcome,
    Shift,
    SuitabilityAdjournment,
    SuitabilityAssessment,
    SuitabilityStatus,
    Worker,
)
from booking.rota.generate import dates
from booking.workdays import is_bank_holiday, is_working_day

DEMO_MOBILE = re.compile(r"\+447700900\d{3}")
CUSTODY_RECORD = re.compile(r"20/\d{5}/\d{2}")


@pytest.fixture
def loaded(app, clock):
    """The demo, loaded by the command as an operator would (the clock's Wednesday, 21:00, in
    January: the three months before it take in Christmas and New Year's bank holidays)."""
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return clock()


def local_day(instant: dt.datetime) -> dt.date:
    return instant.astimezone(LONDON).date()


def court_shifts() -> list[Shift]:
    return list(
        db.session.scalars(select(Shift).join(Shift.block).where(Block.kind == PlaceKind.COURT))
    )


def test_court_duty_is_rostered_monday_to_friday_never_on_a_bank_holiday(loaded):
    today = local_day(loaded)
    shifts = court_shifts()
    days = {local_day(shift.starts_at) for shift in shifts}
    # Christmas Day, the Boxing Day holiday and New Year's Day fall in the demo's history.
    holidays = [d for d in dates(min(days), max(days)) if is_bank_holiday(d)]
    assert dt.date(2026, 12, 25) in holidays and dt.date(2027, 1, 1) in holidays
    assert all(is_working_day(day) for day in days)
    for shift in shifts:
        starts, ends = shift.starts_at.astimezone(LONDON), shift.ends_at.astimezone(LONDON)
        assert (starts.time(), ends.time()) == (dt.time(9), dt.time(17))

    # Every court has its duty worker on every sitting day of the coming weeks, put there by
    # the rota generator.
    ahead = list(dates(today, today + dt.timedelta(days=demo.ROTA_DAYS - 1)))
    court_team = dict(
        db.session.execute(
            select(Block.code, Worker.name)
            .join(Worker, Worker.home_block_id == Block.id)
            .where(Block.kind == PlaceKind.COURT)
        ).all()
    )
    for code, *_ in demo.COURTS:
        at_court = {local_day(s.starts_at): s for s in shifts if s.block.code == code}
        for day in ahead:
            assert (day in at_court) == is_working_day(day), (code, day)
        generated = [
            s for s in at_court.values() if s.generated and local_day(s.starts_at) >= today
        ]
        assert generated and all(s.worker.name == court_team[code] for s in generated)


def test_the_demo_worker_has_court_duty_on_their_day_and_in_their_calendar(loaded, client, app):
    today = local_day(loaded)
    worker = db.session.scalar(select(Worker).where(Worker.user.has(email="worker@demo.test")))
    mine = [s for s in court_shifts() if s.worker_id == worker.id]
    court_days = sorted(local_day(s.starts_at) for s in mine)
    # Today (a Wednesday) and each Thursday ahead, entered on the rota before it was generated.
    assert court_days[0] == today
    assert len(court_days) >= 8
    assert all(is_working_day(d) and d >= today for d in court_days)
    assert all(d == today or d.weekday() == 3 for d in court_days)
    assert {s.block.code for s in mine} == {demo.DEMO_WORKER_COURT}
    # Their court's list for today has cases on it.
    listed = queries.court_list(mine[0].block, today)
    assert [r for session in listed.values() for r in session]
    # Never two people's duty at once: the court's own worker is elsewhere those days.
    for shift in mine:
        others = [
            s
            for s in court_shifts()
            if s.block_id == shift.block_id and s.starts_at == shift.starts_at
        ]
        assert others == [shift]

    signed_in = client.post(
        "/login", data={"email": "worker@demo.test", "password": demo.DEMO_PASSWORD}
    )
    assert signed_in.status_code == 302
    page = client.get("/day").get_data(as_text=True)
    assert "Birmingham Magistrates" in page

    feed = feeds.worker_feed(worker, loaded, app.config["PUBLIC_BASE_URL"]).body.decode()
    assert feed.count("Court duty at Birmingham Magistrates") == len(court_days)


def test_the_court_history_obeys_the_domain_rules(app, clock, monkeypatch):
    now = clock()

    def no_commit():
        raise AssertionError("the demo loader must leave committing to its caller")

    monkeypatch.setattr(db.session, "commit", no_commit)
    demo.load(now)
    monkeypatch.undo()
    today = local_day(now)
    lead = app.config["SUITABILITY_LEAD_WORKING_DAYS"]
    records = db.session.scalars(select(SuitabilityAssessment)).all()
    assert len(records) > 100

    for record in records:
        assert is_working_day(record.hearing_date)
        assert record.requested_at <= now
        assert local_day(record.requested_at) <= record.hearing_date
        assert record.court.kind == PlaceKind.COURT
        if record.setting == "custody":
            assert record.arrest_block.kind == PlaceKind.CUSTODY
        if Finding.SUITABLE in (record.drr, record.atr):
            assert record.willing is True
        if record.status == SuitabilityStatus.COMPLETED:
            assert {record.drr, record.atr} != {Finding.NOT_ASSESSED}
            assert record.requested_at <= record.completed_at <= record.concluded_at <= now
        else:
            assert record.drr is record.atr is record.completed_at is None
        assert (record.status == SuitabilityStatus.NOT_COMPLETED) == (
            record.not_completed_reason is not None
        )
        if record.sentence is not None:
            assert record.hearing_date <= record.sentenced_on <= today
            assert record.status in (SuitabilityStatus.COMPLETED, SuitabilityStatus.NOT_COMPLETED)
        # Each hearing adjourned to a later sitting day, the last one the one listed now.
        hearing = record.hearing_date
        for adjournment in record.adjournments:
            assert adjournment.hearing_date == hearing
            assert adjournment.adjourned_to > hearing and is_working_day(adjournment.adjourned_to)
            assert adjournment.recorded_at <= now
            hearing = adjournment.adjourned_to
        assert record.listed_for == hearing
        # The trail, as the domain writes it: the request, then each step at its own time.
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.reference == record.reference)
        ).all()
        # What followed a completed assessment (the pathway) is the pathway demo's to check.
        actions = sorted(event.action for event in events if event.action != "pathway")
        expected = ["created"] + ["adjourned"] * len(record.adjournments)
        expected += {"completed": ["suitability_result"], "not_completed": ["not_completed"]}.get(
            record.status, []
        )
        expected += ["sentence"] if record.sentence else []
        assert actions == sorted(expected), record.reference
        assert min(e.at for e in events) == record.requested_at
        assert max(e.at for e in events) <= now

    # Appointments for adjourned assessments: booked through the one path, a suitability
    # requirement with no notice, at a custody block, ending the lead working days before
    # the adjourned hearing.
    adjournments = db.session.scalars(select(SuitabilityAdjournment)).all()
    booked = [a for a in adjournments if a.booking is not None]
    assert len(booked) > 10
    for adjournment in booked:
        booking = adjournment.booking
        assert booking.requirement == Requirement.SUITABILITY
        assert booking.block.kind == PlaceKind.CUSTODY
        assert booking.ends_at <= latest_appointment_end(adjournment.adjourned_to, lead)
        assert booking.starts_at > adjournment.recorded_at
        assert booking.person_name == adjournment.assessment.person_name
        if booking.ends_at < now - dt.timedelta(hours=1):
            assert booking.status != "booked"
        # Texts due before the load went then; those still to come wait in the outbox.
        for message in booking.messages:
            if message.status == MessageStatus.PENDING:
                assert message.send_at > now
    assert not db.session.scalar(
        select(Notice.id)
        .join(Booking, Notice.booking_id == Booking.id)
        .where(Booking.requirement == Requirement.SUITABILITY)
    )

    # Enough of every kind for the court list, the figures and the charts to mean something.
    assert {r.requested_by for r in records} == {"probation", "bench", "defence", "worker"}
    assert {r.setting for r in records} == {"custody", "court"}
    assert {r.status for r in records} == set(SuitabilityStatus)
    assert {r.not_completed_reason for r in records} - {None} == {
        "declined",
        "not_produced",
        "unfit",
        "no_time",
        "other",
    }
    sentences = {r.sentence for r in records}
    assert {
        SentenceOutcome.DRR,
        SentenceOutcome.ATR,
        SentenceOutcome.DRR_AND_ATR,
        SentenceOutcome.OTHER_COMMUNITY_ORDER,
        SentenceOutcome.CUSTODY,
    } <= sentences
    suitable_drr = [r for r in records if r.drr == Finding.SUITABLE and r.sentence]
    made = [r for r in suitable_drr if r.sentence in ("drr", "drr_and_atr")]
    assert 0.1 < len(made) / len(suitable_drr) < 0.4
    assert any(len(r.adjournments) == 2 for r in records)
    months = {local_day(r.requested_at).replace(day=1) for r in records}
    assert len(months) >= 3


def test_the_court_history_holds_only_invented_people(app, clock):
    demo.load(clock())
    records = db.session.scalars(select(SuitabilityAssessment)).all()
    bookings = db.session.scalars(
        select(Booking).where(Booking.requirement == Requirement.SUITABILITY)
    ).all()
    people = set()
    for person in [*records, *bookings]:
        first, last = person.person_name.split(" ")
        assert first in FIRST_NAMES and last in LAST_NAMES
        assert person.mobile is None or DEMO_MOBILE.fullmatch(person.mobile)
        assert CUSTODY_RECORD.fullmatch(person.custody_record)
        assert not person.sms_consent or person.mobile
        people.update({person.person_name, person.mobile, person.custody_record})
    # Nothing personal in the audit trail.
    details = [e.detail or "" for e in db.session.scalars(select(AuditEvent))]
    assert not [d for d in details for p in people - {None} if p in d]


def test_each_court_has_requests_for_the_coming_sitting_days(app, clock):
    # A Monday morning: today's lists are still to sit.
    clock.set_local(2027, 1, 18, 8, 30)
    demo.load(clock())
    for court in db.session.scalars(select(Block).where(Block.kind == PlaceKind.COURT)):
        for day in (dt.date(2027, 1, 18), dt.date(2027, 1, 19), dt.date(2027, 1, 20)):
            listed = queries.court_list(court, day)
            waiting = [r for session in listed.values() for r in session if r.status == "requested"]
            assert waiting, (court.code, day)
    assert not db.session.scalar(
        select(SuitabilityAssessment.id).where(
            SuitabilityAssessment.status == "requested",
            SuitabilityAssessment.hearing_date < dt.date(2027, 1, 18),
        )
    )
