"""What happens to what followed an assessment when the assessment itself is corrected, and the
refusals that must name every field at fault."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from booking import create_app
from booking.appointments import outcomes
from booking.extensions import db
from booking.models import Pathway, Role
from booking.pathway import pathways
from booking.reports import figures
from tests.support import at, auth, count, trail
from tests.support import on_site as rostered

THURSDAY = dt.date(2027, 1, 14)


@pytest.fixture
def attended(book, users, me, blocks, clock):
    """An appointment on Thursday at 10:00, attended, with a referral recorded after it."""
    rostered(me, blocks["stechford"], at(THURSDAY, 9), at(THURSDAY, 17))
    booking = book(at(THURSDAY, 10))
    clock.set(at(THURSDAY, 10, 50))
    worker = users[Role.WORKER]
    outcomes.record_outcome(booking, "attended", by=worker, now=clock())
    pathways.record(
        pathways.assessment(booking.reference),
        {"referred": True, "referral_area": "walsall", "referred_on": THURSDAY},
        by=worker,
        now=clock(),
    )
    db.session.commit()
    return booking


def test_an_attendance_corrected_away_takes_what_followed_with_it(attended, users, clock):
    assert figures.build(THURSDAY, THURSDAY, clock()).total.referrals == 1
    outcomes.record_outcome(attended, "did_not_attend", by=users[Role.WORKER], now=clock())
    db.session.commit()

    assert count(Pathway) == 0
    assert figures.build(THURSDAY, THURSDAY, clock()).total.referrals == 0
    last = [e for e in trail() if e.booking_id == attended.id][-1]
    assert (last.action, last.detail) == (
        "pathway",
        "removed: the appointment was not attended after all",
    )


def test_an_outcome_corrected_between_the_other_two_keeps_nothing_to_remove(attended, users, clock):
    outcomes.record_outcome(attended, "left_early", by=users[Role.WORKER], now=clock())
    outcomes.record_outcome(attended, "did_not_attend", by=users[Role.WORKER], now=clock())
    db.session.commit()
    assert count(Pathway) == 0


def test_a_pathway_for_an_attendance_is_kept_while_it_stays_attended(attended, users, clock):
    outcomes.record_outcome(attended, "attended", by=users[Role.WORKER], now=clock())
    db.session.commit()
    assert db.session.scalar(select(Pathway.referral_area)) == "walsall"


def test_an_on_site_assessment_without_a_place_names_every_field_at_fault(client, tokens):
    response = client.post(
        "/api/v1/assessments",
        json={"assessed_at": "2027-01-13T20:30:00+00:00", "kind": "not-a-kind"},
        headers=auth(tokens[Role.WORKER]),
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"block", "kind"}
    assert response.get_json()["errors"]["block"] == "Give either a block or a court"


@pytest.mark.parametrize("days", [0, -3])
def test_entry_check_days_below_one_stops_the_app_starting(days):
    with pytest.raises(RuntimeError, match="ENTRY_CHECK_DAYS"):
        create_app({"ENTRY_CHECK_DAYS": days})
