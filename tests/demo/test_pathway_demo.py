"""The demo's year of on-site assessments and contacts, and what followed its assessments: every
kind, area and reason, each pathway in the order the domain keeps, and a year summary with
something in it."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from booking import audit
from booking.clock import LONDON
from booking.demo import load as demo
from booking.demo import pathway_history
from booking.extensions import db
from booking.models import (
    AuditEvent,
    Block,
    Booking,
    BookingStatus,
    ClosureReason,
    Entry,
    Naloxone,
    NonConversionReason,
    OnSiteAssessment,
    OnSiteKind,
    Pathway,
    PlaceKind,
    ReferralArea,
    Requirement,
    SuitabilityAssessment,
    SuitabilityStatus,
)
from booking.pathway import pathways, queries
from booking.reports import figures, year
from booking.rota.generate import cover_windows
from tests.support import count

ENTRY_CHECK_DAYS = 21


@pytest.fixture
def loaded(app, clock):
    """The demo, loaded as `demo load` does (the clock's Wednesday evening in January)."""
    demo.load(clock())
    db.session.commit()
    return clock()


def local_day(instant: dt.datetime) -> dt.date:
    return instant.astimezone(LONDON).date()


def test_the_year_on_site_has_every_kind_at_every_place_in_its_hours(loaded):
    places = {block.id: block for block in db.session.scalars(select(Block))}
    assessments = db.session.scalars(select(OnSiteAssessment)).all()
    assert {a.kind for a in assessments} == set(OnSiteKind)
    assert {a.place_id for a in assessments} == set(places)
    for assessment in assessments:
        place = places[assessment.place_id]
        day = local_day(assessment.assessed_at)
        assert any(
            w.starts_at <= assessment.assessed_at < w.ends_at for w in cover_windows(place, day)
        ), (place.code, assessment.assessed_at)
        assert loaded - dt.timedelta(days=365) <= assessment.assessed_at <= loaded
        assert assessment.assessed_at <= assessment.recorded_at <= loaded
        # At weekends only the three busy blocks have anyone on site.
        if day.weekday() >= 5:
            assert place.kind == PlaceKind.CUSTODY and place.high_activity
    weekend_places = {
        places[a.place_id].code for a in assessments if local_day(a.assessed_at).weekday() >= 5
    }
    assert weekend_places == {"perry-barr", "oldbury", "coventry"}
    months = {local_day(a.assessed_at).replace(day=1) for a in assessments}
    assert len(months) == 13  # January last year to this January


def assessment_of(pathway: Pathway) -> tuple[str, int, dt.datetime]:
    """The source, place and time of the assessment a pathway follows."""
    if pathway.booking is not None:
        return "booking", pathway.booking.block_id, pathway.booking.starts_at
    if pathway.on_site_assessment is not None:
        on_site = pathway.on_site_assessment
        return "on_site", on_site.place_id, on_site.assessed_at
    record = pathway.suitability_assessment
    return "suitability", record.court_id, record.completed_at


def test_every_pathway_of_the_demo_is_in_order_and_every_code_is_used(loaded):
    today = local_day(loaded)
    rows = db.session.scalars(
        select(Pathway).options(
            selectinload(Pathway.booking),
            selectinload(Pathway.on_site_assessment),
            selectinload(Pathway.suitability_assessment),
        )
    ).all()
    sources = Counter()
    for pathway in rows:
        values = pathways.values_of(pathway)
        assert pathways.problems(values, assessed_on=pathway.assessed_on, today=today) == {}
        # The place and day are the assessment's, as the domain copies them.
        source, place_id, assessed_at = assessment_of(pathway)
        sources[source] += 1
        assert (pathway.place_id, pathway.assessed_on) == (place_id, local_day(assessed_at))
        if pathway.entry == Entry.NOT_CONVERTED:
            assert pathway.referred_on <= pathway.not_converted_on <= today
        else:
            assert pathway.not_converted_on is None
        assert assessed_at <= pathway.created_at <= pathway.updated_at <= loaded
        if source == "booking":
            assert pathway.booking.status == BookingStatus.ATTENDED
            # An appointment for a suitability assessment counts as the completed assessment.
            assert pathway.booking.requirement != Requirement.SUITABILITY
        if source == "suitability":
            assert pathway.suitability_assessment.status == SuitabilityStatus.COMPLETED
    assert set(sources) == {"booking", "on_site", "suitability"}
    # The ones the domain would find by reference, as it finds any: a few of each source.
    for pathway in rows[:: len(rows) // 20]:
        found = pathways.assessment(pathway.reference)
        assert (found.place.id, found.assessed_on) == (pathway.place_id, pathway.assessed_on)

    def used(name):
        return {getattr(p, name) for p in rows} - {None}

    assert used("naloxone") == set(Naloxone)
    assert used("harm_reduction") == {True, False}
    assert used("referred") == {True, False}
    assert used("referral_area") == set(ReferralArea)
    assert used("entry") == set(Entry)
    assert used("non_conversion_reason") == set(NonConversionReason)
    assert used("closure_reason") == set(ClosureReason)

    # Referrals awaiting word of an entry: some long overdue, some recent.
    follow_through = queries.follow_through(loaded, ENTRY_CHECK_DAYS)
    assert follow_through.overdue_count > 0
    assert follow_through.awaiting_entry_count > follow_through.overdue_count
    assert follow_through.quiet_count > 0


def test_a_sample_of_the_pathways_was_recorded_through_the_domain_step_by_step(loaded):
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == audit.Action.PATHWAY)
    ).all()
    references = {event.reference for event in events}
    assert len(references) == pathway_history.RECORDED_THROUGH_DOMAIN
    recorded = db.session.scalars(select(Pathway).where(Pathway.reference.in_(references))).all()
    assert len(recorded) == len(references)
    for pathway in recorded:
        steps = sorted(e.at for e in events if e.reference == pathway.reference)
        assert (steps[0], steps[-1]) == (pathway.created_at, pathway.updated_at)
    # Nothing personal in the trail: field names only.
    fields = {name for event in events for name in event.detail.split(", ")}
    assert fields <= set(pathways.FIELDS)


def test_loading_the_demo_twice_changes_nothing(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    loaded = (OnSiteAssessment, Pathway, AuditEvent, Booking, SuitabilityAssessment)
    counts = [count(model) for model in loaded]
    assert all(counts)
    updated = db.session.scalar(select(func.max(Pathway.updated_at)))

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert "nothing changed" in second.output
    assert [count(model) for model in loaded] == counts
    assert db.session.scalar(select(func.max(Pathway.updated_at))) == updated


def test_the_demo_year_summary_has_people_engaged_and_every_share_a_fraction(loaded):
    this_year = year.current_financial_year(loaded)
    for financial_year in (this_year - 1, this_year):
        summary = year.summary(financial_year, loaded)
        assert summary.engaged > 0
        assert 0 < summary.assessments_completed < summary.engaged
        assert summary.transferred_to_treatment > 0
        for share in (
            summary.assessments_completed_share,
            summary.drr_granted_share,
            summary.atr_granted_share,
        ):
            assert share is None or 0 <= share <= 1
    assert year.summary(this_year, loaded).drr_granted_share is not None

    # Over the demo's whole year, about the scale the service publishes (some 16,600 people
    # engaged, 4,500 assessments completed and 1,800 referrals in a year).
    today = local_day(loaded)
    total = figures.build(today - dt.timedelta(days=364), today, loaded).total
    assert 10_000 < total.engaged < 25_000
    assert 2_500 < total.assessments_completed < 7_000
    assert 1_000 < total.referrals < 3_000
    attended = db.session.scalar(
        select(func.count()).where(Booking.status == BookingStatus.ATTENDED)
    )
    completed = db.session.scalar(
        select(func.count()).where(SuitabilityAssessment.status == SuitabilityStatus.COMPLETED)
    )
    assert total.engaged > attended + completed
