"""Helpers for API tests: a bearer-token client and a valid booking body."""

from __future__ import annotations


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def booking_body(slot: dict, **changes) -> dict:
    body = {
        "block": slot["block"],
        "starts_at": slot["starts_at"],
        "custody_record": "20/123456/27",
        "person_name": "Jamie Testperson",
        "mobile": "07700 900123",
        "sms_consent": True,
        "requirement": "initial",
        "test_result": "cocaine",
        "tested_at": "2027-01-13T20:15:00+00:00",
        "disputed": False,
        "arrest_block": "stechford",
    }
    body.update(changes)
    return body
