"""Court work's set-up: the courts, and a suitability request through the domain."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from booking.court import suitability
from booking.extensions import db
from booking.models import Role, SuitabilityAssessment
from tests.support import add_courts

BIRMINGHAM = "birmingham-magistrates"
# The day after the clock fixture's Wednesday: a sitting day.
HEARING = dt.date(2027, 1, 14)


@pytest.fixture
def courts(app):
    return add_courts()


def request_details(**changes) -> suitability.SuitabilityRequest:
    """Bench's request for Jamie Testperson, held at Stechford, at Birmingham's morning list."""
    values = dict(
        court=BIRMINGHAM,
        hearing_date=HEARING,
        session="am",
        requested_by="bench",
        setting="custody",
        arrest_block="stechford",
        custody_record="20/123456/27",
        person_name="Jamie Testperson",
        mobile="07700 900123",
        sms_consent=True,
    )
    return dataclasses.replace(suitability.SuitabilityRequest(**values), **changes)


@pytest.fixture
def requested(users, courts, clock):
    """Request a suitability assessment as the worker (by default), committed."""

    def make(by: Role = Role.WORKER, **changes) -> SuitabilityAssessment:
        record = suitability.request(
            request_details(**changes), by=users[by], now=clock(), allow_test_numbers=True
        )
        db.session.commit()
        return record

    return make
