"""The JSON API of the contract: shapes, codes, errors, idempotency and roles."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import AuditEvent, Booking, Message, Notice
from tests.api_helpers import auth, booking_body
from tests.support import trail


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def api(client, tokens, rostered):
    """A client signed in with the sergeant's token, over a rostered week."""

    class Api:
        def __init__(self, token):
            self.headers = auth(token)

        def get(self, path, **kw):
            return client.get(f"/api/v1{path}", headers=self.headers | kw.pop("headers", {}), **kw)

        def post(self, path, body=None, **kw):
            return client.post(
                f"/api/v1{path}", json=body, headers=self.headers | kw.pop("headers", {}), **kw
            )

    return Api(tokens["sergeant"])


def first_slot(api, **params) -> dict:
    response = api.get("/slots", query_string={"limit": 1, **params})
    assert response.status_code == 200
    return response.get_json()[0]


def test_blocks_lists_the_six_blocks_in_code_order(api):
    blocks = api.get("/blocks").get_json()
    assert [b["code"] for b in blocks] == sorted(b["code"] for b in blocks)
    assert len(blocks) == 6
    perry_barr = next(b for b in blocks if b["code"] == "perry-barr")
    assert perry_barr == {
        "code": "perry-barr",
        "name": "Perry Barr",
        "address": "Holford Drive, Perry Barr, Birmingham B42 2TU",
        "high_activity": True,
        "timezone": "Europe/London",
    }


def test_cover_at_night_says_no_worker_and_when_cover_starts(api):
    # The clock is Wednesday 13 January 2027 21:00 UTC (21:00 local).
    cover = api.get("/blocks/stechford/cover").get_json()
    assert cover == {
        "block": "stechford",
        "at": "2027-01-13T21:00:00+00:00",
        "on_site": False,
        "workers_on_site": 0,
        "next_on_site_at": "2027-01-14T07:00:00+00:00",
    }


def test_cover_during_the_day_counts_the_workers_on_site(api):
    cover = api.get("/blocks/oldbury/cover", query_string={"at": "2027-01-14T12:00:00Z"})
    body = cover.get_json()
    assert body["on_site"] is True
    assert body["workers_on_site"] == 1
    assert body["next_on_site_at"] is None


def test_cover_of_an_unknown_block_is_404(api):
    response = api.get("/blocks/nowhere/cover")
    assert response.status_code == 404
    assert response.get_json()["error"]


def test_slots_are_earliest_first_then_by_block_code(api):
    slots = api.get("/slots", query_string={"limit": 12}).get_json()
    assert len(slots) == 12
    keys = [(s["starts_at"], s["block"]) for s in slots]
    assert keys == sorted(keys)
    # Thursday 07:00 at all six blocks, then 07:30 at all six.
    assert {s["starts_at"] for s in slots[:6]} == {"2027-01-14T07:00:00+00:00"}
    assert slots[0] == {
        "block": "bloxwich",
        "starts_at": "2027-01-14T07:00:00+00:00",
        "ends_at": "2027-01-14T07:30:00+00:00",
        "free": 1,
    }


def test_slots_filtered_by_repeated_block(api):
    slots = api.get("/slots?block=coventry&block=oldbury&limit=4").get_json()
    assert {s["block"] for s in slots} == {"coventry", "oldbury"}


def test_slots_after_accepts_any_offset(api):
    slots = api.get("/slots", query_string={"after": "2027-01-14T12:00:00+05:00"}).get_json()
    assert slots[0]["starts_at"] == "2027-01-14T07:00:00+00:00"


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=ten",
        "after=yesterday",
        "after=2027-01-14T10:00:00",
        "disputed=maybe",
    ],
)
def test_bad_slot_parameters_are_400(api, query):
    response = api.get(f"/slots?{query}")
    assert response.status_code == 400
    assert set(response.get_json()) >= {"error", "errors"}


def test_slots_for_an_unknown_block_are_404(api):
    assert api.get("/slots?block=atlantis").status_code == 404


def test_book_answers_201_with_the_booking_and_its_location(api, client, users):
    slot = first_slot(api)
    response = api.post("/bookings", booking_body(slot))
    assert response.status_code == 201, response.get_json()
    booking = response.get_json()
    assert response.headers["Location"] == f"/api/v1/bookings/{booking['reference']}"
    assert booking["status"] == "booked"
    assert booking["block"] == slot["block"]
    assert booking["starts_at"] == slot["starts_at"]
    assert booking["ends_at"] == slot["ends_at"]
    assert booking["mobile"] == "+447700900123"
    assert booking["notice_version"] == 1
    assert booking["worker"]["name"]
    assert booking["messages"][0]["kind"] == "confirmation"
    documented = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert set(booking) == set(documented["Booking"]["required"])
    # The slot is gone from the free list.
    again = first_slot(api)
    assert (again["block"], again["starts_at"]) != (slot["block"], slot["starts_at"])


def test_get_booking_returns_it_and_records_the_view(api):
    created = api.post("/bookings", booking_body(first_slot(api))).get_json()
    response = api.get(f"/bookings/{created['reference']}")
    assert response.status_code == 200
    assert response.get_json() == created
    actions = [event.action for event in trail()]
    assert actions == ["created", "viewed"]


def test_reference_is_found_in_lower_case_without_its_dash(api):
    created = api.post("/bookings", booking_body(first_slot(api))).get_json()
    loose = created["reference"].replace("-", "").lower()
    assert api.get(f"/bookings/{loose}").status_code == 200


def test_unknown_reference_is_404(api):
    response = api.get("/bookings/ABCD-EFGH")
    assert response.status_code == 404
    assert response.get_json() == {"error": "No booking has that reference.", "errors": {}}


def test_rearrange_issues_the_next_notice_version(api):
    slots = api.get("/slots", query_string={"limit": 7}).get_json()
    created = api.post("/bookings", booking_body(slots[0])).get_json()
    target = slots[6]
    response = api.post(
        f"/bookings/{created['reference']}/rearrange",
        {"block": target["block"], "starts_at": target["starts_at"]},
    )
    assert response.status_code == 200, response.get_json()
    moved = response.get_json()
    assert (moved["block"], moved["starts_at"]) == (target["block"], target["starts_at"])
    assert moved["notice_version"] == 2
    kinds_and_status = [(m["kind"], m["status"]) for m in moved["messages"]]
    # Booked at 21:00 for the next morning: both reminders' times had passed, and the
    # unsent confirmation is superseded by the message about the change.
    assert kinds_and_status[:4] == [
        ("confirmation", "cancelled"),
        ("day_before", "skipped"),
        ("same_day", "skipped"),
        ("changed", "pending"),
    ]
    assert count(Notice) == 2


def test_cancel_frees_the_slot(api):
    slot = first_slot(api, block="coventry")
    created = api.post("/bookings", booking_body(slot)).get_json()
    assert first_slot(api, block="coventry")["starts_at"] != slot["starts_at"]
    response = api.post(f"/bookings/{created['reference']}/cancel", {"reason": "Released wrongly"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert first_slot(api, block="coventry") == slot
    again = api.post(f"/bookings/{created['reference']}/cancel", {"reason": "Twice"})
    assert again.status_code == 422


def test_a_full_slot_answers_409_with_alternatives(api):
    slot = first_slot(api, block="oldbury")
    assert api.post("/bookings", booking_body(slot)).status_code == 201
    response = api.post("/bookings", booking_body(slot, custody_record="20/999/27"))
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "That slot has just been taken. Choose another."
    assert body["alternatives"]
    assert all(alt["starts_at"] >= slot["starts_at"] for alt in body["alternatives"])
    assert count(Booking) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"custody_record": ""}, "custody_record"),
        ({"custody_record": "x" * 41}, "custody_record"),
        ({"person_name": ""}, "person_name"),
        ({"person_name": "x" * 101}, "person_name"),
        ({"mobile": "0121 496 0000"}, "mobile"),
        ({"mobile": "07000 123456"}, "mobile"),
        ({"mobile": "07600 123456"}, "mobile"),
        ({"mobile": None, "sms_consent": True}, "mobile"),
        ({"requirement": "compulsory"}, "requirement"),
        ({"requirement": "follow_up"}, "requirement"),
        ({"test_result": "negative"}, "test_result"),
        ({"tested_at": "2027-01-14T20:15:00+00:00"}, "tested_at"),
        ({"arrest_block": "atlantis"}, "arrest_block"),
        ({"block": "atlantis"}, "block"),
        ({"starts_at": "2027-01-14T07:10:00+00:00"}, "starts_at"),
        ({"starts_at": "2027-01-13T21:30:00+00:00"}, "starts_at"),
        ({"starts_at": "2027-03-14T07:00:00+00:00"}, "starts_at"),
        ({"starts_at": "2027-01-14T21:00:00+00:00"}, "starts_at"),
        ({"disputed": True}, "starts_at"),
        ({"unknown": 1}, "unknown"),
        ({"sms_consent": "yes"}, "sms_consent"),
        ({"disputed": 1}, "disputed"),
        ({"starts_at": "2027-01-14T07:00:00"}, "starts_at"),
        ({"person_name": 42}, "person_name"),
    ],
)
def test_each_refusal_is_422_names_the_field_and_writes_nothing(api, changes, field):
    body = booking_body(first_slot(api), **changes)
    response = api.post("/bookings", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert count(Booking) == count(Notice) == count(Message) == len(trail()) == 0


def test_a_missing_field_is_422(api):
    body = booking_body(first_slot(api))
    del body["person_name"]
    response = api.post("/bookings", body)
    assert response.status_code == 422
    assert "person_name" in response.get_json()["errors"]


@pytest.mark.parametrize("raw", [b"{", b"[]", b"", b'"text"'])
def test_malformed_json_is_400(api, client, tokens, raw):
    response = client.post(
        "/api/v1/bookings",
        data=raw,
        headers=auth(tokens["sergeant"]) | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert set(response.get_json()) == {"error", "errors"}


def test_a_body_over_64_kib_is_413(api, client, tokens):
    response = client.post(
        "/api/v1/bookings",
        data=b"{" + b" " * (65 * 1024) + b"}",
        headers=auth(tokens["sergeant"]) | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]


def test_idempotency_key_replays_the_first_answer_and_books_once(api):
    body = booking_body(first_slot(api))
    headers = {"Idempotency-Key": "custody-system-7f3a"}
    first = api.post("/bookings", body, headers=headers)
    second = api.post("/bookings", body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert second.headers["Location"] == first.headers["Location"]
    assert count(Booking) == 1


def test_idempotency_key_reused_for_another_request_is_refused(api):
    slots = api.get("/slots", query_string={"limit": 2}).get_json()
    headers = {"Idempotency-Key": "k-1"}
    assert api.post("/bookings", booking_body(slots[0]), headers=headers).status_code == 201
    response = api.post("/bookings", booking_body(slots[1]), headers=headers)
    assert response.status_code == 422
    assert count(Booking) == 1


def test_audit_trail_of_a_booking_oldest_first(api, client, tokens):
    created = api.post("/bookings", booking_body(first_slot(api))).get_json()
    reference = created["reference"]
    api.get(f"/bookings/{reference}")
    api.post(f"/bookings/{reference}/cancel", {"reason": "Charged and remanded"})
    response = client.get(
        "/api/v1/audit", query_string={"reference": reference}, headers=auth(tokens["coordinator"])
    )
    events = response.get_json()
    assert [e["action"] for e in events] == ["created", "viewed", "cancelled"]
    assert {e["user"] for e in events} == {"sergeant@test.example"}
    assert all(e["reference"] == reference for e in events)
    assert events[0]["at"].endswith("+00:00")


def test_outcome_is_refused_before_the_appointment_starts_then_recorded(api, client, tokens, clock):
    created = api.post("/bookings", booking_body(first_slot(api))).get_json()
    path = f"/api/v1/bookings/{created['reference']}/outcome"
    worker = auth(tokens["coordinator"])  # the appointment's own worker has no sign-in here
    early = client.post(path, json={"outcome": "attended"}, headers=worker)
    assert early.status_code == 422
    assert "outcome" in early.get_json()["errors"]

    clock.set(dt.datetime.fromisoformat(created["starts_at"]) + dt.timedelta(minutes=5))
    recorded = client.post(path, json={"outcome": "did_not_attend"}, headers=worker)
    assert recorded.status_code == 200
    assert recorded.get_json()["status"] == "did_not_attend"
    corrected = client.post(path, json={"outcome": "attended"}, headers=worker)
    assert corrected.get_json()["status"] == "attended"
    details = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "outcome").order_by(AuditEvent.id)
    ).all()
    assert details == ["did_not_attend", "attended, corrected from did_not_attend"]
    unknown = client.post(path, json={"outcome": "vanished"}, headers=worker)
    assert unknown.status_code == 422
