"""The court work API: the contract's endpoints, shapes, status codes and audit trail."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.models import (
    AuditEvent,
    Booking,
    Role,
    SuitabilityAdjournment,
    SuitabilityAssessment,
)
from tests.court.conftest import BIRMINGHAM
from tests.support import auth, booking_body, count, trail

SUITABILITY_KEYS = {
    "reference",
    "status",
    "court",
    "hearing_date",
    "session",
    "requested_by",
    "setting",
    "arrest_block",
    "custody_record",
    "person_name",
    "mobile",
    "drr",
    "atr",
    "willing",
    "completed_at",
    "not_completed_reason",
    "adjournments",
    "sentence",
    "sentenced_on",
}
RACERS = 8


def request_body(**changes) -> dict:
    body = {
        "court": BIRMINGHAM,
        "hearing_date": "2027-01-14",
        "session": "am",
        "requested_by": "probation",
        "setting": "custody",
        "arrest_block": "stechford",
        "custody_record": "20/123456/27",
        "person_name": "Jamie Testperson",
        "mobile": "07700 900123",
        "sms_consent": True,
    }
    return body | changes


@pytest.fixture
def api(client, tokens, courts):
    def call(method: str, path: str, body=None, role: Role = Role.WORKER, **kwargs):
        return client.open(
            f"/api/v1{path}", method=method, json=body, headers=auth(tokens[role]), **kwargs
        )

    return call


def requested(api, **changes) -> dict:
    response = api("POST", "/suitability", request_body(**changes))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_courts_are_listed_by_their_own_endpoint_and_never_as_blocks(api, blocks):
    courts = api("GET", "/courts", role=Role.SERGEANT)
    assert courts.status_code == 200
    assert courts.get_json()[0] == {
        "code": BIRMINGHAM,
        "name": "Birmingham Magistrates' Court",
        "address": "Victoria Law Courts, Corporation Street, Birmingham B4 6QA",
    }
    assert len(courts.get_json()) == 5
    listed = {block["code"] for block in api("GET", "/blocks").get_json()}
    assert listed == set(blocks)
    assert api("GET", f"/blocks/{BIRMINGHAM}/cover").status_code == 404
    assert api("GET", "/courts", role=Role.ANALYST).status_code == 403


def test_a_request_answers_201_with_the_record_and_its_location(api, blocks):
    response = api("POST", "/suitability", request_body())

    assert response.status_code == 201
    record = response.get_json()
    assert set(record) == SUITABILITY_KEYS
    assert response.headers["Location"] == f"/api/v1/suitability/{record['reference']}"
    assert record | {"reference": "-"} == {
        "reference": "-",
        "status": "requested",
        "court": BIRMINGHAM,
        "hearing_date": "2027-01-14",
        "session": "am",
        "requested_by": "probation",
        "setting": "custody",
        "arrest_block": "stechford",
        "custody_record": "20/123456/27",
        "person_name": "Jamie Testperson",
        "mobile": "+447700900123",
        "drr": None,
        "atr": None,
        "willing": None,
        "completed_at": None,
        "not_completed_reason": None,
        "adjournments": [],
        "sentence": None,
        "sentenced_on": None,
    }


def test_a_request_for_a_day_the_court_does_not_sit_is_a_422_and_writes_nothing(api, blocks):
    response = api("POST", "/suitability", request_body(hearing_date="2027-01-16"))
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"hearing_date"}
    response = api("POST", "/suitability", request_body(person_name="Jamie\u0007"))
    assert response.status_code == 422
    assert count(SuitabilityAssessment) == 0 and trail() == []


@pytest.mark.parametrize("role", [Role.SERGEANT, Role.ANALYST])
def test_sergeants_and_analysts_are_refused_every_court_work_endpoint(api, blocks, role):
    reference = requested(api)["reference"]
    before = len(trail())
    calls = [
        ("POST", "/suitability", request_body()),
        ("GET", f"/suitability/{reference}", None),
        ("GET", f"/courts/{BIRMINGHAM}/list?date=2027-01-14", None),
        ("POST", f"/suitability/{reference}/not-completed", {"reason": "declined"}),
        ("POST", f"/suitability/{reference}/adjourn", {"adjourned_to": "2027-01-28"}),
        (
            "POST",
            f"/suitability/{reference}/sentence",
            {"outcome": "drr", "sentenced_on": "2027-01-14"},
        ),
        (
            "POST",
            f"/suitability/{reference}/result",
            {
                "drr": "suitable",
                "atr": "suitable",
                "willing": True,
                "completed_at": "2027-01-13T21:00:00Z",
            },
        ),
    ]
    for method, path, body in calls:
        assert api(method, path, body, role=role).status_code == 403, path
    assert count(SuitabilityAssessment) == 1 and len(trail()) == before


def test_reading_a_record_is_audited_and_an_unknown_reference_is_404(api, blocks, users):
    reference = requested(api)["reference"]
    response = api("GET", f"/suitability/{reference.lower()}", role=Role.COORDINATOR)
    assert response.status_code == 200
    assert response.get_json()["reference"] == reference
    viewed = trail()[-1]
    assert (viewed.action, viewed.reference, viewed.user_id) == (
        "viewed",
        reference,
        users[Role.COORDINATOR].id,
    )
    assert api("GET", "/suitability/ABCD-EFGH").status_code == 404
    # The coordinator's audit trail lists the record's events by its reference.
    events = api("GET", f"/audit?reference={reference}", role=Role.COORDINATOR).get_json()
    assert [e["action"] for e in events] == ["created", "viewed"]


def test_the_court_list_gives_the_day_by_session_and_audits_each_record_shown(api, blocks):
    morning = requested(api)["reference"]
    afternoon = requested(api, session="pm", setting="court", arrest_block=None)["reference"]
    elsewhere = requested(api, court="dudley-magistrates")["reference"]
    later = requested(api, hearing_date="2027-01-15")["reference"]
    adjourned = requested(api)["reference"]
    api("POST", f"/suitability/{adjourned}/adjourn", {"adjourned_to": "2027-01-15"})
    before = len(trail())

    response = api("GET", f"/courts/{BIRMINGHAM}/list?date=2027-01-14")

    assert response.status_code == 200
    listed = response.get_json()
    assert (listed["court"], listed["date"]) == (BIRMINGHAM, "2027-01-14")
    assert [r["reference"] for r in listed["am"]] == [morning]
    assert [r["reference"] for r in listed["pm"]] == [afternoon]
    shown = trail()[before:]
    assert sorted((e.action, e.reference) for e in shown) == sorted(
        [("viewed", morning), ("viewed", afternoon)]
    )
    # The next day's list has the new hearing and the adjourned one.
    friday = api("GET", f"/courts/{BIRMINGHAM}/list?date=2027-01-15").get_json()
    assert [r["reference"] for r in friday["am"]] == [later, adjourned]
    assert elsewhere not in str(friday)
    assert api("GET", "/courts/stechford/list").status_code == 404
    assert api("GET", f"/courts/{BIRMINGHAM}/list?date=14-01-2027").status_code == 400


def test_result_not_completed_and_sentence_through_the_api(api, blocks, clock):
    first = requested(api)["reference"]
    second = requested(api)["reference"]
    clock.set(dt.datetime(2027, 1, 14, 11, 0, tzinfo=dt.UTC))

    done = api(
        "POST",
        f"/suitability/{first}/result",
        {
            "drr": "suitable",
            "atr": "not_suitable",
            "willing": True,
            "completed_at": "2027-01-14T10:30:00Z",
        },
    )
    assert done.status_code == 200
    assert (done.get_json()["status"], done.get_json()["completed_at"]) == (
        "completed",
        "2027-01-14T10:30:00+00:00",
    )
    unwilling = api(
        "POST",
        f"/suitability/{second}/result",
        {
            "drr": "suitable",
            "atr": "not_assessed",
            "willing": False,
            "completed_at": "2027-01-14T10:30:00Z",
        },
    )
    assert unwilling.status_code == 422 and set(unwilling.get_json()["errors"]) == {"willing"}
    not_done = api("POST", f"/suitability/{second}/not-completed", {"reason": "unfit"})
    assert not_done.get_json()["status"] == "not_completed"
    assert not_done.get_json()["not_completed_reason"] == "unfit"

    sentenced = api(
        "POST", f"/suitability/{first}/sentence", {"outcome": "drr", "sentenced_on": "2027-01-14"}
    )
    assert (sentenced.get_json()["sentence"], sentenced.get_json()["sentenced_on"]) == (
        "drr",
        "2027-01-14",
    )
    future = api(
        "POST", f"/suitability/{first}/sentence", {"outcome": "drr", "sentenced_on": "2027-01-15"}
    )
    assert future.status_code == 422


def test_an_adjournment_books_a_suitability_appointment_through_the_booking_path(
    api, rostered, client, tokens
):
    reference = requested(api)["reference"]
    response = api(
        "POST",
        f"/suitability/{reference}/adjourn",
        {
            "adjourned_to": "2027-01-29",
            "appointment": {"block": "stechford", "starts_at": "2027-01-21T10:00:00Z"},
        },
    )
    assert response.status_code == 200, response.get_json()
    record = response.get_json()
    assert record["status"] == "adjourned"
    (adjournment,) = record["adjournments"]
    assert adjournment["adjourned_to"] == "2027-01-29"

    booking = api("GET", f"/bookings/{adjournment['appointment_reference']}").get_json()
    assert booking["requirement"] == "suitability"
    assert booking["starts_at"] == "2027-01-21T10:00:00+00:00"
    assert [m["kind"] for m in booking["messages"]][0] == "confirmation"
    # No Drugs Act notice goes with it.
    notice = api("GET", f"/bookings/{adjournment['appointment_reference']}/notice")
    assert notice.status_code == 404


def test_an_appointment_too_close_to_the_adjourned_hearing_is_a_422(app, api, rostered):
    app.config["SUITABILITY_LEAD_WORKING_DAYS"] = 3
    reference = requested(api)["reference"]
    # Wednesday 27 January is only two working days before Friday 29 January.
    response = api(
        "POST",
        f"/suitability/{reference}/adjourn",
        {
            "adjourned_to": "2027-01-29",
            "appointment": {"block": "stechford", "starts_at": "2027-01-27T10:00:00Z"},
        },
    )
    assert response.status_code == 422
    assert "3 working days" in response.get_json()["errors"]["appointment"]
    assert count(Booking) == 0 and count(SuitabilityAdjournment) == 0


def test_the_bookings_endpoint_books_no_suitability_appointment(api, rostered, tokens):
    slot = api("GET", "/slots?limit=1", role=Role.SERGEANT).get_json()[0]
    response = api(
        "POST", "/bookings", booking_body(slot, requirement="suitability"), role=Role.COORDINATOR
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"requirement"}
    assert count(Booking) == 0


def test_racing_adjournments_for_one_slot_leave_one_holder(app, api, rostered, tokens):
    references = [
        requested(api, custody_record=f"20/{n:04d}/27")["reference"] for n in range(RACERS)
    ]
    # Bloxwich has one worker on site: the slot holds one appointment.
    slot = api("GET", "/slots?limit=1&block=bloxwich&after=2027-01-21T00:00:00Z").get_json()[0]
    body = {
        "adjourned_to": "2027-01-29",
        "appointment": {"block": "bloxwich", "starts_at": slot["starts_at"]},
    }
    db.session.commit()
    barrier = threading.Barrier(RACERS)

    def attempt(reference):
        racer = app.test_client()
        barrier.wait()
        response = racer.post(
            f"/api/v1/suitability/{reference}/adjourn", json=body, headers=auth(tokens[Role.WORKER])
        )
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        answers = list(pool.map(attempt, references))

    codes = sorted(code for code, _ in answers)
    assert codes == [200] + [409] * (RACERS - 1)
    assert all(answer["alternatives"] for code, answer in answers if code == 409)
    db.session.expire_all()
    assert count(Booking) == 1 and count(SuitabilityAdjournment) == 1
    statuses = db.session.scalars(select(SuitabilityAssessment.status)).all()
    assert sorted(statuses) == ["adjourned"] + ["requested"] * (RACERS - 1)
    assert (
        db.session.scalar(select(AuditEvent.reference).where(AuditEvent.action == "adjourned"))
        in references
    )
